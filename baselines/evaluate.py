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

    def scorer(obs: Any, mask: np.ndarray) -> np.ndarray:
        # A token observation is already a dict (with its mask); a dict-observation model gets the vector and mask.
        batch: Any = obs if isinstance(obs, dict) else (
            {"observation": obs, "action_mask": mask.astype(np.int8)} if is_dict else obs)
        tensor, _ = policy.obs_to_tensor(batch)
        with th.no_grad():
            if is_ppo:
                scores = policy.get_distribution(tensor).distribution.logits
            else:
                scores = model.quantile_net(tensor).mean(dim=1)
        return scores.cpu().numpy()

    scorer.is_policy = is_ppo  # type: ignore[attr-defined]  (scores are logits: _thought_mass reads them as such)
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

    ``optimal_bits``: the propositions that are true: the solver's optimal moves of the position (the oracle's
    judgement), or the cells the thinker's opponent holds (the world's); ``holds_positive``: whether the
    thinker's store holds ``+arg`` (so that ``forget arg`` removes it). ``None`` for markers, never judged.
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


def _vector(obs: Any) -> Any:
    """What the scorer reads of an observation: the vector of a flat or dict observation, or the whole token dict."""
    return obs["observation"] if isinstance(obs, dict) and "observation" in obs else obs


def _stack(observations: list[Any]) -> Any:
    """A batch of observations: one array, or for token dicts one array per key."""
    if isinstance(observations[0], dict):
        return {key: np.stack([o[key] for o in observations]) for key in observations[0]}
    return np.stack(observations)


def _thought_mass(scores: np.ndarray, legal: np.ndarray, n: int, is_policy: bool) -> float:
    """Summed over the batch: the policy's probability of a thought (softmax of the legal logits), or for a
    value-based learner, whose greedy policy puts all its mass on one action, whether that action is a thought."""
    masked = np.where(legal, scores, -np.inf)
    if not is_policy:
        return float((masked.argmax(axis=1) >= n).sum())
    shifted = np.exp(masked - masked.max(axis=1, keepdims=True))
    return float((shifted[:, n:].sum(axis=1) / shifted.sum(axis=1)).sum())


def _choose(scorer: Scorer, obs: Any, legal: np.ndarray, n: int, mask_thoughts: bool,
            tallies: dict[str, float]) -> list[int]:
    """The policy's actions: the best-scoring allowed one per game (moves only with ``mask_thoughts``)."""
    scores = scorer(obs, legal)
    tallies["decisions"] += len(legal)
    tallies["thought_mass"] += _thought_mass(scores, legal, n, getattr(scorer, "is_policy", False))
    tallies["illegal_greedy"] += int((~legal[np.arange(len(legal)), scores.argmax(axis=1)]).sum())
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
    channel, arg = env.decode_action(action)
    if channel != "marker":  # the world's judgement: is the proposition true of the board (no solver needed)?
        game = env.game
        tallies["world_judged"] += 1
        tallies["world_true"] += int(bool(judge_thought(channel, arg, game.marks[1 - env.agent],
                                                        bool(game.pos[env.agent] >> arg & 1))))
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
                                 "illegal_actions": 0, "thought_mass": 0.0, "world_judged": 0, "world_true": 0}
    if n_games <= 0:
        return tallies
    overrides = {"agent_player": side, "opponent": opponent, "opponent_epsilon": opponent_epsilon, "shaping": None,
                 "illegal_action": "lose", "render_mode": None}
    if mask_thoughts:  # with every thought masked, forced thinking (min_thoughts) would leave no legal action
        overrides["min_thoughts"] = 0
    envs, obs = _start_envs(task, {**env_config, **overrides}, min(n_games, parallel), seed)
    n = envs[0].layout.n_cells
    solver = _solver_for(envs[0]) if envs[0].config.thinking else None
    returns = [0.0] * len(envs)
    started = len(envs)
    active = list(range(len(envs)))
    while active:
        actions = _choose(scorer, _stack([obs[i] for i in active]), np.stack([envs[i].action_masks() for i in active]),
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
        # The world's judgement (docs/shaping.md, "world"): the thought is true of the board the thinker faces.
        "true_thought_fraction": tallies["world_true"] / tallies["world_judged"] if tallies["world_judged"] else None,
        "thought_mass": tallies["thought_mass"] / max(tallies["decisions"], 1),
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


def opponent_games(task: str, env_config: dict[str, Any], opponent_name: str, n_games: int,
                   training_mix: list[dict[str, Any]] | None = None) -> list[tuple[str, float, int]]:
    """``[(opponent, epsilon, games)]`` of ``n_games`` protocol games against one named opponent.

    ``"training"`` is the run's training opponent: the env settings' one, or, for a run trained against an
    opponent mix (``training_mix``, :mod:`baselines.opponent_mix`), every member of the mix, each in its
    share of the games (so the rate is the mix's, stratified by member).
    """
    if opponent_name not in EVAL_OPPONENTS:
        raise ValueError(f"opponent_name must be one of {tuple(EVAL_OPPONENTS)}, got {opponent_name!r}")
    spec = EVAL_OPPONENTS[opponent_name]
    if spec is not None:
        return [(spec[0], spec[1], n_games)]
    if training_mix:
        from baselines.opponent_mix import split_games

        return [part for part in split_games(training_mix, n_games) if part[2] > 0]
    settings = env_settings(task, env_config)
    return [(settings.get("opponent", "random"), settings.get("opponent_epsilon", 0.0), n_games)]


def evaluate_against(scorer: Scorer, task: str, env_config: dict[str, Any], opponent_name: str, n_games: int,
                     seed: int, mask_thoughts: bool = False,
                     training_mix: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Protocol games against one opponent (``"random"``, ``"minimax"`` or ``"training"``), summarized."""
    total: dict[str, float] = {}
    for m, (opponent, epsilon, member_games) in enumerate(
            opponent_games(task, env_config, opponent_name, n_games, training_mix)):
        for k, (side, games) in enumerate(sides_for(env_config, task, member_games)):
            part = play_games(scorer, task, env_config, side=side, n_games=games,
                              seed=seed + 100_000 * k + 1_000_000 * m, opponent=opponent, opponent_epsilon=epsilon,
                              mask_thoughts=mask_thoughts)
            total = {key: total.get(key, 0) + value for key, value in part.items()}
    return summarize(total)


def evaluate_protocol(scorer: Scorer, task: str, env_config: dict[str, Any], n_games: int = 1000,
                      seed: int = 0, opponents: tuple[str, ...] = ("random", "minimax", "training"),
                      training_mix: list[dict[str, Any]] | None = None) -> dict:
    """The full protocol: ``n_games`` against each opponent with thoughts allowed and with thoughts masked.

    ``training_mix``: the opponent mix the run trained against, if any (the ``"training"`` opponent then).

    Both modes replay the same seeds (common random numbers), so ``thought_utility`` = score with
    thoughts minus score without is a paired difference. On a task without thought actions the
    utility is exactly 0 and the masked games are not played.
    """
    thinking = make_eval_env(task, env_config).config.thinking
    out: dict[str, Any] = {"games_per_opponent": n_games, "thinking": thinking}
    for index, name in enumerate(opponents):
        game_seed = 1_000_003 * (seed + 1) + 10_007 * index
        with_thoughts = evaluate_against(scorer, task, env_config, name, n_games, game_seed, training_mix=training_mix)
        out[f"vs_{name}"] = with_thoughts
        if thinking:
            without = evaluate_against(scorer, task, env_config, name, n_games, game_seed, mask_thoughts=True,
                                       training_mix=training_mix)
            out[f"vs_{name}_thoughts_masked"] = without
            out[f"thought_utility_{name}"] = thought_utility(with_thoughts["score"], without["score"])
        else:
            out[f"thought_utility_{name}"] = 0.0
    return out
