"""R(δx) shaping: every variant on hand-built positions with exact expected rewards, the potential-based
telescoping property under random play in both envs, and that shaping never changes the game."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env.core import board_from_string
from tttthought_env.pettingzoo import AGENTS, raw_env
from tttthought_env.shaping import ThoughtView
from tttthought_env.solver import get_solver

P0, P1 = AGENTS
SOLVER = get_solver(3, 3, 3)


def optimal(board) -> set[int]:
    bits = SOLVER.optimal_mask_bits(np.asarray(board))
    return {c for c in range(len(board)) if bits >> c & 1}


def phi_ref(store, board, alpha: float) -> float:
    """Φ = α·(correct − incorrect)/N of ``store`` judged against ``board`` (the player to move faces it)."""
    best = optimal(board)
    correct = incorrect = 0
    for sign, p in store:
        if sign == "#":
            continue
        good = (p in best) if sign == "+" else (p not in best)
        correct += good
        incorrect += not good
    return alpha * (correct - incorrect) / len(board)


def gym(lowest_empty, **kwargs) -> ThoughtTicTacToeEnv:
    kwargs.setdefault("max_thoughts", 20)
    return ThoughtTicTacToeEnv(opponent=lowest_empty, **kwargs)


def step(env, channel, arg=None):
    a = arg if channel == "move" else env.encode_action(channel, arg)
    obs, reward, terminated, truncated, info = env.step(a)
    assert reward == pytest.approx(info["reward_game"] + info["reward_shaping"] + info["reward_cost"], abs=1e-15)
    return reward, terminated, info


def set_position(env, cells) -> None:
    """Hand-build a position by direct Game moves (alternating X, O) after reset; the agent is X."""
    for c in cells:
        env.game.move(c)
    assert env.game.to_move == env.agent


def test_positions_used_below_have_the_optimal_sets_we_assume():
    assert optimal(board_from_string("XX./OO./...")) == {2}
    assert optimal(board_from_string("........."))  == set(range(9))
    assert optimal(board_from_string("O../.X./...")) == {1, 2, 3, 5, 6, 7, 8}


# --------------------------------------------------------------------------- None


def test_no_shaping_by_default(lowest_empty_opponent):
    env = gym(lowest_empty_opponent)
    env.reset(seed=0)
    for channel, arg in [("propose", 4), ("negate", 4), ("forget", 4), ("marker", 0), ("move", 4), ("move", 1)]:
        _, _, info = step(env, channel, arg)
        assert info["reward_shaping"] == 0.0
    assert env.shaping is None


# --------------------------------------------------------------------------- oracle


def test_oracle_on_a_forced_win(lowest_empty_opponent):
    """XX./OO./... with X to move: O = {2}."""
    a = 0.1
    env = gym(lowest_empty_opponent, shaping="oracle")
    env.reset(seed=0)
    set_position(env, (0, 3, 1, 4))
    expected = [
        (("propose", 2), +a),   # 2 in O
        (("propose", 5), -a),   # empty but not optimal
        (("negate", 8), +a),    # 8 not in O
        (("negate", 2), -a),    # flips +2: 2 in O
        (("forget", 5), +a),    # removes +5, incorrect
        (("forget", 8), -a),    # removes -8, correct
        (("forget", 2), +a),    # removes -2, incorrect
        (("marker", 1), 0.0),   # markers are neither
        (("propose", 0), -a),   # occupied cells are never in O
        (("negate", 3), +a),
        (("forget", 0), +a),    # removes +0, incorrect
        (("forget", 3), -a),    # removes -3, correct
    ]
    for (channel, arg), value in expected:
        reward, terminated, info = step(env, channel, arg)
        assert info["reward_shaping"] == pytest.approx(value), (channel, arg)
        assert reward == pytest.approx(value) and info["reward_game"] == 0.0 and not terminated
    reward, terminated, info = step(env, "move", 2)
    assert terminated and reward == 1.0 and info["reward_shaping"] == 0.0  # oracle: moves earn nothing


def test_oracle_cycles_farm_reward_on_the_empty_board(lowest_empty_opponent):
    """The documented failure of naive shaping: propose 4, forget 4, propose 4 nets +α."""
    env = gym(lowest_empty_opponent, shaping="oracle", shaping_scale=0.5, max_thoughts=3)
    env.reset(seed=0)
    rewards = [step(env, c, p)[2]["reward_shaping"] for c, p in [("propose", 4), ("forget", 4), ("propose", 4)]]
    assert rewards == pytest.approx([0.5, -0.5, 0.5])


@pytest.mark.parametrize("scale", [0.0, 0.1, 2.0])
def test_oracle_scale(lowest_empty_opponent, scale):
    env = gym(lowest_empty_opponent, shaping="oracle", shaping_scale=scale)
    env.reset(seed=0)
    assert step(env, "negate", 4)[2]["reward_shaping"] == pytest.approx(-scale)


def test_oracle_judges_the_position_after_the_opponents_reply(lowest_empty_opponent):
    env = gym(lowest_empty_opponent, shaping="oracle")
    env.reset(seed=0)
    step(env, "move", 4)  # O answers 0: O(X) = {1, 2, 3, 5, 6, 7, 8}
    assert step(env, "propose", 1)[2]["reward_shaping"] == pytest.approx(0.1)
    assert step(env, "propose", 0)[2]["reward_shaping"] == pytest.approx(-0.1)
    assert step(env, "negate", 4)[2]["reward_shaping"] == pytest.approx(0.1)


# --------------------------------------------------------------------------- potential


@pytest.mark.parametrize("gamma", [1.0, 0.5])
def test_potential_on_a_forced_win(lowest_empty_opponent, gamma):
    a = 0.9
    env = gym(lowest_empty_opponent, shaping="potential", shaping_scale=a, shaping_gamma=gamma)
    env.reset(seed=0)
    set_position(env, (0, 3, 1, 4))  # O = {2}; Φ(x0) = 0 (empty store)
    phis = [0.0]
    for channel, arg, phi in [
        ("propose", 2, a / 9),          # +2 correct
        ("propose", 5, 0.0),            # +5 incorrect
        ("negate", 8, a / 9),           # -8 correct
        ("negate", 2, -a / 9),          # +5 incorrect, -8 correct, -2 incorrect
        ("marker", 0, -a / 9),          # markers are neither
        ("forget", 5, 0.0),
    ]:
        _, _, info = step(env, channel, arg)
        assert info["reward_shaping"] == pytest.approx(gamma * phi - phis[-1]), (channel, arg)
        phis.append(phi)
    # X wins at once: Φ = 0 at the end, so F = γ·0 − Φ(x).
    reward, terminated, info = step(env, "move", 2)
    assert terminated and info["reward_game"] == 1.0
    assert info["reward_shaping"] == pytest.approx(-phis[-1])
    assert reward == pytest.approx(1.0 - phis[-1])


@pytest.mark.parametrize("persist", ["game", "turn"])
def test_potential_across_a_move_uses_the_position_after_the_reply(lowest_empty_opponent, persist):
    a = 0.1
    env = gym(lowest_empty_opponent, shaping="potential", persist=persist)
    env.reset(seed=0)
    assert step(env, "propose", 4)[2]["reward_shaping"] == pytest.approx(a / 9)   # every move is optimal at first
    assert step(env, "propose", 8)[2]["reward_shaping"] == pytest.approx(a / 9)
    # X moves 4, O answers 0. With persist="game" the store is +4 (occupied: incorrect), +8 (8 in O): Φ' = 0.
    # With persist="turn" the store is empty: Φ' = 0 as well. Either way F = 0 − 2α/9.
    _, _, info = step(env, "move", 4)
    assert info["reward_shaping"] == pytest.approx(-2 * a / 9)
    assert env.game.board.tolist() == [2, 0, 0, 0, 1, 0, 0, 0, 0]
    # Next decision point, same board: +1 is correct (with persist="game": +4 wrong, +8 and +1 right).
    assert step(env, "propose", 1)[2]["reward_shaping"] == pytest.approx(a / 9)


def test_potential_cycles_earn_nothing(lowest_empty_opponent):
    env = gym(lowest_empty_opponent, shaping="potential", shaping_scale=0.3)
    env.reset(seed=0)
    step(env, "move", 4)  # a position with both optimal and non-optimal cells
    cycles = [
        [("propose", 1), ("forget", 1)],
        [("propose", 0), ("negate", 0), ("propose", 0), ("forget", 0)],
        [("negate", 2), ("propose", 2), ("forget", 2)],
    ]
    for cycle in cycles:
        total = sum(step(env, c, p)[2]["reward_shaping"] for c, p in cycle)
        assert total == pytest.approx(0.0, abs=1e-12), cycle


def test_potential_pays_back_on_an_illegal_loss(lowest_empty_opponent):
    env = gym(lowest_empty_opponent, shaping="potential")
    env.reset(seed=0)
    total = step(env, "propose", 4)[2]["reward_shaping"] + step(env, "propose", 5)[2]["reward_shaping"]
    assert total == pytest.approx(0.2 / 9)
    reward, terminated, info = step(env, "propose", 4)  # duplicate: illegal, a loss
    assert terminated and info["illegal_action"] is True
    assert info["reward_shaping"] == pytest.approx(-0.2 / 9)
    assert reward == pytest.approx(-1.0 - 0.2 / 9)


# --------------------------------------------------------------------------- prediction


def test_prediction_in_gymnasium(lowest_empty_opponent):
    a = 0.1
    env = gym(lowest_empty_opponent, shaping="prediction")
    env.reset(seed=0)
    assert step(env, "propose", 0)[2]["reward_shaping"] == 0.0  # thoughts earn nothing themselves
    assert step(env, "negate", 1)[2]["reward_shaping"] == 0.0
    _, _, info = step(env, "move", 4)  # O answers 0: the store held +0
    assert info["reward_shaping"] == pytest.approx(a)
    _, _, info = step(env, "move", 2)  # O answers 1: the store held -1
    assert info["reward_shaping"] == pytest.approx(-a)
    step(env, "propose", 5)
    _, _, info = step(env, "move", 8)  # O answers 3: neither +3 nor -3
    assert info["reward_shaping"] == 0.0
    reward, terminated, info = step(env, "move", 6)  # X wins 2-4-6: no reply, nothing to judge
    assert terminated and info["reward_shaping"] == 0.0 and reward == 1.0


def test_prediction_is_judged_before_a_persist_turn_clear(lowest_empty_opponent):
    a = 0.25
    env = gym(lowest_empty_opponent, shaping="prediction", shaping_scale=a, persist="turn")
    env.reset(seed=0)
    step(env, "propose", 0)
    _, _, info = step(env, "move", 4)
    assert info["reward_shaping"] == pytest.approx(a)
    assert env.game.store_entries(0) == ()
    step(env, "negate", 1)
    assert step(env, "move", 2)[2]["reward_shaping"] == pytest.approx(-a)
    assert step(env, "move", 8)[2]["reward_shaping"] == 0.0  # empty store when it moved


def test_prediction_nothing_before_the_agents_first_move(lowest_empty_opponent):
    env = gym(lowest_empty_opponent, shaping="prediction", agent_player="O")
    env.reset(seed=0)  # the opponent opened at 0 before O could predict anything
    step(env, "propose", 1)
    _, _, info = step(env, "move", 4)  # X answers 1
    assert info["reward_shaping"] == pytest.approx(0.1)


def test_prediction_in_pettingzoo_credits_the_forecaster_when_the_opponent_moves():
    a = 0.1
    e = raw_env(shaping="prediction")
    e.reset(seed=0)
    e.step(e.encode_action("propose", 5))
    e.step(4)
    assert e.infos[P0]["reward_shaping"] == 0.0
    e.step(e.encode_action("negate", 2))
    e.step(5)  # player_1 moves where player_0 predicted
    assert e.infos[P0]["reward_shaping"] == pytest.approx(a) and e.rewards[P0] == pytest.approx(a)
    assert e.infos[P1]["reward_shaping"] == 0.0 and e.rewards[P1] == 0.0
    assert e.agent_selection == P0 and e.last()[1] == pytest.approx(a)
    e.step(2)  # player_0 moves where player_1 negated
    assert e.infos[P1]["reward_shaping"] == pytest.approx(-a) and e.rewards[P1] == pytest.approx(-a)
    assert e.infos[P0]["reward_shaping"] == 0.0
    assert e.last()[1] == pytest.approx(-a)


# --------------------------------------------------------------------------- callable


def test_callable_shaping_sees_views_and_is_called_on_thoughts_only(lowest_empty_opponent):
    calls = []

    def bonus(before, thought, after):
        assert isinstance(before, ThoughtView) and isinstance(after, ThoughtView)
        with pytest.raises(ValueError):
            after.board[0] = 1
        calls.append((before.board.tolist(), before.store, before.player, thought, after.board.tolist(), after.store,
                       after.player))
        return 0.07 if thought == ("propose", 4) else -0.01

    env = gym(lowest_empty_opponent, shaping=bonus)
    env.reset(seed=0)
    _, _, info = step(env, "propose", 4)
    assert info["reward_shaping"] == pytest.approx(0.07)
    assert calls[-1] == ([0] * 9, (), 0, ("propose", 4), [0] * 9, (("+", 4),), 0)
    _, _, info = step(env, "negate", 4)
    assert info["reward_shaping"] == pytest.approx(-0.01)
    assert calls[-1][1] == (("+", 4),) and calls[-1][5] == (("-", 4),)
    _, _, info = step(env, "move", 4)
    assert info["reward_shaping"] == 0.0 and len(calls) == 2  # not called on moves
    step(env, "marker", 1)
    assert calls[-1][3] == ("marker", 1) and calls[-1][4] == [2, 0, 0, 0, 1, 0, 0, 0, 0]
    assert calls[-1][5] == (("-", 4), ("#", 1))


def test_callable_shaping_in_pettingzoo_goes_to_the_thinker():
    seen = []

    def fn(before, thought, after):
        seen.append((before.player, thought))
        return 0.5

    e = raw_env(shaping=fn)
    e.reset(seed=0)
    e.step(e.encode_action("marker", 0))
    assert e.rewards == {P0: 0.5, P1: 0.0} and e.infos[P0]["reward_shaping"] == 0.5
    e.step(0)
    e.step(e.encode_action("propose", 3))
    assert e.rewards == {P0: 0.0, P1: 0.5}
    assert seen == [(0, ("marker", 0)), (1, ("propose", 3))]


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("kind", ["oracle", "potential"])
def test_solver_variants_refuse_boards_the_solver_cannot_solve(kind):
    with pytest.raises(ValueError):
        ThoughtTicTacToeEnv(rows=5, cols=5, k=4, shaping=kind)


@pytest.mark.parametrize("kind", ["prediction", lambda b, t, a: 0.0])
def test_other_variants_work_on_any_board(kind):
    env = ThoughtTicTacToeEnv(rows=5, cols=5, k=4, shaping=kind)
    env.reset(seed=0)
    env.step(env.encode_action("propose", 3))


# --------------------------------------------------------------------------- properties under random play


def gym_random_episode(env, rng, think_bias, illegal_p=0.0):
    """Yield (state before, action, step result) for random legal play (with an occasional illegal action)."""
    obs, info = env.reset(seed=int(rng.integers(2 ** 31)))
    n = env.config.n_cells
    while True:
        mask = info["action_mask"]
        if illegal_p and rng.random() < illegal_p and not mask.all():
            a = int(rng.choice(np.flatnonzero(~mask)))
        elif mask[n:].any() and rng.random() < think_bias:
            a = int(rng.choice(np.flatnonzero(mask[n:]))) + n
        else:
            a = int(rng.choice(np.flatnonzero(mask[:n])))
        state = (env.game.board.copy(), env.game.store_entries(env.agent))
        obs, reward, terminated, truncated, info = env.step(a)
        yield state, a, (obs, reward, terminated, truncated, info)
        if terminated:
            return


CFGS = [dict(), dict(persist="turn"), dict(memory_size=2), dict(channels=("propose", "negate"), max_thoughts=2),
        dict(channels=("forget", "negate", "marker"), max_thoughts=4)]


@settings(max_examples=120, deadline=None)
@given(cfg=st.sampled_from(CFGS), agent_player=st.sampled_from(["X", "O"]), seed=st.integers(0, 2 ** 32 - 1),
       gamma=st.sampled_from([1.0, 0.9, 0.0]), think_bias=st.floats(0.0, 0.95), illegal=st.booleans())
def test_potential_is_gamma_phi_next_minus_phi_and_telescopes_gymnasium(cfg, agent_player, seed, gamma, think_bias,
                                                                        illegal):
    alpha = 0.1
    env = ThoughtTicTacToeEnv(opponent="random", agent_player=agent_player, shaping="potential",
                              shaping_scale=alpha, shaping_gamma=gamma, **cfg)
    rng = np.random.default_rng(seed)
    total = 0.0
    for (board, store), a, (_, _, terminated, _, info) in gym_random_episode(env, rng, think_bias,
                                                                             0.05 if illegal else 0.0):
        phi = phi_ref(store, board, alpha)
        phi_next = 0.0 if terminated else phi_ref(env.game.store_entries(env.agent), env.game.board, alpha)
        assert info["reward_shaping"] == pytest.approx(gamma * phi_next - phi, abs=1e-12)
        total += info["reward_shaping"]
    if gamma == 1.0:
        assert total == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=120, deadline=None)
@given(cfg=st.sampled_from(CFGS), seed=st.integers(0, 2 ** 32 - 1), think_bias=st.floats(0.0, 0.95),
       illegal=st.booleans())
def test_potential_telescopes_per_player_in_pettingzoo(cfg, seed, think_bias, illegal):
    alpha = 0.2
    e = raw_env(shaping="potential", shaping_scale=alpha, **cfg)
    e.reset(seed=seed)
    rng = np.random.default_rng(seed)
    n = e.config.n_cells
    totals = {P0: 0.0, P1: 0.0}     # all shaping credited to each player
    credited = {P0: 0.0, P1: 0.0}   # shaping credited since the player's last decision point
    last_phi = {P0: 0.0, P1: 0.0}   # Φ at that decision point (0 for the empty store at the start)
    returns = {P0: 0.0, P1: 0.0}    # sum of what last() reports
    game_rewards = None
    for agent in e.agent_iter():
        _, reward, terminated, truncated, _ = e.last()
        returns[agent] += reward
        if terminated or truncated:
            e.step(None)
            continue
        player = AGENTS.index(agent)
        phi = phi_ref(e.game.store_entries(player), e.game.board, alpha)
        assert credited[agent] == pytest.approx(phi - last_phi[agent], abs=1e-12)
        credited[agent], last_phi[agent] = 0.0, phi
        mask = e.action_masks()
        if illegal and rng.random() < 0.03 and not mask.all():
            a = int(rng.choice(np.flatnonzero(~mask)))
        elif mask[n:].any() and rng.random() < think_bias:
            a = int(rng.choice(np.flatnonzero(mask[n:]))) + n
        else:
            a = int(rng.choice(np.flatnonzero(mask[:n])))
        e.step(a)
        for name in AGENTS:
            credited[name] += e.infos[name]["reward_shaping"]
            totals[name] += e.infos[name]["reward_shaping"]
        if e.game.done and game_rewards is None:
            game_rewards = {name: e.infos[name]["reward_game"] for name in AGENTS}
    for name in AGENTS:
        assert credited[name] == pytest.approx(-last_phi[name], abs=1e-12)  # Φ = 0 at the end
        assert totals[name] == pytest.approx(0.0, abs=1e-12)
        assert returns[name] == pytest.approx(game_rewards[name], abs=1e-12)  # shaped return = game return


SHAPINGS = ["oracle", "potential", "prediction", lambda before, thought, after: 0.3 * len(after.store)]


@settings(max_examples=60, deadline=None)
@given(cfg=st.sampled_from(CFGS), shaping_i=st.integers(0, len(SHAPINGS) - 1), seed=st.integers(0, 2 ** 32 - 1),
       agent_player=st.sampled_from(["X", "O", "random"]))
def test_shaping_never_changes_the_game_gymnasium(cfg, shaping_i, seed, agent_player):
    shaped = ThoughtTicTacToeEnv(agent_player=agent_player, opponent="random", shaping=SHAPINGS[shaping_i],
                                 thought_cost=0.01, **cfg)
    plain = ThoughtTicTacToeEnv(agent_player=agent_player, opponent="random", thought_cost=0.01, **cfg)
    rng = np.random.default_rng(seed)
    for episode in range(2):
        o1, i1 = shaped.reset(seed=seed + episode)
        o2, i2 = plain.reset(seed=seed + episode)
        assert o1.tobytes() == o2.tobytes()
        while True:
            mask = shaped.action_masks()
            np.testing.assert_array_equal(mask, plain.action_masks())
            a = int(rng.choice(np.flatnonzero(mask)))
            o1, r1, t1, _, i1 = shaped.step(a)
            o2, r2, t2, _, i2 = plain.step(a)
            assert o1.tobytes() == o2.tobytes() and t1 == t2
            assert i1["reward_game"] == i2["reward_game"] and i1["reward_cost"] == i2["reward_cost"]
            assert i1["outcome"] == i2["outcome"] and i2["reward_shaping"] == 0.0
            assert (i1["step_kind"], i1["thoughts"], i1["illegal_action"]) == (
                i2["step_kind"], i2["thoughts"], i2["illegal_action"])
            assert r2 == i2["reward_game"] + i2["reward_cost"]
            assert r1 == pytest.approx(i1["reward_game"] + i1["reward_cost"] + i1["reward_shaping"], abs=1e-15)
            if t1:
                break


@settings(max_examples=60, deadline=None)
@given(cfg=st.sampled_from(CFGS), shaping_i=st.integers(0, len(SHAPINGS) - 1), seed=st.integers(0, 2 ** 32 - 1))
def test_shaping_never_changes_the_game_pettingzoo(cfg, shaping_i, seed):
    shaped = raw_env(shaping=SHAPINGS[shaping_i], **cfg)
    plain = raw_env(**cfg)
    shaped.reset(seed=seed)
    plain.reset(seed=seed)
    rng = np.random.default_rng(seed)
    while not shaped.game.done:
        assert shaped.agent_selection == plain.agent_selection
        for name in AGENTS:
            o1, o2 = shaped.observe(name), plain.observe(name)
            assert o1["observation"].tobytes() == o2["observation"].tobytes()
            assert o1["action_mask"].tobytes() == o2["action_mask"].tobytes()
        a = int(rng.choice(np.flatnonzero(shaped.action_masks())))
        shaped.step(a)
        plain.step(a)
        for name in AGENTS:
            assert shaped.infos[name]["reward_game"] == plain.infos[name]["reward_game"]
            for key in ("step_kind", "outcome", "thoughts", "illegal_action"):
                assert shaped.infos[name][key] == plain.infos[name][key], key
            assert plain.infos[name]["reward_shaping"] == 0.0
            assert shaped.rewards[name] == pytest.approx(
                plain.rewards[name] + shaped.infos[name]["reward_shaping"], abs=1e-15)
    assert plain.game.done and shaped.terminations == plain.terminations
    assert {n: shaped.infos[n]["outcome"] for n in AGENTS} == {n: plain.infos[n]["outcome"] for n in AGENTS}


@pytest.mark.parametrize("value, error, message", [
    (float("nan"), ValueError, "must return a finite number, got nan"),
    (float("inf"), ValueError, "must return a finite number, got inf"),
    ("0.1", TypeError, "must return a real number, got '0.1' of type str"),
    (True, TypeError, "must return a real number, got True of type bool"),
    (None, TypeError, "must return a real number, got None"),
])
def test_a_bad_shaping_callable_is_a_named_error(value, error, message):
    def my_shaping(before, thought, after):
        return value

    env = gymnasium.make("tttthought/Full-v0", shaping=my_shaping)
    _, info = env.reset(seed=0)
    thought = env.unwrapped.encode_action("propose", 4)
    with pytest.raises(error, match=f"shaping callable 'my_shaping' {message}"):
        env.step(thought)
