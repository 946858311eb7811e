// compileSeccomp(profile) → Buffer: the `struct sock_filter[]` libseccomp generates for an OCI profile.
//
// profile: { defaultAction: string, defaultErrnoRet?: number, architectures?: string[],
//            syscalls?: [{ names: string[], action: string, errnoRet?: number,
//                          args?: [{ index: number, value: bigint|number, valueTwo?: bigint|number, op: string }] }] }
//
// Errors: a JS Error with .code 'ERR_RUNTS_SECCOMP' and .field (e.g. "syscalls[2].action") for a profile this
// runtime cannot apply (unknown action/arch/operator, an errno out of range); with .code an errno
// name and .syscall for a libseccomp failure. Unknown syscall *names* are skipped, as runc does: a profile lists
// syscalls of every architecture, and libseccomp only knows the ones of those it was told to filter.
#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <seccomp.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif

namespace runts {
namespace {

struct Named {
  const char* name;
  uint32_t value;
};

// OCI architecture names → libseccomp tokens. Only what this libseccomp knows (2.5 has no LoongArch).
const Named kArchs[] = {
    {"SCMP_ARCH_X86", SCMP_ARCH_X86},
    {"SCMP_ARCH_X86_64", SCMP_ARCH_X86_64},
    {"SCMP_ARCH_X32", SCMP_ARCH_X32},
    {"SCMP_ARCH_ARM", SCMP_ARCH_ARM},
    {"SCMP_ARCH_AARCH64", SCMP_ARCH_AARCH64},
    {"SCMP_ARCH_MIPS", SCMP_ARCH_MIPS},
    {"SCMP_ARCH_MIPS64", SCMP_ARCH_MIPS64},
    {"SCMP_ARCH_MIPS64N32", SCMP_ARCH_MIPS64N32},
    {"SCMP_ARCH_MIPSEL", SCMP_ARCH_MIPSEL},
    {"SCMP_ARCH_MIPSEL64", SCMP_ARCH_MIPSEL64},
    {"SCMP_ARCH_MIPSEL64N32", SCMP_ARCH_MIPSEL64N32},
    {"SCMP_ARCH_PPC", SCMP_ARCH_PPC},
    {"SCMP_ARCH_PPC64", SCMP_ARCH_PPC64},
    {"SCMP_ARCH_PPC64LE", SCMP_ARCH_PPC64LE},
    {"SCMP_ARCH_S390", SCMP_ARCH_S390},
    {"SCMP_ARCH_S390X", SCMP_ARCH_S390X},
#ifdef SCMP_ARCH_PARISC
    {"SCMP_ARCH_PARISC", SCMP_ARCH_PARISC},
    {"SCMP_ARCH_PARISC64", SCMP_ARCH_PARISC64},
#endif
#ifdef SCMP_ARCH_RISCV64
    {"SCMP_ARCH_RISCV64", SCMP_ARCH_RISCV64},
#endif
#ifdef SCMP_ARCH_LOONGARCH64
    {"SCMP_ARCH_LOONGARCH64", SCMP_ARCH_LOONGARCH64},
#endif
};

const Named kOps[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT}, {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ}, {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// Actions that take no errno. ERRNO, TRACE and NOTIFY are handled apart.
const Named kActions[] = {
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW},
    {"SCMP_ACT_KILL", SCMP_ACT_KILL},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG},
};

template <size_t N>
std::string namesOf(const Named (&table)[N], const char* extra = nullptr) {
  std::string out;
  for (const Named& n : table) out += (out.empty() ? "" : ", ") + std::string(n.name);
  if (extra != nullptr) out += std::string(", ") + extra;
  return out;
}

template <size_t N>
bool lookup(const Named (&table)[N], const std::string& name, uint32_t& out) {
  for (const Named& n : table) {
    if (name == n.name) {
      out = n.value;
      return true;
    }
  }
  return false;
}

// A profile error: thrown once, then every helper returns false up the stack.
struct Ctx {
  Napi::Env env;
  bool failed = false;
  bool fail(const std::string& field, const std::string& message) {
    if (failed) return false;
    failed = true;
    Napi::Error e = Napi::Error::New(env, field + ": " + message);
    e.Set("code", "ERR_RUNTS_SECCOMP");
    e.Set("field", field);
    e.ThrowAsJavaScriptException();
    return false;
  }
  bool sys(int err, const std::string& call, const std::string& field) {
    if (failed) return false;
    failed = true;
    Napi::Error e = Napi::Error::New(env, field + ": " + call + " failed: " + strerror(err));
    e.Set("code", "ERR_RUNTS_SECCOMP_SYS");
    e.Set("errno", Napi::Number::New(env, err));
    e.Set("syscall", call);
    e.Set("field", field);
    e.ThrowAsJavaScriptException();
    return false;
  }
};

bool getString(Ctx& c, const Napi::Object& o, const char* key, const std::string& field, std::string& out) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) return c.fail(field, "must be a string");
  out = v.As<Napi::String>().Utf8Value();
  return true;
}

// An optional errno (0..65535: the kernel keeps 16 bits of SECCOMP_RET_DATA). Absent → fallback.
bool getErrno(Ctx& c, const Napi::Object& o, const char* key, const std::string& field, uint32_t fallback,
              uint32_t& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    out = fallback;
    return true;
  }
  if (!v.IsNumber()) return c.fail(field, "must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 65535 || d != static_cast<double>(static_cast<uint32_t>(d))) {
    return c.fail(field, "must be an integer from 0 to 65535");
  }
  out = static_cast<uint32_t>(d);
  return true;
}

// A u64 comparison value: a BigInt (exact) or a Number (JSON; above 2^53 already rounded by the parser).
bool getU64(Ctx& c, const Napi::Value& v, const std::string& field, uint64_t& out) {
  if (v.IsBigInt()) {
    bool lossless = true;
    out = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) return c.fail(field, "must be from 0 to 2^64-1");
    return true;
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    if (!(d >= 0)) return c.fail(field, "must be from 0 to 2^64-1");
    out = d >= 18446744073709551615.0 ? UINT64_MAX : static_cast<uint64_t>(d);
    return true;
  }
  return c.fail(field, "must be a number");
}

// An action name (+ its errno for ERRNO/TRACE) → the libseccomp action value.
bool parseAction(Ctx& c, const std::string& name, uint32_t errnoRet, const std::string& field, uint32_t& out) {
  if (name == "SCMP_ACT_ERRNO") {
    out = SCMP_ACT_ERRNO(errnoRet);
    return true;
  }
  if (name == "SCMP_ACT_TRACE") {
    out = SCMP_ACT_TRACE(errnoRet);
    return true;
  }
  if (name == "SCMP_ACT_NOTIFY") {
    // The listener goes to the agent at linux.seccomp.listenerPath (src/linux/seccomp.ts checks it is set).
    out = SCMP_ACT_NOTIFY;
    return true;
  }
  if (lookup(kActions, name, out)) return true;
  return c.fail(field, "unknown action \"" + name + "\": use one of " +
                           namesOf(kActions, "SCMP_ACT_ERRNO, SCMP_ACT_TRACE, SCMP_ACT_NOTIFY"));
}

struct Guard {
  scmp_filter_ctx ctx = nullptr;
  int fd = -1;
  ~Guard() {
    if (ctx != nullptr) seccomp_release(ctx);
    if (fd >= 0) close(fd);
  }
};

bool addRule(Ctx& c, scmp_filter_ctx ctx, const Napi::Object& rule, const std::string& field, uint32_t defaultAction) {
  std::string actionName;
  if (!getString(c, rule, "action", field + ".action", actionName)) return false;
  uint32_t errnoRet = 0;
  if (!getErrno(c, rule, "errnoRet", field + ".errnoRet", EPERM, errnoRet)) return false;
  uint32_t action = 0;
  if (!parseAction(c, actionName, errnoRet, field + ".action", action)) return false;

  std::vector<scmp_arg_cmp> cmps;
  Napi::Value argsV = rule.Get("args");
  if (!argsV.IsUndefined() && !argsV.IsNull()) {
    if (!argsV.IsArray()) return c.fail(field + ".args", "must be an array");
    Napi::Array args = argsV.As<Napi::Array>();
    for (uint32_t j = 0; j < args.Length(); j++) {
      const std::string af = field + ".args[" + std::to_string(j) + "]";
      Napi::Value av = args.Get(j);
      if (!av.IsObject()) return c.fail(af, "must be an object");
      Napi::Object a = av.As<Napi::Object>();
      Napi::Value idx = a.Get("index");
      if (!idx.IsNumber()) return c.fail(af + ".index", "must be a number");
      double index = idx.As<Napi::Number>().DoubleValue();
      if (index < 0 || index > 5 || index != static_cast<double>(static_cast<int>(index))) {
        return c.fail(af + ".index", "must be an integer from 0 to 5");
      }
      std::string opName;
      if (!getString(c, a, "op", af + ".op", opName)) return false;
      uint32_t op = 0;
      if (!lookup(kOps, opName, op)) return c.fail(af + ".op", "unknown operator \"" + opName + "\": use one of " + namesOf(kOps));
      uint64_t value = 0, valueTwo = 0;
      if (!getU64(c, a.Get("value"), af + ".value", value)) return false;
      Napi::Value v2 = a.Get("valueTwo");
      if (!v2.IsUndefined() && !v2.IsNull() && !getU64(c, v2, af + ".valueTwo", valueTwo)) return false;
      // MASKED_EQ compares (arg & value) == valueTwo: datum_a is the mask, datum_b the expected value.
      cmps.push_back(scmp_arg_cmp{static_cast<unsigned int>(index), static_cast<scmp_compare>(op), value, valueTwo});
    }
  }
  // libseccomp refuses a rule whose action is the default one (it would change nothing); runc skips it too.
  if (action == defaultAction) return true;

  // Two conditions on one argument cannot be ANDed by libseccomp: like runc, each becomes its own rule (OR).
  bool repeated = false;
  for (size_t a = 0; a < cmps.size(); a++)
    for (size_t b = a + 1; b < cmps.size(); b++)
      if (cmps[a].arg == cmps[b].arg) repeated = true;

  Napi::Value namesV = rule.Get("names");
  if (!namesV.IsArray()) return c.fail(field + ".names", "must be an array of syscall names");
  Napi::Array names = namesV.As<Napi::Array>();
  for (uint32_t k = 0; k < names.Length(); k++) {
    const std::string nf = field + ".names[" + std::to_string(k) + "]";
    Napi::Value nv = names.Get(k);
    if (!nv.IsString()) return c.fail(nf, "must be a string");
    const std::string name = nv.As<Napi::String>().Utf8Value();
    int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not a syscall of these architectures: skipped, as runc does
    int rc;
    if (repeated) {
      for (const scmp_arg_cmp& cmp : cmps) {
        rc = seccomp_rule_add_array(ctx, action, nr, 1, &cmp);
        if (rc < 0) return c.sys(-rc, "seccomp_rule_add(" + name + ")", nf);
      }
      continue;
    }
    rc = seccomp_rule_add_array(ctx, action, nr, static_cast<unsigned int>(cmps.size()), cmps.empty() ? nullptr : cmps.data());
    if (rc < 0) return c.sys(-rc, "seccomp_rule_add(" + name + ")", nf);
  }
  return true;
}


// runc's -ENOSYS stub (libcontainer/seccomp/patchbpf), prepended when the default action denies: a syscall numbered
// above every syscall the profile names (for the caller's architecture) is one the profile's author could not know,
// usually newer than the profile; it gets ENOSYS, which libc takes as "not here, use the old call" (clone3 → clone,
// faccessat2 → faccessat), where the default EPERM would be a hard failure.
struct ArchMax {
  uint32_t audit;  // AUDIT_ARCH_* the kernel reports in seccomp_data.arch
  uint32_t max;    // highest syscall number the profile names for this ABI
  int x32;         // x86_64 only: 0 this entry is the x86_64 ABI, 1 the x32 ABI (syscall numbers with bit 30 set)
};

std::vector<sock_filter> enosysStub(const std::vector<ArchMax>& archs) {
  // A tiny assembler: jumps name their targets as instruction indexes and are made relative at the end.
  enum : uint32_t { kFilter = 0xffffff00, kEnosys = 0xffffff01 };
  struct Insn {
    uint16_t code;
    uint32_t k, jt, jf;  // jt/jf/k (for BPF_JA): absolute targets or kFilter/kEnosys
  };
  std::vector<Insn> out;
  const uint32_t x32Bit = 0x40000000;
  out.push_back({BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch), 0, 0});
  // One jeq per distinct AUDIT arch, patched with its section's index below.
  std::vector<uint32_t> audits;
  for (const ArchMax& a : archs)
    if (std::find(audits.begin(), audits.end(), a.audit) == audits.end()) audits.push_back(a.audit);
  const size_t table = out.size();
  for (uint32_t audit : audits) out.push_back({BPF_JMP | BPF_JEQ | BPF_K, audit, 0, 0});
  out.push_back({BPF_JMP | BPF_JA, kFilter, 0, 0});
  for (size_t i = 0; i < audits.size(); i++) {
    out[table + i].jt = static_cast<uint32_t>(out.size());
    out[table + i].jf = static_cast<uint32_t>(table + i + 1);
    const ArchMax* abi[2] = {nullptr, nullptr};
    for (const ArchMax& a : archs)
      if (a.audit == audits[i]) abi[a.x32] = &a;
    out.push_back({BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr), 0, 0});
    const bool x86_64 = audits[i] == AUDIT_ARCH_X86_64;
    if (!x86_64) {
      out.push_back({BPF_JMP | BPF_JGT | BPF_K, abi[0]->max, kEnosys, kFilter});
      continue;
    }
    // x86_64 and x32 share AUDIT_ARCH_X86_64; bit 30 of the number tells them apart. An ABI the profile does not
    // list goes straight to the filter (which refuses it as a bad architecture anyway).
    const uint32_t jset = static_cast<uint32_t>(out.size());
    out.push_back({BPF_JMP | BPF_JSET | BPF_K, x32Bit, 0, 0});
    out[jset].jf = static_cast<uint32_t>(out.size());
    if (abi[0] != nullptr) out.push_back({BPF_JMP | BPF_JGT | BPF_K, abi[0]->max, kEnosys, kFilter});
    else out.push_back({BPF_JMP | BPF_JA, kFilter, 0, 0});
    out[jset].jt = static_cast<uint32_t>(out.size());
    if (abi[1] != nullptr) out.push_back({BPF_JMP | BPF_JGT | BPF_K, abi[1]->max, kEnosys, kFilter});
    else out.push_back({BPF_JMP | BPF_JA, kFilter, 0, 0});
  }
  const uint32_t enosys = static_cast<uint32_t>(out.size());
  out.push_back({BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS, 0, 0});
  const uint32_t filter = static_cast<uint32_t>(out.size());
  std::vector<sock_filter> prog;
  for (size_t i = 0; i < out.size(); i++) {
    const Insn& in = out[i];
    auto rel = [&](uint32_t target) {
      const uint32_t t = target == kFilter ? filter : target == kEnosys ? enosys : target;
      return t - static_cast<uint32_t>(i) - 1;
    };
    if (in.code == (BPF_JMP | BPF_JA)) prog.push_back(BPF_STMT(in.code, rel(in.k)));
    else if (BPF_CLASS(in.code) == BPF_JMP) {
      // A handful of instructions: every relative jump fits in 8 bits.
      prog.push_back(BPF_JUMP(in.code, in.k, static_cast<uint8_t>(rel(in.jt)), static_cast<uint8_t>(rel(in.jf))));
    } else prog.push_back(BPF_STMT(in.code, in.k));
  }
  return prog;
}

// The AUDIT_ARCH_* of a libseccomp arch token: the same value, except x32 (a libseccomp-only token).
ArchMax archMaxOf(uint32_t token) {
  if (token == SCMP_ARCH_X32) return {AUDIT_ARCH_X86_64, 0, 1};
  return {token, 0, 0};
}

}  // namespace

Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Ctx c{env};
  if (info.Length() < 1 || !info[0].IsObject()) {
    Napi::TypeError::New(env, "compileSeccomp(profile): profile must be an object").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Object p = info[0].As<Napi::Object>();

  std::string defName;
  if (!getString(c, p, "defaultAction", "defaultAction", defName)) return env.Undefined();
  uint32_t defErrno = 0;
  if (!getErrno(c, p, "defaultErrnoRet", "defaultErrnoRet", EPERM, defErrno)) return env.Undefined();
  uint32_t defAction = 0;
  if (!parseAction(c, defName, defErrno, "defaultAction", defAction)) return env.Undefined();

  Guard g;
  g.ctx = seccomp_init(defAction);
  if (g.ctx == nullptr) {
    c.sys(EINVAL, "seccomp_init", "defaultAction");
    return env.Undefined();
  }
  // The filter is only exported here; the child installs it itself, after its own no_new_privs decision.
  seccomp_attr_set(g.ctx, SCMP_FLTATR_CTL_NNP, 0);

  std::vector<uint32_t> filtered;  // the profile's architectures the filter has (for the -ENOSYS stub)
  Napi::Value archV = p.Get("architectures");
  if (!archV.IsUndefined() && !archV.IsNull()) {
    if (!archV.IsArray()) {
      c.fail("architectures", "must be an array of SCMP_ARCH_* names");
      return env.Undefined();
    }
    Napi::Array archs = archV.As<Napi::Array>();
    for (uint32_t i = 0; i < archs.Length(); i++) {
      const std::string af = "architectures[" + std::to_string(i) + "]";
      Napi::Value av = archs.Get(i);
      if (!av.IsString()) {
        c.fail(af, "must be a string");
        return env.Undefined();
      }
      const std::string name = av.As<Napi::String>().Utf8Value();
      uint32_t arch = 0;
      if (!lookup(kArchs, name, arch)) {
        c.fail(af, "unknown architecture \"" + name + "\": use one of " + namesOf(kArchs));
        return env.Undefined();
      }
      int rc = seccomp_arch_add(g.ctx, arch);
      // EEXIST: the native arch is already in every new filter. EDOM: the other byte order (MIPS, PPC, S390X on
      // x86_64) cannot share one filter; no process of that arch can run on this host anyway, so it is skipped.
      if (rc < 0 && rc != -EEXIST && rc != -EDOM) {
        c.sys(-rc, "seccomp_arch_add(" + name + ")", af);
        return env.Undefined();
      }
      if (rc == 0 || rc == -EEXIST) filtered.push_back(arch);
    }
  }

  Napi::Value sysV = p.Get("syscalls");
  if (!sysV.IsUndefined() && !sysV.IsNull()) {
    if (!sysV.IsArray()) {
      c.fail("syscalls", "must be an array");
      return env.Undefined();
    }
    Napi::Array rules = sysV.As<Napi::Array>();
    for (uint32_t i = 0; i < rules.Length(); i++) {
      const std::string rf = "syscalls[" + std::to_string(i) + "]";
      Napi::Value rv = rules.Get(i);
      if (!rv.IsObject()) {
        c.fail(rf, "must be an object");
        return env.Undefined();
      }
      if (!addRule(c, g.ctx, rv.As<Napi::Object>(), rf, defAction)) return env.Undefined();
    }
  }

  // The highest syscall number the profile names, per architecture, over every rule (whatever its action).
  std::vector<ArchMax> maxima;
  if (sysV.IsArray()) {
    Napi::Array rules = sysV.As<Napi::Array>();
    for (uint32_t token : filtered) {
      ArchMax m = archMaxOf(token);
      for (uint32_t i = 0; i < rules.Length(); i++) {
        Napi::Value names = rules.Get(i).As<Napi::Object>().Get("names");
        for (uint32_t k = 0; names.IsArray() && k < names.As<Napi::Array>().Length(); k++) {
          const std::string name = names.As<Napi::Array>().Get(k).As<Napi::String>().Utf8Value();
          int nr = seccomp_syscall_resolve_name_arch(token, name.c_str());
          if (nr < 0) continue;  // not a syscall of this architecture (or a libseccomp pseudo-number)
          m.max = std::max(m.max, static_cast<uint32_t>(nr) | (m.x32 ? 0x40000000u : 0u));
        }
      }
      if (m.max != 0) maxima.push_back(m);
    }
  }
  // As runc: only a denying default gets the stub (ALLOW, LOG and TRACE let future syscalls through anyway).
  const bool permissive = defAction == SCMP_ACT_ALLOW || defAction == SCMP_ACT_LOG || (defAction & 0xffff0000u) == SCMP_ACT_TRACE(0);
  const std::vector<sock_filter> stub = permissive || maxima.empty() ? std::vector<sock_filter>{} : enosysStub(maxima);

  // libseccomp 2.5 exports only to an fd: a memfd keeps it in memory, with no size limit as a pipe would have.
  g.fd = static_cast<int>(syscall(SYS_memfd_create, "runts-seccomp", 1u /* MFD_CLOEXEC */));
  if (g.fd < 0) {
    c.sys(errno, "memfd_create", "export");
    return env.Undefined();
  }
  int rc = seccomp_export_bpf(g.ctx, g.fd);
  if (rc < 0) {
    c.sys(-rc, "seccomp_export_bpf", "export");
    return env.Undefined();
  }
  off_t size = lseek(g.fd, 0, SEEK_END);
  if (size < 0 || lseek(g.fd, 0, SEEK_SET) < 0) {
    c.sys(errno, "lseek", "export");
    return env.Undefined();
  }
  const size_t stubBytes = stub.size() * sizeof(sock_filter);
  std::vector<char> bytes(stubBytes + static_cast<size_t>(size));
  if (stubBytes > 0) memcpy(bytes.data(), stub.data(), stubBytes);
  size_t got = stubBytes;
  while (got < bytes.size()) {
    ssize_t r = read(g.fd, bytes.data() + got, bytes.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      c.sys(r < 0 ? errno : EIO, "read", "export");
      return env.Undefined();
    }
    got += static_cast<size_t>(r);
  }
  return Napi::Buffer<char>::Copy(env, bytes.data(), bytes.size());
}

}  // namespace runts
