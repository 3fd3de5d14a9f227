"""The evaluation's thought diagnostics: probability mass on thoughts, the world's "true" fraction, and masked
play under forced thinking."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from baselines.evaluate import _thought_mass, play_games, summarize  # noqa: E402

TWIN = "tttthought/LastMove-Full-v0"


def test_thought_mass_of_a_policy_and_of_a_greedy_learner():
    legal = np.array([[True, True, True, False], [True, False, True, True]])
    logits = np.array([[0.0, 0.0, np.log(2.0), 5.0], [0.0, 9.0, 0.0, 0.0]])
    # n = 2 moves: row 0 has thought 2 (prob 2/4; action 3 is illegal), row 1 thoughts 2 and 3 (prob 2/3)
    assert _thought_mass(logits, legal, 2, is_policy=True) == pytest.approx(0.5 + 2 / 3)
    assert _thought_mass(logits, legal, 2, is_policy=False) == 1.0  # row 0 argmax is thought 2; row 1 move 0 (tie)


def scorer_preferring(kind: str):
    """A fixed scorer: thoughts first (proposals of the lowest cell) or moves first."""
    def scorer(obs, mask):
        scores = np.tile(-np.arange(mask.shape[1], dtype=float), (mask.shape[0], 1))
        if kind == "thoughts":
            scores[:, 9:] += 100.0
        return scores
    return scorer


def test_the_world_judges_each_thought_against_the_opponents_cells():
    tallies = play_games(scorer_preferring("thoughts"), TWIN, {}, side="X", n_games=20, seed=0, opponent="random",
                         opponent_epsilon=0.0)
    result = summarize(tallies)
    # "propose 0" first each turn (when +0 is not in the store yet), then proposals of the lowest free ids:
    # true only where the opponent holds the cell, so some but not all.
    assert tallies["world_judged"] == tallies["thoughts"] > 0
    assert 0.0 < result["true_thought_fraction"] < 1.0
    assert result["thought_mass"] == pytest.approx(tallies["thoughts"] / tallies["decisions"])


def test_masked_play_lifts_forced_thinking():
    tallies = play_games(scorer_preferring("thoughts"), TWIN, {"min_thoughts": 1}, side="O", n_games=30, seed=1,
                         opponent="minimax", opponent_epsilon=0.0, mask_thoughts=True)
    assert tallies["games"] == 30 and tallies["illegal_actions"] == 0 and tallies["thoughts"] == 0
    forced = play_games(scorer_preferring("moves"), TWIN, {"min_thoughts": 1}, side="O", n_games=30, seed=1,
                        opponent="minimax", opponent_epsilon=0.0)
    assert forced["illegal_actions"] == 0 and forced["thoughts"] >= forced["moves"]  # one thought before each move
