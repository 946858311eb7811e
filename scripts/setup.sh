#!/bin/bash
# Installs what runts needs on a fresh Debian 12 machine (as root) and builds it: Debian packages for the build,
# the tests and the reference runtimes, then `npm ci` and the native + TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."
packages=(busybox-static build-essential python3 runc crun containerd criu libseccomp-dev graphviz util-linux iproute2 chromium strace)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
npm ci --no-audit --no-fund
npm run build
