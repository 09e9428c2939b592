"""Tests for arith_hf.modeling: special ids, generation defaults, beams, length limits, checkpoints (C05-C08).

Every test runs on both model families with tiny widths (d_model 32), except the preset checks, which
build the real presets on the meta device so no weights are allocated.
Run with: .venv/bin/python -m pytest tests/test_modeling.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM, GenerationConfig

from arith_hf.expressions import ExpressionSpec, solve
from arith_hf.modeling import (
    PRESETS,
    answer_order_of,
    build_config,
    build_generation_config,
    create_model,
    max_question_length_of,
)
from arith_hf.tokenizer import InvalidQuestionError, build_tokenizer, decode_answers, encode_questions

# tiny widths per family: the presets' structure at a fraction of their cost
TINY = {
    "t5-tiny": dict(d_model=32, d_ff=64, num_heads=2, d_kv=16),
    "bart-tiny": dict(
        d_model=32, encoder_ffn_dim=64, decoder_ffn_dim=64, encoder_attention_heads=2, decoder_attention_heads=2
    ),
}
FAMILIES = list(TINY)
MAX_QUESTION_LENGTH = 40
MAX_ANSWER_LENGTH = 20
# parameters of each preset for the 22-token vocabulary, 64-character questions and 32-character answers
PRESET_PARAMETERS = {
    "t5-mini": 231_808,
    "t5-tiny": 1_184_256,
    "t5-small": 9_448_960,
    "bart-tiny": 1_209_344,
    "bart-small": 9_515_008,
}


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


def tiny_model(preset, tokenizer, max_question_length=MAX_QUESTION_LENGTH, max_answer_length=MAX_ANSWER_LENGTH, **kw):
    model = create_model(preset, tokenizer, max_question_length, max_answer_length, seed=0, **TINY[preset], **kw)
    return model.eval()


def special_ids(config) -> dict:
    return {key: getattr(config, key, None) for key in sorted(dir(config)) if key.endswith("_token_id")}


# ---------------------------------------------------------------------------
# presets


def test_preset_parameter_counts(tokenizer):
    for preset, expected in PRESET_PARAMETERS.items():
        with torch.device("meta"):
            model = create_model(preset, tokenizer, max_question_length=64, max_answer_length=32)
        assert model.num_parameters() == expected, preset
    assert 1_000_000 <= PRESET_PARAMETERS["t5-tiny"] <= 2_000_000
    assert 8_000_000 <= PRESET_PARAMETERS["t5-small"] <= 12_000_000


def test_preset_comments_state_the_measured_counts():
    source = open(sys.modules[create_model.__module__].__file__).read()
    for preset, expected in PRESET_PARAMETERS.items():
        assert f"# {preset}: {expected / 1e6:.2f}M parameters ({expected:,})" in source


def test_build_config_rejects_unknown_preset_and_answer_order(tokenizer):
    with pytest.raises(ValueError, match="unknown preset 't5-huge'"):
        build_config("t5-huge", tokenizer, 10, 5)
    with pytest.raises(ValueError, match="answer_order must be one of"):
        build_config("t5-tiny", tokenizer, 10, 5, answer_order="backwards")


# ---------------------------------------------------------------------------
# C05 special ids agree


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_c05_special_ids_agree_in_config_and_generation_config(tokenizer, preset):
    with torch.device("meta"):
        model = create_model(preset, tokenizer, MAX_QUESTION_LENGTH, MAX_ANSWER_LENGTH)
    start = tokenizer.pad_token_id if preset.startswith("t5") else tokenizer.bos_token_id
    expected = dict(
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
        decoder_start_token_id=start,
    )
    for config in (model.config, model.generation_config):
        ids = special_ids(config)
        assert {key: ids[key] for key in expected} == expected
        # no forced token: BART's defaults (bos 0, eos 2) name other tokens here, and a forced eos would
        # make an answer cut at the length limit look finished
        assert ids.get("forced_eos_token_id") is None and ids.get("forced_bos_token_id") is None
        assert set(ids.values()) <= {*expected.values(), None}
    assert model.config.vocab_size == len(tokenizer)


@pytest.mark.parametrize("preset", FAMILIES)
def test_c05_special_ids_survive_save_and_load(tokenizer, preset, tmp_path):
    model = tiny_model(preset, tokenizer)
    model.save_pretrained(tmp_path)
    loaded = AutoModelForSeq2SeqLM.from_pretrained(tmp_path)
    assert special_ids(loaded.config) == special_ids(model.config)
    assert special_ids(loaded.generation_config) == special_ids(model.generation_config)
    assert GenerationConfig.from_pretrained(tmp_path).max_new_tokens == MAX_ANSWER_LENGTH + 1


# ---------------------------------------------------------------------------
# C06 long answers are not cut


LONG_QUESTIONS = {
    "99999*99999": ExpressionSpec(max_operand=99999, operators=("*",)),
    "99999999999999999999+99999999999999999999": ExpressionSpec(max_operand=10**20 - 1, operators=("+",)),
}


def force_answer(tokenizer, answer: str):
    """A prefix_allowed_tokens_fn that makes any model write ``answer`` then eos, as a trained one would."""
    target = [*tokenizer.convert_tokens_to_ids(list(answer)), tokenizer.eos_token_id]

    def allowed(batch_id, decoder_ids):
        step = decoder_ids.shape[-1] - 1  # the decoder start token is not part of the answer
        return [target[step]] if step < len(target) else [tokenizer.pad_token_id]

    return allowed


@pytest.mark.parametrize("preset", FAMILIES)
@pytest.mark.parametrize("question", list(LONG_QUESTIONS))
def test_c06_longest_answer_fits_the_default_length(tokenizer, preset, question):
    spec = LONG_QUESTIONS[question]
    answer = solve(question)
    assert len(answer) == spec.max_answer_length()  # the corpus bound is tight for these questions
    model = tiny_model(preset, tokenizer, spec.max_question_length(), spec.max_answer_length())
    assert model.generation_config.max_new_tokens == len(answer) + 1  # the answer, then eos

    batch = encode_questions(tokenizer, question, max_length=max_question_length_of(model))
    generated = model.generate(**batch, prefix_allowed_tokens_fn=force_answer(tokenizer, answer))  # no length args
    assert decode_answers(tokenizer, generated, return_complete=True) == ([answer], [True])

    # one token less and the same answer is cut before its eos, and reported as incomplete
    generated = model.generate(
        **batch, prefix_allowed_tokens_fn=force_answer(tokenizer, answer), max_new_tokens=len(answer)
    )
    assert decode_answers(tokenizer, generated, return_complete=True) == ([answer], [False])


@pytest.mark.parametrize("preset", FAMILIES)
def test_c06_hypothesis_without_eos_is_reported(tokenizer, preset):
    model = tiny_model(preset, tokenizer)
    batch = encode_questions(tokenizer, ["1+1", "22+22"])
    generated = model.generate(**batch, suppress_tokens=[tokenizer.eos_token_id])  # a model that never stops
    assert generated.shape == (2, 1 + MAX_ANSWER_LENGTH + 1)  # decoder start, then the whole budget
    _, complete = decode_answers(tokenizer, generated, return_complete=True)
    assert complete == [False, False]


@pytest.mark.parametrize("preset", FAMILIES)
def test_c06_training_on_the_longest_answer_fits_the_positions(tokenizer, preset):
    model = tiny_model(preset, tokenizer)
    question, answer = "9" * MAX_QUESTION_LENGTH, "9" * MAX_ANSWER_LENGTH
    batch = encode_questions(tokenizer, question, max_length=max_question_length_of(model))
    labels = tokenizer(text_target=answer, return_tensors="pt")["input_ids"]
    loss = model(**batch, labels=labels).loss
    assert torch.isfinite(loss)


# ---------------------------------------------------------------------------
# C07 beams


@pytest.mark.parametrize("preset", FAMILIES)
def test_c07_beam_candidates_grouped_by_input_and_sorted(tokenizer, preset):
    model = tiny_model(preset, tokenizer)
    questions = ["12+345", "7*8"]
    beams = dict(num_beams=4, num_return_sequences=4, output_scores=True, return_dict_in_generate=True)
    together = model.generate(**encode_questions(tokenizer, questions), **beams)
    assert together.sequences.shape[0] == 8
    scores = together.sequences_scores.view(2, 4)
    assert torch.equal(scores, scores.sort(dim=1, descending=True).values)
    for index, question in enumerate(questions):
        alone = model.generate(**encode_questions(tokenizer, question), **beams)
        rows = together.sequences[4 * index : 4 * index + 4, : alone.sequences.shape[1]]
        assert torch.equal(rows, alone.sequences)
        assert torch.allclose(scores[index], alone.sequences_scores, atol=1e-5)


@pytest.mark.parametrize("preset", FAMILIES)
def test_c07_more_sequences_than_beams_is_a_clear_error(tokenizer, preset):
    model = tiny_model(preset, tokenizer)
    batch = encode_questions(tokenizer, ["1+1", "2+2"])
    with pytest.raises(
        ValueError, match=r"`num_return_sequences` \(5\) has to be smaller or equal to `num_beams` \(4\)"
    ):
        model.generate(**batch, num_beams=4, num_return_sequences=5)
    with pytest.raises(ValueError, match="num_return_sequences"):
        model.generate(**batch, num_return_sequences=2)  # greedy decoding has one sequence only


# ---------------------------------------------------------------------------
# C08 over-long input


@pytest.mark.parametrize("preset", FAMILIES)
def test_c08_over_long_question_names_the_limit(tokenizer, preset):
    model = tiny_model(preset, tokenizer)
    limit = max_question_length_of(model)
    assert limit == MAX_QUESTION_LENGTH
    question = "+".join(["1"] * 150)  # 299 characters
    question += "1"
    assert len(question) == 300
    with pytest.raises(InvalidQuestionError, match=f"has 300 characters; the model accepts at most {limit}"):
        encode_questions(tokenizer, question, max_length=limit)
    encode_questions(tokenizer, "1" * limit, max_length=limit)  # the limit itself is accepted


def test_c08_bart_limit_never_exceeds_its_positions(tokenizer):
    config = build_config("bart-tiny", tokenizer, MAX_QUESTION_LENGTH, MAX_ANSWER_LENGTH)
    assert config.max_position_embeddings == MAX_QUESTION_LENGTH + 1  # the question, then eos
    config.max_question_length = 500  # a config edited by hand
    assert max_question_length_of(config) == MAX_QUESTION_LENGTH
    del config.max_question_length  # a BART checkpoint from elsewhere
    assert max_question_length_of(config) == MAX_QUESTION_LENGTH


# ---------------------------------------------------------------------------
# checkpoints


@pytest.mark.parametrize("answer_order", ["natural", "reverse"])
def test_answer_order_travels_in_the_checkpoint(tokenizer, answer_order, tmp_path):
    model = tiny_model("t5-tiny", tokenizer, answer_order=answer_order)
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["answer_order"] == answer_order
    assert answer_order_of(AutoModelForSeq2SeqLM.from_pretrained(tmp_path)) == answer_order


def test_generation_config_comes_from_the_model_config(tokenizer):
    config = build_config("t5-tiny", tokenizer, MAX_QUESTION_LENGTH, 7)
    generation = build_generation_config(config)
    assert generation.max_new_tokens == 8 and generation.num_beams == 1 and generation.do_sample is False


def test_checkpoint_loads_and_generates_beams_without_arith_hf(tokenizer, tmp_path):
    questions = ["12+345", "7*8"]
    expected = {}
    for preset in FAMILIES:
        model = tiny_model(preset, tokenizer, answer_order="reverse")
        model.save_pretrained(tmp_path / preset)
        tokenizer.save_pretrained(tmp_path / preset)
        batch = tokenizer(questions, padding=True, return_tensors="pt")
        expected[preset] = model.generate(**batch, num_beams=3, num_return_sequences=3).tolist()
    script = f"""
import json, sys
sys.modules["arith_hf"] = None  # the checkpoint must not need arith_hf
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
results = {{}}
for preset in {FAMILIES!r}:
    folder = {str(tmp_path)!r} + "/" + preset
    model = AutoModelForSeq2SeqLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    batch = tokenizer({questions!r}, padding=True, return_tensors="pt")
    generated = model.generate(**batch, num_beams=3, num_return_sequences=3)
    results[preset] = dict(
        model_class=type(model).__name__,
        answer_order=model.config.answer_order,
        max_new_tokens=model.generation_config.max_new_tokens,
        sequences=generated.tolist(),
    )
print(json.dumps(results))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for preset, model_class in zip(
        FAMILIES, ["T5ForConditionalGeneration", "BartForConditionalGeneration"], strict=True
    ):
        assert results[preset]["model_class"] == model_class
        assert results[preset]["answer_order"] == "reverse"
        assert results[preset]["max_new_tokens"] == MAX_ANSWER_LENGTH + 1
        assert len(results[preset]["sequences"]) == 6
        assert results[preset]["sequences"] == expected[preset]
