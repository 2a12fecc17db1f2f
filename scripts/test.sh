#!/usr/bin/env bash
# The whole test suite: installs what it needs, builds, runs the unit and
# integration tests, then the unit tests again under ASan + UBSan. The
# sanitizer build compiles at the lowest CPU priority while the integration
# tests run (they mostly wait on containers and health checks; each has a
# network namespace of its own, tests/lib/own_netns, so they run side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

scripts/install-deps.sh

echo "== build"
scripts/build.sh

echo "== unit tests"
ctest --test-dir build -L unit -j "$jobs" --output-on-failure --timeout 300

echo "== integration tests, $jobs at a time, each in a network namespace of its own (the sanitizer build runs beside them, at nice 19)"
mkdir -p build-asan
asan_log=build-asan/build.log
# setsid: its own process group, so a failed run stops the compilers too.
# A new session is also a new scheduler autogroup (Linux), against which
# nice alone does not lower its share: lower the group's own nice as well.
BUILD_DIR=build-asan setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null
  exec nice -n 19 scripts/build.sh -DBERTH_SANITIZE=ON -DBERTH_UNIT_TESTS_ONLY=ON' >"$asan_log" 2>&1 &
asan_build=$!
trap 'kill -- "-$asan_build" 2>/dev/null || true' EXIT
ctest --test-dir build -L integration -j "$jobs" --output-on-failure --timeout 900

echo "== unit tests under AddressSanitizer + UndefinedBehaviorSanitizer"
if ! wait "$asan_build"; then
  tail -50 "$asan_log"
  echo "the sanitizer build failed (whole log: $asan_log)" >&2
  exit 1
fi
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan -L unit -j "$jobs" --output-on-failure --timeout 600
