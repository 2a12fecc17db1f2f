#!/usr/bin/env bash
# Installs everything berth needs to build, run and test, from Debian 12
# packages only. Idempotent: a second run installs nothing new.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libsqlite3-dev sqlite3 ca-certificates
  # CloudWatch's smithy-rpc-v2-cbor bodies
  libcbor-dev
  # Application Auto Scaling's cron() time zones (/usr/share/zoneinfo)
  tzdata
  googletest libgtest-dev libgmock-dev libbenchmark-dev
  # runtime parts (containers, images)
  runc umoci skopeo podman iproute2 util-linux busybox-static
  # the image test makes a throwaway CA for its HTTPS tag server
  openssl
  # the key-pair tests check keys with ssh-keygen (absent from a minimal Debian 12)
  openssh-client
  # clients the integration tests drive, as users do; zsh, where `berth env` is checked besides bash
  curl python3 python3-boto3 awscli zsh
  # *.elb.localhost resolves to loopback for every program (wrk, wget, Python, Go), not only
  # curl and browsers: nss-myhostname answers *.localhost (its package adds it to nsswitch.conf;
  # `apt-get remove libnss-myhostname` takes it out again)
  libnss-myhostname
  # the metrics tests read /_berth/metrics with the Prometheus client's own parser
  python3-prometheus-client
  # the CloudFormation export test reads the YAML template it writes
  python3-yaml
  # the CloudWatch test speaks smithy-rpc-v2-cbor by hand where no current botocore is installed
  python3-cbor2
  # the web console's browser test drives Debian's chromium (with npm's playwright-core)
  chromium
  # load tools and the peers benchmarks compare against
  wrk hyperfine haproxy nginx-light docker-registry
)

# Node.js and npm for the npm projects below (the console's front end is
# bundled by esbuild at build time): Debian's, unless the machine
# already has a Node.js with its own npm (NodeSource's nodejs bundles npm
# and conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# A system whose nsswitch.conf was edited by hand may lack the entry the
# package adds on install: put it after "files", as the package does.
if ! getent hosts probe.elb.localhost >/dev/null 2>&1 && ! grep -qE '^hosts:.*\bmyhostname\b' /etc/nsswitch.conf; then
  $sudo sed -i -E 's/^(hosts:[[:space:]]+files)/\1 myhostname/' /etc/nsswitch.conf
fi

# The Debian packages of the load-balancer peers start services on install;
# benchmarks run their own instances on loopback, so keep these stopped.
for svc in nginx haproxy docker-registry; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $sudo systemctl stop "$svc" || true
  fi
done
# npm projects, each pinned by its package-lock.json; installed again only
# when the lock changed since (npm records it in node_modules/.package-lock.json).
# playwright-core never downloads a browser (the tests use /usr/bin/chromium).
npm_projects=(
  console       # the web console's front end (esbuild) and its browser test (playwright-core)
  tests/export  # the CloudFormation resource specification (@aws-cdk/cfnspec)
)
for project in "${npm_projects[@]}"; do
  dir="$(cd "$(dirname "$0")/.." && pwd)/$project"
  if [ ! -f "$dir/node_modules/.package-lock.json" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: npm ci in $project/"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
  fi
done
echo "install-deps: all ${#packages[@]} packages present"
