"""The report's reading: sentences chosen by comparing intervals, as plain where thoughts do not help as where they do."""

from __future__ import annotations

from baselines.config import PROTOCOL_SEEDS, condition_view
from baselines.report.records import (
    ALGO_NAMES,
    CI,
    MASKED_ALGOS,
    THOUGHT_CONDITIONS,
    TOO_FEW,
    VIEWS,
    Stats,
    compare,
    fmt_ci,
    has_interval,
    plain_of,
)

VIEW_NAMES = {"full": "Full view", "last_move": "Last-move view (memory necessary)"}


def view_conditions(view: str) -> list[str]:
    """The thought conditions of one view."""
    return [c for c in THOUGHT_CONDITIONS if condition_view(c) == view]


def reading(stats: Stats, extra: list[str] | None = None) -> list[str]:
    """One bullet per comparison the records allow (a placeholder bullet when they allow none); ``extra``
    bullets (budgets, collapse) go before the step-budget and masking notes."""
    out: list[str] = []
    for view in VIEWS:
        for algo in MASKED_ALGOS:
            for capacity in ("tiny", "default"):
                sentence = conditions_sentence(stats, algo, capacity, view)
                if sentence:
                    out.append(sentence)
        for algo in MASKED_ALGOS:
            sentence = capacity_sentence(stats, algo, view)
            if sentence:
                out.append(sentence)
    out += architecture_sentences(stats)
    out += (extra or []) + budget_sentence(stats) + masking_sentences(stats)
    if not out:
        out.append("- Not enough records for a reading (each comparison needs both of its cells).")
    return out


def conditions_sentence(stats: Stats, algo: str, capacity: str, view: str = "full") -> str | None:
    """Each thought condition of ``view`` against plain play of the view (same algorithm and net), then what
    masking thoughts does."""
    plain = stats.intervals.get(((plain_of(view_conditions(view)[0]), algo, capacity), "wd_minimax"))
    if plain is None:
        return None
    groups: dict[str, list[str]] = {"higher": [], "lower": [], "same": [], "few": []}
    for condition in view_conditions(view):
        ci = stats.intervals.get(((condition, algo, capacity), "wd_minimax"))
        if ci is None:
            continue
        verdict = compare(ci, plain)
        p = stats.poi.get(((condition, algo, capacity), "wd_minimax"))
        text = f"`{condition}` ({ci[0]:.2f}" + (f", P(>plain) = {p[0]:.2f}" if p else "") + ")"
        groups[verdict if verdict in ("higher", "lower", "few") else "same"].append(text)
    seeds = min(len(stats.groups[(c, a, cap)]) for (c, a, cap) in stats.groups if (a, cap) == (algo, capacity)
                and condition_view(c) == view)
    few = (f" ({seeds} seed{'s' if seeds != 1 else ''} per cell at the fewest: indicative, not the protocol's "
           f"{PROTOCOL_SEEDS})" if seeds < PROTOCOL_SEEDS else "")
    sentence = (f"- **{VIEW_NAMES[view]}, {ALGO_NAMES[algo]}, {capacity} net{few}.** Plain play reaches a draw-or-better rate of "
                f"{fmt_ci(plain)} against minimax.")
    sentence += verdicts_text(groups)
    utilities = utility_clauses(stats, algo, capacity, view)
    if utilities:
        sentence += " Masking thoughts at test time: " + "; ".join(utilities) + "."
    return sentence


def verdicts_text(groups: dict[str, list[str]]) -> str:
    """The thought conditions grouped by their verdict against plain play, and what that adds up to."""
    text = ""
    for verdict, lead in (("higher", " Clearly higher with thoughts: "), ("lower", " Clearly lower with thoughts: "),
                          ("same", " Not separable from plain play: "),
                          ("few", f" Not compared, {TOO_FEW} on one side: ")):
        if groups[verdict]:
            text += lead + ", ".join(groups[verdict]) + "."
    if not any(groups.values()):
        return text + " No thought condition has a record here yet."
    if not groups["higher"]:
        return text + " No thought condition clearly improves on plain play here."
    return text


def utility_clauses(stats: Stats, algo: str, capacity: str, view: str = "full") -> list[str]:
    """Per thought condition of ``view``: whether play with its thoughts beats play with them masked."""
    clauses = []
    for condition in view_conditions(view):
        ci = stats.intervals.get(((condition, algo, capacity), "utility"))
        if ci is None:
            continue
        if not has_interval(ci):
            clauses.append(f"`{condition}`: {TOO_FEW} (utility {ci[0]:+.2f})")
        elif ci[1] > 0:
            clauses.append(f"`{condition}` plays better with its thoughts (utility {ci[0]:+.2f}, CI above 0)")
        elif ci[2] < 0:
            clauses.append(f"`{condition}` plays worse with its thoughts (utility {ci[0]:+.2f}, CI below 0)")
        else:
            clauses.append(f"`{condition}`: no measurable difference (utility {ci[0]:+.2f}, CI includes 0)")
    return clauses


def _capacity_gap(tiny_plain: CI, default_plain: CI) -> str:
    """Whether plain play leaves a gap between the tiny and the default net for thoughts to close."""
    gap = compare(default_plain, tiny_plain)
    if gap == "few":
        return (f"In plain play the tiny ({tiny_plain[0]:.2f}) and default ({default_plain[0]:.2f}) nets are not "
                f"compared: {TOO_FEW} on one side.")
    if gap == "higher":
        return (f"In plain play the default net ({default_plain[0]:.2f}) is clearly above the tiny one "
                f"({tiny_plain[0]:.2f}), so there is a capacity gap to close.")
    if gap == "lower":
        return (f"In plain play the tiny net ({tiny_plain[0]:.2f}) is clearly above the default one "
                f"({default_plain[0]:.2f}) at this budget, so there is no capacity gap for thoughts to close.")
    return (f"In plain play the tiny ({tiny_plain[0]:.2f}) and default ({default_plain[0]:.2f}) nets "
            "are not separable at this budget, so the question has no gap to answer here.")


def capacity_sentence(stats: Stats, algo: str, view: str = "full") -> str | None:
    """Does a tiny net with thoughts reach the default net's plain play (in ``view``)?"""
    plain = plain_of(view_conditions(view)[0])
    tiny_plain = stats.intervals.get(((plain, algo, "tiny"), "wd_minimax"))
    default_plain = stats.intervals.get(((plain, algo, "default"), "wd_minimax"))
    if tiny_plain is None or default_plain is None:
        return None
    sentence = f"- **Capacity, {VIEW_NAMES[view].lower()}, {ALGO_NAMES[algo]}.** " + _capacity_gap(tiny_plain,
                                                                                                    default_plain)
    reach: list[tuple[str, str]] = []
    fall: list[tuple[str, str]] = []
    few: list[str] = []
    for condition in view_conditions(view):
        ci = stats.intervals.get(((condition, algo, "tiny"), "wd_minimax"))
        if ci is None:
            continue
        verdict = compare(ci, default_plain)
        p = stats.capacity_rows.get((algo, condition))
        text = f"`{condition}` ({ci[0]:.2f}" + (f", P(> default plain) = {p[0]:.2f}" if p else "") + ")"
        if verdict == "few":
            few.append(text)
        else:
            (fall if verdict == "lower" else reach).append((text, verdict))
    if few:
        sentence += f" Not compared, {TOO_FEW} on one side: " + ", ".join(few) + "."
    return sentence + _reach_clauses(reach, fall)


def _reach_clauses(reach: list[tuple[str, str]], fall: list[tuple[str, str]]) -> str:
    """Which tiny-net thought conditions reach the default net's plain play, and which fall short."""
    text = ""
    if reach:
        text += (" Tiny net with thoughts reaching the default net's plain play (CI not below it): "
                 + ", ".join(t + (" — clearly above" if v == "higher" else "") for t, v in reach) + ".")
    if fall:
        text += " Tiny net with thoughts still clearly below it: " + ", ".join(t for t, _ in fall) + "."
    return text


def architecture_sentences(stats: Stats) -> list[str]:
    """Each token network against the MLP in the same condition, algorithm and net size (issue 13)."""
    words = {"higher": "clearly above", "lower": "clearly below", "overlap": "not separable from",
             "few": f"not compared ({TOO_FEW}) with"}
    parts = []
    for key, arch, (condition, base, capacity) in stats.token_network_pairs():
        mlp = stats.intervals.get(((condition, base, capacity), "wd_minimax"))
        ci = stats.intervals.get((key, "wd_minimax"))
        if mlp is None or ci is None:
            continue
        parts.append(f"{arch} ({ALGO_NAMES.get(base, base)}, {capacity}) on `{condition}`: {ci[0]:.2f}, "
                     f"{words[compare(ci, mlp)]} the MLP's {mlp[0]:.2f}")
    return ["- **Architectures against the MLP** (draw-or-better vs minimax). " + "; ".join(parts) + "."] if parts else []


def budget_sentence(stats: Stats) -> list[str]:
    """Thoughts are steps too: at a fixed step budget a thinking agent plays fewer games.

    The reader needs this beside every "lower with thoughts" above.
    """
    rates = [ci[0] for (key, metric), ci in stats.intervals.items()
             if metric == "thoughts_per_move" and key[0] != "plain" and ci is not None]
    if not rates:
        return []
    low, high = min(rates), max(rates)
    return [f"- **The step budget.** Thought actions count against the fixed step budget. At the measured "
            f"{low:.2f} to {high:.2f} thoughts per move (IQM per cell, against the training opponent), a "
            f"thinking agent spends only {1 / (1 + high):.0%} to {1 / (1 + low):.0%} of its steps on moves, so "
            "it plays correspondingly fewer games than plain play in the same budget. The comparison is at "
            "equal environment steps, as the protocol fixes; a thought that helps has to pay for the games "
            "it costs."]


def masking_sentences(stats: Stats) -> list[str]:
    """Masked against plain QR-DQN, per condition that has both."""
    out = []
    for (key, _), p in stats.poi.items():
        if key[1] != "masked_vs_plain":
            continue
        if not has_interval(p):
            out.append(f"- **Masking in QR-DQN, {key[0]}.** P(masked > plain) = {p[0]:.2f} on draw-or-better vs "
                       f"minimax: {TOO_FEW} on one side.")
            continue
        if p[1] > 0.5:
            verdict = "masked QR-DQN is more likely to beat plain QR-DQN than not (CI above 0.5)"
        elif p[2] < 0.5:
            verdict = "plain QR-DQN is more likely to beat masked QR-DQN (CI below 0.5)"
        else:
            verdict = "the two are not separable (CI includes 0.5)"
        out.append(f"- **Masking in QR-DQN, {key[0]}.** P(masked > plain) = {fmt_ci(p)} on "
                   f"draw-or-better vs minimax: {verdict}.")
    return out
