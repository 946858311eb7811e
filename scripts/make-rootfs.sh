#!/bin/sh
# Builds a minimal busybox rootfs at $1 from Debian's busybox-static (used by the README example and the tests).
set -eu
dest=${1:?usage: make-rootfs.sh DIR}
bb=$(command -v busybox || echo /bin/busybox)
[ -x "$bb" ] || { echo "make-rootfs.sh: busybox not found; install it: apt-get install -y busybox-static" >&2; exit 1; }
mkdir -p "$dest/bin" "$dest/sbin" "$dest/usr/bin" "$dest/usr/sbin" "$dest/etc" "$dest/proc" "$dest/sys" "$dest/dev" "$dest/tmp" "$dest/root" "$dest/var"
cp "$bb" "$dest/bin/busybox"
for applet in $("$dest/bin/busybox" --list); do
  [ -e "$dest/bin/$applet" ] || ln -s busybox "$dest/bin/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' > "$dest/etc/passwd"
echo 'root:x:0:' > "$dest/etc/group"
chmod 1777 "$dest/tmp"
