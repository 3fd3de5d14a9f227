"""Each size-specialised table of the vector env against the generic form it replaces (same results; the
sampler table: the same distribution)."""

from __future__ import annotations

import numpy as np
import pytest

from tttthought_env.vector import ThoughtVectorEnv


def _generic_bits(env: ThoughtVectorEnv) -> None:
    env.kernel.t.small = False  # popcount, win test and rank-select by loops over cells and lines


CASES = [
    (_generic_bits, dict(opponent="minimax", shaping="potential", agent_player="random", opponent_epsilon=0.5)),
    (_generic_bits, dict(rows=4, cols=4, k=3, opponent="heuristic", agent_player="random", shaping="prediction")),
    (_generic_bits, dict(opponent="heuristic", agent_player="O", opponent_epsilon=0.3, persist="turn")),
]


@pytest.mark.parametrize("switch_off, config", CASES, ids=[f"{f.__name__}-{i}" for i, (f, _) in enumerate(CASES)])
def test_specialised_table_equals_generic_form(switch_off, config) -> None:
    fast, slow = ThoughtVectorEnv(64, **config), ThoughtVectorEnv(64, **config)
    switch_off(slow)
    for env in (fast, slow):
        env.reset(seed=5)
    rng = np.random.default_rng(0)
    for _ in range(60):
        mask = fast.action_masks()
        np.testing.assert_array_equal(mask, slow.action_masks())
        actions = np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in mask])
        got, want = fast.step(actions), slow.step(actions)
        for a, b in zip(got[:4], want[:4]):
            np.testing.assert_array_equal(a, b)


def test_sampling_by_proposition_is_uniform_like_the_generic_sampler() -> None:
    from scipy.stats import chisquare

    for by_proposition in (True, False):
        env = ThoughtVectorEnv(20_000, opponent="random", channels=("propose", "negate", "forget"))
        if not by_proposition:
            env.kernel.t.sampler_k = 0  # the walk over the action blocks instead
        assert env.kernel.t.sampler_k == (2 if by_proposition else 0)
        env.reset(seed=1)
        env.step(np.full(20_000, 9 + 4))  # propose 4 in every game: a state with +4 in the store
        mask = env.action_masks()[0]
        assert (env.action_masks() == mask).all()
        actions = env.sample_actions()
        assert mask[actions].all()
        counts = np.bincount(actions, minlength=mask.size)[mask]
        assert chisquare(counts).pvalue > 1e-4
