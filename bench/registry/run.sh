#!/usr/bin/env bash
# Registry benchmark: skopeo push and pull of a ~100 MB, 3-layer image to
# berth and to Debian's docker-registry, side by side in one run, plus the
# `openssl dgst -sha256` ceiling on the same layer bytes.
#
# usage: bench/registry/run.sh BERTH_BINARY [REPS]     (default 3 reps)
# Each rep starts both registries on empty storage (berth: a fresh data dir)
# and times one push, then one pull into a fresh oci: directory.
# Writes results/<stamp>/{runs.jsonl,summary.md} beside this script.
set -u
BERTH="$(realpath "$1")"
REPS="${2:-3}"
HERE="$(cd "$(dirname "$0")" && pwd)"
W="$(mktemp -d /tmp/berth-bench-registry.XXXXXX)"
OUT="$HERE/results/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
unset HTTP_PROXY HTTPS_PROXY http_proxy https_proxy
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$W"; }
trap cleanup EXIT INT TERM

ADDR="127.$((RANDOM % 150 + 64)).$((RANDOM % 250)).$((RANDOM % 240 + 2))"
BERTH_REG="$ADDR:4566"
DR_PORT=18611
DR_REG="127.0.0.1:$DR_PORT"

now() { date +%s.%N; }
wait_http() { for _ in $(seq 200); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; return 1; }
record() { echo "{\"registry\":\"$1\",\"kind\":\"$2\",\"rep\":$3,\"seconds\":$4,\"bytes\":$BYTES}" | tee -a "$OUT/runs.jsonl"; }

python3 "$HERE/make_image.py" "$W/image" > "$W/image.json" || exit 1
BYTES=$(python3 -c "import json;print(json.load(open('$W/image.json'))['bytes'])")
LAYERS=$(python3 -c "import json;print(' '.join(json.load(open('$W/image.json'))['layers']))")
{ uname -r; nproc; skopeo --version; docker-registry --version 2>&1 | head -1; git -C "$HERE" rev-parse --short HEAD; } > "$OUT/machine.txt"
echo "image: $BYTES blob bytes" | tee "$OUT/log.txt"

start_docker_registry() {
  rm -rf "$W/dr"; mkdir -p "$W/dr"
  cat > "$W/dr.yml" <<YML
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: $W/dr}, delete: {enabled: true}}
http: {addr: $DR_REG, secret: bench-only}
YML
  docker-registry serve "$W/dr.yml" > "$W/dr.log" 2>&1 &
  DR_PID=$!; PIDS+=($DR_PID)
  wait_http "http://$DR_REG/v2/"
}

start_berth() {
  rm -rf "$W/berth"; mkdir -p "$W/berth"
  "$BERTH" serve --data-dir "$W/berth" --bind "$ADDR" --port 4566 > "$W/berth.log" 2>&1 &
  BERTH_PID=$!; PIDS+=($BERTH_PID)
  wait_http "http://$BERTH_REG/_berth/health"
  eval "$("$BERTH" env --data-dir "$W/berth")"
  aws --endpoint-url "http://$BERTH_REG" ecr create-repository --repository-name bench > /dev/null
  CREDS="AWS:$(aws --endpoint-url "http://$BERTH_REG" ecr get-login-password)"
}

stop_pid() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }

push_pull() {  # name registry-address creds-args...
  local name=$1 reg=$2 rep=$3; shift 3
  local t0 t1
  t0=$(now)
  timeout 300 skopeo copy -q --dest-tls-verify=false "$@" "oci:$W/image:1" "docker://$reg/bench:1" >> "$OUT/log.txt" 2>&1 \
    || echo "$name push failed" | tee -a "$OUT/log.txt"
  t1=$(now); record "$name" push "$rep" "$(awk "BEGIN{print $t1-$t0}")"
  rm -rf "$W/pull"
  local src=()
  for a in "$@"; do src+=("${a/--dest-creds/--src-creds}"); done
  t0=$(now)
  timeout 300 skopeo copy -q --src-tls-verify=false "${src[@]}" "docker://$reg/bench:1" "oci:$W/pull:1" >> "$OUT/log.txt" 2>&1 \
    || echo "$name pull failed" | tee -a "$OUT/log.txt"
  t1=$(now); record "$name" pull "$rep" "$(awk "BEGIN{print $t1-$t0}")"
  diff <(ls "$W/image/blobs/sha256" | sort) <(ls "$W/pull/blobs/sha256" | sort) > /dev/null \
    || echo "$name rep $rep: pulled blobs differ from pushed" | tee -a "$OUT/log.txt"
}

for rep in $(seq "$REPS"); do
  start_docker_registry
  push_pull docker-registry "$DR_REG" "$rep"
  stop_pid "$DR_PID"
  start_berth
  push_pull berth "$BERTH_REG" "$rep" --dest-creds "$CREDS"
  stop_pid "$BERTH_PID"
done

cat $LAYERS > /dev/null
LBYTES=$(cat $LAYERS | wc -c)
for rep in $(seq "$REPS"); do
  t0=$(now); cat $LAYERS | openssl dgst -sha256 > /dev/null; t1=$(now)
  echo "{\"registry\":\"-\",\"kind\":\"openssl-sha256\",\"rep\":$rep,\"seconds\":$(awk "BEGIN{print $t1-$t0}"),\"bytes\":$LBYTES}" | tee -a "$OUT/runs.jsonl"
done

python3 - "$OUT/runs.jsonl" <<'PY' | tee "$OUT/summary.md"
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault((r["registry"], r["kind"]), []).append(r)
print("| registry | operation | reps | seconds median (min-max) | MB/s median (MB = 1e6) |")
print("|---|---|---|---|---|")
for (reg, kind), rs in rows.items():
    s = [r["seconds"] for r in rs]
    print("| %s | %s | %d | %.3f (%.3f-%.3f) | %.0f |" % (reg, kind, len(rs), statistics.median(s), min(s), max(s),
          statistics.median(r["bytes"] / r["seconds"] / 1e6 for r in rs)))
PY
