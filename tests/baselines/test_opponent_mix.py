"""Tests of training against an opponent mix (baselines/opponent_mix.py) and of the learning-rate schedule."""

from __future__ import annotations

import numpy as np
import pytest

from baselines.config import make_run_config
from baselines.envs import make_train_env
from baselines.evaluate import opponent_games
from baselines.opponent_mix import ConcatVecEnv, mix_counts, split_games
from baselines.train import schedule, train

TASK = "tttthought/Plain-v0"
ENV = {"agent_player": "random"}
MIX = [{"opponent": "minimax", "epsilon": 0.0, "share": 0.5},
       {"opponent": "minimax", "epsilon": 0.5, "share": 0.25},
       {"opponent": "random", "share": 0.25}]


# ------------------------------------------------------------------------------------------- the mix spec
def test_mix_counts_split_the_training_games_exactly():
    assert mix_counts(MIX, 8) == [("minimax", 0.0, 4), ("minimax", 0.5, 2), ("random", 0.0, 2)]


@pytest.mark.parametrize("mix, n_envs, names", [
    ([{"opponent": "minimax", "share": 0.5}], 8, "sum to 1"),
    (MIX, 6, "opponent_mix[1].share"),  # 0.25 * 6 is not a whole number of games
    ([{"opponent": "alphazero", "share": 1.0}], 4, "opponent_mix[0].opponent"),
    ([{"opponent": "minimax", "epsilon": 1.5, "share": 1.0}], 4, "opponent_mix[0].epsilon"),
    ([{"opponent": "minimax", "share": 0.0}, {"opponent": "random", "share": 1.0}], 4, "opponent_mix[0].share"),
    ([{"opponent": "minimax", "weight": 1.0}], 4, "opponent_mix[0]"),
    ([], 4, "at least one member"),
])
def test_a_bad_mix_is_a_value_error_naming_what_is_wrong(mix, n_envs, names):
    with pytest.raises(ValueError, match=names.replace("[", r"\[").replace("]", r"\]")):
        mix_counts(mix, n_envs)


def test_evaluation_games_split_by_share_and_sum_to_the_total():
    assert split_games(MIX, 1000) == [("minimax", 0.0, 500), ("minimax", 0.5, 250), ("random", 0.0, 250)]
    halves = [{"opponent": "minimax", "share": 0.5}, {"opponent": "random", "share": 0.5}]
    assert sum(games for *_, games in split_games(halves, 101)) == 101


def test_the_training_opponent_of_a_mixed_run_is_the_mix():
    assert opponent_games(TASK, ENV, "training", 1000, MIX) == split_games(MIX, 1000)
    assert opponent_games(TASK, ENV, "training", 10) == [("minimax", 0.5, 10)]  # the registered opponent
    assert opponent_games(TASK, ENV, "minimax", 10, MIX) == [("minimax", 0.0, 10)]
    with pytest.raises(ValueError, match="opponent_name"):
        opponent_games(TASK, ENV, "grandmaster", 10)


# -------------------------------------------------------------------------------------------- the VecEnv
def _legal_actions(masks: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.array([rng.choice(np.flatnonzero(row)) for row in masks])


@pytest.mark.parametrize("obs_mode", ["flat", "dict"])
def test_a_mixed_env_plays_exactly_the_games_of_its_members(obs_mode):
    config = {**ENV, "obs_mode": obs_mode}
    mixed = make_train_env(TASK, 8, config, seed=11, opponent_mix=MIX)
    # The members on their own, seeded as the mix seeds them: game i of the whole gets seed 11 + i.
    alone = [make_train_env(TASK, 4, {**config, "opponent": "minimax", "opponent_epsilon": 0.0}, seed=11),
             make_train_env(TASK, 2, {**config, "opponent": "minimax", "opponent_epsilon": 0.5}, seed=15),
             make_train_env(TASK, 2, {**config, "opponent": "random", "opponent_epsilon": 0.0}, seed=17)]
    assert isinstance(mixed, ConcatVecEnv) and mixed.num_envs == 8
    obs, parts = mixed.reset(), [env.reset() for env in alone]
    rng = np.random.default_rng(0)
    for _ in range(20):
        vector = obs["observation"] if obs_mode == "dict" else obs
        expected = np.concatenate([part["observation"] if obs_mode == "dict" else part for part in parts])
        assert np.array_equal(vector, expected)
        masks = mixed.action_masks()
        assert np.array_equal(masks, np.concatenate([env.action_masks() for env in alone]))
        actions = _legal_actions(masks, rng)
        obs, rewards, dones, infos = mixed.step(actions)
        results = [env.step(actions[a:b]) for env, a, b in zip(alone, (0, 4, 6), (4, 6, 8))]
        parts = [result[0] for result in results]
        assert np.array_equal(rewards, np.concatenate([result[1] for result in results]))
        assert np.array_equal(dones, np.concatenate([result[2] for result in results]))
        assert len(infos) == 8 and all(("episode" in info) == done for info, done in zip(infos, dones))
    mixed.close()


def test_mixed_env_routes_attributes_and_methods_to_the_right_member():
    env = make_train_env(TASK, 8, ENV, seed=0, opponent_mix=MIX)
    env.reset()
    assert env.get_attr("opponent_epsilon") == [0.0] * 4 + [0.5] * 2 + [0.0] * 2
    assert env.get_attr("opponent_name", indices=[5, 7]) == ["minimax", "random"]
    assert env.has_attr("action_masks")  # what MaskablePPO checks before training
    masks = env.action_masks()
    picked = env.env_method("action_masks", indices=[6, 1])
    assert np.array_equal(picked[0], masks[6]) and np.array_equal(picked[1], masks[1])
    assert env.env_is_wrapped(object) == [False] * 8
    with pytest.raises(ValueError, match="indices"):
        env.set_attr("opponent_epsilon", 0.1, indices=[0])
    with pytest.raises(ValueError, match="indices"):
        env.get_attr("opponent_epsilon", indices=[8])


def test_concat_refuses_members_with_other_spaces():
    flat = make_train_env(TASK, 2, ENV, seed=0)
    full = make_train_env("tttthought/Full-v0", 2, ENV, seed=0)
    with pytest.raises(ValueError, match="members\\[1\\]"):
        ConcatVecEnv([flat, full])
    with pytest.raises(ValueError, match="members"):
        ConcatVecEnv([])


# ------------------------------------------------------------------------------- schedules and a whole run
def test_lin_schedule_decays_linearly_to_zero():
    rate = schedule("learning_rate", "lin_0.001")
    assert rate(1.0) == pytest.approx(0.001) and rate(0.25) == pytest.approx(0.00025) and rate(0.0) == 0.0
    assert schedule("learning_rate", 0.0003) == 0.0003
    for bad in ("lin_x", "lin_-1", "cosine_0.1", True, None):
        with pytest.raises(ValueError, match="learning_rate"):
            schedule("learning_rate", bad)


@pytest.mark.parametrize("algo", ["maskable_ppo", "qrdqn"])
def test_a_run_trains_on_the_mix_and_evaluates_the_mix_as_its_training_opponent(algo):
    hp = {"opponent_mix": MIX, "learning_rate": "lin_0.001", "total_timesteps": 2048, "eval_every": 2048,
          "curve_games": 4, "n_envs": 8}
    if algo == "qrdqn":
        hp.update(learning_starts=200, buffer_size=5000)
    else:
        hp.update(n_steps=64, batch_size=128)
    record = train(make_run_config(algo, "plain", seed=1, hyperparams=hp, eval_games=20))
    assert record["total_timesteps"] >= 2048
    assert record["final"]["vs_training"]["games"] == 20 and record["final"]["vs_minimax"]["games"] == 20
    assert record["config"]["hyperparams"]["opponent_mix"] == MIX


def test_every_condition_trains_on_the_yaml_mix_unless_an_opponent_is_asked_for():
    from baselines.config import CONDITIONS

    for algo in ("maskable_ppo", "qrdqn"):
        mixes = {repr(make_run_config(algo, c)["hyperparams"]["opponent_mix"]) for c in CONDITIONS}
        assert len(mixes) == 1  # the same mix for every condition
    explicit = make_run_config("maskable_ppo", "plain", env={"opponent": "random", "opponent_epsilon": 0.0})
    assert "opponent_mix" not in explicit["hyperparams"] and explicit["env"]["opponent"] == "random"
    forced = make_run_config("qrdqn", "plain", env={"opponent": "random"}, hyperparams={"opponent_mix": MIX})
    assert forced["hyperparams"]["opponent_mix"] == MIX
