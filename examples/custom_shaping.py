"""A custom R(δx): pass any callable ``shaping(before, thought, after) -> float``.

``before`` and ``after`` are :class:`tttthought_env.shaping.ThoughtView` tuples ``(board, store, player)``
of the thinker's side just before and after the thought; ``thought`` is ``(channel, arg)``. The env calls
it on thought steps only (moves earn the game reward), multiplies nothing: return the reward itself.
``info["reward_shaping"]`` shows what it paid.

    python examples/custom_shaping.py                    # well under a minute on two cores
    python examples/custom_shaping.py --timesteps 50000
"""

from __future__ import annotations

import argparse

import gymnasium as gym
import numpy as np

import tttthought_env  # noqa: F401
from tttthought_env import STEP_KINDS
from tttthought_env.core import winning_lines
from tttthought_env.shaping import ThoughtView

LINES = winning_lines(3, 3, 3)


def urgent_cells(board: np.ndarray, player: int) -> set[int]:
    """Empty cells that win now for ``player`` (0 = X, 1 = O) or block the opponent's win."""
    cells = set()
    for mark in (player + 1, 2 - player):  # own lines first, then the opponent's
        for line in LINES:
            values = [int(board[c]) for c in line]
            if values.count(mark) == 2 and values.count(0) == 1:
                cells.add(line[values.index(0)])
    return cells


def tactics_shaping(before: ThoughtView, thought: tuple[str, int], after: ThoughtView) -> float:
    """+0.05 for asserting an urgent cell, -0.05 for asserting an occupied one, +0.02 for negating an occupied one."""
    channel, arg = thought
    if channel == "propose":
        if before.board[arg] != 0:
            return -0.05
        return 0.05 if arg in urgent_cells(before.board, before.player) else 0.0
    if channel == "negate":
        return 0.02 if before.board[arg] != 0 else 0.0
    return 0.0


def main(total_timesteps: int = 10_000, episodes: int = 20, seed: int = 0, verbose: bool = True) -> dict:
    """Show what the callable pays in random play, then train MaskablePPO with it (``total_timesteps=0`` skips)."""
    env = gym.make("tttthought/Full-v0", shaping=tactics_shaping)
    rng = np.random.default_rng(seed)
    paid = []
    for episode in range(episodes):
        _, info = env.reset(seed=seed + episode)
        done = False
        while not done:
            action = int(rng.choice(np.flatnonzero(info["action_mask"])))
            _, _, terminated, truncated, info = env.step(action)
            if STEP_KINDS[info["step_kind"]] == "thought":  # infos hold codes: 0 move, 1 thought
                paid.append(info["reward_shaping"])
            done = terminated or truncated
    result = {"thoughts": len(paid), "mean_shaping": float(np.mean(paid)) if paid else 0.0}
    if verbose:
        print(f"random play: {len(paid)} thoughts, mean R(δx) {result['mean_shaping']:+.4f}")
    if total_timesteps:
        from sb3_contrib import MaskablePPO

        model = MaskablePPO("MlpPolicy", env, n_steps=512, batch_size=256, seed=seed, verbose=0)
        model.learn(total_timesteps, progress_bar=verbose)  # SB3's progress bar (tqdm + rich)
        result["model"] = model
        if verbose:
            print(f"trained MaskablePPO for {total_timesteps} steps with the custom R(δx)")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="custom R(δx) as a callable")
    parser.add_argument("--timesteps", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.timesteps, seed=args.seed)
