#!/bin/sh
# Builds the two programs every container's creation starts, runts-init (stage 1, then the container's init) and
# runts-gofer, as static binaries against musl (Debian's musl-tools) into build/Release/. Why musl: a process
# start is mostly page faults, and a static glibc program takes ~25 of them before main (its start-up code and
# data) against ~5 for musl; on a virtual machine a fault can cost tens of microseconds, so each start costs about
# 0.7 ms more with glibc (bench/RESULTS.md). Both are plain C/C++ with no libstdc++ (no exceptions, RTTI or STL),
# so the C++ of runts-init compiles against musl's headers too. The Linux UAPI headers (<linux/...>) are the
# system's: they do not depend on the C library.
set -eu
cd "$(dirname "$0")/.."
out=build/Release
if ! command -v musl-gcc >/dev/null 2>&1; then
  echo "build-helpers: musl-gcc not found: install Debian's musl-tools (apt-get install musl-tools; scripts/setup.sh does)" >&2
  exit 1
fi
multiarch=$(gcc -print-multiarch)
uapi=build/musl-uapi
mkdir -p "$out" "$uapi"
ln -sfn /usr/include/linux "$uapi/linux"
ln -sfn "/usr/include/$multiarch/asm" "$uapi/asm"
ln -sfn /usr/include/asm-generic "$uapi/asm-generic"

cflags="-O2 -Wall -Wextra -Wno-unused-parameter -isystem $uapi"
cxxflags="$cflags -std=c++17 -fno-exceptions -fno-rtti -fno-threadsafe-statics"
obj=build/musl-obj
mkdir -p "$obj"
for src in src/native/init-main.cc src/native/child.cc src/native/plan-parse.cc; do
  REALGCC=g++ musl-gcc -x c++ $cxxflags -c "$src" -o "$obj/$(basename "$src" .cc).o"
done
# Linked by the C driver: no libstdc++ comes in, so anything of it the C++ needed would fail here, not at run time.
musl-gcc -static -s "$obj/init-main.o" "$obj/child.o" "$obj/plan-parse.o" -o "$out/runts-init"
musl-gcc $cflags -static -s src/gofer/gofer.c -o "$out/runts-gofer"
