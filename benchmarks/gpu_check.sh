#!/usr/bin/env bash
# Every GPU check of the fused kernels in one prepared run, for a session lent a GPU:
#
#     bash benchmarks/gpu_check.sh [OUT_DIR]        (default: $OUT, else gpu_check/)
#
# 1. the Triton kernel tests and the fused-path tests on CUDA tensors;
# 2. `actlab bench activations --device cuda` in float32 and bfloat16 on 256M elements
#    (1 GiB in float32: far past the L2 cache, so the copy runs at memory speed);
# 3. `actlab bench models --device cuda` (depth 100, width 1024) at batch 256, and at
#    batch 2048, where the matmuls outlast the Python that launches each layer's kernels:
#    the two ratios separate the activations' GPU time from their host-side cost.
# Needs python3 with a CUDA build of torch and triton (PYTHON=... to choose another).
# Writes log.txt (everything printed) and the benchmarks' JSON into OUT_DIR; sized to fit
# one device call (10 minutes), kernel compilation included. Exits 1 if any step failed.
# The figures go to docs/performance.md.
set -uo pipefail
out=$(realpath -m "${1:-${OUT:-gpu_check}}")
mkdir -p "$out"
cd "$(dirname "$0")/.."
py=${PYTHON:-python3}
export PYTHONPATH=src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
exec > >(tee "$out/log.txt") 2>&1
status=0
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
$py -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)"
$py -m pytest -q -p no:cacheprovider tests/test_kernels.py tests/test_fused.py || status=1
for dtype in float32 bfloat16; do
    $py -m actlab bench activations --device cuda --dtype $dtype --size 268435456 --repeats 20 --rounds 3 \
        --json "$out/activations_$dtype.json" || status=1
done
for batch in 256 2048; do
    $py -m actlab bench models --device cuda --batch $batch --repeats 20 --rounds 3 \
        --json "$out/models_batch$batch.json" || status=1
done
exit $status
