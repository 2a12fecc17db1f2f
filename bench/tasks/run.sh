#!/usr/bin/env bash
# Task start, two views, each against its peers in the same run:
#  1. api_bench.py: `berth serve` RunTask -> DescribeTasks RUNNING (boto3,
#     image cached in berth's ECR, bridge, one dynamic host port), median/p90
#     over TASKS tasks, against `runc run --detach` of the same bundle (the
#     floor) and `podman run --detach` of the same image; then TOTAL tasks
#     running at once on INSTANCES container instances and the daemon's RSS
#     per running task.
#  2. runtime_task_start_bench: RuncTaskRuntime::start alone (no API, no
#     store) against `runc run --detach`, and the runtime's RSS per task.
# Needs root, runc, umoci, skopeo, podman, busybox-static.
# usage: bench/tasks/run.sh [BUILD_DIR=build] [TASKS=50] [TOTAL=200] [INSTANCES=20]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="${1:-build}"; TASKS="${2:-50}"; TOTAL="${3:-200}"; INSTANCES="${4:-20}"
BIN="$BUILD/src/runtime/runtime_task_start_bench"
[ -x "$BUILD/berth" ] || { echo "build $BUILD/berth first (ninja -C $BUILD berth)" >&2; exit 1; }
OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$OUT"
{ uname -r; nproc; runc --version | head -1; podman --version; uptime; } > "$OUT/machine.txt"
timeout 900 /usr/bin/python3 "$HERE/api_bench.py" "$BUILD/berth" "$TASKS" "$TOTAL" "$INSTANCES" | tee "$OUT/api_result.json"
if [ -x "$BIN" ]; then
  timeout 600 "$BIN" "$TASKS" "$TOTAL" | tee "$OUT/result.json"
else
  echo "skipping the runtime-only bench: build $BIN (ninja -C $BUILD runtime_task_start_bench)" >&2
fi
