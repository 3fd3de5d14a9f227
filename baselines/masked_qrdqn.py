"""Masked QR-DQN: sb3-contrib's QR-DQN that never picks an illegal action.

QR-DQN has no native action masking. This variant reads the legal-action mask from the dict
observation (``obs_mode="dict"``: ``{"observation": x, "action_mask": int8 (A,)}``) and uses it in
all three places an action is chosen:

1. acting greedily: ``argmax`` of the mean quantiles over the legal actions only
   (:class:`MaskedQuantileNetwork._predict`, used by ``predict`` and evaluation);
2. epsilon-exploration and the warm-up before ``learning_starts``: a uniformly random *legal*
   action, with one epsilon draw per game (:meth:`MaskedQRDQN.predict`, :meth:`MaskedQRDQN._sample_action`);
3. the bootstrap target: the greedy next action is the argmax over the actions legal in the next
   observation (its own mask travels in ``next_observations``), i.e. the target is
   ``r + gamma * Z(s', argmax_{a' legal in s'} mean Z(s', a'))`` (:meth:`MaskedQRDQN.train`).

The network sees only ``"observation"`` (:class:`ObservationOnlyExtractor`), the same input as the
flat-observation algorithms, so capacities stay comparable. Terminal next observations have an
all-False mask; their target term is multiplied by ``1 - done = 0``, and the argmax there is
taken over finite stand-in values so no NaN can arise.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch as th
from gymnasium import spaces
from sb3_contrib import QRDQN
from sb3_contrib.common.utils import quantile_huber_loss
from sb3_contrib.qrdqn.policies import QRDQNPolicy, QuantileNetwork
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor

MASK_KEY = "action_mask"
OBS_KEY = "observation"


class ObservationOnlyExtractor(BaseFeaturesExtractor):
    """Features = the ``"observation"`` entry of the dict observation; the mask is not a network input."""

    def __init__(self, observation_space: spaces.Dict) -> None:
        super().__init__(observation_space, features_dim=int(np.prod(observation_space[OBS_KEY].shape)))

    def forward(self, observations: dict[str, th.Tensor]) -> th.Tensor:
        return th.flatten(observations[OBS_KEY].float(), start_dim=1)


def masked_argmax(values: th.Tensor, mask: th.Tensor) -> th.Tensor:
    """Row-wise argmax of ``values`` (B, A) over the entries where ``mask`` is true.

    Rows without any legal entry (terminal observations) get some index; callers zero their use.
    """
    lowest = th.finfo(values.dtype).min
    return th.where(mask, values, th.full_like(values, lowest)).argmax(dim=1)


class MaskedQuantileNetwork(QuantileNetwork):
    def _predict(self, observation: Any, deterministic: bool = True) -> th.Tensor:
        q_values = self(observation).mean(dim=1)
        return masked_argmax(q_values, observation[MASK_KEY].bool()).reshape(-1)


class MaskedQRDQNPolicy(QRDQNPolicy):
    """QR-DQN policy for dict observations whose greedy action is restricted to the mask."""

    def __init__(self, observation_space: spaces.Dict, action_space: spaces.Discrete, lr_schedule, **kwargs: Any):
        if not isinstance(observation_space, spaces.Dict) or MASK_KEY not in observation_space.spaces:
            raise ValueError(
                "MaskedQRDQN needs a dict observation with an 'action_mask' entry: make the env with obs_mode='dict'"
            )
        kwargs.setdefault("features_extractor_class", ObservationOnlyExtractor)
        super().__init__(observation_space, action_space, lr_schedule, **kwargs)

    def make_quantile_net(self) -> MaskedQuantileNetwork:
        net_args = self._update_features_extractor(self.net_args, features_extractor=None)
        return MaskedQuantileNetwork(**net_args).to(self.device)


def random_legal_actions(mask: np.ndarray, rng: np.random.Generator | None = None) -> np.ndarray:
    """One uniformly random legal action per row of a (B, A) mask (rows without a legal action give 0)."""
    mask = np.asarray(mask, dtype=bool).reshape(-1, np.asarray(mask).shape[-1])
    noise = (rng.random(mask.shape) if rng is not None else np.random.random(mask.shape)) + 1.0
    return np.where(mask, noise, 0.0).argmax(axis=1)


class MaskedQRDQN(QRDQN):
    """QR-DQN with the action mask applied in acting, exploration and the bootstrap target."""

    policy_aliases: ClassVar[dict[str, type]] = {"MultiInputPolicy": MaskedQRDQNPolicy, "MaskedQRDQNPolicy": MaskedQRDQNPolicy}

    def predict(self, observation, state=None, episode_start=None, deterministic: bool = False):
        action, state = self.policy.predict(observation, state, episode_start, deterministic=True)
        if deterministic or self.exploration_rate <= 0.0:
            return action, state
        mask = np.asarray(observation[MASK_KEY])
        flat_action = np.array(action).reshape(-1)
        explore = np.random.random(flat_action.shape[0]) < self.exploration_rate
        if explore.any():
            flat_action = np.where(explore, random_legal_actions(mask), flat_action)
        return flat_action.reshape(np.shape(action)), state

    def _sample_action(self, learning_starts: int, action_noise=None, n_envs: int = 1):
        if self.num_timesteps < learning_starts:
            action = random_legal_actions(self._last_obs[MASK_KEY])  # warm-up: random legal actions
        else:
            action, _ = self.predict(self._last_obs, deterministic=False)
        return action, action

    def train(self, gradient_steps: int, batch_size: int = 100) -> None:
        # sb3-contrib's QRDQN.train with the next action restricted to the next observation's mask.
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        losses = []
        for _ in range(gradient_steps):
            replay_data = self.replay_buffer.sample(batch_size, env=self._vec_normalize_env)
            discounts = replay_data.discounts if replay_data.discounts is not None else self.gamma
            with th.no_grad():
                next_quantiles = self.quantile_net_target(replay_data.next_observations)
                next_mask = replay_data.next_observations[MASK_KEY].bool()
                next_greedy = masked_argmax(next_quantiles.mean(dim=1), next_mask)
                next_greedy = next_greedy.view(batch_size, 1, 1).expand(batch_size, self.n_quantiles, 1)
                next_quantiles = next_quantiles.gather(dim=2, index=next_greedy).squeeze(dim=2)
                target_quantiles = replay_data.rewards + (1 - replay_data.dones) * discounts * next_quantiles
            current_quantiles = self.quantile_net(replay_data.observations)
            actions = replay_data.actions[..., None].long().expand(batch_size, self.n_quantiles, 1)
            current_quantiles = th.gather(current_quantiles, dim=2, index=actions).squeeze(dim=2)
            loss = quantile_huber_loss(current_quantiles, target_quantiles, sum_over_quantiles=True)
            losses.append(loss.item())
            self.policy.optimizer.zero_grad()
            loss.backward()
            if self.max_grad_norm is not None:
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
            self.policy.optimizer.step()
        self._n_updates += gradient_steps
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/loss", np.mean(losses))
