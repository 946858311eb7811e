#!/usr/bin/env bash
# Runs the OCI runtime conformance suite (the validation files of opencontainers/runtime-tools, vendored as
# test/conformance/runtime-tools-*.tar.gz) against a runtime binary, as root.
#
#   scripts/conformance.sh [--host-cgroups] RUNTIME [FILE...]   run FILEs (names as in validation/; default all)
#   scripts/conformance.sh --prepare                            only fetch Go and build the suite
#
# The suite needs Go >= 1.21 and Debian 12 has 1.19: golang-1.23 is downloaded from bookworm-backports with a
# private apt config and unpacked under the cache dir (nothing is installed system-wide). Go and the built suite
# stay in the cache dir ($CONFORMANCE_DIR, default /var/tmp/runts-conformance); remove $CONFORMANCE_DIR/runtime-tools
# to rebuild. Prints one line per file (PASS/FAIL and why) and the totals; keeps each file's .tap and .err under
# $RESULTS (default $CONFORMANCE_DIR/results/<runtime>-<time>). Exit status: 0 if every file passed, 1 if one
# failed, 2 if the suite could not be run.
#
# --host-cgroups: the suite reads net_cls/net_prio and hugetlb only at their cgroup v1 paths. On a hybrid host
# without them there, the run happens in a private mount namespace where a private tmpfs over /sys/fs/cgroup
# holds the host's hierarchies plus v1 net_cls,net_prio and (unless cgroup2 uses it) hugetlb hierarchies. While
# a v1 hierarchy holds hugetlb, the controller is gone from cgroup2 for the whole host; the kernel gives it back
# only when that hierarchy is unmounted with no child cgroup left, so the run removes its cgroups there before
# leaving, and checks afterwards that every controller it took is back.
#
# Env: PER_FILE_TIMEOUT (seconds, default 120), RESULTS, CONFORMANCE_DIR, DEBIAN_MIRROR.
set -euo pipefail
# runts' front would start a warm host for the suite's state root, and that host would outlive the run (and with
# --host-cgroups its private mount namespace, holding the v1 hierarchies mounted there): the suite calls the
# runtime binary the way a shell does, through Node.
export RUNTS_AUTOSTART=0

REPO=$(cd "$(dirname "$0")/.." && pwd)
TARBALL=$(ls "$REPO"/test/conformance/runtime-tools-*.tar.gz)
O=${CONFORMANCE_DIR:-/var/tmp/runts-conformance}
GO=$O/go/usr/lib/go-1.23/bin
SUITE=$O/runtime-tools
TIMEOUT=${PER_FILE_TIMEOUT:-120}

die() { echo "conformance.sh: $*" >&2; exit 2; }

suite_built() {
  [ -x "$SUITE/runtimetest" ] || return 1
  local src
  for src in "$SUITE"/validation/*/*.go; do
    case $src in */util/*) continue ;; esac
    [ -x "${src%.go}.t" ] || return 1
  done
}

fetch_go() {
  local mirror apt=$O/apt
  # The host's Debian mirror: the first URI of debian.sources (deb822) or sources.list.
  mirror=${DEBIAN_MIRROR:-$(awk '/^(URIs:|deb )/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
    /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list 2>/dev/null || true)}
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$O/go"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${mirror:-http://deb.debian.org/debian} bookworm-backports main" >"$apt/sources.list"
  : >"$apt/status"
  # Only our lists, our (empty) dpkg status and our cache: the host's apt state is neither read nor changed.
  local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$apt/lists" -o Dir::State::status="$apt/status" -o Dir::Cache="$apt/cache"
              -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq || die "cannot read bookworm-backports from ${mirror:-deb.debian.org} (set DEBIAN_MIRROR)"
  (cd "$apt" && apt-get "${opts[@]}" download golang-1.23-go golang-1.23-src >/dev/null) || die "cannot download golang-1.23 from bookworm-backports"
  local deb
  for deb in "$apt"/golang-1.23-*.deb; do dpkg -x "$deb" "$O/go"; done
  [ -x "$GO/go" ] || die "no $GO/go after unpacking golang-1.23"
}

build_suite() {
  for tool in make tar gzip dpkg apt-get; do
    command -v $tool >/dev/null || die "$tool is missing: apt-get install make tar gzip (see .ci/run)"
  done
  rm -rf "$SUITE"
  tar -xzf "$TARBALL" -C "$O"
  # Vendored modules only, this Go only: the build never reaches the network.
  (cd "$SUITE" && PATH=$GO:$PATH GOFLAGS=-mod=vendor GOPROXY=off GOTOOLCHAIN=local GOSUMDB=off \
    GOCACHE=$O/gocache GOPATH=$O/gopath make -j2 runtimetest validation-executables >"$O/build.log" 2>&1) ||
    die "building the suite failed: see $O/build.log"
}

prepare() {
  mkdir -p "$O"
  exec 9>"$O/prepare.lock"
  flock 9   # two runs at once share one download and one build
  [ -x "$GO/go" ] || fetch_go
  suite_built || build_suite
  exec 9>&-
}

# /proc/cgroups: which hierarchy each of these controllers is bound to (0: the cgroup2 one).
hierarchy_of() { awk -v c="$1" '$1 == c {print $2}' /proc/cgroups; }

# Is controller $1 on a cgroup v1 mount in this mount namespace?
v1_mounted() { awk -v c="$1" '{split($0, p, " - "); split(p[2], f, " ")} f[1] == "cgroup" && ("," f[3] ",") ~ ("," c ",")' /proc/self/mountinfo | grep -q .; }

# In the private mount namespace: a tmpfs over /sys/fs/cgroup with the host's hierarchies bound into it (so the
# dirs and links made here never appear in the host's tmpfs), plus the v1 hierarchies the suite reads.
HOST_CGROUP_MOUNTS=()
mount_host_cgroups() {
  [ "$(stat -f -c %T /sys/fs/cgroup)" = tmpfs ] || die "--host-cgroups is for v1 or hybrid hosts, whose /sys/fs/cgroup is a tmpfs of hierarchies"
  local old e unified
  old=$(mktemp -d)
  mount --rbind /sys/fs/cgroup "$old"
  mount -t tmpfs -o mode=755 conformance-cgroups /sys/fs/cgroup
  for e in "$old"/*; do
    if [ -L "$e" ]; then cp -P "$e" /sys/fs/cgroup/
    elif mountpoint -q "$e"; then mkdir "/sys/fs/cgroup/${e##*/}" && mount --bind "$e" "/sys/fs/cgroup/${e##*/}"
    fi
  done
  umount -l "$old" && rmdir "$old"
  if ! v1_mounted net_cls && ! v1_mounted net_prio; then
    mkdir /sys/fs/cgroup/net_cls,net_prio
    mount -t cgroup -o net_cls,net_prio cgroup /sys/fs/cgroup/net_cls,net_prio
    ln -s net_cls,net_prio /sys/fs/cgroup/net_cls && ln -s net_cls,net_prio /sys/fs/cgroup/net_prio
    HOST_CGROUP_MOUNTS+=(/sys/fs/cgroup/net_cls,net_prio)
  fi
  unified=$(awk '{split($0, p, " - "); split(p[2], f, " ")} f[1] == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
  if ! v1_mounted hugetlb && [ -n "$(hierarchy_of hugetlb)" ]; then
    if [ -n "$unified" ] && grep -qw hugetlb "$unified/cgroup.subtree_control"; then
      echo "conformance.sh: hugetlb is enabled in $unified (cgroup2): not mounting a v1 hugetlb hierarchy" >&2
    else
      mkdir /sys/fs/cgroup/hugetlb
      mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb
      HOST_CGROUP_MOUNTS+=(/sys/fs/cgroup/hugetlb)
    fi
  fi
}

# Before leaving the namespace: rmdir every cgroup in the hierarchies mounted above and wait until the kernel has
# released them (rmdir returns before the release; a hierarchy unmounted before it would stay alive, unmounted,
# holding its controllers).
release_host_cgroups() {
  local m c left i
  for m in "${HOST_CGROUP_MOUNTS[@]}"; do
    find "$m" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null || true
    c=${m##*/}; c=${c%%,*}
    for i in $(seq 50); do
      left=$(awk -v c="$c" '$1 == c {print $3}' /proc/cgroups)
      [ "$left" = 1 ] && break
      sleep 0.2
    done
    [ "$left" = 1 ] || echo "conformance.sh: $m still holds $((left - 1)) cgroup(s): $(find "$m" -mindepth 1 -type d | head -5 | tr '\n' ' ')" >&2
    umount "$m" || echo "conformance.sh: cannot unmount $m" >&2
  done
}

# --- arguments --------------------------------------------------------------------------------------------------
host_cgroups=0
case ${1:-} in
  --prepare) [ "$(id -u)" = 0 ] || die "must run as root"; prepare; echo "suite built in $SUITE"; exit 0 ;;
  --host-cgroups) host_cgroups=1; shift ;;
esac
[ $# -ge 1 ] || die "usage: scripts/conformance.sh [--host-cgroups] RUNTIME [FILE...] | --prepare"
[ "$(id -u)" = 0 ] || die "must run as root (the suite creates real containers)"
rt=$(command -v -- "$1" || true)
[ -n "$rt" ] && [ -x "$rt" ] || die "runtime not found or not executable: $1"
rt=$(realpath -s -- "$rt")
shift

if [ "$host_cgroups" = 1 ] && [ -z "${CONFORMANCE_IN_NS:-}" ]; then
  prepare
  held() { for c in net_cls net_prio hugetlb; do echo "$c $(hierarchy_of $c)"; done; }
  before=$(held)
  rc=0
  CONFORMANCE_IN_NS=1 unshare -m --propagation private -- "$0" --host-cgroups "$rt" "$@" || rc=$?
  # The namespace's mounts go away asynchronously after its last process exits. A controller must be back where it
  # was, or on no v1 hierarchy at all (a hierarchy an earlier run left, released now).
  for i in $(seq 50); do
    now=$(held)
    left=$(paste <(echo "$before") <(echo "$now") | awk '$4 != 0 && $4 != $2 {print $1}')
    [ -z "$left" ] && break
    sleep 0.2
  done
  if [ -n "$left" ]; then
    echo "conformance.sh: a cgroup v1 hierarchy of the run still holds $(echo $left) (/proc/cgroups: $(echo $now)):" \
         "a container or cgroup is left in it; remove it (running this again with --host-cgroups removes empty ones)" >&2
    rc=2
  fi
  exit $rc
fi

# --- the run ----------------------------------------------------------------------------------------------------
prepare
if [ "$host_cgroups" = 1 ]; then
  mount_host_cgroups
  trap 'release_host_cgroups || true' EXIT   # "|| true": keep the run's exit status
fi
RESULTS=${RESULTS:-$O/results/$(basename -- "$rt")-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$RESULTS/tmp"
# Searchable by all: the root of a user-namespaced container (an unprivileged host uid) must reach its bundle.
chmod 711 "$RESULTS" "$RESULTS/tmp"
RESULTS=$(realpath "$RESULTS")
if [ $# -eq 0 ]; then
  set -- $(cd "$SUITE/validation" && for d in */; do [ -x "$d/${d%/}.t" ] && echo "${d%/}"; done)
fi

# The TAP of a file summed up as "ok notok skip todo lone badplan". A file may print several TAP streams (one per
# "TAP version" line), each with its own plan: badplan counts the streams whose number of tests is not their plan.
# lone counts YAML blocks with an "error" that follow no test line (the hooks files report a failure only so).
tap_counts() {
  awk '
    function endstream() { if (hasplan && ran != plan) badplan++; hasplan = 0; ran = 0 }
    /^TAP version/ { endstream(); test = 0; next }
    /^1\.\.[0-9]+/ { plan = substr($1, 4) + 0; hasplan = 1; test = 0; next }
    /^(not )?ok( |$)/ {
      test = 1; ran++
      if ($0 ~ /# *TODO/) todo++; else if ($0 ~ /^not/) notok++; else if ($0 ~ /# *SKIP/) skip++; else ok++
      next
    }
    /^  ---$/ { yaml = 1; lone_block = !test; next }
    /^  \.\.\.$/ { yaml = 0; test = 0; next }
    yaml && lone_block && /^    "error":/ { lone++ }
    END { endstream(); print ok + 0, notok + 0, skip + 0, todo + 0, lone + 0, badplan + 0 }' "$1"
}

passed=() failed=()
start=$SECONDS
cd "$SUITE"   # the files read ./runtimetest and ./rootfs-<arch>.tar.gz
for name in "$@"; do
  name=${name##*/}; name=${name%.t}
  exe=validation/$name/$name.t
  if [ ! -x "$exe" ]; then
    printf 'FAIL  %-36s %s\n' "$name" "no such validation file"; failed+=("$name"); continue
  fi
  tap=$RESULTS/$name.tap err=$RESULTS/$name.err
  rc=0
  # util.PrepareBundle makes its bundles in $TMPDIR.
  TMPDIR=$RESULTS/tmp RUNTIME=$rt timeout -k 10 "$TIMEOUT" "./$exe" >"$tap" 2>"$err" </dev/null || rc=$?
  read -r ok notok skip todo lone badplan < <(tap_counts "$tap")
  why=
  if [ $rc = 124 ] || [ $rc = 137 ]; then why="timed out after ${TIMEOUT}s"
  elif [ "$notok" -gt 0 ]; then why="$notok not ok: $(grep -m1 '^not ok' "$tap")"
  elif [ "$lone" -gt 0 ]; then why="error outside any test: $(grep -m1 '^    "error":' "$tap" | sed 's/^ *"error": "//' | cut -c1-150)"
  elif [ $rc != 0 ]; then why="exit status $rc: $( (grep -m1 "^${rt##*/}: " "$err" || head -n1 "$err") | cut -c1-200)"
  elif [ "$badplan" -gt 0 ]; then why="fewer or more tests than planned (a file stopped early?)"
  fi
  # Exit status 0 without any TAP is how the *_fail files pass (they only report a runtime that wrongly succeeds).
  if [ -z "$why" ]; then
    if [ "$ok" = 0 ]; then what="no failure reported"; else what="$ok ok"; fi
    [ "$skip" = 0 ] || what+=", $skip skipped"
    printf 'PASS  %-36s %s\n' "$name" "$what"; passed+=("$name")
  else
    printf 'FAIL  %-36s %s\n' "$name" "$why"; failed+=("$name")
  fi
done

# Leftovers of failed files: containers (the suite uses the runtime's default --root; ours are those whose bundle
# is under $RESULTS/tmp), mounts under the bundles (e.g. linux_rootfs_propagation), the bundles, and the suite's
# cgroups (/cgrouptest, testdir/cgrouptest/container) in every hierarchy.
"$rt" list 2>/dev/null | awk -v d="$RESULTS/tmp/" 'NR > 1 && index($4, d) == 1 {print $1}' | while read -r id; do
  echo "conformance.sh: deleting container $id, left by the suite" >&2
  "$rt" delete --force "$id" >/dev/null 2>&1 || echo "conformance.sh: cannot delete container $id" >&2
done
awk -v d="$RESULTS/tmp/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
rm -rf --one-file-system "$RESULTS/tmp"
find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -depth -type d \( -name cgrouptest -o -name testdir -o -path '*/testdir/cgrouptest/*' \) \
  -exec rmdir {} \; 2>/dev/null || true

echo
echo "runtime: $rt"
echo "results: $RESULTS (a .tap and an .err per file)"
echo "files:   $# run, ${#passed[@]} passed, ${#failed[@]} failed${failed:+: ${failed[*]}}"
echo "time:    $((SECONDS - start))s"
[ ${#failed[@]} = 0 ]
