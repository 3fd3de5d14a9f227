"""``report``: docs/results.md, its figures and a per-run CSV, regenerated from the run records alone.

Nothing in the output is typed by hand: the tables are IQMs with 95% stratified-bootstrap CIs over
seeds, the probabilities of improvement come from :mod:`baselines.metrics`, and the reading is
sentences chosen by comparing those intervals. Bootstrap seeds are fixed, so the same records give
the same document.
"""

from __future__ import annotations

import csv
import json
import os
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from baselines.config import CONDITIONS
from baselines.metrics import iqm, performance_profile_ci, probability_of_improvement_ci, stratified_bootstrap_ci

REPS = 5000  # bootstrap resamples for every interval in the report


def _get(record: dict, *keys: str) -> Any:
    value: Any = record
    for key in keys:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _thinking(record: dict, value: Any) -> Any:
    """``value`` where the task has thought actions, else None (shown as "–": 0 by definition there)."""
    return value if _get(record, "final", "thinking") else None


#: ``key -> (column title, extractor, higher is better)``; extractors return None where undefined.
METRICS: dict[str, tuple[str, Callable[[dict], Any], bool]] = {
    "wd_minimax": ("W+D vs minimax", lambda r: _get(r, "final", "vs_minimax", "draw_or_better"), True),
    "score_random": ("score vs random", lambda r: _get(r, "final", "vs_random", "score"), True),
    "score_training": ("score vs training opp.", lambda r: _get(r, "final", "vs_training", "score"), True),
    "utility": ("thought utility", lambda r: _thinking(r, _get(r, "final", "thought_utility_training")), True),
    "thoughts_per_move": ("thoughts/move",
                          lambda r: _thinking(r, _get(r, "final", "vs_training", "thoughts_per_move")), True),
    "correct": ("correct thoughts", lambda r: _get(r, "final", "vs_training", "correct_thought_fraction"), True),
}
ALGO_NAMES = {"maskable_ppo": "MaskablePPO", "qrdqn": "masked QR-DQN", "qrdqn_unmasked": "plain QR-DQN"}


def load_records(results_dir: str | Path) -> list[dict[str, Any]]:
    """Every run record under ``<results_dir>/records`` (sorted by path, so the order is stable)."""
    root = Path(results_dir) / "records"
    return [json.loads(path.read_text()) for path in sorted(root.rglob("seed*.json"))]


def group_records(records: list[dict]) -> dict[tuple[str, str, str], list[dict]]:
    groups: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for record in records:
        run = record["run"]
        groups[(run["condition"], run["algo"], run["capacity"])].append(record)
    for runs in groups.values():
        runs.sort(key=lambda r: r["run"]["seed"])
    return dict(groups)


def values(records: list[dict], metric: str) -> np.ndarray:
    extract = METRICS[metric][1]
    out = [extract(r) for r in records]
    return np.array([v for v in out if v is not None], dtype=float)


def interval(records: list[dict], metric: str) -> tuple[float, float, float] | None:
    data = values(records, metric)
    if data.size == 0:
        return None
    return stratified_bootstrap_ci(data, iqm, reps=REPS, seed=0)


def fmt_ci(ci: tuple[float, float, float] | None, digits: int = 2) -> str:
    if ci is None:
        return "–"
    point, low, high = ci
    return f"{point:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def compare(ci_a, ci_b) -> str:
    """``"higher"``, ``"lower"`` or ``"overlap"``: how interval a lies relative to interval b."""
    if ci_a is None or ci_b is None:
        return "n/a"
    if ci_a[1] > ci_b[2]:
        return "higher"
    if ci_a[2] < ci_b[1]:
        return "lower"
    return "overlap"


def _order(keys) -> list:
    cond_order = {c: i for i, c in enumerate(CONDITIONS)}
    algo_order = {a: i for i, a in enumerate(ALGO_NAMES)}
    cap_order = {"tiny": 0, "default": 1}
    return sorted(keys, key=lambda k: (algo_order.get(k[1], 9), cap_order.get(k[2], 9), cond_order.get(k[0], 9), k))


# ------------------------------------------------------------------------------------------------ figures
def _conditions(groups: dict) -> list[str]:
    return list(CONDITIONS) + sorted({k[0] for k in groups} - set(CONDITIONS))


def _panel_grid(groups: dict):
    """A figure with one row per algorithm and one column per capacity (empty panels hidden)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    algos = [a for a in ALGO_NAMES if any(k[1] == a for k in groups)]
    algos += sorted({k[1] for k in groups} - set(algos))
    caps = [c for c in ("tiny", "default") if any(k[2] == c for k in groups)]
    caps += sorted({k[2] for k in groups} - set(caps))
    fig, axes = plt.subplots(len(algos), len(caps), figsize=(4.6 * len(caps), 3.0 * len(algos) + 0.6),
                             squeeze=False)
    panels = {}
    for i, algo in enumerate(algos):
        for j, capacity in enumerate(caps):
            ax = axes[i][j]
            if not any(k[1] == algo and k[2] == capacity for k in groups):
                ax.set_visible(False)
                continue
            ax.set_title(f"{ALGO_NAMES.get(algo, algo)}, {capacity} net", fontsize=10)
            ax.grid(alpha=0.3)
            panels[(algo, capacity)] = ax
    steps = FuncFormatter(lambda x, _: f"{x / 1000:.0f}k" if x else "0")
    return fig, panels, steps


def _finish(fig, panels: dict, groups: dict, path: Path) -> None:
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    colours = {c: f"C{i}" for i, c in enumerate(_conditions(groups))}
    present = [c for c in _conditions(groups) if any(k[0] == c for k in groups)]
    handles = [Line2D([], [], color=colours[c], label=c) for c in present]
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=9, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_learning_curves(groups: dict, path: Path) -> None:
    fig, panels, steps = _panel_grid(groups)
    colours = {c: f"C{i}" for i, c in enumerate(_conditions(groups))}
    for (algo, capacity), ax in panels.items():
        for condition in _conditions(groups):
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
    _finish(fig, panels, groups, path)


def plot_performance_profiles(groups: dict, path: Path) -> None:
    fig, panels, _ = _panel_grid(groups)
    colours = {c: f"C{i}" for i, c in enumerate(_conditions(groups))}
    taus = np.linspace(0.0, 1.0, 101)
    for (algo, capacity), ax in panels.items():
        for condition in _conditions(groups):
            runs = groups.get((condition, algo, capacity))
            if not runs:
                continue
            profile, low, high = performance_profile_ci(values(runs, "wd_minimax"), taus, reps=1000, seed=0)
            ax.plot(taus, profile, color=colours[condition])
            ax.fill_between(taus, low, high, color=colours[condition], alpha=0.12)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel(r"W+D vs minimax threshold $\tau$", fontsize=9)
        ax.set_ylabel(r"fraction of runs > $\tau$", fontsize=9)
    _finish(fig, panels, groups, path)


def plot_intervals(groups: dict, intervals: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in _order(groups) if intervals.get((k, "wd_minimax"))]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(keys) + 1.2))
    for row, key in enumerate(keys):
        point, low, high = intervals[(key, "wd_minimax")]
        colour = "C0" if key[2] == "tiny" else "C1"
        ax.errorbar(point, row, xerr=[[point - low], [high - point]], fmt="o", color=colour, capsize=3)
    ax.set_yticks(range(len(keys)))
    ax.set_yticklabels([f"{ALGO_NAMES.get(a, a)} / {cap} / {c}" for c, a, cap in keys], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("draw-or-better vs minimax: IQM and 95% CI")
    ax.grid(alpha=0.3, axis="x")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------- document
def write_csv(records: list[dict], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["condition", "algo", "capacity", "seed", "total_timesteps", *METRICS, "steps_to_threshold",
               "seconds_to_threshold", "train_seconds", "wall_seconds"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for record in sorted(records, key=lambda r: (r["run"]["condition"], r["run"]["algo"], r["run"]["capacity"],
                                                     r["run"]["seed"])):
            row = [record["run"][k] for k in ("condition", "algo", "capacity", "seed")]
            row.append(record.get("total_timesteps"))
            for metric in METRICS:
                value = METRICS[metric][1](record)
                row.append("" if value is None else round(float(value), 6))
            row += [record.get("steps_to_threshold") or "", record.get("seconds_to_threshold") or "",
                    record.get("train_seconds"), record.get("wall_seconds")]
            writer.writerow(row)


def _relpath(target: Path, start: Path) -> str:
    return os.path.relpath(target, start).replace(os.sep, "/")


def build_report(records: list[dict], img_dir: Path, doc_path: Path) -> str:
    groups = group_records(records)
    keys = _order(groups)
    intervals = {(key, metric): interval(groups[key], metric) for key in keys for metric in METRICS}
    img_dir.mkdir(parents=True, exist_ok=True)
    curves_png, profile_png, interval_png = (img_dir / "learning_curves.png", img_dir / "performance_profiles.png",
                                             img_dir / "iqm_intervals.png")
    plot_learning_curves(groups, curves_png)
    plot_performance_profiles(groups, profile_png)
    plot_intervals(groups, intervals, interval_png)

    lines: list[str] = []
    add = lines.append
    add("# Results")
    add("")
    add("<!-- Generated by `python -m baselines report` from the run records under results/records/. "
        "Do not edit by hand: rerun the command. -->")
    add("")
    seeds = sorted({len(v) for v in groups.values()})
    budgets = sorted({(r["run"]["algo"], r["config"]["hyperparams"]["total_timesteps"]) for r in records})
    scale_note = sorted({r["config"].get("budget_scale", 1.0) for r in records})
    games = sorted({r["final"]["games_per_opponent"] for r in records})
    add(f"{len(records)} runs in {len(groups)} cells (condition x algorithm x capacity), "
        f"{'/'.join(map(str, seeds))} seeds per cell. Step budgets: "
        + ", ".join(f"{ALGO_NAMES.get(a, a)} {b:,}" for a, b in budgets)
        + f". Evaluation: {'/'.join(map(str, games))} games per opponent (protocol: [benchmark.md](benchmark.md)).")
    if scale_note != [1.0] or games != [1000]:
        add("")
        add(f"**These records are not the headline grid** (budget scale {scale_note}, {games} games per opponent): "
            "a quick check of the pipeline, not evidence.")
    versions = records[0]["versions"] if records else {}
    add("")
    add("Software: " + ", ".join(f"{k} {versions[k]}" for k in ("stable_baselines3", "sb3_contrib",
                                                              "gymnasium", "tttthought_env")
                                 if k in versions) + ".")
    # Where the runs came from: records made with other torch builds or machines are statistically
    # equivalent, not bit-identical, so the report says which runs came from where.
    provenance = Counter((r["versions"].get("torch", "?"), r["versions"].get("python", "?"),
                          r["versions"].get("numpy", "?"), r["versions"].get("cpu_count", "?")) for r in records)
    add("Runs by machine: " + "; ".join(
        f"{count} with torch {torch_version}, Python {python}, numpy {numpy_version} on a {cpus}-core machine"
        for (torch_version, python, numpy_version, cpus), count in sorted(provenance.items())) + ".")
    add("")
    add("Every cell is the interquartile mean (IQM) over seeds with its 95% stratified-bootstrap confidence "
        "interval. *W+D* = win-or-draw rate; *score* = mean pure game return (+1 win, 0 draw, -1 loss; never the "
        "shaped return); *thought utility* = score vs the training opponent with thoughts allowed minus the score "
        "with every thought action masked; *thoughts/move* and *correct thoughts* (fraction judged correct by the "
        "solver, markers excluded) are measured against the training opponent; \"–\" = not applicable (no thought "
        "actions: the utility is 0 by definition).")
    add("")
    add("## Main table")
    add("")
    add("| algorithm | net | condition | runs | " + " | ".join(METRICS[m][0] for m in METRICS)
        + " | reached 99% W+D vs minimax (steps, s) |")
    add("|" + "---|" * (4 + len(METRICS) + 1))
    for key in keys:
        runs = groups[key]
        reached = [r for r in runs if r.get("steps_to_threshold") is not None]
        reach_text = f"{len(reached)}/{len(runs)}"
        if reached:
            reach_text += (f" (median {int(np.median([r['steps_to_threshold'] for r in reached])):,} steps, "
                           f"{np.median([r['seconds_to_threshold'] for r in reached]):.0f} s)")
        cells = [fmt_ci(intervals[(key, m)]) for m in METRICS]
        add(f"| {ALGO_NAMES.get(key[1], key[1])} | {key[2]} | {key[0]} | {len(runs)} | " + " | ".join(cells)
            + f" | {reach_text} |")
    add("")
    add(f"![IQM intervals]({_relpath(interval_png, doc_path.parent)})")
    add("")

    # Probability of improvement of each thought condition over plain, same algorithm and capacity.
    add("## Probability of improvement over plain play")
    add("")
    add("P(X > Y): the probability that a run of the thought condition X beats a run of plain play Y (same "
        "algorithm and network), with its 95% stratified-bootstrap CI; 0.5 = no difference.")
    add("")
    add("| algorithm | net | condition X | P(X > plain), W+D vs minimax | P(X > plain), score vs training opp. |")
    add("|---|---|---|---|---|")
    poi: dict[tuple, tuple] = {}
    for key in keys:
        condition, algo, capacity = key
        base = groups.get(("plain", algo, capacity))
        if condition == "plain" or base is None or algo == "qrdqn_unmasked":
            continue
        row = []
        for metric in ("wd_minimax", "score_training"):
            x, y = values(groups[key], metric), values(base, metric)
            poi[(key, metric)] = probability_of_improvement_ci(x, y, reps=REPS, seed=0)
            row.append(fmt_ci(poi[(key, metric)]))
        add(f"| {ALGO_NAMES.get(algo, algo)} | {capacity} | {condition} | " + " | ".join(row) + " |")
    add("")

    # The capacity question: tiny + thoughts vs default plain.
    add("## Capacity: does a tiny network with thoughts reach the default network's plain play?")
    add("")
    add("| algorithm | tiny-net condition X | IQM W+D vs minimax, X | IQM, default net plain | "
        "P(X > default plain) |")
    add("|---|---|---|---|---|")
    capacity_rows: dict[tuple, tuple] = {}
    for algo in [a for a in ALGO_NAMES if a != "qrdqn_unmasked"]:
        target = groups.get(("plain", algo, "default"))
        if target is None:
            continue
        for condition in CONDITIONS:
            runs = groups.get((condition, algo, "tiny"))
            if not runs:
                continue
            p = probability_of_improvement_ci(values(runs, "wd_minimax"), values(target, "wd_minimax"),
                                              reps=REPS, seed=0)
            capacity_rows[(algo, condition)] = p
            add(f"| {ALGO_NAMES[algo]} | {condition} | {fmt_ci(intervals[((condition, algo, 'tiny'), 'wd_minimax')])}"
                f" | {fmt_ci(intervals[(('plain', algo, 'default'), 'wd_minimax')])} | {fmt_ci(p)} |")
    add("")

    # Masked vs plain QR-DQN.
    unmasked_keys = [k for k in keys if k[1] == "qrdqn_unmasked"]
    if unmasked_keys:
        add("## Masked QR-DQN vs plain QR-DQN (illegal actions lose)")
        add("")
        add("Plain QR-DQN sees the flat observation and forfeits the game on an illegal action during training; "
            "at test time both are evaluated deterministic and masked, like every policy here. *illegal greedy* is "
            "how often the unmasked argmax would have been illegal (against the training opponent).")
        add("")
        add("| condition | masked: W+D vs minimax | plain: W+D vs minimax | masked: score vs training | "
            "plain: score vs training | plain: illegal greedy | P(masked > plain), W+D vs minimax |")
        add("|---|---|---|---|---|---|---|")
        for condition, _, capacity in unmasked_keys:
            masked = groups.get((condition, "qrdqn", capacity))
            plain = groups[(condition, "qrdqn_unmasked", capacity)]
            illegal = np.array([_get(r, "final", "vs_training", "illegal_greedy_rate") for r in plain], dtype=float)
            illegal_ci = stratified_bootstrap_ci(illegal, iqm, reps=REPS, seed=0)
            if masked:
                p = probability_of_improvement_ci(values(masked, "wd_minimax"), values(plain, "wd_minimax"),
                                                  reps=REPS, seed=0)
                poi[((condition, "masked_vs_plain", capacity), "wd_minimax")] = p
            add(f"| {condition} | {fmt_ci(interval(masked, 'wd_minimax') if masked else None)} | "
                f"{fmt_ci(interval(plain, 'wd_minimax'))} | "
                f"{fmt_ci(interval(masked, 'score_training') if masked else None)} | "
                f"{fmt_ci(interval(plain, 'score_training'))} | {fmt_ci(illegal_ci)} | "
                f"{fmt_ci(p) if masked else '–'} |")
        add("")

    add("## Figures")
    add("")
    add("Learning curves: draw-or-better rate against perfect minimax over training (100 games per point, "
        "IQM over seeds, shaded 95% CI).")
    add("")
    add(f"![learning curves]({_relpath(curves_png, doc_path.parent)})")
    add("")
    add("Performance profiles: the fraction of runs whose final draw-or-better rate against minimax exceeds "
        "each threshold (shaded 95% CI).")
    add("")
    add(f"![performance profiles]({_relpath(profile_png, doc_path.parent)})")
    add("")
    add("## Reading")
    add("")
    add("*Generated from the intervals above: 'higher'/'lower' means the 95% CIs do not overlap; otherwise the "
        "data do not separate the two.*")
    add("")
    lines.extend(reading(groups, intervals, poi, capacity_rows))
    add("")
    # Plain paths, not links: the docs site (mkdocs --strict) cannot link outside docs/.
    add("Per-run numbers: `results/run_metrics.csv` in the repository; records: `results/records/`.")
    return "\n".join(lines) + "\n"


def reading(groups, intervals, poi, capacity_rows) -> list[str]:
    """Sentences chosen by comparing intervals; says where thoughts do not help as plainly as where they do."""
    out: list[str] = []
    for algo in [a for a in ALGO_NAMES if a != "qrdqn_unmasked"]:
        for capacity in ("tiny", "default"):
            plain = intervals.get((("plain", algo, capacity), "wd_minimax"))
            if plain is None:
                continue
            better, worse, same = [], [], []
            for condition in [c for c in CONDITIONS if c != "plain"]:
                ci = intervals.get(((condition, algo, capacity), "wd_minimax"))
                if ci is None:
                    continue
                verdict = compare(ci, plain)
                p = poi.get(((condition, algo, capacity), "wd_minimax"))
                text = f"`{condition}` ({ci[0]:.2f}" + (f", P(>plain) = {p[0]:.2f}" if p else "") + ")"
                {"higher": better, "lower": worse}.get(verdict, same).append(text)
            sentence = (f"- **{ALGO_NAMES[algo]}, {capacity} net.** Plain play reaches a draw-or-better rate of "
                        f"{plain[0]:.2f} [{plain[1]:.2f}, {plain[2]:.2f}] against minimax.")
            if better:
                sentence += " Clearly higher with thoughts: " + ", ".join(better) + "."
            if worse:
                sentence += " Clearly lower with thoughts: " + ", ".join(worse) + "."
            if same:
                sentence += " Not separable from plain play: " + ", ".join(same) + "."
            if not better:
                sentence += " No thought condition clearly improves on plain play here."
            utilities = []
            for condition in [c for c in CONDITIONS if c != "plain"]:
                ci = intervals.get(((condition, algo, capacity), "utility"))
                if ci is None:
                    continue
                if ci[1] > 0:
                    utilities.append(f"`{condition}` plays better with its thoughts (utility {ci[0]:+.2f}, CI above 0)")
                elif ci[2] < 0:
                    utilities.append(f"`{condition}` plays worse with its thoughts (utility {ci[0]:+.2f}, CI below 0)")
                else:
                    utilities.append(f"`{condition}`: no measurable difference (utility {ci[0]:+.2f}, CI includes 0)")
            if utilities:
                sentence += " Masking thoughts at test time: " + "; ".join(utilities) + "."
            out.append(sentence)
    for algo in [a for a in ALGO_NAMES if a != "qrdqn_unmasked"]:
        tiny_plain = intervals.get((("plain", algo, "tiny"), "wd_minimax"))
        default_plain = intervals.get((("plain", algo, "default"), "wd_minimax"))
        if tiny_plain is None or default_plain is None:
            continue
        gap = compare(default_plain, tiny_plain)
        sentence = f"- **Capacity, {ALGO_NAMES[algo]}.** "
        if gap == "higher":
            sentence += (f"In plain play the default net ({default_plain[0]:.2f}) is clearly above the tiny one "
                         f"({tiny_plain[0]:.2f}), so there is a capacity gap to close.")
        elif gap == "lower":
            sentence += (f"In plain play the tiny net ({tiny_plain[0]:.2f}) is clearly above the default one "
                         f"({default_plain[0]:.2f}) at this budget, so there is no capacity gap for thoughts to close.")
        else:
            sentence += (f"In plain play the tiny ({tiny_plain[0]:.2f}) and default ({default_plain[0]:.2f}) nets "
                         "are not separable at this budget, so the question has no gap to answer here.")
        reach, fall = [], []
        for condition in [c for c in CONDITIONS if c != "plain"]:
            ci = intervals.get(((condition, algo, "tiny"), "wd_minimax"))
            if ci is None:
                continue
            verdict = compare(ci, default_plain)
            p = capacity_rows.get((algo, condition))
            text = f"`{condition}` ({ci[0]:.2f}" + (f", P(> default plain) = {p[0]:.2f}" if p else "") + ")"
            (fall if verdict == "lower" else reach).append((text, verdict))
        if reach:
            sentence += (" Tiny net with thoughts reaching the default net's plain play (CI not below it): "
                         + ", ".join(t + (" — clearly above" if v == "higher" else "") for t, v in reach) + ".")
        if fall:
            sentence += " Tiny net with thoughts still clearly below it: " + ", ".join(t for t, _ in fall) + "."
        out.append(sentence)
    # Thoughts are steps too: at a fixed step budget a thinking agent plays fewer games, which the
    # reader needs beside every "lower with thoughts" above.
    rates = [ci[0] for (key, metric), ci in intervals.items()
             if metric == "thoughts_per_move" and key[0] != "plain" and ci is not None]
    if rates:
        low, high = min(rates), max(rates)
        out.append(f"- **The step budget.** Thought actions count against the fixed step budget. At the measured "
                   f"{low:.2f} to {high:.2f} thoughts per move (IQM per cell, against the training opponent), a "
                   f"thinking agent spends only {1 / (1 + high):.0%} to {1 / (1 + low):.0%} of its steps on moves, so "
                   "it plays correspondingly fewer games than plain play in the same budget. The comparison is at "
                   "equal environment steps, as the protocol fixes; a thought that helps has to pay for the games "
                   "it costs.")
    for (key, metric), p in poi.items():
        if key[1] != "masked_vs_plain":
            continue
        if p[1] > 0.5:
            verdict = "masked QR-DQN is more likely to beat plain QR-DQN than not (CI above 0.5)"
        elif p[2] < 0.5:
            verdict = "plain QR-DQN is more likely to beat masked QR-DQN (CI below 0.5)"
        else:
            verdict = "the two are not separable (CI includes 0.5)"
        out.append(f"- **Masking in QR-DQN, {key[0]}.** P(masked > plain) = {p[0]:.2f} [{p[1]:.2f}, {p[2]:.2f}] on "
                   f"draw-or-better vs minimax: {verdict}.")
    if not out:
        out.append("- Not enough records for a reading (each comparison needs both of its cells).")
    return out


def report(results_dir: str | Path = "results", doc_path: str | Path = "docs/results.md",
           img_dir: str | Path = "docs/img") -> Path:
    """Regenerate ``doc_path``, the PNGs in ``img_dir`` and ``<results_dir>/run_metrics.csv`` from the records."""
    records = load_records(results_dir)
    if not records:
        raise FileNotFoundError(f"no run records under {Path(results_dir) / 'records'}; run the grid first")
    doc_path, img_dir = Path(doc_path), Path(img_dir)
    write_csv(records, Path(results_dir) / "run_metrics.csv")
    text = build_report(records, img_dir, doc_path)
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(text)
    return doc_path
