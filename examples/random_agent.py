"""A random masked agent with plain Gymnasium: sample only legal actions, thoughts included.

    python examples/random_agent.py --episodes 1000
"""

from __future__ import annotations

import argparse
from collections import Counter

import gymnasium as gym
import numpy as np

import tttthought_env  # noqa: F401  (registers the tttthought/* ids)
from tttthought_env import OUTCOMES, STEP_KINDS


def main(episodes: int = 100, task: str = "tttthought/Full-v0", seed: int = 0, verbose: bool = True) -> dict:
    """Play ``episodes`` episodes with uniformly random legal actions; return outcome rates and thoughts per move."""
    env = gym.make(task)
    env.action_space.seed(seed)
    outcomes: Counter = Counter()
    thoughts = moves = 0
    for episode in range(episodes):
        _, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            mask = info["action_mask"]  # the same array as env.unwrapped.action_masks()
            action = env.action_space.sample(mask.astype(np.int8))  # uniform over the legal actions
            _, _, terminated, truncated, info = env.step(action)
            moves += STEP_KINDS[info["step_kind"]] == "move"  # infos hold codes: 0 move, 1 thought
            done = terminated or truncated
        outcomes[OUTCOMES[info["outcome"]]] += 1  # a code at the end: 0 win, 1 draw, 2 loss
        thoughts += info["thoughts"]
    env.close()
    result = {key: outcomes[key] / episodes for key in ("win", "draw", "loss")}
    result["thoughts_per_move"] = thoughts / max(moves, 1)
    if verbose:
        print(f"{task}, {episodes} episodes of random legal play: win {result['win']:.2f}, "
              f"draw {result['draw']:.2f}, loss {result['loss']:.2f}, "
              f"{result['thoughts_per_move']:.2f} thoughts per move")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="random masked agent")
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--task", default="tttthought/Full-v0")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.episodes, args.task, args.seed)
