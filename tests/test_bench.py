"""The benchmark harness of benchmarks/bench.py: its loops play legally, and its ratios are paired by round."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from tttthought_env import ThoughtTicTacToeEnv, pettingzoo_env

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/ lives beside the package, not in it
from benchmarks import bench  # noqa: E402
from benchmarks.bench import AECLoop, GymLoop, compare, paired_ratio  # noqa: E402


def test_paired_ratio_cancels_a_drift_that_the_ratio_of_medians_keeps():
    # The machine slows down over the run; within each round ours is exactly 3x the peer.
    peer = [100.0, 90.0, 50.0, 40.0, 30.0]
    ours = [300.0, 270.0, 150.0, 120.0, 90.0]
    assert paired_ratio(ours, peer, fallback=0.0) == pytest.approx(3.0)
    # Rounds that do not pair up (or rows read back without samples) keep the fallback.
    assert paired_ratio(ours[:4], peer, fallback=1.5) == 1.5
    assert paired_ratio(None, peer, fallback=2.5) == 2.5


def test_compare_uses_the_per_round_ratio_and_reports_the_target():
    row = {"kind": "candidate", "group": "single", "task": "", "batch": 1}
    rows = [
        {**row, "name": "PettingZoo tictactoe_v3 raw_env", "steps_per_s": 50.0, "samples": [100.0, 10.0, 50.0],
         "steps_per_cpu_s": 50.0, "cpu_samples": [100.0, 10.0, 50.0]},
        # A ratio of medians would say 60 / 50 = 1.2x; every round says 2x or more.
        {**row, "name": "ours raw Gymnasium env [Full-v0]", "steps_per_s": 60.0, "samples": [200.0, 60.0, 100.0],
         "steps_per_cpu_s": 60.0, "cpu_samples": [200.0, 60.0, 100.0]},
    ]
    (ratio,) = compare(rows)
    assert ratio["ratio"] == pytest.approx(2.0) and ratio["cpu_ratio"] == pytest.approx(2.0)
    # Met on the per-round ratio (2x >= 1.5x), where the ratio of medians (1.2x) would have failed it.
    assert ratio["target"] == 1.5 and ratio["met"] is True


def count_resets(env) -> list:
    """Make ``env.reset`` append to the returned list at every call."""
    resets = []
    original_reset = env.reset

    def counting_reset(**kwargs):
        resets.append(1)
        return original_reset(**kwargs)

    env.reset = counting_reset
    return resets


def test_gym_loop_plays_only_legal_actions_and_resets():
    env = ThoughtTicTacToeEnv(opponent="random", illegal_action="raise")  # an illegal pick would raise
    resets = count_resets(env)
    assert GymLoop(env, seed=3).run(600) == 600
    assert len(resets) > 10  # games end (at most 36 learner steps each) and the loop starts new ones


def test_aec_loop_plays_only_legal_actions_and_resets():
    env = pettingzoo_env.env(illegal_action="raise")  # an illegal pick would raise
    resets = count_resets(env)
    assert AECLoop(env, seed=4).run(600) == 600
    assert len(resets) > 5  # both players step; games end and the loop starts new ones


def test_the_command_line_runs_the_quick_or_the_full_benchmark(capsys, monkeypatch, tmp_path):
    calls = []

    def run_bench(quick=True, rounds=None, verbose=False):
        calls.append({"quick": quick, "rounds": rounds, "verbose": verbose})
        return [{"name": "ours", "steps_per_s": 1.0}]

    monkeypatch.setattr(bench, "run_bench", run_bench)
    monkeypatch.setattr(bench, "format_table", lambda rows: "| TABLE | " + rows[0]["name"])
    assert bench.main([]) == 0
    assert "| TABLE | ours" in capsys.readouterr().out
    out = tmp_path / "rows" / "bench.json"
    assert bench.main(["--full", "--rounds", "3", "--verbose", "--json", str(out)]) == 0
    assert calls == [{"quick": True, "rounds": None, "verbose": False}, {"quick": False, "rounds": 3, "verbose": True}]
    assert json.loads(out.read_text()) == [{"name": "ours", "steps_per_s": 1.0}]
