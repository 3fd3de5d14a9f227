"""Fair budgets and why thoughts die: results at equal steps, equal moves and equal wall-clock, the minimum
detectable effect of the seeds, and the thought-collapse figure.

A run's learning curve records, at each point, the environment steps, the learner's board moves (thoughts are
steps but not moves), the training seconds, the draw-or-better rate against minimax and the thought
diagnostics. "At equal moves" reads every run of a view at the largest move count that every run of the
view reached (so a thinking run is read at the end of its training and a plain run earlier); "at equal
wall-clock" likewise with training seconds, which depend on the machine (the report names the machines).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from baselines.config import PROTOCOL_SEEDS
from baselines.report.records import (
    algo_name,
    CI,
    Cell,
    finite,
    fmt_ci,
    get,
    iqm_interval,
    MIN_RUNS_FOR_CI,
    ordered_cells,
)

Groups = dict[Cell, list[dict]]

#: The budget axes: curve key, how the tables name it.
AXES: dict[str, str] = {"step": "environment steps", "moves": "board moves", "train_seconds": "training seconds"}
#: A two-sided test at 5% with 80% power: the minimum detectable effect is this many standard errors.
Z_ALPHA, Z_POWER = 1.959964, 0.841621


def curve_value(record: dict, axis: str, budget: float, key: str = "draw_or_better") -> float | None:
    """``key`` at the last curve point whose ``axis`` value is at most ``budget`` (None before the first)."""
    value = None
    for point in record.get("curve") or []:
        if axis in point and finite(point[axis]) and point[axis] <= budget and finite(point.get(key)):
            value = float(point[key])
    return value


def common_budget(runs: list[dict], axis: str) -> float | None:
    """The largest ``axis`` value every run reached (the smallest of the runs' last curve points)."""
    ends = [run["curve"][-1].get(axis) for run in runs if run.get("curve")]
    ends = [float(e) for e in ends if finite(e)]
    return min(ends) if ends and len(ends) == len(runs) else None


def minimum_detectable_effect(scores: np.ndarray, seeds: int) -> float | None:
    """The smallest difference in means that ``seeds`` runs per arm detect (two-sided 5%, 80% power), from the
    seed-to-seed standard deviation of ``scores`` (normal approximation: ``(z_a + z_b) * sd * sqrt(2 / n)``)."""
    scores = np.asarray(scores, dtype=float)
    if scores.size < 2 or seeds < 2:
        return None
    return float((Z_ALPHA + Z_POWER) * scores.std(ddof=1) * np.sqrt(2.0 / seeds))


def at_budget(groups: Groups, keys: list[Cell], axis: str) -> tuple[float | None, dict[Cell, CI | None]]:
    """The common budget of ``keys``' runs on ``axis`` and each cell's IQM interval of draw-or-better there."""
    runs = [run for key in keys for run in groups[key]]
    budget = common_budget(runs, axis)
    out: dict[Cell, CI | None] = {}
    for key in keys:
        scores = [curve_value(run, axis, budget) for run in groups[key]] if budget is not None else []
        data = np.array([s for s in scores if s is not None], dtype=float)
        out[key] = iqm_interval(data, reps=2000)
    return budget, out


def budgets_table(groups: Groups, keys: list[Cell], view: str) -> list[str]:
    """Draw-or-better vs minimax (curve games) of each cell at equal steps, moves and wall-clock, one table per
    algorithm (each algorithm has its own budget)."""
    lines = [f"### Fair budgets ({view} view)", "",
             "Draw-or-better against minimax on the learning curve (100 games per point), IQM over seeds with its "
             "95% CI, read at a budget every run of the algorithm in this view reached on each axis. Thoughts are "
             "free on the moves axis; wall-clock depends on the machine." + curve_offset_sentence(
                 [run for key in keys for run in groups[key]]), ""]
    for algo in dict.fromkeys(k[1] for k in keys):
        algo_keys = [k for k in keys if k[1] == algo]
        columns = {axis: at_budget(groups, algo_keys, axis) for axis in AXES}
        heads = [f"at {fmt_budget(columns[axis][0])} {AXES[axis]}" for axis in AXES]
        lines += [f"{algo_name(algo)}:", "", "| net | condition | " + " | ".join(heads) + " |",
                  "|" + "---|" * (2 + len(AXES))]
        for key in algo_keys:
            cells = [fmt_ci(columns[axis][1].get(key)) for axis in AXES]
            lines.append(f"| {key[2]} | {key[0]} | " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def curve_offset_sentence(runs: list[dict]) -> str:
    """How far the last curve point (a 100-game estimate) lies from the run's final evaluation vs minimax: the
    size of the noise in every curve-read number, measured on the runs at hand."""
    offsets = np.array([run["curve"][-1]["draw_or_better"] - final for run in runs if run.get("curve")
                        and finite(run["curve"][-1].get("draw_or_better"))
                        and finite(final := get(run, "final", "vs_minimax", "draw_or_better"))],
                       dtype=float)
    if offsets.size == 0:
        return ""
    return (f" The curve is a noisy, seed-fixed estimate: over these {offsets.size} runs its last point lies "
            f"{offsets.mean():+.3f} from the final evaluation's rate on average (from {offsets.min():+.3f} to "
            f"{offsets.max():+.3f}).")


def fmt_budget(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def mde_lines(groups: Groups, keys: list[Cell], metric_of: Any, view: str) -> list[str]:
    """The minimum detectable effect on the headline metric (final W+D vs minimax), at the seeds each cell has
    and at the protocol's 10, from the cell's seed-to-seed spread."""
    lines = [f"### Minimum detectable effect ({view} view)", "",
             "From each cell's seed-to-seed spread of the final draw-or-better rate against minimax: the smallest "
             "difference in mean a comparison with as many seeds per arm detects (two-sided 5%, power 80%), with "
             f"the seeds the cell has and with the protocol's {PROTOCOL_SEEDS}. A null result rules out effects "
             f"larger than this, not smaller ones. A spread needs at least {MIN_RUNS_FOR_CI} runs.", "",
             f"| algorithm | net | condition | seeds | sd | MDE, these seeds | MDE, {PROTOCOL_SEEDS} seeds |",
             "|---|---|---|---|---|---|---|"]
    for key in keys:
        data = np.array([v for v in (metric_of(r) for r in groups[key]) if finite(v)], dtype=float)
        cells = ["–", "–", "–"]
        if data.size >= MIN_RUNS_FOR_CI:
            effects = (minimum_detectable_effect(data, data.size), minimum_detectable_effect(data, PROTOCOL_SEEDS))
            cells = [f"{data.std(ddof=1):.3f}", *("–" if e is None else f"{e:.3f}" for e in effects)]
        lines.append(f"| {algo_name(key[1])} | {key[2]} | {key[0]} | {data.size} | " + " | ".join(cells) + " |")
    return lines + [""]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _mean_curve(runs: list[dict], axis: str, key: str) -> tuple[np.ndarray, np.ndarray] | None:
    """The runs' ``key`` on a common grid of ``axis`` (mean over seeds; points without the key are skipped)."""
    series = [[(p[axis], p[key]) for p in run.get("curve") or [] if finite(p.get(axis)) and finite(p.get(key))]
              for run in runs]
    series = [s for s in series if s]
    if not series:
        return None
    grid = np.linspace(0.0, min(s[-1][0] for s in series), 20)
    values = np.array([np.interp(grid, [x for x, _ in s], [y for _, y in s]) for s in series])
    return grid, values.mean(axis=0)


def plot_axes(groups: Groups, keys: list[Cell], path: Path) -> None:
    """Learning curves of ``keys`` on the three budget axes (columns), one row per algorithm and net."""
    plt = _pyplot()
    rows = list(dict.fromkeys((k[1], k[2]) for k in ordered_cells(keys)))  # a token network is "algo+arch"
    fig, axes = plt.subplots(len(rows), len(AXES), figsize=(4.2 * len(AXES), 2.6 * len(rows) + 0.8), squeeze=False)
    conditions = list(dict.fromkeys(k[0] for k in ordered_cells(keys)))
    for i, (algo, capacity) in enumerate(rows):
        for j, axis in enumerate(AXES):
            ax = axes[i][j]
            for c, condition in enumerate(conditions):
                curve = _mean_curve(groups.get((condition, algo, capacity), []), axis, "draw_or_better")
                if curve is not None:
                    ax.plot(*curve, color=f"C{c}", label=condition)
            ax.set_title(f"{algo_name(algo)}, {capacity}", fontsize=9)
            ax.set_xlabel(AXES[axis], fontsize=8)
            ax.set_ylim(-0.02, 1.02)
            ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_collapse(groups: Groups, keys: list[Cell], path: Path) -> None:
    """Thought collapse: thoughts per move and the policy's probability mass on thoughts over training, per
    thinking condition (colour) and net (solid default, dashed tiny), one column per algorithm."""
    plt = _pyplot()
    algos = list(dict.fromkeys(k[1] for k in ordered_cells(keys)))
    fig, axes = plt.subplots(2, max(len(algos), 1), figsize=(5.0 * max(len(algos), 1), 5.6), squeeze=False)
    conditions = list(dict.fromkeys(k[0] for k in ordered_cells(keys)))
    for j, algo in enumerate(algos):
        for i, (key, title) in enumerate((("thoughts_per_move", "thoughts per move"),
                                          ("thought_mass", "probability mass on thoughts"))):
            ax = axes[i][j]
            for c, condition in enumerate(conditions):
                for capacity, style in (("default", "-"), ("tiny", "--")):
                    curve = _mean_curve(groups.get((condition, algo, capacity), []), "step", key)
                    if curve is not None:
                        ax.plot(*curve, style, color=f"C{c}", label=f"{condition} ({capacity})")
            ax.set_title(f"{algo_name(algo)}: {title}", fontsize=9)
            ax.set_xlabel("environment steps", fontsize=8)
            ax.grid(alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.14, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)


def collapse_summary(groups: Groups, keys: list[Cell]) -> dict[Cell, tuple[float, float, float | None]]:
    """Per thinking cell: thoughts per move at the first and the last curve point (mean over seeds), and the
    first step at which the mean fell below a tenth of its first value (None if it never did)."""
    out = {}
    for key in keys:
        curve = _mean_curve(groups[key], "step", "thoughts_per_move")
        if curve is None:
            continue
        grid, rate = curve
        below = np.flatnonzero(rate < 0.1 * rate[0]) if rate[0] > 0 else np.array([], int)
        out[key] = (float(rate[0]), float(rate[-1]), float(grid[below[0]]) if below.size else None)
    return out
