// Plan validation, shared by the addon, the front and runts-init. Plain C++ with no libstdc++ (no std::string or
// std::vector): runts-init is linked statically against musl without it (scripts/build-helpers.sh).
#pragma once

#include "plan-format.h"

namespace runts {

struct Plan {
  uint64_t* storage = nullptr;  // malloc'd 8-aligned copy of the buffer; ops and the strings below point into it
  Op* ops = nullptr;            // malloc'd, opCount of them
  uint32_t opCount = 0;
  // The header's strings (NUL-terminated, "" when absent), pointing into storage.
  const char* uidMap = "";
  const char* gidMap = "";
  const char* setgroups = "";
  const char* uidMapper = "";
  const char* gidMapper = "";
  bool hasFork = false;
  // Descriptors below this are the plan's (stdio, --preserve-fds ones kept by CLOSE_FDS, DUP2's): stage 1 is
  // started with no other fd of the runtime's.
  int keepFdsBelow = 3;

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan();
};

// Why a plan was refused: one line.
struct PlanError {
  char text[256] = {0};
};

// Validates `data` completely and fills `plan`. On failure returns false with `error` set.
bool parsePlan(const uint8_t* data, size_t len, Plan& plan, PlanError& error);

// Which of the namespaces `offered` (CLONE_NEWNET, CLONE_NEWIPC) stage 1 makes with unshare as the first thing the plan
// does to them, before any user namespace: those a runts-init waiting for the spawn may make ahead, in the runtime's
// user namespace, as stage 1 would (init-main.cc). The addon asks it of a spawn to choose what the next one makes.
int namespacesMadeAhead(const Plan& plan, int offered);

}  // namespace runts
