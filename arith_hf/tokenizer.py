"""The character-level tokenizer, question validation and answer decoding.

One token per character of :data:`~arith_hf.expressions.ALPHABET`, plus four special tokens. The
tokenizer is built with the ``tokenizers`` library and served as a ``PreTrainedTokenizerFast``, so a
saved copy opens with ``AutoTokenizer.from_pretrained`` in a process that never imports arith_hf.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import PreTrainedTokenizerBase, PreTrainedTokenizerFast

from .expressions import ALPHABET

logger = logging.getLogger(__name__)

PAD, EOS, UNK, BOS = "<pad>", "</s>", "<unk>", "<s>"
SPECIAL_TOKENS = (PAD, EOS, UNK, BOS)  # ids 0, 1, 2, 3; characters follow in ALPHABET order
ANSWER_ORDERS = ("natural", "reverse")
# label value that the loss ignores (padding); generated ids carry it after cross-process padding
IGNORE_INDEX = -100


class InvalidQuestionError(ValueError):
    """A question that must not reach a model: empty, too long, or with a character outside the alphabet."""


def build_tokenizer(model_max_length: int = 512) -> PreTrainedTokenizerFast:
    """A fresh character tokenizer: every character is one token, and every encoding ends with eos."""
    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS)}
    vocab.update({char: len(SPECIAL_TOKENS) + index for index, char in enumerate(ALPHABET)})
    backend = Tokenizer(models.WordLevel(vocab, unk_token=UNK))
    # one pre-token per character; spaces are characters of the alphabet and are kept
    backend.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    backend.post_processor = processors.TemplateProcessing(
        single=f"$A {EOS}", pair=f"$A {EOS} $B {EOS}", special_tokens=[(EOS, vocab[EOS])]
    )
    backend.decoder = decoders.Fuse()  # join characters back with nothing between them
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        bos_token=BOS,
        model_max_length=model_max_length,
        clean_up_tokenization_spaces=False,
        padding_side="right",
    )


def validate_question(question: str, max_length: int | None = None, index: int | None = None) -> None:
    """Raise :class:`InvalidQuestionError` naming what is wrong with a question, and where.

    ``max_length`` is the longest question, in characters, that the model accepts; ``index`` names the
    question's place in a batch in the message.
    """
    where = f"question {index} " if index is not None else "question "
    if not isinstance(question, str):
        raise InvalidQuestionError(f"{where}must be a string, got {type(question).__name__}: {question!r}")
    if not question.strip():
        raise InvalidQuestionError(f"{where}{question!r} is empty")
    for position, char in enumerate(question):
        if char not in ALPHABET:
            raise InvalidQuestionError(
                f"{where}{question!r} has character {char!r} (U+{ord(char):04X}) at position {position}, "
                f"outside the alphabet {ALPHABET!r}"
            )
    if max_length is not None and len(question) > max_length:
        raise InvalidQuestionError(
            f"{where}{question[:40]!r}{'...' if len(question) > 40 else ''} has {len(question)} characters; "
            f"the model accepts at most {max_length}"
        )


def encode_questions(
    tokenizer: PreTrainedTokenizerBase,
    questions: str | Sequence[str],
    max_length: int | None = None,
    return_tensors: str | None = "pt",
):
    """Validate, then tokenize and pad a batch of questions. Nothing is truncated: too long is an error."""
    if isinstance(questions, str):
        questions = [questions]
    for index, question in enumerate(questions):
        validate_question(question, max_length, index if len(questions) > 1 else None)
    return tokenizer(list(questions), padding=True, truncation=False, return_tensors=return_tensors)


def answer_to_target(answer: str, answer_order: str = "natural") -> str:
    """The text a model is trained to emit for an answer. ``reverse`` writes it back to front, so the
    least significant digit comes first, the order in which carries are worked out."""
    if answer_order not in ANSWER_ORDERS:
        raise ValueError(f"answer_order must be one of {ANSWER_ORDERS}, got {answer_order!r}")
    return answer[::-1] if answer_order == "reverse" else answer


def target_to_answer(target: str, answer_order: str = "natural") -> str:
    """Undo :func:`answer_to_target`: the natural answer a user reads."""
    return answer_to_target(target, answer_order)  # reversing is its own inverse


def _answer_ids(row: list[int], pad: int, eos: int, bos: int | None) -> list[int]:
    """The ids of the answer itself: after the decoder start, before the first eos, without trailing padding."""
    if eos in row:
        row = row[: row.index(eos)]  # anything a batch appends after eos is padding
    begin, end = 0, len(row)
    while begin < end and row[begin] in (pad, bos):  # T5 starts decoding from pad, BART from bos
        begin += 1
    while end > begin and row[end - 1] == pad:  # a row without eos, padded when processes were gathered
        end -= 1
    return row[begin:end]


def decode_answers(
    tokenizer: PreTrainedTokenizerBase,
    token_ids,
    answer_order: str = "natural",
    return_complete: bool = False,
):
    """Generated ids -> natural answer strings.

    ``-100`` (cross-process padding, ignored labels) is mapped to pad before decoding. An answer is
    complete when its ids hold an eos; with ``return_complete=True`` a list of those flags is returned
    as well, so a hypothesis cut at the length limit is never taken for a finished answer.

    Only the decoder start (leading pad or bos), the first eos and what follows it, and trailing padding
    are removed. A special token inside an answer stays in the text (``1<unk>2``), so a malformed answer
    is never silently turned into another number.
    """
    if answer_order not in ANSWER_ORDERS:
        raise ValueError(f"answer_order must be one of {ANSWER_ORDERS}, got {answer_order!r}")
    rows = token_ids.tolist() if hasattr(token_ids, "tolist") else [list(row) for row in token_ids]
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    rows = [[pad if token == IGNORE_INDEX else token for token in row] for row in rows]
    complete = [eos in row for row in rows]
    answer_ids = [_answer_ids(row, pad, eos, tokenizer.bos_token_id) for row in rows]
    if answer_order == "reverse":
        # one token per character: reversing ids is reversing the text, and keeps "<unk>" readable
        answer_ids = [ids[::-1] for ids in answer_ids]
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        # the same text as batch_decode without clean-up, which first walks every id through Python: 5x faster
        answers = backend.decode_batch(answer_ids, skip_special_tokens=False)
    else:
        answers = tokenizer.batch_decode(answer_ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)
    if not all(complete):
        logger.debug("%d of %d answers hit the length limit without eos", complete.count(False), len(complete))
    return (answers, complete) if return_complete else answers


__all__ = [
    "ANSWER_ORDERS",
    "BOS",
    "EOS",
    "IGNORE_INDEX",
    "PAD",
    "SPECIAL_TOKENS",
    "UNK",
    "InvalidQuestionError",
    "answer_to_target",
    "build_tokenizer",
    "decode_answers",
    "encode_questions",
    "target_to_answer",
    "validate_question",
]
