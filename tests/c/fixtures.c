/*
 * fixtures.c - helpers shared by the C ABI tests.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static void die(const char *what, int rc)
{
    fprintf(stdout, "fixture failed: %s: %d %s: %s\n", what, rc, sandlock_strerror(rc),
            sandlock_last_error());
    printf("c-tests: 0 passed, 1 failed\n");
    exit(1);
}

sandlock_policy_t *base_policy(void)
{
    static const char *const dirs[] = {"/usr", "/etc", "/bin", "/lib", "/lib64"};
    sandlock_policy_t *p = NULL;
    int rc = sandlock_policy_new(&p);
    if (rc != SANDLOCK_OK) {
        die("sandlock_policy_new", rc);
    }
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        if (access(dirs[i], F_OK) == 0 &&
            (rc = sandlock_policy_add_fs_readable(p, dirs[i])) != SANDLOCK_OK) {
            die("sandlock_policy_add_fs_readable", rc);
        }
    }
    return p;
}

sandlock_result_t *run_ok(const sandlock_policy_t *p, const char *const *argv, int64_t timeout_ms)
{
    sandlock_result_t *r = NULL;
    int rc = sandlock_run(p, argv, timeout_ms, &r);
    if (rc != SANDLOCK_OK || r == NULL) {
        die(argv[0], rc);
    }
    return r;
}

const char *out_str(const sandlock_result_t *r)
{
    return (const char *)sandlock_result_stdout(r, NULL);
}

const char *err_str(const sandlock_result_t *r)
{
    return (const char *)sandlock_result_stderr(r, NULL);
}

char *make_temp_dir(void)
{
    const char *base = getenv("TMPDIR");
    char *dir;
    if (base == NULL || *base == '\0') {
        base = "/tmp";
    }
    if (asprintf(&dir, "%s/sandlock-ctest-XXXXXX", base) < 0 || mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        exit(1);
    }
    return dir;
}

void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[4096];
    if (d == NULL) {
        return;
    }
    while ((e = readdir(d)) != NULL) {
        struct stat st;
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            remove_tree(path);
        } else {
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

char proc_state(int pid)
{
    char path[64], buf[512];
    FILE *f;
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (f == NULL) {
        return '?';
    }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The state follows the ") " that closes the command name. */
    char *close = strrchr(buf, ')');
    return close != NULL && close[1] == ' ' ? close[2] : '?';
}

long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
