"""The arithmetic corpora as a ``datasets`` builder, with statistics and a Hub-ready export.

Four named configs: ``addition``, ``four_ops``, ``expressions`` and ``seed_expressions`` (see
:data:`NAMED_CONFIGS` for their defaults). Every field of a config can be overridden::

    from arith_hf.corpus import ArithmeticCorpus, load_corpus

    builder = ArithmeticCorpus(config_name="addition", max_operand=999, train_size=10_000)
    builder.download_and_prepare()
    corpus = builder.as_dataset()  # DatasetDict: train / validation / test
    corpus = load_corpus("four_ops", division="decimal")  # the same in one call

Splits are disjoint by construction: a question belongs to the split whose fixed region of hash space
holds the hash of its canonical form (:attr:`~arith_hf.expressions.Sample.key`), whatever the config,
the seed or the split sizes. Each split draws from its own seeded generator and keeps only the questions
that hash into its region. Validation and test hold each question at most once; train may repeat a
question, since digit-balanced sampling draws the few small questions (``3+4``) far more often than
there are distinct ones.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import json
import logging
import math
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import datasets
import pyarrow as pa
import pyarrow.compute as pc
import yaml
from tabulate import tabulate

from . import expressions
from .expressions import OPERATORS, ExpressionSampler, ExpressionSpec, Sample

logger = logging.getLogger(__name__)

# Bump when a change of this module or of expressions.py changes the generated examples. The cache key
# also holds a digest of both source files, so a forgotten bump still never serves stale data.
GENERATOR_VERSION = 2  # 2: digit-count buckets have a least weight (expressions.MIN_BUCKET_WEIGHT)

SPLITS = ("train", "validation", "test")
# Fixed share of hash space per split. The regions never depend on split sizes, so a question's split
# is a property of the question alone: test questions stay out of train for every config and size.
SPLIT_REGIONS = {
    "train": (Fraction(0), Fraction(90, 100)),
    "validation": (Fraction(90, 100), Fraction(95, 100)),
    "test": (Fraction(95, 100), Fraction(1)),
}
_HASH_BYTES = 8
_REGION_BOUNDS = {
    split: (int(low * 2 ** (8 * _HASH_BYTES)), int(high * 2 ** (8 * _HASH_BYTES)))
    for split, (low, high) in SPLIT_REGIONS.items()
}
# Consecutive draws without a new example before a split gives up. A healthy config lands in the 5%
# test region with probability 0.05 per draw, so 100000 misses in a row mean the region is exhausted.
MAX_FRUITLESS_DRAWS = 100_000

CORPUS_FEATURES = datasets.Features(
    {
        "question": datasets.Value("string"),
        "answer": datasets.Value("string"),
        "operators": datasets.List(datasets.Value("string")),  # binary operators present, in OPERATORS order
        "operator_class": datasets.Value("string"),  # "+", "-", "*", "/" or "mixed"
        "num_operands": datasets.Value("int32"),
        "max_digits": datasets.Value("int32"),  # digits of the operand with the largest magnitude
        "depth": datasets.Value("int32"),  # deepest nesting of grouping parentheses
    }
)

_SPEC_FIELDS = tuple(field.name for field in dataclasses.fields(ExpressionSpec))
_SIZE_FIELDS = ("train_size", "validation_size", "test_size")
# every field that shapes the generated data; all of them go into the cache key
DATA_FIELDS = _SPEC_FIELDS + _SIZE_FIELDS + ("seed",)

# one line per field, for command-line help and the dataset card
FIELD_HELP = {
    "min_operand": "smallest operand magnitude (>= 0)",
    "max_operand": "largest operand magnitude, inclusive",
    "operators": "binary operators drawn uniformly, e.g. '+-*/'",
    "min_operands": "fewest operands in a question",
    "max_operands": "most operands in a question",
    "max_parens": "most pairs of grouping parentheses (0: none)",
    "max_depth": "deepest nesting of grouping parentheses (0 exactly when max_parens is 0)",
    "sampling": "operand sampling: uniform, digits (digit count first, then the value) or log_uniform",
    "negative_prob": "chance that a non-zero operand is a negative literal (-3, (-51), 2*-3), in [0, 1]",
    "spacing": "none writes 3+4, spaces writes 3 + 4",
    "division": "answer format of '/': exact (integer or reduced p/q), decimal (fixed places) or floor",
    "decimal_places": "places of decimal answers, rounded half away from zero",
    "train_size": "examples in train (questions may repeat)",
    "validation_size": "examples in validation (distinct questions)",
    "test_size": "examples in test (distinct questions)",
    "seed": "seed of the question generators; each split draws from its own stream",
}


# version of the corpus format (features and split scheme), part of every cache path
CORPUS_VERSION = datasets.Version("1.0.0")


class SampleSpaceTooSmallError(ValueError):
    """The config's distribution holds too few distinct questions for the requested split sizes."""


# ---------------------------------------------------------------------------
# Splits by hash


def _question_hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=_HASH_BYTES).digest(), "big")


def split_of(key: str) -> str:
    """The split a canonical question belongs to, for every config: ``train``, ``validation`` or ``test``."""
    value = _question_hash(key)
    return next(split for split, (low, high) in _REGION_BOUNDS.items() if low <= value < high)


def generate_split(spec: ExpressionSpec, split: str, size: int, seed: int) -> Iterator[Sample]:
    """Yield ``size`` samples of one split, one at a time (10 million never sit in memory at once).

    Raises :class:`SampleSpaceTooSmallError` after :data:`MAX_FRUITLESS_DRAWS` consecutive draws that add
    nothing: none in the split's region, or (validation and test) only questions already drawn.
    """
    if split not in _REGION_BOUNDS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    low, high = _REGION_BOUNDS[split]
    # a string seed is hashed by random.Random (sha512), so the stream is the same on every run and machine
    sampler = ExpressionSampler(spec, seed=f"arith_hf/{seed}/{split}")
    unique = split != "train"
    seen: set[str] = set()
    produced = draws = fruitless = 0
    while produced < size:
        sample = sampler.sample()
        draws += 1
        if low <= _question_hash(sample.key) < high and not (unique and sample.key in seen):
            if unique:
                seen.add(sample.key)
            produced += 1
            fruitless = 0
            yield sample
            continue
        fruitless += 1
        if fruitless >= MAX_FRUITLESS_DRAWS:
            what = "new question" if unique else "question"
            raise SampleSpaceTooSmallError(
                f"sample space too small for {split}_size={size}: after {produced} examples, {fruitless} draws "
                f"in a row found no {what} in the {split} region ({_share(split)} of hash space); lower "
                f"{split}_size or widen the distribution (max_operand, operators, operand count)"
            )
    logger.info("%s: %d examples from %d draws", split, produced, draws)


def _share(split: str) -> str:
    low, high = SPLIT_REGIONS[split]
    return f"{float(high - low):.0%}"


# ---------------------------------------------------------------------------
# Config


@functools.cache
def _source_digest() -> str:
    """Digest of the code that generates examples, so that editing it invalidates every cached corpus."""
    digest = hashlib.blake2b(digest_size=8)
    for path in (Path(expressions.__file__), Path(__file__)):
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class ArithmeticConfig(datasets.BuilderConfig):
    """A corpus: the distribution of its questions (the :class:`~arith_hf.expressions.ExpressionSpec`
    fields), the split sizes and the seed. Invalid values raise ``ValueError`` naming the field.

    Args:
        min_operand (`int`, defaults to 0): smallest operand magnitude, >= 0.
        max_operand (`int`, defaults to 100000): largest operand magnitude, inclusive.
        operators (`tuple[str]`, defaults to ``("+",)``): binary operators, drawn uniformly.
        min_operands, max_operands (`int`, default 2): operand count, drawn uniformly in the range.
        max_parens (`int`, defaults to 0): most pairs of grouping parentheses in a question.
        max_depth (`int`, defaults to 0): deepest nesting of those parentheses.
        sampling (`str`, defaults to ``"digits"``): ``uniform``, ``digits`` or ``log_uniform``.
        negative_prob (`float`, defaults to 0): chance that a non-zero operand is written negative.
        spacing (`str`, defaults to ``"none"``): ``none`` (``3+4``) or ``spaces`` (``3 + 4``).
        division (`str`, defaults to ``"exact"``): ``exact``, ``decimal`` or ``floor``.
        decimal_places (`int`, defaults to 4): places of ``decimal`` answers.
        train_size (`int`, defaults to 200000): examples in train; a question may repeat.
        validation_size (`int`, defaults to 2000): examples in validation, all distinct.
        test_size (`int`, defaults to 10000): examples in test, all distinct.
        seed (`int`, defaults to 0): seed of the question generators.
    """

    version: datasets.Version | str | None = CORPUS_VERSION
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
    train_size: int = 200_000
    validation_size: int = 2_000
    test_size: int = 10_000
    seed: int = 0

    def __post_init__(self):
        super().__post_init__()
        self.validate()

    @property
    def spec(self) -> ExpressionSpec:
        return ExpressionSpec(**{name: getattr(self, name) for name in _SPEC_FIELDS})

    def data_fields(self) -> dict:
        """Every field that shapes the examples, as plain JSON values."""
        return {name: list(value) if isinstance(value, tuple) else value for name, value in self._fields().items()}

    def _fields(self) -> dict:
        return {name: getattr(self, name) for name in DATA_FIELDS}

    def validate(self) -> None:
        """Check every field (``datasets`` sets overrides with ``setattr``, after ``__post_init__``)."""
        where = f"invalid ArithmeticConfig {self.name!r}"
        if isinstance(self.operators, (list, str)):
            self.operators = tuple(self.operators)
        try:
            spec = self.spec
        except ValueError as error:
            raise ValueError(f"{where}: {error}") from None
        # the spec normalises numpy integers and the like to int; keep the normalised values
        for name in _SPEC_FIELDS:
            setattr(self, name, getattr(spec, name))
        for name in (*_SIZE_FIELDS, "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where}: {name} must be an integer, got {value!r}")
            if name != "seed" and value < 1:
                raise ValueError(f"{where}: {name} must be >= 1, got {value}")
        # up-front bound; generate_split still guards the cases this estimate misses (parentheses,
        # division by zero), so an over-full split fails loudly either way
        space = spec.sample_space_size()
        for split in ("validation", "test"):
            low, high = SPLIT_REGIONS[split]
            capacity = math.floor(space * (high - low))
            size = getattr(self, f"{split}_size")
            if size > capacity:
                raise SampleSpaceTooSmallError(
                    f"{where}: sample space too small for {split}_size={size}: the distribution has at most "
                    f"{space} distinct questions and about {capacity} of them fall in the {split} region "
                    f"({_share(split)} of hash space); lower {split}_size or widen the distribution "
                    "(max_operand, operators, operand count)"
                )

    def summary(self) -> str:
        """One line that says what the fields make: ``2 operands 0..999, operators + -, digits sampling``."""
        count = f"{self.min_operands} to {self.max_operands}"
        if self.min_operands == self.max_operands:
            count = str(self.min_operands)
        parts = [
            f"{count} operands {self.min_operand}..{self.max_operand}",
            "operators " + " ".join(self.operators),
            f"{self.sampling} sampling",
        ]
        if self.max_parens:
            parts.append(f"up to {self.max_parens} pairs of parentheses nested at most {self.max_depth} deep")
        if self.negative_prob:
            parts.append(f"negative literals with probability {self.negative_prob}")
        if self.spacing == "spaces":
            parts.append("spaces around operators")
        if "/" in self.operators:
            places = f" to {self.decimal_places} places" if self.division == "decimal" else ""
            parts.append(f"{self.division} division{places}")
        return ", ".join(parts)

    def fingerprint(self) -> str:
        """Hex digest of every data field, the generator version and the generator's source."""
        payload = json.dumps(
            {"fields": self.data_fields(), "generator_version": GENERATOR_VERSION, "source": _source_digest()},
            sort_keys=True,
        )
        return hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()

    def create_config_id(self, config_kwargs: dict, custom_features: datasets.Features | None = None) -> str:
        # datasets' own id is the name plus the keyword overrides: a named config used as it is keeps its
        # bare name when the generator's code changes; the fingerprint covers every field and that code
        self.validate()
        return f"{self.name}-{self.fingerprint()}"


NAMED_CONFIGS = {
    config.name: config
    for config in (
        ArithmeticConfig(
            name="addition",
            description="a+b, operands 0..100000, digit-balanced sampling",
        ),
        ArithmeticConfig(
            name="four_ops",
            description="a op b with op in + - * /, operands 0..99999, digit-balanced sampling, exact division",
            max_operand=99999,
            operators=OPERATORS,
        ),
        ArithmeticConfig(
            name="expressions",
            description=(
                "2 to 5 operands 0..999, mixed + - * / with precedence, up to 2 pairs of parentheses nested "
                "at most 2 deep, digit-balanced sampling, exact division"
            ),
            max_operand=999,
            operators=OPERATORS,
            max_operands=5,
            max_parens=2,
            max_depth=2,
        ),
        ArithmeticConfig(
            name="seed_expressions",
            description=(
                "2 to 9 operands 1..99999, + - * / uniform, up to 3 pairs of parentheses, uniform operand "
                "sampling, exact division (the distribution of the classic experiment)"
            ),
            min_operand=1,
            max_operand=99999,
            operators=OPERATORS,
            max_operands=9,
            max_parens=3,
            max_depth=3,
            sampling="uniform",
        ),
    )
}


# ---------------------------------------------------------------------------
# Builder


class _PlainFeatures(datasets.Features):
    """Features whose rows need no encoding; used only while a split is written, never handed to users."""

    def encode_example(self, example: dict) -> dict:
        return example


# keywords that ArithmeticCorpus passes on to datasets untouched: the builder's own and BuilderConfig's
_BUILDER_ARGUMENTS = set(inspect.signature(datasets.DatasetBuilder.__init__).parameters) - {"self", "config_kwargs"}
_BUILDER_ARGUMENTS |= {field.name for field in dataclasses.fields(datasets.BuilderConfig)}


class ArithmeticCorpus(datasets.GeneratorBasedBuilder):
    """Builds a corpus of arithmetic questions with exact answers; see the module docstring.

    Pass ``config_name`` (one of :data:`NAMED_CONFIGS`) with any field overrides as keywords, or a whole
    ``config=ArithmeticConfig(...)``. The cache folder name holds a fingerprint of every field, so a
    changed parameter always builds afresh.
    """

    BUILDER_CONFIG_CLASS = ArithmeticConfig
    BUILDER_CONFIGS = list(NAMED_CONFIGS.values())
    DEFAULT_CONFIG_NAME = "addition"
    # rows are ~50 bytes: bigger batches than the default 1000 mean fewer, cheaper Arrow writes
    DEFAULT_WRITER_BATCH_SIZE = 10_000

    def __init__(self, *args, config: ArithmeticConfig | None = None, **kwargs):
        if kwargs.get("config_id") is not None or kwargs.get("features") is not None:
            raise ValueError("config_id and features are fixed by ArithmeticCorpus; override config fields instead")
        unknown = set(kwargs) - set(DATA_FIELDS) - _BUILDER_ARGUMENTS
        if unknown:
            raise ValueError(f"unknown ArithmeticCorpus arguments {sorted(unknown)}; config fields are {DATA_FIELDS}")
        if config is not None:
            if not isinstance(config, ArithmeticConfig):
                raise TypeError(f"config must be an ArithmeticConfig, got {type(config).__name__}")
            if kwargs.get("config_name") not in (None, config.name):
                raise ValueError(f"config_name {kwargs['config_name']!r} disagrees with config.name {config.name!r}")
            overrides = {name: kwargs.pop(name) for name in DATA_FIELDS if name in kwargs}
            config = dataclasses.replace(config, **overrides)
            if config.description is None:
                # else the default config's description would survive: datasets skips None overrides
                config.description = config.summary()
            # a config object travels as keywords: datasets rebuilds it from them and ids it by fingerprint
            kwargs["config_name"] = None
            kwargs.update(
                {field.name: getattr(config, field.name) for field in dataclasses.fields(config)},
            )
        kwargs.setdefault("dataset_name", "arithmetic")
        super().__init__(*args, **kwargs)

    def download_and_prepare(self, *args, **kwargs) -> None:
        try:
            super().download_and_prepare(*args, **kwargs)
        except datasets.exceptions.DatasetGenerationError as error:
            # datasets wraps generator errors; a too-small sample space deserves its own message on top
            if isinstance(error.__cause__, SampleSpaceTooSmallError):
                raise error.__cause__ from error
            raise

    def _prepare_split(self, split_generator: datasets.SplitGenerator, **kwargs) -> None:
        # Our rows are already plain str, int and list[str], which Arrow takes as they are; datasets'
        # per-row encode_example (a recursive walk over every value) cost more than drawing the question.
        features = self.info.features
        self.info.features = _PlainFeatures(features)
        try:
            super()._prepare_split(split_generator, **kwargs)
        finally:
            self.info.features = features

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(description=self.config.summary(), features=CORPUS_FEATURES)

    def _split_generators(self, dl_manager) -> list[datasets.SplitGenerator]:
        return [datasets.SplitGenerator(name=split, gen_kwargs={"split": split}) for split in SPLITS]

    def _generate_examples(self, split: str):
        config = self.config
        size = getattr(config, f"{split}_size")
        for index, sample in enumerate(generate_split(config.spec, split, size, config.seed)):
            info = sample.info
            yield (
                index,
                {
                    "question": sample.question,
                    "answer": sample.answer,
                    "operators": list(info.operators),
                    "operator_class": info.operator_class,
                    "num_operands": info.num_operands,
                    "max_digits": info.max_digits,
                    "depth": info.depth,
                },
            )


def load_corpus(
    config: str | ArithmeticConfig = "addition", cache_dir: str | None = None, **overrides
) -> datasets.DatasetDict:
    """Build (or reuse from the cache) a corpus and return its ``train``, ``validation`` and ``test`` splits.

    ``config`` is a named config or an :class:`ArithmeticConfig`; ``overrides`` replace its fields.
    """
    if isinstance(config, ArithmeticConfig):
        builder = ArithmeticCorpus(config=config, cache_dir=cache_dir, **overrides)
    else:
        builder = ArithmeticCorpus(config_name=config, cache_dir=cache_dir, **overrides)
    builder.download_and_prepare()
    return builder.as_dataset()


# ---------------------------------------------------------------------------
# Statistics


def _arrow_table(dataset: datasets.Dataset) -> pa.Table:
    # zero-copy slice of the memory-mapped table; respects an indices mapping if one was applied
    return dataset.with_format("arrow")[:]


def _shares(values: pa.Array | pa.ChunkedArray, total: int) -> dict:
    counts = pc.value_counts(values)
    return {item["values"].as_py(): 100 * item["counts"].as_py() / total for item in counts}


def corpus_statistics(corpus: datasets.DatasetDict) -> dict[str, list[dict]]:
    """Distributions per split, as rows ready for ``tabulate(rows, headers="keys")``.

    Keys: ``size`` (examples and distinct questions), then percentages of examples per value of
    ``operand_digits`` (every operand), ``max_digits``, ``num_operands``, ``operator_class``, ``operators``
    (share of questions holding each operator), ``depth`` and ``answer_length`` (characters).
    Everything is computed with Arrow kernels, so 10 million examples take seconds.
    """
    per_split: dict[str, dict[str, dict]] = {}
    sizes = []
    for split, dataset in corpus.items():
        table = _arrow_table(dataset)
        total = max(len(table), 1)
        questions = table.column("question")
        sizes.append({"split": split, "examples": len(table), "distinct questions": pc.count_distinct(questions)})
        # digit runs of the question are its operands' magnitudes
        runs = pc.list_flatten(pc.split_pattern_regex(questions, pattern="[^0-9]+"))
        run_lengths = pc.utf8_length(runs)
        operand_lengths = pc.filter(run_lengths, pc.greater(run_lengths, 0))
        stats = {
            "operand_digits": _shares(operand_lengths, max(len(operand_lengths), 1)),
            "max_digits": _shares(table.column("max_digits"), total),
            "num_operands": _shares(table.column("num_operands"), total),
            "operator_class": _shares(table.column("operator_class"), total),
            "operators": _shares(pc.list_flatten(table.column("operators")), total),
            "depth": _shares(table.column("depth"), total),
            "answer_length": _shares(pc.utf8_length(table.column("answer")), total),
        }
        for name, shares in stats.items():
            per_split.setdefault(name, {})[split] = shares
    for row in sizes:
        row["distinct questions"] = row["distinct questions"].as_py()
    result: dict[str, list[dict]] = {"size": sizes}
    for name, by_split in per_split.items():
        values = sorted({value for shares in by_split.values() for value in shares}, key=_value_order)
        result[name] = [
            {name: value, **{f"{split} %": shares.get(value, 0.0) for split, shares in by_split.items()}}
            for value in values
        ]
    return result


def _value_order(value) -> tuple:
    # numbers in numeric order, operator classes in OPERATORS order with "mixed" last
    if isinstance(value, int):
        return (0, value, "")
    return (1, OPERATORS.index(value) if value in OPERATORS else len(OPERATORS), str(value))


def format_statistics(statistics: dict[str, list[dict]], tablefmt: str = "github") -> str:
    """All statistics tables as text, each under its name."""
    blocks = []
    for name, rows in statistics.items():
        table = tabulate(rows, headers="keys", tablefmt=tablefmt, floatfmt=".2f", intfmt=",")
        blocks.append(f"{name}\n\n{table}" if tablefmt != "github" else f"**{name}**\n\n{table}")
    return "\n\n".join(blocks)


# ---------------------------------------------------------------------------
# Export


def export_corpus(
    corpus: datasets.DatasetDict,
    config: ArithmeticConfig,
    output_dir: str | Path,
    formats: tuple[str, ...] = ("parquet", "jsonl"),
    statistics: dict[str, list[dict]] | None = None,
) -> Path:
    """Write a corpus as ``data/<split>-00000-of-00001.parquet`` and ``jsonl/<split>.jsonl`` with a
    dataset card (``README.md`` whose YAML names the Parquet files), ready for ``load_dataset(output_dir)``
    and for ``hf upload``.
    """
    unknown = set(formats) - {"parquet", "jsonl"}
    if unknown or "parquet" not in formats:
        raise ValueError(f"formats must include 'parquet' and may add 'jsonl', got {formats}")
    output_dir = Path(output_dir)
    (output_dir / "data").mkdir(parents=True, exist_ok=True)
    for split, dataset in corpus.items():
        dataset.to_parquet(str(output_dir / "data" / f"{split}-00000-of-00001.parquet"))
        if "jsonl" in formats:
            (output_dir / "jsonl").mkdir(exist_ok=True)
            dataset.to_json(str(output_dir / "jsonl" / f"{split}.jsonl"), lines=True, force_ascii=True)
    if statistics is None:
        statistics = corpus_statistics(corpus)
    (output_dir / "README.md").write_text(dataset_card(corpus, config, statistics))
    logger.debug("exported %s to %s", config.name, output_dir)
    return output_dir


def _size_category(n: int) -> str:
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    bounds += [(10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M")]
    return next((label for bound, label in bounds if n < bound), "100M<n<1B")


def dataset_card(corpus: datasets.DatasetDict, config: ArithmeticConfig, statistics: dict[str, list[dict]]) -> str:
    """The README.md of an exported corpus: YAML metadata (configs, features, splits), then prose and tables."""
    total = sum(len(dataset) for dataset in corpus.values())
    metadata = {
        "pretty_name": f"arith_hf arithmetic: {config.name}",
        "license": "apache-2.0",
        "tags": ["arithmetic", "synthetic", "math"],
        "size_categories": [_size_category(total)],
        "configs": [
            {
                "config_name": config.name,
                "data_files": [{"split": split, "path": f"data/{split}-*.parquet"} for split in corpus],
                "default": True,
            }
        ],
        "dataset_info": {
            "config_name": config.name,
            # datasets' own YAML form of the features, as push_to_hub writes it
            "features": CORPUS_FEATURES._to_yaml_list(),
            # num_bytes (of the Arrow data) too: datasets ignores a splits entry without it
            "splits": [
                {"name": split, "num_bytes": dataset.data.nbytes, "num_examples": len(dataset)}
                for split, dataset in corpus.items()
            ],
            "dataset_size": sum(dataset.data.nbytes for dataset in corpus.values()),
        },
    }
    fields = [
        {"field": name, "value": value, "meaning": FIELD_HELP[name]} for name, value in config.data_fields().items()
    ]
    # every field spelled out, so the command rebuilds this corpus from any named config
    overrides = " ".join(
        f"--{name}={''.join(value) if isinstance(value, list) else value}"
        for name, value in config.data_fields().items()
    )
    base = config.name if config.name in NAMED_CONFIGS else f"addition --name={config.name}"
    return "\n".join(
        [
            "---",
            yaml.safe_dump(metadata, sort_keys=False).rstrip(),
            "---",
            "",
            f"# arith_hf arithmetic: {config.name}",
            "",
            f"{config.summary()}.",
            "",
            "Synthetic questions with exact answers (rational arithmetic, no floats), generated by "
            "`arith_hf.corpus.ArithmeticCorpus`. Train, validation and test are disjoint: a question's split "
            "is fixed by a hash of its canonical form (no spaces, bare negative literals). Validation and test "
            "hold each question once; train may repeat questions, since digit-balanced sampling draws the "
            "few small questions more often than there are distinct ones.",
            "",
            "## Load",
            "",
            "```python",
            "from datasets import load_dataset",
            "",
            'corpus = load_dataset("<this folder or repo id>")',
            "```",
            "",
            "## Regenerate",
            "",
            "```bash",
            f"python scripts/make_corpus.py {base} {overrides}",
            "```",
            "",
            "## Fields",
            "",
            "| feature | type | meaning |",
            "|---|---|---|",
            "| question | string | the arithmetic question |",
            "| answer | string | exact answer: integer, reduced fraction p/q, or fixed-place decimal |",
            "| operators | list of string | binary operators present, in + - * / order |",
            "| operator_class | string | the single operator present, or `mixed` |",
            "| num_operands | int32 | operands in the question |",
            "| max_digits | int32 | digits of the largest operand |",
            "| depth | int32 | deepest nesting of grouping parentheses |",
            "",
            "## Configuration",
            "",
            tabulate(fields, headers="keys", tablefmt="github"),
            "",
            f"Generator version {GENERATOR_VERSION}, config fingerprint `{config.fingerprint()}`.",
            "",
            "## Statistics",
            "",
            "Percentages per split: of operands for `operand_digits`, of examples for the rest.",
            "",
            format_statistics(statistics),
            "",
        ]
    )


__all__ = [
    "CORPUS_FEATURES",
    "DATA_FIELDS",
    "FIELD_HELP",
    "GENERATOR_VERSION",
    "MAX_FRUITLESS_DRAWS",
    "NAMED_CONFIGS",
    "SPLITS",
    "SPLIT_REGIONS",
    "CORPUS_VERSION",
    "ArithmeticConfig",
    "ArithmeticCorpus",
    "SampleSpaceTooSmallError",
    "corpus_statistics",
    "dataset_card",
    "export_corpus",
    "format_statistics",
    "generate_split",
    "load_corpus",
    "split_of",
]
