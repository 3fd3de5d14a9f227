"""Batched envs on the CPU: ThoughtVectorEnv (numpy and torch backends) beside pgx's tic_tac_toe (JAX)."""

from __future__ import annotations

import pytest

from benchmarks.conftest import run_candidate
from benchmarks.bench import candidates


def _vector(batch: int) -> list:
    return candidates(quick=False, vector_batch=batch, groups=("vector",))


@pytest.mark.parametrize("index", range(len(_vector(16384))), ids=[c.name for c in _vector(16384)])
def test_vector_env_random_play(benchmark, bench_batch: int, index: int) -> None:
    run_candidate(benchmark, _vector(bench_batch)[index])
