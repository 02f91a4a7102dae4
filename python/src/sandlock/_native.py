"""ctypes binding of libsandlock's C ABI (include/sandlock.h).

This module is the only place that knows the C signatures. It

* finds and loads the library (see :func:`_find_library` for the order),
* checks that its major version is the one this binding was written for,
* declares every function of the header with its argument and result
  types, and an ``errcheck`` that turns a negative status into the
  matching :mod:`sandlock.exceptions` class carrying
  ``sandlock_last_error()``,
* refuses to call into the library from a child created by ``os.fork()``
  after the library was loaded: the Go runtime inside it does not survive a
  fork (its threads are gone), so a call would hang the child for ever.

The library is loaded with :class:`ctypes.CDLL`, never ``PyDLL``: every call
releases the GIL, so a long wait in one Python thread never blocks the
others.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Type

from .exceptions import (
    ConfinementError,
    ForkedChildError,
    ForkError,
    LandlockUnavailableError,
    NotImplementedFeatureError,
    PolicyError,
    SandboxError,
    SandlockError,
    SeccompError,
)

#: The library major version this binding is written for
#: (``SANDLOCK_VERSION_MAJOR``). A library of another major is refused.
EXPECTED_MAJOR = 0

#: File name of the library (its SONAME).
SONAME = f"libsandlock.so.{EXPECTED_MAJOR}"

# --- status codes (enum sandlock_status) ------------------------------------

OK = 0
EINVAL = -1
EPOLICY = -2
ENOTSUP = -3
ESPAWN = -4
ECONFINE = -5
ESTATE = -6
ETIMEOUT = -7
EOS = -8
ENOMEM = -9
EINTERNAL = -10
ENOTIMPL = -11

CODE_NAMES: Dict[int, str] = {
    OK: "SANDLOCK_OK",
    EINVAL: "SANDLOCK_EINVAL",
    EPOLICY: "SANDLOCK_EPOLICY",
    ENOTSUP: "SANDLOCK_ENOTSUP",
    ESPAWN: "SANDLOCK_ESPAWN",
    ECONFINE: "SANDLOCK_ECONFINE",
    ESTATE: "SANDLOCK_ESTATE",
    ETIMEOUT: "SANDLOCK_ETIMEOUT",
    EOS: "SANDLOCK_EOS",
    ENOMEM: "SANDLOCK_ENOMEM",
    EINTERNAL: "SANDLOCK_EINTERNAL",
    ENOTIMPL: "SANDLOCK_ENOTIMPL",
}

# --- enums of the header ------------------------------------------------------

STDIN, STDOUT, STDERR = 0, 1, 2
STDIO_INHERIT, STDIO_CAPTURE, STDIO_NULL, STDIO_FD = 0, 1, 2, 3
FS_ISOLATION_NONE, FS_ISOLATION_OVERLAYFS, FS_ISOLATION_BRANCHFS = 0, 1, 2
BRANCH_COMMIT, BRANCH_ABORT, BRANCH_KEEP = 0, 1, 2
REASON_EXITED, REASON_SIGNALED, REASON_KILLED, REASON_TIMEOUT = 0, 1, 2, 3
REASON_MEMORY_LIMIT = 4
VERDICT_ALLOW, VERDICT_DENY, VERDICT_AUDIT = 0, -1, -2
CATEGORY_FILE, CATEGORY_NETWORK, CATEGORY_PROCESS, CATEGORY_MEMORY = 0, 1, 2, 3


# --- opaque handle types ------------------------------------------------------


class sandlock_policy(Structure):
    """Opaque ``sandlock_policy_t``."""


class sandlock_spawn_options(Structure):
    """Opaque ``sandlock_spawn_options_t``."""


class sandlock_sandbox(Structure):
    """Opaque ``sandlock_sandbox_t``."""


class sandlock_result(Structure):
    """Opaque ``sandlock_result_t``."""


class sandlock_event(Structure):
    """Opaque ``sandlock_event_t`` (argument of a policy callback)."""


class sandlock_ctx(Structure):
    """Opaque ``sandlock_ctx_t`` (argument of a policy callback)."""


PolicyP = POINTER(sandlock_policy)
OptionsP = POINTER(sandlock_spawn_options)
SandboxP = POINTER(sandlock_sandbox)
ResultP = POINTER(sandlock_result)
EventP = POINTER(sandlock_event)
CtxP = POINTER(sandlock_ctx)

#: ``typedef int32_t (*sandlock_policy_fn)(const sandlock_event_t *,
#: sandlock_ctx_t *, void *)``.
POLICY_FN = CFUNCTYPE(c_int32, EventP, CtxP, c_void_p)
#: ``typedef void (*sandlock_free_fn)(void *)``.
FREE_FN = CFUNCTYPE(None, c_void_p)


# --- errors -------------------------------------------------------------------


def _class_for(code: int, message: str, function: str) -> Type[SandlockError]:
    lower = message.lower()
    if code == EPOLICY:
        return PolicyError
    if code == EINVAL:
        # Bad values reach the library through the policy setters; other
        # EINVALs are misuse of this package and stay generic.
        return PolicyError if function.startswith("sandlock_policy_") else SandlockError
    if code == ENOTIMPL:
        return NotImplementedFeatureError
    if code == ENOTSUP:
        if "landlock" in lower:
            return LandlockUnavailableError
        return ConfinementError
    if code == ECONFINE:
        if "seccomp" in lower:
            return SeccompError
        return ConfinementError
    if code == ESPAWN:
        return ForkError
    if code in (ESTATE, ETIMEOUT, EOS, ENOMEM):
        return SandboxError
    return SandlockError


def error_for(code: int, function: str) -> SandlockError:
    """Build the exception for status ``code`` returned by ``function``,
    with this thread's ``sandlock_last_error()`` as the message."""
    raw = _lib.sandlock_last_error() if _lib is not None else b""
    message = raw.decode("utf-8", "replace") if raw else ""
    if not message:
        name = CODE_NAMES.get(code, str(code))
        message = f"{function}: {name}"
    errno = int(_lib.sandlock_last_errno()) if _lib is not None else 0
    return _class_for(code, message, function)(message, code=code, errno=errno)


def _errcheck_status(result: int, func: Any, args: Tuple[Any, ...]) -> int:
    if result < 0:
        raise error_for(result, func.__name__)
    return result


# --- finding and loading the library ------------------------------------------


def _candidates() -> List[Tuple[str, str]]:
    """(how it was found, path or name) in the order they are tried."""
    out: List[Tuple[str, str]] = []
    here = Path(__file__).resolve().parent
    for name in (SONAME, "libsandlock.so"):
        p = here / name
        if p.exists():
            out.append(("bundled with the package", str(p)))
    found = ctypes.util.find_library("sandlock")
    if found:
        out.append(("system library path (find_library)", found))
    out.append(("system library path", SONAME))
    return out


def _find_library() -> Tuple[ctypes.CDLL, str]:
    """Load libsandlock and return it with the path or name it came from.

    Order: the ``SANDLOCK_LIB`` environment variable (a path; if it is set
    and cannot be loaded, that is an error, not a reason to look
    elsewhere), a copy bundled inside this package, the system library path
    (``ctypes.util.find_library("sandlock")``, then plain ``dlopen`` of
    ``libsandlock.so.0``, which honours ``LD_LIBRARY_PATH``).
    """
    env = os.environ.get("SANDLOCK_LIB")
    if env:
        try:
            return ctypes.CDLL(env), env
        except OSError as e:
            raise ImportError(
                f"sandlock: cannot load the library named by SANDLOCK_LIB={env!r}: {e}"
            ) from e
    tried: List[str] = []
    for how, where in _candidates():
        try:
            return ctypes.CDLL(where), where
        except OSError as e:
            tried.append(f"  {where} ({how}): {e}")
    raise ImportError(
        "sandlock: libsandlock.so.0 not found. Build it with `make` in the sandlock "
        "source tree and reinstall the package (`pip install ./python` bundles "
        "build/libsandlock.so.0), install it on the system library path "
        "(`make install`), or point SANDLOCK_LIB at it. Tried:\n" + "\n".join(tried)
    )


# Each entry: name -> (restype, argtypes, checked). checked means "returns a
# status: negative values raise".
_PROTOTYPES: Dict[str, Tuple[Any, List[Any], bool]] = {
    # version and errors
    "sandlock_version_number": (c_uint, [], False),
    "sandlock_version_string": (c_char_p, [], False),
    "sandlock_last_error": (c_char_p, [], False),
    "sandlock_last_errno": (c_int, [], False),
    "sandlock_strerror": (c_char_p, [c_int], False),
    "sandlock_string_free": (None, [c_void_p], False),
    # policy
    "sandlock_policy_new": (c_int, [POINTER(PolicyP)], True),
    "sandlock_policy_free": (None, [PolicyP], False),
    "sandlock_policy_clone": (c_int, [PolicyP, POINTER(PolicyP)], True),
    "sandlock_policy_validate": (c_int, [PolicyP], True),
    "sandlock_policy_add_fs_writable": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_clear_fs_writable": (c_int, [PolicyP], True),
    "sandlock_policy_add_fs_readable": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_clear_fs_readable": (c_int, [PolicyP], True),
    "sandlock_policy_add_fs_denied": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_clear_fs_denied": (c_int, [PolicyP], True),
    "sandlock_policy_add_deny_syscalls": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_deny_syscalls_empty": (c_int, [PolicyP], True),
    "sandlock_policy_clear_deny_syscalls": (c_int, [PolicyP], True),
    "sandlock_policy_add_allow_syscalls": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_allow_syscalls_empty": (c_int, [PolicyP], True),
    "sandlock_policy_clear_allow_syscalls": (c_int, [PolicyP], True),
    "sandlock_policy_add_net_allow_hosts": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_net_allow_hosts_empty": (c_int, [PolicyP], True),
    "sandlock_policy_clear_net_allow_hosts": (c_int, [PolicyP], True),
    "sandlock_policy_add_net_bind": (c_int, [PolicyP, c_uint16], True),
    "sandlock_policy_add_net_bind_range": (c_int, [PolicyP, c_uint16, c_uint16], True),
    "sandlock_policy_clear_net_bind": (c_int, [PolicyP], True),
    "sandlock_policy_add_net_connect": (c_int, [PolicyP, c_uint16], True),
    "sandlock_policy_add_net_connect_range": (c_int, [PolicyP, c_uint16, c_uint16], True),
    "sandlock_policy_clear_net_connect": (c_int, [PolicyP], True),
    "sandlock_policy_set_no_raw_sockets": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_no_udp": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_port_remap": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_add_http_allow": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_clear_http_allow": (c_int, [PolicyP], True),
    "sandlock_policy_add_http_deny": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_clear_http_deny": (c_int, [PolicyP], True),
    "sandlock_policy_add_http_ports": (c_int, [PolicyP, c_uint16], True),
    "sandlock_policy_add_http_ports_range": (c_int, [PolicyP, c_uint16, c_uint16], True),
    "sandlock_policy_clear_http_ports": (c_int, [PolicyP], True),
    "sandlock_policy_set_https_ca": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_https_key": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_max_memory": (c_int, [PolicyP, c_uint64], True),
    "sandlock_policy_set_max_processes": (c_int, [PolicyP, c_uint32], True),
    "sandlock_policy_set_max_open_files": (c_int, [PolicyP, c_uint64], True),
    "sandlock_policy_set_max_cpu": (c_int, [PolicyP, c_uint32], True),
    "sandlock_policy_add_cpu_cores": (c_int, [PolicyP, c_uint32], True),
    "sandlock_policy_clear_cpu_cores": (c_int, [PolicyP], True),
    "sandlock_policy_set_num_cpus": (c_int, [PolicyP, c_uint32], True),
    "sandlock_policy_add_gpu_devices": (c_int, [PolicyP, c_uint32], True),
    "sandlock_policy_set_gpu_devices_empty": (c_int, [PolicyP], True),
    "sandlock_policy_clear_gpu_devices": (c_int, [PolicyP], True),
    "sandlock_policy_set_no_coredump": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_no_randomize_memory": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_no_huge_pages": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_deterministic_dirs": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_clean_env": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_allow_degraded": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_random_seed": (c_int, [PolicyP, c_uint64], True),
    "sandlock_policy_clear_random_seed": (c_int, [PolicyP], True),
    "sandlock_policy_set_time_start": (c_int, [PolicyP, c_int64, c_uint32], True),
    "sandlock_policy_clear_time_start": (c_int, [PolicyP], True),
    "sandlock_policy_set_hostname": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_env": (c_int, [PolicyP, c_char_p, c_char_p], True),
    "sandlock_policy_clear_env": (c_int, [PolicyP], True),
    "sandlock_policy_set_uid": (c_int, [PolicyP, c_uint32], True),
    "sandlock_policy_clear_uid": (c_int, [PolicyP], True),
    "sandlock_policy_set_cwd": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_chroot": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_add_fs_mount": (c_int, [PolicyP, c_char_p, c_char_p], True),
    "sandlock_policy_clear_fs_mount": (c_int, [PolicyP], True),
    "sandlock_policy_set_workdir": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_fs_storage": (c_int, [PolicyP, c_char_p], True),
    "sandlock_policy_set_fs_isolation": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_max_disk": (c_int, [PolicyP, c_uint64], True),
    "sandlock_policy_set_on_exit": (c_int, [PolicyP, c_int], True),
    "sandlock_policy_set_on_error": (c_int, [PolicyP, c_int], True),
    # policy callbacks
    "sandlock_set_policy_fn": (c_int, [PolicyP, POLICY_FN, c_void_p, FREE_FN], True),
    # event accessors (during a callback only)
    "sandlock_event_syscall": (c_char_p, [EventP], False),
    "sandlock_event_category": (c_int, [EventP], False),
    "sandlock_event_pid": (c_int, [EventP], False),
    "sandlock_event_parent_pid": (c_int, [EventP], False),
    "sandlock_event_host": (c_char_p, [EventP], False),
    "sandlock_event_port": (c_int, [EventP], False),
    "sandlock_event_size": (c_uint64, [EventP], False),
    "sandlock_event_argc": (c_size_t, [EventP], False),
    "sandlock_event_argv": (c_char_p, [EventP, c_size_t], False),
    "sandlock_event_denied": (c_int, [EventP], False),
    "sandlock_event_held": (c_int, [EventP], False),
    # context functions (during a callback only)
    "sandlock_ctx_restrict_network": (c_int, [CtxP, POINTER(c_char_p), c_size_t], True),
    "sandlock_ctx_grant_network": (c_int, [CtxP, POINTER(c_char_p), c_size_t], True),
    "sandlock_ctx_restrict_pid_network": (c_int, [CtxP, c_int, POINTER(c_char_p), c_size_t], True),
    "sandlock_ctx_clear_pid_override": (c_int, [CtxP, c_int], True),
    "sandlock_ctx_restrict_max_processes": (c_int, [CtxP, c_uint32], True),
    "sandlock_ctx_grant_max_processes": (c_int, [CtxP, c_uint32], True),
    "sandlock_ctx_restrict_max_memory": (c_int, [CtxP, c_uint64], True),
    "sandlock_ctx_grant_max_memory": (c_int, [CtxP, c_uint64], True),
    "sandlock_ctx_deny_path": (c_int, [CtxP, c_char_p], True),
    "sandlock_ctx_allow_path": (c_int, [CtxP, c_char_p], True),
    # spawn options
    "sandlock_spawn_options_new": (c_int, [POINTER(OptionsP)], True),
    "sandlock_spawn_options_free": (None, [OptionsP], False),
    "sandlock_spawn_options_set_stdio": (c_int, [OptionsP, c_int, c_int, c_int], True),
    "sandlock_spawn_options_set_timeout_ms": (c_int, [OptionsP, c_int64], True),
    "sandlock_spawn_options_set_name": (c_int, [OptionsP, c_char_p], True),
    "sandlock_spawn_options_set_output_limit": (c_int, [OptionsP, c_uint64], True),
    "sandlock_spawn_options_set_share_pgrp": (c_int, [OptionsP, c_int], True),
    # sandboxes
    "sandlock_spawn": (c_int, [PolicyP, POINTER(c_char_p), OptionsP, POINTER(SandboxP)], True),
    "sandlock_sandbox_pid": (c_int, [SandboxP], True),
    # wait returns ETIMEOUT in normal operation: checked by the caller.
    "sandlock_sandbox_wait": (c_int, [SandboxP, c_int64, POINTER(ResultP)], False),
    "sandlock_sandbox_kill": (c_int, [SandboxP], False),
    "sandlock_sandbox_pause": (c_int, [SandboxP], True),
    "sandlock_sandbox_resume": (c_int, [SandboxP], True),
    "sandlock_sandbox_set_max_processes": (c_int, [SandboxP, c_uint32], True),
    "sandlock_sandbox_port_mappings": (
        c_int, [SandboxP, POINTER(c_uint16), POINTER(c_uint16), c_size_t, POINTER(c_size_t)], True),
    "sandlock_sandbox_free": (None, [SandboxP], False),
    "sandlock_run": (c_int, [PolicyP, POINTER(c_char_p), c_int64, POINTER(ResultP)], True),
    # results
    "sandlock_result_exit_code": (c_int, [ResultP], False),
    "sandlock_result_signal": (c_int, [ResultP], True),
    "sandlock_result_reason": (c_int, [ResultP], True),
    "sandlock_result_stdout": (c_void_p, [ResultP, POINTER(c_size_t)], False),
    "sandlock_result_stderr": (c_void_p, [ResultP, POINTER(c_size_t)], False),
    "sandlock_result_exec_error": (c_char_p, [ResultP], False),
    "sandlock_result_duration_ns": (c_uint64, [ResultP], False),
    "sandlock_result_degraded_count": (c_size_t, [ResultP], False),
    "sandlock_result_degraded": (c_char_p, [ResultP, c_size_t], False),
    "sandlock_result_free": (None, [ResultP], False),
    # process confinement and kernel features
    "sandlock_confine": (c_int, [PolicyP], True),
    # a negative answer is reported as -1 by landlock_abi_version()
    "sandlock_landlock_abi_version": (c_int, [], False),
}

# Functions without which the binding cannot work at all (the first
# published ABI). Functions added later may be missing from an older library
# of the same major version; calling one then raises.
_CORE_FUNCTIONS = frozenset(
    n for n in _PROTOTYPES
    if n != "sandlock_sandbox_port_mappings" and not n.startswith(("sandlock_event_", "sandlock_ctx_"))
)

# Functions that are no-ops in a forked child instead of raising: they only
# release memory, and finalisers run them at exit.
_RELEASE_FUNCTIONS = frozenset(
    {
        "sandlock_policy_free",
        "sandlock_spawn_options_free",
        "sandlock_sandbox_free",
        "sandlock_result_free",
        "sandlock_string_free",
    }
)


class _Library:
    """The declared functions of libsandlock, as attributes.

    Each attribute checks first that the calling process is the one that
    loaded the library (see :class:`ForkedChildError`).
    """

    def __init__(self, dll: ctypes.CDLL, path: str) -> None:
        self.dll = dll
        self.path = path
        self.pid = os.getpid()
        #: Functions of the header that the loaded library lacks (an older
        #: library of the same major version): calling one raises
        #: NotImplementedFeatureError.
        self.missing: List[str] = []
        for name, (restype, argtypes, checked) in _PROTOTYPES.items():
            try:
                fn = getattr(dll, name)
            except AttributeError:
                self.missing.append(name)
                setattr(self, name, self._absent(name, path))
                continue
            fn.restype = restype
            fn.argtypes = argtypes
            if checked:
                fn.errcheck = _errcheck_status
            setattr(self, name, self._guard(name, fn))
        core = [n for n in self.missing if n in _CORE_FUNCTIONS]
        if core:
            raise ImportError(f"sandlock: {path} lacks functions this binding needs: {', '.join(core)}")

    @staticmethod
    def _absent(name: str, path: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            raise NotImplementedFeatureError(
                f"{name}: the loaded library ({path}) does not have this function yet; "
                "a newer libsandlock of the same major version does"
            )

        call.__name__ = name
        return call

    def has(self, name: str) -> bool:
        """Whether the loaded library exports ``name``."""
        return name in _PROTOTYPES and name not in self.missing

    def _guard(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        release = name in _RELEASE_FUNCTIONS
        loader_pid = self.pid

        def call(*args: Any) -> Any:
            if os.getpid() != loader_pid:
                if release:
                    return None
                raise ForkedChildError(
                    f"{name}: this process was created by os.fork() after libsandlock was "
                    "loaded in its parent; the library's Go runtime does not survive a fork, "
                    "so it cannot be used here (start the child with subprocess, or "
                    "multiprocessing's 'spawn' or 'forkserver' method)"
                )
            return fn(*args)

        call.__name__ = name
        call.__qualname__ = name
        return call

    def __getattr__(self, name: str) -> Any:  # only reached for unknown names
        raise AttributeError(f"libsandlock binding has no function {name!r}")


_lib: Optional[_Library] = None


def _load() -> _Library:
    dll, path = _find_library()
    try:
        version = int(dll.sandlock_version_number())
    except AttributeError as e:
        raise ImportError(f"sandlock: {path} is not libsandlock (no sandlock_version_number)") from e
    major = version // 10000
    if major != EXPECTED_MAJOR:
        raise ImportError(
            f"sandlock: {path} is libsandlock {version // 10000}.{version // 100 % 100}."
            f"{version % 100} (major {major}); this package needs major {EXPECTED_MAJOR}"
        )
    return _Library(dll, path)


_lib = _load()

#: The loaded library's declared functions.
lib: _Library = _lib
#: Where the library was loaded from (a path, or a name the dynamic loader
#: resolved).
library_path: str = _lib.path


def library_version() -> str:
    """Version string of the loaded library (``sandlock_version_string()``)."""
    raw: bytes = lib.sandlock_version_string()
    return raw.decode()


def library_file() -> str:
    """Absolute path of the loaded library file, as the dynamic loader
    mapped it (read from /proc/self/maps)."""
    addr = ctypes.cast(lib.dll.sandlock_version_number, c_void_p).value or 0
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 6:
                    continue
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                if lo <= addr < hi:
                    return parts[5]
    except OSError:
        pass
    return library_path


# --- small helpers used by the high-level modules ------------------------------


def encode(s: str, what: str) -> bytes:
    """UTF-8 encode a string for the C side, refusing NUL bytes (which C
    would silently cut at)."""
    if not isinstance(s, str):
        raise TypeError(f"{what} must be a str, not {type(s).__name__}")
    b = s.encode("utf-8", "surrogateescape")
    if b"\0" in b:
        raise PolicyError(f"{what}: {s!r} contains a NUL byte")
    return b


def argv_array(args: List[str]) -> "ctypes.Array[c_char_p]":
    """A NULL-terminated ``const char *const *`` for argv."""
    arr = (c_char_p * (len(args) + 1))()
    for i, a in enumerate(args):
        arr[i] = encode(a, "argument")
    arr[len(args)] = None
    return arr


def new_policy() -> Any:
    """A new ``sandlock_policy_t *`` holding the defaults (caller frees)."""
    out = PolicyP()
    lib.sandlock_policy_new(ctypes.byref(out))
    return out


def new_options() -> Any:
    """A new ``sandlock_spawn_options_t *`` (caller frees)."""
    out = OptionsP()
    lib.sandlock_spawn_options_new(ctypes.byref(out))
    return out


def result_bytes(r: Any, stream: int) -> bytes:
    """Captured stdout (1) or stderr (2) of a result, copied."""
    n = c_size_t(0)
    fn = lib.sandlock_result_stdout if stream == STDOUT else lib.sandlock_result_stderr
    ptr = fn(r, ctypes.byref(n))
    if not ptr or n.value == 0:
        return b""
    return ctypes.string_at(ptr, n.value)


def owned_string(ptr: Optional[int]) -> Optional[str]:
    """Copy a ``char *`` the library returned as owned, then release it
    with ``sandlock_string_free()``."""
    if not ptr:
        return None
    try:
        return ctypes.string_at(ptr).decode("utf-8", "replace")
    finally:
        lib.sandlock_string_free(ptr)
