"""The tuning sweep: the same combinations for every condition, held-out seeds, one selection rule."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sb3_contrib")

from baselines.config import CONDITIONS, load_hyperparams  # noqa: E402
from baselines.grid import grid_jobs, record_path  # noqa: E402
from baselines.sweep import (  # noqa: E402
    combinations,
    combo_name,
    load_sweep,
    read_selection,
    select,
    sweep_jobs,
    tuned_overrides,
)

SPEC = load_sweep()


@pytest.mark.parametrize("algo", ["maskable_ppo", "qrdqn"])
def test_the_first_combination_is_the_yaml_default(algo):
    defaults = load_hyperparams(algo)
    first = combinations(SPEC, algo)[0]
    assert first == {key: defaults[key] for key in first}
    names = [combo_name(c) for c in combinations(SPEC, algo)]
    assert len(names) == len(set(names)) == 4


def test_every_condition_gets_the_same_sweep_on_held_out_seeds():
    jobs = sweep_jobs(SPEC, list(CONDITIONS))
    assert not set(SPEC["seeds"]) & set(range(10))  # the grid's seeds are never tuned on
    per_cell: dict = {}
    for job in jobs:
        per_cell.setdefault((job["condition"], job["algo"]), set()).add(job["combo"])
        assert "seed" in job and job["seed"] in SPEC["seeds"]
        assert record_path("r", {**job, "combo": job["combo"]}).parent.name == job["combo"]
    combos = {algo: {combo_name(c) for c in combinations(SPEC, algo)} for algo in ("maskable_ppo", "qrdqn")}
    assert all(found == combos[algo] for (condition, algo), found in per_cell.items())
    assert ("pretrained", "qrdqn") not in per_cell and ("lastmove_pretrained", "maskable_ppo") in per_cell


def fake(condition: str, combo: dict, seed: int, wd: float) -> dict:
    return {"run": {"condition": condition, "algo": "maskable_ppo", "capacity": "default", "seed": seed,
                    "combo": combo_name(combo)}, "final": {"vs_minimax": {"draw_or_better": wd}}}


def complete(condition: str, scores: dict[int, tuple[float, float]]) -> list[dict]:
    """A complete sweep of one cell: every combination (by index) on both sweep seeds, with the given W+D."""
    combos = combinations(SPEC, "maskable_ppo")
    return [fake(condition, combos[i], seed, wd) for i, pair in scores.items() for seed, wd in zip(SPEC["seeds"], pair)]


def test_select_applies_the_rule_and_breaks_ties_to_the_earlier_combination(tmp_path):
    first, second, third, _ = combinations(SPEC, "maskable_ppo")
    records = [*complete("plain", {0: (0.9, 0.9), 1: (0.8, 0.8), 2: (1.0, 0.96), 3: (0.9, 0.9)}),
               *complete("thoughts", {0: (0.5, 0.5), 1: (0.5, 0.5), 2: (0.4, 0.4), 3: (0.5, 0.5)})]
    cells = select(records, SPEC)["cells"]
    assert cells["plain/maskable_ppo/default"]["overrides"] == third
    assert cells["plain/maskable_ppo/default"]["mean"] == pytest.approx(0.98)
    assert cells["thoughts/maskable_ppo/default"]["overrides"] == first  # a three-way tie: the earliest
    selection = select(records, SPEC)
    assert tuned_overrides(selection, "plain", "maskable_ppo", "tiny") == third  # the tiny net takes the default's
    assert tuned_overrides(selection, "oracle", "maskable_ppo", "default") is None
    path = tmp_path / "selected.json"
    path.write_text(json.dumps(selection))
    jobs = grid_jobs(seeds=[0], conditions=["plain"], algos=["maskable_ppo"], capacities=["tiny"], unmasked=False,
                     tuned=read_selection(path))
    assert all(jobs[0]["hyperparams"][key] == value for key, value in third.items())


def test_a_partial_sweep_selects_nothing():
    """A cell missing any combination or any seed keeps the defaults, however good what it has looks."""
    first, second, *_ = combinations(SPEC, "maskable_ppo")
    records = [*complete("plain", {0: (0.9, 0.9), 1: (1.0, 1.0), 2: (0.9, 0.9)}),  # the fourth combination missing
               *complete("oracle", {0: (0.9, 0.9), 1: (1.0, 1.0), 2: (0.9, 0.9), 3: (0.9, 0.9)})[1:]]  # one seed
    selection = select(records, SPEC)
    assert selection["cells"] == {}
    assert selection["incomplete"] == {"plain/maskable_ppo/default": {"runs": 6, "needed": 8},
                                       "oracle/maskable_ppo/default": {"runs": 7, "needed": 8}}
    assert tuned_overrides(selection, "plain", "maskable_ppo", "default") is None


def test_a_bad_selection_file_is_a_named_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"cells": {"plain/maskable_ppo/default": 3}}')
    with pytest.raises(ValueError, match="expected"):
        read_selection(bad)
    with pytest.raises(ValueError, match="not a readable selection file"):
        read_selection(tmp_path / "missing.json")


def test_the_architecture_grid_takes_the_best_shaping_of_each_view():
    from baselines.grid import architecture_conditions

    def rec(condition: str, wd: float, arch: str = "mlp", capacity: str = "default") -> dict:
        return {"run": {"condition": condition, "algo": "maskable_ppo", "capacity": capacity, "arch": arch},
                "final": {"vs_minimax": {"draw_or_better": wd}}}

    records = [rec("potential", 0.9), rec("oracle", 0.8), rec("prediction", 0.95, arch="deepsets"),
               rec("prediction", 0.99, capacity="tiny"), rec("lastmove_world_potential", 0.7)]
    assert architecture_conditions(records) == ["plain", "thoughts", "potential", "pretrained", "lastmove_plain",
                                                "lastmove_thoughts", "lastmove_world_potential", "lastmove_pretrained"]
    assert architecture_conditions([])[2] == "oracle"  # no records yet: the first shaped condition
