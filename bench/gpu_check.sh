#!/usr/bin/env bash
# The GPU check (bench/gpu_check.py): sweep throughput vs loop and bmm + fused SGD, a 10,000-layer 128-channel CNN
# step (time, peak memory), a short deep-CNN training run; one JSON in bench/results/. At most 8 minutes.
#   bash bench/gpu_check.sh               # on a machine with a CUDA GPU
#   bash bench/gpu_check.sh --cpu-smoke   # anywhere: tiny sizes on the CPU, checks the script end to end
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"
PY="${PYTHON:-python}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
exec timeout --signal=INT --kill-after=20 470 "$PY" bench/gpu_check.py "$@"
