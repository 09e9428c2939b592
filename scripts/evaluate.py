"""Evaluate a checkpoint, or every checkpoint of a run, on held-out arithmetic questions.

    # one checkpoint on a corpus split: stratified table on screen, the same as JSON (default
    # outputs/evaluate/<run>-<checkpoint>/<questions>.json)
    python scripts/evaluate.py --model runs/addition/final --corpus addition --split test --output eval.json
    python scripts/evaluate.py --model runs/addition/final --corpus addition --sampling uniform --test_size 10000
    python scripts/evaluate.py --model runs/addition/final --jsonl questions.jsonl   # {"question", "answer"} lines

    # ... and write its model card (README.md in the checkpoint, model_cards/<name>.md), optionally upload it
    python scripts/evaluate.py --model runs/addition/final --model_card --model_name arith-addition-t5-tiny \\
        [--push_to_hub --hub_model_id user/arith-addition-t5-tiny]

    # how a run learned: every checkpoint-<step> in step order, as a table, CSV, PNG plot and TensorBoard scalars
    python scripts/evaluate.py --checkpoints runs/addition --split validation

Decoding is greedy unless --num_beams asks for beam search (the best beam is the answer). Without --corpus,
the corpus the checkpoint was trained on is used when its training configuration records one.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from pathlib import Path

# Python puts this script's folder first on sys.path, where this evaluate.py would shadow the evaluate
# library that arith_hf.metrics imports
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
from transformers.utils.logging import disable_progress_bar

from arith_hf.cards import corpus_config_of, push_to_hub, read_training_config, results_table, write_model_card
from arith_hf.corpus import DATA_FIELDS, FIELD_HELP, NAMED_CONFIGS, SPLITS, load_corpus
from arith_hf.metrics import STRATA, score_answers
from arith_hf.pipeline import answer_questions, check_num_return_sequences
from arith_hf.training import checkpoint_step

DEFAULT_CORPUS = "addition"


# ---------------------------------------------------------------------------
# arguments


def _field_type(name: str):
    default = getattr(NAMED_CONFIGS[DEFAULT_CORPUS], name)
    if isinstance(default, tuple):
        return str  # operators: a string such as "+-*/"
    return type(default)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__
    )
    what = parser.add_argument_group("what to evaluate (one of)")
    target = what.add_mutually_exclusive_group(required=True)
    target.add_argument("--model", help="checkpoint folder: config.json, weights and tokenizer")
    target.add_argument("--checkpoints", help="a run's output folder: every checkpoint-<step> in it, in step order")

    data = parser.add_argument_group("questions")
    data.add_argument(
        "--corpus",
        choices=sorted(NAMED_CONFIGS),
        default=None,
        help="named corpus config (default: the one the checkpoint was trained on if recorded, else addition)",
    )
    data.add_argument(
        "--split", choices=("train", "validation", "test"), default="test", help="corpus split (default test)"
    )
    data.add_argument("--jsonl", help="JSON Lines file of {'question': ..., 'answer': ...} instead of a corpus")
    data.add_argument("--limit", type=int, default=None, help="evaluate only the first N questions (default: all)")
    data.add_argument("--cache_dir", default=None, help="datasets cache folder for the corpus (default: HF default)")
    overrides = parser.add_argument_group("corpus overrides (default: the corpus config's value)")
    for name in DATA_FIELDS:
        overrides.add_argument(f"--{name}", type=_field_type(name), default=None, help=FIELD_HELP[name])

    decoding = parser.add_argument_group("decoding")
    decoding.add_argument("--num_beams", type=int, default=1, help="beams of the search; 1 is greedy (default 1)")
    decoding.add_argument("--batch_size", type=int, default=1000, help="questions per generate call (default 1000)")
    decoding.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda:0 (default cpu)")
    decoding.add_argument(
        "--threads",
        type=int,
        default=None,
        help="CPU threads for torch (default: torch's choice); 1 is often faster on a machine busy with other jobs",
    )

    output = parser.add_argument_group("output")
    output.add_argument(
        "--output",
        help="JSON file of the results (--model: default outputs/evaluate/<run>-<checkpoint>/<questions>.json; "
        "--checkpoints: default none)",
    )
    output.add_argument("--mistakes", type=int, default=5, help="wrong answers to print (default 5)")
    output.add_argument(
        "--csv", help="CSV of the per-step results (--checkpoints) (default: OUTPUT_DIR/eval_steps.csv)"
    )
    output.add_argument("--plot", help="PNG plot of the per-step results (default: OUTPUT_DIR/eval_steps.png)")
    output.add_argument(
        "--tensorboard_dir", help="TensorBoard log folder for per-step results (default: OUTPUT_DIR/tensorboard/eval)"
    )

    card = parser.add_argument_group("model card and Hub (--model only)")
    card.add_argument("--model_card", action="store_true", help="write README.md into the checkpoint folder")
    card.add_argument("--model_name", help="name on the card and of model_cards/<name>.md (default: hub id or folder)")
    card.add_argument(
        "--model_cards_dir", default="model_cards", help="folder for a copy of the card (default model_cards)"
    )
    card.add_argument("--push_to_hub", action="store_true", help="upload the checkpoint folder with its card")
    card.add_argument("--hub_model_id", help="Hub repository, user/name, for --push_to_hub")
    card.add_argument("--private", action="store_true", help="create the Hub repository private")

    args = parser.parse_args(argv)
    if args.push_to_hub and not args.hub_model_id:
        parser.error("--push_to_hub needs --hub_model_id")
    if args.checkpoints and (args.model_card or args.push_to_hub):
        parser.error("--model_card and --push_to_hub take one checkpoint: use --model")
    if args.jsonl and (args.corpus or any(getattr(args, name) is not None for name in DATA_FIELDS)):
        parser.error("--jsonl replaces the corpus: drop --corpus and the corpus overrides")
    try:
        check_num_return_sequences(args.num_beams, 1)
    except ValueError as error:
        parser.error(str(error))
    return args


# ---------------------------------------------------------------------------
# questions


def read_jsonl(path: str) -> tuple[list[str], list[str]]:
    questions, answers = [], []
    with open(path) as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if "question" not in record or "answer" not in record:
                raise ValueError(f"{path}:{number}: a line needs 'question' and 'answer', got {sorted(record)}")
            questions.append(str(record["question"]))
            answers.append(str(record["answer"]))
    return questions, answers


def load_questions(args, checkpoint: Path) -> tuple[list[str], list[str], dict]:
    """Questions, reference answers and a description of where they came from."""
    if args.jsonl:
        questions, answers = read_jsonl(args.jsonl)
        dataset = {"jsonl": str(args.jsonl)}
    else:
        trained_on = corpus_config_of(read_training_config(checkpoint))
        if args.corpus is None and trained_on.get("name") in NAMED_CONFIGS:
            # the training corpus, field for field: its test split is the held-out data of that run
            name, recorded = trained_on["name"], {key: trained_on[key] for key in DATA_FIELDS if key in trained_on}
        else:
            name, recorded = args.corpus or DEFAULT_CORPUS, {}
        given = {key: getattr(args, key) for key in DATA_FIELDS if getattr(args, key) is not None}
        overrides = {**recorded, **given}
        # the training run's cache holds this corpus already when the fields are the recorded ones
        cache_dir = args.cache_dir or (trained_on.get("cache_dir") if recorded else None)
        # elsewhere, build the other splits as small as they go: a split's questions do not depend on the others'
        # sizes, and a 200,000-question train split would take longer than the evaluation
        unused = {} if recorded else {f"{other}_size": 1 for other in SPLITS if other != args.split}
        corpus = load_corpus(name, cache_dir=cache_dir, **{**unused, **overrides})[args.split]
        questions, answers = corpus["question"], corpus["answer"]
        dataset = {"corpus": name, "split": args.split, "overrides": overrides}
    if args.limit is not None:
        questions, answers = questions[: args.limit], answers[: args.limit]
    dataset["count"] = len(questions)
    return list(questions), list(answers), dataset


# ---------------------------------------------------------------------------
# evaluation


def load_model(checkpoint: Path, device: str):
    model = AutoModelForSeq2SeqLM.from_pretrained(checkpoint).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    return model, tokenizer


def evaluate_checkpoint(checkpoint: Path, questions, answers, args, strata=STRATA) -> dict:
    """Answer every question with the checkpoint and score the answers; returns the evaluation record."""
    model, tokenizer = load_model(checkpoint, args.device)
    start = time.perf_counter()
    candidates = answer_questions(
        model, tokenizer, questions, batch_size=args.batch_size, num_beams=args.num_beams, num_return_sequences=1
    )
    seconds = time.perf_counter() - start
    predictions = [best["generated_text"] for best, *_ in candidates]
    complete = [best["complete"] for best, *_ in candidates]
    scores = score_answers(questions, predictions, answers, strata=strata)
    mistakes = [
        {"question": q, "prediction": p, "answer": a, "complete": c}
        for q, p, a, c in zip(questions, predictions, answers, complete, strict=True)
        if p.strip() != a.strip()
    ]
    return {
        "model": str(checkpoint),
        "decoding": {"num_beams": args.num_beams},
        "scores": scores,
        "correct": len(questions) - len(mistakes),
        "cut": complete.count(False),
        "seconds": round(seconds, 3),
        "answers_per_second": round(len(questions) / seconds, 1) if seconds else None,
        "mistakes": mistakes[: max(args.mistakes, 0)],
    }


def print_record(record: dict) -> None:
    count = record["dataset"]["count"]
    print(results_table(record["scores"], tablefmt="simple"))
    print()
    for mistake in record["mistakes"]:
        cut = "" if mistake["complete"] else " (cut at the length limit)"
        print(f"  {mistake['question']} -> model {mistake['prediction']}{cut}, expected {mistake['answer']}")
    exact_match = 100 * record["scores"]["overall"]["exact_match"]
    print(
        f"{record['correct']}/{count} = {exact_match:.2f}% | {record['seconds']:.1f} s, "
        f"{record['answers_per_second']} answers/s"
    )


def default_model_name(checkpoint: Path) -> str:
    """``<run>-<checkpoint>`` (``addition-final``): a checkpoint folder's own name rarely says which run it is."""
    checkpoint = checkpoint.resolve()
    return f"{checkpoint.parent.name}-{checkpoint.name}"


def default_output(checkpoint: Path, dataset: dict) -> Path:
    """``outputs/evaluate/<run>-<checkpoint>/<questions>.json``, the questions named by corpus, split and overrides.

    >>> dataset = {"corpus": "four_ops", "split": "test", "overrides": {"operators": "*/"}}
    >>> default_output(Path("outputs/four/final"), dataset).as_posix()
    'outputs/evaluate/four-final/four_ops-test-operators=__.json'
    """
    if "jsonl" in dataset:
        name = Path(dataset["jsonl"]).stem
    else:
        overrides = [f"{key}={value}" for key, value in sorted(dataset["overrides"].items())]
        name = "-".join([dataset["corpus"], dataset["split"], *overrides])
    # operators such as / and * in an override are no file name's characters
    return Path("outputs") / "evaluate" / default_model_name(checkpoint) / (re.sub(r"[^\w.=+-]", "_", name) + ".json")


def evaluate_one(args) -> dict:
    checkpoint = Path(args.model)
    questions, answers, dataset = load_questions(args, checkpoint)
    record = {"dataset": dataset, **evaluate_checkpoint(checkpoint, questions, answers, args)}
    print_record(record)
    output = Path(args.output) if args.output else default_output(checkpoint, dataset)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(record, indent=2) + "\n")
    print(f"results written to {output}")
    if args.model_card or args.push_to_hub:
        name = args.model_name or args.hub_model_id or default_model_name(checkpoint)
        write_model_card(checkpoint, record, name, args.model_cards_dir)
        print(f"model card written to {checkpoint / 'README.md'} and {Path(args.model_cards_dir) / name}.md")
    if args.push_to_hub:
        info = push_to_hub(checkpoint, args.hub_model_id, private=args.private)
        print(f"uploaded {checkpoint} to {getattr(info, 'commit_url', args.hub_model_id)}")
    return record


# ---------------------------------------------------------------------------
# a run's checkpoints


def find_checkpoints(output_dir: Path) -> list[tuple[int, Path]]:
    """``(step, folder)`` for every checkpoint-<step> folder holding a model, in step order."""
    found = []
    for path in output_dir.iterdir() if output_dir.is_dir() else []:
        step = checkpoint_step(path)
        if step is not None and (path / "config.json").is_file():
            found.append((step, path))
    return sorted(found)


def write_curves(rows: list[dict], csv_path: Path, plot_path: Path, tensorboard_dir: Path) -> None:
    """The per-step results as CSV, a PNG of exact match and total abs diff against step, and TensorBoard scalars."""
    columns = ["step", "exact_match", "total_abs_diff", "mean_abs_diff", "invalid_rate", "count"]
    with open(csv_path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows({column: row[column] for column in columns} for row in rows)

    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a training machine
    import matplotlib.pyplot as plt

    steps = [row["step"] for row in rows]
    figure, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 6))
    top.plot(steps, [100 * row["exact_match"] for row in rows], marker="o", label="exact match")
    # an invalid answer adds nothing to the difference below, so its rate belongs next to it
    top.plot(steps, [100 * row["invalid_rate"] for row in rows], linestyle="--", color="tab:gray", label="invalid")
    top.set_ylabel("% of questions")
    top.set_ylim(0, 100)
    top.legend(loc="best")
    top.grid(True, alpha=0.3)
    bottom.plot(steps, [row["total_abs_diff"] for row in rows], marker="o", color="tab:red")
    bottom.set_ylabel("total abs diff")
    # the difference falls by orders of magnitude as a run learns; a log axis shows all of it
    if all(row["total_abs_diff"] > 0 for row in rows):
        bottom.set_yscale("log")
    bottom.set_xlabel("step")
    bottom.grid(True, alpha=0.3)
    figure.suptitle(f"{csv_path.parent.name}: evaluation by checkpoint")
    figure.tight_layout()
    figure.savefig(plot_path, dpi=100)
    plt.close(figure)

    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(log_dir=str(tensorboard_dir)) as writer:
        for row in rows:
            writer.add_scalar("eval/exact_match", row["exact_match"], row["step"])
            writer.add_scalar("eval/total_abs_diff", row["total_abs_diff"], row["step"])
            writer.add_scalar("eval/mean_abs_diff", row["mean_abs_diff"], row["step"])
            writer.add_scalar("eval/invalid_rate", row["invalid_rate"], row["step"])


def evaluate_run(args) -> list[dict]:
    output_dir = Path(args.checkpoints)
    checkpoints = find_checkpoints(output_dir)
    if not checkpoints:
        raise SystemExit(f"error: no checkpoint-<step> folder with a config.json in {output_dir}")
    questions, answers, dataset = load_questions(args, checkpoints[0][1])
    print(f"{len(checkpoints)} checkpoints of {output_dir}, {dataset['count']} questions")
    rows = []
    for step, checkpoint in checkpoints:
        record = evaluate_checkpoint(checkpoint, questions, answers, args, strata=())
        overall = record["scores"]["overall"]
        rows.append({"step": step, "checkpoint": str(checkpoint), **overall})
        print(
            f"step {step:>7} | exact match {100 * overall['exact_match']:6.2f}% | "
            f"total abs diff {overall['total_abs_diff']:.6g} | invalid {100 * overall['invalid_rate']:.2f}% | "
            f"{record['seconds']:.1f} s"
        )
    csv_path = Path(args.csv or output_dir / "eval_steps.csv")
    plot_path = Path(args.plot or output_dir / "eval_steps.png")
    tensorboard_dir = Path(args.tensorboard_dir or output_dir / "tensorboard" / "eval")
    write_curves(rows, csv_path, plot_path, tensorboard_dir)
    print(f"written: {csv_path}, {plot_path}, TensorBoard logs in {tensorboard_dir}")
    if args.output:
        Path(args.output).write_text(json.dumps({"dataset": dataset, "steps": rows}, indent=2) + "\n")
    return rows


def main(argv=None) -> int:
    args = parse_args(argv)
    disable_progress_bar()  # weight-loading bars would break the tables
    if args.threads:
        torch.set_num_threads(args.threads)
    with torch.inference_mode():
        if args.checkpoints:
            evaluate_run(args)
        else:
            evaluate_one(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
