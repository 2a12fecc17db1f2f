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
  # the CloudWatch test speaks smithy-rpc-v2-cbor by hand where no current botocore is installed
  python3-cbor2
  # the web console: its front end is an npm project (console/, bundled by esbuild at build time);
  # its browser test drives Debian's chromium with npm's playwright-core
  nodejs npm chromium
  # load tools and the peers benchmarks compare against
  wrk hyperfine haproxy nginx-light docker-registry
)

missing=()
for p in "${packages[@]}"; do
  # NodeSource's nodejs package bundles npm and conflicts with Debian's: an npm on PATH will do.
  [ "$p" = npm ] && command -v npm >/dev/null 2>&1 && continue
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
# The console's npm packages (esbuild, playwright-core), exactly as
# console/package-lock.json pins them. playwright-core never downloads a
# browser (the tests use /usr/bin/chromium); the guard is for old versions.
console_dir="$(cd "$(dirname "$0")/.." && pwd)/console"
stamp="$console_dir/node_modules/.berth-installed-lock"
if [ -f "$console_dir/package-lock.json" ] && ! cmp -s "$console_dir/package-lock.json" "$stamp" 2>/dev/null; then
  echo "install-deps: npm ci in console/"
  (cd "$console_dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
  cp "$console_dir/package-lock.json" "$stamp"
fi
echo "install-deps: all ${#packages[@]} packages present"
