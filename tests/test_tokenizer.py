"""Tests for arith_hf.tokenizer: round trip, input validation, special tokens, labels, answer decoding (C01-C04).

Run with: .venv/bin/python -m pytest tests/test_tokenizer.py -q
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import DataCollatorForSeq2Seq

from arith_hf.expressions import ALPHABET
from arith_hf.tokenizer import (
    BOS,
    EOS,
    IGNORE_INDEX,
    PAD,
    SPECIAL_TOKENS,
    UNK,
    InvalidQuestionError,
    answer_to_target,
    build_tokenizer,
    decode_answers,
    encode_questions,
    target_to_answer,
    validate_question,
)


@pytest.fixture(scope="module")
def tokenizer():
    return build_tokenizer()


@pytest.fixture(scope="module")
def saved_tokenizer(tmp_path_factory, tokenizer):
    folder = tmp_path_factory.mktemp("tokenizer")
    tokenizer.save_pretrained(folder)
    return folder


def char_ids(tokenizer, text: str) -> list[int]:
    return tokenizer.convert_tokens_to_ids(list(text))


# ---------------------------------------------------------------------------
# C01 round trip


@pytest.mark.parametrize("text", ["12+345", "007+5", "(3 + 4)*2", "-12*(3--4)", "  1 ", *ALPHABET])
def test_c01_round_trip(tokenizer, text):
    ids = tokenizer(text)["input_ids"]
    assert len(ids) == len(text) + 1  # one token per character, then eos
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids, skip_special_tokens=True) == text
    assert tokenizer.decode(ids) == text + EOS  # nothing inserted between characters


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=ALPHABET, min_size=1, max_size=40))
def test_c01_round_trip_of_any_alphabet_string(tokenizer, text):
    ids = tokenizer(text)["input_ids"]
    assert ids[:-1] == char_ids(tokenizer, text)
    assert tokenizer.decode(ids, skip_special_tokens=True) == text


def test_c01_vocabulary_is_special_tokens_then_alphabet(tokenizer):
    assert len(tokenizer) == len(SPECIAL_TOKENS) + len(ALPHABET) == 22
    assert tokenizer.convert_ids_to_tokens(list(range(len(tokenizer)))) == [*SPECIAL_TOKENS, *ALPHABET]
    assert tokenizer.tokenize("(3 + 4)") == ["(", "3", " ", "+", " ", "4", ")"]


# ---------------------------------------------------------------------------
# C02 unknown characters


C02 = [("7×8", "×", 1), ("−5", "−", 0), ("٣+1", "٣", 0), ("2^3", "^", 1), ("1+1\n", "\n", 3)]


@pytest.mark.parametrize("question, char, position", C02)
def test_c02_unknown_character_names_character_and_position(question, char, position):
    with pytest.raises(InvalidQuestionError) as raised:
        validate_question(question)
    message = str(raised.value)
    assert repr(char) in message
    assert f"position {position}," in message
    assert f"U+{ord(char):04X}" in message


@pytest.mark.parametrize("question, char, position", C02)
def test_c02_encode_questions_refuses_before_tokenizing(tokenizer, question, char, position):
    with pytest.raises(InvalidQuestionError, match=rf"question 1 .* at position {position},"):
        encode_questions(tokenizer, ["1+1", question])
    # the raw tokenizer would have fed unk to the model: exactly what the check prevents
    assert tokenizer.unk_token_id in tokenizer(question)["input_ids"]


@pytest.mark.parametrize("question, problem", [("", "is empty"), ("   ", "is empty"), (12, "must be a string")])
def test_c02_empty_or_non_string_questions_are_errors(tokenizer, question, problem):
    with pytest.raises(InvalidQuestionError, match=problem):
        encode_questions(tokenizer, [question])


def test_encode_questions_pads_and_never_truncates(tokenizer):
    batch = encode_questions(tokenizer, ["1+1", "123+456"])
    assert batch["input_ids"].tolist() == [
        [*char_ids(tokenizer, "1+1"), tokenizer.eos_token_id, *[tokenizer.pad_token_id] * 4],
        [*char_ids(tokenizer, "123+456"), tokenizer.eos_token_id],
    ]
    assert batch["attention_mask"].tolist() == [[1] * 4 + [0] * 4, [1] * 8]
    assert encode_questions(tokenizer, "2+2")["input_ids"].shape == (1, 4)
    with pytest.raises(InvalidQuestionError, match="has 7 characters; the model accepts at most 6"):
        encode_questions(tokenizer, ["123+456"], max_length=6)


# ---------------------------------------------------------------------------
# C03 end of sequence and special tokens


def test_c03_question_ends_with_exactly_one_eos(tokenizer):
    for question in ["2+2", "(3 + 4)*2", "0"]:
        ids = tokenizer(question)["input_ids"]
        assert ids[-1] == tokenizer.eos_token_id
        assert ids.count(tokenizer.eos_token_id) == 1


def test_c03_special_ids_exist_and_differ(tokenizer):
    ids = [tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id, tokenizer.bos_token_id]
    assert ids == [0, 1, 2, 3]
    assert tokenizer.convert_ids_to_tokens(ids) == [PAD, EOS, UNK, BOS]
    assert len(set(ids)) == 4
    assert not set(ids) & set(char_ids(tokenizer, ALPHABET))


def test_c03_saved_tokenizer_pads_batches_without_arith_hf(saved_tokenizer, tokenizer, tmp_path):
    script = f"""
import json, sys
sys.modules["arith_hf"] = None  # loading must not need arith_hf
from transformers import AutoTokenizer
tokenizer = AutoTokenizer.from_pretrained({str(saved_tokenizer)!r})
batch = tokenizer(["1+1", "(3 + 4)*2"], padding=True)
print(json.dumps(dict(
    ids=[tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id],
    input_ids=batch["input_ids"],
    attention_mask=batch["attention_mask"],
    decoded=tokenizer.batch_decode(batch["input_ids"], skip_special_tokens=True),
    unknown=tokenizer("7×8")["input_ids"],
)))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    pad, eos, unk = tokenizer.pad_token_id, tokenizer.eos_token_id, tokenizer.unk_token_id
    assert loaded["ids"] == [pad, eos, unk]
    assert loaded["input_ids"] == [
        [*char_ids(tokenizer, "1+1"), eos, *[pad] * 6],
        [*char_ids(tokenizer, "(3 + 4)*2"), eos],
    ]
    assert loaded["attention_mask"] == [[1] * 4 + [0] * 6, [1] * 10]
    assert loaded["decoded"] == ["1+1", "(3 + 4)*2"]
    assert loaded["unknown"] == [char_ids(tokenizer, "7")[0], unk, char_ids(tokenizer, "8")[0], eos]


# ---------------------------------------------------------------------------
# C04 labels keep eos


@pytest.mark.parametrize("answer_order", ["natural", "reverse"])
def test_c04_labels_end_with_eos_after_padding(tokenizer, answer_order):
    answers = ["4", "-7/2", "1234567"]
    features = [
        {
            "input_ids": tokenizer("2+2")["input_ids"],
            "labels": tokenizer(text_target=answer_to_target(answer, answer_order))["input_ids"],
        }
        for answer in answers
    ]
    batch = DataCollatorForSeq2Seq(tokenizer, label_pad_token_id=IGNORE_INDEX, return_tensors="pt")(features)
    for answer, labels in zip(answers, batch["labels"].tolist(), strict=True):
        kept = [label for label in labels if label != IGNORE_INDEX]
        assert kept[-1] == tokenizer.eos_token_id
        assert kept[:-1] == char_ids(tokenizer, answer_to_target(answer, answer_order))
    assert batch["labels"].tolist()[0] == [char_ids(tokenizer, "4")[0], tokenizer.eos_token_id] + [IGNORE_INDEX] * 6


# ---------------------------------------------------------------------------
# answer order and decoding


def test_answer_order_round_trip():
    assert answer_to_target("1234", "reverse") == "4321"
    assert answer_to_target("-7/2", "natural") == "-7/2"
    assert target_to_answer(answer_to_target("-1234/5", "reverse"), "reverse") == "-1234/5"
    with pytest.raises(ValueError, match="answer_order must be one of"):
        answer_to_target("1", "backwards")


@pytest.mark.parametrize("as_type", [list, np.array, torch.tensor])
def test_decode_answers_stops_at_eos_and_reports_completeness(tokenizer, as_type):
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    generated = [
        [pad, *char_ids(tokenizer, "4321"), eos, pad],
        [pad, *char_ids(tokenizer, "2"), eos, *char_ids(tokenizer, "99"), pad, pad],  # after eos: ignored
        [pad, *char_ids(tokenizer, "987654")],  # no eos: cut at the length limit
        [IGNORE_INDEX, *char_ids(tokenizer, "1"), eos, *[IGNORE_INDEX] * 4],
    ]
    answers, complete = decode_answers(tokenizer, as_type(generated), "reverse", return_complete=True)
    assert answers == ["1234", "2", "456789", "1"]
    assert complete == [True, True, False, True]
    assert decode_answers(tokenizer, as_type(generated)) == ["4321", "2", "987654", "1"]


@pytest.mark.parametrize("answer_order, expected", [("natural", "1<unk>2"), ("reverse", "2<unk>1")])
def test_decode_answers_keeps_special_tokens_inside_an_answer(tokenizer, answer_order, expected):
    # dropping the unk would turn a malformed answer into the valid number 12
    pad, eos, unk, bos = (tokenizer.convert_tokens_to_ids(token) for token in (PAD, EOS, UNK, BOS))
    one, two = char_ids(tokenizer, "12")
    generated = [[pad, one, unk, two, eos], [bos, one, unk, two, eos]]  # T5 and BART decoder starts
    assert decode_answers(tokenizer, generated, answer_order) == [expected, expected]
    assert decode_answers(tokenizer, [[pad, one, pad, two, pad, pad]]) == ["1<pad>2"]


def test_decode_answers_rejects_unknown_answer_order(tokenizer):
    with pytest.raises(ValueError, match="answer_order must be one of"):
        decode_answers(tokenizer, [[1]], "backwards")
