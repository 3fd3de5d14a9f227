"""The ``pretrained`` condition: behaviour-clone a scripted thinker into the policy, then train with RL as usual.

Thought MDPs (Hanna & Corrado 2025) find that whether thinking emerges depends on the policy's
initialisation, so this condition starts from a policy whose thoughts are already useful and asks whether
RL keeps them. The teacher is a scripted thinker of :mod:`tttthought_env.scripted`: the note-taker on the
last-move view (it writes down each opponent move, then plays minimax on the board its notes rebuild), on
the full view the proposer of the solver's optimal cells. Both act on observations only, so the
demonstrations are states the learner itself can see.

MaskablePPO only: its policy is a distribution to fit by maximum likelihood. A value-based learner
(QR-DQN) has no such policy; cloning into its Q-values needs a margin loss and demonstrations kept in the
replay buffer (DQfD), a different method, so the grid does not run ``pretrained`` for QR-DQN
(docs/benchmark.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch as th

from baselines.envs import make_eval_env
from tttthought_env.scripted import NoteTaker, OptimalProposer

#: The behaviour-cloning settings; their values live in the YAML (``pretrain:`` of maskable_ppo.yml).
PRETRAIN_KEYS: tuple[str, ...] = ("games", "epochs", "batch_size", "learning_rate")


def teacher_for(env: Any) -> NoteTaker | OptimalProposer:
    """The scripted thinker of ``env``'s view."""
    return NoteTaker(env.config) if env.config.view == "last_move" else OptimalProposer(env.config)


def demonstrations(task: str, env_config: dict[str, Any], games: int, seed: int) -> dict[str, Any]:
    """The learner's observations (in its env's ``obs_mode``: an array, or a dict of stacked arrays for the
    token networks), the legal-action masks and the teacher's actions over ``games`` games of ``task``."""
    if isinstance(games, bool) or not isinstance(games, int) or games < 1:
        raise ValueError(f"games must be an int >= 1, got {games!r}")
    env = make_eval_env(task, env_config)
    teacher = teacher_for(env)
    observations, masks, actions = [], [], []
    for game in range(games):
        obs, info = env.reset(seed=seed + game)
        terminated = False
        while not terminated:
            # The teacher reads the flat observation of the learner's seat; a token network sees the same
            # position as tokens (the two carry the same information), so it clones from its own view.
            action = teacher(env.game.observation(env.agent), info["action_mask"])
            observations.append(obs)
            masks.append(info["action_mask"])
            actions.append(action)
            obs, _, terminated, _, info = env.step(action)
    stacked: Any = ({key: np.stack([o[key] for o in observations]) for key in observations[0]}
                    if isinstance(observations[0], dict) else np.asarray(observations, np.float32))
    return {"observations": stacked, "masks": np.asarray(masks, bool), "actions": np.asarray(actions, np.int64)}


def _checked_policy(model: Any) -> Any:
    policy = model.policy
    if not hasattr(policy, "get_distribution"):
        raise ValueError(f"behaviour cloning needs a MaskablePPO policy, got {type(policy).__name__}")
    return policy


def behaviour_clone(model: Any, data: dict[str, Any], epochs: int, batch_size: int, learning_rate: float,
                    seed: int) -> dict[str, float]:
    """Fit a MaskablePPO policy to ``data`` by maximum likelihood of the teacher's actions (masked).

    Only the policy's parameters move (the value head is left to RL). Returns the final mean negative
    log-likelihood and the fraction of states where the policy's masked argmax is the teacher's action.
    """
    policy = _checked_policy(model)
    policy.set_training_mode(True)
    optimizer = th.optim.Adam(policy.parameters(), lr=learning_rate)
    raw = data["observations"]
    obs: Any = ({key: th.as_tensor(value, device=policy.device) for key, value in raw.items()}
                if isinstance(raw, dict) else th.as_tensor(raw, device=policy.device))
    masks = data["masks"]
    actions = th.as_tensor(data["actions"], device=policy.device)
    order = np.random.default_rng(seed)
    for _ in range(epochs):
        for batch in np.array_split(order.permutation(len(actions)), max(len(actions) // batch_size, 1)):
            rows = {key: value[batch] for key, value in obs.items()} if isinstance(obs, dict) else obs[batch]
            distribution = policy.get_distribution(rows, action_masks=masks[batch])
            loss = -distribution.log_prob(actions[batch]).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    policy.set_training_mode(False)
    with th.no_grad():
        distribution = policy.get_distribution(obs, action_masks=masks)
        nll = float(-distribution.log_prob(actions).mean())
        agree = float((distribution.distribution.probs.argmax(dim=1) == actions).float().mean())
    return {"nll": round(nll, 4), "agreement": round(agree, 4), "states": int(len(actions))}


def pretrain(model: Any, task: str, env_config: dict[str, Any], settings: dict[str, Any] | None, seed: int) -> dict:
    """Demonstrations of ``task``'s teacher cloned into ``model``; the summary goes into the run's record."""
    params = dict(settings or {})
    if sorted(params) != sorted(PRETRAIN_KEYS):
        raise ValueError(f"pretrain settings must have exactly the keys {PRETRAIN_KEYS} (the YAML's 'pretrain:'), "
                         f"got {tuple(params)}")
    _checked_policy(model)
    data = demonstrations(task, env_config, int(params["games"]), seed=104_729 * (seed + 1))
    summary = behaviour_clone(model, data, int(params["epochs"]), int(params["batch_size"]),
                              float(params["learning_rate"]), seed)
    return {**params, **summary}
