"""Tianshou 2 with the envs: single-agent DQN on a Gymnasium id, multi-agent DQN through ``PettingZooEnv``.

Tianshou batches every info dict of a step into its replay buffer, so the infos must have the same
numeric keys at reset and at every step, for every agent (``tttthought_env.INFO_KEYS``). The code of
each test is the one docs/integrations.md shows.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

if "numba" not in sys.modules:
    # Tianshou's buffers JIT-compile their numba helpers on first use, about 15 s on two cores: more than
    # these small batches take to run interpreted. Only numba reads this, and only when first imported.
    os.environ.setdefault("NUMBA_DISABLE_JIT", "1")

tianshou = pytest.importorskip("tianshou")
torch = pytest.importorskip("torch")

import gymnasium  # noqa: E402
from gymnasium import spaces  # noqa: E402
from tianshou.algorithm import DQN  # noqa: E402
from tianshou.algorithm.modelfree.dqn import DiscreteQLearningPolicy  # noqa: E402
from tianshou.algorithm.multiagent.marl import MultiAgentOffPolicyAlgorithm  # noqa: E402
from tianshou.algorithm.optim import AdamOptimizerFactory  # noqa: E402
from tianshou.algorithm.random import MARLRandomDiscreteMaskedOffPolicyAlgorithm  # noqa: E402
from tianshou.data import Collector, VectorReplayBuffer  # noqa: E402
from tianshou.env import DummyVectorEnv, PettingZooEnv  # noqa: E402
from tianshou.utils.net.common import Net  # noqa: E402
from tianshou.utils.torch_utils import policy_within_training_step  # noqa: E402

import tttthought_env.pettingzoo  # noqa: E402
from tttthought_env import INFO_KEYS  # noqa: E402

NUM_ENVS = 8


class TianshouMask(gymnasium.ObservationWrapper):
    """``{"observation", "action_mask"}`` -> ``{"obs", "mask"}``, the keys Tianshou's policies read the mask from."""

    def __init__(self, env: gymnasium.Env) -> None:
        super().__init__(env)
        space = env.observation_space
        self.observation_space = spaces.Dict({"obs": space["observation"],
                                              "mask": spaces.MultiBinary(space["action_mask"].shape[0])})

    def observation(self, observation: dict) -> dict:
        return {"obs": observation["observation"], "mask": observation["action_mask"].astype(bool)}


def make_env() -> gymnasium.Env:
    return TianshouMask(gymnasium.make("tttthought/Plain-v0", obs_mode="dict"))


def dqn(obs_size: int, n_actions: int, action_space: spaces.Space, eps: float) -> DQN:
    net = Net(state_shape=obs_size, action_shape=n_actions, hidden_sizes=[64, 64])
    policy = DiscreteQLearningPolicy(model=net, action_space=action_space, eps_training=eps, eps_inference=eps)
    return DQN(policy=policy, optim=AdamOptimizerFactory(lr=1e-3), gamma=0.9, target_update_freq=50)


def assert_infos_stored(info, n: int) -> None:
    """The buffer's ``info`` holds every key of :data:`INFO_KEYS` as a numeric array of length ``n``."""
    assert set(INFO_KEYS) <= set(info.get_keys())
    for key in INFO_KEYS:
        value = np.asarray(info[key])
        assert len(value) == n, key
        assert value.dtype.kind in "biuf", (key, value.dtype)


def test_single_agent_dqn_collects_and_trains() -> None:
    torch.manual_seed(0)
    np.random.seed(0)
    envs = DummyVectorEnv([make_env for _ in range(NUM_ENVS)])
    envs.seed(0)
    probe = make_env()
    n_actions = int(probe.action_space.n)
    algorithm = dqn(probe.observation_space["obs"].shape[0], n_actions, probe.action_space, eps=0.3)
    buffer = VectorReplayBuffer(10_000, NUM_ENVS)
    collector = Collector(algorithm, envs, buffer, exploration_noise=True, raise_on_nan_in_buffer=True)
    collector.reset()
    net = algorithm.policy.model
    before = [p.detach().clone() for p in net.parameters()]
    losses = []
    with policy_within_training_step(algorithm.policy):
        for _ in range(10):
            stats = collector.collect(n_step=304)
            assert stats.n_collected_steps >= 304
            for _ in range(5):
                losses.append(algorithm.update(buffer, sample_size=64).loss)
    n = len(buffer)
    assert n >= 3000
    assert not buffer.hasnull()
    data = buffer.sample(0)[0]
    assert_infos_stored(data.info, n)
    # The masked policy (epsilon-greedy included) never picks an illegal cell, and every ended game has an outcome.
    assert not np.asarray(data.info["illegal_action"]).any()
    assert np.asarray(data.info["action_mask"]).shape == (n, n_actions)
    done = np.asarray(data.terminated) | np.asarray(data.truncated)
    outcomes = np.asarray(data.info["outcome"])
    assert done.sum() > 100
    assert set(outcomes[done].tolist()) <= {0, 1, 2} and (outcomes[~done] == -1).all()
    # Rewards in the buffer are the game rewards the infos split out.
    np.testing.assert_allclose(np.asarray(data.rew), np.asarray(data.info["reward_game"])
                               + np.asarray(data.info["reward_shaping"]) + np.asarray(data.info["reward_cost"]))
    # 50 update steps ran on the collected data and moved the weights.
    assert len(losses) == 50 and all(np.isfinite(losses))
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))
    envs.close()


def make_aec_env() -> PettingZooEnv:
    return PettingZooEnv(tttthought_env.pettingzoo.env())


def test_multi_agent_dqn_through_pettingzoo_env() -> None:
    torch.manual_seed(0)
    np.random.seed(0)
    probe = make_aec_env()
    obs_size = probe.observation_space["observation"].shape[0]
    n_actions = int(probe.action_space.n)
    learner = dqn(obs_size, n_actions, probe.action_space, eps=0.3)
    algorithm = MultiAgentOffPolicyAlgorithm(
        algorithms=[learner, MARLRandomDiscreteMaskedOffPolicyAlgorithm(probe.action_space)], env=probe)
    envs = DummyVectorEnv([make_aec_env for _ in range(NUM_ENVS)])
    envs.seed(0)
    buffer = VectorReplayBuffer(10_000, NUM_ENVS)
    collector = Collector(algorithm, envs, buffer, exploration_noise=True, raise_on_nan_in_buffer=True)
    collector.reset()
    losses = []
    with policy_within_training_step(algorithm.policy), policy_within_training_step(learner.policy):
        for _ in range(4):
            collector.collect(n_step=256)
            for _ in range(5):
                stats = algorithm.update(buffer, sample_size=64)
                losses.append(stats.get_loss_stats_dict()["player_0/loss"])
    n = len(buffer)
    assert n >= 1000
    assert not buffer.hasnull()
    data = buffer.sample(0)[0]
    assert_infos_stored(data.info, n)
    # Both players act, and neither the DQN nor Tianshou's random policy ever steps outside the mask:
    # an illegal action would end the game with info["illegal_action"] True.
    agents = np.asarray(data.obs.agent_id)
    assert set(agents.tolist()) == {"player_0", "player_1"}
    assert not np.asarray(data.info["illegal_action"]).any()
    mask = np.asarray(data.obs.mask)
    assert mask.shape == (n, n_actions) and mask.any(axis=1).all()
    assert np.take_along_axis(mask, np.asarray(data.act)[:, None], axis=1).all()
    # Thoughts (Full channels) keep the turn; moves pass it. Games end with an outcome for the stored agent.
    kinds = np.asarray(data.info["step_kind"])
    assert set(kinds.tolist()) <= {-1, 0, 1} and (kinds == 1).any()
    done = np.asarray(data.terminated) | np.asarray(data.truncated)
    assert done.sum() > 20
    assert set(np.asarray(data.info["outcome"])[done].tolist()) <= {0, 1, 2}
    assert np.asarray(data.rew).shape == (n, 2)
    assert len(losses) == 20 and all(np.isfinite(losses))
    envs.close()
