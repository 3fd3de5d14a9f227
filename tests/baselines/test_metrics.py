"""Unit tests of baselines.metrics and of the protocol's thought metrics, on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.evaluate import evaluate_against, judge_thought
from baselines.metrics import (
    game_score,
    iqm,
    mean,
    performance_profile,
    performance_profile_ci,
    probability_of_improvement,
    probability_of_improvement_ci,
    stratified_bootstrap_ci,
    thought_utility,
)
from tttthought_env.core import Config, Game, layout_for


# ----------------------------------------------------------------------------------------------- IQM
def test_iqm_drops_a_quarter_at_each_end():
    assert iqm(np.arange(1, 11)) == pytest.approx(5.5)  # drops 1, 2 and 9, 10: mean(3..8)
    assert iqm([0, 0, 0, 0, 100]) == pytest.approx(0.0)  # int(1.25) = 1 dropped per end
    assert iqm([4, 1, 3, 2]) == pytest.approx(2.5)  # unsorted input: mean(2, 3)
    assert iqm([7.0]) == pytest.approx(7.0)
    assert iqm([1, 2, 3]) == pytest.approx(2.0)  # int(0.75) = 0: the plain mean


def test_iqm_pools_runs_and_tasks_and_vectorizes():
    scores = np.array([[1, 10], [2, 20], [3, 30], [4, 40]], dtype=float)
    assert iqm(scores) == pytest.approx(iqm(scores.reshape(-1)))
    assert iqm(scores) == pytest.approx(np.mean([3, 4, 10, 20]))
    np.testing.assert_allclose(iqm(scores.T, axis=-1), [2.5, 25.0])


def test_iqm_is_robust_to_one_outlier_unlike_the_mean():
    scores = [0.5] * 9 + [1000.0]
    assert iqm(scores) == pytest.approx(0.5)
    assert mean(scores) > 100


def test_iqm_matches_scipy_trim_mean_when_available():
    stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    for n in (4, 5, 10, 13):
        x = rng.normal(size=n)
        assert iqm(x) == pytest.approx(stats.trim_mean(x, 0.25))


# ------------------------------------------------------------------------------------------ bootstrap
def test_bootstrap_of_constant_scores_is_degenerate():
    assert stratified_bootstrap_ci([0.7] * 10) == pytest.approx((0.7, 0.7, 0.7))
    assert stratified_bootstrap_ci([0.7]) == pytest.approx((0.7, 0.7, 0.7))


def test_bootstrap_is_stratified_by_task():
    # Task A always scores 0, task B always 1: every stratified resample keeps 5 runs of each,
    # so the mean is 0.5 in every resample; an unstratified bootstrap would vary.
    scores = np.array([[0.0, 1.0]] * 5)
    assert stratified_bootstrap_ci(scores, mean, reps=500) == pytest.approx((0.5, 0.5, 0.5))


def test_bootstrap_ci_of_the_mean_matches_the_normal_approximation():
    rng = np.random.default_rng(1)
    x = rng.normal(2.0, 1.0, size=400)
    point, low, high = stratified_bootstrap_ci(x, mean, reps=4000, seed=3)
    se = x.std(ddof=1) / np.sqrt(x.size)
    assert point == pytest.approx(x.mean())
    assert low == pytest.approx(x.mean() - 1.96 * se, abs=0.25 * se)
    assert high == pytest.approx(x.mean() + 1.96 * se, abs=0.25 * se)


def test_bootstrap_ci_brackets_the_point_and_is_reproducible():
    x = [0.1, 0.4, 0.35, 0.8, 0.9, 0.2, 0.55, 0.6, 0.7, 0.05]
    first = stratified_bootstrap_ci(x, iqm, reps=1000, seed=5)
    assert first == stratified_bootstrap_ci(x, iqm, reps=1000, seed=5)
    point, low, high = first
    assert low <= point <= high
    assert 0.05 <= low < high <= 0.9


# ------------------------------------------------------------------------------ probability of improvement
def test_probability_of_improvement_by_hand():
    assert probability_of_improvement([1, 2, 3], [0, 0, 0]) == 1.0
    assert probability_of_improvement([0, 0], [1, 2, 3]) == 0.0
    assert probability_of_improvement([1, 2, 3], [1, 2, 3]) == pytest.approx(0.5)  # ties count one half
    # pairs (x, y): (1, 1.5) no, (1, 3) no, (2, 1.5) yes, (2, 3) no -> 1/4
    assert probability_of_improvement([1, 2], [1.5, 3]) == pytest.approx(0.25)
    # one tie out of four pairs, one win: (1 + 0.5) / 4
    assert probability_of_improvement([1, 2], [1, 3]) == pytest.approx(0.375)


def test_probability_of_improvement_is_antisymmetric_and_averages_tasks():
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=7), rng.normal(size=9)
    assert probability_of_improvement(x, y) + probability_of_improvement(y, x) == pytest.approx(1.0)
    # Task 1: x always better; task 2: y always better -> 0.5 overall.
    x2 = np.array([[1.0, 0.0], [1.0, 0.0]])
    y2 = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert probability_of_improvement(x2, y2) == pytest.approx(0.5)


def test_probability_of_improvement_ci():
    assert probability_of_improvement_ci([5, 6, 7], [1, 2, 3], reps=300) == pytest.approx((1.0, 1.0, 1.0))
    point, low, high = probability_of_improvement_ci([1, 2, 3, 4], [2, 3, 4, 5], reps=2000)
    assert point == pytest.approx(4.5 / 16)  # x>y pairs: (3,2), (4,2), (4,3) = 3; ties 3 -> (3 + 1.5)/16
    assert low <= point <= high and low < 0.5 <= high + 1e-9


# ----------------------------------------------------------------------------------- performance profile
def test_performance_profile_counts_scores_strictly_above_tau():
    np.testing.assert_allclose(performance_profile([0.1, 0.5, 0.9], [0.0, 0.5, 0.95]), [1.0, 1 / 3, 0.0])
    profile, low, high = performance_profile_ci([0.1, 0.5, 0.9], [0.0, 0.5, 0.95], reps=300)
    np.testing.assert_allclose(profile, [1.0, 1 / 3, 0.0])
    assert np.all(low <= profile + 1e-12) and np.all(profile <= high + 1e-12)


# --------------------------------------------------------------------------- game score, thought utility
def test_game_score_and_thought_utility_by_hand():
    assert game_score(6, 2, 2) == pytest.approx(0.4)
    assert game_score(6, 2, 2, draw_reward=0.5) == pytest.approx(0.5)
    assert thought_utility(0.3, 0.1) == pytest.approx(0.2)
    assert thought_utility(game_score(0, 10, 0), game_score(0, 4, 6)) == pytest.approx(0.6)


def _position_o_must_block() -> Game:
    """X on 0 and 1, O on 4, O to move: the only optimal move for O is 2 (block)."""
    game = Game(layout_for(Config()))
    for cell in (0, 4, 1):
        game.move(cell)
    return game


def _judge(game: Game, channel: str, arg: int, optimal: int) -> bool | None:
    """The evaluation's verdict on O's thought ``channel arg`` in ``game``."""
    return judge_thought(channel, arg, optimal, bool(game.pos[1] >> arg & 1))


def test_thought_correctness_by_hand():
    from tttthought_env.solver import get_solver

    game = _position_o_must_block()
    optimal = get_solver(3, 3, 3).optimal_bits_from_marks(game.marks[0], game.marks[1])
    assert optimal == 1 << 2
    assert _judge(game, "propose", 2, optimal) is True
    assert _judge(game, "propose", 5, optimal) is False
    assert _judge(game, "negate", 5, optimal) is True
    assert _judge(game, "negate", 2, optimal) is False
    assert _judge(game, "negate", 0, optimal) is True  # an occupied cell is never optimal
    assert _judge(game, "marker", 0, optimal) is None
    layout = game.layout
    game.think(layout.encode_action("propose", 5))  # +5 (incorrect) in the store
    game.think(layout.encode_action("negate", 2))  # -2 (incorrect) in the store
    game.think(layout.encode_action("marker", 0))  # markers are never judged
    assert _judge(game, "forget", 5, optimal) is True  # removes the incorrect +5
    assert _judge(game, "forget", 2, optimal) is True  # removes the incorrect -2
    game2 = _position_o_must_block()
    game2.think(layout.encode_action("propose", 2))  # +2 (correct)
    game2.think(layout.encode_action("negate", 5))  # -5 (correct)
    assert _judge(game2, "forget", 2, optimal) is False
    assert _judge(game2, "forget", 5, optimal) is False


# ------------------------------------------------------------- protocol on hand-made policies (no training)
def _board_from_obs(obs: np.ndarray, n: int) -> np.ndarray:
    mine, theirs = obs[:n] > 0.5, obs[n:2 * n] > 0.5
    me_x = mine.sum() == theirs.sum()  # the learner is to move: as X it has as many marks as O
    board = np.zeros(n, np.int8)
    board[mine] = 1 if me_x else 2
    board[theirs] = 2 if me_x else 1
    return board


def _hand_scorer(perfect_only_after_thinking: bool):
    """Thinks whenever it may (prefers thought actions), then moves: the lowest empty cell, or, if its store
    holds anything and ``perfect_only_after_thinking``, the solver's lowest optimal cell."""
    from tttthought_env.solver import get_solver

    solver = get_solver(3, 3, 3)
    n = 9

    def scorer(obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        scores = np.zeros(mask.shape)
        scores[:, n:] = 100.0  # thoughts first
        for row, vector in enumerate(obs):
            board = _board_from_obs(vector, n)
            thought_about = vector[2 * n:4 * n].any()
            if perfect_only_after_thinking and thought_about:
                target = int(np.flatnonzero(solver.optimal_moves(board))[0])
            else:
                target = int(np.flatnonzero(board == 0)[0])
            scores[row, :n] = -np.arange(n)
            scores[row, target] = 50.0
        return scores

    return scorer


def test_thought_utility_is_zero_when_moves_ignore_thoughts():
    scorer = _hand_scorer(perfect_only_after_thinking=False)
    env = {"agent_player": "random"}
    with_t = evaluate_against(scorer, "tttthought/Full-v0", env, "training", 60, seed=11)
    without = evaluate_against(scorer, "tttthought/Full-v0", env, "training", 60, seed=11, mask_thoughts=True)
    assert with_t["thoughts_per_move"] == pytest.approx(3.0)  # max_thoughts=3, always used
    assert without["thoughts_per_move"] == 0.0
    # Same seeds, same moves, thoughts do not touch the opponent's generator: identical games.
    assert thought_utility(with_t["score"], without["score"]) == 0.0
    assert with_t["games"] == without["games"] == 60


def test_thought_utility_is_positive_when_play_depends_on_thinking():
    scorer = _hand_scorer(perfect_only_after_thinking=True)
    env = {"agent_player": "random"}
    with_t = evaluate_against(scorer, "tttthought/Full-v0", env, "minimax", 40, seed=3)
    without = evaluate_against(scorer, "tttthought/Full-v0", env, "minimax", 40, seed=3, mask_thoughts=True)
    assert with_t["loss"] == 0.0 and with_t["score"] == 0.0  # perfect play against perfect play: draws
    assert without["score"] < -0.5  # lowest-empty-cell play loses most games to minimax
    assert thought_utility(with_t["score"], without["score"]) > 0.5
    assert 0.0 <= with_t["correct_thought_fraction"] <= 1.0 and with_t["judged_thoughts"] > 0
