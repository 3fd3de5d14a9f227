"""The report's tuning-sweep section: every combination's row, the rule's selection marked, a reading that
compares the selection with the defaults, and nothing where the sweep has not been run."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("sb3_contrib")

from baselines.report.sweep_section import load_sweep_records, sweep_section  # noqa: E402
from baselines.sweep import combinations, combo_name, load_sweep  # noqa: E402

SPEC = load_sweep()
DEFAULT, SECOND, THIRD, FOURTH = combinations(SPEC, "maskable_ppo")


def fake(condition: str, combo: dict, seed: int, wd: float, utility: float | None = None) -> dict:
    final = {"vs_minimax": {"draw_or_better": wd}, "vs_training": {"thoughts_per_move": 1.5},
             "thinking": utility is not None, "thought_utility_training": utility}
    return {"run": {"condition": condition, "algo": "maskable_ppo", "capacity": "default", "seed": seed,
                    "combo": combo_name(combo)}, "final": final}


def test_no_sweep_no_section():
    assert sweep_section([]) == []


def complete(condition: str, scores: dict[int, tuple[float, float]], utility: float | None = None) -> list[dict]:
    """A complete sweep of one cell: every combination (by index) on both sweep seeds, with the given W+D."""
    combos = combinations(SPEC, "maskable_ppo")
    return [fake(condition, combos[i], seed, wd, None if utility is None else utility + i / 10)
            for i, pair in scores.items() for seed, wd in zip(SPEC["seeds"], pair)]


def test_every_combination_has_a_row_and_the_rules_choice_is_marked():
    records = [*complete("lastmove_world", {0: (0.90, 0.92), 1: (0.97, 0.95), 2: (0.9, 0.9), 3: (0.8, 0.8)}, 0.15),
               *complete("lastmove_plain", {0: (0.93, 0.93), 1: (0.93, 0.93), 2: (0.9, 0.9), 3: (0.9, 0.9)}),
               fake("lastmove_thoughts", DEFAULT, 100, 0.99, 0.3)]
    text = "\n".join(sweep_section(records))
    rows = [line for line in text.splitlines() if line.startswith("| lastmove_")]
    assert len(rows) == 9
    chosen = [row for row in rows if row.endswith("| yes |")]
    assert [row.split("|")[4].strip() for row in chosen] == [f"`{combo_name(DEFAULT)}`", f"`{combo_name(SECOND)}`"]
    world_second = next(row for row in rows if combo_name(SECOND) in row and "world" in row)
    assert "| 2 | 0.960 | +0.250 | 1.500 |" in world_second  # means over the two seeds
    plain_default = next(row for row in rows if "plain" in row and combo_name(DEFAULT) in row)
    assert "| – |" in plain_default  # no thought utility without thoughts
    # The reading: the tie keeps the default; the world cell names both combinations and both utilities.
    assert f"keeps the default `{combo_name(DEFAULT)}`" in text
    assert (f"selects `{combo_name(SECOND)}`: W+D 0.960 against 0.910 for the default `{combo_name(DEFAULT)}`; "
            "thought utility +0.250 against +0.150, thoughts per move 1.500 against 1.500.") in text
    assert "a screen, not a finding" in text  # two seeds per combination
    # A partial sweep selects nothing, however good its one run looks.
    assert "**lastmove_thoughts, MaskablePPO, default.** The sweep is incomplete (1 of 8 runs)" in text
    # Each at its own best: world's 0.960 against plain's 0.930 (a tie of the plain combinations, so the default).
    assert ("**Tuned alike, lastmove_world against lastmove_plain** (MaskablePPO, default): 0.960 against 0.930 "
            "W+D vs minimax, above plain play") in text
    assert "Tuned alike, lastmove_plain" not in text and "Tuned alike, lastmove_thoughts" not in text


def test_only_valid_sweep_records_are_read(tmp_path):
    assert load_sweep_records(tmp_path) == []
    folder = tmp_path / "sweeps" / "tuning" / "records" / "plain" / "maskable_ppo" / "default" / combo_name(DEFAULT)
    folder.mkdir(parents=True)
    (folder / "seed100.json").write_text(json.dumps({"run": "not a record"}))
    assert load_sweep_records(tmp_path) == []  # named on stderr and skipped, never a traceback


def test_the_main_tables_name_the_cells_tuned_alike():
    from baselines.config import make_run_config
    from baselines.report.sweep_section import tuned_cells

    def record(condition: str, seed: int, **overrides) -> dict:
        return {"run": {"condition": condition, "algo": "maskable_ppo", "capacity": "default", "seed": seed},
                "config": make_run_config("maskable_ppo", condition, seed=seed, hyperparams=overrides)}

    sweep = [*complete("lastmove_pretrained", {0: (0.95, 0.95), 1: (1.0, 1.0), 2: (0.9, 0.9), 3: (0.9, 0.9)}, 0.2),
             *complete("lastmove_plain", {0: (0.94, 0.94), 1: (0.93, 0.93), 2: (0.9, 0.9), 3: (0.9, 0.9)}),
             fake("lastmove_world", SECOND, 100, 1.0, 0.5)]  # an incomplete sweep: not tuned
    groups = {("lastmove_pretrained", "maskable_ppo", "default"):
              [record("lastmove_pretrained", 0, **SECOND), record("lastmove_pretrained", 1)],
              ("lastmove_plain", "maskable_ppo", "default"): [record("lastmove_plain", 0)],
              ("lastmove_world", "maskable_ppo", "default"): [record("lastmove_world", 0, **SECOND)],
              ("lastmove_pretrained", "maskable_ppo", "tiny"): [record("lastmove_pretrained", 0, **SECOND)]}
    text = " ".join(tuned_cells(groups, sweep))
    assert (f"lastmove_pretrained (MaskablePPO, tiny): 1 of 1 runs with `{combo_name(SECOND)}` (the default MLP's "
            "selection)") in text
    assert f"lastmove_pretrained (MaskablePPO, default): 1 of 2 runs with `{combo_name(SECOND)}`" in text
    assert f"lastmove_plain (MaskablePPO, default): 1 of 1 runs with `{combo_name(DEFAULT)}`" in text  # kept
    assert "lastmove_world" not in text  # its sweep is incomplete: among "every other cell"
    assert tuned_cells(groups, []) == []
    first_grid = record("lastmove_plain", 0)
    del first_grid["config"]["arch"]  # the first grid's configs had no architecture: not judged against today's YAML
    assert tuned_cells({("lastmove_plain", "maskable_ppo", "default"): [first_grid]}, sweep) == []
