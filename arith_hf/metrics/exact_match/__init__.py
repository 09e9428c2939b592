"""The exact_match evaluate module; load it with ``arith_hf.metrics.load_metric("exact_match")``."""

__all__ = []
