/*
 * chost - the C host of the spawn benchmark (tests/bench/spawn) and of the
 * policy-callback benchmark (tests/bench/suite callbacks).
 *
 * A long-running C program linked to libsandlock.so.0, driven over its
 * standard input one request per line, so that the benchmark can interleave
 * it with the other variants. Each request is timed here, around the calls
 * themselves, so the pipe to the benchmark is not counted:
 *
 *   sandlock true   sandlock_spawn + sandlock_sandbox_wait + free of /bin/true,
 *                   stdout and stderr on /dev/null
 *   sandlock echo   the same for /bin/echo hi with stdout captured and checked
 *   bare true       posix_spawn + waitpid of /bin/true (glibc's posix_spawn is
 *                   a CLONE_VM|CLONE_VFORK clone, like Go's os/exec)
 *   bare echo       the same with stdout on a pipe, read and checked
 *
 * The bare children get stdin (and for true stdout) on /dev/null, as
 * os/exec gives them.
 *
 * Each answer is one line: "ok NANOSECONDS" or "err MESSAGE". The policy
 * is the benchmark's: sandlock's defaults plus fs_readable for every
 * argument (the system directories that exist).
 *
 *   loop none|fn SYSCALL ARGV...
 *                   runs ARGV (a sysloop command; no argument may contain a
 *                   space) in a sandbox with the same policy, stdout and
 *                   stderr captured, without a policy callback (none) or
 *                   with a counting one attached by sandlock_set_policy_fn
 *                   (fn) that allows everything. Answers "ok LOOP_N LOOP_NS
 *                   EVENTS HELD OTHER SPAN_NS CPU_NS": what sysloop printed (its
 *                   timed iterations and their nanoseconds), then the
 *                   callback's counts: events of SYSCALL, how many of those
 *                   were held, events of other system calls, and the
 *                   nanoseconds between the callback's first and last
 *                   SYSCALL event (zeros for none), and the CPU time of
 *                   the request: user + system of this process (the
 *                   supervisor and the callback run here) and of the
 *                   reaped sandboxed process. Events still queued
 *                   when the sandbox ends are waited for (until none came
 *                   for 50 ms, at most 2 s) before the sandbox is freed.
 *
 *   chost DIR...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sandlock.h>

extern char **environ;

static const char *const true_argv[] = {"/bin/true", NULL};
static const char *const echo_argv[] = {"/bin/echo", "hi", NULL};
static const char echo_want[] = "hi\n";

static sandlock_policy_t *policy;
static sandlock_spawn_options_t *opts_null, *opts_capture, *opts_loop;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* errbuf holds the message of the failed request. */
static char errbuf[512];

static int fail(const char *what, int rc)
{
    snprintf(errbuf, sizeof errbuf, "%s: %s: %s", what, sandlock_strerror(rc), sandlock_last_error());
    return -1;
}

static int run_sandlock(int echo)
{
    sandlock_sandbox_t *sb = NULL;
    sandlock_result_t *res = NULL;
    int rc = sandlock_spawn(policy, echo ? echo_argv : true_argv, echo ? opts_capture : opts_null, &sb);
    if (rc != SANDLOCK_OK) {
        return fail("sandlock_spawn", rc);
    }
    rc = sandlock_sandbox_wait(sb, -1, &res);
    if (rc != SANDLOCK_OK) {
        sandlock_sandbox_free(sb);
        return fail("sandlock_sandbox_wait", rc);
    }
    sandlock_sandbox_free(sb);
    int ret = 0;
    if (sandlock_result_reason(res) != SANDLOCK_REASON_EXITED || sandlock_result_exit_code(res) != 0) {
        snprintf(errbuf, sizeof errbuf, "sandboxed command: reason %d, exit %d",
                 sandlock_result_reason(res), sandlock_result_exit_code(res));
        ret = -1;
    } else if (echo) {
        size_t n;
        const uint8_t *out = sandlock_result_stdout(res, &n);
        if (n != sizeof echo_want - 1 || memcmp(out, echo_want, n) != 0) {
            snprintf(errbuf, sizeof errbuf, "echo output of %zu bytes is not \"hi\\n\"", n);
            ret = -1;
        }
    }
    sandlock_result_free(res);
    return ret;
}

static int run_bare(int echo)
{
    posix_spawn_file_actions_t fa;
    int p[2] = {-1, -1};
    pid_t pid;
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (echo) {
        if (pipe2(p, O_CLOEXEC) != 0) {
            snprintf(errbuf, sizeof errbuf, "pipe: %s", strerror(errno));
            return -1;
        }
        posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    } else {
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    }
    rc = posix_spawn(&pid, echo ? echo_argv[0] : true_argv[0], &fa, NULL,
                     (char *const *)(echo ? echo_argv : true_argv), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (echo) {
        close(p[1]);
    }
    if (rc != 0) {
        snprintf(errbuf, sizeof errbuf, "posix_spawn: %s", strerror(rc));
        if (echo) {
            close(p[0]);
        }
        return -1;
    }
    int ret = 0;
    if (echo) {
        char buf[64];
        size_t got = 0;
        for (;;) {
            ssize_t n = read(p[0], buf + got, sizeof buf - got);
            if (n < 0 && errno == EINTR) {
                continue;
            }
            if (n <= 0) {
                break;
            }
            got += (size_t)n;
            if (got == sizeof buf) {
                break;
            }
        }
        close(p[0]);
        if (got != sizeof echo_want - 1 || memcmp(buf, echo_want, got) != 0) {
            snprintf(errbuf, sizeof errbuf, "echo output of %zu bytes is not \"hi\\n\"", got);
            ret = -1;
        }
    }
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            snprintf(errbuf, sizeof errbuf, "waitpid: %s", strerror(errno));
            return -1;
        }
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        snprintf(errbuf, sizeof errbuf, "child status %#x", status);
        return -1;
    }
    return ret;
}

/* What the counting callback saw during one loop request. Callbacks of one
 * sandbox can run on up to four threads at once, hence the atomics. Each
 * request has its own, registered on its own clone of the policy and freed
 * by the library, so that a late callback of an earlier sandbox cannot
 * count for a later one. */
struct cb_counts {
    char target[64];
    atomic_ullong events; /* events of target */
    atomic_ullong held;   /* of those, held */
    atomic_ullong other;  /* events of any other system call */
    atomic_ullong first_ns, last_ns;
};

static int32_t count_fn(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *user_data)
{
    (void)ctx;
    struct cb_counts *c = user_data;
    const char *name = sandlock_event_syscall(ev);
    if (name == NULL || strcmp(name, c->target) != 0) {
        atomic_fetch_add_explicit(&c->other, 1, memory_order_relaxed);
        return SANDLOCK_VERDICT_ALLOW;
    }
    unsigned long long t = now_ns(), zero = 0;
    atomic_compare_exchange_strong(&c->first_ns, &zero, t);
    unsigned long long last = atomic_load(&c->last_ns);
    while (last < t && !atomic_compare_exchange_weak(&c->last_ns, &last, t)) {
    }
    if (sandlock_event_held(ev) == 1) {
        atomic_fetch_add_explicit(&c->held, 1, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&c->events, 1, memory_order_relaxed);
    return SANDLOCK_VERDICT_ALLOW;
}

/* cpu_ns is the user + system time of this process and its reaped
 * children. */
static long long cpu_ns(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    long long us = 0;
    const struct timeval *tv[] = {&self.ru_utime, &self.ru_stime, &kids.ru_utime, &kids.ru_stime};
    for (int i = 0; i < 4; i++) {
        us += (long long)tv[i]->tv_sec * 1000000 + tv[i]->tv_usec;
    }
    return us * 1000;
}

/* run_loop serves "loop none|fn SYSCALL ARGV..." (see the top comment);
 * the answer goes to out. */
static int run_loop(char *req, char *out, size_t outlen)
{
    char *save = NULL;
    const char *cb = strtok_r(req, " ", &save);
    const char *target = strtok_r(NULL, " ", &save);
    const char *argv[16];
    int argc = 0;
    char *a;
    while (argc < 15 && (a = strtok_r(NULL, " ", &save)) != NULL) {
        argv[argc++] = a;
    }
    argv[argc] = NULL;
    int with_fn = cb != NULL && strcmp(cb, "fn") == 0;
    if (cb == NULL || (!with_fn && strcmp(cb, "none") != 0) || target == NULL || argc == 0 ||
        strlen(target) >= sizeof ((struct cb_counts *)0)->target) {
        snprintf(errbuf, sizeof errbuf, "usage: loop none|fn SYSCALL ARGV...");
        return -1;
    }
    struct cb_counts zero = {0}, *counts = &zero;
    sandlock_policy_t *p = policy;
    int rc;
    long long cpu0 = cpu_ns();
    if (with_fn) {
        counts = calloc(1, sizeof *counts);
        if (counts == NULL) {
            snprintf(errbuf, sizeof errbuf, "out of memory");
            return -1;
        }
        snprintf(counts->target, sizeof counts->target, "%s", target);
        if ((rc = sandlock_policy_clone(policy, &p)) != SANDLOCK_OK) {
            free(counts);
            return fail("sandlock_policy_clone", rc);
        }
        if ((rc = sandlock_set_policy_fn(p, count_fn, counts, free)) != SANDLOCK_OK) {
            free(counts);
            sandlock_policy_free(p);
            return fail("sandlock_set_policy_fn", rc);
        }
    }

    sandlock_sandbox_t *sb = NULL;
    sandlock_result_t *res = NULL;
    rc = sandlock_spawn(p, argv, opts_loop, &sb);
    if (p != policy) {
        sandlock_policy_free(p); /* the sandbox holds the registration */
    }
    if (rc != SANDLOCK_OK) {
        return fail("sandlock_spawn", rc);
    }
    rc = sandlock_sandbox_wait(sb, 120000, &res);
    if (rc != SANDLOCK_OK) {
        sandlock_sandbox_kill(sb);
        sandlock_sandbox_free(sb);
        return fail("sandlock_sandbox_wait", rc);
    }
    size_t n_out, n_err;
    const uint8_t *o = sandlock_result_stdout(res, &n_out);
    const uint8_t *e = sandlock_result_stderr(res, &n_err);
    char text[128] = "";
    snprintf(text, sizeof text, "%.*s", (int)(n_out < sizeof text ? n_out : sizeof text - 1), (const char *)o);
    long long loop_n = 0, loop_ns = 0;
    int ret = 0;
    if (sandlock_result_reason(res) != SANDLOCK_REASON_EXITED || sandlock_result_exit_code(res) != 0 ||
        sscanf(text, "%lld %lld", &loop_n, &loop_ns) != 2) {
        snprintf(errbuf, sizeof errbuf, "sandboxed %s: reason %d, exit %d, stdout \"%s\", stderr \"%.*s\"", argv[0],
                 sandlock_result_reason(res), sandlock_result_exit_code(res), text,
                 (int)(n_err < 200 ? n_err : 200), (const char *)e);
        ret = -1;
    }
    sandlock_result_free(res);
    /* Events that are not held may still be queued for the callback when
     * the sandbox has ended: wait until the count stops growing. */
    if (with_fn) {
        unsigned long long seen = atomic_load(&counts->events) + atomic_load(&counts->other);
        uint64_t quiet_since = now_ns(), deadline = quiet_since + 2000000000u;
        while (now_ns() < deadline && now_ns() - quiet_since < 50000000u) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            unsigned long long cur = atomic_load(&counts->events) + atomic_load(&counts->other);
            if (cur != seen) {
                seen = cur;
                quiet_since = now_ns();
            }
        }
    }
    /* Read the counts before the sandbox is freed: the library frees them
     * with the last reference. */
    if (ret == 0) {
        unsigned long long first = atomic_load(&counts->first_ns), last = atomic_load(&counts->last_ns);
        snprintf(out, outlen, "ok %lld %lld %llu %llu %llu %llu %lld", loop_n, loop_ns,
                 atomic_load(&counts->events), atomic_load(&counts->held), atomic_load(&counts->other),
                 last > first ? last - first : 0, cpu_ns() - cpu0);
    }
    sandlock_sandbox_free(sb);
    return ret;
}

int main(int argc, char **argv)
{
    int rc;
    if (sandlock_version_number() / 10000 != SANDLOCK_VERSION_MAJOR) {
        fprintf(stderr, "chost: built for libsandlock %s, found %s\n", SANDLOCK_VERSION_STRING,
                sandlock_version_string());
        return 2;
    }
    if ((rc = sandlock_policy_new(&policy)) != SANDLOCK_OK) {
        fail("sandlock_policy_new", rc);
        fprintf(stderr, "chost: %s\n", errbuf);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if ((rc = sandlock_policy_add_fs_readable(policy, argv[i])) != SANDLOCK_OK) {
            fail("sandlock_policy_add_fs_readable", rc);
            fprintf(stderr, "chost: %s\n", errbuf);
            return 2;
        }
    }
    if ((rc = sandlock_spawn_options_new(&opts_null)) != SANDLOCK_OK ||
        (rc = sandlock_spawn_options_new(&opts_capture)) != SANDLOCK_OK ||
        (rc = sandlock_spawn_options_new(&opts_loop)) != SANDLOCK_OK) {
        fail("sandlock_spawn_options_new", rc);
        fprintf(stderr, "chost: %s\n", errbuf);
        return 2;
    }
    for (int s = SANDLOCK_STDIN; s <= SANDLOCK_STDERR; s++) {
        int capture_mode = s == SANDLOCK_STDOUT ? SANDLOCK_STDIO_CAPTURE : SANDLOCK_STDIO_NULL;
        if ((rc = sandlock_spawn_options_set_stdio(opts_null, s, SANDLOCK_STDIO_NULL, -1)) != SANDLOCK_OK ||
            (rc = sandlock_spawn_options_set_stdio(opts_capture, s, capture_mode, -1)) != SANDLOCK_OK ||
            (rc = sandlock_spawn_options_set_stdio(opts_loop, s, s == SANDLOCK_STDIN ? SANDLOCK_STDIO_NULL : SANDLOCK_STDIO_CAPTURE, -1)) != SANDLOCK_OK) {
            fail("sandlock_spawn_options_set_stdio", rc);
            fprintf(stderr, "chost: %s\n", errbuf);
            return 2;
        }
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[4096];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = 0;
        int bare, echo;
        if (strcmp(line, "quit") == 0) {
            break;
        } else if (strncmp(line, "loop ", 5) == 0) {
            char answer[256];
            if (run_loop(line + 5, answer, sizeof answer) == 0) {
                printf("%s\n", answer);
            } else {
                printf("err %s\n", errbuf);
            }
            continue;
        } else if (strcmp(line, "sandlock true") == 0) {
            bare = 0, echo = 0;
        } else if (strcmp(line, "sandlock echo") == 0) {
            bare = 0, echo = 1;
        } else if (strcmp(line, "bare true") == 0) {
            bare = 1, echo = 0;
        } else if (strcmp(line, "bare echo") == 0) {
            bare = 1, echo = 1;
        } else {
            printf("err unknown request \"%s\"\n", line);
            continue;
        }
        uint64_t t0 = now_ns();
        int r = bare ? run_bare(echo) : run_sandlock(echo);
        uint64_t t1 = now_ns();
        if (r == 0) {
            printf("ok %llu\n", (unsigned long long)(t1 - t0));
        } else {
            printf("err %s\n", errbuf);
        }
    }
    sandlock_spawn_options_free(opts_null);
    sandlock_spawn_options_free(opts_capture);
    sandlock_spawn_options_free(opts_loop);
    sandlock_policy_free(policy);
    return 0;
}
