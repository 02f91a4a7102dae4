/*
 * policyfn.c - the callback queue, the event accessors and the public
 * sandlock_ctx_* shims (see policyfn.h).
 */
#include <linux/futex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sandlock.h"
#include "capi_internal.h"
#include "policyfn.h"
#include "_cgo_export.h"

struct sl_pfn_queue *sl_pfn_queue_new(sandlock_policy_fn fn, void *user_data, uint64_t cap)
{
    struct sl_pfn_queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    if (pthread_mutex_init(&q->mu, NULL) != 0) {
        free(q);
        return NULL;
    }
    if (pthread_cond_init(&q->cv, NULL) != 0) {
        pthread_mutex_destroy(&q->mu);
        free(q);
        return NULL;
    }
    q->fn = fn;
    q->user_data = user_data;
    q->cap = cap;
    return q;
}

void sl_pfn_queue_free(struct sl_pfn_queue *q)
{
    if (q == NULL)
        return;
    /* Only observed events can be left (close cancelled the held ones),
     * and only when no lane was left to deliver them. */
    for (struct sl_pfn_req *r = q->head; r != NULL;) {
        struct sl_pfn_req *next = r->next;
        free(r);
        r = next;
    }
    pthread_cond_destroy(&q->cv);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

static int push(struct sl_pfn_queue *q, struct sl_pfn_req *r)
{
    pthread_mutex_lock(&q->mu);
    if (q->closed) {
        pthread_mutex_unlock(&q->mu);
        return -1;
    }
    if (q->len >= q->cap) {
        pthread_mutex_unlock(&q->mu);
        return -2;
    }
    r->next = NULL;
    if (q->tail != NULL)
        q->tail->next = r;
    else
        q->head = r;
    q->tail = r;
    q->len++;
    int wake = q->idle > 0;
    pthread_mutex_unlock(&q->mu);
    if (wake)
        pthread_cond_signal(&q->cv);
    return 0;
}

int sl_pfn_post(struct sl_pfn_queue *q, struct sl_pfn_req *r)
{
    r->held = 0;
    return push(q, r);
}

static uint32_t load_state(struct sl_pfn_req *r)
{
    return __atomic_load_n(&r->state, __ATOMIC_SEQ_CST);
}

static int cas_state(struct sl_pfn_req *r, uint32_t from, uint32_t to)
{
    return __atomic_compare_exchange_n(&r->state, &from, to, 0, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST);
}

static void futex_wake(uint32_t *word)
{
    syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

int sl_pfn_wait(struct sl_pfn_req *r, int64_t timeout_ns, int32_t *verdict)
{
    struct timespec end, now;
    clock_gettime(CLOCK_MONOTONIC, &end);
    end.tv_sec += (time_t)(timeout_ns / 1000000000);
    end.tv_nsec += (long)(timeout_ns % 1000000000);
    if (end.tv_nsec >= 1000000000) {
        end.tv_sec++;
        end.tv_nsec -= 1000000000;
    }
    for (;;) {
        uint32_t s = load_state(r);
        if (s == SL_PFN_DONE) {
            *verdict = r->verdict;
            free(r);
            return SL_PFN_DONE;
        }
        if (s == SL_PFN_CANCELLED) {
            free(r);
            return SL_PFN_CANCELLED;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        struct timespec left = {end.tv_sec - now.tv_sec, end.tv_nsec - now.tv_nsec};
        if (left.tv_nsec < 0) {
            left.tv_sec--;
            left.tv_nsec += 1000000000;
        }
        if (left.tv_sec < 0)
            return (int)s;
        /* EAGAIN (the state changed), EINTR and ETIMEDOUT all loop. */
        syscall(SYS_futex, &r->state, FUTEX_WAIT_PRIVATE, s, &left, NULL, 0);
    }
}

int sl_pfn_push_held(struct sl_pfn_queue *q, struct sl_pfn_req *r)
{
    r->held = 1;
    __atomic_store_n(&r->state, SL_PFN_QUEUED, __ATOMIC_SEQ_CST);
    return push(q, r);
}

int sl_pfn_abandon(struct sl_pfn_req *r, int32_t *verdict)
{
    for (;;) {
        uint32_t s = load_state(r);
        switch (s) {
        case SL_PFN_QUEUED:
        case SL_PFN_RUNNING:
            if (cas_state(r, s, SL_PFN_ABANDONED))
                return SL_PFN_ABANDONED;
            continue;
        case SL_PFN_DONE:
            *verdict = r->verdict;
            free(r);
            return SL_PFN_DONE;
        default:
            free(r);
            return SL_PFN_CANCELLED;
        }
    }
}

void sl_pfn_serve(struct sl_pfn_queue *q, sandlock_ctx_t *ctx, struct sl_pfn_lane *lane)
{
    for (;;) {
        pthread_mutex_lock(&q->mu);
        while (q->head == NULL && !q->closed) {
            q->idle++;
            pthread_cond_wait(&q->cv, &q->mu);
            q->idle--;
        }
        if (q->head == NULL) { /* closed and drained */
            pthread_mutex_unlock(&q->mu);
            return;
        }
        struct sl_pfn_req *r = q->head;
        q->head = r->next;
        if (q->head == NULL)
            q->tail = NULL;
        q->len--;
        pthread_mutex_unlock(&q->mu);
        r->next = NULL;
        if (r->held && !cas_state(r, SL_PFN_QUEUED, SL_PFN_RUNNING)) {
            free(r); /* abandoned while queued */
            continue;
        }
        __atomic_store_n(&lane->in_call, 1, __ATOMIC_SEQ_CST);
        int32_t v = q->fn(&r->ev, ctx, q->user_data);
        __atomic_store_n(&lane->in_call, 0, __ATOMIC_SEQ_CST);
        if (!r->held) {
            free(r);
            continue;
        }
        r->verdict = v;
        if (cas_state(r, SL_PFN_RUNNING, SL_PFN_DONE))
            futex_wake(&r->state);
        else
            free(r); /* abandoned while the callback ran */
    }
}

void sl_pfn_close(struct sl_pfn_queue *q)
{
    /* Held calls are cancelled (their waiter denies them); observed events
     * stay queued and the lanes deliver them before they leave, so that a
     * run's last events are not lost when the sandbox ends. */
    pthread_mutex_lock(&q->mu);
    q->closed = 1;
    struct sl_pfn_req *r = q->head, *keep = NULL, *tail = NULL, *cancel = NULL;
    uint64_t len = 0;
    while (r != NULL) {
        struct sl_pfn_req *next = r->next;
        if (r->held) {
            r->next = cancel;
            cancel = r;
        } else {
            r->next = NULL;
            if (tail != NULL)
                tail->next = r;
            else
                keep = r;
            tail = r;
            len++;
        }
        r = next;
    }
    q->head = keep;
    q->tail = tail;
    q->len = len;
    pthread_mutex_unlock(&q->mu);
    pthread_cond_broadcast(&q->cv);
    while (cancel != NULL) {
        struct sl_pfn_req *next = cancel->next;
        if (cas_state(cancel, SL_PFN_QUEUED, SL_PFN_CANCELLED))
            futex_wake(&cancel->state);
        else
            free(cancel); /* abandoned */
        cancel = next;
    }
}

uint64_t sl_pfn_len(struct sl_pfn_queue *q)
{
    pthread_mutex_lock(&q->mu);
    uint64_t n = q->len;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int sl_pfn_idle(struct sl_pfn_queue *q)
{
    pthread_mutex_lock(&q->mu);
    int n = q->idle;
    pthread_mutex_unlock(&q->mu);
    return n;
}

int sl_pfn_in_call(const struct sl_pfn_lane *lane)
{
    return __atomic_load_n(&lane->in_call, __ATOMIC_SEQ_CST);
}

void sl_pfn_call_free(sandlock_free_fn f, void *user_data)
{
    if (f != NULL)
        f(user_data);
}

int32_t sl_pfn_test_count(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *user_data)
{
    (void)ev;
    (void)ctx;
    __atomic_add_fetch((uint64_t *)user_data, 1, __ATOMIC_SEQ_CST);
    return SANDLOCK_VERDICT_ALLOW;
}

int32_t sl_pfn_test_fixed(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *user_data)
{
    (void)ev;
    (void)ctx;
    return *(const int32_t *)user_data;
}

/* --- Event accessors ----------------------------------------------------
 * Pure C: they run on the callback thread in the middle of a callback and
 * must cost next to nothing. Like every sandlock call they reset the last
 * error, or set it for a bad event. */

static const struct sandlock_event *event_arg(const sandlock_event_t *ev, const char *fn)
{
    if (ev == NULL || ev->magic != SL_PFN_EVENT_MAGIC) {
        char msg[128];
        size_t n = strlen(fn);
        const char *why = ev == NULL ? ": ev is NULL" : ": ev is not a valid sandlock_event_t";
        size_t w = strlen(why);
        if (n + w >= sizeof msg)
            n = sizeof msg - w - 1;
        memcpy(msg, fn, n);
        memcpy(msg + n, why, w);
        capi_set_last_error(0, msg, n + w);
        return NULL;
    }
    capi_clear_last_error();
    return ev;
}

const char *sandlock_event_syscall(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_syscall");
    return e ? e->syscall : NULL;
}

int sandlock_event_category(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_category");
    return e ? e->category : SANDLOCK_EINVAL;
}

int sandlock_event_pid(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_pid");
    return e ? e->pid : SANDLOCK_EINVAL;
}

int sandlock_event_parent_pid(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_parent_pid");
    return e ? e->ppid : SANDLOCK_EINVAL;
}

const char *sandlock_event_host(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_host");
    return e ? e->host : NULL;
}

int sandlock_event_port(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_port");
    return e ? e->port : SANDLOCK_EINVAL;
}

uint64_t sandlock_event_size(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_size");
    return e ? e->size : 0;
}

size_t sandlock_event_argc(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_argc");
    return e ? (size_t)e->argc : 0;
}

const char *sandlock_event_argv(const sandlock_event_t *ev, size_t i)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_argv");
    if (e == NULL)
        return NULL;
    if (i >= e->argc) {
        static const char msg[] = "sandlock_event_argv: i is out of range";
        capi_set_last_error(0, msg, sizeof msg - 1);
        return NULL;
    }
    return e->argv[i];
}

int sandlock_event_denied(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_denied");
    return e ? e->denied : SANDLOCK_EINVAL;
}

int sandlock_event_held(const sandlock_event_t *ev)
{
    const struct sandlock_event *e = event_arg(ev, "sandlock_event_held");
    return e ? e->held : SANDLOCK_EINVAL;
}

/* --- Context shims (Go exports in policyfn.go) ------------------------- */

int sandlock_ctx_restrict_network(sandlock_ctx_t *ctx, const char *const *ips, size_t n)
{
    return capi_ctx_restrict_network(ctx, (char **)ips, n);
}

int sandlock_ctx_grant_network(sandlock_ctx_t *ctx, const char *const *ips, size_t n)
{
    return capi_ctx_grant_network(ctx, (char **)ips, n);
}

int sandlock_ctx_restrict_pid_network(sandlock_ctx_t *ctx, int pid, const char *const *ips,
                                      size_t n)
{
    return capi_ctx_restrict_pid_network(ctx, pid, (char **)ips, n);
}

int sandlock_ctx_clear_pid_override(sandlock_ctx_t *ctx, int pid)
{
    return capi_ctx_clear_pid_override(ctx, pid);
}

int sandlock_ctx_restrict_max_memory(sandlock_ctx_t *ctx, uint64_t bytes)
{
    return capi_ctx_restrict_max_memory(ctx, bytes);
}

int sandlock_ctx_grant_max_memory(sandlock_ctx_t *ctx, uint64_t bytes)
{
    return capi_ctx_grant_max_memory(ctx, bytes);
}

int sandlock_ctx_restrict_max_processes(sandlock_ctx_t *ctx, uint32_t n)
{
    return capi_ctx_restrict_max_processes(ctx, n);
}

int sandlock_ctx_grant_max_processes(sandlock_ctx_t *ctx, uint32_t n)
{
    return capi_ctx_grant_max_processes(ctx, n);
}

int sandlock_ctx_deny_path(sandlock_ctx_t *ctx, const char *path)
{
    return capi_ctx_deny_path(ctx, (char *)path);
}

int sandlock_ctx_allow_path(sandlock_ctx_t *ctx, const char *path)
{
    return capi_ctx_allow_path(ctx, (char *)path);
}
