"""Metrics for arithmetic answers: two ``evaluate`` modules, question strata and one-call scoring.

- ``exact_match`` and ``numeric_difference`` are ``evaluate.Metric`` modules shipped inside this package,
  each in its own folder with a metric card (``README.md``). :func:`load_metric` loads one by name, and
  ``evaluate.load(metric_path(name))`` does the same from any working directory, offline.
- :func:`score_answers` scores a whole evaluation set, overall and per stratum of :func:`question_strata`.
- :func:`decode_answers` turns generated ids into the answer strings the metrics take.
"""

from __future__ import annotations

from pathlib import Path

import evaluate

from ..tokenizer import decode_answers
from .strata import SCORE_KEYS, STRATA, question_strata, score_answers, stratum_order

METRIC_NAMES = ("exact_match", "numeric_difference")
_METRICS_DIR = Path(__file__).resolve().parent


def metric_path(name: str) -> str:
    """The absolute path of a packaged metric's folder, for ``evaluate.load``."""
    if name not in METRIC_NAMES:
        raise ValueError(f"unknown metric {name!r}; choose one of {METRIC_NAMES}")
    return str(_METRICS_DIR / name)


def load_metric(name: str, **kwargs):
    """The loaded ``evaluate`` module of a packaged metric; ``kwargs`` go to ``evaluate.load``."""
    return evaluate.load(metric_path(name), **kwargs)


__all__ = [
    "METRIC_NAMES",
    "SCORE_KEYS",
    "STRATA",
    "decode_answers",
    "load_metric",
    "metric_path",
    "question_strata",
    "score_answers",
    "stratum_order",
]
