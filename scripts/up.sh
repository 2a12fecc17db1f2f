#!/usr/bin/env bash
# Installs, builds, starts `berth serve` in the background and deploys the
# outyet workshop stack on it (scripts/workshop.sh: ECR image, two container
# instances, a service of 3 tasks behind the Application Load Balancer);
# prints the load balancer's URL.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec scripts/workshop.sh
