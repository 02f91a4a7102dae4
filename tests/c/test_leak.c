/*
 * test_leak.c - a host that spawns many sandboxes ends with the file
 * descriptors and threads it began with (spec README, requirement 10).
 *
 * The baseline is taken after a warm-up of 10 spawns, which lets the Go
 * runtime start the threads it keeps for good (the spawner thread, the
 * poller). After the load the counts get up to 3 s to settle.
 *
 * File descriptors must come back exactly. Threads may exceed the baseline
 * by a small allowance, and only because of one documented behaviour of
 * the Go runtime: it starts a worker thread (an M) whenever all existing
 * ones are busy or blocked, and never ends an idle one (golang/go#14592).
 * Its thread count is therefore the high-water mark of its concurrency, not
 * a function of how many sandboxes ran: measured here, 6000 sequential
 * sandboxes end at the same count as 1000, and 30 rounds of 32 concurrent
 * ones plateau after the first round, a pure-Go host shows the same, and
 * with GOMAXPROCS=1 the count does not move after the first spawn. A leak
 * of one thread per sandbox would add 1000 or 32, far above the allowance.
 */
#include <dirent.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;
    if (d == NULL) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            n++;
        }
    }
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

static int count_threads(void)
{
    char line[256];
    int n = -1;
    FILE *f = fopen("/proc/self/status", "r");
    if (f == NULL) {
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "Threads:", 8) == 0) {
            n = atoi(line + 8);
            break;
        }
    }
    fclose(f);
    return n;
}

/* One sandbox from spawn to free, with captured output so that pipes and
 * drain goroutines are exercised. Returns 0 on success. */
static int one_sandbox(const sandlock_policy_t *p, const sandlock_spawn_options_t *o)
{
    const char *const argv[] = {"/bin/echo", "leak-test", NULL};
    sandlock_sandbox_t *sb = NULL;
    sandlock_result_t *r = NULL;
    int ok = sandlock_spawn(p, argv, o, &sb) == SANDLOCK_OK &&
             sandlock_sandbox_wait(sb, 30000, &r) == SANDLOCK_OK &&
             strcmp((const char *)sandlock_result_stdout(r, NULL), "leak-test\n") == 0;
    sandlock_result_free(r);
    sandlock_sandbox_free(sb);
    return ok ? 0 : -1;
}

static sandlock_spawn_options_t *capture_options(void)
{
    sandlock_spawn_options_t *o = NULL;
    sandlock_spawn_options_new(&o);
    sandlock_spawn_options_set_stdio(o, SANDLOCK_STDIN, SANDLOCK_STDIO_NULL, -1);
    sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_CAPTURE, -1);
    sandlock_spawn_options_set_stdio(o, SANDLOCK_STDERR, SANDLOCK_STDIO_CAPTURE, -1);
    return o;
}

/* Waits up to 3 s for the descriptors, and up to 0.5 s more for the
 * threads, to come back to the baseline; returns how long the descriptors
 * took in ms, or -1 if they did not come back. */
static long long settle(int fds0, int thr0, int *fds, int *thr)
{
    long long t0 = now_ms(), took = -1;
    for (;;) {
        *fds = count_fds();
        if (*fds <= fds0) {
            took = now_ms() - t0;
            break;
        }
        if (now_ms() - t0 > 3000) {
            break;
        }
        usleep(20000);
    }
    for (long long t1 = now_ms(); (*thr = count_threads()) > thr0 && now_ms() - t1 < 500;) {
        usleep(20000);
    }
    return took;
}

static int baseline_fds = -1, baseline_threads = -1;

/* Allowed growth of the Go runtime's idle worker pool (see the top), set
 * well above what was seen on a loaded 2-CPU machine and well below what a
 * leak would add. Sequential: up to +2 seen; a leak of one thread in 100
 * sandboxes would add 10. Concurrent: 32 sandboxes at once raise the
 * high-water mark more (up to +8 seen in round 1, +5 more over rounds 2
 * and 3); a leak of a thread per sandbox would add 32 in round 1 and 64
 * over rounds 2 and 3. */
enum { SEQ_THREAD_SLACK = 6, CONC_THREAD_SLACK = 20, PLATEAU_SLACK = 16 };

static void warm_up(const sandlock_policy_t *p, const sandlock_spawn_options_t *o)
{
    for (int i = 0; i < 10; i++) {
        CHECK(one_sandbox(p, o) == 0, "warm-up spawn %d failed: %s", i, sandlock_last_error());
    }
}

void test_leak_sequential(void)
{
    enum { N = 1000 };
    sandlock_policy_t *p = base_policy();
    sandlock_spawn_options_t *o = capture_options();
    int failures = 0, fds, thr;

    warm_up(p, o);
    usleep(100000);
    baseline_fds = count_fds();
    baseline_threads = count_threads();
    long long t0 = now_ms();
    for (int i = 0; i < N; i++) {
        if (one_sandbox(p, o) != 0 && failures++ < 3) {
            ct_note("spawn %d failed: %s", i, sandlock_last_error());
        }
    }
    long long took = now_ms() - t0;
    long long settled = settle(baseline_fds, baseline_threads, &fds, &thr);
    ct_note("%d sequential sandboxes in %lld ms: fds %d -> %d, threads %d -> %d (fds back after "
            "%lld ms)",
            N, took, baseline_fds, fds, baseline_threads, thr, settled);
    CHECK(failures == 0, "%d of %d spawns failed", failures, N);
    CHECK(fds == baseline_fds, "fds %d -> %d after %d sandboxes", baseline_fds, fds, N);
    CHECK(thr >= 0 && thr <= baseline_threads + SEQ_THREAD_SLACK,
          "threads %d -> %d after %d sandboxes (allowance %d)", baseline_threads, thr, N,
          SEQ_THREAD_SLACK);
    sandlock_spawn_options_free(o);
    sandlock_policy_free(p);
}

/* 32 sandboxes alive at once, started from 4 pthreads (8 each). */
enum { C_THREADS = 4, C_EACH = 8 };

struct conc_arg {
    const sandlock_policy_t *p;
    const sandlock_spawn_options_t *o;
    pthread_barrier_t *all_running;
    int failures;
};

static void *conc_worker(void *arg)
{
    struct conc_arg *a = arg;
    /* Each sandbox reads a line that only arrives once all 32 run, so all
     * are alive at the same time. */
    const char *const argv[] = {"/bin/sh", "-c", "read x; echo \"$x\"", NULL};
    sandlock_sandbox_t *sb[C_EACH] = {0};
    int in[C_EACH][2];
    for (int i = 0; i < C_EACH; i++) {
        sandlock_spawn_options_t *o = NULL;
        in[i][0] = in[i][1] = -1;
        if (pipe(in[i]) != 0 || sandlock_spawn_options_new(&o) != SANDLOCK_OK ||
            sandlock_spawn_options_set_stdio(o, SANDLOCK_STDIN, SANDLOCK_STDIO_FD, in[i][0]) !=
                SANDLOCK_OK ||
            sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_CAPTURE, -1) !=
                SANDLOCK_OK ||
            sandlock_spawn(a->p, argv, o, &sb[i]) != SANDLOCK_OK) {
            __atomic_add_fetch(&a->failures, 1, __ATOMIC_SEQ_CST);
        }
        sandlock_spawn_options_free(o);
        if (in[i][0] >= 0) {
            close(in[i][0]);
        }
    }
    pthread_barrier_wait(a->all_running);
    for (int i = 0; i < C_EACH; i++) {
        if (in[i][1] >= 0) {
            if (write(in[i][1], "go\n", 3) != 3) {
                __atomic_add_fetch(&a->failures, 1, __ATOMIC_SEQ_CST);
            }
            close(in[i][1]);
        }
    }
    for (int i = 0; i < C_EACH; i++) {
        sandlock_result_t *r = NULL;
        if (sb[i] == NULL) {
            continue;
        }
        if (sandlock_sandbox_wait(sb[i], 30000, &r) != SANDLOCK_OK ||
            strcmp((const char *)sandlock_result_stdout(r, NULL), "go\n") != 0) {
            __atomic_add_fetch(&a->failures, 1, __ATOMIC_SEQ_CST);
        }
        sandlock_result_free(r);
        sandlock_sandbox_free(sb[i]);
    }
    return NULL;
}

static int concurrent_round(const sandlock_policy_t *p)
{
    pthread_t t[C_THREADS];
    pthread_barrier_t b;
    struct conc_arg a = {p, NULL, &b, 0};
    pthread_barrier_init(&b, NULL, C_THREADS);
    for (int i = 0; i < C_THREADS; i++) {
        pthread_create(&t[i], NULL, conc_worker, &a);
    }
    for (int i = 0; i < C_THREADS; i++) {
        pthread_join(t[i], NULL);
    }
    pthread_barrier_destroy(&b);
    return a.failures;
}

void test_leak_concurrent(void)
{
    sandlock_policy_t *p = base_policy();
    int fds1, thr1, fds3, thr3;
    if (baseline_fds < 0) {
        sandlock_spawn_options_t *o = capture_options();
        warm_up(p, o);
        sandlock_spawn_options_free(o);
        usleep(100000);
        baseline_fds = count_fds();
        baseline_threads = count_threads();
    }
    /* Round 1 is the test the spec asks for; rounds 2 and 3 show that what
     * the Go runtime added in round 1 is a plateau, not a per-sandbox cost. */
    int failures = concurrent_round(p);
    long long settled = settle(baseline_fds, baseline_threads, &fds1, &thr1);
    ct_note("%d concurrent sandboxes from %d pthreads: fds %d -> %d, threads %d -> %d "
            "(fds back after %lld ms)",
            C_THREADS * C_EACH, C_THREADS, baseline_fds, fds1, baseline_threads, thr1, settled);
    failures += concurrent_round(p);
    failures += concurrent_round(p);
    settle(baseline_fds, baseline_threads, &fds3, &thr3);
    ct_note("after 2 more rounds (%d sandboxes in all): fds %d, threads %d", 3 * C_THREADS * C_EACH,
            fds3, thr3);
    CHECK(failures == 0, "%d failures in the concurrent rounds", failures);
    CHECK(fds1 == baseline_fds, "fds %d -> %d after the concurrent round", baseline_fds, fds1);
    CHECK(fds3 == baseline_fds, "fds %d -> %d after 3 concurrent rounds", baseline_fds, fds3);
    CHECK(thr1 >= 0 && thr1 <= baseline_threads + CONC_THREAD_SLACK,
          "threads %d -> %d after the concurrent round (allowance %d)", baseline_threads, thr1,
          CONC_THREAD_SLACK);
    CHECK(thr3 >= 0 && thr3 <= thr1 + PLATEAU_SLACK,
          "threads %d after round 1, %d after round 3: growing with the number of sandboxes", thr1,
          thr3);
    sandlock_policy_free(p);
}
