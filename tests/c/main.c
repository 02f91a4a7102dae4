/*
 * main.c - runner of the C ABI tests (see harness.h).
 *
 *   sandlock-ctest [NAME]...   run every test, or only those named
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

int ct_failures;
long ct_checks;

void ct_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    ct_failures++;
    fprintf(stdout, "    %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void ct_note(const char *fmt, ...)
{
    va_list ap;
    fputs("    # ", stdout);
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

void ct_check_msg(const char *fn, const char *fragment, const char *text, const char *file,
                  int line)
{
    ct_checks++;
    const char *msg = sandlock_last_error();
    size_t n = strlen(fn);
    if (msg == NULL) {
        ct_fail(file, line, "%s: sandlock_last_error() is NULL", text);
        return;
    }
    if (strncmp(msg, fn, n) != 0 || strncmp(msg + n, ": ", 2) != 0) {
        ct_fail(file, line, "%s: last error \"%s\" does not start with \"%s: \"", text, msg, fn);
    }
    if (fragment != NULL && strstr(msg, fragment) == NULL) {
        ct_fail(file, line, "%s: last error \"%s\" does not mention \"%s\"", text, msg, fragment);
    }
}

void ct_check_err(int rc, int code, const char *fn, const char *fragment, const char *text,
                  const char *file, int line)
{
    ct_checks++;
    if (rc != code) {
        ct_fail(file, line, "%s = %d (%s), want %d (%s); last error: %s", text, rc,
                sandlock_strerror(rc), code, sandlock_strerror(code), sandlock_last_error());
        return;
    }
    ct_check_msg(fn, fragment, text, file, line);
}

struct ct_test {
    const char *name;
    void (*fn)(void);
};

#define T(name)                                                                                    \
    {                                                                                              \
#name, name                                                                                \
    }
static const struct ct_test tests[] = {
    T(test_version),
    T(test_strerror),
    T(test_last_error_per_thread),
    T(test_policy_defaults_and_clone),
    T(test_policy_every_setter),
    T(test_policy_unimplemented_reported),
    T(test_policy_invalid_reported),
    T(test_bad_args_policy),
    T(test_bad_args_options),
    T(test_bad_args_sandbox),
    T(test_bad_args_result),
    T(test_bad_args_misc),
    T(test_wrong_handle_types),
    T(test_run_echo),
    T(test_capture_1mib),
    T(test_denied_read_and_control),
    T(test_exec_error),
    T(test_run_timeout),
    T(test_wait_timeout_keeps_running),
    T(test_spawn_options_timeout),
    T(test_pause_resume),
    T(test_stdio_modes),
    T(test_spawn_policy_errors),
    T(test_wait_twice_and_result_outlives_sandbox),
    T(test_free_kills_running),
    T(test_set_max_processes),
    T(test_memory_limit_reason),
    T(test_env),
    T(test_confine_enotsup),
    T(test_landlock_abi),
    T(test_policy_fn_failed_registration),
    T(test_policy_fn_register),
    T(test_policy_fn_events),
    T(test_policy_fn_deny_connect),
    T(test_policy_fn_block_binary),
    T(test_policy_fn_restrict_network),
    T(test_policy_fn_restrict_max_processes),
    T(test_policy_fn_slow_callback),
    T(test_policy_fn_fails_closed),
    T(test_policy_fn_ctx_misuse),
    T(test_policy_fn_deny_path),
    T(test_policy_fn_threads_reused),
    T(test_policy_fn_10k_events),
    T(test_policy_fn_observed_delivered),
    T(test_policy_shared_across_threads),
    T(test_port_mappings),
    /* Leak tests last: they compare against a baseline of the whole run. */
    T(test_leak_sequential),
    T(test_leak_concurrent),
};

static int selected(const char *name, int argc, char **argv)
{
    if (argc < 2) {
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], name) == 0 ||
            (strncmp(name, "test_", 5) == 0 && strcmp(argv[i], name + 5) == 0)) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("# libsandlock %s (header %s), Landlock ABI %d, uid %d\n", sandlock_version_string(),
           SANDLOCK_VERSION_STRING, sandlock_landlock_abi_version(), (int)getuid());
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (!selected(tests[i].name, argc, argv)) {
            continue;
        }
        long long t0 = now_ms();
        ct_failures = 0;
        printf("RUN  %s\n", tests[i].name);
        tests[i].fn();
        if (ct_failures == 0) {
            passed++;
            printf("ok   %s (%lld ms)\n", tests[i].name, now_ms() - t0);
        } else {
            failed++;
            printf("FAIL %s (%d failed checks)\n", tests[i].name, ct_failures);
        }
    }
    printf("# %ld checks\n", ct_checks);
    printf("c-tests: %d passed, %d failed\n", passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}
