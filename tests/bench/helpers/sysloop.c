/*
 * sysloop - the loops of the notified-syscall benchmark (tests/bench/suite
 * notify). It runs bare and inside a sandbox; it times itself with the
 * vDSO clock, so the start of the process is not counted.
 *
 *   sysloop open N PATH   N x (openat(PATH, O_RDONLY) + close)
 *   sysloop prio N        N x getpriority(PRIO_PROCESS, own pid): a pid
 *                         target, which a supervised sandbox notifies and
 *                         continues
 *   sysloop getppid N     N x getppid(): a syscall the filter allows, for the
 *                         cost of the seccomp filter itself
 *   sysloop pipe N        N x one byte to a forked child over a pipe and one
 *                         back over another: the plain round trip between
 *                         two processes, the floor of a notification
 *   sysloop par K MODE N [PATH]
 *                         K threads run the open, prio or getppid loop at
 *                         once (tests/bench/suite callbacks: more events
 *                         than one thread can produce); prints
 *                         "K*N NANOSECONDS", from the moment all K finished
 *                         their warm-up until the last one is done
 *
 * Each mode first runs N/10 untimed iterations, then prints
 * "N NANOSECONDS" for the timed N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
    fprintf(stderr, "sysloop: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void loop_open(long n, const char *path)
{
    for (long i = 0; i < n; i++) {
        /* The raw syscall: glibc's open() is openat too, but say so. */
        int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            die(path);
        }
        close(fd);
    }
}

static void loop_prio(long n)
{
    pid_t self = getpid();
    for (long i = 0; i < n; i++) {
        errno = 0;
        if (getpriority(PRIO_PROCESS, (id_t)self) == -1 && errno != 0) {
            die("getpriority");
        }
    }
}

static void loop_getppid(long n)
{
    for (long i = 0; i < n; i++) {
        syscall(SYS_getppid);
    }
}

static int to_child[2], to_parent[2];

static void ping(long n)
{
    char c = 'x';
    for (long i = 0; i < n; i++) {
        if (write(to_child[1], &c, 1) != 1 || read(to_parent[0], &c, 1) != 1) {
            die("pipe round trip");
        }
    }
}

static void run_mode(const char *mode, long n, const char *path)
{
    if (strcmp(mode, "open") == 0) {
        loop_open(n, path);
    } else if (strcmp(mode, "prio") == 0) {
        loop_prio(n);
    } else {
        loop_getppid(n);
    }
}

/* par: K threads warm up, meet at a barrier, and run the timed loop at
 * once. Threads, not forked processes: the pid-target check of the
 * supervisor does not know a just-forked child for its first few hundred
 * calls (getpriority of its own pid then fails with ESRCH). */
struct par_arg {
    const char *mode, *path;
    long n, warm;
    pthread_barrier_t *start, *timed;
};

static void *par_thread(void *p)
{
    struct par_arg *a = p;
    run_mode(a->mode, a->warm, a->path);
    pthread_barrier_wait(a->start);
    run_mode(a->mode, a->n, a->path);
    pthread_barrier_wait(a->timed);
    return NULL;
}

static int par(long k, const char *mode, long n, const char *path)
{
    pthread_t th[64];
    pthread_barrier_t start, timed;
    struct par_arg a = {mode, path, n, n / 10 > 0 ? n / 10 : 1, &start, &timed};
    if (pthread_barrier_init(&start, NULL, (unsigned)k + 1) != 0 ||
        pthread_barrier_init(&timed, NULL, (unsigned)k + 1) != 0) {
        die("pthread_barrier_init");
    }
    for (long i = 0; i < k; i++) {
        int rc = pthread_create(&th[i], NULL, par_thread, &a);
        if (rc != 0) {
            errno = rc;
            die("pthread_create");
        }
    }
    pthread_barrier_wait(&start);
    long long t0 = now_ns();
    pthread_barrier_wait(&timed);
    long long t1 = now_ns();
    for (long i = 0; i < k; i++) {
        pthread_join(th[i], NULL);
    }
    printf("%ld %lld\n", k * n, t1 - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "par") == 0) {
        long k = strtol(argv[2], NULL, 10), n = strtol(argv[4], NULL, 10);
        const char *mode = argv[3];
        int known = strcmp(mode, "open") == 0 || strcmp(mode, "prio") == 0 || strcmp(mode, "getppid") == 0;
        if (k < 1 || k > 64 || n < 1 || !known || (strcmp(mode, "open") == 0 && argc < 6)) {
            fprintf(stderr, "usage: sysloop par K(1..64) open|prio|getppid N [PATH]\n");
            return 2;
        }
        return par(k, mode, n, argc >= 6 ? argv[5] : NULL);
    }
    if (argc < 3) {
        fprintf(stderr, "usage: sysloop open|prio|getppid|pipe N [PATH] | par K MODE N [PATH]\n");
        return 2;
    }
    const char *mode = argv[1];
    long n = strtol(argv[2], NULL, 10);
    if (n < 1) {
        fprintf(stderr, "sysloop: bad N %s\n", argv[2]);
        return 2;
    }
    long warm = n / 10 > 0 ? n / 10 : 1;
    long long t0 = 0, t1 = 0;

    if (strcmp(mode, "open") == 0) {
        if (argc < 4) {
            fprintf(stderr, "sysloop: open needs a PATH\n");
            return 2;
        }
        loop_open(warm, argv[3]);
        t0 = now_ns();
        loop_open(n, argv[3]);
        t1 = now_ns();
    } else if (strcmp(mode, "prio") == 0) {
        loop_prio(warm);
        t0 = now_ns();
        loop_prio(n);
        t1 = now_ns();
    } else if (strcmp(mode, "getppid") == 0) {
        loop_getppid(warm);
        t0 = now_ns();
        loop_getppid(n);
        t1 = now_ns();
    } else if (strcmp(mode, "pipe") == 0) {
        if (pipe(to_child) != 0 || pipe(to_parent) != 0) {
            die("pipe");
        }
        pid_t pid = fork();
        if (pid < 0) {
            die("fork");
        }
        if (pid == 0) {
            char c;
            close(to_child[1]);
            close(to_parent[0]);
            while (read(to_child[0], &c, 1) == 1) {
                if (write(to_parent[1], &c, 1) != 1) {
                    _exit(1);
                }
            }
            _exit(0);
        }
        close(to_child[0]);
        close(to_parent[1]);
        ping(warm);
        t0 = now_ns();
        ping(n);
        t1 = now_ns();
        close(to_child[1]);
        int status;
        waitpid(pid, &status, 0);
    } else {
        fprintf(stderr, "sysloop: unknown mode %s\n", mode);
        return 2;
    }
    printf("%ld %lld\n", n, t1 - t0);
    return 0;
}
