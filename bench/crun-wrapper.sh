#!/bin/sh
# Runs crun in a private mount namespace with a tmpfs over /sys/fs/cgroup/unified.
#
# Why: this machine has a hybrid cgroup layout (v1 controllers plus a cgroup2 mount at
# /sys/fs/cgroup/unified holding only hugetlb). crun 1.8 sees the cgroup2 mount, decides the layout is
# "hybrid with v2 controllers" and refuses to run. Hiding that mount behind an empty tmpfs makes crun treat
# the host as plain cgroup v1, which is what runc and runts use here anyway.
#
# Each invocation gets its own throwaway mount namespace. That is fine across create/start/state/delete as
# long as crun's state dir (--root) is an ordinary directory on the host filesystem: it is not under
# /sys/fs/cgroup/unified, so writes to it are visible to later invocations. Propagation is made private so the
# tmpfs never leaks back to the host. The container's own mount namespace is cloned from this one, which only
# hides the (empty) cgroup2 hierarchy from it.
set -eu
exec unshare -m --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec crun "$@"' sh "$@"
