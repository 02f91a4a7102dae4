/*
 * test_memory.c - max_memory: a sandbox killed for holding more than its
 * budget says so in its result (SANDLOCK_REASON_MEMORY_LIMIT), and a
 * SIGKILL it did to itself under the same budget stays SIGNALED.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness.h"

/* 40 MiB of bss, which execve maps, then a 3 s sleep with no memory call:
 * no libc, whose start-up would allocate. Three of them under a 64 MiB
 * budget exceed it by more than the watchdog's slack. */
static const char bss_source[] =
    "static char big[40 << 20];\n"
    "void _start(void)\n"
    "{\n"
    "    for (unsigned long i = 0; i < sizeof big; i += 4096)\n"
    "        big[i] = 1;\n"
    "    long ts[2] = {3, 0};\n"
    "#if defined(__x86_64__)\n"
    "    __asm__ volatile(\"syscall\" : : \"a\"(35L), \"D\"(ts), \"S\"(0L) : \"rcx\", \"r11\", \"memory\");\n"
    "    __asm__ volatile(\"syscall\" : : \"a\"(60L), \"D\"(0L) : \"rcx\", \"r11\", \"memory\");\n"
    "#elif defined(__aarch64__)\n"
    "    register long x0 __asm__(\"x0\") = (long)ts;\n"
    "    register long x1 __asm__(\"x1\") = 0;\n"
    "    register long x8 __asm__(\"x8\") = 101;\n"
    "    __asm__ volatile(\"svc #0\" : \"+r\"(x0) : \"r\"(x1), \"r\"(x8) : \"memory\");\n"
    "    x0 = 0;\n"
    "    x8 = 93;\n"
    "    __asm__ volatile(\"svc #0\" : \"+r\"(x0) : \"r\"(x8) : \"memory\");\n"
    "#else\n"
    "#error unsupported architecture\n"
    "#endif\n"
    "    for (;;)\n"
    "        ;\n"
    "}\n";

/* build_bss compiles bss_source into dir/bss; returns 0 on success. */
static int build_bss(const char *dir, char *bin, size_t size)
{
    char src[512], cmd[2048];
    if ((size_t)snprintf(src, sizeof src, "%s/bss.c", dir) >= sizeof src ||
        (size_t)snprintf(bin, size, "%s/bss", dir) >= size) {
        return -1;
    }
    FILE *f = fopen(src, "w");
    if (f == NULL) {
        return -1;
    }
    fputs(bss_source, f);
    if (fclose(f) != 0) {
        return -1;
    }
    snprintf(cmd, sizeof cmd, "cc -O0 -static -nostdlib -fno-stack-protector -o '%s' '%s'", bin,
             src);
    if (system(cmd) != 0) {
        return -1;
    }
    return chmod(bin, 0755) == 0 && chmod(dir, 0755) == 0 ? 0 : -1;
}

void test_memory_limit_reason(void)
{
    char *dir = make_temp_dir();
    char bin[512], script[2048];
    int built = build_bss(dir, bin, sizeof bin);
    CHECK(built == 0, "could not build the bss program with cc (part of the test environment)");
    if (built != 0) {
        remove_tree(dir);
        free(dir);
        return;
    }
    snprintf(script, sizeof script, "'%s' & '%s' & '%s' & wait", bin, bin, bin);
    sandlock_policy_t *p = base_policy();
    CHECK_RC(sandlock_policy_add_fs_readable(p, dir), SANDLOCK_OK);
    /* The shell gives background jobs /dev/null as stdin. */
    CHECK_RC(sandlock_policy_add_fs_readable(p, "/dev/null"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_max_memory(p, 64u << 20), SANDLOCK_OK);

    const char *const argv[] = {"/bin/sh", "-c", script, NULL};
    long long t0 = now_ms();
    sandlock_result_t *r = run_ok(p, argv, 10000);
    long long took = now_ms() - t0;
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_MEMORY_LIMIT,
          "3 x 40M bss under 64M: reason %d, want SANDLOCK_REASON_MEMORY_LIMIT (%d); signal %d, "
          "exit %d, stderr %s",
          sandlock_result_reason(r), SANDLOCK_REASON_MEMORY_LIMIT, sandlock_result_signal(r),
          sandlock_result_exit_code(r), err_str(r));
    CHECK(sandlock_result_signal(r) == SIGKILL && sandlock_result_exit_code(r) == -1,
          "signal %d exit %d, want SIGKILL and -1", sandlock_result_signal(r),
          sandlock_result_exit_code(r));
    CHECK(took < 2500, "killed after %lld ms; the programs sleep 3 s", took);
    sandlock_result_free(r);

    /* Control: a SIGKILL of its own under the same budget. */
    const char *const self_kill[] = {"/bin/sh", "-c", "kill -KILL $$", NULL};
    r = run_ok(p, self_kill, 10000);
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_SIGNALED && sandlock_result_signal(r) == SIGKILL,
          "self SIGKILL under max_memory: reason %d signal %d, want SIGNALED and SIGKILL",
          sandlock_result_reason(r), sandlock_result_signal(r));
    sandlock_result_free(r);

    /* Control: without the budget the programs run to the end. */
    CHECK_RC(sandlock_policy_set_max_memory(p, 0), SANDLOCK_OK);
    r = run_ok(p, argv, 10000);
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_EXITED && sandlock_result_exit_code(r) == 0,
          "without max_memory: reason %d exit %d stderr %s", sandlock_result_reason(r),
          sandlock_result_exit_code(r), err_str(r));
    sandlock_result_free(r);

    sandlock_policy_free(p);
    remove_tree(dir);
    free(dir);
}
