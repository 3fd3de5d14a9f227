"""The report's data: run records, grouped into cells, and the IQM intervals and comparisons on them."""

from __future__ import annotations

import math
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from baselines.config import CONDITIONS, VIEW_PREFIX, base_condition, condition_view
from baselines.metrics import iqm, probability_of_improvement_ci, stratified_bootstrap_ci

REPS = 5000  # bootstrap resamples for every interval in the report

#: A bootstrap over one or two runs has (almost) no spread, so its interval would read as certainty. A cell
#: with fewer runs shows its point with "[–]", and the reading never calls it higher or lower than another.
MIN_RUNS_FOR_CI = 3
TOO_FEW = f"too few runs for an interval (fewer than {MIN_RUNS_FOR_CI})"

Cell = tuple[str, str, str]  # (condition, algo, capacity)
CI = tuple[float, float, float]  # (point, low, high)


def get(record: dict, *keys: str) -> Any:
    """``record[k1][k2]...``, or None where a key is missing."""
    value: Any = record
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _thinking(record: dict, value: Any) -> Any:
    """``value`` where the task has thought actions, else None (shown as "–": 0 by definition there)."""
    return value if get(record, "final", "thinking") else None


#: ``key -> (column title, extractor, higher is better)``; extractors return None where undefined.
METRICS: dict[str, tuple[str, Callable[[dict], Any], bool]] = {
    "wd_minimax": ("W+D vs minimax", lambda r: get(r, "final", "vs_minimax", "draw_or_better"), True),
    "score_random": ("score vs random", lambda r: get(r, "final", "vs_random", "score"), True),
    "score_training": ("score vs training opp.", lambda r: get(r, "final", "vs_training", "score"), True),
    "utility": ("thought utility", lambda r: _thinking(r, get(r, "final", "thought_utility_training")), True),
    "thoughts_per_move": ("thoughts/move",
                          lambda r: _thinking(r, get(r, "final", "vs_training", "thoughts_per_move")), True),
    "correct": ("correct thoughts", lambda r: get(r, "final", "vs_training", "correct_thought_fraction"), True),
    "true": ("true thoughts", lambda r: get(r, "final", "vs_training", "true_thought_fraction"), True),
}
ALGO_NAMES = {"maskable_ppo": "MaskablePPO", "qrdqn": "masked QR-DQN", "qrdqn_unmasked": "plain QR-DQN"}
#: The algorithms compared across conditions (plain QR-DQN only appears beside masked QR-DQN).
MASKED_ALGOS = tuple(a for a in ALGO_NAMES if a != "qrdqn_unmasked")
THOUGHT_CONDITIONS = tuple(c for c in CONDITIONS if base_condition(c) != "plain")
VIEWS = ("full", "last_move")


def plain_of(condition: str) -> str:
    """The plain-play condition of ``condition``'s view (what its thoughts are compared with)."""
    return VIEW_PREFIX + "plain" if condition_view(condition) == "last_move" else "plain"


def in_view(keys: Iterable[Cell], view: str) -> list[Cell]:
    """The cells of one view, in report order."""
    return [k for k in ordered_cells(keys) if condition_view(k[0]) == view]


def load_records(results_dir: str | Path, skipped: list[tuple[Path, str]] | None = None) -> list[dict[str, Any]]:
    """Every valid run record under ``<results_dir>/records`` (sorted by path, so the order is stable).

    A record that does not parse or fails the schema check (:func:`baselines.record_schema.read_record`) is
    named on stderr and skipped (and appended to ``skipped`` as ``(path, why)`` when given).
    """
    from baselines.record_schema import read_record

    root = Path(results_dir) / "records"
    records = []
    for path in sorted(root.rglob("seed*.json")):
        record, problem = read_record(path)
        if record is None:
            print(f"report: skipping {path}: {problem}", file=sys.stderr)
            if skipped is not None:
                skipped.append((path, str(problem)))
            continue
        records.append(record)
    return records


def finite(value: Any) -> bool:
    """Whether ``value`` is a real, finite number (not None, NaN or inf)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) \
        and math.isfinite(float(value))


def nonfinite_values(records: list[dict]) -> int:
    """How many metric values of the records are numbers but not finite (NaN, inf): left out of every interval."""
    return sum(1 for r in records for m in METRICS for v in [METRICS[m][1](r)]
               if v is not None and not finite(v))


def algo_key(run: dict) -> str:
    """A cell's algorithm: the algorithm's name, with ``+<arch>`` for a token network (the MLP has none)."""
    arch = run.get("arch", "mlp")
    return run["algo"] if arch == "mlp" else f"{run['algo']}+{arch}"


def algo_name(key: str) -> str:
    """How the report names a cell's algorithm, e.g. ``MaskablePPO (transformer)``."""
    algo, _, arch = key.partition("+")
    return ALGO_NAMES.get(algo, algo) + (f" ({arch})" if arch else "")


def group_records(records: list[dict]) -> dict[Cell, list[dict]]:
    """Records by cell (condition, algorithm[+arch], capacity), each cell's runs sorted by seed."""
    groups: dict[Cell, list[dict]] = defaultdict(list)
    for record in records:
        run = record["run"]
        groups[(run["condition"], algo_key(run), run["capacity"])].append(record)
    for runs in groups.values():
        runs.sort(key=lambda r: r["run"]["seed"])
    return dict(groups)


def values(records: list[dict], metric: str) -> np.ndarray:
    """The metric of every record that defines it."""
    extract = METRICS[metric][1]
    out = [extract(r) for r in records]
    return np.array([v for v in out if finite(v)], dtype=float)


def iqm_interval(data: np.ndarray, reps: int = REPS) -> CI | None:
    """IQM of ``data`` and its 95% stratified-bootstrap CI; None for no data, NaN bounds for fewer than
    :data:`MIN_RUNS_FOR_CI` values."""
    data = np.asarray(data, dtype=float)
    if data.size == 0:
        return None
    if data.size < MIN_RUNS_FOR_CI:
        return (float(iqm(data)), math.nan, math.nan)
    return stratified_bootstrap_ci(data, iqm, reps=reps, seed=0)


def interval(records: list[dict], metric: str) -> CI | None:
    """IQM and its 95% stratified-bootstrap CI over the records, None if no record defines the metric (NaN
    bounds with fewer than :data:`MIN_RUNS_FOR_CI` runs)."""
    return iqm_interval(values(records, metric))


def improvement(x: list[dict], y: list[dict], metric: str) -> CI | None:
    """P(a run of x beats a run of y) on ``metric``, with its CI; None where either side has no finite value,
    NaN bounds where either side has fewer than :data:`MIN_RUNS_FOR_CI` runs."""
    xs, ys = values(x, metric), values(y, metric)
    if xs.size == 0 or ys.size == 0:
        return None
    point, low, high = probability_of_improvement_ci(xs, ys, reps=REPS, seed=0)
    if min(xs.size, ys.size) < MIN_RUNS_FOR_CI:
        return (point, math.nan, math.nan)
    return (point, low, high)


def has_interval(ci: CI | None) -> bool:
    """Whether ``ci`` has finite bounds (enough runs for an interval)."""
    return ci is not None and finite(ci[1]) and finite(ci[2])


def fmt_ci(ci: CI | None, digits: int = 2) -> str:
    if ci is None or not finite(ci[0]):
        return "–"
    point, low, high = ci
    if not has_interval(ci):
        return f"{point:.{digits}f} [–]"
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def compare(ci_a: CI | None, ci_b: CI | None) -> str:
    """``"higher"``, ``"lower"`` or ``"overlap"``: how interval a lies relative to interval b; ``"few"`` where
    either has too few runs for an interval, ``"n/a"`` where either is missing."""
    if ci_a is None or ci_b is None:
        return "n/a"
    if not (has_interval(ci_a) and has_interval(ci_b)):
        return "few"
    if ci_a[1] > ci_b[2]:
        return "higher"
    if ci_a[2] < ci_b[1]:
        return "lower"
    return "overlap"


def ordered_cells(keys: Iterable[Cell]) -> list[Cell]:
    """Cells in report order: algorithm, capacity, condition."""
    cond_order = {c: i for i, c in enumerate(CONDITIONS)}
    algo_order = {a: i for i, a in enumerate(ALGO_NAMES)}
    cap_order = {"tiny": 0, "default": 1}
    return sorted(keys, key=lambda k: (algo_order.get(k[1].partition("+")[0], 9), k[1], cap_order.get(k[2], 9),
                                       cond_order.get(k[0], 9), k))


def all_conditions(groups: dict[Cell, Any]) -> list[str]:
    """The known conditions, then any others the records name."""
    return list(CONDITIONS) + sorted({k[0] for k in groups} - set(CONDITIONS))


@dataclass
class Stats:
    """Everything the tables and the reading compare, computed once from the records.

    ``poi``: ``(cell, metric) -> P(cell > plain)`` for each thought condition (same algorithm and capacity),
    then ``((condition, "masked_vs_plain", capacity), "wd_minimax") -> P(masked QR-DQN > plain QR-DQN)``.
    ``capacity_rows``: ``(algo, condition) -> P(tiny net with the condition > default net, plain of its view)``.
    """

    groups: dict[Cell, list[dict]]
    keys: list[Cell] = field(init=False)
    intervals: dict[tuple[Cell, str], CI | None] = field(init=False)
    poi: dict[tuple[Cell, str], CI] = field(default_factory=dict, init=False)
    capacity_rows: dict[tuple[str, str], CI] = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        groups = self.groups
        self.keys = ordered_cells(groups)
        self.intervals = {(key, metric): interval(groups[key], metric) for key in self.keys for metric in METRICS}
        self._improvements_over_plain()
        self._capacity_comparisons()
        self._masking_comparisons()

    def _improvements_over_plain(self) -> None:
        for key in self.keys:
            condition, algo, capacity = key
            base = self.groups.get((plain_of(condition), algo, capacity))
            if condition == plain_of(condition) or base is None or algo == "qrdqn_unmasked":
                continue
            for metric in ("wd_minimax", "score_training"):
                p = improvement(self.groups[key], base, metric)
                if p is not None:
                    self.poi[(key, metric)] = p

    def _capacity_comparisons(self) -> None:
        for algo in MASKED_ALGOS:
            for condition in CONDITIONS:
                target = self.groups.get((plain_of(condition), algo, "default"))
                if target is None:
                    continue
                runs = self.groups.get((condition, algo, "tiny"))
                p = improvement(runs, target, "wd_minimax") if runs else None
                if p is not None:
                    self.capacity_rows[(algo, condition)] = p

    def _masking_comparisons(self) -> None:
        for condition, _, capacity in self.unmasked_keys():
            masked = self.groups.get((condition, "qrdqn", capacity))
            if masked:
                plain = self.groups[(condition, "qrdqn_unmasked", capacity)]
                p = improvement(masked, plain, "wd_minimax")
                if p is not None:
                    self.poi[((condition, "masked_vs_plain", capacity), "wd_minimax")] = p

    def token_network_pairs(self) -> list[tuple[Cell, str, Cell]]:
        """``(token-network cell, its architecture, the MLP's cell)`` for each token-network cell whose condition,
        algorithm and net size the MLP also has, in report order."""
        pairs = []
        for key in self.keys:
            condition, algo, capacity = key
            base, _, arch = algo.partition("+")
            if arch and (condition, base, capacity) in self.groups:
                pairs.append((key, arch, (condition, base, capacity)))
        return pairs

    def unmasked_keys(self) -> list[Cell]:
        """The plain-QR-DQN cells, in report order."""
        return [k for k in self.keys if k[1] == "qrdqn_unmasked"]
