/* The child side of a sandbox spawn: the only C in core.
 *
 * sl_spawn() clones a child that shares the parent's memory (CLONE_VM) but
 * nothing else, runs on a stack the caller provides and performs the numbered
 * steps below with raw system calls only: no malloc, no stdio, no errno, no
 * locks, because the parent is a multithreaded Go program whose locks may be
 * held by threads the child does not have. A failing step sends
 * {step, errno} on the report socket and calls _exit(127).
 */
#ifndef SANDLOCK_SPAWN_CHILD_H
#define SANDLOCK_SPAWN_CHILD_H

#include <stddef.h>
#include <stdint.h>

enum sl_step {
	SL_STEP_OK = 0,
	SL_STEP_SIGNALS = 1,
	SL_STEP_STDIO,
	SL_STEP_SETPGID,
	SL_STEP_PDEATHSIG,
	SL_STEP_PARENT_GONE,
	SL_STEP_RLIMIT,
	SL_STEP_PERSONALITY,
	SL_STEP_THP,
	SL_STEP_AFFINITY,
	SL_STEP_CHDIR,
	SL_STEP_CLOSE_FDS,
	SL_STEP_NO_NEW_PRIVS,
	SL_STEP_LANDLOCK,
	SL_STEP_SECCOMP,
	SL_STEP_SEND_LISTENER,
	SL_STEP_WAIT_GO,
	SL_STEP_SIGMASK,
	SL_STEP_EXEC,
};

#define SL_MAX_RLIMITS 4

struct sl_rlimit {
	int32_t resource;
	uint64_t cur;
	uint64_t max;
};

struct sl_plan {
	const char *path;         /* command; searched in search_path when it has no '/' */
	const char *search_path;  /* colon-separated directories */
	char *const *argv;
	char *const *envp;
	int32_t stdio[3];         /* fd to place on 0/1/2, or -1 to keep the inherited one */
	int32_t sock;             /* child end of the SOCK_SEQPACKET report socket */
	int32_t ruleset_fd;       /* Landlock ruleset, or -1 */
	uint16_t filter_len;      /* number of struct sock_filter, 0 = no seccomp */
	const void *filter;
	int32_t nrlimits;
	struct sl_rlimit rlimits[SL_MAX_RLIMITS];
	int32_t set_personality;
	uint64_t personality;
	int32_t thp_disable;
	uint32_t affinity_len;    /* bytes of the cpu mask, 0 = leave alone */
	const void *affinity;
	const char *cwd;          /* NULL = inherit */
	int32_t parent_pid;
	int32_t new_pgrp;
};

struct sl_report {
	int32_t step;
	int32_t err;
};

/* Returns the child's pid and stores its pidfd, or returns -errno. */
int sl_spawn(struct sl_plan *plan, void *stack, size_t stack_size, int *pidfd);

#endif
