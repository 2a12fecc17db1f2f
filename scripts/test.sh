#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs the unit and
# integration tests, then the unit tests again under ASan + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh

echo "== build"
scripts/build.sh

echo "== unit tests"
ctest --test-dir build -L unit -j "$jobs" --output-on-failure --timeout 300
echo "== integration tests"
ctest --test-dir build -L integration --output-on-failure --timeout 900

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
BUILD_DIR=build-asan scripts/build.sh -DBERTH_SANITIZE=ON -DBERTH_UNIT_TESTS_ONLY=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L unit -j "$jobs" --output-on-failure --timeout 600
