/*
 * test_api.c - version, errors, policies and argument checking of every
 * function: each bad input gives its documented code and message.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* A string that is not UTF-8 (a lone continuation byte, then 0xff). */
static const char bad_utf8[] = "/tmp/\x80\xff";

void test_version(void)
{
    char want[32];
    CHECK(sandlock_version_number() == SANDLOCK_VERSION_NUMBER,
          "sandlock_version_number() = %u, header says %d", sandlock_version_number(),
          SANDLOCK_VERSION_NUMBER);
    CHECK(strcmp(sandlock_version_string(), SANDLOCK_VERSION_STRING) == 0,
          "sandlock_version_string() = %s, header says %s", sandlock_version_string(),
          SANDLOCK_VERSION_STRING);
    snprintf(want, sizeof want, "%d.%d.%d", SANDLOCK_VERSION_MAJOR, SANDLOCK_VERSION_MINOR,
             SANDLOCK_VERSION_PATCH);
    CHECK(strcmp(want, SANDLOCK_VERSION_STRING) == 0, "macros %s vs string %s", want,
          SANDLOCK_VERSION_STRING);
    CHECK(SANDLOCK_VERSION_CHECK(0, 1, 0), "VERSION_CHECK(0,1,0) false");
    CHECK(!SANDLOCK_VERSION_CHECK(SANDLOCK_VERSION_MAJOR + 1, 0, 0),
          "VERSION_CHECK(next major) true");
    /* Same pointer each time: a static string. */
    CHECK(sandlock_version_string() == sandlock_version_string(), "version string not static");
}

void test_strerror(void)
{
    static const struct {
        int code;
        const char *name;
    } codes[] = {
        {SANDLOCK_OK, "SANDLOCK_OK"},
        {SANDLOCK_EINVAL, "SANDLOCK_EINVAL"},
        {SANDLOCK_EPOLICY, "SANDLOCK_EPOLICY"},
        {SANDLOCK_ENOTSUP, "SANDLOCK_ENOTSUP"},
        {SANDLOCK_ESPAWN, "SANDLOCK_ESPAWN"},
        {SANDLOCK_ECONFINE, "SANDLOCK_ECONFINE"},
        {SANDLOCK_ESTATE, "SANDLOCK_ESTATE"},
        {SANDLOCK_ETIMEOUT, "SANDLOCK_ETIMEOUT"},
        {SANDLOCK_EOS, "SANDLOCK_EOS"},
        {SANDLOCK_ENOMEM, "SANDLOCK_ENOMEM"},
        {SANDLOCK_EINTERNAL, "SANDLOCK_EINTERNAL"},
        {SANDLOCK_ENOTIMPL, "SANDLOCK_ENOTIMPL"},
    };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = sandlock_strerror(codes[i].code);
        size_t n = strlen(codes[i].name);
        CHECK(s != NULL && strncmp(s, codes[i].name, n) == 0 && s[n] == ':',
              "sandlock_strerror(%d) = %s, want %s: ...", codes[i].code, s, codes[i].name);
    }
    CHECK(strcmp(sandlock_strerror(-999), "unknown sandlock status code") == 0,
          "sandlock_strerror(-999) = %s", sandlock_strerror(-999));
    CHECK(strcmp(sandlock_strerror(42), "unknown sandlock status code") == 0,
          "sandlock_strerror(42) = %s", sandlock_strerror(42));
    /* The published values are ABI. */
    CHECK(SANDLOCK_OK == 0 && SANDLOCK_EINVAL == -1 && SANDLOCK_EPOLICY == -2 &&
              SANDLOCK_ENOTSUP == -3 && SANDLOCK_ESPAWN == -4 && SANDLOCK_ECONFINE == -5 &&
              SANDLOCK_ESTATE == -6 && SANDLOCK_ETIMEOUT == -7 && SANDLOCK_EOS == -8 &&
              SANDLOCK_ENOMEM == -9 && SANDLOCK_EINTERNAL == -10 && SANDLOCK_ENOTIMPL == -11,
          "status code values changed");
}

/* Thread B fails and then succeeds while thread A holds a message. */
struct lt_state {
    pthread_barrier_t b;
    char a_after[256];
    int b_rc;
    char b_msg[256];
};

static void *lt_thread_b(void *arg)
{
    struct lt_state *st = arg;
    sandlock_policy_t *p = NULL;
    pthread_barrier_wait(&st->b); /* A has its error */
    st->b_rc = sandlock_policy_new(&p);
    snprintf(st->b_msg, sizeof st->b_msg, "%s", sandlock_last_error());
    sandlock_policy_free(p);
    pthread_barrier_wait(&st->b);
    return NULL;
}

void test_last_error_per_thread(void)
{
    struct lt_state st;
    pthread_t t;
    memset(&st, 0, sizeof st);
    pthread_barrier_init(&st.b, NULL, 2);
    pthread_create(&t, NULL, lt_thread_b, &st);

    CHECK_ERR(sandlock_policy_new(NULL), SANDLOCK_EINVAL, "sandlock_policy_new", "out is NULL");
    pthread_barrier_wait(&st.b);
    pthread_barrier_wait(&st.b); /* B done */
    snprintf(st.a_after, sizeof st.a_after, "%s", sandlock_last_error());
    pthread_join(t, NULL);
    pthread_barrier_destroy(&st.b);

    CHECK(strcmp(st.a_after, "sandlock_policy_new: out is NULL") == 0,
          "thread A's message changed to \"%s\"", st.a_after);
    CHECK(st.b_rc == SANDLOCK_OK && st.b_msg[0] == '\0',
          "thread B: rc %d, message \"%s\" (want OK and \"\")", st.b_rc, st.b_msg);

    /* A success on this thread clears the message, and errno. */
    sandlock_policy_t *p = NULL;
    CHECK_RC(sandlock_policy_new(&p), SANDLOCK_OK);
    CHECK(sandlock_last_error()[0] == '\0', "message after success: %s", sandlock_last_error());
    CHECK(sandlock_last_errno() == 0, "errno after success: %d", sandlock_last_errno());
    /* A free clears it too. */
    CHECK_ERR(sandlock_policy_new(NULL), SANDLOCK_EINVAL, "sandlock_policy_new", NULL);
    sandlock_policy_free(p);
    CHECK(sandlock_last_error()[0] == '\0', "message after free: %s", sandlock_last_error());
    CHECK_ERR(sandlock_policy_new(NULL), SANDLOCK_EINVAL, "sandlock_policy_new", NULL);
    sandlock_string_free(NULL);
    CHECK(sandlock_last_error()[0] == '\0', "message after string_free: %s", sandlock_last_error());
}

void test_policy_defaults_and_clone(void)
{
    sandlock_policy_t *p = NULL, *c = NULL;
    CHECK_RC(sandlock_policy_new(&p), SANDLOCK_OK);
    CHECK(p != NULL, "policy_new gave NULL");
    CHECK_RC(sandlock_policy_validate(p), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_clone(p, &c), SANDLOCK_OK);
    CHECK(c != NULL && c != p, "clone gave %p for %p", (void *)c, (void *)p);
    /* The clone is independent: breaking it leaves p valid. */
    CHECK_RC(sandlock_policy_add_fs_readable(c, "relative/path"), SANDLOCK_OK);
    CHECK_ERR(sandlock_policy_validate(c), SANDLOCK_EPOLICY, "sandlock_policy_validate",
              "fs_readable");
    CHECK_RC(sandlock_policy_validate(p), SANDLOCK_OK);
    /* Clearing restores the default. */
    CHECK_RC(sandlock_policy_clear_fs_readable(c), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_validate(c), SANDLOCK_OK);
    sandlock_policy_free(c);
    sandlock_policy_free(p);
    sandlock_policy_free(NULL);
}

/* --- Every setter, happy path ------------------------------------------ */

typedef int (*fn0_t)(sandlock_policy_t *);
typedef int (*fn_str_t)(sandlock_policy_t *, const char *);
typedef int (*fn_int_t)(sandlock_policy_t *, int);
typedef int (*fn_u16_t)(sandlock_policy_t *, uint16_t);
typedef int (*fn_u16x2_t)(sandlock_policy_t *, uint16_t, uint16_t);
typedef int (*fn_u32_t)(sandlock_policy_t *, uint32_t);
typedef int (*fn_u64_t)(sandlock_policy_t *, uint64_t);

#define F(fn) fn, #fn

static const struct {
    fn0_t fn;
    const char *name;
} fns0[] = {
    {F(sandlock_policy_clear_fs_writable)},
    {F(sandlock_policy_clear_fs_readable)},
    {F(sandlock_policy_clear_fs_denied)},
    {F(sandlock_policy_set_deny_syscalls_empty)},
    {F(sandlock_policy_clear_deny_syscalls)},
    {F(sandlock_policy_set_allow_syscalls_empty)},
    {F(sandlock_policy_clear_allow_syscalls)},
    {F(sandlock_policy_set_net_allow_hosts_empty)},
    {F(sandlock_policy_clear_net_allow_hosts)},
    {F(sandlock_policy_clear_net_bind)},
    {F(sandlock_policy_clear_net_connect)},
    {F(sandlock_policy_clear_http_allow)},
    {F(sandlock_policy_clear_http_deny)},
    {F(sandlock_policy_clear_http_ports)},
    {F(sandlock_policy_clear_cpu_cores)},
    {F(sandlock_policy_set_gpu_devices_empty)},
    {F(sandlock_policy_clear_gpu_devices)},
    {F(sandlock_policy_clear_random_seed)},
    {F(sandlock_policy_clear_time_start)},
    {F(sandlock_policy_clear_env)},
    {F(sandlock_policy_clear_uid)},
    {F(sandlock_policy_clear_fs_mount)},
};

/* String setters and the name of their string argument. */
static const struct {
    fn_str_t fn;
    const char *name;
    const char *arg;
    const char *good;
} fns_str[] = {
    {F(sandlock_policy_add_fs_writable), "path", "/tmp"},
    {F(sandlock_policy_add_fs_readable), "path", "/usr"},
    {F(sandlock_policy_add_fs_denied), "path", "/etc/shadow"},
    {F(sandlock_policy_add_deny_syscalls), "name", "ptrace"},
    {F(sandlock_policy_add_allow_syscalls), "name", "read"},
    {F(sandlock_policy_add_net_allow_hosts), "host", "localhost"},
    {F(sandlock_policy_add_http_allow), "rule", "GET example.com/"},
    {F(sandlock_policy_add_http_deny), "rule", "POST example.com/"},
    {F(sandlock_policy_set_https_ca), "path", "/etc/ca.pem"},
    {F(sandlock_policy_set_https_key), "path", "/etc/ca.key"},
    {F(sandlock_policy_set_hostname), "name", "box"},
    {F(sandlock_policy_set_cwd), "dir", "/tmp"},
    {F(sandlock_policy_set_chroot), "dir", "/srv/root"},
    {F(sandlock_policy_set_workdir), "dir", "/srv/work"},
    {F(sandlock_policy_set_fs_storage), "dir", "/srv/store"},
};

/* Boolean setters: 0 and 1 only. */
static const struct {
    fn_int_t fn;
    const char *name;
} fns_bool[] = {
    {F(sandlock_policy_set_no_raw_sockets)},      {F(sandlock_policy_set_no_udp)},
    {F(sandlock_policy_set_port_remap)},          {F(sandlock_policy_set_no_coredump)},
    {F(sandlock_policy_set_no_randomize_memory)}, {F(sandlock_policy_set_no_huge_pages)},
    {F(sandlock_policy_set_deterministic_dirs)},  {F(sandlock_policy_set_clean_env)},
    {F(sandlock_policy_set_allow_degraded)},
};

/* Enum setters: valid range 0..2, message fragment for a bad value. */
static const struct {
    fn_int_t fn;
    const char *name;
    const char *fragment;
} fns_enum[] = {
    {F(sandlock_policy_set_fs_isolation), "SANDLOCK_FS_ISOLATION_"},
    {F(sandlock_policy_set_on_exit), "SANDLOCK_BRANCH_"},
    {F(sandlock_policy_set_on_error), "SANDLOCK_BRANCH_"},
};

static const struct {
    fn_u16_t fn;
    const char *name;
} fns_u16[] = {
    {F(sandlock_policy_add_net_bind)},
    {F(sandlock_policy_add_net_connect)},
    {F(sandlock_policy_add_http_ports)},
};

static const struct {
    fn_u16x2_t fn;
    const char *name;
} fns_range[] = {
    {F(sandlock_policy_add_net_bind_range)},
    {F(sandlock_policy_add_net_connect_range)},
    {F(sandlock_policy_add_http_ports_range)},
};

static const struct {
    fn_u32_t fn;
    const char *name;
} fns_u32[] = {
    {F(sandlock_policy_set_max_processes)}, {F(sandlock_policy_set_max_cpu)},
    {F(sandlock_policy_add_cpu_cores)},     {F(sandlock_policy_set_num_cpus)},
    {F(sandlock_policy_add_gpu_devices)},   {F(sandlock_policy_set_uid)},
};

static const struct {
    fn_u64_t fn;
    const char *name;
} fns_u64[] = {
    {F(sandlock_policy_set_max_memory)},
    {F(sandlock_policy_set_max_open_files)},
    {F(sandlock_policy_set_random_seed)},
    {F(sandlock_policy_set_max_disk)},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

void test_policy_every_setter(void)
{
    sandlock_policy_t *p = NULL;
    CHECK_RC(sandlock_policy_new(&p), SANDLOCK_OK);
    for (size_t i = 0; i < N(fns0); i++) {
        CHECK(fns0[i].fn(p) == SANDLOCK_OK, "%s(p): %s", fns0[i].name, sandlock_last_error());
    }
    for (size_t i = 0; i < N(fns_str); i++) {
        CHECK(fns_str[i].fn(p, fns_str[i].good) == SANDLOCK_OK, "%s(p, \"%s\"): %s",
              fns_str[i].name, fns_str[i].good, sandlock_last_error());
        CHECK(fns_str[i].fn(p, "") == SANDLOCK_OK, "%s(p, \"\"): %s", fns_str[i].name,
              sandlock_last_error());
    }
    for (size_t i = 0; i < N(fns_bool); i++) {
        CHECK(fns_bool[i].fn(p, 1) == SANDLOCK_OK && fns_bool[i].fn(p, 0) == SANDLOCK_OK, "%s: %s",
              fns_bool[i].name, sandlock_last_error());
    }
    for (size_t i = 0; i < N(fns_enum); i++) {
        for (int v = 0; v <= 2; v++) {
            CHECK(fns_enum[i].fn(p, v) == SANDLOCK_OK, "%s(p, %d): %s", fns_enum[i].name, v,
                  sandlock_last_error());
        }
    }
    for (size_t i = 0; i < N(fns_u16); i++) {
        CHECK(fns_u16[i].fn(p, 0) == SANDLOCK_OK && fns_u16[i].fn(p, 65535) == SANDLOCK_OK,
              "%s: %s", fns_u16[i].name, sandlock_last_error());
    }
    for (size_t i = 0; i < N(fns_range); i++) {
        CHECK(fns_range[i].fn(p, 0, 65535) == SANDLOCK_OK &&
                  fns_range[i].fn(p, 80, 80) == SANDLOCK_OK,
              "%s: %s", fns_range[i].name, sandlock_last_error());
    }
    for (size_t i = 0; i < N(fns_u32); i++) {
        CHECK(fns_u32[i].fn(p, 1) == SANDLOCK_OK && fns_u32[i].fn(p, UINT32_MAX) == SANDLOCK_OK,
              "%s: %s", fns_u32[i].name, sandlock_last_error());
    }
    for (size_t i = 0; i < N(fns_u64); i++) {
        CHECK(fns_u64[i].fn(p, 0) == SANDLOCK_OK && fns_u64[i].fn(p, UINT64_MAX) == SANDLOCK_OK,
              "%s: %s", fns_u64[i].name, sandlock_last_error());
    }
    CHECK_RC(sandlock_policy_set_env(p, "KEY", "value"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_env(p, "KEY", ""), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_add_fs_mount(p, "/data", "/srv/data"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_time_start(p, 0, 0), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_time_start(p, -86400, 999999999), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_time_start(p, INT64_MAX / 4, 0), SANDLOCK_OK);
    sandlock_policy_free(p);
}

/* --- Unimplemented options are recorded and reported -------------------- */

static int u_http_allow(sandlock_policy_t *p)
{
    return sandlock_policy_add_http_allow(p, "GET a/b");
}
static int u_http_deny(sandlock_policy_t *p)
{
    return sandlock_policy_add_http_deny(p, "GET a/b");
}
static int u_http_ports(sandlock_policy_t *p)
{
    return sandlock_policy_add_http_ports(p, 8080);
}
static int u_https(sandlock_policy_t *p)
{
    int rc = sandlock_policy_set_https_ca(p, "/etc/ca.pem");
    return rc != SANDLOCK_OK ? rc : sandlock_policy_set_https_key(p, "/etc/ca.key");
}
static int u_seed(sandlock_policy_t *p)
{
    return sandlock_policy_set_random_seed(p, 42);
}
static int u_time(sandlock_policy_t *p)
{
    return sandlock_policy_set_time_start(p, 1700000000, 0);
}
static int u_dirs(sandlock_policy_t *p)
{
    return sandlock_policy_set_deterministic_dirs(p, 1);
}
static int u_gpu(sandlock_policy_t *p)
{
    return sandlock_policy_add_gpu_devices(p, 0);
}
static int u_gpu_empty(sandlock_policy_t *p)
{
    return sandlock_policy_set_gpu_devices_empty(p);
}
static int u_chroot(sandlock_policy_t *p)
{
    return sandlock_policy_set_chroot(p, "/srv/root");
}
static int u_uid(sandlock_policy_t *p)
{
    return sandlock_policy_set_uid(p, 0);
}
static int u_workdir(sandlock_policy_t *p)
{
    return sandlock_policy_set_workdir(p, "/srv/work");
}
static int u_max_disk(sandlock_policy_t *p)
{
    /* max_disk needs workdir, which is unimplemented too and comes first
     * in the report; the point is that the setter's value is not lost. */
    int rc = sandlock_policy_set_workdir(p, "/srv/work");
    return rc != SANDLOCK_OK ? rc : sandlock_policy_set_max_disk(p, 1 << 20);
}
static int u_on_exit(sandlock_policy_t *p)
{
    return sandlock_policy_set_on_exit(p, SANDLOCK_BRANCH_KEEP);
}
static int u_on_error(sandlock_policy_t *p)
{
    return sandlock_policy_set_on_error(p, SANDLOCK_BRANCH_COMMIT);
}

void test_policy_unimplemented_reported(void)
{
    static const struct {
        int (*apply)(sandlock_policy_t *);
        const char *field;
    } cases[] = {
        {u_http_allow, "http_allow"},
        {u_http_deny, "http_deny"},
        {u_http_ports, "http_ports"},
        {u_https, "https_ca"},
        {u_seed, "random_seed"},
        {u_time, "time_start"},
        {u_dirs, "deterministic_dirs"},
        {u_gpu, "gpu_devices"},
        {u_gpu_empty, "gpu_devices"},
        {u_chroot, "chroot"},
        {u_uid, "uid"},
        {u_workdir, "workdir"},
        {u_max_disk, "workdir"},
        {u_on_exit, "on_exit"},
        {u_on_error, "on_error"},
    };
    const char *const argv[] = {"/bin/true", NULL};
    for (size_t i = 0; i < N(cases); i++) {
        sandlock_policy_t *p = base_policy();
        sandlock_result_t *r = (sandlock_result_t *)&r;
        CHECK_RC(cases[i].apply(p), SANDLOCK_OK);
        CHECK_ERR(sandlock_policy_validate(p), SANDLOCK_ENOTIMPL, "sandlock_policy_validate",
                  cases[i].field);
        CHECK_ERR(sandlock_policy_validate(p), SANDLOCK_ENOTIMPL, "sandlock_policy_validate",
                  "not implemented");
        /* Spawning refuses it as well: the option is never dropped. */
        CHECK_ERR(sandlock_run(p, argv, 0, &r), SANDLOCK_ENOTIMPL, "sandlock_run", cases[i].field);
        CHECK(r == NULL, "sandlock_run left *out = %p on failure", (void *)r);
        sandlock_policy_free(p);
    }
}

/* --- Invalid policies are EPOLICY, naming the option --------------------- */

static int i_relative(sandlock_policy_t *p)
{
    return sandlock_policy_add_fs_readable(p, "usr/lib");
}
static int i_proc_writable(sandlock_policy_t *p)
{
    return sandlock_policy_add_fs_writable(p, "/proc");
}
static int i_max_cpu(sandlock_policy_t *p)
{
    return sandlock_policy_set_max_cpu(p, 101);
}
static int i_cpu_core(sandlock_policy_t *p)
{
    return sandlock_policy_add_cpu_cores(p, 5000);
}
static int i_uid(sandlock_policy_t *p)
{
    return sandlock_policy_set_uid(p, UINT32_MAX);
}
static int i_syscall_name(sandlock_policy_t *p)
{
    return sandlock_policy_add_deny_syscalls(p, "Not-A-Name");
}
static int i_both_lists(sandlock_policy_t *p)
{
    int rc = sandlock_policy_add_deny_syscalls(p, "ptrace");
    return rc != SANDLOCK_OK ? rc : sandlock_policy_add_allow_syscalls(p, "read");
}
static int i_hostname(sandlock_policy_t *p)
{
    return sandlock_policy_set_hostname(p, "a/b");
}
static int i_env_key(sandlock_policy_t *p)
{
    return sandlock_policy_set_env(p, "A=B", "c");
}
static int i_cwd(sandlock_policy_t *p)
{
    return sandlock_policy_set_cwd(p, "tmp");
}
static int i_https_half(sandlock_policy_t *p)
{
    return sandlock_policy_set_https_ca(p, "/etc/ca.pem");
}
static int i_mount_no_chroot(sandlock_policy_t *p)
{
    return sandlock_policy_add_fs_mount(p, "/a", "/srv");
}
static int i_disk_no_workdir(sandlock_policy_t *p)
{
    return sandlock_policy_set_max_disk(p, 1);
}
static int i_isolation_no_workdir(sandlock_policy_t *p)
{
    return sandlock_policy_set_fs_isolation(p, SANDLOCK_FS_ISOLATION_OVERLAYFS);
}

void test_policy_invalid_reported(void)
{
    static const struct {
        int (*apply)(sandlock_policy_t *);
        const char *field;
    } cases[] = {
        {i_relative, "fs_readable"},
        {i_proc_writable, "fs_writable"},
        {i_max_cpu, "max_cpu"},
        {i_cpu_core, "cpu_cores"},
        {i_uid, "uid"},
        {i_syscall_name, "deny_syscalls"},
        {i_both_lists, "allow_syscalls"},
        {i_hostname, "hostname"},
        {i_env_key, "env"},
        {i_cwd, "cwd"},
        {i_https_half, "https_key"},
        {i_mount_no_chroot, "fs_mount"},
        {i_disk_no_workdir, "max_disk"},
        {i_isolation_no_workdir, "fs_isolation"},
    };
    const char *const argv[] = {"/bin/true", NULL};
    for (size_t i = 0; i < N(cases); i++) {
        sandlock_policy_t *p = base_policy();
        sandlock_result_t *r = NULL;
        CHECK_RC(cases[i].apply(p), SANDLOCK_OK);
        CHECK_ERR(sandlock_policy_validate(p), SANDLOCK_EPOLICY, "sandlock_policy_validate",
                  cases[i].field);
        CHECK_ERR(sandlock_run(p, argv, 0, &r), SANDLOCK_EPOLICY, "sandlock_run", cases[i].field);
        sandlock_policy_free(p);
    }
    /* The options that are enforced validate and run. */
    sandlock_policy_t *p = base_policy();
    CHECK_RC(sandlock_policy_add_fs_writable(p, "/tmp"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_add_fs_denied(p, "/etc/shadow"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_add_deny_syscalls(p, "ptrace"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_no_coredump(p, 1), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_add_net_bind(p, 8080), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_add_net_connect_range(p, 8000, 8010), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_no_udp(p, 1), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_max_processes(p, 16), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_max_open_files(p, 256), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_add_cpu_cores(p, 0), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_max_memory(p, 256u << 20), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_max_cpu(p, 50), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_num_cpus(p, 1), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_no_randomize_memory(p, 1), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_no_huge_pages(p, 1), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_cwd(p, "/tmp"), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_set_allow_degraded(p, 1), SANDLOCK_OK);
    CHECK_RC(sandlock_policy_validate(p), SANDLOCK_OK);
    sandlock_result_t *r = run_ok(p, argv, 0);
    CHECK(sandlock_result_exit_code(r) == 0, "true under the enforced options: exit %d, stderr %s",
          sandlock_result_exit_code(r), err_str(r));
    sandlock_result_free(r);
    sandlock_policy_free(p);
}

/* --- Bad arguments, function by function ---------------------------------- */

void test_bad_args_policy(void)
{
    sandlock_policy_t *p = NULL, *out = (sandlock_policy_t *)&out;

    CHECK_ERR(sandlock_policy_new(NULL), SANDLOCK_EINVAL, "sandlock_policy_new", "out is NULL");
    CHECK_ERR(sandlock_policy_clone(NULL, &out), SANDLOCK_EINVAL, "sandlock_policy_clone",
              "p is NULL");
    CHECK(out == NULL, "clone failure left *out = %p", (void *)out);
    CHECK_RC(sandlock_policy_new(&p), SANDLOCK_OK);
    CHECK_ERR(sandlock_policy_clone(p, NULL), SANDLOCK_EINVAL, "sandlock_policy_clone",
              "out is NULL");
    CHECK_ERR(sandlock_policy_validate(NULL), SANDLOCK_EINVAL, "sandlock_policy_validate",
              "p is NULL");

    for (size_t i = 0; i < N(fns0); i++) {
        CHECK_ERR(fns0[i].fn(NULL), SANDLOCK_EINVAL, fns0[i].name, "p is NULL");
    }
    for (size_t i = 0; i < N(fns_str); i++) {
        char frag[64];
        CHECK_ERR(fns_str[i].fn(NULL, fns_str[i].good), SANDLOCK_EINVAL, fns_str[i].name,
                  "p is NULL");
        snprintf(frag, sizeof frag, "%s is NULL", fns_str[i].arg);
        CHECK_ERR(fns_str[i].fn(p, NULL), SANDLOCK_EINVAL, fns_str[i].name, frag);
        snprintf(frag, sizeof frag, "%s is not valid UTF-8", fns_str[i].arg);
        CHECK_ERR(fns_str[i].fn(p, bad_utf8), SANDLOCK_EINVAL, fns_str[i].name, frag);
    }
    for (size_t i = 0; i < N(fns_bool); i++) {
        CHECK_ERR(fns_bool[i].fn(NULL, 1), SANDLOCK_EINVAL, fns_bool[i].name, "p is NULL");
        CHECK_ERR(fns_bool[i].fn(p, 2), SANDLOCK_EINVAL, fns_bool[i].name, "must be 0 or 1, got 2");
        CHECK_ERR(fns_bool[i].fn(p, -1), SANDLOCK_EINVAL, fns_bool[i].name, "must be 0 or 1");
    }
    for (size_t i = 0; i < N(fns_enum); i++) {
        CHECK_ERR(fns_enum[i].fn(NULL, 0), SANDLOCK_EINVAL, fns_enum[i].name, "p is NULL");
        CHECK_ERR(fns_enum[i].fn(p, 3), SANDLOCK_EINVAL, fns_enum[i].name, fns_enum[i].fragment);
        CHECK_ERR(fns_enum[i].fn(p, -1), SANDLOCK_EINVAL, fns_enum[i].name, fns_enum[i].fragment);
    }
    for (size_t i = 0; i < N(fns_u16); i++) {
        CHECK_ERR(fns_u16[i].fn(NULL, 80), SANDLOCK_EINVAL, fns_u16[i].name, "p is NULL");
    }
    for (size_t i = 0; i < N(fns_range); i++) {
        CHECK_ERR(fns_range[i].fn(NULL, 1, 2), SANDLOCK_EINVAL, fns_range[i].name, "p is NULL");
        CHECK_ERR(fns_range[i].fn(p, 9000, 8000), SANDLOCK_EINVAL, fns_range[i].name,
                  "ends before it starts");
    }
    for (size_t i = 0; i < N(fns_u32); i++) {
        CHECK_ERR(fns_u32[i].fn(NULL, 1), SANDLOCK_EINVAL, fns_u32[i].name, "p is NULL");
    }
    for (size_t i = 0; i < N(fns_u64); i++) {
        CHECK_ERR(fns_u64[i].fn(NULL, 1), SANDLOCK_EINVAL, fns_u64[i].name, "p is NULL");
    }

    CHECK_ERR(sandlock_policy_set_env(NULL, "A", "b"), SANDLOCK_EINVAL, "sandlock_policy_set_env",
              "p is NULL");
    CHECK_ERR(sandlock_policy_set_env(p, NULL, "b"), SANDLOCK_EINVAL, "sandlock_policy_set_env",
              "key is NULL");
    CHECK_ERR(sandlock_policy_set_env(p, "A", NULL), SANDLOCK_EINVAL, "sandlock_policy_set_env",
              "value is NULL");
    CHECK_ERR(sandlock_policy_set_env(p, bad_utf8, "b"), SANDLOCK_EINVAL, "sandlock_policy_set_env",
              "key is not valid UTF-8");
    CHECK_ERR(sandlock_policy_set_env(p, "A", bad_utf8), SANDLOCK_EINVAL, "sandlock_policy_set_env",
              "value is not valid UTF-8");
    CHECK_ERR(sandlock_policy_add_fs_mount(NULL, "/a", "/b"), SANDLOCK_EINVAL,
              "sandlock_policy_add_fs_mount", "p is NULL");
    CHECK_ERR(sandlock_policy_add_fs_mount(p, NULL, "/b"), SANDLOCK_EINVAL,
              "sandlock_policy_add_fs_mount", "virt is NULL");
    CHECK_ERR(sandlock_policy_add_fs_mount(p, "/a", NULL), SANDLOCK_EINVAL,
              "sandlock_policy_add_fs_mount", "host is NULL");
    CHECK_ERR(sandlock_policy_add_fs_mount(p, bad_utf8, "/b"), SANDLOCK_EINVAL,
              "sandlock_policy_add_fs_mount", "virt is not valid UTF-8");
    CHECK_ERR(sandlock_policy_add_fs_mount(p, "/a", bad_utf8), SANDLOCK_EINVAL,
              "sandlock_policy_add_fs_mount", "host is not valid UTF-8");
    CHECK_ERR(sandlock_policy_set_time_start(NULL, 0, 0), SANDLOCK_EINVAL,
              "sandlock_policy_set_time_start", "p is NULL");
    CHECK_ERR(sandlock_policy_set_time_start(p, 0, 1000000000u), SANDLOCK_EINVAL,
              "sandlock_policy_set_time_start", "nanoseconds");
    CHECK_ERR(sandlock_policy_set_time_start(p, 0, UINT32_MAX), SANDLOCK_EINVAL,
              "sandlock_policy_set_time_start", "nanoseconds");

    /* None of the failures above changed p: it is still the default. */
    CHECK_RC(sandlock_policy_validate(p), SANDLOCK_OK);

    /* Freeing NULL is a no-op that clears the message; freeing twice is
     * reported, not a crash. */
    CHECK_ERR(sandlock_policy_new(NULL), SANDLOCK_EINVAL, "sandlock_policy_new", NULL);
    sandlock_policy_free(NULL);
    CHECK(sandlock_last_error()[0] == '\0', "free(NULL) message: %s", sandlock_last_error());
    sandlock_policy_free(p);
    CHECK(sandlock_last_error()[0] == '\0', "free message: %s", sandlock_last_error());
}

void test_bad_args_options(void)
{
    sandlock_spawn_options_t *o = NULL;
    int fds[2];

    CHECK_ERR(sandlock_spawn_options_new(NULL), SANDLOCK_EINVAL, "sandlock_spawn_options_new",
              "out is NULL");
    CHECK_RC(sandlock_spawn_options_new(&o), SANDLOCK_OK);

    CHECK_ERR(sandlock_spawn_options_set_stdio(NULL, SANDLOCK_STDOUT, SANDLOCK_STDIO_NULL, -1),
              SANDLOCK_EINVAL, "sandlock_spawn_options_set_stdio", "o is NULL");
    CHECK_ERR(sandlock_spawn_options_set_stdio(o, 3, SANDLOCK_STDIO_NULL, -1), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_stdio", "stream 3");
    CHECK_ERR(sandlock_spawn_options_set_stdio(o, -1, SANDLOCK_STDIO_NULL, -1), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_stdio", "stream -1");
    CHECK_ERR(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, 4, -1), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_stdio", "mode 4 is not a SANDLOCK_STDIO_* value");
    CHECK_ERR(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, -1, -1), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_stdio", "SANDLOCK_STDIO_*");
    CHECK_ERR(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDIN, SANDLOCK_STDIO_CAPTURE, -1),
              SANDLOCK_EINVAL, "sandlock_spawn_options_set_stdio", "stdin cannot be");
    CHECK_ERR(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_NULL, 1),
              SANDLOCK_EINVAL, "sandlock_spawn_options_set_stdio", "fd must be -1");
    CHECK_ERR(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_FD, -1),
              SANDLOCK_EINVAL, "sandlock_spawn_options_set_stdio", "not a file descriptor");
    if (pipe(fds) == 0) {
        close(fds[0]);
        close(fds[1]);
        CHECK_ERR(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_FD, fds[1]),
                  SANDLOCK_EINVAL, "sandlock_spawn_options_set_stdio", "is not open");
    }
    CHECK_RC(sandlock_spawn_options_set_stdio(o, SANDLOCK_STDOUT, SANDLOCK_STDIO_FD, 1),
             SANDLOCK_OK);

    CHECK_ERR(sandlock_spawn_options_set_timeout_ms(NULL, 1), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_timeout_ms", "o is NULL");
    CHECK_ERR(sandlock_spawn_options_set_timeout_ms(o, -1), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_timeout_ms", "must not be negative");
    CHECK_ERR(sandlock_spawn_options_set_timeout_ms(o, INT64_MAX), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_timeout_ms", "too large");
    CHECK_RC(sandlock_spawn_options_set_timeout_ms(o, 0), SANDLOCK_OK);

    CHECK_ERR(sandlock_spawn_options_set_name(NULL, "x"), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_name", "o is NULL");
    CHECK_ERR(sandlock_spawn_options_set_name(o, NULL), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_name", "name is NULL");
    CHECK_ERR(sandlock_spawn_options_set_name(o, bad_utf8), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_name", "not valid UTF-8");
    CHECK_RC(sandlock_spawn_options_set_name(o, "ctest"), SANDLOCK_OK);

    CHECK_ERR(sandlock_spawn_options_set_output_limit(NULL, 1), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_output_limit", "o is NULL");
    CHECK_ERR(sandlock_spawn_options_set_output_limit(o, UINT64_MAX), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_output_limit", "above INT64_MAX");
    CHECK_RC(sandlock_spawn_options_set_output_limit(o, 4096), SANDLOCK_OK);

    CHECK_ERR(sandlock_spawn_options_set_share_pgrp(NULL, 0), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_share_pgrp", "o is NULL");
    CHECK_ERR(sandlock_spawn_options_set_share_pgrp(o, 7), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_share_pgrp", "must be 0 or 1");
    CHECK_RC(sandlock_spawn_options_set_share_pgrp(o, 1), SANDLOCK_OK);

    sandlock_spawn_options_free(o);
    sandlock_spawn_options_free(NULL);
    CHECK(sandlock_last_error()[0] == '\0', "options_free(NULL) message: %s",
          sandlock_last_error());
}

void test_bad_args_sandbox(void)
{
    sandlock_policy_t *p = base_policy();
    sandlock_sandbox_t *sb = (sandlock_sandbox_t *)&sb;
    sandlock_result_t *r = (sandlock_result_t *)&r;
    const char *const argv[] = {"/bin/true", NULL};
    const char *const empty_argv[] = {NULL};
    const char *const blank_argv[] = {"", NULL};
    const char *const bad_argv[] = {"/bin/echo", bad_utf8, NULL};

    CHECK_ERR(sandlock_spawn(p, argv, NULL, NULL), SANDLOCK_EINVAL, "sandlock_spawn",
              "out is NULL");
    CHECK_ERR(sandlock_spawn(NULL, argv, NULL, &sb), SANDLOCK_EINVAL, "sandlock_spawn",
              "policy is NULL");
    CHECK(sb == NULL, "spawn failure left *out = %p", (void *)sb);
    CHECK_ERR(sandlock_spawn(p, NULL, NULL, &sb), SANDLOCK_EINVAL, "sandlock_spawn",
              "argv is NULL");
    CHECK_ERR(sandlock_spawn(p, empty_argv, NULL, &sb), SANDLOCK_EINVAL, "sandlock_spawn",
              "argv is empty");
    CHECK_ERR(sandlock_spawn(p, blank_argv, NULL, &sb), SANDLOCK_EINVAL, "sandlock_spawn",
              "argv is empty");
    CHECK_ERR(sandlock_spawn(p, bad_argv, NULL, &sb), SANDLOCK_EINVAL, "sandlock_spawn",
              "argv[1] is not valid UTF-8");

    CHECK_ERR(sandlock_run(p, argv, 0, NULL), SANDLOCK_EINVAL, "sandlock_run", "out is NULL");
    CHECK_ERR(sandlock_run(NULL, argv, 0, &r), SANDLOCK_EINVAL, "sandlock_run", "policy is NULL");
    CHECK(r == NULL, "run failure left *out = %p", (void *)r);
    CHECK_ERR(sandlock_run(p, NULL, 0, &r), SANDLOCK_EINVAL, "sandlock_run", "argv is NULL");
    CHECK_ERR(sandlock_run(p, empty_argv, 0, &r), SANDLOCK_EINVAL, "sandlock_run", "argv is empty");
    CHECK_ERR(sandlock_run(p, bad_argv, 0, &r), SANDLOCK_EINVAL, "sandlock_run",
              "argv[1] is not valid UTF-8");
    CHECK_ERR(sandlock_run(p, argv, -1, &r), SANDLOCK_EINVAL, "sandlock_run",
              "timeout_ms must not be negative");
    CHECK_ERR(sandlock_run(p, argv, INT64_MAX, &r), SANDLOCK_EINVAL, "sandlock_run", "too large");

    CHECK_ERR(sandlock_sandbox_pid(NULL), SANDLOCK_EINVAL, "sandlock_sandbox_pid", "sb is NULL");
    CHECK_ERR(sandlock_sandbox_wait(NULL, -1, &r), SANDLOCK_EINVAL, "sandlock_sandbox_wait",
              "sb is NULL");
    CHECK_ERR(sandlock_sandbox_kill(NULL), SANDLOCK_EINVAL, "sandlock_sandbox_kill", "sb is NULL");
    CHECK_ERR(sandlock_sandbox_pause(NULL), SANDLOCK_EINVAL, "sandlock_sandbox_pause",
              "sb is NULL");
    CHECK_ERR(sandlock_sandbox_resume(NULL), SANDLOCK_EINVAL, "sandlock_sandbox_resume",
              "sb is NULL");
    CHECK_ERR(sandlock_sandbox_set_max_processes(NULL, 1), SANDLOCK_EINVAL,
              "sandlock_sandbox_set_max_processes", "sb is NULL");
    sandlock_sandbox_free(NULL);
    CHECK(sandlock_last_error()[0] == '\0', "sandbox_free(NULL) message: %s",
          sandlock_last_error());

    /* A live sandbox for the remaining argument checks. */
    sb = NULL;
    CHECK_RC(sandlock_spawn(p, argv, NULL, &sb), SANDLOCK_OK);
    if (sb != NULL) {
        CHECK_ERR(sandlock_sandbox_wait(sb, -1, NULL), SANDLOCK_EINVAL, "sandlock_sandbox_wait",
                  "out is NULL");
        CHECK_ERR(sandlock_sandbox_wait(sb, -2, &r), SANDLOCK_EINVAL, "sandlock_sandbox_wait",
                  "timeout_ms must be -1");
        CHECK_ERR(sandlock_sandbox_wait(sb, INT64_MIN, &r), SANDLOCK_EINVAL,
                  "sandlock_sandbox_wait", "timeout_ms");
        CHECK_ERR(sandlock_sandbox_wait(sb, INT64_MAX, &r), SANDLOCK_EINVAL,
                  "sandlock_sandbox_wait", "too large");
        CHECK_ERR(sandlock_sandbox_set_max_processes(sb, 0), SANDLOCK_EINVAL,
                  "sandlock_sandbox_set_max_processes", "n must be positive");
        sandlock_sandbox_free(sb);
    }
    sandlock_policy_free(p);
}

void test_bad_args_result(void)
{
    size_t len = 123;
    CHECK(sandlock_result_exit_code(NULL) == -1, "exit_code(NULL) != -1");
    CHECK_MSG("sandlock_result_exit_code", "r is NULL", "exit_code(NULL)");
    CHECK_ERR(sandlock_result_signal(NULL), SANDLOCK_EINVAL, "sandlock_result_signal", "r is NULL");
    CHECK_ERR(sandlock_result_reason(NULL), SANDLOCK_EINVAL, "sandlock_result_reason", "r is NULL");
    CHECK(sandlock_result_stdout(NULL, &len) == NULL && len == 0, "stdout(NULL) not NULL/0");
    CHECK_MSG("sandlock_result_stdout", "r is NULL", "stdout(NULL)");
    len = 123;
    CHECK(sandlock_result_stderr(NULL, &len) == NULL && len == 0, "stderr(NULL) not NULL/0");
    CHECK_MSG("sandlock_result_stderr", "r is NULL", "stderr(NULL)");
    CHECK(sandlock_result_stdout(NULL, NULL) == NULL, "stdout(NULL, NULL) not NULL");
    CHECK(sandlock_result_exec_error(NULL) == NULL, "exec_error(NULL) not NULL");
    CHECK_MSG("sandlock_result_exec_error", "r is NULL", "exec_error(NULL)");
    CHECK(sandlock_result_duration_ns(NULL) == 0, "duration(NULL) not 0");
    CHECK_MSG("sandlock_result_duration_ns", "r is NULL", "duration(NULL)");
    CHECK(sandlock_result_degraded_count(NULL) == 0, "degraded_count(NULL) not 0");
    CHECK_MSG("sandlock_result_degraded_count", "r is NULL", "degraded_count(NULL)");
    CHECK(sandlock_result_degraded(NULL, 0) == NULL, "degraded(NULL) not NULL");
    CHECK_MSG("sandlock_result_degraded", "r is NULL", "degraded(NULL)");

    /* Index out of range on a real result. */
    sandlock_policy_t *p = base_policy();
    const char *const argv[] = {"/bin/true", NULL};
    sandlock_result_t *r = run_ok(p, argv, 0);
    CHECK(sandlock_result_degraded_count(r) == 0, "degraded on a full-ABI kernel: %zu",
          sandlock_result_degraded_count(r));
    CHECK(sandlock_result_degraded(r, 0) == NULL, "degraded(r, 0) not NULL");
    CHECK_MSG("sandlock_result_degraded", "out of range", "degraded(r, 0)");
    CHECK(sandlock_result_degraded(r, SIZE_MAX) == NULL, "degraded(r, SIZE_MAX) not NULL");
    CHECK_MSG("sandlock_result_degraded", "out of range", "degraded(r, SIZE_MAX)");
    sandlock_result_free(r);
    sandlock_result_free(NULL);
    CHECK(sandlock_last_error()[0] == '\0', "result_free(NULL) message: %s", sandlock_last_error());
    sandlock_policy_free(p);
}

static int free_calls;
static void count_free(void *ud)
{
    (void)ud;
    free_calls++;
}
static int32_t deny_all(const sandlock_event_t *ev, sandlock_ctx_t *ctx, void *ud)
{
    (void)ev;
    (void)ctx;
    (void)ud;
    return SANDLOCK_VERDICT_DENY;
}

void test_bad_args_misc(void)
{
    CHECK_ERR(sandlock_confine(NULL), SANDLOCK_EINVAL, "sandlock_confine", "policy is NULL");
    CHECK_ERR(sandlock_set_policy_fn(NULL, deny_all, NULL, NULL), SANDLOCK_EINVAL,
              "sandlock_set_policy_fn", "policy is NULL");
    sandlock_policy_t *p = base_policy();
    CHECK_ERR(sandlock_set_policy_fn(p, NULL, NULL, NULL), SANDLOCK_EINVAL,
              "sandlock_set_policy_fn", "fn is NULL");
    sandlock_policy_free(p);
    /* An invalid policy is reported before confine's own refusal. */
    p = base_policy();
    sandlock_policy_set_max_cpu(p, 1000);
    CHECK_ERR(sandlock_confine(p), SANDLOCK_EPOLICY, "sandlock_confine", "max_cpu");
    sandlock_policy_free(p);
}

/* Handles of the wrong type, and addresses that are no handle at all, are
 * rejected without being dereferenced. */
void test_wrong_handle_types(void)
{
    sandlock_policy_t *p = base_policy();
    sandlock_spawn_options_t *o = NULL;
    sandlock_result_t *r;
    const char *const argv[] = {"/bin/true", NULL};
    int on_stack = 0;

    CHECK_RC(sandlock_spawn_options_new(&o), SANDLOCK_OK);
    r = run_ok(p, argv, 0);

    CHECK_ERR(sandlock_policy_validate((sandlock_policy_t *)r), SANDLOCK_EINVAL,
              "sandlock_policy_validate", "p is not a valid sandlock_policy_t");
    CHECK_ERR(sandlock_policy_add_fs_readable((sandlock_policy_t *)o, "/usr"), SANDLOCK_EINVAL,
              "sandlock_policy_add_fs_readable", "not a valid sandlock_policy_t");
    CHECK_ERR(sandlock_policy_validate((sandlock_policy_t *)&on_stack), SANDLOCK_EINVAL,
              "sandlock_policy_validate", "not a valid sandlock_policy_t");
    CHECK_ERR(sandlock_spawn_options_set_name((sandlock_spawn_options_t *)p, "x"), SANDLOCK_EINVAL,
              "sandlock_spawn_options_set_name", "not a valid sandlock_spawn_options_t");
    CHECK_ERR(sandlock_sandbox_kill((sandlock_sandbox_t *)p), SANDLOCK_EINVAL,
              "sandlock_sandbox_kill", "not a valid sandlock_sandbox_t");
    CHECK_ERR(sandlock_result_reason((sandlock_result_t *)p), SANDLOCK_EINVAL,
              "sandlock_result_reason", "not a valid sandlock_result_t");
    CHECK_ERR(sandlock_result_signal((sandlock_result_t *)&on_stack), SANDLOCK_EINVAL,
              "sandlock_result_signal", "not a valid sandlock_result_t");
    sandlock_sandbox_t *sb = (sandlock_sandbox_t *)&sb;
    CHECK_ERR(sandlock_spawn(p, argv, (sandlock_spawn_options_t *)r, &sb), SANDLOCK_EINVAL,
              "sandlock_spawn", "opts is not a valid sandlock_spawn_options_t");
    CHECK(sb == NULL, "spawn failure left *out = %p", (void *)sb);

    /* Freeing through the wrong type frees nothing: the objects still work. */
    sandlock_policy_free((sandlock_policy_t *)r);
    CHECK_MSG("sandlock_policy_free", "not a valid sandlock_policy_t", "policy_free(result)");
    sandlock_result_free((sandlock_result_t *)p);
    CHECK_MSG("sandlock_result_free", "not a valid sandlock_result_t", "result_free(policy)");
    CHECK(sandlock_result_reason(r) == SANDLOCK_REASON_EXITED, "result broken after bad free");
    CHECK_RC(sandlock_policy_validate(p), SANDLOCK_OK);

    sandlock_result_free(r);
    /* A second free is reported, not a crash (the handle is gone). */
    sandlock_result_free(r);
    CHECK_MSG("sandlock_result_free", "not a valid sandlock_result_t", "double free");
    sandlock_spawn_options_free(o);
    sandlock_policy_free(p);
}

void test_confine_enotsup(void)
{
    sandlock_policy_t *p = base_policy();
    int abi = sandlock_landlock_abi_version();
    int rc = sandlock_confine(p);
    if (abi < 8) {
        CHECK(rc == SANDLOCK_ENOTSUP, "confine on ABI %d: %d (%s)", abi, rc, sandlock_last_error());
        CHECK_MSG("sandlock_confine", "TSYNC", "confine");
    } else {
        CHECK(rc == SANDLOCK_ENOTIMPL, "confine on ABI %d: %d (%s)", abi, rc, sandlock_last_error());
        CHECK_MSG("sandlock_confine", "not implemented", "confine");
    }
    /* Nothing was confined: this process still reads what p does not grant. */
    FILE *f = fopen("/proc/self/status", "r");
    CHECK(f != NULL, "after confine, /proc/self/status is not readable");
    if (f != NULL) {
        fclose(f);
    }
    sandlock_policy_free(p);
}

void test_landlock_abi(void)
{
    int abi = sandlock_landlock_abi_version();
    CHECK(abi >= 1, "sandlock_landlock_abi_version() = %d: %s", abi, sandlock_last_error());
    CHECK(sandlock_last_error()[0] == '\0', "message after success: %s", sandlock_last_error());
}

void test_policy_fn_failed_registration(void)
{
    sandlock_policy_t *p = base_policy();
    int ud = 0;
    free_calls = 0;
    CHECK_ERR(sandlock_set_policy_fn(p, NULL, &ud, count_free), SANDLOCK_EINVAL,
              "sandlock_set_policy_fn", "fn is NULL");
    sandlock_policy_free(p);
    CHECK(free_calls == 0, "user_data_free called %d times after a failed registration",
          free_calls);
    /* A successful one is released exactly once, with the policy. */
    p = base_policy();
    CHECK_RC(sandlock_set_policy_fn(p, deny_all, &ud, count_free), SANDLOCK_OK);
    sandlock_policy_free(p);
    CHECK(free_calls == 1, "user_data_free called %d times after the policy was freed, want 1",
          free_calls);
}

/* One policy used from several threads at once: setters and spawns. */
struct shared_arg {
    sandlock_policy_t *p;
    int failures;
};

static void *shared_worker(void *arg)
{
    struct shared_arg *a = arg;
    const char *const argv[] = {"/bin/echo", "x", NULL};
    for (int i = 0; i < 5; i++) {
        sandlock_result_t *r = NULL;
        if (sandlock_policy_add_net_connect(a->p, (uint16_t)(1000 + i)) != SANDLOCK_OK ||
            sandlock_run(a->p, argv, 0, &r) != SANDLOCK_OK ||
            strcmp((const char *)sandlock_result_stdout(r, NULL), "x\n") != 0) {
            __atomic_add_fetch(&a->failures, 1, __ATOMIC_SEQ_CST);
        }
        sandlock_result_free(r);
    }
    return NULL;
}

void test_policy_shared_across_threads(void)
{
    struct shared_arg a = {base_policy(), 0};
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        pthread_create(&t[i], NULL, shared_worker, &a);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
    }
    CHECK(a.failures == 0, "%d failures using one policy from 4 threads", a.failures);
    CHECK_RC(sandlock_policy_validate(a.p), SANDLOCK_OK);
    sandlock_policy_free(a.p);
}
