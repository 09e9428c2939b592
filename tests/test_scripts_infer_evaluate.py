"""Tests of scripts/infer.py and scripts/evaluate.py, run in-process (and evaluate.py once as a real command).

Run: .venv/bin/python -m pytest tests/test_scripts_infer_evaluate.py -q
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest

from arith_hf.expressions import solve
from scripts import evaluate as evaluate_script
from scripts import infer as infer_script
from tests.tiny_checkpoints import MEMORISED, build_model, memorised_checkpoint, save_checkpoint

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    return memorised_checkpoint(tmp_path_factory.mktemp("run") / "final", answer_order="reverse")


@pytest.fixture(scope="module")
def jsonl(tmp_path_factory):
    """The memorised questions, and one the model has never seen, as {"question", "answer"} lines."""
    path = tmp_path_factory.mktemp("data") / "questions.jsonl"
    questions = [*MEMORISED, "3+3"]
    path.write_text("".join(json.dumps({"question": q, "answer": solve(q)}) + "\n" for q in questions))
    return path


def beam_lines(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if line.startswith("  ") and ". " in line]


# infer.py


def test_infer_one_shot_marks_the_exact_answer(checkpoint, capsys):
    assert infer_script.main(["--model", str(checkpoint), "--expr", "567+4214", "--num_beams", "3"]) == 0
    output = capsys.readouterr().out
    assert output.splitlines()[0] == "567+4214 = 4781 (model: 4781, right)"
    lines = beam_lines(output)
    assert len(lines) == 3
    assert lines[0].startswith("1. 4781") and lines[0].endswith("<- exact")
    assert sum("<- exact" in line for line in lines) == 1
    scores = [float(line.split("score")[1].split()[0]) for line in lines]
    assert scores == sorted(scores, reverse=True) and scores[0] > -0.1


def test_infer_greedy_and_unknown_exact_answer(checkpoint, capsys):
    assert infer_script.main(["--model", str(checkpoint), "--expr", "1/0", "--num_beams", "1"]) == 0
    output = capsys.readouterr().out
    assert "(no exact answer to compare)" in output.splitlines()[0]
    assert "(no exact answer: division by zero at position 1 in '1/0')" in output
    assert len(beam_lines(output)) == 1


def test_infer_refuses_a_bad_question_by_name(checkpoint, capsys):
    assert infer_script.main(["--model", str(checkpoint), "--expr", "5+2", "--expr", "7×8"]) == 1
    captured = capsys.readouterr()
    assert "5+2 = 7 (model: 7, right)" in captured.out
    assert "error: question '7×8' has character '×' (U+00D7) at position 1" in captured.err


def test_infer_more_sequences_than_beams(checkpoint, capsys):
    argv = ["--model", str(checkpoint), "--expr", "5+2", "--num_beams", "2", "--num_return_sequences", "3"]
    assert infer_script.main(argv) == 2
    assert "num_return_sequences=3 is more than num_beams=2" in capsys.readouterr().err


def test_infer_interactive_stops_at_an_empty_line(checkpoint, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("5+2\n12+345\n\n99+1\n"))
    assert infer_script.main(["--model", str(checkpoint), "--num_beams", "2"]) == 0
    headlines = [line for line in capsys.readouterr().out.splitlines() if not line.startswith(" ")]
    assert headlines == ["5+2 = 7 (model: 7, right)", "12+345 = 357 (model: 357, right)"]


# evaluate.py on one checkpoint


def test_evaluate_jsonl_table_and_json(checkpoint, jsonl, tmp_path, capsys):
    output = tmp_path / "eval.json"
    argv = ["--model", str(checkpoint), "--jsonl", str(jsonl), "--output", str(output), "--threads", "1"]
    evaluate_script.main(argv)
    printed = capsys.readouterr().out
    record = json.loads(output.read_text())
    assert record["dataset"] == {"jsonl": str(jsonl), "count": 9}
    assert record["decoding"] == {"num_beams": 1}
    overall = record["scores"]["overall"]
    assert overall["exact_match"] == pytest.approx(8 / 9)
    assert overall["count"] == 9
    assert record["correct"] == 8
    assert [m["question"] for m in record["mistakes"]] == ["3+3"]
    assert record["answers_per_second"] > 0
    # the printed table holds the same numbers, then the mistake and the k/n line
    assert "overall" in printed and "88.89%" in printed
    assert any(line.startswith("digits of the largest operand  4") for line in printed.splitlines())
    assert "  3+3 -> model" in printed and ", expected 6" in printed
    assert "8/9 = 88.89%" in printed


def test_evaluate_corpus_split_with_overrides(checkpoint, tmp_path, capsys):
    output = tmp_path / "eval.json"
    argv = ["--model", str(checkpoint), "--corpus", "addition", "--split", "test", "--max_operand", "99"]
    argv += ["--train_size", "50", "--validation_size", "20", "--test_size", "30", "--sampling", "uniform"]
    argv += ["--cache_dir", str(tmp_path / "cache"), "--output", str(output), "--num_beams", "2"]
    evaluate_script.main(argv)
    record = json.loads(output.read_text())
    overrides = {"max_operand": 99, "train_size": 50, "validation_size": 20, "test_size": 30, "sampling": "uniform"}
    assert record["dataset"] == {"corpus": "addition", "split": "test", "overrides": overrides, "count": 30}
    assert record["decoding"] == {"num_beams": 2}
    assert record["scores"]["overall"]["count"] == 30
    assert set(record["scores"]["by"]["max_digits"]) <= {"1", "2"}
    assert "/30 = " in capsys.readouterr().out


def test_evaluate_writes_card_and_pushes(checkpoint, jsonl, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the results JSON goes to its default place, under ./outputs
    api = mock.Mock()
    argv = ["--model", str(checkpoint), "--jsonl", str(jsonl), "--push_to_hub", "--hub_model_id", "user/arith-mem"]
    argv += ["--model_cards_dir", str(tmp_path / "model_cards")]
    with mock.patch("arith_hf.cards.HfApi", return_value=api):
        evaluate_script.main(argv)
    default = tmp_path / "outputs" / "evaluate" / f"{checkpoint.parent.name}-{checkpoint.name}" / f"{jsonl.stem}.json"
    assert json.loads(default.read_text())["scores"]["overall"]["count"] == 9
    assert f"results written to {default.relative_to(tmp_path)}" in capsys.readouterr().out
    card = (checkpoint / "README.md").read_text()
    assert (tmp_path / "model_cards" / "arith-mem.md").read_text() == card
    assert "# user/arith-mem" in card and "88.89%" in card
    api.create_repo.assert_called_once_with("user/arith-mem", repo_type="model", private=False, exist_ok=True)
    assert api.upload_folder.call_args.kwargs["folder_path"] == str(checkpoint)


def test_evaluate_argument_errors(checkpoint, jsonl, capsys):
    with pytest.raises(SystemExit):
        evaluate_script.parse_args(["--model", str(checkpoint), "--push_to_hub"])
    assert "--push_to_hub needs --hub_model_id" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        evaluate_script.parse_args(["--model", str(checkpoint), "--jsonl", str(jsonl), "--max_operand", "9"])
    assert "--jsonl replaces the corpus" in capsys.readouterr().err


# evaluate.py on a run's checkpoints


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, checkpoint):
    """A run with three checkpoints whose names sort differently as text (10, 100, 5) and as numbers."""
    run = tmp_path_factory.mktemp("run-of-three")
    model, tokenizer = build_model("t5-tiny", answer_order="reverse")
    save_checkpoint(model, tokenizer, run / "checkpoint-5")  # untrained
    for step in (10, 100):
        (run / f"checkpoint-{step}").mkdir()
        for path in checkpoint.iterdir():
            (run / f"checkpoint-{step}" / path.name).write_bytes(path.read_bytes())
    (run / "checkpoint-7-unfinished").mkdir()  # not a checkpoint name: ignored
    return run


def test_evaluate_checkpoints_in_step_order(run_dir, jsonl, capsys):
    evaluate_script.main(["--checkpoints", str(run_dir), "--jsonl", str(jsonl), "--threads", "1"])
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("step")]
    assert [line.split("|")[0].split()[1] for line in printed] == ["5", "10", "100"]
    assert "exact match  88.89%" in printed[1]

    with open(run_dir / "eval_steps.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["step"]) for row in rows] == [5, 10, 100]
    assert float(rows[0]["exact_match"]) < 0.2
    assert [float(row["exact_match"]) for row in rows[1:]] == [pytest.approx(8 / 9)] * 2
    assert float(rows[1]["total_abs_diff"]) == float(rows[2]["total_abs_diff"])

    assert (run_dir / "eval_steps.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(run_dir / "tensorboard" / "eval"))
    events.Reload()
    exact_match = events.Scalars("eval/exact_match")
    assert [event.step for event in exact_match] == [5, 10, 100]
    assert exact_match[2].value == pytest.approx(8 / 9)
    assert [event.step for event in events.Scalars("eval/total_abs_diff")] == [5, 10, 100]


def test_evaluate_command_line_checkpoints_without_any(tmp_path):
    """As a real command: the script's folder must not shadow the evaluate library, and an empty run is an error."""
    result = subprocess.run(
        [sys.executable, "scripts/evaluate.py", "--checkpoints", str(tmp_path), "--jsonl", "unused.jsonl"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert f"error: no checkpoint-<step> folder with a config.json in {tmp_path}" in result.stderr
