"""T5 and BART presets built from transformers' own config classes, with generation defaults.

Every preset is created for a given tokenizer, so pad, eos, bos and decoder-start ids agree in the
tokenizer, ``model.config`` and ``model.generation_config``. Two arith_hf settings travel in
``config.json`` as plain attributes, readable without arith_hf:

- ``answer_order`` (``natural`` or ``reverse``): the order in which the model writes answer characters.
- ``max_question_length``: the longest question, in characters, the model accepts.
"""

from __future__ import annotations

import logging

from transformers import (
    BartConfig,
    BartForConditionalGeneration,
    GenerationConfig,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5Config,
    T5ForConditionalGeneration,
)

from .tokenizer import ANSWER_ORDERS

logger = logging.getLogger(__name__)

# Sizes measured with num_parameters() for the 22-token vocabulary (tests/test_modeling.py checks them).
# T5's relative positions cost nothing per position; BART's are learned, so a BART preset's size grows by
# 2 * d_model per position: the counts below are for max_question_length=64, max_answer_length=32.
PRESETS: dict[str, dict] = {
    # t5-mini: 0.23M parameters (231,808); the addition default: a quarter of t5-tiny's compute per example,
    # and addition needs little width, so on a CPU it reaches 99.9% sooner than the larger presets
    "t5-mini": dict(family="t5", d_model=64, d_ff=256, num_layers=2, num_decoder_layers=2, num_heads=4, d_kv=16),
    # t5-tiny: 1.18M parameters (1,184,256); d_ff 768 rather than 512, which left it at 0.92M
    "t5-tiny": dict(family="t5", d_model=128, d_ff=768, num_layers=2, num_decoder_layers=2, num_heads=4, d_kv=32),
    # t5-small: 9.45M parameters (9,448,960)
    "t5-small": dict(family="t5", d_model=256, d_ff=1536, num_layers=4, num_decoder_layers=4, num_heads=8, d_kv=32),
    # bart-tiny: 1.21M parameters (1,209,344); the same widths as t5-tiny, so the two families compare fairly
    "bart-tiny": dict(
        family="bart",
        d_model=128,
        encoder_ffn_dim=768,
        decoder_ffn_dim=768,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
    ),
    # bart-small: 9.52M parameters (9,515,008)
    "bart-small": dict(
        family="bart",
        d_model=256,
        encoder_ffn_dim=1536,
        decoder_ffn_dim=1536,
        encoder_layers=4,
        decoder_layers=4,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
    ),
}


def _special_ids(tokenizer: PreTrainedTokenizerBase) -> dict[str, int]:
    return dict(
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )


def build_config(
    preset: str,
    tokenizer: PreTrainedTokenizerBase,
    max_question_length: int,
    max_answer_length: int,
    answer_order: str = "natural",
    **overrides,
):
    """A ``T5Config`` or ``BartConfig`` for a preset; ``overrides`` replace any of the preset's fields.

    ``max_answer_length`` is the longest answer, in characters, that the training corpus can produce.
    """
    if preset not in PRESETS:
        raise ValueError(f"unknown preset {preset!r}; choose one of {sorted(PRESETS)}")
    if answer_order not in ANSWER_ORDERS:
        raise ValueError(f"answer_order must be one of {ANSWER_ORDERS}, got {answer_order!r}")
    fields = {**PRESETS[preset], **overrides}
    family = fields.pop("family")
    ids = _special_ids(tokenizer)
    common = dict(
        vocab_size=len(tokenizer),
        answer_order=answer_order,
        max_question_length=max_question_length,
        max_answer_length=max_answer_length,
        **ids,
    )
    if family == "t5":
        # T5 starts decoding from pad; relative positions need no table, so the length limit is ours.
        # dropout off: exact arithmetic on generated data does not overfit, and dropout costs accuracy.
        fields.setdefault("dropout_rate", 0.0)
        return T5Config(decoder_start_token_id=ids["pad_token_id"], is_encoder_decoder=True, **common, **fields)
    # BART's learned positions must cover the question plus eos, and the answer plus eos and start.
    positions = max(max_question_length + 1, max_answer_length + 2)
    fields.setdefault("dropout", 0.0)
    fields.setdefault("attention_dropout", 0.0)
    fields.setdefault("activation_dropout", 0.0)
    return BartConfig(
        max_position_embeddings=positions,
        decoder_start_token_id=ids["bos_token_id"],
        # BART's library defaults force bos/eos ids 0 and 2, which are other tokens here. A forced eos
        # would also make an answer cut at the length limit look finished, so none is forced.
        forced_bos_token_id=None,
        forced_eos_token_id=None,
        **common,
        **fields,
    )


def build_generation_config(config) -> GenerationConfig:
    """Decoding defaults: greedy, long enough for the longest answer plus eos, ids from the config."""
    return GenerationConfig(
        max_new_tokens=config.max_answer_length + 1,
        num_beams=1,
        do_sample=False,
        pad_token_id=config.pad_token_id,
        eos_token_id=config.eos_token_id,
        bos_token_id=config.bos_token_id,
        decoder_start_token_id=config.decoder_start_token_id,
    )


def create_model(
    preset: str,
    tokenizer: PreTrainedTokenizerBase,
    max_question_length: int,
    max_answer_length: int,
    answer_order: str = "natural",
    seed: int | None = None,
    **overrides,
) -> PreTrainedModel:
    """A freshly initialised model for a preset, with its generation config set."""
    import torch

    config = build_config(preset, tokenizer, max_question_length, max_answer_length, answer_order, **overrides)
    if seed is not None:
        torch.manual_seed(seed)
    model_class = T5ForConditionalGeneration if config.model_type == "t5" else BartForConditionalGeneration
    model = model_class(config)
    model.generation_config = build_generation_config(config)
    logger.info("created %s (%s) with %d parameters", preset, config.model_type, model.num_parameters())
    return model


def answer_order_of(model_or_config) -> str:
    """The answer order a checkpoint was trained with (``natural`` for models from elsewhere)."""
    config = getattr(model_or_config, "config", model_or_config)
    return getattr(config, "answer_order", "natural")


def max_question_length_of(model_or_config) -> int | None:
    """The longest question a checkpoint accepts, in characters, or None when it sets no limit."""
    config = getattr(model_or_config, "config", model_or_config)
    limit = getattr(config, "max_question_length", None)
    if config.model_type == "bart":
        positions = config.max_position_embeddings - 1  # one position for eos
        limit = positions if limit is None else min(limit, positions)
    return limit


__all__ = [
    "PRESETS",
    "answer_order_of",
    "build_config",
    "build_generation_config",
    "create_model",
    "max_question_length_of",
]
