"""Aggregate metrics of Agarwal et al. (2021), "Deep RL at the Edge of the Statistical Precipice", in numpy.

The same definitions as the ``rliable`` package, without its dependencies:

* :func:`iqm`: interquartile mean, the mean of the middle 50% of the scores (``scipy.stats.trim_mean``
  with 25% cut from each end: ``int(0.25 * n)`` scores dropped at each end).
* :func:`stratified_bootstrap_ci`: percentile confidence interval of any aggregate, resampling runs with
  replacement *within each task* (the strata), so every resample keeps the runs-per-task counts.
* :func:`probability_of_improvement`: ``P(X > Y)``, the Mann-Whitney U statistic divided by ``n*m``
  (ties count one half), averaged over tasks; with its own stratified-bootstrap CI.
* :func:`performance_profile`: the fraction of runs whose score exceeds each threshold ``tau``.

Scores are arrays of shape ``(runs, tasks)``; a 1-D array is one task. In this benchmark each condition is
one task, so stratification is over the one task and the bootstrap is the ordinary one over seeds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

Aggregate = Callable[[np.ndarray], np.ndarray]


def _as_runs_by_tasks(scores: Sequence | np.ndarray) -> np.ndarray:
    arr = np.asarray(scores, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"scores must be a non-empty (runs, tasks) array, got shape {arr.shape}")
    return arr


def iqm(scores: Sequence | np.ndarray, axis: int | None = None) -> np.ndarray | float:
    """Interquartile mean: sort, drop ``int(0.25 * n)`` values at each end, average the rest.

    With ``axis=None`` all scores are pooled (runs and tasks), as rliable does; with an axis, each
    slice along it is trimmed separately (used to vectorize the bootstrap).
    """
    arr = np.asarray(scores, dtype=float)
    if axis is None:
        arr = arr.reshape(-1)
        axis = 0
    arr = np.moveaxis(arr, axis, -1)
    n = arr.shape[-1]
    if n == 0:
        raise ValueError("iqm of no scores")
    cut = int(0.25 * n)
    trimmed = np.sort(arr, axis=-1)[..., cut:n - cut]
    result = trimmed.mean(axis=-1)
    return float(result) if np.ndim(result) == 0 else result


def mean(scores: Sequence | np.ndarray, axis: int | None = None) -> np.ndarray | float:
    arr = np.asarray(scores, dtype=float)
    if axis is None:
        return float(arr.mean())
    return arr.mean(axis=axis)


def _stratified_indices(rng: np.random.Generator, runs: int, tasks: int, reps: int) -> np.ndarray:
    """``(reps, runs, tasks)`` run indices drawn with replacement separately for each task."""
    return rng.integers(0, runs, size=(reps, runs, tasks))


def stratified_bootstrap_ci(
    scores: Sequence | np.ndarray,
    aggregate: Callable = iqm,
    reps: int = 5000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float, float]:
    """``(point, low, high)``: the aggregate of ``scores`` and its percentile stratified-bootstrap CI.

    ``aggregate(array (k, runs*tasks), axis=-1) -> (k,)`` must accept ``axis``; :func:`iqm` and
    :func:`mean` do. A single run gives a degenerate interval equal to the point.
    """
    arr = _as_runs_by_tasks(scores)
    runs, tasks = arr.shape
    point = float(aggregate(arr.reshape(-1)))
    rng = np.random.default_rng(seed)
    idx = _stratified_indices(rng, runs, tasks, reps)
    resampled = arr[idx, np.arange(tasks)[None, None, :]]  # (reps, runs, tasks)
    stats = np.asarray(aggregate(resampled.reshape(reps, runs * tasks), axis=-1), dtype=float)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return point, float(low), float(high)


def probability_of_improvement(x: Sequence | np.ndarray, y: Sequence | np.ndarray) -> float:
    """``P(X > Y)`` averaged over tasks: per task the Mann-Whitney U of x over y divided by ``n*m``.

    ``x`` is ``(n, tasks)``, ``y`` is ``(m, tasks)``; ties count one half. 0.5 means no difference.
    """
    return float(_poi_batched(_as_runs_by_tasks(x)[None], _as_runs_by_tasks(y)[None])[0])


def _poi_batched(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """POI for a batch: ``x`` (B, n, tasks), ``y`` (B, m, tasks) -> (B,)."""
    if x.shape[-1] != y.shape[-1]:
        raise ValueError(f"x and y must have the same tasks, got {x.shape[-1]} and {y.shape[-1]}")
    greater = (x[:, :, None, :] > y[:, None, :, :]).mean(axis=(1, 2))
    ties = (x[:, :, None, :] == y[:, None, :, :]).mean(axis=(1, 2))
    return (greater + 0.5 * ties).mean(axis=-1)


def probability_of_improvement_ci(
    x: Sequence | np.ndarray, y: Sequence | np.ndarray, reps: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float, float]:
    """``(poi, low, high)``: :func:`probability_of_improvement` and its stratified-bootstrap CI.

    Runs of ``x`` and of ``y`` are resampled independently, each within its tasks.
    """
    x_arr, y_arr = _as_runs_by_tasks(x), _as_runs_by_tasks(y)
    point = probability_of_improvement(x_arr, y_arr)
    rng = np.random.default_rng(seed)
    tasks = x_arr.shape[1]
    cols = np.arange(tasks)[None, None, :]
    xs = x_arr[_stratified_indices(rng, x_arr.shape[0], tasks, reps), cols]
    ys = y_arr[_stratified_indices(rng, y_arr.shape[0], tasks, reps), cols]
    stats = _poi_batched(xs, ys)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(stats, [alpha, 1.0 - alpha])
    return point, float(low), float(high)


def performance_profile(scores: Sequence | np.ndarray, taus: Sequence | np.ndarray) -> np.ndarray:
    """Fraction of runs (pooled over tasks) whose score is strictly greater than each ``tau``."""
    arr = _as_runs_by_tasks(scores).reshape(-1)
    taus = np.asarray(taus, dtype=float)
    return (arr[None, :] > taus[:, None]).mean(axis=1)


def performance_profile_ci(
    scores: Sequence | np.ndarray, taus: Sequence | np.ndarray, reps: int = 2000, confidence: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(profile, low, high)`` per tau, with a stratified-bootstrap band."""
    arr = _as_runs_by_tasks(scores)
    runs, tasks = arr.shape
    taus = np.asarray(taus, dtype=float)
    rng = np.random.default_rng(seed)
    resampled = arr[_stratified_indices(rng, runs, tasks, reps), np.arange(tasks)[None, None, :]]
    flat = resampled.reshape(reps, runs * tasks)
    profiles = (flat[:, None, :] > taus[None, :, None]).mean(axis=2)  # (reps, taus)
    alpha = (1.0 - confidence) / 2.0
    low, high = np.quantile(profiles, [alpha, 1.0 - alpha], axis=0)
    return performance_profile(arr, taus), low, high


def game_score(wins: int, draws: int, losses: int, draw_reward: float = 0.0) -> float:
    """Mean pure game return of a set of games: ``(wins - losses + draw_reward * draws) / games``."""
    games = wins + draws + losses
    if games == 0:
        raise ValueError("game_score of no games")
    return (wins - losses + draw_reward * draws) / games


def thought_utility(score_with_thoughts: float, score_thoughts_masked: float) -> float:
    """Score with thoughts allowed minus score with every thought action masked at test time."""
    return float(score_with_thoughts) - float(score_thoughts_masked)
