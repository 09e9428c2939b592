"""Model cards generated from evaluation results, and the upload of a checkpoint folder to the Hub.

A card is never written by hand: :func:`write_model_card` builds it from the checkpoint's ``config.json``, the
training configuration saved next to the checkpoint (when there is one) and evaluation results, with
huggingface_hub's :class:`~huggingface_hub.ModelCard` API and ``model-index`` metadata. Running it again on the
same inputs writes the same card.

``results`` may be any of

- what :func:`arith_hf.metrics.score_answers` returns (``{"overall": ..., "by": ...}``);
- an evaluation record as ``scripts/evaluate.py --output`` writes it (``{"scores": <score_answers result>,
  "dataset": {...}, "decoding": {...}}``), which also names the data and the decoding;
- a mapping from an evaluation set's name to either of the above, for a model evaluated on several sets.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from huggingface_hub import EvalResult, HfApi, ModelCard, ModelCardData
from tabulate import tabulate

logger = logging.getLogger(__name__)

# where a training run may have saved its configuration, looked for in the checkpoint folder, then its parent
TRAINING_CONFIG_FILES = ("training_config.json", "train_config.json", "training_config.yaml", "config.yaml")
# files of a checkpoint that only resuming needs; they stay off the Hub
HUB_IGNORE_PATTERNS = (
    "optimizer*",
    "scheduler*",
    "rng_state*",
    "random_states*",
    "scaler*",
    "training_state*",
    "trainer_state.json",
    "*.pt",
    "*.pkl",
)
STRATUM_TITLES = {
    "operator_class": "operator class",
    "max_digits": "digits of the largest operand",
    "num_operands": "operand count",
    "depth": "parenthesis depth",
}
# settings that name places on the training machine: they say nothing about the model, and would make the
# card differ between two machines that trained the same model
_MACHINE_SETTINGS = {
    "config",
    "cache_dir",
    "output_dir",
    "model_cards_dir",
    "resume_from_checkpoint",
    "overwrite_output_dir",
    "logging_dir",
    "report_to",
    "progress_bar",
    "threads",
}
# how a number of each score key is shown in tables
_COLUMNS = (
    ("exact_match", "exact match", lambda value: f"{100 * value:.2f}%"),
    ("mean_abs_diff", "mean abs diff", lambda value: f"{value:.4g}"),
    ("total_abs_diff", "total abs diff", lambda value: f"{value:.6g}"),
    ("invalid_rate", "invalid", lambda value: f"{100 * value:.2f}%"),
    ("count", "questions", lambda value: str(value)),
)


# ---------------------------------------------------------------------------
# What a checkpoint knows about how it was trained


def read_training_config(checkpoint_dir: str | os.PathLike) -> dict:
    """The training configuration saved with a checkpoint, or ``{}`` when there is none.

    Looks for :data:`TRAINING_CONFIG_FILES` in the checkpoint folder, then in its parent (a run saves one
    configuration for all of its ``checkpoint-<step>`` folders).
    """
    checkpoint_dir = Path(checkpoint_dir)
    for folder in (checkpoint_dir, checkpoint_dir.parent):
        for name in TRAINING_CONFIG_FILES:
            path = folder / name
            if not path.is_file():
                continue
            text = path.read_text()
            if path.suffix == ".json":
                config = json.loads(text)
            else:
                import yaml

                config = yaml.safe_load(text)
            if isinstance(config, dict):
                logger.debug("training configuration from %s", path)
                return config
    return {}


def _find_key(tree, key: str):
    """The first value stored under ``key`` anywhere in nested dicts, or None."""
    if isinstance(tree, Mapping):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = _find_key(value, key)
            if found is not None:
                return found
    return None


def corpus_config_of(training_config: dict) -> dict:
    """The ``corpus`` entry of a training configuration (``name`` and every corpus field), or ``{}``."""
    corpus = training_config.get("corpus") if isinstance(training_config, Mapping) else None
    return dict(corpus) if isinstance(corpus, Mapping) else {}


def answer_format_of(checkpoint_dir: str | os.PathLike | None = None, config=None) -> tuple[str, int]:
    """``(division, decimal_places)``: how the checkpoint was taught to write answers of ``/``.

    Read from the model config (``division``, ``decimal_places`` attributes) if present, else from the saved
    training configuration; ``("exact", 4)`` when neither says.
    """
    division = getattr(config, "division", None)
    places = getattr(config, "decimal_places", None)
    if (division is None or places is None) and checkpoint_dir is not None:
        training = read_training_config(checkpoint_dir)
        division = division or _find_key(training, "division")
        places = places if places is not None else _find_key(training, "decimal_places")
    return division or "exact", int(places) if places is not None else 4


# ---------------------------------------------------------------------------
# Results


def _evaluation_sets(results: Mapping) -> dict[str, dict]:
    """Normalise ``results`` (see the module docstring) to ``{set name: evaluation record}``."""
    if "overall" in results:
        return {"test": {"scores": dict(results)}}
    if "scores" in results:
        return {_set_name(results): dict(results)}
    sets = {}
    for name, value in results.items():
        if not isinstance(value, Mapping) or not ("overall" in value or "scores" in value):
            raise ValueError(f"results[{name!r}] is neither a score_answers result nor an evaluation record")
        sets[str(name)] = {"scores": dict(value)} if "overall" in value else dict(value)
    if not sets:
        raise ValueError("results hold no evaluation")
    return sets


def _set_name(record: Mapping) -> str:
    dataset = record.get("dataset") or {}
    if dataset.get("jsonl"):
        return Path(dataset["jsonl"]).stem
    if dataset.get("corpus"):
        return f"{dataset['corpus']} {dataset.get('split', 'test')}"
    return "test"


def results_table(scores: Mapping, tablefmt: str = "github") -> str:
    """The overall row, then one row per value of each stratum in ``scores["by"]``, as a table.

    A stratum with a single value would repeat the overall row; it is named in a line under the table instead
    (``every question has operator class +, operand count 2``).
    """
    headers = ["stratum", "value"] + [title for _, title, _ in _COLUMNS]

    def row(stratum: str, value: str, numbers: Mapping) -> list[str]:
        return [stratum, value] + [show(numbers[key]) for key, _, show in _COLUMNS]

    rows = [row("overall", "all", scores["overall"])]
    constant = []
    for stratum, groups in scores.get("by", {}).items():
        title = STRATUM_TITLES.get(stratum, stratum)
        if len(groups) == 1:
            constant.append(f"{title} {next(iter(groups))}")
            continue
        for value, numbers in groups.items():
            rows.append(row(title, str(value), numbers))
    table = tabulate(rows, headers=headers, tablefmt=tablefmt, disable_numparse=True)
    return table + (f"\n\nEvery question has {', '.join(constant)}." if constant else "")


def _eval_results(sets: dict[str, dict], model_name: str) -> list[EvalResult]:
    eval_results = []
    for name, record in sets.items():
        dataset = record.get("dataset") or {}
        overall = record["scores"]["overall"]
        common = dict(
            task_type="text2text-generation",
            task_name="Arithmetic",
            dataset_type=dataset.get("corpus") or "arithmetic",
            dataset_name=name,
            # the Hub merges results with equal (task, type, config, split); two sets of one corpus that differ
            # only in their overrides would merge, so the config names the set
            dataset_config=name,
            dataset_split=dataset.get("split"),
            dataset_args=dataset.get("overrides") or None,
        )
        exact_match = overall["exact_match"]
        eval_results.append(
            EvalResult(metric_type="exact_match", metric_name="Exact match", metric_value=exact_match, **common)
        )
        eval_results.append(
            EvalResult(
                metric_type="mean_abs_diff",
                metric_name="Mean absolute difference",
                metric_value=overall["mean_abs_diff"],
                **common,
            )
        )
    return eval_results


# ---------------------------------------------------------------------------
# The card


def _parameter_count(checkpoint_dir: Path) -> int | None:
    """Parameters in the checkpoint's safetensors files, read from their headers without loading weights."""
    files = sorted(checkpoint_dir.glob("*.safetensors"))
    if not files:
        return None
    from safetensors import safe_open

    total = 0
    seen = set()
    for path in files:
        with safe_open(path, framework="pt") as weights:
            for name in weights.keys():
                if name in seen:
                    continue
                seen.add(name)
                shape = weights.get_slice(name).get_shape()
                count = 1
                for size in shape:
                    count *= size
                total += count
    return total


def _read_model_config(checkpoint_dir: Path) -> dict:
    path = checkpoint_dir / "config.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def _describe_model(model_config: dict, parameters: int | None) -> str:
    family = {"t5": "T5", "bart": "BART"}.get(model_config.get("model_type"), model_config.get("model_type", "?"))
    size = f"{parameters / 1e6:.2f}M parameters" if parameters else "parameter count unknown"
    layers = model_config.get("num_layers", model_config.get("encoder_layers", "?"))
    decoder_layers = model_config.get("num_decoder_layers", model_config.get("decoder_layers", "?"))
    return (
        f"A character-level {family} encoder-decoder ({size}; d_model {model_config.get('d_model', '?')}, "
        f"{layers} encoder and {decoder_layers} decoder layers) that answers arithmetic questions such as "
        "`567+4214` with their exact answer (`4781`). It reads the question one character per token and writes "
        "the answer one character per token."
    )


def _corpus_section(corpus: dict, training: dict) -> str:
    if not corpus and not training:
        return "The training configuration was not saved with this checkpoint."
    lines = []
    if corpus:
        name = corpus.get("name") or "custom"
        rows = [
            [key, json.dumps(value)]
            for key, value in sorted(corpus.items())
            if key not in _MACHINE_SETTINGS | {"name"}
        ]
        lines.append(f"Corpus `{name}` of `arith_hf.corpus`, built with these fields:\n")
        lines.append(tabulate(rows, headers=["field", "value"], tablefmt="github", disable_numparse=True))
    rest = {key: value for key, value in training.items() if key not in _MACHINE_SETTINGS | {"corpus"}}
    if rest:
        rows = [[key, json.dumps(value)] for key, value in sorted(rest.items())]
        lines.append("\nTraining settings:\n")
        lines.append(tabulate(rows, headers=["setting", "value"], tablefmt="github", disable_numparse=True))
    return "\n".join(lines)


def _results_section(sets: dict[str, dict]) -> str:
    parts = []
    for name, record in sets.items():
        parts.append(f"### {name}\n")
        dataset, decoding = record.get("dataset") or {}, record.get("decoding") or {}
        details = []
        if dataset.get("jsonl"):
            details.append(f"questions from `{Path(dataset['jsonl']).name}`")
        elif dataset.get("corpus"):
            overrides = ", ".join(f"{key}={value}" for key, value in sorted((dataset.get("overrides") or {}).items()))
            details.append(
                f"split `{dataset.get('split', 'test')}` of corpus `{dataset['corpus']}`"
                + (f" with {overrides}" if overrides else "")
            )
        beams = decoding.get("num_beams", 1)
        details.append("greedy decoding" if beams == 1 else f"beam search with {beams} beams")
        parts.append("Evaluated on " + "; ".join(details) + ".\n")
        parts.append(results_table(record["scores"]) + "\n")
    return "\n".join(parts)


def _usage_section(model_id: str) -> str:
    return f"""`{model_id}` stands for the Hub id or the local folder of this checkpoint.

With `from_pretrained` (transformers only; answers come out in the order the model writes them):

```python
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

tokenizer = AutoTokenizer.from_pretrained("{model_id}")
model = AutoModelForSeq2SeqLM.from_pretrained("{model_id}")
inputs = tokenizer(["567+4214"], return_tensors="pt")
output = model.generate(**inputs)
target = tokenizer.decode(output[0], skip_special_tokens=True)
answer = target[::-1] if model.config.answer_order == "reverse" else target
```

With the pipeline (`import arith_hf` registers the `text2text-generation` task, which transformers 5 removed):

```python
import arith_hf  # noqa: F401
from transformers import pipeline

answerer = pipeline("text2text-generation", model="{model_id}")
answerer("567+4214")  # [{{'generated_text': '4781'}}]
answerer("567+4214", num_beams=4, num_return_sequences=4)  # 4 candidates with score, log_prob, complete
```"""


def _limitations_section(model_config: dict, corpus: dict, sets: dict[str, dict]) -> str:
    items = []
    max_operand = corpus.get("max_operand")
    if max_operand is not None:
        items.append(
            f"Trained on operands up to {max_operand} ({len(str(max_operand))} digits). Longer operands are "
            "outside the training distribution; expect wrong answers, not an error."
        )
    else:
        items.append("The operand range it was trained on is not recorded; treat longer operands with suspicion.")
    operators = corpus.get("operators")
    if operators:
        items.append(f"Trained on the operators {' '.join(operators)} only.")
    if model_config.get("max_question_length"):
        items.append(
            f"Questions longer than {model_config['max_question_length']} characters are refused by the "
            "arith_hf pipeline (with plain `generate` they are outside anything the model has seen)."
        )
    if model_config.get("max_answer_length"):
        items.append(
            f"Generation stops after {model_config['max_answer_length'] + 1} tokens (the longest training answer "
            "plus eos); the pipeline marks an answer cut there with `complete: False`."
        )
    items.append(
        "Only the characters `0123456789+-*/(). ` are understood; any other character is refused by the pipeline."
    )
    for name, record in sets.items():
        weakest = _weakest_stratum(record["scores"])
        if weakest is not None:
            stratum, value, numbers = weakest
            items.append(
                f"Weakest stratum on {name}: {STRATUM_TITLES.get(stratum, stratum)} = {value}, exact match "
                f"{100 * numbers['exact_match']:.2f}% over {numbers['count']} questions."
            )
    items.append("A score is no proof: check answers that matter with an exact evaluator (`arith_hf.solve`).")
    return "\n".join(f"- {item}" for item in items)


def _weakest_stratum(scores: Mapping):
    candidates = [
        (numbers["exact_match"], stratum, value, numbers)
        for stratum, groups in scores.get("by", {}).items()
        for value, numbers in groups.items()
        if numbers.get("count")
    ]
    if not candidates:
        return None
    _, stratum, value, numbers = min(candidates, key=lambda item: item[0])
    return stratum, value, numbers


def build_model_card(checkpoint_dir: str | os.PathLike, results: Mapping, model_name: str) -> ModelCard:
    """The card of a checkpoint, from its files and ``results`` (see the module docstring); nothing is written."""
    checkpoint_dir = Path(checkpoint_dir)
    model_config = _read_model_config(checkpoint_dir)
    training = read_training_config(checkpoint_dir)
    corpus = corpus_config_of(training)
    sets = _evaluation_sets(results)
    division, places = answer_format_of(checkpoint_dir, _AttributeView(model_config))
    family = model_config.get("model_type", "seq2seq")
    card_data = ModelCardData(
        model_name=model_name,
        library_name="transformers",
        pipeline_tag="text2text-generation",
        license="apache-2.0",
        tags=["arithmetic", "arith_hf", "character-level", family],
        metrics=["exact_match"],
        eval_results=_eval_results(sets, model_name),
    )
    order = model_config.get("answer_order", "natural")
    order_note = (
        "It writes answers back to front (least significant digit first, the order in which carries are worked "
        "out); the pipeline turns them around."
        if order == "reverse"
        else "It writes answers in natural order."
    )
    division_note = ""
    if "/" in corpus.get("operators", "/"):
        places_note = f" with {places} places" if division == "decimal" else ""
        division_note = f" Answers of `/` are written in the `{division}` format{places_note}."
    body = f"""# {model_name}

{_describe_model(model_config, _parameter_count(checkpoint_dir))} {order_note}{division_note}

This card was generated by `arith_hf.cards` from the checkpoint and its evaluation results; edit the code,
not the card.

## Training data

{_corpus_section(corpus, training)}

## Results

Exact match compares answer strings; absolute differences compare answers as exact numbers, and an answer that
is not a number counts as invalid and adds nothing to them.

{_results_section(sets)}
## How to use

{_usage_section(model_name)}

## Limitations

{_limitations_section(model_config, corpus, sets)}
"""
    return ModelCard(f"---\n{card_data.to_yaml()}\n---\n\n{body}")


class _AttributeView:
    """A dict read through attributes, so a raw config.json reads like a PretrainedConfig."""

    def __init__(self, values: dict):
        self._values = values

    def __getattr__(self, name):
        return self._values.get(name)


def write_model_card(
    checkpoint_dir: str | os.PathLike,
    results: Mapping,
    model_name: str,
    model_cards_dir: str | os.PathLike | None = None,
) -> ModelCard:
    """Write the card as ``README.md`` in the checkpoint folder and, if given, ``<model_cards_dir>/<name>.md``.

    ``model_name`` titles the card and is the repository id shown in the usage examples (``user/name`` for a
    Hub model); the copy in ``model_cards_dir`` is named after its last part.
    """
    card = build_model_card(checkpoint_dir, results, model_name)
    card.save(Path(checkpoint_dir) / "README.md")
    if model_cards_dir is not None:
        model_cards_dir = Path(model_cards_dir)
        model_cards_dir.mkdir(parents=True, exist_ok=True)
        card.save(model_cards_dir / f"{model_name.split('/')[-1]}.md")
    logger.info("model card for %s written to %s", model_name, checkpoint_dir)
    return card


# ---------------------------------------------------------------------------
# Upload


def hub_files(checkpoint_dir: str | os.PathLike) -> list[str]:
    """The files of a checkpoint folder that :func:`push_to_hub` uploads, relative and sorted."""
    checkpoint_dir = Path(checkpoint_dir)
    files = []
    for path in sorted(checkpoint_dir.rglob("*")):
        relative = path.relative_to(checkpoint_dir).as_posix()
        if path.is_file() and not any(fnmatch.fnmatch(relative, pattern) for pattern in HUB_IGNORE_PATTERNS):
            files.append(relative)
    return files


def push_to_hub(
    checkpoint_dir: str | os.PathLike,
    hub_model_id: str,
    private: bool = False,
    token: str | None = None,
    commit_message: str = "Upload arith_hf checkpoint",
    api: HfApi | None = None,
):
    """Create (or reuse) the model repository and upload the checkpoint folder with its card.

    The folder needs ``README.md`` (see :func:`write_model_card`); optimizer and other resume-only state is left
    behind (:data:`HUB_IGNORE_PATTERNS`). Returns what ``upload_folder`` returns (the commit info).
    """
    checkpoint_dir = Path(checkpoint_dir)
    missing = [name for name in ("README.md", "config.json") if not (checkpoint_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{checkpoint_dir} lacks {missing}; evaluate and write the model card first")
    api = api or HfApi(token=token)
    api.create_repo(hub_model_id, repo_type="model", private=private, exist_ok=True)
    logger.info("uploading %d files of %s to %s", len(hub_files(checkpoint_dir)), checkpoint_dir, hub_model_id)
    return api.upload_folder(
        repo_id=hub_model_id,
        repo_type="model",
        folder_path=str(checkpoint_dir),
        commit_message=commit_message,
        ignore_patterns=list(HUB_IGNORE_PATTERNS),
    )


def fill_marked_block(path: str | os.PathLike, name: str, text: str) -> None:
    r"""Replace what stands between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the file at ``path``.

    How generated tables (the main job's results, the benchmark) stay in the README without being edited by hand.

    >>> import tempfile
    >>> page = Path(tempfile.mkdtemp()) / "README.md"
    >>> _ = page.write_text("# title\n<!-- table:start -->\nold\n<!-- table:end -->\ntail\n")
    >>> fill_marked_block(page, "table", "| a |\n| 1 |")
    >>> print(page.read_text())
    # title
    <!-- table:start -->
    | a |
    | 1 |
    <!-- table:end -->
    tail
    <BLANKLINE>
    """
    path = Path(path)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    page = path.read_text()
    if page.count(start) != 1 or page.count(end) != 1 or page.index(start) > page.index(end):
        raise ValueError(f"{path} needs exactly one {start} followed by one {end}, to fill with the {name} block")
    head, rest = page.split(start)
    _, tail = rest.split(end)
    path.write_text(f"{head}{start}\n{text.strip()}\n{end}{tail}")


__all__ = [
    "HUB_IGNORE_PATTERNS",
    "TRAINING_CONFIG_FILES",
    "answer_format_of",
    "build_model_card",
    "corpus_config_of",
    "fill_marked_block",
    "hub_files",
    "push_to_hub",
    "read_training_config",
    "results_table",
    "write_model_card",
]
