"""Build an arithmetic corpus, print its statistics and export it as Parquet + JSON Lines with a dataset card.

    python scripts/make_corpus.py addition
    python scripts/make_corpus.py four_ops --max_operand 999 --division decimal --output_dir outputs/four_ops_999
    python scripts/make_corpus.py seed_expressions --train_size 10000000 --no_jsonl

The exported folder loads with ``datasets.load_dataset(<folder>)`` and uploads to the Hub as it is
(``hf upload <repo> <folder> --repo-type dataset``).
"""

import argparse
import dataclasses
import logging
import sys
import time
from pathlib import Path

from tabulate import tabulate

from arith_hf.corpus import (
    DATA_FIELDS,
    FIELD_HELP,
    NAMED_CONFIGS,
    ArithmeticConfig,
    ArithmeticCorpus,
    corpus_statistics,
    export_corpus,
    format_statistics,
)
from arith_hf.expressions import DIVISION_FORMATS, SAMPLING_MODES, SPACING_MODES

CHOICES = {"sampling": SAMPLING_MODES, "spacing": SPACING_MODES, "division": DIVISION_FORMATS}


def named_config_table() -> str:
    rows = [
        {
            "config": name,
            "operands": f"{config.min_operands}..{config.max_operands}",
            "range": f"{config.min_operand}..{config.max_operand}",
            "operators": "".join(config.operators),
            "parens / depth": f"{config.max_parens} / {config.max_depth}",
            "sampling": config.sampling,
            "train / validation / test": f"{config.train_size} / {config.validation_size} / {config.test_size}",
        }
        for name, config in NAMED_CONFIGS.items()
    ]
    return tabulate(rows, headers="keys")


def _operators(text: str) -> tuple[str, ...]:
    # '+-*/', '+,-' and '+ -' all mean the same operators
    return tuple(char for char in text if char not in ", ")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="named configs and their defaults:\n\n" + named_config_table(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("config", choices=sorted(NAMED_CONFIGS), help="named config to start from")

    distribution = parser.add_argument_group("config fields (unset: the named config's value, see below)")
    defaults = {field.name: field.default for field in dataclasses.fields(ArithmeticConfig)}
    for name in DATA_FIELDS:
        kind = type(defaults[name])
        distribution.add_argument(
            f"--{name}",
            type=_operators if kind is tuple else kind,
            choices=CHOICES.get(name),
            default=None,
            help=FIELD_HELP[name] + (" (write --operators=+- with '=')" if name == "operators" else ""),
        )

    output = parser.add_argument_group("output")
    output.add_argument(
        "--name", default=None, help="name of the corpus in the card and cache (default: the config's)"
    )
    output.add_argument(
        "--output_dir", type=Path, default=None, help="export folder (default: outputs/corpus/<name>-<fingerprint>)"
    )
    output.add_argument("--cache_dir", default=None, help="datasets cache folder (default: ~/.cache/huggingface)")
    output.add_argument("--no_jsonl", action="store_true", help="export Parquet only, skip the JSON Lines copy")
    output.add_argument("--no_export", action="store_true", help="build and print statistics, write no export")
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def main(argv: list[str] | None = None) -> Path | None:
    # 1. arguments
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    overrides = {name: getattr(args, name) for name in DATA_FIELDS if getattr(args, name) is not None}
    config = dataclasses.replace(NAMED_CONFIGS[args.config], **overrides)
    if args.name is not None:
        config = dataclasses.replace(config, name=args.name)
    print(f"config {config.name} ({config.fingerprint()}): {config.summary()}")

    # 2. build (or reuse the cache)
    start = time.perf_counter()
    builder = ArithmeticCorpus(config=config, cache_dir=args.cache_dir)
    builder.download_and_prepare()
    corpus = builder.as_dataset()
    sizes = " / ".join(f"{split} {len(dataset):,}" for split, dataset in corpus.items())
    print(f"built in {time.perf_counter() - start:.1f} s: {sizes}")

    # 3. statistics
    statistics = corpus_statistics(corpus)
    print()
    print(format_statistics(statistics, tablefmt="simple"))
    print()

    # 4. export with a dataset card
    if args.no_export:
        return None
    output_dir = args.output_dir or Path("outputs") / "corpus" / f"{config.name}-{config.fingerprint()}"
    formats = ("parquet",) if args.no_jsonl else ("parquet", "jsonl")
    export_corpus(corpus, config, output_dir, formats=formats, statistics=statistics)
    print(f"exported to {output_dir} ({', '.join(formats)}, README.md)")
    return output_dir


if __name__ == "__main__":
    main(sys.argv[1:])
