// One spawn of runts-init with a plan, relayed until the init is READY: the part of spawning a container that needs
// no Node, shared by the addon (spawn(), on its spawn threads) and the native front (bin/runts spawns the container
// of a command a warm host planned, so the init is the caller's descendant). Normal C++; only execInit runs after a
// clone.
#include "spawn.h"

#include "send-fd.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>

namespace runts {

std::string errnoCode(int err) {
  const char* name = errnoName(err);
  return name != nullptr ? name : "E" + std::to_string(err);
}

pid_t waitRetry(pid_t pid, int* status, int flags) {
  pid_t r;
  do r = waitpid(pid, status, flags);
  while (r < 0 && errno == EINTR);
  return r;
}

std::string spawnFailureMessage(const SpawnFailure& f) {
  if (!f.message.empty()) return f.message;
  const std::string code = f.err != 0 ? errnoCode(f.err) : "ECHILD";
  return f.operation + (f.path.empty() ? "" : " " + f.path) + ": " + code + " (" + (f.err != 0 ? strerror(f.err) : "") + ")";
}

namespace {
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
  const struct {
    const char* name;
    const char* content;
    const char* mapper;
  } files[] = {{"setgroups", plan.setgroups, ""}, {"uid_map", plan.uidMap, plan.uidMapper}, {"gid_map", plan.gidMap, plan.gidMapper}};
  for (const auto& [name, text, mapper] : files) {
    const std::string content = text;
    if (content.empty()) continue;
    if (mapper[0] != 0) {
      const int err = runIdMapper(mapper, pid, content);
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
      ssize_t w = write(fd, content.data(), content.size());
      if (w < 0) err = errno;
      else if (static_cast<size_t>(w) != content.size()) err = EIO;
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

// runts-init (init-main.cc), opened once per process from the path useInitBinary() gave.
struct InitBinary {
  std::string path;
  int fd = -1;
  int err = 0;
};

std::string initBinaryPath;

const InitBinary& initBinary() {
  static const InitBinary bin = [] {
    InitBinary b;
    b.path = initBinaryPath.empty() ? "runts-init" : initBinaryPath;
    b.fd = initBinaryPath.empty() ? -1 : open(b.path.c_str(), O_PATH | O_CLOEXEC);
    b.err = initBinaryPath.empty() ? ENOENT : b.fd < 0 ? errno : 0;
    return b;
  }();
  return bin;
}

// close_range(first, last); kernels before 5.9 lack it: close one by one (async-signal-safe either way).
void closeRange(unsigned first, unsigned last) {
  if (syscall(SYS_close_range, first, last, 0) == 0) return;
  for (unsigned fd = first; fd <= last && fd < 4096; fd++) close(static_cast<int>(fd));
}

// Closes every descriptor from `from` up but those in `keep` (-1 entries ignored; sorted here). For the CLONE_VM
// children below: syscalls and stack only.
void closeFdsExcept(unsigned from, int* keep, size_t n) {
  std::sort(keep, keep + n);
  for (size_t i = 0; i < n; i++) {
    if (keep[i] < 0 || static_cast<unsigned>(keep[i]) < from) continue;
    if (static_cast<unsigned>(keep[i]) > from) closeRange(from, static_cast<unsigned>(keep[i]) - 1);
    from = static_cast<unsigned>(keep[i]) + 1;
  }
  closeRange(from, ~0U);
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
  closeFdsExcept(static_cast<unsigned>(x.keepFdsBelow), keep, 4);
  char* envp[] = {nullptr};
  syscall(SYS_execveat, x.binFd, "", x.argv, envp, AT_EMPTY_PATH);
  sendStage1Error(x.sock, errno, x.path);
  _exit(127);
}

// Starts runts-init posix_spawn's way: CLONE_VM | CLONE_VFORK, `child` on a stack of its own, then its execveat —
// we wait here the few microseconds until it has exec'd. A plain clone of Node copied Node's page tables
// (megabytes), the init forked from that copy copied them again, and Node's pages stayed copy-on-write while the
// init waited for `start`. Every signal is blocked (raw syscall: glibc would keep its internal 32/33 unblocked) so
// no Node handler runs in the child before the exec; runts-init resets dispositions and the mask. fork() is avoided:
// it runs pthread_atfork handlers. Returns the pid, or -1 with errno set.
pid_t vforkExec(int (*child)(void*), void* arg) {
  std::unique_ptr<char[]> stack(new char[kInitExecStack]);
  uint64_t all = ~0ULL, old = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, &old, sizeof(uint64_t));
  const pid_t pid = clone(child, stack.get() + kInitExecStack, CLONE_VM | CLONE_VFORK | SIGCHLD, arg);
  const int err = errno;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &old, nullptr, sizeof(uint64_t));
  errno = err;
  return pid;
}


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

// ---- a runts-init started ahead of need --------------------------------------------------------------------------
// Starting runts-init (a clone, an exec, the program's start-up) comes before stage 1 can work, so a spawn waits
// for it unless it was started ahead (bench/RESULTS.md has what that buys). With keepInitReady on (a long-lived
// embedder: the Runtime API; not the CLI), one runts-init is started after each spawn, on the spawn thread, and
// waits (`--ready`, init-main.cc) until the next spawn sends it its descriptors and plan (ReadyOrder). It holds
// nothing meanwhile: stdio on /dev/null, only its socket to us; it exits at EOF (our end closed: keepInitReady off,
// or this process gone). One at a time; a spawn that finds none starts runts-init as before.
struct ReadyInit {
  pid_t pid = -1;
  int sock = -1;  // ours
};
std::mutex readyMutex;
ReadyInit readyInit;      // guarded by readyMutex
bool readyWanted = false;  // guarded by readyMutex
bool readyStarting = false;

struct ReadyExec {
  int binFd, sock, nullFd;
  char** argv;
};

// The CLONE_VM | CLONE_VFORK child that becomes the waiting runts-init (see execInit for the rules).
int execReady(void* arg) {
  const ReadyExec& x = *static_cast<const ReadyExec*>(arg);
  for (int fd = 0; fd < 3; fd++) dup2(x.nullFd, fd);
  fcntl(x.sock, F_SETFD, 0);
  int keep[2] = {x.sock, x.binFd};
  closeFdsExcept(3, keep, 2);
  char* envp[] = {nullptr};
  syscall(SYS_execveat, x.binFd, "", x.argv, envp, AT_EMPTY_PATH);
  _exit(127);
}

// Kills and reaps a waiting runts-init we will not use (our unreaped child: its pid cannot have been reused).
void dropReadyInit(ReadyInit& r) {
  if (r.sock >= 0) close(r.sock);
  if (r.pid > 0) {
    int status;
    kill(r.pid, SIGKILL);
    waitRetry(r.pid, &status, 0);
  }
  r = ReadyInit();
}

// The waiting runts-init, if one is there and still alive; the caller owns it.
ReadyInit takeReadyInit() {
  ReadyInit r;
  {
    std::lock_guard<std::mutex> lock(readyMutex);
    std::swap(r, readyInit);
  }
  int status;
  if (r.pid > 0 && waitRetry(r.pid, &status, WNOHANG) != 0) {
    // It died (or could not exec), and is reaped now: only its socket is left to close.
    close(r.sock);
    r = ReadyInit();
  }
  return r;
}

// Hands the spawn to a waiting runts-init: our descriptors at the numbers an exec'd one would have had them (stdio,
// the plan's fds below keepFdsBelow, the socketpair's end, the memfd, the gate). False when it cannot (too many, or
// the send failed).
bool sendReadyOrder(int sock, const SpawnFds& fds, int gateFd, int keepFdsBelow) {
  ReadyOrder order;
  memset(&order, 0, sizeof order);
  order.magic = kReadyOrderMagic;
  order.sock = fds.childSock;
  order.planFd = fds.planFd;
  order.gateFd = gateFd;
  int passed[kReadyOrderMaxFds];
  auto add = [&](int fd) {
    if (order.count >= kReadyOrderMaxFds) return false;
    passed[order.count] = fd;
    order.targets[order.count++] = fd;
    return true;
  };
  for (int fd = 0; fd < keepFdsBelow; fd++) {
    // A closed one stays closed in stage 1 too.
    if (fcntl(fd, F_GETFD) >= 0 && !add(fd)) return false;
  }
  for (int fd : {fds.childSock, fds.planFd, gateFd}) {
    if (fd >= keepFdsBelow && !add(fd)) return false;
  }
  return sendFds<kReadyOrderMaxFds>(sock, passed, order.count, &order, sizeof order) == 0;
}

// Stage: clone. Starts runts-init with the plan; returns its pid (stage 1), or -1 with the failure recorded. Closes
// the plan's memfd and runts-init's end of the socketpair either way: our copies must go, or EOF (every child gone)
// would never arrive. On failure our end is closed too.
pid_t startInit(const Plan& plan, SpawnFds& fds, int gateFd, SpawnOutcome& out) {
  ReadyInit ready = takeReadyInit();
  if (ready.pid > 0) {
    if (sendReadyOrder(ready.sock, fds, gateFd, plan.keepFdsBelow)) {
      close(ready.sock);
      close(fds.planFd);
      close(fds.childSock);
      fds.planFd = fds.childSock = -1;
      return ready.pid;
    }
    dropReadyInit(ready);
  }
  const InitBinary& bin = initBinary();
  std::string sockArg = std::to_string(fds.childSock), planArg = std::to_string(fds.planFd),
              gateArg = std::to_string(gateFd);
  char name[] = "runts-init";
  char* argv[] = {name, sockArg.data(), planArg.data(), gateFd >= 0 ? gateArg.data() : nullptr, nullptr};
  InitExec exec = {bin.fd, fds.childSock, fds.planFd, gateFd, plan.keepFdsBelow, argv, bin.path.c_str()};
  const pid_t stage1 = vforkExec(execInit, &exec);
  const int cloneErr = errno;
  close(fds.planFd);
  close(fds.childSock);
  fds.planFd = fds.childSock = -1;
  if (stage1 < 0) {
    close(fds.sock);
    fds.sock = -1;
    setFailure(out, "clone", cloneErr);
    return -1;
  }
  return stage1;
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
  // The gofer is stage 1 itself (it becomes the gofer at FORK), our child and unreaped: same reasoning.
  int stage1Status = 0;
  kill(stage1, SIGKILL);
  waitRetry(stage1, &stage1Status, 0);
  SpawnFailure& f = out.failure;
  if (!out.failed) {
    setFailure(out, "spawn", 0);
    // Once a seccomp filter is in, its own errors may be unreportable (sendmsg denied): name the likely cause.
    const bool filtered = std::any_of(plan.ops, plan.ops + plan.opCount, [](const Op& op) { return op.code == OP_SECCOMP; });
    f.message = "container init exited before it was ready (" + describeStatus(hasInit ? status : stage1Status) +
                (filtered ? "); the seccomp profile may deny a syscall needed before the program runs (e.g. sendmsg, "
                            "read, execve): allow it in linux.seccomp"
                          : "); does the plan contain a ready op?");
  }
}

// Stage: reap after success. Stage 1 exited at FORK (it is ours to reap) unless it became the gofer, which lives on
// (its exit is watched and reaped with the container's); without FORK it is the init itself.
void finishSpawn(const Plan& plan, pid_t stage1, SpawnOutcome& out) {
  if (plan.hasFork && out.goferPid != stage1) {
    int status;
    waitRetry(stage1, &status, 0);
  }
  out.pidfd = syscall(SYS_pidfd_open, out.initPid, 0);
}

}  // namespace

void useInitBinary(const std::string& path) { initBinaryPath = path; }

void keepInitReady(bool on) {
  ReadyInit dropped;
  {
    std::lock_guard<std::mutex> lock(readyMutex);
    readyWanted = on;
    if (!on) std::swap(dropped, readyInit);
  }
  dropReadyInit(dropped);
}

void startReadyInit(int namespacesAhead) {
  {
    std::lock_guard<std::mutex> lock(readyMutex);
    if (!readyWanted || readyInit.pid > 0 || readyStarting) return;
    readyStarting = true;
  }
  ReadyInit r;
  const InitBinary& bin = initBinary();
  int sv[2] = {-1, -1};
  const int nullFd = bin.fd >= 0 ? open("/dev/null", O_RDWR | O_CLOEXEC) : -1;
  if (nullFd >= 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0) {
    std::string sockArg = std::to_string(sv[1]), aheadArg = std::to_string(namespacesAhead);
    char name[] = "runts-init", ready[] = "--ready";
    char* argv[] = {name, ready, sockArg.data(), aheadArg.data(), nullptr};
    ReadyExec exec = {bin.fd, sv[1], nullFd, argv};
    r.pid = vforkExec(execReady, &exec);
    close(sv[1]);
    r.sock = sv[0];
  }
  if (nullFd >= 0) close(nullFd);
  {
    std::lock_guard<std::mutex> lock(readyMutex);
    readyStarting = false;
    if (r.pid > 0 && readyWanted) std::swap(readyInit, r);
  }
  // Turned off meanwhile, or it could not start: nothing is kept.
  dropReadyInit(r);
}

bool beginSpawn(const Plan& plan, const std::vector<uint8_t>& bytes, int gateFd, StartedSpawn& started, SpawnOutcome& out) {
  SpawnFds fds;
  const pid_t stage1 = prepareSpawn(bytes, fds, out) ? startInit(plan, fds, gateFd, out) : -1;
  if (stage1 < 0) return false;
  started = {fds.sock, stage1};
  return true;
}

void endSpawn(const Plan& plan, StartedSpawn& started, SpawnOutcome& out) {
  const bool ready = relaySpawn(started.sock, plan, started.stage1, out);
  started.sock = -1;
  if (out.failed || !ready || out.initPid == 0) return settleFailedSpawn(plan, started.stage1, out);
  finishSpawn(plan, started.stage1, out);
}

void runSpawn(const Plan& plan, const std::vector<uint8_t>& bytes, int gateFd, SpawnOutcome& out) {
  StartedSpawn started;
  const bool begun = beginSpawn(plan, bytes, gateFd, started, out);
  if (gateFd >= 0) close(gateFd);
  if (begun) endSpawn(plan, started, out);
}

}  // namespace runts
