"""The vector env as Gymnasium and stable-baselines3 define a vector env (issue 11).

Autoreset modes (next-step checked step by step against Gymnasium's own ``SyncVectorEnv`` of single envs),
the one info shape, ``call``/``get_attr``/``set_attr``, pickling and copying, Gymnasium's vector
wrappers, and the SB3 adapter's Monitor, ``indices`` and rendering (``VecVideoRecorder``).
"""

from __future__ import annotations

import copy
import pickle
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv
from tttthought_env.transition import OUTCOMES
from tttthought_env.vector import ThoughtVectorEnv, make_vector_env

BACKENDS = ["numpy", pytest.param("torch", marks=pytest.mark.filterwarnings("ignore::UserWarning"))]
INFO_KEYS = {"action_mask": np.bool_, "reward_game": np.float64, "reward_shaping": np.float64,
             "reward_cost": np.float64, "step_kind": np.int8, "outcome": np.int8, "thoughts": np.int32,
             "illegal_action": np.bool_}


def _vec(backend: str = "numpy", num_envs: int = 6, **kwargs) -> ThoughtVectorEnv:
    if backend == "torch":
        pytest.importorskip("torch")
    return make_vector_env("tttthought/Full-v0", num_envs, backend=backend, **kwargs)


def _np(vec: ThoughtVectorEnv, x):
    if isinstance(x, dict):
        return {key: vec.backend.to_numpy(value) for key, value in x.items()}
    return vec.backend.to_numpy(x)


def _legal_actions(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random legal action per row (action 0 where the row has none: a terminal row in next-step mode)."""
    return np.array([rng.choice(np.flatnonzero(m)) if m.any() else 0 for m in masks], np.int64)


# ---------------------------------------------------------------------------------------- a deterministic opponent
def _pick(board: np.ndarray) -> int:
    board = np.asarray(board, dtype=np.int64)
    empty = np.flatnonzero(board == 0)
    return int(empty[int((board * (np.arange(board.size) * 5 + 1)).sum()) % empty.size])


def single_opponent(board, rng) -> int:
    return _pick(board)


def batched_opponent(boards, rng) -> np.ndarray:
    b = boards.cpu().numpy() if hasattr(boards, "cpu") else np.asarray(boards)
    return np.array([_pick(row) for row in b], np.int64)


# ---------------------------------------------------------------------------------------- autoreset modes
@pytest.mark.parametrize("mode", ["same_step", "next_step", AutoresetMode.SAME_STEP, AutoresetMode.NEXT_STEP,
                                  "SameStep", "NextStep"])
def test_autoreset_mode_attribute_and_metadata(mode) -> None:
    vec = ThoughtVectorEnv(2, autoreset_mode=mode)
    want = AutoresetMode.NEXT_STEP if "ext" in str(getattr(mode, "value", mode)) else AutoresetMode.SAME_STEP
    assert vec.autoreset_mode is want and vec.metadata["autoreset_mode"] is want
    assert ThoughtVectorEnv.metadata["autoreset_mode"] is AutoresetMode.SAME_STEP  # the class's stays


def test_bad_autoreset_mode_is_a_value_error() -> None:
    for bad in ("disabled", AutoresetMode.DISABLED, 1, None):
        with pytest.raises(ValueError, match="autoreset_mode must be"):
            ThoughtVectorEnv(2, autoreset_mode=bad)


def test_make_vec_passes_autoreset_mode() -> None:
    vec = gymnasium.make_vec("tttthought/Plain-v0", num_envs=3, vectorization_mode="vector_entry_point",
                             autoreset_mode="next_step")
    assert isinstance(vec, ThoughtVectorEnv) and vec.autoreset_mode is AutoresetMode.NEXT_STEP


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("config", [dict(), dict(max_thoughts=2, memory_size=3, thought_cost=0.05, obs_mode="dict"),
                                    dict(agent_player="O", channels=("propose",), draw_reward=0.5)])
def test_next_step_matches_gymnasiums_sync_vector_env(config: dict, backend: str) -> None:
    """Gymnasium's own next-step autoreset over single envs gives, step for step, what the vector env gives."""
    if backend == "torch":
        pytest.importorskip("torch")
    n = 5
    vec = ThoughtVectorEnv(n, opponent=batched_opponent, autoreset_mode="next_step", backend=backend, **config)
    ref = SyncVectorEnv([lambda: ThoughtTicTacToeEnv(opponent=single_opponent, **config) for _ in range(n)],
                        autoreset_mode=AutoresetMode.NEXT_STEP)
    obs, infos = vec.reset(seed=0)
    ref_obs, ref_infos = ref.reset(seed=0)
    rng = np.random.default_rng(0)
    resets = 0
    for t in range(60):
        where = f"step {t}"
        np.testing.assert_equal(_np(vec, obs), ref_obs, err_msg=where)
        mask = _np(vec, infos["action_mask"])
        np.testing.assert_array_equal(mask, ref_infos["action_mask"], err_msg=where)
        actions = _legal_actions(mask, rng)
        if t % 7 == 3:
            actions[t % n] = (actions[t % n] + 1) % vec.single_action_space.n  # now and then illegal
        obs, rewards, term, trunc, infos = vec.step(actions)
        ref_obs, ref_rewards, ref_term, ref_trunc, ref_infos = ref.step(actions)
        np.testing.assert_array_equal(_np(vec, rewards), ref_rewards, err_msg=where)
        np.testing.assert_array_equal(_np(vec, term), ref_term, err_msg=where)
        np.testing.assert_array_equal(_np(vec, trunc), ref_trunc, err_msg=where)
        resets += int((_np(vec, infos["step_kind"]) == -1).sum())
        assert "final_obs" not in infos, where
    assert resets > 0


def test_next_step_reset_step_ignores_the_action_and_reports_a_reset() -> None:
    vec = _vec(autoreset_mode="next_step", num_envs=16)
    _, infos = vec.reset(seed=3)
    rng = np.random.default_rng(3)
    checked = 0
    ended = np.zeros(16, bool)
    for _ in range(40):
        actions = _legal_actions(infos["action_mask"], rng)
        obs, rewards, term, trunc, infos = vec.step(actions)
        for i in np.flatnonzero(ended):  # ended last step: reset now, whatever the action was
            checked += 1
            assert rewards[i] == 0.0 and not term[i] and not trunc[i]
            info = vec.info_at(infos, i)
            assert info["step_kind"] == -1 and info["outcome"] == -1 and info["thoughts"] == 0
            assert not info["illegal_action"] and vec.game_state(i)["store"] == ()
            assert obs[i][:18].sum() <= 1  # an empty board (or the opponent's opening move)
        for i in np.flatnonzero(term):  # the terminal observation, with no legal action
            assert not infos["action_mask"][i].any() and infos["outcome"][i] >= 0
        ended = term
    assert checked > 0


@pytest.mark.parametrize("wrapper", ["NormalizeObservation", "TransformObservation", "FlattenObservation"])
def test_gymnasium_vector_observation_wrappers_accept_next_step(wrapper: str) -> None:
    from gymnasium.wrappers import vector as vector_wrappers

    if wrapper == "TransformObservation":
        def make(env):
            return vector_wrappers.TransformObservation(env, lambda obs: obs * 2.0)
    else:
        make = getattr(vector_wrappers, wrapper)
    obs_mode = "dict" if wrapper == "FlattenObservation" else "flat"
    with pytest.raises(ValueError):  # the same-step default is refused by Gymnasium's observation wrappers
        make(_vec(obs_mode=obs_mode))
    env = make(_vec(obs_mode=obs_mode, autoreset_mode="next_step"))
    obs, infos = env.reset(seed=0)
    rng = np.random.default_rng(0)
    ended = 0
    for _ in range(30):
        obs, rewards, term, trunc, infos = env.step(_legal_actions(infos["action_mask"], rng))
        ended += int(term.sum())
        assert obs.shape == (6,) + env.single_observation_space.shape and np.isfinite(obs).all()
    assert ended > 0


# ---------------------------------------------------------------------------------------- one info shape
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_every_info_has_the_same_numeric_keys(mode: str, backend: str) -> None:
    vec = _vec(backend, num_envs=8, autoreset_mode=mode, thought_cost=0.01)
    _, infos = vec.reset(seed=0)
    rng = np.random.default_rng(0)
    extra = {"final_obs", "_final_obs", "final_info", "_final_info"} if mode == "same_step" else set()
    keys = set(INFO_KEYS) | {"_" + key for key in INFO_KEYS}
    thoughts = np.zeros(8, np.int64)
    pending = np.zeros(8, bool)
    for t in range(40):
        assert set(infos) == keys | (extra if t else set()), t
        for key, dtype in INFO_KEYS.items():
            value = _np(vec, infos[key])
            assert value.dtype == dtype and value.shape[0] == 8, key
            assert _np(vec, infos["_" + key]).all(), key
        if t == 0:
            assert (_np(vec, infos["step_kind"]) == -1).all() and (_np(vec, infos["outcome"]) == -1).all()
            assert (_np(vec, infos["thoughts"]) == 0).all() and not _np(vec, infos["illegal_action"]).any()
        single = vec.info_at(infos, t % 8)
        assert set(single) == set(INFO_KEYS)
        assert [type(single[key]) for key in INFO_KEYS][1:] == [float, float, float, int, int, int, bool]
        obs, rewards, term, trunc, infos = vec.step(_legal_actions(_np(vec, infos["action_mask"]), rng))
        kind, outcome = _np(vec, infos["step_kind"]), _np(vec, infos["outcome"])
        term = _np(vec, term)
        # thoughts so far: the running count of this episode's thought steps
        thoughts = np.where(pending, 0, thoughts + (kind == 1))
        np.testing.assert_array_equal(_np(vec, infos["thoughts"]), thoughts, err_msg=f"step {t}")
        assert ((outcome >= 0) == term).all() and set(outcome.tolist()) <= {-1, 0, 1, 2}
        assert all(OUTCOMES[code] in ("win", "draw", "loss") for code in outcome[term])
        np.testing.assert_allclose(_np(vec, rewards), sum(_np(vec, infos[key]) for key in
                                                           ("reward_game", "reward_shaping", "reward_cost")))
        if mode == "same_step":
            thoughts[term] = 0
        else:
            pending = term
    assert vec.backend.to_numpy(vec.action_masks()).shape == (8, 38)


def test_action_masks_returns_a_copy() -> None:
    vec = _vec()
    _, infos = vec.reset(seed=0)
    masks = vec.action_masks()
    masks[:] = False
    assert vec.action_masks().any() and infos["action_mask"].any()
    assert vec.action_masks() is not vec.action_masks()


# ---------------------------------------------------------------------------------------- call, get_attr, set_attr
def test_call_get_attr_set_attr_as_gymnasium_defines_them() -> None:
    vec = _vec(num_envs=4)
    vec.reset(seed=0)
    masks = vec.call("action_masks")
    assert isinstance(masks, tuple) and len(masks) == 4
    np.testing.assert_array_equal(np.stack(masks), vec.action_masks())
    assert vec.call("agent_players") == tuple(vec.agent_players().tolist())
    assert vec.get_attr("opponent_epsilon") == (0.5,) * 4
    assert vec.call("state_nbytes_per_game") == (22,) * 4
    vec.set_attr("check_actions", False)
    assert vec.get_attr("check_actions") == (False,) * 4
    vec.set_attr("check_actions", [True] * 4)
    assert vec.check_actions is True
    with pytest.raises(ValueError, match="length equal to the number of environments"):
        vec.set_attr("check_actions", [True] * 3)
    with pytest.raises(ValueError, match="share one env object"):
        vec.set_attr("check_actions", [True, False, True, True])
    with pytest.raises(AttributeError):
        vec.call("no_such_method")


# ---------------------------------------------------------------------------------------- pickle, deepcopy
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_pickle_and_deepcopy_continue_identically(mode: str, backend: str) -> None:
    vec = _vec(backend, autoreset_mode=mode, agent_player="random", shaping="potential")
    vec.reset(seed=5)
    for _ in range(7):
        vec.step(vec.sample_actions())
    copies = [copy.deepcopy(vec), pickle.loads(pickle.dumps(vec))]
    for other in copies:
        assert other.autoreset_mode is vec.autoreset_mode and other.metadata == vec.metadata
        assert other.backend is not vec.backend and other._state is not vec._state
    for t in range(40):
        results = [env.step(env.sample_actions()) for env in [vec, *copies]]
        for other in results[1:]:
            for got, want in zip(other[:4], results[0][:4]):
                np.testing.assert_equal(_np(vec, got), _np(vec, want), err_msg=f"step {t}")
            assert set(other[4]) == set(results[0][4])
            for key in ("action_mask", "outcome", "thoughts", "step_kind"):
                np.testing.assert_array_equal(_np(vec, other[4][key]), _np(vec, results[0][4][key]))


def test_copy_of_a_fresh_env_and_of_a_make_vec_env() -> None:
    vec = gymnasium.make_vec("tttthought/Full-v0", num_envs=3, vectorization_mode="vector_entry_point")
    other = pickle.loads(pickle.dumps(vec))
    assert other.spec.id == "tttthought/Full-v0"
    a, _ = vec.reset(seed=1)
    b, _ = other.reset(seed=1)
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------------------- rendering
def test_rgb_array_renders_one_frame_per_game() -> None:
    from tttthought_env.core import Game
    from tttthought_env.render import render_rgb

    vec = _vec(num_envs=3, render_mode="rgb_array")
    vec.reset(seed=0)
    vec.step(np.array([4, 9, 0]))  # a move, a thought, a move
    frames = vec.render()
    assert len(frames) == 3 and all(f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3 for f in frames)
    assert frames[0].shape == render_rgb(Game(vec.layout)).shape
    assert not np.array_equal(frames[0], render_rgb(Game(vec.layout)))  # the board has marks
    game = vec.game_at(1)
    assert list(game.board) == vec.game_state(1)["board"].tolist() and game.stores[game.to_move]
    assert _vec(num_envs=2).render() is None


# ---------------------------------------------------------------------------------------- stable-baselines3
def _sb3(num_envs: int = 4, **kwargs):
    pytest.importorskip("sb3_contrib")
    from tttthought_env.vector import SB3VecEnv

    return SB3VecEnv(make_vector_env("tttthought/Plain-v0", num_envs, **kwargs))


def test_sb3_env_is_wrapped_monitor_and_indices() -> None:
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import VecNormalize

    env = _sb3()
    assert env.env_is_wrapped(Monitor) == [True] * 4 and env.env_is_wrapped(Monitor, indices=[1]) == [True]
    assert env.env_is_wrapped(VecNormalize) == [False] * 4
    env.reset()
    masks = env.env_method("action_masks", indices=[0, 2])
    assert len(masks) == 2 and masks[0].shape == (9,)
    sides = env.env_method("agent_players", indices=[3])
    assert sides == [env.venv.agent_players()[3]]
    assert env.get_attr("opponent_epsilon", indices=[1, 2]) == [0.5, 0.5]
    env.set_attr("check_actions", False)
    env.set_attr("check_actions", True, indices=range(4))
    assert env.venv.check_actions is True
    with pytest.raises(ValueError, match="share"):
        env.set_attr("check_actions", False, indices=[0])
    with pytest.raises(ValueError, match="same_step"):
        from tttthought_env.vector import SB3VecEnv

        SB3VecEnv(make_vector_env("tttthought/Plain-v0", 2, autoreset_mode="next_step"))


def test_sb3_vec_video_recorder_records(tmp_path) -> None:
    pytest.importorskip("moviepy")
    from stable_baselines3.common.vec_env import VecVideoRecorder

    env = _sb3(render_mode="rgb_array")
    env.reset()
    assert env.render_mode == "rgb_array" and len(env.get_images()) == 4
    assert env.render().ndim == 3  # the frames tiled
    recorder = VecVideoRecorder(env, str(tmp_path), record_video_trigger=lambda step: step == 0, video_length=12,
                                name_prefix="games")
    recorder.reset()
    rng = np.random.default_rng(0)
    for _ in range(14):
        recorder.step(_legal_actions(env.action_masks(), rng))
    recorder.close()
    videos = list(tmp_path.glob("games*.mp4"))
    assert videos and videos[0].stat().st_size > 1000


def test_maskable_eval_callback_runs_without_a_monitor_warning() -> None:
    pytest.importorskip("sb3_contrib")
    import torch
    from sb3_contrib import MaskablePPO
    from sb3_contrib.common.maskable.callbacks import MaskableEvalCallback

    torch.set_num_threads(1)
    env, eval_env = _sb3(8), _sb3(4)
    model = MaskablePPO("MlpPolicy", env, n_steps=16, batch_size=64, n_epochs=1, seed=0, verbose=0,
                        policy_kwargs={"net_arch": [16]})
    callback = MaskableEvalCallback(eval_env, n_eval_episodes=8, eval_freq=16, verbose=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.learn(total_timesteps=256, callback=callback)
    assert not [w for w in caught if "Monitor" in str(w.message)], [str(w.message) for w in caught]
    assert np.isfinite(callback.last_mean_reward) and -1.0 <= callback.last_mean_reward <= 1.0  # it evaluated
