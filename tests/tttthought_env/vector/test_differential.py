"""The vector env against the single env with the built-in opponents, fed the same random numbers.

The vector env draws one float32 uniform per game for a reply (coin and, rescaled, the pick of an
epsilon-mixed opponent); the single env's opponent draws ``rng.random()`` twice. Here the single env's
opponent gets the vector env's numbers (:class:`FeedRng`), with the vector env's float32 arithmetic, so
both envs must choose the same cells and give equal observations, masks and rewards at every step.
Hypothesis draws the configurations, 64-cell boards included. Then chi-square tests of the vector env's
reply distribution from fixed positions against the single env's exact one.
"""

from __future__ import annotations

import copy
from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv
from tttthought_env.opponents import (
    EpsilonOpponent,
    cells_of,
    epsilon_candidates,
    heuristic_candidates,
    heuristic_tables,
    make_opponent,
    random_candidates,
)
from tttthought_env.vector import ThoughtVectorEnv
from tttthought_env.vector.kernel import rescale_pick_draw


class F32Draw(float):
    """A draw used as the vector env uses it: the coin compared, and the pick scaled, in float32."""

    def __lt__(self, other: object) -> bool:
        return bool(np.float32(self) < np.float32(other))  # type: ignore[arg-type]

    def __mul__(self, count: object) -> float:
        # the vector env clamps a product rounded up to the count to the last candidate
        return min(float(np.float32(self) * np.float32(count)), float(count) - 1.0)  # type: ignore[arg-type]


class FeedRng:
    """Stands in for the single env's generator inside the opponent: returns the queued draws."""

    def __init__(self) -> None:
        self.queue: list[float] = []

    def random(self) -> float:
        return self.queue.pop(0)


class FedOpponent:
    """The single env's own opponent object, drawing from a :class:`FeedRng` instead of the env's generator."""

    def __init__(self, real, feed: FeedRng) -> None:
        self.real, self.feed = real, feed

    def reply(self, x: int, o: int, rng) -> int:
        return self.real.reply(x, o, self.feed)

    def __call__(self, board, rng) -> int:
        return self.real(board, self.feed)


def _draws(u: float, epsilon: float) -> list[float]:
    """The single env's draws (coin, pick) equal to the vector env's one draw ``u``."""
    if epsilon == 0.0:
        return [F32Draw(u)]
    arr = np.array([u], np.float32)
    pick = rescale_pick_draw(np, arr, arr < epsilon, epsilon)[0]
    return [F32Draw(u), F32Draw(float(pick))]


def run_fed(config: dict, num_envs: int = 4, steps: int = 40, seed: int = 0) -> int:
    """Step both envs with the same actions and the same opponent draws; return the episodes finished."""
    opponent = config.get("opponent", "random")
    epsilon = config.get("opponent_epsilon", 0.0)
    side = config.get("agent_player", "X")
    vec = ThoughtVectorEnv(num_envs, **config)
    feeds = [FeedRng() for _ in range(num_envs)]
    singles = [ThoughtTicTacToeEnv(**config) for _ in range(num_envs)]
    for env, feed in zip(singles, feeds):
        env.unwrapped.opponent = FedOpponent(env.unwrapped.opponent, feed)
    mirror = np.random.default_rng(seed)  # the vector env's generator, one step ahead of it

    def reset_draws(rows: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        sides = mirror.random(num_envs, dtype=np.float32) < 0.5 if side == "random" else None
        opening = mirror.random(num_envs, dtype=np.float32) if side != "X" else None
        return sides, opening

    def reset_single(i: int, sides, opening) -> tuple:
        if side == "random":
            singles[i].agent_player_setting = "O" if sides[i] else "X"
        if opening is not None:
            feeds[i].queue = _draws(float(opening[i]), epsilon)
        return singles[i].reset(seed=seed + i)

    obs_v, info_v = vec.reset(seed=seed)
    sides, opening = reset_draws(np.ones(num_envs, bool))
    for i in range(num_envs):
        obs, info = reset_single(i, sides, opening)
        np.testing.assert_array_equal(obs_v[i], obs, err_msg=f"reset {i}")
        np.testing.assert_array_equal(info_v["action_mask"][i], info["action_mask"])
    actions_rng = np.random.default_rng(seed + 1000)
    episodes = 0
    for t in range(steps):
        masks = vec.action_masks()
        actions = np.array([actions_rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in masks])
        u = mirror.random(num_envs, dtype=np.float32)
        obs_v, rew_v, term_v, _, info_v = vec.step(actions)
        if term_v.any():
            sides, opening = reset_draws(term_v)
        for i in range(num_envs):
            where = f"step {t} env {i} action {actions[i]} config {config}"
            feeds[i].queue = _draws(float(u[i]), epsilon)
            obs, reward, term, _, info = singles[i].step(int(actions[i]))
            assert bool(term_v[i]) == term, where
            assert float(rew_v[i]) == reward, f"{where}: reward {rew_v[i]!r} != {reward!r}"
            if term:
                episodes += 1
                np.testing.assert_array_equal(info_v["final_obs"][i], obs, err_msg=where)
                obs, info = reset_single(i, sides, opening)
            np.testing.assert_array_equal(obs_v[i], obs, err_msg=where)
            np.testing.assert_array_equal(info_v["action_mask"][i], info["action_mask"], err_msg=where)
    assert opponent is not None
    return episodes


@st.composite
def configs(draw) -> dict:
    big = draw(st.booleans())
    if big:  # boards of 13 to 64 cells: no solver table, so no minimax and no oracle/potential
        rows, cols = draw(st.sampled_from([(8, 8), (4, 16), (5, 5), (4, 4), (7, 9), (2, 32)]))
        opponent = draw(st.sampled_from(["random", "heuristic"]))
        shaping = draw(st.sampled_from([None, "prediction", "world", "world_potential"]))
    else:
        rows, cols = draw(st.sampled_from([(3, 3), (1, 3), (2, 2), (3, 4), (2, 5), (1, 5)]))
        opponent = draw(st.sampled_from(["random", "heuristic", "minimax"]))
        shaping = draw(st.sampled_from([None, "oracle", "potential", "prediction", "world", "world_potential"]))
    k = draw(st.integers(1, min(max(rows, cols), 4)))
    channels = tuple(c for c in ("propose", "negate", "forget", "marker") if draw(st.booleans()))
    return dict(
        rows=rows, cols=cols, k=k, channels=channels,
        max_thoughts=(max_thoughts := draw(st.integers(0, 3))),
        memory_size=draw(st.sampled_from([None, 1, 2, 5])),
        num_markers=draw(st.integers(1, 3)),
        persist=draw(st.sampled_from(["game", "turn"])),
        min_thoughts=draw(st.one_of(st.just(0), st.integers(0, max_thoughts))),
        view=draw(st.sampled_from(["full", "last_move"])),
        opponent=opponent,
        opponent_epsilon=draw(st.sampled_from([0.0, 0.5, 0.3, 1.0])),
        agent_player=draw(st.sampled_from(["X", "O", "random"])),
        shaping=shaping,
        shaping_gamma=draw(st.sampled_from([1.0, 0.9])),
        thought_cost=draw(st.sampled_from([0.0, 0.05])),
        draw_reward=draw(st.sampled_from([0.0, 0.5])),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), seed=st.integers(0, 2**16))
def test_vector_env_equals_single_env_with_the_same_draws(config: dict, seed: int) -> None:
    run_fed(config, seed=seed)


@pytest.mark.parametrize("opponent", ["random", "heuristic", "minimax"])
@pytest.mark.parametrize("epsilon", [0.0, 0.5])
def test_registered_settings_with_the_same_draws(opponent: str, epsilon: float) -> None:
    config = dict(opponent=opponent, opponent_epsilon=epsilon, agent_player="random", shaping="potential")
    assert run_fed(config, num_envs=8, steps=60, seed=3) > 0


@pytest.mark.parametrize("shaping", [None, "world", "world_potential", "potential"])
def test_last_move_view_and_world_shaping_with_the_same_draws(shaping: str | None) -> None:
    """view="last_move" and the world judgements: the vector env's observations and rewards equal the core's."""
    config = dict(opponent="minimax", opponent_epsilon=0.5, agent_player="random", view="last_move", shaping=shaping)
    assert run_fed(config, num_envs=8, steps=60, seed=7) > 0
    assert run_fed({**config, "view": "full", "shaping_gamma": 0.9}, num_envs=8, steps=60, seed=8) > 0


@pytest.mark.parametrize("min_thoughts", [1, 2, 3])
def test_forced_thinking_with_the_same_draws(min_thoughts: int) -> None:
    """min_thoughts: the vector env's masks, sampler and legality equal the core's (tttthought_env.core)."""
    config = dict(opponent="minimax", opponent_epsilon=0.5, agent_player="random", min_thoughts=min_thoughts,
                  channels=("propose", "negate") if min_thoughts == 3 else ("propose", "negate", "forget", "marker"))
    assert run_fed(config, num_envs=8, steps=60, seed=5) > 0


@pytest.mark.parametrize("opponent", ["random", "heuristic"])
def test_every_64_cell_board_steps(opponent: str) -> None:
    """Today's crash (OverflowError building the 64-cell opening templates) is gone, on every 64-cell shape."""
    for rows, cols in [(8, 8), (4, 16), (2, 32), (1, 64)]:
        vec = ThoughtVectorEnv(2, rows=rows, cols=cols, k=4, opponent=opponent, agent_player="O")
        vec.reset(seed=0)
        for _ in range(10):
            vec.step(vec.sample_actions())
        assert vec.state_nbytes_per_game() > 0
    run_fed(dict(rows=8, cols=8, k=4, opponent=opponent, opponent_epsilon=0.5, agent_player="random",
                 shaping="prediction", max_thoughts=1), steps=30)


# ------------------------------------------------------------------------------------ distributions
def _exact_reply_distribution(opponent, x: int, o: int, n: int) -> dict[int, float]:
    """The single opponent's exact distribution over replies: uniform among its candidates (mixed)."""
    free = random_candidates(x, o, (1 << n) - 1)
    if isinstance(opponent, EpsilonOpponent):
        base, eps = opponent.base.candidates(x, o, n), opponent.epsilon
    else:
        base, eps = opponent.candidates(x, o, n), 0.0
    dist: Counter = Counter()
    for cells, weight in ((cells_of(free), eps), (cells_of(base), 1.0 - eps)):
        for c in cells if weight > 0 else ():
            dist[c] += weight / len(cells)
    return dict(dist)


def _vector_replies(config: dict, first_moves: list[int], games: int) -> Counter:
    """The vector env's reply to the learner's moves ``first_moves`` (as X), over ``games`` games."""
    vec = ThoughtVectorEnv(games, channels=(), **config)
    vec.reset(seed=12345)
    before = None
    for cell in first_moves:
        before = copy.deepcopy(vec._state.opp)
        vec.step(np.full(games, cell))
    replies = vec._state.opp & ~before
    return Counter(int(np.log2(int(r))) for r in replies.tolist())


def _chi_square(observed: Counter, expected: dict[int, float], total: int) -> None:
    from scipy.stats import chisquare

    assert set(observed) <= set(expected), (observed, expected)
    cells = sorted(expected)
    if len(cells) == 1:  # one candidate: every game must take it
        assert observed == {cells[0]: total}
        return
    stat = chisquare([observed.get(c, 0) for c in cells], [expected[c] * total for c in cells])
    assert stat.pvalue > 1e-4, (observed, expected, stat)


@pytest.mark.parametrize("rows, cols, k, moves", [
    (4, 4, 3, [5]),  # a centre cell taken: the heuristic picks among the three other centre cells
    (4, 4, 3, [0]),
    (3, 5, 3, [7]),  # the only centre cell taken: the four corners
    (3, 5, 3, [0]),
])
@pytest.mark.parametrize("epsilon", [0.0, 0.5])
def test_heuristic_and_epsilon_replies_match_the_single_env_distribution(rows, cols, k, moves, epsilon) -> None:
    games = 20_000
    single = make_opponent("heuristic", rows=rows, cols=cols, k=k, epsilon=epsilon)
    config = dict(rows=rows, cols=cols, k=k, opponent="heuristic", opponent_epsilon=epsilon)
    observed = _vector_replies(config, moves, games)
    # the position the opponent answered: the learner's first move on an empty board
    expected = _exact_reply_distribution(single, 1 << moves[0], 0, rows * cols)
    _chi_square(observed, expected, games)


def test_epsilon_mixed_minimax_distribution_3x3() -> None:
    games = 20_000
    single = make_opponent("minimax", rows=3, cols=3, k=3, epsilon=0.5)
    observed = _vector_replies(dict(opponent="minimax", opponent_epsilon=0.5), [0], games)
    _chi_square(observed, _exact_reply_distribution(single, 1, 0, 9), games)


def test_candidate_functions_agree_with_the_vector_tables_on_a_4x4_board() -> None:
    """The heuristic table of the vector env is the opponents' rule: spot-check positions against ints."""
    tables = heuristic_tables(4, 4, 3)
    rng = np.random.default_rng(0)
    for _ in range(200):
        cells = rng.permutation(16)[: rng.integers(0, 15)]
        x = sum(1 << int(c) for c in cells[0::2])
        o = sum(1 << int(c) for c in cells[1::2])
        got = heuristic_candidates(np.array([x]), np.array([o]), tables,
                                   lambda a: np.array([bin(int(v)).count("1") for v in a]))
        assert int(got[0]) == heuristic_candidates(x, o, tables)
        assert epsilon_candidates(random_candidates(x, o, 0xFFFF), int(got[0]), True) == 0xFFFF & ~(x | o)


def test_a_move_before_min_thoughts_is_illegal_in_both_envs() -> None:
    import gymnasium

    kwargs = dict(opponent="random", min_thoughts=2)
    vec = ThoughtVectorEnv(2, **kwargs)
    vec.reset(seed=0)
    single = gymnasium.make("tttthought/Full-v0", **kwargs).unwrapped
    single.reset(seed=0)
    assert not single.action_masks()[:9].any() and not vec.action_masks()[:, :9].any()
    propose_4 = single.encode_action("propose", 4)
    _, reward, terminated, _, info = single.step(4)  # a move with no thought yet: illegal, a loss
    _, rewards, terminations, _, infos = vec.step(np.array([4, propose_4]))
    assert terminated and reward == -1.0 and info["illegal_action"]
    assert terminations.tolist() == [True, False] and rewards[0] == -1.0 and infos["illegal_action"].tolist() == [True, False]
    with pytest.raises(ValueError, match=r"think at least 2 thought\(s\) before moving \(0 so far\)"):
        raising = ThoughtVectorEnv(1, **kwargs, illegal_action="raise")
        raising.reset(seed=0)
        raising.step(np.array([4]))
