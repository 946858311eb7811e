// Parent-side plan validation (normal C++: runs before the clone).
#pragma once

#include <string>
#include <vector>

#include "plan-format.h"

namespace runts {

struct Plan {
  std::vector<uint64_t> storage;  // 8-aligned copy of the buffer; ops point into it
  std::string uidMap, gidMap, setgroups, uidMapper, gidMapper;
  std::vector<Op> ops;
  bool hasFork = false;
  // Descriptors below this are the plan's (stdio, --preserve-fds ones kept by CLOSE_FDS, DUP2's): stage 1 is
  // started with no other fd of the runtime's.
  int keepFdsBelow = 3;
};

// Validates `data` completely and fills `plan`. On failure returns false with a one-line `error`.
bool parsePlan(const uint8_t* data, size_t len, Plan& plan, std::string& error);

}  // namespace runts
