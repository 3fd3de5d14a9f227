"""The report's figures: learning curves, performance profiles and the IQM intervals, one PNG each."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from baselines.metrics import iqm, performance_profile_ci, stratified_bootstrap_ci
from baselines.report.records import algo_name, ALGO_NAMES, CI, Cell, all_conditions, ordered_cells, values

Groups = dict[Cell, list[dict]]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _present(groups: Groups, index: int, preferred: tuple[str, ...]) -> list[str]:
    """The values of key position ``index`` that occur, ``preferred`` ones first in their order."""
    seen = {k[index] for k in groups}
    return [v for v in preferred if v in seen] + sorted(seen - set(preferred))


def _panel_grid(groups: Groups) -> tuple[Any, dict[tuple[str, str], Any], Any]:
    """A figure with one row per algorithm and one column per capacity (empty panels hidden)."""
    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter

    algos = _present(groups, 1, tuple(ALGO_NAMES))
    caps = _present(groups, 2, ("tiny", "default"))
    fig, axes = plt.subplots(len(algos), len(caps), figsize=(4.6 * len(caps), 3.0 * len(algos) + 0.6),
                             squeeze=False)
    panels = {}
    for i, algo in enumerate(algos):
        for j, capacity in enumerate(caps):
            ax = axes[i][j]
            if not any(k[1] == algo and k[2] == capacity for k in groups):
                ax.set_visible(False)
                continue
            ax.set_title(f"{algo_name(algo)}, {capacity} net", fontsize=10)
            ax.grid(alpha=0.3)
            panels[(algo, capacity)] = ax
    steps = FuncFormatter(lambda x, _: f"{x / 1000:.0f}k" if x else "0")
    return fig, panels, steps


def _colours(groups: Groups) -> dict[str, str]:
    return {c: f"C{i}" for i, c in enumerate(all_conditions(groups))}


def _finish(fig: Any, groups: Groups, path: Path) -> None:
    from matplotlib.lines import Line2D

    colours = _colours(groups)
    present = [c for c in all_conditions(groups) if any(k[0] == c for k in groups)]
    handles = [Line2D([], [], color=colours[c], label=c) for c in present]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=100)
    _pyplot().close(fig)


def plot_learning_curves(groups: Groups, path: Path) -> None:
    """Draw-or-better against minimax over training: IQM over seeds with a 95% band, per panel."""
    fig, panels, steps = _panel_grid(groups)
    colours = _colours(groups)
    for (algo, capacity), ax in panels.items():
        for condition in all_conditions(groups):
            runs = groups.get((condition, algo, capacity))
            if not runs:
                continue
            grid = np.array([p["step"] for p in runs[0]["curve"]], dtype=float)
            curves = np.array([np.interp(grid, [p["step"] for p in r["curve"]],
                                         [p["draw_or_better"] for p in r["curve"]]) for r in runs])
            bands = np.array([stratified_bootstrap_ci(column, iqm, reps=1000, seed=0) for column in curves.T])
            ax.plot(grid, bands[:, 0], color=colours[condition])
            ax.fill_between(grid, bands[:, 1], bands[:, 2], color=colours[condition], alpha=0.15)
        ax.set_ylim(-0.02, 1.02)
        ax.xaxis.set_major_formatter(steps)
        ax.set_xlabel("environment steps", fontsize=9)
        ax.set_ylabel("W+D vs minimax (IQM)", fontsize=9)
    _finish(fig, groups, path)


def plot_performance_profiles(groups: Groups, path: Path) -> None:
    """Fraction of runs above each draw-or-better threshold, with a 95% band, per panel."""
    fig, panels, _ = _panel_grid(groups)
    colours = _colours(groups)
    taus = np.linspace(0.0, 1.0, 101)
    for (algo, capacity), ax in panels.items():
        for condition in all_conditions(groups):
            runs = groups.get((condition, algo, capacity))
            data = values(runs, "wd_minimax") if runs else None
            if data is None or data.size == 0:
                continue
            profile, low, high = performance_profile_ci(data, taus, reps=1000, seed=0)
            ax.plot(taus, profile, color=colours[condition])
            ax.fill_between(taus, low, high, color=colours[condition], alpha=0.12)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"W+D vs minimax threshold $\tau$", fontsize=9)
        ax.set_ylabel(r"fraction of runs > $\tau$", fontsize=9)
    _finish(fig, groups, path)


def plot_intervals(groups: Groups, intervals: dict[tuple[Cell, str], CI | None], path: Path) -> None:
    """Every cell's draw-or-better IQM and 95% CI on one axis."""
    plt = _pyplot()
    keys = [k for k in ordered_cells(groups) if intervals.get((k, "wd_minimax"))]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(keys) + 1.2))
    for row, key in enumerate(keys):
        ci = intervals[(key, "wd_minimax")]
        assert ci is not None
        point, low, high = ci
        colour = "C0" if key[2] == "tiny" else "C1"
        ax.errorbar(point, row, xerr=[[point - low], [high - point]], fmt="o", color=colour, capsize=3)
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([f"{algo_name(a)} / {cap} / {c}" for c, a, cap in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("draw-or-better vs minimax: IQM and 95% CI")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
