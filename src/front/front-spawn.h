/*
 * The front's spawn (front-spawn.cc): runs a plan the host made with the addon's own spawn code (src/native/spawn.cc),
 * so the container's processes are this front's children. A C interface, so front.c stays plain C.
 */
#ifndef RUNTS_FRONT_SPAWN_H
#define RUNTS_FRONT_SPAWN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct front_spawn_result {
  int failed;      /* 0: the init is READY */
  int bad_plan;    /* the plan did not parse (message says why); nothing was started */
  int init_pid, gofer_pid;
  int seccomp_fd;  /* the seccomp listener (SCMP_ACT_NOTIFY) or -1 */
  /* A failure, as the addon reports one: the op, its errno (name, description), path, op index, message. */
  char operation[64];
  int err;
  char code[32];
  char description[128];
  char path[4096];
  int op_index;
  char message[1024];
};

/* Where runts-init is (set once, before the first spawn). */
void front_use_init_binary(const char* path);

/*
 * Runs `plan`. With `gated`, stage 1 waits at the plan's gate until at_gate(ctx) returns: 1 opens the gate, 0
 * cancels the spawn. Fills `r`.
 */
void front_spawn(const uint8_t* plan, size_t len, int gated, int (*at_gate)(void* ctx), void* ctx, struct front_spawn_result* r);

#ifdef __cplusplus
}
#endif

#endif
