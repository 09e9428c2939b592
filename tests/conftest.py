"""Fixtures shared by the test files: keep this small."""

import datasets
import pytest

# progress bars only clutter test output
datasets.disable_progress_bars()


@pytest.fixture(scope="session")
def corpus_cache(tmp_path_factory):
    """A session-wide datasets cache, so that no test writes to the user's ~/.cache."""
    return str(tmp_path_factory.mktemp("corpus_cache"))


@pytest.fixture
def tiny_sizes():
    """Split sizes small enough to build any named config in about a second."""
    return {"train_size": 2000, "validation_size": 60, "test_size": 80}
