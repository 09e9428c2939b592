"""Tests of arith_hf.corpus and scripts/make_corpus.py: disjoint splits, determinism, cache keys, export.

Run: .venv/bin/python -m pytest tests/test_corpus.py -q

Every corpus here is tiny (thousands of examples) and lives in a temporary cache.
"""

import dataclasses
import re
from pathlib import Path

import datasets
import pytest
import yaml

from arith_hf import corpus as corpus_module
from arith_hf.corpus import (
    CORPUS_FEATURES,
    DATA_FIELDS,
    FIELD_HELP,
    NAMED_CONFIGS,
    SPLITS,
    ArithmeticConfig,
    ArithmeticCorpus,
    SampleSpaceTooSmallError,
    corpus_statistics,
    generate_split,
    load_corpus,
    split_of,
)
from arith_hf.expressions import OPERATORS, ExpressionSpec
from scripts import make_corpus


def canonical(question: str) -> str:
    """The split key of a question: no spaces, negative literals bare (as Sample.key)."""
    return re.sub(r"\(-(\d+)\)", r"-\1", question.replace(" ", ""))


def build(cache_dir, config_name="addition", **overrides) -> tuple[ArithmeticCorpus, datasets.DatasetDict]:
    builder = ArithmeticCorpus(config_name=config_name, cache_dir=str(cache_dir), **overrides)
    builder.download_and_prepare()
    return builder, builder.as_dataset()


def keys(dataset: datasets.Dataset) -> list[str]:
    return [canonical(question) for question in dataset["question"]]


def assert_disjoint(corpus: datasets.DatasetDict) -> None:
    by_split = {split: keys(corpus[split]) for split in SPLITS}
    for split, split_keys in by_split.items():
        # each question sits in its own split's hash region, so no other split can hold it
        assert {split_of(key) for key in split_keys} == {split}
    for split in ("validation", "test"):
        assert len(set(by_split[split])) == len(by_split[split]), f"duplicates in {split}"
        assert not set(by_split[split]) & set(by_split["train"])
    assert not set(by_split["validation"]) & set(by_split["test"])


# ---------------------------------------------------------------------------
# named configs and their documented defaults


def test_named_config_defaults():
    addition, four_ops = NAMED_CONFIGS["addition"], NAMED_CONFIGS["four_ops"]
    expressions, seed = NAMED_CONFIGS["expressions"], NAMED_CONFIGS["seed_expressions"]
    assert (addition.min_operand, addition.max_operand, addition.operators) == (0, 100000, ("+",))
    assert addition.sampling == "digits" and (addition.min_operands, addition.max_operands) == (2, 2)
    assert (four_ops.max_operand, four_ops.operators, four_ops.max_operands) == (99999, OPERATORS, 2)
    assert (expressions.max_operand, expressions.max_operands, expressions.max_parens, expressions.max_depth) == (
        999,
        5,
        2,
        2,
    )
    assert (seed.min_operand, seed.max_operand, seed.min_operands, seed.max_operands) == (1, 99999, 2, 9)
    assert (seed.operators, seed.max_parens, seed.sampling) == (OPERATORS, 3, "uniform")
    for config in NAMED_CONFIGS.values():
        assert (config.train_size, config.validation_size, config.test_size, config.seed) == (200000, 2000, 10000, 0)


def test_config_fields_follow_expression_spec():
    # the corpus config repeats the spec's fields: they must not drift apart
    spec_fields = {field.name: field.default for field in dataclasses.fields(ExpressionSpec)}
    config_fields = {field.name: field.default for field in dataclasses.fields(ArithmeticConfig)}
    assert {name: config_fields[name] for name in spec_fields} == spec_fields
    assert set(FIELD_HELP) == set(DATA_FIELDS)
    for name in DATA_FIELDS:  # documented field by field
        assert name in ArithmeticConfig.__doc__
    assert NAMED_CONFIGS["four_ops"].spec == ExpressionSpec(max_operand=99999, operators=OPERATORS)


def test_features_are_typed_and_ordered(corpus_cache, tiny_sizes):
    _, corpus = build(corpus_cache, max_operand=999, **tiny_sizes)
    assert list(corpus) == ["train", "validation", "test"]
    features = corpus["train"].features
    assert features == CORPUS_FEATURES and type(features) is datasets.Features
    assert list(features) == [
        "question",
        "answer",
        "operators",
        "operator_class",
        "num_operands",
        "max_digits",
        "depth",
    ]
    assert [features[name].dtype for name in ("num_operands", "max_digits", "depth")] == ["int32"] * 3
    row = corpus["train"][0]
    assert row["operators"] == ["+"] and row["operator_class"] == "+" and row["num_operands"] == 2


# ---------------------------------------------------------------------------
# disjoint splits (C14) and tiny sample spaces (C15)


@pytest.mark.parametrize("config_name", sorted(NAMED_CONFIGS))
def test_splits_are_disjoint_for_every_config(corpus_cache, tiny_sizes, config_name):
    _, corpus = build(corpus_cache, config_name, **tiny_sizes)
    assert {split: len(corpus[split]) for split in SPLITS} == {
        "train": tiny_sizes["train_size"],
        "validation": tiny_sizes["validation_size"],
        "test": tiny_sizes["test_size"],
    }
    assert_disjoint(corpus)


def test_splits_stay_disjoint_when_sizes_change(corpus_cache):
    # a small space (0..99, 10000 questions) so that train covers much of it
    _, small = build(corpus_cache, max_operand=99, train_size=3000, validation_size=40, test_size=60)
    _, large = build(corpus_cache, max_operand=99, train_size=6000, validation_size=100, test_size=200)
    for held_out in ("validation", "test"):
        for first, second in ((small, large), (large, small)):
            assert not set(keys(first[held_out])) & set(keys(second["train"]))
    # a split's stream does not depend on the sizes: growing a split keeps what it had
    assert large["test"]["question"][:60] == small["test"]["question"]
    assert large["train"]["question"][:3000] == small["train"]["question"]


def test_one_digit_addition_with_test_of_60_is_an_error(corpus_cache):
    # C15: 100 possible pairs, about 5 of them in the test region
    with pytest.raises(SampleSpaceTooSmallError, match=r"sample space too small for test_size=60"):
        ArithmeticCorpus(
            config_name="addition", cache_dir=corpus_cache, max_operand=9, validation_size=5, test_size=60
        )
    with pytest.raises(ValueError, match=r"validation_size=2000"):
        load_corpus("addition", cache_dir=corpus_cache, max_operand=9, test_size=5)


def test_one_digit_addition_fills_its_regions_without_duplicates(corpus_cache):
    # every one-digit pair whose hash falls in the region, each exactly once
    pairs = [f"{a}+{b}" for a in range(10) for b in range(10)]
    region = {split: {pair for pair in pairs if split_of(pair) == split} for split in SPLITS}
    sizes = {split: min(len(region[split]), 5) for split in ("validation", "test")}
    assert min(sizes.values()) > 0
    _, corpus = build(
        corpus_cache, max_operand=9, train_size=2000, validation_size=sizes["validation"], test_size=sizes["test"]
    )
    assert_disjoint(corpus)
    for split in ("validation", "test"):
        assert set(corpus[split]["question"]) <= region[split]
    assert set(corpus["train"]["question"]) == region["train"]  # 2000 draws cover all ~90 train pairs


def test_exhausted_region_raises_instead_of_repeating(corpus_cache, monkeypatch):
    # the up-front bound can be too generous (parentheses, division by zero): the draw guard catches the rest
    monkeypatch.setattr(ExpressionSpec, "sample_space_size", lambda self: 10**9)
    monkeypatch.setattr(corpus_module, "MAX_FRUITLESS_DRAWS", 3000)
    spec = ExpressionSpec(max_operand=9)
    with pytest.raises(SampleSpaceTooSmallError, match=r"sample space too small for test_size=60"):
        list(generate_split(spec, "test", 60, seed=0))
    builder = ArithmeticCorpus(
        config_name="addition", cache_dir=corpus_cache, max_operand=9, train_size=10, validation_size=3, test_size=60
    )
    with pytest.raises(SampleSpaceTooSmallError):
        builder.download_and_prepare()


# ---------------------------------------------------------------------------
# determinism and cache (C16)


def test_same_config_gives_byte_identical_splits(tmp_path, tiny_sizes):
    first, first_corpus = build(tmp_path / "a", "expressions", **tiny_sizes)
    second, second_corpus = build(tmp_path / "b", "expressions", **tiny_sizes)
    assert first.config_id == second.config_id
    arrow_files = sorted(path.name for path in Path(first.cache_dir).glob("*.arrow"))
    assert arrow_files == [f"arithmetic-{split}.arrow" for split in ("test", "train", "validation")]
    for name in arrow_files:
        assert (Path(first.cache_dir) / name).read_bytes() == (Path(second.cache_dir) / name).read_bytes()
    for split in SPLITS:
        assert first_corpus[split].to_list() == second_corpus[split].to_list()
    # and a different seed draws different questions
    _, other = build(tmp_path / "a", "expressions", **{**tiny_sizes, "seed": 1})
    assert other["train"]["question"] != first_corpus["train"]["question"]


def test_changed_parameter_never_returns_stale_data(corpus_cache, tiny_sizes):
    small_builder, small = build(corpus_cache, max_operand=99, **tiny_sizes)
    large_builder, large = build(corpus_cache, max_operand=99999, **tiny_sizes)
    assert small_builder.cache_dir != large_builder.cache_dir
    assert max(small["train"]["max_digits"]) == 2
    assert max(large["train"]["max_digits"]) == 5
    # the same through a config object, whose fields datasets' own config id would not see
    config = dataclasses.replace(NAMED_CONFIGS["addition"], max_operand=99, **tiny_sizes)
    again = load_corpus(config, cache_dir=corpus_cache)
    assert again["test"]["question"] == small["test"]["question"]
    changed = load_corpus(dataclasses.replace(config, max_operand=9999), cache_dir=corpus_cache)
    assert max(changed["train"]["max_digits"]) == 4


ALTERNATIVE_VALUES = {
    "min_operand": 1,
    "max_operand": 99998,
    "operators": ("+", "-"),
    "min_operands": 1,
    "max_operands": 3,
    "max_parens": 1,
    "max_depth": 1,
    "sampling": "uniform",
    "negative_prob": 0.5,
    "spacing": "spaces",
    "division": "decimal",
    "decimal_places": 2,
    "train_size": 199999,
    "validation_size": 1999,
    "test_size": 9999,
    "seed": 1,
}


def test_every_field_changes_the_cache_key(corpus_cache):
    assert set(ALTERNATIVE_VALUES) == set(DATA_FIELDS)
    base = ArithmeticCorpus(config_name="addition", cache_dir=corpus_cache)
    ids = {base.config_id}
    for name, value in ALTERNATIVE_VALUES.items():
        overrides = {name: value, "max_depth": 1} if name == "max_parens" else {name: value}
        if name == "max_depth":
            overrides["max_parens"] = 2
        builder = ArithmeticCorpus(config_name="addition", cache_dir=corpus_cache, **overrides)
        from_object = ArithmeticCorpus(
            config=dataclasses.replace(NAMED_CONFIGS["addition"], **overrides), cache_dir=corpus_cache
        )
        assert builder.config_id == from_object.config_id
        ids.add(builder.config_id)
    assert len(ids) == 1 + len(ALTERNATIVE_VALUES)


def test_generator_code_changes_the_cache_key(corpus_cache, monkeypatch):
    # editing expressions.py or corpus.py must not serve corpora cached by the old code
    before = ArithmeticCorpus(config_name="addition", cache_dir=corpus_cache).config_id
    monkeypatch.setattr(corpus_module, "_source_digest", lambda: "edited")
    assert ArithmeticCorpus(config_name="addition", cache_dir=corpus_cache).config_id != before
    monkeypatch.undo()
    monkeypatch.setattr(corpus_module, "GENERATOR_VERSION", corpus_module.GENERATOR_VERSION + 1)
    assert ArithmeticCorpus(config_name="addition", cache_dir=corpus_cache).config_id != before


# ---------------------------------------------------------------------------
# validation of configs


@pytest.mark.parametrize(
    "field, value",
    [
        ("max_operand", "9"),
        ("min_operand", -3),
        ("operators", "+^"),
        ("sampling", "gauss"),
        ("train_size", 0),
        ("validation_size", -1),
        ("test_size", 2.5),
        ("seed", "zero"),
        ("negative_prob", 2),
    ],
)
def test_bad_config_values_name_the_field(corpus_cache, field, value):
    with pytest.raises(ValueError, match=field):
        ArithmeticCorpus(config_name="addition", cache_dir=corpus_cache, **{field: value})
    with pytest.raises(ValueError, match=field):
        ArithmeticConfig(name="custom", **{field: value})


def test_unknown_arguments_are_rejected(corpus_cache):
    with pytest.raises(ValueError, match="max_operandd"):
        ArithmeticCorpus(config_name="addition", cache_dir=corpus_cache, max_operandd=9)
    with pytest.raises(ValueError, match="not found"):
        ArithmeticCorpus(config_name="multiplication", cache_dir=corpus_cache)


def test_custom_named_config_object(corpus_cache, tiny_sizes):
    config = ArithmeticConfig(name="small_products", operators=("*",), max_operand=99, **tiny_sizes)
    corpus = load_corpus(config, cache_dir=corpus_cache)
    assert set(corpus["train"]["operator_class"]) == {"*"}
    assert_disjoint(corpus)


# ---------------------------------------------------------------------------
# statistics and export


def test_statistics_follow_the_sampling(corpus_cache):
    _, corpus = build(corpus_cache, train_size=3000, validation_size=50, test_size=50)
    statistics = corpus_statistics(corpus)
    assert statistics["size"][0] == {
        "split": "train",
        "examples": 3000,
        "distinct questions": len(set(keys(corpus["train"]))),
    }
    digits = {row["operand_digits"]: row["train %"] for row in statistics["operand_digits"]}
    # digit-balanced: every digit count 1..5 holds about a fifth of the operands (C17)
    assert all(16 < digits[count] < 24 for count in range(1, 6)), digits
    assert sum(digits.values()) == pytest.approx(100)
    assert {row["operator_class"]: row["train %"] for row in statistics["operator_class"]} == {"+": 100.0}


def test_every_script_flag_has_help():
    actions = make_corpus.build_parser()._actions
    assert {action.dest for action in actions} >= set(DATA_FIELDS)
    for action in actions:
        assert action.help and len(action.help) > 10, action.dest
    args = make_corpus.parse_args(["four_ops", "--operators=+-", "--max_operand", "7", "--negative_prob", "0.5"])
    assert (args.operators, args.max_operand, args.negative_prob, args.seed) == (("+", "-"), 7, 0.5, None)


def test_export_round_trips_through_load_dataset(tmp_path, corpus_cache, capsys):
    folder = tmp_path / "export"
    argv = ["four_ops", "--max_operand=999", "--train_size=500", "--validation_size=40", "--test_size=60"]
    make_corpus.main([*argv, "--cache_dir", corpus_cache, "--output_dir", str(folder)])
    printed = capsys.readouterr().out
    assert "operand_digits" in printed and "answer_length" in printed
    built = load_corpus(
        "four_ops", cache_dir=corpus_cache, max_operand=999, train_size=500, validation_size=40, test_size=60
    )

    loaded = datasets.load_dataset(str(folder), cache_dir=str(tmp_path / "load_cache"))
    assert set(loaded) == set(SPLITS)
    for split in SPLITS:
        assert loaded[split].features == CORPUS_FEATURES
        assert loaded[split].to_list() == built[split].to_list()
        lines = (folder / "jsonl" / f"{split}.jsonl").read_text().splitlines()
        assert len(lines) == len(built[split])
    card = (folder / "README.md").read_text()
    metadata = yaml.safe_load(card.split("---")[1])
    assert metadata["configs"][0]["config_name"] == "four_ops"
    assert [split["num_examples"] for split in metadata["dataset_info"]["splits"]] == [500, 40, 60]
    assert [split["num_bytes"] for split in metadata["dataset_info"]["splits"]] == [
        built[split].data.nbytes for split in ("train", "validation", "test")
    ]
    assert "python scripts/make_corpus.py four_ops" in card and "--max_operand=999" in card
