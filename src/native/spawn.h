// Spawning runts-init with a plan (spawn.cc): shared by the addon and the native front (src/front/front.c).
#pragma once

#include <sys/syscall.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include "plan-parse.h"

// Older libc headers lack these numbers.
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

namespace runts {

// Why a spawn failed: the op (or machinery step) and its errno, the path it worked on, the op's index in the plan.
struct SpawnFailure {
  std::string operation;
  int err = 0;
  std::string path;
  int opIndex = -1;
  std::string message;  // overrides the errno-based message when set
};

// What one spawn ended with. Filled off the JS thread: no JS values here.
struct SpawnOutcome {
  bool failed = false;
  SpawnFailure failure;
  pid_t initPid = 0, goferPid = 0;
  long pidfd = -1;
  int seccompFd = -1;  // the listener of a filter with SCMP_ACT_NOTIFY rules (MSG_SECCOMP_FD), ours to pass on
};

// "EPERM" for EPERM; "E<n>" for a number without a name.
std::string errnoCode(int err);
// waitpid(2), EINTR retried.
pid_t waitRetry(pid_t pid, int* status, int flags);
// The failure as one line: its own message, or "<operation> <path>: <ECODE> (<description>)".
std::string spawnFailureMessage(const SpawnFailure& f);
// Where runts-init is; set once, before the first spawn (the addon: beside itself; the front: build/Release).
void useInitBinary(const std::string& path);
// With `on`, a runts-init is kept started ahead of need (startReadyInit after each spawn) and the next spawn hands it
// its plan instead of starting one; off drops the one waiting. Off by default (the front, the CLI).
void keepInitReady(bool on);
// Starts the runts-init a later spawn will use, when keepInitReady is on and none waits; blocks for its exec.
// `namespacesAhead`: the namespaces it makes while it waits (init-main.cc: Ahead), those the spawn just run made
// first thing (namespacesMadeAhead) — the next is likely alike; one that is not goes back to ours.
void startReadyInit(int namespacesAhead);
// A runts-init started with a plan and not yet relayed (beginSpawn): its socket and its pid (stage 1).
struct StartedSpawn {
  int sock = -1;
  pid_t stage1 = -1;
};

// Starts runts-init with the plan (stage 1); false when it could not (out.failed says why). `gateFd` (or -1) is
// the read end of the caller's gate pipe, left to the caller to close: between beginSpawn and endSpawn it opens the
// gate (writes a byte to the pipe and closes it) or cancels (closes it).
bool beginSpawn(const Plan& plan, const std::vector<uint8_t>& bytes, int gateFd, StartedSpawn& started, SpawnOutcome& out);
// Relays runts-init's messages until the init is READY, or until everything it started is gone again.
void endSpawn(const Plan& plan, StartedSpawn& started, SpawnOutcome& out);
// Starts runts-init with the plan and relays its messages until the init is READY, or until everything it started
// is gone again (out.failed says why). `gateFd` (or -1) is the read end of the caller's gate pipe: closed here
// (runts-init has its own copy once it runs). The init and the gofer become the calling thread's children.
void runSpawn(const Plan& plan, const std::vector<uint8_t>& bytes, int gateFd, SpawnOutcome& out);

}  // namespace runts
