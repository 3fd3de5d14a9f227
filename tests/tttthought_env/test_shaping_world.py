"""R(δx) for the world: ``shaping="world"`` and ``"world_potential"`` judge "the thinker's opponent holds p"
against the true board, in either view: exact values on hand-built positions, telescoping under random play."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env.pettingzoo import AGENTS, raw_env
from tttthought_env.rewards import POTENTIAL_KINDS, SHAPING_KINDS, truth_is_world


def gym(opponent, **kwargs) -> ThoughtTicTacToeEnv:
    return ThoughtTicTacToeEnv(opponent=opponent, max_thoughts=20, **kwargs)


def shaping_of(env, channel: str, arg: int | None = None) -> float:
    action = arg if channel == "move" else env.encode_action(channel, arg)
    _, reward, _, _, info = env.step(action)
    assert reward == pytest.approx(info["reward_game"] + info["reward_shaping"] + info["reward_cost"], abs=1e-15)
    return info["reward_shaping"]


def phi_world(store, board: np.ndarray, thinker: int, alpha: float) -> float:
    """Φ = α·(true − false entries)/N, an entry ``+p`` true iff the thinker's opponent holds ``p``."""
    theirs = {int(c) for c in np.flatnonzero(board == 2 - thinker)}
    true = false = 0
    for sign, p in store:
        if sign != "#":
            holds = p in theirs
            true += holds == (sign == "+")
            false += holds != (sign == "+")
    return alpha * (true - false) / board.size


def test_the_world_variants_are_named():
    assert SHAPING_KINDS[-2:] == ("world", "world_potential") and "world_potential" in POTENTIAL_KINDS
    assert truth_is_world("world") and not truth_is_world("oracle") and not truth_is_world(None)


@pytest.mark.parametrize("view", ["full", "last_move"])
def test_world_on_a_hand_built_position(lowest_empty_opponent, view):
    """X holds 0, 1; O holds 3, 4 (X to move): the propositions true for X are {3, 4}."""
    a = 0.25
    env = gym(lowest_empty_opponent, shaping="world", shaping_scale=a, view=view)
    env.reset(seed=0)
    for cell in (0, 3, 1, 4):
        env.game.move(cell)
    expected = [
        (("propose", 3), +a),   # O holds 3
        (("propose", 5), -a),   # nobody holds 5
        (("propose", 0), -a),   # X's own cell: not the opponent's
        (("negate", 8), +a),    # O does not hold 8
        (("negate", 4), -a),    # O holds 4
        (("negate", 3), -a),    # replaces +3 by -3: false
        (("forget", 5), +a),    # removes +5, which was false
        (("forget", 8), -a),    # removes -8, which was true
        (("forget", 4), +a),    # removes -4, which was false
        (("marker", 1), 0.0),   # markers are not judged
    ]
    for (channel, arg), value in expected:
        assert shaping_of(env, channel, arg) == pytest.approx(value), (channel, arg)
    assert shaping_of(env, "move", 8) == 0.0  # a move earns nothing under "world"


def test_world_judges_the_board_after_the_reply(lowest_empty_opponent):
    env = gym(lowest_empty_opponent, shaping="world", view="last_move")
    env.reset(seed=0)
    assert shaping_of(env, "propose", 0) == pytest.approx(-0.1)  # nobody holds 0 yet
    shaping_of(env, "move", 4)  # the opponent answers on 0: +0 is true now
    assert shaping_of(env, "forget", 0) == pytest.approx(-0.1)  # removing a true entry
    assert shaping_of(env, "propose", 0) == pytest.approx(0.1)


@pytest.mark.parametrize("gamma", [1.0, 0.5])
def test_world_potential_on_a_hand_built_position(lowest_empty_opponent, gamma):
    a, n = 0.9, 9
    env = gym(lowest_empty_opponent, shaping="world_potential", shaping_scale=a, shaping_gamma=gamma)
    env.reset(seed=0)
    phis = [0.0]
    for (channel, arg), phi in [
        (("propose", 4), -a / n),   # nobody holds 4: false
        (("negate", 4), a / n),     # replaces it by -4: true
        (("negate", 7), 2 * a / n),
    ]:
        assert shaping_of(env, channel, arg) == pytest.approx(gamma * phi - phis[-1]), (channel, arg)
        phis.append(phi)
    # X moves 2, the opponent answers 0: -4 and -7 stay true, so Φ' = 2a/N; F = γΦ' − Φ.
    assert shaping_of(env, "move", 2) == pytest.approx(gamma * 2 * a / n - phis[-1])
    assert shaping_of(env, "negate", 0) == pytest.approx(gamma * 1 * a / n - 2 * a / n)  # -0 is false now


@pytest.mark.parametrize("kind", ["world", "world_potential"])
def test_world_variants_work_on_boards_the_solver_cannot_solve(kind):
    env = ThoughtTicTacToeEnv(rows=5, cols=5, k=4, shaping=kind, view="last_move")
    env.reset(seed=0)
    env.step(env.encode_action("propose", 3))


def random_play(env, rng, think_bias: float):
    obs, info = env.reset(seed=int(rng.integers(2**31)))
    n = env.config.n_cells
    while True:
        mask = info["action_mask"]
        thoughts = np.flatnonzero(mask[n:]) + n
        a = int(rng.choice(thoughts)) if thoughts.size and rng.random() < think_bias else int(
            rng.choice(np.flatnonzero(mask[:n])))
        before = (env.game.board.copy(), env.game.store_entries(env.agent))
        obs, reward, terminated, _, info = env.step(a)
        yield before, terminated, info
        if terminated:
            return


@settings(max_examples=80, deadline=None)
@given(view=st.sampled_from(["full", "last_move"]), side=st.sampled_from(["X", "O"]),
       persist=st.sampled_from(["game", "turn"]), gamma=st.sampled_from([1.0, 0.9]),
       seed=st.integers(0, 2**32 - 1), think_bias=st.floats(0.0, 0.95))
def test_world_potential_is_gamma_phi_next_minus_phi_and_telescopes(view, side, persist, gamma, seed, think_bias):
    alpha = 0.3
    env = ThoughtTicTacToeEnv(opponent="random", agent_player=side, shaping="world_potential", shaping_scale=alpha,
                              shaping_gamma=gamma, view=view, persist=persist)
    total = 0.0
    for (board, store), terminated, info in random_play(env, np.random.default_rng(seed), think_bias):
        phi = phi_world(store, board, env.agent, alpha)
        phi_next = 0.0 if terminated else phi_world(env.game.store_entries(env.agent), env.game.board, env.agent, alpha)
        assert info["reward_shaping"] == pytest.approx(gamma * phi_next - phi, abs=1e-12)
        total += info["reward_shaping"]
    if gamma == 1.0:
        assert total == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), think_bias=st.floats(0.0, 0.95))
def test_world_potential_telescopes_per_player_in_pettingzoo(seed, think_bias):
    e = raw_env(shaping="world_potential", shaping_scale=0.2, view="last_move")
    e.reset(seed=seed)
    rng = np.random.default_rng(seed)
    totals = dict.fromkeys(AGENTS, 0.0)
    for agent in e.agent_iter():
        _, _, terminated, truncated, _ = e.last()
        if terminated or truncated:
            e.step(None)
            continue
        mask = e.action_masks()
        thoughts = np.flatnonzero(mask[9:]) + 9
        e.step(int(rng.choice(thoughts)) if thoughts.size and rng.random() < think_bias
               else int(rng.choice(np.flatnonzero(mask[:9]))))
        for name in AGENTS:
            totals[name] += e.infos[name]["reward_shaping"]
    assert totals[AGENTS[0]] == pytest.approx(0.0, abs=1e-12) and totals[AGENTS[1]] == pytest.approx(0.0, abs=1e-12)


def test_world_in_pettingzoo_judges_against_the_thinkers_opponent():
    e = raw_env(shaping="world", view="last_move")
    e.reset(seed=0)
    e.step(4)  # player_0 (X) on 4
    e.step(e.encode_action("propose", 4))  # player_1: "my opponent holds 4": true
    assert e.infos[AGENTS[1]]["reward_shaping"] == pytest.approx(0.1) and e.infos[AGENTS[0]]["reward_shaping"] == 0.0
    e.step(0)  # player_1 (O) on 0
    e.step(e.encode_action("propose", 4))  # player_0: "my opponent holds 4": false, it is its own
    assert e.infos[AGENTS[0]]["reward_shaping"] == pytest.approx(-0.1)
