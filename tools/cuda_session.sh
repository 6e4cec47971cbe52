#!/usr/bin/env bash
# One session of the CUDA backend on a GPU machine: correctness tests, memory churn, benchmarks
# with a per-kernel profile (bf16, and with QUANT=1, the default, the UD-Q4_K_M quant mix), and
# (FULLWIDTH=1) the full-width check against transformers.
# Builds nothing: BIN_DIR holds a3b and a3b_tests built for sm_90a; ROOT is the repository root
# (fixtures, scripts). Logs go to $OUT (default /tmp/a3b_out); a summary is printed last.
#   bash tools/cuda_session.sh BIN_DIR [ROOT]
set -u
BIN=$(cd "$1" && pwd)
ROOT=${2:-$(cd "$(dirname "$0")/.." && pwd)}
OUT=${OUT:-/tmp/a3b_out}
mkdir -p "$OUT"
export A3B_FIXTURES=$ROOT/tests/fixtures
nvidia-smi --query-gpu=name,memory.total,memory.used,clocks.max.sm --format=csv,noheader
if ldd "$BIN/a3b" | grep -q "not found"; then
  for lib in libcudart.so.13 libcublas.so.13 libcublasLt.so.13; do
    d=$(dirname "$(find / -name "$lib*" -not -path '/proc/*' 2>/dev/null | head -1)")
    export LD_LIBRARY_PATH=$d:${LD_LIBRARY_PATH:-}
  done
  ldd "$BIN/a3b" | grep -E "cuda|cublas"
fi

step() {
  local name=$1 limit=$2
  shift 2
  echo "=== $name: $*"
  timeout "$limit" "$@" >"$OUT/$name.log" 2>&1
  local rc=$?
  tail -n "${TAIL:-40}" "$OUT/$name.log"
  echo "=== $name rc=$rc"
}

TAIL=60 step tests 200 "$BIN/a3b_tests" --gtest_filter='*Cuda*:Backend*'
TAIL=5 step churn 60 "$BIN/a3b" bench -m "$A3B_FIXTURES/tiny-fused" --churn 1000 --prompt-len 0 --batch 1 --ctx 16 --steps 4
TAIL=80 step bench 240 "$BIN/a3b" bench --synthetic qwen3.6-35b-a3b --batch "${BATCHES:-1,8,64}" --prompt-len 8192 \
  --ctx 1024 --steps 32 ${PROFILE:---profile}
if [ "${QUANT:-1}" = 1 ]; then  # GGUF quant types: the UD-Q4_K_M mix, and churn on a Q4_K_M file of the default model
  TAIL=40 step bench_q 240 "$BIN/a3b" bench --synthetic qwen3.6-35b-a3b --weights ud-q4_k_m --batch "${BATCHES:-1,8,64}" \
    --prompt-len 8192 --ctx 1024 --steps 32
  "$BIN/a3b" quantize "$ROOT/models/default" "$OUT/q4_k_m.gguf" --type Q4_K_M >/dev/null 2>&1
  TAIL=5 step churn_q 60 "$BIN/a3b" bench -m "$OUT/q4_k_m.gguf" --backend cuda --churn 1000 --prompt-len 0 --batch 1 --ctx 16 --steps 4
  rm -f "$OUT/q4_k_m.gguf"
fi
if [ "${FULLWIDTH:-0}" = 1 ]; then
  FW=${FW_DIR:-/tmp/fullwidth}
  PYTHONUNBUFFERED=1 TAIL=6 step fullwidth_make 300 python3 "${FW_SCRIPT:-$ROOT/tools/reference/make_fullwidth.py}" "$FW"
  A3B_FULLWIDTH_DIR=$FW TAIL=12 step fullwidth_test 200 "$BIN/a3b_tests" --gtest_filter='CudaFullWidth*'
fi

echo "##### summary"
grep -hE "^\[  (PASSED|FAILED) |^\[  FAILED|max\|Δ\||token by token|mid-size|requests|full width" "$OUT/tests.log" 2>/dev/null | head -30
grep -hE "^churn" "$OUT"/churn*.log 2>/dev/null
grep -hE "^(device|model|prefill|decode)|by class" "$OUT"/bench*.log 2>/dev/null
grep -hE "full width|PASSED|FAILED|greedy|saved" "$OUT"/fullwidth_*.log 2>/dev/null | head -12
