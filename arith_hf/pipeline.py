"""The ``text2text-generation`` pipeline for arith_hf checkpoints, and fast batched answering.

Transformers 5 removed the ``text2text-generation`` task. Importing this module (``import arith_hf`` does)
registers :class:`ArithmeticPipeline` under that name again, so a saved checkpoint answers questions with

    >>> from transformers import pipeline
    >>> answerer = pipeline("text2text-generation", model="path/to/checkpoint")  # doctest: +SKIP
    >>> answerer("567+4214")  # doctest: +SKIP
    [{'generated_text': '4781'}]

Answers always come back in natural order, also from a model trained to write them reversed
(``config.answer_order == "reverse"``).

Candidates and scores: with ``num_beams=k, num_return_sequences=k`` each question gets its k candidates, best
first, each a dict with

- ``generated_text``: the answer;
- ``score``: what decoding ranked the candidates by. Beam search: the sum of the candidate's token
  log-probabilities (eos included) divided by ``length ** length_penalty``, where ``length`` counts the generated
  tokens with eos (transformers' ``sequences_scores``; the default ``length_penalty=1.0`` makes it the mean
  log-probability per token). Greedy search and sampling: the plain sum of the token log-probabilities. Always
  <= 0; higher is better;
- ``log_prob``: the sum of the token log-probabilities, eos included, whatever the decoding (``exp(log_prob)`` is
  the probability the model gives the whole answer, under the distribution decoding drew from);
- ``complete``: whether the candidate ended with eos. ``False`` means it was cut at the length limit, so the text
  may be a truncated answer.

A plain call (one candidate per question) returns only ``generated_text``, as transformers' text2text pipelines
did, and logs a warning for an answer cut at the length limit; ``return_scores=True`` adds the other three keys.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import torch
from transformers import AutoModelForSeq2SeqLM, GenerationConfig, Pipeline, PreTrainedModel, PreTrainedTokenizerBase
from transformers import pipelines as transformers_pipelines

from .modeling import answer_order_of, max_question_length_of
from .tokenizer import decode_answers, validate_question

logger = logging.getLogger(__name__)

TASK = "text2text-generation"


def check_num_return_sequences(num_beams: int, num_return_sequences: int, do_sample: bool = False) -> None:
    """Raise ``ValueError`` when a search cannot return that many candidates.

    Beam search keeps ``num_beams`` hypotheses, so it has at most that many to return; greedy search is beam search
    with one beam. Sampling draws each sequence independently and may return any number.
    """
    if num_return_sequences < 1:
        raise ValueError(f"num_return_sequences must be >= 1, got {num_return_sequences}")
    if not do_sample and num_return_sequences > num_beams:
        raise ValueError(
            f"num_return_sequences={num_return_sequences} is more than num_beams={num_beams}: beam search returns "
            f"at most one candidate per beam; pass num_beams >= {num_return_sequences}"
        )


def candidates_per_question(model: PreTrainedModel, generate_kwargs: dict) -> int:
    """How many candidates ``model.generate(**generate_kwargs)`` returns per question; checks that it can.

    The call's parameters win over its ``generation_config``, which wins over the model's.
    """
    params = model.generation_config.to_dict()
    if (generation_config := generate_kwargs.get("generation_config")) is not None:
        params.update(generation_config.to_diff_dict())
    params.update(generate_kwargs)
    num_beams = params.get("num_beams") or 1
    num_return_sequences = params.get("num_return_sequences") or 1
    check_num_return_sequences(num_beams, num_return_sequences, bool(params.get("do_sample")))
    return num_return_sequences


def generate_candidates(
    model: PreTrainedModel, input_ids, attention_mask, with_scores: bool = True, **generate_kwargs
) -> dict:
    """Run ``model.generate`` on one padded batch and score what it returns.

    Returns tensors grouped by question: ``output_ids`` (batch, candidates, length), ``scores`` and ``log_probs``
    (batch, candidates), in the order generate returns them (best first for beam search). See the module docstring
    for what the two scores mean. ``generate_kwargs`` may hold any generation parameter or a ``generation_config``.
    ``with_scores=False`` returns ``output_ids`` alone and spares generate the scores of every step.
    """
    candidates_per_question(model, generate_kwargs)
    generation_config = generate_kwargs.get("generation_config")

    overrides = dict(return_dict_in_generate=True, output_scores=with_scores)
    if generation_config is not None:
        # generate() deprecates a generation_config together with loose parameters: put ours in a copy
        generation_config = GenerationConfig.from_dict(generation_config.to_dict())
        generation_config.update(**overrides)
        generate_kwargs = {**generate_kwargs, "generation_config": generation_config}
    else:
        generate_kwargs = {**generate_kwargs, **overrides}
    output = model.generate(input_ids=input_ids, attention_mask=attention_mask, **generate_kwargs)

    sequences = output.sequences  # (batch * candidates, 1 + generated), position 0 is the decoder start
    batch = input_ids.shape[0]
    candidates = sequences.shape[0] // batch
    if not with_scores:
        return {"output_ids": sequences.reshape(batch, candidates, -1)}
    beam_indices = getattr(output, "beam_indices", None)
    # beam search's scores are log-probabilities already; greedy and sampling return logits to normalise
    transitions = model.compute_transition_scores(
        sequences, output.scores, beam_indices, normalize_logits=beam_indices is None
    )
    generated = sequences[:, 1:]
    eos = model.generation_config.eos_token_id
    is_eos = torch.isin(generated, torch.tensor(eos if isinstance(eos, list) else [eos], device=generated.device))
    # a finished greedy sequence is filled with pad to the batch's length; those steps are no part of its answer
    after_eos = (is_eos.cumsum(dim=1) - is_eos.long()) > 0
    log_probs = transitions.masked_fill(after_eos, 0.0).sum(dim=1)
    scores = output.sequences_scores if getattr(output, "sequences_scores", None) is not None else log_probs
    return {
        "output_ids": sequences.reshape(batch, candidates, -1),
        "scores": scores.reshape(batch, candidates).float(),
        "log_probs": log_probs.reshape(batch, candidates).float(),
    }


def decode_candidates(tokenizer, outputs: dict, answer_order: str, return_scores: bool = True) -> list[list[dict]]:
    """Tensors from :func:`generate_candidates` -> per question, a list of candidate dicts sorted best first.

    Outputs generated without scores give candidates with ``generated_text`` and ``complete`` only, in generate's
    order.
    """
    output_ids = outputs["output_ids"]
    batch, candidates = output_ids.shape[:2]
    answers, complete = decode_answers(
        tokenizer, output_ids.reshape(batch * candidates, -1), answer_order, return_complete=True
    )
    if "scores" not in outputs:
        return [
            [
                {"generated_text": answers[i], "complete": complete[i]}
                for i in range(row * candidates, (row + 1) * candidates)
            ]
            for row in range(batch)
        ]
    scores = outputs["scores"].reshape(-1).tolist()
    log_probs = outputs["log_probs"].reshape(-1).tolist()
    results = []
    for question in range(batch):
        rows = range(question * candidates, (question + 1) * candidates)
        records = [
            {"generated_text": answers[i], "score": scores[i], "log_prob": log_probs[i], "complete": complete[i]}
            for i in rows
        ]
        # beam search returns them sorted already; sampled candidates are not
        records.sort(key=lambda record: record["score"], reverse=True)
        if not return_scores:
            records = [{"generated_text": record["generated_text"]} for record in records]
        results.append(records)
    return results


def answer_questions(
    model: PreTrainedModel,
    tokenizer: PreTrainedTokenizerBase,
    questions: Sequence[str],
    batch_size: int = 512,
    **generate_kwargs,
) -> list[list[dict]]:
    """Answer many questions fast: validate them all, then generate in large batches of similar length.

    Returns, per question in input order, its candidates as :func:`decode_candidates` does (with scores). This is
    the path for evaluation; the pipeline adds per-item overhead that matters at ten thousand questions.
    """
    max_length = max_question_length_of(model)
    for index, question in enumerate(questions):
        validate_question(question, max_length, index)
    answer_order = answer_order_of(model)
    # sorting by length keeps padding, and so wasted encoder work, small
    order = sorted(range(len(questions)), key=lambda i: len(questions[i]))
    results: list[list[dict] | None] = [None] * len(questions)
    model.eval()
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            indices = order[start : start + batch_size]
            texts = [questions[i] for i in indices]
            batch = tokenizer(texts, padding=True, truncation=False, return_tensors="pt").to(model.device)
            outputs = generate_candidates(model, batch["input_ids"], batch["attention_mask"], **generate_kwargs)
            for i, records in zip(indices, decode_candidates(tokenizer, outputs, answer_order), strict=True):
                results[i] = records
    return results


def format_candidates(question: str, candidates: Sequence[dict], exact_answer: str | None = None) -> str:
    """A few lines showing a question's candidates best first, with scores, marking the one equal to the exact answer.

    ``p`` is ``exp(log_prob)``, the probability the model gives the whole answer; a candidate cut at the length
    limit is marked ``(cut)``. With ``exact_answer`` given, the headline says whether the best candidate is right.

    >>> candidates = [
    ...     {"generated_text": "4", "score": -0.01, "log_prob": -0.02, "complete": True},
    ...     {"generated_text": "5", "score": -2.5, "log_prob": -5.0, "complete": True},
    ... ]
    >>> print(format_candidates("2+2", candidates, exact_answer="4"))
    2+2 = 4 (model: 4, right)
      1. 4  score  -0.0100  p  98.02%  <- exact
      2. 5  score  -2.5000  p   0.67%
    """
    best = candidates[0]["generated_text"] if candidates else ""
    if exact_answer is None:
        headline = f"{question} -> {best} (no exact answer to compare)"
    else:
        verdict = "right" if best == exact_answer else "wrong"
        headline = f"{question} = {exact_answer} (model: {best}, {verdict})"
    width = max((len(candidate["generated_text"]) for candidate in candidates), default=0)
    lines = [headline]
    for rank, candidate in enumerate(candidates, start=1):
        text = candidate["generated_text"]
        probability = math.exp(candidate["log_prob"]) if "log_prob" in candidate else float("nan")
        line = f"  {rank}. {text:<{width}}  score {candidate.get('score', float('nan')):8.4f}  p {probability:7.2%}"
        if not candidate.get("complete", True):
            line += "  (cut)"
        if exact_answer is not None and text == exact_answer:
            line += "  <- exact"
        lines.append(line)
    return "\n".join(lines)


class ArithmeticPipeline(Pipeline):
    """Answers arithmetic questions with an encoder-decoder checkpoint; see the module docstring.

    Call parameters: any generation parameter (``num_beams``, ``num_return_sequences``, ``length_penalty``,
    ``do_sample``, ``generation_config``...), and ``return_scores`` (`bool`, *optional*): add ``score``,
    ``log_prob`` and ``complete`` to every candidate; by default they are added when more than one candidate per
    question is asked for. A list of questions returns a list of dicts when each question has one candidate, else
    a list of lists, as transformers' text2text pipelines did.
    """

    _pipeline_calls_generate = True
    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_video_processor = False
    _load_feature_extractor = False

    def _sanitize_parameters(self, return_scores: bool | None = None, **generate_kwargs):
        # the model's question limit, read once per call rather than once per question
        preprocess_params = {"max_length": max_question_length_of(self.model)}
        # forward needs it too, to generate scores only when they are returned; unset, it keeps the value given at
        # construction, if any
        scores = {} if return_scores is None else {"return_scores": return_scores}
        return preprocess_params, {**generate_kwargs, **scores}, scores

    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, list):
            # validate the whole batch first, so a bad question is named before anything is generated
            max_length = max_question_length_of(self.model)
            for index, question in enumerate(inputs):
                validate_question(question, max_length, index)
        results = super().__call__(inputs, *args, **kwargs)
        if isinstance(inputs, list) and all(len(records) == 1 for records in results):
            return [records[0] for records in results]
        return results

    def get_inference_context(self):
        return torch.inference_mode

    # Tokenizing and decoding happen once per batch, in _forward: the pipeline runs preprocess and postprocess once
    # per question, and a tokenizer call and a decoder call per question added a quarter to the time of greedy
    # generation with t5-tiny.

    def preprocess(self, inputs, max_length: int | None = None):
        validate_question(inputs, max_length)
        return {"question": inputs}

    def _forward(self, model_inputs, return_scores: bool | None = None, **generate_kwargs):
        questions = model_inputs["question"]  # a list when the pipeline batches, else one question
        questions = [questions] if isinstance(questions, str) else list(questions)
        # preprocess validated every question; too long is an error there, so nothing is truncated here
        encoding = self.tokenizer(questions, padding=True, truncation=False, return_tensors="pt").to(self.device)
        generate_kwargs = self._prepare_generate_kwargs(generate_kwargs)
        if return_scores is None:
            return_scores = candidates_per_question(self.model, generate_kwargs) > 1
        # scores take generate's logits of every step and a log-softmax over them: only when they are returned
        outputs = generate_candidates(
            self.model, encoding["input_ids"], encoding["attention_mask"], with_scores=return_scores, **generate_kwargs
        )
        candidates = decode_candidates(self.tokenizer, outputs, answer_order_of(self.model), return_scores=True)
        # "candidates" first: the pipeline reads the batch size from the first entry when it splits a batch
        return {"candidates": candidates, "question": questions}

    def postprocess(self, model_outputs, return_scores: bool | None = None):
        records, question = model_outputs["candidates"], model_outputs["question"]
        if isinstance(question, list):  # an unsplit batch of one question
            (records,), (question,) = records, question
        if return_scores is None:
            return_scores = len(records) > 1
        if return_scores:
            return records
        # without the complete flag in the output, a cut answer must not pass unnoticed
        for record in records:
            if not record["complete"]:
                logger.warning("answer %r to %r hit the length limit without eos", record["generated_text"], question)
        return [{"generated_text": record["generated_text"]} for record in records]


def register_text2text_task() -> None:
    """Make ``transformers.pipeline("text2text-generation", ...)`` build an :class:`ArithmeticPipeline`.

    Transformers 5 lists the task in ``transformers.pipelines.REMOVED_TASKS`` and raises ``KeyError`` for any name
    there before it consults ``PIPELINE_REGISTRY``, so registering alone is not enough: the name also comes off that
    list. Both changes are process-wide, so any seq2seq checkpoint then gets this pipeline under that task name.
    Calling this again changes nothing.
    """
    transformers_pipelines.REMOVED_TASKS.pop(TASK, None)
    registered = transformers_pipelines.PIPELINE_REGISTRY.supported_tasks.get(TASK, {})
    if registered.get("impl") is not ArithmeticPipeline:
        transformers_pipelines.PIPELINE_REGISTRY.register_pipeline(
            TASK, pipeline_class=ArithmeticPipeline, pt_model=AutoModelForSeq2SeqLM, type="text"
        )


register_text2text_task()

__all__ = [
    "TASK",
    "ArithmeticPipeline",
    "answer_questions",
    "candidates_per_question",
    "check_num_return_sequences",
    "decode_candidates",
    "format_candidates",
    "generate_candidates",
    "register_text2text_task",
]
