"""Tests of arith_hf.pipeline on tiny checkpoints built in-process.

Run: .venv/bin/python -m pytest tests/test_pipeline.py -q
"""

from __future__ import annotations

import doctest
import logging

import pytest
import torch
from transformers import AutoModelForSeq2SeqLM, pipeline
from transformers import pipelines as transformers_pipelines

import arith_hf.pipeline  # noqa: F401  (registers the task)
from arith_hf.expressions import solve
from arith_hf.pipeline import (
    TASK,
    ArithmeticPipeline,
    answer_questions,
    check_num_return_sequences,
    register_text2text_task,
)
from arith_hf.tokenizer import InvalidQuestionError
from tests.tiny_checkpoints import MEMORISED, memorised_checkpoint, untrained_checkpoint


@pytest.fixture(scope="module")
def reverse_checkpoint(tmp_path_factory):
    """t5-tiny trained to write answers back to front, memorising MEMORISED."""
    return memorised_checkpoint(tmp_path_factory.mktemp("t5-reverse"), answer_order="reverse")


@pytest.fixture(scope="module")
def answerer(reverse_checkpoint):
    return pipeline(TASK, model=str(reverse_checkpoint), device="cpu")


@pytest.fixture(scope="module")
def bart_answerer(tmp_path_factory):
    return pipeline(TASK, model=str(untrained_checkpoint(tmp_path_factory.mktemp("bart"))), device="cpu")


def answer_log_prob(model, tokenizer, question: str, target: str) -> float:
    """Sum of the log-probabilities of target's characters and eos, by one teacher-forced forward pass."""
    inputs = tokenizer(question, return_tensors="pt")
    labels = tokenizer(target, return_tensors="pt")["input_ids"]
    with torch.inference_mode():
        logits = model(**inputs, labels=labels).logits
    return logits.log_softmax(-1).gather(-1, labels[..., None]).sum().item()


# registration


def test_task_is_registered_and_off_the_removed_list():
    assert TASK not in transformers_pipelines.REMOVED_TASKS
    entry = transformers_pipelines.PIPELINE_REGISTRY.supported_tasks[TASK]
    assert entry["impl"] is ArithmeticPipeline
    assert entry["pt"] == (AutoModelForSeq2SeqLM,)


def test_registration_undoes_the_removal(monkeypatch, reverse_checkpoint, caplog):
    # transformers 5 as shipped: the task is on the removed list, and pipeline() refuses it
    monkeypatch.setitem(transformers_pipelines.REMOVED_TASKS, TASK, "removed")
    with pytest.raises(KeyError, match="has been removed"):
        pipeline(TASK, model=str(reverse_checkpoint))
    register_text2text_task()
    register_text2text_task()  # a second call must not re-register (transformers would warn "Overwriting")
    assert "Overwriting" not in caplog.text
    assert isinstance(pipeline(TASK, model=str(reverse_checkpoint), device="cpu"), ArithmeticPipeline)


# answers


def test_single_question_in_natural_order(answerer):
    assert answerer.model.config.answer_order == "reverse"
    raw = answerer.model.generate(**answerer.tokenizer("567+4214", return_tensors="pt"))
    assert answerer.tokenizer.decode(raw[0], skip_special_tokens=True) == "1874"  # what the model writes
    assert answerer("567+4214") == [{"generated_text": "4781"}]


@pytest.mark.parametrize("batch_size", [1, 3])
def test_batch_returns_one_dict_per_question_in_order(answerer, batch_size):
    results = answerer(list(MEMORISED), batch_size=batch_size)
    assert results == [{"generated_text": solve(question)} for question in MEMORISED]


def test_beams_grouped_by_question_and_sorted(answerer):
    """C07: num_beams=4, num_return_sequences=4 on two inputs gives 8 candidates, 4 per input, best first."""
    results = answerer(["567+4214", "5+2"], num_beams=4, num_return_sequences=4)
    assert [len(candidates) for candidates in results] == [4, 4]
    assert [candidates[0]["generated_text"] for candidates in results] == ["4781", "7"]
    for candidates in results:
        scores = [candidate["score"] for candidate in candidates]
        assert scores == sorted(scores, reverse=True)
        assert len({candidate["generated_text"] for candidate in candidates}) == 4
        assert all(set(candidate) == {"generated_text", "score", "log_prob", "complete"} for candidate in candidates)


def test_beam_score_is_log_prob_over_length(answerer):
    """The documented score: sum of token log-probs (eos included) / number of generated tokens ** 1.0."""
    (best, *others) = answerer("567+4214", num_beams=3, num_return_sequences=3)
    for candidate in (best, *others):
        assert candidate["complete"]
        length = len(candidate["generated_text"]) + 1  # characters plus eos
        assert candidate["score"] == pytest.approx(candidate["log_prob"] / length, rel=1e-4)
        target = candidate["generated_text"][::-1]  # the model writes reversed answers
        expected = answer_log_prob(answerer.model, answerer.tokenizer, "567+4214", target)
        assert candidate["log_prob"] == pytest.approx(expected, abs=1e-3)
    assert best["log_prob"] > -0.5  # memorised: the right answer is near-certain


def test_greedy_score_is_sum_of_log_probs(answerer):
    (candidate,) = answerer("852+0", return_scores=True)
    expected = answer_log_prob(answerer.model, answerer.tokenizer, "852+0", "258")
    assert candidate["generated_text"] == "852"
    assert candidate["complete"] is True
    assert candidate["score"] == pytest.approx(expected, abs=1e-4)
    assert candidate["log_prob"] == candidate["score"]


def test_scores_are_computed_only_when_returned(answerer, monkeypatch):
    """A plain call spares generate the per-step scores; the answers are the same either way."""
    asked = []
    generate = answerer.model.generate

    def recording_generate(*args, **kwargs):
        asked.append(kwargs["output_scores"])
        return generate(*args, **kwargs)

    monkeypatch.setattr(answerer.model, "generate", recording_generate)
    plain = answerer(list(MEMORISED), batch_size=2)
    scored = answerer(list(MEMORISED), batch_size=2, return_scores=True)
    beams = answerer("5+2", num_beams=2, num_return_sequences=2)
    batches = -(-len(MEMORISED) // 2)
    assert asked == [False] * batches + [True] * batches + [True]
    assert [record["generated_text"] for record in scored] == [record["generated_text"] for record in plain]
    assert all(set(record) == {"generated_text", "score", "log_prob", "complete"} for record in scored)
    assert [set(record) for record in plain] == [{"generated_text"}] * len(MEMORISED)
    assert len(beams) == 2 and "score" in beams[0]


def test_return_scores_given_at_construction_holds_for_every_call(reverse_checkpoint):
    scoring = pipeline(TASK, model=str(reverse_checkpoint), device="cpu", return_scores=True)
    (candidate,) = scoring("852+0")
    assert set(candidate) == {"generated_text", "score", "log_prob", "complete"}
    assert candidate["generated_text"] == "852"
    assert scoring("852+0", return_scores=False) == [{"generated_text": "852"}]


def test_cut_answer_is_reported_incomplete(answerer, caplog):
    """C06: an answer that hits the length limit is flagged, not passed off as finished."""
    (candidate,) = answerer("567+4214", max_new_tokens=2, return_scores=True)
    assert candidate["generated_text"] == "81"  # "18..." reversed: the two lowest digits, natural order
    assert candidate["complete"] is False
    # without the flag in the output, the cut is logged
    with caplog.at_level(logging.WARNING, logger="arith_hf.pipeline"):
        assert answerer("567+4214", max_new_tokens=2) == [{"generated_text": "81"}]
    assert "answer '81' to '567+4214' hit the length limit without eos" in caplog.text


def test_more_sequences_than_beams_is_a_clear_error(answerer):
    with pytest.raises(ValueError, match=r"num_return_sequences=5 is more than num_beams=4"):
        answerer("5+2", num_beams=4, num_return_sequences=5)
    with pytest.raises(ValueError, match=r"num_return_sequences=2 is more than num_beams=1"):
        answerer("5+2", num_return_sequences=2)


def test_sampling_may_return_more_sequences_than_beams():
    check_num_return_sequences(num_beams=1, num_return_sequences=3, do_sample=True)
    with pytest.raises(ValueError, match="must be >= 1"):
        check_num_return_sequences(num_beams=1, num_return_sequences=0)


# bad input (C02, C08)


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", r"question '' is empty"),
        ("   ", r"question '   ' is empty"),
        ("7×8", r"'7×8' has character '×' \(U\+00D7\) at position 1"),
        ("−5", r"'−5' has character '−' \(U\+2212\) at position 0"),
        ("2^3", r"'2\^3' has character '\^' \(U\+005E\) at position 1"),
        ("1" * 300, r"has 300 characters; the model accepts at most 13"),
    ],
)
def test_bad_question_is_named(answerer, question, message):
    with pytest.raises(InvalidQuestionError, match=message):
        answerer(question)


def test_bad_question_in_a_batch_is_named_by_position(answerer, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("generate must not run on a batch with a bad question")

    monkeypatch.setattr(answerer.model, "generate", fail)
    with pytest.raises(InvalidQuestionError, match=r"question 2 '7×8' has character '×'"):
        answerer(["5+2", "7+90", "7×8"], batch_size=2)


def test_bart_positions_limit_the_question(bart_answerer):
    """C08: a 300-character question is refused with the limit named, before BART's position table overflows."""
    positions = bart_answerer.model.config.max_position_embeddings
    assert positions == 14  # 13 characters plus eos
    with pytest.raises(InvalidQuestionError, match="the model accepts at most 13"):
        bart_answerer("1+" * 150)


def test_bart_untrained_candidates_are_flagged(bart_answerer):
    (candidate,) = bart_answerer("12+345", return_scores=True)
    ids = bart_answerer.model.generate(**bart_answerer.tokenizer("12+345", return_tensors="pt"))
    eos = bart_answerer.tokenizer.eos_token_id
    assert candidate["complete"] == (eos in ids[0, 1:].tolist())
    assert candidate["generated_text"] == bart_answerer.tokenizer.decode(ids[0], skip_special_tokens=True)
    assert candidate["score"] <= 0


# the fast path used by evaluation


def test_answer_questions_matches_the_pipeline_in_input_order(answerer):
    questions = ["567+4214", "5+2", "12+345", "99+1", "7+90"]  # lengths out of order
    fast = answer_questions(answerer.model, answerer.tokenizer, questions, batch_size=2)
    assert [candidates[0]["generated_text"] for candidates in fast] == [solve(q) for q in questions]
    slow = answerer(questions, return_scores=True)
    for (fast_best,), slow_best in zip(fast, slow, strict=True):
        assert fast_best["generated_text"] == slow_best["generated_text"]
        assert fast_best["score"] == pytest.approx(slow_best["score"], abs=1e-4)


def test_answer_questions_validates_before_generating(answerer):
    with pytest.raises(InvalidQuestionError, match=r"question 1 '' is empty"):
        answer_questions(answerer.model, answerer.tokenizer, ["5+2", ""])


def test_docstring_examples():
    result = doctest.testmod(arith_hf.pipeline)
    assert result.attempted >= 3 and result.failed == 0
