"""The experiment grid: every (condition, algorithm, capacity, seed) run, in parallel, resumable.

One JSON record per run at ``<results>/records/<condition>/<algo>/<capacity>/seed<k>.json``; a run
whose record is valid and of the same run config is skipped, so an interrupted grid resumes where it
stopped (an empty, malformed or different-config record, e.g. from a ``--budget-scale`` check, is
reported by path and run again; see :mod:`baselines.record_schema`). Jobs run in local
processes (default: one per CPU core) or, with ``ray_address``, as tasks on a Ray cluster; either
way the driver writes the records, and a record does not depend on where its run ran.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from baselines.config import CAPACITIES, CONDITIONS, NOT_APPLICABLE, PROTOCOL_SEEDS, make_run_config

#: The headline algorithms, and the plain-QR-DQN comparison (default capacity, these conditions).
HEADLINE_ALGOS: tuple[str, ...] = ("maskable_ppo", "qrdqn")
UNMASKED_CONDITIONS: tuple[str, ...] = ("plain", "thoughts")
REPO_ROOT = Path(__file__).resolve().parent.parent


def record_path(results_dir: str | Path, run: dict[str, Any]) -> Path:
    """``<results>/records/<condition>/<algo>/<capacity>/[arch-<arch>/][<combo>/]seed<k>.json``: a token
    network's run has its architecture (the MLP's has none), a sweep's run its combination."""
    folder = Path(results_dir) / "records" / run["condition"] / run["algo"] / run["capacity"]
    if run.get("arch", "mlp") != "mlp":
        folder = folder / f"arch-{run['arch']}"
    if run.get("combo"):
        folder = folder / run["combo"]
    return folder / f"seed{run['seed']}.json"


def _scale_budget(config: dict[str, Any], budget_scale: float) -> None:
    """Multiply a run's step budget and curve interval (quick checks only; the record says so)."""
    params = config["hyperparams"]
    params["total_timesteps"] = max(int(params["total_timesteps"] * budget_scale), 1)
    params["eval_every"] = max(int(params["eval_every"] * budget_scale), 1)
    if "learning_starts" in params:
        params["learning_starts"] = min(params["learning_starts"], params["total_timesteps"] // 4)
    config["budget_scale"] = budget_scale


def _grid_cells(conditions: list[str], algos: list[str], capacities: list[str],
                unmasked: bool) -> list[tuple[str, str, str]]:
    """The (condition, algo, capacity) cells of one seed, plain QR-DQN last; a pair of
    :data:`~baselines.config.NOT_APPLICABLE` is left out (the docs say why)."""
    cells = [(c, a, cap) for c in conditions for a in algos for cap in capacities if (c, a) not in NOT_APPLICABLE]
    if unmasked:
        cells += [(c, "qrdqn_unmasked", "default") for c in UNMASKED_CONDITIONS if c in conditions]
    return cells


def grid_jobs(
    seeds: Iterable[int] = range(PROTOCOL_SEEDS),
    conditions: Iterable[str] = tuple(CONDITIONS),
    algos: Iterable[str] = HEADLINE_ALGOS,
    capacities: Iterable[str] = CAPACITIES,
    unmasked: bool = True,
    budget_scale: float = 1.0,
    eval_games: int | None = None,
    save_models: str | Path | None = None,
    device: str = "cpu",
    vec: str = "auto",
    tuned: dict[str, Any] | None = None,
    archs: Iterable[str] = ("mlp",),
) -> list[dict[str, Any]]:
    """Run configs of the grid, seed-major (all conditions of seed 0 first), so a partial grid is balanced.

    ``unmasked`` adds plain QR-DQN (flat observation, illegal actions lose) on :data:`UNMASKED_CONDITIONS`
    at default capacity. ``budget_scale`` multiplies every step budget (and curve interval); ``eval_games``
    replaces the protocol's 1,000 games per opponent (both only for quick checks: records say so). ``tuned``: a
    sweep's selection (:func:`baselines.sweep.read_selection`), each cell trained with its selected overrides.
    ``archs``: the networks (baselines/policies.py); plain QR-DQN only ever runs the MLP.
    """
    from baselines.sweep import tuned_overrides

    cells = _grid_cells(list(conditions), list(algos), list(capacities), unmasked)
    jobs = []
    for seed in seeds:
        for (condition, algo, capacity), arch in itertools.product(cells, archs):
            if arch != "mlp" and algo == "qrdqn_unmasked":
                continue
            overrides = tuned_overrides(tuned, condition, algo, capacity) if tuned else None
            config = make_run_config(algo, condition, capacity=capacity, arch=arch, seed=seed, eval_games=eval_games,
                                     device=device, vec=vec, hyperparams=overrides)
            if budget_scale != 1.0:
                _scale_budget(config, budget_scale)
            if save_models:
                # the record's folders under save_models (its arch folder included), the weights' stem seed<k>
                config["save_path"] = str(Path(save_models) / record_path("", config).relative_to("records")
                                          .with_suffix(""))
            jobs.append(config)
    return jobs


#: The shaped conditions of each view, among which the architecture grid takes the best.
SHAPED = {"full": ("oracle", "potential", "prediction"),
          "last_move": ("lastmove_world", "lastmove_world_potential", "lastmove_oracle", "lastmove_potential",
                        "lastmove_prediction")}


def architecture_conditions(records: list[dict[str, Any]]) -> list[str]:
    """The conditions of the architecture grid (issue 13): per view, plain, thoughts, the best R(δx) and
    pretrained. The best R(δx) is the shaped condition with the highest IQM final draw-or-better against minimax
    of MaskablePPO's default MLP in the headline records (the first in :data:`SHAPED` while none has records)."""
    from baselines.metrics import iqm

    def score(condition: str) -> float:
        values = [r["final"]["vs_minimax"]["draw_or_better"] for r in records
                  if r["run"]["condition"] == condition and r["run"]["algo"] == "maskable_ppo"
                  and r["run"]["capacity"] == "default" and r["run"].get("arch", "mlp") == "mlp"]
        return float(iqm(values)) if values else float("-inf")

    out = []
    for view, prefix in (("full", ""), ("last_move", "lastmove_")):
        best = max(SHAPED[view], key=lambda c: (score(c), -SHAPED[view].index(c)))
        out += [f"{prefix}plain", f"{prefix}thoughts", best, f"{prefix}pretrained"]
    return out


def run_job(run_config: dict[str, Any]) -> dict[str, Any]:
    """Train and evaluate one run in this process; returns its record or ``{"error": ...}``."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        from baselines.train import train

        return train(run_config)
    except Exception:  # noqa: BLE001  (one failing run must not stop the grid; the error is reported)
        return {"error": traceback.format_exc(), "run": {k: run_config[k] for k in ("condition", "algo", "capacity",
                                                                                    "seed")}}


def record_status(jobs: list[dict[str, Any]],
                  results_dir: str | Path) -> tuple[list[dict[str, Any]], list[tuple[Path, str]]]:
    """``(jobs to run, [(path, why it does not count)])``: a job counts as done only if its record parses,
    passes the schema check and has the requested run config; the second list names the records that exist
    but do not count (they are redone)."""
    from baselines.record_schema import check_record

    todo, bad = [], []
    for job in jobs:
        path = record_path(results_dir, job)
        problem = check_record(path, job)
        if problem is None:
            continue
        todo.append(job)
        if problem != "missing":
            bad.append((path, problem))
    return todo, bad


def pending_jobs(jobs: list[dict[str, Any]], results_dir: str | Path) -> list[dict[str, Any]]:
    """The jobs without a valid record of their run config yet (:func:`record_status`)."""
    return record_status(jobs, results_dir)[0]


def _ray_results(jobs: list[dict[str, Any]], address: str, working_dir: bool = True):
    import ray

    runtime_env: dict[str, Any] = {"env_vars": {"OMP_NUM_THREADS": "1"}}
    if working_dir:  # ship this checkout to the workers (they need the packages baselines and tttthought_env)
        runtime_env["working_dir"] = str(REPO_ROOT)
        runtime_env["excludes"] = [".git", "results", "docs", "venv", ".venv", "*.zip", "checkpoints", "runs", "tmp"]
    init_address = None if address == "local" else address
    ray.init(address=init_address, runtime_env=runtime_env, ignore_reinit_error=True, log_to_driver=False,
             include_dashboard=False)
    remote = ray.remote(num_cpus=1)(run_job)
    pending = [remote.remote(job) for job in jobs]
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])
    finally:
        ray.shutdown()


def _process_results(jobs: list[dict[str, Any]], processes: int):
    if processes <= 1:
        for job in jobs:
            yield run_job(job)
        return
    import multiprocessing as mp

    # spawn: fresh interpreters (no forked torch thread pools); one torch thread per process.
    with mp.get_context("spawn").Pool(processes) as pool:
        yield from pool.imap_unordered(run_job, jobs, chunksize=1)


def run_grid(
    jobs: list[dict[str, Any]],
    results_dir: str | Path = "results",
    processes: int | None = None,
    ray_address: str | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the jobs that have no record yet and write one record per finished run.

    Returns ``{"done": n, "skipped": n, "failed": [errors], "redone": [(path, why)], "seconds": s}``;
    ``redone`` lists the records that existed but did not count (also said on stderr).
    """
    from baselines.train import write_record

    os.environ.setdefault("OMP_NUM_THREADS", "1")
    todo, bad = record_status(jobs, results_dir)
    for path, problem in bad:
        print(f"grid: redoing {path}: {problem}", file=sys.stderr)
    skipped = len(jobs) - len(todo)
    processes = processes or os.cpu_count() or 1
    began = time.perf_counter()
    failed: list[str] = []
    done = 0
    if todo:
        results = _ray_results(todo, ray_address) if ray_address else _process_results(todo, min(processes, len(todo)))
        bar = None
        if progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"grid ({skipped} done before)", unit="run", file=sys.stderr)
        for record in results:
            run = record["run"]
            name = f"{run['condition']}/{run['algo']}/{run['capacity']}/seed{run['seed']}"
            if "error" in record:
                failed.append(f"{name}: {record['error']}")
                print(f"run {name} failed:\n{record['error']}", file=sys.stderr)
            else:
                write_record(record, record_path(results_dir, record["run"]))
                done += 1
            if bar is not None:
                bar.set_postfix_str(f"{name} {record.get('wall_seconds', 0):.0f}s")
                bar.update(1)
        if bar is not None:
            bar.close()
    return {"done": done, "skipped": skipped, "failed": failed, "redone": bad, "seconds": time.perf_counter() - began}
