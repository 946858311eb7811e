/*
 * The front protocol: how bin/runts (front.c) hands one command to a warm runts host over <root>/host/front.sock
 * (src/supervisor/front-host.ts receives it through the addon's frontReceive). Shared by the C front and the addon.
 *
 * front -> host, one sendmsg carrying the caller's fds 0, 1, 2 (SCM_RIGHTS):
 *   struct front_header, then `length` bytes of NUL-terminated strings: cwd, argc (decimal), argv[0..argc-1],
 *   then the caller's environment variables runts reads (NAME=value), each NUL-terminated.
 * host -> front, one line, then the host closes the connection:
 *   "exit <status>\n"   the command ran; its output went to the caller's fds; exit with <status>
 *   "fallback <why>\n"  the host does not run this command (it spawns, or needs the caller's cwd): run it yourself
 *   "restart <why>\n"   the host speaks another version of this protocol: run it yourself (the host leaves)
 *   "refused <why>\n"   the caller's uid is not the host's
 * A connection closed without a line: the host died during the command.
 */
#ifndef RUNTS_FRONT_WIRE_H
#define RUNTS_FRONT_WIRE_H

#include <stdint.h>

#define RUNTS_FRONT_MAGIC 0x46535452u /* "RTSF" little-endian */
#define RUNTS_FRONT_VERSION 1u
/* A request is a command line: anything near this size is not one (the front then runs the command itself). */
#define RUNTS_FRONT_MAX_BODY (256u * 1024u)
#define RUNTS_FRONT_FDS 3
/* The socket, inside the state root: a 0700 directory "host" the host makes, and the socket (0600) in it. */
#define RUNTS_FRONT_SOCKET "host/front.sock"

struct front_header {
  uint32_t magic;
  uint32_t version;
  uint32_t length; /* of the body that follows */
  uint32_t nfds;   /* fds carried (RUNTS_FRONT_FDS) */
};

#endif
