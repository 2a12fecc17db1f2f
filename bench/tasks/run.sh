#!/usr/bin/env bash
# Task start, two views, each against its peers in the same run:
#  1. api_bench.py: `berth serve` RunTask -> DescribeTasks RUNNING (boto3,
#     image cached in berth's ECR, bridge, one dynamic host port), median/p90
#     over TASKS tasks, interleaved with `runc run --detach` of the same
#     bundle (the floor): ratio_berth_to_runc is issue 17's figure (<= 1.2),
#     and "phases" splits a start as a client sees it (the RunTask call,
#     the task's createdAt -> startedAt, startedAt -> the DescribeTasks that
#     shows RUNNING);
#     then `podman run --detach` of the same image (BENCH_PODMAN=0: skipped);
#     then TOTAL tasks running at once on INSTANCES container instances: the
#     daemon's RSS and the host's mounts per running task, and TASKS/5 starts
#     each way with them running (TOTAL=0: skipped).
#  2. runtime_task_start_bench: RuncTaskRuntime::start alone (no API, no
#     store) against `runc run --detach`, and the runtime's RSS per task.
# Needs root, runc, umoci, skopeo, podman, busybox-static.
# usage: [BENCH_PODMAN=0] [BENCH_POLL_MS=2] bench/tasks/run.sh [BUILD_DIR=build] [TASKS=50] [TOTAL=200] [INSTANCES=20]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="${1:-build}"; TASKS="${2:-50}"; TOTAL="${3:-200}"; INSTANCES="${4:-20}"
BIN="$BUILD/src/runtime/runtime_task_start_bench"
[ -x "$BUILD/berth" ] || { echo "build $BUILD/berth first (ninja -C $BUILD berth)" >&2; exit 1; }
# Results beside the other benches' (bench/results/<bench>/<UTC stamp>/).
OUT="$HERE/../results/tasks/$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$OUT"
{ echo "berth $(git -C "$HERE" rev-parse --short HEAD), $(nproc) cores, kernel $(uname -r)"; runc --version | head -1
  podman --version || true; echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"; } > "$OUT/machine.txt"
# What earlier runs left in memory made berth's own steps of a start
# (directories, overlay mount, files) up to 5x slower here, its ratio 1.4 ->
# 2.0, until drop_caches (session 13): each run starts from the same state.
sync; echo 3 > /proc/sys/vm/drop_caches
timeout 900 /usr/bin/python3 "$HERE/api_bench.py" "$BUILD/berth" "$TASKS" "$TOTAL" "$INSTANCES" | tee "$OUT/api_result.json"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
if [ -x "$BIN" ]; then
  timeout 600 "$BIN" "$TASKS" "$TOTAL" | tee "$OUT/result.json"
else
  echo "skipping the runtime-only bench: build $BIN (ninja -C $BUILD runtime_task_start_bench)" >&2
fi
