#!/usr/bin/env bash
# What each kernel class costs inside the replayed CUDA graph of a decode step: the bench once in
# full, then once per class with that class's launches left out (A3B_SKIP_KERNELS; the numbers it
# computes are then garbage, its time is not). The difference is the class's share, launch gaps
# and lost overlap included — what `--profile` (eager, events around each kernel) cannot show.
#   bash tools/cuda_ablation.sh A3B_BINARY [bench arguments...]
#   e.g. bash tools/cuda_ablation.sh build/a3b --synthetic qwen3.6-35b-a3b --weights ud-q4_k_m
set -u
BIN=$1
shift
ARGS=("$@" --batch 1 --prompt-len 0 --ctx 1024 --steps 32)
CLASSES=${CLASSES:-"moe/router moe/gate_up moe/down deltanet/in_proj deltanet/decode deltanet/out_proj attention/qkv_proj attention/prepare attention/decode attention/combine attention/o_proj lm_head"}

step_ms() {  # the logits-on-GPU ms/step of one bench run
  A3B_SKIP_KERNELS=$1 "$BIN" bench "${ARGS[@]}" 2>&1 | sed -n 's/.*logits kept on GPU: *\([0-9.]*\) ms\/step.*/\1/p' | head -1
}

full=$(step_ms "")
echo "full step: ${full} ms"
for c in $CLASSES; do
  t=$(step_ms "$c")
  awk -v c="$c" -v f="$full" -v t="$t" 'BEGIN { if (t == "") { printf "%-22s (no result)\n", c; exit }
    printf "%-22s %7.3f ms without it: %6.3f ms/step, %5.1f%%\n", c, t, f - t, 100 * (f - t) / f }'
done
