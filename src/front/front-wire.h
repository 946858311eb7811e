/*
 * The front protocol: how bin/runts (front.c) hands one command to a warm runts host over <root>/host/front.sock
 * (src/supervisor/front-host.ts receives it through the addon's frontReceive). Shared by the C front and the addon.
 *
 * front -> host, the request: one message (struct front_header, then `length` bytes) carrying the caller's fds 0, 1,
 *   2 (SCM_RIGHTS). The body is NUL-terminated strings: cwd, argc (decimal), argv[0..argc-1], then the caller's
 *   environment (NAME=value).
 * host -> front, lines until the last:
 *   "exit <status>"             the command ran; its output went to the caller's fds; exit with <status> (last)
 *   "fallback <why>"            the host does not run this command: run it yourself (only as the first line)
 *   "restart <why>"             the host speaks another version of this protocol: run it yourself (the host leaves)
 *   "refused <why>"             the caller's uid is not the host's
 *   "spawn <gated> <length>"    followed by <length> bytes: a spawn plan the host made (src/native/plan.ts). The
 *                               front runs it (src/native/spawn.cc), so the container's processes are the caller's
 *                               descendants, as with runc. With <gated> 1, stage 1 waits at the plan's gate until the
 *                               host's next line: "gate open" or "gate cancel".
 *   "wait <pid> <forward>"      wait for a process the front spawned; with <forward> 1, forward the caller's SIGINT,
 *                               SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 to it meanwhile (a foreground run).
 * front -> host, one message (a header and a body of NUL-terminated fields) answering each spawn and wait:
 *   spawned <init pid> <gofer pid>         with the seccomp listener as an fd when the plan asked for one
 *   failed <operation> <errno> <errno name> <description> <path> <op index> <message>
 *   badplan <message>                      the plan did not parse: nothing was started
 *   waited <wait status>                   waitpid's status word (-1: not waitable)
 * A connection closed without "exit": the host died during the command; the front kills what it spawned.
 */
#ifndef RUNTS_FRONT_WIRE_H
#define RUNTS_FRONT_WIRE_H

#include <stdint.h>

#define RUNTS_FRONT_MAGIC 0x46535452u /* "RTSF" little-endian */
#define RUNTS_FRONT_VERSION 2u
/* A request is a command line: anything near this size is not one (the front then runs the command itself). */
#define RUNTS_FRONT_MAX_BODY (256u * 1024u)
#define RUNTS_FRONT_FDS 3
/* A spawn plan larger than this is refused (plans are kilobytes; a seccomp profile adds at most 32 KiB). */
#define RUNTS_FRONT_MAX_PLAN (16u * 1024u * 1024u)
/* The socket, inside the state root: a 0700 directory "host" the host makes, and the socket (0600) in it. */
#define RUNTS_FRONT_SOCKET "host/front.sock"

struct front_header {
  uint32_t magic;
  uint32_t version;
  uint32_t length; /* of the body that follows */
  uint32_t nfds;   /* fds carried (RUNTS_FRONT_FDS with a request; 0 or 1 with an answer) */
};

#endif
