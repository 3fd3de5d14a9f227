"""The report's "Tuning sweep" section: every combination of the equal sweep (results/sweeps/tuning/), per cell,
the one the rule selects, and a generated reading (does tuning change the default; does it keep thoughts useful)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from baselines.report.records import METRICS, algo_name, finite, load_records, plain_of


def load_sweep_records(results_dir: str | Path) -> list[dict[str, Any]]:
    """The sweep's valid records (``<results_dir>/sweeps/tuning/records``), [] where it has not been run."""
    root = Path(results_dir) / "sweeps" / "tuning"
    if not (root / "records").is_dir():
        return []
    return [r for r in load_records(root) if r["run"].get("combo")]


def _mean(records: list[dict], metric: str) -> float | None:
    data = [v for v in (METRICS[metric][1](r) for r in records) if finite(v)]
    return float(np.mean(data)) if data else None


def _fmt(value: float | None, signed: bool = False) -> str:
    return "–" if value is None else (f"{value:+.3f}" if signed else f"{value:.3f}")


def _cells(records: list[dict]) -> dict[tuple[str, str, str], dict[str, list[dict]]]:
    """Records by cell (condition, algo, capacity), then by combination, in the sweep's order of first appearance."""
    cells: dict[tuple[str, str, str], dict[str, list[dict]]] = {}
    for record in sorted(records, key=lambda r: (r["run"]["condition"], r["run"]["algo"], r["run"]["capacity"])):
        run = record["run"]
        cells.setdefault((run["condition"], run["algo"], run["capacity"]), {}).setdefault(run["combo"], []).append(
            record)
    return cells


def sweep_table(records: list[dict], selected: dict[str, Any]) -> list[str]:
    """One row per (cell, combination): seeds run, mean final W+D vs minimax, thought utility, thoughts per move."""
    lines = ["| condition | algorithm | net | combination | seeds | W+D vs minimax (mean) | thought utility (mean) "
             "| thoughts/move (mean) | selected |", "|---|---|---|---|---:|---:|---:|---:|:---:|"]
    for (condition, algo, capacity), by_combo in _cells(records).items():
        chosen = selected.get(f"{condition}/{algo}/{capacity}", {}).get("combo")
        for combo, runs in by_combo.items():
            lines.append(f"| {condition} | {algo_name(algo)} | {capacity} | `{combo}` | {len(runs)} | "
                         f"{_fmt(_mean(runs, 'wd_minimax'))} | {_fmt(_mean(runs, 'utility'), signed=True)} | "
                         f"{_fmt(_mean(runs, 'thoughts_per_move'))} | {'yes' if combo == chosen else ''} |")
    return lines


def sweep_reading(records: list[dict], selection: dict[str, Any], default_combos: dict[str, str]) -> list[str]:
    """Per cell: the selection against the YAML default (the first combination) on W+D and thought utility, or how
    far an incomplete cell's sweep has got (``selection``: :func:`baselines.sweep.select`'s whole answer)."""
    out = []
    selected, incomplete = selection["cells"], selection.get("incomplete", {})
    for (condition, algo, capacity), by_combo in _cells(records).items():
        key = f"{condition}/{algo}/{capacity}"
        if key in incomplete:
            out.append(f"- **{condition}, {algo_name(algo)}, {capacity}.** The sweep is incomplete "
                       f"({incomplete[key]['runs']} of {incomplete[key]['needed']} runs): nothing is selected yet, and "
                       "the grid trains the cell with the defaults.")
            continue
        cell = selected.get(key)
        default = default_combos.get(algo)
        if not cell or default not in by_combo:
            continue
        best, base = by_combo[cell["combo"]], by_combo[default]
        text = f"- **{condition}, {algo_name(algo)}, {capacity}.** "
        if cell["combo"] == default:
            text += f"The rule keeps the default `{default}` (W+D {_fmt(_mean(base, 'wd_minimax'))})."
        else:
            text += (f"The rule selects `{cell['combo']}`: W+D {_fmt(_mean(best, 'wd_minimax'))} against "
                     f"{_fmt(_mean(base, 'wd_minimax'))} for the default `{default}`")
            utility, utility_default = _mean(best, "utility"), _mean(base, "utility")
            if utility is not None and utility_default is not None:
                text += (f"; thought utility {utility:+.3f} against {utility_default:+.3f}, thoughts per move "
                         f"{_fmt(_mean(best, 'thoughts_per_move'))} against {_fmt(_mean(base, 'thoughts_per_move'))}")
            text += "."
        seeds = min(len(runs) for runs in by_combo.values())
        out.append(text + (f" ({seeds} seed{'s' if seeds != 1 else ''} per combination: a screen, not a finding.)"
                           if seeds < 3 else ""))
    return out


def tuned_versus_plain(selected: dict[str, Any]) -> list[str]:
    """Per swept thought condition: its selected combination's mean W+D against its view's plain condition's, both
    tuned alike (the question the equal sweep exists for: is a gap between them a tuning artefact?)."""
    out = []
    for key, cell in selected.items():
        condition, algo, capacity = key.split("/")
        plain = selected.get(f"{plain_of(condition)}/{algo}/{capacity}")
        if plain is None or plain_of(condition) == condition:
            continue
        gap = cell["mean"] - plain["mean"]
        verdict = "above" if gap > 0.005 else ("below" if gap < -0.005 else "level with")
        out.append(f"- **Tuned alike, {condition} against {plain_of(condition)}** ({algo_name(algo)}, {capacity}): "
                   f"{cell['mean']:.3f} against {plain['mean']:.3f} W+D vs minimax, {verdict} plain play, each at its "
                   f"own best combination (on the sweep's held-out seeds only).")
    return out


def tuned_cells(groups: dict[tuple[str, str, str], list[dict]], sweep: list[dict]) -> list[str]:
    """A note under the main table: which cells trained with the tuning sweep's selection (``grid --tuned``; the
    selection may keep the defaults), and that every other cell trained unswept with the YAML's hyperparameters.
    Empty for the first grid's records (made before the YAML of today) and where no cell was swept."""
    from baselines.sweep import SWEPT_ALGOS, load_sweep, select, tuned_cell

    spec = load_sweep()
    selection = select(sweep, spec) if sweep else {"cells": {}}
    swept = []
    for (condition, algo_key, capacity), runs in groups.items():
        algo, _, arch = algo_key.partition("+")
        if algo not in SWEPT_ALGOS or not all("arch" in r["config"] for r in runs):
            continue
        found = tuned_cell(selection, condition, algo, capacity)
        if found is None:
            continue
        key, entry = found
        with_it = sum(all(r["config"]["hyperparams"].get(k) == v for k, v in entry["overrides"].items()) for r in runs)
        own = key == f"{condition}/{algo}/{capacity}" and not arch
        combo = f"`{entry['combo']}`" + ("" if own else " (the default MLP's selection)")
        swept.append(f"{condition} ({algo_name(algo_key)}, {capacity}): {with_it} of {len(runs)} runs with {combo}")
    if not swept:
        return []
    return ["Tuned alike so far (the tuning sweep's selection, the defaults where it kept them): " + "; ".join(swept)
            + ". Every other cell trained unswept, with the YAML's hyperparameters: only comparisons among the cells "
            "named here are equal-tuning comparisons.", ""]


def sweep_section(records: list[dict]) -> list[str]:
    """The section's lines (empty where the sweep has not been run): the rule of :func:`baselines.sweep.select`
    applied to ``records`` now, so the section and ``selected.json`` cannot disagree."""
    if not records:
        return []
    from baselines.sweep import SWEPT_ALGOS, combinations, combo_name, load_sweep, select

    spec = load_sweep()
    selection = select(records, spec)
    selected = selection["cells"]
    default_combos = {algo: combo_name(combinations(spec, algo)[0]) for algo in SWEPT_ALGOS}
    return ["## Tuning sweep", "",
            "The equal tuning budget (`python -m baselines sweep`, `baselines/hyperparams/sweep.yml`; records in "
            "`results/sweeps/tuning/records/`): every combination of the same small sweep for every condition, on the "
            "held-out seeds, the grid's budget and protocol; the rule selects the combination with the highest mean final "
            "draw-or-better against minimax (ties: the earlier one, the defaults first), and only once a cell's sweep is "
            "complete. Cells not listed here have not been swept yet; the grid trains them, and the incomplete ones, "
            "with the YAML defaults.", "",
            *sweep_table(records, selected), "", *sweep_reading(records, selection, default_combos),
            *tuned_versus_plain(selected), ""]
