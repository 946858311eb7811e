#!/bin/bash
# Builds an example bundle (busybox rootfs + runts' default config) and runs a real container from it.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
bundle=${1:-/tmp/runts-example}
rm -rf "$bundle" && mkdir -p "$bundle"
"$repo/scripts/make-rootfs.sh" "$bundle/rootfs"
cd "$bundle"
"$repo/bin/runts" spec
# A non-interactive process that shows it is inside a container of its own.
node -e '
const fs = require("fs"); const c = JSON.parse(fs.readFileSync("config.json", "utf8"));
c.process.terminal = false; c.hostname = "runts-example";
c.process.args = ["/bin/sh", "-c", "echo hello from $(hostname), pid $$; ps; cat /proc/self/cgroup | head -3"];
fs.writeFileSync("config.json", JSON.stringify(c, null, 2));'
exec "$repo/bin/runts" --root /run/runts-example run "example-$$"
