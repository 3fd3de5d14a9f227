"""Run records: the schema check, what the grid's resume counts as done, atomic writes, and a report that
names and skips bad records and never prints nan."""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

import pytest

pytest.importorskip("sb3_contrib")

from baselines import grid  # noqa: E402
from baselines.grid import grid_jobs, record_path, record_status, run_grid  # noqa: E402
from baselines.record_schema import read_record, same_run, validate_record  # noqa: E402
from baselines.train import write_record  # noqa: E402


@pytest.fixture(scope="module")
def real_record():
    """One genuine record of a tiny run (a few hundred steps)."""
    from baselines.config import make_run_config
    from baselines.train import train

    config = make_run_config("maskable_ppo", "plain", capacity="tiny", seed=0, total_timesteps=256, eval_games=4)
    config["hyperparams"].update(n_envs=2, n_steps=64, batch_size=64, eval_every=128, curve_games=4)
    return train(config)


def _jobs(scale: float = 1.0):
    return grid_jobs(seeds=[0], conditions=["plain"], algos=["maskable_ppo"], capacities=["tiny"], unmasked=False,
                     budget_scale=scale, eval_games=4)


def _record_for(real_record, job):
    record = copy.deepcopy(real_record)
    record["config"] = copy.deepcopy(job)
    record["run"] = {key: job[key] for key in ("condition", "algo", "capacity", "seed", "task")}
    return record


def test_a_real_record_is_valid_and_broken_ones_are_named(real_record):
    assert validate_record(real_record) == []
    assert validate_record(json.loads(json.dumps(real_record))) == []
    broken = copy.deepcopy(real_record)
    del broken["final"]["vs_minimax"]["win"]
    broken["run"]["seed"] = True  # a bool is not a seed
    problems = validate_record(broken)
    assert "run.seed must be int, got bool" in problems and "final.vs_minimax.win is missing" in problems
    assert validate_record([]) == ["a record must be a JSON object, got list"]
    assert validate_record({**real_record, "schema": 99}) == ["schema 99 is not this version's 1"]


def test_resume_counts_only_valid_records_of_the_requested_run(real_record, tmp_path, capsys):
    (job,) = _jobs()
    path = record_path(tmp_path, job)
    assert record_status([job], tmp_path) == ([job], [])  # no file: to do, nothing to report
    path.parent.mkdir(parents=True)
    cases = {
        "": "empty file",
        "{not json": "not valid JSON",
        json.dumps({"schema": 1}): "invalid record: run is missing",
        json.dumps(_record_for(real_record, _jobs(0.01)[0])): "run config differs",  # a 1%-budget record
    }
    for text, why in cases.items():
        path.write_text(text)
        todo, bad = record_status([job], tmp_path)
        assert todo == [job] and bad[0][0] == path and why in bad[0][1], (text[:40], bad)
    # The quick record names what differs.
    assert "hyperparams.total_timesteps" in bad[0][1] and "budget_scale" in bad[0][1]
    # A valid record of the same run counts, whatever the output-only keys (where checkpoints went) say.
    record = _record_for(real_record, job)
    record["config"]["save_path"] = "elsewhere/seed0"
    write_record(record, path)
    assert record_status([job], tmp_path) == ([], [])
    assert same_run(record, job) is None


def test_run_grid_redoes_a_bad_record_and_says_so(real_record, tmp_path, monkeypatch, capsys):
    (job,) = _jobs()
    path = record_path(tmp_path, job)
    path.parent.mkdir(parents=True)
    path.write_text("")  # a 0-byte record must not count as done
    monkeypatch.setattr(grid, "run_job", lambda config: _record_for(real_record, config))
    summary = run_grid([job], tmp_path, processes=1, progress=False)
    assert summary["done"] == 1 and summary["skipped"] == 0 and summary["redone"][0][0] == path
    assert f"grid: redoing {path}: empty file" in capsys.readouterr().err
    assert read_record(path)[1] is None
    again = run_grid([job], tmp_path, processes=1, progress=False)
    assert again["done"] == 0 and again["skipped"] == 1 and again["redone"] == []


def test_grid_dry_run_lists_bad_records(real_record, tmp_path, capsys):
    from baselines.cli import main

    (job,) = grid_jobs(seeds=[0], conditions=["plain"], algos=["maskable_ppo"], capacities=["tiny"],
                       unmasked=False)
    path = record_path(tmp_path, job)
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    assert main(["grid", "--results", str(tmp_path), "--seed-list", "0", "--conditions", "plain", "--algos",
                 "maskable_ppo", "--capacities", "tiny", "--no-unmasked", "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert f"would redo {path}: invalid record" in captured.err and str(path) in captured.out


def test_writes_are_atomic_and_leave_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "deep" / "seed0.json"
    write_record({"a": 1}, path)
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.listdir(path.parent) == ["seed0.json"]

    def fail(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    with pytest.raises(OSError, match="No space"):
        write_record({"a": 2}, path)
    assert json.loads(path.read_text()) == {"a": 1}  # the old record is intact
    assert os.listdir(path.parent) == ["seed0.json"]  # and no temp file is left


def test_report_names_and_skips_bad_records_and_never_prints_nan(real_record, tmp_path, capsys):
    from baselines.report import report

    results = tmp_path / "results"
    jobs = grid_jobs(seeds=[0, 1, 2], conditions=["plain"], algos=["maskable_ppo"], capacities=["tiny"],
                     unmasked=False, budget_scale=0.01, eval_games=4)
    for job in jobs[:2]:
        record = _record_for(real_record, job)
        record["final"]["vs_training"]["score"] = float("nan")  # every run of the cell: no finite value
        write_record(record, record_path(results, job))
    bad = record_path(results, jobs[2])
    bad.write_text("")
    doc = report(results, tmp_path / "docs" / "results.md", tmp_path / "docs" / "img")
    err = capsys.readouterr().err
    assert f"report: skipping {bad}: empty file" in err
    text = Path(doc).read_text()
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)
    assert "not finite numbers" in text and "| MaskablePPO | tiny | plain | 2 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| MaskablePPO | tiny | plain |"))
    assert "–" in row
    assert "nan" not in (results / "run_metrics.csv").read_text().lower()
