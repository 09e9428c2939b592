"""arith_hf: character-level encoder-decoder transformers that learn exact arithmetic."""

from .expressions import ExpressionSampler, ExpressionSpec, describe, evaluate, format_answer, parse, solve
from .modeling import PRESETS, create_model

# importing the pipeline module registers pipeline("text2text-generation") for arith_hf checkpoints
from .pipeline import TASK, ArithmeticPipeline, answer_questions, format_candidates, register_text2text_task
from .tokenizer import InvalidQuestionError, build_tokenizer, decode_answers, encode_questions

__version__ = "0.1.0"

__all__ = [
    "PRESETS",
    "TASK",
    "ArithmeticPipeline",
    "answer_questions",
    "format_candidates",
    "register_text2text_task",
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
