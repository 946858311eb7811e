// The spawn plan: wire format shared by the TypeScript encoder (src/native/plan.ts) and this addon.
//
// All integers are little-endian (host order; runts targets x86_64 and arm64 Linux).
//
//   header   u32 magic = 0x504E5452 ("RTNP" read as bytes 'R','T','N','P')
//            u32 version = 2
//            u32 opCount
//            u32 reserved = 0
//            str uidMap      written by the PARENT to /proc/<pid>/uid_map on NEED_IDMAP ("" = skip)
//            str gidMap      likewise /proc/<pid>/gid_map
//            str setgroups   "allow" | "deny" | "" (= do not touch /proc/<pid>/setgroups)
//            str uidMapper   a helper (newuidmap) the PARENT runs as `<helper> <pid> <map triples...>` instead of
//                            writing uid_map ("" = write it directly); without root only it may map subordinate ids
//            str gidMapper   likewise newgidmap for gid_map
//   ops      opCount times:
//            u32 code, u16 numCount, u16 strCount,
//            numCount x i64 (u64 for capability masks and rlimits),
//            strCount x str
//   str      u32 len, u32 reserved = 0, len bytes, one NUL byte, zero padding up to a multiple of 8
//
// The buffer ends exactly after the last op. Every record is a multiple of 8 bytes long and the header
// is 16, so each i64 and each string payload is 8-byte aligned relative to the start of the buffer; the
// parent copies the plan into malloc'd (16-aligned) memory so the child can use payloads in place
// (struct sock_filter[], gid_t[], char*) with no copying and no allocation.
//
// numCount/strCount must equal the op's arity in kOpSpecs (plan-ops.h; the parent rejects anything else), which
// keeps the child free of any checks it could get wrong.
#pragma once

// C headers, not <cstdint> and friends: runts-init is built against musl without libstdc++ (scripts/build-helpers.sh).
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sys/socket.h>

#include "plan-ops.h"  // enum OpCode, kOpSpecs: generated from src/native/plan-ops.ts

namespace runts {

constexpr uint32_t kPlanMagic = 0x504E5452u;
constexpr uint32_t kPlanVersion = 2;
constexpr size_t kMaxPlanBytes = 64u << 20;
constexpr uint32_t kMaxOps = 65536;
constexpr uint32_t kMaxPathLen = 4095;    // PATH_MAX minus the NUL
constexpr uint32_t kMaxListEntries = 1024;  // argv / env entries (the child builds pointer arrays on its stack)
constexpr uint32_t kMaxGroups = 65536;      // NGROUPS_MAX
constexpr uint32_t kMaxBpfInsns = 4096;     // BPF_MAXINSNS
constexpr uint32_t kMaxCgroupFds = 64;      // cgroupOpen ops per plan (stage-1 keeps the fds in an array)
constexpr uint32_t kMaxSourceFds = 256;     // sourceOpen ops per plan (kept in an array until the init mounts)

// A validated op, pointing into the parent's copy of the plan (valid in the child after clone too).
struct Op {
  uint32_t code;
  int64_t num[6];
  const char* str[4];
  uint32_t len[4];
};

// Messages child -> parent over the SOCK_SEQPACKET socketpair (one message per send).
//   MSG_GOFER_PID  pid = the gofer (spawnGofer)
//   MSG_SECCOMP_FD the seccomp listener fd (SCM_RIGHTS) of a filter with SCMP_ACT_NOTIFY rules
enum MsgType : int32_t {
  MSG_PID = 1,
  MSG_NEED_IDMAP,
  MSG_READY,
  MSG_ERROR,
  MSG_GOFER_PID,
  MSG_SECCOMP_FD
};

struct Msg {
  int32_t type;
  int32_t pid;
  int32_t opIndex;
  int32_t opCode;
  int32_t err;
  char path[4096];
};

// What stage 1 sends when it fails before running any op — its exec (addon.cc) or reading its plan (init-main.cc):
// MSG_ERROR with opIndex -1, which the addon reports as operation "runts-init", `what` as the path. Stack and one
// send only: the exec's side runs in a CLONE_VM child.
inline void sendStage1Error(int sock, int err, const char* what) {
  Msg m;
  memset(&m, 0, sizeof m);
  m.type = MSG_ERROR;
  m.opIndex = -1;
  m.err = err;
  strncpy(m.path, what, sizeof m.path - 1);
  (void)!send(sock, &m, sizeof m, MSG_NOSIGNAL);
}

// A runts-init started ahead of need (spawn.cc: keepInitReady; init-main.cc: `--ready <fd>`) waits for one order on
// its socket: this, with the spawn's descriptors (SCM_RIGHTS), `count` of them, each to be placed at targets[i] — the
// number it has in the runtime, as an exec'd runts-init would have it: stdio, --preserve-fds, the socketpair's end,
// the plan's memfd, the gate. Then it runs as stage 1 of that spawn.
constexpr uint32_t kReadyOrderMagic = 0x52445952u;  // "RYDR"
constexpr uint32_t kReadyOrderMaxFds = 250;         // below SCM_MAX_FD (253)
struct ReadyOrder {
  uint32_t magic;
  int32_t sock, planFd, gateFd;
  uint32_t count;
  int32_t targets[kReadyOrderMaxFds];
};

// The child side: never returns. `sock` is the child's end of the socketpair, `hasFork` tells whether
// the plan contains FORK (if not, the first process reports its own pid), `gateFd` is the read end of the
// caller's gate pipe (GATE) or -1.
[[noreturn]] void runChild(const Op* ops, uint32_t opCount, int sock, bool hasFork, int gateFd);

// errno -> "ENOENT"; nullptr when unknown. Async-signal-safe (a static table).
const char* errnoName(int err);

}  // namespace runts
