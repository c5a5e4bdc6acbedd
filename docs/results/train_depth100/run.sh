#!/usr/bin/env bash
# The depth-100 comparison of docs/training.md, on a CPU-sized subset of Fashion-MNIST:
# 10,000 training images (random, seed 0), the 10,000 test images, 3 epochs, width 256,
# Adam at lr 3e-4 and 1e-4 (plus one Z-Plane run at 1e-3), batch 128, one CPU thread per run.
# Runs (checkpoints, per-run metrics and figures) go to $RUNS; summarize.py writes
# summary.json, table.md, accuracy.png and grad_profile_{init,end}.png next to this script.
# A run already finished in $RUNS is not retrained.
# Usage (from the repository root): bash docs/results/train_depth100/run.sh
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
RUNS=${RUNS:-/tmp/actlab_train_depth100}
COMMON=(--data fashion_mnist --n-train 10000 --depth 100 --width 256 --epochs 3 --batch-size 128
        --seed 0 --probe-every 0 --threads 1 --device cpu --json)
train() {  # name, extra flags...
  local name=$1; shift
  PYTHONPATH=src python3 -m actlab train "${COMMON[@]}" "$@" --out "$RUNS/$name" --resume 2>/dev/null \
    || PYTHONPATH=src python3 -m actlab train "${COMMON[@]}" "$@" --out "$RUNS/$name" > /dev/null
}
for LR in 3e-4 1e-4; do
  SUFFIX=$([ "$LR" = 3e-4 ] && echo "" || echo "_lr$LR")
  train zplane_rb_pairs$SUFFIX   --lr $LR --model zplane
  train zplane_rb_vector$SUFFIX  --lr $LR --model zplane --group-size none
  train relu_default$SUFFIX      --lr $LR --model mlp --act relu
  train relu_layernorm$SUFFIX    --lr $LR --model mlp --act relu --norm layernorm
  train relu_kaiming$SUFFIX      --lr $LR --model mlp --act relu --init kaiming
done
train zplane_rb_pairs_lr1e-3 --lr 1e-3 --model zplane
python3 "$HERE/summarize.py" "$RUNS"
