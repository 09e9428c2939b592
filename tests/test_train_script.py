"""Tests of scripts/train.py: a tiny run end to end, resume (C20), a diverging run, two processes (C18, C19).

    .venv/bin/python -m pytest tests/test_train_script.py          # about a minute on 2 cores
    .venv/bin/python -m pytest tests/test_train_script.py -m "not slow"

Runs happen in-process through ``main(argv)``, except the two-process run, which goes through
``accelerate launch`` as a user would start it.
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from accelerate.state import AcceleratorState
from safetensors.torch import load_file
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

from arith_hf import training
from scripts import train as train_script

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "train.py"
CONFIGS = ROOT / "scripts" / "configs"
TINY = dict(d_model=32, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=2, d_kv=16)
LOG_LINE = re.compile(
    r"step (\d{5})/(\d{5}) \| loss (\d+\.\d{6}) \| lr (\d\.\d\de[-+]\d\d) \| (\d+) ex/s \| "
    r"elapsed (\d+:\d\d:\d\d) \| eta (\d+:\d\d:\d\d)"
)
MISTAKE_LINE = re.compile(r"  \d+\+\d+ -> model .*, expected \d+")


@pytest.fixture(autouse=True)
def fresh_accelerator_state():
    # each in-process run creates its own Accelerator; Accelerate keeps process-wide singletons
    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def tiny_argv(output_dir, corpus_cache, **options) -> list[str]:
    """Options of a run of a few seconds: 2000 sums of operands up to 999, a 20k-parameter T5."""
    values = {
        "corpus.max_operand": 999,
        "corpus.train_size": 2000,
        "corpus.validation_size": 20,
        "corpus.test_size": 20,
        "corpus.cache_dir": corpus_cache,
        "model_overrides": json.dumps(TINY),
        "batch_size": 16,
        "max_steps": 8,
        "warmup_steps": 2,
        "learning_rate": 3e-3,
        "log_every": 2,
        "eval_every": 4,
        "save_every": 4,
        "eval_batch_size": 8,
        "threads": 1,
        "output_dir": output_dir,
        **options,
    }
    argv = []
    for name, value in values.items():
        argv += [f"--{name}", str(value)]
    return [*argv, "--no_progress_bar"]


def test_tiny_run_logs_evaluates_and_saves(tmp_path, corpus_cache, capsys):
    results = train_script.main(tiny_argv(tmp_path, corpus_cache))
    out = capsys.readouterr().out
    lines = out.splitlines()

    # one log line per interval, fixed fields in a fixed order
    logged = [LOG_LINE.fullmatch(line) for line in lines if line.startswith("step ")]
    assert all(logged) and [int(match.group(1)) for match in logged] == [2, 4, 6, 8]
    assert {match.group(2) for match in logged} == {"00008"}
    assert float(logged[0].group(4)) == pytest.approx(3e-3 * 2 / 2)  # step 2 ends the warmup at the peak
    assert float(logged[-1].group(4)) < 3e-4  # cosine decay
    assert [entry["step"] for entry in results["history"]] == [2, 4, 6, 8]
    # each evaluation: at most 5 concrete mistakes, then one k/n line
    summaries = [line for line in lines if line.startswith("eval ")]
    assert [line.split(" | ")[0] for line in summaries] == [
        "eval step 00004",
        "eval final validation",
        "eval final test",
    ]
    assert all(re.search(r" \| \d+/20 = \d+\.\d\d% \| total abs diff ", line) for line in summaries)
    mistakes = [line for line in lines if line.startswith("  ")]
    assert 0 < len(mistakes) <= 15 and all(MISTAKE_LINE.fullmatch(line) for line in mistakes)

    # the checkpoint: Hub-compatible, with its configuration, evaluation and resume state
    checkpoint = tmp_path / "checkpoint-4"
    # the last step is a checkpoint too, holding the final evaluation
    assert [path.name for path in training.list_checkpoints(tmp_path)] == ["checkpoint-4", "checkpoint-8"]
    last = json.loads((tmp_path / "checkpoint-8" / "eval_results.json").read_text())
    assert set(last) == {"step", "addition validation", "addition test"} and last["step"] == 8
    names = {path.name for path in checkpoint.iterdir()}
    assert {"config.json", "generation_config.json", "model.safetensors", "tokenizer.json"} <= names
    assert {"training_config.yaml", "eval_results.json", "trainer_state.json", "training_state"} <= names
    assert {path.name for path in (checkpoint / "training_state").iterdir()} >= {
        "optimizer.bin",
        "random_states_0.pkl",
    }
    evaluation = json.loads((checkpoint / "eval_results.json").read_text())
    assert evaluation["step"] == 4
    assert evaluation["addition validation"]["scores"]["overall"]["count"] == 20
    config = yaml.safe_load((checkpoint / "training_config.yaml").read_text())
    assert config["corpus"]["max_operand"] == 999 and config["corpus"]["sampling"] == "digits"
    assert config["model_overrides"] == TINY and config["batch_size"] == 16
    # the saved configuration is a valid --config that repeats the run
    again = train_script.parse_args(["--config", str(checkpoint / "training_config.yaml")])
    assert again.corpus.train_size == 2000 and again.max_steps == 8

    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    model = AutoModelForSeq2SeqLM.from_pretrained(checkpoint)
    assert model.config.answer_order == "reverse"
    inputs = tokenizer(["12+30"], return_tensors="pt")
    assert model.generate(**inputs).shape[0] == 1

    # the final model, with its card and every final score
    final = Path(results["final_dir"])
    assert final == tmp_path / "final"
    assert (final / "README.md").is_file() and not (final / "training_state").exists()
    assert AutoModelForSeq2SeqLM.from_pretrained(final).num_parameters() == model.num_parameters()
    assert set(results["results"]) == {"addition validation", "addition test"}
    assert results["results"]["addition test"]["scores"]["overall"]["count"] == 20
    assert list((tmp_path / "tensorboard").rglob("events.out.tfevents.*"))
    assert results["num_processes"] == 1 and results["examples_per_second"] > 0

    # a fresh start over existing checkpoints must be asked for
    with pytest.raises(FileExistsError, match="already holds checkpoints .* --resume_from_checkpoint latest"):
        train_script.main(tiny_argv(tmp_path, corpus_cache))


def test_a_finished_run_goes_on_to_more_steps(tmp_path, corpus_cache, capsys):
    options = dict(save_every=3, log_every=1, eval_every=0, final_eval_splits="[]", report_to="none")
    train_script.main(tiny_argv(tmp_path, corpus_cache, max_steps=4, **options))
    AcceleratorState._reset_state(reset_partial_state=True)
    capsys.readouterr()
    longer = train_script.main(
        tiny_argv(tmp_path, corpus_cache, max_steps=6, resume_from_checkpoint="latest", **options)
    )
    assert f"resumed from {tmp_path / 'checkpoint-4'} at step 4" in capsys.readouterr().out
    assert [entry["step"] for entry in longer["history"]] == [5, 6]
    assert [path.name for path in training.list_checkpoints(tmp_path)] == ["checkpoint-4", "checkpoint-6"]


def test_resume_latest_without_a_checkpoint_is_an_error(tmp_path, corpus_cache):
    """Starting over from step 0 instead would replace the final model of the run in output_dir."""
    (tmp_path / "final").mkdir()
    (tmp_path / "final" / "model.safetensors").write_bytes(b"the earlier run's weights")
    with pytest.raises(FileNotFoundError, match="no checkpoint-<step> folder in .*; leave the option out"):
        train_script.main(tiny_argv(tmp_path, corpus_cache, resume_from_checkpoint="latest"))
    assert (tmp_path / "final" / "model.safetensors").read_bytes() == b"the earlier run's weights"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["final"]


def test_resume_continues_like_an_uninterrupted_run(tmp_path, corpus_cache, monkeypatch, capsys):
    """C20: killed in step 5, resumed from checkpoint-3, the run has the uninterrupted run's steps, learning
    rates, losses (so batches) and final weights."""
    options = dict(max_steps=8, save_every=3, log_every=1, eval_every=0, final_eval_splits="[]", report_to="none")
    uninterrupted = train_script.main(tiny_argv(tmp_path / "uninterrupted", corpus_cache, **options))

    real_step, calls = training.train_step, []

    def killed_in_step_five(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real_step(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", killed_in_step_five)
    with pytest.raises(KeyboardInterrupt):
        train_script.main(tiny_argv(tmp_path / "resumed", corpus_cache, **options))
    AcceleratorState._reset_state(reset_partial_state=True)
    capsys.readouterr()
    resumed = train_script.main(
        tiny_argv(tmp_path / "resumed", corpus_cache, resume_from_checkpoint="latest", **options)
    )
    assert f"resumed from {tmp_path / 'resumed' / 'checkpoint-3'} at step 3" in capsys.readouterr().out
    assert len(calls) == 5 + 5  # steps 4 to 8 after the resume

    expected = [entry for entry in uninterrupted["history"] if entry["step"] > 3]
    assert [entry["step"] for entry in resumed["history"]] == [4, 5, 6, 7, 8]
    assert [entry["lr"] for entry in resumed["history"]] == [entry["lr"] for entry in expected]
    # the same batches on the same weights: the same losses, to the last bit on one CPU process
    assert [entry["loss"] for entry in resumed["history"]] == [entry["loss"] for entry in expected]
    weights = load_file(tmp_path / "uninterrupted" / "final" / "model.safetensors")
    resumed_weights = load_file(tmp_path / "resumed" / "final" / "model.safetensors")
    assert all(torch.equal(resumed_weights[name], tensor) for name, tensor in weights.items())


def test_non_finite_loss_stops_the_run_and_saves_nothing_after(tmp_path, corpus_cache, monkeypatch):
    """A nan reaching the weights in step 3 stops the run at the next check, naming step 3; checkpoint-2 stays."""
    real_step, calls = training.train_step, []

    def poisoned_in_step_three(accelerator, model, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            with torch.no_grad():
                for parameter in model.parameters():
                    parameter.fill_(float("nan"))
        return real_step(accelerator, model, *args, **kwargs)

    monkeypatch.setattr(training, "train_step", poisoned_in_step_three)
    options = dict(max_steps=8, save_every=2, log_every=8, eval_every=0, report_to="none")
    with pytest.raises(training.NonFiniteLossError, match="loss is nan at step 3: training stopped") as caught:
        train_script.main(tiny_argv(tmp_path, corpus_cache, **options))
    assert caught.value.step == 3
    assert len(calls) == 4  # found at the save of step 4, before anything was written
    assert sorted(path.name for path in tmp_path.iterdir()) == ["checkpoint-2", "training_config.yaml"]
    saved = load_file(tmp_path / "checkpoint-2" / "model.safetensors")
    assert all(torch.isfinite(tensor).all() for tensor in saved.values())


def run_launcher(command: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run ``command`` in its own process group and kill the whole group if it outlives ``timeout`` seconds.

    subprocess.run's timeout kills only the launcher; its workers keep the output pipes open, so the test
    would wait for them forever.
    """
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(f"{command[:4]} ran past {timeout} s\n{stdout[-2000:]}\n{stderr[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def share_moved_differently(weights: dict, reference: dict) -> float:
    """The share of weights that differ from ``reference`` by more than 1e-6."""
    differing = sum(
        (~torch.isclose(weights[name], tensor, rtol=0, atol=1e-6)).sum().item() for name, tensor in reference.items()
    )
    return differing / sum(tensor.numel() for tensor in reference.values())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_two_processes_split_the_data_and_score_each_question_once(tmp_path, corpus_cache):
    """C18 and C19 through `accelerate launch --multi_gpu --num_processes 2` on the CPU (gloo).

    Every question is 'ab+cd' with a two-digit answer, so every batch has the same shape and a step's loss
    is the mean of the ranks' losses. Then one step on 2 processes x 8 examples moves the weights exactly as
    one step on 1 process x 16 does, which only happens if the ranks took different examples (C19);
    the same examples on both ranks would equal 1 process x 8.
    """
    options = {
        "corpus.min_operand": 10,
        "corpus.max_operand": 49,
        "corpus.train_size": 500,
        "corpus.validation_size": 9,
        "corpus.test_size": 9,
        "max_steps": 1,
        "warmup_steps": 0,
        "log_every": 1,
        "eval_every": 0,
        "save_every": 0,
        "eval_batch_size": 5,
        "final_eval_splits": "[validation]",
        "report_to": "none",
    }
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2"]
    launch += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]
    launch += ["--main_process_port", str(_free_port()), str(SCRIPT)]
    argv = tiny_argv(tmp_path / "two", corpus_cache, batch_size=8, **options)
    run = run_launcher(launch + argv, timeout=180)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "accelerator MULTI_CPU | 2 processes on cpu" in run.stdout
    assert "batch 8 x 1 accumulated x 2 = 16 examples per step" in run.stdout
    two = load_file(tmp_path / "two" / "final" / "model.safetensors")

    reference, single = {}, {}
    for batch_size in (16, 8):
        AcceleratorState._reset_state(reset_partial_state=True)
        output_dir = tmp_path / f"one-{batch_size}"
        single[batch_size] = train_script.main(tiny_argv(output_dir, corpus_cache, batch_size=batch_size, **options))
        reference[batch_size] = load_file(output_dir / "final" / "model.safetensors")
    # Adam's first step is lr * g / (|g| + eps): a weight whose gradient is close to 0 turns the other summation
    # order of two processes into a visible difference, so count the weights that moved differently
    assert share_moved_differently(two, reference[16]) < 0.001  # 1 of 21,536 weights, measured
    assert share_moved_differently(two, reference[8]) > 0.05  # 13%, measured

    # C18: exactly the 9 validation questions were scored, with the numbers of one process
    record = json.loads((tmp_path / "two" / "final" / "eval_results.json").read_text())["addition validation"]
    assert record["scores"]["overall"]["count"] == 9
    assert re.search(r"eval final validation \| \d/9 = ", run.stdout)
    expected = single[16]["results"]["addition validation"]["scores"]
    assert json.dumps(record["scores"], sort_keys=True) == json.dumps(expected, sort_keys=True)  # NaN-safe


def test_every_option_has_a_help_text():
    parser = train_script.build_parser()
    options = [action for action in parser._actions if action.option_strings and action.dest != "help"]
    assert len(options) > 40
    missing = [action.option_strings[0] for action in options if not (action.help or "").strip()]
    assert missing == []


def test_defaults_are_the_addition_recipe():
    """`python scripts/train.py` with no options trains what scripts/configs/addition.yaml describes."""
    defaults = train_script.parse_args([]).as_flat().__dict__
    recipe = train_script.parse_args(["--config", str(CONFIGS / "addition.yaml")]).as_flat().__dict__
    differing = {
        name: (defaults[name], recipe[name])
        for name in defaults
        if name != "config" and defaults[name] != recipe[name] and not name.startswith("corpus.")
    }
    assert differing == {}


@pytest.mark.parametrize("name", ["addition", "four_ops", "expressions"])
def test_shipped_configs_name_their_command_and_parse(name):
    path = CONFIGS / f"{name}.yaml"
    first = path.read_text().splitlines()[0]
    assert first.startswith("# ") and f"scripts/train.py --config scripts/configs/{name}.yaml" in first
    args = train_script.parse_args(["--config", str(path)])
    assert args.corpus.name == name
    assert args.lr_schedule in ("cosine", "linear") and args.max_steps > args.warmup_steps


def test_command_line_errors_are_one_line_without_a_traceback(tmp_path):
    run = subprocess.run(
        [sys.executable, str(SCRIPT), "--resume_from_checkpoint", "latest", "--output_dir", str(tmp_path / "empty")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert run.stderr.strip().splitlines()[-1] == (
        f"error: --resume_from_checkpoint latest: no checkpoint-<step> folder in {tmp_path / 'empty'}; "
        "leave the option out to start from step 0"
    )
    assert not (tmp_path / "empty").exists()
