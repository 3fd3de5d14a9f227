"""Single envs, one game at a time: ours (raw, gymnasium.make, PettingZoo AEC) beside PettingZoo and OpenSpiel."""

from __future__ import annotations

import pytest

from benchmarks.conftest import run_candidate
from benchmarks.bench import candidates

SINGLE = candidates(quick=True, groups=("single",))


@pytest.mark.parametrize("cand", SINGLE, ids=[c.name for c in SINGLE])
def test_single_env_random_play(benchmark, cand) -> None:
    run_candidate(benchmark, cand)
