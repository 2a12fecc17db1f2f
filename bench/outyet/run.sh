#!/usr/bin/env bash
# Requests/s and latency of berth's outyet, and of a peer server in the same
# run (e.g. Go's outyet, started by you beforehand), with wrk on loopback.
#
# usage: bench/outyet/run.sh [PEER_ADDR]        e.g. run.sh 127.0.0.1:18080
# env:   OUTYET=build/outyet  ROUNDS=3  DURATION=10  CONNS="64 256"  WRK_THREADS=1
#        WARMUP=2 (seconds per target, not recorded)
#        PACED_RPS=N: also, each round, both targets below their capacity
#          (64 connections, each waiting 64/N s before its next request, by a
#          wrk script), so that p99 is compared without wrk's own queueing: at
#          full speed a server that answers twice as many requests keeps wrk's
#          one thread busier, and that lands in the faster server's latency.
#          A connection waits and then for its answer, so the slower server
#          gets fewer requests than N, and more slack: the bias favours it.
#
# Each round measures every connection count on every target, alternating
# targets, so a drift of the machine (other builds on shared cores) hits
# both alike. Figures are the medians over rounds. Raw wrk output goes to
# bench/results/outyet/<UTC stamp>/. Only processes this script starts are
# stopped, by PID.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PEER="${1:-}"
OUTYET="${OUTYET:-$REPO/build/outyet}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
WRK_THREADS="${WRK_THREADS:-1}"
read -r -a CONNS <<<"${CONNS:-64 256}"
PACED_RPS="${PACED_RPS:-}"

[[ -x "$OUTYET" ]] || { echo "no outyet binary at $OUTYET (build first, or set OUTYET)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (scripts/install-deps.sh)" >&2; exit 1; }

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
can_connect() { (exec 3<>"/dev/tcp/${1%:*}/${1##*:}") 2>/dev/null; }

OUT="$REPO/bench/results/outyet/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"

BERTH_PID=""
cleanup() {
  if [[ -n "$BERTH_PID" ]] && kill -0 "$BERTH_PID" 2>/dev/null; then
    kill -TERM "$BERTH_PID"
    wait "$BERTH_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

# berth's outyet polls a closed local port: no network, and the poller keeps
# running (as the peer's does when it cannot reach go.googlesource.com).
PORT="$(free_port)"
CLOSED="$(free_port)"
"$OUTYET" -http "127.0.0.1:$PORT" -change-url-base "http://127.0.0.1:$CLOSED/" >"$OUT/berth.log" 2>&1 &
BERTH_PID=$!
for _ in $(seq 100); do can_connect "127.0.0.1:$PORT" && break; sleep 0.1; done
can_connect "127.0.0.1:$PORT" || { echo "berth outyet did not start; see $OUT/berth.log" >&2; exit 1; }

declare -A ADDR=([berth]="127.0.0.1:$PORT")
TARGETS=(berth)
if [[ -n "$PEER" ]]; then
  can_connect "$PEER" || { echo "nothing answers at peer $PEER" >&2; exit 1; }
  ADDR[peer]="$PEER"
  TARGETS+=(peer)
fi

{
  echo "date: $(date -u +%FT%TZ)  kernel: $(uname -r)  cores: $(nproc)  load: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "berth: $OUTYET at ${ADDR[berth]}${PEER:+; peer at $PEER}"
  echo "wrk -t$WRK_THREADS -d${DURATION}s --latency, connections ${CONNS[*]}, $ROUNDS rounds, ${WARMUP}s warm-up"
} | tee "$OUT/machine.txt"

for t in "${TARGETS[@]}"; do
  # Both must serve the outyet page before anything is measured.
  curl -fsS "http://${ADDR[$t]}/" | grep -q "out yet?" || { echo "$t at ${ADDR[$t]} does not serve outyet's page" >&2; exit 1; }
  timeout $((WARMUP + 20)) wrk -t"$WRK_THREADS" -c64 -d"${WARMUP}s" "http://${ADDR[$t]}/" >/dev/null 2>&1 || true
done

for r in $(seq "$ROUNDS"); do
  for c in "${CONNS[@]}"; do
    order=("${TARGETS[@]}")
    # Alternate which target goes first from round to round.
    if (( r % 2 == 0 )) && (( ${#order[@]} == 2 )); then order=("${order[1]}" "${order[0]}"); fi
    for t in "${order[@]}"; do
      f="$OUT/r$r-$t-c$c.txt"
      timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$c" -d"${DURATION}s" --latency "http://${ADDR[$t]}/" >"$f" 2>&1 \
        || echo "wrk failed or timed out for $t c$c (see $f)" >&2
      echo "round $r  $t  c$c  $(grep -E 'Requests/sec' "$f" | tr -s ' ')"
    done
  done
  if [[ -n "$PACED_RPS" ]]; then
    # wrk calls delay() before each request of a connection: 64 connections
    # each waiting 64/N s offer about N requests/s.
    printf 'function delay() return %s end\n' "$(/usr/bin/python3 -c "print(64 * 1000 / $PACED_RPS)")" >"$OUT/paced.lua"
    for t in "${TARGETS[@]}"; do
      f="$OUT/r$r-$t-p64.txt"
      timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c64 -d"${DURATION}s" --latency -s "$OUT/paced.lua" \
        "http://${ADDR[$t]}/" >"$f" 2>&1 || echo "wrk failed or timed out for $t paced (see $f)" >&2
      echo "round $r  $t  paced $PACED_RPS/s  $(grep -E 'Requests/sec' "$f" | tr -s ' ')"
    done
  fi
done

/usr/bin/python3 "$HERE/summarize.py" "$OUT" | tee "$OUT/summary.txt"
kill -0 "$BERTH_PID" 2>/dev/null || { echo "berth outyet died during the run; see $OUT/berth.log" >&2; exit 1; }
