/*
 * harness.h - a tiny test harness for the C ABI tests.
 *
 * A test is a void function registered in main.c's table. CHECK records a
 * failed condition with its location and goes on; the runner prints one
 * line per test and, last, "c-tests: N passed, M failed" (the line CI
 * reads), and exits non-zero when a test failed.
 */
#ifndef SANDLOCK_CTEST_HARNESS_H
#define SANDLOCK_CTEST_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "sandlock.h"

/* Failures of the test that is running; reset by the runner. */
extern int ct_failures;
/* Checks made in the whole run, for the summary. */
extern long ct_checks;

void ct_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Note a line of information under the running test. */
void ct_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        ct_checks++;                                                                               \
        if (!(cond)) {                                                                             \
            ct_fail(__FILE__, __LINE__, __VA_ARGS__);                                              \
        }                                                                                          \
    } while (0)

/* CHECK_RC: call returned want; on failure also show the last error. */
#define CHECK_RC(call, want)                                                                       \
    do {                                                                                           \
        int ct_rc_ = (call);                                                                       \
        ct_checks++;                                                                               \
        if (ct_rc_ != (want)) {                                                                    \
            ct_fail(__FILE__, __LINE__, "%s = %d (%s), want %d; last error: %s", #call, ct_rc_,    \
                    sandlock_strerror(ct_rc_), (int)(want), sandlock_last_error());                \
        }                                                                                          \
    } while (0)

/* CHECK_ERR: call returned code and the last error starts with
 * "fn: " and contains fragment. */
#define CHECK_ERR(call, code, fn, fragment)                                                        \
    ct_check_err((call), (code), (fn), (fragment), #call, __FILE__, __LINE__)

void ct_check_err(int rc, int code, const char *fn, const char *fragment, const char *text,
                  const char *file, int line);

/* CHECK_MSG: the last error starts with "fn: " and contains fragment. */
void ct_check_msg(const char *fn, const char *fragment, const char *text, const char *file,
                  int line);
#define CHECK_MSG(fn, fragment, what) ct_check_msg((fn), (fragment), (what), __FILE__, __LINE__)

/* Shared fixtures (fixtures.c). */

/* A policy that can run the system's commands: /usr, /etc and the /bin,
 * /lib, /lib64 that exist readable. Aborts the run if it cannot be made. */
sandlock_policy_t *base_policy(void);

/* Run argv under p with sandlock_run(); aborts on a non-OK status. */
sandlock_result_t *run_ok(const sandlock_policy_t *p, const char *const *argv, int64_t timeout_ms);

/* The captured stdout of r as a C string (borrowed). */
const char *out_str(const sandlock_result_t *r);
const char *err_str(const sandlock_result_t *r);

/* A fresh private directory under $TMPDIR (or /tmp); removed by
 * remove_tree(). */
char *make_temp_dir(void);
void remove_tree(const char *dir);

/* Process state letter of pid from /proc/pid/stat, or '?'. */
char proc_state(int pid);

/* Milliseconds on the monotonic clock. */
long long now_ms(void);

/* Tests, by file. */
void test_version(void);
void test_strerror(void);
void test_last_error_per_thread(void);
void test_policy_defaults_and_clone(void);
void test_policy_every_setter(void);
void test_policy_unimplemented_reported(void);
void test_port_mappings(void);
void test_policy_invalid_reported(void);
void test_bad_args_policy(void);
void test_bad_args_options(void);
void test_bad_args_sandbox(void);
void test_bad_args_result(void);
void test_bad_args_misc(void);
void test_wrong_handle_types(void);
void test_run_echo(void);
void test_capture_1mib(void);
void test_denied_read_and_control(void);
void test_exec_error(void);
void test_run_timeout(void);
void test_wait_timeout_keeps_running(void);
void test_spawn_options_timeout(void);
void test_pause_resume(void);
void test_stdio_modes(void);
void test_spawn_policy_errors(void);
void test_wait_twice_and_result_outlives_sandbox(void);
void test_free_kills_running(void);
void test_set_max_processes(void);
void test_memory_limit_reason(void);
void test_env(void);
void test_confine_enotsup(void);
void test_landlock_abi(void);
void test_policy_fn_failed_registration(void);
void test_policy_fn_register(void);
void test_policy_fn_events(void);
void test_policy_fn_deny_connect(void);
void test_policy_fn_block_binary(void);
void test_policy_fn_restrict_network(void);
void test_policy_fn_restrict_max_processes(void);
void test_policy_fn_slow_callback(void);
void test_policy_fn_fails_closed(void);
void test_policy_fn_ctx_misuse(void);
void test_policy_fn_10k_events(void);
void test_policy_fn_observed_delivered(void);
void test_policy_fn_deny_path(void);
void test_policy_fn_threads_reused(void);
void test_policy_shared_across_threads(void);
void test_leak_sequential(void);
void test_leak_concurrent(void);

#endif
