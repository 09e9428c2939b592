"""Tests of arith_hf.cards: card generation from evaluation results, training-config reading, Hub upload.

Run: .venv/bin/python -m pytest tests/test_cards.py -q
"""

from __future__ import annotations

import json
import shutil
from unittest import mock

import pytest
from huggingface_hub import ModelCard

from arith_hf.cards import (
    HUB_IGNORE_PATTERNS,
    answer_format_of,
    build_model_card,
    fill_marked_block,
    hub_files,
    push_to_hub,
    read_training_config,
    results_table,
    write_model_card,
)
from arith_hf.corpus import FIELD_HELP, NAMED_CONFIGS
from arith_hf.metrics import score_answers
from arith_hf.training import TRAINING_CONFIG_FILE
from scripts.train import build_parser
from tests.tiny_checkpoints import untrained_checkpoint

QUESTIONS = ["5+2", "7+90", "57+15", "852+0", "12+345", "999+1"]
PREDICTIONS = ["7", "97", "72", "852", "356", "abc"]  # 12+345 off by one, 999+1 not a number
REFERENCES = ["7", "97", "72", "852", "357", "1000"]


def training_config_yaml(**corpus) -> str:
    """A training configuration as scripts/train.py saves it: its own parser's dump, corpus fields filled in."""
    parser = build_parser()
    args = parser.parse_args(["--output_dir", "/somewhere/run", "--corpus.cache_dir", "/somewhere/cache"])
    for name in FIELD_HELP:
        value = corpus.get(name, getattr(NAMED_CONFIGS["addition"], name))
        setattr(args.corpus, name, "".join(value) if isinstance(value, tuple) else value)
    return parser.dump(args, skip_none=False)


@pytest.fixture(scope="module")
def scores():
    return score_answers(QUESTIONS, PREDICTIONS, REFERENCES)


@pytest.fixture()
def checkpoint(tmp_path_factory):
    """An untrained t5-tiny checkpoint with the training configuration of a 3-digit addition run."""
    folder = untrained_checkpoint(tmp_path_factory.mktemp("run") / "final", preset="t5-tiny")
    (folder / TRAINING_CONFIG_FILE).write_text(training_config_yaml(max_operand=999))
    return folder


# reading what a checkpoint records


def test_read_training_config_from_the_checkpoint_or_its_run(tmp_path, checkpoint):
    assert read_training_config(checkpoint)["corpus"]["max_operand"] == 999
    # checkpoint-<step> folders of a run may rely on the run's copy in the parent folder
    step_folder = checkpoint.parent / "checkpoint-10"
    step_folder.mkdir()
    (checkpoint.parent / TRAINING_CONFIG_FILE).write_text(training_config_yaml(max_operand=99))
    assert read_training_config(step_folder)["corpus"]["max_operand"] == 99
    assert read_training_config(tmp_path) == {}


def test_answer_format_from_config_then_training_config(tmp_path, tmp_path_factory):
    (tmp_path / TRAINING_CONFIG_FILE).write_text(
        training_config_yaml(operators="+-*/", division="decimal", decimal_places=2)
    )
    assert answer_format_of(tmp_path) == ("decimal", 2)
    # the model config wins when it records the format itself
    assert answer_format_of(tmp_path, mock.Mock(division="floor", decimal_places=None)) == ("floor", 2)
    assert answer_format_of(tmp_path_factory.mktemp("empty")) == ("exact", 4)


# the card


def test_card_holds_model_corpus_results_usage_and_limitations(checkpoint, scores, tmp_path):
    card = write_model_card(checkpoint, scores, "user/arith-add-3", model_cards_dir=tmp_path / "model_cards")
    text = (checkpoint / "README.md").read_text()
    assert (tmp_path / "model_cards" / "arith-add-3.md").read_text() == text
    assert text == str(card)

    # metadata: a model-index entry per metric of the one evaluation set
    loaded = ModelCard.load(checkpoint / "README.md")
    assert loaded.data.pipeline_tag == "text2text-generation"
    assert loaded.data.library_name == "transformers"
    [exact_match, mean_abs_diff] = loaded.data.eval_results
    assert (exact_match.metric_type, exact_match.metric_value) == ("exact_match", pytest.approx(4 / 6))
    assert (mean_abs_diff.metric_type, mean_abs_diff.metric_value) == ("mean_abs_diff", pytest.approx(1 / 5))
    assert exact_match.task_type == "text2text-generation"

    # body
    assert "# user/arith-add-3" in text
    assert "character-level T5 encoder-decoder (1.18M parameters" in text
    assert "It writes answers in natural order." in text  # the model config says so, whatever train.py defaults to
    assert "| max_operand     | 999      |" in text
    assert "/somewhere" not in text  # paths of the training machine stay out
    assert "| overall                       | all     | 66.67%" in text
    assert "| digits of the largest operand | 3       | 33.33%" in text
    assert "Every question has operator class +, operand count 2, parenthesis depth 0." in text
    assert 'AutoModelForSeq2SeqLM.from_pretrained("user/arith-add-3")' in text
    assert 'pipeline("text2text-generation", model="user/arith-add-3")' in text
    assert "Trained on operands up to 999 (3 digits)" in text
    assert "Answers of `/`" not in text  # an addition model never divides
    assert "Weakest stratum on test: digits of the largest operand = 3, exact match 33.33% over 3 questions" in text


def test_card_is_reproducible(checkpoint, scores):
    first = str(build_model_card(checkpoint, scores, "arith-add-3"))
    assert str(build_model_card(checkpoint, scores, "arith-add-3")) == first


def test_card_from_several_evaluation_records(checkpoint, scores):
    """The form scripts/train.py passes: {set name: {"scores", "dataset"}}."""
    uniform = score_answers(QUESTIONS[:4], PREDICTIONS[:4], REFERENCES[:4])
    results = {
        "addition test": {"scores": scores, "dataset": {"corpus": "addition", "split": "test", "overrides": None}},
        "uniform": {
            "scores": uniform,
            "dataset": {"corpus": "addition", "split": "test", "overrides": {"sampling": "uniform"}},
            "decoding": {"num_beams": 4},
        },
    }
    card = build_model_card(checkpoint, results, "arith-add-3")
    names = [(result.dataset_name, result.metric_type, result.dataset_args) for result in card.data.eval_results]
    assert names == [
        ("addition test", "exact_match", None),
        ("addition test", "mean_abs_diff", None),
        ("uniform", "exact_match", {"sampling": "uniform"}),
        ("uniform", "mean_abs_diff", {"sampling": "uniform"}),
    ]
    assert card.data.eval_results[2].metric_value == 1.0
    assert "### uniform" in card.text
    assert "split `test` of corpus `addition` with sampling=uniform; beam search with 4 beams" in card.text


def test_card_without_training_config(tmp_path, scores):
    folder = untrained_checkpoint(tmp_path / "bart", preset="bart-tiny")
    text = str(build_model_card(folder, {"overall": scores["overall"]}, "bare"))
    assert "The training configuration was not saved with this checkpoint." in text
    assert "operand range it was trained on is not recorded" in text
    assert "character-level BART encoder-decoder" in text


def test_bad_results_are_refused(checkpoint):
    with pytest.raises(ValueError, match="results\\['x'\\] is neither"):
        build_model_card(checkpoint, {"x": {"exact_match": 1.0}}, "bad")


def test_results_table_rows(scores):
    table = results_table(scores, tablefmt="tsv")
    rows = [[cell.strip() for cell in line.split("\t")] for line in table.splitlines()[1:] if "\t" in line]
    assert [row[:3] for row in rows] == [
        ["overall", "all", "66.67%"],
        ["digits of the largest operand", "1", "100.00%"],
        ["digits of the largest operand", "2", "100.00%"],
        ["digits of the largest operand", "3", "33.33%"],
    ]
    # 852+0 right, 12+345 off by one, 999+1 invalid: the mean is over the 2 valid answers
    assert rows[3][3:] == ["0.5", "1", "33.33%", "3"]  # mean, total abs diff, invalid rate, questions


# upload


def test_hub_files_leave_resume_state_behind(checkpoint):
    for name in ("training_state/optimizer.bin", "training_state/model.safetensors", "trainer_state.json"):
        (checkpoint / name).parent.mkdir(exist_ok=True)
        (checkpoint / name).write_text("x")
    files = hub_files(checkpoint)
    assert "training_state/optimizer.bin" not in files and "trainer_state.json" not in files
    assert {"config.json", "model.safetensors", "tokenizer.json", TRAINING_CONFIG_FILE} <= set(files)


def test_push_to_hub_uploads_the_folder_with_its_card(checkpoint, scores):
    write_model_card(checkpoint, scores, "user/arith-add-3")
    api = mock.Mock()
    push_to_hub(checkpoint, "user/arith-add-3", private=True, api=api)
    api.create_repo.assert_called_once_with("user/arith-add-3", repo_type="model", private=True, exist_ok=True)
    kwargs = api.upload_folder.call_args.kwargs
    assert kwargs["repo_id"] == "user/arith-add-3"
    assert kwargs["folder_path"] == str(checkpoint)
    assert kwargs["ignore_patterns"] == list(HUB_IGNORE_PATTERNS)
    assert "README.md" in hub_files(checkpoint)


def test_push_to_hub_needs_a_card(tmp_path, checkpoint):
    folder = tmp_path / "no-card"
    shutil.copytree(checkpoint, folder)
    api = mock.Mock()
    with pytest.raises(FileNotFoundError, match="lacks \\['README.md'\\]"):
        push_to_hub(folder, "user/x", api=api)
    api.create_repo.assert_not_called()


def test_card_metadata_is_valid_json_serialisable(checkpoint, scores):
    card = build_model_card(checkpoint, scores, "arith-add-3")
    json.dumps(card.data.to_dict())  # the Hub stores it as YAML/JSON; nothing exotic may sneak in
    assert card.data.to_dict()["model-index"][0]["name"] == "arith-add-3"


def test_fill_marked_block_replaces_only_its_block_and_refuses_a_page_without_it(tmp_path):
    page = tmp_path / "README.md"
    page.write_text("a\n<!-- t:start -->\nold\n<!-- t:end -->\nb <!-- u:start -->x<!-- u:end -->\n")
    fill_marked_block(page, "t", "\nnew\n\n")
    assert page.read_text() == "a\n<!-- t:start -->\nnew\n<!-- t:end -->\nb <!-- u:start -->x<!-- u:end -->\n"
    fill_marked_block(page, "t", "newer")  # filling again replaces, never appends
    assert page.read_text() == "a\n<!-- t:start -->\nnewer\n<!-- t:end -->\nb <!-- u:start -->x<!-- u:end -->\n"
    for broken in ("no markers\n", "<!-- t:end --> <!-- t:start -->\n", "<!-- t:start -->" * 2 + "<!-- t:end -->"):
        page.write_text(broken)
        with pytest.raises(ValueError, match="needs exactly one <!-- t:start --> followed by one <!-- t:end -->"):
            fill_marked_block(page, "t", "new")
        assert page.read_text() == broken
