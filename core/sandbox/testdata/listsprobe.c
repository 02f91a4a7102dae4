/* listsprobe: one raw system call per invocation, for the tests of
 * allow_syscalls and deny_syscalls against the calls the features route to
 * the supervisor. Written for this project.
 *
 * Usage: listsprobe OP ARGS...
 *
 * Every call is made with syscall(2), so that libc cannot substitute
 * another call for the one under test. Exit status: 0 when the call
 * succeeded, its errno when it failed (the name goes to stderr), 100 for bad
 * usage, 101 for a setup step that must not fail. affinity prints the CPU
 * count it got.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>

enum { EX_USAGE_ = 100, EX_SETUP = 101 };

static const char *op;

static int fail(int err)
{
	const char *name = strerrorname_np(err);
	fprintf(stderr, "listsprobe: %s: %s\n", op, name ? name : "E?");
	return err;
}

static int setup_fail(const char *what)
{
	fprintf(stderr, "listsprobe: %s: setup %s: %s\n", op, what, strerrorname_np(errno));
	return EX_SETUP;
}

static int check(long r)
{
	return r < 0 ? fail(errno) : 0;
}

static int op_open(const char *path)
{
	long fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	close((int)fd);
	return 0;
}

static int op_connect(const char *port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return setup_fail("socket");
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	return check(syscall(SYS_connect, s, &a, sizeof a));
}

/* listen on an unbound TCP socket: the kernel picks an ephemeral port. */
static int op_listen(void)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return setup_fail("socket");
	return check(syscall(SYS_listen, s, 4));
}

static int op_affinity(void)
{
	cpu_set_t set;
	memset(&set, 0, sizeof set);
	if (syscall(SYS_sched_getaffinity, 0, sizeof set, &set) < 0)
		return fail(errno);
	printf("%d\n", CPU_COUNT(&set));
	return 0;
}

static int op_mremap(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return setup_fail("mmap");
	return check(syscall(SYS_mremap, p, pg, 2 * pg, MREMAP_MAYMOVE));
}

static int op_sysinfo(void)
{
	struct sysinfo si;
	return check(syscall(SYS_sysinfo, &si));
}

#ifdef SYS_fork
static int op_fork(void)
{
	long pid = syscall(SYS_fork);
	if (pid < 0)
		return fail(errno);
	if (pid == 0)
		_exit(0);
	int st;
	if (waitpid((pid_t)pid, &st, 0) < 0)
		return setup_fail("waitpid");
	return 0;
}
#endif

int main(int argc, char **argv)
{
	if (argc < 2)
		return EX_USAGE_;
	op = argv[1];
	int r = EX_USAGE_;
#define IS(name, nargs) (strcmp(op, name) == 0 && argc == 2 + (nargs))
	if (IS("open", 1))
		r = op_open(argv[2]);
	else if (IS("connect", 1))
		r = op_connect(argv[2]);
	else if (IS("listen", 0))
		r = op_listen();
	else if (IS("affinity", 0))
		r = op_affinity();
	else if (IS("mremap", 0))
		r = op_mremap();
	else if (IS("sysinfo", 0))
		r = op_sysinfo();
#ifdef SYS_fork
	else if (IS("fork", 0))
		r = op_fork();
#endif
	else
		fprintf(stderr, "listsprobe: unknown operation or wrong argument count: %s\n", op);
	fflush(stdout);
	return r;
}
