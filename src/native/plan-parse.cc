// Validation of a plan buffer (format: plan-format.h), shared by the addon and runts-init. The addon checks
// everything stage 1 will trust before it starts runts-init, so a malformed plan becomes a JS exception and never
// a crash; runts-init parses the same bytes again to point its ops into them.
#include "plan-parse.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

namespace runts {

Plan::~Plan() {
  free(storage);
  free(ops);
}

namespace {

struct Reader {
  const uint8_t* base;
  size_t len;
  size_t at;
  PlanError* error;

  __attribute__((format(printf, 2, 3))) bool fail(const char* fmt, ...) {
    const int n = snprintf(error->text, sizeof error->text, "invalid spawn plan at byte %zu: ", at);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && static_cast<size_t>(n) < sizeof error->text) vsnprintf(error->text + n, sizeof error->text - n, fmt, ap);
    va_end(ap);
    return false;
  }
  bool u32(uint32_t& v) {
    if (len - at < 4) return fail("truncated");
    memcpy(&v, base + at, 4);
    at += 4;
    return true;
  }
  bool u16(uint16_t& v) {
    if (len - at < 2) return fail("truncated");
    memcpy(&v, base + at, 2);
    at += 2;
    return true;
  }
  bool i64(int64_t& v) {
    if (len - at < 8) return fail("truncated");
    memcpy(&v, base + at, 8);
    at += 8;
    return true;
  }
  bool str(const char*& p, uint32_t& n) {
    uint32_t reserved = 0;
    if (!u32(n) || !u32(reserved)) return false;
    if (reserved != 0) return fail("string reserved field is not zero");
    const size_t padded = (static_cast<size_t>(n) + 1 + 7) & ~static_cast<size_t>(7);
    if (len - at < padded) return fail("string of %u bytes runs past the end", n);
    p = reinterpret_cast<const char*>(base + at);
    for (size_t i = n; i < padded; i++) {
      if (base[at + i] != 0) return fail("string is not NUL-terminated and zero-padded");
    }
    at += padded;
    return true;
  }
};

bool checkStr(Reader& r, StrKind kind, const char* p, uint32_t n, const char* opName) {
  switch (kind) {
    case S_PATH:
      if (n > kMaxPathLen) return r.fail("%s: path longer than %u bytes", opName, kMaxPathLen);
      [[fallthrough]];
    case S_CSTR:
      if (memchr(p, 0, n) != nullptr) return r.fail("%s: string contains a NUL byte", opName);
      return true;
    case S_BYTES:
      return true;
    case S_LIST: {
      if (n > 0 && p[n - 1] != 0) return r.fail("%s: list does not end with a NUL", opName);
      uint32_t count = 0;
      for (uint32_t i = 0; i < n; i++) count += p[i] == 0;
      if (count > kMaxListEntries)
        return r.fail("%s: more than %u list entries", opName, kMaxListEntries);
      return true;
    }
    case S_GIDS:
      if (n % 4 != 0 || n / 4 > kMaxGroups) return r.fail("%s: bad groups blob", opName);
      return true;
    case S_BPF:
      if (n == 0 || n % 8 != 0 || n / 8 > kMaxBpfInsns) return r.fail("%s: bad seccomp program", opName);
      return true;
  }
  return r.fail("%s: unknown string kind", opName);
}

// A header string as a C string: str() checked that it is NUL-terminated in place.
bool headerStr(Reader& r, StrKind kind, const char* name, const char*& out) {
  const char* s = nullptr;
  uint32_t n = 0;
  if (!r.str(s, n) || !checkStr(r, kind, s, n, name)) return false;
  out = s;
  return true;
}

}  // namespace

bool parsePlan(const uint8_t* data, size_t len, Plan& plan, PlanError& error) {
  if (len > kMaxPlanBytes) {
    snprintf(error.text, sizeof error.text, "invalid spawn plan: larger than %zu bytes", kMaxPlanBytes);
    return false;
  }
  // An 8-aligned private copy: the child reads i64s, gid_t[] and sock_filter[] in place.
  free(plan.storage);
  free(plan.ops);
  plan.ops = nullptr;
  plan.opCount = 0;
  plan.storage = static_cast<uint64_t*>(calloc((len + 7) / 8 + 1, 8));
  if (plan.storage == nullptr) {
    snprintf(error.text, sizeof error.text, "invalid spawn plan: no memory for %zu bytes", len);
    return false;
  }
  if (len > 0) memcpy(plan.storage, data, len);
  Reader r{reinterpret_cast<const uint8_t*>(plan.storage), len, 0, &error};

  uint32_t magic = 0, version = 0, opCount = 0, reserved = 0;
  if (!r.u32(magic) || !r.u32(version) || !r.u32(opCount) || !r.u32(reserved)) return false;
  if (magic != kPlanMagic) return r.fail("bad magic (not a runts plan)");
  if (version != kPlanVersion) return r.fail("unsupported version %u", version);
  if (opCount > kMaxOps) return r.fail("too many ops");
  if (!headerStr(r, S_CSTR, "uidMap", plan.uidMap) || !headerStr(r, S_CSTR, "gidMap", plan.gidMap) ||
      !headerStr(r, S_CSTR, "setgroups", plan.setgroups))
    return false;
  if (plan.setgroups[0] != 0 && strcmp(plan.setgroups, "allow") != 0 && strcmp(plan.setgroups, "deny") != 0)
    return r.fail("setgroups must be \"allow\", \"deny\" or empty");
  if (!headerStr(r, S_PATH, "uidMapper", plan.uidMapper) || !headerStr(r, S_PATH, "gidMapper", plan.gidMapper))
    return false;
  if ((plan.uidMapper[0] != 0 && plan.uidMapper[0] != '/') || (plan.gidMapper[0] != 0 && plan.gidMapper[0] != '/'))
    return r.fail("uidMapper and gidMapper must be absolute paths");

  plan.ops = static_cast<Op*>(calloc(opCount > 0 ? opCount : 1, sizeof(Op)));
  if (plan.ops == nullptr) return r.fail("no memory for %u ops", opCount);
  plan.hasFork = false;
  plan.keepFdsBelow = 3;
  uint32_t cgroupOpens = 0;
  uint32_t sourceOpens = 0;
  bool goferBeforeFork = false;
  for (uint32_t i = 0; i < opCount; i++) {
    Op& op = plan.ops[i];
    uint16_t numCount = 0, strCount = 0;
    if (!r.u32(op.code) || !r.u16(numCount) || !r.u16(strCount)) return false;
    if (op.code == 0 || op.code >= OP_COUNT_PLUS_ONE) return r.fail("unknown op code %u", op.code);
    const OpSpec& spec = kOpSpecs[op.code];
    if (numCount != spec.numCount || strCount != spec.strCount) return r.fail("%s: wrong argument counts", spec.name);
    for (uint16_t k = 0; k < numCount; k++) {
      if (!r.i64(op.num[k])) return false;
    }
    for (uint16_t k = 0; k < strCount; k++) {
      if (!r.str(op.str[k], op.len[k]) || !checkStr(r, spec.kinds[k], op.str[k], op.len[k], spec.name))
        return false;
    }
    if (op.code == OP_CGROUP_OPEN && ++cgroupOpens > kMaxCgroupFds)
      return r.fail("more than %u cgroupOpen ops", kMaxCgroupFds);
    if (op.code == OP_SOURCE_OPEN && ++sourceOpens > kMaxSourceFds)
      return r.fail("more than %u sourceOpen ops", kMaxSourceFds);
    // A source is mounted by its index, which must name one opened before.
    if (op.code == OP_MOUNT_SOURCE && (op.num[0] < 0 || op.num[0] >= static_cast<int64_t>(sourceOpens)))
      return r.fail("mountSource: source index out of range");
    if (op.code == OP_CLOSE_FDS || op.code == OP_DUP2) {
      // CLOSE_FDS keeps the fds below its first; DUP2 needs its source.
      if (op.num[0] < 0 || op.num[0] >= (1 << 20)) return r.fail("%s: fd out of range", spec.name);
      const int above = static_cast<int>(op.num[0]) + (op.code == OP_DUP2 ? 1 : 0);
      if (above > plan.keepFdsBelow) plan.keepFdsBelow = above;
    }
    if (op.code == OP_FORK) {
      if (plan.hasFork) return r.fail("more than one fork op");
      plan.hasFork = true;
    }
    // Stage 1 becomes the gofer at FORK (child.cc): a gofer needs a fork after it, and only stage 1 may start one.
    if (op.code == OP_SPAWN_GOFER) {
      if (plan.hasFork || goferBeforeFork) return r.fail("spawnGofer: only one, and before the fork op");
      goferBeforeFork = true;
    }
  }
  if (r.at != len) return r.fail("trailing bytes after the last op");
  if (goferBeforeFork && !plan.hasFork) return r.fail("spawnGofer: needs a fork op after it");
  plan.opCount = opCount;
  return true;
}

int namespacesMadeAhead(const Plan& plan, int offered) {
  int made = 0;
  int undecided = offered;
  for (uint32_t i = 0; i < plan.opCount && undecided != 0; i++) {
    const Op& op = plan.ops[i];
    if (op.code == OP_FORK) break;  // the init's namespaces come from stage 1's
    if (op.code != OP_UNSHARE && op.code != OP_SETNS) continue;
    const int flags = static_cast<int>(op.num[0]);
    // Namespaces made once a user namespace is entered or made belong to it (setns type 0 may be one).
    if ((flags & CLONE_NEWUSER) != 0 || (op.code == OP_SETNS && flags == 0)) break;
    if (op.code == OP_UNSHARE) made |= flags & undecided;
    undecided &= ~flags;
  }
  return made;
}

// Shared by the addon (error codes for JS) and runts-init (the messages it sends): a static table, no allocation.
const char* errnoName(int err) {
  switch (err) {
#define E(x) \
  case x:    \
    return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF) E(ECHILD)
    E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV) E(ENODEV)
    E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG) E(ENOSPC)
    E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK) E(ENAMETOOLONG) E(ENOLCK)
    E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENOMSG) E(EPROTO) E(EBADMSG) E(EOVERFLOW) E(ENOTSOCK)
    E(EMSGSIZE) E(EPROTONOSUPPORT) E(EOPNOTSUPP) E(EADDRINUSE) E(EADDRNOTAVAIL) E(ENETUNREACH)
    E(ECONNABORTED) E(ECONNRESET) E(ENOBUFS) E(EISCONN) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED)
    E(EALREADY) E(EINPROGRESS) E(ESTALE) E(EDQUOT) E(ECANCELED) E(EOWNERDEAD) E(ENOMEDIUM)
    E(ELIBBAD) E(EUSERS) E(ENOKEY)
#undef E
    default:
      return nullptr;
  }
}

}  // namespace runts
