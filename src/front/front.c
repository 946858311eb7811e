/*
 * bin/runts: the native front of runts' command line. Starting Node costs every command ~100 ms; a warm runts host
 * (`runts supervise`, or one this front starts) already has it loaded. So:
 *
 * - When a host serves the state root (<root>/host/front.sock answers, and its uid is ours), the front sends it the
 *   command line, its cwd, its environment and its fds 0-2 (SCM_RIGHTS; src/front/front-wire.h). The host runs the
 *   command with the caller's fds as its stdio and answers its exit status; the front exits with it. The host may
 *   instead answer "fallback" (a command it does not run: events, spec, ...), "restart" (another protocol
 *   version) or "refused": then, and whenever no host answers, the front execs `node <bindir>/runts.cjs` with the
 *   same arguments — exactly what bin/runts was before, so every command works without a host.
 * - With no host and a root runts has used (<root>/runts.mdb exists), it first starts one for the next commands
 *   (`runts supervise --auto`: its own session, stdio on /dev/null, leaves when idle), unless RUNTS_AUTOSTART=0,
 *   the global flag --no-autostart, or the command is `runts supervise` (a host itself). The command at hand does
 *   not wait for it.
 * - RUNTS_FRONT=0 skips all of this: straight to Node.
 *
 * Node is found as the old `#!/usr/bin/env node` found it: execvp("node") searches $PATH.
 * Kept plain on purpose: no parsing beyond the global options that say which root, no allocation that can fail
 * silently; any doubt means "run it through Node".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "front-spawn.h"
#include "front-wire.h"

extern char** environ;

static char bindir[PATH_MAX];

/* Runs the command through Node, as bin/runts.cjs always did. */
static void __attribute__((noreturn)) exec_node(int argc, char** argv) {
  char script[PATH_MAX + 16];
  snprintf(script, sizeof script, "%s/runts.cjs", bindir);
  char** nargv = calloc((size_t)argc + 2, sizeof *nargv);
  if (nargv == NULL) {
    fprintf(stderr, "runts: out of memory\n");
    _exit(1);
  }
  nargv[0] = "node";
  nargv[1] = script;
  for (int i = 1; i < argc; i++) nargv[i + 1] = argv[i];
  execvp("node", nargv);
  fprintf(stderr, "runts: cannot run node (%s): install Node.js 20 or later and put it on PATH\n", strerror(errno));
  _exit(127);
}

/* Starts `runts supervise --auto` for `root`, detached: a grandchild in its own session, in /, stdio on /dev/null. */
static void autostart(const char* root) {
  char abs[PATH_MAX];
  if (realpath(root, abs) == NULL) return;
  pid_t pid = fork();
  if (pid < 0) return;
  if (pid == 0) {
    if (setsid() < 0) _exit(1);
    if (fork() != 0) _exit(0); /* the host is reparented: the caller never waits for it */
    sigset_t none;             /* a caller's blocked signals (SIGTERM, say) must not outlive it in the host */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0 || chdir("/") < 0) _exit(1);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    /* The caller's other fds (a shim's pipes, --preserve-fds) must not stay open in a long-lived process. */
    if (syscall(SYS_close_range, 3, ~0U, 0) < 0)
      for (int fd = 3; fd < 1024; fd++) close(fd);
    char script[PATH_MAX + 16];
    snprintf(script, sizeof script, "%s/runts.cjs", bindir);
    char* args[] = {"node", script, "--root", abs, "supervise", "--auto", NULL};
    execvp("node", args);
    _exit(127);
  }
  waitpid(pid, NULL, 0);
}

/* Appends `s` and its NUL to buf; 0 when it would not fit. */
static int put(char* buf, size_t* len, const char* s) {
  size_t n = strlen(s) + 1;
  if (*len + n > RUNTS_FRONT_MAX_BODY) return 0;
  memcpy(buf + *len, s, n);
  *len += n;
  return 1;
}

/* Sends one message: the header and body, `nfds` fds riding on the first byte. 0 on success. */
static int send_message(int sock, const char* body, size_t len, const int* fds, int nfds) {
  struct front_header h = {RUNTS_FRONT_MAGIC, RUNTS_FRONT_VERSION, (uint32_t)len, (uint32_t)nfds};
  struct iovec iov[2] = {{&h, sizeof h}, {(void*)body, len}};
  union {
    char buf[CMSG_SPACE(sizeof(int) * RUNTS_FRONT_FDS)];
    struct cmsghdr align;
  } control;
  memset(&control, 0, sizeof control);
  struct msghdr msg = {0};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  if (nfds > 0) {
    msg.msg_control = control.buf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
    struct cmsghdr* cm = CMSG_FIRSTHDR(&msg);
    cm->cmsg_level = SOL_SOCKET;
    cm->cmsg_type = SCM_RIGHTS;
    cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
    memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
  }
  size_t total = sizeof h + len, sent = 0;
  while (sent < total) {
    ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    sent += (size_t)n;
    msg.msg_control = NULL; /* the fds went with the first part */
    msg.msg_controllen = 0;
    while (msg.msg_iovlen > 0 && (size_t)n >= msg.msg_iov[0].iov_len) {
      n -= (ssize_t)msg.msg_iov[0].iov_len;
      msg.msg_iov++;
      msg.msg_iovlen--;
    }
    if (msg.msg_iovlen > 0) {
      msg.msg_iov[0].iov_base = (char*)msg.msg_iov[0].iov_base + n;
      msg.msg_iov[0].iov_len -= (size_t)n;
    }
  }
  return 0;
}

/* What the host sends, read through a small buffer: lines, and the plan bytes after a "spawn" line. */
struct reader {
  int fd;
  size_t start, end;
  char buf[4096];
};

/* More bytes into the buffer; 0 at EOF or on an error. */
static int fill(struct reader* r) {
  if (r->start == r->end) r->start = r->end = 0;
  if (r->end == sizeof r->buf) return 0;
  for (;;) {
    ssize_t n = read(r->fd, r->buf + r->end, sizeof r->buf - r->end);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    r->end += (size_t)n;
    return 1;
  }
}

/* The next line, without its newline, in `line`; 0 at EOF (or a line longer than `cap`). */
static int read_line(struct reader* r, char* line, size_t cap) {
  for (;;) {
    char* nl = memchr(r->buf + r->start, '\n', r->end - r->start);
    if (nl != NULL) {
      size_t n = (size_t)(nl - (r->buf + r->start));
      if (n >= cap) return 0;
      memcpy(line, r->buf + r->start, n);
      line[n] = '\0';
      r->start += n + 1;
      return 1;
    }
    if (r->start > 0) { /* make room: move what is left to the front */
      memmove(r->buf, r->buf + r->start, r->end - r->start);
      r->end -= r->start;
      r->start = 0;
    }
    if (!fill(r)) return 0;
  }
}

/* Exactly `n` bytes into `to`; 0 at EOF. */
static int read_exact(struct reader* r, char* to, size_t n) {
  while (n > 0) {
    if (r->start == r->end && !fill(r)) return 0;
    size_t take = r->end - r->start < n ? r->end - r->start : n;
    memcpy(to, r->buf + r->start, take);
    r->start += take;
    to += take;
    n -= take;
  }
  return 1;
}

/* The commands that only read: if the host dies under one, running it again through Node is harmless. */
static int reads_only(const char* cmd) {
  static const char* const list[] = {"state", "list", "ps-all", "ps", "history", "features", NULL};
  for (int i = 0; cmd != NULL && list[i] != NULL; i++)
    if (strcmp(cmd, list[i]) == 0) return 1;
  return 0;
}

/* Root of the host's user namespace (whose uid_map maps every id onto itself): the only caller whose default state
 * root is /run/runts. Any other caller's default (src/state-root.ts: $XDG_RUNTIME_DIR/runts, or an error) is the
 * Node CLI's to work out, so without --root such a caller goes through Node and never near root's store. */
static int host_root(void) {
  if (geteuid() != 0) return 0;
  FILE* f = fopen("/proc/self/uid_map", "re");
  if (f == NULL) return 1; /* no /proc: the host's namespace, as the Node CLI assumes */
  unsigned long inside = 1, outside = 1, count = 0;
  int fields = fscanf(f, "%lu %lu %lu", &inside, &outside, &count);
  int more = fgetc(f);
  while (more == ' ' || more == '\n') more = fgetc(f);
  fclose(f);
  return fields == 3 && inside == 0 && outside == 0 && count == 4294967295UL && more == EOF;
}

/* Whether the host cannot serve now: stopped (SIGSTOP, a shell's Ctrl-Z, a debugger) or dead. Its kernel still
 * queues our connection, so without this check the command would wait until someone continues the host. */
static int host_stopped(pid_t pid) {
  char path[64], stat[512];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 1;
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return 1;
  stat[n] = '\0';
  const char* end = strrchr(stat, ')'); /* the command name may hold anything, ")" included */
  if (end == NULL || end[1] != ' ') return 1;
  char state = end[2];
  return state == 'T' || state == 't' || state == 'Z' || state == 'X';
}

/* The processes this front started for the host (inits, gofers) and has not waited for. A host that ends before the
 * command does must not leave them behind: a create whose end nobody saw failed, and leaves nothing. */
static pid_t spawned[16];
static int nspawned;

static void remember(pid_t pid) {
  if (pid > 0 && nspawned < (int)(sizeof spawned / sizeof spawned[0])) spawned[nspawned++] = pid;
}

static int forget(pid_t pid) {
  for (int i = 0; i < nspawned; i++)
    if (spawned[i] == pid) {
      spawned[i] = spawned[--nspawned];
      return 1;
    }
  return 0;
}

/* Our unreaped children: their pids cannot have been reused, so SIGKILL hits only them. */
static void kill_spawned(void) {
  for (int i = 0; i < nspawned; i++) {
    kill(spawned[i], SIGKILL);
    waitpid(spawned[i], NULL, 0);
  }
  nspawned = 0;
}

static int at_gate(void* ctx) {
  char line[64];
  return read_line((struct reader*)ctx, line, sizeof line) && strcmp(line, "gate open") == 0;
}

static char message[RUNTS_FRONT_MAX_BODY];

/* "spawn <gated> <length>" and the plan: spawns it here and answers how it went (see front-wire.h). */
static int serve_spawn(int sock, struct reader* rd, const char* args) {
  int gated;
  unsigned long len;
  if (sscanf(args, "%d %lu", &gated, &len) != 2 || len > RUNTS_FRONT_MAX_PLAN) return -1;
  char* plan = malloc(len > 0 ? len : 1);
  if (plan == NULL || !read_exact(rd, plan, len)) {
    free(plan);
    return -1;
  }
  static int init_known;
  if (!init_known) {
    char init[PATH_MAX + 32];
    snprintf(init, sizeof init, "%s/../build/Release/runts-init", bindir);
    front_use_init_binary(init);
    init_known = 1;
  }
  struct front_spawn_result r;
  front_spawn((const uint8_t*)plan, len, gated, at_gate, rd, &r);
  free(plan);
  size_t n = 0;
  char num[3][24];
  if (r.bad_plan) {
    put(message, &n, "badplan");
    put(message, &n, r.message);
  } else if (r.failed) {
    snprintf(num[0], sizeof num[0], "%d", r.err);
    snprintf(num[1], sizeof num[1], "%d", r.op_index);
    const char* fields[] = {"failed", r.operation, num[0], r.code, r.description, r.path, num[1], r.message};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) put(message, &n, fields[i]);
  } else {
    remember(r.init_pid);
    remember(r.gofer_pid);
    snprintf(num[0], sizeof num[0], "%d", r.init_pid);
    snprintf(num[1], sizeof num[1], "%d", r.gofer_pid);
    put(message, &n, "spawned");
    put(message, &n, num[0]);
    put(message, &n, num[1]);
  }
  int sent = send_message(sock, message, n, &r.seccomp_fd, r.seccomp_fd >= 0 ? 1 : 0);
  if (r.seccomp_fd >= 0) close(r.seccomp_fd);
  return sent;
}

static volatile sig_atomic_t waiting_for;

static void forward_signal(int sig) {
  if (waiting_for > 0) kill(waiting_for, sig);
}

/* "wait <pid> <forward>": waits for a process this front spawned, forwarding the caller's signals to it when asked
 * (a foreground run, as runc does), and answers its wait status. */
static int serve_wait(int sock, const char* args) {
  int pid, forward;
  if (sscanf(args, "%d %d", &pid, &forward) != 2 || !forget(pid)) return -1;
  static const int signals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward_signal;
  sigemptyset(&sa.sa_mask);
  waiting_for = pid;
  if (forward)
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaction(signals[i], &sa, NULL);
  int status = 0;
  pid_t got;
  do got = waitpid(pid, &status, 0);
  while (got < 0 && errno == EINTR);
  waiting_for = 0;
  if (forward) {
    sa.sa_handler = SIG_DFL;
    for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaction(signals[i], &sa, NULL);
  }
  size_t n = 0;
  char text[24];
  put(message, &n, "waited");
  snprintf(text, sizeof text, "%d", got == pid ? status : -1);
  put(message, &n, text);
  return send_message(sock, message, n, NULL, 0);
}

int main(int argc, char** argv) {
  ssize_t n = readlink("/proc/self/exe", bindir, sizeof bindir - 1);
  if (n <= 0) {
    fprintf(stderr, "runts: cannot find its own path (/proc/self/exe): is /proc mounted?\n");
    return 1;
  }
  bindir[n] = '\0';
  char* slash = strrchr(bindir, '/');
  if (slash != NULL) *slash = '\0';

  /* runts' global options, before the command word: which root, and whether to start a host. */
  const char* root = NULL;
  const char* command = NULL;
  int autostart_on = getenv("RUNTS_AUTOSTART") == NULL || strcmp(getenv("RUNTS_AUTOSTART"), "0") != 0;
  for (int i = 1; i < argc; i++) {
    const char* a = argv[i];
    if (a[0] != '-') {
      command = a;
      break;
    }
    if (strcmp(a, "--") == 0) break;
    if (strcmp(a, "--no-autostart") == 0) autostart_on = 0;
    else if (strncmp(a, "--root=", 7) == 0) root = a + 7;
    else if (strcmp(a, "--root") == 0 && i + 1 < argc) root = argv[++i];
    else if (strcmp(a, "--log") == 0 || strcmp(a, "--log-format") == 0 || strcmp(a, "--criu") == 0 ||
             strcmp(a, "--rootless") == 0)
      i++;
  }
  /* `runts supervise` is itself the host that will serve this root: one started for it would race it for the socket. */
  if (command != NULL && strcmp(command, "supervise") == 0) autostart_on = 0;
  /* RUNTS_FRONT=0: always through Node, as before the front. Crash injection (tests) must kill the process that
   * runs the command: this one, through Node. */
  const char* front = getenv("RUNTS_FRONT");
  const char* crash = getenv("RUNTS_CRASH_AT");
  if ((front != NULL && strcmp(front, "0") == 0) || (crash != NULL && crash[0] != '\0')) exec_node(argc, argv);
  if (root == NULL) {
    if (!host_root()) exec_node(argc, argv);
    root = "/run/runts";
  }

  struct sockaddr_un addr = {.sun_family = AF_UNIX};
  if ((size_t)snprintf(addr.sun_path, sizeof addr.sun_path, "%s/%s", root, RUNTS_FRONT_SOCKET) >= sizeof addr.sun_path)
    exec_node(argc, argv);
  int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (sock < 0) exec_node(argc, argv);
  if (connect(sock, (struct sockaddr*)&addr, sizeof addr) < 0) {
    if (autostart_on && (errno == ENOENT || errno == ECONNREFUSED)) {
      char mdb[PATH_MAX];
      struct stat st;
      if ((size_t)snprintf(mdb, sizeof mdb, "%s/runts.mdb", root) < sizeof mdb && stat(mdb, &st) == 0) autostart(root);
    }
    exec_node(argc, argv);
  }
  /* The host must be this user's: never hand our fds to another uid's process. */
  struct ucred cred;
  socklen_t credlen = sizeof cred;
  if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &credlen) < 0 || cred.uid != geteuid()) exec_node(argc, argv);
  /* Nothing is sent to a host that cannot answer: it finds our connection closed once continued, and drops it. */
  if (host_stopped(cred.pid)) {
    close(sock);
    exec_node(argc, argv);
  }
  for (int fd = 0; fd < RUNTS_FRONT_FDS; fd++)
    if (fcntl(fd, F_GETFD) < 0) exec_node(argc, argv); /* a closed stdio fd cannot be sent */

  static char body[RUNTS_FRONT_MAX_BODY];
  size_t len = 0;
  char cwd[PATH_MAX], count[16];
  if (getcwd(cwd, sizeof cwd) == NULL || !put(body, &len, cwd)) exec_node(argc, argv);
  snprintf(count, sizeof count, "%d", argc);
  if (!put(body, &len, count)) exec_node(argc, argv);
  for (int i = 0; i < argc; i++)
    if (!put(body, &len, argv[i])) exec_node(argc, argv);
  for (char** e = environ; *e != NULL; e++)
    if (!put(body, &len, *e)) exec_node(argc, argv);
  int stdio[RUNTS_FRONT_FDS] = {0, 1, 2};
  if (send_message(sock, body, len, stdio, RUNTS_FRONT_FDS) < 0) exec_node(argc, argv);

  /* The host's answers: "exit <status>" at the end, spawns and waits before it, or a reason to run it ourselves. */
  static struct reader rd;
  rd.fd = sock;
  char line[512];
  int anything = 0; /* whether the host asked for something: then the command has started */
  while (read_line(&rd, line, sizeof line)) {
    if (strncmp(line, "exit ", 5) == 0) return atoi(line + 5) & 0xff;
    if (!anything && (strncmp(line, "fallback ", 9) == 0 || strncmp(line, "restart ", 8) == 0 || strncmp(line, "refused ", 8) == 0)) {
      close(sock);
      exec_node(argc, argv);
    }
    anything = 1;
    if (strncmp(line, "gate ", 5) == 0) continue; /* for a spawn that ended before its gate (a plan that did not parse) */
    int ok = strncmp(line, "spawn ", 6) == 0 ? serve_spawn(sock, &rd, line + 6) == 0
             : strncmp(line, "wait ", 5) == 0 ? serve_wait(sock, line + 5) == 0
             : 0;
    if (!ok) break;
  }
  /* The host ended during the command (or spoke nonsense). */
  kill_spawned();
  if (!anything && reads_only(command)) exec_node(argc, argv);
  fprintf(stderr,
          "runts: the runts host (pid %d) ended during `%s`: it may or may not have happened; check with `runts state` "
          "(the next command runs without that host)\n",
          (int)cred.pid, command != NULL ? command : "?");
  return 1;
}
