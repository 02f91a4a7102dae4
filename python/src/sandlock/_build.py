"""Turning a :class:`~sandlock.policy.Policy` into a native
``sandlock_policy_t``.

Every field of the policy is handed to the library, in the order of the
dataclass, whether or not this build enforces it: the library's validation
then refuses an option it cannot enforce yet
(:class:`~sandlock.NotImplementedFeatureError`), so nothing is dropped on
the way.
"""

from __future__ import annotations

import os
import warnings
from typing import Any, Callable, Iterable, Optional, Sequence, Union

from . import _native
from ._native import lib
from .exceptions import PolicyError
from .policy import (
    BranchAction,
    FsIsolation,
    Policy,
    parse_memory_size,
    parse_ports,
    parse_time_start,
    port_ranges,
)

_FS_ISOLATION = {
    FsIsolation.NONE: _native.FS_ISOLATION_NONE,
    FsIsolation.OVERLAYFS: _native.FS_ISOLATION_OVERLAYFS,
    FsIsolation.BRANCHFS: _native.FS_ISOLATION_BRANCHFS,
}
_BRANCH = {
    BranchAction.COMMIT: _native.BRANCH_COMMIT,
    BranchAction.ABORT: _native.BRANCH_ABORT,
    BranchAction.KEEP: _native.BRANCH_KEEP,
}


def _path(value: str, what: str) -> bytes:
    if not isinstance(value, (str, os.PathLike)):
        raise PolicyError(f"{what}: expected a path, got {value!r}")
    return _native.encode(os.path.abspath(os.fspath(value)), what)


def _str_list(value: Any, what: str) -> Sequence[str]:
    if isinstance(value, (str, bytes)):
        raise PolicyError(f"{what}: expected a list of strings, got the string {value!r}")
    try:
        return list(value)
    except TypeError:
        raise PolicyError(f"{what}: expected a list, got {value!r}") from None


def _int(value: Any, what: str, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PolicyError(f"{what}: expected an integer, got {value!r}")
    if not lo <= value <= hi:
        raise PolicyError(f"{what}: {value} is out of range {lo}..{hi}")
    return value


def _enum(enum_type: Any, value: Any, what: str) -> Any:
    try:
        return enum_type(value.lower() if isinstance(value, str) else value)
    except ValueError:
        names = ", ".join(repr(m.value) for m in enum_type)
        raise PolicyError(f"{what}: {value!r} is not one of {names}") from None


def _ports(p: Any, specs: Any, what: str, add: Callable[..., int], add_range: Callable[..., int]) -> None:
    try:
        ports = parse_ports(_str_list(specs, what) if not isinstance(specs, (str, int)) else [specs])
    except ValueError as e:
        raise PolicyError(f"{what}: {e}") from None
    for first, last in port_ranges(ports):
        if first == last:
            add(p, first)
        else:
            add_range(p, first, last)


def _size(value: Union[str, int], what: str) -> int:
    try:
        return parse_memory_size(value)
    except ValueError as e:
        raise PolicyError(f"{what}: {e}") from None


def _optional_list(
    p: Any, value: Optional[Iterable[Any]], what: str, add: Callable[[Any, Any], int],
    set_empty: Optional[Callable[[Any], int]], convert: Callable[[Any], Any],
) -> None:
    if value is None:
        return
    items = _str_list(value, what)
    if not items and set_empty is not None:
        set_empty(p)
    for item in items:
        add(p, convert(item))


def apply_policy(p: Any, policy: Policy) -> None:
    """Set every field of ``policy`` on the native policy ``p``.

    Raises:
        PolicyError: for a value the library or this function rejects.
    """
    if not isinstance(policy, Policy):
        raise TypeError(f"expected a sandlock.Policy, got {type(policy).__name__}")

    # 1-3: filesystem
    for path in _str_list(policy.fs_writable, "fs_writable"):
        lib.sandlock_policy_add_fs_writable(p, _path(path, "fs_writable"))
    for path in _str_list(policy.fs_readable, "fs_readable"):
        absolute = os.path.abspath(path)
        # As the original SDK does: /lib64 is a common entry in portable
        # policies but absent on some distributions; drop it there rather
        # than fail every spawn.
        if absolute == "/lib64" and not os.path.exists(absolute):
            continue
        lib.sandlock_policy_add_fs_readable(p, _path(path, "fs_readable"))
    for path in _str_list(policy.fs_denied, "fs_denied"):
        lib.sandlock_policy_add_fs_denied(p, _path(path, "fs_denied"))

    # 4-5: system call lists
    def syscall_name(what: str) -> Callable[[Any], bytes]:
        return lambda name: _native.encode(name, what)

    _optional_list(p, policy.deny_syscalls, "deny_syscalls", lib.sandlock_policy_add_deny_syscalls,
                   lib.sandlock_policy_set_deny_syscalls_empty, syscall_name("deny_syscalls"))
    _optional_list(p, policy.allow_syscalls, "allow_syscalls", lib.sandlock_policy_add_allow_syscalls,
                   lib.sandlock_policy_set_allow_syscalls_empty, syscall_name("allow_syscalls"))

    # 6-11: network
    _optional_list(p, policy.net_allow_hosts, "net_allow_hosts", lib.sandlock_policy_add_net_allow_hosts,
                   lib.sandlock_policy_set_net_allow_hosts_empty,
                   lambda h: _native.encode(h, "net_allow_hosts"))
    lib.sandlock_policy_set_no_coredump(p, int(bool(policy.no_coredump)))
    _ports(p, policy.net_bind, "net_bind", lib.sandlock_policy_add_net_bind,
           lib.sandlock_policy_add_net_bind_range)
    _ports(p, policy.net_connect, "net_connect", lib.sandlock_policy_add_net_connect,
           lib.sandlock_policy_add_net_connect_range)
    lib.sandlock_policy_set_no_raw_sockets(p, int(bool(policy.no_raw_sockets)))
    lib.sandlock_policy_set_no_udp(p, int(bool(policy.no_udp)))

    # 12-16: HTTP
    for rule in _str_list(policy.http_allow, "http_allow"):
        lib.sandlock_policy_add_http_allow(p, _native.encode(rule, "http_allow"))
    for rule in _str_list(policy.http_deny, "http_deny"):
        lib.sandlock_policy_add_http_deny(p, _native.encode(rule, "http_deny"))
    _ports(p, policy.http_ports, "http_ports", lib.sandlock_policy_add_http_ports,
           lib.sandlock_policy_add_http_ports_range)
    if policy.https_ca is not None:
        lib.sandlock_policy_set_https_ca(p, _path(policy.https_ca, "https_ca"))
    if policy.https_key is not None:
        lib.sandlock_policy_set_https_key(p, _path(policy.https_key, "https_key"))

    # 17-22: resources
    if policy.max_memory is not None:
        size = _size(policy.max_memory, "max_memory")
        if size == 0:
            raise PolicyError("max_memory: must be positive (None means unlimited)")
        lib.sandlock_policy_set_max_memory(p, size)
    lib.sandlock_policy_set_max_processes(p, _int(policy.max_processes, "max_processes", 0, 2**32 - 1))
    if policy.max_open_files is not None:
        n = _int(policy.max_open_files, "max_open_files", 1, 2**63 - 1)
        lib.sandlock_policy_set_max_open_files(p, n)
    if policy.max_cpu is not None:
        # The original refuses 0 and anything above 100 at build time; the
        # library reads 0 as "unthrottled", so 0 is refused here.
        lib.sandlock_policy_set_max_cpu(p, _int(policy.max_cpu, "max_cpu", 1, 100))
    if policy.cpu_cores is not None:
        for core in _str_list(policy.cpu_cores, "cpu_cores"):
            lib.sandlock_policy_add_cpu_cores(p, _int(core, "cpu_cores", 0, 2**32 - 1))
    if policy.num_cpus is not None:
        lib.sandlock_policy_set_num_cpus(p, _int(policy.num_cpus, "num_cpus", 1, 2**32 - 1))

    # 23-29: port remapping, determinism, GPUs
    lib.sandlock_policy_set_port_remap(p, int(bool(policy.port_remap)))
    if policy.random_seed is not None:
        lib.sandlock_policy_set_random_seed(p, _int(policy.random_seed, "random_seed", 0, 2**64 - 1))
    if policy.time_start is not None:
        try:
            sec, nsec = parse_time_start(policy.time_start)
        except ValueError as e:
            raise PolicyError(f"time_start: {e}") from None
        lib.sandlock_policy_set_time_start(p, sec, nsec)
    lib.sandlock_policy_set_no_randomize_memory(p, int(bool(policy.no_randomize_memory)))
    lib.sandlock_policy_set_no_huge_pages(p, int(bool(policy.no_huge_pages)))
    lib.sandlock_policy_set_deterministic_dirs(p, int(bool(policy.deterministic_dirs)))
    _optional_list(p, policy.gpu_devices, "gpu_devices", lib.sandlock_policy_add_gpu_devices,
                   lib.sandlock_policy_set_gpu_devices_empty,
                   lambda i: _int(i, "gpu_devices", 0, 2**32 - 1))

    # 30-37: root, environment, identity, cwd
    if policy.chroot is not None:
        lib.sandlock_policy_set_chroot(p, _path(policy.chroot, "chroot"))
    for virt, host in dict(policy.fs_mount).items():
        lib.sandlock_policy_add_fs_mount(p, _native.encode(virt, "fs_mount"), _path(host, "fs_mount"))
    lib.sandlock_policy_set_clean_env(p, int(bool(policy.clean_env)))
    for key, value in dict(policy.env).items():
        lib.sandlock_policy_set_env(p, _native.encode(key, "env"), _native.encode(str(value), "env"))
    if policy.uid is not None:
        lib.sandlock_policy_set_uid(p, _int(policy.uid, "uid", 0, 2**32 - 2))
    if policy.notif_policy is not None:
        warnings.warn(
            "Policy field 'notif_policy' is set but has no effect: it is a leftover of the "
            "original pure-Python implementation and is not part of the native policy",
            stacklevel=4,
        )
    if policy.workdir is not None:
        lib.sandlock_policy_set_workdir(p, _path(policy.workdir, "workdir"))
    if policy.cwd is not None:
        lib.sandlock_policy_set_cwd(p, _path(policy.cwd, "cwd"))

    # 38-42: copy-on-write
    lib.sandlock_policy_set_fs_isolation(p, _FS_ISOLATION[_enum(FsIsolation, policy.fs_isolation, "fs_isolation")])
    if policy.fs_storage is not None:
        lib.sandlock_policy_set_fs_storage(p, _path(policy.fs_storage, "fs_storage"))
    if policy.max_disk is not None:
        size = _size(policy.max_disk, "max_disk")
        if size == 0:
            raise PolicyError("max_disk: must be positive (None means unlimited)")
        lib.sandlock_policy_set_max_disk(p, size)
    lib.sandlock_policy_set_on_exit(p, _BRANCH[_enum(BranchAction, policy.on_exit, "on_exit")])
    lib.sandlock_policy_set_on_error(p, _BRANCH[_enum(BranchAction, policy.on_error, "on_error")])
