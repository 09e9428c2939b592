"""The numeric_difference evaluate module; load it with ``arith_hf.metrics.load_metric("numeric_difference")``."""

__all__ = []
