"""Self-play through PettingZoo with frozen opponent snapshots, from the right player's point of view.

:class:`SelfPlayEnv` gives the learner one seat of the PettingZoo AEC env, X or O at random each game;
a frozen snapshot of an earlier learner takes the other seat and acts (thinks, moves) on its own
observations. Every ``snapshot_every`` learner steps a new snapshot joins the opponent pool.

What makes it learn: each transition the learner sees pairs *its own* observation
(``env.observe(learner)``) with *its own* reward (the sum of ``env.rewards[learner]`` over its action
and the opponent's replies, so a loss on the opponent's move is the learner's ``-1``). PettingZoo's
SB3 self-play tutorial steps one shared model through the AEC loop and pairs the reward of one player
with the observation of the other; tic-tac-toe does not learn that way.

``SelfPlayEnv`` is a plain Gymnasium env with ``action_masks()``, so any single-agent learner plugs in.
Two are included: tabular Q-learning (``--learner q``, the default: about 0.14 -> 0.9 draw-or-better
against minimax in half a minute on Plain-v0) and sb3-contrib MaskablePPO (``--learner ppo``, which
needs a far larger self-play budget on tic-tac-toe).

    python examples/selfplay.py                        # 300k learner steps on Plain-v0 settings
    python examples/selfplay.py --learner ppo --timesteps 1000000
    python examples/selfplay.py --task Full-v0         # thinking players
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import gymnasium as gym
import numpy as np

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env import OUTCOMES
from tttthought_env.opponents import MinimaxOpponent
from tttthought_env.pettingzoo_env import AGENTS, raw_env
from tttthought_env.registration import TASKS


class NumpyPolicy:
    """A frozen copy of a MaskablePPO MLP policy, run in numpy (fast, and unaffected by later training)."""

    def __init__(self, model: Any = None, n_obs: int = 0, n_actions: int = 0) -> None:
        self.layers: list[tuple[np.ndarray, np.ndarray]] = []
        if model is not None:
            policy = model.policy
            linears = [m for m in policy.mlp_extractor.policy_net if hasattr(m, "weight")]
            linears.append(policy.action_net)
            self.layers = [(m.weight.detach().cpu().numpy().T.copy(), m.bias.detach().cpu().numpy().copy())
                           for m in linears]

    def logits(self, obs: np.ndarray) -> np.ndarray:
        if not self.layers:  # no snapshot yet: uniform over the legal actions
            return np.zeros(obs.shape[:-1] + (0,), np.float32)
        h = obs
        for weight, bias in self.layers[:-1]:
            h = np.tanh(h @ weight + bias)
        weight, bias = self.layers[-1]
        return h @ weight + bias

    def act(self, obs: np.ndarray, mask: np.ndarray, rng: np.random.Generator, greedy: bool = False) -> int:
        logits = self.logits(obs)
        legal = np.flatnonzero(mask)
        if logits.size == 0:
            return int(rng.choice(legal))
        scores = logits[legal]
        if greedy:
            return int(legal[np.argmax(scores)])
        p = np.exp(scores - scores.max())
        return int(rng.choice(legal, p=p / p.sum()))


class OpponentPool:
    """The frozen snapshots the learner plays against: the newest ``size``, one drawn per game."""

    def __init__(self, size: int = 5, greedy: float = 0.5, epsilon: float = 0.0) -> None:
        self.size = size
        self.greedy = greedy  # probability that a game's opponent plays its best action instead of sampling
        self.epsilon = epsilon  # probability of a uniformly random legal action instead of the snapshot's
        self.snapshots: list[NumpyPolicy] = [NumpyPolicy()]  # start: a uniformly random player

    def add(self, model: Any) -> None:
        self.snapshots.append(NumpyPolicy(model))
        del self.snapshots[:-self.size]

    def draw(self, rng: np.random.Generator) -> NumpyPolicy:
        # Half the games against the newest snapshot, the rest spread over the older ones.
        if len(self.snapshots) == 1 or rng.random() < 0.5:
            return self.snapshots[-1]
        return self.snapshots[int(rng.integers(len(self.snapshots) - 1))]


class SelfPlayEnv(gym.Env):
    """One seat of the PettingZoo AEC env as a Gymnasium env; a snapshot from the pool plays the other seat.

    Observations, masks and rewards are always the learner's own: ``observe(learner)``,
    ``action_masks(learner)``, and ``rewards[learner]`` summed over the learner's action and every
    opponent step until the learner is to act again (or the game ends).
    """

    def __init__(self, pool: OpponentPool, settings: dict[str, Any]) -> None:
        self.aec = raw_env(**settings, obs_mode="flat")
        self.pool = pool
        # The learner's spaces are those of its AEC agent (both agents have the same).
        self.observation_space = self.aec.observation_space(AGENTS[0])
        self.action_space = self.aec.action_space(AGENTS[0])
        self.learner = AGENTS[0]
        self.opponent: NumpyPolicy = pool.snapshots[-1]
        self.opponent_greedy = False

    def action_masks(self) -> np.ndarray:
        return self.aec.action_masks(self.learner)

    def _opponent_turns(self) -> float:
        """Let the opponent act until the learner is to act; return the learner's reward meanwhile."""
        aec, reward = self.aec, 0.0
        while not aec.terminations[self.learner] and aec.agent_selection != self.learner:
            other = aec.agent_selection
            mask = aec.action_masks(other)
            if self.np_random.random() < self.pool.epsilon:
                action = int(self.np_random.choice(np.flatnonzero(mask)))
            else:
                action = self.opponent.act(aec.observe(other), mask, self.np_random, greedy=self.opponent_greedy)
            aec.step(action)
            reward += aec.rewards[self.learner]  # the learner's point of view, e.g. -1 when the opponent wins
        return reward

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.aec.reset(seed=None if seed is None else seed)
        self.learner = AGENTS[int(self.np_random.integers(2))]
        self.opponent = self.pool.draw(self.np_random)
        self.opponent_greedy = bool(self.np_random.random() < self.pool.greedy)
        self._opponent_turns()  # the opponent opens when the learner plays O
        return self.aec.observe(self.learner), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        aec = self.aec
        aec.step(int(action))
        reward = aec.rewards[self.learner]
        reward += self._opponent_turns()
        terminated = aec.terminations[self.learner]
        info = dict(aec.infos[self.learner])  # the one info shape: outcome is -1 until the game ends
        return aec.observe(self.learner), float(reward), terminated, False, info


def evaluate_vs_minimax(policy: NumpyPolicy, settings: dict[str, Any], games: int = 200, seed: int = 0) -> dict:
    """Greedy masked play against perfect minimax, half the games as X and half as O."""
    rng = np.random.default_rng(seed)
    env = raw_env(**settings, obs_mode="flat")
    minimax = MinimaxOpponent(env.config.rows, env.config.cols, env.config.k)
    tally = {"win": 0, "draw": 0, "loss": 0}
    for game_index in range(games):
        me = AGENTS[game_index % 2]
        env.reset(seed=seed + game_index)
        while not env.terminations[me]:
            agent = env.agent_selection
            if agent == me:
                action = policy.act(env.observe(agent), env.action_masks(agent), rng, greedy=True)
            else:
                action = minimax(env.game.board, rng)
            env.step(action)
        tally[OUTCOMES[env.infos[me]["outcome"]]] += 1
    out = {key: value / games for key, value in tally.items()}
    out["draw_or_better"] = out["win"] + out["draw"]
    return out


class TabularQ:
    """Q-learning with a table keyed by the learner's own observation: fast on tic-tac-toe, no library needed.

    :meth:`frozen` returns a copy that no longer learns: the snapshot the learner later plays against.
    """

    def __init__(self, alpha: float = 0.2, epsilon: float = 0.2) -> None:
        self.alpha, self.epsilon = alpha, epsilon
        self.q: dict[bytes, np.ndarray] = {}

    def values(self, obs: np.ndarray, n_actions: int) -> np.ndarray:
        key = obs.tobytes()
        q = self.q.get(key)
        if q is None:
            q = self.q[key] = np.zeros(n_actions)
        return q

    def act(self, obs: np.ndarray, mask: np.ndarray, rng: np.random.Generator, greedy: bool = False) -> int:
        legal = np.flatnonzero(mask)
        q = self.q.get(obs.tobytes())
        if q is None or (not greedy and rng.random() < self.epsilon):
            return int(rng.choice(legal))
        scores = q[legal]
        return int(rng.choice(legal[scores == scores.max()]))  # ties broken at random

    def update(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray, next_mask: np.ndarray,
               done: bool) -> None:
        q = self.values(obs, len(next_mask))
        target = reward if done else reward + self.values(next_obs, len(next_mask))[next_mask].max()
        q[action] += self.alpha * (target - q[action])

    def frozen(self) -> TabularQ:
        copy = TabularQ(self.alpha, 0.0)
        copy.q = {key: value.copy() for key, value in self.q.items()}
        return copy


def train_tabular(total_timesteps: int, settings: dict[str, Any], snapshot_every: int, seed: int) -> TabularQ:
    """Self-play Q-learning: the learner's own transitions, against snapshots of itself."""
    pool = OpponentPool(size=5, greedy=1.0, epsilon=0.1)
    env = SelfPlayEnv(pool, settings)
    learner = TabularQ()
    rng = np.random.default_rng(seed)
    obs, _ = env.reset(seed=seed)
    for step in range(1, total_timesteps + 1):
        mask = env.action_masks()
        action = learner.act(obs, mask, rng)
        next_obs, reward, terminated, truncated, _ = env.step(action)
        learner.update(obs, action, reward, next_obs, env.action_masks(), terminated)
        obs = env.reset()[0] if terminated or truncated else next_obs
        if step % snapshot_every == 0:
            pool.snapshots.append(learner.frozen())  # a frozen copy joins the opponents
            del pool.snapshots[:-pool.size]
    return learner


def train_ppo(total_timesteps: int, settings: dict[str, Any], snapshot_every: int, seed: int, n_envs: int = 16):
    """Self-play with sb3-contrib MaskablePPO on :class:`SelfPlayEnv` (any single-agent library plugs in the same way)."""
    import torch as th
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import DummyVecEnv

    th.set_num_threads(1)
    pool = OpponentPool(size=5, greedy=0.5, epsilon=0.2)
    vec_env = DummyVecEnv([lambda: SelfPlayEnv(pool, settings) for _ in range(n_envs)])
    vec_env.seed(seed)
    model = MaskablePPO("MlpPolicy", vec_env, n_steps=128, batch_size=512, n_epochs=4, learning_rate=1e-3,
                        ent_coef=0.01, seed=seed, verbose=0)

    class Snapshot(BaseCallback):
        def __init__(self) -> None:
            super().__init__()
            self.next = snapshot_every

        def _on_step(self) -> bool:
            if self.num_timesteps >= self.next:
                pool.add(self.model)  # freeze a copy of the learner as a future opponent
                self.next += snapshot_every
            return True

    model.learn(total_timesteps, callback=Snapshot())
    return model


def main(total_timesteps: int = 300_000, task: str = "tttthought/Plain-v0", learner: str = "q",
         snapshot_every: int = 2_000, eval_games: int = 200, seed: int = 0, verbose: bool = True) -> dict:
    """Train by self-play; return draw-or-better against minimax before and after, and the timings.

    ``learner="q"``: tabular Q-learning (reaches most of the way to perfect play in about a minute on
    Plain-v0). ``learner="ppo"``: MaskablePPO; it plugs into the same env, but self-play with PPO on
    tic-tac-toe needs a far larger budget than the tabular learner (in 300k steps it learned to beat
    random players, not yet to hold minimax).
    """
    settings = dict(TASKS[task if "/" in task else f"tttthought/{task}"])
    if learner not in ("q", "ppo"):
        raise ValueError(f"learner must be 'q' or 'ppo', got {learner!r}")
    untrained = TabularQ() if learner == "q" else NumpyPolicy()
    before = evaluate_vs_minimax(untrained, settings, eval_games, seed=10_000)
    began = time.perf_counter()
    if learner == "q":
        policy = train_tabular(total_timesteps, settings, snapshot_every, seed)
        model = policy
    else:
        model = train_ppo(total_timesteps, settings, snapshot_every, seed)
        policy = NumpyPolicy(model)
    seconds = time.perf_counter() - began
    after = evaluate_vs_minimax(policy, settings, eval_games, seed=10_000)
    result = {"before": before, "after": after, "train_seconds": seconds, "timesteps": total_timesteps,
              "model": model}
    if verbose:
        print(f"self-play ({learner}) on {task}: {total_timesteps} learner steps in {seconds:.0f} s")
        print(f"draw-or-better against minimax: {before['draw_or_better']:.2f} before, "
              f"{after['draw_or_better']:.2f} after ({eval_games} greedy games, half as X, half as O)")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timesteps", type=int, default=300_000)
    parser.add_argument("--learner", default="q", choices=("q", "ppo"))
    parser.add_argument("--task", default="tttthought/Plain-v0")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(total_timesteps=args.timesteps, task=args.task, learner=args.learner, seed=args.seed)
