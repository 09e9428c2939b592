"""exact_match: the share of predicted answers that are exactly the right answer.

This file is an ``evaluate`` module: ``evaluate.load`` copies it alone into its module cache, so it
imports nothing from arith_hf. :func:`parse_number` and ``NUMBER_PATTERN`` are a character-for-character
copy of those in ``numeric_difference.py`` (the tests keep the two identical), so both metrics agree on
what a number is.
"""

import math
import re
from fractions import Fraction

import datasets
import evaluate

_DESCRIPTION = """
Exact match between predicted and reference answers, after one normalisation: surrounding whitespace
(spaces, tabs, newlines) is removed from both. Nothing else changes, so by default `007` differs from
`7` and `29.00` differs from `29`: the model is asked to write the answer in its canonical form.

With `numeric=True` both sides are compared as exact rational numbers instead, so `29.00` equals `29`,
`-7/2` equals `-3.5` and `6/4` equals `3/2`. A number is an optional sign (`-` or `+`) followed by
digits, digits `.` digits, or digits `/` digits with a non-zero denominator. A prediction that is not a
number never matches; a reference that is not a number is an error.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): predicted answers, one per example.
    references (`list` of `str`): right answers, one per example.
    groups (`list` of `str`, *optional*): a group name per example, such as the question's operator.
        When given, the results also hold a `groups` entry with the same statistics for each group.
    numeric (`bool`, *optional*, defaults to `False`): compare as exact numbers instead of as strings.

Returns:
    exact_match (`float`): share of predictions that match their reference, in [0, 1]; NaN when `count` is 0.
    count (`int`): number of examples.
    groups (`dict`, only with `groups`): group name -> a dict of the statistics above for that group.

Examples:
    >>> import evaluate
    >>> from arith_hf.metrics import metric_path
    >>> exact_match = evaluate.load(metric_path("exact_match"))
    >>> exact_match.compute(predictions=["4", " 12 ", "29.00", "-7/2"], references=["4", "12", "29", "-3.5"])
    {'exact_match': 0.5, 'count': 4}

    Compared as numbers:

    >>> exact_match.compute(
    ...     predictions=["4", " 12 ", "29.00", "-7/2"], references=["4", "12", "29", "-3.5"], numeric=True
    ... )
    {'exact_match': 1.0, 'count': 4}

    Per-group results:

    >>> results = exact_match.compute(
    ...     predictions=["4", "9", "12"], references=["4", "10", "12"], groups=["+", "*", "*"]
    ... )
    >>> results["groups"]
    {'+': {'exact_match': 1.0, 'count': 1}, '*': {'exact_match': 0.5, 'count': 2}}
"""

_CITATION = ""

# an optional sign, then an integer, a decimal or a fraction; ASCII digits only
NUMBER_PATTERN = re.compile(r"([+-]?)([0-9]+)(?:\.([0-9]+)|/([0-9]+))?", re.ASCII)


def parse_number(text):
    """The exact value of an integer, decimal or fraction written as text, or None when it is not a number.

    The value is an ``int`` for an integer and a ``Fraction`` otherwise. Surrounding whitespace is ignored.
    ``42``, ``-42``, ``+42``, ``007``, ``3.14``, ``-0.5000``, ``-7/2`` and ``6/4`` are numbers;
    ``abc``, ``""``, ``1+1``, ``1e5``, ``.5``, ``5.``, ``1/0``, ``7/-2`` and ``1 000`` are not.
    """
    if not isinstance(text, str):
        return None
    match = NUMBER_PATTERN.fullmatch(text.strip())
    if match is None:
        return None
    sign, whole, decimals, denominator = match.groups()
    try:
        if decimals is not None:
            value = Fraction(int(whole + decimals), 10 ** len(decimals))
        elif denominator is not None:
            if int(denominator) == 0:
                return None
            value = Fraction(int(whole), int(denominator))
        else:
            value = int(whole)  # ints compare and subtract many times faster than Fractions
    except ValueError:
        # NOTE: int() refuses strings longer than sys.get_int_max_str_digits() (4300 digits by default)
        return None
    return -value if sign == "-" else value


def normalize_answer(text):
    """The text exact match compares: surrounding whitespace removed, nothing else changed."""
    return text.strip() if isinstance(text, str) else text


def exact_matches(predictions, references, numeric=False):
    """Per example, whether the prediction matches its reference (as strings, or as numbers with ``numeric``)."""
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references")
    if not numeric:
        return [normalize_answer(p) == normalize_answer(r) for p, r in zip(predictions, references, strict=True)]
    matches = []
    for index, (prediction, reference) in enumerate(zip(predictions, references, strict=True)):
        reference_value = parse_number(reference)
        if reference_value is None:
            raise ValueError(f"reference {index} is not a number: {reference!r}")
        matches.append(parse_number(prediction) == reference_value)  # None (not a number) never equals
    return matches


def summarize(matches):
    """The statistics of the module's results from the output of :func:`exact_matches`."""
    count = len(matches)
    return {"exact_match": sum(matches) / count if count else math.nan, "count": count}


def summarize_groups(matches, groups):
    """:func:`summarize` for each group (names taken as ``str``), in order of first appearance."""
    if len(groups) != len(matches):
        raise ValueError(f"got {len(groups)} groups for {len(matches)} examples")
    members = {}
    for match, group in zip(matches, groups, strict=True):
        members.setdefault(str(group), []).append(match)
    return {group: summarize(group_matches) for group, group_matches in members.items()}


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ExactMatch(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, groups=None, numeric=False):
        matches = exact_matches(predictions, references, numeric)
        results = summarize(matches)
        if groups is not None:
            results["groups"] = summarize_groups(matches, groups)
        return results


__all__ = [
    "NUMBER_PATTERN",
    "ExactMatch",
    "exact_matches",
    "normalize_answer",
    "parse_number",
    "summarize",
    "summarize_groups",
]
