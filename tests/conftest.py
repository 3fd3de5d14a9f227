"""Shared fixtures of the test suite (kept small: helpers local to one file live in that file)."""

from __future__ import annotations

import numpy as np
import pytest


def lowest_empty(board: np.ndarray, rng: np.random.Generator) -> int:
    """A deterministic opponent: the lowest-numbered empty cell. Module-level, so envs using it pickle."""
    return int(np.flatnonzero(board == 0)[0])


@pytest.fixture(scope="session")
def lowest_empty_opponent():
    """The deterministic ``(board, rng) -> cell`` opponent ``lowest_empty`` (session scope: usable under hypothesis)."""
    return lowest_empty
