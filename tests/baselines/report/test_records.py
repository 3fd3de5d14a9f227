"""Intervals in the report need enough runs: a bootstrap over one or two runs has no spread, so such a cell
shows its point with "[–]" and is never called higher or lower than another."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from baselines.report.reading import reading  # noqa: E402
from baselines.report.records import (  # noqa: E402
    MIN_RUNS_FOR_CI,
    Stats,
    compare,
    fmt_ci,
    group_records,
    improvement,
    iqm_interval,
)
from baselines.report.views import view_section  # noqa: E402
from tests.baselines.report.test_views import PLAIN_CURVE, THINK_CURVE, record  # noqa: E402


def test_fewer_runs_than_the_minimum_give_a_point_without_bounds():
    assert MIN_RUNS_FOR_CI == 3
    for values in ([0.7], [0.7, 0.9]):
        point, low, high = iqm_interval(np.array(values))
        assert point == pytest.approx(np.mean(values)) and math.isnan(low) and math.isnan(high)
    point, low, high = iqm_interval(np.array([0.7, 0.8, 0.9]))
    assert low <= point <= high and high > low
    assert iqm_interval(np.array([])) is None


def test_a_cell_without_bounds_prints_its_point_and_is_never_separated():
    few, wide = iqm_interval(np.array([0.99])), iqm_interval(np.array([0.1, 0.12, 0.11, 0.13]))
    assert fmt_ci(few) == "0.99 [–]" and fmt_ci(wide) == "0.11 [0.10, 0.13]"
    # 0.99 against intervals near 0.1 would be "higher" if a single run's degenerate interval counted.
    assert compare(few, wide) == "few" and compare(wide, few) == "few"
    assert compare(wide, iqm_interval(np.array([0.8, 0.81, 0.82]))) == "lower"


def test_improvement_with_too_few_runs_on_one_side_has_no_bounds():
    runs = [record("lastmove_thoughts", seed, 0.9, THINK_CURVE) for seed in range(2)]
    base = [record("lastmove_plain", seed, 0.6, PLAIN_CURVE) for seed in range(10)]
    point, low, high = improvement(runs, base, "wd_minimax")
    assert point == pytest.approx(1.0) and math.isnan(low) and math.isnan(high)
    point, low, high = improvement(runs + [record("lastmove_thoughts", 2, 0.9, THINK_CURVE)], base, "wd_minimax")
    assert point == pytest.approx(1.0) and low == pytest.approx(1.0)


def test_the_reading_names_a_two_seed_cell_as_not_compared(tmp_path):
    records = [record("lastmove_plain", seed, 0.6, PLAIN_CURVE) for seed in range(10)]
    records += [record("lastmove_thoughts", seed, 0.9, THINK_CURVE) for seed in range(2)]
    records += [record("lastmove_world", seed, 0.95, THINK_CURVE) for seed in range(4)]
    stats = Stats(group_records(records))
    text = "\n".join(reading(stats))
    assert "Clearly higher with thoughts: `lastmove_world` (0.95" in text
    assert ("Not compared, too few runs for an interval (fewer than 3) on one side: `lastmove_thoughts` (0.90, "
            "P(>plain) = 1.00)") in text
    assert "nan" not in text.lower()
    _, bullets = view_section(stats, "last_move", tmp_path, "img")
    moves = next(b for b in bullets if b.startswith("- **Equal moves"))
    assert "clearly above plain play: world" in moves and "on one side: thoughts (default net: 0.90" in moves
