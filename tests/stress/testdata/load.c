/* load: workloads for the reliability tests (tests/stress). Written for
 * this project. Every loop is bounded by a count or a deadline, and the
 * fork bomb also by a counter shared by all its processes, so that it
 * stays finite even if the sandbox's process limit failed (root ignores
 * RLIMIT_NPROC).
 *
 * Usage: load OP ARGS...  (exit 0 on success, 1 on a failed check, 100
 * for bad usage)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* openloop PATH: open and close PATH forever (until killed). */
static int op_openloop(const char *path)
{
	for (;;) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0)
			close(fd);
	}
	return 0;
}

/* work TAG PATH SECONDS: for SECONDS, read PATH (which must hold TAG,
 * read through the supervisor when fs_denied is active) and fork+wait a
 * child; print TAG and the counts at the end. A wrong answer is exit 1. */
static int op_work(const char *tag, const char *path, const char *secs)
{
	double end = now() + atof(secs);
	long reads = 0, forks = 0, bad = 0;
	char buf[256];
	while (now() < end) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			bad++;
			continue;
		}
		ssize_t n = read(fd, buf, sizeof buf - 1);
		close(fd);
		buf[n > 0 ? n : 0] = 0;
		if (strcmp(buf, tag) != 0)
			bad++;
		reads++;
		if (reads % 8 == 0) {
			pid_t pid = fork();
			if (pid == 0)
				_exit(0);
			if (pid > 0) {
				while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
					;
				forks++;
			}
		}
	}
	printf("%s reads=%ld forks=%ld bad=%ld\n", tag, reads, forks, bad);
	return bad ? 1 : 0;
}

/* forkbomb SECONDS CAP: every process forks as fast as it can until the
 * deadline; the children fork too. At most CAP processes are ever
 * created in total (a shared counter). Refused forks are counted by
 * errno. The first process prints the totals. */
struct bomb {
	atomic_long created, eagain, other;
};

static int op_forkbomb(const char *secs, const char *cap)
{
	struct bomb *b = mmap(NULL, sizeof *b, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (b == MAP_FAILED)
		return 100;
	long limit = atol(cap);
	double end = now() + atof(secs);
	pid_t top = getpid();
	while (now() < end) {
		if (atomic_load(&b->created) >= limit) {
			usleep(1000);
			continue;
		}
		pid_t pid = fork();
		if (pid == 0)
			continue; /* the child bombs too */
		if (pid > 0) {
			atomic_fetch_add(&b->created, 1);
			continue;
		}
		if (errno == EAGAIN)
			atomic_fetch_add(&b->eagain, 1);
		else
			atomic_fetch_add(&b->other, 1);
		usleep(200);
	}
	if (getpid() != top)
		_exit(0);
	while (wait(NULL) > 0 || errno == EINTR)
		;
	usleep(100000);
	printf("created=%ld eagain=%ld other=%ld\n", (long)b->created, (long)b->eagain, (long)b->other);
	return 0;
}

/* hog MIB: malloc and touch MIB MiB, one line per MiB ("touched=N"), so
 * that a kill shows how far it got; a refusal prints "stopped". */
static int op_hog(const char *mib)
{
	long n = atol(mib);
	for (long i = 0; i < n; i++) {
		char *p = malloc(1 << 20);
		if (p == NULL) {
			printf("stopped\n");
			return 0;
		}
		for (long j = 0; j < (1 << 20); j += 4096)
			p[j] = 1;
		printf("touched=%ld\n", i + 1);
		fflush(stdout);
	}
	return 0;
}

/* seqfork N: fork and reap N times; the first failure is exit 1. */
static int op_seqfork(const char *count)
{
	int n = atoi(count);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0) {
			fprintf(stderr, "load: seqfork: fork %d of %d: %s\n", i + 1, n, strerror(errno));
			return 1;
		}
		waitpid(pid, NULL, 0);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 100;
	const char *op = argv[1];
	if (strcmp(op, "openloop") == 0 && argc == 3)
		return op_openloop(argv[2]);
	if (strcmp(op, "work") == 0 && argc == 5)
		return op_work(argv[2], argv[3], argv[4]);
	if (strcmp(op, "forkbomb") == 0 && argc == 4)
		return op_forkbomb(argv[2], argv[3]);
	if (strcmp(op, "hog") == 0 && argc == 3)
		return op_hog(argv[2]);
	if (strcmp(op, "seqfork") == 0 && argc == 3)
		return op_seqfork(argv[2]);
	if (strcmp(op, "true") == 0)
		return 0;
	fprintf(stderr, "load: unknown operation %s\n", op);
	return 100;
}
