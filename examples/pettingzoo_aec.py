"""The PettingZoo AEC loop with two policies: a random thinker (player_0, X) against minimax (player_1, O).

Each player sees its own observation and mask; ``agent_selection`` stays with a player while it thinks
and passes to the other when it moves.

    python examples/pettingzoo_aec.py --games 20
"""

from __future__ import annotations

import argparse
from collections import Counter

import numpy as np

from tttthought_env import OUTCOMES
from tttthought_env.opponents import MinimaxOpponent
from tttthought_env.pettingzoo import env as make_env


def random_thinker(obs: dict, rng: np.random.Generator) -> int:
    """Any legal action, thoughts included."""
    return int(rng.choice(np.flatnonzero(obs["action_mask"])))


def main(games: int = 10, seed: int = 0, verbose: bool = True) -> dict:
    """Play ``games`` games; return player_0's outcomes and the thoughts each player took."""
    rng = np.random.default_rng(seed)
    env = make_env()  # tttthought/Full-v0 settings; make_env(channels=(), ...) for others
    minimax = MinimaxOpponent()
    policies = {
        "player_0": lambda obs: random_thinker(obs, rng),
        # A policy may also read the shared board; minimax never thinks, it only moves.
        "player_1": lambda obs: minimax(env.unwrapped.game.board, rng),
    }
    outcomes: Counter = Counter()
    thoughts: Counter = Counter()
    for game in range(games):
        env.reset(seed=seed + game)
        for agent in env.agent_iter():
            obs, _, termination, truncation, info = env.last()
            if termination or truncation:
                if agent == "player_0":
                    outcomes[OUTCOMES[info["outcome"]]] += 1
                    thoughts["player_0"] += info["thoughts"]
                else:
                    thoughts["player_1"] += info["thoughts"]
                action = None  # finished agents must step None
            else:
                action = policies[agent](obs)
            env.step(action)
    env.close()
    result = {"outcomes_player_0": dict(outcomes), "thoughts": dict(thoughts)}
    if verbose:
        print(f"{games} games, random thinker (X) vs minimax (O): {dict(outcomes)}; thoughts: {dict(thoughts)}")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="PettingZoo AEC loop with two policies")
    parser.add_argument("--games", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.games, args.seed)
