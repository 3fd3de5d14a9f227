"""The main table's "reached 99%" column: a run counts only when its final evaluation confirms the rate."""

from __future__ import annotations

import pytest

pytest.importorskip("matplotlib")

from baselines.report.records import Stats, group_records  # noqa: E402
from baselines.report.tables import main_table  # noqa: E402


def run(seed: int, final_wd: float, first_at_99: int | None) -> dict:
    return {"run": {"condition": "plain", "algo": "maskable_ppo", "capacity": "default", "seed": seed},
            "final": {"thinking": False, "vs_minimax": {"draw_or_better": final_wd}},
            "steps_to_threshold": first_at_99, "moves_to_threshold": first_at_99,
            "seconds_to_threshold": None if first_at_99 is None else first_at_99 / 1000}


def test_a_curve_point_at_99_without_a_final_99_does_not_count():
    runs = [run(0, 0.995, 100_000), run(1, 1.0, 300_000), run(2, 0.93, 50_000), run(3, 0.96, None)]
    row = next(line for line in main_table(Stats(group_records(runs)), "img.png") if "| plain |" in line)
    # Seed 2 touched 0.99 on its 100-game curve at 50,000 steps but drew only 93% of its final games.
    assert row.endswith("| 2/4 (median 200,000 steps, 200,000 moves, 200 s) |")
