"""Measure, then write the tables of docs/performance.md (between its GENERATED markers).

From the repository root, with the ``bench`` extra installed::

    python benchmarks/report.py            # CPU run (single and vector envs, peers) + SB3 fps, then render
    python benchmarks/report.py --no-sb3   # skip the MaskablePPO throughput
    python benchmarks/report.py --single-repeats 0   # skip the 10 extra single-env runs (about 10 minutes)
    python benchmarks/report.py --render   # only re-render docs/performance.md from benchmarks/results/*.json

GPU numbers come from ``python benchmarks/gpu_bench.py --out benchmarks/results/gpu.json`` on a GPU machine;
this script renders whatever ``benchmarks/results/`` holds. Every number in docs/performance.md is written here.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)
RESULTS = os.path.join(ROOT, "benchmarks", "results")
DOC = os.path.join(ROOT, "docs", "performance.md")
BEGIN, END = "<!-- BEGIN GENERATED: benchmarks/report.py -->", "<!-- END GENERATED -->"


def _save(name: str, payload: dict) -> None:
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, name), "w") as f:
        json.dump(payload, f, indent=1)


def _load(name: str) -> dict | None:
    path = os.path.join(RESULTS, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def measure_cpu(rounds: int | None) -> None:
    from benchmarks.bench import machine_info, run_bench

    rows = run_bench(quick=False, rounds=rounds, groups=("single", "vector"), verbose=True)
    for row in rows:
        row.pop("samples", None)
        row.pop("cpu_samples", None)
    _save("cpu.json", {"info": {**machine_info(), "date": dt.date.today().isoformat(), "one_core": True,
                                "vector_batch": 16384}, "rows": rows})


def measure_sb3() -> None:
    from benchmarks.bench import machine_info, pin_to_one_core, sb3_fps

    pin_to_one_core()
    rows = sb3_fps()
    _save("sb3.json", {"info": {**machine_info(), "date": dt.date.today().isoformat(), "one_core": True},
                       "rows": rows})


def measure_single_repeats(repeats: int) -> None:
    """Run the single-env group ``repeats`` times over, to show how much its ratios move between runs."""
    from benchmarks.bench import machine_info, run_bench

    runs = []
    for i in range(repeats):
        rows = run_bench(quick=False, groups=("single",))
        runs.append({
            "ratios": {row["name"]: row["ratio"] for row in rows if row["kind"] == "ratio"},
            "rates": {row["name"]: row["steps_per_s"] for row in rows if row["kind"] == "candidate"},
        })
        print(f"single-env repeat {i + 1}/{repeats} done", flush=True)
    _save("single_repeats.json", {"info": {**machine_info(), "date": dt.date.today().isoformat(),
                                           "one_core": True}, "runs": runs})


def _render_repeats(repeats: dict) -> list[str]:
    import statistics

    runs = repeats["runs"]
    lines = [
        "### Single envs: run to run",
        "",
        (f"The single-env group again, {len(runs)} separate runs (`benchmarks/report.py`, "
         f"`measure_single_repeats`) on {repeats['info'].get('date')}, same machine: how far one run's ratio "
         "can be from another's on a shared machine."),
        "",
        "| ours | vs | target | min | median | max | runs meeting the target |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    from benchmarks.bench import TARGETS

    for name, base, target in TARGETS:
        values = [run["ratios"][name] for run in runs if run["ratios"].get(name) is not None]
        if not values:
            continue
        met = sum(value >= target for value in values)
        lines.append(f"| {name} | {base} | >= {target:g}x | {min(values):.2f}x | {statistics.median(values):.2f}x "
                     f"| {max(values):.2f}x | {met} of {len(values)} |")
    peer = [run["rates"].get("PettingZoo tictactoe_v3 raw_env") for run in runs]
    peer = [rate for rate in peer if rate]
    if peer:
        lines += ["", f"PettingZoo's raw env itself ran at {min(peer):,.0f} to {max(peer):,.0f} steps/s in these runs."]
    return lines + [""]


def render() -> str:
    from benchmarks.bench import format_table

    parts = []
    cpu = _load("cpu.json")
    if cpu:
        info = cpu["info"]
        parts += [
            "### CPU: one core",
            "",
            (f"Measured {info.get('date')} on {info.get('cpu', 'an unknown CPU')} ({info.get('cpus')} cores, "
             f"Python {info.get('python')}), the process pinned to one core; vector batch "
             f"{info.get('vector_batch', 16384):,}; load average at the start "
             f"{[round(x, 2) for x in info.get('loadavg') or []]}. "
             "Rates are medians of interleaved rounds (every implementation once per round); ratios are "
             "medians of the per-round ratios."),
            "",
            format_table(cpu["rows"]),
            "",
        ]
    repeats = _load("single_repeats.json")
    if repeats:
        parts += _render_repeats(repeats)
    gpu = _load("gpu.json")
    if gpu:
        info = gpu["info"]
        parts += [
            "### GPU",
            "",
            (f"Measured on {info.get('gpu')} (torch {info.get('torch')}, jax {info.get('jax')}), batch "
             f"{info.get('batch', 0):,}, by `benchmarks/gpu_bench.py`. Medians of 5 rounds."),
            "",
            format_table(gpu["rows"]),
            "",
        ]
    else:
        parts += ["### GPU", "", "No GPU result in `benchmarks/results/gpu.json` yet.", ""]
    sb3 = _load("sb3.json")
    if sb3:
        rows = sb3["rows"]
        parts += [
            "### Training throughput: MaskablePPO (sb3-contrib)",
            "",
            (f"`benchmarks.bench.sb3_fps`: {rows[0]['num_envs']} games of {rows[0]['task']}, "
             "n_steps=64, batch_size=1024, n_epochs=4, MlpPolicy, torch on one thread, one core."),
            "",
            "| vector env | timesteps | fps |",
            "|---|---:|---:|",
        ]
        parts += [f"| {row['name']} | {row['timesteps']:,} | {row['fps']:,.0f} |" for row in rows]
        if len(rows) == 2 and rows[1]["fps"]:
            parts += ["", f"Ratio: {rows[0]['fps'] / rows[1]['fps']:.2f}x."]
        parts.append("")
    return "\n".join(parts)


def write_doc(generated: str) -> None:
    with open(DOC) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the markers {BEGIN!r} ... {END!r}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(DOC, "w") as f:
        f.write(f"{head}{BEGIN}\n{generated}\n{END}{tail}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--render", action="store_true", help="only render docs/performance.md from results/")
    parser.add_argument("--no-sb3", action="store_true", help="skip the MaskablePPO throughput")
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds per group (default: run_bench's, 25 single-env and 7 vector)")
    parser.add_argument("--single-repeats", type=int, default=10,
                        help="separate runs of the single-env group for the run-to-run table (0: skip)")
    args = parser.parse_args()
    if not args.render:
        measure_cpu(args.rounds)
        if args.single_repeats:
            measure_single_repeats(args.single_repeats)
        if not args.no_sb3:
            measure_sb3()
    write_doc(render())
    print(render())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
