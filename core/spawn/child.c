#define _GNU_SOURCE
#include "child.h"

#include <errno.h>
#include <pthread.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#ifndef SYS_landlock_restrict_self
#define SYS_landlock_restrict_self 446 /* same number on every architecture */
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2) /* <linux/close_range.h>, Linux 5.11 */
#endif
#ifndef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
#define SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (1UL << 5) /* Linux 5.19 */
#endif
#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif

/* Raw system calls: glibc's wrappers write errno, which lives in the TLS of
 * the parent thread whose memory the child shares. */
static long sl_sys(long n, long a, long b, long c, long d, long e, long f)
{
	long ret;
#if defined(__x86_64__)
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
#elif defined(__aarch64__)
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	ret = x0;
#else
#error "sandlock: unsupported architecture"
#endif
	return ret;
}

#define SYS0(n) sl_sys((n), 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sl_sys((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sl_sys((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sl_sys((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sl_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS5(n, a, b, c, d, e) sl_sys((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static size_t sl_strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

static int sl_has_slash(const char *s)
{
	for (; *s; s++)
		if (*s == '/')
			return 1;
	return 0;
}

static void sl_send_report(int sock, int step, long err)
{
	struct sl_report r = {.step = step, .err = (int32_t)err};
	SYS4(SYS_sendto, sock, &r, sizeof(r), MSG_NOSIGNAL);
}

static __attribute__((noreturn)) void sl_die(int sock, int step, long err)
{
	sl_send_report(sock, step, err);
	for (;;)
		SYS1(SYS_exit_group, 127);
}

/* Kernel layout of struct sigaction for rt_sigaction (SA_RESTORER exists on
 * x86_64 and arm64). */
struct sl_ksigaction {
	void *handler;
	unsigned long flags;
	void *restorer;
	unsigned long mask;
};

/* A short, fixed errno text: strerror() may touch locale state. */
static const char *sl_errname(long e)
{
	switch (e) {
	case 1: return "Operation not permitted";
	case 2: return "No such file or directory";
	case 7: return "Argument list too long";
	case 8: return "Exec format error";
	case 12: return "Cannot allocate memory";
	case 13: return "Permission denied";
	case 20: return "Not a directory";
	case 21: return "Is a directory";
	case 26: return "Text file busy";
	case 36: return "File name too long";
	case 40: return "Too many levels of symbolic links";
	default: return "exec failed";
	}
}

static void sl_write_str(int fd, const char *s)
{
	SYS3(SYS_write, fd, s, sl_strlen(s));
}

/* execvp(3) semantics without allocation: try each directory of the search
 * path, remember EACCES, give up on errors other than "not here". */
static long sl_exec(const struct sl_plan *p)
{
	char buf[4096];
	if (sl_has_slash(p->path))
		return SYS3(SYS_execve, p->path, p->argv, p->envp);
	size_t plen = sl_strlen(p->path);
	long err = -2, seen_eacces = 0;
	const char *dir = p->search_path;
	while (dir) {
		const char *end = dir;
		while (*end && *end != ':')
			end++;
		size_t dlen = (size_t)(end - dir);
		if (dlen == 0) {
			dir = ".";
			dlen = 1;
		}
		if (dlen + 1 + plen + 1 <= sizeof(buf)) {
			size_t i = 0;
			for (size_t k = 0; k < dlen; k++)
				buf[i++] = dir[k];
			buf[i++] = '/';
			for (size_t k = 0; k < plen; k++)
				buf[i++] = p->path[k];
			buf[i] = 0;
			err = SYS3(SYS_execve, buf, p->argv, p->envp);
			switch (-err) {
			case 13:
				seen_eacces = 1;
				break;
			case 2: case 20: case 116 /* ESTALE */: case 19 /* ENODEV */: case 110 /* ETIMEDOUT */:
				break;
			default:
				return err;
			}
		}
		dir = *end ? end + 1 : 0;
	}
	return seen_eacces ? -13 : err;
}

static int sl_child(void *arg)
{
	const struct sl_plan *p = arg;
	int sock = p->sock;
	long r;

	/* 1. Every handler back to default, while all signals are still blocked
	 * (sl_spawn blocked them before clone): a Go or Python handler must
	 * never run here, on memory shared with the parent. */
	for (int sig = 1; sig <= 64; sig++) {
		if (sig == SIGKILL || sig == SIGSTOP)
			continue;
		struct sl_ksigaction dfl = {0};
		r = SYS4(SYS_rt_sigaction, sig, &dfl, 0, 8);
		if (r < 0 && r != -22 /* EINVAL: reserved by libc */)
			sl_die(sock, SL_STEP_SIGNALS, -r);
	}

	/* 2. stdio: move sources out of 0..2 first so that no dup3 clobbers a
	 * source that is still needed. */
	int tmp[3];
	for (int i = 0; i < 3; i++) {
		tmp[i] = -1;
		if (p->stdio[i] >= 0) {
			r = SYS3(SYS_fcntl, p->stdio[i], 1030 /* F_DUPFD_CLOEXEC */, 3);
			if (r < 0)
				sl_die(sock, SL_STEP_STDIO, -r);
			tmp[i] = (int)r;
		}
	}
	for (int i = 0; i < 3; i++) {
		if (tmp[i] >= 0 && (r = SYS3(SYS_dup3, tmp[i], i, 0)) < 0)
			sl_die(sock, SL_STEP_STDIO, -r);
	}

	/* 3. Own process group: kill, pause and the timeout act on the group.
	 * Never tcsetpgrp: a captured run must not take the terminal. */
	if (p->new_pgrp && (r = SYS2(SYS_setpgid, 0, 0)) < 0)
		sl_die(sock, SL_STEP_SETPGID, -r);

	/* 4. Die with the spawning thread, and make sure it is still there. */
	if ((r = SYS2(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL)) < 0)
		sl_die(sock, SL_STEP_PDEATHSIG, -r);
	if (SYS0(SYS_getppid) != p->parent_pid)
		sl_die(sock, SL_STEP_PARENT_GONE, 3 /* ESRCH */);


	/* 6. ASLR off: personality is filtered by seccomp afterwards. */
	if (p->set_personality && (r = SYS1(SYS_personality, p->personality)) < 0)
		sl_die(sock, SL_STEP_PERSONALITY, -r);

	/* 7. No transparent huge pages. */
	if (p->thp_disable && (r = SYS5(SYS_prctl, PR_SET_THP_DISABLE, 1, 0, 0, 0)) < 0)
		sl_die(sock, SL_STEP_THP, -r);

	/* 8. CPU pinning. */
	if (p->affinity_len && (r = SYS3(SYS_sched_setaffinity, 0, p->affinity_len, p->affinity)) < 0)
		sl_die(sock, SL_STEP_AFFINITY, -r);

	/* 9. Working directory, resolved before Landlock applies. */
	if (p->cwd && (r = SYS1(SYS_chdir, p->cwd)) < 0)
		sl_die(sock, SL_STEP_CHDIR, -r);

	/* 10. No fd of the host survives (attacks.md FS-01): close all but
	 * the report socket and the ruleset now, so that the seccomp listener
	 * gets a low number even under a small RLIMIT_NOFILE; the two kept
	 * ones are close-on-exec. */
	{
		int keep[2] = {sock, p->ruleset_fd};
		if (keep[0] > keep[1]) {
			int t = keep[0];
			keep[0] = keep[1];
			keep[1] = t;
		}
		unsigned lo = 3;
		for (int i = 0; i < 2; i++) {
			if (keep[i] < (int)lo)
				continue;
			if ((unsigned)keep[i] > lo && (r = SYS3(SYS_close_range, lo, keep[i] - 1, 0)) < 0)
				sl_die(sock, SL_STEP_CLOSE_FDS, -r);
			lo = (unsigned)keep[i] + 1;
		}
		if ((r = SYS3(SYS_close_range, lo, ~0U, 0)) < 0)
			sl_die(sock, SL_STEP_CLOSE_FDS, -r);
	}

	/* Resource limits, after the fd sweep (so RLIMIT_NOFILE counts only
	 * what the program will have) and before the filter, which the caller's
	 * allowlist might make refuse prlimit64. */
	for (int i = 0; i < p->nrlimits; i++) {
		uint64_t lim[2] = {p->rlimits[i].cur, p->rlimits[i].max};
		if ((r = SYS4(SYS_prlimit64, 0, p->rlimits[i].resource, lim, 0)) < 0)
			sl_die(sock, SL_STEP_RLIMIT, -r);
	}

	/* 11. Required by Landlock and seccomp for unprivileged callers. */
	if ((r = SYS5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) < 0)
		sl_die(sock, SL_STEP_NO_NEW_PRIVS, -r);

	/* 12. Landlock domain. */
	if (p->ruleset_fd >= 0 && (r = SYS2(SYS_landlock_restrict_self, p->ruleset_fd, 0)) < 0)
		sl_die(sock, SL_STEP_LANDLOCK, -r);

	/* 13. seccomp with a user-notification listener. WAIT_KILLABLE_RECV
	 * keeps signals from interrupting a syscall the supervisor is already
	 * handling (an EINTR storm otherwise); fall back where it is missing. */
	long listener = -1;
	if (p->filter_len) {
		struct sock_fprog prog = {.len = p->filter_len, .filter = (struct sock_filter *)p->filter};
		listener = SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER,
				SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, &prog);
		if (listener == -22)
			listener = SYS3(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
		if (listener < 0)
			sl_die(sock, SL_STEP_SECCOMP, -listener);
	}

	/* 14. Tell the parent the listener's number; it takes the listener
	 * with pidfd_getfd. A plain write(2): sendmsg and sendto may be routed
	 * to the supervisor (network mediation), which cannot answer before it
	 * holds the listener, so the filter's first notified call must come
	 * after "go". For the same reason a failure here exits without a
	 * report (the parent then sees EOF). The listener is close-on-exec. */
	{
		struct sl_report ok = {SL_STEP_OK, (int32_t)listener};
		if (SYS3(SYS_write, sock, &ok, sizeof(ok)) != (long)sizeof(ok))
			for (;;)
				SYS1(SYS_exit_group, 127);
	}

	/* 15. Wait until the supervisor runs: the first notified syscall must
	 * find someone listening. EOF means the parent gave up. */
	{
		char go = 0;
		do
			r = SYS4(SYS_recvfrom, sock, &go, 1, 0);
		while (r == -4 /* EINTR */);
		if (r != 1 || go != 'g')
			sl_die(sock, SL_STEP_WAIT_GO, r < 0 ? -r : 0);
	}

	/* 16. Signals open again; handlers are default so nothing runs here. */
	{
		unsigned long empty = 0;
		if ((r = SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &empty, 0, 8)) < 0)
			sl_die(sock, SL_STEP_SIGMASK, -r);
	}

	/* 17. exec. On failure tell the user on the child's stderr, as a shell
	 * would, and the parent on the socket; exit status 127. */
	r = sl_exec(p);
	sl_write_str(2, "sandlock: execve \"");
	sl_write_str(2, p->path);
	sl_write_str(2, "\": ");
	sl_write_str(2, sl_errname(-r));
	sl_write_str(2, "\n");
	sl_die(sock, SL_STEP_EXEC, -r);
	return 127;
}

int sl_spawn(struct sl_plan *plan, void *stack, size_t stack_size, int *pidfd)
{
	sigset_t all, old;
	sigfillset(&all);
	/* Blocked across clone so that the child starts with every signal
	 * blocked; step 1 then resets the handlers it inherited. */
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int pid = clone(sl_child, (char *)stack + stack_size,
			CLONE_VM | CLONE_PIDFD | SIGCHLD, plan, pidfd, (void *)0, (int *)0);
	int err = pid < 0 ? errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, (sigset_t *)0);
	return pid < 0 ? -err : pid;
}
