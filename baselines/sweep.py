"""The tuning sweep: an equal budget of tuning for every condition, selected by one rule on held-out seeds.

Patterson et al. (2024) show that comparing conditions tuned unequally (or not at all) can invert a result.
So every (condition, algorithm) gets the same small sweep of ``baselines/hyperparams/sweep.yml`` (the
product of its values, the YAML defaults first), each combination trained on the sweep's held-out seeds with
the grid's budget and protocol. :func:`select` applies the one rule (highest mean final draw-or-better against
perfect minimax; ties to the earlier combination) and writes ``selected.json``; ``grid --tuned`` then trains
every cell with its selection (the tiny net with its condition's default-net selection).

Records: ``<results>/records/<condition>/<algo>/<capacity>/<combo>/seed<k>.json``, resumable like the grid's.
"""

from __future__ import annotations

import itertools
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import yaml

from baselines.config import HYPERPARAMS_DIR, NOT_APPLICABLE, make_run_config

SWEEP_FILE = HYPERPARAMS_DIR / "sweep.yml"
SWEPT_ALGOS: tuple[str, ...] = ("maskable_ppo", "qrdqn")


def load_sweep(path: str | Path = SWEEP_FILE) -> dict[str, Any]:
    """The sweep spec: ``seeds``, ``capacities`` and, per algorithm, ``{hyperparameter: [values]}``."""
    with open(path) as handle:
        spec = yaml.safe_load(handle) or {}
    for key in ("seeds", "capacities", *SWEPT_ALGOS):
        if key not in spec:
            raise ValueError(f"{path}: the sweep needs a {key!r} entry")
    for algo in SWEPT_ALGOS:
        grid = spec[algo]
        if not isinstance(grid, dict) or not all(isinstance(v, list) and v for v in grid.values()):
            raise ValueError(f"{path}: {algo!r} must map hyperparameter names to non-empty lists, got {grid!r}")
    return spec


def combinations(spec: dict[str, Any], algo: str) -> list[dict[str, Any]]:
    """Every combination of ``algo``'s swept values, the YAML defaults (the first values) first."""
    grid = spec[algo]
    return [dict(zip(grid, values)) for values in itertools.product(*grid.values())]


def combo_name(overrides: dict[str, Any]) -> str:
    """A combination as a folder name, e.g. ``ent_coef=0.01+learning_rate=lin_0.001``."""
    return "+".join(f"{key}={overrides[key]}" for key in sorted(overrides))


def sweep_jobs(spec: dict[str, Any], conditions: list[str], budget_scale: float = 1.0,
               eval_games: int | None = None) -> list[dict[str, Any]]:
    """Run configs of the sweep: condition x algorithm x combination x capacity x seed (the held-out seeds)."""
    from baselines.grid import _scale_budget

    jobs = []
    for condition in conditions:
        for algo in SWEPT_ALGOS:
            if (condition, algo) in NOT_APPLICABLE:
                continue
            for overrides in combinations(spec, algo):
                for capacity in spec["capacities"]:
                    for seed in spec["seeds"]:
                        config = make_run_config(algo, condition, capacity=capacity, seed=seed, hyperparams=overrides,
                                                 eval_games=eval_games)
                        config["combo"] = combo_name(overrides)
                        if budget_scale != 1.0:
                            _scale_budget(config, budget_scale)
                        jobs.append(config)
    return jobs


def select(records: list[dict[str, Any]], spec: dict[str, Any]) -> dict[str, Any]:
    """The rule, applied: per (condition, algo, capacity), the combination with the highest mean final
    draw-or-better against minimax over its sweep seeds (ties: the earlier combination in the sweep's order).

    Only a complete cell (every combination on every sweep seed) is selected; the others are listed under
    ``"incomplete"`` with their run counts. Returns ``{"cells": {"<condition>/<algo>/<capacity>": {"combo",
    "overrides", "mean", "runs", "candidates"}}, "incomplete": {"<cell>": {"runs", "needed"}}}``.
    """
    scores: dict[tuple[str, str, str], dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for record in records:
        run = record["run"]
        if "combo" in run:
            scores[(run["condition"], run["algo"], run["capacity"])][run["combo"]].append(
                float(record["final"]["vs_minimax"]["draw_or_better"]))
    cells, incomplete = {}, {}
    for (condition, algo, capacity), by_combo in sorted(scores.items()):
        order = [combo_name(c) for c in combinations(spec, algo)]
        runs, needed = sum(len(by_combo.get(name, [])) for name in order), len(order) * len(spec["seeds"])
        if any(len(by_combo.get(name, [])) < len(spec["seeds"]) for name in order):
            # A partial sweep selects nothing: the cell trains with the defaults until its sweep is complete.
            incomplete[f"{condition}/{algo}/{capacity}"] = {"runs": runs, "needed": needed}
            continue
        candidates = {name: round(sum(v) / len(v), 4) for name, v in by_combo.items()}
        best = max((name for name in order if name in candidates), key=lambda name: (candidates[name],
                                                                                     -order.index(name)))
        overrides = combinations(spec, algo)[order.index(best)]
        cells[f"{condition}/{algo}/{capacity}"] = {"combo": best, "overrides": overrides, "mean": candidates[best],
                                                   "runs": len(by_combo[best]), "candidates": candidates}
    return {"rule": "highest mean final draw-or-better vs minimax over the sweep seeds; ties: the earlier combination",
            "seeds": spec["seeds"], "cells": cells, "incomplete": incomplete}


def tuned_cell(selected: dict[str, Any], condition: str, algo: str, capacity: str) -> tuple[str, dict] | None:
    """``(key, entry)`` of the selection a grid cell trains with: its own, else its condition's at the default
    net (a tiny net, and every architecture, since the key names no network); None where nothing is selected."""
    cells = selected.get("cells", {})
    for key in (f"{condition}/{algo}/{capacity}", f"{condition}/{algo}/default"):
        if key in cells:
            return key, cells[key]
    return None


def tuned_overrides(selected: dict[str, Any], condition: str, algo: str, capacity: str) -> dict[str, Any] | None:
    """The hyperparameter overrides of :func:`tuned_cell` (None: not swept)."""
    found = tuned_cell(selected, condition, algo, capacity)
    return None if found is None else dict(found[1]["overrides"])


def write_selection(results_dir: str | Path, spec: dict[str, Any]) -> Path:
    """Apply :func:`select` to the sweep's records and write ``<results_dir>/selected.json``."""
    from baselines.report.records import load_records

    selection = select(load_records(results_dir), spec)
    path = Path(results_dir) / "selected.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(selection, indent=1, sort_keys=True) + "\n")
    return path


def read_selection(path: str | Path) -> dict[str, Any]:
    """A ``selected.json`` (plain JSON, checked for its shape; never unpickled)."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"--tuned {path}: not a readable selection file ({err})") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, dict) or not all(isinstance(c, dict) and isinstance(c.get("overrides"), dict)
                                              for c in cells.values()):
        raise ValueError(f"--tuned {path}: expected {{'cells': {{'<condition>/<algo>/<capacity>': "
                         "{'overrides': {...}}}}} as written by the sweep")
    return data
