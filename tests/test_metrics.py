"""Tests for arith_hf.metrics: the two evaluate modules, their cards, strata and score_answers (cases C09-C12).

Run with: .venv/bin/python -m pytest tests/test_metrics.py -q
"""

from __future__ import annotations

import doctest
import importlib
import inspect
import json
import math
import os
import re
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import arith_hf.metrics as metrics
from arith_hf.expressions import ExpressionSampler, ExpressionSpec, format_answer
from arith_hf.metrics import METRIC_NAMES, SCORE_KEYS, STRATA, load_metric, metric_path, question_strata, score_answers
from arith_hf.metrics.exact_match import exact_match as exact_match_module
from arith_hf.metrics.numeric_difference import numeric_difference as numeric_difference_module
from arith_hf.tokenizer import EOS, IGNORE_INDEX, PAD, answer_to_target, build_tokenizer

MODULES = {"exact_match": exact_match_module, "numeric_difference": numeric_difference_module}


@pytest.fixture(scope="module")
def loaded():
    """Both metrics loaded the way users load them."""
    return {name: load_metric(name) for name in METRIC_NAMES}


# ---------------------------------------------------------------------------
# parsing numbers


@pytest.mark.parametrize(
    "text, value",
    [
        ("42", 42),
        ("-42", -42),
        ("+42", 42),
        ("007", 7),
        (" 12\n", 12),
        ("3.14", Fraction(314, 100)),
        ("-0.5000", Fraction(-1, 2)),
        ("29.00", 29),
        ("-7/2", Fraction(-7, 2)),
        ("6/4", Fraction(3, 2)),
        ("100000000000000000001", 100000000000000000001),
    ],
)
def test_parse_number_reads_exact_values(text, value):
    parsed = numeric_difference_module.parse_number(text)
    assert parsed == value
    # plain integers stay ints, the fast path of every sum and comparison
    assert isinstance(parsed, int) == bool(re.fullmatch(r"\s*[+-]?[0-9]+\s*", text))


@pytest.mark.parametrize(
    "text", ["abc", "", " ", "1+1", "1e5", ".5", "5.", "1/0", "7/-2", "1 000", "--5", "٣", "0x10", "inf", "nan", None]
)
def test_parse_number_rejects_what_is_not_a_number(text):
    assert numeric_difference_module.parse_number(text) is None


def test_parse_number_rejects_more_digits_than_int_converts():
    assert numeric_difference_module.parse_number("1" * (sys.get_int_max_str_digits() + 1)) is None


def test_both_modules_share_one_number_parser():
    # each evaluate module must be a single self-contained file, so the parser is copied; it must not drift
    assert inspect.getsource(exact_match_module.parse_number) == inspect.getsource(
        numeric_difference_module.parse_number
    )
    assert exact_match_module.NUMBER_PATTERN.pattern == numeric_difference_module.NUMBER_PATTERN.pattern
    assert exact_match_module.NUMBER_PATTERN.flags == numeric_difference_module.NUMBER_PATTERN.flags


@settings(max_examples=200, deadline=None)
@given(st.fractions(max_denominator=10**6).map(lambda v: v * 10**15))
def test_parse_number_reads_every_exact_answer_back(value):
    assert numeric_difference_module.parse_number(format_answer(value, "exact")) == value


@settings(max_examples=200, deadline=None)
@given(st.fractions(max_denominator=1000), st.integers(1, 6))
def test_parse_number_reads_decimal_answers_to_their_rounding(value, places):
    parsed = numeric_difference_module.parse_number(format_answer(value, "decimal", places))
    assert abs(parsed - value) <= Fraction(1, 2 * 10**places)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789+-*/(). e\n", max_size=12))
def test_parse_number_never_raises_and_agrees_with_fraction(text):
    parsed = numeric_difference_module.parse_number(text)
    if parsed is not None:
        assert parsed == Fraction(text.strip())


# ---------------------------------------------------------------------------
# C09 numbers compare as numbers


C09 = [
    ("1.0", "10", 9),
    ("3.14", "314", Fraction("310.86")),
    ("29.00", "29", 0),
    ("-7/2", "-3.5", 0),
    ("100000000000000000001", "100000000000000000000", 1),
]


@pytest.mark.parametrize("prediction, reference, difference", C09)
def test_c09_abs_difference_is_exact(prediction, reference, difference):
    differences, _ = numeric_difference_module.abs_differences([prediction], [reference])
    assert differences == [difference]
    results = numeric_difference_module.summarize(differences, [Fraction(reference)])
    assert results["total_abs_diff"] == float(difference)
    assert results["invalid"] == 0


def test_c09_through_evaluate_load(loaded):
    predictions, references, _ = zip(*C09, strict=True)
    results = loaded["numeric_difference"].compute(predictions=list(predictions), references=list(references))
    assert results["total_abs_diff"] == 320.86
    assert results["median_abs_diff"] == 1.0  # of 9, 310.86, 0, 0, 1
    assert results["mean_abs_diff"] == float(Fraction("320.86") / 5)
    assert results["count"] == 5 and results["invalid"] == 0


def test_c09_big_integers_are_not_rounded_through_float():
    # as floats both are 1e20 and the difference would vanish
    differences, _ = numeric_difference_module.abs_differences(["100000000000000000001"], ["100000000000000000000"])
    assert differences == [1]
    assert float(100000000000000000001) - float(100000000000000000000) == 0.0


def test_mean_rel_error_skips_zero_references():
    results = numeric_difference_module.summarize(
        *numeric_difference_module.abs_differences(["9", "4", "1"], ["10", "2", "0"])
    )
    assert results["mean_rel_error"] == pytest.approx((0.1 + 1.0) / 2)
    assert results["total_abs_diff"] == 4.0


def test_median_of_an_even_count_is_the_exact_mean_of_the_middle_pair():
    results = numeric_difference_module.summarize(
        *numeric_difference_module.abs_differences(["1", "1/3", "3", "10"], ["0"] * 4)
    )
    assert results["median_abs_diff"] == float(Fraction(2))
    results = numeric_difference_module.summarize(
        *numeric_difference_module.abs_differences(["1/3", "1/2"], ["0", "0"])
    )
    assert results["median_abs_diff"] == float(Fraction(5, 12))


def test_a_reference_that_is_not_a_number_is_an_error():
    with pytest.raises(ValueError, match=r"reference 1 is not a number: 'x'"):
        numeric_difference_module.abs_differences(["1", "2"], ["1", "x"])
    with pytest.raises(ValueError, match="reference 0 is not a number"):
        exact_match_module.exact_matches(["1"], ["one"], numeric=True)


def test_mismatched_lengths_are_an_error():
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        numeric_difference_module.abs_differences(["1", "2"], ["1"])
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        exact_match_module.exact_matches(["1", "2"], ["1"])


# ---------------------------------------------------------------------------
# C10 output that is not a number


C10 = [("abc", "5"), ("", "0"), ("1+1", "2")]


def test_c10_invalid_predictions_are_counted_and_add_nothing(loaded):
    predictions = [p for p, _ in C10] + ["7"]
    references = [r for _, r in C10] + ["5"]
    results = loaded["numeric_difference"].compute(predictions=predictions, references=references)
    # the rule: an invalid prediction has no difference; only the valid "7" vs "5" is measured
    assert results["invalid"] == 3
    assert results["invalid_rate"] == 0.75
    assert results["count"] == 4
    assert results["total_abs_diff"] == 2.0
    assert results["mean_abs_diff"] == 2.0  # not 0.5: invalid predictions are no differences of 0
    assert results["median_abs_diff"] == 2.0
    assert results["mean_rel_error"] == 0.4


def test_c10_only_invalid_predictions_leave_no_mean_or_median(loaded):
    predictions, references = zip(*C10, strict=True)
    results = loaded["numeric_difference"].compute(predictions=list(predictions), references=list(references))
    assert results["invalid"] == 3 and results["invalid_rate"] == 1.0
    assert results["total_abs_diff"] == 0.0
    assert math.isnan(results["mean_abs_diff"]) and math.isnan(results["median_abs_diff"])
    assert math.isnan(results["mean_rel_error"])


def test_c10_invalid_predictions_never_match(loaded):
    predictions, references = zip(*C10, strict=True)
    for numeric in (False, True):
        results = loaded["exact_match"].compute(
            predictions=list(predictions), references=list(references), numeric=numeric
        )
        assert results == {"exact_match": 0.0, "count": 3}


# ---------------------------------------------------------------------------
# exact match


@pytest.mark.parametrize(
    "prediction, reference, as_string, as_number",
    [
        ("4", "4", True, True),
        (" 12\n", "12", True, True),
        ("007", "7", False, True),
        ("29.00", "29", False, True),
        ("-7/2", "-3.5", False, True),
        ("6/4", "3/2", False, True),
        ("3.5", "3.5000", False, True),
        ("1 2", "12", False, False),
        ("-4", "4", False, False),
        ("100000000000000000001", "100000000000000000000", False, False),
        ("abc", "abc", True, None),  # as numbers, a reference that is not a number is an error
    ],
)
def test_exact_match_normalisation(prediction, reference, as_string, as_number):
    assert exact_match_module.exact_matches([prediction], [reference]) == [as_string]
    if as_number is None:
        with pytest.raises(ValueError):
            exact_match_module.exact_matches([prediction], [reference], numeric=True)
    else:
        assert exact_match_module.exact_matches([prediction], [reference], numeric=True) == [as_number]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["0", "1", "1.0", "2/2", "-1", "x", "", "3.5", "7/2", "1e0", " 1 "]), min_size=1))
def test_numeric_exact_match_is_a_numeric_difference_of_zero(predictions):
    references = ["1"] * len(predictions)
    matches = exact_match_module.exact_matches(predictions, references, numeric=True)
    differences, _ = numeric_difference_module.abs_differences(predictions, references)
    assert matches == [difference == 0 for difference in differences]


def test_exact_match_of_no_examples_is_nan():
    result = exact_match_module.summarize([])
    assert math.isnan(result["exact_match"]) and result["count"] == 0


# ---------------------------------------------------------------------------
# groups


def test_groups_report_each_group_as_its_own_subset(loaded):
    predictions = ["4", "9", "12", "x", "7/2"]
    references = ["4", "10", "12", "5", "3.5"]
    groups = ["+", "*", "*", "+", "/"]
    results = loaded["numeric_difference"].compute(predictions=predictions, references=references, groups=groups)
    assert list(results["groups"]) == ["+", "*", "/"]  # order of first appearance
    for group in results["groups"]:
        members = [i for i, g in enumerate(groups) if g == group]
        alone = loaded["numeric_difference"].compute(
            predictions=[predictions[i] for i in members], references=[references[i] for i in members]
        )
        assert results["groups"][group] == pytest.approx(alone, nan_ok=True)
    assert results["groups"]["+"]["invalid"] == 1 and results["groups"]["*"]["total_abs_diff"] == 1.0

    matches = loaded["exact_match"].compute(predictions=predictions, references=references, groups=groups)
    assert matches["groups"] == {
        "+": {"exact_match": 0.5, "count": 2},
        "*": {"exact_match": 0.5, "count": 2},
        "/": {"exact_match": 0.0, "count": 1},
    }
    assert matches["exact_match"] == 0.4


def test_groups_must_have_one_name_per_example(loaded):
    with pytest.raises(ValueError, match="got 1 groups for 2 examples"):
        loaded["exact_match"].compute(predictions=["1", "2"], references=["1", "2"], groups=["a"])
    with pytest.raises(ValueError, match="got 1 groups for 2 examples"):
        loaded["numeric_difference"].compute(predictions=["1", "2"], references=["1", "2"], groups=["a"])


# ---------------------------------------------------------------------------
# modules, cards and loading


@pytest.mark.parametrize("module", [exact_match_module, numeric_difference_module, metrics.strata])
def test_doctests_pass(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
    assert result.attempted >= 5


def _section(text: str, title: str, stop: str = r"^\S") -> str:
    """The lines after ``title`` up to the next line matching ``stop``."""
    lines = text.splitlines()
    start = lines.index(title) + 1
    end = next((i for i in range(start, len(lines)) if re.match(stop, lines[i])), len(lines))
    return "\n".join(lines[start:end])


def _documented(module) -> dict[str, list[str]]:
    """Argument and result names written in a module's usage docstring."""
    text = module._KWARGS_DESCRIPTION
    return {
        section: re.findall(r"^    (\w+) \(", _section(text, f"{section}:"), flags=re.M)
        for section in ("Args", "Returns")
    }


def _carded(name: str) -> dict[str, list[str]]:
    """Argument and result names written in a metric card."""
    card = (Path(metric_path(name)) / "README.md").read_text()
    return {
        section: re.findall(r"^- \*\*(\w+)\*\*", _section(card, heading, stop="^#"), flags=re.M)
        for section, heading in (("Args", "### Inputs"), ("Returns", "### Output Values"))
    }


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_card_documents_the_same_arguments_and_results_as_the_module(name, loaded):
    module = MODULES[name]
    documented = _documented(module)
    assert _carded(name) == documented
    metric_class = next(c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == module.__name__)
    parameters = [p for p in inspect.signature(metric_class._compute).parameters if p != "self"]
    assert documented["Args"] == parameters
    # the results a call with groups really returns
    results = loaded[name].compute(predictions=["1", "x"], references=["1", "2"], groups=["a", "b"])
    assert list(results) == documented["Returns"]
    assert list(results["groups"]["a"]) == [key for key in documented["Returns"] if key != "groups"]


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_card_has_evaluates_headings(name):
    card = (Path(metric_path(name)) / "README.md").read_text()
    headings = re.findall(r"^#+ .*$", card, flags=re.M)
    for heading in [
        "## Metric Description",
        "## How to Use",
        "### Inputs",
        "### Output Values",
        "### Examples",
        "## Limitations and Bias",
        "## Citation",
    ]:
        assert heading in headings


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_card_examples_run(name, loaded):
    card = (Path(metric_path(name)) / "README.md").read_text()
    blocks = re.findall(r"^```python\n(.*?)^```", _section(card, "### Examples", stop="^#"), flags=re.M | re.S)
    examples = doctest.DocTestParser().get_doctest("\n".join(blocks), {name: loaded[name]}, f"{name} card", None, 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(examples)
    assert runner.summarize(verbose=False).failed == 0
    assert len(examples.examples) >= 2


def test_load_metric_returns_the_evaluate_modules(loaded):
    assert loaded["exact_match"].name == "exact_match"
    assert loaded["numeric_difference"].name == "numeric_difference"
    assert load_metric("exact_match").compute(predictions=["2"], references=["2"]) == {"exact_match": 1.0, "count": 1}
    with pytest.raises(ValueError, match="unknown metric 'accuracy'"):
        load_metric("accuracy")


def test_metric_paths_are_the_packaged_files():
    for name in METRIC_NAMES:
        folder = Path(metric_path(name))
        assert folder.is_absolute()
        assert (folder / f"{name}.py").is_file() and (folder / "README.md").is_file()


@pytest.mark.parametrize("name", METRIC_NAMES)
def test_module_files_import_one_name_per_line_and_nothing_from_arith_hf(name):
    # evaluate copies the file alone and reads its imports line by line
    source = (Path(metric_path(name)) / f"{name}.py").read_text()
    imports = [line for line in source.splitlines() if re.match(r"(import|from) ", line)]
    assert imports and all("," not in line and " as " not in line for line in imports)
    assert not any("arith_hf" in line or line.startswith("from .") for line in imports)


def test_modules_load_offline_from_any_directory_without_arith_hf(tmp_path):
    script = f"""
import json, sys
sys.modules["arith_hf"] = None  # the copied module files must not need arith_hf
import evaluate
results = {{}}
for path in {[metric_path(name) for name in METRIC_NAMES]!r}:
    metric = evaluate.load(path)
    results[metric.name] = metric.compute(predictions=["29.00", "abc"], references=["29", "5"])
print(json.dumps(results))
"""
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_EVALUATE_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "HF_MODULES_CACHE": str(tmp_path / "modules"),
        "HF_HOME": str(tmp_path / "hf_home"),
    }
    work = tmp_path / "elsewhere"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert results["exact_match"] == {"exact_match": 0.0, "count": 2}
    assert results["numeric_difference"]["total_abs_diff"] == 0.0
    assert results["numeric_difference"]["invalid"] == 1
    # the modules were copied into the fresh module cache, away from the package
    assert list((tmp_path / "modules").rglob("numeric_difference.py"))


# ---------------------------------------------------------------------------
# C11 generated ids with -100 padding


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer.convert_tokens_to_ids(list(text))


def test_c11_decode_answers_maps_ignore_index_to_pad():
    tokenizer = build_tokenizer()
    pad, eos = tokenizer.convert_tokens_to_ids([PAD, EOS])
    # rows as a cross-process gather pads them: decoder start, answer, eos, then -100
    generated = [
        [pad, *_ids(tokenizer, "12"), eos, IGNORE_INDEX, IGNORE_INDEX],
        [pad, *_ids(tokenizer, "-7/2"), eos],
        [pad, *_ids(tokenizer, "4"), eos, pad, IGNORE_INDEX, IGNORE_INDEX],
    ]
    assert metrics.decode_answers is importlib.import_module("arith_hf.tokenizer").decode_answers
    answers, complete = metrics.decode_answers(tokenizer, generated, return_complete=True)
    assert answers == ["12", "-7/2", "4"]
    assert complete == [True, True, True]
    results = score_answers(["5+7", "-7/2", "2+2"], answers, ["12", "-7/2", "4"])
    assert results["overall"]["exact_match"] == 1.0 and results["overall"]["invalid"] == 0


def test_c11_decode_answers_with_ignore_index_inside_and_reverse_order():
    import torch

    tokenizer = build_tokenizer()
    pad, eos = tokenizer.convert_tokens_to_ids([PAD, EOS])
    target = answer_to_target("1234", "reverse")
    generated = torch.tensor(
        [
            [pad, *_ids(tokenizer, target), eos],
            [IGNORE_INDEX, *_ids(tokenizer, "85"), IGNORE_INDEX, IGNORE_INDEX, IGNORE_INDEX],
        ]
    )
    answers, complete = metrics.decode_answers(tokenizer, generated, answer_order="reverse", return_complete=True)
    assert answers == ["1234", "58"]
    assert complete == [True, False]  # the second row never produced eos: cut at the length limit


# ---------------------------------------------------------------------------
# C12 strata follow the operators actually present


@pytest.mark.parametrize(
    "question, strata",
    [
        ("3*4+5", ("mixed", 1, 3, 0)),
        ("3+4*5", ("mixed", 1, 3, 0)),
        ("12+345", ("+", 3, 2, 0)),
        ("12+345+6", ("+", 3, 3, 0)),
        ("-12--4", ("-", 2, 2, 0)),
        ("7*(-51)", ("*", 2, 2, 0)),
        ("100000/7", ("/", 6, 2, 0)),
        ("(3 + 4)*2", ("mixed", 1, 3, 1)),
        ("((1+2)+3)+4", ("+", 1, 4, 2)),
        ("-12345+1", ("+", 5, 2, 0)),
    ],
)
def test_c12_question_strata(question, strata):
    assert question_strata(question) == dict(zip(STRATA, strata, strict=True))


def test_c12_score_answers_counts_mixed_questions_as_mixed():
    results = score_answers(["3*4+5", "2+2", "3+4*5"], ["17", "4", "23"], ["17", "4", "23"], strata=["operator_class"])
    assert {value: scores["count"] for value, scores in results["by"]["operator_class"].items()} == {
        "+": 1,
        "mixed": 2,
    }


# ---------------------------------------------------------------------------
# score_answers


def test_score_answers_overall_and_by_stratum():
    questions = ["2+2", "10+90", "3*4+5", "9*9", "7/2", "(1+2)*3"]
    predictions = ["4", "99", "16", "abc", "7/2", "9"]
    references = ["4", "100", "17", "81", "7/2", "9"]
    results = score_answers(questions, predictions, references)
    assert results["overall"] == {
        "exact_match": 3 / 6,
        "total_abs_diff": 2.0,
        "mean_abs_diff": 2 / 5,
        "median_abs_diff": 0.0,
        "invalid": 1,
        "invalid_rate": 1 / 6,
        "count": 6,
    }
    assert list(results["by"]) == list(STRATA)
    by_operator = results["by"]["operator_class"]
    assert list(by_operator) == ["+", "*", "/", "mixed"]
    assert by_operator["+"]["exact_match"] == 0.5 and by_operator["+"]["total_abs_diff"] == 1.0
    assert by_operator["*"]["invalid"] == 1 and math.isnan(by_operator["*"]["mean_abs_diff"])
    assert by_operator["mixed"]["count"] == 2 and by_operator["mixed"]["total_abs_diff"] == 1.0
    assert list(results["by"]["max_digits"]) == ["1", "2"]
    assert results["by"]["max_digits"]["2"]["total_abs_diff"] == 1.0
    assert {value: s["count"] for value, s in results["by"]["num_operands"].items()} == {"2": 4, "3": 2}
    assert {value: s["count"] for value, s in results["by"]["depth"].items()} == {"0": 5, "1": 1}
    for scores in [results["overall"], *(s for stratum in results["by"].values() for s in stratum.values())]:
        assert list(scores) == list(SCORE_KEYS)


def test_score_answers_agrees_with_the_evaluate_modules(loaded):
    sampler = ExpressionSampler(ExpressionSpec(operators=("+", "-", "*", "/"), max_operands=3), seed=1)
    samples = [sampler.sample() for _ in range(300)]
    questions = [s.question for s in samples]
    references = [s.answer for s in samples]
    predictions = [a if i % 3 else a[:-1] or "?" for i, a in enumerate(references)]
    results = score_answers(questions, predictions, references)
    groups = [question_strata(q)["operator_class"] for q in questions]
    numeric = loaded["numeric_difference"].compute(predictions=predictions, references=references, groups=groups)
    exact = loaded["exact_match"].compute(predictions=predictions, references=references, groups=groups)
    for scores, expected_numeric, expected_exact in [
        (results["overall"], numeric, exact),
        *((results["by"]["operator_class"][g], numeric["groups"][g], exact["groups"][g]) for g in numeric["groups"]),
    ]:
        assert scores["exact_match"] == expected_exact["exact_match"]
        for key in ("total_abs_diff", "mean_abs_diff", "median_abs_diff", "invalid", "invalid_rate", "count"):
            assert scores[key] == pytest.approx(expected_numeric[key], nan_ok=True)


def test_score_answers_with_fewer_strata_and_bad_arguments():
    results = score_answers(["1+1"], ["2"], ["2"], strata=())
    assert results["by"] == {} and results["overall"]["exact_match"] == 1.0
    results = score_answers(["1+1", "22+1"], ["2", "23"], ["2", "23"], strata=("max_digits",))
    assert list(results["by"]) == ["max_digits"] and list(results["by"]["max_digits"]) == ["1", "2"]
    with pytest.raises(ValueError, match="unknown strata"):
        score_answers(["1+1"], ["2"], ["2"], strata=("operator",))
    with pytest.raises(ValueError, match="got 2 questions, 1 predictions and 1 references"):
        score_answers(["1+1", "1+2"], ["2"], ["2"])


def test_stratum_values_sort_as_numbers_and_operators():
    values = ["10", "mixed", "2", "/", "+", "1", "*", "-"]
    assert sorted(values, key=metrics.stratum_order) == ["+", "-", "*", "/", "mixed", "1", "2", "10"]


def test_score_answers_is_fast_on_tens_of_thousands_of_answers():
    sampler = ExpressionSampler(ExpressionSpec(operators=("+", "-", "*", "/")), seed=0)
    samples = [sampler.sample() for _ in range(20000)]
    references = [s.answer for s in samples]
    predictions = [a if i % 2 else a[:-1] or "?" for i, a in enumerate(references)]
    start = time.perf_counter()
    results = score_answers([s.question for s in samples], predictions, references)
    elapsed = time.perf_counter() - start
    assert results["overall"]["count"] == 20000
    assert elapsed < 6.0, f"score_answers took {elapsed:.2f} s for 20000 answers"  # about 1 s on one free core
