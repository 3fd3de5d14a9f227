"""The report's per-view sections: fair budgets, minimum detectable effect, curves on three axes, the
thought-collapse figure, and the reading sentences they support (equal moves, fastest R(δx), when thoughts die)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from baselines.config import base_condition
from baselines.report.budgets import (
    at_budget,
    budgets_table,
    collapse_summary,
    fmt_budget,
    mde_lines,
    plot_axes,
    plot_collapse,
)
from baselines.report.records import (
    algo_name,
    METRICS,
    TOO_FEW,
    Cell,
    Stats,
    compare,
    finite,
    in_view,
    plain_of,
)

VIEW_TITLES = {"full": "Full view", "last_move": "Last-move view: the store is the only memory"}
#: A curve point's thought utility (score with thoughts minus masked, 100 games vs minimax) at least this
#: counts as useful thinking for "steps to useful thinking".
USEFUL = 0.1


def steps_to_useful(run: dict) -> int | None:
    """The first curve step at which the run's thoughts were useful (utility >= :data:`USEFUL`), or None."""
    for point in run.get("curve") or []:
        if finite(point.get("thought_utility")) and point["thought_utility"] >= USEFUL:
            return int(point["step"])
    return None


def view_section(stats: Stats, view: str, img_dir: Path, rel: str) -> tuple[list[str], list[str]]:
    """``(lines, reading bullets)`` of one view; ``rel`` is ``img_dir`` as the document links it."""
    keys = in_view(stats.keys, view)
    if not keys:
        return [], []
    groups = stats.groups
    axes_png, collapse_png = img_dir / f"axes_{view}.png", img_dir / f"collapse_{view}.png"
    plot_axes(groups, keys, axes_png)
    thinking = [k for k in keys if k[0] != plain_of(k[0]) and k[1] != "qrdqn_unmasked"]
    if thinking:
        plot_collapse(groups, thinking, collapse_png)
    lines = [f"## {VIEW_TITLES[view]}", "", *budgets_table(groups, keys, view),
             *mde_lines(groups, keys, METRICS["wd_minimax"][1], view),
             f"Learning curves on the three budget axes (mean over seeds): ![axes]({rel}/{axes_png.name})", ""]
    if thinking:
        lines += ["Thought collapse: thoughts per move and the policy's probability mass on thought actions over "
                  "training (mean over seeds; solid default net, dashed tiny). For QR-DQN the mass is that of its "
                  f"greedy policy, 1 where its argmax is a thought: ![collapse]({rel}/{collapse_png.name})", "",
                  *useful_table(groups, thinking)]
    return lines, [*equal_moves_sentences(groups, keys, view), *fastest_sentences(groups, thinking, view),
                   *collapse_sentences(groups, thinking, view)]


def useful_table(groups: dict[Cell, list[dict]], keys: list[Cell]) -> list[str]:
    """Per thinking cell: how many runs ever thought usefully, and the median step at which they first did."""
    lines = [f"Steps to useful thinking: the first curve point where thought utility (vs minimax) is at least "
             f"{USEFUL}.", "", "| algorithm | net | condition | runs that got there | median step |", "|---|---|---|---|---|"]
    for key in keys:
        steps = [s for s in (steps_to_useful(r) for r in groups[key]) if s is not None]
        median = f"{int(np.median(steps)):,}" if steps else "–"
        lines.append(f"| {algo_name(key[1])} | {key[2]} | {key[0]} | {len(steps)}/{len(groups[key])} | "
                     f"{median} |")
    return lines + [""]


def equal_moves_sentences(groups: dict[Cell, list[dict]], keys: list[Cell], view: str) -> list[str]:
    """At equal board moves (thoughts free), each thinking cell against plain play of the same algorithm and net."""
    out = []
    for algo in dict.fromkeys(k[1] for k in keys):
        out += _equal_moves(groups, [k for k in keys if k[1] == algo], view)
    return out


def _equal_moves(groups: dict[Cell, list[dict]], keys: list[Cell], view: str) -> list[str]:
    budget, cells = at_budget(groups, keys, "moves")
    if budget is None:
        return []
    better, worse, same, few = [], [], [], []
    for key in keys:
        plain = cells.get((plain_of(key[0]), key[1], key[2]))
        ci = cells.get(key)
        if key[0] == plain_of(key[0]) or ci is None or plain is None:
            continue
        verdict = compare(ci, plain)
        label = f"{base_condition(key[0])} ({key[2]} net: {ci[0]:.2f} vs {plain[0]:.2f})"
        lists = {"higher": better, "lower": worse, "few": few}
        lists.get(verdict, same).append(label)
    if not (better or worse or same or few):
        return []
    text = (f"- **Equal moves, {view} view, {algo_name(keys[0][1])}.** At {fmt_budget(budget)} "
            "board moves (thoughts free; every run reached it), draw-or-better vs minimax on the curve:")
    for lead, items in ((" clearly above plain play: ", better), (" clearly below: ", worse),
                        (" not separable: ", same), (f" not compared, {TOO_FEW} on one side: ", few)):
        if items:
            text += lead + "; ".join(items) + "."
    return [text]


def fastest_sentences(groups: dict[Cell, list[dict]], keys: list[Cell], view: str) -> list[str]:
    """Which condition's runs learned useful thoughts first (median step over the runs that did)."""
    if not any("thought_utility" in p for k in keys for r in groups[k] for p in r.get("curve") or []):
        return []  # records from before curve points measured utility
    timed = []
    for key in keys:
        steps = [s for s in (steps_to_useful(r) for r in groups[key]) if s is not None]
        if steps:
            timed.append((float(np.median(steps)), len(steps), len(groups[key]), key))
    if not timed:
        return [f"- **Learning to think, {view} view.** No run's thoughts reached a utility of "
                f"{USEFUL} at any curve point: no condition taught useful thinking within the budget."]
    timed.sort()
    parts = [f"{base_condition(k[0])} ({algo_name(k[1])}, {k[2]}): median {m:,.0f} steps, {n}/{total} runs"
             for m, n, total, k in timed[:4]]
    # Says what is timed: a reader otherwise takes these steps for the table's steps to 99%.
    return [f"- **Learning to think, {view} view, fastest first** (the first curve point where thought utility "
            f"vs minimax reached {USEFUL}, median over the runs that got there; 0 steps = already at the start)"
            ". " + "; ".join(parts) + "."]


def collapse_sentences(groups: dict[Cell, list[dict]], keys: list[Cell], view: str) -> list[str]:
    """When thoughts die: the cells whose thoughts per move fell below a tenth of the start, and when."""
    summary = collapse_summary(groups, keys)
    died = [(step, key, first, last) for key, (first, last, step) in summary.items() if step is not None]
    kept = [(key, first, last) for key, (first, last, step) in summary.items() if step is None]
    if not summary:
        return []
    text = (f"- **When thoughts die, {view} view.** Thoughts can die two ways: abandoned (fewer per move) or emptied "
            "(as many, worth nothing: the utility falls).")
    if died:
        died.sort(key=lambda item: item[0])
        text += " Thoughts per move fell below a tenth of their start in " + "; ".join(
            f"{base_condition(k[0])} ({algo_name(k[1])}, {k[2]}: {first:.2f} to {last:.2f}, by step "
            f"{step:,.0f})" for step, k, first, last in died) + "."
    if kept:
        text += " Kept thinking (thoughts per move, first to last curve point; thought utility the same): " + "; ".join(
            f"{base_condition(k[0])} ({algo_name(k[1])}, {k[2]}: {first:.2f} to {last:.2f}; {_utility_path(groups, k)})"
            for k, first, last in kept) + "."
    return [text + _why(groups, [k for _, k, _, _ in died])]


def _utility_path(groups: dict[Cell, list[dict]], key: Cell) -> str:
    """Thought utility at the first and the last curve point (mean over seeds), as text."""
    curve = _mean_utility(groups[key])
    return "–" if curve is None else f"utility {curve[0]:+.2f} to {curve[1]:+.2f}"


def _mean_utility(runs: list[dict]) -> tuple[float, float] | None:
    ends = [(r["curve"][0].get("thought_utility"), r["curve"][-1].get("thought_utility")) for r in runs if r.get("curve")]
    ends = [(a, b) for a, b in ends if finite(a) and finite(b)]
    if not ends:
        return None
    return float(np.mean([a for a, _ in ends])), float(np.mean([b for _, b in ends]))


def _why(groups: dict[Cell, list[dict]], died: list[Cell]) -> str:
    """What the final thought utility of the cells whose thoughts died says about why."""
    if not died:
        return ""
    utilities = [r["curve"][-1].get("thought_utility") for k in died for r in groups[k] if r.get("curve")]
    values = [u for u in utilities if finite(u)]
    if not values:
        return ""
    mean = float(np.mean(values))
    worth = "about nothing" if abs(mean) < 0.05 else ("something" if mean > 0 else "less than nothing")
    return (f" Where they died, the thought utility of the last curve point averages {mean:+.2f} (score with "
            f"thoughts minus masked): the thoughts that remained were worth {worth} to play.")
