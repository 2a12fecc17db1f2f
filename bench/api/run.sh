#!/usr/bin/env bash
# bench/api: berth vs moto_server (signed STS GetCallerIdentity, EC2
# DescribeSecurityGroups when berth serves it; 1 and 4 keep-alive clients),
# plus berth's start-to-ready time and idle RSS. Not part of the test suite.
#
# usage: bench/api/run.sh [BERTH_BINARY] [DURATION_S]   (defaults build/berth, 5)
# Results are appended as JSON lines to bench/api/results/<stamp>.jsonl.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
BERTH="${1:-$HERE/../../build/berth}"
DURATION="${2:-5}"
MOTO="$(command -v moto_server || true)"
[ -x "$BERTH" ] || { echo "no berth binary at $BERTH" >&2; exit 1; }
[ -n "$MOTO" ] || { echo "moto_server not on PATH (pyenv python)" >&2; exit 1; }
mkdir -p "$HERE/results"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
# nothing leaves loopback; no config files or instance metadata
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
{ echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"; } >&2
timeout $((DURATION * 8 + 120)) /usr/bin/python3 "$HERE/bench_api.py" --berth "$BERTH" --moto "$MOTO" \
  --duration "$DURATION" --json-out "$HERE/results/$STAMP.jsonl"
