#!/usr/bin/env bash
# The awslogs log path: how fast a container writes its output through the
# awslogs driver (mode blocking and non-blocking) against the same container
# without it (stdout only to its log file) and writing to a file of its own,
# in one run of one `berth serve`; the daemon's CPU per line shipped, how
# long after the container's last line it is in CloudWatch Logs, and that
# every line arrived once (blocking) or how many were dropped (non-blocking).
# Unpaced (as fast as it can) and paced at RATE lines/s. See log_bench.py.
# Needs root, runc, umoci, skopeo, busybox-static, gcc with a static libc
# (libc6-dev); PERF=1 also needs perf (linux-perf).
# usage: bench/logs/run.sh [BUILD_DIR=build] [LINES=2000000] [REPS=3] [RATE=100000] [PACED_LINES=1000000]
# Writes results/<stamp>/{machine.txt,runs.jsonl,summary.md} beside this script.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BUILD="${1:-build}"; LINES="${2:-2000000}"; REPS="${3:-3}"; RATE="${4:-100000}"; PACED="${5:-1000000}"
[ -x "$BUILD/berth" ] || { echo "build $BUILD/berth first (ninja -C $BUILD berth)" >&2; exit 1; }
OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"; mkdir -p "$OUT"
W="$(mktemp -d /tmp/berth-log-bench-writer.XXXXXX)"
trap 'rm -rf "$W"' EXIT
gcc -O2 -static -o "$W/logwriter" "$HERE/logwriter.c"
{ date -u; uname -r; nproc; grep -m1 'model name' /proc/cpuinfo; runc --version | head -1;
  git -C "$HERE" rev-parse --short HEAD; echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)";
  echo "args: lines=$LINES reps=$REPS rate=$RATE paced_lines=$PACED"; } > "$OUT/machine.txt"
timeout 3600 /usr/bin/python3 "$HERE/log_bench.py" "$BUILD/berth" "$W/logwriter" "$OUT" \
  "$LINES" "$REPS" "$RATE" "$PACED"
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$OUT/machine.txt"
/usr/bin/python3 "$HERE/summarize.py" "$OUT" | tee "$OUT/summary.md"
