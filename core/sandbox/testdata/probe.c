/* probe: one system call (or a short fixed sequence) per invocation, for the
 * real-kernel tests of package sandbox. Written for this project.
 *
 * Usage: probe OP ARGS...
 *
 * Exit status: 0 when the operation succeeded, the errno value when it
 * failed (the name goes to stderr as "probe: OP: ENAME"), 100 and up for a
 * probe malfunction (bad usage, a setup step that must not fail). Reads print
 * what they read on stdout, so a test can check the canary content.
 *
 * Every loop is bounded by its arguments: the fork operations also serve as
 * fork bombs under max_processes, and root ignores RLIMIT_NPROC.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include <arpa/inet.h>

enum {
	EX_USAGE_ = 100, /* bad arguments */
	EX_SETUP = 101,  /* a setup step failed (see stderr) */
	EX_NOCTTY = 102, /* tiocsti: the pty did not become the controlling tty */
	EX_NOECHO = 103, /* tiocsti: ioctl succeeded but nothing arrived */
};

static const char *op;

static int fail(int err)
{
	const char *name = strerrorname_np(err);
	fprintf(stderr, "probe: %s: %s\n", op, name ? name : "E?");
	return err;
}

static int setup_fail(const char *what)
{
	fprintf(stderr, "probe: %s: setup %s: %s\n", op, what, strerrorname_np(errno));
	return EX_SETUP;
}

/* copy_fd prints everything fd holds on stdout. */
static int copy_fd(int fd)
{
	char buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			return fail(errno);
		if (n == 0)
			return 0;
		if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
			return setup_fail("fwrite");
	}
}

static int op_read(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	return copy_fd(fd);
}

static int op_write(const char *path, const char *data)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return fail(errno);
	size_t n = strlen(data);
	if (write(fd, data, n) != (ssize_t)n)
		return fail(errno);
	if (close(fd) < 0)
		return fail(errno);
	return 0;
}

static int op_openat2(const char *path)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC};
	long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
	if (fd < 0)
		return fail(errno);
	return copy_fd((int)fd);
}

/* op_fdread opens dir, then reads /proc/self/fd/<dirfd>/rel. */
static int op_fdread(const char *dir, const char *rel)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return setup_fail("open dir");
	char path[4096];
	snprintf(path, sizeof path, "/proc/self/fd/%d/%s", dfd, rel);
	return op_read(path);
}

static int check(long r)
{
	return r < 0 ? fail(errno) : 0;
}

/* op_mount calls mount with a bad pointer for the filesystem type. The
 * kernel copies the type string before any permission check
 * (fs/namespace.c, SYSCALL_DEFINE5(mount)), so an unfiltered call fails
 * with EFAULT for root and for an unprivileged user alike, and changes
 * nothing. */
static int op_mount(void)
{
	return check(syscall(SYS_mount, NULL, "/", (const char *)1, 0UL, NULL));
}

static int wait_child(pid_t pid)
{
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return setup_fail("waitpid");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "probe: %s: child status %#x\n", op, st);
		return EX_SETUP;
	}
	return 0;
}

/* op_clone_user: raw clone(CLONE_NEWUSER|SIGCHLD), with unrelated high bits
 * set when hi is non-zero (the kernel uses only the low 32 bits of the
 * flags, kernel/fork.c). The child exits at once. */
static int op_clone_user(int hi)
{
	unsigned long flags = CLONE_NEWUSER | SIGCHLD;
	if (hi)
		flags |= 0xdead00000000UL;
	long pid = syscall(SYS_clone, flags, 0UL, NULL, NULL, 0UL);
	if (pid < 0)
		return fail(errno);
	if (pid == 0)
		_exit(0);
	return wait_child((pid_t)pid);
}

static int op_clone3_user(void)
{
	struct clone_args args;
	memset(&args, 0, sizeof args);
	args.flags = CLONE_NEWUSER;
	args.exit_signal = SIGCHLD;
	long pid = syscall(SYS_clone3, &args, sizeof args);
	if (pid < 0)
		return fail(errno);
	if (pid == 0)
		_exit(0);
	return wait_child((pid_t)pid);
}

/* tiocsti_child runs in a new session: it opens a pty it owns, makes the
 * slave its controlling terminal (TIOCSTI needs that without
 * CAP_SYS_ADMIN, drivers/tty/tty_io.c tiocsti), and injects one byte with
 * cmd as the ioctl request. It exits 0 only if the byte really arrived. */
static int tiocsti_child(unsigned long cmd)
{
	if (setsid() < 0)
		return setup_fail("setsid");
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return setup_fail("posix_openpt");
	if (grantpt(m) < 0 || unlockpt(m) < 0)
		return setup_fail("grantpt/unlockpt");
	const char *name = ptsname(m);
	if (name == NULL)
		return setup_fail("ptsname");
	/* No O_NOCTTY: a session leader without a terminal acquires it. In a
	 * sandbox the open is performed by the supervisor, which never takes a
	 * terminal, so the explicit TIOCSCTTY is the way there (allowed while
	 * the output is not captured). */
	int s = open(name, O_RDWR | O_CLOEXEC);
	if (s < 0)
		return setup_fail("open slave");
	pid_t sid = -1;
	if (ioctl(s, TIOCGSID, &sid) < 0 || sid != getsid(0))
		(void)ioctl(s, TIOCSCTTY, 0);
	sid = -1;
	if (ioctl(s, TIOCGSID, &sid) < 0 || sid != getsid(0)) {
		fprintf(stderr, "probe: %s: pty is not the controlling tty\n", op);
		return EX_NOCTTY;
	}
	struct termios t;
	if (tcgetattr(s, &t) < 0)
		return setup_fail("tcgetattr");
	t.c_lflag &= ~(ICANON | ECHO);
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 5; /* 0.5 s */
	if (tcsetattr(s, TCSANOW, &t) < 0)
		return setup_fail("tcsetattr");
	char c = 'Z';
	if (syscall(SYS_ioctl, s, cmd, &c) < 0)
		return fail(errno);
	char got = 0;
	if (read(s, &got, 1) != 1 || got != 'Z') {
		fprintf(stderr, "probe: %s: injected byte did not arrive\n", op);
		return EX_NOECHO;
	}
	return 0;
}

static int op_tiocsti(int hi)
{
	unsigned long cmd = TIOCSTI;
	if (hi)
		cmd |= 0xffffffff00000000UL;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return setup_fail("fork");
	if (pid == 0)
		_exit(tiocsti_child(cmd));
	int st;
	if (waitpid(pid, &st, 0) < 0)
		return setup_fail("waitpid");
	if (!WIFEXITED(st))
		return setup_fail("child died");
	return WEXITSTATUS(st);
}

/* op_forkhold forks n children that stay alive until the parent is done
 * (they block reading a pipe), printing "ok" or the errno name per fork.
 * Then it lets them exit, reaps them and forks once more ("after"). */
static int op_forkhold(int n)
{
	int p[2];
	if (n < 1 || n > 64)
		return EX_USAGE_;
	if (pipe2(p, O_CLOEXEC) < 0)
		return setup_fail("pipe");
	pid_t kids[64];
	int nkids = 0, refused = 0;
	for (int i = 1; i <= n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0) {
			char b;
			close(p[1]);
			while (read(p[0], &b, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (pid < 0) {
			printf("fork%d=%s\n", i, strerrorname_np(errno));
			refused++;
			continue;
		}
		printf("fork%d=ok\n", i);
		kids[nkids++] = pid;
	}
	close(p[1]);
	for (int i = 0; i < nkids; i++)
		if (waitpid(kids[i], NULL, 0) < 0)
			return setup_fail("waitpid");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	if (pid < 0) {
		printf("after=%s\n", strerrorname_np(errno));
		return 0;
	}
	printf("after=ok\n");
	if (waitpid(pid, NULL, 0) < 0)
		return setup_fail("waitpid");
	return 0;
}

/* op_seqfork forks and reaps n times in a row; the first failure ends it. */
static int op_seqfork(int n)
{
	for (int i = 1; i <= n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			fprintf(stderr, "probe: seqfork: fork %d of %d: %s\n", i, n, strerrorname_np(errno));
			return errno;
		}
		if (waitpid(pid, NULL, 0) < 0)
			return setup_fail("waitpid");
	}
	return 0;
}

/* op_fds prints the open fds, space-separated, leaving out the one used to
 * read /proc/self/fd. */
static int op_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (d == NULL)
		return fail(errno);
	int self = dirfd(d);
	struct dirent *e;
	const char *sep = "";
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		if (atoi(e->d_name) == self)
			continue;
		printf("%s%s", sep, e->d_name);
		sep = " ";
	}
	printf("\n");
	return 0;
}

static int op_connect(const char *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return setup_fail("socket");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(s, (struct sockaddr *)&a, sizeof a) < 0)
		return fail(errno);
	close(s);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return EX_USAGE_;
	op = argv[1];
	const char *a = argc > 2 ? argv[2] : NULL;
	const char *b = argc > 3 ? argv[3] : NULL;
	int r = EX_USAGE_;
#define IS(name, nargs) (strcmp(op, name) == 0 && argc == 2 + (nargs))
	if (IS("read", 1))
		r = op_read(a);
	else if (IS("write", 2))
		r = op_write(a, b);
	else if (IS("openat2", 1))
		r = op_openat2(a);
	else if (IS("fdread", 2))
		r = op_fdread(a, b);
	else if (IS("rename", 2))
		r = check(rename(a, b));
	else if (IS("link", 2))
		r = check(link(a, b));
	else if (IS("symlink", 2))
		r = check(symlink(a, b));
	else if (IS("truncate", 1))
		r = check(truncate(a, 0));
	else if (IS("unlink", 1))
		r = check(unlink(a));
	else if (IS("mount", 0))
		r = op_mount();
	else if (IS("unshare-user", 0))
		r = check(unshare(CLONE_NEWUSER));
	else if (IS("clone-user", 0))
		r = op_clone_user(0);
	else if (IS("clone-user-hibits", 0))
		r = op_clone_user(1);
	else if (IS("clone3-user", 0))
		r = op_clone3_user();
	else if (IS("tiocsti", 0))
		r = op_tiocsti(0);
	else if (IS("tiocsti-hibits", 0))
		r = op_tiocsti(1);
	else if (IS("forkhold", 1))
		r = op_forkhold(atoi(a));
	else if (IS("seqfork", 1))
		r = op_seqfork(atoi(a));
	else if (IS("fds", 0))
		r = op_fds();
	else if (IS("connect", 1))
		r = op_connect(a);
	else
		fprintf(stderr, "probe: unknown operation or wrong argument count: %s\n", op);
	fflush(stdout);
	return r;
}
