/* runts-gofer: one small static process per container (wire formats: wire.h).
 *
 * Stage-1 of a container's spawn becomes it: stage-1 is in the container's new mount namespace (the rootfs bound
 * onto itself) but not in its pid namespace nor its cgroup, so it is invisible inside the container (no /proc entry
 * there) and out of reach of `ps` / `kill --all`. Once the init is on its way, stage-1 waits — with the signals
 * below ignored and no capability but CAP_DAC_OVERRIDE and CAP_SETPCAP — for the first connection to the broker's
 * socket, and only then execs us: most containers never have a file served, and an exec during create competed
 * with the init for the CPU (bench/RESULTS.md). Its root is an O_PATH descriptor of the rootfs (fd 5); the mounts
 * the init makes in the same namespace appear under it.
 *
 * It is the container's file broker. When the init later calls pivot_root, the kernel moves the root and cwd of
 * every process of the namespace whose root was the old root — this one too — so from then on our "/" is the
 * rootfs. We serve READ / WRITE / LIST / STAT / MKDIR / PID requests on the listening socket, one connection at a
 * time, resolving from the root descriptor with RESOLVE_BENEATH: "..", absolute symlinks and symlinks that climb
 * out are refused with EXDEV, /proc magic links with ELOOP. What a path leads to is served only when it is on a
 * file tree's filesystem (not procfs, sysfs, cgroup...), not under the container's /proc or /sys, and, to be read
 * or written, a regular file (checkServable): the container's /proc and /sys show the host kernel's state. Before
 * serving, the gofer drops every capability but CAP_DAC_OVERRIDE (dropCapabilities).
 *
 * It ignores every catchable signal that could end it (a client going away must not kill it): the
 * runtime stops it with SIGKILL. As a safety net for a runtime that died before it could (runts killed
 * during create, a state root wiped by hand), it also exits once the container's state directory, whose
 * O_PATH descriptor it holds, has been removed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "wire.h"

/* How long one client may stall a read or a write before we drop it (connections are served one by one). */
#define CLIENT_TIMEOUT_SEC 30
#define CHUNK (64 * 1024)

static int openHow(int dirfd, const char* path, uint64_t flags, uint64_t mode, uint64_t resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC;
  how.mode = mode;
  how.resolve = resolve;
  int fd;
  do fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  return fd;
}

/* openat2 wants a relative path for RESOLVE_BENEATH and treats "" as an error: "/a//b" -> "a//b", "/" -> ".". */
static const char* relative(const char* path) {
  while (*path == '/') path++;
  return *path == '\0' ? "." : path;
}

static int writeAll(int fd, const void* data, size_t len) {
  const char* p = data;
  while (len > 0) {
    ssize_t w = write(fd, p, len);
    if (w < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += w;
    len -= (size_t)w;
  }
  return 0;
}

/* Reads exactly len bytes; 0 on success, -1 on error or early EOF (errno EPIPE then). */
static int readAll(int fd, void* data, size_t len) {
  char* p = data;
  while (len > 0) {
    ssize_t r = read(fd, p, len);
    if (r < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (r == 0) {
      errno = EPIPE;
      return -1;
    }
    p += r;
    len -= (size_t)r;
  }
  return 0;
}

/* ---- start-up ------------------------------------------------------------------------------------------ */

/* Our /proc/<pid>/fd (see openSelfFds). */
static int selfFds = -1;

/* What the kernel calls fd's path (symlinks resolved): /proc/self/fd/<fd>'s target. */
static int pathOf(int fd, char* out, size_t cap) {
  char name[16];
  snprintf(name, sizeof name, "%d", fd);
  ssize_t n = readlinkat(selfFds, name, out, cap - 1);
  if (n < 0) return -1;
  out[n] = '\0';
  return 0;
}

/* ---- before serving: capabilities --------------------------------------------------------------------- */

/*
 * The broker keeps one capability (of the user namespace it is in): CAP_DAC_OVERRIDE, to read, write and search
 * the container's files whatever their owner and mode — without it root is an ordinary user to the kernel's
 * permission checks, and `runts cp` could not reach a 0600 file of uid 1000. Not kept:
 * - CAP_DAC_READ_SEARCH: DAC_OVERRIDE already lets us read and search, and it is what open_by_handle_at(2) wants,
 *   which opens any file of a filesystem by handle, with no path to check (the "shocker" container escape);
 * - CAP_CHOWN, CAP_FOWNER: the broker changes no owner, mode or timestamp;
 * - CAP_FSETID: a file it rewrites loses its set-user-ID / set-group-ID bits, as with any such writer (copying
 *   over a setuid binary does not leave the new contents setuid);
 * - everything else (SYS_ADMIN: mounts are done; SYS_RESOURCE: a copy stops at the quotas and reserved blocks).
 * Bounding, inheritable and ambient sets are emptied and no_new_privs set: nothing is regained through an execve.
 * Without CAP_SETPCAP (the unprivileged test runs of the broker) the bounding set cannot be changed; with nothing
 * to lose and no_new_privs set, that is fine.
 */
static int dropCapabilities(void) {
  struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &head, data) < 0) return -1;
  const int setpcap = (data[0].effective >> CAP_SETPCAP) & 1;
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) return -1;
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && (errno != EPERM || setpcap)) return -1;
  }
  const uint32_t keep = 1u << CAP_DAC_OVERRIDE;
  data[0].permitted &= keep;
  data[0].effective = data[0].permitted;
  data[0].inheritable = 0;
  data[1].permitted = data[1].effective = data[1].inheritable = 0;
  if (syscall(SYS_capset, &head, data) < 0) return -1;
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

/* ---- the broker --------------------------------------------------------------------------------------- */

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

/* Not an errno (those end at 4095): "refused", the reason in `refusal`. Sent as RTG_REFUSED. */
#define EREFUSED 4096
static struct {
  uint32_t why;
  uint64_t detail;
} refusal;

static int refuse(uint32_t why, uint64_t detail) {
  refusal.why = why;
  refusal.detail = detail;
  return errno = EREFUSED, -1;
}


/* Opens selfFds, our /proc/<pid>/fd, from the procfs the spawn gave us (RTG_FD_PROC), in its place. */
static int openSelfFds(void) {
  struct statfs sf;
  if (fstatfs(RTG_FD_PROC, &sf) < 0) return -1;
  if (sf.f_type != PROC_SUPER_MAGIC) return errno = EBADF, -1;
  char fds[32];
  snprintf(fds, sizeof fds, "%d/fd", (int)getpid());
  int fd = openat(RTG_FD_PROC, fds, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || dup3(fd, RTG_FD_PROC, O_CLOEXEC) < 0) return -1;
  close(fd);
  selfFds = RTG_FD_PROC;
  return 0;
}

/* Filesystems that hold files: disks, memory, network shares, overlays. An allow-list, not a deny-list of
 * pseudo filesystems (procfs, sysfs, cgroup, debugfs, tracefs, securityfs, bpf, devpts, configfs, pstore,
 * efivarfs, mqueue, nsfs...): their files show or change kernel state, and the kernel keeps adding new ones a
 * deny-list would serve. FUSE is not listed: its daemon (maybe the container's own) makes up sizes and contents
 * and can stall the broker forever. */
static const unsigned long fileTrees[] = {
    0xEF53,     /* ext2/3/4 */
    0x58465342, /* xfs */
    0x9123683E, /* btrfs */
    0x01021994, /* tmpfs (also devtmpfs) */
    0x858458F6, /* ramfs */
    0x794C7630, /* overlayfs */
    0x61756673, /* aufs */
    0x73717368, /* squashfs */
    0xE0F5E1E2, /* erofs */
    0xF2F52010, /* f2fs */
    0x2FC12FC1, /* zfs */
    0xCA451A4E, /* bcachefs */
    0x3153464A, /* jfs */
    0x52654973, /* reiserfs */
    0x3434,     /* nilfs2 */
    0x01161970, /* gfs2 */
    0x7461636F, /* ocfs2 */
    0x6969,     /* nfs */
    0xFF534D42, /* cifs */
    0xFE534D42, /* smb2 */
    0x01021997, /* 9p */
    0x00C36400, /* ceph */
    0x4D44,     /* vfat/msdos */
    0x2011BAB0, /* exfat */
    0x7366746E, /* ntfs3 */
    0x9660,     /* iso9660 */
    0x15013346, /* udf */
    0x482B,     /* hfsplus */
};

static int sendStatus(int conn, int status) {
  int32_t s = status;
  return writeAll(conn, &s, sizeof s);
}

/* The answer to a failed request: an errno, or a refusal with its reason. */
static int sendError(int conn, int err) {
  if (err != EREFUSED) return sendStatus(conn, err);
  unsigned char out[4 + 16];
  int32_t s = RTG_REFUSED;
  uint32_t why[2] = {refusal.why, 0};
  memcpy(out, &s, 4);
  memcpy(out + 4, why, 8);
  memcpy(out + 12, &refusal.detail, 8);
  return writeAll(conn, out, sizeof out);
}

static int sendFrame(int conn, const void* data, uint32_t len) {
  if (writeAll(conn, &len, sizeof len) < 0) return -1;
  return len > 0 ? writeAll(conn, data, len) : 0;
}

static void sendStreamError(int conn, int err) {
  uint32_t marker = RTG_FRAME_ERROR;
  int32_t e = err;
  if (writeAll(conn, &marker, sizeof marker) == 0) writeAll(conn, &e, sizeof e);
}

/* RTG_KERNEL_PROC / RTG_KERNEL_SYS when a path's first component is proc / sys, else 0. */
static int kernelDir(const char* name, size_t len) {
  if (len == 4 && memcmp(name, "proc", 4) == 0) return RTG_KERNEL_PROC;
  if (len == 3 && memcmp(name, "sys", 3) == 0) return RTG_KERNEL_SYS;
  return 0;
}

/* Refuses a request path that names the container's /proc or /sys once "." and "x/.." are folded: before
 * anything is opened (the container's /proc/self does not even resolve for us). Links that lead there are
 * caught after opening, by checkServable. */
static int checkRequestPath(const char* rel) {
  const char* first = NULL;
  size_t firstLen = 0;
  int depth = 0;
  for (const char* p = rel; *p != '\0';) {
    while (*p == '/') p++;
    const char* start = p;
    while (*p != '\0' && *p != '/') p++;
    size_t len = (size_t)(p - start);
    if (len == 0 || (len == 1 && start[0] == '.')) continue;
    if (len == 2 && start[0] == '.' && start[1] == '.') {
      if (depth > 0) depth--;
      continue;
    }
    if (depth == 0) {
      first = start;
      firstLen = len;
    }
    depth++;
  }
  int k = depth > 0 ? kernelDir(first, firstLen) : 0;
  return k != 0 ? refuse(RTG_WHY_KERNEL_PATH, (uint64_t)k) : 0;
}

/*
 * Refuses what the broker must not serve, checked on the opened descriptor (O_PATH is enough), so that symlinks,
 * mounts the container made since, and a swap between look and open are all accounted for: anything not on a
 * file tree's filesystem, and anything whose real place is under the container's /proc or /sys (whatever is
 * mounted there: masks, binds, or plain directories of the image).
 */
static int checkServable(int rootfd, int fd) {
  struct statfs sf;
  if (fstatfs(fd, &sf) < 0) return -1;
  int tree = 0;
  for (size_t i = 0; i < sizeof fileTrees / sizeof fileTrees[0]; i++) tree |= (unsigned long)sf.f_type == fileTrees[i];
  if (!tree) return refuse(RTG_WHY_FS, (uint64_t)(unsigned long)sf.f_type);
  /* Where the kernel says both are (our root is the container's after pivot_root; before it, the rootfs's
   * host path): the object's path below the root's. */
  char rootPath[RTG_MAX_PATH + 1], path[RTG_MAX_PATH + 1];
  if (pathOf(rootfd, rootPath, sizeof rootPath) < 0 || pathOf(fd, path, sizeof path) < 0) return -1;
  size_t rl = strlen(rootPath);
  if (rl == 1) rl = 0; /* "/" */
  if (strncmp(path, rootPath, rl) != 0 || (path[rl] != '/' && path[rl] != '\0')) return errno = EXDEV, -1;
  const char* below = path + rl + (path[rl] == '/');
  int k = kernelDir(below, strcspn(below, "/"));
  return k != 0 ? refuse(RTG_WHY_KERNEL_PATH, (uint64_t)k) : 0;
}

/* Regular files only: a directory is EISDIR, anything else (fifo, device, socket) refused. */
static int checkRegular(const struct stat* st) {
  if (S_ISREG(st->st_mode)) return 0;
  if (S_ISDIR(st->st_mode)) return errno = EISDIR, -1;
  return refuse(RTG_WHY_TYPE, st->st_mode & S_IFMT);
}

/* Opens, through /proc/self/fd, the very file an O_PATH descriptor names: checked first, then opened, with
 * nothing resolved in between. */
static int reopen(int pfd, int flags) {
  char name[16];
  snprintf(name, sizeof name, "%d", pfd);
  int fd;
  do fd = openat(selfFds, name, flags | O_CLOEXEC | O_NOCTTY);
  while (fd < 0 && errno == EINTR);
  return fd;
}

/*
 * The O_PATH descriptor of an existing regular file the broker serves (a final symlink is followed, beneath the
 * root; opening nothing before the checks: a fifo would block, a device node could act), or -1.
 */
static int lookRegular(int rootfd, const char* rel) {
  int pfd = openHow(rootfd, rel, O_PATH, 0, BENEATH);
  if (pfd < 0) return -1;
  struct stat st;
  if (fstat(pfd, &st) < 0 || checkServable(rootfd, pfd) < 0 || checkRegular(&st) < 0) {
    int err = errno;
    close(pfd);
    return errno = err, -1;
  }
  return pfd;
}

static void doRead(int conn, int rootfd, const char* rel) {
  int pfd = lookRegular(rootfd, rel);
  int fd = pfd < 0 ? -1 : reopen(pfd, O_RDONLY | O_NONBLOCK);
  struct stat st;
  int err = fd < 0 || fstat(fd, &st) < 0 ? errno : 0;
  if (pfd >= 0) close(pfd);
  if (err != 0) {
    if (fd >= 0) close(fd);
    sendError(conn, err);
    return;
  }
  if (sendStatus(conn, 0) == 0) {
    static char buf[CHUNK];
    /* The size it had when opened, and no more: a file that keeps growing (a log the container writes as we
     * read) must not fill the disk it is copied to. */
    uint64_t left = (uint64_t)st.st_size;
    for (;;) {
      ssize_t n = left == 0 ? 0 : read(fd, buf, left < sizeof buf ? (size_t)left : sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        sendStreamError(conn, errno);
        break;
      }
      left -= (uint64_t)n;
      if (sendFrame(conn, buf, (uint32_t)n) < 0 || n == 0) break;
    }
  }
  close(fd);
}

static void doList(int conn, int rootfd, const char* rel) {
  /* Opening a directory for reading has no side effects; what it is is checked before anything is sent. */
  int fd = openHow(rootfd, rel, O_RDONLY | O_DIRECTORY, 0, BENEATH);
  DIR* dir = fd < 0 || checkServable(rootfd, fd) < 0 ? NULL : fdopendir(fd);
  if (dir == NULL) {
    int err = errno;
    if (fd >= 0) close(fd);
    sendError(conn, err);
    return;
  }
  if (sendStatus(conn, 0) == 0) {
    char entry[1 + 256];
    for (;;) {
      errno = 0;
      struct dirent* d = readdir(dir);
      if (d == NULL) {
        if (errno != 0) sendStreamError(conn, errno);
        else sendFrame(conn, NULL, 0);
        break;
      }
      if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0) continue;
      unsigned char type = d->d_type;
      if (type == DT_UNKNOWN) {
        struct stat st;
        if (fstatat(fd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
          type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
        }
      }
      entry[0] = (char)(type == DT_REG ? RTG_T_FILE : type == DT_DIR ? RTG_T_DIR : type == DT_LNK ? RTG_T_SYMLINK : RTG_T_OTHER);
      size_t len = strlen(d->d_name);
      memcpy(entry + 1, d->d_name, len);
      if (sendFrame(conn, entry, (uint32_t)(len + 1)) < 0) break;
    }
  }
  closedir(dir);
}

static void doStat(int conn, int rootfd, const char* rel) {
  int fd = openHow(rootfd, rel, O_PATH, 0, BENEATH);
  struct stat st;
  if (fd < 0 || checkServable(rootfd, fd) < 0 || fstat(fd, &st) < 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    sendError(conn, err);
    return;
  }
  close(fd);
  unsigned char out[40];
  uint32_t u[4] = {st.st_mode, st.st_uid, st.st_gid, (uint32_t)st.st_nlink};
  uint64_t size = (uint64_t)st.st_size;
  int64_t sec = st.st_mtim.tv_sec;
  uint32_t tail[2] = {(uint32_t)st.st_mtim.tv_nsec, 0};
  memcpy(out, u, 16);
  memcpy(out + 16, &size, 8);
  memcpy(out + 24, &sec, 8);
  memcpy(out + 32, tail, 8);
  if (sendStatus(conn, 0) == 0) writeAll(conn, out, sizeof out);
}

/*
 * Splits rel into its parent directory, opened O_PATH beneath the root and checked like any served path, and its
 * last component (in `name`, which must hold RTG_MAX_PATH + 1). Refuses "", "." and ".." as the last component
 * (EEXIST, EXDEV for ".."). Returns the parent's descriptor or -1.
 */
static int openParent(int rootfd, const char* rel, char* name) {
  char parent[RTG_MAX_PATH + 1];
  snprintf(parent, sizeof parent, "%s", rel);
  size_t len = strlen(parent);
  while (len > 1 && parent[len - 1] == '/') parent[--len] = '\0';
  char* slash = strrchr(parent, '/');
  const char* dirPath = ".";
  if (slash != NULL) {
    *slash = '\0';
    strcpy(name, slash + 1);
    dirPath = parent[0] ? parent : ".";
  } else {
    strcpy(name, parent);
  }
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return errno = strcmp(name, "..") == 0 ? EXDEV : EEXIST, -1;
  int dir = openHow(rootfd, dirPath, O_PATH | O_DIRECTORY, 0, BENEATH);
  if (dir >= 0 && checkServable(rootfd, dir) < 0) {
    int err = errno;
    close(dir);
    return errno = err, -1;
  }
  return dir;
}

/* Opens rel for writing: an existing regular file (checked, then truncated) or a new one. */
static int openForWrite(int rootfd, const char* rel, uint32_t mode) {
  int pfd = lookRegular(rootfd, rel);
  if (pfd >= 0) {
    int fd = reopen(pfd, O_WRONLY | O_TRUNC | O_NONBLOCK);
    int err = errno;
    close(pfd);
    return errno = err, fd;
  }
  if (errno != ENOENT) return -1;
  /* A new file, made in its checked parent. O_EXCL | O_NOFOLLOW: a final symlink (one dangling, since the
   * look above found nothing) is not followed to wherever it points. */
  char name[RTG_MAX_PATH + 1];
  int dir = openParent(rootfd, rel, name);
  if (dir < 0) return -1;
  int fd = openat(dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, mode ? mode & 07777 : 0644);
  int err = errno;
  struct stat st;
  if (fd < 0 && err == EEXIST && fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode)) err = ELOOP;
  close(dir);
  return errno = err, fd;
}

static void doWrite(int conn, int rootfd, const char* rel, uint32_t mode) {
  int fd = openForWrite(rootfd, rel, mode);
  if (fd < 0) {
    sendError(conn, errno);
    return;
  }
  if (sendStatus(conn, 0) < 0) {
    close(fd);
    return;
  }
  int err = 0;
  static char buf[CHUNK];
  for (;;) {
    uint32_t len;
    if (readAll(conn, &len, sizeof len) < 0) {
      err = errno;
      break;
    }
    if (len == 0) break;
    if (len > RTG_MAX_FRAME) {
      err = EMSGSIZE;
      break;
    }
    while (len > 0 && err == 0) {
      uint32_t part = len < sizeof buf ? len : (uint32_t)sizeof buf;
      if (readAll(conn, buf, part) < 0) {
        err = errno;
        break;
      }
      /* Keep draining the frame after a write error so the client still reads our answer. */
      if (err == 0 && writeAll(fd, buf, part) < 0) err = errno;
      len -= part;
    }
    if (err != 0) break;
  }
  if (close(fd) < 0 && err == 0) err = errno;
  sendStatus(conn, err);
}

static void doMkdir(int conn, int rootfd, const char* rel, uint32_t mode) {
  char name[RTG_MAX_PATH + 1];
  int dir = openParent(rootfd, rel, name);
  int err = 0;
  if (dir < 0) err = errno;
  else if (mkdirat(dir, name, mode ? mode & 07777 : 0755) < 0) err = errno;
  if (dir >= 0) close(dir);
  sendError(conn, err);
}

static void serve(int conn, int rootfd) {
  uint32_t head[4];
  if (readAll(conn, head, sizeof head) < 0) return;
  if (head[0] != RTG_REQ_MAGIC || head[3] > RTG_MAX_PATH) {
    sendStatus(conn, EBADMSG);
    return;
  }
  char path[RTG_MAX_PATH + 1];
  if (readAll(conn, path, head[3]) < 0) return;
  path[head[3]] = '\0';
  if (memchr(path, 0, head[3]) != NULL) {
    sendStatus(conn, EINVAL);
    return;
  }
  const char* rel = relative(path);
  if (head[1] != RTG_PID && checkRequestPath(rel) < 0) {
    sendError(conn, errno);
    return;
  }
  switch (head[1]) {
    case RTG_READ:
      doRead(conn, rootfd, rel);
      break;
    case RTG_WRITE:
      doWrite(conn, rootfd, rel, head[2]);
      break;
    case RTG_LIST:
      doList(conn, rootfd, rel);
      break;
    case RTG_STAT:
      doStat(conn, rootfd, rel);
      break;
    case RTG_MKDIR_OP:
      doMkdir(conn, rootfd, rel, head[2]);
      break;
    case RTG_PID: {
      uint32_t pid = (uint32_t)getpid();
      if (sendStatus(conn, 0) == 0) writeAll(conn, &pid, sizeof pid);
      break;
    }
    default:
      sendStatus(conn, EOPNOTSUPP);
      break;
  }
}

int main(void) {
  /* Only SIGKILL ends us (stage-1 ignored these already; an exec keeps that). */
  static const int ignored[] = RTG_IGNORED_SIGNALS;
  for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) signal(ignored[i], SIG_IGN);
  /* Our own session: out of the caller's process group and terminal. */
  setsid();
  /* Exact modes for what the clients create. */
  umask(0);
  /* A start that fails just exits: the connection that started us closes, and the client says the gofer is gone
   * (stderr is /dev/null; the exit status is the step that failed). */
  /* pivot_root moves the cwd of the processes whose cwd was the old root: be one of them. */
  if (chdir("/") < 0) return 2;
  if (openSelfFds() < 0) return 3;
  const int rootfd = RTG_FD_ROOT;
  struct stat rootSt;
  if (fstat(rootfd, &rootSt) < 0 || !S_ISDIR(rootSt.st_mode)) return 4;
  if (dropCapabilities() < 0) return 5;
  close(RTG_FD_NULL);
  /* Nothing of ours is to be ptraced or dumped by the container's processes. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  for (;;) {
    /* A removed directory has no links left; EBADF (started without one) means: never. Checked between
     * requests and, when idle, every RTG_STATE_CHECK_MS. */
    struct stat st;
    if (fstat(RTG_FD_STATEDIR, &st) == 0 && st.st_nlink == 0) return 0;
    struct pollfd p = {RTG_FD_LISTEN, POLLIN, 0};
    if (poll(&p, 1, RTG_STATE_CHECK_MS) <= 0) continue;
    int conn = accept4(RTG_FD_LISTEN, NULL, NULL, SOCK_CLOEXEC);
    if (conn < 0) {
      /* EMFILE and friends: back off instead of spinning. */
      if (errno != EINTR && errno != ECONNABORTED) usleep(100 * 1000);
      continue;
    }
    struct timeval tv = {CLIENT_TIMEOUT_SEC, 0};
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(conn, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    serve(conn, rootfd);
    close(conn);
  }
}
