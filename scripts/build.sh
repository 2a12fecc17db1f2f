#!/usr/bin/env bash
# Configures and builds berth into build/ (build/berth, build/outyet).
# BUILD_DIR and extra CMake arguments may be given: scripts/build.sh -DFOO=1
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
ninja -C "$build_dir"
