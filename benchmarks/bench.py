"""Throughput benchmarks: our single, AEC and vector envs beside the peers, measured in one run.

Every implementation runs the same loop, *random masked play with auto-reset*: pick a uniformly random legal
action, step, reset when the game is over, count one step per ``step`` call. The loop is defined once per API:

* :class:`GymLoop` for single Gymnasium envs (ours raw or through ``gymnasium.make``),
* :class:`AECLoop` for PettingZoo AEC envs (ours and PettingZoo's ``tictactoe_v3``),
* :class:`OpenSpielLoop` for OpenSpiel's ``tic_tac_toe`` (C++, observation tensor read every step),
* :class:`VectorLoop` for :class:`~tttthought_env.vector.ThoughtVectorEnv` (``num_envs`` steps per call),
* :class:`PgxLoop` for pgx's ``tic_tac_toe`` (JAX, ``vmap`` over the batch, ``lax.scan`` over steps).

Candidates are measured in interleaved rounds (every candidate once per round, the median kept), so that a
busy machine slows all of them alike; a ratio is the median of the per-round ratios (:func:`paired_ratio`). :func:`run_bench` returns one dict per candidate and one per comparison
with the issue's targets; :func:`format_table` prints them. From the repository root::

    python benchmarks/bench.py                  # the quick version, a readable table (about a minute)
    python benchmarks/bench.py --full --json benchmarks/results/bench.json

This module is not part of the installed package (``tttthought bench`` says where it is). The rest of
``benchmarks/`` is the pytest-benchmark suite, and ``benchmarks/report.py`` regenerates docs/performance.md.
Peers come from the optional extra ``bench`` (``pip install -c constraints.txt -e ".[bench]"``) and
are skipped, with a note, when they are not installed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

TASKS_BENCHED: tuple[str, ...] = ("tttthought/Full-v0", "tttthought/Plain-v0")
#: The speed floors of the one-set-of-rules redesign: (candidate, baseline, minimum ratio).
TARGETS: tuple[tuple[str, str, float], ...] = (
    ("ours raw Gymnasium env [Full-v0]", "PettingZoo tictactoe_v3 raw_env", 1.5),
    ("ours raw Gymnasium env [Plain-v0]", "PettingZoo tictactoe_v3 raw_env", 1.5),
    ("ours gymnasium.make [Full-v0]", "PettingZoo tictactoe_v3 env()", 4.0),
    ("ours gymnasium.make [Plain-v0]", "PettingZoo tictactoe_v3 env()", 4.0),
    ("ours PettingZoo AEC env() [Full-v0]", "PettingZoo tictactoe_v3 env()", 3.0),
    ("ours PettingZoo AEC env() [Plain-v0]", "PettingZoo tictactoe_v3 env()", 3.0),
    ("ours vector numpy [Plain-v0]", "pgx tic_tac_toe JAX", 1.5),
    ("ours vector numpy [Full-v0]", "pgx tic_tac_toe JAX", 1.0),
    ("ours vector torch [Plain-v0]", "pgx tic_tac_toe JAX", 0.5),
)


# ====================================================================== the loops
class GymLoop:
    """Random masked play on a single Gymnasium env whose ``info["action_mask"]`` lists the legal actions.

    The policy, the same in every single-env loop: a uniformly random legal action, written inline
    because the loop's own cost is paid by every env alike and compresses every ratio. Hence
    ``mask.nonzero()`` rather than ``np.flatnonzero(mask)`` (Python wrappers), and ``int(random() * n)``
    rather than ``randrange(n)`` (a Python-level rejection loop); for n <= 64 legal actions the float
    draw's bias is below 2**-46.
    """

    batch = 1

    def __init__(self, env: Any, seed: int = 0) -> None:
        self.env = env
        self.rand = random.Random(seed)
        _, self.info = env.reset(seed=seed)

    def run(self, steps: int) -> int:
        env, random_float, info = self.env, self.rand.random, self.info
        for _ in range(steps):
            legal = info["action_mask"].nonzero()[0]
            _, _, term, trunc, info = env.step(int(legal[int(random_float() * len(legal))]))
            if term or trunc:
                _, info = env.reset()
        self.info = info
        return steps


class AECLoop:
    """Random masked play on a PettingZoo AEC env with dict observations (``"action_mask"``)."""

    batch = 1

    def __init__(self, env: Any, seed: int = 0) -> None:
        self.env = env
        self.rand = random.Random(seed)
        env.reset(seed=seed)

    def run(self, steps: int) -> int:
        env, random_float = self.env, self.rand.random
        done = 0
        while done < steps:
            obs, _, term, trunc, _ = env.last()
            if term or trunc:
                env.reset()
                continue
            legal = obs["action_mask"].nonzero()[0]  # the same policy as GymLoop's
            env.step(int(legal[int(random_float() * len(legal))]))
            done += 1
        return steps


class OpenSpielLoop:
    """Random play on OpenSpiel's ``tic_tac_toe`` reading the observation tensor after every step."""

    batch = 1

    def __init__(self, seed: int = 0) -> None:
        import pyspiel

        self.game = pyspiel.load_game("tic_tac_toe")
        self.state = self.game.new_initial_state()
        self.rand = random.Random(seed)

    def run(self, steps: int) -> int:
        game, state, rand = self.game, self.state, self.rand
        for _ in range(steps):
            legal = state.legal_actions()
            state.apply_action(legal[rand.randrange(len(legal))])
            if state.is_terminal():
                state = game.new_initial_state()
            state.observation_tensor()  # what the player to move sees
        self.state = state
        return steps


class VectorLoop:
    """Random masked play on :class:`~tttthought_env.vector.ThoughtVectorEnv` (autoreset inside ``step``).

    ``sampler="env"`` draws the actions with :meth:`~tttthought_env.vector.ThoughtVectorEnv.sample_actions`
    (uniform among legal actions, from the bitboards); ``sampler="mask"`` draws them from the returned
    ``(B, A)`` mask with a cumulative-sum search, as a policy that only sees the mask would.
    """

    def __init__(self, task: str, batch: int, backend: str = "numpy", device: Any = None, seed: int = 0,
                 sampler: str = "env", compiled: bool = False) -> None:
        from tttthought_env.vector import make_vector_env

        self.env = make_vector_env(task, batch, backend=backend, device=device)
        if compiled:  # torch.compile of step and sample_actions, without per-step syncs (docs/performance.md)
            self.env.check_actions = False
            self.env.backend.rng = None
            self.env.compile()
        self.env.reset(seed=seed)
        self.batch = batch
        self.sampler = sampler
        self.sync = None
        if backend == "torch":
            import torch

            if str(self.env.device).startswith("cuda"):
                self.sync = torch.cuda.synchronize
        self.rng = np.random.default_rng(seed)

    def _mask_sample(self) -> Any:
        be = self.env.backend
        xp = be.xp
        mask = self.env.action_masks()
        csum = xp.cumulative_sum(xp.astype(mask, xp.int32), axis=1)
        total = csum[:, -1]
        r = xp.astype(be.uniform(self.batch) * xp.astype(total, xp.float32), xp.int32)
        return xp.sum(xp.astype(csum <= r[:, None], xp.int32), axis=1)

    def run(self, steps: int) -> int:
        env = self.env
        sample = env.sample_actions if self.sampler == "env" else self._mask_sample
        for _ in range(steps):
            env.step(sample())
        if self.sync is not None:
            self.sync()
        return steps * self.batch


class PgxLoop:
    """pgx's ``tic_tac_toe``: ``vmap(auto_reset(step))`` over the batch, ``lax.scan`` over ``chunk`` steps.

    Actions are drawn with ``jax.random.categorical`` over the legal-action mask, inside the jitted scan.
    """

    def __init__(self, batch: int, chunk: int = 32, seed: int = 0) -> None:
        import jax
        import jax.numpy as jnp
        import pgx
        from pgx.experimental import auto_reset

        env = pgx.make("tic_tac_toe")
        init = jax.jit(jax.vmap(env.init))
        step = jax.vmap(auto_reset(env.step, env.init))
        self.batch, self.chunk = batch, chunk

        def body(carry: Any, _: Any) -> Any:
            state, key = carry
            key, k_act, k_reset = jax.random.split(key, 3)
            logits = jnp.where(state.legal_action_mask, 0.0, -jnp.inf)
            action = jax.random.categorical(k_act, logits, axis=-1)
            state = step(state, action, jax.random.split(k_reset, batch))
            return (state, key), None

        @jax.jit
        def run_chunk(state: Any, key: Any) -> Any:
            return jax.lax.scan(body, (state, key), None, length=chunk)[0]

        key = jax.random.PRNGKey(seed)
        self._run_chunk = run_chunk
        self._carry = (init(jax.random.split(key, batch)), key)
        self._block = jax.block_until_ready
        self._carry = self._block(run_chunk(*self._carry))  # compile

    def run(self, steps: int) -> int:
        chunks = max(1, steps // self.chunk)
        carry = self._carry
        for _ in range(chunks):
            carry = self._run_chunk(*carry)
        self._carry = self._block(carry)
        return chunks * self.chunk * self.batch


# ====================================================================== candidates
@dataclass
class Candidate:
    """One implementation to measure: ``make()`` builds its loop; ``steps`` loop calls make one sample."""

    name: str
    group: str
    make: Callable[[], Any]
    steps: int
    batch: int = 1
    task: str = ""
    note: str = ""
    loop: Any = field(default=None, repr=False)


def _gym_make(task: str) -> Any:
    import gymnasium

    import tttthought_env  # noqa: F401

    return gymnasium.make(task)


def _raw_env(task: str) -> Any:
    import gymnasium

    import tttthought_env  # noqa: F401
    from tttthought_env.gymnasium_env import ThoughtTicTacToeEnv

    return ThoughtTicTacToeEnv(**gymnasium.spec(task).kwargs)


def _aec_env(task: str) -> Any:
    from tttthought_env import pettingzoo_env
    from tttthought_env.registration import TASKS

    return pettingzoo_env.env(**TASKS[task])


def candidates(quick: bool = True, vector_batch: int = 16384, gpu_batch: int = 1_048_576,
               groups: tuple[str, ...] = ("single", "vector")) -> list[Candidate]:
    """Everything :func:`run_bench` measures, peers included (those not installed are marked later)."""
    # Short single-env samples, many rounds (see run_bench): a paired ratio needs many short pairs.
    single_steps = 2_000 if quick else 4_000
    vec_steps = 12 if quick else 32
    out: list[Candidate] = []
    if "single" in groups:
        out += [
            Candidate("PettingZoo tictactoe_v3 raw_env", "single", lambda: AECLoop(_pz_tictactoe(raw=True)),
                      single_steps, task="tic_tac_toe"),
            Candidate("PettingZoo tictactoe_v3 env()", "single", lambda: AECLoop(_pz_tictactoe(raw=False)),
                      single_steps, task="tic_tac_toe"),
            Candidate("OpenSpiel tic_tac_toe (C++)", "single", lambda: OpenSpielLoop(), single_steps,
                      task="tic_tac_toe"),
        ]
        # A seed of its own per candidate: the core memoises observations and masks by position, and two
        # loops replaying the same games would hand the second one the first one's work.
        for task in TASKS_BENCHED:
            short = task.split("/")[1]
            out += [
                Candidate(f"ours raw Gymnasium env [{short}]", "single",
                          lambda t=task: GymLoop(_raw_env(t), seed=1), single_steps, task=task),
                Candidate(f"ours gymnasium.make [{short}]", "single",
                          lambda t=task: GymLoop(_gym_make(t), seed=2), single_steps, task=task),
                Candidate(f"ours PettingZoo AEC env() [{short}]", "single",
                          lambda t=task: AECLoop(_aec_env(t), seed=3), single_steps, task=task),
            ]
    if "vector" in groups:
        b = vector_batch
        out.append(Candidate("pgx tic_tac_toe JAX", "vector", lambda: PgxLoop(b), vec_steps * 8, batch=b,
                             task="tic_tac_toe"))
        for task in TASKS_BENCHED:
            short = task.split("/")[1]
            out.append(Candidate(f"ours vector numpy [{short}]", "vector", lambda t=task: VectorLoop(t, b),
                                 vec_steps, batch=b, task=task))
        if not quick:
            out.append(Candidate("ours vector numpy, mask sampler [Full-v0]", "vector",
                                 lambda: VectorLoop("tttthought/Full-v0", b, sampler="mask"), vec_steps, batch=b,
                                 task="tttthought/Full-v0"))
            for task in TASKS_BENCHED:
                short = task.split("/")[1]
                out.append(Candidate(f"ours vector torch-cpu [{short}]", "vector",
                                     lambda t=task: VectorLoop(t, b, backend="torch"), vec_steps, batch=b, task=task))
                out.append(Candidate(f"ours vector torch-cpu, compiled [{short}]", "vector",
                                     lambda t=task: VectorLoop(t, b, backend="torch", compiled=True), vec_steps,
                                     batch=b, task=task))
    if "gpu" in groups:
        g = gpu_batch
        out.append(Candidate("pgx tic_tac_toe JAX", "gpu", lambda: PgxLoop(g), 64, batch=g, task="tic_tac_toe"))
        for task in TASKS_BENCHED:
            short = task.split("/")[1]
            out.append(Candidate(f"ours vector torch [{short}]", "gpu",
                                 lambda t=task: VectorLoop(t, g, backend="torch", device="cuda"), 16, batch=g,
                                 task=task))
    return out


def _pz_tictactoe(raw: bool) -> Any:
    from pettingzoo.classic import tictactoe_v3

    return tictactoe_v3.raw_env() if raw else tictactoe_v3.env()


# ====================================================================== measuring
def pin_to_one_core() -> int | None:
    """Pin this process (and threads it starts later) to one CPU core; return it (None where unsupported)."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    cores = sorted(os.sched_getaffinity(0))
    core = cores[-1]
    os.sched_setaffinity(0, {core})
    os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    return core


def measure(cands: list[Candidate], rounds: int = 5, verbose: bool = False) -> list[dict]:
    """Steps per second of every candidate: build all loops, then ``rounds`` interleaved samples each."""
    results: dict[str, list[float]] = {}
    cpu_results: dict[str, list[float]] = {}
    skipped: dict[str, str] = {}
    live = []
    for cand in cands:
        try:
            cand.loop = cand.make()
            cand.loop.run(max(1, cand.steps // 4))  # warm up (jit, caches, solver tables)
            live.append(cand)
            results[cand.name] = []
            cpu_results[cand.name] = []
        except ImportError as err:
            skipped[cand.name] = f"not installed ({err.name or err})"
        except Exception as err:  # a peer that fails to start is reported, not fatal
            skipped[cand.name] = f"failed: {type(err).__name__}: {err}"
    for r in range(rounds):
        for cand in live:
            c0, t0 = time.process_time(), time.perf_counter()
            done = cand.loop.run(cand.steps)
            t1, c1 = time.perf_counter(), time.process_time()
            results[cand.name].append(done / (t1 - t0))
            cpu_results[cand.name].append(done / max(c1 - c0, 1e-9))
        if verbose:
            print(f"round {r + 1}/{rounds} done", flush=True)
    rows = []
    for cand in cands:
        row = {"kind": "candidate", "group": cand.group, "name": cand.name, "task": cand.task, "batch": cand.batch}
        if cand.name in results:
            samples = results[cand.name]
            row.update(steps_per_s=statistics.median(samples), samples=samples,
                       steps_per_cpu_s=statistics.median(cpu_results[cand.name]),
                       cpu_samples=cpu_results[cand.name])
        else:
            row.update(steps_per_s=None, note=skipped[cand.name])
        rows.append(row)
    return rows


def paired_ratio(ours: list[float] | None, peer: list[float] | None, fallback: float) -> float:
    """Median over rounds of ours / peer, each round's two samples taken back to back.

    On a shared machine the load drifts over seconds; pairing by round cancels the drift that a ratio of
    the two medians would keep. Without per-round samples (rows read back from JSON): ``fallback``.
    """
    if not ours or not peer or len(ours) != len(peer):
        return fallback
    return statistics.median(o / p for o, p in zip(ours, peer))


def compare(rows: list[dict]) -> list[dict]:
    """One row per target of the issue (and per extra comparison) with its ratio and whether it is met."""
    by_name = {(row["group"], row["name"]): row for row in rows if row["kind"] == "candidate"}
    out = []
    for group in sorted({row["group"] for row in rows}):
        for cand, base, target in TARGETS:
            c = by_name.get((group, cand))
            b = by_name.get((group, base))
            if c is None or b is None:
                continue
            ratio = cpu_ratio = None
            if c.get("steps_per_s") and b.get("steps_per_s"):
                ratio = paired_ratio(c.get("samples"), b.get("samples"), c["steps_per_s"] / b["steps_per_s"])
                if c.get("steps_per_cpu_s") and b.get("steps_per_cpu_s"):
                    cpu_ratio = paired_ratio(c.get("cpu_samples"), b.get("cpu_samples"),
                                             c["steps_per_cpu_s"] / b["steps_per_cpu_s"])
            out.append({"kind": "ratio", "group": group, "name": cand, "baseline": base, "ratio": ratio,
                        "cpu_ratio": cpu_ratio, "target": target, "met": None if ratio is None else ratio >= target})
    return out


def machine_info() -> dict:
    info = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        info["loadavg"] = os.getloadavg()
    except OSError:
        pass
    return info


def run_bench(quick: bool = True, rounds: int | None = None, one_core: bool = True,
              groups: tuple[str, ...] = ("single", "vector"), vector_batch: int = 16384,
              gpu_batch: int = 1_048_576, verbose: bool = False) -> list[dict]:
    """Measure ours and the installed peers in one run; return candidate rows, then ratio rows.

    ``quick`` (the command line's default) takes a few seconds per candidate; ``one_core`` pins the
    process to one CPU core first (the issue's targets are per core).
    """
    if one_core:
        pin_to_one_core()
    rows = []
    for group in groups:
        # Single-env rounds are short (tens of ms), so they get more of them than the vector ones.
        group_rounds = rounds or {"single": 5 if quick else 25}.get(group, 3 if quick else 7)
        rows += measure(candidates(quick, vector_batch, gpu_batch, (group,)), group_rounds, verbose)
    return rows + compare(rows)


def _fmt_rate(value: float | None) -> str:
    if value is None:
        return "-"
    if value >= 1e9:
        return f"{value / 1e9:.2f}e9"
    return f"{value:,.0f}"


def format_table(rows: list[dict]) -> str:
    """The candidates (steps/s, batch) and the target ratios as a readable Markdown table."""
    lines = ["| group | implementation | batch | steps/s (wall, median) | steps per CPU-second (median) |",
             "|---|---|---:|---:|---:|"]
    for row in rows:
        if row["kind"] != "candidate":
            continue
        if row["steps_per_s"] is None:
            lines.append(f"| {row['group']} | {row['name']} | {row['batch']:,} | skipped: {row['note']} | - |")
            continue
        lines.append(f"| {row['group']} | {row['name']} | {row['batch']:,} | {_fmt_rate(row['steps_per_s'])} | "
                     f"{_fmt_rate(row.get('steps_per_cpu_s'))} |")
    ratios = [row for row in rows if row["kind"] == "ratio"]
    if ratios:
        lines += ["", "| group | ours | vs | ratio (wall) | ratio (CPU time) | target | met (wall) |",
                  "|---|---|---|---:|---:|---:|:---:|"]
        for row in ratios:
            ratio = "-" if row["ratio"] is None else f"{row['ratio']:.2f}x"
            cpu = "-" if row.get("cpu_ratio") is None else f"{row['cpu_ratio']:.2f}x"
            met = "-" if row["met"] is None else ("yes" if row["met"] else "NO")
            target = "-" if row.get("target") is None else f">= {row['target']:g}x"
            lines.append(f"| {row['group']} | {row['name']} | {row['baseline']} | {ratio} | {cpu} | {target} | {met} |")
    if any(row["kind"] == "candidate" and row["steps_per_s"] is None for row in rows):
        lines += ["", "Some peers are not installed, so there is nothing to compare against for them: install them "
                  "with `pip install -c constraints.txt -e \".[bench]\"` and run again."]
    return "\n".join(lines)


def sb3_fps(num_envs: int = 64, total_timesteps: int = 16_384, task: str = "tttthought/Full-v0",
            seed: int = 0) -> list[dict]:
    """MaskablePPO training throughput (fps) with :class:`~tttthought_env.vector.SB3VecEnv` vs DummyVecEnv."""
    import gymnasium
    import torch
    from sb3_contrib import MaskablePPO
    from stable_baselines3.common.vec_env import DummyVecEnv

    import tttthought_env  # noqa: F401
    from tttthought_env.vector import SB3VecEnv, make_vector_env

    torch.set_num_threads(1)
    rows = []
    makers = {
        "SB3VecEnv(ThoughtVectorEnv)": lambda: SB3VecEnv(make_vector_env(task, num_envs)),
        "DummyVecEnv(single envs)": lambda: DummyVecEnv([lambda: gymnasium.make(task) for _ in range(num_envs)]),
    }
    for name, make in makers.items():
        env = make()
        model = MaskablePPO("MlpPolicy", env, n_steps=64, batch_size=1024, n_epochs=4, seed=seed, verbose=0)
        model.learn(total_timesteps=num_envs * 64)  # warm up
        t0 = time.perf_counter()
        model.learn(total_timesteps=total_timesteps, reset_num_timesteps=True)
        elapsed = time.perf_counter() - t0
        rows.append({"kind": "sb3", "name": name, "task": task, "num_envs": num_envs,
                     "timesteps": model.num_timesteps, "fps": model.num_timesteps / elapsed})
        env.close()
    return rows


def main(argv: list[str] | None = None) -> int:
    """``python benchmarks/bench.py [--full] [--rounds N] [--verbose] [--json PATH]``."""
    parser = argparse.ArgumentParser(prog="python benchmarks/bench.py",
                                     description="Environment throughput: ours beside the installed peers.")
    parser.add_argument("--full", action="store_true", help="the full benchmark (default: the quick one)")
    parser.add_argument("--rounds", type=int, default=None, help="measurement rounds (median kept)")
    parser.add_argument("--verbose", action="store_true", help="print each measurement as it is taken")
    parser.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = parser.parse_args(argv)
    print("measuring environment throughput (random masked play with auto-reset)...", flush=True)
    rows = run_bench(quick=not args.full, rounds=args.rounds, verbose=args.verbose)
    print(format_table(rows))
    if args.json:
        os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
        with open(args.json, "w") as handle:
            json.dump(rows, handle, indent=1, default=str)
        print(f"\nwrote {args.json}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
