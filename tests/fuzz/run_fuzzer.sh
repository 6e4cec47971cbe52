#!/usr/bin/env bash
# ctest: builds one libFuzzer target with clang (ASan + UBSan) from the sources it needs and runs it
# for a bounded time over a seed corpus. Any crash, sanitizer report or property violation fails.
# Usage: run_fuzzer.sh NAME SECONDS BUILD_DIR SEEDS SOURCE... [-- LIBS...]
# SEEDS: a folder of seed inputs, or a Python script that writes them into the folder it is given.
set -euo pipefail
NAME=$1 SECONDS_=$2 BUILD_DIR=$3 SEEDS=$4
shift 4
here=$(cd "$(dirname "$0")" && pwd)
src_root=$(cd "$here/../.." && pwd)
sources=() libs=()
while (($#)); do
  [ "$1" = -- ] && { shift; libs=("$@"); break; }
  sources+=("$1")
  shift
done
CXX=$(command -v clang++-14 || command -v clang++ || true)
[ -n "$CXX" ] || { echo "clang++ not found (tools/setup.sh installs clang-14)" >&2; exit 1; }
out="$BUILD_DIR/fuzz/$NAME"
mkdir -p "$out/corpus"
# Rebuild only when a source is newer than the binary.
if [ ! -x "$out/$NAME" ] || [ -n "$(find "$here/$NAME.cpp" "${sources[@]}" -newer "$out/$NAME" 2>/dev/null | head -1)" ]; then
  "$CXX" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -I"$src_root/src" "$here/$NAME.cpp" "${sources[@]}" "${libs[@]}" -o "$out/$NAME"
fi
if [[ "$SEEDS" == *.py ]]; then
  python3 "$SEEDS" "$out/corpus"
else
  cp -n "$SEEDS"/* "$out/corpus/" 2>/dev/null || true
fi
cd "$out"
ASAN_OPTIONS=detect_leaks=1 "./$NAME" -max_total_time="$SECONDS_" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
  -print_final_stats=1 corpus 2>&1 | tail -25
