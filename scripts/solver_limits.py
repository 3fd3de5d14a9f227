"""Measure how far the exact solver reaches: time and stored positions per board.

Regenerates the table in docs/solver.md. Per board, in a fresh subprocess with a wall-clock limit and the
solver's up-front tractability check bypassed (the point is to measure it): the time to solve the empty
board and all first moves, then ``--games`` uniformly random games that ask for the optimal moves at every
step, as the "minimax" opponent and shaping do (positions off the optimal path cost the most):

    python scripts/solver_limits.py                       # the documented boards
    python scripts/solver_limits.py 4x5:4 5x5:4 --timeout 300 --games 20
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

# The documented boards: the brief's four, the hardest accepted ones, and rejected examples.
DEFAULT_BOARDS = (
    "3x3:3", "3x4:3", "3x4:4", "4x4:3", "4x4:4", "2x8:4", "1x16:5", "5x5:3", "3x8:3", "4x5:4", "2x12:3", "5x5:4",
)

_CHILD = """
import json, os, sys, time, types
import numpy as np
# Import the solver without the package __init__ (which registers every env): it needs only its own modules.
package = types.ModuleType("tttthought_env")
package.__path__ = [os.path.join(sys.argv[6], "tttthought_env")]
sys.modules["tttthought_env"] = package
from tttthought_env.solver import Solver, SolverLimitError
rows, cols, k, budget, games = map(int, sys.argv[1:6])
solver = Solver(rows, cols, k, max_positions=budget, skip_tractable_check=True)
empty = np.zeros(rows * cols, dtype=np.int8)
start = time.perf_counter()
try:
    value = solver.value(empty)
    value_s = time.perf_counter() - start
    move_values = solver.move_values(empty)
    result = {"value": value, "value_s": value_s, "all_moves_s": time.perf_counter() - start,
              "positions": solver.positions_stored}
    print(json.dumps(result), flush=True)
    rng = np.random.default_rng(0)
    start, worst = time.perf_counter(), 0.0
    for _ in range(games):
        marks = [0, 0]
        for ply in range(rows * cols):
            step = time.perf_counter()
            if solver.optimal_bits_from_marks(marks[0], marks[1]) == 0:
                break  # game over
            worst = max(worst, time.perf_counter() - step)
            occupied = marks[0] | marks[1]
            free = [c for c in range(rows * cols) if not occupied >> c & 1]
            marks[ply % 2] |= 1 << int(rng.choice(free))
    result = {"games_s": time.perf_counter() - start, "worst_step_s": worst, "positions": solver.positions_stored}
except SolverLimitError:
    result = {"limit": True, "s": time.perf_counter() - start, "positions": solver.positions_stored}
print(json.dumps(result), flush=True)
"""


def measure(rows: int, cols: int, k: int, timeout: float, budget: int, games: int) -> tuple[dict, dict]:
    """(root result, random-games result); either may say ``timeout`` or ``limit`` instead."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    args = [sys.executable, "-c", _CHILD, str(rows), str(cols), str(k), str(budget), str(games), repo]
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=True).stdout
    except subprocess.TimeoutExpired as err:
        out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
    results = [json.loads(line) for line in out.splitlines() if line.strip()]
    results += [{"timeout": True}] * (2 - len(results))
    return results[0], results[1]


def _cell(result: dict, seconds_key: str, timeout: float, budget: int) -> str:
    if result.get("timeout"):
        return f"> {timeout:.0f} s (stopped)"
    if result.get("limit"):
        return f"over {budget:,} positions"
    return f"{result[seconds_key]:.2f} s"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("boards", nargs="*", default=DEFAULT_BOARDS, help="ROWSxCOLS:K, e.g. 4x4:3")
    parser.add_argument("--timeout", type=float, default=240.0, help="seconds per board (default 240)")
    parser.add_argument("--budget", type=int, default=20_000_000, help="max_positions (default 20,000,000)")
    parser.add_argument("--games", type=int, default=100, help="random games per board (default 100)")
    parser.add_argument("--jobs", type=int, default=1, help="boards measured at once (default 1: cleanest timings)")
    args = parser.parse_args(argv)
    boards = [(int(size.split("x")[0]), int(size.split("x")[1]), int(k))
              for size, k in (spec.split(":") for spec in args.boards)]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:  # each measurement is its own subprocess
        results = pool.map(lambda b: measure(*b, args.timeout, args.budget, args.games), boards)
    print(f"| board | k | value | solve empty board | all first moves | {args.games} random games "
          "| slowest step | positions stored |")
    print("|---|---|---|---|---|---|---|---|")
    for (rows, cols, k), (root, games) in zip(boards, results):
        cells = [f"{rows}x{cols}", str(k), "?", _cell(root, "value_s", args.timeout, args.budget), "", "", "", "?"]
        if "value" in root:
            cells[2] = f"{root['value']:+d}"
            cells[4] = _cell(root, "all_moves_s", args.timeout, args.budget)
            cells[5] = _cell(games, "games_s", args.timeout, args.budget)
        if "worst_step_s" in games:
            cells[6] = f"{games['worst_step_s']:.2f} s"
        positions = games.get("positions", root.get("positions"))
        if positions is not None:
            cells[7] = f"{positions:,}"
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
