"""GPU benchmark: ``ThoughtVectorEnv`` (torch backend, CUDA) beside pgx (JAX, GPU) in one run.

Run on a machine with a CUDA GPU (pgx and JAX with CUDA installed), from the repository root::

    python benchmarks/gpu_bench.py --batch 1048576 --out benchmarks/results/gpu.json
    python benchmarks/report.py --render   # puts the results into docs/performance.md

Same loop as everywhere (random masked play with auto-reset, :mod:`tttthought_env.bench`). Ours is measured
twice: eagerly (one kernel launch per array operation) and replaying the whole step (sampling included) as a
CUDA graph, which removes the launch overhead; pgx is jitted as usual (``vmap`` + ``lax.scan``).
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


def bench_ours(task: str, batch: int, rounds: int, graph: bool) -> float:
    import torch

    from tttthought_env.vector import make_vector_env

    env = make_vector_env(task, batch, backend="torch", device="cuda")
    env.reset(seed=0)
    sync = torch.cuda.synchronize
    if not graph:
        def step() -> None:
            env.step(env.sample_actions())

        return _rate(step, batch, rounds, 20, sync)
    # CUDA graph: the state tensors are the graph's inputs; the captured step writes the new state back into them.
    env.check_actions = False
    env.backend.rng = torch.cuda.default_generators[torch.cuda.current_device()]  # graph-safe generator
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        for _ in range(3):
            env.step(env.sample_actions())
    torch.cuda.current_stream().wait_stream(side)
    static = {key: value.clone() for key, value in env._state.items()}
    graph_ = torch.cuda.CUDAGraph()
    env._state = static
    with torch.cuda.graph(graph_):
        env.step(env.sample_actions())
        for key, value in static.items():
            value.copy_(env._state[key])
    env._state = static
    return _rate(graph_.replay, batch, rounds, 50, sync)


def bench_pgx(batch: int, rounds: int) -> float:
    import jax

    from tttthought_env.bench import PgxLoop

    loop = PgxLoop(batch, chunk=32)
    return _rate(lambda: loop.run(32), batch * 32, rounds, 5, lambda: None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=1_048_576)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/gpu.json")
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
        try:
            rate = fn()
            rows.append({"kind": "candidate", "group": "gpu", "name": name, "task": task, "batch": args.batch,
                         "steps_per_s": rate})
        except Exception as err:
            rows.append({"kind": "candidate", "group": "gpu", "name": name, "task": task, "batch": args.batch,
                         "steps_per_s": None, "note": f"failed: {type(err).__name__}: {str(err)[:300]}"})
        print(rows[-1], flush=True)

    record("pgx tic_tac_toe JAX", "tic_tac_toe", lambda: bench_pgx(args.batch, args.rounds))
    for task in ("tttthought/Plain-v0", "tttthought/Full-v0"):
        short = task.split("/")[1]
        record(f"ours vector torch [{short}]", task, lambda t=task: bench_ours(t, args.batch, args.rounds, False))
        record(f"ours vector torch, CUDA graph [{short}]", task,
               lambda t=task: bench_ours(t, args.batch, args.rounds, True))
        torch.cuda.empty_cache()
    from tttthought_env.bench import compare, format_table

    table = rows + compare(rows) + _graph_ratios(rows)
    print(format_table(table))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"info": info, "rows": table}, f, indent=1)
    return 0


def _graph_ratios(rows: list) -> list:
    by = {row["name"]: row for row in rows}
    base = by.get("pgx tic_tac_toe JAX", {}).get("steps_per_s")
    out = []
    for short in ("Plain-v0", "Full-v0"):
        row = by.get(f"ours vector torch, CUDA graph [{short}]")
        if row and row.get("steps_per_s") and base:
            ratio = row["steps_per_s"] / base
            out.append({"kind": "ratio", "group": "gpu", "name": row["name"], "baseline": "pgx tic_tac_toe JAX",
                        "ratio": ratio, "cpu_ratio": None, "target": 0.5, "met": ratio >= 0.5})
    return out


if __name__ == "__main__":
    raise SystemExit(main())
