#!/usr/bin/env bash
# The GPU figures in one run, for the day a GPU machine is lent (see benchmarks/RESULTS.md).
#
#   bash benchmarks/gpu.sh                    # on the GPU machine: writes $OUT/gpu_results.md
#   bash benchmarks/gpu.sh --out FILE.md      # anywhere else
#   bash benchmarks/gpu.sh --cpu-smoke [--out FILE.md]   # same code paths, tiny, on CPU (CI, seconds)
#
# Runs from the repository with PYTHONPATH set (nothing is installed; the GPU image has jax with
# CUDA, flax, optax, orbax, numba, scipy, tqdm), under `timeout` so the whole run stays inside
# 8 minutes; the table is rewritten after every row, so a cut-short run still leaves its rows.
# Python: $PYTHON, else the repository's .venv (CI), else python3 (the GPU image's).
# Extra arguments go to benchmarks/gpu_bench.py (e.g. --budget-s 300).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="" smoke=0 rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --cpu-smoke) smoke=1; rest+=(--cpu-smoke); shift ;;
    *) rest+=("$1"); shift ;;
  esac
done
if [ -z "$out" ]; then
  if [ -n "${OUT:-}" ]; then out="$OUT/gpu_results.md"; else out="$root/gpu_results.md"; fi
fi
if [ -d "$out" ]; then out="$out/gpu_results.md"; fi
py="${PYTHON:-}"
if [ -z "$py" ]; then
  if [ -x "$root/.venv/bin/python" ]; then py="$root/.venv/bin/python"; else py=python3; fi
fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ "$smoke" = 1 ]; then
  export JAX_PLATFORMS=cpu
  limit=300
else
  # Let XLA take most of the GPU's memory so the largest batch is the device's, not the default 75%.
  export XLA_PYTHON_CLIENT_MEM_FRACTION="${XLA_PYTHON_CLIENT_MEM_FRACTION:-0.92}"
  limit=470
fi
cd "$root"
echo "gpu.sh: $py, table -> $out" >&2
rc=0
timeout --signal=TERM --kill-after=10 "$limit" "$py" benchmarks/gpu_bench.py --out "$out" "${rest[@]}" || rc=$?
[ -f "$out" ] && cat "$out"
if [ "$rc" = 124 ]; then echo "gpu.sh: stopped at the ${limit} s limit; the table holds the rows finished" >&2; fi
exit "$rc"
