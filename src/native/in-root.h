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
 * mkdir -p of `path` inside the root; returns an O_PATH fd of the directory. The longest prefix that resolves is
 * opened in the root; the rest is made one component at a time under its parent's fd. A component that exists
 * but does not resolve (a dangling symlink) fails with ELOOP rather than being followed out of the walk.
 */
static inline int rtMkdirAllInRoot(int rootFd, const char* path, mode_t mode) {
  char buf[RT_MAX_PATH + 1];
  const long copied = rtCopyPath(buf, path);
  if (copied < 0) return (int)copied;
  const size_t len = (size_t)copied;
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
  while (at < len) {
    while (buf[at] == '/') at++;
    size_t end = at;
    while (end < len && buf[end] != '/') end++;
    if (end == at) break;
    buf[end] = '\0';
    const char* name = buf + at;
    int err = 0;
    if (strcmp(name, ".") == 0) {
      at = end + 1;
      continue;
    }
    /* "missing/.." cannot be made: the kernel would not resolve it either. */
    if (strcmp(name, "..") == 0) err = ENOENT;
    else if (mkdirat(fd, name, mode) < 0 && errno != EEXIST) err = errno;
    int next = err != 0 ? -err : rtOpenChild(fd, name);
    close(fd);
    if (next < 0) return next;
    fd = next;
    at = end + 1;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
    close(fd);
    return -ENOTDIR;
  }
  return fd;
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
  return create ? rtMkdirAllInRoot(rootFd, dir, 0755) : rtOpenInRoot(rootFd, dir);
}

#endif
