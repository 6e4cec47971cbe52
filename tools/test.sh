#!/usr/bin/env bash
# The whole test suite from a fresh clone: install packages, build, run ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/build.sh
ctest --test-dir build --output-on-failure -j "$(nproc)"
