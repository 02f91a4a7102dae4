/*
 * header_test.c - include/sandlock.h is usable under strict settings.
 *
 * Compiled, never linked or run, as C11 with -pedantic and as C++17 (see
 * the Makefile's header-test target). It also pins the values that are
 * ABI: status codes and enum values may be appended to, never changed.
 */
#include "sandlock.h"
#include "sandlock.h" /* the include guard works */

#if defined(__cplusplus)
#define CT_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define CT_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif

CT_STATIC_ASSERT(SANDLOCK_VERSION_NUMBER == SANDLOCK_VERSION_MAJOR * 10000 +
                                                SANDLOCK_VERSION_MINOR * 100 +
                                                SANDLOCK_VERSION_PATCH,
                 "version number");
CT_STATIC_ASSERT(SANDLOCK_VERSION_CHECK(0, 1, 0), "version check");

CT_STATIC_ASSERT(SANDLOCK_OK == 0, "ABI");
CT_STATIC_ASSERT(SANDLOCK_EINVAL == -1, "ABI");
CT_STATIC_ASSERT(SANDLOCK_EPOLICY == -2, "ABI");
CT_STATIC_ASSERT(SANDLOCK_ENOTSUP == -3, "ABI");
CT_STATIC_ASSERT(SANDLOCK_ESPAWN == -4, "ABI");
CT_STATIC_ASSERT(SANDLOCK_ECONFINE == -5, "ABI");
CT_STATIC_ASSERT(SANDLOCK_ESTATE == -6, "ABI");
CT_STATIC_ASSERT(SANDLOCK_ETIMEOUT == -7, "ABI");
CT_STATIC_ASSERT(SANDLOCK_EOS == -8, "ABI");
CT_STATIC_ASSERT(SANDLOCK_ENOMEM == -9, "ABI");
CT_STATIC_ASSERT(SANDLOCK_EINTERNAL == -10, "ABI");
CT_STATIC_ASSERT(SANDLOCK_ENOTIMPL == -11, "ABI");

CT_STATIC_ASSERT(SANDLOCK_STDIN == 0 && SANDLOCK_STDOUT == 1 && SANDLOCK_STDERR == 2, "ABI");
CT_STATIC_ASSERT(SANDLOCK_STDIO_INHERIT == 0 && SANDLOCK_STDIO_CAPTURE == 1 &&
                     SANDLOCK_STDIO_NULL == 2 && SANDLOCK_STDIO_FD == 3,
                 "ABI");
CT_STATIC_ASSERT(SANDLOCK_FS_ISOLATION_NONE == 0 && SANDLOCK_FS_ISOLATION_OVERLAYFS == 1 &&
                     SANDLOCK_FS_ISOLATION_BRANCHFS == 2,
                 "ABI");
CT_STATIC_ASSERT(SANDLOCK_BRANCH_COMMIT == 0 && SANDLOCK_BRANCH_ABORT == 1 &&
                     SANDLOCK_BRANCH_KEEP == 2,
                 "ABI");
CT_STATIC_ASSERT(SANDLOCK_REASON_EXITED == 0 && SANDLOCK_REASON_SIGNALED == 1 &&
                     SANDLOCK_REASON_KILLED == 2 && SANDLOCK_REASON_TIMEOUT == 3 &&
                     SANDLOCK_REASON_MEMORY_LIMIT == 4,
                 "ABI");
CT_STATIC_ASSERT(SANDLOCK_VERDICT_ALLOW == 0 && SANDLOCK_VERDICT_DENY == -1 &&
                     SANDLOCK_VERDICT_AUDIT == -2,
                 "ABI");

/* SANDLOCK_DEPRECATED and SANDLOCK_API combine on a declaration. */
SANDLOCK_DEPRECATED("use header_test_signatures") SANDLOCK_API int header_test_old(void);

/* The callback types have the documented shapes. */
static int32_t ht_policy_fn(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *ud)
{
    (void)ev;
    (void)ctx;
    (void)ud;
    return SANDLOCK_VERDICT_ALLOW;
}
static void ht_free(void *ud)
{
    (void)ud;
}

/* Signatures of a few functions whose shape bindings rely on. */
int header_test_signatures(void);
int header_test_signatures(void)
{
    int (*policy_new)(sandlock_policy_t **) = sandlock_policy_new;
    int (*spawn)(const sandlock_policy_t *, const char *const *, const sandlock_spawn_options_t *,
                 sandlock_sandbox_t **) = sandlock_spawn;
    int (*wait)(sandlock_sandbox_t *, int64_t, sandlock_result_t **) = sandlock_sandbox_wait;
    int (*run)(const sandlock_policy_t *, const char *const *, int64_t, sandlock_result_t **) =
        sandlock_run;
    const uint8_t *(*out)(const sandlock_result_t *, size_t *) = sandlock_result_stdout;
    int (*set_fn)(sandlock_policy_t *, sandlock_policy_fn, void *, sandlock_free_fn) =
        sandlock_set_policy_fn;
    const char *(*last)(void) = sandlock_last_error;
    sandlock_policy_fn f = ht_policy_fn;
    sandlock_free_fn d = ht_free;
    (void)policy_new;
    (void)spawn;
    (void)wait;
    (void)run;
    (void)out;
    (void)set_fn;
    (void)last;
    (void)f;
    (void)d;
    return 0;
}
