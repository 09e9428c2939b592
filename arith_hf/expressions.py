"""Exact arithmetic: sample questions, evaluate them with rationals, format their answers.

This module is the exact core of arith_hf and imports nothing from the rest of the package.

A question is a string such as ``43800+98800``, ``3 * (4 - -2)`` or ``12/(-5)``. Its grammar:

    expression := term (("+" | "-") term)*
    term       := factor (("*" | "/") factor)*
    factor     := number | "(" expression ")"
    number     := digits | "-" digits | "(" "-" digits ")"

Spaces may stand between tokens. A minus sign is a negative literal's sign when it opens an operand
(``-3``, ``2*-3``, ``3--4``, ``(-51)``); ``(-51)`` is a literal, not a parenthesised group, so it adds
nothing to the parenthesis depth. No other unary minus exists: ``-(3+4)`` is an error.

Evaluation is exact with :class:`fractions.Fraction`; nothing here goes through ``float`` or ``eval``.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
import random
from dataclasses import dataclass
from fractions import Fraction

OPERATORS = ("+", "-", "*", "/")
# every character a question or an answer can hold
ALPHABET = "0123456789+-*/(). "
DIVISION_FORMATS = ("exact", "decimal", "floor")
SAMPLING_MODES = ("uniform", "digits", "log_uniform")
SPACING_MODES = ("none", "spaces")
# operator class for strata: the single operator present, or "mixed"
MIXED = "mixed"


class ExpressionError(ValueError):
    """A question that cannot be parsed or evaluated; ``position`` is the 0-based character index."""

    def __init__(self, message: str, question: str, position: int | None = None):
        where = f" at position {position}" if position is not None else ""
        super().__init__(f"{message}{where} in {question!r}")
        self.question = question
        self.position = position


# ---------------------------------------------------------------------------
# Parsing


@dataclass(frozen=True)
class Token:
    kind: str  # "num", "op", "(", ")"
    text: str
    position: int
    value: int = 0


def tokenize(question: str) -> list[Token]:
    """Split a question into tokens; negative literals become one ``num`` token."""
    tokens: list[Token] = []
    i, n = 0, len(question)

    def operand_expected() -> bool:
        return not tokens or tokens[-1].kind in ("op", "(")

    def read_digits(start: int) -> int:
        end = start
        while end < n and question[end].isascii() and question[end].isdigit():
            end += 1
        return end

    while i < n:
        char = question[i]
        if char == " ":
            i += 1
        elif char.isascii() and char.isdigit():
            end = read_digits(i)
            tokens.append(Token("num", question[i:end], i, int(question[i:end])))
            i = end
        elif (
            char == "-"
            and operand_expected()
            and i + 1 < n
            and question[i + 1].isascii()
            and question[i + 1].isdigit()
        ):
            end = read_digits(i + 1)
            tokens.append(Token("num", question[i:end], i, -int(question[i + 1 : end])))
            i = end
        elif char == "(" and question.startswith("(-", i) and operand_expected():
            end = read_digits(i + 2)
            if end > i + 2 and end < n and question[end] == ")":
                tokens.append(Token("num", question[i : end + 1], i, -int(question[i + 2 : end])))
                i = end + 1
            else:
                tokens.append(Token("(", char, i))
                i += 1
        elif char in OPERATORS:
            tokens.append(Token("op", char, i))
            i += 1
        elif char in "()":
            tokens.append(Token(char, char, i))
            i += 1
        else:
            raise ExpressionError(f"unexpected character {char!r}", question, i)
    return tokens


@dataclass(frozen=True)
class Number:
    value: int
    text: str


@dataclass(frozen=True)
class BinaryOp:
    operator: str
    left: Node
    right: Node
    position: int


@dataclass(frozen=True)
class Group:
    inner: Node


Node = Number | BinaryOp | Group


class _Parser:
    def __init__(self, question: str):
        self.question = question
        self.tokens = tokenize(question)
        self.index = 0

    def peek(self) -> Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def fail(self, message: str, token: Token | None) -> ExpressionError:
        position = token.position if token is not None else len(self.question)
        return ExpressionError(message, self.question, position)

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError("empty question", self.question)
        node = self.expression()
        if (token := self.peek()) is not None:
            raise self.fail(f"unexpected {token.text!r}", token)
        return node

    def binary(self, operators: str, operand) -> Node:
        node = operand()
        while (token := self.peek()) is not None and token.kind == "op" and token.text in operators:
            self.index += 1
            node = BinaryOp(token.text, node, operand(), token.position)
        return node

    def expression(self) -> Node:
        return self.binary("+-", self.term)

    def term(self) -> Node:
        return self.binary("*/", self.factor)

    def factor(self) -> Node:
        token = self.peek()
        if token is None:
            raise self.fail("missing operand", None)
        self.index += 1
        if token.kind == "num":
            return Number(token.value, token.text)
        if token.kind == "(":
            inner = self.expression()
            closing = self.peek()
            if closing is None or closing.kind != ")":
                raise self.fail("missing ')'", closing)
            self.index += 1
            return Group(inner)
        if token.text == "-":
            raise self.fail("a unary minus may only stand before a number", token)
        raise self.fail(f"expected an operand, found {token.text!r}", token)


def parse(question: str) -> Node:
    """Parse a question into a tree of :class:`Number`, :class:`BinaryOp` and :class:`Group`."""
    return _Parser(question).parse()


# ---------------------------------------------------------------------------
# Evaluation and answers


def _check_division(division: str) -> None:
    if division not in DIVISION_FORMATS:
        raise ValueError(f"division must be one of {DIVISION_FORMATS}, got {division!r}")


def evaluate(question: str | Node, division: str = "exact") -> Fraction:
    """The exact value of a question. With ``division="floor"`` every ``/`` rounds down (``-7/2`` is -4)."""
    _check_division(division)
    text = question if isinstance(question, str) else ""
    node = parse(question) if isinstance(question, str) else question

    def value(node: Node) -> Fraction:
        if isinstance(node, Number):
            return Fraction(node.value)
        if isinstance(node, Group):
            return value(node.inner)
        left, right = value(node.left), value(node.right)
        if node.operator == "+":
            return left + right
        if node.operator == "-":
            return left - right
        if node.operator == "*":
            return left * right
        if right == 0:
            raise ExpressionError("division by zero", text, node.position if text else None)
        quotient = left / right
        return Fraction(math.floor(quotient)) if division == "floor" else quotient

    return value(node)


def format_answer(value: Fraction | int, division: str = "exact", decimal_places: int = 4) -> str:
    """Write an exact value as an answer string, never in scientific notation.

    - ``exact``: an integer (``-12``) or a reduced fraction with the sign on the numerator (``-7/2``).
    - ``decimal``: an integer as an integer; any other value with exactly ``decimal_places`` places,
      rounded half away from zero (``7/2`` -> ``3.5000``, ``-1/8`` with 2 places -> ``-0.13``).
      A value that rounds to zero is written without a sign (``0.0000``).
    - ``floor``: the value must already be an integer (floor division keeps it one).
    """
    _check_division(division)
    if type(value) is int:  # the common case: skip building a Fraction
        return str(value)
    value = Fraction(value)
    if value.denominator == 1:
        return str(value.numerator)
    if division == "exact":
        return f"{value.numerator}/{value.denominator}"
    if division == "floor":
        raise ValueError(f"floor division answers are integers, got {value}")
    if decimal_places < 1:
        raise ValueError(f"decimal_places must be >= 1, got {decimal_places}")
    scaled = abs(value) * 10**decimal_places
    rounded = math.floor(scaled + Fraction(1, 2))  # half away from zero, on the magnitude
    whole, fraction = divmod(rounded, 10**decimal_places)
    sign = "-" if value < 0 and rounded else ""
    return f"{sign}{whole}.{fraction:0{decimal_places}d}"


def solve(question: str, division: str = "exact", decimal_places: int = 4) -> str:
    """The answer string of a question: :func:`evaluate` then :func:`format_answer`."""
    return format_answer(evaluate(question, division), division, decimal_places)


# ---------------------------------------------------------------------------
# What stratified evaluation needs to know about a question


@dataclass(frozen=True)
class QuestionInfo:
    operators: tuple[str, ...]  # the binary operators present, in OPERATORS order
    num_operands: int
    max_digits: int  # digits of the operand with the largest magnitude
    depth: int  # deepest nesting of grouping parentheses

    @property
    def operator_class(self) -> str:
        """``+``, ``-``, ``*`` or ``/`` when only that operator is present, else ``mixed``."""
        return self.operators[0] if len(self.operators) == 1 else MIXED


def describe(question: str | Node) -> QuestionInfo:
    """Operators, operand count, largest operand's digit count and parenthesis depth of a question."""
    node = parse(question) if isinstance(question, str) else question
    operators: set[str] = set()
    magnitudes: list[int] = []

    def walk(node: Node, depth: int) -> int:
        if isinstance(node, Number):
            magnitudes.append(abs(node.value))
            return depth
        if isinstance(node, Group):
            return walk(node.inner, depth + 1)
        operators.add(node.operator)
        return max(walk(node.left, depth), walk(node.right, depth))

    depth = walk(node, 0)
    return QuestionInfo(
        operators=tuple(op for op in OPERATORS if op in operators),
        num_operands=len(magnitudes),
        max_digits=len(str(max(magnitudes))),
        depth=depth,
    )


# ---------------------------------------------------------------------------
# Sampling


def digit_count(n: int) -> int:
    return len(str(abs(n)))


# Least weight of a digit-count bucket, relative to a full one (see digit_buckets).
MIN_BUCKET_WEIGHT = 0.01


def digit_buckets(low: int, high: int) -> list[tuple[int, int, float]]:
    """Ranges of equal digit count inside [low, high], each weighted by how full it is, with a floor.

    A bucket that holds only part of its digit count (100000 alone in 0..100000) gets a weight equal to
    that part, so a lone 100000 is not drawn as often as all 5-digit numbers together, but never less
    than :data:`MIN_BUCKET_WEIGHT`, so the edge of the range is still learned. Without the floor 100000
    came up in 1 operand of 4.5 million, and a model trained on 1.5 million additions answered
    ``100000+16644`` with ``16644``; with it, about 1 operand in 500 is 100000.

    >>> digit_buckets(0, 100000)[-2:]
    [(10000, 99999, 1.0), (100000, 100000, 0.01)]
    """
    buckets = []
    for digits in range(digit_count(low), digit_count(high) + 1):
        first, last = (0 if digits == 1 else 10 ** (digits - 1)), 10**digits - 1
        start, end = max(first, low), min(last, high)
        if start <= end:
            buckets.append((start, end, max((end - start + 1) / (last - first + 1), MIN_BUCKET_WEIGHT)))
    return buckets


@dataclass(frozen=True)
class Sample:
    question: str
    answer: str
    key: str  # canonical question (no spaces, bare negative literals): what splits are decided on
    info: QuestionInfo


@dataclass(frozen=True)
class ExpressionSpec:
    """The distribution of questions: every knob of a corpus that shapes its examples.

    Args:
        min_operand (`int`, defaults to 0): smallest operand magnitude, >= 0.
        max_operand (`int`, defaults to 100000): largest operand magnitude.
        operators (`tuple[str]`, defaults to ``("+",)``): binary operators drawn uniformly.
        min_operands, max_operands (`int`, default 2): number of operands, drawn uniformly in the range.
        max_parens (`int`, defaults to 0): most pairs of grouping parentheses in a question.
        max_depth (`int`, defaults to 0): deepest nesting of those parentheses.
        sampling (`str`, defaults to ``"digits"``): ``uniform`` over the range; ``digits`` draws the digit
            count first, then a value of that many digits, so 2-digit operands are as common as 5-digit
            ones; ``log_uniform`` draws ``log(1 + operand)`` uniformly.
        negative_prob (`float`, defaults to 0): chance that a non-zero operand is written negative.
        spacing (`str`, defaults to ``"none"``): ``none`` writes ``3+4``, ``spaces`` writes ``3 + 4``.
        division (`str`, defaults to ``"exact"``): answer format of ``/``, see :func:`format_answer`.
        decimal_places (`int`, defaults to 4): places of ``decimal`` answers.
    """

    min_operand: int = 0
    max_operand: int = 100000
    operators: tuple[str, ...] = ("+",)
    min_operands: int = 2
    max_operands: int = 2
    max_parens: int = 0
    max_depth: int = 0
    sampling: str = "digits"
    negative_prob: float = 0.0
    spacing: str = "none"
    division: str = "exact"
    decimal_places: int = 4

    def __post_init__(self):
        problems = []
        # types first: a string or float from a command line would otherwise fail deep inside the sampler
        for name in ("min_operand", "max_operand", "min_operands", "max_operands", "max_parens", "max_depth"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                problems.append(f"{name} must be an integer, got {value!r}")
            else:
                object.__setattr__(self, name, int(value))
        if isinstance(self.decimal_places, bool) or not isinstance(self.decimal_places, numbers.Integral):
            problems.append(f"decimal_places must be an integer, got {self.decimal_places!r}")
        if isinstance(self.negative_prob, bool) or not isinstance(self.negative_prob, numbers.Real):
            problems.append(f"negative_prob must be a number, got {self.negative_prob!r}")
        else:  # 0 and 0.0 are one spec
            object.__setattr__(self, "negative_prob", float(self.negative_prob))
        if isinstance(self.operators, (str, list, tuple)):
            object.__setattr__(self, "operators", tuple(self.operators))
        else:
            problems.append(f"operators must be a sequence of operator strings, got {self.operators!r}")
        if problems:
            raise ValueError("invalid expression spec: " + "; ".join(problems))
        if not 0 <= self.min_operand <= self.max_operand:
            problems.append(f"need 0 <= min_operand <= max_operand, got {self.min_operand}..{self.max_operand}")
        if not self.operators or any(op not in OPERATORS for op in self.operators):
            problems.append(f"operators must be a non-empty subset of {OPERATORS}, got {self.operators}")
        if len(set(self.operators)) != len(self.operators):
            problems.append(f"operators repeat: {self.operators}")
        if not 1 <= self.min_operands <= self.max_operands:
            problems.append(f"need 1 <= min_operands <= max_operands, got {self.min_operands}..{self.max_operands}")
        if self.max_parens < 0 or self.max_depth < 0:
            problems.append(f"max_parens and max_depth must be >= 0, got {self.max_parens}, {self.max_depth}")
        if (self.max_parens == 0) != (self.max_depth == 0):
            problems.append(
                f"max_parens and max_depth must both be 0 or both be > 0, got {self.max_parens}, {self.max_depth}"
            )
        if self.sampling not in SAMPLING_MODES:
            problems.append(f"sampling must be one of {SAMPLING_MODES}, got {self.sampling!r}")
        if not 0 <= self.negative_prob <= 1:
            problems.append(f"negative_prob must be in [0, 1], got {self.negative_prob}")
        if self.spacing not in SPACING_MODES:
            problems.append(f"spacing must be one of {SPACING_MODES}, got {self.spacing!r}")
        if self.division not in DIVISION_FORMATS:
            problems.append(f"division must be one of {DIVISION_FORMATS}, got {self.division!r}")
        if self.decimal_places < 1:
            problems.append(f"decimal_places must be >= 1, got {self.decimal_places}")
        if self.operators == ("/",) and self.max_operand == 0:
            problems.append("'/' with operands 0..0 has no question without a division by zero")
        if problems:
            raise ValueError("invalid expression spec: " + "; ".join(problems))

    # -- sizes ------------------------------------------------------------------------------------

    def max_answer_length(self) -> int:
        """Characters of the longest answer this distribution can produce (a sound upper bound)."""
        m = max(self.max_operand, 1)
        # (largest |numerator|, largest denominator) of a value built from k operands
        bound: dict[int, tuple[int, int]] = {1: (m, 1)}
        for k in range(2, self.max_operands + 1):
            numerator, denominator = 0, 1
            for i in range(1, k):
                (n1, d1), (n2, d2) = bound[i], bound[k - i]
                for op in self.operators:
                    if op in "+-":
                        candidate = (n1 * d2 + n2 * d1, d1 * d2)
                    elif op == "*":
                        candidate = (n1 * n2, d1 * d2)
                    elif self.division == "floor":
                        candidate = (n1 * d2, 1)
                    else:
                        candidate = (n1 * d2, d1 * n2)
                    numerator, denominator = max(numerator, candidate[0]), max(denominator, candidate[1])
            bound[k] = (numerator, denominator)
        numerator, denominator = bound[self.max_operands]
        sign = 1 if (self.negative_prob > 0 or "-" in self.operators) else 0
        if denominator == 1:
            return sign + digit_count(numerator)
        if self.division == "exact":
            return sign + digit_count(numerator) + 1 + digit_count(denominator)
        return sign + digit_count(numerator) + 1 + self.decimal_places

    def max_question_length(self) -> int:
        """Characters of the longest question this distribution can produce."""
        operand = digit_count(self.max_operand) + (3 if self.negative_prob > 0 else 0)  # "(-" and ")"
        operator = 3 if self.spacing == "spaces" else 1
        n = self.max_operands
        return n * operand + (n - 1) * operator + 2 * self.max_parens

    def sample_space_size(self) -> int:
        """Number of distinct canonical questions, or an upper bound on it when parentheses are allowed."""
        values = self.max_operand - self.min_operand + 1
        if self.negative_prob > 0:
            values += self.max_operand - max(self.min_operand, 1) + 1
        total = 0
        for n in range(self.min_operands, self.max_operands + 1):
            shapes = 1
            if self.max_parens and n > 2:
                # every subset of the n*(n-1)/2 - 1 proper spans is an upper bound on the bracketings
                shapes = 2 ** (n * (n - 1) // 2 - 1)
            total += values**n * len(self.operators) ** (n - 1) * shapes
        return total


class ExpressionSampler:
    """Draws :class:`Sample` s from an :class:`ExpressionSpec` with a seeded ``random.Random``."""

    # draws allowed for one question before giving up (division by zero is the only reason to redraw)
    MAX_REDRAWS = 1000

    def __init__(self, spec: ExpressionSpec, seed: int | str | None = None):
        self.spec = spec
        self.rng = random.Random(seed)
        self._buckets = digit_buckets(spec.min_operand, spec.max_operand)
        # cumulative weights once, not on every draw as rng.choices(weights=...) would
        self._bucket_cum_weights = list(itertools.accumulate(weight for _, _, weight in self._buckets))
        self._bucket_total = self._bucket_cum_weights[-1]
        # log(1 + x) uniform on [log1p(min), log1p(max + 1)), then floored: every x in the range is reachable
        self._log_range = (math.log1p(spec.min_operand), math.log1p(spec.max_operand + 1))

    def operand(self) -> int:
        spec, rng = self.spec, self.rng
        if spec.sampling == "uniform":
            value = rng.randint(spec.min_operand, spec.max_operand)
        elif spec.sampling == "digits":
            # the draw rng.choices makes, without building a one-element list per operand
            index = bisect.bisect(
                self._bucket_cum_weights, rng.random() * self._bucket_total, 0, len(self._buckets) - 1
            )
            low, high, _ = self._buckets[index]
            value = rng.randint(low, high)
        else:
            value = math.floor(math.expm1(rng.uniform(*self._log_range)))
            value = min(max(value, spec.min_operand), spec.max_operand)
        if value and spec.negative_prob and rng.random() < spec.negative_prob:
            value = -value
        return value

    def _spans(self, n: int) -> list[tuple[int, int]]:
        """Nested or disjoint operand spans to wrap in parentheses, within max_parens and max_depth."""
        spec, rng = self.spec, self.rng
        if not spec.max_parens or n < 3:
            return []
        wanted = rng.randint(0, spec.max_parens)
        spans: list[tuple[int, int]] = []
        for _ in range(4 * wanted):
            if len(spans) == wanted:
                break
            i = rng.randint(0, n - 2)
            j = rng.randint(i + 1, n - 1)
            if (i, j) == (0, n - 1) or (i, j) in spans:
                continue
            if any(a < i <= b < j or i < a <= j < b for a, b in spans):
                continue  # crossing spans
            candidate = [*spans, (i, j)]
            deepest = max(sum(a <= x and y <= b for a, b in candidate) for x, y in candidate)
            if deepest <= spec.max_depth:
                spans = candidate
        return spans

    def _render(self, operands, operators, spans, parenthesised, canonical: bool) -> str:
        spaced = self.spec.spacing == "spaces" and not canonical
        parts = []
        for index, value in enumerate(operands):
            text = str(value)
            # outer spans open first and close last
            opening = sum(a == index for a, _ in spans) if spans else 0
            if parenthesised[index] and not canonical and index and not opening:
                text = f"({value})"
            if spans:
                text = "(" * opening + text + ")" * sum(b == index for _, b in spans)
            parts.append(text)
            if index < len(operators):
                parts.append(f" {operators[index]} " if spaced else operators[index])
        return "".join(parts)

    def _evaluate_flat(self, operands: list[int | Fraction], operators: list[str]) -> int | Fraction:
        """Value of ``operands[0] operators[0] operands[1] ...`` by precedence, without building a tree.

        Terms stay Python ints until a division makes one a Fraction: int arithmetic is exact too and
        several times faster, and this is the hot path of corpus generation.
        """
        # the sign of a + or - stays apart from its term: floor division rounds the term itself (a - b/c)
        terms: list[int | Fraction] = [operands[0]]
        signs = [1]
        for op, operand in zip(operators, operands[1:], strict=True):
            if op == "*":
                terms[-1] *= operand
            elif op == "/":
                if operand == 0:
                    raise ExpressionError("division by zero", "")
                quotient = Fraction(terms[-1], operand)
                terms[-1] = math.floor(quotient) if self.spec.division == "floor" else quotient
            else:
                terms.append(operand)
                signs.append(1 if op == "+" else -1)
        return sum(term if sign > 0 else -term for sign, term in zip(signs, terms, strict=True))

    def _evaluate_spans(self, operands: list[int], operators: list[str], spans) -> int | Fraction:
        """Value of the question with each span of operands as a parenthesised group, by precedence."""

        def group(low: int, high: int) -> int | Fraction:
            # operands low..high: each maximal span inside becomes one value, then the flat rule applies
            atoms, atom_operators = [], []
            index = low
            while index <= high:
                end = max((b for a, b in spans if a == index and b <= high and (a, b) != (low, high)), default=index)
                atoms.append(group(index, end) if end > index else operands[index])
                if end < high:
                    atom_operators.append(operators[end])
                index = end + 1
            return self._evaluate_flat(atoms, atom_operators)

        return group(0, len(operands) - 1)

    @staticmethod
    def _depth(spans) -> int:
        """Deepest nesting of non-crossing spans: the most spans that hold one span, itself included."""
        return max((sum(a <= x and y <= b for a, b in spans) for x, y in spans), default=0)

    @staticmethod
    def _describe_flat(operands: list[int], operators: list[str], depth: int = 0) -> QuestionInfo:
        present = set(operators)
        return QuestionInfo(
            operators=tuple(op for op in OPERATORS if op in present),
            num_operands=len(operands),
            max_digits=digit_count(max(operands, key=abs)),
            depth=depth,
        )

    def sample(self) -> Sample:
        spec, rng = self.spec, self.rng
        for _ in range(self.MAX_REDRAWS):
            n = rng.randint(spec.min_operands, spec.max_operands)
            operands = [self.operand() for _ in range(n)]
            operators = [rng.choice(spec.operators) for _ in range(n - 1)]
            spans = self._spans(n)
            # a negative operand after an operator is written (-5) or bare (2*-5), half and half
            parenthesised = [value < 0 and rng.random() < 0.5 for value in operands]
            key = self._render(operands, operators, spans, parenthesised, canonical=True)
            plain = spec.spacing == "none" and not any(parenthesised)
            question = key if plain else self._render(operands, operators, spans, parenthesised, canonical=False)
            # the value follows from the drawn structure; parsing the rendered text again took 40% of the time
            try:
                value = self._evaluate_spans(operands, operators, spans) if spans else None
                value = self._evaluate_flat(operands, operators) if value is None else value
            except ExpressionError:
                continue  # division by zero: draw again
            info = self._describe_flat(operands, operators, self._depth(spans))
            answer = format_answer(value, spec.division, spec.decimal_places)
            return Sample(question, answer, key, info)
        raise ValueError(f"no question without a division by zero in {self.MAX_REDRAWS} draws from {spec}")


__all__ = [
    "ALPHABET",
    "DIVISION_FORMATS",
    "MIXED",
    "MIN_BUCKET_WEIGHT",
    "OPERATORS",
    "SAMPLING_MODES",
    "SPACING_MODES",
    "BinaryOp",
    "ExpressionError",
    "ExpressionSampler",
    "ExpressionSpec",
    "Group",
    "Number",
    "QuestionInfo",
    "Sample",
    "describe",
    "digit_buckets",
    "digit_count",
    "evaluate",
    "format_answer",
    "parse",
    "solve",
    "tokenize",
]
