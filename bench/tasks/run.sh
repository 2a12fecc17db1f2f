#!/usr/bin/env bash
# Task start: RuncTaskRuntime::start (image cached, bridge, one published
# port) to RUNNING, median/p90 over TASKS tasks, against `runc run --detach`
# of the same config alone (the floor), same run; and the runtime's RSS per
# running task with CONCURRENT tasks up. Needs root, runc, busybox-static.
# usage: bench/tasks/run.sh [BUILD_DIR=build] [TASKS=50] [CONCURRENT=50]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="${1:-build}"; TASKS="${2:-50}"; CONCURRENT="${3:-50}"
BIN="$BUILD/src/runtime/runtime_task_start_bench"
[ -x "$BIN" ] || { echo "build $BIN first (ninja -C $BUILD runtime_task_start_bench)" >&2; exit 1; }
OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$OUT"
{ uname -r; nproc; runc --version | head -1; uptime; } > "$OUT/machine.txt"
timeout 600 "$BIN" "$TASKS" "$CONCURRENT" | tee "$OUT/result.json"
