"""The reusable pieces of training: pre-tokenized examples, deterministic batches, the train step,
distributed evaluation and atomic checkpoints. ``scripts/train.py`` puts them together.

Speed comes from doing per example work once: a split is tokenized into padded tensors up front
(:func:`encode_examples`), and a batch is one gather and one slice to the longest example in it
(:meth:`EncodedExamples.batch`). Which examples form the batch of a step is a pure function of the seed
and the step (:class:`BatchOrder`), so a resumed run sees the batches an uninterrupted run would have seen.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import pyarrow as pa
import torch
from accelerate import Accelerator

from .expressions import ALPHABET
from .metrics import score_answers
from .tokenizer import IGNORE_INDEX, decode_answers, validate_question

logger = logging.getLogger(__name__)

LR_SCHEDULES = ("cosine", "linear", "constant")
CHECKPOINT_PREFIX = "checkpoint-"
# inside a checkpoint folder: what only resuming needs (optimizer, scheduler, RNG states, weights copy)
TRAINING_STATE_DIR = "training_state"
TRAINER_STATE_FILE = "trainer_state.json"
TRAINING_CONFIG_FILE = "training_config.yaml"
EVAL_RESULTS_FILE = "eval_results.json"
# a folder being written or deleted carries one of these prefixes, so it never looks like a checkpoint
_WRITING_PREFIX, _DELETING_PREFIX = ".tmp-", ".deleting-"
# rows tokenized at once; bounds the temporary index matrices to a few tens of MB
_ENCODE_BLOCK = 1 << 18


# ---------------------------------------------------------------------------
# Pre-tokenized examples


class NonFiniteLossError(RuntimeError):
    """The training loss became nan or inf; ``step`` is the first optimizer step (1-based) where it did."""

    def __init__(self, step: int, value: float):
        super().__init__(
            f"loss is {value} at step {step}: training stopped and nothing from this step on was saved "
            "(earlier checkpoints are intact); lower the learning rate, lengthen the warmup or clip gradients"
        )
        self.step = step
        self.value = value


def _character_lookup(tokenizer) -> np.ndarray:
    """Byte value -> token id for every character of the alphabet; -1 for any other byte.

    Built by asking the tokenizer itself, so the vectorised encoding is the tokenizer's encoding; a
    tokenizer that does not give one token per alphabet character is refused.
    """
    lookup = np.full(256, -1, dtype=np.int64)
    encoded = tokenizer(list(ALPHABET), add_special_tokens=False)["input_ids"]
    for char, ids in zip(ALPHABET, encoded, strict=True):
        if len(ids) != 1:
            raise ValueError(f"the tokenizer maps {char!r} to {len(ids)} tokens; pre-tokenizing needs exactly one")
        lookup[ord(char)] = ids[0]
    return lookup


def _as_string_array(texts) -> pa.LargeStringArray:
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks() if texts.num_chunks != 1 else texts.chunk(0)
    elif not isinstance(texts, pa.Array):
        texts = pa.array(list(texts), type=pa.large_string())
    if texts.null_count:
        raise ValueError(f"{texts.null_count} of {len(texts)} texts are null")
    return texts.cast(pa.large_string())


def _encode_texts(texts, lookup: np.ndarray, end_id: int, fill_id: int, reverse: bool, dtype) -> tuple:
    """Token ids of texts as rows ``[chars..., end_id, fill_id...]``, plus each row's length with end_id.

    Works on the Arrow buffers directly: no Python string is built per example. A byte outside the
    lookup (a character outside the alphabet) gives ``(None, index of the first such text)``.
    """
    array = _as_string_array(texts)
    count = len(array)
    offsets = np.frombuffer(array.buffers()[1], dtype=np.int64)[array.offset : array.offset + count + 1]
    values = array.buffers()[2]
    # an all-empty array has no data buffer; one zero byte keeps the gather below valid
    data = np.frombuffer(values, dtype=np.uint8) if values is not None and values.size else np.zeros(1, np.uint8)
    lengths = np.diff(offsets)
    width = int(lengths.max(initial=0)) + 1
    ids = np.empty((count, width), dtype=dtype)
    columns = np.arange(width)
    for start in range(0, count, _ENCODE_BLOCK):
        stop = min(start + _ENCODE_BLOCK, count)
        block_lengths = lengths[start:stop, None]
        inside = columns < block_lengths
        # reversed order reads each row back to front
        source = block_lengths - 1 - columns if reverse else columns
        looked_up = lookup[data[np.where(inside, offsets[start:stop, None] + source, 0)]]
        unknown = np.flatnonzero((inside & (looked_up < 0)).any(axis=1))
        if len(unknown):
            return None, start + int(unknown[0])
        block = np.where(inside, looked_up, fill_id)
        block[np.arange(stop - start), block_lengths[:, 0]] = end_id
        ids[start:stop] = block
    return torch.from_numpy(ids), torch.from_numpy(lengths + 1)


@dataclass
class EncodedExamples:
    """A split as padded token-id tensors, ready to be cut into batches.

    Args:
        input_ids (`torch.Tensor` of shape `(N, Q)`): question ids, eos, then pad.
        question_lengths (`torch.Tensor` of shape `(N,)`): question tokens including eos.
        labels (`torch.Tensor` of shape `(N, A)`, *optional*): target ids (answer in the model's answer
            order), eos, then ``IGNORE_INDEX``; None for questions without answers.
        answer_lengths (`torch.Tensor` of shape `(N,)`, *optional*): target tokens including eos.
        pad_token_id (`int`): the tokenizer's pad id.
    """

    input_ids: torch.Tensor
    question_lengths: torch.Tensor
    labels: torch.Tensor | None = None
    answer_lengths: torch.Tensor | None = None
    pad_token_id: int = 0
    _positions: torch.Tensor = field(init=False, repr=False)

    def __post_init__(self):
        self._positions = torch.arange(self.input_ids.shape[1], device=self.input_ids.device)

    def __len__(self) -> int:
        return self.input_ids.shape[0]

    def to(self, device) -> EncodedExamples:
        def move(tensor):
            return None if tensor is None else tensor.to(device)

        return EncodedExamples(
            move(self.input_ids),
            move(self.question_lengths),
            move(self.labels),
            move(self.answer_lengths),
            self.pad_token_id,
        )

    def head(self, count: int) -> EncodedExamples:
        """The first ``count`` examples."""

        def cut(tensor):
            return None if tensor is None else tensor[:count]

        return EncodedExamples(
            cut(self.input_ids),
            cut(self.question_lengths),
            cut(self.labels),
            cut(self.answer_lengths),
            self.pad_token_id,
        )

    def batch(self, indices: torch.Tensor) -> dict[str, torch.Tensor]:
        """The examples at ``indices``, padded to the longest question and answer among them."""
        indices = indices.to(self.input_ids.device)
        question_lengths = self.question_lengths[indices]
        width = int(question_lengths.max())
        batch = {
            "input_ids": self.input_ids[indices, :width].long(),  # (B, Q)
            "attention_mask": (self._positions[:width] < question_lengths[:, None]).long(),  # (B, Q)
        }
        if self.labels is not None:
            batch["labels"] = self.labels[indices, : int(self.answer_lengths[indices].max())].long()  # (B, A)
        return batch


def encode_examples(
    tokenizer,
    questions,
    answers=None,
    answer_order: str = "natural",
    max_question_length: int | None = None,
) -> EncodedExamples:
    """Tokenize a whole split at once, giving exactly the ids the tokenizer gives.

    ``questions`` and ``answers`` are sequences of strings or Arrow string arrays (a ``datasets`` column
    read with the ``arrow`` format, which skips building Python strings). Answers are written in
    ``answer_order`` (``reverse``: least significant digit first) and followed by eos. A question with a
    character outside the alphabet, or longer than ``max_question_length`` characters, raises
    :class:`~arith_hf.tokenizer.InvalidQuestionError` naming it.
    """
    lookup = _character_lookup(tokenizer)
    # narrow storage: a 1M-example split stays tens of MB; batches are widened to int64
    dtype = np.int16 if len(tokenizer) < 2**15 else np.int64
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    input_ids, question_lengths = _encode_texts(questions, lookup, eos, pad, False, dtype)
    if input_ids is None:
        index = question_lengths
        validate_question(_as_string_array(questions)[index].as_py(), index=index)
        raise AssertionError("unreachable: the question above has a character outside the alphabet")
    if max_question_length is not None and len(question_lengths):
        longest = int(question_lengths.argmax())
        if int(question_lengths[longest]) - 1 > max_question_length:
            validate_question(_as_string_array(questions)[longest].as_py(), max_question_length, index=longest)
    labels = answer_lengths = None
    if answers is not None:
        if answer_order not in ("natural", "reverse"):
            raise ValueError(f"answer_order must be 'natural' or 'reverse', got {answer_order!r}")
        labels, answer_lengths = _encode_texts(answers, lookup, eos, IGNORE_INDEX, answer_order == "reverse", dtype)
        if labels is None:
            index = answer_lengths
            answer = _as_string_array(answers)[index].as_py()
            raise ValueError(f"answer {index} {answer!r} has a character outside the alphabet {ALPHABET!r}")
        if len(labels) != len(input_ids):
            raise ValueError(f"got {len(input_ids)} questions and {len(labels)} answers")
    return EncodedExamples(input_ids, question_lengths, labels, answer_lengths, pad)


# ---------------------------------------------------------------------------
# Batch order


class BatchOrder:
    """Which training examples each process takes at each micro-step, computed from the seed alone.

    The training split is read as an endless stream of epochs, each a permutation seeded by
    ``(seed, epoch)``. Micro-step ``m`` takes the next ``batch_size * world_size`` examples of that
    stream, and process ``rank`` takes its own block of ``batch_size`` of them, so processes never share
    an example within a step. Nothing is stored between steps: the batch of step ``m`` is computed
    directly, which is what lets a resumed run continue with the same batches.

    NOTE: the order depends on ``batch_size`` and ``world_size`` too: a run resumed on another number of
    processes continues with other batches (``load_checkpoint`` warns).

    >>> order = BatchOrder(num_examples=10, batch_size=3, seed=0, rank=1, world_size=2)
    >>> order.indices(0).tolist() == BatchOrder(10, 6, seed=0).indices(0)[3:].tolist()
    True
    """

    def __init__(self, num_examples: int, batch_size: int, seed: int, rank: int = 0, world_size: int = 1):
        if num_examples < 1 or batch_size < 1:
            raise ValueError(f"need examples and a batch size >= 1, got {num_examples} and {batch_size}")
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.num_examples = num_examples
        self.batch_size = batch_size
        self.seed = seed
        self.rank = rank
        self.world_size = world_size
        self._offsets = torch.arange(batch_size)
        self._permutations: dict[int, torch.Tensor] = {}

    def permutation(self, epoch: int) -> torch.Tensor:
        if epoch not in self._permutations:
            if len(self._permutations) >= 2:  # a batch spans at most two epochs
                self._permutations.pop(min(self._permutations))
            rng = np.random.default_rng([self.seed, epoch])
            self._permutations[epoch] = torch.from_numpy(rng.permutation(self.num_examples))
        return self._permutations[epoch]

    def indices(self, micro_step: int) -> torch.Tensor:
        """Indices into the training split of this process's batch at ``micro_step``, shape ``(batch_size,)``."""
        start = (micro_step * self.world_size + self.rank) * self.batch_size
        first_epoch, last_epoch = start // self.num_examples, (start + self.batch_size - 1) // self.num_examples
        if first_epoch == last_epoch:
            offset = start - first_epoch * self.num_examples
            return self.permutation(first_epoch)[offset : offset + self.batch_size]
        positions = start + self._offsets
        epochs, offsets = positions // self.num_examples, positions % self.num_examples
        indices = torch.empty(self.batch_size, dtype=torch.long)
        for epoch in epochs.unique().tolist():
            chosen = epochs == epoch
            indices[chosen] = self.permutation(epoch)[offsets[chosen]]
        return indices


# ---------------------------------------------------------------------------
# Optimizer, schedule and the train step


def lr_factor(
    step: int, warmup_steps: int, max_steps: int, schedule: str = "cosine", min_lr_ratio: float = 0.0
) -> float:
    """Multiplier of the peak learning rate at optimizer step ``step`` (0-based).

    Linear warmup reaching the peak at step ``warmup_steps - 1`` (the first step already moves the weights),
    then ``cosine`` or ``linear`` decay to ``min_lr_ratio`` at ``max_steps``, or ``constant``.

    >>> [round(lr_factor(s, 2, 6, "linear"), 3) for s in range(6)]
    [0.5, 1.0, 1.0, 0.75, 0.5, 0.25]
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr schedule must be one of {LR_SCHEDULES}, got {schedule!r}")
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    if schedule == "constant":
        return 1.0
    progress = min(1.0, (step - warmup_steps) / max(1, max_steps - warmup_steps))
    decay = 0.5 * (1.0 + math.cos(math.pi * progress)) if schedule == "cosine" else 1.0 - progress
    return min_lr_ratio + (1.0 - min_lr_ratio) * decay


def build_optimizer(
    model: torch.nn.Module, learning_rate: float, weight_decay: float = 0.0, betas=(0.9, 0.999)
) -> torch.optim.AdamW:
    """AdamW that decays matrices and embeddings but not biases and norm scales (the 1-d parameters)."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=learning_rate, betas=tuple(betas))


def build_scheduler(
    optimizer, warmup_steps: int, max_steps: int, schedule: str = "cosine", min_lr_ratio: float = 0.0
) -> torch.optim.lr_scheduler.LambdaLR:
    """The :func:`lr_factor` schedule; step it once per optimizer step."""
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr schedule must be one of {LR_SCHEDULES}, got {schedule!r}")
    factor = partial(
        lr_factor, warmup_steps=warmup_steps, max_steps=max_steps, schedule=schedule, min_lr_ratio=min_lr_ratio
    )
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def train_step(
    accelerator: Accelerator,
    model: torch.nn.Module,
    optimizer,
    scheduler,
    micro_batches: Sequence[dict[str, torch.Tensor]],
    grad_clip: float = 0.0,
) -> torch.Tensor:
    """One optimizer step over ``micro_batches`` (gradient accumulation), returning the mean loss.

    The loss comes back as a detached tensor, not a float: reading it would wait for the device on every
    step. Gradients are all-reduced once, on the last micro-batch. ``grad_clip`` is the largest global
    gradient norm (0: no clipping).
    """
    count = len(micro_batches)
    total = None
    for index, batch in enumerate(micro_batches):
        sync = index == count - 1
        with contextlib.nullcontext() if sync else accelerator.no_sync(model):
            loss = model(**batch).loss
            accelerator.backward(loss / count if count > 1 else loss)
        total = loss.detach() if total is None else total + loss.detach()
    if grad_clip > 0:
        accelerator.clip_grad_norm_(model.parameters(), grad_clip)
    optimizer.step()
    scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return total / count if count > 1 else total


class LossWindow:
    """Losses of the steps since the last report, kept as tensors so no step waits to read its loss.

    :meth:`reduce` is collective: every process calls it at the same step. It averages the window over
    steps and processes and raises :class:`NonFiniteLossError` naming the first step where any process saw
    a nan or inf, so all processes stop together.
    """

    def __init__(self, accelerator: Accelerator):
        self.accelerator = accelerator
        self.steps: list[int] = []
        self.losses: list[torch.Tensor] = []

    def add(self, step: int, loss: torch.Tensor) -> None:
        self.steps.append(step)
        self.losses.append(loss)

    def reduce(self, reset: bool = True) -> float:
        """Mean loss of the window over steps and processes; with ``reset``, the window is emptied."""
        if not self.losses:
            return float("nan")
        losses = self.accelerator.gather(torch.stack(self.losses).float()[None])  # (processes, steps)
        finite = torch.isfinite(losses).all(dim=0)
        if not bool(finite.all()):
            first = int((~finite).nonzero()[0])
            bad = losses[:, first]
            raise NonFiniteLossError(self.steps[first], float(bad[~torch.isfinite(bad)][0]))
        if reset:
            self.steps, self.losses = [], []
        return float(losses.mean())


# ---------------------------------------------------------------------------
# Evaluation


@dataclass
class Evaluation:
    """Greedy answers to an evaluation set and their scores (:func:`arith_hf.metrics.score_answers`).

    ``complete[i]`` is False when answer ``i`` hit the length limit without eos.
    """

    questions: list[str]
    references: list[str]
    predictions: list[str]
    complete: list[bool]
    results: dict

    @property
    def count(self) -> int:
        return len(self.questions)

    @property
    def correct(self) -> int:
        return sum(p.strip() == r.strip() for p, r in zip(self.predictions, self.references, strict=True))

    @property
    def exact_match(self) -> float:
        return self.results["overall"]["exact_match"]

    def mistakes(self, limit: int = 5) -> list[str]:
        """Up to ``limit`` wrong answers as ``12+30 -> model 41, expected 42``."""
        lines = []
        for question, prediction, reference, complete in zip(
            self.questions, self.predictions, self.references, self.complete, strict=True
        ):
            if len(lines) == limit:
                break
            if prediction.strip() != reference.strip():
                cut = "" if complete else " (cut at the length limit)"
                lines.append(f"{question} -> model {prediction}{cut}, expected {reference}")
        return lines

    def summary(self) -> str:
        """``k/n = xx.xx%`` and the numeric figures, on one line."""
        overall = self.results["overall"]
        line = (
            f"{self.correct}/{self.count} = {100 * self.exact_match:.2f}% | "
            f"total abs diff {overall['total_abs_diff']:.6g} | mean abs diff {overall['mean_abs_diff']:.4g} | "
            f"invalid {overall['invalid']}"
        )
        incomplete = self.complete.count(False)
        return f"{line} | cut {incomplete}" if incomplete else line


@torch.no_grad()
def generate_ids(
    accelerator: Accelerator, model, examples: EncodedExamples, batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Greedy generation over ``examples`` shared by all processes; every process gets every row.

    Process ``r`` answers examples ``r, r + P, r + 2P, ...``. Rows are gathered with their example index,
    padding rows (index -1) and padding ids (``IGNORE_INDEX``) are added where processes hold different
    counts, then the padding rows are dropped, so each example comes back exactly once, in order.
    Returns ``(indices, ids)`` on the CPU.
    """
    unwrapped = accelerator.unwrap_model(model)
    was_training = unwrapped.training
    unwrapped.eval()
    device = accelerator.device
    local = torch.arange(accelerator.process_index, len(examples), accelerator.num_processes)
    outputs = []
    for start in range(0, len(local), batch_size):
        batch = examples.batch(local[start : start + batch_size])
        outputs.append(
            unwrapped.generate(
                input_ids=batch["input_ids"].to(device),
                attention_mask=batch["attention_mask"].to(device),
                do_sample=False,
                num_beams=1,
            )
        )
    unwrapped.train(was_training)
    width = max((output.shape[1] for output in outputs), default=1)
    ids = torch.full((len(local), width), IGNORE_INDEX, dtype=torch.long, device=device)
    row = 0
    for output in outputs:
        ids[row : row + len(output), : output.shape[1]] = output
        row += len(output)
    ids = accelerator.pad_across_processes(ids, dim=1, pad_index=IGNORE_INDEX)
    ids = accelerator.pad_across_processes(ids, dim=0, pad_index=IGNORE_INDEX)
    local = accelerator.pad_across_processes(local.to(device), dim=0, pad_index=-1)
    indices, ids = accelerator.gather(local).cpu(), accelerator.gather(ids).cpu()
    keep = indices >= 0
    indices, ids = indices[keep], ids[keep]
    order = indices.argsort()
    return indices[order], ids[order]


def evaluate_model(
    accelerator: Accelerator,
    model,
    tokenizer,
    examples: EncodedExamples,
    questions: Sequence[str],
    references: Sequence[str],
    batch_size: int = 1000,
    answer_order: str = "natural",
) -> Evaluation | None:
    """Answer ``questions`` greedily on all processes and score them on the main process.

    Collective: every process calls it. Returns the :class:`Evaluation` on the main process, None elsewhere.
    """
    indices, ids = generate_ids(accelerator, model, examples, batch_size)
    if len(indices) != len(questions) or not torch.equal(indices, torch.arange(len(questions))):
        raise RuntimeError(f"evaluation gathered {len(indices)} answers for {len(questions)} questions")
    if not accelerator.is_main_process:
        return None
    predictions, complete = decode_answers(tokenizer, ids, answer_order, return_complete=True)
    questions, references = list(questions), list(references)
    results = score_answers(questions, predictions, references)
    return Evaluation(questions, references, predictions, complete, results)


# ---------------------------------------------------------------------------
# Checkpoints


def checkpoint_step(path: str | Path) -> int | None:
    """The step of a ``checkpoint-<step>`` folder name, or None for any other name."""
    match = re.fullmatch(rf"{CHECKPOINT_PREFIX}(\d+)", Path(path).name)
    return int(match.group(1)) if match else None


def list_checkpoints(output_dir: str | Path) -> list[Path]:
    """Complete checkpoints in ``output_dir``, oldest step first. Folders being written are skipped."""
    output_dir = Path(output_dir)
    if not output_dir.is_dir():
        return []
    found = [
        path
        for path in output_dir.iterdir()
        if checkpoint_step(path) is not None and (path / TRAINER_STATE_FILE).is_file()
    ]
    return sorted(found, key=checkpoint_step)


def resolve_checkpoint(output_dir: str | Path, which: str) -> Path | None:
    """``latest`` -> the newest checkpoint in ``output_dir`` (None if there is none); else ``which`` as a path."""
    if which == "latest":
        checkpoints = list_checkpoints(output_dir)
        return checkpoints[-1] if checkpoints else None
    path = Path(which)
    if not (path / TRAINER_STATE_FILE).is_file() or not (path / TRAINING_STATE_DIR).is_dir():
        raise FileNotFoundError(
            f"{path} is not a complete checkpoint (no {TRAINER_STATE_FILE} or {TRAINING_STATE_DIR}/)"
        )
    return path


def remove_stale_folders(output_dir: str | Path) -> list[Path]:
    """Delete what a killed run left half-written or half-deleted in ``output_dir``; returns what went."""
    output_dir = Path(output_dir)
    stale = [
        path
        for path in (output_dir.iterdir() if output_dir.is_dir() else [])
        if path.is_dir() and path.name.startswith((_WRITING_PREFIX, _DELETING_PREFIX))
    ]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    if stale:
        logger.warning("removed %d unfinished folders in %s: %s", len(stale), output_dir, [p.name for p in stale])
    return stale


def delete_checkpoints(output_dir: str | Path) -> list[Path]:
    """Delete every checkpoint in ``output_dir``; returns what went."""
    checkpoints = list_checkpoints(output_dir)
    for checkpoint in checkpoints:
        _remove_folder(checkpoint)
    return checkpoints


def _remove_folder(path: Path) -> None:
    # renamed first, so a kill during the slow rmtree never leaves a half-deleted folder under a checkpoint name
    doomed = path.with_name(f"{_DELETING_PREFIX}{path.name}")
    path.rename(doomed)
    shutil.rmtree(doomed)


@contextlib.contextmanager
def atomic_directory(accelerator: Accelerator, target: str | Path):
    """Yield a temporary folder next to ``target``; on success it is renamed to ``target`` in one step.

    Collective: every process enters it (each may write into the folder, as ``save_state`` does with its
    RNG state). If the block raises or the run dies inside it, ``target`` keeps whatever it held before
    and the temporary folder keeps a name that no loader takes for a checkpoint.
    """
    target = Path(target)
    temporary = target.with_name(f"{_WRITING_PREFIX}{target.name}")
    if accelerator.is_main_process:
        if temporary.exists():
            shutil.rmtree(temporary)
        temporary.mkdir(parents=True)
    accelerator.wait_for_everyone()
    yield temporary
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        if target.exists():
            _remove_folder(target)
        temporary.rename(target)
    accelerator.wait_for_everyone()


def write_checkpoint(
    accelerator: Accelerator,
    model,
    tokenizer,
    folder: str | Path,
    step: int,
    training_config: str | None = None,
    eval_results: dict | None = None,
    training_state: bool = True,
) -> None:
    """Write a Hub-compatible checkpoint into ``folder`` (collective; use inside :func:`atomic_directory`).

    The folder holds the model with its generation config, the tokenizer, ``training_config.yaml`` (the
    run's full configuration), ``eval_results.json`` (this step's evaluation) and ``trainer_state.json``.
    With ``training_state``, ``training_state/`` holds what resuming needs: Accelerate's saved state
    (weights, optimizer, registered scheduler, every process's RNG states).
    """
    folder = Path(folder)
    if accelerator.is_main_process:
        accelerator.unwrap_model(model).save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        if training_config is not None:
            (folder / TRAINING_CONFIG_FILE).write_text(training_config)
        if eval_results is not None:
            (folder / EVAL_RESULTS_FILE).write_text(json.dumps({"step": step, **eval_results}, indent=2) + "\n")
        state = {"step": step, "num_processes": accelerator.num_processes}
        (folder / TRAINER_STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")
    if training_state:
        accelerator.save_state(str(folder / TRAINING_STATE_DIR))


def save_checkpoint(
    accelerator: Accelerator,
    model,
    tokenizer,
    output_dir: str | Path,
    step: int,
    training_config: str | None = None,
    eval_results: dict | None = None,
    keep_last: int = 0,
) -> Path:
    """Atomically write ``output_dir/checkpoint-<step>`` and keep only the newest ``keep_last`` (0: all).

    Collective: every process calls it.
    """
    target = Path(output_dir) / f"{CHECKPOINT_PREFIX}{step}"
    with atomic_directory(accelerator, target) as folder:
        write_checkpoint(accelerator, model, tokenizer, folder, step, training_config, eval_results)
    if accelerator.is_main_process and keep_last > 0:
        for old in list_checkpoints(output_dir)[:-keep_last]:
            _remove_folder(old)
    accelerator.wait_for_everyone()
    logger.info("saved %s", target)
    return target


def load_checkpoint(accelerator: Accelerator, checkpoint: str | Path) -> int:
    """Restore what :func:`write_checkpoint` saved into the prepared objects; returns the step to continue from."""
    checkpoint = Path(checkpoint)
    state = json.loads((checkpoint / TRAINER_STATE_FILE).read_text())
    if state.get("num_processes", accelerator.num_processes) != accelerator.num_processes:
        logger.warning(
            "%s was written by %d processes and is resumed by %d: the batch order from here on differs "
            "from an uninterrupted run",
            checkpoint,
            state["num_processes"],
            accelerator.num_processes,
        )
    accelerator.load_state(str(checkpoint / TRAINING_STATE_DIR))
    return int(state["step"])


__all__ = [
    "CHECKPOINT_PREFIX",
    "EVAL_RESULTS_FILE",
    "LR_SCHEDULES",
    "TRAINER_STATE_FILE",
    "TRAINING_CONFIG_FILE",
    "TRAINING_STATE_DIR",
    "BatchOrder",
    "EncodedExamples",
    "Evaluation",
    "LossWindow",
    "NonFiniteLossError",
    "atomic_directory",
    "build_optimizer",
    "build_scheduler",
    "checkpoint_step",
    "delete_checkpoints",
    "encode_examples",
    "evaluate_model",
    "generate_ids",
    "list_checkpoints",
    "load_checkpoint",
    "lr_factor",
    "remove_stale_folders",
    "resolve_checkpoint",
    "save_checkpoint",
    "train_step",
    "write_checkpoint",
]
