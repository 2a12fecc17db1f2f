#!/usr/bin/env bash
# Requests/s and latency through berth's ALB, HAProxy and nginx, each in front
# of the same 3 nginx backends with keep-alive, plus direct to one backend,
# all in the same run with wrk on loopback (issue 6, bench/lb).
#
# usage: bench/lb/run.sh
# env:   BERTH=build/berth  ROUNDS=3  DURATION=10  CONNS="64 256"  WRK_THREADS=1  WARMUP=2
#        PROXY_THREADS=2 (HAProxy nbthread, nginx worker_processes; berth uses one loop per core)
#        TARGETS="direct berth haproxy nginx" (which to measure)
#        PROFILE=1: instead of the rounds, profile berth under wrk -c64 for DURATION:
#          perf stat, perf record -g (perf report in profile-perf.txt) and
#          strace -c -f (syscalls per request in profile-strace.txt); PERF_DATA=<file> keeps perf.data
#
# Each round measures every target at every connection count, alternating
# targets, so drift of a shared machine hits all alike; figures are medians
# over rounds (summarize.py). Everything listens on a private 127.x address;
# only processes this script starts are stopped, by PID. Raw wrk output goes
# to bench/results/lb/<UTC stamp>/.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BERTH="${BERTH:-$REPO/build/berth}"
ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
WRK_THREADS="${WRK_THREADS:-1}"
PROXY_THREADS="${PROXY_THREADS:-2}"
read -r -a CONNS <<<"${CONNS:-64 256}"

for tool in wrk haproxy nginx /usr/bin/aws; do
  command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/install-deps.sh)" >&2; exit 1; }
done
[[ -x "$BERTH" ]] || { echo "no berth binary at $BERTH (build first, or set BERTH)" >&2; exit 1; }

PREFIX="127.$((RANDOM % 150 + 100)).$((RANDOM % 256))"
OUT="$REPO/bench/results/lb/$(date -u +%Y%m%dT%H%M%SZ)"
WORK="$(mktemp -d /tmp/berth-bench-lb.XXXXXX)"
mkdir -p "$OUT" "$WORK/www"
chmod 755 "$WORK"  # nginx workers run as nobody
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

can_connect() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_port() {
  for _ in $(seq 200); do can_connect "$1" "$2" && return 0; sleep 0.05; done
  echo "nothing listens on $1:$2" >&2; return 1
}

# The page every backend serves (~200 bytes).
printf '<!DOCTYPE html>\n<html><head><title>berth bench</title></head>\n<body><p>A small static page served by one of three nginx backends for the load balancer benchmark.</p></body></html>\n' >"$WORK/www/index.html"

# --- 3 nginx backends, one worker each ---
BACKENDS=()
for i in 1 2 3; do
  addr="$PREFIX.$((10 + i))"
  BACKENDS+=("$addr:8080")
  cat >"$WORK/backend-$i.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/backend-$i.pid;
error_log $WORK/backend-$i.err warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; multi_accept on; }
http {
    access_log off;
    sendfile on;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    default_type text/html;
    server {
        listen $addr:8080 backlog=4096;
        root $WORK/www;
        location = / { try_files /index.html =404; }
    }
}
CONF
  nginx -c "$WORK/backend-$i.conf" >"$WORK/backend-$i.log" 2>&1 &
  PIDS+=($!)
  [[ $i == 1 ]] && DIRECT_PID=$!
  wait_port "$addr" 8080
done

# --- HAProxy ---
HAPROXY_ADDR="$PREFIX.2"
cat >"$WORK/haproxy.cfg" <<CONF
global
    nbthread $PROXY_THREADS
    maxconn 8000
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    timeout http-keep-alive 30s
frontend fe
    bind $HAPROXY_ADDR:8080
    default_backend be
backend be
    balance roundrobin
    server b1 ${BACKENDS[0]}
    server b2 ${BACKENDS[1]}
    server b3 ${BACKENDS[2]}
CONF
haproxy -db -f "$WORK/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
PIDS+=($!)
HAPROXY_PID=$!
wait_port "$HAPROXY_ADDR" 8080

# --- nginx as a proxy ---
NGINX_ADDR="$PREFIX.3"
cat >"$WORK/nginx-proxy.conf" <<CONF
worker_processes $PROXY_THREADS;
daemon off;
pid $WORK/nginx-proxy.pid;
error_log $WORK/nginx-proxy.err warn;
worker_rlimit_nofile 16384;
events { worker_connections 8192; multi_accept on; }
http {
    access_log off;
    keepalive_timeout 65;
    keepalive_requests 100000000;
    upstream be {
        server ${BACKENDS[0]};
        server ${BACKENDS[1]};
        server ${BACKENDS[2]};
        keepalive 512;
        keepalive_requests 100000000;
    }
    server {
        listen $NGINX_ADDR:8080 backlog=4096;
        location / {
            proxy_pass http://be;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }
    }
}
CONF
nginx -c "$WORK/nginx-proxy.conf" >"$WORK/nginx-proxy.log" 2>&1 &
PIDS+=($!)
NGINX_PID=$!
wait_port "$NGINX_ADDR" 8080

# --- berth: an ALB with one listener forwarding to a target group of the 3 backends ---
BERTH_ADDR="$PREFIX.1"
"$BERTH" serve --data-dir "$WORK/berth" --bind "$BERTH_ADDR" --port 4566 >"$WORK/berth.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do
  [[ -s "$WORK/berth/endpoint" ]] && curl -sf "http://$BERTH_ADDR:4566/_berth/health" >/dev/null && break
  sleep 0.05
done
eval "$("$BERTH" env --data-dir "$WORK/berth")"
export AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
aws() { /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --output text "$@"; }
read -r -a SUBNETS <<<"$(aws ec2 describe-subnets --query 'Subnets[0:2].SubnetId')"
VPC="$(aws ec2 describe-vpcs --query 'Vpcs[0].VpcId')"
SG="$(aws ec2 create-security-group --group-name bench-alb --description bench --vpc-id "$VPC" --query GroupId)"
aws ec2 authorize-security-group-ingress --group-id "$SG" --protocol tcp --port 8080 --cidr 127.0.0.0/8 >/dev/null
LB="$(aws elbv2 create-load-balancer --name bench --subnets "${SUBNETS[@]}" --security-groups "$SG" \
      --query 'LoadBalancers[0].LoadBalancerArn')"
DNS="$(aws elbv2 describe-load-balancers --load-balancer-arns "$LB" --query 'LoadBalancers[0].DNSName')"
TG="$(aws elbv2 create-target-group --name bench --protocol HTTP --port 8080 --vpc-id "$VPC" --target-type ip \
      --health-check-interval-seconds 5 --health-check-timeout-seconds 2 --healthy-threshold-count 2 \
      --query 'TargetGroups[0].TargetGroupArn')"
aws elbv2 create-listener --load-balancer-arn "$LB" --protocol HTTP --port 8080 \
    --default-actions "Type=forward,TargetGroupArn=$TG" >/dev/null
aws elbv2 register-targets --target-group-arn "$TG" --targets \
    "Id=${BACKENDS[0]%:*}" "Id=${BACKENDS[1]%:*}" "Id=${BACKENDS[2]%:*}" >/dev/null
for _ in $(seq 60); do
  [[ "$(aws elbv2 describe-target-health --target-group-arn "$TG" --query 'TargetHealthDescriptions[].TargetHealth.State' \
        | tr '\t' '\n' | sort -u)" == healthy ]] && break
  sleep 0.5
done
BERTH_PID="${PIDS[-1]}"

declare -A URL=([direct]="http://${BACKENDS[0]}/" [berth]="http://$BERTH_ADDR:8080/"
                [haproxy]="http://$HAPROXY_ADDR:8080/" [nginx]="http://$NGINX_ADDR:8080/")
# CPU time a target's processes used (user + system, clock ticks), for the
# CPU cost per request: a figure a shared machine's noise moves much less
# than requests/s (other work takes cores away, it does not make a request
# cost more CPU).
declare -A PIDOF=([direct]="$DIRECT_PID" [berth]="$BERTH_PID" [haproxy]="$HAPROXY_PID" [nginx]="$NGINX_PID")
cpu_ticks() {
  local total=0 p f
  for p in $1 $(pgrep -P "$1" || true); do
    read -r -a f <"/proc/$p/stat" || continue
    total=$((total + f[13] + f[14]))
  done
  echo "$total"
}
declare -A HOSTHDR=([direct]="" [berth]="$DNS" [haproxy]="" [nginx]="")
read -r -a TARGETS <<<"${TARGETS:-direct berth haproxy nginx}"
for t in "${TARGETS[@]}"; do
  hdr=(); [[ -n "${HOSTHDR[$t]}" ]] && hdr=(-H "Host: ${HOSTHDR[$t]}")
  code="$(curl -s -o /dev/null -w '%{http_code}' "${hdr[@]}" "${URL[$t]}")"
  [[ "$code" == 200 ]] || { echo "$t answers $code" >&2; exit 1; }
done

{
  echo "berth $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown), $(nproc) cores, $(uptime)"
  echo "binary $BERTH ($(date -u -r "$BERTH" +%Y-%m-%dT%H:%M:%SZ))"
  { wrk -v 2>&1 | head -1; haproxy -v | head -1; nginx -v 2>&1; } || true
  echo "rounds=$ROUNDS duration=$DURATION conns=${CONNS[*]} wrk_threads=$WRK_THREADS proxy_threads=$PROXY_THREADS"
} >"$OUT/machine.txt"

if [[ "${PROFILE:-}" == 1 ]]; then
  command -v perf >/dev/null || { echo "perf is not installed (apt-get install linux-perf)" >&2; exit 1; }
  hdr=(-H "Host: $DNS")
  timeout $((WARMUP + 20)) wrk -t"$WRK_THREADS" -c64 -d"${WARMUP}s" "${hdr[@]}" "${URL[berth]}" >/dev/null 2>&1 || true
  # CPU per request and the counters, then where the cycles go, then the
  # system calls (strace slows berth a lot: only the counts per request matter).
  # TCP segments sent on the whole machine (mostly this benchmark): per
  # request, 4 carry data (client, berth, target, berth); more are pure ACKs.
  tcp_out() { awk '/^Tcp:/ { if (h) print $12; h = 1 }' /proc/net/snmp; }
  before=$(cpu_ticks "$BERTH_PID")
  segs=$(tcp_out)
  (sleep $((DURATION - 1)); ss -tinH state established >"$WORK/ss.txt") &
  perf stat -e task-clock,context-switches,cpu-migrations,page-faults -p "$BERTH_PID" -o "$OUT/profile-stat.txt" -- \
    timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c64 -d"${DURATION}s" --latency "${hdr[@]}" "${URL[berth]}" \
    >"$OUT/profile-wrk-stat.txt" 2>&1 || true
  echo "CPU ms: $(( ($(cpu_ticks "$BERTH_PID") - before) * 1000 / $(getconf CLK_TCK) ))" >>"$OUT/profile-wrk-stat.txt"
  python3 "$HERE/tcp_segments.py" "$BERTH_ADDR:8080" "${BACKENDS[@]}" <"$WORK/ss.txt" >"$OUT/profile-tcp.txt" || true
  echo "TCP segments sent: $(( $(tcp_out) - segs ))" >>"$OUT/profile-wrk-stat.txt"
  PERF_DATA="${PERF_DATA:-$WORK/perf.data}"
  perf record -g -F 999 -o "$PERF_DATA" -p "$BERTH_PID" -- \
    timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c64 -d"${DURATION}s" "${hdr[@]}" "${URL[berth]}" \
    >"$OUT/profile-wrk-perf.txt" 2>&1 || true
  # Flat (self time by symbol, by binary) and inclusive (children) views.
  { perf report -i "$PERF_DATA" --no-children --sort dso --stdio -g none 2>/dev/null || true; } \
    | grep -E '^ +[0-9]' >"$OUT/profile-perf-dso.txt" || true
  { perf report -i "$PERF_DATA" --no-children --sort dso,symbol --stdio -g none 2>/dev/null || true; } \
    | grep -E '^ +[0-9]' | sed 's/  */ /g; s/ -  *- *$//' | head -150 >"$OUT/profile-perf.txt" || true
  { perf report -i "$PERF_DATA" --no-children --sort dso,symbol --stdio -g none 2>/dev/null || true; } \
    | python3 "$HERE/profile_breakdown.py" >"$OUT/profile-breakdown.txt" || true
  { perf report -i "$PERF_DATA" --children --sort symbol --stdio -g none 2>/dev/null || true; } \
    | grep -E '^ +[0-9]' | sed 's/  */ /g; s/ -  *- *$//' | head -150 >"$OUT/profile-perf-children.txt" || true
  timeout $((DURATION + 30)) strace -c -f -p "$BERTH_PID" -o "$OUT/profile-strace.txt" &
  STRACE_PID=$!
  sleep 1
  timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c64 -d"${DURATION}s" "${hdr[@]}" "${URL[berth]}" >"$OUT/profile-wrk-strace.txt" 2>&1 || true
  sleep 1
  kill -INT "$STRACE_PID" 2>/dev/null || true
  wait "$STRACE_PID" 2>/dev/null || true
  n=$(grep -oE '^ *[0-9]+ requests in' "$OUT/profile-wrk-strace.txt" | grep -oE '[0-9]+' || echo 0)
  echo "requests during strace: $n" >>"$OUT/profile-strace.txt"
  python3 - "$OUT/profile-strace.txt" "$n" <<'PY' | tee -a "$OUT/profile-strace.txt"
import re, sys
n = int(sys.argv[2]) or 1
for line in open(sys.argv[1]):
    m = re.match(r"\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\w+)$", line)
    if m and m.group(3) != "total":
        print("%-16s %6.2f per request" % (m.group(3), int(m.group(1)) / n))
PY
  cat "$OUT/profile-stat.txt"; grep -E 'Requests/sec|CPU ms|requests in|segments' "$OUT/profile-wrk-stat.txt"
  cat "$OUT/profile-tcp.txt" "$OUT/profile-perf-dso.txt" "$OUT/profile-breakdown.txt"; head -60 "$OUT/profile-perf.txt"
  exit 0
fi

for r in $(seq "$ROUNDS"); do
  for t in "${TARGETS[@]}"; do
    hdr=(); [[ -n "${HOSTHDR[$t]}" ]] && hdr=(-H "Host: ${HOSTHDR[$t]}")
    timeout $((WARMUP + 20)) wrk -t"$WRK_THREADS" -c64 -d"${WARMUP}s" "${hdr[@]}" "${URL[$t]}" >/dev/null 2>&1 || true
    for c in "${CONNS[@]}"; do
      f="$OUT/r$r-$t-c$c.txt"
      before=$(cpu_ticks "${PIDOF[$t]}")
      timeout $((DURATION + 30)) wrk -t"$WRK_THREADS" -c"$c" -d"${DURATION}s" --latency "${hdr[@]}" "${URL[$t]}" >"$f" 2>&1 || true
      echo "CPU ms: $(( ($(cpu_ticks "${PIDOF[$t]}") - before) * 1000 / $(getconf CLK_TCK) ))" >>"$f"
      echo "round $r $t c=$c: $(grep -E 'Requests/sec' "$f" || echo failed)"
    done
  done
done
kill -0 "$BERTH_PID" || { echo "berth died during the run" >&2; exit 1; }
python3 "$HERE/summarize.py" "$OUT" | tee "$OUT/summary.txt"
