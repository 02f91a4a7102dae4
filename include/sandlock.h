/*
 * sandlock.h - C API of libsandlock, a Linux process sandbox.
 *
 * libsandlock starts commands confined by Landlock and seccomp and
 * supervised by a Go engine that runs inside the calling process.
 *
 * ---------------------------------------------------------------------------
 * Conventions (they hold for every function unless its own comment says
 * otherwise)
 * ---------------------------------------------------------------------------
 *
 * Status codes
 *   A function that can fail returns int: SANDLOCK_OK (0) on success or a
 *   negative SANDLOCK_E* code. The values are ABI: they are never renumbered
 *   and new ones are only appended. Compare with the names, not the numbers.
 *   After every call that can fail, sandlock_last_error() describes what
 *   went wrong (empty string on success). sandlock_strerror() names a code.
 *   Any function that returns a status may also return SANDLOCK_EINTERNAL
 *   (a bug in the library, reported instead of crashing the host); the
 *   per-function lists below leave it out.
 *
 * Arguments
 *   Handle and pointer arguments must not be NULL unless the comment says
 *   "may be NULL". A NULL where none is allowed, a string that is not valid
 *   UTF-8, a number outside the documented range, an unknown enum value or a
 *   handle of the wrong type fails with SANDLOCK_EINVAL and changes nothing.
 *   Nothing is ever silently ignored.
 *   Strings are NUL-terminated UTF-8. Byte buffers are (const uint8_t *,
 *   size_t). Inputs are copied before the call returns; the library keeps
 *   no pointer the caller passed in, except function pointers and user_data
 *   given to a callback registration.
 *
 * Ownership
 *   An object returned through an out-parameter (**out) belongs to the
 *   caller, who releases it with the matching _free function. Every _free
 *   accepts NULL as a no-op. On failure *out is set to NULL (when out itself
 *   is not NULL).
 *   A pointer returned directly (const char *, const uint8_t *) is a
 *   borrowed view owned by the library: valid until its parent object is
 *   freed, or for sandlock_last_error() until the next sandlock call on the
 *   same thread. Do not free it.
 *   A char * returned as owned is released with sandlock_string_free(),
 *   never with free(): the allocator is not part of the contract.
 *   Using a handle after its _free is undefined behaviour. It is usually
 *   reported as SANDLOCK_EINVAL, but a freed address may be reused by a
 *   later object of the same type, so this is not a detected error.
 *
 * Threads
 *   All functions may be called from any thread. Each type's section says
 *   which functions may run concurrently on the same object; _free must
 *   never run concurrently with another call on the same object.
 *   sandlock_last_error() and sandlock_last_errno() are per thread: read
 *   them on the thread that received the error code.
 *   Policy callbacks run on dedicated threads owned by the library (one per
 *   sandbox, see sandlock_policy_fn), never on the thread that called
 *   sandlock_spawn().
 *
 * The Go runtime
 *   The library embeds a Go runtime, started when the library is loaded. It
 *   installs signal handlers only for synchronous signals (SIGSEGV, SIGBUS,
 *   SIGFPE), SIGPIPE and SIGURG (which it uses to preempt goroutines), and
 *   never takes SIGCHLD or SIGINT from the host. Do not fork() the host
 *   process after loading the library unless the child calls execve() at
 *   once: the child would inherit a Go runtime without its threads.
 *
 * Versions
 *   The SONAME is libsandlock.so.<SANDLOCK_VERSION_MAJOR>. Within a major
 *   version no published function changes its signature or meaning;
 *   functions are only added. Check sandlock_version_number() / 10000 at
 *   load time and refuse a major version you were not built for.
 */
#ifndef SANDLOCK_H
#define SANDLOCK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ===========================================================================
 * Macros
 * ======================================================================== */

/* SANDLOCK_API marks every function the library exports. */
#if defined(__GNUC__) || defined(__clang__)
#define SANDLOCK_API __attribute__((visibility("default")))
#else
#define SANDLOCK_API
#endif

/* SANDLOCK_DEPRECATED(msg) marks a function that will go at the next major
 * version; msg names its replacement. */
#if defined(__cplusplus) && __cplusplus >= 201402L
#define SANDLOCK_DEPRECATED(msg) [[deprecated(msg)]]
#elif defined(__GNUC__) || defined(__clang__)
#define SANDLOCK_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define SANDLOCK_DEPRECATED(msg)
#endif

/* ===========================================================================
 * Version
 * ======================================================================== */

/* The version of this header. The build reads it from here; it is the only
 * place the version is written down. */
#define SANDLOCK_VERSION_MAJOR 0
#define SANDLOCK_VERSION_MINOR 1
#define SANDLOCK_VERSION_PATCH 0
#define SANDLOCK_VERSION_NUMBER                                             \
    (SANDLOCK_VERSION_MAJOR * 10000 + SANDLOCK_VERSION_MINOR * 100 +       \
     SANDLOCK_VERSION_PATCH)
#define SANDLOCK_VERSION_STRING "0.1.0"

/* True when this header is at least version maj.min.pat. */
#define SANDLOCK_VERSION_CHECK(maj, min, pat)                               \
    (SANDLOCK_VERSION_NUMBER >= ((maj) * 10000 + (min) * 100 + (pat)))

/*
 * sandlock_version_number - version of the loaded library.
 *
 * Returns MAJOR * 10000 + MINOR * 100 + PATCH of the library actually
 * loaded, which may differ from SANDLOCK_VERSION_NUMBER of the header the
 * caller was compiled with. Never fails. Thread: any.
 */
SANDLOCK_API unsigned sandlock_version_number(void);

/*
 * sandlock_version_string - version of the loaded library.
 *
 * Returns "MAJOR.MINOR.PATCH" of the library actually loaded, a static
 * string owned by the library; never NULL. Never fails.
 * Thread: any.
 */
SANDLOCK_API const char *sandlock_version_string(void);

/* ===========================================================================
 * Errors
 * ======================================================================== */

/* Status codes. Values are ABI: never renumbered, only appended. */
enum sandlock_status {
    /* Success. */
    SANDLOCK_OK = 0,
    /* Bad argument: NULL pointer, invalid UTF-8, number out of range,
     * unknown enum value, invalid or wrong-type handle. */
    SANDLOCK_EINVAL = -1,
    /* The policy is invalid (sandlock_last_error() names the option, by its
     * snake_case name, and the problem), or names something that does not
     * exist on this host, such as a missing path. */
    SANDLOCK_EPOLICY = -2,
    /* Not supported here: the kernel lacks a feature the request needs
     * (Landlock missing or too old for a protection the policy needs). The
     * message names the missing feature. Compare SANDLOCK_ENOTIMPL. */
    SANDLOCK_ENOTSUP = -3,
    /* The command could not be started (process creation failed). A command
     * that is started but cannot be executed is not an error: its result
     * has exit code 127 and sandlock_result_exec_error() set. */
    SANDLOCK_ESPAWN = -4,
    /* The kernel refused a confinement step (Landlock, seccomp,
     * no_new_privs). */
    SANDLOCK_ECONFINE = -5,
    /* The object is in the wrong state for the call, such as killing a
     * sandbox that has already ended. */
    SANDLOCK_ESTATE = -6,
    /* A wait ended before the sandbox did; the sandbox keeps running. */
    SANDLOCK_ETIMEOUT = -7,
    /* A system call failed; sandlock_last_errno() gives its errno. */
    SANDLOCK_EOS = -8,
    /* Out of memory. */
    SANDLOCK_ENOMEM = -9,
    /* A bug in libsandlock (for example a recovered internal panic). The
     * message says where; please report it. */
    SANDLOCK_EINTERNAL = -10,
    /* Feature not implemented yet: the option or function exists in the
     * API but this build of the library cannot honour it yet, whatever the
     * kernel offers. The message names the option. */
    SANDLOCK_ENOTIMPL = -11
};

/*
 * sandlock_last_error - message about the last failure on this thread.
 *
 * Every sandlock call except sandlock_last_error(), sandlock_last_errno(),
 * sandlock_strerror() and the version functions replaces it: with a
 * message when the call fails, with "" when it succeeds. Messages start
 * with the name of the function that failed.
 *
 * Returns a thread-local string owned by the library, valid until the
 * next sandlock call on the same thread; never NULL. Thread: any; reads
 * the calling thread's message only.
 */
SANDLOCK_API const char *sandlock_last_error(void);

/*
 * sandlock_last_errno - errno behind the last failure on this thread.
 *
 * Returns the errno of the system call that caused the last failure on
 * this thread (always set for SANDLOCK_EOS, and for other codes when a
 * system call error is the cause), or 0. Reset like sandlock_last_error().
 * Thread: any; per thread.
 */
SANDLOCK_API int sandlock_last_errno(void);

/*
 * sandlock_strerror - name and short description of a status code.
 *
 * Returns a static string, such as "SANDLOCK_EINVAL: invalid argument";
 * for an unknown code, "unknown sandlock status code". Never NULL, never
 * fails. Thread: any.
 */
SANDLOCK_API const char *sandlock_strerror(int code);

/*
 * sandlock_string_free - release a string the library returned as owned.
 *
 * s: a char * that a sandlock function documented as "free with
 * sandlock_string_free()"; may be NULL (no-op). Thread: any.
 */
SANDLOCK_API void sandlock_string_free(char *s);

/* ===========================================================================
 * Opaque types
 * ======================================================================== */

/* A sandbox policy: what a confined command may do. */
typedef struct sandlock_policy sandlock_policy_t;
/* Per-run settings that are not part of the policy (stdio, timeout...). */
typedef struct sandlock_spawn_options sandlock_spawn_options_t;
/* A started sandbox (running or ended). */
typedef struct sandlock_sandbox sandlock_sandbox_t;
/* How a sandbox ended: exit status, reason, captured output. */
typedef struct sandlock_result sandlock_result_t;
/* An intercepted system call, passed to a policy callback. */
typedef struct sandlock_event sandlock_event_t;
/* What a policy callback may act on during one call. */
typedef struct sandlock_ctx sandlock_ctx_t;

/* ===========================================================================
 * Policy
 *
 * A policy starts from the defaults of the original sandlock Policy (raw
 * sockets forbidden, at most 64 processes, everything else off). Setters
 * change one option each; list options have an add function that appends
 * and a clear function that restores the default. Options are named after
 * the snake_case fields of the sandlock Python Policy.
 *
 * Setters check only what belongs to the call itself: NULL, UTF-8, enum
 * values, and the ranges a comment marks as EINVAL. Everything else -
 * absolute paths, max_cpu in 1..100, options that need each other - is
 * checked as a whole by sandlock_policy_validate(), which sandlock_spawn()
 * and sandlock_run() also call. A value is never dropped: an option this
 * build cannot enforce yet is recorded, and validation then fails with
 * SANDLOCK_ENOTIMPL naming it.
 *
 * Setters return SANDLOCK_OK or SANDLOCK_EINVAL; on EINVAL the policy is
 * unchanged.
 *
 * Threads: a policy may be used by any number of threads at once, setters
 * included (each call is atomic). sandlock_spawn() and sandlock_run() take
 * a snapshot, so changing a policy later does not affect sandboxes already
 * started.
 * ======================================================================== */

/*
 * sandlock_policy_new - create a policy holding the defaults.
 *
 * out: receives the new policy; free it with sandlock_policy_free().
 * Returns SANDLOCK_OK, SANDLOCK_EINVAL (out NULL) or SANDLOCK_ENOMEM.
 */
SANDLOCK_API int sandlock_policy_new(sandlock_policy_t **out);

/*
 * sandlock_policy_free - release a policy.
 *
 * p: may be NULL (no-op). Sandboxes started from p are not affected.
 */
SANDLOCK_API void sandlock_policy_free(sandlock_policy_t *p);

/*
 * sandlock_policy_clone - copy a policy.
 *
 * p: the policy to copy. out: receives an independent deep copy; free it
 * with sandlock_policy_free(). Returns SANDLOCK_OK, SANDLOCK_EINVAL or
 * SANDLOCK_ENOMEM.
 */
SANDLOCK_API int sandlock_policy_clone(const sandlock_policy_t *p,
                                       sandlock_policy_t **out);

/*
 * sandlock_policy_validate - check a policy as a whole.
 *
 * Returns SANDLOCK_OK; SANDLOCK_EPOLICY for an invalid policy;
 * SANDLOCK_ENOTIMPL when it sets an option this build does not enforce yet;
 * SANDLOCK_EINVAL for a bad handle. The message names the first offending
 * option. Whether paths exist is checked only at spawn time.
 */
SANDLOCK_API int sandlock_policy_validate(const sandlock_policy_t *p);

/* --- Filesystem ---------------------------------------------------------- */

/*
 * fs_writable: paths (absolute; a tree or a single file) granted read,
 * write, create and delete. Default empty. /proc and /sys are never
 * writable. add appends path; clear empties the list.
 */
SANDLOCK_API int sandlock_policy_add_fs_writable(sandlock_policy_t *p,
                                                 const char *path);
SANDLOCK_API int sandlock_policy_clear_fs_writable(sandlock_policy_t *p);

/*
 * fs_readable: paths granted read, list and execute. Default empty, so a
 * command needs at least its binary and libraries here (for example /usr,
 * /lib, /lib64, /bin, /etc). add appends; clear empties.
 */
SANDLOCK_API int sandlock_policy_add_fs_readable(sandlock_policy_t *p,
                                                 const char *path);
SANDLOCK_API int sandlock_policy_clear_fs_readable(sandlock_policy_t *p);

/*
 * fs_denied: paths carved out of the granted trees; opening, executing,
 * creating, linking or renaming them fails with EACCES. Default empty.
 * add appends; clear empties.
 */
SANDLOCK_API int sandlock_policy_add_fs_denied(sandlock_policy_t *p,
                                               const char *path);
SANDLOCK_API int sandlock_policy_clear_fs_denied(sandlock_policy_t *p);

/* --- System calls ------------------------------------------------------ */

/*
 * deny_syscalls: a deny list that replaces the built-in default list.
 * Default: not given (the built-in list applies).
 * add appends a syscall name (such as "ptrace") and makes the option given;
 * set_deny_syscalls_empty gives the option with an empty list (deny
 * nothing beyond what is always enforced); clear returns to "not given".
 * Cannot be combined with allow_syscalls (validation fails).
 */
SANDLOCK_API int sandlock_policy_add_deny_syscalls(sandlock_policy_t *p,
                                                   const char *name);
SANDLOCK_API int sandlock_policy_set_deny_syscalls_empty(sandlock_policy_t *p);
SANDLOCK_API int sandlock_policy_clear_deny_syscalls(sandlock_policy_t *p);

/*
 * allow_syscalls: allowlist mode; only the listed syscalls (plus what the
 * sandbox needs to run) are allowed. Default: not given (off).
 * add appends a name and turns allowlist mode on; set_allow_syscalls_empty
 * turns it on with an empty list; clear turns it off.
 */
SANDLOCK_API int sandlock_policy_add_allow_syscalls(sandlock_policy_t *p,
                                                    const char *name);
SANDLOCK_API int sandlock_policy_set_allow_syscalls_empty(sandlock_policy_t *p);
SANDLOCK_API int sandlock_policy_clear_allow_syscalls(sandlock_policy_t *p);

/* --- Network ------------------------------------------------------------ */

/*
 * net_allow_hosts: the hosts (names or IP literals) the sandbox may reach.
 * Default: not given (no host restriction).
 * add appends a host; set_net_allow_hosts_empty gives an empty list (no
 * host may be reached); clear returns to "not given".
 */
SANDLOCK_API int sandlock_policy_add_net_allow_hosts(sandlock_policy_t *p,
                                                     const char *host);
SANDLOCK_API int sandlock_policy_set_net_allow_hosts_empty(sandlock_policy_t *p);
SANDLOCK_API int sandlock_policy_clear_net_allow_hosts(sandlock_policy_t *p);

/*
 * net_bind: TCP ports the sandbox may bind. Default empty: no TCP bind.
 * add appends one port; add_range appends first..last inclusive (EINVAL
 * when first > last); the list stays sorted and without duplicates.
 * clear empties it.
 */
SANDLOCK_API int sandlock_policy_add_net_bind(sandlock_policy_t *p,
                                              uint16_t port);
SANDLOCK_API int sandlock_policy_add_net_bind_range(sandlock_policy_t *p,
                                                    uint16_t first,
                                                    uint16_t last);
SANDLOCK_API int sandlock_policy_clear_net_bind(sandlock_policy_t *p);

/*
 * net_connect: TCP ports the sandbox may connect to. Default empty: no TCP
 * connect. Same functions as net_bind.
 */
SANDLOCK_API int sandlock_policy_add_net_connect(sandlock_policy_t *p,
                                                 uint16_t port);
SANDLOCK_API int sandlock_policy_add_net_connect_range(sandlock_policy_t *p,
                                                       uint16_t first,
                                                       uint16_t last);
SANDLOCK_API int sandlock_policy_clear_net_connect(sandlock_policy_t *p);

/*
 * Boolean options take on = 0 (off) or 1 (on); any other value is
 * SANDLOCK_EINVAL.
 *
 * no_raw_sockets: forbid raw IP sockets. Default 1.
 * no_udp: forbid UDP sockets. Default 0.
 */
SANDLOCK_API int sandlock_policy_set_no_raw_sockets(sandlock_policy_t *p,
                                                    int on);
SANDLOCK_API int sandlock_policy_set_no_udp(sandlock_policy_t *p, int on);

/*
 * port_remap: give the sandbox a private TCP port space. Default 0.
 */
SANDLOCK_API int sandlock_policy_set_port_remap(sandlock_policy_t *p, int on);

/* --- HTTP access control ------------------------------------------------- */

/*
 * http_allow / http_deny: rules "METHOD host/path" for HTTP requests; deny
 * rules are evaluated first, and a non-empty allow list denies every
 * request it does not match. Default empty. add appends; clear empties.
 */
SANDLOCK_API int sandlock_policy_add_http_allow(sandlock_policy_t *p,
                                                const char *rule);
SANDLOCK_API int sandlock_policy_clear_http_allow(sandlock_policy_t *p);
SANDLOCK_API int sandlock_policy_add_http_deny(sandlock_policy_t *p,
                                               const char *rule);
SANDLOCK_API int sandlock_policy_clear_http_deny(sandlock_policy_t *p);

/*
 * http_ports: TCP ports whose connections go through the HTTP rules.
 * Default empty (port 80, and 443 with https_ca, once a rule exists).
 * Same functions as net_bind.
 */
SANDLOCK_API int sandlock_policy_add_http_ports(sandlock_policy_t *p,
                                                uint16_t port);
SANDLOCK_API int sandlock_policy_add_http_ports_range(sandlock_policy_t *p,
                                                      uint16_t first,
                                                      uint16_t last);
SANDLOCK_API int sandlock_policy_clear_http_ports(sandlock_policy_t *p);

/*
 * https_ca / https_key: PEM files of the CA used to inspect HTTPS; both or
 * neither. Default unset; "" unsets.
 */
SANDLOCK_API int sandlock_policy_set_https_ca(sandlock_policy_t *p,
                                              const char *path);
SANDLOCK_API int sandlock_policy_set_https_key(sandlock_policy_t *p,
                                               const char *path);

/* --- Resources ---------------------------------------------------------- */

/*
 * max_memory: anonymous-memory budget of the whole sandbox in bytes.
 * 0 (default) is unlimited. An allocation past the budget fails with
 * ENOMEM; growth no system call announces (stack, a bss mapped by execve)
 * found past it kills the sandbox, whose result's reason is then
 * SANDLOCK_REASON_MEMORY_LIMIT.
 */
SANDLOCK_API int sandlock_policy_set_max_memory(sandlock_policy_t *p,
                                                uint64_t bytes);

/*
 * max_processes: most processes that may exist at once in the sandbox
 * (threads are not counted). 0 is unlimited; default 64.
 */
SANDLOCK_API int sandlock_policy_set_max_processes(sandlock_policy_t *p,
                                                   uint32_t n);

/*
 * max_open_files: RLIMIT_NOFILE of the sandbox. 0 (default) inherits the
 * host's limit. An unprivileged host cannot raise it above its own hard
 * limit (spawn fails with SANDLOCK_EPOLICY).
 */
SANDLOCK_API int sandlock_policy_set_max_open_files(sandlock_policy_t *p,
                                                    uint64_t n);

/*
 * max_cpu: CPU share in percent of one core, 1..100. 0 (default) is
 * unthrottled; values above 100 fail validation.
 */
SANDLOCK_API int sandlock_policy_set_max_cpu(sandlock_policy_t *p,
                                             uint32_t percent);

/*
 * cpu_cores: CPUs to pin the sandbox to. Default: not given (no pinning).
 * add appends a CPU number (0..1023, checked by validation); clear returns
 * to no pinning.
 */
SANDLOCK_API int sandlock_policy_add_cpu_cores(sandlock_policy_t *p,
                                               uint32_t core);
SANDLOCK_API int sandlock_policy_clear_cpu_cores(sandlock_policy_t *p);

/*
 * num_cpus: number of CPUs the sandbox sees. 0 (default) shows the real
 * count.
 */
SANDLOCK_API int sandlock_policy_set_num_cpus(sandlock_policy_t *p,
                                              uint32_t n);

/*
 * gpu_devices: GPU access. Default: not given (no GPU access).
 * add appends a device index; set_gpu_devices_empty grants GPU access with
 * no index list; clear returns to no GPU access.
 */
SANDLOCK_API int sandlock_policy_add_gpu_devices(sandlock_policy_t *p,
                                                 uint32_t index);
SANDLOCK_API int sandlock_policy_set_gpu_devices_empty(sandlock_policy_t *p);
SANDLOCK_API int sandlock_policy_clear_gpu_devices(sandlock_policy_t *p);

/* --- Determinism and process settings ----------------------------------- */

/*
 * no_coredump: no core files. Default 0.
 * no_randomize_memory: disable address space randomisation. Default 0.
 * no_huge_pages: disable transparent huge pages. Default 0.
 * deterministic_dirs: directory listings come sorted. Default 0.
 * clean_env: start the command from an empty environment (env still
 * applies). Default 0.
 * allow_degraded: let a spawn go ahead when the kernel lacks a Landlock
 * protection the policy needs; the missing protections are listed by
 * sandlock_result_degraded(). Default 0: such a spawn fails with
 * SANDLOCK_ENOTSUP.
 */
SANDLOCK_API int sandlock_policy_set_no_coredump(sandlock_policy_t *p, int on);
SANDLOCK_API int sandlock_policy_set_no_randomize_memory(sandlock_policy_t *p,
                                                         int on);
SANDLOCK_API int sandlock_policy_set_no_huge_pages(sandlock_policy_t *p,
                                                   int on);
SANDLOCK_API int sandlock_policy_set_deterministic_dirs(sandlock_policy_t *p,
                                                        int on);
SANDLOCK_API int sandlock_policy_set_clean_env(sandlock_policy_t *p, int on);
SANDLOCK_API int sandlock_policy_set_allow_degraded(sandlock_policy_t *p,
                                                    int on);

/*
 * random_seed: make getrandom() and /dev/urandom deterministic with this
 * seed. Default: not set; clear unsets.
 */
SANDLOCK_API int sandlock_policy_set_random_seed(sandlock_policy_t *p,
                                                 uint64_t seed);
SANDLOCK_API int sandlock_policy_clear_random_seed(sandlock_policy_t *p);

/*
 * time_start: the wall clock inside the sandbox starts at this instant and
 * keeps ticking. seconds since the Unix epoch (may be negative) plus
 * nanoseconds (0..999999999, else EINVAL). Default: not set; clear unsets.
 */
SANDLOCK_API int sandlock_policy_set_time_start(sandlock_policy_t *p,
                                                int64_t unix_seconds,
                                                uint32_t nanoseconds);
SANDLOCK_API int sandlock_policy_clear_time_start(sandlock_policy_t *p);

/*
 * hostname: host name inside the sandbox (uname, /etc/hostname). Default
 * unset (the host's); "" unsets.
 */
SANDLOCK_API int sandlock_policy_set_hostname(sandlock_policy_t *p,
                                              const char *name);

/*
 * env: set variable key to value in the command's environment, after
 * clean_env; setting a key again replaces its value. clear_env removes
 * every variable set this way (it does not touch clean_env).
 */
SANDLOCK_API int sandlock_policy_set_env(sandlock_policy_t *p,
                                         const char *key, const char *value);
SANDLOCK_API int sandlock_policy_clear_env(sandlock_policy_t *p);

/*
 * uid: run as this user id inside a new user namespace (0..4294967294,
 * checked by validation). Default: not set; clear unsets.
 */
SANDLOCK_API int sandlock_policy_set_uid(sandlock_policy_t *p, uint32_t uid);
SANDLOCK_API int sandlock_policy_clear_uid(sandlock_policy_t *p);

/*
 * cwd: the command's working directory (absolute). Default unset (the
 * host's); "" unsets.
 */
SANDLOCK_API int sandlock_policy_set_cwd(sandlock_policy_t *p,
                                         const char *dir);

/* --- Root and copy-on-write ---------------------------------------------- */

/*
 * chroot: directory the sandbox sees as "/". Default unset; "" unsets.
 */
SANDLOCK_API int sandlock_policy_set_chroot(sandlock_policy_t *p,
                                            const char *dir);

/*
 * fs_mount: map the absolute path virt inside the chroot to the host
 * directory host (needs chroot). Mapping virt again replaces it. clear
 * removes every mapping.
 */
SANDLOCK_API int sandlock_policy_add_fs_mount(sandlock_policy_t *p,
                                              const char *virt,
                                              const char *host);
SANDLOCK_API int sandlock_policy_clear_fs_mount(sandlock_policy_t *p);

/*
 * workdir: copy-on-write root. fs_storage: where the copy-on-write layer
 * is kept. Default unset; "" unsets.
 */
SANDLOCK_API int sandlock_policy_set_workdir(sandlock_policy_t *p,
                                             const char *dir);
SANDLOCK_API int sandlock_policy_set_fs_storage(sandlock_policy_t *p,
                                                const char *dir);

/* Copy-on-write backends for sandlock_policy_set_fs_isolation(). */
enum sandlock_fs_isolation {
    SANDLOCK_FS_ISOLATION_NONE = 0,      /* default */
    SANDLOCK_FS_ISOLATION_OVERLAYFS = 1,
    SANDLOCK_FS_ISOLATION_BRANCHFS = 2
};

/*
 * fs_isolation: copy-on-write backend, one of SANDLOCK_FS_ISOLATION_*
 * (other values: EINVAL). Anything but NONE needs workdir.
 */
SANDLOCK_API int sandlock_policy_set_fs_isolation(sandlock_policy_t *p,
                                                  int isolation);

/*
 * max_disk: size cap of the copy-on-write layer in bytes; 0 (default) is
 * unlimited. Needs workdir.
 */
SANDLOCK_API int sandlock_policy_set_max_disk(sandlock_policy_t *p,
                                              uint64_t bytes);

/* What happens to the copy-on-write layer when the sandbox ends. */
enum sandlock_branch_action {
    SANDLOCK_BRANCH_COMMIT = 0,
    SANDLOCK_BRANCH_ABORT = 1,
    SANDLOCK_BRANCH_KEEP = 2
};

/*
 * on_exit: action after exit status 0, default SANDLOCK_BRANCH_COMMIT.
 * on_error: action after any other end, default SANDLOCK_BRANCH_ABORT.
 * action is one of SANDLOCK_BRANCH_* (other values: EINVAL).
 */
SANDLOCK_API int sandlock_policy_set_on_exit(sandlock_policy_t *p, int action);
SANDLOCK_API int sandlock_policy_set_on_error(sandlock_policy_t *p,
                                              int action);

/* ===========================================================================
 * Policy callbacks
 *
 * A policy callback sees the system calls the supervisor intercepts and
 * decides some of them while they wait.
 *
 * Events. Every intercepted system call of the sandbox becomes an event:
 * its name, category, process and parent process, the destination (or for
 * bind the local) IP address and port of connect, sendto, sendmsg,
 * sendmmsg and bind, the size of mmap, munmap, mremap and brk, the argv of
 * execve and execveat, and whether the built-in policy already denied it.
 * Events carry no path: a path read from the sandbox's memory could change
 * after it was read; restrict files with sandlock_ctx_deny_path() instead.
 *
 * Held calls. execve, execveat, connect, sendto, sendmsg, sendmmsg, bind,
 * openat, openat2, open and creat wait for the callback's verdict (the
 * event's sandlock_event_held() is 1); the verdict of any other event is
 * ignored. A call the built-in policy denied is not held (its event says
 * denied). The argv of an exec is read while every other task of the
 * sandbox is stopped, so it is what the kernel runs. The connect, send and
 * bind addresses are those the supervisor uses when it performs the call
 * for the sandbox.
 *
 * Observed events (not held) are queued for the callback without making
 * the call wait. When the callback falls more than 4096 events behind, new
 * observed events are dropped (never a held one: a held call that finds
 * the queue full is denied). Observed events still queued when the sandbox
 * ends are delivered before the sandbox's end is reported, for at most
 * 5 seconds.
 *
 * Fail closed. A held call is denied (EPERM) when the callback returns a
 * value that is not a SANDLOCK_VERDICT_* value or an errno (1..4095), when
 * no verdict comes within 5 seconds, when the sandbox is ending, or when
 * the call cannot be examined safely.
 * ======================================================================== */

/* Verdicts a sandlock_policy_fn returns. A value in 1..4095 denies the
 * system call with that errno (13 is EACCES). Any other value denies with
 * EPERM. */
#define SANDLOCK_VERDICT_ALLOW 0
#define SANDLOCK_VERDICT_DENY (-1)
#define SANDLOCK_VERDICT_AUDIT (-2)

/* Event categories (sandlock_event_category()). */
enum sandlock_category {
    SANDLOCK_CATEGORY_FILE = 0,
    SANDLOCK_CATEGORY_NETWORK = 1,
    SANDLOCK_CATEGORY_PROCESS = 2,
    SANDLOCK_CATEGORY_MEMORY = 3
};

/*
 * sandlock_policy_fn - decide on an intercepted system call.
 *
 * event: the system call, read with the sandlock_event_* functions; valid
 *        only during the call, do not keep it or anything it returns.
 * ctx: valid only during the call and on the calling thread; pass it only
 *      to sandlock_ctx_* functions (elsewhere they return SANDLOCK_ESTATE).
 * user_data: the pointer given to sandlock_set_policy_fn().
 * Returns SANDLOCK_VERDICT_ALLOW, SANDLOCK_VERDICT_AUDIT (allow and count
 * as audited), SANDLOCK_VERDICT_DENY (EPERM) or an errno to deny with.
 * Fails closed: any other value denies. Only held events' verdicts count.
 *
 * Thread: each sandbox has one dedicated OS thread, owned by the library
 * and locked to it, on which its callbacks run, one at a time; it is never
 * the thread that called sandlock_spawn(). Only while that thread is inside
 * a callback that takes long (a few milliseconds) and another held call
 * waits does a second dedicated thread of the same sandbox take the next
 * events (up to four threads per sandbox), so that a slow callback delays
 * only the call it is deciding. Callbacks of one sandbox can therefore
 * overlap, and callbacks of different sandboxes run on different threads:
 * make the callback thread-safe. Threads are reused by later sandboxes.
 * The callback may call sandlock_ctx_* and sandlock_event_* functions; it
 * must not make blocking sandlock calls on its own sandbox (wait, free).
 * C++ exceptions and longjmp must not leave it.
 */
typedef int32_t (*sandlock_policy_fn)(const sandlock_event_t *event,
                                      sandlock_ctx_t *ctx, void *user_data);

/* Destructor for user_data; called exactly once, by the last owner. */
typedef void (*sandlock_free_fn)(void *user_data);

/*
 * sandlock_set_policy_fn - attach a policy callback to a policy.
 *
 * policy: the policy; fn: the callback, not NULL; user_data: passed to fn,
 * may be NULL; user_data_free: may be NULL. A later call replaces the
 * registration (the earlier one is released). Clones of the policy and the
 * sandboxes started from it share the registration: user_data_free is
 * called exactly once, when the last policy and sandbox holding it have
 * been freed and no callback is running, on the thread that released it
 * last. On failure nothing is registered, user_data_free is not called and
 * the caller keeps ownership of user_data.
 * Returns SANDLOCK_OK or SANDLOCK_EINVAL.
 */
SANDLOCK_API int sandlock_set_policy_fn(sandlock_policy_t *policy,
                                        sandlock_policy_fn fn,
                                        void *user_data,
                                        sandlock_free_fn user_data_free);

/*
 * Event accessors. ev: the event given to the callback. They never block
 * and may be called only during the callback. For a NULL or invalid ev,
 * functions returning int return SANDLOCK_EINVAL, those returning
 * pointers return NULL and sandlock_event_size/argc return 0.
 *
 * sandlock_event_syscall - the system call's name ("openat", "connect").
 * sandlock_event_category - a SANDLOCK_CATEGORY_* value.
 * sandlock_event_pid - the calling process (thread group id).
 * sandlock_event_parent_pid - its parent, 0 when unknown.
 * sandlock_event_host - the IP address (text) of connect, sendto, sendmsg,
 *     sendmmsg and bind on IPv4 and IPv6 sockets, NULL otherwise.
 * sandlock_event_port - the port that goes with the host, else 0.
 * sandlock_event_size - the length of mmap, munmap, mremap (new length),
 *     the heap size asked for by brk; 0 otherwise.
 * sandlock_event_argc / sandlock_event_argv - argv of execve and execveat
 *     (argc 0 otherwise); argv(i) is NULL when i >= argc.
 * sandlock_event_denied - 1 when the built-in policy already denied the
 *     call (the verdict cannot allow it), else 0.
 * sandlock_event_held - 1 when the call waits for this verdict, else 0.
 * Strings are borrowed from the event: valid until the callback returns.
 */
SANDLOCK_API const char *sandlock_event_syscall(const sandlock_event_t *ev);
SANDLOCK_API int sandlock_event_category(const sandlock_event_t *ev);
SANDLOCK_API int sandlock_event_pid(const sandlock_event_t *ev);
SANDLOCK_API int sandlock_event_parent_pid(const sandlock_event_t *ev);
SANDLOCK_API const char *sandlock_event_host(const sandlock_event_t *ev);
SANDLOCK_API int sandlock_event_port(const sandlock_event_t *ev);
SANDLOCK_API uint64_t sandlock_event_size(const sandlock_event_t *ev);
SANDLOCK_API size_t sandlock_event_argc(const sandlock_event_t *ev);
SANDLOCK_API const char *sandlock_event_argv(const sandlock_event_t *ev,
                                             size_t i);
SANDLOCK_API int sandlock_event_denied(const sandlock_event_t *ev);
SANDLOCK_API int sandlock_event_held(const sandlock_event_t *ev);

/*
 * Context functions: narrow the sandbox from inside a callback. Each takes
 * effect for the next system call the supervisor examines. A grant never
 * goes past what the sandbox started with (its ceiling) and is refused
 * once the same resource was restricted; a restrict never widens.
 *
 * ctx: the ctx given to the running callback, on its thread.
 * ips: n IP address strings ("10.0.0.1", "::1"); NULL is allowed when n is
 *      0. An address that does not parse is SANDLOCK_EINVAL and changes
 *      nothing.
 *
 * sandlock_ctx_restrict_network - the sandbox may reach only ips (within
 *     its current list); n == 0 blocks every IP destination. Connects and
 *     sends elsewhere then fail with ECONNREFUSED.
 * sandlock_ctx_grant_network - add ips back, within the ceiling (the
 *     policy's host allowlist, or any address without one).
 * sandlock_ctx_restrict_pid_network - process pid may reach only ips, in
 *     addition to the sandbox-wide limits; n == 0 blocks it entirely.
 * sandlock_ctx_clear_pid_override - undo restrict_pid_network for pid.
 * sandlock_ctx_restrict_max_processes / _grant_max_processes - lower /
 *     raise the process limit (n > 0); needs max_processes in the policy.
 * sandlock_ctx_restrict_max_memory / _grant_max_memory - lower / raise the
 *     memory budget in bytes (> 0); needs max_memory in the policy.
 * sandlock_ctx_deny_path - make path (absolute) unreachable: opening,
 *     executing, creating, linking or renaming it fails with EACCES. The
 *     object is recognised after resolution (symlinks, other spellings and
 *     hard links reach the same denial).
 * sandlock_ctx_allow_path - undo an earlier deny_path of path; the
 *     policy's own fs_denied stays.
 *
 * Return SANDLOCK_OK; SANDLOCK_EINVAL for a bad argument or ctx;
 * SANDLOCK_ESTATE when ctx is used outside its callback or after the
 * sandbox ended, for a grant after a restrict, or when the sandbox does
 * not enforce the resource; SANDLOCK_EPOLICY for a grant above the
 * ceiling.
 */
SANDLOCK_API int sandlock_ctx_restrict_network(sandlock_ctx_t *ctx,
                                               const char *const *ips,
                                               size_t n);
SANDLOCK_API int sandlock_ctx_grant_network(sandlock_ctx_t *ctx,
                                            const char *const *ips, size_t n);
SANDLOCK_API int sandlock_ctx_restrict_pid_network(sandlock_ctx_t *ctx,
                                                   int pid,
                                                   const char *const *ips,
                                                   size_t n);
SANDLOCK_API int sandlock_ctx_clear_pid_override(sandlock_ctx_t *ctx, int pid);
SANDLOCK_API int sandlock_ctx_restrict_max_processes(sandlock_ctx_t *ctx,
                                                     uint32_t n);
SANDLOCK_API int sandlock_ctx_grant_max_processes(sandlock_ctx_t *ctx,
                                                  uint32_t n);
SANDLOCK_API int sandlock_ctx_restrict_max_memory(sandlock_ctx_t *ctx,
                                                  uint64_t bytes);
SANDLOCK_API int sandlock_ctx_grant_max_memory(sandlock_ctx_t *ctx,
                                               uint64_t bytes);
SANDLOCK_API int sandlock_ctx_deny_path(sandlock_ctx_t *ctx, const char *path);
SANDLOCK_API int sandlock_ctx_allow_path(sandlock_ctx_t *ctx,
                                         const char *path);

/* ===========================================================================
 * Spawn options
 *
 * Threads: options may be used by any number of threads at once, setters
 * included; sandlock_spawn() takes a snapshot.
 * ======================================================================== */

/* The command's standard streams. */
enum sandlock_stream {
    SANDLOCK_STDIN = 0,
    SANDLOCK_STDOUT = 1,
    SANDLOCK_STDERR = 2
};

/* Where a standard stream goes. */
enum sandlock_stdio_mode {
    /* The command shares the host's stream (default for all three). */
    SANDLOCK_STDIO_INHERIT = 0,
    /* Output is collected into the result (stdout and stderr only). It is
     * read while the command runs, so any amount works. */
    SANDLOCK_STDIO_CAPTURE = 1,
    /* /dev/null. */
    SANDLOCK_STDIO_NULL = 2,
    /* A file descriptor of the caller (see set_stdio). */
    SANDLOCK_STDIO_FD = 3
};

/*
 * sandlock_spawn_options_new - create options holding the defaults: every
 * stream inherited, no timeout, no name, no output limit, own process
 * group.
 *
 * out: receives the options; free with sandlock_spawn_options_free().
 * Returns SANDLOCK_OK, SANDLOCK_EINVAL or SANDLOCK_ENOMEM.
 */
SANDLOCK_API int sandlock_spawn_options_new(sandlock_spawn_options_t **out);

/*
 * sandlock_spawn_options_free - release options. o: may be NULL (no-op).
 */
SANDLOCK_API void sandlock_spawn_options_free(sandlock_spawn_options_t *o);

/*
 * sandlock_spawn_options_set_stdio - choose where one stream goes.
 *
 * stream: a SANDLOCK_STDIN/STDOUT/STDERR value. mode: a SANDLOCK_STDIO_*
 * value; SANDLOCK_STDIO_CAPTURE is not allowed for stdin. fd: with
 * SANDLOCK_STDIO_FD an open descriptor, which the caller keeps owning and
 * must keep open until sandlock_spawn() returns (the command gets its own
 * copy); with any other mode it must be -1.
 * Returns SANDLOCK_OK or SANDLOCK_EINVAL (also when fd is not open).
 */
SANDLOCK_API int sandlock_spawn_options_set_stdio(sandlock_spawn_options_t *o,
                                                  int stream, int mode,
                                                  int fd);

/*
 * sandlock_spawn_options_set_timeout_ms - kill every process of the
 * sandbox after timeout_ms milliseconds; the result's reason is then
 * SANDLOCK_REASON_TIMEOUT. 0 (default) is no timeout. Negative values, or
 * values too large to represent in nanoseconds, are EINVAL.
 */
SANDLOCK_API int sandlock_spawn_options_set_timeout_ms(sandlock_spawn_options_t *o,
                                                       int64_t timeout_ms);

/*
 * sandlock_spawn_options_set_name - name the sandbox (for listings). ""
 * (default) means no name.
 */
SANDLOCK_API int sandlock_spawn_options_set_name(sandlock_spawn_options_t *o,
                                                 const char *name);

/*
 * sandlock_spawn_options_set_output_limit - keep at most bytes of each
 * captured stream; the rest is read and dropped so the command never
 * blocks. 0 (default) is unlimited. Values above INT64_MAX are EINVAL.
 */
SANDLOCK_API int sandlock_spawn_options_set_output_limit(sandlock_spawn_options_t *o,
                                                         uint64_t bytes);

/*
 * sandlock_spawn_options_set_share_pgrp - on = 1 keeps the command in the
 * caller's process group (for an interactive command that reads the
 * terminal); 0 (default) gives it its own group, which kill, pause and the
 * timeout use. Other values are EINVAL.
 */
SANDLOCK_API int sandlock_spawn_options_set_share_pgrp(sandlock_spawn_options_t *o,
                                                       int on);

/* ===========================================================================
 * Sandboxes
 *
 * Threads: sandlock_sandbox_pid, _wait, _kill, _pause, _resume,
 * _set_max_processes and _port_mappings may be called concurrently on the
 * same sandbox (for example _kill from one thread while another waits).
 * _free must not race with any of them.
 * ======================================================================== */

/*
 * sandlock_spawn - start a confined command.
 *
 * policy: validated and copied. argv: the command and its arguments, a
 * NULL-terminated array with at least argv[0], which is non-empty; a name
 * without '/' is looked up in the PATH of the command's environment (see
 * env and clean_env), or in /usr/local/bin:/usr/bin:/bin if it has none.
 * opts: may be NULL for the defaults (streams inherited, no timeout).
 * out: receives the running sandbox; release it with
 * sandlock_sandbox_free().
 *
 * Returns once the command has been executed (or has failed to execute:
 * it then ends with exit code 127 and sandlock_result_exec_error() set).
 * Returns SANDLOCK_OK, SANDLOCK_EINVAL, SANDLOCK_EPOLICY (invalid policy,
 * missing path, bad cwd), SANDLOCK_ENOTIMPL (option not implemented yet),
 * SANDLOCK_ENOTSUP (kernel lacks a needed protection), SANDLOCK_ECONFINE,
 * SANDLOCK_ESPAWN or
 * SANDLOCK_EOS (for example out of file descriptors) or SANDLOCK_ENOMEM.
 */
SANDLOCK_API int sandlock_spawn(const sandlock_policy_t *policy,
                                const char *const *argv,
                                const sandlock_spawn_options_t *opts,
                                sandlock_sandbox_t **out);

/*
 * sandlock_sandbox_pid - process id of the sandbox's main process.
 *
 * Returns the pid (> 0), or SANDLOCK_EINVAL for a bad handle. After the
 * sandbox ended the pid may belong to another process.
 */
SANDLOCK_API int sandlock_sandbox_pid(const sandlock_sandbox_t *sb);

/*
 * sandlock_sandbox_wait - wait for the sandbox to end.
 *
 * The sandbox ends when its main process does; any process it left
 * behind is killed and all captured output is collected first.
 * timeout_ms: -1 waits for ever, 0 only checks, > 0 waits at most that
 * long; values below -1 are EINVAL.
 * out: receives a new result, owned by the caller (free with
 * sandlock_result_free()). Waiting again after the end returns another
 * result with the same content.
 * Returns SANDLOCK_OK; SANDLOCK_ETIMEOUT when the sandbox did not end in
 * time (it keeps running; *out is NULL); SANDLOCK_ESPAWN when the command
 * could not be started; SANDLOCK_ENOMEM; SANDLOCK_EINVAL.
 */
SANDLOCK_API int sandlock_sandbox_wait(sandlock_sandbox_t *sb,
                                       int64_t timeout_ms,
                                       sandlock_result_t **out);

/*
 * sandlock_sandbox_kill - kill every process of the sandbox (SIGKILL).
 * The result's reason becomes SANDLOCK_REASON_KILLED.
 * Returns SANDLOCK_OK, SANDLOCK_ESTATE if it already ended, or
 * SANDLOCK_EINVAL.
 */
SANDLOCK_API int sandlock_sandbox_kill(sandlock_sandbox_t *sb);

/*
 * sandlock_sandbox_pause - stop every process of the sandbox (SIGSTOP).
 * sandlock_sandbox_resume - continue them (SIGCONT).
 * Return SANDLOCK_OK, SANDLOCK_ESTATE if the sandbox already ended, or
 * SANDLOCK_EINVAL.
 */
SANDLOCK_API int sandlock_sandbox_pause(sandlock_sandbox_t *sb);
SANDLOCK_API int sandlock_sandbox_resume(sandlock_sandbox_t *sb);

/*
 * sandlock_sandbox_set_max_processes - change the process limit of a
 * running sandbox (n > 0). Returns SANDLOCK_OK; SANDLOCK_ESTATE if the
 * sandbox was started with max_processes 0 (no accounting);
 * SANDLOCK_EINVAL for n == 0 or a bad handle.
 */
SANDLOCK_API int sandlock_sandbox_set_max_processes(sandlock_sandbox_t *sb,
                                                    uint32_t n);

/*
 * sandlock_sandbox_port_mappings - the private port space of a sandbox
 * whose policy has port_remap: each TCP port it bound (the virtual port,
 * which it sees in getsockname and /proc/net/tcp) and the port the host
 * sees (the real port, which clients outside the sandbox connect to).
 * They are equal when the port was free on the host.
 *
 * virtual_ports and real_ports: arrays of cap entries each, filled with
 * the first min(cap, *count) mappings in order of virtual port; both may
 * be NULL when cap is 0. count: receives the number of mappings (call
 * with cap 0 to size the arrays; a sandbox may bind more in between).
 * Without port_remap, and once the sandbox has ended, *count is 0.
 * Returns SANDLOCK_OK, or SANDLOCK_EINVAL (bad handle, count NULL, an
 * array NULL with cap > 0).
 */
SANDLOCK_API int sandlock_sandbox_port_mappings(const sandlock_sandbox_t *sb,
                                                uint16_t *virtual_ports,
                                                uint16_t *real_ports, size_t cap,
                                                size_t *count);

/*
 * sandlock_sandbox_free - release a sandbox.
 *
 * sb: may be NULL (no-op). If the sandbox is still running it is killed
 * first. Returns after every process of the sandbox is gone and every
 * resource of it (descriptors, threads) is released, which can take a
 * moment. Results already obtained stay valid.
 */
SANDLOCK_API void sandlock_sandbox_free(sandlock_sandbox_t *sb);

/*
 * sandlock_run - run a command to completion and capture its output.
 *
 * Like sandlock_spawn() with stdin on /dev/null and stdout and stderr
 * captured, followed by sandlock_sandbox_wait(-1) and
 * sandlock_sandbox_free().
 * timeout_ms: > 0 kills the sandbox after that long (the result's reason
 * is then SANDLOCK_REASON_TIMEOUT, and the call still returns
 * SANDLOCK_OK); 0 is no timeout; negative is EINVAL.
 * out: receives the result (free with sandlock_result_free()).
 * Returns the codes of sandlock_spawn() and sandlock_sandbox_wait().
 */
SANDLOCK_API int sandlock_run(const sandlock_policy_t *policy,
                              const char *const *argv, int64_t timeout_ms,
                              sandlock_result_t **out);

/* ===========================================================================
 * Results
 *
 * A result never changes; any number of threads may read it at once.
 * ======================================================================== */

/* Why a sandbox ended. */
enum sandlock_reason {
    SANDLOCK_REASON_EXITED = 0,   /* the main process exited by itself */
    SANDLOCK_REASON_SIGNALED = 1, /* a signal the library did not send */
    SANDLOCK_REASON_KILLED = 2,   /* sandlock_sandbox_kill() */
    SANDLOCK_REASON_TIMEOUT = 3,  /* the timeout expired */
    /* max_memory: the sandbox was found holding more than its budget and
     * was killed (the signal is SIGKILL). An allocation the budget
     * refuses fails with ENOMEM instead and kills nothing. */
    SANDLOCK_REASON_MEMORY_LIMIT = 4
};

/*
 * sandlock_result_exit_code - exit status (0..255) of the main process, or
 * -1 when it did not exit normally. Also -1 for a bad handle
 * (sandlock_last_error() then says so).
 */
SANDLOCK_API int sandlock_result_exit_code(const sandlock_result_t *r);

/*
 * sandlock_result_signal - number of the signal that ended the main
 * process, 0 if it exited. SANDLOCK_EINVAL for a bad handle.
 */
SANDLOCK_API int sandlock_result_signal(const sandlock_result_t *r);

/*
 * sandlock_result_reason - a SANDLOCK_REASON_* value, or SANDLOCK_EINVAL
 * for a bad handle.
 */
SANDLOCK_API int sandlock_result_reason(const sandlock_result_t *r);

/*
 * sandlock_result_stdout / sandlock_result_stderr - captured output.
 *
 * len: may be NULL; receives the length in bytes (0 on error).
 * Returns a borrowed buffer valid until sandlock_result_free(r). It is
 * followed by a NUL byte, so text without NUL bytes can be used as a C
 * string. A stream that was not captured gives "" with length 0. Returns
 * NULL only for a bad handle.
 */
SANDLOCK_API const uint8_t *sandlock_result_stdout(const sandlock_result_t *r,
                                                   size_t *len);
SANDLOCK_API const uint8_t *sandlock_result_stderr(const sandlock_result_t *r,
                                                   size_t *len);

/*
 * sandlock_result_exec_error - why the command could not be executed
 * (exit code 127), such as "execve \"nosuch\": no such file or directory".
 * Returns a borrowed string valid until sandlock_result_free(r), or NULL
 * when the command was executed (or for a bad handle).
 */
SANDLOCK_API const char *sandlock_result_exec_error(const sandlock_result_t *r);

/*
 * sandlock_result_duration_ns - time from spawn to the end of the main
 * process, in nanoseconds; 0 for a bad handle.
 */
SANDLOCK_API uint64_t sandlock_result_duration_ns(const sandlock_result_t *r);

/*
 * sandlock_result_degraded_count - number of protections that were left
 * out because the kernel lacks them (only with allow_degraded); 0 for a
 * bad handle.
 * sandlock_result_degraded - the i-th of them, in words. Returns a
 * borrowed string valid until sandlock_result_free(r), or NULL when i is
 * out of range (SANDLOCK_EINVAL in sandlock_last_error()).
 */
SANDLOCK_API size_t sandlock_result_degraded_count(const sandlock_result_t *r);
SANDLOCK_API const char *sandlock_result_degraded(const sandlock_result_t *r,
                                                  size_t i);

/*
 * sandlock_result_free - release a result and every buffer borrowed from
 * it. r: may be NULL (no-op).
 */
SANDLOCK_API void sandlock_result_free(sandlock_result_t *r);

/* ===========================================================================
 * Confining the calling process; kernel features
 * ======================================================================== */

/*
 * sandlock_confine - confine the calling process itself, irreversibly.
 *
 * A process that loaded libsandlock always has several threads (the Go
 * runtime's, at least), and Landlock restricts one thread per call unless
 * the kernel offers LANDLOCK_RESTRICT_SELF_TSYNC (Landlock ABI 8). The
 * library does not confine only some threads of a process: another thread
 * would keep every right. So on a kernel below ABI 8 this function fails
 * with SANDLOCK_ENOTSUP and changes nothing; on ABI 8 and above it
 * returns SANDLOCK_ENOTIMPL in this version (the TSYNC path is not written
 * yet). To confine a command, spawn it.
 *
 * policy: validated first. Returns SANDLOCK_EINVAL, SANDLOCK_EPOLICY,
 * SANDLOCK_ENOTIMPL or SANDLOCK_ENOTSUP (the message says why).
 */
SANDLOCK_API int sandlock_confine(const sandlock_policy_t *policy);

/*
 * sandlock_landlock_abi_version - Landlock ABI version of the running
 * kernel (1 for Linux 5.13, 7 for Linux 6.15, ...).
 *
 * Returns the version (>= 1); SANDLOCK_ENOTSUP when Landlock is not built
 * into the kernel or not enabled at boot (the message says which);
 * SANDLOCK_EOS if the probe failed otherwise. The answer is cached.
 */
SANDLOCK_API int sandlock_landlock_abi_version(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* SANDLOCK_H */
