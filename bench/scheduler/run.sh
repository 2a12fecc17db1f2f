#!/usr/bin/env bash
# The service scheduler, two views:
#  1. scheduler_bench: one pass's compute (the pure reconciler for every
#     service, then placement of the tasks its plans start) for SERVICES x
#     TASKS on INSTANCES instances; target under 50 ms at 1,000 x 10 on 100.
#  2. service_bench.py: through `berth serve` with real runc tasks and the
#     real ALB (image cached): create-service to steady state for 3, 30 and
#     100 tasks, and the rollout time of a 10-task service.
# No peer schedules for real on one machine (moto records the call), so the
# figures stand against the issue's targets: steady state for 3 tasks within
# 2 s plus the target group's health-check arithmetic (interval x healthy
# threshold), printed beside each figure.
# Needs root, runc, umoci, skopeo, busybox-static.
# usage: bench/scheduler/run.sh [BUILD_DIR=build]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="${1:-build}"
[ -x "$BUILD/berth" ] && [ -x "$BUILD/src/ecs/scheduler_bench" ] ||
  { echo "build first: ninja -C $BUILD berth scheduler_bench" >&2; exit 1; }
OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$OUT"
{ uname -r; nproc; runc --version | head -1; uptime; } > "$OUT/machine.txt"
timeout 300 "$BUILD/src/ecs/scheduler_bench" 1000 10 100 20 | tee "$OUT/compute.json"
timeout 1500 /usr/bin/python3 "$HERE/service_bench.py" "$BUILD/berth" | tee "$OUT/service.json"
