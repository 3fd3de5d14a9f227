"""A single-file, CleanRL-style PPO with action masking, in plain PyTorch: no SB3, no wrappers.

Proof that tttthought-env plugs into any RL code: it uses only Gymnasium's vector API
(``gymnasium.make_vec``) and the env's ``action_masks()``. Illegal actions get a logit of -1e8, so
the policy never samples them and their probability does not enter the loss.

    python examples/cleanrl_ppo.py --total-timesteps 200000
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
import torch
from torch import nn
from torch.distributions.categorical import Categorical

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env import OUTCOMES


@dataclass
class Args:
    env_id: str = "tttthought/Full-v0"
    total_timesteps: int = 200_000
    num_envs: int = 16
    num_steps: int = 128
    learning_rate: float = 1e-3
    gamma: float = 0.99
    gae_lambda: float = 0.95
    num_minibatches: int = 4
    update_epochs: int = 4
    clip_coef: float = 0.2
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    hidden: int = 64
    seed: int = 0
    eval_games: int = 200


def layer_init(layer: nn.Linear, std: float = np.sqrt(2), bias_const: float = 0.0) -> nn.Linear:
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    def __init__(self, n_obs: int, n_actions: int, hidden: int) -> None:
        super().__init__()
        self.critic = nn.Sequential(layer_init(nn.Linear(n_obs, hidden)), nn.Tanh(),
                                    layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
                                    layer_init(nn.Linear(hidden, 1), std=1.0))
        self.actor = nn.Sequential(layer_init(nn.Linear(n_obs, hidden)), nn.Tanh(),
                                   layer_init(nn.Linear(hidden, hidden)), nn.Tanh(),
                                   layer_init(nn.Linear(hidden, n_actions), std=0.01))

    def get_value(self, x: torch.Tensor) -> torch.Tensor:
        return self.critic(x)

    def get_action_and_value(self, x: torch.Tensor, mask: torch.Tensor, action: torch.Tensor | None = None):
        logits = self.actor(x).masked_fill(~mask, -1e8)  # the mask: illegal actions are never sampled
        probs = Categorical(logits=logits)
        if action is None:
            action = probs.sample()
        return action, probs.log_prob(action), probs.entropy(), self.critic(x)


def masks_of(envs: gym.vector.VectorEnv) -> np.ndarray:
    return np.stack(envs.call("action_masks"))


def evaluate(agent: Agent, env_id: str, games: int, seed: int) -> dict:
    """Greedy masked play against perfect minimax, half the games as X and half as O."""
    tally = {"win": 0, "draw": 0, "loss": 0}
    for side in ("X", "O"):
        env = gym.make(env_id, opponent="minimax", opponent_epsilon=0.0, agent_player=side)
        for game in range(games // 2):
            obs, info = env.reset(seed=seed + game)
            done = False
            while not done:
                with torch.no_grad():
                    logits = agent.actor(torch.as_tensor(obs).unsqueeze(0))[0].numpy()
                action = int(np.where(info["action_mask"], logits, -np.inf).argmax())
                obs, _, terminated, truncated, info = env.step(action)
                done = terminated or truncated
            tally[OUTCOMES[info["outcome"]]] += 1
    total = max(sum(tally.values()), 1)
    out = {key: value / total for key, value in tally.items()}
    out["draw_or_better"] = out["win"] + out["draw"]
    return out


def main(total_timesteps: int = 200_000, num_envs: int = 16, num_steps: int = 128, eval_games: int = 200,
         seed: int = 0, env_id: str = "tttthought/Full-v0", verbose: bool = True) -> dict:
    args = Args(env_id=env_id, total_timesteps=total_timesteps, num_envs=num_envs, num_steps=num_steps, seed=seed,
                eval_games=eval_games)
    batch_size = args.num_envs * args.num_steps
    minibatch_size = batch_size // args.num_minibatches
    num_iterations = max(args.total_timesteps // batch_size, 1)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)

    # Same-step autoreset: the observation (and mask) after a finished episode is the next episode's first.
    envs = gym.make_vec(args.env_id, num_envs=args.num_envs, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": gym.vector.AutoresetMode.SAME_STEP})
    n_obs = envs.single_observation_space.shape[0]
    n_actions = envs.single_action_space.n
    agent = Agent(n_obs, n_actions, args.hidden)
    optimizer = torch.optim.Adam(agent.parameters(), lr=args.learning_rate, eps=1e-5)

    obs_buf = torch.zeros((args.num_steps, args.num_envs, n_obs))
    mask_buf = torch.zeros((args.num_steps, args.num_envs, n_actions), dtype=torch.bool)
    actions = torch.zeros((args.num_steps, args.num_envs), dtype=torch.long)
    logprobs = torch.zeros((args.num_steps, args.num_envs))
    rewards = torch.zeros((args.num_steps, args.num_envs))
    dones = torch.zeros((args.num_steps, args.num_envs))
    values = torch.zeros((args.num_steps, args.num_envs))

    before = evaluate(agent, args.env_id, args.eval_games, seed=10_000) if args.eval_games else None
    began = time.perf_counter()
    next_obs, _ = envs.reset(seed=args.seed)
    next_obs = torch.as_tensor(next_obs)
    next_mask = torch.as_tensor(masks_of(envs))
    next_done = torch.zeros(args.num_envs)
    episode_returns, running = [], np.zeros(args.num_envs)
    losses = {}
    for iteration in range(num_iterations):
        for step in range(args.num_steps):
            obs_buf[step], mask_buf[step], dones[step] = next_obs, next_mask, next_done
            with torch.no_grad():
                action, logprob, _, value = agent.get_action_and_value(next_obs, next_mask)
            values[step] = value.flatten()
            actions[step], logprobs[step] = action, logprob
            obs, reward, terminated, truncated, _ = envs.step(action.numpy())
            done = np.logical_or(terminated, truncated)
            running += reward
            episode_returns.extend(running[done].tolist())
            running[done] = 0.0
            rewards[step] = torch.as_tensor(reward, dtype=torch.float32)
            next_obs, next_done = torch.as_tensor(obs), torch.as_tensor(done, dtype=torch.float32)
            next_mask = torch.as_tensor(masks_of(envs))

        with torch.no_grad():  # generalized advantage estimation
            next_value = agent.get_value(next_obs).reshape(1, -1)
            advantages = torch.zeros_like(rewards)
            lastgaelam = 0
            for t in reversed(range(args.num_steps)):
                if t == args.num_steps - 1:
                    nextnonterminal, nextvalues = 1.0 - next_done, next_value
                else:
                    nextnonterminal, nextvalues = 1.0 - dones[t + 1], values[t + 1]
                delta = rewards[t] + args.gamma * nextvalues * nextnonterminal - values[t]
                advantages[t] = lastgaelam = delta + args.gamma * args.gae_lambda * nextnonterminal * lastgaelam
            returns = advantages + values

        b_obs, b_masks = obs_buf.reshape(-1, n_obs), mask_buf.reshape(-1, n_actions)
        b_actions, b_logprobs = actions.reshape(-1), logprobs.reshape(-1)
        b_advantages, b_returns = advantages.reshape(-1), returns.reshape(-1)
        indices = np.arange(batch_size)
        for _ in range(args.update_epochs):
            np.random.shuffle(indices)
            for start in range(0, batch_size, minibatch_size):
                mb = indices[start:start + minibatch_size]
                _, newlogprob, entropy, newvalue = agent.get_action_and_value(b_obs[mb], b_masks[mb], b_actions[mb])
                ratio = (newlogprob - b_logprobs[mb]).exp()
                mb_adv = b_advantages[mb]
                mb_adv = (mb_adv - mb_adv.mean()) / (mb_adv.std() + 1e-8)
                pg_loss = torch.max(-mb_adv * ratio,
                                    -mb_adv * torch.clamp(ratio, 1 - args.clip_coef, 1 + args.clip_coef)).mean()
                v_loss = 0.5 * ((newvalue.view(-1) - b_returns[mb]) ** 2).mean()
                entropy_loss = entropy.mean()
                loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
                optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(agent.parameters(), args.max_grad_norm)
                optimizer.step()
        losses = {"policy": pg_loss.item(), "value": v_loss.item(), "entropy": entropy_loss.item()}
        if verbose and (iteration + 1) % max(num_iterations // 10, 1) == 0:
            recent = np.mean(episode_returns[-200:]) if episode_returns else float("nan")
            print(f"iteration {iteration + 1}/{num_iterations}: {(iteration + 1) * batch_size} steps, "
                  f"mean episode return {recent:+.3f}, entropy {losses['entropy']:.3f}")
    envs.close()
    seconds = time.perf_counter() - began
    after = evaluate(agent, args.env_id, args.eval_games, seed=10_000) if args.eval_games else None
    if verbose and after is not None:
        print(f"{num_iterations * batch_size} steps in {seconds:.0f} s; draw-or-better against minimax: "
              f"{before['draw_or_better']:.2f} before, {after['draw_or_better']:.2f} after")
    return {"before": before, "after": after, "losses": losses, "episodes": len(episode_returns),
            "train_seconds": seconds, "agent": agent}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total-timesteps", type=int, default=200_000)
    parser.add_argument("--env-id", default="tttthought/Full-v0")
    parser.add_argument("--seed", type=int, default=0)
    cli = parser.parse_args()
    main(cli.total_timesteps, env_id=cli.env_id, seed=cli.seed)
