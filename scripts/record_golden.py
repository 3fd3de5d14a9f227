#!/usr/bin/env python
"""Record golden trajectories of the envs into ``tests/golden/trajectories.json``.

A safety net for refactors: every case drives the envs only through public API (``gymnasium.make``,
``tttthought_env.pettingzoo.env``, the vector env), with actions from a seeded random-legal policy
(sometimes an illegal in-range action), and keeps the actions and sha256 hashes of everything the env
returned. ``tests/test_golden.py`` replays the actions on the code at hand and compares the hashes. The
running and hashing live in ``tests/golden/replay_golden.py``, shared by both.

Record from a fixed snapshot of the code, not from a working tree under change, e.g.::

    git worktree add /tmp/golden_src HEAD
    cd /tmp && PYTHONPATH=/tmp/golden_src /path/to/repo/.venv/bin/python /path/to/repo/scripts/record_golden.py

(``python -m`` puts the current directory before ``PYTHONPATH`` on ``sys.path``: run from a directory
without a ``tttthought_env`` of its own, or pass ``-P``, e.g. the test against the snapshot, from the repo:
``PYTHONPATH=/tmp/golden_src .venv/bin/python -P -m pytest -q tests/test_golden.py``). The output is
deterministic: two runs give the same bytes. Every case is replayed once after recording (``--no-verify``
skips that) to check that recording and replaying agree.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from typing import Any
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GOLDEN = REPO / "tests" / "golden"


def load_replay():
    """``tests/golden/replay_golden.py`` as a module (it is not part of an importable package)."""
    spec = importlib.util.spec_from_file_location("replay_golden", GOLDEN / "replay_golden.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("replay_golden", module)
    spec.loader.exec_module(module)
    return module


# ----------------------------------------------------------------------------- the cases
EPISODE_SEEDS = (None, None)  # after the first, seeded, reset: episodes that continue the same generator
ILLEGAL_P = 0.03  # chance of an illegal in-range action, in the cases that take some


def _seeds(seed: int) -> list:
    return [seed, *EPISODE_SEEDS]


def gymnasium_cases(tasks: dict, bound) -> list[dict]:
    cases = []

    def add(name: str, task: str, kwargs: dict, seed: int, illegal_p: float = 0.0, long_board: bool = False) -> None:
        kwargs = dict(kwargs)
        if long_board:  # overrides that lengthen episodes: pass the bound (gymnasium.make keeps the registered one)
            kwargs["max_episode_steps"] = bound(task, kwargs)
        case = {"group": "gymnasium", "name": f"gym/{name}/seed{seed}" + ("/illegal" if illegal_p else ""),
                "id": task, "kwargs": _jsonable(kwargs), "seeds": _seeds(seed)}
        if illegal_p:
            case["illegal_p"] = illegal_p
        cases.append(case)

    # The grid: every id x opponent x epsilon x side x three env seeds (the second seed takes illegal actions).
    for task in tasks:
        short = task.split("/")[1]
        for opponent in ("random", "minimax", "heuristic"):
            for eps in (0.0, 0.5):
                for side in ("X", "O", "random"):
                    for i, seed in enumerate((0, 1, 2)):
                        add(f"{short}/{opponent}/eps{eps}/{side}", task,
                            {"opponent": opponent, "opponent_epsilon": eps, "agent_player": side}, seed,
                            ILLEGAL_P if i == 1 else 0.0)

    full = "tttthought/Full-v0"
    shapings = [("oracle", 0.1, 1.0), ("oracle", 0.3, 1.0), ("potential", 0.1, 1.0), ("potential", 0.3, 1.0),
                ("potential", 0.1, 0.9), ("potential", 0.3, 0.9), ("prediction", 0.1, 1.0), ("prediction", 0.3, 1.0)]
    for kind, scale, gamma in shapings:
        for side in ("X", "O"):
            for seed in (10, 11):
                add(f"Full-v0/shaping={kind}/scale{scale}/gamma{gamma}/{side}", full,
                    {"shaping": kind, "shaping_scale": scale, "shaping_gamma": gamma, "agent_player": side}, seed,
                    ILLEGAL_P if seed == 11 else 0.0)
    for task, kind in (("tttthought/Plain-v0", "potential"), ("tttthought/Propose-v0", "oracle"),
                       ("tttthought/ProposeNegate-v0", "prediction"), ("tttthought/ProposeNegate-v0", "potential")):
        add(f"{task.split('/')[1]}/shaping={kind}", task, {"shaping": kind, "shaping_scale": 0.3,
                                                            "agent_player": "random"}, 12)

    variants = {
        "persist=turn": {"persist": "turn"},
        "persist=turn/potential": {"persist": "turn", "shaping": "potential", "shaping_gamma": 0.9},
        "persist=turn/prediction": {"persist": "turn", "shaping": "prediction"},
        "thought_cost=0.05": {"thought_cost": 0.05},
        "draw_reward=0.5": {"draw_reward": 0.5},
        "thought_cost+draw+oracle": {"thought_cost": 0.05, "draw_reward": 0.5, "shaping": "oracle"},
        "obs_mode=dict": {"obs_mode": "dict"},
        "obs_mode=dict/potential": {"obs_mode": "dict", "shaping": "potential"},
        "opponent_epsilon=1": {"opponent_epsilon": 1.0},
        "memory_size=2": {"memory_size": 2},
        "memory_size=2/persist=turn": {"memory_size": 2, "persist": "turn"},
        "memory_size=1/oracle": {"memory_size": 1, "shaping": "oracle"},
        "num_markers=3": {"num_markers": 3},
        "max_thoughts=0": {"max_thoughts": 0},
        "channels=forget,marker": {"channels": ("forget", "marker")},
        "channels=marker/num_markers=1": {"channels": ("marker",), "num_markers": 1},
        "channels=negate,forget": {"channels": ("negate", "forget"), "max_thoughts": 2},
        "truncate=5": {"max_episode_steps": 5},
        "truncate=9/plain-moves": {"max_episode_steps": 9, "opponent": "random"},
    }
    for label, kwargs in variants.items():
        for side in ("X", "O", "random"):
            for seed in (20, 21):
                add(f"Full-v0/{label}/{side}", full, {**kwargs, "agent_player": side}, seed,
                    ILLEGAL_P if seed == 21 else 0.0)
    add("Full-v0/max_thoughts=5", full, {"max_thoughts": 5, "agent_player": "random"}, 22, ILLEGAL_P, long_board=True)

    odd = {
        "4x4k3/random": {"rows": 4, "cols": 4, "k": 3, "opponent": "random"},
        "4x4k3/heuristic": {"rows": 4, "cols": 4, "k": 3, "opponent": "heuristic"},
        "4x4k3/heuristic/eps0.5/turn": {"rows": 4, "cols": 4, "k": 3, "opponent": "heuristic",
                                        "opponent_epsilon": 0.5, "persist": "turn"},
        "4x4k3/random/prediction": {"rows": 4, "cols": 4, "k": 3, "opponent": "random", "shaping": "prediction"},
        "2x3k2/random": {"rows": 2, "cols": 3, "k": 2, "opponent": "random"},
        "2x3k2/minimax": {"rows": 2, "cols": 3, "k": 2},
        "2x3k2/heuristic/potential": {"rows": 2, "cols": 3, "k": 2, "opponent": "heuristic", "shaping": "potential"},
        "1x5k3/minimax": {"rows": 1, "cols": 5, "k": 3},
        "1x5k3/heuristic/oracle": {"rows": 1, "cols": 5, "k": 3, "opponent": "heuristic", "shaping": "oracle"},
        "2x2k1/random": {"rows": 2, "cols": 2, "k": 1, "opponent": "random"},
        "2x2k1/minimax": {"rows": 2, "cols": 2, "k": 1},
        "3x4k3/heuristic/markers3": {"rows": 3, "cols": 4, "k": 3, "opponent": "heuristic", "num_markers": 3},
    }
    for label, kwargs in odd.items():
        for side in ("X", "O", "random"):
            add(f"Full-v0/{label}/{side}", full, {**kwargs, "agent_player": side}, 30, long_board=True)
            add(f"Full-v0/{label}/{side}", full, {**kwargs, "agent_player": side}, 31, ILLEGAL_P, long_board=True)
    add("Plain-v0/4x4k3/heuristic", "tttthought/Plain-v0", {"rows": 4, "cols": 4, "k": 3, "opponent": "heuristic"},
        32, long_board=True)
    add("Propose-v0/2x3k2/potential", "tttthought/Propose-v0", {"rows": 2, "cols": 3, "k": 2, "shaping": "potential"},
        32, long_board=True)

    # Many deliberate illegal actions (illegal_action="lose", the default, and passed explicitly).
    for task in tasks:
        short = task.split("/")[1]
        for side in ("X", "O"):
            add(f"{short}/illegal-often/{side}", task, {"illegal_action": "lose", "agent_player": side}, 40, 0.3)
    add("Full-v0/illegal-often/potential", full, {"shaping": "potential", "agent_player": "random"}, 41, 0.3)
    add("Full-v0/illegal-often/prediction", full, {"shaping": "prediction", "agent_player": "random"}, 41, 0.3)
    add("Full-v0/illegal-often/dict", full, {"obs_mode": "dict", "agent_player": "random"}, 41, 0.3)
    return cases


def pettingzoo_cases(tasks: dict) -> list[dict]:
    cases = []

    def add(name: str, kwargs: dict, seed: int, illegal_p: float = 0.0) -> None:
        case = {"group": "pettingzoo", "name": f"pz/{name}/seed{seed}" + ("/illegal" if illegal_p else ""),
                "kwargs": _jsonable(kwargs), "seeds": _seeds(seed)}
        if illegal_p:
            case["illegal_p"] = illegal_p
        cases.append(case)

    for task, settings in tasks.items():
        short = task.split("/")[1]
        for i, seed in enumerate((0, 1, 2, 3)):
            add(short, settings, seed, ILLEGAL_P if i == 1 else 0.0)
    full = tasks["tttthought/Full-v0"]
    for kind, scale, gamma in [("oracle", 0.1, 1.0), ("oracle", 0.3, 1.0), ("potential", 0.1, 1.0),
                               ("potential", 0.3, 0.9), ("prediction", 0.1, 1.0), ("prediction", 0.3, 1.0)]:
        for seed in (10, 11):
            add(f"Full/shaping={kind}/scale{scale}/gamma{gamma}",
                {**full, "shaping": kind, "shaping_scale": scale, "shaping_gamma": gamma}, seed,
                ILLEGAL_P if seed == 11 else 0.0)
    variants = {
        "persist=turn": {"persist": "turn"},
        "persist=turn/potential": {"persist": "turn", "shaping": "potential"},
        "thought_cost=0.05/draw_reward=0.5": {"thought_cost": 0.05, "draw_reward": 0.5},
        "thought_cost=0.05/prediction": {"thought_cost": 0.05, "shaping": "prediction"},
        "memory_size=2": {"memory_size": 2},
        "num_markers=3": {"num_markers": 3},
        "max_thoughts=0": {"max_thoughts": 0},
        "channels=forget,marker": {"channels": ("forget", "marker")},
        "4x4k3": {"rows": 4, "cols": 4, "k": 3},
        "4x4k3/prediction": {"rows": 4, "cols": 4, "k": 3, "shaping": "prediction"},
        "2x3k2/potential": {"rows": 2, "cols": 3, "k": 2, "shaping": "potential"},
        "1x5k3/oracle": {"rows": 1, "cols": 5, "k": 3, "shaping": "oracle"},
        "2x2k1": {"rows": 2, "cols": 2, "k": 1},
    }
    for label, kwargs in variants.items():
        for seed in (20, 21):
            add(f"Full/{label}", {**full, **kwargs}, seed, ILLEGAL_P if seed == 21 else 0.0)
    for task, settings in tasks.items():
        add(f"{task.split('/')[1]}/illegal-often", {**settings, "illegal_action": "lose"}, 40, 0.3)
    add("Full/illegal-often/potential", {**full, "shaping": "potential"}, 41, 0.3)
    return cases


def vector_cases(tasks: dict) -> list[dict]:
    cases = []
    full = tasks["tttthought/Full-v0"]

    def add(name: str, num_envs: int, kwargs: dict, seed: int, task: str | None = None,
            illegal_p: float = 0.0) -> None:
        case = {"group": "vector", "name": f"vec/{name}/n{num_envs}/seed{seed}" + ("/illegal" if illegal_p else ""),
                "maker": "make_vec" if task else "ThoughtVectorEnv", "num_envs": num_envs, "num_steps": 50,
                "seed": seed, "kwargs": _jsonable({"backend": "numpy", **kwargs})}
        if task:
            case["id"] = task
        if illegal_p:
            case["illegal_p"] = illegal_p
        cases.append(case)

    for i, task in enumerate(tasks):
        add(f"make_vec/{task.split('/')[1]}", 4 + i, {}, 0, task)
    add("make_vec/Full-v0/illegal", 6, {"agent_player": "random"}, 1, "tttthought/Full-v0", ILLEGAL_P)
    add("make_vec/Plain-v0/random-side", 5, {"agent_player": "random"}, 2, "tttthought/Plain-v0", ILLEGAL_P)
    for kind, extra in (("potential", {"shaping_gamma": 0.9, "shaping_scale": 0.3}), ("potential", {}),
                        ("oracle", {}), ("prediction", {"shaping_scale": 0.3})):
        add(f"Full/shaping={kind}" + ("/gamma0.9" if extra.get("shaping_gamma") else ""), 6,
            {**full, "opponent": "minimax", "opponent_epsilon": 0.5, "shaping": kind, **extra}, 3)
    for opponent in ("random", "minimax", "heuristic"):
        add(f"Full/{opponent}/eps0.5/random-side", 8,
            {**full, "opponent": opponent, "opponent_epsilon": 0.5, "agent_player": "random"}, 4, None, ILLEGAL_P)
        add(f"Full/{opponent}/O", 4, {**full, "opponent": opponent, "agent_player": "O"}, 5)
    add("Full/4x4k3/heuristic", 6, {**full, "rows": 4, "cols": 4, "k": 3, "opponent": "heuristic",
                                     "agent_player": "random"}, 6, None, ILLEGAL_P)
    add("Plain/4x4k3/heuristic", 5, {**tasks["tttthought/Plain-v0"], "rows": 4, "cols": 4, "k": 3,
                                      "opponent": "heuristic"}, 6)
    add("Full/persist=turn/potential", 7, {**full, "persist": "turn", "shaping": "potential",
                                            "agent_player": "random"}, 7)
    add("Full/obs_mode=dict", 4, {**full, "obs_mode": "dict", "agent_player": "random"}, 8, None, ILLEGAL_P)
    add("Full/thought_cost+draw_reward", 5, {**full, "thought_cost": 0.05, "draw_reward": 0.5,
                                              "opponent": "minimax"}, 9)
    add("Full/memory_size=2/markers3", 6, {**full, "memory_size": 2, "num_markers": 3}, 10, None, ILLEGAL_P)
    add("Full/max_thoughts=0", 4, {**full, "max_thoughts": 0}, 11, None, ILLEGAL_P)
    add("Full/channels=forget,marker", 4, {"channels": ("forget", "marker"), "opponent": "heuristic"}, 12)
    add("Full/2x3k2/minimax/oracle", 5, {**full, "rows": 2, "cols": 3, "k": 2, "opponent": "minimax",
                                          "shaping": "oracle", "agent_player": "random"}, 13)
    add("Full/2x2k1/O", 4, {**full, "rows": 2, "cols": 2, "k": 1, "agent_player": "O"}, 14, None, ILLEGAL_P)
    add("Full/illegal-often", 8, {**full, "agent_player": "random"}, 15, None, 0.3)
    return cases


def _jsonable(kwargs: dict) -> dict:
    return {key: list(value) if isinstance(value, tuple) else value for key, value in sorted(kwargs.items())}


def all_cases() -> list[dict]:
    import gymnasium

    import tttthought_env  # noqa: F401  (registers the ids)
    from tttthought_env.registration import TASKS

    def bound(task: str, kwargs: dict) -> int:
        env = gymnasium.make(task, **{k: v for k, v in kwargs.items() if k != "max_episode_steps"})
        try:
            return int(env.unwrapped.max_episode_steps_bound)
        finally:
            env.close()

    cases = gymnasium_cases(TASKS, bound) + pettingzoo_cases(TASKS) + vector_cases(TASKS)
    names = [case["name"] for case in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise SystemExit(f"duplicate case names: {duplicates}")
    return cases


def _source_commit(package_file: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(Path(package_file).parent), "rev-parse", "HEAD"],
                             capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip() or None


def _write(out: Path, header: dict, records: list[dict]) -> None:
    lines = ["{", *(f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)}," for key, value in header.items()),
             '  "cases": [']
    lines += [f"    {json.dumps(record, sort_keys=True, separators=(',', ':'))}," for record in records]
    lines[-1] = lines[-1].rstrip(",")
    lines += ["  ]", "}", ""]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))


def update_infos(out: Path, replay: Any, why: str, commit: str | None) -> int:
    """Re-record the info hashes of every case of ``out``; its trajectories must replay unchanged."""
    golden = json.loads(out.read_text())
    records = golden.pop("cases")
    for record in records:
        result = replay.run_case(record, record["actions"])
        if "error" in result or result["sha256"] != record["sha256"]:
            raise SystemExit(f"{record['name']}: the trajectory changed, so this is not an infos-only change")
        record.update(info_sha256=result["info_sha256"], info_step_hashes=result["info_step_hashes"])
    golden["infos_recorded_with"] = {"commit": commit, "why": why}
    _write(out, golden, records)
    print(f"re-recorded the info hashes of {len(records)} cases; every trajectory replayed byte-identical")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=GOLDEN / "trajectories.json")
    parser.add_argument("--no-verify", action="store_true", help="skip replaying every case after recording it")
    parser.add_argument("--update-infos", metavar="WHY", default=None,
                        help="keep the recorded trajectories (they must replay byte-identical on this code) and "
                             "re-record only the info hashes, after an intended change of the infos")
    args = parser.parse_args(argv)

    replay = load_replay()
    import tttthought_env

    if args.update_infos:
        return update_infos(args.out, replay, args.update_infos, _source_commit(tttthought_env.__file__))

    start = time.perf_counter()
    cases = all_cases()
    totals: dict[str, dict[str, int]] = {}
    records = []
    for case in cases:
        result = replay.run_case(case)
        if "error" in result:
            raise SystemExit(f"{case['name']}: the env raised while recording: {result['error']}")
        if not args.no_verify:
            again = replay.run_case(case, result["actions"])
            if (again["sha256"], again["info_sha256"]) != (result["sha256"], result["info_sha256"]):
                raise SystemExit(f"{case['name']}: replaying the recorded actions gave other hashes")
        group = totals.setdefault(case["group"], {"cases": 0})
        group["cases"] += 1
        for key, value in result["stats"].items():
            group[key] = group.get(key, 0) + value
        records.append({**case, **{key: result[key] for key in
                                   ("actions", "steps", "sha256", "step_hashes", "info_sha256", "info_step_hashes")}})
    elapsed = time.perf_counter() - start

    header = {"format": replay.FORMAT, "recorded_with": {"tttthought_env": tttthought_env.__version__,
                                                         "commit": _source_commit(tttthought_env.__file__)},
              "coverage": {group: dict(sorted(stats.items())) for group, stats in sorted(totals.items())}}
    _write(args.out, header, records)
    size = args.out.stat().st_size
    print(f"recorded {len(records)} cases from {tttthought_env.__file__} in {elapsed:.1f} s "
          f"({'verified by replay' if not args.no_verify else 'not verified'}); wrote {args.out} ({size / 1e6:.2f} MB)")
    for group, stats in header["coverage"].items():
        print(f"  {group}: {stats}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
