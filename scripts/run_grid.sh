#!/usr/bin/env bash
# The experiments of docs/benchmark.md, end to end, then the report:
#   1. the tuning sweep (the same small sweep for every condition, held-out seeds 100-101) and its selection;
#   2. the headline grid (both views, every condition, MaskablePPO and masked QR-DQN, tiny and default MLPs,
#      seeds 0-9, plus plain QR-DQN on plain and thoughts), each cell with its selection;
#   3. the architecture grid (MaskablePPO, DeepSets and Transformer beside the MLP, per view plain, thoughts,
#      the best R(δx) of step 2 and pretrained);
#   4. the capacity probe; 5. the report.
#
#   scripts/run_grid.sh              # one process per CPU core
#   scripts/run_grid.sh --jobs 16    # extra arguments go to every `python -m baselines sweep|grid` call
#   scripts/run_grid.sh --ray auto   # on an existing Ray cluster (pip install -c constraints.txt -e ".[ray]")
#
# Cost (docs/benchmark.md, "What it costs"): about 26 CPU-hours for steps 1-2 at the budgets that let the
# control master the game, and about 110 more for step 3 (a Transformer run costs 12 MLP runs on a CPU, a
# DeepSets run 3); on 16 cores about 2 and 7 hours. Resumable: rerun the same command
# after an interruption and every run with a valid record is skipped. Results do not depend on the number of
# processes: each run is seeded and single-threaded.
#
# To reproduce the committed numbers, run everything into another folder and compare its report:
#
#   RESULTS=my-results scripts/run_grid.sh --jobs 2    # writes my-results/ and my-results/results.md
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
RESULTS="${RESULTS:-results}"
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
"$PYTHON" -m baselines sweep --results "$RESULTS/sweeps/tuning" "$@"
"$PYTHON" -m baselines grid --results "$RESULTS" --tuned "$RESULTS/sweeps/tuning/selected.json" "$@"
"$PYTHON" -m baselines grid --results "$RESULTS" --tuned "$RESULTS/sweeps/tuning/selected.json" --arch-grid "$@"
[ -f "$RESULTS/probe/probe.json" ] || "$PYTHON" -m baselines probe --out "$RESULTS/probe"
if [ "$RESULTS" = results ]; then
    "$PYTHON" -m baselines report --results results --out docs/results.md --img docs/img
else
    "$PYTHON" -m baselines report --results "$RESULTS" --out "$RESULTS/results.md" --img "$RESULTS/img"
fi
