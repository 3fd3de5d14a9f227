"""sb3-contrib MaskablePPO on tttthought/Full-v0 with potential shaping, in ten lines.

The env exposes ``action_masks()``, so MaskablePPO needs no wrapper.

    python examples/maskable_ppo.py                      # under a minute on two cores
    python examples/maskable_ppo.py --timesteps 150000   # closer to perfect play
"""

from __future__ import annotations

import argparse

import gymnasium as gym
from sb3_contrib import MaskablePPO
from sb3_contrib.common.maskable.evaluation import evaluate_policy
from stable_baselines3.common.monitor import Monitor

import tttthought_env  # noqa: F401  (registers the ids)


def main(total_timesteps: int = 30_000, eval_episodes: int = 100, seed: int = 0, verbose: bool = True) -> dict:
    env = gym.make("tttthought/Full-v0", shaping="potential")
    model = MaskablePPO("MlpPolicy", env, n_steps=512, batch_size=256, learning_rate=1e-3, seed=seed, verbose=0)
    model.learn(total_timesteps, progress_bar=verbose)  # SB3's progress bar (tqdm + rich)
    eval_env = Monitor(gym.make("tttthought/Full-v0", opponent="minimax", opponent_epsilon=0.0))  # perfect play
    mean, std = evaluate_policy(model, eval_env, n_eval_episodes=eval_episodes, use_masking=True)
    if verbose:
        print(f"mean return against minimax after {total_timesteps} steps: {mean:+.2f} +/- {std:.2f} "
              "(0 = always draw, the best possible)")
    return {"mean_return": mean, "std_return": std, "model": model}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="MaskablePPO in ten lines")
    parser.add_argument("--timesteps", type=int, default=30_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.timesteps, seed=args.seed)
