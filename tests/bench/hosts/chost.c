/*
 * chost - the C host of the spawn benchmark (tests/bench/spawn).
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
 *   chost DIR...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sandlock.h>

extern char **environ;

static const char *const true_argv[] = {"/bin/true", NULL};
static const char *const echo_argv[] = {"/bin/echo", "hi", NULL};
static const char echo_want[] = "hi\n";

static sandlock_policy_t *policy;
static sandlock_spawn_options_t *opts_null, *opts_capture;

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
        (rc = sandlock_spawn_options_new(&opts_capture)) != SANDLOCK_OK) {
        fail("sandlock_spawn_options_new", rc);
        fprintf(stderr, "chost: %s\n", errbuf);
        return 2;
    }
    for (int s = SANDLOCK_STDIN; s <= SANDLOCK_STDERR; s++) {
        int capture_mode = s == SANDLOCK_STDOUT ? SANDLOCK_STDIO_CAPTURE : SANDLOCK_STDIO_NULL;
        if ((rc = sandlock_spawn_options_set_stdio(opts_null, s, SANDLOCK_STDIO_NULL, -1)) != SANDLOCK_OK ||
            (rc = sandlock_spawn_options_set_stdio(opts_capture, s, capture_mode, -1)) != SANDLOCK_OK) {
            fail("sandlock_spawn_options_set_stdio", rc);
            fprintf(stderr, "chost: %s\n", errbuf);
            return 2;
        }
    }

    setvbuf(stdout, NULL, _IOLBF, 0);
    char line[128];
    while (fgets(line, sizeof line, stdin) != NULL) {
        line[strcspn(line, "\n")] = 0;
        int bare, echo;
        if (strcmp(line, "quit") == 0) {
            break;
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
    sandlock_policy_free(policy);
    return 0;
}
