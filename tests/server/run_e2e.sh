#!/usr/bin/env bash
# ctest: the OpenAI-client end-to-end test. Usage: run_e2e.sh A3B_BINARY MODEL_DIR BUILD_DIR
set -euo pipefail
BIN=$1 MODEL=$2 BUILD_DIR=$3
here=$(dirname "$0")
source "$here/npm_env.sh"
source "$here/start_server.sh"
start_server "$BIN" "$MODEL" test-key
node "$NPM_DIR/e2e.mjs" "$BASE_URL" test-key
