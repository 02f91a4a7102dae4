/*
 * test_policyfn.c - policy callbacks through the C ABI: registration and
 * user_data lifetime, events and accessors, verdicts (with controls), the
 * context functions, fail-closed answers, the callback thread, and a 10^4
 * event run that reports the throughput.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* --- A loopback listener that accepts and closes connections ------------ */

struct listener {
    int fd;
    int port;
    pthread_t thread;
};

static void *accept_loop(void *arg)
{
    struct listener *l = arg;
    for (;;) {
        int c = accept(l->fd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return NULL;
        }
        close(c);
    }
}

static void listener_start(struct listener *l)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    socklen_t len = sizeof a;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l->fd < 0 || bind(l->fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(l->fd, 64) < 0 ||
        getsockname(l->fd, (struct sockaddr *)&a, &len) < 0) {
        perror("listener");
        exit(1);
    }
    l->port = ntohs(a.sin_port);
    pthread_create(&l->thread, NULL, accept_loop, l);
}

static void listener_stop(struct listener *l)
{
    shutdown(l->fd, SHUT_RDWR);
    close(l->fd);
    pthread_join(l->thread, NULL);
}

/* --- Callback state ----------------------------------------------------- */

enum mode {
    M_RECORD,         /* allow everything, record */
    M_DENY_PORT,      /* connect to deny_port -> EACCES */
    M_DENY_CAT,       /* execve of .../cat -> deny */
    M_RESTRICT_NET,   /* first execve: restrict_network([]) */
    M_RESTRICT_PROCS, /* first execve: restrict_max_processes(2) */
    M_SLOW_CONNECT,   /* connect: sleep 2 s */
    M_FIXED,          /* openat: return fixed */
    M_CTX_MISUSE,     /* first execve: use ctx from another thread */
    M_DENY_PATH,      /* first execve: deny_path(path) */
    M_SLOW_OBSERVE,   /* getpriority (observed): spin 50 us */
};

struct cb_state {
    pthread_mutex_t mu;
    enum mode mode;
    int deny_port;
    int32_t fixed;
    uint64_t events, opens, execs, connects, held, denied_flag, prios;
    char argv2[256]; /* the second execve's argv, joined */
    char host[64];
    int port;
    int pid, ppid;
    int category_exec, category_open, category_connect;
    int ctx_rc, ctx_rc_other_thread, grant_rc;
    pid_t tids[8];
    int ntids;
    int first_exec_done;
    sandlock_ctx_t *saved_ctx;
    const char *path;
};

static void state_init(struct cb_state *s, enum mode m)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->mode = m;
    s->ctx_rc = s->ctx_rc_other_thread = s->grant_rc = 999;
}

struct other_thread_arg {
    sandlock_ctx_t *ctx;
    int rc;
};

static void *use_ctx_elsewhere(void *arg)
{
    struct other_thread_arg *a = arg;
    a->rc = sandlock_ctx_restrict_network(a->ctx, NULL, 0);
    return NULL;
}

static int32_t cb(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *ud)
{
    struct cb_state *s = ud;
    const char *name = sandlock_event_syscall(ev);
    int32_t verdict = SANDLOCK_VERDICT_ALLOW;
    pid_t tid = (pid_t)syscall(SYS_gettid);

    pthread_mutex_lock(&s->mu);
    s->events++;
    if (sandlock_event_held(ev) == 1)
        s->held++;
    if (sandlock_event_denied(ev) == 1)
        s->denied_flag++;
    int known = 0;
    for (int i = 0; i < s->ntids; i++)
        known |= s->tids[i] == tid;
    if (!known && s->ntids < 8)
        s->tids[s->ntids++] = tid;
    int first_exec = 0;
    if (strcmp(name, "execve") == 0) {
        s->execs++;
        s->category_exec = sandlock_event_category(ev);
        if (!s->first_exec_done) {
            s->first_exec_done = 1;
            first_exec = 1;
            s->pid = sandlock_event_pid(ev);
            s->ppid = sandlock_event_parent_pid(ev);
        }
        if (s->execs == 2) {
            size_t n = sandlock_event_argc(ev);
            s->argv2[0] = '\0';
            for (size_t i = 0; i < n; i++) {
                if (i > 0)
                    strncat(s->argv2, " ", sizeof s->argv2 - strlen(s->argv2) - 1);
                strncat(s->argv2, sandlock_event_argv(ev, i), sizeof s->argv2 - strlen(s->argv2) - 1);
            }
        }
        const char *a0 = sandlock_event_argc(ev) > 0 ? sandlock_event_argv(ev, 0) : "";
        size_t l0 = strlen(a0);
        if (s->mode == M_DENY_CAT && l0 >= 3 && strcmp(a0 + l0 - 3, "cat") == 0)
            verdict = SANDLOCK_VERDICT_DENY;
    } else if (strcmp(name, "openat") == 0) {
        s->opens++;
        s->category_open = sandlock_event_category(ev);
        if (s->mode == M_FIXED)
            verdict = s->fixed;
    } else if (strcmp(name, "connect") == 0) {
        s->connects++;
        s->category_connect = sandlock_event_category(ev);
        const char *h = sandlock_event_host(ev);
        snprintf(s->host, sizeof s->host, "%s", h ? h : "(null)");
        s->port = sandlock_event_port(ev);
        if (s->mode == M_DENY_PORT && s->port == s->deny_port)
            verdict = 13; /* EACCES */
    }
    if (strcmp(name, "getpriority") == 0)
        s->prios++;
    enum mode mode = s->mode;
    pthread_mutex_unlock(&s->mu);
    if (mode == M_SLOW_OBSERVE && strcmp(name, "getpriority") == 0) {
        /* A spin, not a sleep: slower than the loop, yet not at the mercy
         * of timer slack on a loaded machine. */
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do
            clock_gettime(CLOCK_MONOTONIC, &t);
        while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 50000);
    }

    if (first_exec && mode == M_RESTRICT_NET)
        s->ctx_rc = sandlock_ctx_restrict_network(ctx, NULL, 0);
    if (first_exec && mode == M_RESTRICT_PROCS) {
        s->ctx_rc = sandlock_ctx_restrict_max_processes(ctx, 2);
        s->grant_rc = sandlock_ctx_grant_max_processes(ctx, 10);
    }
    if (first_exec && mode == M_CTX_MISUSE) {
        struct other_thread_arg a = {ctx, 999};
        pthread_t t;
        pthread_create(&t, NULL, use_ctx_elsewhere, &a);
        pthread_join(t, NULL);
        s->ctx_rc_other_thread = a.rc;
        s->ctx_rc = sandlock_ctx_restrict_network(ctx, (const char *const[]){"bad ip"}, 1);
        s->saved_ctx = ctx;
    }
    if (first_exec && mode == M_DENY_PATH)
        s->ctx_rc = sandlock_ctx_deny_path(ctx, s->path);
    if (mode == M_SLOW_CONNECT && strcmp(name, "connect") == 0)
        usleep(2000 * 1000);
    return verdict;
}

static int free_count;
static void count_free_ud(void *ud)
{
    (void)ud;
    __atomic_add_fetch(&free_count, 1, __ATOMIC_SEQ_CST);
}

/* pfn_policy is base_policy() with /dev/null writable (shells use it). */
static sandlock_policy_t *pfn_policy(void)
{
    sandlock_policy_t *p = base_policy();
    CHECK_RC(sandlock_policy_add_fs_writable(p, "/dev/null"), SANDLOCK_OK);
    return p;
}

/* run_cb runs argv under p with the callback in state s. */
static sandlock_result_t *run_cb(sandlock_policy_t *p, struct cb_state *s, const char *const *argv)
{
    CHECK_RC(sandlock_set_policy_fn(p, cb, s, NULL), SANDLOCK_OK);
    return run_ok(p, argv, 30000);
}

/* --- Tests -------------------------------------------------------------- */

void test_policy_fn_register(void)
{
    static int ud;
    sandlock_policy_t *p = pfn_policy(), *c = NULL;
    free_count = 0;
    CHECK_RC(sandlock_set_policy_fn(p, cb, &ud, count_free_ud), SANDLOCK_OK);
    CHECK(sandlock_last_error()[0] == '\0', "message after success: %s", sandlock_last_error());
    CHECK_RC(sandlock_policy_clone(p, &c), SANDLOCK_OK);
    sandlock_policy_free(p);
    CHECK(free_count == 0, "user_data_free ran while a clone still holds it (%d)", free_count);
    /* A sandbox started from the clone holds it too. */
    const char *const argv[] = {"/bin/true", NULL};
    sandlock_sandbox_t *sb = NULL;
    struct cb_state s;
    state_init(&s, M_RECORD);
    CHECK_RC(sandlock_set_policy_fn(c, cb, &s, count_free_ud), SANDLOCK_OK);
    CHECK(free_count == 1, "replacing a registration released the old one %d times, want 1",
          free_count);
    CHECK_RC(sandlock_spawn(c, argv, NULL, &sb), SANDLOCK_OK);
    sandlock_policy_free(c);
    sandlock_result_t *r = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, -1, &r), SANDLOCK_OK);
    CHECK(free_count == 1, "user_data_free ran before the sandbox was freed (%d)", free_count);
    sandlock_sandbox_free(sb);
    CHECK(free_count == 2, "user_data_free ran %d times in all, want 2", free_count);
    CHECK(s.execs == 1, "execve events %llu, want 1", (unsigned long long)s.execs);
    sandlock_result_free(r);
}

void test_policy_fn_events(void)
{
    struct cb_state s;
    state_init(&s, M_RECORD);
    sandlock_policy_t *p = pfn_policy();
    const char *const argv[] = {"/bin/sh", "-c", "/bin/true a b; echo done", NULL};
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(sandlock_result_exit_code(r) == 0 && strcmp(out_str(r), "done\n") == 0,
          "exit %d stdout %s", sandlock_result_exit_code(r), out_str(r));
    CHECK(s.execs == 2, "execve events %llu, want 2", (unsigned long long)s.execs);
    CHECK(strcmp(s.argv2, "/bin/true a b") == 0, "second execve argv \"%s\"", s.argv2);
    CHECK(s.category_exec == SANDLOCK_CATEGORY_PROCESS, "execve category %d", s.category_exec);
    CHECK(s.category_open == SANDLOCK_CATEGORY_FILE, "openat category %d", s.category_open);
    CHECK(s.opens > 0 && s.held >= s.opens + s.execs, "opens %llu held %llu",
          (unsigned long long)s.opens, (unsigned long long)s.held);
    CHECK(s.pid > 0 && s.ppid > 0, "pid %d ppid %d", s.pid, s.ppid);
    CHECK(s.ntids >= 1 && s.tids[0] != (pid_t)syscall(SYS_gettid),
          "the callback ran on the spawning thread");
    sandlock_result_free(r);

    /* Accessors on a bad event. */
    CHECK(sandlock_event_syscall(NULL) == NULL, "syscall(NULL) not NULL");
    CHECK_MSG("sandlock_event_syscall", "ev is NULL", "sandlock_event_syscall(NULL)");
    CHECK(sandlock_event_pid(NULL) == SANDLOCK_EINVAL, "pid(NULL)");
    CHECK(sandlock_event_argc(NULL) == 0 && sandlock_event_argv(NULL, 0) == NULL, "argv(NULL)");
    sandlock_policy_free(p);
}

static const char *bash_connect(int port, char *buf, size_t n)
{
    snprintf(buf, n, ": 3<>/dev/tcp/127.0.0.1/%d && echo connected", port);
    return buf;
}

void test_policy_fn_deny_connect(void)
{
    struct listener a, b;
    listener_start(&a);
    listener_start(&b);
    sandlock_policy_t *p = pfn_policy();
    CHECK_RC(sandlock_policy_add_net_connect(p, (uint16_t)(a.port < b.port ? a.port : b.port)), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_add_net_connect(p, (uint16_t)(a.port < b.port ? b.port : a.port)), SANDLOCK_OK);
    char script[128];
    struct cb_state s;
    state_init(&s, M_DENY_PORT);
    s.deny_port = a.port;
    const char *const argv[] = {"/bin/bash", "-c", bash_connect(a.port, script, sizeof script), NULL};
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(strstr(err_str(r), "Permission denied") != NULL && strstr(out_str(r), "connected") == NULL,
          "denied port: stdout %s stderr %s", out_str(r), err_str(r));
    CHECK(strcmp(s.host, "127.0.0.1") == 0 && s.port == a.port, "event host %s port %d", s.host,
          s.port);
    CHECK(s.category_connect == SANDLOCK_CATEGORY_NETWORK, "connect category %d",
          s.category_connect);
    sandlock_result_free(r);
    /* Control: the other port connects. */
    const char *const argv2[] = {"/bin/bash", "-c", bash_connect(b.port, script, sizeof script), NULL};
    r = run_cb(p, &s, argv2);
    CHECK(strcmp(out_str(r), "connected\n") == 0, "allowed port: stdout %s stderr %s", out_str(r),
          err_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
    listener_stop(&a);
    listener_stop(&b);
}

void test_policy_fn_block_binary(void)
{
    const char *const argv[] = {"/bin/sh", "-c", "/bin/cat /etc/hostname >/dev/null; echo cat=$?; /bin/echo ok",
                                NULL};
    sandlock_policy_t *p = pfn_policy();
    struct cb_state s;
    state_init(&s, M_DENY_CAT);
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(strcmp(out_str(r), "cat=126\nok\n") == 0, "cat blocked: stdout %s stderr %s", out_str(r),
          err_str(r));
    sandlock_result_free(r);
    state_init(&s, M_RECORD);
    r = run_cb(p, &s, argv);
    CHECK(strcmp(out_str(r), "cat=0\nok\n") == 0, "control: stdout %s stderr %s", out_str(r),
          err_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

void test_policy_fn_restrict_network(void)
{
    struct listener a;
    listener_start(&a);
    sandlock_policy_t *p = pfn_policy();
    CHECK_RC(sandlock_policy_add_net_connect(p, (uint16_t)a.port), SANDLOCK_OK);
    char script[128];
    const char *const argv[] = {"/bin/bash", "-c", bash_connect(a.port, script, sizeof script), NULL};
    struct cb_state s;
    state_init(&s, M_RESTRICT_NET);
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(s.ctx_rc == SANDLOCK_OK, "sandlock_ctx_restrict_network = %d", s.ctx_rc);
    CHECK(strstr(err_str(r), "Connection refused") != NULL && strstr(out_str(r), "connected") == NULL,
          "after restrict_network([]): stdout %s stderr %s", out_str(r), err_str(r));
    sandlock_result_free(r);
    state_init(&s, M_RECORD);
    r = run_cb(p, &s, argv);
    CHECK(strcmp(out_str(r), "connected\n") == 0, "control: stdout %s stderr %s", out_str(r),
          err_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
    listener_stop(&a);
}

void test_policy_fn_restrict_max_processes(void)
{
    const char *const argv[] = {"/bin/sh", "-c", "sleep 0.3 & sleep 0.3 & sleep 0.3 & wait; echo end",
                                NULL};
    sandlock_policy_t *p = pfn_policy();
    struct cb_state s;
    state_init(&s, M_RESTRICT_PROCS);
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(s.ctx_rc == SANDLOCK_OK, "restrict_max_processes = %d", s.ctx_rc);
    CHECK(s.grant_rc == SANDLOCK_ESTATE, "grant after restrict = %d, want SANDLOCK_ESTATE",
          s.grant_rc);
    CHECK(strstr(err_str(r), "fork") != NULL, "limit 2: stderr %s (want a fork failure)",
          err_str(r));
    sandlock_result_free(r);
    state_init(&s, M_RECORD);
    r = run_cb(p, &s, argv);
    CHECK(strstr(err_str(r), "fork") == NULL && strcmp(out_str(r), "end\n") == 0,
          "control: stdout %s stderr %s", out_str(r), err_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

void test_policy_fn_slow_callback(void)
{
    struct listener a;
    listener_start(&a);
    sandlock_policy_t *p = pfn_policy();
    CHECK_RC(sandlock_policy_add_net_connect(p, (uint16_t)a.port), SANDLOCK_OK);
    char script[512];
    snprintf(script, sizeof script,
             "/bin/bash -c ': 3<>/dev/tcp/127.0.0.1/%d' & sleep 0.05; "
             "t0=$(date +%%s%%N); i=0; while [ $i -lt 50 ]; do : </etc/hostname; i=$((i+1)); done; "
             "t1=$(date +%%s%%N); echo ms=$(( (t1-t0)/1000000 )); wait",
             a.port);
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    struct cb_state s;
    state_init(&s, M_SLOW_CONNECT);
    long long t0 = now_ms();
    sandlock_result_t *r = run_cb(p, &s, argv);
    long long took = now_ms() - t0;
    int ms = -1;
    sscanf(out_str(r), "ms=%d", &ms);
    CHECK(ms >= 0 && ms < 1000, "50 opens took %d ms while a connect waited 2 s; stdout %s stderr %s",
          ms, out_str(r), err_str(r));
    CHECK(took >= 2000, "the run took %lld ms: the connect did not wait", took);
    CHECK(s.ntids >= 2, "callback threads %d: want a second one while the first slept", s.ntids);
    ct_note("opens during a 2 s callback: %d ms; callback threads: %d", ms, s.ntids);
    sandlock_result_free(r);
    sandlock_policy_free(p);
    listener_stop(&a);
}

void test_policy_fn_fails_closed(void)
{
    const char *const argv[] = {"/bin/cat", "/etc/hostname", NULL};
    static const int32_t bad[] = {12345, -7, 4096, INT32_MIN};
    sandlock_policy_t *p = pfn_policy();
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct cb_state s;
        state_init(&s, M_FIXED);
        s.fixed = bad[i];
        sandlock_result_t *r = run_cb(p, &s, argv);
        CHECK(sandlock_result_exit_code(r) != 0 && out_str(r)[0] == '\0',
              "verdict %d on openat: exit %d stdout %s", bad[i], sandlock_result_exit_code(r),
              out_str(r));
        sandlock_result_free(r);
    }
    struct cb_state s;
    state_init(&s, M_FIXED);
    s.fixed = SANDLOCK_VERDICT_AUDIT;
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(sandlock_result_exit_code(r) == 0 && out_str(r)[0] != '\0', "control (audit): exit %d",
          sandlock_result_exit_code(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

void test_policy_fn_ctx_misuse(void)
{
    const char *const argv[] = {"/bin/true", NULL};
    sandlock_policy_t *p = pfn_policy();
    struct cb_state s;
    state_init(&s, M_CTX_MISUSE);
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(s.ctx_rc_other_thread == SANDLOCK_ESTATE, "ctx from another thread = %d, want ESTATE",
          s.ctx_rc_other_thread);
    CHECK(s.ctx_rc == SANDLOCK_EINVAL, "restrict_network(\"bad ip\") = %d, want EINVAL", s.ctx_rc);
    int rc = sandlock_ctx_restrict_network(s.saved_ctx, NULL, 0);
    CHECK(rc == SANDLOCK_EINVAL || rc == SANDLOCK_ESTATE, "ctx after the callback = %d", rc);
    CHECK_ERR(sandlock_ctx_deny_path(NULL, "/etc"), SANDLOCK_EINVAL, "sandlock_ctx_deny_path",
              "ctx is NULL");
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

void test_policy_fn_10k_events(void)
{
    const char *const argv[] = {"/bin/sh", "-c",
                                "i=0; while [ $i -lt 10000 ]; do : </etc/hostname; i=$((i+1)); done",
                                NULL};
    sandlock_policy_t *p = pfn_policy();
    /* The same loop without a callback, for the cost the callback adds. */
    long long t0 = now_ms();
    sandlock_result_t *r = run_ok(p, argv, 60000);
    long long bare = now_ms() - t0;
    sandlock_result_free(r);
    struct cb_state s;
    state_init(&s, M_RECORD);
    t0 = now_ms();
    r = run_cb(p, &s, argv);
    long long took = now_ms() - t0;
    CHECK(sandlock_result_exit_code(r) == 0, "exit %d stderr %s", sandlock_result_exit_code(r),
          err_str(r));
    CHECK(s.opens >= 10000, "openat events %llu, want >= 10000", (unsigned long long)s.opens);
    ct_note("%llu events (held) through the C callback in %lld ms (%.0f events/s); the same loop "
            "without a callback: %lld ms, so %.1f us per held event",
            (unsigned long long)s.events, took,
            took > 0 ? (double)s.events * 1000.0 / (double)took : 0.0, bare,
            s.events > 0 ? (double)(took - bare) * 1000.0 / (double)s.events : 0.0);
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

void test_policy_fn_deny_path(void)
{
    char *dir = make_temp_dir();
    char file[4096], script[8192];
    snprintf(file, sizeof file, "%s/secret", dir);
    FILE *fp = fopen(file, "w");
    CHECK(fp != NULL, "create %s", file);
    if (fp == NULL)
        return;
    fputs("hidden\n", fp);
    fclose(fp);
    chmod(dir, 0755);
    chmod(file, 0644);
    sandlock_policy_t *p = pfn_policy();
    CHECK_RC(sandlock_policy_add_fs_readable(p, dir), SANDLOCK_OK);
    snprintf(script, sizeof script, "/bin/cat %s; echo rc=$?", file);
    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    struct cb_state s;
    state_init(&s, M_DENY_PATH);
    s.path = file;
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(s.ctx_rc == SANDLOCK_OK, "sandlock_ctx_deny_path = %d: %s", s.ctx_rc, sandlock_last_error());
    CHECK(strcmp(out_str(r), "rc=1\n") == 0 && strstr(err_str(r), "Permission denied") != NULL,
          "after deny_path: stdout %s stderr %s", out_str(r), err_str(r));
    sandlock_result_free(r);
    state_init(&s, M_RECORD);
    r = run_cb(p, &s, argv);
    CHECK(strcmp(out_str(r), "hidden\nrc=0\n") == 0, "control: stdout %s stderr %s", out_str(r),
          err_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
    remove_tree(dir);
    free(dir);
}

static int thread_count(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    int n = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "Threads:", 8) == 0)
            n = atoi(line + 8);
    }
    if (f != NULL)
        fclose(f);
    return n;
}

/* Callback threads are reused across sandboxes: running many sandboxes
 * with a callback, one after the other, does not add threads. */
void test_policy_fn_threads_reused(void)
{
    const char *const argv[] = {"/bin/sh", "-c", "/bin/true", NULL};
    sandlock_policy_t *p = pfn_policy();
    struct cb_state s;
    state_init(&s, M_RECORD);
    for (int i = 0; i < 3; i++)
        sandlock_result_free(run_cb(p, &s, argv)); /* warm up */
    int before = thread_count();
    for (int i = 0; i < 40; i++)
        sandlock_result_free(run_cb(p, &s, argv));
    int after = thread_count();
    CHECK(after <= before + 2, "threads %d -> %d after 40 sandboxes with a callback", before, after);
    CHECK(s.ntids <= 4, "the callbacks of 43 sequential sandboxes ran on %d threads", s.ntids);
    ct_note("threads %d -> %d; callback threads used: %d", before, after, s.ntids);
    sandlock_policy_free(p);
}

/* Observed events still queued when the sandbox ends reach the callback
 * before the run returns: a callback slower than the loop builds a backlog
 * (2000 events, below the 4096 queue bound, so none is dropped). */
void test_policy_fn_observed_delivered(void)
{
    const char *const argv[] = {"/usr/bin/python3", "-I", "-c",
                                "import os\n"
                                "for _ in range(2000): os.getpriority(os.PRIO_PROCESS, os.getpid())\n",
                                NULL};
    sandlock_policy_t *p = pfn_policy();
    struct cb_state s;
    state_init(&s, M_SLOW_OBSERVE);
    sandlock_result_t *r = run_cb(p, &s, argv);
    CHECK(sandlock_result_exit_code(r) == 0, "exit %d stderr %s", sandlock_result_exit_code(r),
          err_str(r));
    pthread_mutex_lock(&s.mu);
    unsigned long long got = (unsigned long long)s.prios;
    pthread_mutex_unlock(&s.mu);
    CHECK(got == 2000, "getpriority events delivered when the run returned: %llu, want 2000", got);
    sandlock_result_free(r);
    sandlock_policy_free(p);
}
