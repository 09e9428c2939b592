"""The main job: an addition model that is right on big and small numbers alike, trained, evaluated and carded.

    bash scripts/run.sh main                     # what a new user runs first (sets up .venv, then this script)
    python scripts/main.py --max_steps 500       # options it does not know go to scripts/train.py unchanged

Steps: build the digit-balanced ``addition`` corpus (operands 0..100000) and train ``t5-mini`` on the CPU with
scripts/train.py and scripts/configs/addition.yaml; evaluate the final model on three sets; write its model card
(into the Hub-ready folder and model_cards/) and the README's results table; print the table and the top beams
for a few probe questions.

The three evaluation sets, and the target each must meet:
- the corpus' test split: 10,000 digit-balanced questions, never seen in training (>= 99.9%);
- 10,000 questions with operands uniform over 0..100000, the classic experiment's distribution (>= 99.9%);
- all 10,000 questions a+b with a and b in 0..99, the small sums uniform sampling starves (100%).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from argparse import Namespace
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
# Python puts this folder first on sys.path, where scripts/evaluate.py would shadow the evaluate library
if sys.path and Path(sys.path[0] or ".").resolve() == SCRIPTS:
    sys.path.pop(0)

import torch  # noqa: E402
from tabulate import tabulate  # noqa: E402
from transformers import pipeline  # noqa: E402

import arith_hf  # noqa: E402, F401  (registers the text2text-generation task)
from arith_hf.cards import fill_marked_block, write_model_card  # noqa: E402
from arith_hf.corpus import load_corpus  # noqa: E402
from arith_hf.expressions import solve  # noqa: E402
from arith_hf.pipeline import format_candidates  # noqa: E402

ROOT = SCRIPTS.parent
PROBES = ["5+2", "7+90", "57+15", "852+0", "5000+7", "567+4214", "95421+24211"]
DIGIT_BALANCED, UNIFORM, SMALL = "addition test, digit-balanced", "addition test, uniform", "a+b with a, b in 0..99"
TARGETS = {DIGIT_BALANCED: 0.999, UNIFORM: 0.999, SMALL: 1.0}


def load_script(name: str):
    """scripts/<name>.py as a module under a private name (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"_arith_hf_script_{name}", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None) -> tuple[Namespace, list[str]]:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], epilog="Any other option is passed to scripts/train.py."
    )
    parser.add_argument("--output_dir", default="outputs/main", help="run folder; the model lands in <it>/final")
    parser.add_argument("--model_name", default="arith_hf-t5-mini-addition", help="name in the card and its file")
    parser.add_argument("--model_cards_dir", default=str(ROOT / "model_cards"), help="where <name>.md is copied")
    parser.add_argument("--uniform_size", type=int, default=10_000, help="questions in the uniform test set")
    parser.add_argument("--num_beams", type=int, default=3, help="beams shown for each probe question")
    parser.add_argument(
        "--update_readme",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="rewrite the results table in README.md from this run's evaluation",
    )
    return parser.parse_known_args(argv)


def evaluate_set(evaluate_script, model_dir: Path, questions: list[str], dataset: dict) -> dict:
    """Greedy answers to every question, scored and stratified: an evaluation record as scripts/evaluate.py makes."""
    options = Namespace(device="cpu", batch_size=1000, num_beams=1, mistakes=5)
    record = evaluate_script.evaluate_checkpoint(model_dir, questions, [solve(q) for q in questions], options)
    return {"dataset": {**dataset, "count": len(questions)}, **record}


def summary_rows(results: dict) -> list[list]:
    rows = []
    for name, record in results.items():
        overall = record["scores"]["overall"]
        target = TARGETS.get(name)
        met = "" if target is None else ("yes" if overall["exact_match"] >= target else "NO")
        rows.append(
            [
                name,
                overall["count"],
                f"{100 * overall['exact_match']:.2f}%",
                f"{overall['mean_abs_diff']:.4g}",
                f"{overall['total_abs_diff']:.6g}",
                "" if target is None else f">= {100 * target:g}%",
                met,
            ]
        )
    return rows


HEADERS = ["evaluation set", "questions", "exact match", "mean abs diff", "total abs diff", "target", "met"]


def main(argv=None) -> int:
    start = time.perf_counter()
    args, train_options = parse_args(argv)
    output_dir = Path(args.output_dir)

    # 1. corpus and training: scripts/train.py with the addition recipe; its final evaluation is the test split
    train_script = load_script("train")
    trained = train_script.main(
        [
            "--config",
            str(SCRIPTS / "configs" / "addition.yaml"),
            "--output_dir",
            str(output_dir),
            "--overwrite_output_dir",
            "--model_name",
            args.model_name,
            "--final_eval_splits",
            "[test]",
            *train_options,
        ]
    )
    model_dir = Path(trained["final_dir"])
    results = {DIGIT_BALANCED: next(iter(trained["results"].values()))}

    # 2. the other two evaluation sets
    evaluate_script = load_script("evaluate")
    uniform = load_corpus("addition", sampling="uniform", train_size=1, validation_size=1, test_size=args.uniform_size)
    results[UNIFORM] = evaluate_set(
        evaluate_script,
        model_dir,
        list(uniform["test"]["question"]),
        {"corpus": "addition", "split": "test", "overrides": {"sampling": "uniform", "test_size": args.uniform_size}},
    )
    small = [f"{a}+{b}" for a in range(100) for b in range(100)]
    results[SMALL] = evaluate_set(evaluate_script, model_dir, small, {"questions": "every a+b with a, b in 0..99"})

    # 3. model card, results file and README table, all from these results
    write_model_card(model_dir, results, args.model_name, args.model_cards_dir)
    (output_dir / "main_results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    rows = summary_rows(results)
    elapsed = time.perf_counter() - start
    machine = f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads"
    footer = (
        f"Measured by `bash scripts/run.sh main` ({trained['step']} steps, "
        f"{trained['examples_per_second']:.0f} training examples/s, whole job {elapsed / 60:.1f} min on {machine})."
    )
    if args.update_readme:
        table = tabulate(rows, HEADERS, tablefmt="github")
        fill_marked_block(ROOT / "README.md", "main-job-results", f"{table}\n\n{footer}")

    # 4. what the model says: results table, mistakes, top beams of the probe questions
    print()
    print(tabulate(rows, HEADERS, tablefmt="simple"))
    for name, record in results.items():
        for mistake in record.get("mistakes", [])[:5]:
            print(f"  {name}: {mistake['question']} -> model {mistake['prediction']}, expected {mistake['answer']}")
    print()
    answerer = pipeline("text2text-generation", model=str(model_dir), device="cpu")
    beams = answerer(PROBES, num_beams=args.num_beams, num_return_sequences=args.num_beams)
    for question, candidates in zip(PROBES, beams, strict=True):
        print(format_candidates(question, candidates, exact_answer=solve(question)))
    print()
    print(f"model folder: {model_dir} (card: {model_dir / 'README.md'})")
    print(footer)
    return 0 if all(row[-1] != "NO" for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
