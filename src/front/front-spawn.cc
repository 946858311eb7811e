// The front's spawn: the addon's spawn code (src/native/spawn.cc) behind the C interface of front-spawn.h.
#include "front-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "../native/plan-parse.h"
#include "../native/spawn.h"

namespace {

void copy(char* to, size_t size, const std::string& from) { snprintf(to, size, "%s", from.c_str()); }

}  // namespace

extern "C" void front_use_init_binary(const char* path) { runts::useInitBinary(path); }

extern "C" void front_spawn(const uint8_t* data, size_t len, int gated, int (*at_gate)(void*), void* ctx, front_spawn_result* r) {
  memset(r, 0, sizeof *r);
  r->seccomp_fd = -1;
  r->op_index = -1;
  std::vector<uint8_t> bytes(data, data + len);
  runts::Plan plan;
  runts::PlanError error;
  if (!runts::parsePlan(bytes.data(), bytes.size(), plan, error)) {
    r->failed = r->bad_plan = 1;
    copy(r->message, sizeof r->message, error.text);
    return;
  }
  runts::SpawnOutcome out;
  int gate[2] = {-1, -1};
  if (gated && pipe2(gate, O_CLOEXEC) < 0) {
    out.failed = true;
    out.failure.operation = "pipe2";
    out.failure.err = errno;
  } else {
    runts::StartedSpawn started;
    const bool begun = runts::beginSpawn(plan, bytes, gate[0], started, out);
    if (gate[0] >= 0) close(gate[0]);
    if (gated) {
      // The host opens the gate once the cgroup is made (or cancels when that failed); stage 1 waits there.
      const char go = 1;
      if (at_gate(ctx) == 1 && begun) {
        ssize_t w;
        do w = write(gate[1], &go, 1);
        while (w < 0 && errno == EINTR);
      }
      close(gate[1]);
    }
    if (begun) runts::endSpawn(plan, started, out);
  }
  if (out.pidfd >= 0) close(static_cast<int>(out.pidfd));
  r->failed = out.failed;
  r->init_pid = out.initPid;
  r->gofer_pid = out.goferPid;
  r->seccomp_fd = out.seccompFd;
  if (!out.failed) return;
  const runts::SpawnFailure& f = out.failure;
  copy(r->operation, sizeof r->operation, f.operation);
  r->err = f.err;
  copy(r->code, sizeof r->code, f.err != 0 ? runts::errnoCode(f.err) : "ECHILD");
  copy(r->description, sizeof r->description, f.err != 0 ? strerror(f.err) : "");
  copy(r->path, sizeof r->path, f.path);
  r->op_index = f.opIndex;
  copy(r->message, sizeof r->message, runts::spawnFailureMessage(f));
}
