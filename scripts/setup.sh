#!/bin/bash
# Installs what runts needs on a fresh Debian 12 machine (as root) and builds it: Debian packages for the build,
# the tests and the reference runtimes, then `npm ci` and the native + TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(busybox-static build-essential musl-tools python3 runc crun containerd criu libseccomp-dev graphviz util-linux iproute2 chromium strace docker.io podman uidmap)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # docker.io and podman would start system daemons (dockerd on /run/docker.sock); the e2e tests run private ones,
  # so a policy-rc.d refusing every start keeps the packages' init scripts and units from running during install.
  policy=/usr/sbin/policy-rc.d
  own_policy=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 755 "$policy" && own_policy=1
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" || { [ -z "$own_policy" ] || rm -f "$policy"; exit 1; }
  [ -z "$own_policy" ] || rm -f "$policy"
fi
npm ci --no-audit --no-fund
npm run build
