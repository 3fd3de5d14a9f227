#!/usr/bin/env bash
# The headline experiment of docs/benchmark.md, end to end: every run of the grid, then the report.
#
#   scripts/run_grid.sh              # one process per CPU core
#   scripts/run_grid.sh --jobs 16    # any extra arguments go to `python -m baselines grid`
#   scripts/run_grid.sh --ray auto   # on an existing Ray cluster (pip install -c constraints.txt -e ".[ray]")
#
# 5 conditions x {MaskablePPO, masked QR-DQN} x {tiny, default} x 10 seeds = 200 runs, plus plain QR-DQN
# (plain, thoughts; default net; 10 seeds) = 220 runs of about 45-60 CPU-seconds each: about 3 CPU-hours,
# so ~1.5-2 hours on 2 cores, ~15 minutes on 16. Resumable: rerun the same command after an interruption
# and finished runs (their records under results/records/) are skipped. Results do not depend on the
# number of processes: each run is seeded and single-threaded.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
"$PYTHON" -m baselines grid --results results "$@"
"$PYTHON" -m baselines report --results results --out docs/results.md --img docs/img
