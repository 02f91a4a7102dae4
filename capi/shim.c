/*
 * shim.c - the public functions of libsandlock.so.
 *
 * Each public function is defined here with the exact signature of
 * include/sandlock.h and calls the Go export of the same name with the
 * sandlock_ prefix replaced by capi_. Because this file includes both
 * sandlock.h and cgo's _cgo_export.h, the compiler checks every header
 * prototype against a real definition and every call against the Go
 * export: drift between the two is a build error. cgo's prototypes have no
 * const, hence the casts; the Go side never writes through those pointers.
 *
 * sandlock_last_error, sandlock_last_errno and sandlock_strerror are in
 * lasterror.c.
 */
#include "sandlock.h"
#include "capi_internal.h"
#include "_cgo_export.h"

unsigned sandlock_version_number(void)
{
    return capi_version_number();
}

const char *sandlock_version_string(void)
{
    return capi_version_string();
}

void sandlock_string_free(char *s)
{
    capi_clear_last_error();
    capi_free(s);
}

int sandlock_policy_new(sandlock_policy_t **out)
{
    return capi_policy_new(out);
}

void sandlock_policy_free(sandlock_policy_t *p)
{
    capi_policy_free(p);
}

int sandlock_policy_clone(const sandlock_policy_t *p, sandlock_policy_t **out)
{
    return capi_policy_clone((sandlock_policy_t *)p, out);
}

int sandlock_policy_validate(const sandlock_policy_t *p)
{
    return capi_policy_validate((sandlock_policy_t *)p);
}

int sandlock_policy_add_fs_writable(sandlock_policy_t *p, const char *path)
{
    return capi_policy_add_fs_writable(p, (char *)path);
}

int sandlock_policy_clear_fs_writable(sandlock_policy_t *p)
{
    return capi_policy_clear_fs_writable(p);
}

int sandlock_policy_add_fs_readable(sandlock_policy_t *p, const char *path)
{
    return capi_policy_add_fs_readable(p, (char *)path);
}

int sandlock_policy_clear_fs_readable(sandlock_policy_t *p)
{
    return capi_policy_clear_fs_readable(p);
}

int sandlock_policy_add_fs_denied(sandlock_policy_t *p, const char *path)
{
    return capi_policy_add_fs_denied(p, (char *)path);
}

int sandlock_policy_clear_fs_denied(sandlock_policy_t *p)
{
    return capi_policy_clear_fs_denied(p);
}

int sandlock_policy_add_deny_syscalls(sandlock_policy_t *p, const char *name)
{
    return capi_policy_add_deny_syscalls(p, (char *)name);
}

int sandlock_policy_set_deny_syscalls_empty(sandlock_policy_t *p)
{
    return capi_policy_set_deny_syscalls_empty(p);
}

int sandlock_policy_clear_deny_syscalls(sandlock_policy_t *p)
{
    return capi_policy_clear_deny_syscalls(p);
}

int sandlock_policy_add_allow_syscalls(sandlock_policy_t *p, const char *name)
{
    return capi_policy_add_allow_syscalls(p, (char *)name);
}

int sandlock_policy_set_allow_syscalls_empty(sandlock_policy_t *p)
{
    return capi_policy_set_allow_syscalls_empty(p);
}

int sandlock_policy_clear_allow_syscalls(sandlock_policy_t *p)
{
    return capi_policy_clear_allow_syscalls(p);
}

int sandlock_policy_add_net_allow_hosts(sandlock_policy_t *p, const char *host)
{
    return capi_policy_add_net_allow_hosts(p, (char *)host);
}

int sandlock_policy_set_net_allow_hosts_empty(sandlock_policy_t *p)
{
    return capi_policy_set_net_allow_hosts_empty(p);
}

int sandlock_policy_clear_net_allow_hosts(sandlock_policy_t *p)
{
    return capi_policy_clear_net_allow_hosts(p);
}

int sandlock_policy_add_net_bind(sandlock_policy_t *p, uint16_t port)
{
    return capi_policy_add_net_bind(p, port);
}

int sandlock_policy_add_net_bind_range(sandlock_policy_t *p, uint16_t first, uint16_t last)
{
    return capi_policy_add_net_bind_range(p, first, last);
}

int sandlock_policy_clear_net_bind(sandlock_policy_t *p)
{
    return capi_policy_clear_net_bind(p);
}

int sandlock_policy_add_net_connect(sandlock_policy_t *p, uint16_t port)
{
    return capi_policy_add_net_connect(p, port);
}

int sandlock_policy_add_net_connect_range(sandlock_policy_t *p, uint16_t first, uint16_t last)
{
    return capi_policy_add_net_connect_range(p, first, last);
}

int sandlock_policy_clear_net_connect(sandlock_policy_t *p)
{
    return capi_policy_clear_net_connect(p);
}

int sandlock_policy_set_no_raw_sockets(sandlock_policy_t *p, int on)
{
    return capi_policy_set_no_raw_sockets(p, on);
}

int sandlock_policy_set_no_udp(sandlock_policy_t *p, int on)
{
    return capi_policy_set_no_udp(p, on);
}

int sandlock_policy_set_port_remap(sandlock_policy_t *p, int on)
{
    return capi_policy_set_port_remap(p, on);
}

int sandlock_policy_add_http_allow(sandlock_policy_t *p, const char *rule)
{
    return capi_policy_add_http_allow(p, (char *)rule);
}

int sandlock_policy_clear_http_allow(sandlock_policy_t *p)
{
    return capi_policy_clear_http_allow(p);
}

int sandlock_policy_add_http_deny(sandlock_policy_t *p, const char *rule)
{
    return capi_policy_add_http_deny(p, (char *)rule);
}

int sandlock_policy_clear_http_deny(sandlock_policy_t *p)
{
    return capi_policy_clear_http_deny(p);
}

int sandlock_policy_add_http_ports(sandlock_policy_t *p, uint16_t port)
{
    return capi_policy_add_http_ports(p, port);
}

int sandlock_policy_add_http_ports_range(sandlock_policy_t *p, uint16_t first, uint16_t last)
{
    return capi_policy_add_http_ports_range(p, first, last);
}

int sandlock_policy_clear_http_ports(sandlock_policy_t *p)
{
    return capi_policy_clear_http_ports(p);
}

int sandlock_policy_set_https_ca(sandlock_policy_t *p, const char *path)
{
    return capi_policy_set_https_ca(p, (char *)path);
}

int sandlock_policy_set_https_key(sandlock_policy_t *p, const char *path)
{
    return capi_policy_set_https_key(p, (char *)path);
}

int sandlock_policy_set_max_memory(sandlock_policy_t *p, uint64_t bytes)
{
    return capi_policy_set_max_memory(p, bytes);
}

int sandlock_policy_set_max_processes(sandlock_policy_t *p, uint32_t n)
{
    return capi_policy_set_max_processes(p, n);
}

int sandlock_policy_set_max_open_files(sandlock_policy_t *p, uint64_t n)
{
    return capi_policy_set_max_open_files(p, n);
}

int sandlock_policy_set_max_cpu(sandlock_policy_t *p, uint32_t percent)
{
    return capi_policy_set_max_cpu(p, percent);
}

int sandlock_policy_add_cpu_cores(sandlock_policy_t *p, uint32_t core)
{
    return capi_policy_add_cpu_cores(p, core);
}

int sandlock_policy_clear_cpu_cores(sandlock_policy_t *p)
{
    return capi_policy_clear_cpu_cores(p);
}

int sandlock_policy_set_num_cpus(sandlock_policy_t *p, uint32_t n)
{
    return capi_policy_set_num_cpus(p, n);
}

int sandlock_policy_add_gpu_devices(sandlock_policy_t *p, uint32_t index)
{
    return capi_policy_add_gpu_devices(p, index);
}

int sandlock_policy_set_gpu_devices_empty(sandlock_policy_t *p)
{
    return capi_policy_set_gpu_devices_empty(p);
}

int sandlock_policy_clear_gpu_devices(sandlock_policy_t *p)
{
    return capi_policy_clear_gpu_devices(p);
}

int sandlock_policy_set_no_coredump(sandlock_policy_t *p, int on)
{
    return capi_policy_set_no_coredump(p, on);
}

int sandlock_policy_set_no_randomize_memory(sandlock_policy_t *p, int on)
{
    return capi_policy_set_no_randomize_memory(p, on);
}

int sandlock_policy_set_no_huge_pages(sandlock_policy_t *p, int on)
{
    return capi_policy_set_no_huge_pages(p, on);
}

int sandlock_policy_set_deterministic_dirs(sandlock_policy_t *p, int on)
{
    return capi_policy_set_deterministic_dirs(p, on);
}

int sandlock_policy_set_clean_env(sandlock_policy_t *p, int on)
{
    return capi_policy_set_clean_env(p, on);
}

int sandlock_policy_set_allow_degraded(sandlock_policy_t *p, int on)
{
    return capi_policy_set_allow_degraded(p, on);
}

int sandlock_policy_set_random_seed(sandlock_policy_t *p, uint64_t seed)
{
    return capi_policy_set_random_seed(p, seed);
}

int sandlock_policy_clear_random_seed(sandlock_policy_t *p)
{
    return capi_policy_clear_random_seed(p);
}

int sandlock_policy_set_time_start(sandlock_policy_t *p, int64_t unix_seconds, uint32_t nanoseconds)
{
    return capi_policy_set_time_start(p, unix_seconds, nanoseconds);
}

int sandlock_policy_clear_time_start(sandlock_policy_t *p)
{
    return capi_policy_clear_time_start(p);
}

int sandlock_policy_set_hostname(sandlock_policy_t *p, const char *name)
{
    return capi_policy_set_hostname(p, (char *)name);
}

int sandlock_policy_set_env(sandlock_policy_t *p, const char *key, const char *value)
{
    return capi_policy_set_env(p, (char *)key, (char *)value);
}

int sandlock_policy_clear_env(sandlock_policy_t *p)
{
    return capi_policy_clear_env(p);
}

int sandlock_policy_set_uid(sandlock_policy_t *p, uint32_t uid)
{
    return capi_policy_set_uid(p, uid);
}

int sandlock_policy_clear_uid(sandlock_policy_t *p)
{
    return capi_policy_clear_uid(p);
}

int sandlock_policy_set_cwd(sandlock_policy_t *p, const char *dir)
{
    return capi_policy_set_cwd(p, (char *)dir);
}

int sandlock_policy_set_chroot(sandlock_policy_t *p, const char *dir)
{
    return capi_policy_set_chroot(p, (char *)dir);
}

int sandlock_policy_add_fs_mount(sandlock_policy_t *p, const char *virt, const char *host)
{
    return capi_policy_add_fs_mount(p, (char *)virt, (char *)host);
}

int sandlock_policy_clear_fs_mount(sandlock_policy_t *p)
{
    return capi_policy_clear_fs_mount(p);
}

int sandlock_policy_set_workdir(sandlock_policy_t *p, const char *dir)
{
    return capi_policy_set_workdir(p, (char *)dir);
}

int sandlock_policy_set_fs_storage(sandlock_policy_t *p, const char *dir)
{
    return capi_policy_set_fs_storage(p, (char *)dir);
}

int sandlock_policy_set_fs_isolation(sandlock_policy_t *p, int isolation)
{
    return capi_policy_set_fs_isolation(p, isolation);
}

int sandlock_policy_set_max_disk(sandlock_policy_t *p, uint64_t bytes)
{
    return capi_policy_set_max_disk(p, bytes);
}

int sandlock_policy_set_on_exit(sandlock_policy_t *p, int action)
{
    return capi_policy_set_on_exit(p, action);
}

int sandlock_policy_set_on_error(sandlock_policy_t *p, int action)
{
    return capi_policy_set_on_error(p, action);
}

int sandlock_set_policy_fn(sandlock_policy_t *policy, sandlock_policy_fn fn, void *user_data,
                           sandlock_free_fn user_data_free)
{
    return capi_set_policy_fn(policy, fn, user_data, user_data_free);
}

int sandlock_spawn_options_new(sandlock_spawn_options_t **out)
{
    return capi_spawn_options_new(out);
}

void sandlock_spawn_options_free(sandlock_spawn_options_t *o)
{
    capi_spawn_options_free(o);
}

int sandlock_spawn_options_set_stdio(sandlock_spawn_options_t *o, int stream, int mode, int fd)
{
    return capi_spawn_options_set_stdio(o, stream, mode, fd);
}

int sandlock_spawn_options_set_timeout_ms(sandlock_spawn_options_t *o, int64_t timeout_ms)
{
    return capi_spawn_options_set_timeout_ms(o, timeout_ms);
}

int sandlock_spawn_options_set_name(sandlock_spawn_options_t *o, const char *name)
{
    return capi_spawn_options_set_name(o, (char *)name);
}

int sandlock_spawn_options_set_output_limit(sandlock_spawn_options_t *o, uint64_t bytes)
{
    return capi_spawn_options_set_output_limit(o, bytes);
}

int sandlock_spawn_options_set_share_pgrp(sandlock_spawn_options_t *o, int on)
{
    return capi_spawn_options_set_share_pgrp(o, on);
}

int sandlock_spawn(const sandlock_policy_t *policy, const char *const *argv,
                   const sandlock_spawn_options_t *opts, sandlock_sandbox_t **out)
{
    return capi_spawn((sandlock_policy_t *)policy, (char **)argv, (sandlock_spawn_options_t *)opts,
                      out);
}

int sandlock_sandbox_pid(const sandlock_sandbox_t *sb)
{
    return capi_sandbox_pid((sandlock_sandbox_t *)sb);
}

int sandlock_sandbox_wait(sandlock_sandbox_t *sb, int64_t timeout_ms, sandlock_result_t **out)
{
    return capi_sandbox_wait(sb, timeout_ms, out);
}

int sandlock_sandbox_kill(sandlock_sandbox_t *sb)
{
    return capi_sandbox_kill(sb);
}

int sandlock_sandbox_pause(sandlock_sandbox_t *sb)
{
    return capi_sandbox_pause(sb);
}

int sandlock_sandbox_resume(sandlock_sandbox_t *sb)
{
    return capi_sandbox_resume(sb);
}

int sandlock_sandbox_set_max_processes(sandlock_sandbox_t *sb, uint32_t n)
{
    return capi_sandbox_set_max_processes(sb, n);
}

int sandlock_sandbox_port_mappings(const sandlock_sandbox_t *sb, uint16_t *virtual_ports,
                                   uint16_t *real_ports, size_t cap, size_t *count)
{
    return capi_sandbox_port_mappings((sandlock_sandbox_t *)sb, virtual_ports, real_ports, cap,
                                      count);
}

void sandlock_sandbox_free(sandlock_sandbox_t *sb)
{
    capi_sandbox_free(sb);
}

int sandlock_run(const sandlock_policy_t *policy, const char *const *argv, int64_t timeout_ms,
                 sandlock_result_t **out)
{
    return capi_run((sandlock_policy_t *)policy, (char **)argv, timeout_ms, out);
}

int sandlock_result_exit_code(const sandlock_result_t *r)
{
    return capi_result_exit_code((sandlock_result_t *)r);
}

int sandlock_result_signal(const sandlock_result_t *r)
{
    return capi_result_signal((sandlock_result_t *)r);
}

int sandlock_result_reason(const sandlock_result_t *r)
{
    return capi_result_reason((sandlock_result_t *)r);
}

const uint8_t *sandlock_result_stdout(const sandlock_result_t *r, size_t *len)
{
    return capi_result_stdout((sandlock_result_t *)r, len);
}

const uint8_t *sandlock_result_stderr(const sandlock_result_t *r, size_t *len)
{
    return capi_result_stderr((sandlock_result_t *)r, len);
}

const char *sandlock_result_exec_error(const sandlock_result_t *r)
{
    return capi_result_exec_error((sandlock_result_t *)r);
}

uint64_t sandlock_result_duration_ns(const sandlock_result_t *r)
{
    return capi_result_duration_ns((sandlock_result_t *)r);
}

size_t sandlock_result_degraded_count(const sandlock_result_t *r)
{
    return capi_result_degraded_count((sandlock_result_t *)r);
}

const char *sandlock_result_degraded(const sandlock_result_t *r, size_t i)
{
    return capi_result_degraded((sandlock_result_t *)r, i);
}

void sandlock_result_free(sandlock_result_t *r)
{
    capi_result_free(r);
}

int sandlock_confine(const sandlock_policy_t *policy)
{
    return capi_confine((sandlock_policy_t *)policy);
}

int sandlock_landlock_abi_version(void)
{
    return capi_landlock_abi_version();
}
