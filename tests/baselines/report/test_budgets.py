"""The report's fair budgets, minimum detectable effect and collapse summary, on hand-made curves."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from baselines.report.budgets import (  # noqa: E402
    at_budget,
    collapse_summary,
    common_budget,
    curve_offset_sentence,
    curve_value,
    mde_lines,
    minimum_detectable_effect,
    plot_axes,
    plot_collapse,
)


def run(points: list[tuple[int, int, float, float, float]]) -> dict:
    """A record with curve points (step, moves, seconds, draw_or_better, thoughts_per_move)."""
    return {"curve": [{"step": s, "moves": m, "train_seconds": t, "draw_or_better": w, "thoughts_per_move": r,
                       "thought_mass": r / (1 + r)} for s, m, t, w, r in points]}


PLAIN = [run([(0, 0, 0.0, 0.1, 0.0), (100, 100, 1.0, 0.5, 0.0), (200, 200, 2.0, 0.9, 0.0)]) for _ in range(3)]
THINKING = [run([(0, 0, 0.0, 0.1, 2.0), (100, 50, 1.5, 0.6, 1.0), (200, 90, 3.0, 0.7, 0.05)]) for _ in range(3)]


def test_curve_value_reads_the_last_point_within_the_budget():
    assert curve_value(PLAIN[0], "moves", 150) == 0.5
    assert curve_value(PLAIN[0], "moves", 200) == 0.9
    assert curve_value(THINKING[0], "train_seconds", 2.9) == 0.6
    assert curve_value({"curve": [{"step": 5, "draw_or_better": 0.3}]}, "step", 4) is None


def test_equal_moves_reads_plain_play_earlier():
    groups = {("plain", "maskable_ppo", "default"): PLAIN, ("thoughts", "maskable_ppo", "default"): THINKING}
    keys = list(groups)
    assert common_budget(PLAIN + THINKING, "moves") == 90 and common_budget(PLAIN + THINKING, "step") == 200
    budget, cells = at_budget(groups, keys, "moves")
    assert budget == 90
    assert cells[keys[0]][0] == pytest.approx(0.1)  # plain at 90 moves: only its first point counts
    assert cells[keys[1]][0] == pytest.approx(0.7)  # thinking at the end of its training
    _, by_steps = at_budget(groups, keys, "step")
    assert by_steps[keys[0]][0] == pytest.approx(0.9) and by_steps[keys[1]][0] == pytest.approx(0.7)


def test_minimum_detectable_effect():
    scores = np.array([0.9, 1.0, 0.95, 0.85, 1.0, 0.9, 0.95, 1.0, 0.9, 0.95])
    expected = (1.959964 + 0.841621) * scores.std(ddof=1) * np.sqrt(2 / 10)
    assert minimum_detectable_effect(scores, 10) == pytest.approx(expected)
    assert minimum_detectable_effect(np.array([1.0]), 10) is None
    assert minimum_detectable_effect(np.full(10, 1.0), 10) == 0.0  # no spread: any effect is detectable


def test_mde_lines_give_the_effect_at_the_seeds_at_hand_and_at_10():
    four = [0.9, 1.0, 0.95, 0.85]
    groups = {("plain", "maskable_ppo", "default"): [{"wd": v} for v in four],
              ("thoughts", "maskable_ppo", "default"): [{"wd": 0.9}, {"wd": 0.8}]}
    lines = mde_lines(groups, list(groups), lambda r: r["wd"], "full")
    z_sd = (1.959964 + 0.841621) * np.std(four, ddof=1)
    assert lines[4].endswith("| MDE, these seeds | MDE, 10 seeds |")
    assert f"| 4 | {np.std(four, ddof=1):.3f} | {z_sd * np.sqrt(2 / 4):.3f} | {z_sd * np.sqrt(2 / 10):.3f} |" in lines[6]
    assert lines[7].endswith("| thoughts | 2 | – | – | – |")  # two runs: too few for a spread


def test_collapse_summary_and_figures(tmp_path):
    groups = {("thoughts", "maskable_ppo", "default"): THINKING, ("plain", "maskable_ppo", "default"): PLAIN}
    summary = collapse_summary(groups, [("thoughts", "maskable_ppo", "default")])
    first, last, died = summary[("thoughts", "maskable_ppo", "default")]
    assert first == pytest.approx(2.0) and last == pytest.approx(0.05)
    assert 100 < died <= 200  # the rate crosses 0.2 (a tenth of 2.0) between the last two points
    plot_axes(groups, list(groups), tmp_path / "axes.png")
    plot_collapse(groups, [("thoughts", "maskable_ppo", "default")], tmp_path / "collapse.png")
    assert (tmp_path / "axes.png").stat().st_size > 1000 and (tmp_path / "collapse.png").stat().st_size > 1000


def test_the_curve_offset_is_the_last_point_minus_the_final_rate():
    runs = [dict(run([(0, 0, 0.0, 0.1, 0.0), (100, 100, 1.0, end, 0.0)]),
                 final={"vs_minimax": {"draw_or_better": final}}) for end, final in ((0.99, 0.93), (0.9, 0.92))]
    text = curve_offset_sentence(runs + [run([(0, 0, 0.0, 0.5, 0.0)])])  # a run without a final rate is left out
    assert "over these 2 runs its last point lies +0.020 from the final evaluation's rate on average " \
           "(from -0.020 to +0.060)" in text
    assert curve_offset_sentence(PLAIN) == ""
