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
 *
 * Each mode first runs N/10 untimed iterations, then prints
 * "N NANOSECONDS" for the timed N.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
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

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: sysloop open|prio|getppid|pipe N [PATH]\n");
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
