// runts-init: stage 1 of every spawn (see Spawn in addon.cc). The addon execs it from a CLONE_VM | CLONE_VFORK
// child with the descriptors it keeps open across the exec: its end of the socketpair to the addon, a memfd
// holding the plan (already validated there) and, for a gated spawn, the read end of the gate pipe. It parses the plan into ops that point into its own copy and runs
// them (child.cc) — the same messages on the same socket as before, so the addon cannot tell the difference.
//
// Usage (by the addon only): runts-init <socket fd> <plan memfd> [<gate fd>]
#include "plan-parse.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char** argv) {
  const bool args = argc == 3 || argc == 4;
  const int sock = args ? fdArg(argv[1]) : -1;
  const int planFd = args ? fdArg(argv[2]) : -1;
  const int gateFd = argc == 4 ? fdArg(argv[3]) : -1;
  if (sock < 0 || planFd < 0 || (argc == 4 && gateFd < 0)) {
    fail(sock, EINVAL, "is started by the runts addon (usage: runts-init <socket fd> <plan fd> [<gate fd>])");
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
