/* Path operations inside a container's rootfs, from an fd of the rootfs (used by child.cc until pivot_root).
 *
 * Everything under the rootfs belongs to the image's author: a path is never joined onto the rootfs as a host
 * string. It is resolved by the kernel with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks (".." too)
 * are followed as if the rootfs were "/", and /proc magic links (/proc/self/root, /proc/1/cwd...) are refused with
 * ELOOP. What does not exist yet is created with *at() calls under the descriptor of its resolved parent.
 *
 * Plain C, stack buffers and raw syscalls only (the init runs it after a clone, see child.cc); functions return
 * an fd or 0 on success and -errno on failure.
 */
#ifndef RUNTS_IN_ROOT_H
#define RUNTS_IN_ROOT_H

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define RT_MAX_PATH 4095

static inline int rtOpenHow(int dirfd, const char* path, uint64_t flags, uint64_t resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = flags | O_CLOEXEC;
  how.resolve = resolve;
  int fd;
  do fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
  while (fd < 0 && errno == EINTR);
  return fd < 0 ? -errno : fd;
}

/* An O_PATH fd of `path` (absolute or not: it is always taken from the root), which must exist. */
static inline int rtOpenInRoot(int rootFd, const char* path) {
  while (*path == '/') path++;
  return rtOpenHow(rootFd, *path == '\0' ? "." : path, O_PATH, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

/* The O_PATH fd of one component just created (or found) under `dirFd`: never a symlink, never another mount's
 * trick — whatever it is must be exactly what mkdirat/mknodat made. */
static inline int rtOpenChild(int dirFd, const char* name) {
  return rtOpenHow(dirFd, name, O_PATH, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
}

/* Copies `path` into `out` (RT_MAX_PATH + 1 bytes) without its trailing slashes ("/" stays "/"); returns its
 * length, or -ENAMETOOLONG. */
static inline long rtCopyPath(char* out, const char* path) {
  size_t len = strlen(path);
  if (len > RT_MAX_PATH) return -ENAMETOOLONG;
  memcpy(out, path, len + 1);
  while (len > 1 && out[len - 1] == '/') out[--len] = '\0';
  return (long)len;
}

/*
 * mkdir -p of `path` (file == 0), or mkdir -p of its parent and an empty file (file != 0), inside the root;
 * returns an O_PATH fd of what is there. The longest prefix that resolves is opened in the root; the rest is made
 * one component at a time under its parent's fd. A component that exists as a symlink the kernel could not resolve
 * yet (a dangling link of the image: etc/resolv.conf -> ../run/resolv.conf before /run has it) is followed the way
 * the kernel would with the rootfs as "/": the path is rebuilt as <parent>/<target>/<rest> and the walk starts
 * again, at most 40 times (the kernel's own limit). The rebuilt path is resolved in the root like any other, so a
 * link never leads the walk out of it.
 */
static inline int rtEnsureInRoot(int rootFd, const char* path, int file, mode_t mode) {
  char buf[RT_MAX_PATH + 1];
  const long copied = rtCopyPath(buf, path);
  if (copied < 0) return (int)copied;
  for (int links = 0;; links++) {
    if (links > 40) return -ELOOP;
    const size_t len = strlen(buf);
    /* Walk back from the whole path to the longest prefix that exists. */
    size_t have = len;
    int fd;
    for (;;) {
      char saved = buf[have];
      buf[have] = '\0';
      fd = rtOpenInRoot(rootFd, buf);
      buf[have] = saved;
      if (fd >= 0 || fd != -ENOENT || have == 0) break;
      while (have > 0 && buf[have - 1] != '/') have--; /* drop the last component */
      while (have > 0 && buf[have - 1] == '/') have--; /* and the slashes before it */
    }
    if (fd < 0) return fd;
    /* Create what is missing. */
    size_t at = have;
    int followed = 0;
    while (at < len && !followed) {
      while (buf[at] == '/') at++;
      size_t end = at;
      while (end < len && buf[end] != '/') end++;
      if (end == at) break;
      const char saved = buf[end];
      buf[end] = '\0';
      const char* name = buf + at;
      const int last = end >= len;
      int err = 0;
      if (strcmp(name, ".") == 0) {
        buf[end] = saved;
        at = end;
        continue;
      }
      /* "missing/.." cannot be made: the kernel would not resolve it either. */
      if (strcmp(name, "..") == 0) {
        err = ENOENT;
      } else if (last && file) {
        int f = openat(fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, mode);
        if (f >= 0) close(f);
        else if (errno != EEXIST) err = errno;
      } else if (mkdirat(fd, name, last ? mode : 0755) < 0 && errno != EEXIST) {
        err = errno;
      }
      int next = err != 0 ? -err : rtOpenChild(fd, name);
      if (next == -ELOOP) {
        /* A symlink: follow it by rebuilding the path around its target. */
        char target[RT_MAX_PATH + 1];
        char rebuilt[RT_MAX_PATH + 1];
        ssize_t tl = readlinkat(fd, name, target, sizeof target - 1);
        if (tl >= 0) {
          target[tl] = '\0';
          const char* rest = saved != '\0' ? buf + end + 1 : "";
          /* A relative target is taken from the link's directory (buf up to `at`); an absolute one from the root. */
          const size_t dirLen = target[0] == '/' ? 0 : at;
          const size_t total = dirLen + (size_t)tl + 1 + strlen(rest);
          if (total > RT_MAX_PATH) {
            next = -ENAMETOOLONG;
          } else {
            memcpy(rebuilt, buf, dirLen);
            memcpy(rebuilt + dirLen, target, (size_t)tl);
            rebuilt[dirLen + (size_t)tl] = '/';
            strcpy(rebuilt + dirLen + (size_t)tl + 1, rest);
            rtCopyPath(buf, rebuilt);
            followed = 1;
          }
        }
      }
      close(fd);
      if (followed) break;
      if (next < 0) return next;
      fd = next;
      buf[end] = saved;
      at = end;
    }
    if (followed) continue;
    struct stat st;
    if (!file && (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))) {
      close(fd);
      return -ENOTDIR;
    }
    return fd;
  }
}

/*
 * Splits `path` into its parent, made with mkdir -p inside the root (returned as an O_PATH fd), and its last
 * component, copied to `name`. A path without a proper last component ("/", "/a/..") is EINVAL.
 */
static inline int rtParentInRoot(int rootFd, const char* path, char* name, size_t cap, int create) {
  char dir[RT_MAX_PATH + 1];
  const long len = rtCopyPath(dir, path);
  if (len < 0) return (int)len;
  size_t cut = (size_t)len;
  while (cut > 0 && dir[cut - 1] != '/') cut--;
  const char* last = dir + cut;
  if (*last == '\0' || strcmp(last, ".") == 0 || strcmp(last, "..") == 0 || strlen(last) >= cap) return -EINVAL;
  memcpy(name, last, strlen(last) + 1);
  dir[cut] = '\0';
  return create ? rtEnsureInRoot(rootFd, dir, 0, 0755) : rtOpenInRoot(rootFd, dir);
}

#endif
