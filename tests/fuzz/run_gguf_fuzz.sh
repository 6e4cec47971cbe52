#!/usr/bin/env bash
# Builds the GGUF libFuzzer target with clang++-14 (ASan + UBSan) in BUILD_DIR/fuzz and runs it for
# SECONDS (default 60) over a seed corpus of small valid GGUF files (make_gguf_seeds.py). Findings
# are left in BUILD_DIR/fuzz/findings; the run fails on any crash, leak, timeout or OOM.
#
# Usage: bash tests/fuzz/run_gguf_fuzz.sh SOURCE_DIR BUILD_DIR [SECONDS]   (ctest: gguf_fuzz)
# Needs clang-14 and libclang-rt-14-dev (tools/setup.sh).
set -euo pipefail
SRC=$(cd "$1" && pwd)
BUILD=$(mkdir -p "$2" && cd "$2" && pwd)
SECONDS_TO_RUN=${3:-60}
FUZZ="$BUILD/fuzz"
mkdir -p "$FUZZ"
command -v clang++-14 > /dev/null || { echo "clang++-14 not found (run tools/setup.sh)"; exit 1; }
if [ ! -f "$FUZZ/build/CMakeCache.txt" ]; then
  CXX=clang++-14 CC=clang-14 cmake -S "$SRC" -B "$FUZZ/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DA3B_FUZZ=ON -DA3B_TESTS=OFF -DA3B_BENCH=OFF -DA3B_CUDA=OFF -DA3B_STATIC_DEPS=OFF > "$FUZZ/configure.log"
fi
cmake --build "$FUZZ/build" --target gguf_fuzz
mkdir -p "$FUZZ/seeds" "$FUZZ/corpus" "$FUZZ/findings"
python3 "$SRC/tests/fuzz/make_gguf_seeds.py" "$FUZZ/seeds"
cd "$FUZZ/findings"
"$FUZZ/build/gguf_fuzz" -max_total_time="$SECONDS_TO_RUN" -max_len=16384 -rss_limit_mb=2048 -timeout=10 \
  -print_final_stats=1 "$FUZZ/corpus" "$FUZZ/seeds"
