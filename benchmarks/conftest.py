"""pytest-benchmark suite: ``python -m pytest benchmarks --benchmark-only`` (not part of the test run).

Every benchmark runs one of the loops of :mod:`benchmarks.bench` (random masked play with auto-reset) and
records in ``extra_info`` how many env steps one round makes; the summary at the end turns the median round
time into steps per second and prints the ratios to the peers (PettingZoo's tictactoe_v3, pgx, OpenSpiel; each
skipped when not installed: ``pip install -c constraints.txt "tttthought-env[bench]"``).

By default the process is pinned to one CPU core (the issue's targets are per core): ``--bench-all-cores``
leaves it free. ``--bench-batch`` sets the vector batch (default 16384).
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("tttthought bench")
    group.addoption("--bench-all-cores", action="store_true", help="do not pin the process to one CPU core")
    group.addoption("--bench-batch", type=int, default=16384, help="batch size of the vector benchmarks")


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--bench-all-cores"):
        from benchmarks.bench import pin_to_one_core

        pin_to_one_core()


@pytest.fixture(scope="session")
def bench_batch(request: pytest.FixtureRequest) -> int:
    return request.config.getoption("--bench-batch")


def run_candidate(benchmark, cand, rounds: int = 5) -> None:
    """Benchmark one :class:`benchmarks.bench.Candidate`: ``rounds`` rounds of ``cand.steps`` loop calls."""
    try:
        loop = cand.make()
    except ImportError as err:
        pytest.skip(f"{cand.name}: not installed ({err.name or err})")
    loop.run(max(1, cand.steps // 4))  # warm up: jit, caches, solver tables
    steps = {}

    def one_round() -> None:
        steps["done"] = loop.run(cand.steps)

    benchmark.group = cand.group
    benchmark.extra_info.update(implementation=cand.name, task=cand.task, batch=cand.batch)
    benchmark.pedantic(one_round, rounds=rounds, iterations=1, warmup_rounds=1)
    benchmark.extra_info["steps_per_round"] = steps["done"]


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    session = getattr(config, "_benchmarksession", None)
    if session is None or not session.benchmarks:
        return
    from benchmarks.bench import compare, format_table

    rows = []
    for bench in session.benchmarks:
        info = bench.extra_info
        if "steps_per_round" not in info or not bench.stats:
            continue
        median = bench.stats.median
        rows.append({"kind": "candidate", "group": bench.group, "name": info["implementation"], "task": info["task"],
                     "batch": info["batch"], "steps_per_s": info["steps_per_round"] / median if median else None})
    if rows:
        terminalreporter.write_sep("=", "tttthought-env: steps per second and ratios to the peers")
        terminalreporter.write_line(format_table(rows + compare(rows)))
