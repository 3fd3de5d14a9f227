"""The registered Gymnasium and PettingZoo ids, their settings and their overrides."""

from __future__ import annotations

import gymnasium
import numpy as np
import pytest

import tttthought_env
import tttthought_env.pettingzoo
from tttthought_env.opponents import EpsilonOpponent, MinimaxOpponent
from tttthought_env.registration import GYMNASIUM_DEFAULTS, TASKS, max_episode_steps, register_all

# id: (channels, max_thoughts, num_markers, action size, longest episode)
EXPECTED = {
    "tttthought/Plain-v0": ((), 3, 2, 9, 9),
    "tttthought/Propose-v0": (("propose",), 1, 2, 18, 18),
    "tttthought/ProposeNegate-v0": (("propose", "negate"), 2, 2, 27, 27),
    "tttthought/Full-v0": (("propose", "negate", "forget", "marker"), 3, 2, 38, 36),
}
# The last-move twins: the same settings, another view.
EXPECTED.update({task_id.replace("/", "/LastMove-"): row for task_id, row in list(EXPECTED.items())})


def test_exactly_the_eight_ids_are_registered():
    ours = {env_id for env_id in gymnasium.registry if env_id.startswith("tttthought/")}
    assert ours == set(EXPECTED) == set(TASKS)
    assert len(ours) == 8


def test_twins_differ_from_their_full_view_task_only_in_the_view():
    for task_id in ("Plain-v0", "Propose-v0", "ProposeNegate-v0", "Full-v0"):
        full, twin = TASKS[f"tttthought/{task_id}"], TASKS[f"tttthought/LastMove-{task_id}"]
        assert "view" not in full and twin == {**full, "view": "last_move"}
        assert gymnasium.spec(f"tttthought/LastMove-{task_id}").kwargs == {**gymnasium.spec(f"tttthought/{task_id}").kwargs,
                                                                         "view": "last_move"}


@pytest.mark.parametrize("env_id", list(EXPECTED))
def test_registered_settings(env_id):
    channels, max_thoughts, num_markers, action_size, steps = EXPECTED[env_id]
    spec = gymnasium.spec(env_id)
    assert spec.max_episode_steps is None  # every episode ends by itself: no TimeLimit to truncate overrides
    env = gymnasium.make(env_id)
    u = env.unwrapped
    assert isinstance(u, tttthought_env.ThoughtTicTacToeEnv)
    assert u.config.channels == channels
    assert (u.config.rows, u.config.cols, u.config.k) == (3, 3, 3)
    assert u.config.view == ("last_move" if "LastMove-" in env_id else "full")
    if channels:
        assert u.config.max_thoughts == max_thoughts
    if "marker" in channels:
        assert u.config.num_markers == num_markers
    assert env.action_space.n == action_size
    assert u.options.obs_mode == "flat"
    # Registered ids train against minimax mixed with 50% random moves.
    assert isinstance(u.opponent, EpsilonOpponent) and u.opponent.epsilon == 0.5
    assert isinstance(u.opponent.base, MinimaxOpponent)
    assert env.spec.max_episode_steps is None and u.max_episode_steps_bound == steps == max_episode_steps(spec.kwargs)


@pytest.mark.parametrize("overrides", [dict(rows=4, cols=4, k=4, max_thoughts=10), dict(max_thoughts=12)])
def test_overrides_that_lengthen_episodes_never_truncate(overrides):
    # Think whenever a thought is legal: the longest episodes, past the old registered limit of 36 steps.
    env = gymnasium.make("tttthought/Full-v0", opponent="random", **overrides)
    n = env.unwrapped.layout.n_cells
    _, info = env.reset(seed=0)
    steps, done = 0, False
    while not done:
        legal = np.flatnonzero(info["action_mask"])
        thoughts = legal[legal >= n]
        _, _, terminated, truncated, info = env.step(int(thoughts[0] if thoughts.size else legal[0]))
        steps += 1
        assert not truncated
        done = terminated
    assert steps > 36 and steps <= env.unwrapped.max_episode_steps_bound


def test_registered_bound_is_n_times_max_thoughts_plus_one():
    assert max_episode_steps({"channels": ("propose",), "max_thoughts": 5}) == 9 * 6
    assert max_episode_steps({"rows": 4, "cols": 4, "k": 3}) == 16 * 4
    assert max_episode_steps({"channels": (), "max_thoughts": 7}) == 9
    assert max_episode_steps({"max_thoughts": 0}) == 9
    assert GYMNASIUM_DEFAULTS == {"opponent": "minimax", "opponent_epsilon": 0.5}


def test_class_defaults_differ_from_registered_ones():
    env = tttthought_env.ThoughtTicTacToeEnv()
    assert env.opponent_name == "random" and env.config.max_thoughts == 3
    assert env.agent_player_setting == "X" and env.options.illegal_action == "lose"
    assert env.options.thought_cost == 0.0 and env.options.draw_reward == 0.0 and env.shaping is None
    assert env.options.obs_mode == "flat" and env.options.shaping is None


def test_every_argument_is_overridable_through_make(lowest_empty_opponent):
    env = gymnasium.make(
        "tttthought/Full-v0", opponent=lowest_empty_opponent, opponent_epsilon=0.0, max_thoughts=2,
        memory_size=4, num_markers=3, persist="turn", agent_player="O", illegal_action="raise", thought_cost=0.01,
        draw_reward=0.5, shaping="potential", shaping_scale=0.2, shaping_gamma=0.9, obs_mode="dict",
        render_mode="ansi",
    )
    u = env.unwrapped
    cfg = u.config
    assert (cfg.max_thoughts, cfg.memory_size, cfg.num_markers, cfg.persist) == (2, 4, 3, "turn")
    assert u.opponent_name == "lowest_empty"
    assert u.agent_player_setting == "O" and u.options.illegal_action == "raise"
    assert (u.options.thought_cost, u.options.draw_reward) == (0.01, 0.5)
    assert (u.options.shaping, u.options.shaping_scale, u.options.shaping_gamma) == ("potential", 0.2, 0.9)
    assert (u.shaping.kind, u.shaping.scale, u.shaping.gamma) == ("potential", 0.2, 0.9)
    assert env.action_space.n == 9 * 4 + 3
    obs, info = env.reset(seed=0)
    assert set(obs) == {"observation", "action_mask"}
    assert u.game.board.tolist()[0] == 1  # the opponent (X) opened on the lowest cell
    assert isinstance(env.render(), str)
    with pytest.raises(ValueError, match="is illegal"):
        env.step(0)


def test_plain_with_overrides():
    env = gymnasium.make("tttthought/Plain-v0", opponent="heuristic", opponent_epsilon=0.0, agent_player="random")
    env.reset(seed=0)
    assert env.action_space.n == 9 and env.unwrapped.opponent_name == "heuristic"
    assert env.observation_space.shape == (4 * 9 + 2,)


def test_register_all_is_idempotent():
    before = {k: v for k, v in gymnasium.registry.items() if k.startswith("tttthought/")}
    register_all()
    register_all()
    after = {k: v for k, v in gymnasium.registry.items() if k.startswith("tttthought/")}
    assert before == after


# --------------------------------------------------------------------------- PettingZoo registry


@pytest.mark.parametrize("env_id", list(EXPECTED))
def test_pettingzoo_registry_has_the_same_ids(env_id):
    pettingzoo = pytest.importorskip("pettingzoo")
    if not hasattr(pettingzoo, "aec_registry"):
        pytest.skip("this PettingZoo has no environment registry")
    assert env_id in pettingzoo.aec_registry
    channels, max_thoughts, _, action_size, _ = EXPECTED[env_id]
    e = pettingzoo.make("aec", env_id)
    u = e.unwrapped
    assert isinstance(u, tttthought_env.pettingzoo.raw_env)
    assert u.config.channels == channels
    assert u.config.view == ("last_move" if "LastMove-" in env_id else "full")
    if channels:
        assert u.config.max_thoughts == max_thoughts
    assert e.action_space("player_0").n == action_size
    e.reset(seed=0)
    assert e.agent_selection == "player_0"
    obs, reward, terminated, truncated, info = e.last()
    assert obs["action_mask"].dtype == np.int8 and obs["action_mask"][:9].all()


def test_pettingzoo_registry_overrides():
    pettingzoo = pytest.importorskip("pettingzoo")
    if not hasattr(pettingzoo, "aec_registry"):
        pytest.skip("this PettingZoo has no environment registry")
    e = pettingzoo.make("aec", "tttthought/Full-v0", max_thoughts=1, persist="turn", obs_mode="flat")
    u = e.unwrapped
    assert u.config.max_thoughts == 1 and u.config.persist == "turn" and u.options.obs_mode == "flat"
    e.reset(seed=0)
    assert isinstance(e.last()[0], np.ndarray)
