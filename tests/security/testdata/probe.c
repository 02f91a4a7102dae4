/* probe: the attacker of the security suite (tests/security). Written for
 * this project, after the idea of bubblewrap's try-syscall: one static
 * binary, one subcommand per attack, so that the same code runs inside a
 * sandbox (the attack) and outside it (the control).
 *
 * Usage: probe OP ARGS...
 *
 * Exit status: 0 when the operation succeeded, the errno value when it
 * failed, 100 and up for a probe malfunction (bad usage, a setup step that
 * must not fail). Operations with several steps print one "key=value" line
 * per step, value being "ok" or the errno name; reads print what they read,
 * so that the test can look for its canaries in the output.
 *
 * Every loop is bounded by a count or a time given on the command line:
 * some operations are fork bombs and races, and root ignores RLIMIT_NPROC.
 * Operations that would damage the machine if the sandbox failed use
 * harmless arguments (bad pointers, current values, signal 0) wherever the
 * attack can be judged that way.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/ioprio.h>
#include <linux/kcmp.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/ipc.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif
#ifndef MSG_FASTOPEN
#define MSG_FASTOPEN 0x20000000
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef SYS_process_mrelease
#define SYS_process_mrelease 448
#endif
#ifndef SYS_sched_setattr
#define SYS_sched_setattr 314
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef SYS_io_uring_enter
#define SYS_io_uring_enter 426
#endif
#ifndef SYS_io_uring_register
#define SYS_io_uring_register 427
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif
#ifndef SYS_set_mempolicy_home_node
#define SYS_set_mempolicy_home_node 450
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SCHED_IDLE
#define SCHED_IDLE 5
#endif

enum {
	EX_USAGE_ = 100, /* bad arguments */
	EX_SETUP = 101,  /* a setup step failed (see stderr) */
};

static const char *op;
static char **g_argv;

static const char *en(int e)
{
	if (e == 0)
		return "ok";
	const char *n = strerrorname_np(e);
	return n ? n : "E?";
}

static int fail(int err)
{
	fprintf(stderr, "probe: %s: %s\n", op, en(err));
	return err;
}

static int setup_fail(const char *what)
{
	fprintf(stderr, "probe: %s: setup %s: %s\n", op, what, en(errno));
	return EX_SETUP;
}

/* rc turns a syscall return value into 0 or errno. */
static int rc(long r)
{
	return r < 0 ? errno : 0;
}

static int check(long r)
{
	return r < 0 ? fail(errno) : 0;
}

static void put(const char *key, int e)
{
	printf("%s=%s\n", key, en(e));
	fflush(stdout);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void msleep(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static unsigned long num(const char *s)
{
	return strtoul(s, NULL, 0);
}

/* copy_fd prints everything fd holds on stdout. */
static int copy_fd(int fd)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			return errno;
		if (n == 0)
			return 0;
		fwrite(buf, 1, (size_t)n, stdout);
	}
}

static int op_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	int e = copy_fd(fd);
	close(fd);
	return e ? fail(e) : 0;
}

static int open_flags(const char *f)
{
	if (strcmp(f, "r") == 0)
		return O_RDONLY;
	if (strcmp(f, "w") == 0)
		return O_WRONLY;
	if (strcmp(f, "rw") == 0)
		return O_RDWR;
	if (strcmp(f, "path") == 0)
		return O_PATH;
	return -1;
}

static int op_open(const char *path, const char *f)
{
	int fl = open_flags(f);
	if (fl < 0)
		return EX_USAGE_;
	return check(open(path, fl | O_CLOEXEC));
}

static int op_write(const char *path, const char *data, int flags)
{
	int fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(errno);
	size_t n = strlen(data);
	if (write(fd, data, n) != (ssize_t)n)
		return fail(errno);
	return check(close(fd));
}

static int op_readlink(const char *path)
{
	char buf[PATH_MAX];
	ssize_t n = readlink(path, buf, sizeof buf - 1);
	if (n < 0)
		return fail(errno);
	buf[n] = 0;
	printf("%s\n", buf);
	return 0;
}

/* op_readpid prints the caller's pid, then path's content (for
 * /proc/self/... files read through the supervisor). */
static int op_readpid(const char *path)
{
	printf("pid=%d\n", getpid());
	fflush(stdout);
	return op_read(path);
}

static int op_openat(const char *dir, const char *rel)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return setup_fail("open dir");
	int fd = openat(d, rel, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	int e = copy_fd(fd);
	return e ? fail(e) : 0;
}

static int op_echo(int argc, char **argv)
{
	for (int i = 0; i < argc; i++)
		printf("%s%s", i ? " " : "", argv[i]);
	printf("\n");
	return 0;
}

/* op_fdscan looks at every descriptor from 3 up: what it is, whether a
 * path relative to it opens (rel, e.g. a host file relative to an
 * inherited "/"), whether it is writable, and whether it answers the
 * seccomp listener's RECV ioctl. */
static int op_fdscan(const char *rel)
{
	int count = 0;
	/* Stray descriptors of the host (a pipe whose reader is gone) must
	 * not end the scan with SIGPIPE: a failed write is just "no". */
	signal(SIGPIPE, SIG_IGN);
	for (int fd = 3; fd < 4096; fd++) {
		if (fcntl(fd, F_GETFD) < 0)
			continue;
		count++;
		char p[64], link[PATH_MAX];
		snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, link, sizeof link - 1);
		if (n < 0)
			snprintf(link, sizeof link, "?%s", en(errno));
		else
			link[n] = 0;
		printf("fd=%d link=%s\n", fd, link);
		int f = openat(fd, rel, O_RDONLY | O_CLOEXEC);
		if (f >= 0) {
			char buf[256];
			ssize_t m = read(f, buf, sizeof buf - 1);
			buf[m > 0 ? m : 0] = 0;
			printf("fd=%d openat=%s\n", fd, buf);
			close(f);
		}
		if (write(fd, "pwned", 5) == 5)
			printf("fd=%d write=ok\n", fd);
		char notif[256];
		memset(notif, 0, sizeof notif);
		if (ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, notif) == 0 || errno != ENOTTY)
			printf("fd=%d notif_recv=%s\n", fd, en(errno));
	}
	printf("count=%d\n", count);
	return 0;
}

/* op_procfd_upgrade opens path read-only and tries to reopen the same file
 * read-write through every /proc spelling of the descriptor. */
static int op_procfd_upgrade(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return setup_fail("open");
	const char *names[] = {"proc_self", "dev_fd", "thread_self"};
	const char *fmts[] = {"/proc/self/fd/%d", "/dev/fd/%d", "/proc/thread-self/fd/%d"};
	for (int i = 0; i < 3; i++) {
		char p[64];
		snprintf(p, sizeof p, fmts[i], fd);
		int w = open(p, O_RDWR | O_CLOEXEC);
		put(names[i], w < 0 ? errno : 0);
		if (w >= 0) {
			if (write(w, "pwned", 5) != 5)
				perror("write");
			close(w);
		}
	}
	return 0;
}

/* op_procfd_unlinked: open path read-only, say so by creating ready, wait
 * until the test unlinked path, then try the read-write reopen. */
static int op_procfd_unlinked(const char *path, const char *ready)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return setup_fail("open");
	int r = open(ready, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (r < 0)
		return setup_fail("create ready file");
	close(r);
	struct stat st;
	double end = now() + 5;
	while (stat(path, &st) == 0) {
		if (now() > end)
			return setup_fail("wait for unlink");
		msleep(5);
	}
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	int w = open(p, O_RDWR | O_CLOEXEC);
	put("reopen", w < 0 ? errno : 0);
	if (w >= 0)
		put("write", write(w, "pwned", 5) == 5 ? 0 : errno);
	return 0;
}

/* op_opath: an O_PATH handle on path (not granted) must not become a
 * readable fd, an executable, or a hard link. exec is a copy of the probe
 * beside path; running it prints EXECUTED. */
static int op_opath(const char *path, const char *exec, const char *dest)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	put("open_path", fd < 0 ? errno : 0);
	if (fd < 0)
		return 0;
	struct stat st;
	put("fstat", rc(fstat(fd, &st)));
	char p[64];
	snprintf(p, sizeof p, "/proc/self/fd/%d", fd);
	int r = open(p, O_RDONLY | O_CLOEXEC);
	put("reopen", r < 0 ? errno : 0);
	if (r >= 0) {
		printf("content=");
		copy_fd(r);
		printf("\n");
	}
	put("linkat", rc(linkat(fd, "", AT_FDCWD, dest, AT_EMPTY_PATH)));
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		int x = open(exec, O_PATH | O_CLOEXEC);
		if (x < 0)
			_exit(errno);
		char *av[] = {(char *)exec, "echo", "EXECUTED", NULL};
		syscall(SYS_execveat, x, "", av, environ, AT_EMPTY_PATH);
		_exit(errno);
	}
	int ws;
	if (waitpid(pid, &ws, 0) < 0)
		return setup_fail("waitpid");
	put("execveat", WIFEXITED(ws) ? WEXITSTATUS(ws) : EX_SETUP);
	return 0;
}

static int op_linkwrite(const char *src, const char *dst)
{
	int e = rc(link(src, dst));
	put("link", e);
	int fd = open(dst, O_WRONLY | O_CLOEXEC);
	put("open", fd < 0 ? errno : 0);
	if (fd >= 0 && write(fd, "pwned", 5) != 5)
		perror("write");
	return 0;
}

static int op_rename2(const char *a, const char *b, const char *how)
{
	unsigned int fl = 0;
	if (strcmp(how, "exchange") == 0)
		fl = RENAME_EXCHANGE;
	else if (strcmp(how, "noreplace") == 0)
		fl = RENAME_NOREPLACE;
	return check(syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, fl));
}

/* swaprace: one thread keeps exchanging the directory sub with the
 * symlink lnk (which points outside the grants) while the other appends to
 * sub/f. Under an on-behalf open the write must never land outside. */
struct swap_arg {
	const char *sub, *lnk;
	double end;
	atomic_long n;
};

static void *swapper(void *p)
{
	struct swap_arg *a = p;
	while (now() < a->end) {
		if (syscall(SYS_renameat2, AT_FDCWD, a->sub, AT_FDCWD, a->lnk, RENAME_EXCHANGE) == 0)
			a->n++;
	}
	return NULL;
}

static int op_swaprace(const char *sub, const char *lnk, const char *secs)
{
	struct swap_arg a = {sub, lnk, now() + atof(secs), 0};
	pthread_t th;
	if (pthread_create(&th, NULL, swapper, &a) != 0)
		return setup_fail("pthread_create");
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/f", sub);
	long opens = 0, writes = 0;
	while (now() < a.end) {
		int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		if (fd < 0)
			continue;
		opens++;
		if (write(fd, "X", 1) == 1)
			writes++;
		close(fd);
	}
	pthread_join(th, NULL);
	printf("opens=%ld writes=%ld exchanges=%ld\n", opens, writes, (long)a.n);
	return 0;
}

static int op_exec(const char *path)
{
	char *av[] = {(char *)path, "echo", "EXECUTED", NULL};
	execve(path, av, environ);
	return fail(errno);
}

static int op_execveat(const char *dir, const char *name)
{
	int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d < 0)
		return setup_fail("open dir");
	char *av[] = {(char *)name, "echo", "EXECUTED", NULL};
	syscall(SYS_execveat, d, name, av, environ, 0);
	return fail(errno);
}

static int op_mknod(const char *path, const char *type, const char *maj, const char *min)
{
	mode_t m = (strcmp(type, "b") == 0 ? S_IFBLK : strcmp(type, "p") == 0 ? S_IFIFO : S_IFCHR) | 0666;
	return check(mknod(path, m, makedev(atoi(maj), atoi(min))));
}

static int status_field(const char *key, char *out, size_t n)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (f == NULL)
		return errno;
	char line[512];
	size_t kl = strlen(key);
	int found = ENOENT;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
			char *v = line + kl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			v[strcspn(v, "\n")] = 0;
			snprintf(out, n, "%s", v);
			found = 0;
			break;
		}
	}
	fclose(f);
	return found;
}

static int op_nnp(void)
{
	put("clear", rc(prctl(PR_SET_NO_NEW_PRIVS, 0, 0, 0, 0)));
	char v[64] = "?";
	status_field("NoNewPrivs", v, sizeof v);
	printf("nnp=%s\n", v);
	char c[64] = "?", b[64] = "?";
	status_field("CapEff", c, sizeof c);
	status_field("CapBnd", b, sizeof b);
	printf("capeff=%s\ncapbnd=%s\n", c, b);
	return 0;
}

static int op_ids(void)
{
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	printf("ruid=%d euid=%d suid=%d\n", r, e, s);
	return 0;
}

/* op_spawnwait runs argv with stdin from /dev/null and returns its exit
 * status (setuid programs under NO_NEW_PRIVS). */
static int op_spawnwait(char **argv)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		int n = open("/dev/null", O_RDONLY);
		if (n >= 0)
			dup2(n, 0);
		execv(argv[0], argv);
		_exit(127);
	}
	int ws;
	if (waitpid(pid, &ws, 0) < 0)
		return setup_fail("waitpid");
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

static int op_dumpable(void)
{
	put("set", rc(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)));
	printf("get=%d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
	return 0;
}

/* install installs a classic BPF filter on the caller (NO_NEW_PRIVS
 * first, as an unprivileged caller must). */
static long install(struct sock_filter *f, unsigned short n, unsigned long op_, unsigned long flags)
{
	struct sock_fprog prog = {n, f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return syscall(SYS_seccomp, op_, flags, &prog);
}

static int op_newlistener(int hi)
{
	struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
	unsigned long h = hi ? 0xdead00000000UL : 0;
	long r = install(f, 1, SECCOMP_SET_MODE_FILTER | h, SECCOMP_FILTER_FLAG_NEW_LISTENER | h);
	return r < 0 ? fail(errno) : 0;
}

/* op_ownfilter stacks the attacker's own filter (ALLOW everything, or
 * ERRNO(0) / TRAP for the open calls) and then reads path. */
static int op_ownfilter(const char *mode, const char *path)
{
	unsigned int act = SECCOMP_RET_ALLOW;
	if (strcmp(mode, "errno0") == 0)
		act = SECCOMP_RET_ERRNO | 0;
	else if (strcmp(mode, "trap") == 0)
		act = SECCOMP_RET_TRAP;
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat, 2, 0),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_open, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_RET | BPF_K, act),
	};
	if (install(f, 5, SECCOMP_SET_MODE_FILTER, 0) < 0)
		return setup_fail("seccomp");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	printf("fd=%d\n", fd);
	int e = copy_fd(fd);
	return e ? fail(e) : 0;
}

/* op_fdrights reports what the descriptors the kernel (or the supervisor,
 * on the child's behalf) returned actually allow. */
static int op_fdrights(const char *path)
{
	int r = open(path, O_RDONLY | O_CLOEXEC);
	int w = open(path, O_WRONLY | O_APPEND);
	if (r < 0 || w < 0)
		return setup_fail("open");
	int p = open(path, O_PATH | O_CLOEXEC);
	put("path_open", p < 0 ? errno : 0);
	char c;
	put("rdonly_write", write(r, "x", 0) == 0 && write(r, "x", 1) == 1 ? 0 : errno);
	put("wronly_read", read(w, &c, 1) >= 0 ? 0 : errno);
	if (p >= 0)
		put("path_read", read(p, &c, 1) >= 0 ? 0 : errno);
	printf("rdonly_cloexec=%d\n", (fcntl(r, F_GETFD) & FD_CLOEXEC) != 0);
	printf("wronly_cloexec=%d\n", (fcntl(w, F_GETFD) & FD_CLOEXEC) != 0);
	int fl = fcntl(w, F_GETFL);
	printf("wronly_append=%d wronly_accmode=%d\n", (fl & O_APPEND) != 0, fl & O_ACCMODE);
	printf("rdonly_accmode=%d\n", fcntl(r, F_GETFL) & O_ACCMODE);
	if (p >= 0)
		printf("path_flag=%d\n", (fcntl(p, F_GETFL) & O_PATH) != 0);
	return 0;
}

/* op_emfile fills the descriptor table (soft RLIMIT_NOFILE = next fd),
 * opens path, then lifts the limit and opens ok. */
static int op_emfile(const char *path, const char *ok)
{
	int next = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (next < 0)
		return setup_fail("open /dev/null");
	close(next);
	struct rlimit old, lim;
	getrlimit(RLIMIT_NOFILE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)next;
	if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
		return setup_fail("setrlimit");
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int e = fd < 0 ? errno : 0;
	if (fd >= 0) {
		printf("content=");
		copy_fd(fd);
		printf("\n");
		close(fd);
	}
	setrlimit(RLIMIT_NOFILE, &old);
	put("full", e);
	fd = open(ok, O_RDONLY | O_CLOEXEC);
	put("after", fd < 0 ? errno : 0);
	return 0;
}

static int parse_addr(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	memset(ss, 0, sizeof *ss);
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)atoi(port));
		*len = sizeof *a4;
		return AF_INET;
	}
	if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)atoi(port));
		*len = sizeof *a6;
		return AF_INET6;
	}
	return -1;
}

static int op_connectaddr(const char *host, const char *port, int proto)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(host, port, &ss, &len);
	if (fam < 0)
		return EX_USAGE_;
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, proto);
	if (s < 0)
		return fail(errno);
	if (connect(s, (struct sockaddr *)&ss, len) < 0)
		return fail(errno);
	msleep(50);
	close(s);
	return 0;
}

static int op_sock(const char *d, const char *t, const char *p)
{
	long s = syscall(SYS_socket, num(d), num(t), num(p));
	return s < 0 ? fail(errno) : 0;
}

static int op_socketpair(const char *d, const char *t)
{
	int sv[2];
	return check(socketpair((int)num(d), (int)num(t), 0, sv));
}

/* op_tfo: TCP Fast Open, whose implicit connect Landlock does not see. */
static int op_tfo(const char *mode, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	if (parse_addr("127.0.0.1", port, &ss, &len) < 0)
		return EX_USAGE_;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return setup_fail("socket");
	long r;
	if (strcmp(mode, "sendto") == 0) {
		r = sendto(s, "x", 1, MSG_FASTOPEN, (struct sockaddr *)&ss, len);
	} else if (strcmp(mode, "sendto-hi") == 0) {
		r = syscall(SYS_sendto, s, "x", 1UL, (unsigned long)MSG_FASTOPEN | 0xdead00000000UL, &ss, (unsigned long)len);
	} else if (strcmp(mode, "sendmsg") == 0) {
		struct iovec iov = {"x", 1};
		struct msghdr m = {.msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
		r = sendmsg(s, &m, MSG_FASTOPEN);
	} else if (strcmp(mode, "sockopt") == 0) {
		int one = 1;
		r = setsockopt(s, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one);
		if (r == 0)
			r = connect(s, (struct sockaddr *)&ss, len);
		if (r == 0)
			r = write(s, "x", 1);
	} else {
		return EX_USAGE_;
	}
	if (r < 0)
		return fail(errno);
	msleep(100);
	close(s);
	return 0;
}

static int op_udp(const char *mode, const char *host, const char *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fam = parse_addr(host, port, &ss, &len);
	if (fam < 0)
		return EX_USAGE_;
	int s = socket(fam, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return fail(errno);
	long r;
	struct iovec iov = {"canary", 6};
	if (strcmp(mode, "sendto") == 0) {
		r = sendto(s, "canary", 6, 0, (struct sockaddr *)&ss, len);
	} else if (strcmp(mode, "sendmsg") == 0) {
		struct msghdr m = {.msg_name = &ss, .msg_namelen = len, .msg_iov = &iov, .msg_iovlen = 1};
		r = sendmsg(s, &m, 0);
	} else if (strcmp(mode, "sendmmsg") == 0) {
		struct mmsghdr mm[2];
		memset(mm, 0, sizeof mm);
		for (int i = 0; i < 2; i++) {
			mm[i].msg_hdr.msg_name = &ss;
			mm[i].msg_hdr.msg_namelen = len;
			mm[i].msg_hdr.msg_iov = &iov;
			mm[i].msg_hdr.msg_iovlen = 1;
		}
		r = sendmmsg(s, mm, 2, 0);
	} else if (strcmp(mode, "connect") == 0) {
		r = connect(s, (struct sockaddr *)&ss, len);
		if (r == 0)
			r = send(s, "canary", 6, 0);
	} else {
		return EX_USAGE_;
	}
	return r < 0 ? fail(errno) : 0;
}

static int op_ping(void)
{
	return check(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP));
}

static int op_abstract(const char *name)
{
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return setup_fail("socket");
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t n = strlen(name);
	if (n + 1 > sizeof a.sun_path)
		return EX_USAGE_;
	memcpy(a.sun_path + 1, name, n);
	if (connect(s, (struct sockaddr *)&a, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n)) < 0)
		return fail(errno);
	msleep(50);
	return 0;
}

/* op_listen tries to get a listening TCP socket (mode: bind4, bind6,
 * bind0 for a kernel-chosen port, nobind for listen's autobind, mptcp),
 * publishes the port in ready and accepts for up to two seconds. */
static int op_listen(const char *mode, const char *port, const char *ready)
{
	int fam = strcmp(mode, "bind6") == 0 ? AF_INET6 : AF_INET;
	int proto = strcmp(mode, "mptcp") == 0 ? IPPROTO_MPTCP : 0;
	int s = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, proto);
	put("socket", s < 0 ? errno : 0);
	if (s < 0)
		return 0;
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (strcmp(mode, "nobind") != 0) {
		struct sockaddr_storage ss;
		socklen_t len;
		const char *p = strcmp(mode, "bind0") == 0 ? "0" : port;
		parse_addr(fam == AF_INET6 ? "::" : "0.0.0.0", p, &ss, &len);
		int e = rc(bind(s, (struct sockaddr *)&ss, len));
		put("bind", e);
		if (e)
			return 0;
	}
	int e = rc(listen(s, 8));
	put("listen", e);
	if (e)
		return 0;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	getsockname(s, (struct sockaddr *)&ss, &len);
	int got = ntohs(fam == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	printf("port=%d\n", got);
	fflush(stdout);
	FILE *f = fopen(ready, "we");
	if (f == NULL)
		return setup_fail("ready file");
	fprintf(f, "%d\n", got);
	fclose(f);
	int accepted = 0;
	struct pollfd pfd = {s, POLLIN, 0};
	double end = now() + 2;
	while (now() < end) {
		if (poll(&pfd, 1, 100) > 0) {
			int c = accept(s, NULL, NULL);
			if (c >= 0) {
				accepted++;
				close(c);
				break;
			}
		}
	}
	printf("accepted=%d\n", accepted);
	return 0;
}

/* Races on a path or sockaddr buffer. The flipper alternates the buffer
 * between an allowed and a forbidden value; it is a thread, or with
 * "-proc" a separate process sharing the page. */
struct flip {
	char a[PATH_MAX], b[PATH_MAX];
	char buf[PATH_MAX];
	volatile int stop;
	struct sockaddr_in sa;
	uint16_t pa, pb;
};

/* barrier keeps the compiler from dropping the first of two stores. */
#define barrier() __asm__ volatile("" ::: "memory")

static void flip_loop(struct flip *f, int sock)
{
	while (!f->stop) {
		if (sock) {
			f->sa.sin_port = f->pa;
			barrier();
			f->sa.sin_port = f->pb;
		} else {
			strcpy(f->buf, f->a);
			barrier();
			strcpy(f->buf, f->b);
		}
		barrier();
	}
}

static void *flip_path_thread(void *p)
{
	flip_loop(p, 0);
	return NULL;
}

static void *flip_sock_thread(void *p)
{
	flip_loop(p, 1);
	return NULL;
}

static struct flip *flip_new(void)
{
	struct flip *f = mmap(NULL, sizeof *f, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	return f == MAP_FAILED ? NULL : f;
}

/* flip_start starts the flipper; it returns the pid of a flipping process,
 * 0 for a thread, -1 on failure. */
static pid_t flip_start(struct flip *f, int proc, int sock, pthread_t *th)
{
	if (proc) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			flip_loop(f, sock);
			_exit(0);
		}
		return pid;
	}
	return pthread_create(th, NULL, sock ? flip_sock_thread : flip_path_thread, f) == 0 ? 0 : -1;
}

static void flip_stop(struct flip *f, pid_t pid, pthread_t th)
{
	f->stop = 1;
	if (pid > 0)
		waitpid(pid, NULL, 0);
	else
		pthread_join(th, NULL);
}

/* op_flip: mode read (print how often the secret was read), append (write
 * through whatever opens) or unlink (recreate a when it disappears). */
static int op_flip(const char *mode, const char *a, const char *b, const char *secs, const char *secret)
{
	int proc = strstr(mode, "-proc") != NULL;
	struct flip *f = flip_new();
	if (f == NULL)
		return setup_fail("mmap");
	snprintf(f->a, sizeof f->a, "%s", a);
	snprintf(f->b, sizeof f->b, "%s", b);
	strcpy(f->buf, a);
	pthread_t th = 0;
	pid_t pid = flip_start(f, proc, 0, &th);
	if (pid < 0)
		return setup_fail("flipper");
	long attempts = 0, ok = 0, leaks = 0;
	double end = now() + atof(secs);
	while (now() < end) {
		attempts++;
		if (strncmp(mode, "read", 4) == 0) {
			int fd = open(f->buf, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			ok++;
			char got[256];
			ssize_t n = read(fd, got, sizeof got - 1);
			close(fd);
			got[n > 0 ? n : 0] = 0;
			if (strcmp(got, secret) == 0)
				leaks++;
		} else if (strncmp(mode, "append", 6) == 0) {
			int fd = open(f->buf, O_WRONLY | O_APPEND | O_CLOEXEC);
			if (fd < 0)
				continue;
			if (write(fd, "X", 1) == 1)
				ok++;
			close(fd);
		} else if (strncmp(mode, "unlink", 6) == 0) {
			if (unlink(f->buf) < 0)
				continue;
			ok++;
			if (access(a, F_OK) != 0) {
				int fd = open(a, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
				if (fd >= 0)
					close(fd);
			}
			if (access(b, F_OK) != 0)
				leaks++;
		} else {
			return EX_USAGE_;
		}
	}
	flip_stop(f, pid, th);
	printf("attempts=%ld ok=%ld leaks=%ld\n", attempts, ok, leaks);
	return 0;
}

/* op_connflip: connect in a loop while the port flips between pa and pb. */
static int op_connflip(const char *pa, const char *pb, const char *secs)
{
	struct flip *f = flip_new();
	if (f == NULL)
		return setup_fail("mmap");
	f->pa = htons((uint16_t)atoi(pa));
	f->pb = htons((uint16_t)atoi(pb));
	f->sa.sin_family = AF_INET;
	f->sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->sa.sin_port = f->pa;
	pthread_t th = 0;
	if (flip_start(f, 0, 1, &th) < 0)
		return setup_fail("flipper");
	long attempts = 0, ok = 0;
	double end = now() + atof(secs);
	while (now() < end) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (s < 0)
			break;
		attempts++;
		if (connect(s, (struct sockaddr *)&f->sa, sizeof f->sa) == 0)
			ok++;
		close(s);
	}
	flip_stop(f, 0, th);
	printf("attempts=%ld ok=%ld\n", attempts, ok);
	return 0;
}

/* op_badpath hands the supervisor path arguments it cannot read (kind
 * null, kernel, noncanon, pageend, toolong) or one whose page a second
 * thread keeps unmapping and mapping back with the denied path (unmapflip):
 * a failed read must never become a CONTINUE the kernel then honours. */
struct unmap_arg {
	char *page;
	const char *path;
	volatile int stop;
};

static void *unmapper(void *p)
{
	struct unmap_arg *u = p;
	while (!u->stop) {
		munmap(u->page, 4096);
		char *m = mmap(u->page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
		if (m == u->page)
			strcpy(m, u->path);
	}
	return NULL;
}

static int op_badpath(const char *kind, const char *denied, const char *ok, const char *secret)
{
	if (strcmp(kind, "unmapflip") == 0) {
		char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (page == MAP_FAILED)
			return setup_fail("mmap");
		strcpy(page, denied);
		struct unmap_arg u = {page, denied, 0};
		pthread_t th;
		if (pthread_create(&th, NULL, unmapper, &u) != 0)
			return setup_fail("pthread_create");
		long attempts = 0, opened = 0, leaks = 0;
		double end = now() + 0.5;
		while (now() < end) {
			attempts++;
			int fd = open(page, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			opened++;
			char got[256];
			ssize_t n = read(fd, got, sizeof got - 1);
			got[n > 0 ? n : 0] = 0;
			close(fd);
			if (strcmp(got, secret) == 0)
				leaks++;
		}
		u.stop = 1;
		pthread_join(th, NULL);
		printf("attempts=%ld opened=%ld leaks=%ld\n", attempts, opened, leaks);
	} else {
		const char *p = NULL;
		if (strcmp(kind, "null") == 0) {
			p = NULL;
		} else if (strcmp(kind, "kernel") == 0) {
			p = (const char *)0xffffffff81000000UL;
		} else if (strcmp(kind, "noncanon") == 0) {
			p = (const char *)0x0000800000000000UL;
		} else if (strcmp(kind, "pageend") == 0) {
			char *m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (m == MAP_FAILED || mprotect(m + 4096, 4096, PROT_NONE) < 0)
				return setup_fail("mmap");
			/* The denied path, unterminated, ending at the page end. */
			size_t n = strlen(denied);
			memcpy(m + 4096 - n, denied, n);
			p = m + 4096 - n;
		} else if (strcmp(kind, "toolong") == 0) {
			size_t n = 1 << 20;
			char *m = malloc(n + 1);
			if (m == NULL)
				return setup_fail("malloc");
			for (size_t i = 0; i < n; i += 2)
				memcpy(m + i, "./", 2);
			m[n] = 0;
			p = m;
		} else {
			return EX_USAGE_;
		}
		int fd = (int)syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_CLOEXEC);
		put("result", fd < 0 ? errno : 0);
		if (fd >= 0) {
			printf("content=");
			copy_fd(fd);
			printf("\n");
		}
	}
	int fd = open(ok, O_RDONLY | O_CLOEXEC);
	put("after", fd < 0 ? errno : 0);
	return 0;
}

static int op_clone3(const char *flags, const char *size)
{
	size_t n = (size_t)num(size);
	if (n < sizeof(struct clone_args) || n > 4096)
		return EX_USAGE_;
	char *buf = calloc(1, n);
	struct clone_args *a = (struct clone_args *)buf;
	a->flags = num(flags);
	a->exit_signal = SIGCHLD;
	if (a->flags & CLONE_INTO_CGROUP)
		a->cgroup = (uint64_t)-1;
	fflush(stdout);
	long pid = syscall(SYS_clone3, a, n);
	if (pid < 0)
		return fail(errno);
	if (pid == 0)
		_exit(0);
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static int op_clone(const char *flags)
{
	fflush(stdout);
	long pid = syscall(SYS_clone, num(flags) | SIGCHLD, 0UL, NULL, NULL, 0UL);
	if (pid < 0)
		return fail(errno);
	if (pid == 0)
		_exit(0);
	waitpid((pid_t)pid, NULL, 0);
	return 0;
}

static void print_ns(void)
{
	const char *ns[] = {"user", "mnt", "net", "ipc", "uts", "pid_for_children", "cgroup", "time_for_children"};
	for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
		char p[64], l[128];
		snprintf(p, sizeof p, "/proc/self/ns/%s", ns[i]);
		ssize_t n = readlink(p, l, sizeof l - 1);
		l[n > 0 ? n : 0] = 0;
		printf("ns_%s=%s\n", ns[i], n > 0 ? l : en(errno));
	}
}

static int op_unshare(const char *flags)
{
	int e = rc(syscall(SYS_unshare, num(flags)));
	print_ns();
	put("unshare", e);
	return e;
}

/* Host tuning by pid (attacks.md PRIV-04). */
static int op_tune(const char *mode, const char *who)
{
	long id = (long)strtol(who, NULL, 0);
	long r;
	if (strcmp(mode, "prlimit") == 0 || strcmp(mode, "prlimit-hi") == 0) {
		struct rlimit l = {64, 64};
		unsigned long pid = (unsigned long)id;
		if (mode[7] == '-')
			pid |= 0xdead00000000UL;
		r = syscall(SYS_prlimit64, pid, RLIMIT_NOFILE, &l, NULL);
	} else if (strcmp(mode, "setprio") == 0) {
		r = setpriority(PRIO_PROCESS, (id_t)id, 19);
	} else if (strcmp(mode, "setprio-pgrp") == 0) {
		r = setpriority(PRIO_PGRP, (id_t)id, 19);
	} else if (strcmp(mode, "setprio-user") == 0) {
		r = setpriority(PRIO_USER, (id_t)id, 19);
	} else if (strcmp(mode, "affinity") == 0) {
		cpu_set_t s;
		CPU_ZERO(&s);
		CPU_SET(0, &s);
		r = sched_setaffinity((pid_t)id, sizeof s, &s);
	} else if (strcmp(mode, "sched") == 0) {
		struct sched_param p = {0};
		r = sched_setscheduler((pid_t)id, SCHED_IDLE, &p);
	} else if (strcmp(mode, "sched-param") == 0) {
		struct sched_param p = {0};
		r = sched_setparam((pid_t)id, &p);
	} else if (strcmp(mode, "sched-attr") == 0) {
		struct {
			uint32_t size, policy;
			uint64_t flags;
			int32_t nice;
			uint32_t prio;
			uint64_t runtime, deadline, period;
		} a = {48, SCHED_IDLE, 0, 0, 0, 0, 0, 0};
		r = syscall(SYS_sched_setattr, (pid_t)id, &a, 0U);
	} else if (strcmp(mode, "ioprio") == 0) {
		r = syscall(SYS_ioprio_set, IOPRIO_WHO_PROCESS, (int)id, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0));
	} else if (strcmp(mode, "ioprio-pgrp") == 0) {
		r = syscall(SYS_ioprio_set, IOPRIO_WHO_PGRP, (int)id, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0));
	} else if (strcmp(mode, "ioprio-user") == 0) {
		r = syscall(SYS_ioprio_set, IOPRIO_WHO_USER, (int)id, IOPRIO_PRIO_VALUE(IOPRIO_CLASS_IDLE, 0));
	} else {
		return EX_USAGE_;
	}
	return check(r);
}

/* op_canary is a victim process for the ptrace family: it holds a secret
 * in memory and in a memfd, lets any process of its uid ptrace it (Yama),
 * prints where they are and waits for its stdin to close. */
static char canary_secret[128];

static int op_canary(const char *secret)
{
	prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
	snprintf(canary_secret, sizeof canary_secret, "%s", secret);
	int fd = memfd_create("canary", 0);
	if (fd < 0 || write(fd, secret, strlen(secret)) < 0)
		return setup_fail("memfd");
	printf("addr=%p fd=%d len=%zu\n", (void *)canary_secret, fd, strlen(secret));
	fflush(stdout);
	char c;
	while (read(0, &c, 1) > 0)
		;
	printf("secret=%s\n", canary_secret);
	return 0;
}

static int op_ptrace(const char *mode, const char *pidstr)
{
	pid_t pid = (pid_t)atoi(pidstr);
	long r;
	if (strcmp(mode, "attach") == 0)
		r = syscall(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0);
	else if (strcmp(mode, "seize") == 0)
		r = syscall(SYS_ptrace, 0x4206 /* PTRACE_SEIZE */, pid, 0, 0);
	else if (strcmp(mode, "traceme") == 0)
		r = syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
	else
		return EX_USAGE_;
	if (r < 0)
		return fail(errno);
	if (strcmp(mode, "traceme") != 0) {
		if (strcmp(mode, "attach") == 0)
			waitpid(pid, NULL, __WALL);
		syscall(SYS_ptrace, PTRACE_DETACH, pid, 0, 0);
	}
	return 0;
}

static int op_vm(const char *mode, const char *pidstr, const char *addr, const char *len)
{
	pid_t pid = (pid_t)atoi(pidstr);
	char buf[256] = {0};
	size_t n = (size_t)num(len);
	if (n >= sizeof buf)
		return EX_USAGE_;
	struct iovec local = {buf, n}, remote = {(void *)num(addr), n};
	if (strcmp(mode, "read") == 0) {
		ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
		if (r < 0)
			return fail(errno);
		printf("read=%s\n", buf);
		return 0;
	}
	memset(buf, 'P', n);
	return check(process_vm_writev(pid, &local, 1, &remote, 1, 0));
}

static int op_getfd(const char *pidstr, const char *fdstr)
{
	int pfd = (int)syscall(SYS_pidfd_open, atoi(pidstr), 0);
	if (pfd < 0)
		return fail(errno);
	int fd = (int)syscall(SYS_pidfd_getfd, pfd, atoi(fdstr), 0);
	if (fd < 0)
		return fail(errno);
	lseek(fd, 0, SEEK_SET);
	printf("got=");
	copy_fd(fd);
	printf("\n");
	return 0;
}

static int op_kcmp(const char *pidstr)
{
	return check(syscall(SYS_kcmp, getpid(), atoi(pidstr), KCMP_VM, 0, 0));
}

static int op_kill(const char *mode, const char *pidstr)
{
	pid_t pid = (pid_t)atoi(pidstr);
	long r;
	if (strcmp(mode, "kill") == 0) {
		r = kill(pid, SIGKILL);
	} else if (strcmp(mode, "killpg") == 0) {
		r = kill(-pid, SIGSTOP);
	} else if (strcmp(mode, "tgkill") == 0) {
		r = syscall(SYS_tgkill, pid, pid, SIGKILL);
	} else if (strcmp(mode, "sigqueue") == 0) {
		siginfo_t si;
		memset(&si, 0, sizeof si);
		si.si_signo = SIGKILL;
		si.si_code = SI_QUEUE;
		si.si_pid = getpid();
		si.si_uid = getuid();
		r = syscall(SYS_rt_sigqueueinfo, pid, SIGKILL, &si);
	} else if (strcmp(mode, "pidfd") == 0) {
		int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pfd < 0)
			return setup_fail("pidfd_open");
		r = syscall(SYS_pidfd_send_signal, pfd, SIGKILL, NULL, 0);
	} else if (strcmp(mode, "probe0") == 0) {
		r = kill(pid, 0);
	} else if (strcmp(mode, "winch") == 0) {
		r = kill(pid, SIGWINCH);
	} else if (strcmp(mode, "allwinch") == 0) {
		/* kill(-1) reports success when every target refused (EPERM is
		 * not counted), so the test judges by who received SIGWINCH. */
		r = kill(-1, SIGWINCH);
	} else {
		return EX_USAGE_;
	}
	return check(r);
}

/* op_sigio asks for SIGIO on a socket to go to pid (or to process group
 * pid for siocspgrp) and then makes I/O happen. SIGIO's default action
 * terminates the target. */
static int op_sigio(const char *mode, const char *pidstr)
{
	pid_t pid = (pid_t)atoi(pidstr);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return setup_fail("socketpair");
	long r;
	if (strcmp(mode, "setown") == 0) {
		r = fcntl(sv[0], F_SETOWN, pid);
	} else if (strcmp(mode, "setown_ex") == 0) {
		struct f_owner_ex o = {F_OWNER_PID, pid};
		r = fcntl(sv[0], F_SETOWN_EX, &o);
	} else if (strcmp(mode, "fiosetown") == 0) {
		int v = pid;
		r = ioctl(sv[0], FIOSETOWN, &v);
	} else if (strcmp(mode, "siocspgrp") == 0) {
		int v = -pid;
		r = ioctl(sv[0], SIOCSPGRP, &v);
	} else {
		return EX_USAGE_;
	}
	if (r < 0)
		return fail(errno);
	if (fcntl(sv[0], F_SETFL, O_ASYNC | O_NONBLOCK) < 0)
		return fail(errno);
	for (int i = 0; i < 3; i++) {
		if (write(sv[1], "x", 1) != 1)
			return fail(errno);
		msleep(20);
	}
	msleep(100);
	return 0;
}

/* tty injection. The pty the test shares is on fds 0, 1 and 2. In a child
 * that leads a new session the probe makes it the controlling terminal
 * (TIOCSTI needs that without CAP_SYS_ADMIN), then pushes "id\n" into its
 * input through target (0, 1, 2 or tty for /dev/tty) with request cmd. */
static int op_tiocsti(const char *target, unsigned long cmd)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		setsid();
		ioctl(0, TIOCSCTTY, 0);
		int fd = strcmp(target, "tty") == 0 ? open("/dev/tty", O_RDWR | O_CLOEXEC) : atoi(target);
		if (fd < 0)
			_exit(errno);
		for (const char *c = "id\n"; *c; c++)
			if (syscall(SYS_ioctl, fd, cmd, c) < 0)
				_exit(errno);
		_exit(0);
	}
	int ws;
	if (waitpid(pid, &ws, 0) < 0)
		return setup_fail("waitpid");
	return WIFEXITED(ws) ? WEXITSTATUS(ws) : EX_SETUP;
}

static int op_tioclinux(void)
{
	char sub = 2; /* TIOCL_SETSEL: selection, for a paste */
	return check(ioctl(0, TIOCLINUX, &sub));
}

/* op_jobctl: take the shared terminal (TIOCSCTTY), its foreground group
 * (TIOCSPGRP) and drop it (TIOCNOTTY), from a new session. */
static int op_jobctl(void)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		setsid();
		signal(SIGHUP, SIG_IGN); /* TIOCNOTTY hangs up the foreground group */
		signal(SIGCONT, SIG_IGN);
		put("sctty", rc(ioctl(0, TIOCSCTTY, 0)));
		pid_t pg = getpgrp();
		put("spgrp", rc(ioctl(0, TIOCSPGRP, &pg)));
		put("notty", rc(ioctl(0, TIOCNOTTY)));
		_exit(0);
	}
	waitpid(pid, NULL, 0);
	return 0;
}

static int op_uring(void)
{
	char params[120];
	memset(params, 0, sizeof params);
	long fd = syscall(SYS_io_uring_setup, 8, params);
	return fd < 0 ? fail(errno) : 0;
}

static int op_x32(const char *nr)
{
	long r = syscall((long)(num(nr) | 0x40000000UL), 0, 0, 0, 0, 0, 0);
	return r < 0 ? fail(errno) : 0;
}

static int op_int80(void)
{
	long ret = 20; /* i386 getpid */
	__asm__ volatile("int $0x80" : "+a"(ret) : : "memory");
	printf("int80=%ld pid=%d\n", ret, getpid());
	return 0;
}

/* Process creation through every path (attacks.md RES-01). The children
 * hold until the probe closes the pipe on their stdin; vfork-like paths
 * exec "probe hold" for that. */
static int child_hold(int rfd)
{
	char b;
	while (read(rfd, &b, 1) < 0 && errno == EINTR)
		;
	return 0;
}

static int op_hold(void)
{
	return child_hold(0);
}

static char child_stack[64][16384] __attribute__((aligned(16)));
static int stack_rfd, stack_wfd;

static int clone_child(void *arg)
{
	(void)arg;
	close(stack_wfd);
	_exit(child_hold(stack_rfd));
}

static int clone_exec_child(void *arg)
{
	char **av = arg;
	dup2(stack_rfd, 0);
	execv(av[0], av);
	_exit(127);
}

/* create1 creates one holding child by mode; it returns its pid, or -1
 * with errno set. */
static pid_t create1(const char *mode, int p[2], int i)
{
	char *av[] = {g_argv[0], "hold", NULL};
	stack_rfd = p[0];
	stack_wfd = p[1];
	if (strcmp(mode, "fork") == 0 || strcmp(mode, "sysfork") == 0) {
		pid_t pid = strcmp(mode, "fork") == 0 ? fork() : (pid_t)syscall(SYS_fork);
		if (pid == 0) {
			close(p[1]);
			_exit(child_hold(p[0]));
		}
		return pid;
	}
	/* glibc's vfork is the raw vfork system call (nr 58); a C wrapper
	 * around syscall(SYS_vfork) cannot be used safely, since the child
	 * would return into the parent's stack frame. */
	if (strcmp(mode, "vfork") == 0) {
		pid_t pid = vfork();
		if (pid == 0) {
			dup2(p[0], 0);
			execv(av[0], av);
			_exit(127);
		}
		return pid;
	}
	if (strcmp(mode, "clone") == 0)
		return clone(clone_child, child_stack[i % 64] + sizeof child_stack[0], SIGCHLD, NULL);
	if (strcmp(mode, "clonevm") == 0)
		return clone(clone_exec_child, child_stack[i % 64] + sizeof child_stack[0], CLONE_VM | CLONE_VFORK | SIGCHLD, av);
	if (strcmp(mode, "posix_spawn") == 0) {
		posix_spawn_file_actions_t fa;
		posix_spawn_file_actions_init(&fa);
		posix_spawn_file_actions_adddup2(&fa, p[0], 0);
		pid_t pid;
		int e = posix_spawn(&pid, av[0], &fa, NULL, av, environ);
		posix_spawn_file_actions_destroy(&fa);
		if (e) {
			errno = e;
			return -1;
		}
		return pid;
	}
	if (strcmp(mode, "clone3") == 0) {
		struct clone_args a;
		memset(&a, 0, sizeof a);
		a.exit_signal = SIGCHLD;
		pid_t pid = (pid_t)syscall(SYS_clone3, &a, sizeof a);
		if (pid == 0) {
			close(p[1]);
			_exit(child_hold(p[0]));
		}
		return pid;
	}
	errno = EINVAL;
	return -1;
}

static int op_bomb(const char *mode, const char *count)
{
	int n = atoi(count);
	if (n < 1 || n > 64)
		return EX_USAGE_;
	int p[2];
	if (pipe(p) < 0)
		return setup_fail("pipe");
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	pid_t kids[64];
	int nk = 0, first = 0, failures = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = create1(mode, p, i);
		if (pid < 0) {
			if (!first)
				first = errno;
			failures++;
			continue;
		}
		kids[nk++] = pid;
	}
	printf("created=%d failed=%d first=%s\n", nk, failures, en(first));
	fflush(stdout);
	msleep(50);
	close(p[1]);
	for (int i = 0; i < nk; i++)
		waitpid(kids[i], NULL, __WALL);
	/* A fresh fork must be admitted once they are gone. */
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	put("after", pid < 0 ? errno : 0);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return 0;
}

/* op_launder tries to make the process count forget live children
 * (attacks.md RES-02), then holds as many children as it can. */
static int op_launder(const char *mode, const char *count)
{
	int n = atoi(count);
	if (n < 1 || n > 64)
		return EX_USAGE_;
	int rounds = 0;
	if (strcmp(mode, "wait") == 0) {
		for (int i = 0; i < 200; i++) {
			siginfo_t si;
			wait4(-1, NULL, WNOHANG, NULL);
			waitid(P_ALL, 0, &si, WEXITED | WNOHANG);
			wait4(-1, NULL, 0, NULL);
			rounds++;
		}
	} else if (strcmp(mode, "sigign") == 0 || strcmp(mode, "unwaited") == 0 || strcmp(mode, "wnohang") == 0) {
		if (mode[0] == 's')
			signal(SIGCHLD, SIG_IGN);
		for (int i = 0; i < 30; i++) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid < 0) {
				/* Slots are credited asynchronously: retry briefly. */
				msleep(20);
				i--;
				if (++rounds > 300) {
					printf("laundered=%d stuck=%s\n", i, en(errno));
					return 0;
				}
				continue;
			}
			if (mode[0] == 'w') {
				while (waitpid(pid, NULL, WNOHANG) == 0)
					msleep(1);
			}
		}
		rounds = 30;
		if (mode[0] == 's')
			signal(SIGCHLD, SIG_DFL);
	} else {
		return EX_USAGE_;
	}
	printf("laundered=%d\n", rounds);
	/* Exits are credited asynchronously (pidfd watchers): settle. */
	msleep(100);
	return op_bomb("fork", count);
}

/* op_lsproc prints the numeric entries of /proc, space-separated. */
static int op_lsproc(void)
{
	DIR *d = opendir("/proc");
	if (d == NULL)
		return fail(errno);
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] >= '0' && e->d_name[0] <= '9')
			printf("%s ", e->d_name);
	printf("\n");
	return 0;
}

/* op_hog grows memory in 1 MiB steps up to mib, touching every page, and
 * prints the running total after each step (so a kill shows how far it
 * got). mode: malloc, mprotect (PROT_NONE reservation made writable),
 * zero (MAP_PRIVATE of /dev/zero), memfd (MAP_SHARED memfd grown with
 * ftruncate), children (4 children share the total). A refusal (ENOMEM)
 * ends it. */
static int hog_step(const char *mode, int memfd, long done)
{
	size_t mb = 1 << 20;
	char *p;
	if (strcmp(mode, "malloc") == 0) {
		p = malloc(mb);
		if (p == NULL)
			return ENOMEM;
	} else if (strcmp(mode, "mprotect") == 0) {
		p = mmap(NULL, mb, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return errno;
		if (mprotect(p, mb, PROT_READ | PROT_WRITE) < 0)
			return errno;
	} else if (strcmp(mode, "zero") == 0) {
		int z = open("/dev/zero", O_RDWR | O_CLOEXEC);
		if (z < 0)
			return errno;
		p = mmap(NULL, mb, PROT_READ | PROT_WRITE, MAP_PRIVATE, z, 0);
		close(z);
		if (p == MAP_FAILED)
			return errno;
	} else if (strcmp(mode, "memfd") == 0) {
		if (ftruncate(memfd, (off_t)((done + 1) * (long)mb)) < 0)
			return errno;
		p = mmap(NULL, mb, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, (off_t)(done * (long)mb));
		if (p == MAP_FAILED)
			return errno;
	} else {
		return EINVAL;
	}
	for (size_t i = 0; i < mb; i += 4096)
		p[i] = 1;
	return 0;
}

static int hog(const char *mode, long mib)
{
	int memfd = -1;
	if (strcmp(mode, "memfd") == 0 && (memfd = memfd_create("hog", MFD_CLOEXEC)) < 0)
		return fail(errno);
	for (long done = 0; done < mib; done++) {
		int e = hog_step(mode, memfd, done);
		if (e) {
			printf("stopped=%s\n", en(e));
			return 0;
		}
		printf("touched=%ld\n", done + 1);
		fflush(stdout);
	}
	return 0;
}

static int op_hog(const char *mode, const char *mib)
{
	long n = atol(mib);
	if (strcmp(mode, "children") != 0)
		return hog(mode, n);
	/* The children keep what they got until all four are done, so that
	 * the total is what they held at the same time. */
	int done[2], hold[2];
	if (pipe(done) < 0 || pipe(hold) < 0)
		return setup_fail("pipe");
	pid_t kids[4];
	int nk = 0;
	for (int i = 0; i < 4; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			close(hold[1]);
			hog("malloc", n / 4);
			char b = 'd';
			if (write(done[1], &b, 1) != 1)
				_exit(EX_SETUP);
			while (read(hold[0], &b, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (pid > 0)
			kids[nk++] = pid;
	}
	close(done[1]);
	char b;
	for (int i = 0; i < nk; i++)
		if (read(done[0], &b, 1) != 1)
			break;
	close(hold[1]);
	for (int i = 0; i < nk; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

static int op_rlimit_raise(const char *want)
{
	rlim_t n = (rlim_t)atol(want);
	struct rlimit l = {n, n};
	put("setrlimit", rc(setrlimit(RLIMIT_NOFILE, &l)));
	put("prlimit", rc(syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &l, NULL)));
	getrlimit(RLIMIT_NOFILE, &l);
	printf("cur=%llu max=%llu\n", (unsigned long long)l.rlim_cur, (unsigned long long)l.rlim_max);
	int opened = 0;
	while ((rlim_t)opened < n) {
		if (open("/dev/null", O_RDONLY) < 0)
			break;
		opened++;
	}
	printf("opened=%d\n", opened);
	return 0;
}

/* op_fifodos: one thread opens a FIFO nobody writes (an on-behalf open
 * that blocks); the main thread meanwhile opens ok n times. */
static void *fifo_opener(void *p)
{
	open((const char *)p, O_RDONLY | O_CLOEXEC);
	return NULL;
}

static int op_fifodos(const char *fifo, const char *ok, const char *count)
{
	pthread_t th;
	if (pthread_create(&th, NULL, fifo_opener, (void *)fifo) != 0)
		return setup_fail("pthread_create");
	msleep(100);
	int n = atoi(count), good = 0;
	double t0 = now();
	for (int i = 0; i < n; i++) {
		int fd = open(ok, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			good++;
			close(fd);
		}
	}
	printf("ok=%d ms=%d\n", good, (int)((now() - t0) * 1000));
	fflush(stdout);
	_exit(0); /* exit_group with the opener still blocked */
}

static int op_spew(const char *mib)
{
	static char buf[1 << 16];
	memset(buf, 'x', sizeof buf);
	long total = atol(mib) << 20;
	for (long done = 0; done < total; done += (long)sizeof buf)
		if (write(1, buf, sizeof buf) < 0)
			return fail(errno);
	return 0;
}

/* op_notifdie (attacks.md TOC-07): a child is killed while a thread of it
 * waits in an on-behalf open of a FIFO nobody writes yet. The probe writes
 * the child's pid to pidfile once the child is reaped (so its pid is free),
 * then waits for done to appear. */
static void *notif_opener(void *p)
{
	int fd = open((const char *)p, O_RDONLY | O_CLOEXEC);
	fprintf(stderr, "probe: notifdie: opener returned %d (%s)\n", fd, en(fd < 0 ? errno : 0));
	return NULL;
}

static int op_notifdie(const char *fifo, const char *pidfile, const char *done)
{
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0) {
		pthread_t th;
		if (pthread_create(&th, NULL, notif_opener, (void *)fifo) != 0)
			_exit(EX_SETUP);
		msleep(200);
		_exit(0); /* exit_group: the opener dies inside its notification */
	}
	if (waitpid(pid, NULL, 0) < 0)
		return setup_fail("waitpid");
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof tmp, "%s.tmp", pidfile);
	FILE *f = fopen(tmp, "we");
	if (f == NULL)
		return setup_fail("pidfile");
	fprintf(f, "%d\n", pid);
	fclose(f);
	rename(tmp, pidfile);
	double end = now() + 30;
	while (access(done, F_OK) != 0 && now() < end)
		msleep(10);
	return 0;
}

/* op_pidcycle (host side of TOC-07) creates processes until one gets pid
 * target. That one stays (the holder): it closes its copy of the hold
 * pipe, says so, and blocks. The probe prints its pid and waits for its
 * stdin to close, then lets the holder go. As root it first asks the
 * kernel for the pid through ns_last_pid; otherwise (and as a fallback)
 * it cycles with CLONE_VM children, which are cheap to create. */
static int cycle_hold, cycle_hold_w, cycle_ready, cycle_want;
static char cycle_stack[65536] __attribute__((aligned(16)));

static int cycle_child(void *arg)
{
	(void)arg;
	if (syscall(SYS_getpid) != cycle_want)
		syscall(SYS_exit, 0);
	char b = 'r';
	syscall(SYS_close, cycle_hold_w);
	syscall(SYS_write, cycle_ready, &b, 1);
	while (syscall(SYS_read, cycle_hold, &b, 1) < 0)
		;
	syscall(SYS_exit, 0);
	return 0;
}

static int op_pidcycle(const char *target, const char *max)
{
	cycle_want = atoi(target);
	long limit = atol(max);
	int hold[2], ready[2];
	if (pipe(hold) < 0 || pipe(ready) < 0)
		return setup_fail("pipe");
	cycle_hold = hold[0];
	cycle_hold_w = hold[1];
	cycle_ready = ready[1];
	long i;
	pid_t holder = 0;
	for (i = 0; i < limit && holder == 0; i++) {
		if (i < 20) {
			int f = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
			if (f >= 0) {
				char b[32];
				int n = snprintf(b, sizeof b, "%d", cycle_want - 1);
				if (write(f, b, (size_t)n) < 0)
					i = 20;
				close(f);
			} else {
				i = 20;
			}
		}
		pid_t pid = clone(cycle_child, cycle_stack + sizeof cycle_stack, CLONE_VM | SIGCHLD, NULL);
		if (pid < 0) {
			msleep(1);
			continue;
		}
		if (pid == cycle_want) {
			holder = pid;
			break;
		}
		while (waitpid(pid, NULL, __WALL) < 0 && errno == EINTR)
			;
	}
	if (holder == 0) {
		printf("holder=0 forks=%ld\n", i);
		return 0;
	}
	char b;
	if (read(ready[0], &b, 1) != 1)
		return setup_fail("holder ready");
	printf("holder=%d forks=%ld\n", holder, i + 1);
	fflush(stdout);
	while (read(0, &b, 1) > 0)
		;
	close(hold[1]);
	waitpid(holder, NULL, __WALL);
	return 0;
}

/* op_sigstorm (attacks.md TOC-06): SIGALRM every 100 us, with or without
 * SA_RESTART, while the probe opens, closes and forks (all notified under
 * fs_denied and max_processes). close and fork never fail with EINTR
 * natively; open of a regular file neither. */
static void on_alarm(int sig)
{
	(void)sig;
}

static int op_sigstorm(const char *mode, const char *path, const char *count)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = strcmp(mode, "restart") == 0 ? SA_RESTART : 0;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = {{0, 100}, {0, 100}};
	setitimer(ITIMER_REAL, &it, NULL);
	int n = atoi(count);
	long open_eintr = 0, open_other = 0, close_fail = 0, fork_eintr = 0, fork_other = 0, forks = 0;
	for (int i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR)
				open_eintr++;
			else
				open_other++;
		} else if (close(fd) < 0) {
			close_fail++;
		}
		if (i % 10 == 0) {
			pid_t pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid < 0) {
				if (errno == EINTR)
					fork_eintr++;
				else
					fork_other++;
			} else {
				forks++;
				while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
					;
			}
		}
	}
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_REAL, &off, NULL);
	printf("open_eintr=%ld open_other=%ld close_fail=%ld fork_eintr=%ld fork_other=%ld forks=%ld\n",
	       open_eintr, open_other, close_fail, fork_eintr, fork_other, forks);
	return 0;
}

/* The deny-list table (attacks.md 3.2, PRIV-06 and friends), in
 * try-syscall style: every call gets a bad fd, a bad pointer or an invalid
 * value so that, unfiltered, it fails harmlessly inside the kernel (or
 * does nothing), while the filter answers EPERM. */
struct try {
	const char *name;
	long (*call)(void);
};

#define BAD ((void *)1)
static long t_mount(void) { return syscall(SYS_mount, NULL, "/", BAD, 0UL, NULL); }
static long t_umount2(void) { return syscall(SYS_umount2, BAD, 0); }
static long t_pivot_root(void) { return syscall(SYS_pivot_root, BAD, BAD); }
static long t_chroot(void) { return syscall(SYS_chroot, BAD); }
static long t_fsopen(void) { return syscall(SYS_fsopen, BAD, 0); }
static long t_fsconfig(void) { return syscall(SYS_fsconfig, -1, 0, NULL, NULL, 0); }
static long t_fsmount(void) { return syscall(SYS_fsmount, -1, 0, 0); }
static long t_fspick(void) { return syscall(SYS_fspick, -1, BAD, 0); }
static long t_move_mount(void) { return syscall(SYS_move_mount, -1, BAD, -1, BAD, 0); }
static long t_open_tree(void) { return syscall(SYS_open_tree, -1, BAD, 0); }
static long t_mount_setattr(void) { return syscall(SYS_mount_setattr, -1, BAD, 0, BAD, 32); }
static long t_unshare(void) { return syscall(SYS_unshare, 0UL); }
static long t_setns(void) { return syscall(SYS_setns, -1, 0); }
static long t_ptrace(void) { return syscall(SYS_ptrace, PTRACE_PEEKDATA, 0, 0, 0); }
static long t_vm_readv(void) { return syscall(SYS_process_vm_readv, getpid(), BAD, 1, BAD, 1, 0); }
static long t_vm_writev(void) { return syscall(SYS_process_vm_writev, getpid(), BAD, 1, BAD, 1, 0); }
static long t_pidfd_getfd(void) { return syscall(SYS_pidfd_getfd, -1, 0, 0); }
static long t_kcmp(void) { return syscall(SYS_kcmp, getpid(), getpid(), 99, 0, 0); }
static long t_process_madvise(void) { return syscall(SYS_process_madvise, -1, NULL, 0, 0, 0); }
static long t_process_mrelease(void) { return syscall(SYS_process_mrelease, -1, 0); }
static long t_bpf(void) { return syscall(SYS_bpf, 0xdead, NULL, 0); }
static long t_perf_event_open(void) { return syscall(SYS_perf_event_open, BAD, 0, -1, -1, 0); }
static long t_userfaultfd(void) { return syscall(SYS_userfaultfd, 0xdead); }
static long t_io_uring_setup(void) { return syscall(SYS_io_uring_setup, 1, BAD); }
static long t_io_uring_enter(void) { return syscall(SYS_io_uring_enter, -1, 0, 0, 0, NULL, 0); }
static long t_io_uring_register(void) { return syscall(SYS_io_uring_register, -1, 0, NULL, 0); }
static long t_keyctl(void) { return syscall(SYS_keyctl, 11 /* KEYCTL_READ */, -3 /* session */, BAD, 16); }
static long t_add_key(void) { return syscall(SYS_add_key, BAD, BAD, NULL, 0, -3); }
static long t_request_key(void) { return syscall(SYS_request_key, BAD, BAD, NULL, 0); }
static long t_kexec_load(void) { return syscall(SYS_kexec_load, 0, 0, NULL, 0xdead0000UL); }
static long t_kexec_file_load(void) { return syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0xdead0000UL); }
static long t_reboot(void) { return syscall(SYS_reboot, 0, 0, 0, NULL); }
static long t_init_module(void) { return syscall(SYS_init_module, BAD, 1, BAD); }
static long t_finit_module(void) { return syscall(SYS_finit_module, -1, "", 0); }
static long t_delete_module(void) { return syscall(SYS_delete_module, BAD, 0); }
static long t_swapon(void) { return syscall(SYS_swapon, BAD, 0); }
static long t_swapoff(void) { return syscall(SYS_swapoff, BAD); }
static long t_acct(void) { return syscall(SYS_acct, BAD); }
static long t_quotactl(void) { return syscall(SYS_quotactl, 0, BAD, 0, NULL); }
static long t_quotactl_fd(void) { return syscall(SYS_quotactl_fd, -1, 0, 0, NULL); }
static long t_sethostname(void) { return syscall(SYS_sethostname, BAD, 1); }
static long t_setdomainname(void) { return syscall(SYS_setdomainname, BAD, 1); }
static long t_settimeofday(void) { return syscall(SYS_settimeofday, BAD, NULL); }
static long t_clock_settime(void) { return syscall(SYS_clock_settime, CLOCK_REALTIME, BAD); }
static long t_clock_adjtime(void) { return syscall(SYS_clock_adjtime, CLOCK_REALTIME, BAD); }
static long t_open_by_handle_at(void) { return syscall(SYS_open_by_handle_at, -1, BAD, 0); }
static long t_name_to_handle_at(void) { return syscall(SYS_name_to_handle_at, -1, BAD, BAD, BAD, 0); }
static long t_iopl(void) { return syscall(SYS_iopl, 0); }
static long t_ioperm(void) { return syscall(SYS_ioperm, 0, 0, 0); }
static long t_syslog(void) { return syscall(SYS_syslog, 3, BAD, 16); }
static long t_uselib(void) { return syscall(SYS_uselib, BAD); }
static long t_ustat(void) { return syscall(SYS_ustat, 0, BAD); }
static long t_sysfs(void) { return syscall(SYS_sysfs, 1, BAD); }
static long t_fanotify_init(void) { return syscall(SYS_fanotify_init, 0xffffffffU, 0); }
static long t_mbind(void) { return syscall(SYS_mbind, BAD, 0, 0, NULL, 0, 0); }
static long t_set_mempolicy(void) { return syscall(SYS_set_mempolicy, 0xdead, NULL, 0); }
static long t_get_mempolicy(void) { return syscall(SYS_get_mempolicy, NULL, NULL, 0, BAD, 0xdead); }
static long t_migrate_pages(void) { return syscall(SYS_migrate_pages, 0, 1, BAD, BAD); }
static long t_move_pages(void) { return syscall(SYS_move_pages, 0, 1, BAD, NULL, BAD, 0); }
static long t_set_mempolicy_home_node(void) { return syscall(SYS_set_mempolicy_home_node, 1, 0, 0, 0xdead); }
static long t_shmget(void) { return syscall(SYS_shmget, IPC_PRIVATE, 0, 0); }
static long t_shmat(void) { return syscall(SYS_shmat, -1, NULL, 0); }
static long t_shmdt(void) { return syscall(SYS_shmdt, BAD); }
static long t_shmctl(void) { return syscall(SYS_shmctl, -1, 2 /* IPC_STAT */, BAD); }
static long t_semget(void) { return syscall(SYS_semget, IPC_PRIVATE, -1, 0); }
static long t_semop(void) { return syscall(SYS_semop, -1, NULL, 0); }
static long t_semtimedop(void) { return syscall(SYS_semtimedop, -1, NULL, 0, NULL); }
static long t_semctl(void) { return syscall(SYS_semctl, -1, 0, 0 /* IPC_RMID */); }
static long t_msgget(void) { return syscall(SYS_msgget, 0x5a4d3c2b, 0); }
static long t_msgsnd(void) { return syscall(SYS_msgsnd, -1, BAD, 0, 0); }
static long t_msgrcv(void) { return syscall(SYS_msgrcv, -1, BAD, 0, 0, 04000 /* IPC_NOWAIT */); }
static long t_msgctl(void) { return syscall(SYS_msgctl, -1, 0, NULL); }
static long t_mq_open(void) { return syscall(SYS_mq_open, BAD, 0, 0, NULL); }
static long t_mq_unlink(void) { return syscall(SYS_mq_unlink, BAD); }
static long t_mq_timedsend(void) { return syscall(SYS_mq_timedsend, -1, BAD, 0, 0, NULL); }
static long t_mq_timedreceive(void) { return syscall(SYS_mq_timedreceive, -1, BAD, 0, NULL, NULL); }
static long t_mq_notify(void) { return syscall(SYS_mq_notify, -1, NULL); }
static long t_mq_getsetattr(void) { return syscall(SYS_mq_getsetattr, -1, NULL, NULL); }
static long t_seccomp_listener(void) { return syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, BAD); }
static long t_prctl_dumpable(void) { return syscall(SYS_prctl, PR_SET_DUMPABLE, 1, 0, 0, 0); }
static long t_prctl_ptracer(void) { return syscall(SYS_prctl, PR_SET_PTRACER, 0, 0, 0, 0); }
static long t_prctl_mm(void) { return syscall(SYS_prctl, PR_SET_MM, 0xdead, 0, 0, 0); }
static long t_ioctl_tiocsti(void) { return syscall(SYS_ioctl, -1, (unsigned long)TIOCSTI, BAD); }
static long t_ioctl_tiocsti_hi(void) { return syscall(SYS_ioctl, -1, (unsigned long)TIOCSTI | 0xffffffff00000000UL, BAD); }
static long t_ioctl_tioclinux(void) { return syscall(SYS_ioctl, -1, (unsigned long)TIOCLINUX, BAD); }
static long t_ioctl_tioccons(void) { return syscall(SYS_ioctl, -1, (unsigned long)TIOCCONS, BAD); }
static long t_ioctl_tiocsetd(void) { return syscall(SYS_ioctl, -1, (unsigned long)TIOCSETD, BAD); }
static long t_tfo_sockopt(void) { return syscall(SYS_setsockopt, -1, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, BAD, 4); }
static long t_bindtodevice(void) { return syscall(SYS_setsockopt, -1, SOL_SOCKET, SO_BINDTODEVICE, BAD, 4); }
static long t_sendto_tfo(void) { return syscall(SYS_sendto, -1, BAD, 1, MSG_FASTOPEN, NULL, 0); }
static long t_sendmsg_tfo(void) { return syscall(SYS_sendmsg, -1, BAD, MSG_FASTOPEN); }
static long t_sendmmsg_tfo(void) { return syscall(SYS_sendmmsg, -1, BAD, 1, MSG_FASTOPEN); }
static long t_prctl_dumpable_hi(void) { return syscall(SYS_prctl, PR_SET_DUMPABLE | 0xdead00000000UL, 1UL, 0, 0, 0); }
static long t_tfo_sockopt_hi(void) { return syscall(SYS_setsockopt, -1, IPPROTO_TCP | 0xdead00000000UL, TCP_FASTOPEN_CONNECT | 0xdead00000000UL, BAD, 4); }
static long t_personality_hi(void)
{
	long old = syscall(SYS_personality, 0xffffffffUL);
	long r = syscall(SYS_personality, 0x0400000UL | 0xdead00000000UL);
	if (r >= 0)
		syscall(SYS_personality, (unsigned long)old);
	return r;
}
static long t_personality(void)
{
	long old = syscall(SYS_personality, 0xffffffffUL);
	long r = syscall(SYS_personality, 0x0400000UL /* READ_IMPLIES_EXEC */);
	if (r >= 0)
		syscall(SYS_personality, (unsigned long)old);
	return r;
}
static long t_clone3(void)
{
	struct clone_args a;
	memset(&a, 0, sizeof a);
	a.flags = CLONE_NEWUSER | CLONE_NEWNS;
	a.exit_signal = SIGCHLD;
	/* A bad set_tid pointer: the kernel fails before creating anything. */
	a.set_tid = (uint64_t)(uintptr_t)BAD;
	a.set_tid_size = 1;
	return syscall(SYS_clone3, &a, sizeof a);
}

static const struct try tries[] = {
	{"mount", t_mount}, {"umount2", t_umount2}, {"pivot_root", t_pivot_root}, {"chroot", t_chroot},
	{"fsopen", t_fsopen}, {"fsconfig", t_fsconfig}, {"fsmount", t_fsmount}, {"fspick", t_fspick},
	{"move_mount", t_move_mount}, {"open_tree", t_open_tree}, {"mount_setattr", t_mount_setattr},
	{"unshare", t_unshare}, {"setns", t_setns},
	{"ptrace", t_ptrace}, {"process_vm_readv", t_vm_readv}, {"process_vm_writev", t_vm_writev},
	{"pidfd_getfd", t_pidfd_getfd}, {"kcmp", t_kcmp}, {"process_madvise", t_process_madvise},
	{"process_mrelease", t_process_mrelease},
	{"bpf", t_bpf}, {"perf_event_open", t_perf_event_open}, {"userfaultfd", t_userfaultfd},
	{"io_uring_setup", t_io_uring_setup}, {"io_uring_enter", t_io_uring_enter}, {"io_uring_register", t_io_uring_register},
	{"keyctl", t_keyctl}, {"add_key", t_add_key}, {"request_key", t_request_key},
	{"kexec_load", t_kexec_load}, {"kexec_file_load", t_kexec_file_load}, {"reboot", t_reboot},
	{"init_module", t_init_module}, {"finit_module", t_finit_module}, {"delete_module", t_delete_module},
	{"swapon", t_swapon}, {"swapoff", t_swapoff}, {"acct", t_acct}, {"quotactl", t_quotactl}, {"quotactl_fd", t_quotactl_fd},
	{"sethostname", t_sethostname}, {"setdomainname", t_setdomainname},
	{"settimeofday", t_settimeofday}, {"clock_settime", t_clock_settime}, {"clock_adjtime", t_clock_adjtime},
	{"open_by_handle_at", t_open_by_handle_at}, {"name_to_handle_at", t_name_to_handle_at},
	{"iopl", t_iopl}, {"ioperm", t_ioperm}, {"syslog", t_syslog}, {"uselib", t_uselib}, {"ustat", t_ustat}, {"sysfs", t_sysfs},
	{"fanotify_init", t_fanotify_init},
	{"mbind", t_mbind}, {"set_mempolicy", t_set_mempolicy}, {"get_mempolicy", t_get_mempolicy},
	{"migrate_pages", t_migrate_pages}, {"move_pages", t_move_pages}, {"set_mempolicy_home_node", t_set_mempolicy_home_node},
	{"shmget", t_shmget}, {"shmat", t_shmat}, {"shmdt", t_shmdt}, {"shmctl", t_shmctl},
	{"semget", t_semget}, {"semop", t_semop}, {"semtimedop", t_semtimedop}, {"semctl", t_semctl},
	{"msgget", t_msgget}, {"msgsnd", t_msgsnd}, {"msgrcv", t_msgrcv}, {"msgctl", t_msgctl},
	{"mq_open", t_mq_open}, {"mq_unlink", t_mq_unlink}, {"mq_timedsend", t_mq_timedsend},
	{"mq_timedreceive", t_mq_timedreceive}, {"mq_notify", t_mq_notify}, {"mq_getsetattr", t_mq_getsetattr},
	{"seccomp_new_listener", t_seccomp_listener},
	{"prctl_set_dumpable", t_prctl_dumpable}, {"prctl_set_ptracer", t_prctl_ptracer}, {"prctl_set_mm", t_prctl_mm},
	{"ioctl_tiocsti", t_ioctl_tiocsti}, {"ioctl_tiocsti_hibits", t_ioctl_tiocsti_hi}, {"ioctl_tioclinux", t_ioctl_tioclinux},
	{"ioctl_tioccons", t_ioctl_tioccons}, {"ioctl_tiocsetd", t_ioctl_tiocsetd},
	{"setsockopt_tcp_fastopen_connect", t_tfo_sockopt}, {"setsockopt_so_bindtodevice", t_bindtodevice},
	{"sendto_msg_fastopen", t_sendto_tfo}, {"sendmsg_msg_fastopen", t_sendmsg_tfo}, {"sendmmsg_msg_fastopen", t_sendmmsg_tfo},
	{"personality_read_implies_exec", t_personality}, {"clone3_newuser_newns", t_clone3},
	{"prctl_set_dumpable_hibits", t_prctl_dumpable_hi}, {"setsockopt_tcp_fastopen_connect_hibits", t_tfo_sockopt_hi},
	{"personality_read_implies_exec_hibits", t_personality_hi},
};

static int op_tryall(void)
{
	for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
		errno = 0;
		long r = tries[i].call();
		put(tries[i].name, r < 0 ? errno : 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return EX_USAGE_;
	g_argv = argv;
	op = argv[1];
	char **a = argv + 2;
	int n = argc - 2;
	int r = EX_USAGE_;
#define IS(name, nargs) (strcmp(op, name) == 0 && n == (nargs))
	if (IS("read", 1))
		r = op_read(a[0]);
	else if (IS("open", 2))
		r = op_open(a[0], a[1]);
	else if (IS("write", 2))
		r = op_write(a[0], a[1], O_WRONLY | O_CREAT | O_TRUNC);
	else if (IS("append", 2))
		r = op_write(a[0], a[1], O_WRONLY | O_APPEND);
	else if (IS("readlink", 1))
		r = op_readlink(a[0]);
	else if (IS("readpid", 1))
		r = op_readpid(a[0]);
	else if (IS("openat", 2))
		r = op_openat(a[0], a[1]);
	else if (strcmp(op, "echo") == 0)
		r = op_echo(n, a);
	else if (IS("fdscan", 1))
		r = op_fdscan(a[0]);
	else if (IS("procfd-upgrade", 1))
		r = op_procfd_upgrade(a[0]);
	else if (IS("procfd-unlinked", 2))
		r = op_procfd_unlinked(a[0], a[1]);
	else if (IS("opath", 3))
		r = op_opath(a[0], a[1], a[2]);
	else if (IS("linkwrite", 2))
		r = op_linkwrite(a[0], a[1]);
	else if (IS("rename2", 3))
		r = op_rename2(a[0], a[1], a[2]);
	else if (IS("renameat", 2))
		r = check(syscall(SYS_renameat, AT_FDCWD, a[0], AT_FDCWD, a[1]));
	else if (IS("swaprace", 3))
		r = op_swaprace(a[0], a[1], a[2]);
	else if (IS("creat", 1))
		r = check(creat(a[0], 0644));
	else if (IS("mkdir", 1))
		r = check(mkdir(a[0], 0755));
	else if (IS("rmdir", 1))
		r = check(rmdir(a[0]));
	else if (IS("unlinkat", 2))
		r = check(unlinkat(open(a[0], O_RDONLY | O_DIRECTORY | O_CLOEXEC), a[1], 0));
	else if (IS("symlinkat", 3))
		r = check(symlinkat(a[0], open(a[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC), a[2]));
	else if (IS("linkat", 2))
		r = check(linkat(AT_FDCWD, a[0], AT_FDCWD, a[1], 0));
	else if (IS("tmpfile", 1))
		r = check(open(a[0], O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
	else if (IS("exec", 1))
		r = op_exec(a[0]);
	else if (IS("execveat", 2))
		r = op_execveat(a[0], a[1]);
	else if (IS("mknod", 4))
		r = op_mknod(a[0], a[1], a[2], a[3]);
	else if (IS("nnp", 0))
		r = op_nnp();
	else if (IS("ids", 0))
		r = op_ids();
	else if (strcmp(op, "spawnwait") == 0 && n >= 1)
		r = op_spawnwait(a);
	else if (IS("dumpable", 0))
		r = op_dumpable();
	else if (IS("newlistener", 0))
		r = op_newlistener(0);
	else if (IS("newlistener-hibits", 0))
		r = op_newlistener(1);
	else if (IS("ownfilter", 2))
		r = op_ownfilter(a[0], a[1]);
	else if (IS("fdrights", 1))
		r = op_fdrights(a[0]);
	else if (IS("emfile", 2))
		r = op_emfile(a[0], a[1]);
	else if (IS("connect", 2))
		r = op_connectaddr(a[0], a[1], 0);
	else if (IS("mptcp", 2))
		r = op_connectaddr(a[0], a[1], IPPROTO_MPTCP);
	else if (IS("socket", 3))
		r = op_sock(a[0], a[1], a[2]);
	else if (IS("socketpair", 2))
		r = op_socketpair(a[0], a[1]);
	else if (IS("tfo", 2))
		r = op_tfo(a[0], a[1]);
	else if (IS("udp", 3))
		r = op_udp(a[0], a[1], a[2]);
	else if (IS("ping", 0))
		r = op_ping();
	else if (IS("abstract", 1))
		r = op_abstract(a[0]);
	else if (IS("listen", 3))
		r = op_listen(a[0], a[1], a[2]);
	else if (IS("flip", 5))
		r = op_flip(a[0], a[1], a[2], a[3], a[4]);
	else if (IS("connflip", 3))
		r = op_connflip(a[0], a[1], a[2]);
	else if (IS("badpath", 4))
		r = op_badpath(a[0], a[1], a[2], a[3]);
	else if (IS("clone3", 2))
		r = op_clone3(a[0], a[1]);
	else if (IS("clone", 1))
		r = op_clone(a[0]);
	else if (IS("unshare", 1))
		r = op_unshare(a[0]);
	else if (IS("tune", 2))
		r = op_tune(a[0], a[1]);
	else if (IS("canary", 1))
		r = op_canary(a[0]);
	else if (IS("ptrace", 2))
		r = op_ptrace(a[0], a[1]);
	else if (IS("vm", 4))
		r = op_vm(a[0], a[1], a[2], a[3]);
	else if (IS("getfd", 2))
		r = op_getfd(a[0], a[1]);
	else if (IS("kcmp", 1))
		r = op_kcmp(a[0]);
	else if (IS("kill", 2))
		r = op_kill(a[0], a[1]);
	else if (IS("sigio", 2))
		r = op_sigio(a[0], a[1]);
	else if (IS("tiocsti", 1))
		r = op_tiocsti(a[0], TIOCSTI);
	else if (IS("tiocsti-hibits", 1))
		r = op_tiocsti(a[0], (unsigned long)TIOCSTI | 0xffffffff00000000UL);
	else if (IS("tioclinux", 0))
		r = op_tioclinux();
	else if (IS("jobctl", 0))
		r = op_jobctl();
	else if (IS("uring", 0))
		r = op_uring();
	else if (IS("sys", 1))
		r = check(syscall((long)num(a[0]), 0, 0, 0, 0, 0, 0));
	else if (IS("x32", 1))
		r = op_x32(a[0]);
	else if (IS("int80", 0))
		r = op_int80();
	else if (IS("hold", 0))
		r = op_hold();
	else if (IS("bomb", 2))
		r = op_bomb(a[0], a[1]);
	else if (IS("launder", 2))
		r = op_launder(a[0], a[1]);
	else if (IS("rlimit-raise", 1))
		r = op_rlimit_raise(a[0]);
	else if (IS("fifodos", 3))
		r = op_fifodos(a[0], a[1], a[2]);
	else if (IS("spew", 1))
		r = op_spew(a[0]);
	else if (IS("notifdie", 3))
		r = op_notifdie(a[0], a[1], a[2]);
	else if (IS("pidcycle", 2))
		r = op_pidcycle(a[0], a[1]);
	else if (IS("sigstorm", 3))
		r = op_sigstorm(a[0], a[1], a[2]);
	else if (IS("lsproc", 0))
		r = op_lsproc();
	else if (IS("hog", 2))
		r = op_hog(a[0], a[1]);
	else if (IS("tryall", 0))
		r = op_tryall();
	else
		fprintf(stderr, "probe: unknown operation or wrong argument count: %s\n", op);
	fflush(stdout);
	return r;
}
