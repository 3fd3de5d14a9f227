"""The evaluation protocol of docs/benchmark.md: many games in lockstep, one batched forward pass per step.

The policy is deterministic and masked: in each position it plays the highest-scoring action among
those allowed (the legal ones; with ``mask_thoughts`` only the legal *moves*). Scores are the policy
logits for MaskablePPO and the mean quantiles for QR-DQN, so the choice is exactly what
``model.predict(..., deterministic=True)`` with the mask would choose.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch as th

from baselines.envs import env_settings, make_eval_env
from baselines.metrics import thought_utility
from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv
from tttthought_env.rewards import thought_is_correct
from tttthought_env.transition import OUTCOMES

Scorer = Callable[[np.ndarray, np.ndarray], np.ndarray]

#: The three evaluation opponents: name -> (opponent, opponent_epsilon), ``None`` = the training opponent.
EVAL_OPPONENTS: dict[str, tuple[str, float] | None] = {
    "random": ("random", 0.0),
    "minimax": ("minimax", 0.0),
    "training": None,
}


def make_scorer(model: Any) -> Scorer:
    """``scorer(obs, legal_mask) -> (B, A)`` action scores of a trained SB3 model (higher = preferred).

    ``obs`` is the (B, obs_size) batch of observation vectors; dict-observation models get the mask
    too. Works for MaskablePPO (logits) and QR-DQN / MaskedQRDQN (mean over quantiles).
    """
    policy = model.policy
    policy.set_training_mode(False)
    is_dict = hasattr(model.observation_space, "spaces")
    is_ppo = hasattr(policy, "get_distribution")

    def scorer(obs: np.ndarray, mask: np.ndarray) -> np.ndarray:
        batch: Any = {"observation": obs, "action_mask": mask.astype(np.int8)} if is_dict else obs
        tensor, _ = policy.obs_to_tensor(batch)
        with th.no_grad():
            if is_ppo:
                scores = policy.get_distribution(tensor).distribution.logits
            else:
                scores = model.quantile_net(tensor).mean(dim=1)
        return scores.cpu().numpy()

    return scorer


def _solver_for(env: ThoughtTicTacToeEnv) -> Any:
    """The exact solver of the env's board, or ``None`` where it has none (then thoughts are not judged)."""
    cfg = env.config
    try:
        from tttthought_env.solver import get_solver

        return get_solver(cfg.rows, cfg.cols, cfg.k)
    except (ValueError, TypeError):  # boards the solver cannot solve (SolverLimitError): not judged
        return None


def judge_thought(channel: str, arg: int, optimal_bits: int, holds_positive: bool) -> bool | None:
    """Whether a thought about to be taken is correct (:func:`tttthought_env.rewards.thought_is_correct`).

    ``optimal_bits``: the solver's optimal moves of the position; ``holds_positive``: whether the thinker's
    store holds ``+arg`` (so that ``forget arg`` removes it). ``None`` for markers, which are never judged.
    """
    if channel == "marker":
        return None
    asserts_absent = channel == "negate" or (channel == "forget" and holds_positive)
    return bool(thought_is_correct(optimal_bits, 1 << arg, asserts_absent))


def _judge(env: ThoughtTicTacToeEnv, solver: Any, action: int) -> bool | None:
    """:func:`judge_thought` of the learner's thought ``action`` in ``env``'s current position."""
    channel, arg = env.decode_action(action)
    game = env.game
    optimal = solver.optimal_bits_from_marks(game.marks[0], game.marks[1])
    return judge_thought(channel, arg, optimal, bool(game.pos[env.agent] >> arg & 1))


def _vector(obs: Any) -> np.ndarray:
    """The observation vector of a flat or dict observation."""
    return obs["observation"] if isinstance(obs, dict) else obs


def _choose(scorer: Scorer, obs: np.ndarray, legal: np.ndarray, n: int, mask_thoughts: bool,
            tallies: dict[str, float]) -> list[int]:
    """The policy's actions: the best-scoring allowed one per game (moves only with ``mask_thoughts``)."""
    scores = scorer(obs, legal)
    tallies["decisions"] += len(obs)
    tallies["illegal_greedy"] += int((~legal[np.arange(len(obs)), scores.argmax(axis=1)]).sum())
    allowed = legal.copy()
    if mask_thoughts:
        allowed[:, n:] = False
    return np.where(allowed, scores, -np.inf).argmax(axis=1).tolist()


def _count_action(tallies: dict[str, float], env: ThoughtTicTacToeEnv, solver: Any, action: int) -> None:
    """Count a move or a thought (judged when there is a solver), before it is taken."""
    if action < env.layout.n_cells:
        tallies["moves"] += 1
        return
    tallies["thoughts"] += 1
    verdict = None if solver is None else _judge(env, solver, action)
    if verdict is not None:
        tallies["judged"] += 1
        tallies["correct"] += int(verdict)


def _step(env: ThoughtTicTacToeEnv, solver: Any, action: int,
          tallies: dict[str, float]) -> tuple[np.ndarray, float, dict[str, Any] | None]:
    """Count and take the learner's action: (next observation vector, game reward, the info if the game ended)."""
    _count_action(tallies, env, solver, action)
    next_obs, _, terminated, truncated, info = env.step(action)
    tallies["illegal_actions"] += int(bool(info.get("illegal_action", False)))
    return _vector(next_obs), info["reward_game"], info if terminated or truncated else None


def _count_outcome(tallies: dict[str, float], info: dict[str, Any], game_return: float) -> None:
    outcome = OUTCOMES[info["outcome"]]
    tallies["games"] += 1
    tallies["wins"] += outcome == "win"
    tallies["draws"] += outcome == "draw"
    tallies["losses"] += outcome == "loss"
    tallies["game_return"] += game_return


def _start_envs(task: str, settings: dict[str, Any], count: int,
                seed: int) -> tuple[list[ThoughtTicTacToeEnv], list[np.ndarray]]:
    """``count`` eval envs reset with seeds ``seed, seed + 1, ...``, and their first observation vectors."""
    envs = [make_eval_env(task, settings) for _ in range(count)]
    return envs, [_vector(env.reset(seed=seed + i)[0]) for i, env in enumerate(envs)]


def play_games(
    scorer: Scorer,
    task: str,
    env_config: dict[str, Any],
    *,
    side: str,
    n_games: int,
    seed: int,
    opponent: Any,
    opponent_epsilon: float,
    mask_thoughts: bool = False,
    parallel: int = 250,
) -> dict[str, float]:
    """Play ``n_games`` games as ``side`` ("X" or "O") in lockstep and return the raw tallies."""
    tallies: dict[str, float] = {"games": 0, "wins": 0, "draws": 0, "losses": 0, "game_return": 0.0, "moves": 0,
                                 "thoughts": 0, "judged": 0, "correct": 0, "decisions": 0, "illegal_greedy": 0,
                                 "illegal_actions": 0}
    if n_games <= 0:
        return tallies
    overrides = {"agent_player": side, "opponent": opponent, "opponent_epsilon": opponent_epsilon, "shaping": None,
                 "illegal_action": "lose", "render_mode": None}
    envs, obs = _start_envs(task, {**env_config, **overrides}, min(n_games, parallel), seed)
    n = envs[0].layout.n_cells
    solver = _solver_for(envs[0]) if envs[0].config.thinking else None
    returns = [0.0] * len(envs)
    started = len(envs)
    active = list(range(len(envs)))
    while active:
        actions = _choose(scorer, np.stack([obs[i] for i in active]), np.stack([envs[i].action_masks() for i in active]),
                          n, mask_thoughts, tallies)
        still = []
        for i, action in zip(active, actions):
            obs[i], reward, ended = _step(envs[i], solver, action, tallies)
            returns[i] += reward
            if ended is not None:
                _count_outcome(tallies, ended, returns[i])
                returns[i] = 0.0
                if started >= n_games:
                    continue
                obs[i] = _vector(envs[i].reset()[0])
                started += 1
            still.append(i)
        active = still
    return tallies


def summarize(tallies: dict[str, float]) -> dict[str, Any]:
    """Rates from tallies: win/draw/loss, draw_or_better, score (mean pure game return), thoughts per move, ..."""
    games = max(tallies["games"], 1)
    return {
        "games": int(tallies["games"]),
        "win": tallies["wins"] / games,
        "draw": tallies["draws"] / games,
        "loss": tallies["losses"] / games,
        "draw_or_better": (tallies["wins"] + tallies["draws"]) / games,
        "score": tallies["game_return"] / games,
        "thoughts_per_move": tallies["thoughts"] / max(tallies["moves"], 1),
        "thoughts_per_game": tallies["thoughts"] / games,
        "correct_thought_fraction": tallies["correct"] / tallies["judged"] if tallies["judged"] else None,
        "judged_thoughts": int(tallies["judged"]),
        "illegal_greedy_rate": tallies["illegal_greedy"] / max(tallies["decisions"], 1),
        "illegal_actions": int(tallies["illegal_actions"]),
    }


def sides_for(env_config: dict[str, Any], task: str, n_games: int) -> list[tuple[str, int]]:
    """``[(side, games)]``: half as X and half as O, unless the config fixes the learner's side."""
    fixed = env_settings(task, env_config).get("agent_player", "X")
    if fixed in ("X", "O"):
        return [(fixed, n_games)]
    return [("X", (n_games + 1) // 2), ("O", n_games // 2)]


def evaluate_against(scorer: Scorer, task: str, env_config: dict[str, Any], opponent_name: str, n_games: int,
                     seed: int, mask_thoughts: bool = False) -> dict[str, Any]:
    """Protocol games against one opponent (``"random"``, ``"minimax"`` or ``"training"``), summarized."""
    spec = EVAL_OPPONENTS[opponent_name]
    if spec is None:
        settings = env_settings(task, env_config)
        opponent, epsilon = settings.get("opponent", "random"), settings.get("opponent_epsilon", 0.0)
    else:
        opponent, epsilon = spec
    total: dict[str, float] = {}
    for k, (side, games) in enumerate(sides_for(env_config, task, n_games)):
        part = play_games(scorer, task, env_config, side=side, n_games=games, seed=seed + 100_000 * k,
                          opponent=opponent, opponent_epsilon=epsilon, mask_thoughts=mask_thoughts)
        total = {key: total.get(key, 0) + value for key, value in part.items()}
    return summarize(total)


def evaluate_protocol(scorer: Scorer, task: str, env_config: dict[str, Any], n_games: int = 1000,
                      seed: int = 0, opponents: tuple[str, ...] = ("random", "minimax", "training")) -> dict:
    """The full protocol: ``n_games`` against each opponent with thoughts allowed and with thoughts masked.

    Both modes replay the same seeds (common random numbers), so ``thought_utility`` = score with
    thoughts minus score without is a paired difference. On a task without thought actions the
    utility is exactly 0 and the masked games are not played.
    """
    thinking = make_eval_env(task, env_config).config.thinking
    out: dict[str, Any] = {"games_per_opponent": n_games, "thinking": thinking}
    for index, name in enumerate(opponents):
        game_seed = 1_000_003 * (seed + 1) + 10_007 * index
        with_thoughts = evaluate_against(scorer, task, env_config, name, n_games, game_seed)
        out[f"vs_{name}"] = with_thoughts
        if thinking:
            without = evaluate_against(scorer, task, env_config, name, n_games, game_seed, mask_thoughts=True)
            out[f"vs_{name}_thoughts_masked"] = without
            out[f"thought_utility_{name}"] = thought_utility(with_thoughts["score"], without["score"])
        else:
            out[f"thought_utility_{name}"] = 0.0
    return out
