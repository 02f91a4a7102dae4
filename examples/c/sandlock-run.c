/*
 * sandlock-run - run a command in a sandbox and report how it ended.
 *
 *   sandlock-run [-r PATH]... [-w PATH]... [-t MS] -- COMMAND [ARG]...
 *
 * The command may read /usr, /etc, /bin, /lib and /lib64 (those that
 * exist) plus every -r PATH, and write every -w PATH; nothing else. Its
 * output is captured, then printed with its exit status. sandlock-run exits
 * with the command's exit status (128 + signal if it was killed).
 *
 * Build it against an installed libsandlock:
 *   cc sandlock-run.c $(pkg-config --cflags --libs sandlock) -o sandlock-run
 */
#define _POSIX_C_SOURCE 200809L /* getopt, access */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sandlock.h>

/* fail prints what went wrong with a sandlock call and exits. */
static void fail(const char *what, int rc)
{
    fprintf(stderr, "sandlock-run: %s: %s\n  %s\n", what, sandlock_strerror(rc),
            sandlock_last_error());
    exit(125);
}

static void usage(void)
{
    fprintf(stderr, "usage: sandlock-run [-r PATH]... [-w PATH]... [-t MS] -- COMMAND [ARG]...\n");
    exit(2);
}

int main(int argc, char **argv)
{
    static const char *const system_dirs[] = {"/usr", "/etc", "/bin", "/lib", "/lib64"};
    sandlock_policy_t *policy = NULL;
    sandlock_result_t *result = NULL;
    long timeout_ms = 0;
    int rc, i, opt;

    /* Refuse a library of another major version than this program's. */
    if (sandlock_version_number() / 10000 != SANDLOCK_VERSION_MAJOR) {
        fprintf(stderr, "sandlock-run: built for libsandlock %s, found %s\n",
                SANDLOCK_VERSION_STRING, sandlock_version_string());
        return 125;
    }

    if ((rc = sandlock_policy_new(&policy)) != SANDLOCK_OK) {
        fail("sandlock_policy_new", rc);
    }
    for (i = 0; i < (int)(sizeof system_dirs / sizeof system_dirs[0]); i++) {
        if (access(system_dirs[i], F_OK) == 0 &&
            (rc = sandlock_policy_add_fs_readable(policy, system_dirs[i])) != SANDLOCK_OK) {
            fail("sandlock_policy_add_fs_readable", rc);
        }
    }
    while ((opt = getopt(argc, argv, "+r:w:t:")) != -1) {
        switch (opt) {
        case 'r':
            if ((rc = sandlock_policy_add_fs_readable(policy, optarg)) != SANDLOCK_OK) {
                fail("-r", rc);
            }
            break;
        case 'w':
            if ((rc = sandlock_policy_add_fs_writable(policy, optarg)) != SANDLOCK_OK) {
                fail("-w", rc);
            }
            break;
        case 't':
            timeout_ms = strtol(optarg, NULL, 10);
            break;
        default:
            usage();
        }
    }
    if (optind >= argc) {
        usage();
    }

    /* argv is NULL-terminated, as sandlock_run() wants. */
    rc = sandlock_run(policy, (const char *const *)&argv[optind], timeout_ms, &result);
    sandlock_policy_free(policy);
    if (rc != SANDLOCK_OK) {
        fail("sandlock_run", rc);
    }

    size_t out_len, err_len;
    const uint8_t *out = sandlock_result_stdout(result, &out_len);
    const uint8_t *err = sandlock_result_stderr(result, &err_len);
    fwrite(out, 1, out_len, stdout);
    fwrite(err, 1, err_len, stderr);

    int status;
    switch (sandlock_result_reason(result)) {
    case SANDLOCK_REASON_EXITED:
        status = sandlock_result_exit_code(result);
        printf("sandlock-run: exited with status %d\n", status);
        break;
    case SANDLOCK_REASON_TIMEOUT:
        status = 128 + sandlock_result_signal(result);
        printf("sandlock-run: killed after the %ld ms timeout\n", timeout_ms);
        break;
    default:
        status = 128 + sandlock_result_signal(result);
        printf("sandlock-run: killed by signal %d\n", sandlock_result_signal(result));
        break;
    }
    if (sandlock_result_exec_error(result) != NULL) {
        printf("sandlock-run: %s\n", sandlock_result_exec_error(result));
    }
    sandlock_result_free(result);
    return status;
}
