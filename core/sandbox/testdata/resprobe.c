/* resprobe: memory, CPU and CPU-count probes for the resource-limit tests
 * of package sandbox (max_memory, max_cpu, num_cpus). Written for this
 * project.
 *
 * Usage: resprobe OP ARGS...   (sizes in MiB)
 *
 * Exit status: 0 when the operation succeeded, the errno value when the
 * allocation failed (the name goes to stderr), 100 for bad usage, 101 for
 * a setup step that must not fail. Every allocation is touched page by
 * page, so what succeeds is really in memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024UL * 1024UL)

static const char *op;

static int fail(int err)
{
	const char *name = strerrorname_np(err);
	fprintf(stderr, "resprobe: %s: %s\n", op, name ? name : "E?");
	return err;
}

static void touch(char *p, size_t n)
{
	for (size_t i = 0; i < n; i += 4096)
		p[i] = 1;
}

static size_t mib(const char *s) { return (size_t)strtoul(s, NULL, 10) * MiB; }

/* malloc MB: malloc and touch. */
static int op_malloc(size_t n)
{
	char *p = malloc(n);
	if (!p)
		return fail(errno ? errno : ENOMEM);
	touch(p, n);
	return 0;
}

/* mmap MB: private anonymous read-write mapping. */
static int op_mmap(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	touch(p, n);
	return 0;
}

/* reserve RES TOUCH: reserve RES MiB PROT_NONE (a Go or Java heap arena),
 * make the first TOUCH MiB read-write with mprotect, touch them. */
static int op_reserve(size_t res, size_t use)
{
	char *p = mmap(NULL, res, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	if (mprotect(p, use, PROT_READ | PROT_WRITE) != 0)
		return fail(errno);
	touch(p, use);
	return 0;
}

/* fixed RES TOUCH: the same reservation, committed with mmap(MAP_FIXED) as
 * Go's runtime does. */
static int op_fixed(size_t res, size_t use)
{
	char *p = mmap(NULL, res, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	char *q = mmap(p, use, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	if (q == MAP_FAILED)
		return fail(errno);
	touch(q, use);
	return 0;
}

/* shared MB: shared anonymous mapping. */
static int op_shared(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	touch(p, n);
	return 0;
}

/* brk MB: grow the heap with sbrk in 1 MiB steps. */
static int op_brk(size_t n)
{
	for (size_t done = 0; done < n; done += MiB) {
		char *p = sbrk(MiB);
		if (p == (void *)-1)
			return fail(errno);
		touch(p, MiB);
	}
	return 0;
}

/* mremap FROM TO: grow a mapping with mremap. */
static int op_mremap(size_t from, size_t to)
{
	char *p = mmap(NULL, from, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	touch(p, from);
	char *q = mremap(p, from, to, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return fail(errno);
	touch(q, to);
	return 0;
}

/* privfile PATH MB: MAP_PRIVATE writable mapping of a file (/dev/zero or a
 * regular file), written: every page becomes an anonymous copy. */
static int op_privfile(const char *path, size_t n)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "resprobe: %s: open %s: %s\n", op, path, strerrorname_np(errno));
		return 101;
	}
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	touch(p, n);
	return 0;
}

/* memfd MB: a memfd of MB, mapped shared and written. */
static int op_memfd(size_t n)
{
	int fd = memfd_create("resprobe", MFD_CLOEXEC);
	if (fd < 0)
		return fail(errno);
	if (ftruncate(fd, (off_t)n) != 0)
		return fail(errno);
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	touch(p, n);
	return 0;
}

/* shmget MB: a SysV shared memory segment. */
static int op_shmget(size_t n)
{
	int id = shmget(IPC_PRIVATE, n, IPC_CREAT | 0600);
	if (id < 0)
		return fail(errno);
	shmctl(id, IPC_RMID, NULL);
	return 0;
}

/* churn MB ROUNDS: map, touch and unmap MB, ROUNDS times (each within the
 * budget; the total far above it). */
static int op_churn(size_t n, long rounds)
{
	for (long i = 0; i < rounds; i++) {
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return fail(errno);
		touch(p, n);
		if (munmap(p, n) != 0)
			return fail(errno);
	}
	return 0;
}

/* children N MB: N children each map and touch MB and wait on a pipe
 * until all have tried; prints how many succeeded, exits 0. */
static int op_children(long n, size_t sz)
{
	int ready[2], go[2];
	if (pipe(ready) != 0 || pipe(go) != 0)
		return 101;
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "resprobe: fork: %s\n", strerrorname_np(errno));
			n = i;
			break;
		}
		if (pid == 0) {
			close(ready[0]);
			close(go[1]);
			char *p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			char c = 'n';
			if (p != MAP_FAILED) {
				touch(p, sz);
				c = 'y';
			}
			if (write(ready[1], &c, 1) != 1)
				_exit(1);
			if (read(go[0], &c, 1) < 0)
				_exit(1);
			_exit(0);
		}
	}
	close(ready[1]);
	close(go[0]);
	long ok = 0;
	for (long i = 0; i < n; i++) {
		char c;
		if (read(ready[0], &c, 1) == 1 && c == 'y')
			ok++;
	}
	close(go[1]);
	while (wait(NULL) > 0)
		;
	printf("%ld\n", ok);
	return 0;
}

/* forkcopy MB: allocate MB, then fork; the child writes every page of its
 * copy. Exits with the fork's errno when the fork is refused. */
static int op_forkcopy(size_t n)
{
	char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail(errno);
	touch(p, n);
	pid_t pid = fork();
	if (pid < 0)
		return fail(errno);
	if (pid == 0) {
		touch(p, n);
		_exit(0);
	}
	int st;
	if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return 101;
	return 0;
}

/* sequential N MB: N children one after the other, each touching MB: each
 * one's memory must be credited when it exits. */
static int op_sequential(long n, size_t sz)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return fail(errno);
		if (pid == 0)
			_exit(op_mmap(sz));
		int st;
		if (waitpid(pid, &st, 0) < 0)
			return 101;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "resprobe: %s: child %ld failed (status %#x)\n", op, i, st);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 101;
		}
	}
	return 0;
}

/* brkexec MB: grow the heap by MB, then exec "resprobe brk MB": the new
 * image starts with an empty heap and must be charged from there. */
static int op_brkexec(const char *self, const char *mb)
{
	int r = op_brk(mib(mb));
	if (r)
		return r;
	execl(self, self, "brk", mb, (char *)NULL);
	return fail(errno);
}

/* spin N: a busy loop of N million iterations; prints the CPU time it
 * used, in milliseconds, so that the caller can tell a busy machine from
 * a throttled loop. */
static int op_spin(long n)
{
	volatile unsigned long x = 0;
	for (long i = 0; i < n * 1000000L; i++)
		x += (unsigned long)i;
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	printf("%ld\n", ts.tv_sec * 1000L + ts.tv_nsec / 1000000L);
	return 0;
}

/* affinity: prints the CPU count sched_getaffinity reports and the size it
 * returned (glibc's wrapper hides it, so the raw call). */
static int op_affinity(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	long r = syscall(SYS_sched_getaffinity, 0, sizeof(set), &set);
	if (r < 0)
		return fail(errno);
	printf("%d %ld\n", CPU_COUNT(&set), r);
	/* Too small a buffer for the host's CPU ids fails like the kernel. */
	unsigned long small;
	if (syscall(SYS_sched_getaffinity, 0, 4, &small) >= 0 || errno != EINVAL)
		return fail(EPROTO);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 100;
	op = argv[1];
#define IS(name, nargs) (strcmp(op, name) == 0 && argc == 2 + (nargs))
	if (IS("malloc", 1))
		return op_malloc(mib(argv[2]));
	if (IS("mmap", 1))
		return op_mmap(mib(argv[2]));
	if (IS("reserve", 2))
		return op_reserve(mib(argv[2]), mib(argv[3]));
	if (IS("fixed", 2))
		return op_fixed(mib(argv[2]), mib(argv[3]));
	if (IS("shared", 1))
		return op_shared(mib(argv[2]));
	if (IS("brk", 1))
		return op_brk(mib(argv[2]));
	if (IS("mremap", 2))
		return op_mremap(mib(argv[2]), mib(argv[3]));
	if (IS("privfile", 2))
		return op_privfile(argv[2], mib(argv[3]));
	if (IS("memfd", 1))
		return op_memfd(mib(argv[2]));
	if (IS("shmget", 1))
		return op_shmget(mib(argv[2]));
	if (IS("churn", 2))
		return op_churn(mib(argv[2]), strtol(argv[3], NULL, 10));
	if (IS("children", 2))
		return op_children(strtol(argv[2], NULL, 10), mib(argv[3]));
	if (IS("forkcopy", 1))
		return op_forkcopy(mib(argv[2]));
	if (IS("sequential", 2))
		return op_sequential(strtol(argv[2], NULL, 10), mib(argv[3]));
	if (IS("brkexec", 1))
		return op_brkexec(argv[0], argv[2]);
	if (IS("spin", 1))
		return op_spin(strtol(argv[2], NULL, 10));
	if (IS("affinity", 0))
		return op_affinity();
	fprintf(stderr, "resprobe: bad usage\n");
	return 100;
}
