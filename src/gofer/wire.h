/* The gofer's wire formats, shared by src/gofer/gofer.c (the gofer), src/native/child.cc (stage-1,
 * which starts it) and mirrored in src/gofer/protocol.ts (TypeScript). Plain C: gofer.c is C, child.cc
 * C++. All integers little-endian (host order; runts targets x86_64 and arm64 Linux).
 *
 * Descriptors the gofer is started with (stage-1 dup2s them to these numbers, waits for the first connection on 3,
 * then execveat — see becomeGofer in child.cc):
 *   0,1,2  /dev/null        the gofer must not hold the container's stdio (containerd waits for its EOF)
 *   3      listening unix socket (the broker's, bound on <root>/<id>/gofer.sock)
 *   4      /dev/null        no one waits for the gofer's start: it starts at its first connection, and a start
 *                           that fails closes that connection (the client reports the gofer gone)
 *   5      the container's root, O_PATH (the rootfs, or "/" of a joined mount namespace)
 *   6      the container's state directory (<root>/<id>), O_PATH: once it is removed (st_nlink 0) the
 *          container is gone and the gofer exits by itself (a safety net when runts died before it
 *          could stop it; the runtime's own stop is SIGKILL)
 *
 * Broker (client <-> gofer, on the unix socket; one request per connection):
 *   request   u32 magic = RTG_REQ_MAGIC, u32 op, u32 mode, u32 pathLen, pathLen bytes
 *   response  i32 status: 0, a positive errno, or RTG_REFUSED followed by u32 why (RTG_WHY_*), u32 reserved,
 *             u64 detail (the filesystem magic, RTG_KERNEL_PROC/SYS, or the S_IFMT bits); nothing more unless 0,
 *             then per op:
 *     READ    frames: u32 len + len bytes; len 0 ends; len RTG_FRAME_ERROR is followed by an i32 errno. At most
 *             the size the file had when it was opened is sent.
 *     LIST    frames as READ, one per entry: u8 type (RTG_T_*) + name
 *     STAT    u32 mode, u32 uid, u32 gid, u32 nlink, u64 size, i64 mtime seconds, u32 mtime nanoseconds,
 *             u32 reserved (40 bytes)
 *     WRITE   the client then sends frames (u32 len + bytes, len 0 ends), the gofer answers an i32 status
 *     MKDIR   nothing
 *     PID     u32 the gofer's pid (as its own pid namespace — the runtime's — numbers it): lets a
 *             teardown that lost the recorded pid (a crash during create) still find and stop it
 *   Paths are relative to the container's root; resolution refuses (EXDEV) anything that leaves it.
 *   RTG_REFUSED: what the path leads to is not served — something on a filesystem that is not a file tree (procfs,
 *   sysfs, cgroup...: RTG_WHY_FS), anything under the container's /proc or /sys (RTG_WHY_KERNEL_PATH), or, for
 *   READ/WRITE, what is neither a regular file nor a directory (RTG_WHY_TYPE).
 */
#ifndef RUNTS_GOFER_WIRE_H
#define RUNTS_GOFER_WIRE_H

#define RTG_FD_LISTEN 3
#define RTG_FD_NULL 4
#define RTG_FD_ROOT 5
#define RTG_FD_STATEDIR 6
/* A procfs in which we have our pid (O_PATH, its root): opened by stage 1 of the spawn (the process that then execs
 * the gofer) before the init could change the mounts. The gofer replaces it with its /proc/<pid>/fd, through which
 * it reopens descriptors. */
#define RTG_FD_PROC 7

/* The signals the gofer — and stage-1 while it waits to become it — ignores: a client going away (SIGPIPE), a Ctrl-C
 * on the terminal `runts run` was started from (SIGINT to its process group) or a stray SIGTERM must not take the
 * broker down; the runtime stops it with SIGKILL. */
#define RTG_IGNORED_SIGNALS {SIGPIPE, SIGHUP, SIGINT, SIGTERM, SIGQUIT, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU, SIGALRM}

/* How often an idle gofer (or stage-1 waiting to become it) checks whether its container's state directory still
 * exists. */
#define RTG_STATE_CHECK_MS 10000

#define RTG_REQ_MAGIC 0x51475452u /* "RTGQ" */

enum {
  RTG_READ = 1,
  RTG_WRITE = 2,
  RTG_LIST = 3,
  RTG_STAT = 4,
  RTG_MKDIR_OP = 5,
  RTG_PID = 6
};

/* Entry types of LIST. */
enum {
  RTG_T_OTHER = 0,
  RTG_T_FILE = 1,
  RTG_T_DIR = 2,
  RTG_T_SYMLINK = 3
};

/* The status of a refusal, and its reasons. */
#define RTG_REFUSED (-1)
enum {
  RTG_WHY_FS = 1,
  RTG_WHY_KERNEL_PATH = 2,
  RTG_WHY_TYPE = 3
};
enum {
  RTG_KERNEL_PROC = 1,
  RTG_KERNEL_SYS = 2
};

#define RTG_FRAME_ERROR 0xFFFFFFFFu
#define RTG_MAX_FRAME (1u << 20)
#define RTG_MAX_PATH 4096u

#endif
