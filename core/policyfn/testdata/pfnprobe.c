/* pfnprobe: helper of the policy callback tests. Written for this project.
 *
 * Usage: pfnprobe OP ARGS...
 *   connect PORT          connect to 127.0.0.1:PORT; exit status = errno
 *   slowopen PORT N       a thread connects to PORT while the main thread,
 *                         50 ms later, opens /etc/hostname N times; prints
 *                         "opens_ms=M" (time of the N opens), exit 0
 *   opens N PATH          open and close PATH N times; exit = errno of the
 *                         first failure
 *   forks N               fork N children that wait, print ok/ENAME per
 *                         fork, then release and reap them
 *   argvrace N            N times: fork; the child starts a thread that
 *                         keeps rewriting argv[1] between "good" and
 *                         "evil", then execs /bin/echo with that argv
 *   execmany N            N times: fork + exec /bin/true, wait
 *   sharedrace N          like argvrace, but argv[1] lies in a MAP_SHARED
 *                         page that another process rewrites: an orphan
 *                         (its parent exited, so it was reparented out of
 *                         the sandbox's process tree)
 *   alloc MB              map MB MiB of anonymous memory and touch it;
 *                         exit = errno when the map fails
 *
 * Exit status 100 and up: probe malfunction.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static int connect_port(int port)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return 101;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int r = connect(s, (struct sockaddr *)&a, sizeof a) < 0 ? errno : 0;
	close(s);
	return r;
}

static void *connect_thread(void *arg)
{
	connect_port((int)(intptr_t)arg);
	return NULL;
}

static long long now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

static int opens(int n, const char *path)
{
	for (int i = 0; i < n; i++) {
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return errno;
		close(fd);
	}
	return 0;
}

/* The argument the flipper rewrites: 4 bytes and a NUL, changed with one
 * aligned 32-bit store so that it is always exactly "good" or "evil". */
static union {
	uint32_t word;
	char s[8];
} arg1 __attribute__((aligned(8)));

static void *flipper(void *unused)
{
	(void)unused;
	uint32_t good, evil;
	memcpy(&good, "good", 4);
	memcpy(&evil, "evil", 4);
	for (;;) {
		__atomic_store_n(&arg1.word, good, __ATOMIC_RELAXED);
		__atomic_store_n(&arg1.word, evil, __ATOMIC_RELAXED);
	}
	return NULL;
}

static int argvrace(int n)
{
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 101;
		if (pid == 0) {
			memcpy(arg1.s, "good", 5);
			pthread_t t;
			if (pthread_create(&t, NULL, flipper, NULL) != 0)
				_exit(102);
			usleep(1000);
			char *argv[] = {"/bin/echo", arg1.s, NULL};
			execve("/bin/echo", argv, environ);
			_exit(126);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0)
			return 101;
	}
	return 0;
}

struct shared {
	union {
		uint32_t word;
		char s[8];
	} arg;
	volatile pid_t flipper;
};

static int sharedrace(int n)
{
	struct shared *sh = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 101;
	memcpy(sh->arg.s, "good", 5);
	pid_t mid = fork();
	if (mid < 0)
		return 101;
	if (mid == 0) {
		pid_t c = fork();
		if (c == 0) {
			uint32_t good, evil;
			memcpy(&good, "good", 4);
			memcpy(&evil, "evil", 4);
			sh->flipper = getpid();
			for (;;) {
				__atomic_store_n(&sh->arg.word, good, __ATOMIC_RELAXED);
				__atomic_store_n(&sh->arg.word, evil, __ATOMIC_RELAXED);
			}
		}
		_exit(c < 0 ? 1 : 0);
	}
	waitpid(mid, NULL, 0);
	while (sh->flipper == 0)
		usleep(1000);
	int r = 0;
	for (int i = 0; i < n; i++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0) {
			r = 101;
			break;
		}
		if (pid == 0) {
			char *argv[] = {"/bin/echo", sh->arg.s, NULL};
			execve("/bin/echo", argv, environ);
			_exit(126);
		}
		waitpid(pid, NULL, 0);
	}
	kill(sh->flipper, SIGKILL);
	return r;
}

static int forks(int n)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return 101;
	pid_t kids[64];
	int nk = 0;
	for (int i = 0; i < n && i < 64; i++) {
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
			printf("fork%d=%s\n", i + 1, strerrorname_np(errno));
			continue;
		}
		printf("fork%d=ok\n", i + 1);
		kids[nk++] = pid;
	}
	close(p[1]);
	for (int i = 0; i < nk; i++)
		waitpid(kids[i], NULL, 0);
	return 0;
}

static int execmany(int n)
{
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid < 0)
			return 101;
		if (pid == 0) {
			char *argv[] = {"/bin/true", NULL};
			execve("/bin/true", argv, environ);
			_exit(126);
		}
		int st;
		if (waitpid(pid, &st, 0) < 0)
			return 101;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 100;
	const char *op = argv[1];
	int r = 100;
	if (strcmp(op, "connect") == 0 && argc == 3) {
		r = connect_port(atoi(argv[2]));
	} else if (strcmp(op, "slowopen") == 0 && argc == 4) {
		pthread_t t;
		if (pthread_create(&t, NULL, connect_thread, (void *)(intptr_t)atoi(argv[2])) != 0)
			return 101;
		usleep(50000);
		long long t0 = now_us();
		r = opens(atoi(argv[3]), "/etc/hostname");
		long long t1 = now_us();
		printf("opens_ms=%lld\n", (t1 - t0) / 1000);
		fflush(stdout);
		pthread_join(t, NULL);
	} else if (strcmp(op, "opens") == 0 && argc == 4) {
		r = opens(atoi(argv[2]), argv[3]);
	} else if (strcmp(op, "forks") == 0 && argc == 3) {
		r = forks(atoi(argv[2]));
	} else if (strcmp(op, "sharedrace") == 0 && argc == 3) {
		r = sharedrace(atoi(argv[2]));
	} else if (strcmp(op, "argvrace") == 0 && argc == 3) {
		r = argvrace(atoi(argv[2]));
	} else if (strcmp(op, "alloc") == 0 && argc == 3) {
		size_t n = (size_t)atoi(argv[2]) << 20;
		char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			r = errno;
		} else {
			for (size_t i = 0; i < n; i += 4096)
				p[i] = 1;
			r = 0;
		}
	} else if (strcmp(op, "execmany") == 0 && argc == 3) {
		r = execmany(atoi(argv[2]));
	}
	fflush(stdout);
	return r;
}
