"""Strata of questions, and scoring a whole evaluation set at once, overall and per stratum.

:func:`score_answers` calls the functions of the two ``evaluate`` modules (``exact_match.py`` and
``numeric_difference.py``), so its numbers are the modules' numbers; it only parses each answer once
and reuses the per-example results for every stratum, which keeps tens of thousands of answers fast.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from ..expressions import MIXED, OPERATORS, describe
from .exact_match import exact_match as exact_match_module
from .numeric_difference import numeric_difference as numeric_difference_module

logger = logging.getLogger(__name__)

# the standard strata of a question, in the order result tables show them
STRATA = ("operator_class", "max_digits", "num_operands", "depth")
# the statistics score_answers reports, overall and for every stratum value
SCORE_KEYS = ("exact_match", "total_abs_diff", "mean_abs_diff", "median_abs_diff", "invalid", "invalid_rate", "count")


def question_strata(question: str) -> dict:
    """The strata of a question, from the operators and operands it actually holds.

    ``operator_class`` is ``+``, ``-``, ``*`` or ``/`` when that is the only operator present, else ``mixed``
    (so ``3*4+5`` is mixed, whichever sign comes first); ``max_digits`` counts the digits of the operand of
    largest magnitude; ``num_operands`` counts operands; ``depth`` is the deepest parenthesis nesting.

    >>> question_strata("3*4+5")
    {'operator_class': 'mixed', 'max_digits': 1, 'num_operands': 3, 'depth': 0}
    >>> question_strata("(12-(-345))*2")
    {'operator_class': 'mixed', 'max_digits': 3, 'num_operands': 3, 'depth': 1}
    """
    info = describe(question)
    return {
        "operator_class": info.operator_class,
        "max_digits": info.max_digits,
        "num_operands": info.num_operands,
        "depth": info.depth,
    }


def stratum_order(value: str) -> tuple:
    """Sort key for stratum values: operators as in ``+ - * /`` then ``mixed``, numbers by value (2 before 10)."""
    if value in OPERATORS:
        return (0, OPERATORS.index(value), "")
    if value == MIXED:
        return (1, 0, "")
    if re.fullmatch(r"-?[0-9]+", value):
        return (2, int(value), "")
    return (3, 0, value)


def _merge(matches: dict, differences: dict) -> dict:
    """One score dict in SCORE_KEYS order from the two modules' summaries."""
    scores = {**matches, **differences}
    return {key: scores[key] for key in SCORE_KEYS}


def score_answers(
    questions: Sequence[str],
    predictions: Sequence[str],
    references: Sequence[str],
    strata: Sequence[str] = STRATA,
) -> dict:
    """Exact match and numeric difference of every answer, overall and for each value of each stratum.

    ``exact_match`` compares strings after stripping surrounding whitespace (the exact_match module with
    ``numeric=False``): the model is expected to write the canonical answer. The differences follow the
    numeric_difference module; an invalid prediction adds nothing to the differences and is counted in
    ``invalid`` (see that module's card). Returns::

        {"overall": {key: value for key in SCORE_KEYS},
         "by": {stratum: {str(stratum value): {key: value for key in SCORE_KEYS}, ...}, ...}}

    with stratum values sorted by :func:`stratum_order`.

    >>> results = score_answers(["2+2", "3*4+5", "9*9"], ["4", "16", "abc"], ["4", "17", "81"])
    >>> results["overall"]["exact_match"], results["overall"]["total_abs_diff"], results["overall"]["invalid"]
    (0.3333333333333333, 1.0, 1)
    >>> list(results["by"]["operator_class"]), results["by"]["operator_class"]["mixed"]["mean_abs_diff"]
    (['+', '*', 'mixed'], 1.0)
    """
    if not len(questions) == len(predictions) == len(references):
        raise ValueError(
            f"got {len(questions)} questions, {len(predictions)} predictions and {len(references)} references"
        )
    unknown = [name for name in strata if name not in STRATA]
    if unknown:
        raise ValueError(f"unknown strata {unknown}; choose from {STRATA}")

    # per-example results, computed once
    matches = exact_match_module.exact_matches(predictions, references, numeric=False)
    differences, reference_values = numeric_difference_module.abs_differences(predictions, references)
    results = {
        "overall": _merge(
            exact_match_module.summarize(matches),
            numeric_difference_module.summarize(differences, reference_values),
        ),
        "by": {},
    }
    if not strata:
        return results

    # a corpus may repeat a question; describe each distinct one once
    distinct = {question: question_strata(question) for question in dict.fromkeys(questions)}
    for name in strata:
        values = [str(distinct[question][name]) for question in questions]
        match_groups = exact_match_module.summarize_groups(matches, values)
        difference_groups = numeric_difference_module.summarize_groups(differences, reference_values, values)
        results["by"][name] = {
            value: _merge(match_groups[value], difference_groups[value])
            for value in sorted(match_groups, key=stratum_order)
        }
    logger.debug("scored %d answers over strata %s", len(questions), list(strata))
    return results


__all__ = ["SCORE_KEYS", "STRATA", "question_strata", "score_answers", "stratum_order"]
