// runts-init: stage 1 of every spawn (see Spawn in addon.cc). The addon execs it from a CLONE_VM | CLONE_VFORK
// child with the descriptors it keeps open across the exec: its end of the socketpair to the addon, a memfd
// holding the plan (already validated there) and, for a gated spawn, the read end of the gate pipe. It parses the plan into ops that point into its own copy and runs
// them (child.cc) — the same messages on the same socket as before, so the addon cannot tell the difference.
//
// Usage (by the addon only): runts-init <socket fd> <plan memfd> [<gate fd>], or runts-init --ready <fd> <flags>
// (awaitOrder, Ahead).
#include "plan-parse.h"
#include "send-fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

namespace {

// Anything wrong here is a bug in how the addon started us: say so on the socket, where the addon reads spawn
// failures, and on stderr for a person who ran the program by hand.
[[noreturn]] void fail(int sock, int err, const char* what) {
  if (sock >= 0) runts::sendStage1Error(sock, err, what);
  (void)!write(2, "runts-init: ", 12);
  (void)!write(2, what, strlen(what));
  (void)!write(2, "\n", 1);
  _exit(1);
}

// A decimal argument in [0, max], else -1.
int intArg(const char* s, long max) {
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  return end != s && *end == '\0' && v >= 0 && v <= max ? static_cast<int>(v) : -1;
}

int fdArg(const char* s) { return intArg(s, (1 << 20) - 1); }

// The namespace flags of `--ready`.
int flagsArg(const char* s) { return intArg(s, 0x7fffffff); }

}  // namespace

// The namespaces a ready runts-init makes while it waits (`--ready <fd> <flags>`: the CLONE_NEWNET and CLONE_NEWIPC
// the addon saw the previous spawn make first thing), kernel work the spawn then need not wait for. They are as new
// as stage 1's own would be — nothing runs in them until the spawn — and made in the runtime's user namespace, as
// stage 1 makes them when the plan has none (namespacesMadeAhead). `own` keeps the runtime's to go
// back to when the spawn that comes makes them otherwise (an exec joins the container's).
struct Ahead {
  static constexpr int kTypes[2] = {CLONE_NEWNET, CLONE_NEWIPC};
  int flags = 0;
  int own[2] = {-1, -1};

  void make(int wanted) {
    for (int k = 0; k < 2; k++) {
      if ((wanted & kTypes[k]) == 0) continue;
      own[k] = open(k == 0 ? "/proc/self/ns/net" : "/proc/self/ns/ipc", O_RDONLY | O_CLOEXEC);
      if (own[k] >= 0) flags |= kTypes[k];
    }
    // Without the privilege (a user's runtime), nothing is made ahead and stage 1 makes them as always.
    if (flags != 0 && unshare(flags) < 0) flags = 0;
    if (flags == 0) closeOwn();
  }

  // Before the plan runs: drops the namespaces made ahead from the unshare that would have made them, and goes back
  // to the runtime's for the others.
  void use(runts::Plan& plan, int sock) {
    const int used = runts::namespacesMadeAhead(plan, flags);
    int left = used;
    for (uint32_t i = 0; i < plan.opCount && left != 0 && plan.ops[i].code != runts::OP_FORK; i++) {
      runts::Op& op = plan.ops[i];
      if (op.code != runts::OP_UNSHARE) continue;
      const int ours = static_cast<int>(op.num[0]) & left;
      op.num[0] &= ~static_cast<int64_t>(ours);
      left &= ~ours;
    }
    for (int k = 0; k < 2; k++) {
      if ((flags & kTypes[k]) == 0 || (used & kTypes[k]) != 0) continue;
      if (setns(own[k], kTypes[k]) < 0) fail(sock, errno, "cannot return to the runtime's namespaces");
    }
    closeOwn();
  }

  void closeOwn() {
    for (int& fd : own) {
      if (fd >= 0) close(fd);
      fd = -1;
    }
  }
};

// `--ready <fd>`: started ahead of need (spawn.cc, keepInitReady), with stdio on /dev/null and only `fd`, a socket
// to the addon. Waits for one order (plan-format.h: ReadyOrder), puts the spawn's descriptors at the numbers an
// exec'd runts-init would have had them, and says where its socket, plan and gate are. EOF or a bad order: exit.
// `ahead`'s descriptors are moved out of the way of the placed ones.
void awaitOrder(int ready, Ahead& ahead, int& sock, int& planFd, int& gateFd) {
  runts::ReadyOrder order;
  int got[runts::kReadyOrderMaxFds];
  size_t count = 0;
  bool truncated = false;
  const ssize_t n = runts::recvFds(ready, &order, sizeof order, 0, got, &count, &truncated);
  if (n != static_cast<ssize_t>(sizeof order) || truncated || order.magic != runts::kReadyOrderMagic || order.count != count) _exit(0);
  // Above every target first, so that no dup2 below overwrites a descriptor still to be placed.
  int above = ready;
  for (uint32_t i = 0; i < order.count; i++) above = order.targets[i] > above ? order.targets[i] : above;
  int* toMove[runts::kReadyOrderMaxFds + 2];
  uint32_t moving = 0;
  for (uint32_t i = 0; i < order.count; i++) toMove[moving++] = &got[i];
  for (int& fd : ahead.own) if (fd >= 0) toMove[moving++] = &fd;
  for (uint32_t i = 0; i < moving; i++) {
    const int moved = fcntl(*toMove[i], F_DUPFD_CLOEXEC, above + 1);
    if (moved < 0) _exit(0);
    close(*toMove[i]);
    *toMove[i] = moved;
  }
  close(ready);
  for (int fd = 0; fd < 3; fd++) close(fd);  // /dev/null until now; the runtime's stdio are among the targets
  // dup2 leaves the new descriptor without FD_CLOEXEC, as the exec'd runts-init has its own.
  for (uint32_t i = 0; i < order.count; i++) {
    if (dup2(got[i], order.targets[i]) < 0) _exit(0);
    close(got[i]);
  }
  sock = order.sock;
  planFd = order.planFd;
  gateFd = order.gateFd;
}

int main(int argc, char** argv) {
  int sock = -1, planFd = -1, gateFd = -1;
  Ahead ahead;
  if (argc == 4 && strcmp(argv[1], "--ready") == 0 && fdArg(argv[2]) >= 0 && flagsArg(argv[3]) >= 0) {
    ahead.make(flagsArg(argv[3]) & (CLONE_NEWNET | CLONE_NEWIPC));
    awaitOrder(fdArg(argv[2]), ahead, sock, planFd, gateFd);
  } else {
    const bool args = argc == 3 || argc == 4;
    sock = args ? fdArg(argv[1]) : -1;
    planFd = args ? fdArg(argv[2]) : -1;
    gateFd = argc == 4 ? fdArg(argv[3]) : -1;
    if (sock < 0 || planFd < 0 || (argc == 4 && gateFd < 0)) {
      fail(sock, EINVAL, "is started by the runts addon (usage: runts-init <socket fd> <plan fd> [<gate fd>])");
    }
  }
  struct stat st;
  if (fstat(planFd, &st) < 0) fail(sock, errno, "cannot read the plan");
  const size_t size = static_cast<size_t>(st.st_size);
  uint8_t* bytes = static_cast<uint8_t*>(malloc(size > 0 ? size : 1));
  if (bytes == nullptr) fail(sock, ENOMEM, "cannot read the plan");
  size_t got = 0;
  while (got < size) {
    ssize_t r = pread(planFd, bytes + got, size - got, static_cast<off_t>(got));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail(sock, r < 0 ? errno : EIO, "cannot read the plan");
    got += static_cast<size_t>(r);
  }
  close(planFd);
  runts::Plan plan;
  runts::PlanError error;
  if (!runts::parsePlan(bytes, size, plan, error)) fail(sock, EPROTO, error.text);
  free(bytes);
  if (ahead.flags != 0) ahead.use(plan, sock);
  runts::runChild(plan.ops, plan.opCount, sock, plan.hasFork, gateFd);
}
