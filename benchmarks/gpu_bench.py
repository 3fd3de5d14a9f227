"""GPU benchmark: ``ThoughtVectorEnv`` (torch backend, CUDA) beside pgx (JAX, GPU) in one run.

Run on a machine with a CUDA GPU (pgx and JAX with CUDA installed), from the repository root::

    python benchmarks/gpu_bench.py --batch 1048576 --out benchmarks/results/gpu.json
    python benchmarks/report.py --render   # puts the results into docs/performance.md

Same loop as everywhere (random masked play with auto-reset, :mod:`benchmarks.bench`). Ours is measured
eagerly (one kernel launch per array operation), as a CUDA graph of the whole step (sampling included, no
launch overhead), through ``torch.compile`` (fused kernels) and as a CUDA graph of the compiled step; pgx is
jitted as usual (``vmap`` + ``lax.scan``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _rate(fn, steps_per_call: int, rounds: int, calls: int, sync) -> float:
    fn()
    sync()
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        samples.append(steps_per_call * calls / (time.perf_counter() - t0))
    return statistics.median(samples)


def bench_ours(task: str, batch: int, rounds: int, variant: str) -> float:
    """``variant``: ``eager``, ``graph`` (CUDA graph of the eager step), ``compiled`` (torch.compile of
    sample + step) or ``compiled+graph`` (a CUDA graph of the compiled step)."""
    import torch

    from tttthought_env.vector import make_vector_env

    env = make_vector_env(task, batch, backend="torch", device="cuda")
    env.reset(seed=0)
    sync = torch.cuda.synchronize
    env.check_actions = False  # no device-to-host sync per step
    env.backend.rng = None  # torch's default CUDA generator: graph-safe

    def one() -> tuple:
        # Return what step returns: a compiled function whose outputs are unused may skip computing them.
        return env.step(env.sample_actions())

    fn = torch.compile(one) if variant.startswith("compiled") else one
    if "graph" not in variant:
        return _rate(fn, batch, rounds, 20, sync)
    # CUDA graph: the state tensors are the graph's inputs; the captured step writes the new state back into them.
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            fn()
    torch.cuda.current_stream().wait_stream(side)
    static = {key: value.clone() for key, value in env._state.items()}
    graph_ = torch.cuda.CUDAGraph()
    env._state = static
    with torch.cuda.graph(graph_):
        fn()
        for key, value in static.items():
            value.copy_(env._state[key])
    env._state = static
    return _rate(graph_.replay, batch, rounds, 50, sync)


def bench_pgx(batch: int, rounds: int) -> float:
    from benchmarks.bench import PgxLoop

    loop = PgxLoop(batch, chunk=32)
    return _rate(lambda: loop.run(32), batch * 32, rounds, 5, lambda: None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1_048_576)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/gpu.json")
    parser.add_argument("--variants", default="eager,graph,compiled,compiled+graph")
    args = parser.parse_args()
    import torch

    rows = []
    info = {"torch": torch.__version__, "gpu": torch.cuda.get_device_name(0), "python": platform.python_version(),
            "batch": args.batch}
    try:
        import jax

        info["jax"] = jax.__version__
        info["jax_devices"] = [str(d) for d in jax.devices()]
    except Exception as err:  # pragma: no cover - reported
        info["jax"] = f"unavailable: {err}"

    def record(name: str, task: str, fn) -> None:
        t0 = time.perf_counter()
        try:
            rate = fn()
            rows.append({"kind": "candidate", "group": "gpu", "name": name, "task": task, "batch": args.batch,
                         "steps_per_s": rate})
        except Exception as err:
            rows.append({"kind": "candidate", "group": "gpu", "name": name, "task": task, "batch": args.batch,
                         "steps_per_s": None, "note": f"failed: {type(err).__name__}: {str(err)[:300]}"})
        rows[-1]["seconds"] = round(time.perf_counter() - t0, 1)
        print(rows[-1], flush=True)
        _write(args.out, info, rows)

    record("pgx tic_tac_toe JAX", "tic_tac_toe", lambda: bench_pgx(args.batch, args.rounds))
    for task in ("tttthought/Plain-v0", "tttthought/Full-v0"):
        short = task.split("/")[1]
        for variant in args.variants.split(","):
            name = f"ours vector torch [{short}]" if variant == "eager" else f"ours vector torch, {variant} [{short}]"
            record(name, task, lambda t=task, v=variant: bench_ours(t, args.batch, args.rounds, v))
            torch.cuda.empty_cache()
    from benchmarks.bench import compare, format_table

    table = rows + compare(rows) + _variant_ratios(rows)
    print(format_table(table))
    _write(args.out, info, table)
    return 0


def _write(path: str, info: dict, rows: list) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"info": info, "rows": rows}, f, indent=1)


def _variant_ratios(rows: list) -> list:
    """Ratios to pgx of every measured variant except the eager Plain-v0 one (``compare`` already has it)."""
    base = next((r["steps_per_s"] for r in rows if r["name"] == "pgx tic_tac_toe JAX"), None)
    out = []
    for row in rows:
        if not row["name"].startswith("ours") or row["name"] == "ours vector torch [Plain-v0]":
            continue
        if row.get("steps_per_s") and base:
            ratio = row["steps_per_s"] / base
            target = 0.5 if "Plain-v0" in row["name"] else None  # the GPU target is for Plain-v0
            out.append({"kind": "ratio", "group": "gpu", "name": row["name"], "baseline": "pgx tic_tac_toe JAX",
                        "ratio": ratio, "cpu_ratio": None, "target": target,
                        "met": None if target is None else ratio >= target})
    return out


if __name__ == "__main__":
    raise SystemExit(main())
