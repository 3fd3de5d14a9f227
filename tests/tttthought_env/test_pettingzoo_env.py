"""The PettingZoo AEC env: PettingZoo's own tests, turn order, rewards through ``last()``, errors, copies,
and agreement with the Gymnasium env on the same action sequences."""

from __future__ import annotations

import copy
import functools
import pickle
import re
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

with warnings.catch_warnings():  # importing pettingzoo.test imports PettingZoo's deprecated classic modules
    warnings.simplefilter("ignore", DeprecationWarning)
    from pettingzoo.test import api_test, render_test, seed_test

from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env.pettingzoo import AGENTS, env, raw_env
from tttthought_env.transition import INFO_KEYS, NO_STEP, OUTCOMES, RUNNING, STEP_KINDS

P0, P1 = "player_0", "player_1"


def enc(e, channel: str, arg: int) -> int:
    return e.unwrapped.encode_action(channel, arg)


def act(e, *steps) -> None:
    """Step the env with moves (ints) or thoughts ((channel, arg) pairs)."""
    for s in steps:
        e.step(enc(e, *s) if isinstance(s, tuple) else s)


def finish(e) -> dict:
    """Run the dead steps with ``env.last()`` as PettingZoo's classic games are used; return final rewards."""
    final = {}
    for agent in e.agent_iter():
        _, reward, terminated, truncated, _ = e.last()
        assert terminated and not truncated
        final[agent] = reward
        e.step(None)
    return final


# --------------------------------------------------------------------------- PettingZoo's tests

API_CONFIGS = {
    "default": dict(),
    "flat": dict(obs_mode="flat"),
    "plain": dict(channels=()),
    "turn_mem1": dict(persist="turn", memory_size=1, thought_cost=0.01),
    "4x4_k3_marker": dict(rows=4, cols=4, k=3, channels=("marker",), num_markers=3),
    "lose_raise": dict(illegal_action="raise", shaping="prediction"),
}


@pytest.mark.parametrize("cfg", list(API_CONFIGS.values()), ids=list(API_CONFIGS))
def test_pettingzoo_api_test(cfg):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # PettingZoo warns for every dict observation (its classic games included); nothing else is expected.
        warnings.filterwarnings("ignore", message="Observation space for each agent probably should be")
        warnings.filterwarnings("ignore", message="Observation is not a NumPy array")
        # A legal state: X's first turn after e.g. propose 0, propose 1 (evicting +0 at memory_size=1),
        # forget 1: empty board, empty store, no thoughts left.
        warnings.filterwarnings("ignore", message="Observation numpy array is all zeros")
        api_test(env(**cfg), num_cycles=200)


def test_pettingzoo_seed_test():
    seed_test(env, num_cycles=200)
    seed_test(functools.partial(env, shaping="potential", thought_cost=0.05), num_cycles=200)


@pytest.mark.parametrize("factory", [env, raw_env])
def test_pettingzoo_render_test(factory):
    render_test(factory)


# --------------------------------------------------------------------------- turn order and observations


def test_agents_spaces_and_first_player():
    e = env()
    e.reset(seed=0)
    assert e.possible_agents == [P0, P1] == list(AGENTS) and e.agents == [P0, P1]
    assert e.agent_selection == P0
    for agent in (P0, P1):
        assert e.action_space(agent).n == 38
        assert e.observation_space(agent)["observation"].shape == (40,)
        assert e.observation_space(agent)["action_mask"].dtype == np.int8
    e.step(4)
    assert e.unwrapped.game.board[4] == 1  # player_0 is X


def test_agent_selection_stays_while_thinking_and_passes_on_the_move():
    e = env()
    e.reset(seed=0)
    act(e, ("propose", 4), ("negate", 0), ("marker", 1))
    assert e.agent_selection == P0
    act(e, 4)
    assert e.agent_selection == P1
    assert not e.action_masks()[enc(e, "forget", 0)]  # player_0's store is not player_1's
    act(e, ("propose", 2))
    assert e.agent_selection == P1
    act(e, 0)
    assert e.agent_selection == P0


def test_observations_are_from_the_observers_side():
    e = env()
    e.reset(seed=0)
    act(e, ("propose", 4), 4, ("negate", 8))
    obs0, obs1 = e.observe(P0), e.observe(P1)
    assert obs0["observation"].dtype == np.float32 and obs0["action_mask"].dtype == np.int8
    assert obs0["observation"][4] == 1 and obs0["observation"][18 + 4] == 1 and obs0["observation"][27 + 8] == 0
    assert obs1["observation"][9 + 4] == 1 and obs1["observation"][27 + 8] == 1 and obs1["observation"][18 + 4] == 0
    # Only the player to act has legal actions.
    assert not obs0["action_mask"].any() and not e.action_masks(P0).any()
    np.testing.assert_array_equal(obs1["action_mask"].astype(bool), e.action_masks())
    assert obs1["action_mask"][:9].tolist() == [1, 1, 1, 1, 0, 1, 1, 1, 1]
    obs, *_ = e.last()
    np.testing.assert_array_equal(obs["observation"], obs1["observation"])
    assert obs in e.observation_space(P1)


def test_flat_observation_mode():
    e = env(obs_mode="flat")
    e.reset(seed=0)
    obs = e.observe(P0)
    assert isinstance(obs, np.ndarray) and obs.dtype == np.float32 and obs.shape == (40,)
    assert obs in e.observation_space(P0)


def test_persist_turn_clears_only_the_movers_store():
    e = env(persist="turn")
    e.reset(seed=0)
    act(e, ("propose", 4), 4, ("negate", 0))
    game = e.unwrapped.game
    assert game.store_entries(0) == () and game.store_entries(1) == (("-", 0),)
    act(e, 0)
    assert game.store_entries(1) == ()


# --------------------------------------------------------------------------- rewards


def test_loser_of_a_game_ending_on_the_opponents_move_gets_minus_one():
    e = env()
    e.reset(seed=0)
    for cell in (0, 3, 1, 4):
        act(e, cell)
    _, reward, terminated, _, _ = e.last()
    assert e.agent_selection == P0 and reward == 0.0 and not terminated
    act(e, 2)  # X completes 0-1-2: the game ends on player_0's move
    assert all(e.terminations.values())
    assert e.rewards == {P0: 1.0, P1: -1.0}
    assert finish(e) == {P0: 1.0, P1: -1.0}
    assert e.agents == []


def test_loser_sees_minus_one_through_agent_iter_last():
    """The canonical loop: for agent in env.agent_iter(): obs, r, term, trunc, info = env.last(); ..."""
    e = env()
    e.reset(seed=0)
    moves = iter([0, 3, 1, 4, 8, 5])  # O wins 3-4-5 on its move
    seen = {P0: [], P1: []}
    for agent in e.agent_iter():
        _, reward, terminated, truncated, info = e.last()
        seen[agent].append(reward)
        e.step(None if terminated or truncated else next(moves))
    assert seen[P0][-1] == -1.0 and seen[P1][-1] == 1.0
    assert sum(seen[P0]) == -1.0 and sum(seen[P1]) == 1.0


@pytest.mark.parametrize("draw_reward", [0.0, 0.25])
def test_draw_rewards_both(draw_reward):
    e = env(draw_reward=draw_reward)
    e.reset(seed=0)
    for cell in (1, 0, 3, 2, 4, 5, 6, 7, 8):
        act(e, cell)
    assert OUTCOMES[e.infos[P0]["outcome"]] == OUTCOMES[e.infos[P1]["outcome"]] == "draw"
    assert finish(e) == {P0: draw_reward, P1: draw_reward}


def test_thought_cost_goes_to_the_thinker_and_infos_split_rewards():
    e = env(thought_cost=0.125)
    e.reset(seed=0)
    act(e, ("propose", 4))
    assert e.rewards == {P0: -0.125, P1: 0.0}
    assert e.infos[P0]["reward_cost"] == -0.125 and STEP_KINDS[e.infos[P0]["step_kind"]] == "thought"
    assert e.infos[P1]["reward_cost"] == 0.0 and e.infos[P1]["step_kind"] == NO_STEP  # player_1 did not act
    assert tuple(e.infos[P0]) == tuple(e.infos[P1]) == INFO_KEYS
    assert e.infos[P0]["outcome"] == e.infos[P1]["outcome"] == RUNNING
    assert e.infos[P0]["thoughts"] == 1 and e.infos[P1]["thoughts"] == 0
    assert e.infos[P0]["action_mask"].any() and not e.infos[P1]["action_mask"].any()
    act(e, ("marker", 0), 4)
    assert e.rewards == {P0: 0.0, P1: 0.0} and STEP_KINDS[e.infos[P0]["step_kind"]] == "move"
    assert e.infos[P0]["thoughts"] == 2 and e.infos[P1]["step_kind"] == NO_STEP
    assert not e.infos[P0]["action_mask"].any() and e.infos[P1]["action_mask"].any()  # player_1 is to act
    act(e, ("negate", 1))
    assert e.last()[1] == -0.125  # player_1's cumulative reward since it last acted
    act(e, 0, 1, 2, 7)  # X wins 1-4-7
    assert OUTCOMES[e.infos[P0]["outcome"]] == "win" and OUTCOMES[e.infos[P1]["outcome"]] == "loss"
    assert e.infos[P0]["thoughts"] == 2 and e.infos[P1]["thoughts"] == 1
    assert e.infos[P0]["reward_game"] == 1.0 and e.infos[P1]["reward_game"] == -1.0
    assert finish(e) == {P0: 1.0, P1: -1.0}


def test_reward_types():
    e = env(thought_cost=0.1)
    e.reset(seed=0)
    for a in (enc(e, "propose", 4), 4, 0, 1, 3, 7):
        e.step(a)
        for agent in (P0, P1):
            assert type(e.rewards[agent]) is float and type(e._cumulative_rewards[agent]) is float
            assert type(e.terminations[agent]) is bool and type(e.truncations[agent]) is bool


# --------------------------------------------------------------------------- illegal and bad actions


@pytest.mark.parametrize("setup, bad", [
    ([4], 4),                               # player_1 moves onto X
    ([("propose", 4)], ("propose", 4)),     # duplicate propose by player_0
    ([4, ("negate", 1)], ("negate", 1)),    # duplicate negate by player_1
    ([4], ("forget", 3)),                   # player_1 forgets what it never thought
    ([("marker", 0)] * 3, ("marker", 0)),   # budget exhausted
])
def test_illegal_action_loses_for_the_actor_and_wins_for_the_other(setup, bad):
    e = env()
    e.reset(seed=0)
    act(e, *setup)
    actor = e.agent_selection
    other = P1 if actor == P0 else P0
    a = enc(e, *bad) if isinstance(bad, tuple) else bad
    assert not e.action_masks()[a]
    e.step(a)
    assert e.terminations == {P0: True, P1: True}
    assert e.infos[actor]["illegal_action"] is True and e.infos[other]["illegal_action"] is False
    assert OUTCOMES[e.infos[actor]["outcome"]] == "loss" and OUTCOMES[e.infos[other]["outcome"]] == "win"
    assert e.infos[other]["step_kind"] == NO_STEP
    assert finish(e) == {actor: -1.0, other: 1.0}


@pytest.mark.parametrize("setup, bad, message", [
    ([4], 4, "action 4 (move 4) of player_1 is illegal: cell 4 is occupied"),
    ([("propose", 4)], ("propose", 4), "action 13 (propose 4) of player_0 is illegal: +4 is already in the store"),
    ([4], ("forget", 3), "action 30 (forget 3) of player_1 is illegal: neither +3 nor -3 is in the store"),
    ([("marker", 0)] * 3, ("marker", 1), "action 37 (marker 1) of player_0 is illegal: no thoughts are left"),
])
def test_illegal_action_raise_names_action_and_reason(setup, bad, message):
    e = env(illegal_action="raise")
    e.reset(seed=0)
    act(e, *setup)
    a = enc(e, *bad) if isinstance(bad, tuple) else bad
    agent = e.agent_selection
    obs = e.observe(agent)["observation"].copy()
    with pytest.raises(ValueError, match=re.escape(message)):
        e.step(a)
    assert e.agent_selection == agent and not any(e.terminations.values())
    np.testing.assert_array_equal(e.observe(agent)["observation"], obs)


def test_illegal_action_raise_keeps_pending_rewards():
    """docs/spec.md: under "raise" "the state is unchanged": that includes what last() reports."""
    e = env(illegal_action="raise", shaping="prediction", shaping_scale=0.5)
    e.reset(seed=0)
    act(e, ("propose", 5), 4, 5)  # player_1 moves where player_0 predicted: +0.5 to player_0
    assert e.agent_selection == P0
    rewards = dict(e.rewards)
    assert rewards[P0] == 0.5 and e.last()[1] == 0.5
    with pytest.raises(ValueError, match="is illegal"):
        e.step(4)
    assert e.last()[1] == 0.5, "a refused action wiped player_0's pending reward"
    assert e.rewards == rewards


BAD_ACTIONS = [(-1, ValueError), (38, ValueError), (2.0, TypeError), (True, TypeError), (None, TypeError),
               ("1", TypeError), (np.float32(1), TypeError), (np.array([1, 2]), TypeError)]


@pytest.mark.parametrize("illegal_action", ["lose", "raise"])
@pytest.mark.parametrize("action, error", BAD_ACTIONS, ids=[repr(a) for a, _ in BAD_ACTIONS])
def test_bad_actions_always_raise(illegal_action, action, error):
    e = env(illegal_action=illegal_action)
    e.reset(seed=0)
    with pytest.raises(error, match=r"action must be an int in \[0, 38\)"):
        e.step(action)
    assert not any(e.terminations.values()) and e.agent_selection == P0
    e.step(np.int64(4))
    assert e.unwrapped.game.board[4] == 1


def test_dead_agents_only_take_none():
    e = env()
    e.reset(seed=0)
    act(e, 0, 3, 1, 4, 2)
    with pytest.raises(ValueError, match="None"):
        e.step(5)


BAD_ENV_ARGS = [
    (dict(illegal_action="ignore"), ValueError, r"illegal_action must be one of \('lose', 'raise'\)"),
    (dict(obs_mode="image"), ValueError, r"obs_mode must be one of \('flat', 'dict', 'tokens'\)"),
    (dict(render_mode="video"), ValueError, r"render_mode must be None or one of"),
    (dict(thought_cost=-1), ValueError, r"thought_cost"),
    (dict(draw_reward=-2.0), ValueError, r"draw_reward"),
    (dict(shaping="psychic"), ValueError, r"shaping must be None, one of"),
    (dict(shaping_scale="big"), TypeError, r"shaping_scale"),
    (dict(shaping_gamma=-0.5), ValueError, r"shaping_gamma"),
    (dict(channels=("propose", "dream")), ValueError, r"unknown channel 'dream'"),
    (dict(rows=3, cols=3, k=5), ValueError, r"k must be between"),
    (dict(max_thoughts=-2), ValueError, r"max_thoughts"),
    (dict(memory_size=0), ValueError, r"memory_size"),
    (dict(channels=("marker",), num_markers=0), ValueError, r"num_markers"),
    (dict(persist="episode"), ValueError, r"persist"),
]


@pytest.mark.parametrize("kwargs, error, pattern", BAD_ENV_ARGS, ids=[str(c[0]) for c in BAD_ENV_ARGS])
def test_bad_constructor_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        raw_env(**kwargs)
    with pytest.raises(error, match=pattern):
        env(**kwargs)


def test_reset_starts_over():
    e = env()
    e.reset(seed=0)
    act(e, ("propose", 1), 0, 3, 1, 4, 2)
    e.reset()
    assert e.agents == [P0, P1] and e.agent_selection == P0
    assert not e.unwrapped.game.board.any() and e.unwrapped.game.store_entries(0) == ()
    assert e.rewards == {P0: 0.0, P1: 0.0} and not any(e.terminations.values())


# --------------------------------------------------------------------------- pickle / deepcopy


def trajectory(e, n_steps, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_steps):
        agent = e.agent_selection
        obs, reward, terminated, truncated, info = e.last()
        out.append((agent, obs["observation"].tobytes(), obs["action_mask"].tobytes(), reward, terminated))
        if terminated or truncated:
            e.step(None)
            if not e.agents:
                e.reset()
            continue
        e.step(int(rng.choice(np.flatnonzero(obs["action_mask"]))))
    return out


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("factory", [raw_env, env])
def test_copies_before_reset_and_mid_game_continue_identically(factory, how):
    dup = (lambda x: pickle.loads(pickle.dumps(x))) if how == "pickle" else copy.deepcopy
    e = factory(shaping="potential", thought_cost=0.01)
    early = dup(e)
    e.reset(seed=5)
    early.reset(seed=5)
    assert trajectory(e, 7, seed=1) == trajectory(early, 7, seed=1)
    act(e, 4) if e.action_masks()[4] else act(e, int(np.flatnonzero(e.action_masks()[:9])[0]))
    if not e.terminations[e.agent_selection]:
        act(e, int(np.flatnonzero(e.action_masks()[9:])[0]) + 9)
    mid = dup(e)
    game, game_copy = e.unwrapped.game, mid.unwrapped.game
    assert game_copy.board.tolist() == game.board.tolist()
    assert game_copy.stores == game.stores
    assert mid.agent_selection == e.agent_selection
    assert trajectory(e, 60, seed=2) == trajectory(mid, 60, seed=2)


# --------------------------------------------------------------------------- the two adapters agree


def record(fn, log):
    def opponent(board, rng):
        cell = fn(board, rng)
        log.append(cell)
        return cell
    return opponent


def random_cell(board, rng):
    return int(rng.choice(np.flatnonzero(board == 0)))


@settings(max_examples=120, deadline=None)
@given(
    cfg=st.sampled_from([
        dict(),
        dict(channels=()),
        dict(channels=("propose", "forget"), max_thoughts=2, memory_size=2),
        dict(persist="turn", num_markers=3),
        dict(rows=4, cols=4, k=3, channels=("negate", "marker"), num_markers=1),
        dict(rows=2, cols=3, k=2, max_thoughts=1),
    ]),
    shaping=st.sampled_from([None, "oracle", "potential", "prediction"]),
    agent_player=st.sampled_from(["X", "O"]),
    thought_cost=st.sampled_from([0.0, 0.03]),
    seed=st.integers(0, 2 ** 16),
    think_bias=st.floats(0.0, 0.9),
    illegal_at=st.one_of(st.none(), st.integers(0, 30)),
)
def test_gymnasium_and_pettingzoo_agree_on_the_same_actions(cfg, shaping, agent_player, thought_cost, seed,
                                                            think_bias, illegal_at):
    if shaping in ("oracle", "potential") and cfg.get("rows", 3) * cfg.get("cols", 3) > 9:
        shaping = "prediction"  # keep the exact solver to the small boards
    common = dict(cfg, shaping=shaping, thought_cost=thought_cost)
    replies: list[int] = []
    gym_env = ThoughtTicTacToeEnv(opponent=record(random_cell, replies), agent_player=agent_player, **common)
    pz = raw_env(**common)
    agent = 0 if agent_player == "X" else 1
    name, other = AGENTS[agent], AGENTS[1 - agent]
    rng = np.random.default_rng(seed)

    obs, info = gym_env.reset(seed=seed)
    pz.reset(seed=seed)
    if agent == 1:
        pz.step(replies[0])
    n = gym_env.config.n_cells
    for t in range(gym_env.max_episode_steps_bound + 1):
        assert pz.agent_selection == name
        pz_obs = pz.observe(name)
        np.testing.assert_array_equal(pz_obs["observation"], obs)
        np.testing.assert_array_equal(pz_obs["action_mask"].astype(bool), info["action_mask"])
        np.testing.assert_array_equal(pz.action_masks(), gym_env.action_masks())
        mask = gym_env.action_masks()
        if illegal_at == t and not mask.all():
            a = int(rng.choice(np.flatnonzero(~mask)))
        else:
            thoughts = np.flatnonzero(mask[n:]) + n
            legal_moves = np.flatnonzero(mask[:n])
            think = thoughts.size and rng.random() < think_bias
            a = int(rng.choice(thoughts)) if think else int(rng.choice(legal_moves))
        n_replies = len(replies)
        obs, reward, terminated, _, info = gym_env.step(a)
        shaping_total = 0.0
        pz.step(a)
        shaping_total += pz.infos[name]["reward_shaping"]
        if len(replies) > n_replies:  # the opponent answered in the same Gymnasium step
            assert pz.agent_selection == other
            pz.step(replies[-1])
            shaping_total += pz.infos[name]["reward_shaping"]
        assert pz._cumulative_rewards[name] == pytest.approx(reward, abs=1e-12)
        assert shaping_total == pytest.approx(info["reward_shaping"], abs=1e-12)
        if terminated:
            assert all(pz.terminations.values())
            assert pz.infos[name]["outcome"] == info["outcome"]
            assert pz.infos[name]["thoughts"] == info["thoughts"]
            assert pz.infos[name]["illegal_action"] == info["illegal_action"]
            assert not pz.observe(name)["action_mask"].any()
            break
    else:
        pytest.fail("episode did not end")
