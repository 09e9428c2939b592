"""numeric_difference: how far predicted answers are from the right ones, computed exactly.

This file is an ``evaluate`` module: ``evaluate.load`` copies it alone into its module cache, so it
imports nothing from arith_hf and holds its own number parser. ``exact_match.py`` holds a
character-for-character copy of :func:`parse_number` (the tests keep the two identical).
"""

import math
import re
from fractions import Fraction

import datasets
import evaluate

_DESCRIPTION = """
Absolute numeric difference between predicted and reference answers. Both are parsed exactly as rationals,
so big integers and decimals are never rounded through float: `100000000000000000001` is 1 away from
`100000000000000000000`, and `-7/2` is 0 away from `-3.5`.

A number is an optional sign (`-` or `+`) followed by digits, digits `.` digits, or digits `/` digits
(a fraction with a non-zero denominator, reduced or not); surrounding whitespace is ignored. Anything
else (`abc`, an empty string, `1+1`, `1e5`, `.5`, `1/0`) is an invalid prediction.

Rule for invalid predictions: an invalid prediction has no difference. It adds nothing to
`total_abs_diff` and is left out of `mean_abs_diff`, `median_abs_diff` and `mean_rel_error`; it is
counted in `invalid` instead. It is never scored as a difference of 0: the means and the median are
taken over the valid predictions only. So compare `total_abs_diff` of two runs only together with
their `invalid` counts.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): predicted answers, one per example.
    references (`list` of `str`): right answers, one per example; each must be a number.
    groups (`list` of `str`, *optional*): a group name per example, such as the question's operator.
        When given, the results also hold a `groups` entry with the same statistics for each group.

Returns:
    total_abs_diff (`float`): sum of |prediction - reference| over the valid predictions, >= 0.
    mean_abs_diff (`float`): `total_abs_diff` divided by the number of valid predictions, >= 0;
        NaN when no prediction is valid.
    median_abs_diff (`float`): median of |prediction - reference| over the valid predictions, >= 0;
        NaN when no prediction is valid.
    mean_rel_error (`float`): mean of |prediction - reference| / |reference| over the valid predictions
        whose reference is not 0, >= 0; NaN when there are none.
    invalid (`int`): number of predictions that are not numbers, from 0 to `count`.
    invalid_rate (`float`): `invalid` divided by `count`, in [0, 1]; NaN when `count` is 0.
    count (`int`): number of examples.
    groups (`dict`, only with `groups`): group name -> a dict of the statistics above for that group.

Examples:
    >>> import evaluate
    >>> from arith_hf.metrics import metric_path
    >>> numeric_difference = evaluate.load(metric_path("numeric_difference"))
    >>> results = numeric_difference.compute(
    ...     predictions=["1.0", "3.14", "29.00", "-7/2", "100000000000000000001"],
    ...     references=["10", "314", "29", "-3.5", "100000000000000000000"],
    ... )
    >>> results["total_abs_diff"], results["median_abs_diff"], results["invalid"]
    (320.86, 1.0, 0)

    An invalid prediction is counted, not scored as a difference:

    >>> results = numeric_difference.compute(predictions=["7", "abc"], references=["5", "5"])
    >>> results["total_abs_diff"], results["mean_abs_diff"], results["invalid"], results["invalid_rate"]
    (2.0, 2.0, 1, 0.5)

    Per-group results:

    >>> results = numeric_difference.compute(
    ...     predictions=["4", "9", "12"], references=["4", "10", "12"], groups=["+", "*", "*"]
    ... )
    >>> results["groups"]["*"]["total_abs_diff"], results["groups"]["*"]["count"]
    (1.0, 2)
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


def abs_differences(predictions, references):
    """Per example, the exact |prediction - reference| (None for an invalid prediction), and the reference values.

    Raises ``ValueError`` for a reference that is not a number: references are the right answers.
    """
    if len(predictions) != len(references):
        raise ValueError(f"got {len(predictions)} predictions but {len(references)} references")
    differences, reference_values = [], []
    for index, (prediction, reference) in enumerate(zip(predictions, references, strict=True)):
        reference_value = parse_number(reference)
        if reference_value is None:
            raise ValueError(f"reference {index} is not a number: {reference!r}")
        prediction_value = parse_number(prediction)
        differences.append(None if prediction_value is None else abs(prediction_value - reference_value))
        reference_values.append(reference_value)
    return differences, reference_values


def _to_float(value):
    try:
        return float(value)
    except OverflowError:  # a difference beyond 1.8e308, from a prediction hundreds of digits long
        return math.inf


def _ratio(numerator, denominator):
    """numerator / denominator as a float, for ints and Fractions, without building a reduced Fraction."""
    try:
        # int true division rounds the exact quotient once, like float(Fraction)
        return (numerator.numerator * denominator.denominator) / (numerator.denominator * denominator.numerator)
    except OverflowError:
        return math.inf


def _exact_sum(values):
    """The exact sum of ints and Fractions: numerators over a shared denominator are added as plain ints."""
    numerators = {}
    for value in values:
        numerators[value.denominator] = numerators.get(value.denominator, 0) + value.numerator
    return sum((Fraction(numerator, denominator) for denominator, numerator in numerators.items()), Fraction(0))


def _median(values):
    """The exact median of ints and Fractions: the mean of the two middle values of an even count."""
    if all(type(value) is int for value in values):
        ordered = sorted(values)
    else:
        # comparing Fractions is slow; the float comes first and the exact value only breaks its ties
        ordered = sorted(values, key=lambda value: (_to_float(value), value))
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else Fraction(ordered[middle - 1] + ordered[middle], 2)


def summarize(differences, reference_values):
    """The statistics of the module's results, from the output of :func:`abs_differences`."""
    count = len(differences)
    valid = [
        (diff, reference) for diff, reference in zip(differences, reference_values, strict=True) if diff is not None
    ]
    diffs = [diff for diff, _ in valid]
    total = _exact_sum(diffs)
    relative = [_ratio(diff, abs(reference)) for diff, reference in valid if reference != 0]
    invalid = count - len(valid)
    return {
        "total_abs_diff": _to_float(total),
        "mean_abs_diff": _to_float(total / len(diffs)) if diffs else math.nan,
        "median_abs_diff": _to_float(_median(diffs)) if diffs else math.nan,
        "mean_rel_error": math.fsum(relative) / len(relative) if relative else math.nan,
        "invalid": invalid,
        "invalid_rate": invalid / count if count else math.nan,
        "count": count,
    }


def summarize_groups(differences, reference_values, groups):
    """:func:`summarize` for each group (names taken as ``str``), in order of first appearance."""
    if len(groups) != len(differences):
        raise ValueError(f"got {len(groups)} groups for {len(differences)} examples")
    members = {}
    for index, group in enumerate(groups):
        members.setdefault(str(group), []).append(index)
    return {
        group: summarize([differences[i] for i in indices], [reference_values[i] for i in indices])
        for group, indices in members.items()
    }


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class NumericDifference(evaluate.Metric):
    def _info(self):
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {"predictions": datasets.Value("string"), "references": datasets.Value("string")}
            ),
        )

    def _compute(self, predictions, references, groups=None):
        differences, reference_values = abs_differences(predictions, references)
        results = summarize(differences, reference_values)
        if groups is not None:
            results["groups"] = summarize_groups(differences, reference_values, groups)
        return results


__all__ = [
    "NUMBER_PATTERN",
    "NumericDifference",
    "abs_differences",
    "parse_number",
    "summarize",
    "summarize_groups",
]
