"""Minari with the envs: DataCollector(record_infos=True) -> dataset -> load_dataset, flat and dict observations.

Minari stores the infos of an episode as arrays (the reset's info first, then one per step) and refuses
an info whose keys or types change between steps, so the infos must have the same numeric keys at reset
and at every step. The code of the test is the one docs/integrations.md shows.
"""

from __future__ import annotations

import numpy as np
import pytest

minari = pytest.importorskip("minari")

import gymnasium  # noqa: E402
from minari import DataCollector  # noqa: E402

import tttthought_env  # noqa: E402,F401  (registers the ids)
from tttthought_env import INFO_KEYS  # noqa: E402

STEPS = 2000


def record(env: gymnasium.Env, steps: int, seed: int = 0) -> None:
    """``steps`` steps of uniformly random legal actions (read from ``info["action_mask"]``), whole episodes."""
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    done, n = False, 0
    while n < steps or not done:
        _, _, terminated, truncated, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
        n += 1
        done = terminated or truncated
        if done and n < steps:
            _, info = env.reset()


@pytest.mark.parametrize("obs_mode", ["flat", "dict"])
def test_record_create_load(obs_mode: str, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINARI_DATASETS_PATH", str(tmp_path))
    dataset_id = f"tttthought/plain-{obs_mode}-random-v0"
    env = DataCollector(gymnasium.make("tttthought/Plain-v0", obs_mode=obs_mode), record_infos=True)
    record(env, STEPS)
    env.create_dataset(dataset_id=dataset_id, eval_env=gymnasium.make("tttthought/Plain-v0", obs_mode=obs_mode),
                       algorithm_name="random legal moves", description="uniformly random legal moves")
    env.close()

    dataset = minari.load_dataset(dataset_id)
    assert dataset.total_steps >= STEPS and dataset.total_episodes >= 100
    outcomes = []
    for episode in dataset.iterate_episodes():
        n = len(episode.actions)
        infos = episode.infos
        assert set(infos) == set(INFO_KEYS)
        for key in INFO_KEYS:  # one row for the reset, then one per step, all numbers
            assert infos[key].shape[0] == n + 1, key
            assert infos[key].dtype.kind in "biuf", (key, infos[key].dtype)
        assert infos["action_mask"].shape == (n + 1, 9)
        if obs_mode == "dict":
            assert set(episode.observations) == {"observation", "action_mask"}
            assert episode.observations["observation"].shape == (n + 1, 38)
            np.testing.assert_array_equal(episode.observations["action_mask"].astype(bool), infos["action_mask"])
        else:
            assert episode.observations.shape == (n + 1, 38)
        # Each action was legal for the info before it; the reset row and the running game say so by codes.
        assert infos["action_mask"][np.arange(n), episode.actions].all()
        assert not infos["illegal_action"].any()
        assert infos["step_kind"][0] == -1 and (infos["step_kind"][1:] == 0).all()  # Plain: moves only
        assert (infos["outcome"][:-1] == -1).all()
        assert episode.terminations[-1] and not episode.terminations[:-1].any()
        # The stored rewards are the game rewards the infos split out.
        np.testing.assert_allclose(episode.rewards, infos["reward_game"][1:] + infos["reward_shaping"][1:]
                                   + infos["reward_cost"][1:])
        np.testing.assert_allclose(episode.rewards[-1], (1.0, 0.0, -1.0)[infos["outcome"][-1]])
        outcomes.append(int(infos["outcome"][-1]))
    assert set(outcomes) <= {0, 1, 2} and len(set(outcomes)) >= 2
    # The dataset names its env, with the observation mode, so that it can be rebuilt.
    recovered = dataset.recover_environment()
    assert recovered.observation_space == env.observation_space
    recovered.close()
