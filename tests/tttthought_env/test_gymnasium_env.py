"""The Gymnasium env ``ThoughtTicTacToeEnv``: API conformance, rewards, info, errors, seeding, copies, training."""

from __future__ import annotations

import copy
import pickle
import re
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import tttthought_env
from tttthought_env import ThoughtTicTacToeEnv
from tttthought_env.registration import TASKS
from tttthought_env.transition import INFO_KEYS, OUTCOMES, RUNNING, STEP_KINDS

# The one warning check_env gives for every wrapped env, whatever the env does.
WRAPPED_WARNING = ".*is different from the unwrapped version.*"


def make(opponent, **kwargs) -> ThoughtTicTacToeEnv:
    return ThoughtTicTacToeEnv(opponent=opponent, **kwargs)


def enc(env, channel: str, arg: int) -> int:
    return env.unwrapped.encode_action(channel, arg)


def strict_check_env(env) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.filterwarnings("ignore", message=WRAPPED_WARNING)
        check_env(env)


# --------------------------------------------------------------------------- conformance


@pytest.mark.parametrize("env_id", list(TASKS))
def test_check_env_on_registered_ids(env_id):
    env = gymnasium.make(env_id)
    strict_check_env(env.unwrapped)
    strict_check_env(gymnasium.make(env_id))


ODD_CONFIGS = {
    "4x4_k3": dict(rows=4, cols=4, k=3),
    "5x5_k4": dict(rows=5, cols=5, k=4),
    "propose_only": dict(channels=("propose",)),
    "negate_only": dict(channels=("negate",)),
    "forget_only": dict(channels=("forget",)),
    "marker_only": dict(channels=("marker",), num_markers=1),
    "persist_turn": dict(persist="turn"),
    "memory_1": dict(memory_size=1),
    "max_thoughts_0": dict(max_thoughts=0),
    "dict_obs": dict(obs_mode="dict"),
    "agent_O": dict(agent_player="O"),
    "agent_random_shaped": dict(agent_player="random", shaping="potential", thought_cost=0.01),
    "1x3_k3": dict(rows=1, cols=3, k=3),
}


@pytest.mark.parametrize("cfg", list(ODD_CONFIGS.values()), ids=list(ODD_CONFIGS))
def test_check_env_on_odd_configurations(cfg):
    cfg = {**cfg}
    probe = ThoughtTicTacToeEnv(**cfg)
    bound = probe.max_episode_steps_bound
    env = gymnasium.make("tttthought/Full-v0", opponent="random", max_episode_steps=bound, **cfg)
    strict_check_env(env.unwrapped)
    strict_check_env(env)


@pytest.mark.parametrize("factory", [
    lambda: ThoughtTicTacToeEnv(),
    lambda: ThoughtTicTacToeEnv(obs_mode="dict", persist="turn", memory_size=2),
    lambda: gymnasium.make("tttthought/Full-v0"),
    lambda: gymnasium.make("tttthought/Plain-v0"),
], ids=["class", "class_dict", "Full-v0", "Plain-v0"])
def test_stable_baselines3_check_env(factory):
    sb3_checker = pytest.importorskip("stable_baselines3.common.env_checker")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sb3_checker.check_env(factory(), warn=True)


def test_spaces_and_types():
    env = ThoughtTicTacToeEnv()
    assert env.action_space == gymnasium.spaces.Discrete(38)
    assert env.observation_space.shape == (40,) and env.observation_space.dtype == np.float32
    obs, info = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs in env.observation_space
    mask = info["action_mask"]
    assert mask.dtype == bool and mask.shape == (38,)
    np.testing.assert_array_equal(mask, env.action_masks())
    obs, reward, terminated, truncated, info = env.step(enc(env, "propose", 4))
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool
    assert obs.dtype == np.float32 and obs in env.observation_space
    obs, reward, terminated, truncated, info = env.step(4)
    assert type(reward) is float and type(terminated) is bool and type(truncated) is bool


def test_dict_observation_mode(lowest_empty_opponent):
    env = make(lowest_empty_opponent, obs_mode="dict")
    assert set(env.observation_space.spaces) == {"observation", "action_mask"}
    assert env.observation_space["action_mask"].dtype == np.int8
    obs, info = env.reset(seed=0)
    for _ in range(3):
        assert obs in env.observation_space
        assert obs["observation"].dtype == np.float32 and obs["action_mask"].dtype == np.int8
        np.testing.assert_array_equal(obs["action_mask"].astype(bool), env.action_masks())
        np.testing.assert_array_equal(obs["action_mask"].astype(bool), info["action_mask"])
        # Discrete.sample accepts the int8 mask and only picks legal actions.
        a = env.action_space.sample(mask=obs["action_mask"])
        assert env.action_masks()[a]
        obs, _, terminated, _, info = env.step(enc(env, "marker", 0) if env.action_masks()[36] else 4)
        if terminated:
            break


def test_action_masks_reachable_through_gymnasium_make_wrappers():
    env = gymnasium.make("tttthought/Full-v0")
    _, info = env.reset(seed=1)
    np.testing.assert_array_equal(env.unwrapped.action_masks(), info["action_mask"])
    np.testing.assert_array_equal(env.get_wrapper_attr("action_masks")(), info["action_mask"])
    _, _, _, _, info = env.step(9)
    np.testing.assert_array_equal(env.get_wrapper_attr("action_masks")(), info["action_mask"])
    assert not info["action_mask"][9]


def test_codec_on_unwrapped():
    env = gymnasium.make("tttthought/ProposeNegate-v0")
    u = env.unwrapped
    assert u.decode_action(0) == ("move", 0)
    assert u.decode_action(9) == ("propose", 0) and u.decode_action(26) == ("negate", 8)
    assert u.encode_action("negate", 8) == 26
    for a in range(27):
        assert u.encode_action(*u.decode_action(a)) == a
    with pytest.raises(ValueError, match="action must be an int in"):
        u.decode_action(27)
    with pytest.raises(TypeError):
        u.decode_action(2.0)
    with pytest.raises(ValueError, match="channel must be one of"):
        u.encode_action("forget", 0)


# --------------------------------------------------------------------------- rewards and info


def play(env, actions):
    out = []
    for a in actions:
        out.append(env.step(a))
        if out[-1][2]:
            break
    return out


def test_win_gives_plus_one(lowest_empty_opponent):
    env = make(lowest_empty_opponent)
    env.reset(seed=0)
    steps = play(env, [4, 1, 7])  # opponent answers 0 and 2; X wins 1-4-7
    assert [s[1] for s in steps] == [0.0, 0.0, 1.0]
    assert [s[2] for s in steps] == [False, False, True]
    info = steps[-1][4]
    assert OUTCOMES[info["outcome"]] == "win" and info["thoughts"] == 0
    assert info["reward_game"] == 1.0 and STEP_KINDS[info["step_kind"]] == "move"
    assert info["illegal_action"] is False
    assert not info["action_mask"].any() and not env.action_masks().any()
    assert env.unwrapped.game.board.tolist() == [2, 1, 2, 0, 1, 0, 0, 1, 0]


def test_loss_on_the_opponents_move_gives_minus_one(lowest_empty_opponent):
    env = make(lowest_empty_opponent)
    env.reset(seed=0)
    steps = play(env, [8, 7, 5])  # opponent takes 0, 1, 2
    assert [s[1] for s in steps] == [0.0, 0.0, -1.0]
    assert steps[-1][2] and not steps[-1][3]
    assert OUTCOMES[steps[-1][4]["outcome"]] == "loss" and steps[-1][4]["reward_game"] == -1.0
    assert steps[-1][4]["illegal_action"] is False
    assert all(s[4]["outcome"] == RUNNING for s in steps[:-1])


@pytest.mark.parametrize("draw_reward", [0.0, 0.5, -0.25])
def test_draw(lowest_empty_opponent, draw_reward):
    env = make(lowest_empty_opponent, draw_reward=draw_reward)
    env.reset(seed=0)
    steps = play(env, [1, 3, 4, 6, 8])
    assert [s[1] for s in steps] == [0.0] * 4 + [draw_reward]
    assert steps[-1][2] and OUTCOMES[steps[-1][4]["outcome"]] == "draw"


def test_agent_as_o_faces_the_opening_move(lowest_empty_opponent):
    env = make(lowest_empty_opponent, agent_player="O")
    obs, info = env.reset(seed=0)
    assert env.unwrapped.game.board.tolist() == [1] + [0] * 8
    assert obs[:9].sum() == 0 and obs[9] == 1.0  # from O's side: the X is the opponent's mark
    assert info["action_mask"][:9].tolist() == [False] + [True] * 8
    steps = play(env, [8, 7, 5])  # X takes 1 and 2 and wins on the opponent's move
    assert steps[-1][1] == -1.0 and OUTCOMES[steps[-1][4]["outcome"]] == "loss"


def test_agent_player_random_is_drawn_with_np_random(lowest_empty_opponent):
    env = make(lowest_empty_opponent, agent_player="random")
    sides = []
    for seed in range(16):
        env.reset(seed=seed)
        sides.append(env.unwrapped.agent)
        again = make(lowest_empty_opponent, agent_player="random")
        again.reset(seed=seed)
        assert again.agent == env.agent
        # The agent's side decides who opened.
        assert env.unwrapped.game.board.sum() == (1 if env.agent == 1 else 0)
    assert set(sides) == {0, 1}


def test_thought_cost_and_info_per_step(lowest_empty_opponent):
    env = make(lowest_empty_opponent, thought_cost=0.25)
    env.reset(seed=0)
    _, r, term, _, info = env.step(enc(env, "propose", 4))
    assert (r, term) == (-0.25, False)
    assert tuple(info) == INFO_KEYS and STEP_KINDS[info["step_kind"]] == "thought" and info["reward_cost"] == -0.25
    assert info["reward_game"] == 0.0 and info["reward_shaping"] == 0.0
    assert info["outcome"] == RUNNING and info["thoughts"] == 1 and info["illegal_action"] is False
    _, r, _, _, info = env.step(enc(env, "marker", 1))
    assert r == -0.25 and info["thoughts"] == 2
    _, r, _, _, info = env.step(4)
    assert r == 0.0 and STEP_KINDS[info["step_kind"]] == "move" and info["reward_cost"] == 0.0
    assert info["thoughts"] == 2 and info["outcome"] == RUNNING
    _, r, _, _, info = env.step(enc(env, "negate", 0))
    assert r == -0.25 and info["thoughts"] == 3
    _, r, _, _, info = env.step(1)
    _, r, term, _, info = env.step(7)
    assert term and r == 1.0 and info["thoughts"] == 3 and OUTCOMES[info["outcome"]] == "win"
    # A fresh episode counts again from zero.
    env.reset()
    _, _, _, _, info = play(env, [4, 1, 7])[-1]
    assert info["thoughts"] == 0


def test_step_kind_and_budget_in_env(lowest_empty_opponent):
    env = make(lowest_empty_opponent, max_thoughts=2)
    env.reset(seed=0)
    env.step(enc(env, "propose", 0))
    env.step(enc(env, "propose", 1))
    assert not env.action_masks()[9:].any() and env.action_masks()[:9].all()
    obs, *_ = env.step(2)
    assert env.action_masks()[9:].any()
    assert obs[env.observation_space.shape[0] - 2] == 1.0  # thoughts left / max_thoughts


def test_observation_is_from_the_agents_side(lowest_empty_opponent):
    env = make(lowest_empty_opponent, agent_player="O")
    env.reset(seed=0)
    obs, *_ = env.step(enc(env, "negate", 3))
    assert obs[27 + 3] == 1.0
    obs, *_ = env.step(4)  # opponent X answers at 1
    assert obs[4] == 1.0 and obs[9 + 0] == 1.0 and obs[9 + 1] == 1.0 and obs[:9].sum() == 1


# --------------------------------------------------------------------------- illegal and bad actions


@pytest.mark.parametrize("setup, action, kind", [
    ([4], 4, "move"),                                  # occupied by the agent
    ([4], 0, "move"),                                  # occupied by the opponent's answer
    ([("propose", 4)], ("propose", 4), "thought"),     # duplicate propose
    ([("negate", 2)], ("negate", 2), "thought"),       # duplicate negate
    ([], ("forget", 5), "thought"),                    # forget of an absent proposition
    ([("marker", 0)] * 3, ("marker", 1), "thought"),   # budget exhausted
])
def test_illegal_action_loses_by_default(lowest_empty_opponent, setup, action, kind):
    env = make(lowest_empty_opponent, thought_cost=0.1)
    env.reset(seed=0)
    for step in setup:
        env.step(enc(env, *step) if isinstance(step, tuple) else step)
    a = enc(env, *action) if isinstance(action, tuple) else action
    assert not env.action_masks()[a]
    _, reward, terminated, truncated, info = env.step(a)
    assert reward == -1.0 and terminated and not truncated
    assert info["illegal_action"] is True and OUTCOMES[info["outcome"]] == "loss"
    assert STEP_KINDS[info["step_kind"]] == kind
    assert info["reward_game"] == -1.0 and info["reward_cost"] == 0.0
    assert not info["action_mask"].any()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(1)


@pytest.mark.parametrize("setup, action, message", [
    ([4], 4, "action 4 (move 4) is illegal: cell 4 is occupied"),
    ([("propose", 4)], ("propose", 4), "action 13 (propose 4) is illegal: +4 is already in the store"),
    ([("negate", 2)], ("negate", 2), "action 20 (negate 2) is illegal: -2 is already in the store"),
    ([("propose", 1)], ("forget", 5), "action 32 (forget 5) is illegal: neither +5 nor -5 is in the store"),
    ([("marker", 0)] * 3, ("marker", 1), "action 37 (marker 1) is illegal: no thoughts are left this turn"),
])
def test_illegal_action_raise_names_action_decoding_and_reason(lowest_empty_opponent, setup, action, message):
    env = make(lowest_empty_opponent, illegal_action="raise")
    env.reset(seed=0)
    for step in setup:
        env.step(enc(env, *step) if isinstance(step, tuple) else step)
    a = enc(env, *action) if isinstance(action, tuple) else action
    obs_before = env.unwrapped.game.observation(0)
    mask_before = env.action_masks().copy()
    with pytest.raises(ValueError, match=re.escape(message)):
        env.step(a)
    # The state is unchanged and the episode goes on.
    np.testing.assert_array_equal(env.unwrapped.game.observation(0), obs_before)
    np.testing.assert_array_equal(env.action_masks(), mask_before)
    _, _, terminated, _, info = env.step(8)
    assert not terminated and STEP_KINDS[info["step_kind"]] == "move" and info["illegal_action"] is False


BAD_ACTIONS = [(-1, ValueError), (38, ValueError), (1.0, TypeError), (4.5, TypeError), (True, TypeError),
               (None, TypeError), ("4", TypeError), (np.float64(4), TypeError), (np.array([4]), TypeError),
               (np.int64(-3), ValueError), ([4], TypeError)]


@pytest.mark.parametrize("illegal_action", ["lose", "raise"])
@pytest.mark.parametrize("action, error", BAD_ACTIONS, ids=[repr(a) for a, _ in BAD_ACTIONS])
def test_bad_actions_always_raise(illegal_action, action, error):
    env = ThoughtTicTacToeEnv(illegal_action=illegal_action)
    env.reset(seed=0)
    with pytest.raises(error, match=r"action must be an int in \[0, 38\)"):
        env.step(action)
    # Nothing happened: the episode is still on at its start.
    assert not env.unwrapped.game.board.any() and env.action_masks()[:9].all()
    _, _, terminated, _, _ = env.step(4)
    assert not terminated


@pytest.mark.parametrize("action", [np.int64(4), np.int8(4), np.array(4), np.uint16(4)])
def test_numpy_integer_actions_are_accepted(action):
    env = ThoughtTicTacToeEnv()
    env.reset(seed=0)
    env.step(action)
    assert env.unwrapped.game.board[4] == 1


def test_step_before_reset_raises():
    env = ThoughtTicTacToeEnv()
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)


BAD_ENV_ARGS = [
    (dict(opponent="bogus"), ValueError, r"opponent must be one of \('random', 'minimax', 'heuristic'\)"),
    (dict(opponent=3), TypeError, r"opponent"),
    (dict(opponent_epsilon=1.5), ValueError, r"opponent_epsilon.*\[0, 1\]"),
    (dict(opponent_epsilon="0.5"), TypeError, r"opponent_epsilon"),
    (dict(agent_player="Z"), ValueError, r"agent_player must be one of \('X', 'O', 'random'\)"),
    (dict(agent_player=0), ValueError, r"agent_player"),
    (dict(illegal_action="ignore"), ValueError, r"illegal_action must be one of \('lose', 'raise'\)"),
    (dict(thought_cost=-0.1), ValueError, r"thought_cost.*>= 0"),
    (dict(thought_cost=float("nan")), ValueError, r"thought_cost"),
    (dict(thought_cost="0.1"), TypeError, r"thought_cost"),
    (dict(draw_reward=1.5), ValueError, r"draw_reward.*\[-1.0, 1.0\]"),
    (dict(shaping="bogus"), ValueError, r"shaping must be None, one of \('oracle', 'potential', 'prediction', 'world', 'world_potential'\)"),
    (dict(shaping_scale=-1.0), ValueError, r"shaping_scale"),
    (dict(shaping_gamma=1.5), ValueError, r"shaping_gamma.*\[0.0, 1.0\]"),
    (dict(obs_mode="image"), ValueError, r"obs_mode must be one of \('flat', 'dict', 'tokens'\)"),
    (dict(render_mode="rgb"), ValueError, r"render_mode must be None or one of.*ansi.*human.*rgb_array"),
    (dict(channels=("think",)), ValueError, r"unknown channel 'think'"),
    (dict(k=4), ValueError, r"k must be between 1 and max\(rows, cols\) = 3"),
    (dict(max_thoughts=-1), ValueError, r"max_thoughts"),
    (dict(memory_size=0), ValueError, r"memory_size"),
    (dict(num_markers=0), ValueError, r"num_markers"),
    (dict(persist="forever"), ValueError, r"persist must be one of \('game', 'turn'\)"),
    (dict(rows=2.0), TypeError, r"rows"),
]


@pytest.mark.parametrize("kwargs, error, pattern", BAD_ENV_ARGS, ids=[str(c[0]) for c in BAD_ENV_ARGS])
def test_bad_constructor_arguments(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        ThoughtTicTacToeEnv(**kwargs)


def test_bad_arguments_through_gymnasium_make():
    with pytest.raises(ValueError, match="unknown channel 'think'"):
        gymnasium.make("tttthought/Full-v0", channels=("think",))
    with pytest.raises(ValueError, match="persist"):
        gymnasium.make("tttthought/Plain-v0", persist="never")


# --------------------------------------------------------------------------- opponents


def test_opponent_callable_gets_read_only_board_and_env_rng():
    calls = []

    def spy(board, rng):
        calls.append((board.copy(), board.dtype, board.shape, board.flags.writeable, rng))
        with pytest.raises(ValueError):
            board[0] = 2
        return int(np.flatnonzero(board == 0)[-1])

    env = ThoughtTicTacToeEnv(opponent=spy)
    env.reset(seed=3)
    env.step(enc(env, "propose", 0))
    assert not calls  # a thought gets no reply
    env.step(4)
    board, dtype, shape, writeable, rng = calls[-1]
    assert board.tolist() == [0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert dtype == np.int8 and shape == (9,) and not writeable
    assert rng is env.np_random
    assert env.unwrapped.game.board[8] == 2 and env.unwrapped.last_opponent_move == 8
    env.step(0)
    assert calls[-1][0].tolist() == [1, 0, 0, 0, 1, 0, 0, 0, 2]  # 0 empty, 1 X, 2 O
    assert env.unwrapped.game.board[7] == 2


@pytest.mark.parametrize("reply, pattern", [(4, "occupied"), (9, r"\[0, 9\)"), (1.5, "int"), (None, "int"),
                                            (-1, r"\[0, 9\)")])
def test_bad_opponent_moves_raise(reply, pattern):
    env = ThoughtTicTacToeEnv(opponent=lambda board, rng: reply)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=pattern):
        env.step(4)


@pytest.mark.parametrize("opponent", ["random", "minimax", "heuristic"])
def test_named_opponents_only_move_to_empty_cells(opponent):
    env = ThoughtTicTacToeEnv(opponent=opponent, agent_player="O")
    rng = np.random.default_rng(0)
    for seed in range(5):
        env.reset(seed=seed)
        terminated = False
        while not terminated:
            empties_before = int((env.unwrapped.game.board == 0).sum())
            legal = np.flatnonzero(env.action_masks()[:9])
            _, _, terminated, _, info = env.step(int(rng.choice(legal)))
            assert info["illegal_action"] is False
            used = empties_before - int((env.unwrapped.game.board == 0).sum())
            assert used in (1, 2)
        assert OUTCOMES[info["outcome"]] in ("win", "draw", "loss")


def test_minimax_opponent_never_loses():
    env = ThoughtTicTacToeEnv(opponent="minimax", agent_player="random")
    rng = np.random.default_rng(1)
    for seed in range(12):
        env.reset(seed=seed)
        terminated = False
        while not terminated:
            legal = np.flatnonzero(env.action_masks())
            _, _, terminated, _, info = env.step(int(rng.choice(legal)))
        assert OUTCOMES[info["outcome"]] in ("draw", "loss")


def test_heuristic_opponent_blocks():
    env = ThoughtTicTacToeEnv(opponent="heuristic")
    env.reset(seed=0)
    env.step(0)
    assert env.unwrapped.game.board[4] == 2  # centre
    env.step(1)
    assert env.unwrapped.game.board[2] == 2  # blocks 0-1-2


# --------------------------------------------------------------------------- episodes end, masks are the legal set


@settings(max_examples=60, deadline=None)
@given(
    cfg=st.sampled_from(list(ODD_CONFIGS.values()) + [dict(), dict(channels=())]),
    seed=st.integers(0, 2 ** 16),
    think_bias=st.floats(0.0, 1.0),
)
def test_random_legal_play_always_ends_and_masks_are_the_legal_set(cfg, seed, think_bias):
    env = ThoughtTicTacToeEnv(illegal_action="raise", **{**cfg, "obs_mode": "flat"})
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    bound = env.max_episode_steps_bound
    n = env.config.n_cells
    for t in range(bound + 1):
        mask = env.action_masks()
        np.testing.assert_array_equal(info["action_mask"], mask)
        assert mask.any(), "the acting player's mask is never all zero"
        assert mask[:n].tolist() == (env.unwrapped.game.board == 0).tolist()
        # One masked action (if any) is refused and changes nothing.
        masked = np.flatnonzero(~mask)
        if masked.size:
            a = int(rng.choice(masked))
            with pytest.raises(ValueError, match="is illegal"):
                env.step(a)
            np.testing.assert_array_equal(env.action_masks(), mask)
        thoughts = np.flatnonzero(mask[n:]) + n
        if thoughts.size and rng.random() < think_bias:
            a = int(rng.choice(thoughts))
        else:
            a = int(rng.choice(np.flatnonzero(mask[:n])))
        obs, reward, terminated, truncated, info = env.step(a)
        assert obs in env.observation_space and not truncated
        assert len(env.unwrapped.game.stores[env.agent]) <= env.config.memory_size
        if terminated:
            assert not info["action_mask"].any()
            assert OUTCOMES[info["outcome"]] in ("win", "draw", "loss")
            assert reward == info["reward_game"] + info["reward_shaping"] + info["reward_cost"]
            break
        assert info["outcome"] == RUNNING
    else:
        pytest.fail(f"episode longer than N * (max_thoughts + 1) = {bound} steps")


@pytest.mark.parametrize("env_id", list(TASKS))
def test_registered_ids_never_truncate_a_maximal_thinker(env_id):
    """Think as long as the budget allows, then move: episodes end before max_episode_steps."""
    env = gymnasium.make(env_id)
    n = 9
    for seed in range(3):
        _, info = env.reset(seed=seed)
        terminated = truncated = False
        steps = 0
        while not (terminated or truncated):
            mask = info["action_mask"]
            thoughts = np.flatnonzero(mask[n:])
            a = int(thoughts[0]) + n if thoughts.size else int(np.flatnonzero(mask[:n])[-1])
            _, _, terminated, truncated, info = env.step(a)
            steps += 1
        assert terminated and not truncated and steps <= env.unwrapped.max_episode_steps_bound
        # No registered step limit, or one no episode reaches: never a silent truncation.
        assert env.spec.max_episode_steps is None or steps <= env.spec.max_episode_steps


def test_overriding_the_budget_with_the_documented_bound_never_truncates(lowest_empty_opponent):
    """docs/spec.md: overrides that lengthen episodes pass the new bound, which the env reports.

    Here max_thoughts=8 allows 9 * 9 = 81 steps (Full-v0's own bound is 36); the drawn game below takes 45.
    """
    probe = gymnasium.make("tttthought/Full-v0", max_thoughts=8)
    bound = probe.unwrapped.max_episode_steps_bound
    assert bound == 81
    env = gymnasium.make("tttthought/Full-v0", max_thoughts=8, opponent=lowest_empty_opponent, opponent_epsilon=0.0,
                         max_episode_steps=bound)
    env.reset(seed=0)
    marker = env.unwrapped.encode_action("marker", 0)
    actions = [a for cell in (1, 3, 4, 6, 8) for a in [marker] * 8 + [cell]]  # a draw against lowest-empty
    for steps, a in enumerate(actions, 1):
        _, _, terminated, truncated, info = env.step(a)
        if terminated or truncated:
            break
    assert steps == 45 and not truncated
    assert terminated and OUTCOMES[info["outcome"]] == "draw"


def test_make_with_a_large_enough_max_episode_steps_works():
    env = gymnasium.make("tttthought/Full-v0", rows=4, cols=4, k=3, opponent="random", max_episode_steps=64)
    env.reset(seed=0)
    assert env.unwrapped.config.rows == 4


# --------------------------------------------------------------------------- seeding


def rollout(env, seed, n_steps=60, action_seed=0):
    """A trajectory as bytes: observations, rewards, flags and infos, under a policy seeded apart from the env."""
    rng = np.random.default_rng(action_seed)
    obs, info = env.reset(seed=seed)
    trace = [np.asarray(obs).tobytes(), info["action_mask"].tobytes()]
    for _ in range(n_steps):
        legal = np.flatnonzero(env.unwrapped.action_masks())
        obs, reward, terminated, truncated, info = env.step(int(rng.choice(legal)))
        trace.append((np.asarray(obs).tobytes(), reward, terminated, truncated, info["action_mask"].tobytes(),
                      info["step_kind"], info["outcome"], info["thoughts"],
                      info["illegal_action"], info["reward_shaping"]))
        if terminated or truncated:
            obs, info = env.reset()
            trace.append(np.asarray(obs).tobytes())
    return trace


@pytest.mark.parametrize("factory", [
    lambda: gymnasium.make("tttthought/Full-v0", agent_player="random", shaping="prediction"),
    lambda: ThoughtTicTacToeEnv(opponent="random", agent_player="random", opponent_epsilon=0.3),
    lambda: ThoughtTicTacToeEnv(opponent="heuristic", agent_player="random", persist="turn"),
], ids=["Full-v0", "random", "heuristic"])
def test_same_seed_same_actions_same_trajectory(factory):
    assert rollout(factory(), seed=7) == rollout(factory(), seed=7)
    env = factory()
    assert rollout(env, seed=7) == rollout(env, seed=7)  # reset(seed) re-seeds the same env
    different = [rollout(factory(), seed=s) for s in (8, 9, 10)]
    assert any(t != rollout(factory(), seed=7) for t in different), "the seed must matter"


def test_reset_without_seed_continues_the_rng():
    env = ThoughtTicTacToeEnv(agent_player="random")
    env.reset(seed=0)
    sides = []
    for _ in range(20):
        env.reset()
        sides.append(env.agent)
    assert set(sides) == {0, 1}


# --------------------------------------------------------------------------- opponent replies


@pytest.mark.parametrize("opponent", ["random", "minimax", "heuristic"])
@pytest.mark.parametrize("epsilon", [0.0, 0.5])
def test_built_in_opponents_reply_as_their_board_path_does(opponent, epsilon):
    """The env's reply (from bitmasks) against the same opponent called on the board: same cells, same draws."""
    from tttthought_env.opponents import make_opponent

    board_path = make_opponent(opponent, rows=3, cols=3, k=3, epsilon=epsilon)
    fast = ThoughtTicTacToeEnv(opponent=opponent, opponent_epsilon=epsilon, agent_player="random")
    slow = ThoughtTicTacToeEnv(opponent=lambda board, rng: board_path(board, rng), agent_player="random")
    choose = np.random.default_rng(1)
    for episode in range(30):
        if episode == 15:  # a generator set by the user mid-run is the one the replies draw from
            fast.np_random, slow.np_random = np.random.default_rng(99), np.random.default_rng(99)
            obs_f, obs_s = fast.reset()[0], slow.reset()[0]
        else:
            obs_f, obs_s = fast.reset(seed=episode)[0], slow.reset(seed=episode)[0]
        terminated = False
        while not terminated:
            np.testing.assert_array_equal(obs_f, obs_s)
            assert fast.last_opponent_move == slow.last_opponent_move
            action = int(choose.choice(np.flatnonzero(fast.action_masks())))
            obs_f, reward_f, terminated, _, _ = fast.step(action)
            obs_s, reward_s, _, _, _ = slow.step(action)
            assert reward_f == reward_s
        np.testing.assert_array_equal(fast.np_random.random(3), slow.np_random.random(3))


# --------------------------------------------------------------------------- pickle / deepcopy


def continue_both(a, b, n_steps=40, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(n_steps):
        np.testing.assert_array_equal(a.unwrapped.action_masks(), b.unwrapped.action_masks())
        legal = np.flatnonzero(a.unwrapped.action_masks())
        action = int(rng.choice(legal))
        ra, rb = a.step(action), b.step(action)
        assert np.asarray(ra[0]).tobytes() == np.asarray(rb[0]).tobytes()
        assert ra[1:4] == rb[1:4]
        assert ra[4]["reward_shaping"] == rb[4]["reward_shaping"]
        if ra[2] or ra[3]:
            oa, _ = a.reset()
            ob, _ = b.reset()
            assert oa.tobytes() == ob.tobytes()


COPY_FACTORIES = {
    "class": lambda opp: ThoughtTicTacToeEnv(opponent="random", agent_player="random", shaping="potential"),
    "Full-v0": lambda opp: gymnasium.make("tttthought/Full-v0", agent_player="random"),
    "callable": lambda opp: ThoughtTicTacToeEnv(opponent=opp, persist="turn", render_mode="ansi"),
}


@pytest.mark.parametrize("how", ["pickle", "deepcopy"])
@pytest.mark.parametrize("name", list(COPY_FACTORIES))
def test_copies_before_reset_and_mid_game_continue_identically(name, how, lowest_empty_opponent):
    dup = (lambda e: pickle.loads(pickle.dumps(e))) if how == "pickle" else copy.deepcopy
    env = COPY_FACTORIES[name](lowest_empty_opponent)
    before = dup(env)
    env.reset(seed=11)
    before.reset(seed=11)
    continue_both(env, before, n_steps=5)
    # Mid-game, with a thought in the store, the RNG state included.
    env.step(int(np.flatnonzero(env.unwrapped.action_masks()[9:])[0]) + 9)
    mid = dup(env)
    agent = env.unwrapped.agent
    assert mid.unwrapped.game.store_entries(agent) == env.unwrapped.game.store_entries(agent) != ()
    continue_both(env, mid, n_steps=40, seed=3)


# --------------------------------------------------------------------------- training


def test_maskable_ppo_trains_on_full_v0():
    sb3_contrib = pytest.importorskip("sb3_contrib")
    torch = pytest.importorskip("torch")
    from sb3_contrib.common.maskable.utils import get_action_masks
    from stable_baselines3.common.env_util import make_vec_env
    from stable_baselines3.common.vec_env import DummyVecEnv

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        kwargs = dict(n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu", policy_kwargs=dict(net_arch=[32]))
        env = gymnasium.make("tttthought/Full-v0")
        model = sb3_contrib.MaskablePPO("MlpPolicy", env, **kwargs)
        model.learn(2_000)
        assert model.num_timesteps >= 2_000

        venv = make_vec_env("tttthought/Full-v0", n_envs=2, seed=0, vec_env_cls=DummyVecEnv)
        model = sb3_contrib.MaskablePPO("MlpPolicy", venv, **kwargs)
        model.learn(2_000)
        assert model.num_timesteps >= 2_000
        obs = venv.reset()
        masks = get_action_masks(venv)
        assert masks.shape == (2, 38) and masks.dtype == bool
        for i in range(2):
            np.testing.assert_array_equal(masks[i], venv.envs[i].unwrapped.action_masks())
        for _ in range(30):
            actions, _ = model.predict(obs, action_masks=masks)
            assert masks[np.arange(2), actions].all(), "a masked policy picked an illegal action"
            obs, _, _, infos = venv.step(actions)
            assert not any(info["illegal_action"] for info in infos)
            masks = get_action_masks(venv)
    finally:
        torch.set_num_threads(threads)


def test_package_exports():
    assert tttthought_env.ThoughtTicTacToeEnv is ThoughtTicTacToeEnv
    assert isinstance(tttthought_env.__version__, str)


@pytest.mark.parametrize("make", ["gymnasium", "pettingzoo"])
def test_min_thoughts_forces_thinking_before_each_move_in_every_env(make):
    from tttthought_env.pettingzoo import raw_env

    if make == "gymnasium":
        env = gymnasium.make("tttthought/Full-v0", min_thoughts=1).unwrapped
    else:
        env = raw_env(min_thoughts=1)
    env.reset(seed=0)
    masks = env.action_masks
    assert not masks()[:9].any() and masks()[9:].any()  # only thoughts: never an all-zero mask
    env.step(env.encode_action("propose", 4))
    assert masks()[:9].all()  # one thought taken: every free cell is a legal move again
    env.step(4)
    assert not masks()[:9].any()  # the next turn (the learner's again, or O's in PettingZoo) starts over
