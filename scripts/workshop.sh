#!/usr/bin/env bash
# The outyet workshop on berth, with the workshop's names: starts
# `berth serve` (if it is not running), then scripts/workshop_stack.py builds
# the outyet image and pushes it to berth's ECR (outyet-image), makes the
# key pair outyet and the security groups outyet-alb-sg and outyet-sg, the
# cluster outyet-cluster with two t2.nano container instances, the task
# definition outyet-task, the load balancer outyet-alb with its target group
# outyet-alb-target-group and a listener on port 80, and the service
# outyet-service of 3 tasks behind it. Prints the load balancer's URL once
# it serves. Run after scripts/build.sh; run again, it reuses what exists.
# docs/workshop.md gives the same steps as aws CLI commands.
# env: BERTH_DATA_DIR (default ~/.local/share/berth), BERTH_BIN (or BERTH; default build/berth),
#      BERTH_ADDRESS (the daemon's address if this starts it; default 127.0.0.1),
#      BERTH_PODMAN_ROOT (podman's storage, kept across data dirs so image builds are cached;
#      default ~/.cache/berth/podman)
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${BERTH_DATA_DIR:-$HOME/.local/share/berth}
berth=${BERTH_BIN:-${BERTH:-build/berth}}
podman_root=${BERTH_PODMAN_ROOT:-$HOME/.cache/berth/podman}
mkdir -p "$data_dir" "$podman_root"

endpoint() { sed -n 's/^export AWS_ENDPOINT_URL=//p' | tr -d "'\""; }
if ! curl -sf "$("$berth" env --data-dir "$data_dir" 2>/dev/null | endpoint)/_berth/health" >/dev/null 2>&1; then
  echo "== berth serve --data-dir $data_dir (log: $data_dir/serve.log)"
  rm -f "$data_dir/endpoint"
  nohup "$berth" serve --data-dir "$data_dir" --bind "${BERTH_ADDRESS:-127.0.0.1}" >>"$data_dir/serve.log" 2>&1 &
  echo $! >"$data_dir/serve.pid"
  for _ in $(seq 100); do
    curl -sf "$("$berth" env --data-dir "$data_dir" 2>/dev/null | endpoint)/_berth/health" >/dev/null 2>&1 && break
    sleep 0.1
  done
fi
eval "$("$berth" env --data-dir "$data_dir")"
curl -sf "$AWS_ENDPOINT_URL/_berth/health" >/dev/null || { echo "berth did not start: see $data_dir/serve.log" >&2; exit 1; }

/usr/bin/python3 scripts/workshop_stack.py "$data_dir" "$podman_root"
echo "(curl, browsers, wrk and Python resolve *.localhost to this machine)"
echo "point a shell at berth: eval \"\$($berth env --data-dir $data_dir)\"   (undo: eval \"\$($berth env --unset --data-dir $data_dir)\")"
echo "see it: $berth status --data-dir $data_dir    remove it: $berth down --data-dir $data_dir"
if [ -f "$data_dir/serve.pid" ]; then echo "stop berth: kill \$(cat $data_dir/serve.pid)"; fi
