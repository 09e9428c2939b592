"""Tests of arith_hf.expressions: exact answers, parsing, question info and sampling statistics.

Run: .venv/bin/python -m pytest tests/test_expressions.py -q

Every generated answer is checked against an evaluator written here independently of the package:
Python's own parser (``ast``) builds the tree and a Fraction walk computes the value, so a shared
bug in arith_hf's tokenizer, parser or flat evaluator cannot hide itself.
"""

import ast
import math
import re
from collections import Counter
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arith_hf.expressions import (
    MIN_BUCKET_WEIGHT,
    OPERATORS,
    ExpressionError,
    ExpressionSampler,
    ExpressionSpec,
    describe,
    digit_buckets,
    evaluate,
    format_answer,
    parse,
    solve,
)

# ---------------------------------------------------------------------------
# the independent evaluator

_AST_OPERATORS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


def reference_value(question: str, division: str = "exact") -> Fraction:
    """Value of a question by Python's grammar (same precedence, and -3 binds tighter than *)."""

    def walk(node) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
            return -walk(node.operand)
        if isinstance(node, ast.BinOp) and type(node.op) in _AST_OPERATORS:
            left, right = walk(node.left), walk(node.right)
            operator = _AST_OPERATORS[type(node.op)]
            if operator == "+":
                return left + right
            if operator == "-":
                return left - right
            if operator == "*":
                return left * right
            assert right != 0, f"division by zero in {question!r}"
            return Fraction(math.floor(left / right)) if division == "floor" else left / right
        raise AssertionError(f"unexpected syntax {ast.dump(node)} in {question!r}")

    return walk(ast.parse(question, mode="eval").body)


def reference_info(question: str) -> tuple:
    """(operators in + - * / order, operand count, digits of the largest operand, parenthesis depth)."""
    tree = ast.parse(question, mode="eval")
    present = {_AST_OPERATORS[type(node.op)] for node in ast.walk(tree) if isinstance(node, ast.BinOp)}
    numbers = [node.value for node in ast.walk(tree) if isinstance(node, ast.Constant)]
    # (-51) is a literal, not a group: drop those before counting nesting
    depth = deepest = 0
    for char in re.sub(r"\(-\d+\)", "0", question):
        depth += char == "("
        depth -= char == ")"
        deepest = max(deepest, depth)
    return tuple(op for op in OPERATORS if op in present), len(numbers), len(str(max(numbers))), deepest


def canonical(question: str) -> str:
    """The split key: no spaces, negative literals bare."""
    return re.sub(r"\(-(\d+)\)", r"-\1", question.replace(" ", ""))


ANSWER_PATTERNS = {
    "exact": re.compile(r"-?(0|[1-9]\d*)(/[1-9]\d*)?"),
    "floor": re.compile(r"-?(0|[1-9]\d*)"),
}


def check_answer(question: str, answer: str, spec: ExpressionSpec) -> None:
    value = reference_value(question, spec.division)
    assert "e" not in answer.lower() and answer != "-0", answer
    if spec.division == "decimal" and value.denominator != 1:
        assert re.fullmatch(rf"-?(0|[1-9]\d*)\.\d{{{spec.decimal_places}}}", answer), answer
        assert abs(Fraction(answer) - value) <= Fraction(1, 2 * 10**spec.decimal_places), (question, answer)
    else:
        pattern = ANSWER_PATTERNS["floor" if spec.division != "exact" else "exact"]
        assert pattern.fullmatch(answer), (question, answer)
        assert Fraction(answer) == value, (question, answer, value)
        if "/" in answer:  # reduced, denominator > 1, sign on the numerator
            numerator, denominator = (int(part) for part in answer.split("/"))
            assert math.gcd(numerator, denominator) == 1 and denominator > 1


# ---------------------------------------------------------------------------
# property-based: every sampled answer against the reference


@st.composite
def specs(draw) -> ExpressionSpec:
    max_operand = draw(st.sampled_from([1, 9, 99, 12345, 10**7]))
    min_operands = draw(st.integers(1, 4))
    max_parens = draw(st.integers(0, 3))
    return ExpressionSpec(
        min_operand=draw(st.integers(0, max_operand)),
        max_operand=max_operand,
        operators=tuple(draw(st.lists(st.sampled_from(OPERATORS), min_size=1, max_size=4, unique=True))),
        min_operands=min_operands,
        max_operands=draw(st.integers(min_operands, 6)),
        max_parens=max_parens,
        max_depth=draw(st.integers(1, 3)) if max_parens else 0,
        sampling=draw(st.sampled_from(["uniform", "digits", "log_uniform"])),
        negative_prob=draw(st.sampled_from([0.0, 0.3, 1.0])),
        spacing=draw(st.sampled_from(["none", "spaces"])),
        division=draw(st.sampled_from(["exact", "decimal", "floor"])),
        decimal_places=draw(st.integers(1, 6)),
    )


@settings(max_examples=150, deadline=None)
@given(spec=specs(), seed=st.integers(0, 2**32))
def test_sampled_answers_match_reference(spec, seed):
    sampler = ExpressionSampler(spec, seed)
    for _ in range(15):
        sample = sampler.sample()
        check_answer(sample.question, sample.answer, spec)
        # arith_hf's own evaluator agrees on the question as written and on its key
        assert solve(sample.question, spec.division, spec.decimal_places) == sample.answer
        assert sample.key == canonical(sample.question)
        assert reference_value(sample.key, spec.division) == reference_value(sample.question, spec.division)
        info = sample.info
        assert (info.operators, info.num_operands, info.max_digits, info.depth) == reference_info(sample.question)
        assert describe(sample.question) == info
        # the distribution's promises
        assert spec.min_operands <= info.num_operands <= spec.max_operands
        assert info.depth <= spec.max_depth
        assert re.sub(r"\(-\d+\)", "0", sample.question).count("(") <= spec.max_parens
        assert len(sample.question) <= spec.max_question_length()
        assert len(sample.answer) <= spec.max_answer_length()
        assert set(info.operators) <= set(spec.operators)


@settings(max_examples=200, deadline=None)
@given(
    numerator=st.integers(-(10**30), 10**30),
    denominator=st.integers(1, 10**6),
    places=st.integers(1, 8),
)
def test_decimal_format_rounds_half_away_from_zero(numerator, denominator, places):
    value = Fraction(numerator, denominator)
    answer = format_answer(value, "decimal", places)
    if value.denominator == 1:
        assert answer == str(value.numerator)
        return
    scaled = abs(value) * 10**places
    magnitude = math.floor(scaled) + (scaled - math.floor(scaled) >= Fraction(1, 2))
    expected = Fraction(magnitude, 10**places) * (1 if value > 0 else -1)
    assert Fraction(answer) == expected
    assert re.fullmatch(rf"-?\d+\.\d{{{places}}}", answer) and answer != "-0." + "0" * places


# ---------------------------------------------------------------------------
# exact answers (C13)


@pytest.mark.parametrize(
    "question, division, places, answer",
    [
        ("10000000000*10000000000", "exact", 4, "100000000000000000000"),
        ("99999*99999", "exact", 4, "9999800001"),
        ("7/2", "exact", 4, "7/2"),
        ("7/2", "decimal", 4, "3.5000"),
        ("7/2", "floor", 4, "3"),
        ("-7/2", "exact", 4, "-7/2"),
        ("7/-2", "exact", 4, "-7/2"),
        ("-7/2", "floor", 4, "-4"),
        ("-7/2", "decimal", 4, "-3.5000"),
        ("6/4", "exact", 4, "3/2"),
        ("8/4", "decimal", 4, "2"),
        ("1/8", "decimal", 2, "0.13"),
        ("-1/8", "decimal", 2, "-0.13"),
        ("1/3", "decimal", 4, "0.3333"),
        ("2/3", "decimal", 4, "0.6667"),
        ("-1/30000", "decimal", 4, "0.0000"),
        ("3/10+2/10", "exact", 4, "1/2"),
        ("1/10+2/10", "decimal", 4, "0.3000"),
        ("10000000000*10000000000/3", "decimal", 4, "33333333333333333333.3333"),
        ("2-3/7", "floor", 4, "2"),
        ("14+7623-8/(-7139)", "floor", 4, "7638"),
    ],
)
def test_exact_answers(question, division, places, answer):
    assert solve(question, division, places) == answer
    check_answer(question, answer, ExpressionSpec(operators=OPERATORS, division=division, decimal_places=places))


# ---------------------------------------------------------------------------
# parsing edge cases


@pytest.mark.parametrize(
    "question, value, depth",
    [
        ("-3+4", 1, 0),
        ("2*-3", -6, 0),
        ("3--4", 7, 0),
        ("3 - -4", 7, 0),
        ("(-51)", -51, 0),
        ("2*(-51)", -102, 0),
        ("(-5+3)*2", -4, 1),
        ("((1+2)*(3+4))", 21, 2),
        ("  12 +  345 ", 357, 0),
        ("007+5", 12, 0),
        ("2*3+4*5", 26, 0),
        ("2-3-4", -5, 0),
        ("24/4/2", 3, 0),
    ],
)
def test_parse_edge_cases(question, value, depth):
    assert evaluate(question) == value
    assert describe(question).depth == depth


@pytest.mark.parametrize(
    "question, message, position",
    [
        ("", "empty question", None),
        ("-(3+4)", "unary minus", 0),
        ("3+", "missing operand", 2),
        ("(3+4", "missing ')'", 4),
        ("3+4)", "unexpected ')'", 3),
        ("7×8", "unexpected character", 1),
        ("2^3", "unexpected character", 1),
        ("1/0", "division by zero", 1),
        ("5/(3-3)", "division by zero", 1),
    ],
)
def test_parse_errors_name_the_position(question, message, position):
    with pytest.raises(ExpressionError, match=re.escape(message)) as error:
        evaluate(question)
    assert error.value.position == position


def test_describe_classifies_mixed_questions():
    assert describe("3*4+5").operator_class == "mixed"
    assert describe("3+4+5").operator_class == "+"
    assert describe("3*-4").operators == ("*",)
    assert describe("3*-4").max_digits == 1 and describe("-12345+6").max_digits == 5


def test_parse_keeps_groups():
    tree = parse("(1+2)*3")
    assert tree.operator == "*" and tree.left.inner.operator == "+"


# ---------------------------------------------------------------------------
# spec validation


@pytest.mark.parametrize(
    "field, value",
    [
        ("max_operand", "9"),
        ("max_operand", 9.5),
        ("min_operand", -1),
        ("operators", ("+", "^")),
        ("operators", ()),
        ("operators", 5),
        ("min_operands", 0),
        ("max_operands", True),
        ("max_parens", -1),
        ("max_depth", 2),  # with max_parens 0
        ("sampling", "gauss"),
        ("negative_prob", 1.5),
        ("negative_prob", "often"),
        ("spacing", "tabs"),
        ("division", "round"),
        ("decimal_places", 0),
    ],
)
def test_bad_spec_names_the_field(field, value):
    with pytest.raises(ValueError, match=field):
        ExpressionSpec(**{field: value})


def test_spec_normalises_operator_strings():
    assert ExpressionSpec(operators="+-*/").operators == OPERATORS
    assert ExpressionSpec(operators=["*"]).operators == ("*",)


# ---------------------------------------------------------------------------
# sampling


def operand_digit_shares(spec: ExpressionSpec, n: int = 4000, seed: int = 0) -> dict[int, float]:
    sampler = ExpressionSampler(spec, seed)
    counts = Counter()
    for _ in range(n):
        for operand in re.findall(r"\d+", sampler.sample().question):
            counts[len(operand)] += 1
    total = sum(counts.values())
    return {digits: counts[digits] / total for digits in range(1, 7)}


def test_digit_sampling_balances_digit_counts():
    # digits: 1- and 2-digit operands as common as 5-digit ones (C17); 100000 itself is rare, but present
    shares = operand_digit_shares(ExpressionSpec(max_operand=100000, sampling="digits"), n=10000)
    for digits in range(1, 6):
        assert 0.17 < shares[digits] < 0.23, shares
    # the lone 6-digit bucket weighs 0.01 against 1 for each of five full buckets: 0.2% of operands
    assert 0.001 < shares[6] < 0.0035, shares


def test_digit_buckets_weigh_partial_buckets_by_their_fill_with_a_floor():
    assert digit_buckets(0, 100000) == [
        (0, 9, 1.0),
        (10, 99, 1.0),
        (100, 999, 1.0),
        (1000, 9999, 1.0),
        (10000, 99999, 1.0),
        (100000, 100000, MIN_BUCKET_WEIGHT),
    ]
    # a bucket half full weighs a half; 1..9 holds 9 of the 10 one-digit numbers
    assert digit_buckets(1, 549) == [(1, 9, 0.9), (10, 99, 1.0), (100, 549, 0.5)]


def test_uniform_sampling_makes_small_operands_rare():
    shares = operand_digit_shares(ExpressionSpec(max_operand=100000, sampling="uniform"))
    assert shares[1] + shares[2] < 0.005, shares
    assert shares[5] > 0.85


def test_log_uniform_sampling_spreads_over_digit_counts():
    shares = operand_digit_shares(ExpressionSpec(max_operand=100000, sampling="log_uniform"))
    # log(1 + x) uniform: each digit count gets about log(10)/log(100001) = 20%, slightly more for 1 digit
    for digits in range(1, 6):
        assert 0.14 < shares[digits] < 0.27, shares


@pytest.mark.parametrize("sampling", ["uniform", "digits", "log_uniform"])
def test_every_operand_in_range_is_reachable(sampling):
    sampler = ExpressionSampler(ExpressionSpec(min_operand=2, max_operand=5, sampling=sampling), 0)
    seen = Counter(sampler.operand() for _ in range(4000))
    assert set(seen) == {2, 3, 4, 5}


def test_small_questions_are_common_in_addition():
    # C17: with the default sampling, questions such as 5+2, 7+90 and 57+15 are a sizeable share
    sampler = ExpressionSampler(ExpressionSpec(max_operand=100000), 0)
    small = sum(sample.info.max_digits <= 2 for sample in (sampler.sample() for _ in range(5000)))
    assert small / 5000 > 0.12  # (2/5)^2 = 16% expected


def test_negative_literals_spacing_and_formats():
    spec = ExpressionSpec(
        max_operand=99, operators=OPERATORS, max_operands=4, negative_prob=0.5, spacing="spaces", division="floor"
    )
    sampler = ExpressionSampler(spec, 1)
    samples = [sampler.sample() for _ in range(500)]
    questions = " ".join(sample.question for sample in samples)
    assert "(-" in questions  # parenthesised negative literal
    assert re.search(r"[-+*/] -\d", questions)  # bare negative literal after an operator
    assert all(" " not in sample.key for sample in samples)
    assert all(re.fullmatch(r"-?\d+", sample.answer) for sample in samples)
    for sample in samples:
        # spaces only around binary operators: operand, operator, operand, ...
        tokens = sample.question.split(" ")
        assert all(re.fullmatch(r"-?\d+|\(-\d+\)", token) for token in tokens[0::2]), sample.question
        assert all(token in OPERATORS for token in tokens[1::2]), sample.question
        check_answer(sample.question, sample.answer, spec)


def test_division_by_zero_never_appears():
    spec = ExpressionSpec(max_operand=2, operators=("-", "/"), max_operands=5, max_parens=2, max_depth=2)
    sampler = ExpressionSampler(spec, 0)
    for _ in range(2000):
        evaluate(sampler.sample().question)  # raises on a zero divisor


def test_sampler_is_deterministic_per_seed():
    spec = ExpressionSpec(max_operand=999, operators=OPERATORS, max_operands=5, max_parens=2, max_depth=2)
    first, again, other = (ExpressionSampler(spec, seed) for seed in (7, 7, 8))
    questions = [first.sample() for _ in range(200)]
    assert questions == [again.sample() for _ in range(200)]
    assert questions != [other.sample() for _ in range(200)]
