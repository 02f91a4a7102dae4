/*
 * policyfn.h - the C side of policy callbacks (internal; nothing here is
 * exported from libsandlock.so: the version script exports sandlock_* only
 * and these helpers start with sl_pfn_).
 *
 * Events go to the callback through a queue in C memory. Each callback
 * thread is a Go goroutine locked to its OS thread that enters C and waits
 * on the queue's condition variable (a futex), so that handing an event to a
 * sleeping thread costs one futex wake and no Go scheduling; the callback
 * returns to Go only to deliver the verdict.
 */
#ifndef SANDLOCK_CAPI_POLICYFN_H
#define SANDLOCK_CAPI_POLICYFN_H

#include <pthread.h>
#include <stdint.h>

#include "sandlock.h"

/* The event given to the callback; opaque in the public header and read
 * through the sandlock_event_* accessors. Every pointer points into the
 * request's own allocation (or at a static string). */
struct sandlock_event {
    uint32_t magic; /* SL_PFN_EVENT_MAGIC while valid */
    int32_t category;
    const char *syscall;
    const char *host; /* NULL when none */
    const char *const *argv;
    uint64_t size;
    uint64_t argc;
    int32_t pid;
    int32_t ppid;
    int32_t port;
    int32_t denied;
    int32_t held;
    int32_t pad_;
};

#define SL_PFN_EVENT_MAGIC 0x736c6576u /* "slev" */

/* States of a held request (the futex word its waiter sleeps on). */
enum {
    SL_PFN_QUEUED = 0,    /* in the queue */
    SL_PFN_RUNNING = 1,   /* the callback runs on it */
    SL_PFN_DONE = 2,      /* verdict set; the waiter frees it */
    SL_PFN_ABANDONED = 3, /* the waiter gave up; whoever holds it frees it */
    SL_PFN_CANCELLED = 4  /* the queue closed first; the waiter frees it */
};

/* One queued event. The strings the event points to follow the struct in
 * the same allocation. A non-held request is freed by the thread that ran
 * the callback on it (or by sl_pfn_close); a held one by its waiter, unless
 * the waiter abandoned it. */
struct sl_pfn_req {
    struct sl_pfn_req *next;
    uint32_t state; /* SL_PFN_*, for held requests */
    int32_t verdict;
    int32_t held;
    int32_t pad_;
    struct sandlock_event ev;
};

struct sl_pfn_queue {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct sl_pfn_req *head, *tail;
    uint64_t len, cap;
    int closed;
    int idle; /* threads waiting for a request */
    sandlock_policy_fn fn;
    void *user_data;
};

/* Per-thread state a ctx handle checks: in_call is 1 while the callback
 * runs on that thread. */
struct sl_pfn_lane {
    int in_call;
};

struct sl_pfn_queue *sl_pfn_queue_new(sandlock_policy_fn fn, void *user_data, uint64_t cap);
void sl_pfn_queue_free(struct sl_pfn_queue *q);

/* Queue a non-held request: 0, -1 when the queue is closed, -2 when full
 * (the caller then still owns r). */
int sl_pfn_post(struct sl_pfn_queue *q, struct sl_pfn_req *r);

/* Queue a held request: 0, or -1 (closed) / -2 (full) when it could not
 * be queued (the caller then still owns r). Wait for it with sl_pfn_wait. */
int sl_pfn_push_held(struct sl_pfn_queue *q, struct sl_pfn_req *r);

/* Wait up to timeout_ns for a queued held request. Returns SL_PFN_DONE
 * (*verdict set) or SL_PFN_CANCELLED, after which r has been freed, or
 * SL_PFN_QUEUED / SL_PFN_RUNNING on timeout. */
int sl_pfn_wait(struct sl_pfn_req *r, int64_t timeout_ns, int32_t *verdict);

/* Give up waiting for r. Returns SL_PFN_ABANDONED (r now belongs to the
 * queue), or SL_PFN_DONE (*verdict set) / SL_PFN_CANCELLED when it ended
 * just before; r is then freed. */
int sl_pfn_abandon(struct sl_pfn_req *r, int32_t *verdict);

/* Serve q on this thread until it is closed and empty: wait for a request,
 * run the callback on it, hand the verdict to its waiter. */
void sl_pfn_serve(struct sl_pfn_queue *q, sandlock_ctx_t *ctx, struct sl_pfn_lane *lane);

/* Close q to new requests: queued held requests are cancelled (their
 * waiters wake); queued observed events stay and are still delivered;
 * serving threads return once the queue is empty. */
void sl_pfn_close(struct sl_pfn_queue *q);

/* Requests queued. */
uint64_t sl_pfn_len(struct sl_pfn_queue *q);

/* Threads waiting for a request. */
int sl_pfn_idle(struct sl_pfn_queue *q);

/* Read lane->in_call. */
int sl_pfn_in_call(const struct sl_pfn_lane *lane);

/* Call a user_data destructor. */
void sl_pfn_call_free(sandlock_free_fn f, void *user_data);

/* Test helpers (not exported): a callback that counts its events in
 * *(uint64_t *)user_data and allows them, and one that returns the value
 * stored at *(int32_t *)user_data. */
int32_t sl_pfn_test_count(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *user_data);
int32_t sl_pfn_test_fixed(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *user_data);

#endif
