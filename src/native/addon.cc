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
#include "spawn.h"
#include "seccomp.h"
#include "../front/front-wire.h"

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

namespace runts {
namespace {

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

// ---- spawn (see spawn.cc) -------------------------------------------------------------------------

Napi::Error spawnError(Napi::Env env, const SpawnFailure& f) {
  const std::string code = f.err != 0 ? errnoCode(f.err) : "ECHILD";
  const std::string desc = f.err != 0 ? strerror(f.err) : "";
  Napi::Error e = Napi::Error::New(env, spawnFailureMessage(f));
  e.Set("operation", f.operation);
  e.Set("code", code);
  e.Set("errno", Napi::Number::New(env, f.err));
  e.Set("description", desc);
  e.Set("path", f.path);
  e.Set("opIndex", Napi::Number::New(env, f.opIndex));
  return e;
}

// ---- async plumbing ------------------------------------------------------------------------------

// An AsyncWorker settling a promise: Execute() runs on the libuv pool and records err_/syscall_ or a
// result; the promise settles on the JS thread.
class PromiseWorker : public Napi::AsyncWorker {
 public:
  explicit PromiseWorker(Napi::Env env)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }
  // Queues this worker and returns its promise, taken first: the worker deletes itself once it has settled.
  Napi::Value Start() {
    Napi::Promise p = Promise();
    Queue();
    return p;
  }

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
      const int namespacesAhead = namespacesMadeAhead(t->plan, CLONE_NEWNET | CLONE_NEWIPC);
      Napi::ThreadSafeFunction done = t->done;  // t is freed by settleSpawn, possibly before Release below
      if (done.BlockingCall(t, settleSpawn) != napi_ok) delete t;
      done.Release();
      // The next spawn's runts-init, while the JS thread goes on with this one (keepInitReady).
      startReadyInit(namespacesAhead);
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

// keepInitReady(on: boolean): see spawn.h. Off also kills the runts-init waiting, if any.
Napi::Value KeepInitReady(const Napi::CallbackInfo& info) {
  keepInitReady(info.Length() > 0 && info[0].ToBoolean().Value());
  return info.Env().Undefined();
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
  PlanError error;
  if (!parsePlan(task->bytes.data(), task->bytes.size(), task->plan, error)) {
    if (gate >= 0) close(static_cast<int>(gate));
    Napi::Error e = Napi::Error::New(env, error.text);
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
  return (new PidfdWaitWorker(info.Env(), static_cast<int>(fd), timeout))->Start();
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
  return (new WaitPidWorker(info.Env(), static_cast<pid_t>(pid)))->Start();
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
  return (new RecvFdWorker(info.Env(), lfd, path, timeout))->Start();
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

// frontReceive(fd, timeoutMs): the peer's credentials (SO_PEERCRED) and, only when its uid is ours, its request (or
// its answer to a spawn): the header, the body and the fds that came with it. timeoutMs < 0: no limit. Runs on the pool: a peer that connected but sends slowly
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
    if (h.nfds > RUNTS_FRONT_FDS || fds_.size() != h.nfds) return fail(EPROTO, "front request fds");
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
      if (timeout_ >= 0 && left <= 0) return fail(ETIMEDOUT, "front request"), false;
      struct pollfd pfd = {fd_, POLLIN, 0};
      const int r = poll(&pfd, 1, timeout_ < 0 ? -1 : static_cast<int>(left));
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
  return (new FrontReceiveWorker(info.Env(), static_cast<int>(fd), timeout))->Start();
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

// runts-init is built beside this addon (build/Release).
std::string initBinaryBesideAddon() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&initBinaryBesideAddon), &info) == 0 || info.dli_fname == nullptr) return "";
  const std::string self = info.dli_fname;
  return self.substr(0, self.rfind('/') + 1) + "runts-init";
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  useInitBinary(initBinaryBesideAddon());
  exports.Set("spawn", Napi::Function::New(env, Spawn, "spawn"));
  exports.Set("keepInitReady", Napi::Function::New(env, KeepInitReady, "keepInitReady"));
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
