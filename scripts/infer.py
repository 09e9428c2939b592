"""Ask a checkpoint arithmetic questions and see its top beams, scored, with the exact answer marked.

    python scripts/infer.py --model runs/addition/final --expr "567+4214"
    python scripts/infer.py --model runs/addition/final          # interactive: one question per line

Interactive mode reads questions from stdin until end of input or an empty line. The exact answer comes from
arith_hf's exact evaluator, in the division format the model was trained with (``/`` as ``7/2``, ``3.5000`` or
``3``), read from the checkpoint when it records one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# Python puts this script's folder first on sys.path, where scripts/evaluate.py would shadow the evaluate
# library that arith_hf.metrics imports
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

from transformers import pipeline
from transformers.utils.logging import disable_progress_bar

import arith_hf.pipeline  # noqa: F401  (registers the text2text-generation task)
from arith_hf.cards import answer_format_of
from arith_hf.expressions import DIVISION_FORMATS, ExpressionError, solve
from arith_hf.pipeline import TASK, check_num_return_sequences, format_candidates
from arith_hf.tokenizer import InvalidQuestionError


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="checkpoint folder (or Hub id) with config and tokenizer")
    parser.add_argument(
        "--expr",
        action="append",
        help="question to answer, e.g. '567+4214'; repeat for several. Without it, questions come from stdin",
    )
    parser.add_argument("--num_beams", type=int, default=4, help="beams of the search, 1 for greedy (default 4)")
    parser.add_argument(
        "--num_return_sequences",
        type=int,
        default=None,
        help="candidates shown per question, at most num_beams (default: num_beams)",
    )
    parser.add_argument(
        "--division",
        choices=DIVISION_FORMATS,
        default=None,
        help="answer format of '/' for the exact answer (default: what the checkpoint records, else exact)",
    )
    parser.add_argument(
        "--decimal_places",
        type=int,
        default=None,
        help="places of decimal answers (default: what the checkpoint records, else 4)",
    )
    parser.add_argument("--device", default="cpu", help="torch device to run on, e.g. cpu or cuda:0 (default cpu)")
    return parser.parse_args(argv)


def exact_answer(question: str, division: str, decimal_places: int) -> tuple[str | None, str | None]:
    """``(answer, None)``, or ``(None, reason)`` when there is none (division by zero, bad syntax)."""
    try:
        return solve(question, division, decimal_places), None
    except ExpressionError as error:
        return None, str(error)


def answer(answerer, question: str, generate_kwargs: dict, division: str, decimal_places: int) -> bool:
    """Print the candidates for one question; False when the question was refused."""
    try:
        candidates = answerer(question, return_scores=True, **generate_kwargs)
    except InvalidQuestionError as error:
        print(f"error: {error}", file=sys.stderr)
        return False
    exact, reason = exact_answer(question, division, decimal_places)
    print(format_candidates(question, candidates, exact))
    if reason is not None:
        print(f"  (no exact answer: {reason})")
    return True


def main(argv=None) -> int:
    args = parse_args(argv)
    num_return_sequences = args.num_return_sequences or args.num_beams
    try:
        check_num_return_sequences(args.num_beams, num_return_sequences)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    # model and the answer format it was trained with
    disable_progress_bar()  # the weight-loading bar would interleave with the answers
    answerer = pipeline(TASK, model=args.model, device=args.device)
    recorded_division, recorded_places = answer_format_of(args.model, answerer.model.config)
    division = args.division or recorded_division
    decimal_places = args.decimal_places if args.decimal_places is not None else recorded_places
    generate_kwargs = dict(num_beams=args.num_beams, num_return_sequences=num_return_sequences)

    # one-shot
    if args.expr:
        results = [answer(answerer, question, generate_kwargs, division, decimal_places) for question in args.expr]
        return 0 if all(results) else 1

    # interactive
    interactive = sys.stdin.isatty()
    if interactive:
        print(f"{args.model}: type a question, an empty line or Ctrl-D to quit", file=sys.stderr)
    while True:
        try:
            line = input("> " if interactive else "")
        except EOFError:
            break
        question = line.rstrip("\n")
        if not question.strip():
            break
        answer(answerer, question, generate_kwargs, division, decimal_places)
    return 0


if __name__ == "__main__":
    sys.exit(main())
