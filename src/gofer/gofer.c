/* runts-gofer: one small static process per container (wire formats: wire.h).
 *
 * Stage-1 of a container's spawn starts it in the container's new mount namespace, right after the
 * rootfs was bound onto itself and before the pid namespace and the container's cgroup: so it is invisible
 * inside the container (no /proc entry there) and out of reach of `ps` / `kill --all`.
 *
 * 1. Mounts. It performs the mounts TypeScript listed (everything but proc, which needs the container's
 *    pid namespace and is left to the init), resolving every destination inside the rootfs with
 *    openat2(RESOLVE_IN_ROOT): a destination that is, or passes through, a symlink to /etc lands on
 *    <rootfs>/etc, never the host's. Missing components are created one at a time under their resolved
 *    parent. The mount itself targets /proc/self/fd/<fd> of the resolved O_PATH descriptor (as runc does),
 *    so nothing can swap a symlink in between. Each REPORT entry sends the cleaned host path back.
 * 2. Broker. When the init later calls pivot_root, the kernel moves the root and cwd of every process of
 *    the namespace whose root was the old root — this one too — so from then on our "/" is the rootfs.
 *    We serve READ / WRITE / LIST / STAT / MKDIR / PID requests on the listening socket, one connection at a
 *    time, resolving with RESOLVE_BENEATH: "..", absolute symlinks and symlinks that climb out are
 *    refused with EXDEV, /proc magic links with ELOOP.
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
#include <unistd.h>

#include "wire.h"

/* How long one client may stall a read or a write before we drop it (connections are served one by one). */
#define CLIENT_TIMEOUT_SEC 30
/* How often an idle gofer checks whether its container's state directory still exists. */
#define STATE_CHECK_MS 10000
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

/* ---- start-up: the mount list ---------------------------------------------------------------------- */

struct Str {
  const char* p;
  uint32_t len;
};

struct Cursor {
  const unsigned char* at;
  const unsigned char* end;
};

static int takeU32(struct Cursor* c, uint32_t* v) {
  if (c->end - c->at < 4) return -1;
  memcpy(v, c->at, 4);
  c->at += 4;
  return 0;
}

static int takeU64(struct Cursor* c, uint64_t* v) {
  if (c->end - c->at < 8) return -1;
  memcpy(v, c->at, 8);
  c->at += 8;
  return 0;
}

static int takeStr(struct Cursor* c, struct Str* s) {
  if (takeU32(c, &s->len) < 0 || (size_t)(c->end - c->at) < s->len) return -1;
  s->p = (const char*)c->at;
  c->at += s->len;
  return 0;
}

/* A NUL-terminated copy in buf (cap RTG_MAX_PATH + 1); -1 (ENAMETOOLONG / EINVAL) when it cannot be one. */
static int cstr(const struct Str* s, char* buf, size_t cap) {
  if (s->len >= cap) return errno = ENAMETOOLONG, -1;
  if (memchr(s->p, 0, s->len) != NULL) return errno = EINVAL, -1;
  memcpy(buf, s->p, s->len);
  buf[s->len] = '\0';
  return 0;
}

static void report(uint32_t type, int err, uint32_t index, const char* path) {
  uint32_t len = path != NULL ? (uint32_t)strlen(path) : 0;
  uint32_t head[4] = {type, (uint32_t)err, index, len};
  /* Stage-1 reads until DONE or EOF: if it is gone there is nobody to tell, so errors are ignored. */
  if (writeAll(RTG_FD_REPORT, head, sizeof head) == 0 && len > 0) writeAll(RTG_FD_REPORT, path, len);
}

/* The O_PATH descriptor of an existing path inside the root, or -1. */
static int openInRoot(int rootfd, const char* path) {
  return openHow(rootfd, relative(path), O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/*
 * mkdir -p (or, with file != 0, mkdir -p of the parent and an empty file) of `path` inside the root.
 * Finds the longest prefix that already resolves inside the root (symlinks included, as the kernel
 * resolves them with / = the root), then creates the rest one component at a time under the descriptor
 * of its parent. A component that turns out to be a symlink (one dangling inside the root, e.g.
 * var/run -> /run before /run exists) is followed the same way: its target, read here and resolved in
 * the root, replaces it and the walk starts over (at most 40 times, like the kernel's ELOOP limit).
 * Returns an O_PATH fd or -1 with errno.
 */
static int ensurePath(int rootfd, const char* path, int file, mode_t mode) {
  char buf[RTG_MAX_PATH + 1];
  if (strlen(path) > RTG_MAX_PATH) return errno = ENAMETOOLONG, -1;
  strcpy(buf, path);
  for (int links = 0;; links++) {
    if (links > 40) return errno = ELOOP, -1;
    char work[RTG_MAX_PATH + 1];
    strcpy(work, buf);
    char* parts[RTG_MAX_PATH / 2 + 1];
    int n = 0;
    for (char* tok = strtok(work, "/"); tok != NULL; tok = strtok(NULL, "/")) {
      if (strcmp(tok, ".") != 0) parts[n++] = tok;
    }
    char prefix[RTG_MAX_PATH + 8];
    int fd = -1, have = n;
    for (; have >= 0; have--) {
      size_t at = 0;
      prefix[0] = '\0';
      for (int i = 0; i < have; i++) at += (size_t)sprintf(prefix + at, "/%s", parts[i]);
      fd = openInRoot(rootfd, prefix);
      if (fd >= 0) break;
      if (errno != ENOENT) return -1;
    }
    if (fd < 0) return -1; /* the root itself is gone */
    int restart = 0;
    for (int i = have; i < n && !restart; i++) {
      const char* name = parts[i];
      const int last = i == n - 1;
      int err = 0;
      /* "missing/.." cannot be created: the kernel would not resolve it either. */
      if (strcmp(name, "..") == 0) {
        err = ENOENT;
      } else if (last && file) {
        int f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (f >= 0) close(f);
        else if (errno != EEXIST) err = errno;
      } else if (mkdirat(fd, name, last ? mode : 0755) < 0 && errno != EEXIST) {
        err = errno;
      }
      int next = err != 0 ? -1 : openHow(fd, name, O_PATH, 0, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
      if (next < 0 && err == 0) err = errno;
      if (err == ELOOP) {
        /* A symlink: rebuild the path as <parent>/<target>/<rest> (or <target>/<rest> for an absolute
         * target, which the resolution in the root anchors at the root) and walk again. */
        char target[RTG_MAX_PATH + 1];
        ssize_t tl = readlinkat(fd, name, target, sizeof target - 1);
        if (tl >= 0) {
          target[tl] = '\0';
          char rebuilt[RTG_MAX_PATH + 8];
          size_t at = 0;
          rebuilt[0] = '\0';
          if (target[0] != '/') {
            for (int k = 0; k < i; k++) at += (size_t)snprintf(rebuilt + at, sizeof rebuilt - at, "/%s", parts[k]);
          }
          at += (size_t)snprintf(rebuilt + at, sizeof rebuilt - at, "/%s", target);
          for (int k = i + 1; k < n && at < sizeof rebuilt; k++) at += (size_t)snprintf(rebuilt + at, sizeof rebuilt - at, "/%s", parts[k]);
          if (at > RTG_MAX_PATH) {
            err = ENAMETOOLONG;
          } else {
            strcpy(buf, rebuilt);
            restart = 1;
            err = 0;
          }
        }
      }
      close(fd);
      fd = next;
      if (err != 0) return errno = err, -1;
    }
    if (!restart) return fd;
  }
}

static void fdPath(char* out, size_t cap, int fd) { snprintf(out, cap, "/proc/self/fd/%d", fd); }

/* What the kernel calls fd's path (symlinks resolved): /proc/self/fd/<fd>'s target. */
static int pathOf(int fd, char* out, size_t cap) {
  char link[64];
  fdPath(link, sizeof link, fd);
  ssize_t n = readlink(link, out, cap - 1);
  if (n < 0) return -1;
  out[n] = '\0';
  return 0;
}

/* The cleaned host path of fd; refuses (EXDEV) anything outside `root` (itself cleaned; a last line of
 * defence, RESOLVE_IN_ROOT already kept us inside). */
static int cleanedPath(int fd, const char* root, char* out, size_t cap) {
  if (pathOf(fd, out, cap) < 0) return -1;
  size_t rl = strlen(root);
  if (strcmp(root, "/") == 0) return 0;
  if (strncmp(out, root, rl) != 0 || (out[rl] != '\0' && out[rl] != '/')) return errno = EXDEV, -1;
  return 0;
}

static int symlinkInRoot(int rootfd, const char* target, const char* linkpath) {
  char parent[RTG_MAX_PATH + 1];
  snprintf(parent, sizeof parent, "%s", linkpath);
  char* slash = strrchr(parent, '/');
  const char* name = linkpath;
  if (slash != NULL) {
    *slash = '\0';
    name = linkpath + (slash - parent) + 1;
  } else {
    parent[0] = '\0';
  }
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return errno = EINVAL, -1;
  int dir = ensurePath(rootfd, parent, 0, 0755);
  if (dir < 0) return -1;
  int r = symlinkat(target, dir, name);
  int err = errno;
  close(dir);
  if (r < 0 && err != EEXIST) return errno = err, -1;
  return 0;
}

/* Runs the mount list; returns 0, or -1 after reporting the failing entry. */
static int doMounts(const unsigned char* list, size_t size, int* rootOut) {
  char root[RTG_MAX_PATH + 1];
  struct Cursor c = {list, list + size};
  uint32_t magic, version, count, reserved;
  struct Str rootStr;
  if (takeU32(&c, &magic) < 0 || takeU32(&c, &version) < 0 || takeU32(&c, &count) < 0 ||
      takeU32(&c, &reserved) < 0 || takeStr(&c, &rootStr) < 0 || magic != RTG_LIST_MAGIC ||
      version != RTG_LIST_VERSION || cstr(&rootStr, root, sizeof root) < 0) {
    report(RTG_R_ERROR, EBADMSG, 0, "mount list");
    return -1;
  }
  int rootfd = openHow(AT_FDCWD, root, O_PATH | O_DIRECTORY, 0, 0);
  /* The bundle path may itself pass through symlinks: compare cleaned paths with the cleaned root. */
  if (rootfd < 0 || pathOf(rootfd, root, sizeof root) < 0) {
    report(RTG_R_ERROR, errno, 0, root);
    return -1;
  }
  for (uint32_t i = 0; i < count; i++) {
    uint32_t kind, mode;
    uint64_t flags;
    struct Str s[4];
    char a[RTG_MAX_PATH + 1], b[RTG_MAX_PATH + 1], fstype[256];
    if (takeU32(&c, &kind) < 0 || takeU32(&c, &mode) < 0 || takeU64(&c, &flags) < 0 || takeStr(&c, &s[0]) < 0 ||
        takeStr(&c, &s[1]) < 0 || takeStr(&c, &s[2]) < 0 || takeStr(&c, &s[3]) < 0 ||
        cstr(&s[0], a, sizeof a) < 0 || cstr(&s[1], b, sizeof b) < 0 || cstr(&s[2], fstype, sizeof fstype) < 0) {
      report(RTG_R_ERROR, EBADMSG, i, "mount list");
      return -1;
    }
    int err = 0;
    switch (kind) {
      case RTG_MKDIR:
      case RTG_MKFILE: {
        int fd = ensurePath(rootfd, b, kind == RTG_MKFILE, (mode_t)mode);
        if (fd < 0) err = errno;
        else close(fd);
        break;
      }
      case RTG_MOUNT: {
        /* Mount data (options) can be long: it gets its own buffer. */
        char* data = NULL;
        if (s[3].len > 0) {
          data = malloc(s[3].len + 1);
          if (data == NULL || cstr(&s[3], data, s[3].len + 1) < 0) {
            err = data == NULL ? ENOMEM : errno;
            free(data);
            break;
          }
        }
        int fd = openInRoot(rootfd, b);
        if (fd < 0) {
          err = errno;
        } else {
          char target[64];
          fdPath(target, sizeof target, fd);
          if (mount(a[0] ? a : NULL, target, fstype[0] ? fstype : NULL, (unsigned long)flags, data) < 0) err = errno;
          close(fd);
        }
        free(data);
        break;
      }
      case RTG_SYMLINK:
        if (symlinkInRoot(rootfd, a, b) < 0) err = errno;
        break;
      case RTG_REPORT: {
        char cleaned[RTG_MAX_PATH + 1];
        int fd = openInRoot(rootfd, b);
        if (fd < 0 || cleanedPath(fd, root, cleaned, sizeof cleaned) < 0) err = errno;
        else report(RTG_R_MOUNTED, 0, i, cleaned);
        if (fd >= 0) close(fd);
        break;
      }
      default:
        err = EBADMSG;
        break;
    }
    if (err != 0) {
      report(RTG_R_ERROR, err, i, b[0] ? b : "mount list");
      return -1;
    }
  }
  *rootOut = rootfd;
  return 0;
}

static int readMountList(unsigned char** out, size_t* size) {
  struct stat st;
  if (fstat(RTG_FD_MOUNTS, &st) < 0) return -1;
  *size = (size_t)st.st_size;
  *out = malloc(*size + 1);
  if (*out == NULL) return errno = ENOMEM, -1;
  if (pread(RTG_FD_MOUNTS, *out, *size, 0) != (ssize_t)*size) return errno = EIO, -1;
  close(RTG_FD_MOUNTS);
  return 0;
}

/* ---- the broker --------------------------------------------------------------------------------------- */

#define BENEATH (RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)

static int sendStatus(int conn, int status) {
  int32_t s = status;
  return writeAll(conn, &s, sizeof s);
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

/*
 * Opens a regular file for reading without side effects on anything else: an O_PATH look first (opening
 * a fifo would block, a device node could act), then the real open, checked to be the same inode.
 */
static int openRegular(int rootfd, const char* rel) {
  int pfd = openHow(rootfd, rel, O_PATH, 0, BENEATH);
  if (pfd < 0) return -1;
  struct stat a, b;
  int r = fstat(pfd, &a);
  close(pfd);
  if (r < 0) return -1;
  if (S_ISDIR(a.st_mode)) return errno = EISDIR, -1;
  if (!S_ISREG(a.st_mode)) return errno = EINVAL, -1;
  int fd = openHow(rootfd, rel, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, BENEATH);
  if (fd < 0) return -1;
  if (fstat(fd, &b) < 0 || b.st_dev != a.st_dev || b.st_ino != a.st_ino) {
    close(fd);
    return errno = EAGAIN, -1;
  }
  return fd;
}

static void doRead(int conn, int rootfd, const char* rel) {
  int fd = openRegular(rootfd, rel);
  if (fd < 0) {
    sendStatus(conn, errno);
    return;
  }
  if (sendStatus(conn, 0) == 0) {
    static char buf[CHUNK];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        sendStreamError(conn, errno);
        break;
      }
      if (sendFrame(conn, buf, (uint32_t)n) < 0 || n == 0) break;
    }
  }
  close(fd);
}

static void doList(int conn, int rootfd, const char* rel) {
  int fd = openHow(rootfd, rel, O_RDONLY | O_DIRECTORY, 0, BENEATH);
  DIR* dir = fd < 0 ? NULL : fdopendir(fd);
  if (dir == NULL) {
    int err = errno;
    if (fd >= 0) close(fd);
    sendStatus(conn, err);
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
  if (fd < 0 || fstat(fd, &st) < 0) {
    int err = errno;
    if (fd >= 0) close(fd);
    sendStatus(conn, err);
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

static void doWrite(int conn, int rootfd, const char* rel, uint32_t mode) {
  struct stat st;
  int err = 0;
  /* Look before opening for writing: a device node must not be opened at all, a fifo not block us. */
  int pfd = openHow(rootfd, rel, O_PATH, 0, BENEATH);
  if (pfd >= 0) {
    if (fstat(pfd, &st) < 0) err = errno;
    else if (!S_ISREG(st.st_mode)) err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
    close(pfd);
  } else if (errno != ENOENT) {
    err = errno;
  }
  if (err != 0) {
    sendStatus(conn, err);
    return;
  }
  /* O_NONBLOCK: should a fifo appear meanwhile, opening it fails (ENXIO) instead of hanging the broker. */
  int fd = openHow(rootfd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_NOCTTY, mode ? mode & 07777 : 0644, BENEATH);
  if (fd < 0) err = errno;
  else if (fstat(fd, &st) < 0) err = errno;
  else if (!S_ISREG(st.st_mode)) err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
  if (err != 0) {
    if (fd >= 0) close(fd);
    sendStatus(conn, err);
    return;
  }
  if (sendStatus(conn, 0) < 0) {
    close(fd);
    return;
  }
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
  char parent[RTG_MAX_PATH + 1];
  snprintf(parent, sizeof parent, "%s", rel);
  size_t len = strlen(parent);
  while (len > 1 && parent[len - 1] == '/') parent[--len] = '\0';
  char* slash = strrchr(parent, '/');
  const char* name = parent;
  const char* dirPath = ".";
  if (slash != NULL) {
    *slash = '\0';
    name = slash + 1;
    dirPath = parent[0] ? parent : ".";
  }
  if (name[0] == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
    sendStatus(conn, strcmp(name, "..") == 0 ? EXDEV : EEXIST);
    return;
  }
  int dir = openHow(rootfd, dirPath, O_PATH | O_DIRECTORY, 0, BENEATH);
  int err = 0;
  if (dir < 0) err = errno;
  else if (mkdirat(dir, name, mode ? mode & 07777 : 0755) < 0) err = errno;
  if (dir >= 0) close(dir);
  sendStatus(conn, err);
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
  /* Only SIGKILL ends us: a client that hangs up (SIGPIPE), a Ctrl-C on the terminal `runts run` was
   * started from (SIGINT to its process group) or a stray SIGTERM must not take the broker down. */
  static const int ignored[] = {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM};
  for (size_t i = 0; i < sizeof ignored / sizeof ignored[0]; i++) signal(ignored[i], SIG_IGN);
  /* Our own session: out of the caller's process group and terminal. */
  setsid();
  /* Exact modes for what we create (the mount list's and the clients'). */
  umask(0);
  /* pivot_root moves the cwd of the processes whose cwd was the old root: be one of them. */
  if (chdir("/") < 0) {
    report(RTG_R_ERROR, errno, 0, "/");
    return 1;
  }

  unsigned char* list = NULL;
  size_t size = 0;
  if (readMountList(&list, &size) < 0) {
    report(RTG_R_ERROR, errno, 0, "mount list");
    return 1;
  }
  int rootfd = -1;
  if (doMounts(list, size, &rootfd) < 0) return 1;
  free(list);
  report(RTG_R_DONE, 0, 0, NULL);
  close(RTG_FD_REPORT);
  /* Nothing of ours is to be ptraced or dumped by the container's processes. */
  prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

  for (;;) {
    /* A removed directory has no links left; EBADF (started without one) means: never. Checked between
     * requests and, when idle, every STATE_CHECK_MS. */
    struct stat st;
    if (fstat(RTG_FD_STATEDIR, &st) == 0 && st.st_nlink == 0) return 0;
    struct pollfd p = {RTG_FD_LISTEN, POLLIN, 0};
    if (poll(&p, 1, STATE_CHECK_MS) <= 0) continue;
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
