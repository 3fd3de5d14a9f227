"""Environments for training (an SB3 VecEnv) and for evaluation (plain env objects played in lockstep)."""

from __future__ import annotations

from typing import Any

import gymnasium

import tttthought_env  # noqa: F401  (registers the ids)
from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv

VEC_MODES: tuple[str, ...] = ("auto", "batched", "single")


def env_settings(task: str, config: dict[str, Any]) -> dict[str, Any]:
    """The full keyword arguments of ``task`` (its registered settings) with ``config`` on top."""
    return {**gymnasium.spec(task).kwargs, **config}


def batched_vec_env_available() -> bool:
    """Whether the batched vector env ``tttthought_env.vector`` (with its SB3 adapter) can be imported."""
    try:
        from tttthought_env.vector import SB3VecEnv, make_vector_env  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


def _batched_env(task: str, n_envs: int, config: dict[str, Any], strict: bool) -> Any:
    """The batched vector env's SB3 adapter, or None for settings it cannot batch (an error if ``strict``)."""
    from tttthought_env.vector import SB3VecEnv, ThoughtVectorEnv

    settings = {key: value for key, value in env_settings(task, config).items() if key != "render_mode"}
    try:
        return SB3VecEnv(ThoughtVectorEnv(n_envs, **settings))
    except (ValueError, ImportError):  # settings it cannot batch, or a backend that is not installed
        if strict:
            raise
        return None


def make_train_env(task: str, n_envs: int, config: dict[str, Any], seed: int, vec: str = "auto",
                   opponent_mix: list[dict[str, Any]] | None = None):
    """An SB3 ``VecEnv`` of ``n_envs`` games of ``task`` with ``config`` on top of its registered settings.

    With ``opponent_mix`` (see :mod:`baselines.opponent_mix`) the games are split among the mix's members,
    each member's games played against its own opponent (``opponent``/``opponent_epsilon`` of ``config``
    replaced), all in one :class:`~baselines.opponent_mix.ConcatVecEnv`; game ``i`` still gets seed ``seed + i``.
    """
    if opponent_mix is None:
        return _train_env(task, n_envs, config, seed, vec)
    from baselines.opponent_mix import ConcatVecEnv, mix_counts

    members, start = [], 0
    for opponent, epsilon, games in mix_counts(opponent_mix, n_envs):
        members.append(_train_env(task, games, {**config, "opponent": opponent, "opponent_epsilon": epsilon},
                                  seed + start, vec))
        start += games
    env = ConcatVecEnv(members)
    env.seed(seed)
    return env


def _train_env(task: str, n_envs: int, config: dict[str, Any], seed: int, vec: str = "auto"):
    """:func:`make_train_env` against the single opponent of ``config``.

    ``vec="batched"`` uses the batched vector env's SB3 adapter (``tttthought_env.vector.SB3VecEnv``: all
    games stepped as arrays, no Python loop per game), ``"single"`` SB3's ``DummyVecEnv`` of single
    Gymnasium envs (each in a ``Monitor``), and ``"auto"`` the batched one when it is importable and
    supports the settings (it has no callable shaping), else the single envs. Both play the same games.
    """
    if vec not in VEC_MODES:
        raise ValueError(f"vec must be one of {VEC_MODES}, got {vec!r}")
    if vec == "batched" and not batched_vec_env_available():
        raise ImportError("vec='batched' needs tttthought_env.vector with its SB3 adapter; use vec='single'")
    if vec in ("auto", "batched") and batched_vec_env_available():
        env = _batched_env(task, n_envs, config, strict=vec == "batched")
        if env is not None:
            env.seed(seed)
            return env
    from stable_baselines3.common.env_util import make_vec_env

    return make_vec_env(task, n_envs=n_envs, seed=seed, env_kwargs=dict(config))


def make_eval_env(task: str, config: dict[str, Any], **overrides: Any) -> ThoughtTicTacToeEnv:
    """One unwrapped env of ``task`` for evaluation: ``config`` then ``overrides`` on the registered settings."""
    return ThoughtTicTacToeEnv(**{**env_settings(task, config), **overrides})
