#!/usr/bin/env bash
# ctest: 64 concurrent streaming clients for 60 s.
# Usage: run_load.sh A3B_BINARY MODEL_DIR BUILD_DIR [CLIENTS SECONDS [MAX_RSS_GROWTH|none]]
# With an ASan/UBSan build as A3B_BINARY, any sanitizer report fails the test (the log is checked).
set -euo pipefail
BIN=$1 MODEL=$2 BUILD_DIR=$3 CLIENTS=${4:-64} SECONDS_=${5:-60} MAX_GROWTH=${6:-0.05}
here=$(dirname "$0")
source "$here/npm_env.sh"
source "$here/start_server.sh"
# A small quarantine and prefix cache fill up during warm-up, so RSS after it measures leaks and
# unbounded growth rather than ASan's freed-memory quarantine or the cache filling by design.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:quarantine_size_mb=16}
start_server "$BIN" "$MODEL" load-key --max-seqs 64 --cache-mb 16
node "$NPM_DIR/load.mjs" "$BASE_URL" load-key "$SERVER_PID" "$CLIENTS" "$SECONDS_" "$MAX_GROWTH"
kill -INT $SERVER_PID
wait $SERVER_PID || true
if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$SERVER_LOG"; then
  cat "$SERVER_LOG" >&2
  echo "sanitizer findings" >&2
  exit 1
fi
