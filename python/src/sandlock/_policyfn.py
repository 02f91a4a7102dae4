"""Dynamic policies: a Python callback deciding intercepted system calls.

``Sandbox(policy, policy_fn=f)`` registers ``f(event, ctx)`` with the
library (``sandlock_set_policy_fn``). The library calls it on threads of its
own, one sandbox's events one at a time (a slow callback may let a second
thread take the next events, so callbacks must be thread-safe); ctypes takes
the GIL for each call.

Verdicts (the original SDK's convention):

* ``None``, ``False``, ``0``, ``"allow"``: allow;
* ``True``, ``-1``, ``"deny"``: deny with EPERM;
* an ``int`` in 1..4095: deny with that errno (13 is EACCES);
* ``"audit"``, ``-2``: allow and count as audited.

Anything else, and any exception the callback raises, denies (fail closed;
the traceback is printed to stderr). Only the verdicts of *held* calls
(exec, connect, send, bind, open) count; the others are notifications.
Notifications queue without making the call wait: past 4096 waiting
events new ones are dropped, and those still queued when the sandbox ends
are delivered (for at most 5 seconds) before the run returns.
"""

from __future__ import annotations

import ctypes
import ipaddress
import itertools
import os
import sys
import threading
import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from . import _native
from ._native import lib
from .exceptions import NotImplementedFeatureError, SandboxError

__all__ = ["SyscallEvent", "PolicyContext", "register", "verdict_of"]

_CATEGORIES = {
    _native.CATEGORY_FILE: "file",
    _native.CATEGORY_NETWORK: "network",
    _native.CATEGORY_PROCESS: "process",
    _native.CATEGORY_MEMORY: "memory",
}


@dataclass(frozen=True)
class SyscallEvent:
    """An intercepted system call, as a policy callback sees it.

    Attributes:
        syscall: the system call's name (``"openat"``, ``"connect"``, ...).
        category: ``"file"``, ``"network"``, ``"process"`` or ``"memory"``.
        pid: the calling process.
        parent_pid: its parent, 0 when unknown.
        host: destination IP address of connect/sendto/sendmsg (local
            address for bind), else ``None``.
        port: the port that goes with ``host``, else 0.
        argv: the arguments of execve/execveat, else ``None``.
        denied: the built-in policy already denied the call.
    """

    syscall: str
    category: str
    pid: int
    parent_pid: int = 0
    host: Optional[str] = None
    port: int = 0
    argv: Optional[Tuple[str, ...]] = None
    denied: bool = False

    def argv_contains(self, s: str) -> bool:
        """True when an argument of an exec event contains ``s``."""
        return self.argv is not None and any(s in a for a in self.argv)


def _ip_array(ips: Sequence[str]) -> Tuple["ctypes.Array[ctypes.c_char_p]", int]:
    # As the original SDK: strings that are not IP addresses are skipped.
    # Skipping can only narrow a restrict list or shrink a grant.
    good: List[bytes] = []
    for ip in ips:
        try:
            good.append(str(ipaddress.ip_address(str(ip).strip())).encode())
        except ValueError:
            continue
    arr = (ctypes.c_char_p * max(1, len(good)))(*good)
    return arr, len(good)


class PolicyContext:
    """What a policy callback may change while the sandbox runs. Valid only
    during the callback it was given to, on that callback's thread.

    A restrict never widens what the sandbox may do; a grant never goes past
    what it started with, and is refused after a restrict of the same
    resource.

    Raises (every method):
        SandboxError: used outside its callback, after the sandbox ended, a
            grant after a restrict, or a resource the sandbox does not
            limit (e.g. ``restrict_max_memory`` without ``max_memory``).
        PolicyError: a grant above the sandbox's starting limits.
    """

    def __init__(self, ctx: Any = None) -> None:
        self._ctx = ctx

    def _ptr(self, what: str) -> Any:
        if self._ctx is None:
            raise SandboxError(f"PolicyContext.{what}: used outside its policy callback")
        if not lib.has(f"sandlock_ctx_{what}"):
            raise NotImplementedFeatureError(f"PolicyContext.{what}: dynamic policies are not implemented yet")
        return self._ctx

    def restrict_network(self, ips: Sequence[str]) -> None:
        """The sandbox may reach only ``ips`` from now on (``[]``: no IP
        destination at all). Others get ECONNREFUSED."""
        ctx = self._ptr("restrict_network")
        arr, n = _ip_array(ips)
        lib.sandlock_ctx_restrict_network(ctx, arr, n)

    def grant_network(self, ips: Sequence[str]) -> None:
        """Allow ``ips`` again, within the policy's host allowlist."""
        ctx = self._ptr("grant_network")
        arr, n = _ip_array(ips)
        lib.sandlock_ctx_grant_network(ctx, arr, n)

    def restrict_pid_network(self, pid: int, ips: Sequence[str]) -> None:
        """Process ``pid`` may reach only ``ips`` (on top of the sandbox's
        limits); ``[]`` blocks its network entirely."""
        ctx = self._ptr("restrict_pid_network")
        arr, n = _ip_array(ips)
        lib.sandlock_ctx_restrict_pid_network(ctx, int(pid), arr, n)

    def clear_pid_override(self, pid: int) -> None:
        """Undo :meth:`restrict_pid_network` for ``pid``."""
        lib.sandlock_ctx_clear_pid_override(self._ptr("clear_pid_override"), int(pid))

    def restrict_max_memory(self, bytes: int) -> None:  # noqa: A002 (the original's name)
        """Lower the memory budget (needs ``max_memory`` in the policy)."""
        lib.sandlock_ctx_restrict_max_memory(self._ptr("restrict_max_memory"), int(bytes))

    def grant_max_memory(self, bytes: int) -> None:  # noqa: A002
        """Raise the memory budget again, up to the policy's."""
        lib.sandlock_ctx_grant_max_memory(self._ptr("grant_max_memory"), int(bytes))

    def restrict_max_processes(self, n: int) -> None:
        """Lower the process limit."""
        lib.sandlock_ctx_restrict_max_processes(self._ptr("restrict_max_processes"), int(n))

    def grant_max_processes(self, n: int) -> None:
        """Raise the process limit again, up to the policy's."""
        lib.sandlock_ctx_grant_max_processes(self._ptr("grant_max_processes"), int(n))

    def deny_path(self, path: str) -> None:
        """Make ``path`` unreachable (EACCES), whatever spelling or link
        leads to it."""
        ctx = self._ptr("deny_path")
        lib.sandlock_ctx_deny_path(ctx, _native.encode(os.path.abspath(path), "path"))

    def allow_path(self, path: str) -> None:
        """Undo an earlier :meth:`deny_path` (the policy's fs_denied
        stays)."""
        ctx = self._ptr("allow_path")
        lib.sandlock_ctx_allow_path(ctx, _native.encode(os.path.abspath(path), "path"))


def verdict_of(value: Any) -> int:
    """The ``SANDLOCK_VERDICT_*`` value or errno for a callback's return
    value (see the module documentation); unknown values deny."""
    if value is None or value is False:
        return _native.VERDICT_ALLOW
    if value is True:
        return _native.VERDICT_DENY
    if isinstance(value, str):
        return {"allow": _native.VERDICT_ALLOW, "audit": _native.VERDICT_AUDIT}.get(
            value.lower(), _native.VERDICT_DENY)
    if isinstance(value, int):
        if value in (_native.VERDICT_ALLOW, _native.VERDICT_DENY, _native.VERDICT_AUDIT) or 1 <= value <= 4095:
            return value
    return _native.VERDICT_DENY


def _decode(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else b.decode("utf-8", "surrogateescape")


def _event(ev: Any) -> SyscallEvent:
    argc = int(lib.sandlock_event_argc(ev))
    argv = tuple(_decode(lib.sandlock_event_argv(ev, i)) or "" for i in range(argc)) if argc else None
    return SyscallEvent(
        syscall=_decode(lib.sandlock_event_syscall(ev)) or "unknown",
        category=_CATEGORIES.get(int(lib.sandlock_event_category(ev)), "file"),
        pid=int(lib.sandlock_event_pid(ev)),
        parent_pid=max(0, int(lib.sandlock_event_parent_pid(ev))),
        host=_decode(lib.sandlock_event_host(ev)),
        port=max(0, int(lib.sandlock_event_port(ev))),
        argv=argv,
        denied=lib.sandlock_event_denied(ev) == 1,
    )


# --- registration ---------------------------------------------------------------

# Callbacks the library may still call, by the id passed as user_data. The
# library releases its reference through _release (user_data_free) when the
# last policy and sandbox holding the registration are gone.
_registry: Dict[int, Callable[..., Any]] = {}
_registry_lock = threading.Lock()
_ids = itertools.count(1)

# Library threads that already hold a permanent Python thread state (see
# _pin_thread_state).
_pinned = threading.local()


def _pin_thread_state() -> None:
    """Keep this (library-owned) thread's Python thread state for good.

    ctypes creates a thread state when a foreign thread calls a callback
    and destroys it on return, which costs more than the call itself. One
    extra PyGILState_Ensure that is never released keeps it: later
    callbacks on this thread only take the GIL. The library reuses a small
    set of callback threads, so this is bounded.
    """
    if not getattr(_pinned, "done", False):
        ctypes.pythonapi.PyGILState_Ensure.restype = ctypes.c_int
        ctypes.pythonapi.PyGILState_Ensure()
        _pinned.done = True


def _trampoline(ev: Any, ctx: Any, user_data: Optional[int]) -> int:
    try:
        _pin_thread_state()
        with _registry_lock:
            fn = _registry.get(user_data or 0)
        if fn is None:
            return _native.VERDICT_DENY
        context = PolicyContext(ctx)
        try:
            return verdict_of(fn(_event(ev), context))
        finally:
            context._ctx = None
    except BaseException:  # fail closed, whatever happened
        try:
            sys.stderr.write("sandlock: policy_fn raised; the call is denied:\n")
            traceback.print_exc()
        except BaseException:
            pass
        return _native.VERDICT_DENY


def _release(user_data: Optional[int]) -> None:
    with _registry_lock:
        _registry.pop(user_data or 0, None)


# One C function pointer each, alive for the life of the module.
_TRAMPOLINE = _native.POLICY_FN(_trampoline)
_RELEASE = _native.FREE_FN(_release)


def register(policy_ptr: Any, fn: Callable[[SyscallEvent, PolicyContext], Any]) -> None:
    """Attach ``fn`` as the policy callback of the native policy.

    Raises:
        NotImplementedFeatureError: the loaded library has no policy
            callbacks.
    """
    if not callable(fn):
        raise TypeError("policy_fn must be callable")
    if not lib.has("sandlock_event_syscall"):
        raise NotImplementedFeatureError("policy_fn: the loaded library does not implement policy callbacks yet")
    with _registry_lock:
        key = next(_ids)
        _registry[key] = fn
    try:
        lib.sandlock_set_policy_fn(policy_ptr, _TRAMPOLINE, ctypes.c_void_p(key), _RELEASE)
    except BaseException:
        _release(key)  # on failure the library keeps nothing
        raise
