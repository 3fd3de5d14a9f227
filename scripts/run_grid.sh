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
#
# A fresh clone already holds every committed record, so this command finds nothing to do. To reproduce
# the numbers yourself, run the grid into another folder and compare its report with docs/results.md:
#
#   RESULTS=my-results scripts/run_grid.sh --jobs 2    # writes my-results/ and my-results/results.md
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
RESULTS="${RESULTS:-results}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
"$PYTHON" -m baselines grid --results "$RESULTS" "$@"
if [ "$RESULTS" = results ]; then
    "$PYTHON" -m baselines report --results results --out docs/results.md --img docs/img
else
    "$PYTHON" -m baselines report --results "$RESULTS" --out "$RESULTS/results.md" --img "$RESULTS/img"
fi
