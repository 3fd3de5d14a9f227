"""The report's per-view reading on hand-made records: each view's thoughts are compared with its own plain play,
and the budget, learning-to-think and collapse sentences say what the curves show."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from baselines.report.reading import reading  # noqa: E402
from baselines.report.records import Stats, group_records, plain_of  # noqa: E402
from baselines.report.views import steps_to_useful, view_section  # noqa: E402


def record(condition: str, seed: int, final_wd: float, curve: list[tuple[int, int, float, float, float]]) -> dict:
    """A run with a final draw-or-better rate vs minimax and curve points (step, moves, wd, thoughts/move, utility)."""
    points = [{"step": s, "moves": m, "train_seconds": s / 1000, "draw_or_better": w, "thoughts_per_move": r,
               "thought_mass": r / (1 + r), "thought_utility": u} for s, m, w, r, u in
              [(s, m, w, r, u) for s, m, w, r, u in curve]]
    thinking = not condition.endswith("plain")
    return {"run": {"condition": condition, "algo": "maskable_ppo", "capacity": "default", "seed": seed},
            "final": {"thinking": thinking, "vs_minimax": {"draw_or_better": final_wd + 0.001 * seed}},
            "curve": points}


PLAIN_CURVE = [(0, 0, 0.1, 0.0, 0.0), (1000, 1000, 0.5, 0.0, 0.0), (2000, 2000, 0.6, 0.0, 0.0)]
THINK_CURVE = [(0, 0, 0.1, 2.0, 0.0), (1000, 400, 0.7, 1.0, 0.3), (2000, 800, 0.9, 1.0, 0.4)]
DYING_CURVE = [(0, 0, 0.1, 2.0, 0.0), (1000, 600, 0.9, 0.5, 0.02), (2000, 1500, 0.95, 0.01, 0.0)]


def records() -> list[dict]:
    out = []
    for seed in range(5):
        out += [record("lastmove_plain", seed, 0.6, PLAIN_CURVE), record("lastmove_thoughts", seed, 0.9, THINK_CURVE),
                record("plain", seed, 0.95, PLAIN_CURVE), record("thoughts", seed, 0.94, DYING_CURVE)]
    return out


def test_each_view_is_compared_with_its_own_plain_play(tmp_path):
    stats = Stats(group_records(records()))
    assert plain_of("lastmove_world") == "lastmove_plain" and plain_of("oracle") == "plain"
    text = "\n".join(reading(stats))
    assert "**Last-move view (memory necessary), MaskablePPO, default net (5 seeds per cell at the fewest: indicative, " \
           "not the protocol's 10).** Plain play reaches a draw-or-better rate of 0.60" in text
    assert "Clearly higher with thoughts: `lastmove_thoughts` (0.90" in text
    assert "**Full view, MaskablePPO, default net (5 seeds" in text and "Plain play reaches a draw-or-better rate of 0.95" in text


def test_view_sections_read_budgets_learning_to_think_and_collapse(tmp_path):
    stats = Stats(group_records(records()))
    lines, bullets = view_section(stats, "last_move", tmp_path, "img")
    text = "\n".join(bullets)
    # At 800 moves (what every twin run reached), plain play is read at its 0-move point, thinking at its end.
    assert "At 800 board moves" in text and "clearly above plain play: thoughts (default net: 0.90 vs 0.10)" in text
    assert ("Learning to think, last_move view, fastest first** (the first curve point where thought utility vs "
            "minimax reached 0.1, median over the runs that got there; 0 steps = already at the start). thoughts "
            "(MaskablePPO, default): median 1,000 steps, 5/5 runs") in text
    assert ("Kept thinking (thoughts per move, first to last curve point; thought utility the same): thoughts "
            "(MaskablePPO, default: 2.00 to 1.00; utility +0.00 to +0.40)") in text
    assert (tmp_path / "axes_last_move.png").exists() and (tmp_path / "collapse_last_move.png").exists()
    assert any(line.startswith("### Minimum detectable effect (last_move view)") for line in lines)
    _, full_bullets = view_section(stats, "full", tmp_path, "img")
    full = "\n".join(full_bullets)
    assert "Thoughts per move fell below a tenth of their start in thoughts (MaskablePPO, default: 2.00 to 0.01" in full
    assert "averages +0.00" in full and "worth about nothing" in full
    assert "Learning to think" not in full or "Learning to think, full view.** No run's thoughts reached" in full


def test_steps_to_useful():
    assert steps_to_useful({"curve": [{"step": 0, "thought_utility": 0.0}, {"step": 5, "thought_utility": 0.1}]}) == 5
    assert steps_to_useful({"curve": [{"step": 0, "thought_utility": 0.05}]}) is None
    assert steps_to_useful({"curve": [{"step": 0}]}) is None


def test_the_architecture_table_compares_each_token_network_with_the_mlp():
    from baselines.report.tables import architecture_table

    runs = []
    for seed in range(5):
        for arch, wd, params in (("mlp", 0.5, 1975), ("deepsets", 0.9, 1751)):
            r = record("lastmove_thoughts", seed, wd, THINK_CURVE)
            r["run"]["arch"], r["parameters"] = arch, params
            runs.append(r)
    stats = Stats(group_records(runs))
    assert ("lastmove_thoughts", "maskable_ppo+deepsets", "default") in stats.groups
    lines = architecture_table(stats)
    row = next(line for line in lines if line.startswith("| MaskablePPO | deepsets |"))
    assert "| 1.00 [1.00, 1.00] |" in row and "1,751 / 1,975" in row  # every deepsets run beats every MLP run


def test_the_probe_section_reads_the_probe_records(tmp_path):
    from baselines.report.probe_section import load_probe, probe_section

    assert load_probe(tmp_path) is None  # not run: no section
    records = [{"arch": "mlp", "size": size, "mode": mode, "seed": 0, "parameters": 10, "accuracy": acc,
                "trace_reproduction": 0.5, "teacher_forced_accuracy": 0.9}
               for size, mode, acc in (("tiny", "one_pass", 0.7), ("tiny", "two_pass", 0.8),
                                       ("default", "one_pass", 0.95), ("default", "two_pass", 0.9))]
    (tmp_path / "probe").mkdir()
    (tmp_path / "probe" / "probe.json").write_text('{"records": ' + __import__("json").dumps(records) + "}")
    text = "\n".join(probe_section(load_probe(tmp_path)))
    assert "## Capacity probe" in text
    assert "80.0% of the positions, against 70.0% in one pass: more" in text and "do not close the gap" in text


def test_a_view_with_token_network_cells_is_drawn_and_read(tmp_path):
    """Architecture-grid records (algorithm key "maskable_ppo+transformer") sit beside the MLP's in each view."""
    arch_runs = []
    for seed in range(3):
        for condition, final, curve in (("lastmove_plain", 0.7, PLAIN_CURVE), ("lastmove_thoughts", 0.8, THINK_CURVE)):
            run = record(condition, seed, final, curve)
            run["run"]["arch"] = "transformer"
            arch_runs.append(run)
    stats = Stats(group_records(records() + arch_runs))
    assert ("lastmove_thoughts", "maskable_ppo+transformer", "default") in stats.groups
    lines, bullets = view_section(stats, "last_move", tmp_path, "img")
    table = "\n".join(lines)
    assert "MaskablePPO (transformer):" in table and "| default | lastmove_thoughts |" in table
    assert any(b.startswith("- **Equal moves, last_move view, MaskablePPO (transformer).**") for b in bullets)
    assert (tmp_path / "axes_last_move.png").exists() and (tmp_path / "collapse_last_move.png").exists()
    assert any("thoughts (MaskablePPO (transformer), default)" in b for b in bullets)
    text = "\n".join(reading(stats))
    assert ("**Architectures against the MLP** (draw-or-better vs minimax). transformer (MaskablePPO, default) on "
            "`lastmove_plain`: 0.70, clearly above the MLP's 0.60; transformer (MaskablePPO, default) on "
            "`lastmove_thoughts`: 0.80, clearly below the MLP's 0.90.") in text


def test_a_view_with_plain_play_only_says_no_thought_condition_has_a_record():
    only_plain = [r for r in records() if r["run"]["condition"] == "plain"]
    text = "\n".join(reading(Stats(group_records(only_plain))))
    assert "Plain play reaches a draw-or-better rate of 0.95" in text
    assert "No thought condition has a record here yet." in text
    assert "No thought condition clearly improves" not in text
