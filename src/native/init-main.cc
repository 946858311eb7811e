// runts-init: stage 1 of every spawn (see Spawn in addon.cc). The addon execs it from a CLONE_VM | CLONE_VFORK
// child with the descriptors it keeps open across the exec: its end of the socketpair to the addon, a memfd
// holding the plan (already validated there) and, for a gated spawn, the read end of the gate pipe. It parses the plan into ops that point into its own copy and runs
// them (child.cc) — the same messages on the same socket as before, so the addon cannot tell the difference.
//
// Usage (by the addon only): runts-init <socket fd> <plan memfd> [<gate fd>], or runts-init --ready <fd> (awaitOrder).
#include "plan-parse.h"
#include "send-fd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
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

int fdArg(const char* s) {
  char* end = nullptr;
  long v = strtol(s, &end, 10);
  return end != s && *end == '\0' && v >= 0 && v < 1 << 20 ? static_cast<int>(v) : -1;
}

}  // namespace

// `--ready <fd>`: started ahead of need (spawn.cc, keepInitReady), with stdio on /dev/null and only `fd`, a socket
// to the addon. Waits for one order (plan-format.h: ReadyOrder), puts the spawn's descriptors at the numbers an
// exec'd runts-init would have had them, and says where its socket, plan and gate are. EOF or a bad order: exit.
void awaitOrder(int ready, int& sock, int& planFd, int& gateFd) {
  runts::ReadyOrder order;
  int got[runts::kReadyOrderMaxFds];
  size_t count = 0;
  bool truncated = false;
  const ssize_t n = runts::recvFds(ready, &order, sizeof order, 0, got, &count, &truncated);
  if (n != static_cast<ssize_t>(sizeof order) || truncated || order.magic != runts::kReadyOrderMagic || order.count != count) _exit(0);
  // Above every target first, so that no dup2 below overwrites a descriptor still to be placed.
  int above = ready;
  for (uint32_t i = 0; i < order.count; i++) above = order.targets[i] > above ? order.targets[i] : above;
  for (uint32_t i = 0; i < order.count; i++) {
    const int moved = fcntl(got[i], F_DUPFD_CLOEXEC, above + 1);
    if (moved < 0) _exit(0);
    close(got[i]);
    got[i] = moved;
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
  if (argc == 3 && strcmp(argv[1], "--ready") == 0 && fdArg(argv[2]) >= 0) {
    awaitOrder(fdArg(argv[2]), sock, planFd, gateFd);
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
  runts::runChild(plan.ops, plan.opCount, sock, plan.hasFork, gateFd);
}
