/*
 * test_run.c - running commands: output, confinement, timeouts, lifecycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

void test_run_echo(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sh", "-c", "echo out; echo err >&2; exit 7", NULL};
    sandlock_result_t *r = run_ok(p, argv, 0);
    size_t n = 99;
    const uint8_t *out = sandlock_result_stdout(r, &n);
    CHECK(out != NULL && n == 4 && memcmp(out, "out\n", 4) == 0, "stdout %zu bytes: %s", n,
          out_str(r));
    CHECK(out != NULL && out[n] == '\0', "stdout not NUL-terminated");
    CHECK(strcmp(err_str(r), "err\n") == 0, "stderr: %s", err_str(r));
    CHECK(sandlock_result_exit_code(r) == 7, "exit code %d", sandlock_result_exit_code(r));
    CHECK(sandlock_result_signal(r) == 0, "signal %d", sandlock_result_signal(r));
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_EXITED, "reason %d",
          sandlock_result_reason(r));
    CHECK(sandlock_result_exec_error(r) == NULL, "exec error %s", sandlock_result_exec_error(r));
    CHECK(sandlock_result_duration_ns(r) > 0, "duration 0");
    CHECK(sandlock_last_error()[0] == '\0', "message after success: %s", sandlock_last_error());
    sandlock_result_free(r);

    /* A command looked up in PATH. */
    const char *const argv2[] = {"echo", "path", "lookup", NULL};
    r = run_ok(p, argv2, 0);
    CHECK(strcmp(out_str(r), "path lookup\n") == 0 && sandlock_result_exit_code(r) == 0,
          "echo via PATH: exit %d, out %s, err %s", sandlock_result_exit_code(r), out_str(r),
          err_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

void test_capture_1mib(void)
{
    enum { SIZE = 1 << 20 };
    sandlock_policy_t *p = base_policy();
    /* 1 MiB through a pipe is 16 times its default capacity: this only
     * finishes if the output is drained while the command runs. */
    const char *const argv[] = {"/bin/sh", "-c", "yes 0123456789abcde | head -c 1048576", NULL};
    sandlock_result_t *r = run_ok(p, argv, 60000);
    size_t n = 0;
    const uint8_t *out = sandlock_result_stdout(r, &n);
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_EXITED && sandlock_result_exit_code(r) == 0,
          "reason %d exit %d stderr %s", sandlock_result_reason(r), sandlock_result_exit_code(r),
          err_str(r));
    CHECK(n == SIZE, "captured %zu bytes, want %d", n, SIZE);
    if (out != NULL && n == SIZE) {
        static const char line[] = "0123456789abcde\n";
        size_t bad = SIZE;
        for (size_t i = 0; i < n; i++) {
            if (out[i] != (uint8_t)line[i % 16]) {
                bad = i;
                break;
            }
        }
        CHECK(bad == SIZE, "byte %zu differs", bad);
    }
    sandlock_result_free(r);

    /* The same on stderr, through spawn with capture options. */
    sandlock_spawn_options_t *o = NULL;
    sandlock_sandbox_t *sb = NULL;
    const char *const argv2[] = {"/bin/sh", "-c", "yes | head -c 1048576 >&2", NULL};
    CHECK_RC(sandlock_spawn_options_new(&o), SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDERR, SANDLOCK_STDIO_CAPTURE, -1),
             SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDIN, SANDLOCK_STDIO_NULL, -1),
             SANDLOCK_OK);
    CHECK_RC(sandlock_spawn(p, argv2, o, &sb), SANDLOCK_OK);
    r = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, 60000, &r), SANDLOCK_OK);
    if (r != NULL) {
        n = 0;
        sandlock_result_stderr(r, &n);
        CHECK(n == SIZE, "captured %zu bytes of stderr, want %d", n, SIZE);
        sandlock_result_free(r);
    }
    sandlock_sandbox_free(sb);

    /* An output limit keeps the first bytes and still lets it finish. */
    CHECK_RC(sandlock_spawn_options_set_output_limit(o, 1000), SANDLOCK_OK);
    sb = NULL;
    CHECK_RC(sandlock_spawn(p, argv2, o, &sb), SANDLOCK_OK);
    r = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, 60000, &r), SANDLOCK_OK);
    if (r != NULL) {
        n = 0;
        sandlock_result_stderr(r, &n);
        CHECK(n == 1000, "captured %zu bytes with a 1000-byte limit", n);
        CHECK(sandlock_result_exit_code(r) == 0, "exit %d with an output limit",
              sandlock_result_exit_code(r));
        sandlock_result_free(r);
    }
    sandlock_sandbox_free(sb);
    sandlock_spawn_options_free(o);
    sandlock_policy_free(p);
}

/* The same read fails without a rule and succeeds with one. */
void test_denied_read_and_control(void)
{
    char *dir = make_temp_dir();
    char path[4096];
    static const char secret[] = "the secret\n";
    snprintf(path, sizeof path, "%s/secret.txt", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "cannot create %s", path);
    if (f == NULL) {
        free(dir);
        return;
    }
    fputs(secret, f);
    fclose(f);

    const char *const argv[] = {"/bin/cat", path, NULL};
    sandlock_policy_t *p = base_policy();
    sandlock_result_t *r = run_ok(p, argv, 0);
    CHECK(sandlock_result_exit_code(r) != 0, "cat of an unlisted file succeeded: %s", out_str(r));
    CHECK(strstr(out_str(r), "secret") == NULL, "the secret leaked: %s", out_str(r));
    CHECK(strstr(err_str(r), "Permission denied") != NULL, "stderr: %s", err_str(r));
    sandlock_result_free(r);

    /* Control: with the directory readable the same command works. */
    CHECK_RC(sandlock_policy_add_fs_readable(p, dir), SANDLOCK_OK);
    r = run_ok(p, argv, 0);
    CHECK(sandlock_result_exit_code(r) == 0 && strcmp(out_str(r), secret) == 0,
          "control: exit %d, out %s, err %s", sandlock_result_exit_code(r), out_str(r), err_str(r));
    sandlock_result_free(r);

    /* Readable is not writable. */
    const char *const write_argv[] = {"/bin/sh", "-c", "echo x > \"$1\"/new", "sh", dir, NULL};
    r = run_ok(p, write_argv, 0);
    CHECK(sandlock_result_exit_code(r) != 0, "write into a read-only tree succeeded");
    sandlock_result_free(r);
    CHECK_RC(sandlock_policy_add_fs_writable(p, dir), SANDLOCK_OK);
    r = run_ok(p, write_argv, 0);
    CHECK(sandlock_result_exit_code(r) == 0, "control write: exit %d, err %s",
          sandlock_result_exit_code(r), err_str(r));
    sandlock_result_free(r);

    /* fs_denied carves the file out again. */
    CHECK_RC(sandlock_policy_add_fs_denied(p, path), SANDLOCK_OK);
    r = run_ok(p, argv, 0);
    CHECK(sandlock_result_exit_code(r) != 0 && strstr(out_str(r), "secret") == NULL,
          "fs_denied file was read: exit %d, out %s", sandlock_result_exit_code(r), out_str(r));
    sandlock_result_free(r);

    sandlock_policy_free(p);
    remove_tree(dir);
    free(dir);
}

void test_exec_error(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/nonexistent/command", NULL};
    sandlock_result_t *r = run_ok(p, argv, 0);
    CHECK(sandlock_result_exit_code(r) == 127, "exit %d", sandlock_result_exit_code(r));
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_EXITED, "reason %d",
          sandlock_result_reason(r));
    const char *e = sandlock_result_exec_error(r);
    CHECK(e != NULL && strstr(e, "/nonexistent/command") != NULL, "exec error: %s",
          e ? e : "(null)");
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

void test_run_timeout(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sleep", "30", NULL};
    long long t0 = now_ms();
    sandlock_result_t *r = run_ok(p, argv, 200);
    long long took = now_ms() - t0;
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_TIMEOUT, "reason %d",
          sandlock_result_reason(r));
    CHECK(sandlock_result_signal(r) == SIGKILL, "signal %d", sandlock_result_signal(r));
    CHECK(sandlock_result_exit_code(r) == -1, "exit code %d", sandlock_result_exit_code(r));
    CHECK(took >= 150 && took < 10000, "took %lld ms for a 200 ms timeout", took);
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

static sandlock_sandbox_t *spawn_quiet(const sandlock_policy_t *p, const char *const *argv,
                                       int64_t timeout_ms)
{
    sandlock_spawn_options_t *o = NULL;
    sandlock_sandbox_t *sb = NULL;
    CHECK_RC(sandlock_spawn_options_new(&o), SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDIN, SANDLOCK_STDIO_NULL, -1),
             SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_CAPTURE, -1),
             SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDERR, SANDLOCK_STDIO_CAPTURE, -1),
             SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_timeout_ms(o, timeout_ms), SANDLOCK_OK);
    CHECK_RC(sandlock_spawn(p, argv, o, &sb), SANDLOCK_OK);
    sandlock_spawn_options_free(o);
    return sb;
}

void test_wait_timeout_keeps_running(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sleep", "30", NULL};
    sandlock_sandbox_t *sb = spawn_quiet(p, argv, 0);
    sandlock_result_t *r = (sandlock_result_t *)&r;
    if (sb == NULL) {
        sandlock_policy_free(p);
        return;
    }
    int pid = sandlock_sandbox_pid(sb);
    CHECK(pid > 0, "pid %d", pid);
    CHECK_ERR(sandlock_sandbox_wait(sb, 100, &r), SANDLOCK_ETIMEOUT, "sandlock_sandbox_wait",
              "still running");
    CHECK(r == NULL, "timed-out wait left *out = %p", (void *)r);
    CHECK(kill(pid, 0) == 0, "the sandbox died after a wait timeout");
    CHECK_ERR(sandlock_sandbox_wait(sb, 0, &r), SANDLOCK_ETIMEOUT, "sandlock_sandbox_wait",
              "still running");
    CHECK(kill(pid, 0) == 0, "the sandbox died after a 0 ms wait");

    CHECK_RC(sandlock_sandbox_kill(sb), SANDLOCK_OK);
    r = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, -1, &r), SANDLOCK_OK);
    if (r != NULL) {
        CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_KILLED, "reason %d",
              sandlock_result_reason(r));
        CHECK(sandlock_result_signal(r) == SIGKILL, "signal %d", sandlock_result_signal(r));
        sandlock_result_free(r);
    }
    /* Ended: lifecycle calls are ESTATE, wait still works. */
    CHECK_ERR(sandlock_sandbox_kill(sb), SANDLOCK_ESTATE, "sandlock_sandbox_kill", "not running");
    CHECK_ERR(sandlock_sandbox_pause(sb), SANDLOCK_ESTATE, "sandlock_sandbox_pause", "not running");
    CHECK_ERR(sandlock_sandbox_resume(sb), SANDLOCK_ESTATE, "sandlock_sandbox_resume",
              "not running");
    r = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, 0, &r), SANDLOCK_OK);
    sandlock_result_free(r);
    sandlock_sandbox_free(sb);
    sandlock_policy_free(p);
}

void test_spawn_options_timeout(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sh", "-c", "echo started; exec sleep 30", NULL};
    sandlock_sandbox_t *sb = spawn_quiet(p, argv, 300);
    sandlock_result_t *r = NULL;
    if (sb != NULL) {
        CHECK_RC(sandlock_sandbox_wait(sb, 20000, &r), SANDLOCK_OK);
        if (r != NULL) {
            CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_TIMEOUT, "reason %d",
                  sandlock_result_reason(r));
            CHECK(strcmp(out_str(r), "started\n") == 0, "output before the timeout: %s",
                  out_str(r));
            sandlock_result_free(r);
        }
        sandlock_sandbox_free(sb);
    }
    sandlock_policy_free(p);
}

void test_pause_resume(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sleep", "30", NULL};
    sandlock_sandbox_t *sb = spawn_quiet(p, argv, 0);
    if (sb == NULL) {
        sandlock_policy_free(p);
        return;
    }
    int pid = sandlock_sandbox_pid(sb);
    CHECK_RC(sandlock_sandbox_pause(sb), SANDLOCK_OK);
    char st = '?';
    for (int i = 0; i < 100 && (st = proc_state(pid)) != 'T'; i++) {
        usleep(10000);
    }
    CHECK(st == 'T', "state after pause: %c", st);
    CHECK_RC(sandlock_sandbox_resume(sb), SANDLOCK_OK);
    for (int i = 0; i < 100 && (st = proc_state(pid)) == 'T'; i++) {
        usleep(10000);
    }
    CHECK(st == 'S' || st == 'R', "state after resume: %c", st);
    /* A paused sandbox can still be killed. */
    CHECK_RC(sandlock_sandbox_pause(sb), SANDLOCK_OK);
    CHECK_RC(sandlock_sandbox_kill(sb), SANDLOCK_OK);
    sandlock_result_t *r = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, 10000, &r), SANDLOCK_OK);
    if (r != NULL) {
        CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_KILLED, "reason %d",
              sandlock_result_reason(r));
        sandlock_result_free(r);
    }
    sandlock_sandbox_free(sb);
    sandlock_policy_free(p);
}

void test_stdio_modes(void)
{
    sandlock_policy_t *p = base_policy();
    sandlock_spawn_options_t *o = NULL;
    sandlock_sandbox_t *sb = NULL;
    sandlock_result_t *r = NULL;
    int out[2], in[2];
    char buf[64] = {0};

    CHECK(pipe(out) == 0 && pipe(in) == 0, "pipe: %s", strerror(errno));
    /* stdin from the caller's pipe, stdout to another, stderr to /dev/null. */
    CHECK(write(in[1], "from the host\n", 14) == 14, "write");
    close(in[1]);
    CHECK_RC(sandlock_spawn_options_new(&o), SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDIN, SANDLOCK_STDIO_FD, in[0]),
             SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_FD, out[1]),
             SANDLOCK_OK);
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDERR, SANDLOCK_STDIO_NULL, -1),
             SANDLOCK_OK);
    const char *const argv[] = {"/bin/sh", "-c", "read line; echo \"got $line\"; echo noise >&2",
                                NULL};
    CHECK_RC(sandlock_spawn(p, argv, o, &sb), SANDLOCK_OK);
    /* The caller still owns its descriptors. */
    CHECK(fcntl(in[0], F_GETFD) != -1 && fcntl(out[1], F_GETFD) != -1, "caller's fds were closed");
    close(in[0]);
    close(out[1]);
    CHECK_RC(sandlock_sandbox_wait(sb, 10000, &r), SANDLOCK_OK);
    ssize_t n = read(out[0], buf, sizeof buf - 1);
    CHECK(n > 0 && strcmp(buf, "got from the host\n") == 0, "read %zd: %s", n, buf);
    close(out[0]);
    if (r != NULL) {
        size_t len = 99;
        const uint8_t *s = sandlock_result_stdout(r, &len);
        CHECK(s != NULL && len == 0 && s[0] == '\0', "uncaptured stdout: %p len %zu",
              (const void *)s, len);
        s = sandlock_result_stderr(r, &len);
        CHECK(s != NULL && len == 0, "stderr on /dev/null: len %zu", len);
        CHECK(sandlock_result_exit_code(r) == 0, "exit %d", sandlock_result_exit_code(r));
        sandlock_result_free(r);
    }
    sandlock_sandbox_free(sb);

    /* NULL options: all inherited. /bin/true prints nothing. */
    const char *const tr[] = {"/bin/true", NULL};
    sb = NULL;
    CHECK_RC(sandlock_spawn(p, tr, NULL, &sb), SANDLOCK_OK);
    r = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, -1, &r), SANDLOCK_OK);
    CHECK(r != NULL && sandlock_result_exit_code(r) == 0, "true with inherited stdio failed");
    sandlock_result_free(r);
    sandlock_sandbox_free(sb);
    sandlock_spawn_options_free(o);
    sandlock_policy_free(p);
}

void test_spawn_policy_errors(void)
{
    sandlock_policy_t *p = base_policy();
    sandlock_sandbox_t *sb = NULL;
    const char *const argv[] = {"/bin/true", NULL};

    /* A listed path that does not exist. */
    CHECK_RC(sandlock_policy_add_fs_readable(p, "/nonexistent/sandlock-ctest"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_validate(p), SANDLOCK_OK);
    CHECK_ERR(sandlock_spawn(p, argv, NULL, &sb), SANDLOCK_EPOLICY, "sandlock_spawn",
              "/nonexistent/sandlock-ctest");
    CHECK(sb == NULL, "failed spawn left a sandbox");
    CHECK(sandlock_last_errno() == ENOENT, "errno %d, want ENOENT", sandlock_last_errno());
    sandlock_policy_free(p);

    /* A cwd that does not exist. */
    p = base_policy();
    CHECK_RC(sandlock_policy_set_cwd(p, "/nonexistent/cwd"), SANDLOCK_OK);
    CHECK_ERR(sandlock_spawn(p, argv, NULL, &sb), SANDLOCK_EPOLICY, "sandlock_spawn", "cwd");
    sandlock_policy_free(p);

    /* An unknown syscall name in the deny list. */
    p = base_policy();
    CHECK_RC(sandlock_policy_add_deny_syscalls(p, "no_such_syscall"), SANDLOCK_OK);
    CHECK_ERR(sandlock_spawn(p, argv, NULL, &sb), SANDLOCK_EPOLICY, "sandlock_spawn",
              "no_such_syscall");
    sandlock_policy_free(p);
}

void test_wait_twice_and_result_outlives_sandbox(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/echo", "twice", NULL};
    sandlock_sandbox_t *sb = spawn_quiet(p, argv, 0);
    sandlock_result_t *r1 = NULL, *r2 = NULL;
    CHECK_RC(sandlock_sandbox_wait(sb, -1, &r1), SANDLOCK_OK);
    CHECK_RC(sandlock_sandbox_wait(sb, -1, &r2), SANDLOCK_OK);
    CHECK(r1 != NULL && r2 != NULL && r1 != r2, "two waits gave %p and %p", (void *)r1, (void *)r2);
    sandlock_sandbox_free(sb);
    sandlock_policy_free(p);
    if (r1 != NULL && r2 != NULL) {
        CHECK(strcmp(out_str(r1), "twice\n") == 0 && strcmp(out_str(r2), "twice\n") == 0,
              "outputs after free: %s / %s", out_str(r1), out_str(r2));
        sandlock_result_free(r1);
        /* r2 is independent of r1. */
        CHECK(strcmp(out_str(r2), "twice\n") == 0, "r2 after freeing r1: %s", out_str(r2));
        sandlock_result_free(r2);
    }
}

void test_free_kills_running(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sh", "-c", "sleep 30 & sleep 30; wait", NULL};
    sandlock_sandbox_t *sb = spawn_quiet(p, argv, 0);
    if (sb == NULL) {
        sandlock_policy_free(p);
        return;
    }
    int pid = sandlock_sandbox_pid(sb);
    usleep(100000);
    long long t0 = now_ms();
    sandlock_sandbox_free(sb);
    CHECK(now_ms() - t0 < 5000, "free took %lld ms", now_ms() - t0);
    /* Reaped, not merely killed: the pid is gone. */
    CHECK(kill(pid, 0) == -1 && errno == ESRCH, "pid %d still exists after free", pid);
    sandlock_policy_free(p);
}

void test_set_max_processes(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sleep", "30", NULL};
    sandlock_sandbox_t *sb = spawn_quiet(p, argv, 0);
    if (sb != NULL) {
        CHECK_RC(sandlock_sandbox_set_max_processes(sb, 3), SANDLOCK_OK);
        CHECK_RC(sandlock_sandbox_kill(sb), SANDLOCK_OK);
        sandlock_result_t *r = NULL;
        CHECK_RC(sandlock_sandbox_wait(sb, -1, &r), SANDLOCK_OK);
        sandlock_result_free(r);
        CHECK_ERR(sandlock_sandbox_set_max_processes(sb, 3), SANDLOCK_ESTATE,
                  "sandlock_sandbox_set_max_processes", "ended");
        sandlock_sandbox_free(sb);
    }
    /* max_processes 0: no accounting to change. */
    CHECK_RC(sandlock_policy_set_max_processes(p, 0), SANDLOCK_OK);
    sb = spawn_quiet(p, argv, 0);
    if (sb != NULL) {
        CHECK_ERR(sandlock_sandbox_set_max_processes(sb, 3), SANDLOCK_ESTATE,
                  "sandlock_sandbox_set_max_processes", "max_processes 0");
        sandlock_sandbox_free(sb);
    }
    sandlock_policy_free(p);
}

void test_env(void)
{
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/sh", "-c", "echo \"$SANDLOCK_CTEST_VAR|${HOME-unset}\"",
                                NULL};
    CHECK_RC(sandlock_policy_set_env(p, "SANDLOCK_CTEST_VAR", "first"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_env(p, "SANDLOCK_CTEST_VAR", "second"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_clean_env(p, 1), SANDLOCK_OK);
    sandlock_result_t *r = run_ok(p, argv, 0);
    CHECK(strcmp(out_str(r), "second|unset\n") == 0, "env output: %s (stderr %s)", out_str(r),
          err_str(r));
    sandlock_result_free(r);
    CHECK_RC(sandlock_policy_clear_env(p), SANDLOCK_OK);
    r = run_ok(p, argv, 0);
    CHECK(strcmp(out_str(r), "|unset\n") == 0, "env after clear: %s", out_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
}
