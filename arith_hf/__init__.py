"""arith_hf: character-level encoder-decoder transformers that learn exact arithmetic."""

from .expressions import ExpressionSampler, ExpressionSpec, describe, evaluate, format_answer, parse, solve
from .modeling import PRESETS, create_model
from .tokenizer import InvalidQuestionError, build_tokenizer, decode_answers, encode_questions

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "ExpressionSampler",
    "ExpressionSpec",
    "InvalidQuestionError",
    "build_tokenizer",
    "create_model",
    "decode_answers",
    "describe",
    "encode_questions",
    "evaluate",
    "format_answer",
    "parse",
    "solve",
]
