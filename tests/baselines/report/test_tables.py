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


def test_the_cloning_table_gives_each_pretrained_cell_its_teacher_agreement():
    from baselines.report.tables import cloning_table

    runs = []
    for seed, agreement in enumerate((0.89, 0.9, 0.95)):
        record = run(seed, 0.7, None)
        record["run"]["condition"] = "lastmove_pretrained"
        record["pretrain"] = {"agreement": agreement, "nll": 0.4}
        runs.append(record)
    lines = cloning_table(Stats(group_records(runs + [run(0, 0.9, None)])))
    rows = [line for line in lines if line.startswith("| MaskablePPO")]
    assert rows == ["| MaskablePPO | default | lastmove_pretrained | 3 | 0.913 (0.890-0.950) | 0.70 [0.70, 0.70] |"]
    assert cloning_table(Stats(group_records([run(0, 0.9, None)]))) == []


def test_the_header_counts_headline_and_architecture_runs_apart():
    from baselines.report.tables import header, planned_runs, planned_token_runs

    def full(seed: int, arch: str) -> dict:
        record = run(seed, 0.9, None)
        record["run"]["arch"] = arch
        record["config"] = {"arch": arch, "hyperparams": {"total_timesteps": 600_064}}
        record["final"]["games_per_opponent"] = 1000
        record["versions"] = {"torch": "2.13.0"}
        return record

    records = [full(0, "mlp"), full(1, "mlp"), full(0, "transformer")]
    # 2 token networks x 4 conditions per view x 2 views x 2 sizes x 10 seeds
    assert planned_token_runs(records) == 320
    text = "\n".join(header(records, Stats(group_records(records))))
    assert (f"**A partial grid: 2 of the {planned_runs()} runs** of the headline grid, and 1 of the architecture "
            "grid's 320 token-network runs") in text
