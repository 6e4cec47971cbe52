#!/usr/bin/env bash
# ctest fixture: builds a3b and its unit tests with AddressSanitizer + UBSan (LeakSanitizer is part
# of ASan) into BUILD_DIR/asan, for the sanitizer runs of the test suite and the server load test.
set -euo pipefail
SRC=$1 BUILD_DIR=$2
# -O1 -g1: line tables are enough for sanitizer reports. A unity build (8 sources per unit) parses
# the heavy headers once per unit: ~2.5x less compile time on CI's 2 cores. It needs file-local names
# to be unique across sources, which this build checks for the whole tree.
cmake -S "$SRC" -B "$BUILD_DIR/asan" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DA3B_SANITIZE=ON -DA3B_CUDA=OFF -DA3B_BENCH=OFF -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 >/dev/null
cmake --build "$BUILD_DIR/asan" --target a3b a3b_tests
