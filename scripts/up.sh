#!/usr/bin/env bash
# Installs, builds and starts the main job in the foreground.
# Today that is outyet on :8080; once the platform lands, this starts
# berth with the outyet workshop stack deployed.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
echo "outyet: http://127.0.0.1:8080/  (Ctrl-C stops it)"
exec build/outyet -http :8080
