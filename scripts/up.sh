#!/usr/bin/env bash
# Installs, builds, starts `berth serve` in the background and deploys the
# outyet workshop stack on it (ECR image, ECS container instance and task,
# Application Load Balancer); prints the load balancer's URL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec scripts/workshop.sh
