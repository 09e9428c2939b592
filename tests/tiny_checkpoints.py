"""Tiny checkpoints built in-process for the pipeline, script and card tests.

A t5-tiny model that memorises a handful of additions in a plain torch loop takes a few seconds on a CPU and
answers those questions exactly, which lets tests assert real answers without a trained model on disk.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from arith_hf.expressions import solve
from arith_hf.modeling import create_model
from arith_hf.tokenizer import IGNORE_INDEX, answer_to_target, build_tokenizer

# the questions the tiny model learns by heart; the rest of the alphabet it never sees
MEMORISED = ("567+4214", "5+2", "7+90", "57+15", "852+0", "5000+7", "12+345", "99+1")
MAX_QUESTION_LENGTH = 13  # two 5-digit operands and a plus sign
MAX_ANSWER_LENGTH = 6


def build_model(preset: str = "t5-tiny", answer_order: str = "natural", seed: int = 0):
    tokenizer = build_tokenizer()
    model = create_model(preset, tokenizer, MAX_QUESTION_LENGTH, MAX_ANSWER_LENGTH, answer_order, seed=seed)
    return model, tokenizer


def _answers_all(model, tokenizer, questions, targets) -> bool:
    batch = tokenizer(list(questions), padding=True, return_tensors="pt")
    with torch.inference_mode():
        generated = model.generate(**batch)
    return tokenizer.batch_decode(generated, skip_special_tokens=True) == targets


def memorise(model, tokenizer, questions=MEMORISED, max_steps: int = 600, lr: float = 1e-3, seed: int = 0):
    """Train on ``questions`` (one full batch per step) until greedy decoding repeats all their answers."""
    torch.manual_seed(seed)
    order = model.config.answer_order
    batch = tokenizer(list(questions), padding=True, return_tensors="pt")
    targets = [answer_to_target(solve(question), order) for question in questions]
    labels = tokenizer(targets, padding=True, return_tensors="pt")["input_ids"]
    labels[labels == tokenizer.pad_token_id] = IGNORE_INDEX
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    # one thread: on a busy 2-core machine two spinning threads make each step many times slower
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for step in range(1, max_steps + 1):
            model.train()
            loss = model(**batch, labels=labels).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % 25 == 0:
                model.eval()
                if _answers_all(model, tokenizer, questions, targets):
                    return model
    finally:
        torch.set_num_threads(threads)
    raise RuntimeError(f"the tiny model did not memorise {questions} in {max_steps} steps")


def save_checkpoint(model, tokenizer, directory: Path) -> Path:
    directory = Path(directory)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@functools.cache
def _memorised_weights(answer_order: str) -> dict:
    # trained once per test process, whichever test file asks first
    model, tokenizer = build_model("t5-tiny", answer_order)
    return {name: tensor.clone() for name, tensor in memorise(model, tokenizer).state_dict().items()}


def memorised_checkpoint(directory: Path, answer_order: str = "reverse") -> Path:
    """A t5-tiny checkpoint that answers every question of :data:`MEMORISED` exactly."""
    model, tokenizer = build_model("t5-tiny", answer_order)
    model.load_state_dict(_memorised_weights(answer_order))
    return save_checkpoint(model.eval(), tokenizer, directory)


def untrained_checkpoint(directory: Path, preset: str = "bart-tiny") -> Path:
    model, tokenizer = build_model(preset)
    return save_checkpoint(model, tokenizer, directory)
