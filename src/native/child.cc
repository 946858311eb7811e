// The child side of spawn(): an interpreter of the plan's ops (format: plan-format.h / plan.ts).
//
// It runs in runts-init (init-main.cc), the small static program the addon execs as stage 1 of every spawn:
// single-threaded, with an address space of its own that holds nothing of Node's. At FORK the init is cloned into that
// same address space (see opFork); stage 1 then becomes the gofer when the plan starts one (see becomeGofer), or
// exits. The code keeps to raw syscalls and stack buffers (no malloc, no exceptions, no stdio): the failure paths
// must work whatever state the process is in. The ops were validated by the addon before it started us; nothing
// here re-checks them.
#include "plan-format.h"
#include "in-root.h"
#include "send-fd.h"
#include "../gofer/wire.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/magic.h>
#include <linux/mount.h>  // fsopen's flags: musl's <sys/mount.h> has only mount(2)'s
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#ifndef SYS_memfd_create
#define SYS_memfd_create 319
#endif
#ifndef SYS_execveat
#define SYS_execveat 322
#endif
#ifndef MFD_CLOEXEC
#define MFD_CLOEXEC 1U
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#define SYS_move_mount 429
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#define OPEN_TREE_CLOEXEC O_CLOEXEC
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

namespace runts {

namespace {

constexpr char kDefaultPath[] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct Child {
  int sock;            // our end of the socketpair; -1 once READY closed it
  int fifoFd = -1;     // OPEN_FIFO
  int consoleFd = -1;  // CONSOLE_CONNECT
  bool readySent = false;
  int goferListenFd = -1;               // GOFER_PREPARE: the broker's listening socket
  int goferBinFd = -1;                  // GOFER_PREPARE: the gofer executable, O_PATH
  int goferDirFd = -1;                  // GOFER_PREPARE: the socket's directory (the state dir), O_PATH
  const char* goferBinPath = "";        // for errors
  int goferRootFd = -1;                 // SPAWN_GOFER: the gofer's root, until FORK makes stage 1 the gofer
  int goferProcFd = -1;                 // SPAWN_GOFER: a procfs showing stage 1 (the gofer)
  int cgroupFds[kMaxCgroupFds];         // CGROUP_OPEN, written by CGROUP_JOIN
  const char* cgroupPaths[kMaxCgroupFds];
  uint32_t cgroupCount = 0;
  int gateFd = -1;                      // GATE: the caller's pipe, read once
  int rootFd = -1;                      // ROOTFS_OPEN until PIVOT_ROOT: path ops resolve inside it
  int sourceFds[kMaxSourceFds];         // SOURCE_OPEN, mounted by MOUNT_SOURCE
  uint32_t sourceCount = 0;
  const Op* ops = nullptr;              // the plan, which FORK's child goes on with
  uint32_t opCount = 0;
};

// glibc caches nothing useful for us after a raw clone (its TCB still holds the parent's tid), so ask
// the kernel directly.
pid_t selfPid() { return static_cast<pid_t>(syscall(SYS_getpid)); }

size_t copyStr(char* dst, size_t cap, const char* src) {
  size_t n = 0;
  while (src[n] != '\0' && n + 1 < cap) {
    dst[n] = src[n];
    n++;
  }
  dst[n] = '\0';
  return n;
}

size_t appendStr(char* dst, size_t at, size_t cap, const char* src) {
  return at + copyStr(dst + at, cap - at, src);
}

size_t formatUint(char* dst, size_t cap, unsigned long v) {
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  size_t i = 0;
  while (n > 0 && i + 1 < cap) dst[i++] = tmp[--n];
  dst[i] = '\0';
  return i;
}

int sendMsg(int sock, int type, pid_t pid, uint32_t index, uint32_t code, int err, const char* path) {
  // Static-free: the 4 KiB path buffer lives on this stack frame (the main thread's copied stack).
  Msg m;
  memset(&m, 0, sizeof m);
  m.type = type;
  m.pid = pid;
  m.opIndex = static_cast<int32_t>(index);
  m.opCode = static_cast<int32_t>(code);
  m.err = err;
  if (path != nullptr) copyStr(m.path, sizeof m.path, path);
  ssize_t r;
  do r = send(sock, &m, sizeof m, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  return r < 0 ? -1 : 0;
}

[[noreturn]] void fail(Child& c, uint32_t index, const Op& op, int err, const char* path = nullptr) {
  const OpSpec& spec = kOpSpecs[op.code];
  if (path == nullptr) path = spec.mainStr >= 0 ? op.str[spec.mainStr] : "";
  if (!c.readySent) {
    sendMsg(c.sock, MSG_ERROR, selfPid(), index, op.code, err, path);
    _exit(1);
  }
  // The parent returned at READY and is gone: stderr (the container's stdio) is all that is left.
  char line[4096 + 128];
  size_t n = appendStr(line, 0, sizeof line - 2, "runts: ");
  n = appendStr(line, n, sizeof line - 2, spec.name);
  if (path[0] != '\0') {
    n = appendStr(line, n, sizeof line - 2, " ");
    n = appendStr(line, n, sizeof line - 2, path);
  }
  n = appendStr(line, n, sizeof line - 2, ": ");
  const char* name = errnoName(err);
  if (name != nullptr) {
    n = appendStr(line, n, sizeof line - 2, name);
  } else {
    n = appendStr(line, n, sizeof line - 2, "errno ");
    n += formatUint(line + n, sizeof line - 2 - n, static_cast<unsigned long>(err));
  }
  line[n++] = '\n';
  (void)!write(2, line, n);
  _exit(127);
}

// Kernel's struct sigaction layout (x86_64 and arm64 both have sa_restorer). Raw rt_sigaction lets us
// also reset glibc's internal signals 32/33, which glibc's sigaction() refuses to touch.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  uint64_t mask;
};

void resetSignals() {
  KernelSigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.handler = SIG_DFL;
  for (int sig = 1; sig <= 64; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    syscall(SYS_rt_sigaction, sig, &sa, nullptr, sizeof(uint64_t));
  }
  uint64_t none = 0;
  syscall(SYS_rt_sigprocmask, SIG_SETMASK, &none, nullptr, sizeof(uint64_t));
}

// stat(2) as glibc makes it, newfstatat: musl's stat() is the older stat syscall, which a seccomp profile written
// against runc (glibc or Go) may not allow — and checkExecutable runs under the container's filter.
int statPath(const char* path, struct stat* st) { return static_cast<int>(syscall(SYS_newfstatat, AT_FDCWD, path, st, 0)); }

bool isDir(const char* path) {
  struct stat st;
  return statPath(path, &st) == 0 && S_ISDIR(st.st_mode);
}

// mkdir -p. Returns 0 or an errno. An existing directory is fine even when mkdir says EACCES/EROFS.
int mkdirP(const char* path, mode_t mode) {
  // Nearly always the parent exists (a rootfs with /sys/fs/cgroup, /dev, ...): one mkdir settles it. Only a
  // missing parent (ENOENT) takes the walk from the top, which costs a path lookup per component.
  if (mkdir(path, mode) == 0 || errno == EEXIST) return 0;
  if (errno != ENOENT) {
    int err = errno;
    return isDir(path) ? 0 : err;
  }
  char buf[kMaxPathLen + 1];
  size_t len = copyStr(buf, sizeof buf, path);
  for (size_t i = 1; i <= len; i++) {
    if (buf[i] != '/' && buf[i] != '\0') continue;
    char saved = buf[i];
    buf[i] = '\0';
    if (mkdir(buf, mode) < 0 && errno != EEXIST) {
      int err = errno;
      if (!isDir(buf)) return err;
    }
    buf[i] = saved;
  }
  return 0;
}

int mkfile(const char* path, mode_t mode) {
  struct stat st;
  if (statPath(path, &st) == 0) return 0;
  char dir[kMaxPathLen + 1];
  size_t len = copyStr(dir, sizeof dir, path);
  while (len > 0 && dir[len - 1] != '/') len--;
  if (len > 1) {
    dir[len - 1] = '\0';
    int err = mkdirP(dir, 0755);
    if (err != 0) return err;
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, mode);
  if (fd < 0) return errno == EEXIST ? 0 : errno;
  close(fd);
  return 0;
}

// "/proc/self/fd/<fd>": how a syscall that takes a path reaches what an O_PATH fd resolved (as runc does).
void fdPath(char* out, size_t cap, int fd) {
  size_t n = appendStr(out, 0, cap, "/proc/self/fd/");
  formatUint(out + n, cap - n, static_cast<unsigned long>(fd));
}

// The path ops between ROOTFS_OPEN and PIVOT_ROOT (see in-root.h): `path` is a container path, resolved inside
// the rootfs; each returns 0 or an errno.
template <typename F>
int inParent(int root, const char* path, bool create, F fn) {
  char name[256];
  int dir = rtParentInRoot(root, path, name, sizeof name, create ? 1 : 0);
  if (dir < 0) return -dir;
  int err = fn(dir, name);
  close(dir);
  return err;
}

// mkdir -p, or an empty file with its parents (a file bind mount's target), inside the root (see rtEnsureInRoot).
int ensureInRoot(int root, const char* path, bool file, mode_t mode) {
  int fd = rtEnsureInRoot(root, path, file ? 1 : 0, mode);
  if (fd < 0) return -fd;
  close(fd);
  return 0;
}

bool under(const char* path, const char* dir) {
  const size_t n = strlen(dir);
  return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

// The kernel's own trees (statfs f_type): procfs, and sysfs with the cgroup filesystems mounted below it. Writes
// under /proc and /sys must land on them (writeFile), mounts elsewhere must not (mountInRoot).
bool isProcFs(long type) { return type == PROC_SUPER_MAGIC; }
bool isSysFs(long type) { return type == SYSFS_MAGIC || type == CGROUP_SUPER_MAGIC || type == CGROUP2_SUPER_MAGIC; }

// The O_PATH fd of a mount target: a container path resolved inside the root between ROOTFS_OPEN and PIVOT_ROOT,
// else a path as it is; or -errno.
int openMountTarget(int root, const char* target) {
  return root >= 0 ? rtOpenInRoot(root, target) : rtOpenHow(AT_FDCWD, target, O_PATH, 0);
}

// Mounts onto the resolved target through its fd: the path cannot be swapped for a symlink in between. A remount
// or propagation change resolves again, and so reaches the mount just made on top.
// A target the config does not place under /proc or /sys but that resolves onto procfs or sysfs went through a
// link of the image (/etc/hostname -> /proc/sys/kernel/core_pattern): refused with EXDEV, as runc refuses it, so a
// bind can never cover a kernel file the allow-list of proc mounts did not name.
int mountInRoot(int root, const char* source, const char* target, const char* fstype, unsigned long flags,
                const char* data) {
  int fd = rtOpenInRoot(root, target);
  if (fd < 0) return -fd;
  struct statfs sf;
  int err = fstatfs(fd, &sf) < 0 ? errno : 0;
  const long type = err == 0 ? static_cast<long>(sf.f_type) : 0;
  if (err == 0 && isProcFs(type) && !under(target, "/proc")) err = EXDEV;
  if (err == 0 && isSysFs(type) && !under(target, "/sys")) err = EXDEV;
  char at[40];
  fdPath(at, sizeof at, fd);
  if (err == 0 && mount(source, at, fstype, flags, data) < 0) err = errno;
  close(fd);
  return err;
}

// Attaches the detached copy of a bind source that stage 1 made as host root (SOURCE_OPEN: open_tree) onto `target`,
// resolved inside the rootfs: a user namespace that could not search the source's host path still gets it. A plain
// O_PATH descriptor would not do: bind mounting needs its source in the caller's mount namespace, and a detached tree
// belongs to none.
int mountSource(Child& c, int index, const char* target) {
  int fd = openMountTarget(c.rootFd, target);
  int err = fd < 0 ? -fd : 0;
  if (err == 0 && syscall(SYS_move_mount, c.sourceFds[index], "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
    err = errno;
  if (fd >= 0) close(fd);
  close(c.sourceFds[index]);
  c.sourceFds[index] = -1;
  return err;
}

// mount_setattr(2)'s argument (linux/mount.h, declared here: it clashes with glibc's sys/mount.h on some versions).
struct MountAttr {
  uint64_t attrSet, attrClr, propagation, userns;
};

// Recursive mount attributes ("rro", "rnosuid"...) on the mount at `path` and every mount below it.
int mountSetattr(int root, const char* path, uint64_t set, uint64_t clr) {
  int fd = openMountTarget(root, path);
  if (fd < 0) return -fd;
  MountAttr attr = {set, clr, 0, 0};
  int err = syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) < 0 ? errno : 0;
  close(fd);
  return err;
}

int chmodInRoot(int root, const char* path, mode_t mode) {
  int fd = rtOpenInRoot(root, path);
  if (fd < 0) return -fd;
  char at[40];
  fdPath(at, sizeof at, fd);
  int err = chmod(at, mode) < 0 ? errno : 0;
  close(fd);
  return err;
}

int writeAll(int fd, const char* data, size_t len) {
  while (len > 0) {
    ssize_t w = write(fd, data, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    data += w;
    len -= static_cast<size_t>(w);
  }
  return 0;
}

// Writes to an existing file. Under /proc and /sys (sysctls, oom_score_adj, cgroup files) the file must be on the
// real procfs / sysfs (or a cgroup fs under /sys): something mounted over them (a tmpfs, a bind from the image) is
// refused with EXDEV before anything is written. The check is on an O_PATH fd, which the write then reopens, so no
// other file can be swapped in between.
bool kernelFs(const char* path, long type) {
  return strncmp(path, "/proc/", 6) == 0 ? isProcFs(type) : isSysFs(type);
}

int writeFile(const char* path, const char* data, size_t len) {
  int fd;
  if (strncmp(path, "/proc/", 6) == 0 || strncmp(path, "/sys/", 5) == 0) {
    int pfd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (pfd < 0) return errno;
    struct statfs sf;
    int err = fstatfs(pfd, &sf) < 0 ? errno : !kernelFs(path, static_cast<long>(sf.f_type)) ? EXDEV : 0;
    if (err != 0) {
      close(pfd);
      return err;
    }
    char self[40];
    fdPath(self, sizeof self, pfd);
    fd = open(self, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    err = fd < 0 ? errno : 0;
    close(pfd);
    if (fd < 0) return err;
  } else {
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
  }
  int err = writeAll(fd, data, len);
  close(fd);
  return err;
}

// A bind remount read-only must repeat the mount's nosuid/nodev/noexec/atime flags: inside a user
// namespace the kernel refuses (EPERM) to clear flags that are locked on the original mount.
int remountReadonly(const char* path) {
  struct statfs sf;
  if (syscall(SYS_statfs, path, &sf) < 0) return errno;
  unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC;
  const unsigned long f = static_cast<unsigned long>(sf.f_flags);
  if (f & ST_NOSUID) flags |= MS_NOSUID;
  if (f & ST_NODEV) flags |= MS_NODEV;
  if (f & ST_NOEXEC) flags |= MS_NOEXEC;
  if (f & ST_NOATIME) flags |= MS_NOATIME;
  if (f & ST_NODIRATIME) flags |= MS_NODIRATIME;
  if (f & ST_RELATIME) flags |= MS_RELATIME;
  return mount(nullptr, path, nullptr, flags, nullptr) < 0 ? errno : 0;
}

int maskPath(const char* path) {
  struct stat st;
  if (statPath(path, &st) < 0) return errno == ENOENT ? 0 : errno;
  int r = S_ISDIR(st.st_mode) ? mount("tmpfs", path, "tmpfs", MS_RDONLY, nullptr)
                              : mount("/dev/null", path, nullptr, MS_BIND, nullptr);
  return r < 0 ? errno : 0;
}

int setIds(const Op& op) {
  // KEEPCAPS so the permitted set survives the uid change; CAPS then sets the final sets.
  // Raw syscalls: glibc's setresuid() broadcasts to every thread of the (copied) parent via signals.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) return errno;
  if (op.num[2] != 0 && syscall(SYS_setgroups, op.len[0] / 4, op.str[0]) < 0) return errno;
  const long gid = static_cast<long>(op.num[1]), uid = static_cast<long>(op.num[0]);
  if (syscall(SYS_setresgid, gid, gid, gid) < 0) return errno;
  if (syscall(SYS_setresuid, uid, uid, uid) < 0) return errno;
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0) return errno;
  return 0;
}

int setCaps(const Op& op) {
  const uint64_t bounding = static_cast<uint64_t>(op.num[0]);
  const uint64_t eff = static_cast<uint64_t>(op.num[1]);
  const uint64_t perm = static_cast<uint64_t>(op.num[2]);
  const uint64_t inh = static_cast<uint64_t>(op.num[3]);
  const uint64_t amb = static_cast<uint64_t>(op.num[4]);
  __user_cap_header_struct hdr;
  hdr.version = _LINUX_CAPABILITY_VERSION_3;
  hdr.pid = 0;
  __user_cap_data_struct data[2];
  // SET_IDS to a non-root uid emptied the effective set (KEEPCAPS keeps only the permitted one), but
  // dropping from the bounding set needs CAP_SETPCAP effective: re-raise effective = permitted first.
  if (syscall(SYS_capget, &hdr, data) < 0) return errno;
  data[0].effective = data[0].permitted;
  data[1].effective = data[1].permitted;
  if (syscall(SYS_capset, &hdr, data) < 0) return errno;
  // EINVAL: the cap is beyond this kernel's cap_last_cap, nothing to drop.
  for (unsigned cap = 0; cap < 64; cap++) {
    if (bounding & (1ULL << cap)) continue;
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) return errno;
  }
  for (int i = 0; i < 2; i++) {
    data[i].effective = static_cast<uint32_t>(eff >> (32 * i));
    data[i].permitted = static_cast<uint32_t>(perm >> (32 * i));
    data[i].inheritable = static_cast<uint32_t>(inh >> (32 * i));
  }
  if (syscall(SYS_capset, &hdr, data) < 0) return errno;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && amb != 0) return errno;
  for (unsigned cap = 0; cap < 64; cap++) {
    if (!(amb & (1ULL << cap))) continue;
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0) return errno;
  }
  return 0;
}

int consoleConnect(Child& c, const char* path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  if (strlen(path) >= sizeof addr.sun_path) return ENAMETOOLONG;
  copyStr(addr.sun_path, sizeof addr.sun_path, path);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno;
  int r;
  do r = connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr);
  while (r < 0 && errno == EINTR);
  if (r < 0) {
    int err = errno;
    close(fd);
    return err;
  }
  c.consoleFd = fd;
  return 0;
}

// Creates the pty in the container's devpts, makes the slave our controlling terminal and stdio, and
// hands the master to whoever listens on the console socket. `failPath` names what failed.
int consoleSetup(Child& c, char* failPath, size_t failCap) {
  copyStr(failPath, failCap, "/dev/ptmx");
  if (c.consoleFd < 0) return EBADF;
  int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0) return errno;
  int unlock = 0;
  unsigned int ptn = 0;
  if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &ptn) < 0) {
    int err = errno;
    close(master);
    return err;
  }
  char slavePath[32];
  size_t n = appendStr(slavePath, 0, sizeof slavePath, "/dev/pts/");
  formatUint(slavePath + n, sizeof slavePath - n, ptn);
  copyStr(failPath, failCap, slavePath);
  int slave = open(slavePath, O_RDWR | O_NOCTTY);
  int err = 0;
  if (slave < 0) err = errno;
  // EPERM: already a session leader (e.g. after SETSID), which is what TIOCSCTTY needs anyway.
  if (err == 0 && setsid() < 0 && errno != EPERM) err = errno;
  if (err == 0 && ioctl(slave, TIOCSCTTY, 0) < 0) err = errno;
  for (int fd = 0; err == 0 && fd <= 2; fd++) {
    if (slave != fd && dup2(slave, fd) < 0) err = errno;
  }
  if (err == 0) {
    // The payload names the pty (runc does the same); the fd travels as SCM_RIGHTS ancillary data.
    err = sendFdWithPayload(c.consoleFd, master, slavePath, strlen(slavePath));
    if (err != 0) copyStr(failPath, failCap, "console socket");
  }
  close(master);
  if (slave > 2) close(slave);
  if (err == 0) {
    close(c.consoleFd);
    c.consoleFd = -1;
  }
  return err;
}

int closeFds(int first) {
  if (syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, CLOSE_RANGE_CLOEXEC) == 0) return 0;
  // Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC: mark them one by one.
  for (int fd = first; fd < 4096; fd++) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return 0;
}

int dupFd(int oldFd, int newFd) {
  // dup2(x, x) is a no-op that would keep FD_CLOEXEC: clear it so the fd really is preserved.
  if (oldFd == newFd) return fcntl(newFd, F_SETFD, 0) < 0 ? errno : 0;
  return dup2(oldFd, newFd) < 0 ? errno : 0;
}

int checkExecutable(const char* path) {
  struct stat st;
  if (statPath(path, &st) < 0) return errno;
  if (!S_ISREG(st.st_mode)) return EACCES;
  return access(path, X_OK) < 0 ? errno : 0;
}

// Finds `name` like execvp would, using PATH from the container's env (not ours). Returns 0 or errno.
int resolveExec(const char* name, const char* env, uint32_t envLen, char* out, size_t cap) {
  if (name[0] == '\0') return ENOENT;
  if (strchr(name, '/') != nullptr) {
    copyStr(out, cap, name);
    return checkExecutable(out);
  }
  const char* pathVar = kDefaultPath;
  for (uint32_t at = 0; at < envLen;) {
    const char* entry = env + at;
    if (strncmp(entry, "PATH=", 5) == 0) pathVar = entry + 5;
    at += static_cast<uint32_t>(strlen(entry)) + 1;
  }
  bool denied = false;
  const size_t nameLen = strlen(name);
  for (const char* seg = pathVar;;) {
    const char* end = strchr(seg, ':');
    size_t segLen = end != nullptr ? static_cast<size_t>(end - seg) : strlen(seg);
    // An empty PATH element means the current directory (POSIX).
    size_t dirLen = segLen == 0 ? 1 : segLen;
    if (dirLen + 1 + nameLen < cap) {
      memcpy(out, segLen == 0 ? "." : seg, dirLen);
      out[dirLen] = '/';
      memcpy(out + dirLen + 1, name, nameLen + 1);
      int err = checkExecutable(out);
      if (err == 0) return 0;
      if (err == EACCES) denied = true;
    }
    if (end == nullptr) break;
    seg = end + 1;
  }
  return denied ? EACCES : ENOENT;
}

// Splits a NUL-separated list into a NULL-terminated pointer array (at most kMaxListEntries, checked by
// the parent).
void splitList(const char* blob, uint32_t len, char** out) {
  size_t n = 0;
  for (uint32_t at = 0; at < len;) {
    out[n++] = const_cast<char*>(blob + at);
    at += static_cast<uint32_t>(strlen(blob + at)) + 1;
  }
  out[n] = nullptr;
}

// Binds and listens on a unix socket at `path` (replacing a stale one). sun_path holds 107 bytes; a longer
// path (a deep --root) is reached through /proc/self/fd/<dir>/<name> instead. Returns fd or -errno.
int listenUnixAt(const char* path) {
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof addr);
  addr.sun_family = AF_UNIX;
  int dirFd = -1;
  if (strlen(path) < sizeof addr.sun_path) {
    copyStr(addr.sun_path, sizeof addr.sun_path, path);
  } else {
    char dir[kMaxPathLen + 1];
    size_t len = copyStr(dir, sizeof dir, path);
    while (len > 0 && dir[len - 1] != '/') len--;
    if (len == 0) return -ENAMETOOLONG;
    dir[len - 1] = '\0';
    dirFd = open(len > 1 ? dir : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirFd < 0) return -errno;
    size_t n = appendStr(addr.sun_path, 0, sizeof addr.sun_path, "/proc/self/fd/");
    n += formatUint(addr.sun_path + n, sizeof addr.sun_path - n, static_cast<unsigned long>(dirFd));
    n = appendStr(addr.sun_path, n, sizeof addr.sun_path, "/");
    const char* name = path + len;
    if (n + strlen(name) >= sizeof addr.sun_path) {
      close(dirFd);
      return -ENAMETOOLONG;
    }
    appendStr(addr.sun_path, n, sizeof addr.sun_path, name);
  }
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int err = fd < 0 ? errno : 0;
  if (err == 0) {
    unlink(path);
    if (bind(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof addr) < 0 || listen(fd, 64) < 0) err = errno;
  }
  if (dirFd >= 0) close(dirFd);
  if (err != 0) {
    if (fd >= 0) close(fd);
    return -err;
  }
  return fd;
}

// 1 = read all, 0 = EOF first, -errno.
int readFull(int fd, void* buf, size_t len) {
  char* p = static_cast<char*>(buf);
  while (len > 0) {
    ssize_t r = read(fd, p, len);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return -errno;
    if (r == 0) return 0;
    p += r;
    len -= static_cast<size_t>(r);
  }
  return 1;
}

// A procfs in which we have our pid (O_PATH, its root), for the gofer we become (wire.h: RTG_FD_PROC): the /proc we
// see when it is a procfs that shows us (a new mount namespace is a copy of the host's), else one of our own pid
// namespace mounted nowhere (a joined mount namespace shows another container's /proc, where we have no pid).
// Opened now, before the init exists: its mounts and pivot_root change what "/proc" means. -1 with errno on failure.
int openOwnProc() {
  char pid[24], self[24];
  const size_t len = formatUint(pid, sizeof pid, static_cast<unsigned long>(selfPid()));
  int proc = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  struct statfs sf;
  ssize_t n = proc < 0 ? -1 : readlinkat(proc, "self", self, sizeof self - 1);
  if (n > 0 && static_cast<size_t>(n) == len && memcmp(self, pid, len) == 0 && fstatfs(proc, &sf) == 0 && isProcFs(sf.f_type)) {
    return proc;
  }
  if (proc >= 0) close(proc);
  int fs = static_cast<int>(syscall(SYS_fsopen, "proc", FSOPEN_CLOEXEC));
  int mnt = fs < 0 || syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) < 0 ? -1 : static_cast<int>(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0));
  const int err = errno;
  if (fs >= 0) close(fs);
  errno = err;
  return mnt;
}

// A syscall that leaves errno alone, for stage 1's last steps once the init it cloned runs in the same memory (opFork):
// errno is thread-local storage, and the init's is the very same word. Where no such call is written for the
// architecture, syscall() stands in: the calls made so (becomeGofer) fail only when the gofer cannot start.
#if defined(__x86_64__)
long rawSyscall(long n, long a, long b, long c, long d, long e) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8) : "rcx", "r11", "memory");
  return ret;
}
#elif defined(__aarch64__)
long rawSyscall(long n, long a, long b, long c, long d, long e) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4) : "memory", "cc");
  return x0;
}
#else
long rawSyscall(long n, long a, long b, long c, long d, long e) {
  const long r = syscall(n, a, b, c, d, e);
  return r < 0 ? -errno : r;
}
#endif

// Where becomeGofer keeps the gofer's binary and the pipe end that lets the init go, past wire.h's descriptors.
constexpr int kBinFd = 8;
constexpr int kReleaseFd = 9;

// What stage 1 keeps while it waits to become the gofer: CAP_DAC_OVERRIDE, the one the gofer serves with, and
// CAP_SETPCAP, with which the gofer empties its bounding set — the exec gives a root process its bounding set
// (capabilities(7)), so those two are all the gofer starts with. A step that fails leaves more (a runtime without
// CAP_SETPCAP cannot shrink the bounding set), which the gofer drops itself as before.
void keepOnlyGoferCaps() {
  rawSyscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  for (int cap = 0; rawSyscall(SYS_prctl, PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (cap != CAP_DAC_OVERRIDE && cap != CAP_SETPCAP) rawSyscall(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
  }
  __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (rawSyscall(SYS_capget, reinterpret_cast<long>(&head), reinterpret_cast<long>(data), 0, 0, 0) < 0) return;
  data[0].permitted &= (1u << CAP_DAC_OVERRIDE) | (1u << CAP_SETPCAP);
  data[0].effective = data[0].permitted;
  data[0].inheritable = 0;
  data[1] = {};
  rawSyscall(SYS_capset, reinterpret_cast<long>(&head), reinterpret_cast<long>(data), 0, 0, 0);
}

// Stage 1, after FORK, becomes the gofer (src/gofer/gofer.c): the init has its copy of everything. Stage 1 is in the
// container's mount (and net, ipc, uts, user) namespaces but never in its pid namespace (unshare(CLONE_NEWPID)
// applies to children only) nor its cgroup (the init joins that itself). It puts the gofer's descriptors at wire.h's
// numbers, with stdio on /dev/null (holding the container's stdio would keep containerd waiting for an EOF long
// after the container ended), takes the gofer's signals and its own session and keeps no capability but
// CAP_DAC_OVERRIDE (the gofer's) and CAP_SETPCAP (for the gofer to empty its bounding set), then lets the init go
// (`release`, see opFork) and waits for the first connection to the broker's socket: only then does it execveat the
// binary opened before any namespace changed. Most containers never have a file served, and the exec during create
// competed with the init for the CPU (bench/RESULTS.md). Like the gofer, it exits once the state directory is gone.
// A failed step or exec: exit (the waiting client sees its connection close; the supervisor, the exit).
[[noreturn]] void becomeGofer(Child& c, int release) {
  // Above 15 first, so the dup2s to 0..9 cannot overwrite a descriptor still to be moved.
  int fds[6] = {c.goferListenFd, c.goferRootFd, c.goferDirFd, c.goferProcFd, c.goferBinFd, release};
  for (int& fd : fds) {
    fd = fcntl(fd, F_DUPFD_CLOEXEC, 16);
    if (fd < 0) _exit(127);
  }
  // Before the init may go on: its pivot_root would change what this path names.
  const int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
  // wire.h's fixed descriptors, then the binary (8) and `release` (9), which the exec must not pass on.
  const int want[10] = {nul, nul, nul, fds[0], nul, fds[1], fds[2], fds[3], fds[4], fds[5]};
  for (int target = 0; target < 10; target++) {
    if (want[target] < 0 || dup2(want[target], target) < 0) _exit(127);
  }
  if (fcntl(kBinFd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(kReleaseFd, F_SETFD, FD_CLOEXEC) < 0) _exit(127);
  static const int ignored[] = RTG_IGNORED_SIGNALS;
  for (int sig : ignored) signal(sig, SIG_IGN);
  // From here on only calls that leave errno alone: the init runs, in this same memory, once `release` is closed —
  // and the rest of the setup is no reason to keep it waiting.
  rawSyscall(SYS_close, kReleaseFd, 0, 0, 0, 0);
  // Everything else is closed, not left to the exec, which may never come: the socketpair to the addon (whose EOF
  // tells it the spawn ended), the fifo, the console socket, cgroup files, the gate.
  if (rawSyscall(SYS_close_range, kReleaseFd + 1, ~0U, 0, 0, 0) < 0) {
    for (int fd = kReleaseFd + 1; fd < 4096; fd++) rawSyscall(SYS_close, fd, 0, 0, 0, 0);  // kernels before 5.9
  }
  rawSyscall(SYS_setsid, 0, 0, 0, 0, 0);
  keepOnlyGoferCaps();
  for (;;) {
    struct stat st;
    if (rawSyscall(SYS_fstat, RTG_FD_STATEDIR, reinterpret_cast<long>(&st), 0, 0, 0) == 0 && st.st_nlink == 0) _exit(0);
    struct pollfd p = {RTG_FD_LISTEN, POLLIN, 0};
    struct timespec wait = {RTG_STATE_CHECK_MS / 1000, 0};
    if (rawSyscall(SYS_ppoll, reinterpret_cast<long>(&p), 1, reinterpret_cast<long>(&wait), 0, 0) > 0) break;
  }
  char name[] = "runts-gofer";
  char* argv[] = {name, nullptr};
  char* envp[] = {nullptr};
  rawSyscall(SYS_execveat, kBinFd, reinterpret_cast<long>(""), reinterpret_cast<long>(argv), reinterpret_cast<long>(envp), AT_EMPTY_PATH);
  _exit(127);
}

// Prepares the gofer (see becomeGofer) rooted at `root` (op.str[0]) and tells the parent its pid (MSG_GOFER_PID):
// stage 1's own, which it keeps when it becomes the gofer. Returns 0 or an errno of our own steps.
int prepareGofer(Child& c, uint32_t index, const Op& op) {
  if (c.goferBinFd < 0 || c.goferListenFd < 0 || c.goferDirFd < 0) return EBADF;
  c.goferRootFd = open(op.str[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c.goferRootFd < 0) fail(c, index, op, errno, op.str[0]);
  c.goferProcFd = openOwnProc();
  if (c.goferProcFd < 0) fail(c, index, op, errno, "/proc");
  sendMsg(c.sock, MSG_GOFER_PID, selfPid(), index, op.code, 0, nullptr);
  return 0;
}

// The init, right after FORK: the gofer's descriptors are stage 1's to keep, not the container's.
void dropGoferFds(Child& c) {
  int* fds[] = {&c.goferListenFd, &c.goferBinFd, &c.goferDirFd, &c.goferRootFd, &c.goferProcFd};
  for (int* fd : fds) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

const char* orNull(const char* s) { return s[0] == '\0' ? nullptr : s; }

// ---- the ops ---------------------------------------------------------------------------------------------------
// One function per op code, dispatched from kOpTable: each returns 0 or an errno, which runChild reports naming the
// op's main string (kOpSpecs' mainStr); an op whose failure names another path calls fail() itself.

using OpFn = int (*)(Child& c, uint32_t index, const Op& op);

int opWriteFile(Child&, uint32_t, const Op& op) { return writeFile(op.str[0], op.str[1], op.len[1]); }

int opSetns(Child&, uint32_t, const Op& op) {
  int fd = open(op.str[0], O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  int err = setns(fd, static_cast<int>(op.num[0])) < 0 ? errno : 0;
  close(fd);
  return err;
}

int opUnshare(Child&, uint32_t, const Op& op) { return unshare(static_cast<int>(op.num[0])) < 0 ? errno : 0; }

int opUsernsSync(Child& c, uint32_t index, const Op& op) {
  // The parent writes our uid_map/gid_map (only a process outside the namespace with privilege
  // there may), then sends 1 ("go"), or 0 when it failed and reports the error itself.
  if (sendMsg(c.sock, MSG_NEED_IDMAP, selfPid(), index, op.code, 0, nullptr) < 0) _exit(1);
  char go = 0;
  ssize_t r;
  do r = recv(c.sock, &go, 1, 0);
  while (r < 0 && errno == EINTR);
  if (r != 1 || go != 1) _exit(1);
  return 0;
}

[[noreturn]] void runOps(Child& c, uint32_t from);

// What FORK's child starts with, written at the top of its own stack before the clone: memory stage 1 never touches
// again, so nothing the child reads can change under it.
static_assert(__is_trivially_copyable(Child), "opFork copies a Child with memcpy");

struct InitStart {
  Child c;
  uint32_t next;         // the op after FORK
  int stage1Done[2];     // a pipe whose write end only stage 1 holds: EOF once it is done with what we share
};

// The init's stack: the main thread's 8 MiB, reserved and not committed (pages come as they are touched); its
// lowest page stays unmapped so that an overflow faults instead of writing into whatever lies below.
constexpr size_t kInitStackSize = 8u << 20;
constexpr size_t kGuardSize = 4096;

int initEntry(void* arg) {
  InitStart& start = *static_cast<InitStart*>(arg);
  close(start.stage1Done[1]);
  // Until stage 1 is done (its last calls leave errno alone, or it has exec'd or exited), a failing call of its could
  // write errno — thread-local storage, the same word as ours — and its open of /dev/null by path must come before
  // our pivot_root: wait for that before the first op.
  char b;
  while (read(start.stage1Done[0], &b, 1) < 0 && errno == EINTR) {
  }
  close(start.stage1Done[0]);
  Child& c = start.c;
  dropGoferFds(c);
  runOps(c, start.next);
}

int opFork(Child& c, uint32_t index, const Op& op) {
  // The init shares stage 1's memory (CLONE_VM) instead of a copy of it: a fork here copies the page tables and
  // then takes a copy-on-write fault at nearly every page the init writes, and on a virtual machine that made the
  // fork and the init's first ops several times slower than the clone (bench/RESULTS.md). The two share it until one
  // of them execs — the init at `start`, stage 1 when the gofer's first connection comes (becomeGofer) — or exits;
  // the other keeps it. (Pages faulted meanwhile are charged to stage 1's memory cgroup, the runtime's, as the
  // address space's first owner: runts-init's own few pages, not the container's program.)
  // CLONE_PARENT: the init becomes the Node process's child (so it can reap it, or its subreaper adopts it once Node
  // exits) and, after an unshare(CLONE_NEWPID) here, pid 1 of the new namespace.
  char* stack = static_cast<char*>(mmap(nullptr, kInitStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0));
  if (stack == MAP_FAILED) return errno;
  if (mprotect(stack, kGuardSize, PROT_NONE) < 0) return errno;
  const uintptr_t top = reinterpret_cast<uintptr_t>(stack + kInitStackSize - sizeof(InitStart)) & ~uintptr_t{63};
  InitStart* start = reinterpret_cast<InitStart*>(top);
  memcpy(&start->c, &c, sizeof c);  // Child is plain data
  start->next = index + 1;
  if (pipe2(start->stage1Done, O_CLOEXEC) < 0) return errno;
  const int release = start->stage1Done[1];
  const long pid = clone(initEntry, reinterpret_cast<void*>(top), CLONE_VM | CLONE_PARENT | SIGCHLD, start);
  if (pid < 0) return errno;
  // From here on stage 1 writes only its own stack (below this frame) and, should a call fail, errno — until it
  // closes `release` (becomeGofer) or exits.
  sendMsg(c.sock, MSG_PID, static_cast<pid_t>(pid), index, op.code, 0, nullptr);
  if (c.goferRootFd >= 0) becomeGofer(c, release);
  _exit(0);
}

int opMount(Child& c, uint32_t, const Op& op) {
  // Sources stay host paths (cgroup dirs, host device nodes); only the target is in the root.
  const unsigned long flags = static_cast<unsigned long>(op.num[0]);
  if (c.rootFd >= 0)
    return mountInRoot(c.rootFd, orNull(op.str[0]), op.str[1], orNull(op.str[2]), flags, orNull(op.str[3]));
  return mount(orNull(op.str[0]), op.str[1], orNull(op.str[2]), flags, orNull(op.str[3])) < 0 ? errno : 0;
}

int opMkdirP(Child& c, uint32_t, const Op& op) {
  const mode_t mode = static_cast<mode_t>(op.num[0]);
  return c.rootFd >= 0 ? ensureInRoot(c.rootFd, op.str[0], false, mode) : mkdirP(op.str[0], mode);
}

int opMkfile(Child& c, uint32_t, const Op& op) {
  const mode_t mode = static_cast<mode_t>(op.num[0]);
  return c.rootFd >= 0 ? ensureInRoot(c.rootFd, op.str[0], true, mode) : mkfile(op.str[0], mode);
}

int opMknod(Child& c, uint32_t, const Op& op) {
  const mode_t mode = static_cast<mode_t>(op.num[0]);
  const dev_t dev = static_cast<dev_t>(op.num[1]);
  if (c.rootFd >= 0)
    return inParent(c.rootFd, op.str[0], true, [mode, dev](int dir, const char* name) {
      return mknodat(dir, name, mode, dev) < 0 && errno != EEXIST ? errno : 0;
    });
  return mknod(op.str[0], mode, dev) < 0 && errno != EEXIST ? errno : 0;
}

int opSymlink(Child& c, uint32_t, const Op& op) {
  const char* target = op.str[0];
  if (c.rootFd >= 0)
    return inParent(c.rootFd, op.str[1], true, [target](int dir, const char* name) {
      return symlinkat(target, dir, name) < 0 && errno != EEXIST ? errno : 0;
    });
  return symlink(target, op.str[1]) < 0 && errno != EEXIST ? errno : 0;
}

int opChown(Child& c, uint32_t, const Op& op) {
  const uid_t uid = static_cast<uid_t>(op.num[0]);
  const gid_t gid = static_cast<gid_t>(op.num[1]);
  if (c.rootFd >= 0)
    return inParent(c.rootFd, op.str[0], false, [uid, gid](int dir, const char* name) {
      return fchownat(dir, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 ? errno : 0;
    });
  return chown(op.str[0], uid, gid) < 0 ? errno : 0;
}

int opChmod(Child& c, uint32_t, const Op& op) {
  const mode_t mode = static_cast<mode_t>(op.num[0]);
  if (c.rootFd >= 0) return chmodInRoot(c.rootFd, op.str[0], mode);
  return chmod(op.str[0], mode) < 0 ? errno : 0;
}

int opRootfsOpen(Child& c, uint32_t, const Op& op) {
  // The rootfs as the host sees it (a trusted path from the bundle); from here to PIVOT_ROOT the path ops
  // take container paths and resolve them inside it.
  if (c.rootFd >= 0) close(c.rootFd);
  c.rootFd = open(op.str[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
  return c.rootFd < 0 ? errno : 0;
}

int opSourceOpen(Child& c, uint32_t, const Op& op) {
  // As host root in the host's namespaces, before any is left: see mountSource. num[0]: rbind (AT_RECURSIVE).
  const unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | (op.num[0] != 0 ? AT_RECURSIVE : 0);
  int fd = static_cast<int>(syscall(SYS_open_tree, AT_FDCWD, op.str[0], flags));
  if (fd < 0) return errno;
  c.sourceFds[c.sourceCount++] = fd;
  return 0;
}

int opMountSource(Child& c, uint32_t, const Op& op) { return mountSource(c, static_cast<int>(op.num[0]), op.str[0]); }

int opMountSetattr(Child& c, uint32_t, const Op& op) {
  return mountSetattr(c.rootFd, op.str[0], static_cast<uint64_t>(op.num[0]), static_cast<uint64_t>(op.num[1]));
}

int opChroot(Child&, uint32_t, const Op& op) { return chroot(op.str[0]) < 0 ? errno : 0; }

int opPivotRoot(Child& c, uint32_t, const Op& op) {
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves the new
  // root visible, with no put_old directory needed inside the rootfs.
  int err = 0;
  if (chdir(op.str[0]) < 0 || syscall(SYS_pivot_root, ".", ".") < 0 || umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
    err = errno;
  if (c.rootFd >= 0) close(c.rootFd);
  c.rootFd = -1;
  return err;
}

int opMaskPath(Child&, uint32_t, const Op& op) { return maskPath(op.str[0]); }

int opReadonlyPath(Child&, uint32_t, const Op& op) {
  if (mount(op.str[0], op.str[0], nullptr, MS_BIND | MS_REC, nullptr) < 0) return errno != ENOENT ? errno : 0;
  return remountReadonly(op.str[0]);
}

int opRemountReadonly(Child&, uint32_t, const Op& op) { return remountReadonly(op.str[0]); }

int opSethostname(Child&, uint32_t, const Op& op) { return sethostname(op.str[0], op.len[0]) < 0 ? errno : 0; }

int opSetdomainname(Child&, uint32_t, const Op& op) { return setdomainname(op.str[0], op.len[0]) < 0 ? errno : 0; }

int opSetrlimit(Child&, uint32_t, const Op& op) {
  // u64 max is RLIM64_INFINITY already: no translation needed.
  uint64_t lim[2] = {static_cast<uint64_t>(op.num[1]), static_cast<uint64_t>(op.num[2])};
  return syscall(SYS_prlimit64, 0, static_cast<int>(op.num[0]), lim, nullptr) < 0 ? errno : 0;
}

int opChdir(Child&, uint32_t, const Op& op) { return chdir(op.str[0]) < 0 ? errno : 0; }

int opUmask(Child&, uint32_t, const Op& op) {
  umask(static_cast<mode_t>(op.num[0]));
  return 0;
}

int opSetsid(Child&, uint32_t, const Op&) { return setsid() < 0 ? errno : 0; }

int opSetIds(Child&, uint32_t, const Op& op) { return setIds(op); }

int opCaps(Child&, uint32_t, const Op& op) { return setCaps(op); }

int opNoNewPrivs(Child&, uint32_t, const Op&) { return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? errno : 0; }

int opGate(Child& c, uint32_t, const Op&) {
  // The caller opens the gate (writes 1) once what we need next exists — the cgroup, which it makes
  // while we get here. Anything else, EOF included (it failed, or died), ends the spawn.
  if (c.gateFd < 0) return EBADF;
  char go = 0;
  const int r = readFull(c.gateFd, &go, 1);
  close(c.gateFd);
  c.gateFd = -1;
  return r != 1 || go != 1 ? ECANCELED : 0;
}

int opPrctl(Child&, uint32_t, const Op& op) {
  // A plain prctl(option, arg) the plan chose (PR_SET_PDEATHSIG, PR_SET_DUMPABLE).
  return prctl(static_cast<int>(op.num[0]), static_cast<unsigned long>(op.num[1]), 0, 0, 0) < 0 ? errno : 0;
}

int opSeccomp(Child& c, uint32_t index, const Op& op) {
  struct sock_fprog prog;
  prog.len = static_cast<unsigned short>(op.len[0] / sizeof(struct sock_filter));
  prog.filter = reinterpret_cast<struct sock_filter*>(const_cast<char*>(op.str[0]));
  if (op.num[0] == 0) return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) < 0 ? errno : 0;
  // SCMP_ACT_NOTIFY rules: the kernel hands us the listener, which goes to the runtime at once (it passes
  // it on to the seccomp agent); until an agent holds it, a notifying syscall of ours would block.
  const long fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
  if (fd < 0) return errno;
  Msg m;
  memset(&m, 0, sizeof m);
  m.type = MSG_SECCOMP_FD;
  m.pid = selfPid();
  m.opIndex = static_cast<int32_t>(index);
  m.opCode = static_cast<int32_t>(op.code);
  int err = sendFdWithPayload(c.sock, static_cast<int>(fd), &m, sizeof m);
  close(static_cast<int>(fd));
  return err;
}

int opOpenFifo(Child& c, uint32_t, const Op& op) {
  // O_RDWR never blocks on a fifo (we are a reader and a writer); WAIT_FIFO's read() then blocks
  // until `start` writes a byte, with no process of the runtime staying alive meanwhile.
  c.fifoFd = open(op.str[0], O_RDWR | O_CLOEXEC);
  return c.fifoFd < 0 ? errno : 0;
}

int opConsoleConnect(Child& c, uint32_t, const Op& op) { return consoleConnect(c, op.str[0]); }

int opConsoleSetup(Child& c, uint32_t index, const Op& op) {
  char failPath[64];
  int err = consoleSetup(c, failPath, sizeof failPath);
  if (err != 0) fail(c, index, op, err, failPath);
  return 0;
}

int opCloseFds(Child&, uint32_t, const Op& op) { return closeFds(static_cast<int>(op.num[0])); }

int opDup2(Child&, uint32_t, const Op& op) { return dupFd(static_cast<int>(op.num[0]), static_cast<int>(op.num[1])); }

int opReady(Child& c, uint32_t index, const Op& op) {
  sendMsg(c.sock, MSG_READY, selfPid(), index, op.code, 0, nullptr);
  c.readySent = true;
  close(c.sock);
  c.sock = -1;
  return 0;
}

int opWaitFifo(Child& c, uint32_t, const Op&) {
  if (c.fifoFd < 0) return EBADF;
  char b;
  ssize_t r;
  do r = read(c.fifoFd, &b, 1);
  while (r < 0 && errno == EINTR);
  int err = r < 0 ? errno : 0;
  close(c.fifoFd);
  c.fifoFd = -1;
  return err;
}

int opCheckExec(Child&, uint32_t, const Op& op) {
  char resolved[kMaxPathLen + 1];
  return resolveExec(op.str[0], op.str[1], op.len[1], resolved, sizeof resolved);
}

int opExec(Child&, uint32_t, const Op& op) {
  char resolved[kMaxPathLen + 1];
  int err = resolveExec(op.str[0], op.str[2], op.len[2], resolved, sizeof resolved);
  if (err != 0) return err;
  char* argv[kMaxListEntries + 1];
  char* envp[kMaxListEntries + 1];
  splitList(op.str[1], op.len[1], argv);
  splitList(op.str[2], op.len[2], envp);
  execve(resolved, argv, envp);
  return errno;
}

int opGoferPrepare(Child& c, uint32_t index, const Op& op) {
  // Both are host paths: resolve them now, before any setns could make them mean something else
  // (a joined mount namespace is the container's, where anyone could plant a "runts-gofer").
  c.goferBinPath = op.str[1];
  c.goferBinFd = open(op.str[1], O_PATH | O_CLOEXEC);
  if (c.goferBinFd < 0) fail(c, index, op, errno, op.str[1]);
  int fd = listenUnixAt(op.str[0]);
  if (fd < 0) return -fd;
  c.goferListenFd = fd;
  // The state directory, O_PATH as host root: fstat needs no permission, so even a user-namespaced
  // gofer can tell when it is removed.
  char dir[kMaxPathLen + 1];
  size_t len = copyStr(dir, sizeof dir, op.str[0]);
  while (len > 0 && dir[len - 1] != '/') len--;
  if (len > 1) dir[len - 1] = '\0';
  else copyStr(dir, sizeof dir, len == 1 ? "/" : ".");
  c.goferDirFd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (c.goferDirFd < 0) fail(c, index, op, errno, dir);
  return 0;
}

int opSpawnGofer(Child& c, uint32_t index, const Op& op) {
  int err = prepareGofer(c, index, op);
  if (err != 0) fail(c, index, op, err, c.goferBinPath);
  return 0;
}

int opCgroupOpen(Child& c, uint32_t, const Op& op) {
  // Opened as host root in the host's namespaces; the kernel checks the later write against the
  // opener's credentials, so CGROUP_JOIN works even after unshare(CLONE_NEWUSER).
  int fd = open(op.str[0], O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  c.cgroupPaths[c.cgroupCount] = op.str[0];
  c.cgroupFds[c.cgroupCount++] = fd;
  return 0;
}

int opCgroupJoin(Child& c, uint32_t index, const Op& op) {
  for (uint32_t k = 0; k < c.cgroupCount; k++) {
    int e = writeAll(c.cgroupFds[k], "0", 1);
    close(c.cgroupFds[k]);
    if (e != 0) fail(c, index, op, e, c.cgroupPaths[k]);
  }
  c.cgroupCount = 0;
  return 0;
}

// Indexed by OpCode (plan-ops.h). Filled in a constexpr function because C++17 has no designated array
// initializers; the static_assert below refuses a build in which an op of the table has no function.
struct OpTable {
  OpFn fn[OP_COUNT_PLUS_ONE];
};

constexpr OpTable makeOpTable() {
  OpTable t{};
  t.fn[OP_WRITE_FILE] = opWriteFile;
  t.fn[OP_SETNS] = opSetns;
  t.fn[OP_UNSHARE] = opUnshare;
  t.fn[OP_USERNS_SYNC] = opUsernsSync;
  t.fn[OP_FORK] = opFork;
  t.fn[OP_MOUNT] = opMount;
  t.fn[OP_MKDIR_P] = opMkdirP;
  t.fn[OP_MKFILE] = opMkfile;
  t.fn[OP_MKNOD] = opMknod;
  t.fn[OP_SYMLINK] = opSymlink;
  t.fn[OP_CHOWN] = opChown;
  t.fn[OP_CHMOD] = opChmod;
  t.fn[OP_PIVOT_ROOT] = opPivotRoot;
  t.fn[OP_MASK_PATH] = opMaskPath;
  t.fn[OP_READONLY_PATH] = opReadonlyPath;
  t.fn[OP_REMOUNT_READONLY] = opRemountReadonly;
  t.fn[OP_SETHOSTNAME] = opSethostname;
  t.fn[OP_SETDOMAINNAME] = opSetdomainname;
  t.fn[OP_SETRLIMIT] = opSetrlimit;
  t.fn[OP_CHDIR] = opChdir;
  t.fn[OP_UMASK] = opUmask;
  t.fn[OP_SETSID] = opSetsid;
  t.fn[OP_SET_IDS] = opSetIds;
  t.fn[OP_CAPS] = opCaps;
  t.fn[OP_NO_NEW_PRIVS] = opNoNewPrivs;
  t.fn[OP_SECCOMP] = opSeccomp;
  t.fn[OP_OPEN_FIFO] = opOpenFifo;
  t.fn[OP_CONSOLE_CONNECT] = opConsoleConnect;
  t.fn[OP_CONSOLE_SETUP] = opConsoleSetup;
  t.fn[OP_CLOSE_FDS] = opCloseFds;
  t.fn[OP_DUP2] = opDup2;
  t.fn[OP_READY] = opReady;
  t.fn[OP_WAIT_FIFO] = opWaitFifo;
  t.fn[OP_CHECK_EXEC] = opCheckExec;
  t.fn[OP_EXEC] = opExec;
  t.fn[OP_GOFER_PREPARE] = opGoferPrepare;
  t.fn[OP_SPAWN_GOFER] = opSpawnGofer;
  t.fn[OP_CGROUP_OPEN] = opCgroupOpen;
  t.fn[OP_CGROUP_JOIN] = opCgroupJoin;
  t.fn[OP_PRCTL] = opPrctl;
  t.fn[OP_GATE] = opGate;
  t.fn[OP_ROOTFS_OPEN] = opRootfsOpen;
  t.fn[OP_CHROOT] = opChroot;
  t.fn[OP_MOUNT_SETATTR] = opMountSetattr;
  t.fn[OP_SOURCE_OPEN] = opSourceOpen;
  t.fn[OP_MOUNT_SOURCE] = opMountSource;
  return t;
}

constexpr OpTable kOpTable = makeOpTable();

constexpr bool everyOpHasAFunction() {
  for (uint32_t code = 1; code < OP_COUNT_PLUS_ONE; code++) {
    if (kOpTable.fn[code] == nullptr) return false;
  }
  return true;
}
static_assert(everyOpHasAFunction(), "an op of plan-ops.h has no function in kOpTable (child.cc)");

[[noreturn]] void runOps(Child& c, uint32_t from) {
  for (uint32_t i = from; i < c.opCount; i++) {
    // Codes were checked by the parser (1..OP_COUNT_PLUS_ONE-1), so every entry has a function.
    const int err = kOpTable.fn[c.ops[i].code](c, i, c.ops[i]);
    if (err != 0) fail(c, i, c.ops[i], err);
  }
  // A plan that ends without EXEC: the process simply exits (useful for tests and one-shot setups).
  _exit(0);
}

}  // namespace

[[noreturn]] void runChild(const Op* ops, uint32_t opCount, int sock, bool hasFork, int gateFd) {
  // Signals first: execve kept the addon's all-blocked mask and Node's ignored SIGPIPE; the container must
  // start with neither.
  resetSignals();
  Child c;
  c.sock = sock;
  c.gateFd = gateFd;
  c.ops = ops;
  c.opCount = opCount;
  if (!hasFork) sendMsg(c.sock, MSG_PID, selfPid(), 0, 0, 0, nullptr);
  runOps(c, 0);
}

}  // namespace runts
