"""Shared fixtures of the grader tests: one warm fork pool for the whole session."""

from pathlib import Path

import pytest

CORPUS = Path(__file__).with_name("corpus")


@pytest.fixture(scope="session")
def fork_pool():
    from grader.sandbox import ForkPool

    with ForkPool(2) as pool:
        yield pool


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS
