/* capi_spawnloop: the C host of TestCAPISpawnWaitNoHang (tests/stress).
 * Written for this project.
 *
 * Spawns /bin/true and /bin/echo hi (alternately) through the C ABI, from
 * one or more threads, and waits for each with sandlock_sandbox_wait,
 * either for ever (-1) or in short polled slices, then checks the result,
 * frees the sandbox and the result. Between spawns it can sleep a random
 * while (the host idles, as a benchmark host between requests does) and
 * run a bare posix_spawn of /bin/true (a child of the host that is not a
 * sandbox, as the benchmark's C host does).
 *
 * A watchdog thread fails the run instead of letting it hang: when one
 * wait has lasted longer than the stall limit it prints the waiting
 * sandbox's process state from /proc (alive or zombie, blocked in which
 * system call), asks the library for its goroutine stacks (SIGUSR2, which
 * libsandlock answers when SANDLOCK_DEBUG_STACKS=1) and exits 3.
 *
 * Usage: capi_spawnloop SPAWNS THREADS WAIT_MS STALL_MS SLEEP_US BARE DIR...
 *   WAIT_MS  -1: wait for ever; > 0: wait in slices of that many ms
 *   SLEEP_US maximum random pause after each spawn (0: none)
 *   BARE     1: a bare posix_spawn + waitpid of /bin/true after each spawn
 *   DIR...   directories made readable in the policy
 * Exit: 0 all spawns correct, 1 a wrong result or failed call, 2 usage,
 * 3 a wait stalled.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sandlock.h>

extern char **environ;

static sandlock_policy_t *policy;
static sandlock_spawn_options_t *opts_true, *opts_echo;
static int per_thread, wait_ms, sleep_us, bare;

struct worker {
    pthread_t thread;
    unsigned seed;
    atomic_llong waiting_since; /* ms on the monotonic clock, 0 when not waiting */
    atomic_int pid;             /* the sandbox being waited for */
    atomic_int iter;
    atomic_int done;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fail(const char *what, int rc)
{
    fprintf(stderr, "capi_spawnloop: %s: %s: %s\n", what, sandlock_strerror(rc), sandlock_last_error());
    exit(1);
}

/* show prints one /proc file of pid, on one line. */
static void show(int pid, const char *name)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "  %s: %s\n", path, strerror(errno));
        return;
    }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    for (char *c = buf; *c; c++) {
        if (*c == '\n') {
            *c = ' ';
        }
    }
    fprintf(stderr, "  %s: %s\n", path, buf);
}

static void one(struct worker *w, int i)
{
    static const char *const true_argv[] = {"/bin/true", NULL};
    static const char *const echo_argv[] = {"/bin/echo", "hi", NULL};
    int echo = i & 1;
    sandlock_sandbox_t *sb = NULL;
    sandlock_result_t *res = NULL;
    int rc = sandlock_spawn(policy, echo ? echo_argv : true_argv, echo ? opts_echo : opts_true, &sb);
    if (rc != SANDLOCK_OK) {
        fail("sandlock_spawn", rc);
    }
    atomic_store(&w->pid, sandlock_sandbox_pid(sb));
    atomic_store(&w->iter, i);
    atomic_store(&w->waiting_since, now_ms());
    do {
        rc = sandlock_sandbox_wait(sb, wait_ms, &res);
    } while (wait_ms > 0 && rc == SANDLOCK_ETIMEOUT);
    atomic_store(&w->waiting_since, 0);
    if (rc != SANDLOCK_OK) {
        fail("sandlock_sandbox_wait", rc);
    }
    sandlock_sandbox_free(sb);
    size_t n_out = 0, n_err = 0;
    const uint8_t *out = sandlock_result_stdout(res, &n_out);
    const uint8_t *err = sandlock_result_stderr(res, &n_err);
    if (sandlock_result_reason(res) != SANDLOCK_REASON_EXITED || sandlock_result_exit_code(res) != 0 ||
        (echo && (n_out != 3 || memcmp(out, "hi\n", 3) != 0))) {
        fprintf(stderr, "capi_spawnloop: spawn %d (%s): reason %d, exit %d, signal %d, stdout %zu bytes, stderr \"%.*s\"\n",
                i, echo ? "echo" : "true", sandlock_result_reason(res), sandlock_result_exit_code(res),
                sandlock_result_signal(res), n_out, (int)(n_err < 300 ? n_err : 300), (const char *)err);
        exit(1);
    }
    sandlock_result_free(res);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < per_thread; i++) {
        one(w, i);
        if (bare) {
            pid_t pid;
            char *const argv[] = {(char *)"/bin/true", NULL};
            int rc = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
            if (rc != 0) {
                fprintf(stderr, "capi_spawnloop: posix_spawn: %s\n", strerror(rc));
                exit(1);
            }
            while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
            }
        }
        if (sleep_us > 0) {
            usleep((useconds_t)(rand_r(&w->seed) % (unsigned)sleep_us));
        }
    }
    atomic_store(&w->done, 1);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: capi_spawnloop SPAWNS THREADS WAIT_MS STALL_MS SLEEP_US BARE DIR...\n");
        return 2;
    }
    int spawns = atoi(argv[1]), threads = atoi(argv[2]);
    wait_ms = atoi(argv[3]);
    long long stall_ms = atoll(argv[4]);
    sleep_us = atoi(argv[5]);
    bare = atoi(argv[6]) != 0;
    if (threads < 1 || spawns < threads || wait_ms == 0 || wait_ms < -1 || stall_ms <= 0) {
        fprintf(stderr, "capi_spawnloop: bad arguments\n");
        return 2;
    }
    per_thread = spawns / threads;

    int rc;
    if ((rc = sandlock_policy_new(&policy)) != SANDLOCK_OK) {
        fail("sandlock_policy_new", rc);
    }
    for (int i = 7; i < argc; i++) {
        if ((rc = sandlock_policy_add_fs_readable(policy, argv[i])) != SANDLOCK_OK) {
            fail("sandlock_policy_add_fs_readable", rc);
        }
    }
    if ((rc = sandlock_spawn_options_new(&opts_true)) != SANDLOCK_OK ||
        (rc = sandlock_spawn_options_new(&opts_echo)) != SANDLOCK_OK) {
        fail("sandlock_spawn_options_new", rc);
    }
    /* stderr is captured in both so that a failed run says why. */
    for (int s = SANDLOCK_STDIN; s <= SANDLOCK_STDERR; s++) {
        int t = s == SANDLOCK_STDERR ? SANDLOCK_STDIO_CAPTURE : SANDLOCK_STDIO_NULL;
        int e = s == SANDLOCK_STDIN ? SANDLOCK_STDIO_NULL : SANDLOCK_STDIO_CAPTURE;
        if ((rc = sandlock_spawn_options_set_stdio(opts_true, s, t, -1)) != SANDLOCK_OK ||
            (rc = sandlock_spawn_options_set_stdio(opts_echo, s, e, -1)) != SANDLOCK_OK) {
            fail("sandlock_spawn_options_set_stdio", rc);
        }
    }

    struct worker *ws = calloc((size_t)threads, sizeof *ws);
    if (ws == NULL) {
        fprintf(stderr, "capi_spawnloop: out of memory\n");
        return 1;
    }
    long long t0 = now_ms();
    for (int i = 0; i < threads; i++) {
        ws[i].seed = (unsigned)i + 1;
        if ((rc = pthread_create(&ws[i].thread, NULL, work, &ws[i])) != 0) {
            fprintf(stderr, "capi_spawnloop: pthread_create: %s\n", strerror(rc));
            return 1;
        }
    }
    for (;;) {
        struct timespec tick = {0, 50 * 1000000};
        nanosleep(&tick, NULL);
        int running = 0;
        for (int i = 0; i < threads; i++) {
            running += !atomic_load(&ws[i].done);
            long long since = atomic_load(&ws[i].waiting_since);
            if (since == 0 || now_ms() - since < stall_ms) {
                continue;
            }
            int pid = atomic_load(&ws[i].pid);
            fprintf(stderr,
                    "capi_spawnloop: STALL: thread %d, spawn %d: sandlock_sandbox_wait(%d) has not returned "
                    "after %lld ms; sandboxed pid %d:\n",
                    i, atomic_load(&ws[i].iter), wait_ms, now_ms() - since, pid);
            show(pid, "stat");
            show(pid, "wchan");
            show(pid, "syscall");
            const char *dbg = getenv("SANDLOCK_DEBUG_STACKS");
            if (dbg != NULL && *dbg != '\0') {
                fprintf(stderr, "capi_spawnloop: goroutine stacks of the host follow\n");
                raise(SIGUSR2);
                sleep(2);
            }
            _exit(3);
        }
        if (running == 0) {
            break;
        }
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(ws[i].thread, NULL);
    }
    printf("ok %d spawns in %lld ms\n", per_thread * threads, now_ms() - t0);
    free(ws);
    sandlock_spawn_options_free(opts_true);
    sandlock_spawn_options_free(opts_echo);
    sandlock_policy_free(policy);
    return 0;
}
