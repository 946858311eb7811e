// runts_native: the Node side of the addon (normal C++; nothing here runs after a clone but execInit). spawn()
// validates a plan and hands it to runts-init (init-main.cc, child.cc), which runs it in the container's
// processes; the rest are thin syscall wrappers that Node lacks (pidfds, waitpid, SCM_RIGHTS, prctl).
//
// Plan wire format and the child protocol: see plan-format.h (and src/native/plan.ts).
//
// Errors: a JS Error with .code (errno name), .errno (positive Linux errno), .syscall, .path and
// .description (strerror). spawn() failures also carry .operation (the op name, e.g. 'mount') and
// .opIndex; a malformed plan throws with .code 'ERR_RUNTS_BAD_PLAN'.
#include <napi.h>

#include "send-fd.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include "plan-parse.h"
#include "seccomp.h"
#include "../front/front-wire.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace runts {
namespace {

std::string errnoCode(int err) {
  const char* name = errnoName(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

Napi::Error sysError(Napi::Env env, int err, const std::string& syscall, const std::string& path = "") {
  const std::string code = errnoCode(err);
  const std::string desc = strerror(err);
  Napi::Error e =
      Napi::Error::New(env, syscall + (path.empty() ? "" : " " + path) + ": " + code + " (" + desc + ")");
  e.Set("code", code);
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", syscall);
  e.Set("description", desc);
  if (!path.empty()) e.Set("path", path);
  return e;
}

Napi::Value throwSys(Napi::Env env, int err, const std::string& syscall, const std::string& path = "") {
  sysError(env, err, syscall, path).ThrowAsJavaScriptException();
  return env.Undefined();
}

// Argument helpers: a TypeError (and false) instead of a crash on a bad call from JS.
bool argInt(const Napi::CallbackInfo& info, size_t i, int64_t& out) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a number")
        .ThrowAsJavaScriptException();
    return false;
  }
  out = info[i].As<Napi::Number>().Int64Value();
  return true;
}

bool argStr(const Napi::CallbackInfo& info, size_t i, std::string& out) {
  if (i >= info.Length() || !info[i].IsString()) {
    Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + " must be a string")
        .ThrowAsJavaScriptException();
    return false;
  }
  out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

int64_t nowMs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// poll() one fd, restarting after EINTR with the remaining time. timeoutMs < 0 waits forever.
// Returns 1 (ready), 0 (timed out) or -errno.
int pollFor(int fd, short events, int64_t timeoutMs) {
  const int64_t deadline = timeoutMs < 0 ? -1 : nowMs() + timeoutMs;
  for (;;) {
    int wait = -1;
    if (deadline >= 0) {
      int64_t left = deadline - nowMs();
      wait = left < 0 ? 0 : static_cast<int>(left > INT32_MAX ? INT32_MAX : left);
    }
    struct pollfd p = {fd, events, 0};
    int r = poll(&p, 1, wait);
    if (r > 0) return 1;
    if (r == 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

pid_t waitRetry(pid_t pid, int* status, int flags) {
  pid_t r;
  do r = waitpid(pid, status, flags);
  while (r < 0 && errno == EINTR);
  return r;
}

// ---- spawn ---------------------------------------------------------------------------------------

struct SpawnFailure {
  std::string operation;
  int err = 0;
  std::string path;
  int opIndex = -1;
  std::string message;  // overrides the errno-based message when set
};

// Runs `helper pid <the map's numbers...>` (newuidmap/newgidmap, setuid root: without root only they may map the
// user's subordinate ids) and waits for it. Its own message, if any, goes to our stderr.
int runIdMapper(const std::string& helper, pid_t pid, const std::string& map) {
  std::vector<std::string> args = {helper, std::to_string(pid)};
  size_t at = 0;
  while (at < map.size()) {
    const size_t start = map.find_first_not_of(" \t\n", at);
    if (start == std::string::npos) break;
    at = map.find_first_of(" \t\n", start);
    args.push_back(map.substr(start, at == std::string::npos ? std::string::npos : at - start));
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  char* envp[] = {nullptr};
  pid_t child;
  const int err = posix_spawn(&child, helper.c_str(), nullptr, nullptr, argv.data(), envp);
  if (err != 0) return err;
  int status = 0;
  if (waitRetry(child, &status, 0) < 0) return errno;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EPERM;
}

// Writes setgroups/uid_map/gid_map of `pid` (each file takes exactly one write()), or has the plan's mapper write
// a map.
int writeIdMaps(const Plan& plan, pid_t pid, std::string& failPath) {
  const std::pair<const char*, const std::string*> files[] = {
      {"setgroups", &plan.setgroups}, {"uid_map", &plan.uidMap}, {"gid_map", &plan.gidMap}};
  for (const auto& [name, content] : files) {
    if (content->empty()) continue;
    const std::string& mapper = content == &plan.uidMap ? plan.uidMapper : content == &plan.gidMap ? plan.gidMapper : std::string();
    if (!mapper.empty()) {
      const int err = runIdMapper(mapper, pid, *content);
      if (err != 0) {
        failPath = mapper;
        return err;
      }
      continue;
    }
    const std::string path = "/proc/" + std::to_string(pid) + "/" + name;
    int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
    int err = 0;
    if (fd < 0) {
      err = errno;
    } else {
      ssize_t w = write(fd, content->data(), content->size());
      if (w < 0) err = errno;
      else if (static_cast<size_t>(w) != content->size()) err = EIO;
      close(fd);
    }
    if (err != 0) {
      failPath = path;
      return err;
    }
  }
  return 0;
}

std::string describeStatus(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

Napi::Error spawnError(Napi::Env env, const SpawnFailure& f) {
  const std::string code = f.err != 0 ? errnoCode(f.err) : "ECHILD";
  const std::string desc = f.err != 0 ? strerror(f.err) : "";
  std::string msg = f.message;
  if (msg.empty()) msg = f.operation + (f.path.empty() ? "" : " " + f.path) + ": " + code + " (" + desc + ")";
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("operation", f.operation);
  e.Set("code", code);
  e.Set("errno", Napi::Number::New(env, f.err));
  e.Set("description", desc);
  e.Set("path", f.path);
  e.Set("opIndex", Napi::Number::New(env, f.opIndex));
  return e;
}

// runts-init (init-main.cc): built beside this addon (build/Release), opened once per process.
struct InitBinary {
  std::string path;
  int fd = -1;
  int err = 0;
};

const InitBinary& initBinary() {
  static const InitBinary bin = [] {
    InitBinary b;
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&initBinary), &info) == 0 || info.dli_fname == nullptr) {
      b.path = "runts-init";
      b.err = ENOENT;
      return b;
    }
    const std::string self = info.dli_fname;
    b.path = self.substr(0, self.rfind('/') + 1) + "runts-init";
    b.fd = open(b.path.c_str(), O_PATH | O_CLOEXEC);
    if (b.fd < 0) b.err = errno;
    return b;
  }();
  return bin;
}

// close_range(first, last); kernels before 5.9 lack it: close one by one (async-signal-safe either way).
void closeRange(unsigned first, unsigned last) {
  if (syscall(SYS_close_range, first, last, 0) == 0) return;
  for (unsigned fd = first; fd <= last && fd < 4096; fd++) close(static_cast<int>(fd));
}

// What the CLONE_VM child needs for its exec; everything is prepared before the clone.
struct InitExec {
  int binFd, sock, planFd, gateFd;
  int keepFdsBelow;  // Plan::keepFdsBelow
  char** argv;
  const char* path;
};

constexpr size_t kInitExecStack = 64 * 1024;

// The CLONE_VM | CLONE_VFORK child: it shares Node's memory and runs while the cloning thread waits, so only
// syscalls on its own stack until the exec. Node marks its own stdio FD_CLOEXEC; the container must inherit the
// runtime's stdio (containerd hands its fifos over as 0, 1, 2), so the flag is cleared in our copy of the fd
// table, as it is on the descriptors runts-init is given (socket, plan, gate). On failure, one MSG_ERROR with
// opIndex -1.
int execInit(void* arg) {
  const InitExec& x = *static_cast<const InitExec*>(arg);
  for (int fd : {0, 1, 2, x.sock, x.planFd, x.gateFd}) {
    if (fd >= 0) fcntl(fd, F_SETFD, 0);
  }
  // Node marks every descriptor it inherited above stdio FD_CLOEXEC when it starts: the ones the plan keeps for the
  // container (--preserve-fds: 3 up to keepFdsBelow) must survive the exec, as runc passes them on.
  for (int fd = 3; fd < x.keepFdsBelow; fd++) {
    if (fd != x.binFd) fcntl(fd, F_SETFD, 0);
  }
  // Whatever else Node holds without FD_CLOEXEC (the store's database file, libraries' descriptors) must not
  // reach runts-init, and so the init and the gofer: close everything above the plan's own fds but ours (the
  // binary too, until the exec closes it).
  int keep[4] = {x.sock, x.planFd, x.gateFd, x.binFd};
  std::sort(keep, keep + 4);
  unsigned from = static_cast<unsigned>(x.keepFdsBelow);
  for (int k : keep) {
    if (k < 0 || static_cast<unsigned>(k) < from) continue;
    if (static_cast<unsigned>(k) > from) closeRange(from, static_cast<unsigned>(k) - 1);
    from = static_cast<unsigned>(k) + 1;
  }
  closeRange(from, ~0U);
  char* envp[] = {nullptr};
  syscall(SYS_execveat, x.binFd, "", x.argv, envp, AT_EMPTY_PATH);
  sendStage1Error(x.sock, errno, x.path);
  _exit(127);
}

// What one spawn ended with. Filled off the JS thread: no JS values here.
struct SpawnOutcome {
  bool failed = false;
  SpawnFailure failure;
  pid_t initPid = 0, goferPid = 0;
  long pidfd = -1;
  int seccompFd = -1;  // the listener of a filter with SCMP_ACT_NOTIFY rules (MSG_SECCOMP_FD), ours to pass on
};

// Records the first failure of a spawn; later ones (the init's own error after a relay failure, ...) are
// consequences and keep quiet.
void setFailure(SpawnOutcome& out, const std::string& operation, int err, const std::string& path = "",
                int opIndex = -1) {
  if (out.failed) return;
  out.failed = true;
  out.failure.operation = operation;
  out.failure.err = err;
  out.failure.path = path;
  out.failure.opIndex = opIndex;
}

// The descriptors of one spawn before runts-init runs: the socketpair (ours, runts-init's) and the plan's memfd.
struct SpawnFds {
  int sock = -1, childSock = -1, planFd = -1;
};

// Stage: prepare. The socketpair, runts-init's binary and the plan in a memfd runts-init reads. On failure records
// it, closes what it opened and returns false.
bool prepareSpawn(const std::vector<uint8_t>& bytes, SpawnFds& fds, SpawnOutcome& out) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
    setFailure(out, "socketpair", errno);
    return false;
  }
  const InitBinary& bin = initBinary();
  if (bin.fd < 0) {
    close(sv[0]);
    close(sv[1]);
    setFailure(out, "runts-init", bin.err, bin.path);
    out.failure.message = "runts-init " + bin.path + ": " + errnoCode(bin.err) + " (" + strerror(bin.err) +
                          "); it is built beside the addon: run npm run build:native";
    return false;
  }
  int planFd = static_cast<int>(syscall(SYS_memfd_create, "runts-plan", MFD_CLOEXEC));
  int planErr = planFd < 0 ? errno : 0;
  for (size_t at = 0; planErr == 0 && at < bytes.size();) {
    ssize_t w = write(planFd, bytes.data() + at, bytes.size() - at);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) planErr = errno;
    else at += static_cast<size_t>(w);
  }
  if (planErr != 0) {
    if (planFd >= 0) close(planFd);
    close(sv[0]);
    close(sv[1]);
    setFailure(out, "memfd_create", planErr);
    return false;
  }
  fds = {sv[0], sv[1], planFd};
  return true;
}

// Stage: clone. Starts runts-init with the plan; returns its pid (stage 1), or -1 with the failure recorded. Closes
// the plan's memfd and runts-init's end of the socketpair either way: our copies must go, or EOF (every child gone)
// would never arrive. On failure our end is closed too.
pid_t startInit(const Plan& plan, SpawnFds& fds, int gateFd, SpawnOutcome& out) {
  const InitBinary& bin = initBinary();
  // Stage 1 is runts-init, started posix_spawn's way: CLONE_VM | CLONE_VFORK, its own stack, then execveat — we
  // wait here the few microseconds until it has exec'd. A plain clone of Node copied Node's page tables (megabytes),
  // the init forked from that copy copied them again, and Node's pages stayed copy-on-write while
  // the init waited for `start`.
  // Block every signal (raw syscall: glibc would keep its internal 32/33 unblocked) so no Node handler runs in the
  // child before the exec; runts-init resets dispositions and the mask. fork() is avoided: it runs pthread_atfork
  // handlers.
  std::string sockArg = std::to_string(fds.childSock), planArg = std::to_string(fds.planFd),
              gateArg = std::to_string(gateFd);
  char name[] = "runts-init";
  char* argv[] = {name, sockArg.data(), planArg.data(), gateFd >= 0 ? gateArg.data() : nullptr, nullptr};
  InitExec exec = {bin.fd, fds.childSock, fds.planFd, gateFd, plan.keepFdsBelow, argv, bin.path.c_str()};
  std::unique_ptr<char[]> stack(new char[kInitExecStack]);
  uint64_t all = ~0ULL, old = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(uint64_t));
  const int stage1 = clone(execInit, stack.get() + kInitExecStack, CLONE_VM | CLONE_VFORK | SIGCHLD, &exec);
  const int cloneErr = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, sizeof(uint64_t));
  close(fds.planFd);
  close(fds.childSock);
  fds.planFd = fds.childSock = -1;
  if (stage1 < 0) {
    close(fds.sock);
    fds.sock = -1;
    setFailure(out, "clone", cloneErr);
    return -1;
  }
  return static_cast<pid_t>(stage1);
}

// One message from runts-init into `m`: its size, 0 at EOF, -1 with errno set. A descriptor it carries is kept
// (in out.seccompFd) only on the first whole MSG_SECCOMP_FD; any other is closed.
ssize_t recvSpawnMsg(int sock, Msg& m, SpawnOutcome& out) {
  // Not a plain recv: MSG_SECCOMP_FD carries a descriptor (SCM_RIGHTS).
  int passed;
  ssize_t n = recvWithFd(sock, &m, sizeof m, &passed);
  if (passed >= 0 && (n != static_cast<ssize_t>(sizeof m) || m.type != MSG_SECCOMP_FD || out.seccompFd >= 0)) {
    close(passed);
    passed = -1;
  }
  if (passed >= 0) out.seccompFd = passed;
  return n;
}

// Acts on one whole message: records pids, readiness and failures, and answers NEED_IDMAP.
void handleSpawnMsg(const Msg& m, const Plan& plan, int sock, pid_t stage1, SpawnOutcome& out, bool& ready) {
  switch (m.type) {
    case MSG_PID:
      out.initPid = m.pid;
      break;
    case MSG_NEED_IDMAP: {
      // The requester is stage-1 until the init exists; its own getpid() may be namespaced.
      const pid_t target = out.initPid != 0 ? out.initPid : stage1;
      std::string failPath;
      const int err = writeIdMaps(plan, target, failPath);
      const char go = err == 0 ? 1 : 0;
      send(sock, &go, 1, MSG_NOSIGNAL);
      if (err != 0) setFailure(out, "usernsSync", err, failPath, m.opIndex);
      break;
    }
    case MSG_READY:
      ready = true;
      break;
    case MSG_GOFER_PID:
      out.goferPid = m.pid;
      break;
    case MSG_GOFER_ERROR:
      setFailure(out, "gofer", m.err, m.path, m.opIndex);
      break;
    case MSG_ERROR:
      if (m.opIndex < 0) {
        // runts-init itself: its exec failed, or it could not read the plan (see init-main.cc).
        setFailure(out, "runts-init", m.err, m.path);
      } else {
        const bool known = m.opCode > 0 && m.opCode < static_cast<int32_t>(OP_COUNT_PLUS_ONE);
        setFailure(out, known ? kOpSpecs[m.opCode].name : "spawn", m.err, m.path, m.opIndex);
      }
      break;
    default:
      break;
  }
}

// Stage: relay. Reads runts-init's messages until the init is READY (with its pid known), or EOF: after FORK,
// stage-1's PID message and the init's messages race, so after an error we read on until EOF, so the init's pid is
// known and it can be reaped. Closes `sock`; returns whether the init said READY.
bool relaySpawn(int sock, const Plan& plan, pid_t stage1, SpawnOutcome& out) {
  bool ready = false;
  Msg m;
  for (;;) {
    if (ready && out.initPid != 0 && !out.failed) break;
    ssize_t n = recvSpawnMsg(sock, m, out);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) break;
    if (n < 0) {
      setFailure(out, "spawn", errno);
      break;
    }
    if (static_cast<size_t>(n) != sizeof m) continue;
    m.path[sizeof m.path - 1] = '\0';
    handleSpawnMsg(m, plan, sock, stage1, out, ready);
  }
  close(sock);
  return ready;
}

// Stage: settle a failure. Nothing may survive a failed spawn: kills and reaps the init, the gofer and stage 1,
// drops the seccomp listener, and names the failure when no message did.
void settleFailedSpawn(const Plan& plan, pid_t stage1, SpawnOutcome& out) {
  if (out.seccompFd >= 0) {
    close(out.seccompFd);
    out.seccompFd = -1;
  }
  // Both pids are still our unreaped children (the init through CLONE_PARENT), so they cannot have been recycled:
  // SIGKILL is safe even if they already exited.
  int status = 0;
  const bool hasInit = out.initPid != 0 && out.initPid != stage1;
  if (hasInit) {
    kill(out.initPid, SIGKILL);
    waitRetry(out.initPid, &status, 0);
  }
  // The gofer is our child too (CLONE_PARENT), unreaped: same reasoning.
  int goferStatus = 0;
  if (out.goferPid > 0) {
    kill(out.goferPid, SIGKILL);
    waitRetry(out.goferPid, &goferStatus, 0);
  }
  SpawnFailure& f = out.failure;
  if (out.failed && f.operation == "gofer" && f.err == 0) {
    f.message = "the gofer exited before it started serving (" + describeStatus(goferStatus) + ")";
  }
  int stage1Status = 0;
  kill(stage1, SIGKILL);
  waitRetry(stage1, &stage1Status, 0);
  if (!out.failed) {
    setFailure(out, "spawn", 0);
    // Once a seccomp filter is in, its own errors may be unreportable (sendmsg denied): name the likely cause.
    const bool filtered = std::any_of(plan.ops.begin(), plan.ops.end(), [](const Op& op) { return op.code == OP_SECCOMP; });
    f.message = "container init exited before it was ready (" + describeStatus(hasInit ? status : stage1Status) +
                (filtered ? "); the seccomp profile may deny a syscall needed before the program runs (e.g. sendmsg, "
                            "read, execve): allow it in linux.seccomp"
                          : "); does the plan contain a ready op?");
  }
}

// Stage: reap after success. Stage 1 exited at FORK (it is ours to reap); without FORK it is the init itself.
void finishSpawn(const Plan& plan, pid_t stage1, SpawnOutcome& out) {
  if (plan.hasFork) {
    int status;
    waitRetry(stage1, &status, 0);
  }
  out.pidfd = syscall(SYS_pidfd_open, out.initPid, 0);
}

// The body of spawn(), run on a spawn thread (SpawnThreads): starts runts-init with the plan and relays its
// messages until the init is READY or everything it started is gone again. `gateFd` (or -1) is the read end of the
// caller's gate pipe; it is ours to close (runts-init has its own copy once it runs).
void runSpawn(const Plan& plan, const std::vector<uint8_t>& bytes, int gateFd, SpawnOutcome& out) {
  SpawnFds fds;
  const pid_t stage1 = prepareSpawn(bytes, fds, out) ? startInit(plan, fds, gateFd, out) : -1;
  if (gateFd >= 0) close(gateFd);
  if (stage1 < 0) return;
  const bool ready = relaySpawn(fds.sock, plan, stage1, out);
  if (out.failed || !ready || out.initPid == 0) return settleFailedSpawn(plan, stage1, out);
  finishSpawn(plan, stage1, out);
}

// ---- async plumbing ------------------------------------------------------------------------------

// An AsyncWorker settling a promise: Execute() runs on the libuv pool and records err_/syscall_ or a
// result; the promise settles on the JS thread.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  int err_ = 0;
  std::string syscall_;
  std::string path_;
  virtual Napi::Value Result(Napi::Env env) = 0;

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (err_ != 0) deferred_.Reject(sysError(env, err_, syscall_, path_).Value());
    else deferred_.Resolve(Result(env));
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
};

// ---- spawn (the promise) --------------------------------------------------------------------------

// One spawn in flight. It runs on a spawn thread (SpawnThreads), not on the libuv pool: a foreground `run` or an
// exec's `wait()` holds a pool thread until its process exits (waitPidAsync), and four of those must not stall every
// create.
struct SpawnTask {
  Plan plan;  // parsed from bytes before the task is queued
  std::vector<uint8_t> bytes;
  int gateFd;
  SpawnOutcome out;
  Napi::Promise::Deferred deferred;
  Napi::ThreadSafeFunction done;
};

void settleSpawn(Napi::Env env, Napi::Function, SpawnTask* t);

// The threads that run spawns. They never exit: the init is the child of the thread that started runts-init
// (CLONE_PARENT passes that thread on), and PR_SET_PDEATHSIG — an attached `run` — fires when that *thread* ends,
// not the process. A thread is added whenever every one is busy, so concurrent creates never wait for each other.
class SpawnThreads {
 public:
  static void submit(SpawnTask* task) {
    static SpawnThreads* pool = new SpawnThreads();  // never destroyed: its threads outlive every static
    std::unique_lock<std::mutex> lock(pool->mutex_);
    pool->queue_.push_back(task);
    if (pool->idle_ == 0) {
      std::thread([] { pool->work(); }).detach();
    } else {
      pool->wake_.notify_one();
    }
  }

 private:
  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      idle_++;
      wake_.wait(lock, [this] { return !queue_.empty(); });
      idle_--;
      SpawnTask* t = queue_.front();
      queue_.pop_front();
      lock.unlock();
      runSpawn(t->plan, t->bytes, t->gateFd, t->out);
      Napi::ThreadSafeFunction done = t->done;  // t is freed by settleSpawn, possibly before Release below
      if (done.BlockingCall(t, settleSpawn) != napi_ok) delete t;
      done.Release();
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<SpawnTask*> queue_;
  int idle_ = 0;
};

// On the JS thread, once runSpawn has finished: settles the promise and frees the task.
void settleSpawn(Napi::Env env, Napi::Function, SpawnTask* t) {
  std::unique_ptr<SpawnTask> task(t);
  if (env == nullptr) return;  // the environment is going away: nobody to tell
  Napi::HandleScope scope(env);
  if (task->out.failed) {
    task->deferred.Reject(spawnError(env, task->out.failure).Value());
    return;
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, task->out.initPid));
  result.Set("pidfd", static_cast<double>(task->out.pidfd < 0 ? -1 : task->out.pidfd));
  result.Set("goferPid", Napi::Number::New(env, task->out.goferPid));
  result.Set("seccompFd", Napi::Number::New(env, task->out.seccompFd));
  task->deferred.Resolve(result);
}

// spawn(plan: Buffer, gateFd = -1): Promise<{ pid, pidfd, goferPid }>, settled once the init has sent READY
// (or everything it started is gone again); the work runs on a spawn thread (see SpawnThreads), so the caller's
// thread is free meanwhile. gateFd, the read end of a pipe the plan's gate op reads, is handed over: spawn closes
// it. goferPid is 0 when the plan starts no gofer. A malformed plan throws at once.
Napi::Value Spawn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "spawn(plan) needs a Buffer").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int64_t gate = -1;
  if (info.Length() > 1 && !info[1].IsUndefined() && !argInt(info, 1, gate)) return env.Undefined();
  auto buf = info[0].As<Napi::Buffer<uint8_t>>();
  auto task = std::unique_ptr<SpawnTask>(new SpawnTask{
      Plan(), std::vector<uint8_t>(buf.Data(), buf.Data() + buf.Length()), static_cast<int>(gate), SpawnOutcome(),
      Napi::Promise::Deferred::New(env), Napi::ThreadSafeFunction()});
  std::string error;
  if (!parsePlan(task->bytes.data(), task->bytes.size(), task->plan, error)) {
    if (gate >= 0) close(static_cast<int>(gate));
    Napi::Error e = Napi::Error::New(env, error);
    e.Set("code", "ERR_RUNTS_BAD_PLAN");
    e.ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Promise promise = task->deferred.Promise();
  task->done = Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "runts spawn", 0, 1);
  SpawnThreads::submit(task.release());
  return promise;
}

// pipe(): [readFd, writeFd], both close-on-exec.
Napi::Value Pipe(const Napi::CallbackInfo& info) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) return throwSys(info.Env(), errno, "pipe2");
  Napi::Array a = Napi::Array::New(info.Env(), 2);
  a.Set(0u, Napi::Number::New(info.Env(), fds[0]));
  a.Set(1u, Napi::Number::New(info.Env(), fds[1]));
  return a;
}

// ---- pidfd ----------------------------------------------------------------------------------------

Napi::Value PidfdOpen(const Napi::CallbackInfo& info) {
  int64_t pid;
  if (!argInt(info, 0, pid)) return info.Env().Undefined();
  long fd = syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
  if (fd < 0) return throwSys(info.Env(), errno, "pidfd_open");
  return Napi::Number::New(info.Env(), static_cast<double>(fd));
}

Napi::Value PidfdSendSignal(const Napi::CallbackInfo& info) {
  int64_t fd, sig;
  if (!argInt(info, 0, fd) || !argInt(info, 1, sig)) return info.Env().Undefined();
  if (syscall(SYS_pidfd_send_signal, static_cast<int>(fd), static_cast<int>(sig), nullptr, 0) < 0)
    return throwSys(info.Env(), errno, "pidfd_send_signal");
  return info.Env().Undefined();
}

// A pidfd polls readable once the process has exited (zombie or reaped).
Napi::Value PidfdWait(const Napi::CallbackInfo& info) {
  int64_t fd, timeout;
  if (!argInt(info, 0, fd) || !argInt(info, 1, timeout)) return info.Env().Undefined();
  int r = pollFor(static_cast<int>(fd), POLLIN, timeout);
  if (r < 0) return throwSys(info.Env(), -r, "poll");
  return Napi::Boolean::New(info.Env(), r == 1);
}

class PidfdWaitWorker : public PromiseWorker {
 public:
  PidfdWaitWorker(Napi::Env env, int fd, int64_t timeout) : PromiseWorker(env), fd_(fd), timeout_(timeout) {}
  void Execute() override {
    int r = pollFor(fd_, POLLIN, timeout_);
    if (r < 0) {
      err_ = -r;
      syscall_ = "poll";
    }
    exited_ = r == 1;
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Boolean::New(env, exited_); }

 private:
  int fd_;
  int64_t timeout_;
  bool exited_ = false;
};

Napi::Value PidfdWaitAsync(const Napi::CallbackInfo& info) {
  int64_t fd, timeout;
  if (!argInt(info, 0, fd) || !argInt(info, 1, timeout)) return info.Env().Undefined();
  auto* w = new PidfdWaitWorker(info.Env(), static_cast<int>(fd), timeout);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// ---- waitpid --------------------------------------------------------------------------------------

Napi::Object statusObject(Napi::Env env, pid_t pid, int status) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("pid", Napi::Number::New(env, pid));
  const bool reaped = pid > 0;
  o.Set("exitCode", reaped && WIFEXITED(status) ? Napi::Value(Napi::Number::New(env, WEXITSTATUS(status)))
                                                : env.Null());
  o.Set("signal", reaped && WIFSIGNALED(status) ? Napi::Value(Napi::Number::New(env, WTERMSIG(status)))
                                                : env.Null());
  return o;
}

Napi::Value WaitPid(const Napi::CallbackInfo& info) {
  int64_t pid, flags = 0;
  if (!argInt(info, 0, pid)) return info.Env().Undefined();
  if (info.Length() > 1 && !argInt(info, 1, flags)) return info.Env().Undefined();
  int status = 0;
  pid_t r = waitRetry(static_cast<pid_t>(pid), &status, static_cast<int>(flags));
  if (r < 0) return throwSys(info.Env(), errno, "waitpid");
  return statusObject(info.Env(), r, status);
}

class WaitPidWorker : public PromiseWorker {
 public:
  WaitPidWorker(Napi::Env env, pid_t pid) : PromiseWorker(env), pid_(pid) {}
  void Execute() override {
    reaped_ = waitRetry(pid_, &status_, 0);
    if (reaped_ < 0) {
      err_ = errno;
      syscall_ = "waitpid";
    }
  }
  Napi::Value Result(Napi::Env env) override { return statusObject(env, reaped_, status_); }

 private:
  pid_t pid_;
  pid_t reaped_ = 0;
  int status_ = 0;
};

Napi::Value WaitPidAsync(const Napi::CallbackInfo& info) {
  int64_t pid;
  if (!argInt(info, 0, pid)) return info.Env().Undefined();
  auto* w = new WaitPidWorker(info.Env(), static_cast<pid_t>(pid));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

// ---- fds and sockets ------------------------------------------------------------------------------

Napi::Value Mkfifo(const Napi::CallbackInfo& info) {
  std::string path;
  int64_t mode;
  if (!argStr(info, 0, path) || !argInt(info, 1, mode)) return info.Env().Undefined();
  if (mkfifo(path.c_str(), static_cast<mode_t>(mode)) < 0) return throwSys(info.Env(), errno, "mkfifo", path);
  return info.Env().Undefined();
}

// Creates a listening unix socket at path (replacing a stale one). Returns fd or -errno.
int listenUnix(const std::string& path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return -ENAMETOOLONG;
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  unlink(path.c_str());
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, 1) < 0) {
    int err = errno;
    close(fd);
    return -err;
  }
  return fd;
}

// Accepts one connection on `lfd` and receives one SCM_RIGHTS fd. Returns the fd, or -errno with
// `syscall` naming the step that failed.
int acceptRecvFd(int lfd, int64_t timeoutMs, std::string& syscall) {
  const int64_t deadline = timeoutMs < 0 ? -1 : nowMs() + timeoutMs;
  auto left = [&]() -> int64_t { return deadline < 0 ? -1 : std::max<int64_t>(0, deadline - nowMs()); };
  syscall = "accept";
  int r = pollFor(lfd, POLLIN, left());
  if (r <= 0) return r == 0 ? -ETIMEDOUT : r;
  int conn;
  do conn = accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  while (conn < 0 && errno == EINTR);
  if (conn < 0) return -errno;
  syscall = "recvmsg";
  int result = -EBADMSG;
  r = pollFor(conn, POLLIN, left());
  if (r <= 0) {
    result = r == 0 ? -ETIMEDOUT : r;
  } else {
    char payload[4096];
    int fd;
    if (recvWithFd(conn, payload, sizeof payload, &fd) < 0) result = -errno;
    else if (fd >= 0) result = fd;  // only one was asked for: recvWithFd closed any other
  }
  close(conn);
  return result;
}

Napi::Value RecvFd(const Napi::CallbackInfo& info) {
  std::string path;
  int64_t timeout;
  if (!argStr(info, 0, path) || !argInt(info, 1, timeout)) return info.Env().Undefined();
  int lfd = listenUnix(path);
  if (lfd < 0) return throwSys(info.Env(), -lfd, "bind", path);
  std::string syscall;
  int fd = acceptRecvFd(lfd, timeout, syscall);
  close(lfd);
  unlink(path.c_str());
  if (fd < 0) return throwSys(info.Env(), -fd, syscall, path);
  return Napi::Number::New(info.Env(), fd);
}

class RecvFdWorker : public PromiseWorker {
 public:
  RecvFdWorker(Napi::Env env, int lfd, std::string path, int64_t timeout)
      : PromiseWorker(env), lfd_(lfd), timeout_(timeout) {
    path_ = std::move(path);
  }
  void Execute() override {
    fd_ = acceptRecvFd(lfd_, timeout_, syscall_);
    close(lfd_);
    unlink(path_.c_str());
    if (fd_ < 0) err_ = -fd_;
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, fd_); }

 private:
  int lfd_;
  int64_t timeout_;
  int fd_ = -1;
};

// The socket listens before this returns, so a spawn() started right after can connect to it.
Napi::Value RecvFdAsync(const Napi::CallbackInfo& info) {
  std::string path;
  int64_t timeout;
  if (!argStr(info, 0, path) || !argInt(info, 1, timeout)) return info.Env().Undefined();
  int lfd = listenUnix(path);
  if (lfd < 0) return throwSys(info.Env(), -lfd, "bind", path);
  auto* w = new RecvFdWorker(info.Env(), lfd, path, timeout);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value SendFd(const Napi::CallbackInfo& info) {
  int64_t sock, fd;
  if (!argInt(info, 0, sock) || !argInt(info, 1, fd)) return info.Env().Undefined();
  char payload[] = "fd";
  const int err = runts::sendFdWithPayload(static_cast<int>(sock), static_cast<int>(fd), payload, 2);
  if (err != 0) return throwSys(info.Env(), err, "sendmsg");
  return info.Env().Undefined();
}

// sendFdTo(socketPath, fd, payload): connects to a unix stream socket and sends `payload` with `fd` (SCM_RIGHTS) in
// one message, then closes the connection: how runc hands a seccomp agent its listener (the agent reads the
// ContainerProcessState JSON and the fd together).
Napi::Value SendFdTo(const Napi::CallbackInfo& info) {
  std::string path, payload;
  int64_t fd;
  if (!argStr(info, 0, path) || !argInt(info, 1, fd) || !argStr(info, 2, payload)) return info.Env().Undefined();
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) return throwSys(info.Env(), ENAMETOOLONG, "connect", path);
  memcpy(addr.sun_path, path.data(), path.size());
  const int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) return throwSys(info.Env(), errno, "socket", path);
  int r;
  do r = connect(sock, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    const int err = errno;
    close(sock);
    return throwSys(info.Env(), err, "connect", path);
  }
  const int err = runts::sendFdWithPayload(sock, static_cast<int>(fd), payload.data(), payload.size());
  close(sock);
  if (err != 0) return throwSys(info.Env(), err, "sendmsg", path);
  return info.Env().Undefined();
}

Napi::Value SetChildSubreaper(const Napi::CallbackInfo& info) {
  bool on = info.Length() > 0 && info[0].ToBoolean().Value();
  if (prctl(PR_SET_CHILD_SUBREAPER, on ? 1 : 0, 0, 0, 0) < 0) return throwSys(info.Env(), errno, "prctl");
  return info.Env().Undefined();
}

Napi::Value SetDumpable(const Napi::CallbackInfo& info) {
  bool on = info.Length() > 0 && info[0].ToBoolean().Value();
  if (prctl(PR_SET_DUMPABLE, on ? 1 : 0, 0, 0, 0) < 0) return throwSys(info.Env(), errno, "prctl");
  return info.Env().Undefined();
}


// ---- the front's requests (src/front/front-wire.h) ------------------------------------------------------------

// frontReceive(fd, timeoutMs): the peer's credentials (SO_PEERCRED) and, only when its uid is ours, its request:
// the header, the body and the fds that came with it. Runs on the pool: a peer that connected but sends slowly
// holds a pool thread, never the host's event loop, and at most `timeoutMs`.
class FrontReceiveWorker : public PromiseWorker {
 public:
  FrontReceiveWorker(Napi::Env env, int fd, int64_t timeout) : PromiseWorker(env), fd_(fd), timeout_(timeout) {}
  ~FrontReceiveWorker() override {
    for (int f : fds_) close(f);  // not handed over (an error): do not leak them
  }

  void Execute() override {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) return fail(errno, "getsockopt");
    uid_ = cred.uid;
    pid_ = cred.pid;
    if (cred.uid != geteuid()) return;  // refused by the caller: read nothing from a stranger
    front_header h;
    if (!readAll(&h, sizeof h)) return;
    if (h.magic != RUNTS_FRONT_MAGIC) return fail(EPROTO, "front request");
    version_ = h.version;
    if (h.version != RUNTS_FRONT_VERSION) return;  // "restart": the body's layout may differ
    if (h.length > RUNTS_FRONT_MAX_BODY) return fail(EMSGSIZE, "front request");
    body_.resize(h.length);
    if (h.length > 0 && !readAll(body_.data(), h.length)) return;
    if (fds_.size() != RUNTS_FRONT_FDS) return fail(EPROTO, "front request fds");
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("uid", Napi::Number::New(env, uid_));
    o.Set("pid", Napi::Number::New(env, pid_));
    o.Set("version", Napi::Number::New(env, version_));
    o.Set("body", Napi::Buffer<char>::Copy(env, body_.data(), body_.size()));
    Napi::Array fds = Napi::Array::New(env, fds_.size());
    for (size_t i = 0; i < fds_.size(); i++) fds.Set(static_cast<uint32_t>(i), Napi::Number::New(env, fds_[i]));
    fds_.clear();  // the caller owns them now
    o.Set("fds", fds);
    return o;
  }

 private:
  void fail(int err, const char* what) {
    err_ = err;
    syscall_ = what;
  }

  // Reads exactly `n` bytes (the socket is libuv's, non-blocking: poll for each part), keeping any fds that come.
  bool readAll(void* buf, size_t n) {
    char* p = static_cast<char*>(buf);
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (n > 0) {
      struct timespec now;
      clock_gettime(CLOCK_MONOTONIC, &now);
      const int64_t left = timeout_ - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
      if (left <= 0) return fail(ETIMEDOUT, "front request"), false;
      struct pollfd pfd = {fd_, POLLIN, 0};
      const int r = poll(&pfd, 1, static_cast<int>(left));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return fail(errno, "poll"), false;
      if (r == 0) continue;
      int received[8];
      size_t count;
      bool truncated;
      const ssize_t got = recvFds(fd_, p, n, MSG_DONTWAIT, received, &count, &truncated);
      if (got < 0 && errno == EAGAIN) continue;
      if (got < 0) return fail(errno, "recvmsg"), false;
      fds_.insert(fds_.end(), received, received + count);
      if (truncated) return fail(EPROTO, "front request fds"), false;
      if (got == 0) return fail(ECONNRESET, "front request"), false;
      p += got;
      n -= static_cast<size_t>(got);
    }
    return true;
  }

  int fd_;
  int64_t timeout_;
  uint32_t uid_ = 0;
  int32_t pid_ = 0;
  uint32_t version_ = 0;
  std::vector<char> body_;
  std::vector<int> fds_;
};

Napi::Value FrontReceive(const Napi::CallbackInfo& info) {
  int64_t fd, timeout;
  if (!argInt(info, 0, fd) || !argInt(info, 1, timeout)) return info.Env().Undefined();
  auto* w = new FrontReceiveWorker(info.Env(), static_cast<int>(fd), timeout);
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!argInt(info, 0, fd)) return info.Env().Undefined();
  // Linux always releases the fd, even when close() reports EINTR: never retry.
  if (close(static_cast<int>(fd)) < 0 && errno != EINTR) return throwSys(info.Env(), errno, "close");
  return info.Env().Undefined();
}

// An epoll set of pidfds, each registered with a key (its pid): which watched processes have exited is then one
// epoll_wait, not one poll per process (the resident host watches two pidfds per container).
Napi::Value EpollCreate(const Napi::CallbackInfo& info) {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return throwSys(info.Env(), errno, "epoll_create1");
  return Napi::Number::New(info.Env(), fd);
}

Napi::Value EpollAdd(const Napi::CallbackInfo& info) {
  int64_t epfd, fd, key;
  if (!argInt(info, 0, epfd) || !argInt(info, 1, fd) || !argInt(info, 2, key)) return info.Env().Undefined();
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = static_cast<uint64_t>(key);
  if (epoll_ctl(static_cast<int>(epfd), EPOLL_CTL_ADD, static_cast<int>(fd), &ev) < 0) return throwSys(info.Env(), errno, "epoll_ctl");
  return info.Env().Undefined();
}

Napi::Value EpollDelete(const Napi::CallbackInfo& info) {
  int64_t epfd, fd;
  if (!argInt(info, 0, epfd) || !argInt(info, 1, fd)) return info.Env().Undefined();
  if (epoll_ctl(static_cast<int>(epfd), EPOLL_CTL_DEL, static_cast<int>(fd), nullptr) < 0) return throwSys(info.Env(), errno, "epoll_ctl");
  return info.Env().Undefined();
}

// The keys of up to `max` registered fds that are ready now (never blocks). Level-triggered: a caller that got `max`
// handles them (removing their fds) and asks again.
Napi::Value EpollReady(const Napi::CallbackInfo& info) {
  int64_t epfd, max;
  if (!argInt(info, 0, epfd) || !argInt(info, 1, max)) return info.Env().Undefined();
  std::vector<epoll_event> events(static_cast<size_t>(std::clamp<int64_t>(max, 1, 1024)));
  int r;
  while ((r = epoll_wait(static_cast<int>(epfd), events.data(), static_cast<int>(events.size()), 0)) < 0 && errno == EINTR) {
  }
  if (r < 0) return throwSys(info.Env(), errno, "epoll_wait");
  Napi::Array keys = Napi::Array::New(info.Env(), static_cast<size_t>(r));
  for (int i = 0; i < r; i++) keys.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), static_cast<double>(events[i].data.u64)));
  return keys;
}

// flock(fd, LOCK_EX) when the second argument is true, flock(fd, LOCK_UN) when false. Blocks; EINTR is retried.
Napi::Value Flock(const Napi::CallbackInfo& info) {
  int64_t fd;
  if (!argInt(info, 0, fd)) return info.Env().Undefined();
  const int op = info.Length() > 1 && info[1].ToBoolean().Value() ? LOCK_EX : LOCK_UN;
  int rc;
  while ((rc = flock(static_cast<int>(fd), op)) < 0 && errno == EINTR) {
  }
  if (rc < 0) return throwSys(info.Env(), errno, "flock");
  return info.Env().Undefined();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("pipe", Napi::Function::New(env, Pipe, "pipe"));
  exports.Set("pidfdOpen", Napi::Function::New(env, PidfdOpen, "pidfdOpen"));
  exports.Set("pidfdSendSignal", Napi::Function::New(env, PidfdSendSignal, "pidfdSendSignal"));
  exports.Set("pidfdWait", Napi::Function::New(env, PidfdWait, "pidfdWait"));
  exports.Set("pidfdWaitAsync", Napi::Function::New(env, PidfdWaitAsync, "pidfdWaitAsync"));
  exports.Set("waitPid", Napi::Function::New(env, WaitPid, "waitPid"));
  exports.Set("waitPidAsync", Napi::Function::New(env, WaitPidAsync, "waitPidAsync"));
  exports.Set("mkfifo", Napi::Function::New(env, Mkfifo, "mkfifo"));
  exports.Set("recvFd", Napi::Function::New(env, RecvFd, "recvFd"));
  exports.Set("recvFdAsync", Napi::Function::New(env, RecvFdAsync, "recvFdAsync"));
  exports.Set("sendFd", Napi::Function::New(env, SendFd, "sendFd"));
  exports.Set("sendFdTo", Napi::Function::New(env, SendFdTo, "sendFdTo"));
  exports.Set("setChildSubreaper", Napi::Function::New(env, SetChildSubreaper, "setChildSubreaper"));
  exports.Set("setDumpable", Napi::Function::New(env, SetDumpable, "setDumpable"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("frontReceive", Napi::Function::New(env, FrontReceive, "frontReceive"));
  exports.Set("flock", Napi::Function::New(env, Flock, "flock"));
  exports.Set("epollCreate", Napi::Function::New(env, EpollCreate, "epollCreate"));
  exports.Set("epollAdd", Napi::Function::New(env, EpollAdd, "epollAdd"));
  exports.Set("epollDelete", Napi::Function::New(env, EpollDelete, "epollDelete"));
  exports.Set("epollReady", Napi::Function::New(env, EpollReady, "epollReady"));
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp, "compileSeccomp"));
  return exports;
}

}  // namespace
}  // namespace runts

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return runts::Init(env, exports); }

NODE_API_MODULE(runts_native, InitModule)
