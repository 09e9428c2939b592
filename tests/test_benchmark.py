"""Smoke tests of scripts/benchmark.py: every part runs at tiny sizes and reports sound figures.

    .venv/bin/python -m pytest tests/test_benchmark.py          # about 15 seconds on 2 cores

The run uses --quick sizes and the addition config with a 20k-parameter T5 and batches of 16, so the training
and inference parts take seconds; the figures are checked for shape and sign, not for speed.
"""

import json
import math
from pathlib import Path

import pytest
import yaml
from accelerate.state import AcceleratorState

from arith_hf.corpus import NAMED_CONFIGS, generate_split
from scripts import benchmark

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(d_model=32, d_ff=64, num_layers=1, num_decoder_layers=1, num_heads=2, d_kv=16)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """One --quick run on a tiny model: its returned results, its JSON file and its printed report."""
    folder = tmp_path_factory.mktemp("benchmark")
    config = yaml.safe_load((ROOT / "scripts" / "configs" / "addition.yaml").read_text())
    config.update(batch_size=16, model_overrides=TINY)
    config_path = folder / "tiny.yaml"
    config_path.write_text(yaml.safe_dump(config))
    output = folder / "benchmark.json"
    AcceleratorState._reset_state(reset_partial_state=True)
    try:
        results = benchmark.main(["--quick", "--config", str(config_path), "--output", str(output)])
    finally:
        AcceleratorState._reset_state(reset_partial_state=True)
    return results, json.loads(output.read_text()), benchmark.format_report(results)


def test_json_holds_every_part(quick_run):
    _, written, _ = quick_run
    assert {"machine", "sizes", "corpus", "training", "inference", "time_split", "table"} <= set(written)
    assert written["machine"]["threads"] == 1 and written["machine"]["cores"] >= 1
    assert [corpus["config"] for corpus in written["corpus"]] == ["addition", "expressions"]
    assert written["sizes"]["corpus_examples"] == 2000
    assert set(written["time_split"]["phase_percent"]) == {"data", "forward", "backward", "optimizer"}
    assert math.isclose(sum(written["time_split"]["phase_percent"].values()), 100.0)


def test_ratios_and_rates_are_positive(quick_run):
    results, _, _ = quick_run
    ratios = [corpus["ratio"] for corpus in results["corpus"]]
    ratios += [results["training"]["ratio"]]
    ratios += [results["inference"][label][key] for label in ("greedy", "beams5") for key in ("ratio", "loop_ratio")]
    assert all(math.isfinite(ratio) and ratio > 0 for ratio in ratios)
    for unit in ("examples", "tokens"):
        assert results["training"][f"arith_hf_{unit}_per_s"] > 0 and results["training"][f"bare_{unit}_per_s"] > 0
    assert results["inference"]["exact_answers_per_s"] > 0
    for corpus in results["corpus"]:
        assert corpus["arith_hf"]["peak_growth_mib"] >= 0 and corpus["bare"]["peak_growth_mib"] >= 0


def test_training_loops_compute_the_same_losses(quick_run):
    # the same initial weights, batches and updates: only the speed may differ
    results, _, _ = quick_run
    assert results["training"]["max_loss_difference"] == 0.0
    assert results["training"]["timed_steps"] == 4


def test_report_prints_the_table(quick_run):
    results, written, report = quick_run
    assert report.startswith("machine: ")
    assert "| benchmark" in report and "| phase" in report
    assert len(written["table"]) == 11  # 2 rows per corpus, 2 training, 5 inference
    assert {row["unit"] for row in written["table"]} >= {"examples/CPU-s", "examples/s", "tokens/s", "answers/s"}
    goals = [row["goal"] for row in written["table"] if row["goal"]]
    assert len(goals) == 4 and all(goal.endswith(("met", "MISSED")) for goal in goals)


def test_plain_addition_loop_gives_the_builders_strings():
    spec = NAMED_CONFIGS["addition"].spec
    expected = [(sample.question, sample.answer) for sample in generate_split(spec, "train", 500, 3)]
    questions, answers = benchmark.addition_strings(spec, 500, 3)
    assert list(zip(questions, answers, strict=True)) == expected
    with pytest.raises(ValueError, match="two-operand additions"):
        benchmark.addition_strings(NAMED_CONFIGS["four_ops"].spec, 10, 0)


def test_interleaved_alternates_the_order():
    calls = []
    seconds = benchmark.interleaved({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b", "b", "a", "a", "b"]
    assert [len(seconds["a"]), len(seconds["b"])] == [3, 3]
    calls.clear()
    runs = {name: (lambda name=name: calls.append(name)) for name in "abc"}
    assert sorted(benchmark.interleaved(runs, 2)) == ["a", "b", "c"]
    assert calls == ["a", "b", "c", "c", "b", "a"]


def test_readme_figures_come_only_from_a_full_run():
    with pytest.raises(ValueError, match="only a full run"):
        benchmark.main(["--quick", "--update_readme"])
    with pytest.raises(ValueError, match="only a full run"):
        benchmark.main(["--train_steps", "3", "--update_readme"])
    readme = (ROOT / "README.md").read_text()
    assert readme.count("<!-- benchmark:start -->") == 1 and readme.count("<!-- benchmark:end -->") == 1
