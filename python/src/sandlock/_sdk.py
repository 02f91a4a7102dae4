"""Sandboxes, results, pipelines: the high-level API over :mod:`._native`."""

from __future__ import annotations

import ctypes
import math
import os
import shlex
import threading
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

from . import _native
from ._build import apply_policy
from ._native import lib
from .exceptions import (
    NotImplementedFeatureError,
    PolicyError,
    SandboxError,
    SandlockError,
)
from ._policyfn import PolicyContext, SyscallEvent, register as _register_policy_fn
from .policy import Policy

__all__ = [
    "Sandbox",
    "Result",
    "DryRunResult",
    "Change",
    "SyscallEvent",
    "PolicyContext",
    "Stage",
    "Pipeline",
    "NamedStage",
    "Gather",
    "GatherPipeline",
    "ForkResult",
    "SandboxNotRunningError",
]

#: How long one native wait blocks before Python gets control back (to
#: deliver Ctrl-C and other signals). The wait still returns at once when
#: the sandbox ends, so this only bounds how late a KeyboardInterrupt is
#: seen.
WAIT_SLICE_MS = 100

Command = Union[str, Sequence[str]]


class SandboxNotRunningError(SandboxError, RuntimeError):
    """:meth:`Sandbox.pause`/:meth:`Sandbox.resume` on a sandbox that is not
    running. Also a ``RuntimeError``, which the original SDK raised."""


# --- result types ---------------------------------------------------------------


@dataclass
class Result:
    """How a sandboxed command ended.

    ``success`` is true exactly when the command exited with status 0.
    A command killed by a signal, by the timeout or by Ctrl-C has
    ``exit_code == -1``. A command that could not be executed has exit code
    127 and a ``sandlock: execve ...`` line on ``stderr``.

    :attr:`reason` says why a command ended (a max_memory kill, for one);
    it is a property, not a field, so that the fields, their order and the
    repr stay those of the original SDK.
    """

    success: bool
    exit_code: int = 0
    stdout: bytes = field(default=b"", repr=False)
    stderr: bytes = field(default=b"", repr=False)
    error: Optional[str] = None

    @property
    def reason(self) -> Optional[str]:
        """How the command ended: ``"exited"``, ``"signaled"`` (a signal
        sandlock did not send), ``"killed"`` (killed on request),
        ``"timeout"``, or ``"memory_limit"`` (the sandbox held more than
        ``max_memory`` and was killed with SIGKILL; an allocation past the
        budget fails with ENOMEM instead and kills nothing). ``None`` when
        the result does not come from a finished command."""
        reason: Optional[str] = self.__dict__.get("_reason")
        return reason


def _with_reason(r: Result, reason: Optional[str]) -> Result:
    """Attach :attr:`Result.reason` to ``r`` and return it."""
    r.__dict__["_reason"] = reason
    return r


_REASONS = {
    _native.REASON_EXITED: "exited",
    _native.REASON_SIGNALED: "signaled",
    _native.REASON_KILLED: "killed",
    _native.REASON_TIMEOUT: "timeout",
    _native.REASON_MEMORY_LIMIT: "memory_limit",
}


@dataclass(frozen=True)
class Change:
    """One change a dry run found: ``kind`` is ``"A"`` (added), ``"M"``
    (modified) or ``"D"`` (deleted); ``path`` is relative to the workdir."""

    kind: str
    path: str


@dataclass
class DryRunResult:
    """Result of :meth:`Sandbox.dry_run`: a :class:`Result` plus the list of
    filesystem changes the command would have made."""

    success: bool
    exit_code: int = 0
    stdout: bytes = field(default=b"", repr=False)
    stderr: bytes = field(default=b"", repr=False)
    changes: List[Change] = field(default_factory=list)
    error: Optional[str] = None


@dataclass
class ForkResult:
    """The clones made by :meth:`Sandbox.fork` (not implemented yet)."""

    pids: List[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.pids)

    def __getitem__(self, i: int) -> int:
        return self.pids[i]


# --- native objects -------------------------------------------------------------


class _NativePolicy:
    """Owns a ``sandlock_policy_t *``; freed by :meth:`close` or, at the
    latest, by a finaliser (also at interpreter shutdown)."""

    def __init__(self, ptr: Any) -> None:
        self.ptr = ptr
        self._finalizer = weakref.finalize(self, lib.sandlock_policy_free, ptr)

    @classmethod
    def build(cls, policy: Policy) -> "_NativePolicy":
        """Native copy of ``policy``, not yet validated."""
        np = cls(_native.new_policy())
        try:
            apply_policy(np.ptr, policy)
        except BaseException:
            np.close()
            raise
        return np

    def clone(self) -> "_NativePolicy":
        out = _native.PolicyP()
        lib.sandlock_policy_clone(self.ptr, ctypes.byref(out))
        return _NativePolicy(out)

    def close(self) -> None:
        self._finalizer()


_hostname_supported: Optional[bool] = None
_hostname_lock = threading.Lock()


def hostname_supported() -> bool:
    """Whether the loaded library enforces the ``hostname`` option.

    Hostname virtualisation is being built; until the library accepts the
    option, validation reports it as not implemented, and :meth:`Sandbox.run`
    then leaves the host name alone instead of failing every run.
    """
    global _hostname_supported
    with _hostname_lock:
        if _hostname_supported is None:
            p = _native.new_policy()
            try:
                lib.sandlock_policy_set_hostname(p, b"sandlock-probe")
                try:
                    lib.sandlock_policy_validate(p)
                    _hostname_supported = True
                except NotImplementedFeatureError:
                    _hostname_supported = False
            finally:
                lib.sandlock_policy_free(p)
        return _hostname_supported


def _argv(cmd: Command) -> List[str]:
    if isinstance(cmd, str):
        args = shlex.split(cmd)
    else:
        args = [os.fspath(a) if isinstance(a, os.PathLike) else a for a in cmd]
    if not args:
        raise ValueError("empty command")
    for a in args:
        if not isinstance(a, str):
            raise TypeError(f"command arguments must be str, got {type(a).__name__}")
    return args


def _timeout_ms(timeout: Optional[float]) -> int:
    if timeout is None:
        return 0
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    return max(1, math.ceil(timeout * 1000))


Stdio = Tuple[int, int]  # (SANDLOCK_STDIO_* mode, fd or -1)


class _Running:
    """A spawned sandbox (``sandlock_sandbox_t *``) until it is freed."""

    def __init__(self, ptr: Any) -> None:
        self.ptr = ptr
        self._finalizer = weakref.finalize(self, lib.sandlock_sandbox_free, ptr)
        self.pid = int(lib.sandlock_sandbox_pid(ptr))

    def try_wait(self, timeout_ms: int) -> Optional[Any]:
        """A result pointer, or None if the sandbox is still running after
        ``timeout_ms``."""
        r = _native.ResultP()
        rc = lib.sandlock_sandbox_wait(self.ptr, timeout_ms, ctypes.byref(r))
        if rc == _native.OK:
            return r
        if rc == _native.ETIMEOUT:
            return None
        raise _native.error_for(rc, "sandlock_sandbox_wait")

    def wait(self) -> Any:
        """Wait for the end in short native slices, so that Ctrl-C (and any
        other Python signal handler) runs within WAIT_SLICE_MS."""
        while True:
            r = self.try_wait(WAIT_SLICE_MS)
            if r is not None:
                return r

    def port_mappings(self) -> Dict[int, int]:
        """``{virtual: real}`` of a sandbox with port_remap."""
        count = ctypes.c_size_t(0)
        lib.sandlock_sandbox_port_mappings(self.ptr, None, None, 0, ctypes.byref(count))
        while True:
            cap = count.value + 8  # it may bind more in between
            virt, real = (ctypes.c_uint16 * cap)(), (ctypes.c_uint16 * cap)()
            lib.sandlock_sandbox_port_mappings(self.ptr, virt, real, cap, ctypes.byref(count))
            if count.value <= cap:
                return {virt[i]: real[i] for i in range(count.value)}

    def kill(self) -> None:
        """Kill every process of the sandbox; no error if it has ended."""
        rc = lib.sandlock_sandbox_kill(self.ptr)
        if rc not in (_native.OK, _native.ESTATE):
            raise _native.error_for(rc, "sandlock_sandbox_kill")

    def abandon(self) -> None:
        """Kill, reap and free; used when the caller is interrupted or the
        wait failed. Errors here are dropped: the caller re-raises the one
        that brought it here."""
        try:
            self.kill()
            r = self.try_wait(-1)
            if r is not None:
                lib.sandlock_result_free(r)
        except SandlockError:
            pass
        finally:
            self.free()

    def free(self) -> None:
        self._finalizer()


def _new_spawn_options(
    stdin: Stdio, stdout: Stdio, stderr: Stdio, timeout_ms: int, name: Optional[str], share_pgrp: bool
) -> Any:
    """A new ``sandlock_spawn_options_t *`` with these settings (caller frees)."""
    opts = _native.new_options()
    try:
        for stream, (mode, fd) in ((_native.STDIN, stdin), (_native.STDOUT, stdout), (_native.STDERR, stderr)):
            lib.sandlock_spawn_options_set_stdio(opts, stream, mode, fd)
        if timeout_ms:
            lib.sandlock_spawn_options_set_timeout_ms(opts, timeout_ms)
        if name:
            lib.sandlock_spawn_options_set_name(opts, _native.encode(name, "name"))
        if share_pgrp:
            lib.sandlock_spawn_options_set_share_pgrp(opts, 1)
    except BaseException:
        lib.sandlock_spawn_options_free(opts)
        raise
    return opts


# Spawn options that name no descriptor (the streams of Sandbox.run) are
# kept and reused: every library call costs microseconds (ctypes, then the
# Go runtime's entry from a foreign thread), and sandlock_spawn copies the
# options, so sharing one between threads is safe. Bounded; the evicted
# ones are freed.
_OPTIONS_CACHE_MAX = 16
_options_cache: Dict[Tuple[Any, ...], Any] = {}
_options_lock = threading.Lock()


def _cached_spawn_options(key: Tuple[Any, ...]) -> Optional[Any]:
    """The kept options for ``key``, or None."""
    with _options_lock:
        return _options_cache.get(key)


def _keep_spawn_options(key: Tuple[Any, ...], opts: Any) -> bool:
    """Keep ``opts`` under ``key``; False if the caller still owns it."""
    with _options_lock:
        if key in _options_cache:
            return False
        if len(_options_cache) >= _OPTIONS_CACHE_MAX:
            _, old = _options_cache.popitem()
            lib.sandlock_spawn_options_free(old)
        _options_cache[key] = opts
        return True


def _spawn(
    policy: _NativePolicy,
    args: List[str],
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
    timeout_ms: int = 0,
    name: Optional[str] = None,
    share_pgrp: bool = False,
) -> _Running:
    key = None
    if stdin[1] < 0 and stdout[1] < 0 and stderr[1] < 0:
        key = (stdin[0], stdout[0], stderr[0], timeout_ms, name, share_pgrp)
    opts = _cached_spawn_options(key) if key is not None else None
    owned = opts is None
    if owned:
        opts = _new_spawn_options(stdin, stdout, stderr, timeout_ms, name, share_pgrp)
    try:
        out = _native.SandboxP()
        lib.sandlock_spawn(policy.ptr, _native.argv_array(args), opts, ctypes.byref(out))
    finally:
        if owned and (key is None or not _keep_spawn_options(key, opts)):
            lib.sandlock_spawn_options_free(opts)
    return _Running(out)


def _result_from_native(r: Any) -> Result:
    """Copy a native result into a :class:`Result` and free it."""
    try:
        reason = lib.sandlock_result_reason(r)
        code = lib.sandlock_result_exit_code(r)
        out = _native.result_bytes(r, _native.STDOUT)
        err = _native.result_bytes(r, _native.STDERR)
        exec_error = lib.sandlock_result_exec_error(r)
    finally:
        lib.sandlock_result_free(r)
    if exec_error and exec_error.lower() not in err.lower():
        # The library writes the reason to the command's stderr; if that
        # stream was not captured, still report it here.
        err += b"sandlock: " + exec_error + b"\n"
    name = _REASONS.get(reason, f"unknown({reason})")
    if reason == _native.REASON_EXITED:
        return _with_reason(Result(success=code == 0, exit_code=code, stdout=out, stderr=err), name)
    # Signaled, killed, timed out or over the memory budget: no exit status
    # (the original SDK gives -1 and no error message, also for a timeout).
    return _with_reason(Result(success=False, exit_code=-1, stdout=out, stderr=err), name)


def _wait_all(running: Sequence[_Running], deadline_ms: Optional[float]) -> Optional[List[Any]]:
    """Wait for every sandbox; None if the deadline (time.monotonic() in ms)
    passed first. Results are returned in order."""
    import time

    results: List[Any] = [None] * len(running)
    for i, rs in enumerate(running):
        while results[i] is None:
            slice_ms = WAIT_SLICE_MS
            if deadline_ms is not None:
                left = deadline_ms - time.monotonic() * 1000
                if left <= 0:
                    for r in results:
                        if r is not None:
                            lib.sandlock_result_free(r)
                    return None
                slice_ms = max(1, min(slice_ms, int(left)))
            results[i] = rs.try_wait(slice_ms)
    return results


# --- Sandbox --------------------------------------------------------------------


class Sandbox:
    """A reusable sandbox configuration: run commands confined by ``policy``.

    Args:
        policy: what the commands may do.
        policy_fn: a dynamic policy callback ``f(event, ctx) -> verdict``
            deciding intercepted system calls while they wait (see
            :mod:`sandlock._policyfn` for events, verdicts and threads).
        init_fn, work_fn: for :meth:`fork` (not implemented yet).
        name: the sandbox's name (listings), also the host name
            :meth:`run` gives the command (default ``sandbox-<pid>``).

    Raises:
        PolicyError: the policy is invalid.
        NotImplementedFeatureError: the policy sets an option this build
            cannot enforce yet.

    One :class:`Sandbox` may run several commands at once from different
    threads. Use it as a context manager, or call :meth:`close`, to kill
    what still runs and release the native policy at once.
    """

    def __init__(
        self,
        policy: Policy,
        policy_fn: Optional[Callable[[SyscallEvent, PolicyContext], Any]] = None,
        init_fn: Optional[Callable[[], None]] = None,
        work_fn: Optional[Callable[[int], None]] = None,
        name: Optional[str] = None,
    ) -> None:
        if name is not None and not isinstance(name, str):
            raise TypeError(f"name must be a str, not {type(name).__name__}")
        self._policy = policy
        self._policy_fn = policy_fn
        self._init_fn = init_fn
        self._work_fn = work_fn
        self._name = name
        self._lock = threading.Lock()
        self._running: List[_Running] = []
        self._closed = False
        # (key, policy) of the last _run_policy, see there.
        self._run_cache: Optional[Tuple[Any, _NativePolicy]] = None
        self._native = _NativePolicy.build(policy)
        try:
            lib.sandlock_policy_validate(self._native.ptr)
            if policy_fn is not None:
                self._install_policy_fn(policy_fn)
        except BaseException:
            self._native.close()
            raise

    # -- properties

    @property
    def policy(self) -> Policy:
        """The policy this sandbox was made with."""
        return self._policy

    @property
    def name(self) -> Optional[str]:
        """The explicit name, or ``None``."""
        return self._name

    @property
    def pid(self) -> Optional[int]:
        """Process id of the command a :meth:`run` is waiting for (the most
        recent one if several run), readable from another thread; ``None``
        when nothing runs."""
        with self._lock:
            return self._running[-1].pid if self._running else None

    # -- running

    def _install_policy_fn(self, fn: Callable[..., Any]) -> None:
        # Registered on the sandbox's native policy; the per-run copies
        # share the registration (and the library keeps the callback alive
        # until the last of them is freed).
        _register_policy_fn(self._native.ptr, fn)

    def _spawn_policy(self, with_hostname: bool = False) -> _NativePolicy:
        """A copy of the native policy completed for one spawn (the caller
        closes it).

        The environment: unless clean_env is set, the command inherits
        this process's *current* environment (os.environ), with the policy's
        env on top. The library alone would pass the environment as it was
        when it was loaded (the Go runtime copies it once at start), so
        later changes to os.environ would be lost; the binding therefore
        hands the environment over explicitly.

        The host name: as the original SDK, :meth:`run` gives the command
        the host name ``name`` or ``"sandbox-<python pid>"``, but only if
        the library implements hostname virtualisation (see
        hostname_supported); until then the host's name is left alone
        rather than failing every run.
        """
        if self._closed:
            raise SandboxError("the sandbox is closed")
        clone = self._native.clone()
        try:
            if not self._policy.clean_env:
                lib.sandlock_policy_set_clean_env(clone.ptr, 1)
                own = set(self._policy.env)
                for key, value in list(os.environb.items()):
                    if key.decode("utf-8", "surrogateescape") in own or not key or b"=" in key:
                        continue
                    lib.sandlock_policy_set_env(clone.ptr, key, value)
            if with_hostname and hostname_supported():
                hostname = self._name or f"sandbox-{os.getpid()}"
                lib.sandlock_policy_set_hostname(clone.ptr, _native.encode(hostname, "hostname"))
        except BaseException:
            clone.close()
            raise
        return clone

    def _run_policy(self) -> _NativePolicy:
        """``_spawn_policy(with_hostname=True)``, reused while the
        environment it copies (and the process) stay the same: building it
        takes one library call per environment variable, which cost more
        than the rest of a short run's Python side. The caller must not
        close it; one that is replaced is freed by its finaliser once no
        run uses it any more."""
        env = None if self._policy.clean_env else tuple(os.environb.items())
        key = (env, os.getpid())
        with self._lock:
            if self._closed:
                raise SandboxError("the sandbox is closed")
            cached = self._run_cache
        if cached is not None and cached[0] == key:
            return cached[1]
        pol = self._spawn_policy(with_hostname=True)
        with self._lock:
            if not self._closed:
                self._run_cache = (key, pol)
        return pol

    def _track(self, rs: _Running) -> None:
        with self._lock:
            self._running.append(rs)

    def _untrack(self, rs: _Running) -> None:
        with self._lock:
            if rs in self._running:
                self._running.remove(rs)

    def _run_native(self, policy: _NativePolicy, args: List[str], stdin: Stdio, stdout: Stdio, stderr: Stdio,
                    timeout_ms: int = 0, share_pgrp: bool = False) -> Result:
        rs = _spawn(policy, args, stdin, stdout, stderr, timeout_ms, self._name, share_pgrp)
        self._track(rs)
        try:
            r = rs.wait()
        except BaseException:
            # KeyboardInterrupt or another exception from a signal handler:
            # the sandbox must not outlive the call.
            self._untrack(rs)
            rs.abandon()
            raise
        self._untrack(rs)
        rs.free()
        return _result_from_native(r)

    def run(self, cmd: Command, timeout: Optional[float] = None) -> Result:
        """Run ``cmd`` to completion with stdin on /dev/null and stdout and
        stderr captured (any amount: they are read while it runs).

        Args:
            cmd: the program and its arguments (a string is split like a
                shell would, without running one). A name without ``/`` is
                looked up in the PATH of the command's environment.
            timeout: seconds; when it expires every process of the sandbox
                is killed and the result has ``success=False``,
                ``exit_code=-1`` and ``error=None``.

        Returns:
            The :class:`Result`. A command that cannot be executed gives
            exit code 127 and a readable line on stderr.

        Raises:
            PolicyError: e.g. a policy path does not exist.
            ConfinementError: the kernel refused a confinement step
                (:class:`LandlockUnavailableError` if it lacks a needed
                Landlock protection).
            ForkError: the command could not be started.
            KeyboardInterrupt: passed on after killing the sandbox.
        """
        args = _argv(cmd)
        timeout_ms = _timeout_ms(timeout)
        policy = self._run_policy()
        return self._run_native(
            policy, args,
            (_native.STDIO_NULL, -1), (_native.STDIO_CAPTURE, -1), (_native.STDIO_CAPTURE, -1),
            timeout_ms,
        )

    def run_interactive(self, cmd: Command) -> int:
        """Run ``cmd`` with the caller's stdin, stdout and stderr, in the
        caller's process group (so it can read the terminal and receives
        Ctrl-C with it), and return its exit status (-1 if a signal ended
        it). Raises like :meth:`run`."""
        args = _argv(cmd)
        inherit = (_native.STDIO_INHERIT, -1)
        policy = self._spawn_policy()
        try:
            result = self._run_native(policy, args, inherit, inherit, inherit, share_pgrp=True)
        finally:
            policy.close()
        return result.exit_code

    def dry_run(self, cmd: Command, timeout: Optional[float] = None) -> DryRunResult:
        """Run ``cmd`` on a copy-on-write view of :attr:`Policy.workdir` and
        report the changes it would make, then discard them.

        Raises:
            NotImplementedFeatureError: the copy-on-write workdir is not
                implemented yet (a dry run without it would really write).
        """
        _argv(cmd)
        raise NotImplementedFeatureError(
            "dry_run: needs the copy-on-write workdir (Policy.workdir), which is not implemented yet"
        )

    def cmd(self, args: Command) -> "Stage":
        """A lazy :class:`Stage` running ``args`` in this sandbox, for
        pipelines (``sb1.cmd([...]) | sb2.cmd([...])``)."""
        return Stage(self, _argv(args))

    def fork(self, n: int) -> ForkResult:
        """Run ``init_fn`` once, then ``n`` copy-on-write clones of it each
        calling ``work_fn(i)`` (not implemented yet)."""
        if self._init_fn is None or self._work_fn is None:
            raise SandboxError("fork() needs both init_fn and work_fn")
        raise NotImplementedFeatureError("fork: copy-on-write clones are not implemented yet")

    def reduce(self, cmd: Command, fork_result: ForkResult) -> Result:
        """Feed the clones' output to ``cmd`` (not implemented yet)."""
        raise NotImplementedFeatureError("reduce: copy-on-write clones are not implemented yet")

    def checkpoint(self, save_fn: Optional[Callable[[], bytes]] = None) -> "Any":
        """Capture the running sandbox (not implemented yet)."""
        raise NotImplementedFeatureError("checkpoint: not implemented yet")

    def ports(self) -> Dict[int, int]:
        """``{virtual: real}`` TCP ports of the running command (the most
        recent one if several run) while port remapping is active; ``{}``
        when nothing runs or the policy does not remap ports."""
        with self._lock:
            rs = self._running[-1] if self._running else None
        if rs is None or not self._policy.port_remap:
            return {}
        return rs.port_mappings()

    def _signal_all(self, fn: Callable[[Any], int], what: str) -> None:
        with self._lock:
            running = list(self._running)
        if not running:
            raise SandboxNotRunningError("sandbox is not running")
        for rs in running:
            try:
                fn(rs.ptr)
            except SandboxError:
                # Ended in the meantime (ESTATE); others still get it.
                if len(running) == 1:
                    raise SandboxNotRunningError("sandbox is not running") from None

    def pause(self) -> None:
        """Stop every process of the running command(s) (SIGSTOP).

        Raises:
            SandboxNotRunningError: nothing runs (also a ``RuntimeError``).
        """
        self._signal_all(lib.sandlock_sandbox_pause, "pause")

    def resume(self) -> None:
        """Continue after :meth:`pause` (SIGCONT).

        Raises:
            SandboxNotRunningError: nothing runs (also a ``RuntimeError``).
        """
        self._signal_all(lib.sandlock_sandbox_resume, "resume")

    # -- lifetime

    def close(self) -> None:
        """Kill commands still running from this sandbox and release the
        native policy. Idempotent; the sandbox cannot run anything after."""
        with self._lock:
            self._closed = True
            running = list(self._running)
            # A run still using the cached policy holds its own reference;
            # the finaliser frees it after that.
            self._run_cache = None
        for rs in running:
            try:
                rs.kill()
            except SandlockError:
                pass
        self._native.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Sandbox(name={self._name!r})"


# --- pipelines ------------------------------------------------------------------


class Stage:
    """A command bound to a sandbox, not started yet. ``a | b`` makes a
    :class:`Pipeline`; ``stage.as_("name")`` a :class:`NamedStage` for
    :class:`Gather`."""

    def __init__(self, sandbox: Sandbox, args: Command) -> None:
        self.sandbox = sandbox
        self.args: List[str] = _argv(args)

    def as_(self, name: str) -> "NamedStage":
        """Name this stage's output as an input of a gather consumer."""
        return NamedStage(self, name)

    def run(self, timeout: Optional[float] = None) -> Result:
        """Run this stage alone (same as ``sandbox.run(args, timeout)``)."""
        return self.sandbox.run(self.args, timeout=timeout)

    def __or__(self, other: Union["Stage", "Pipeline"]) -> "Pipeline":
        if isinstance(other, Stage):
            return Pipeline([self, other])
        if isinstance(other, Pipeline):
            return Pipeline([self, *other.stages])
        return NotImplemented

    def __repr__(self) -> str:
        return f"Stage({self.args!r})"


def _close_fds(fds: List[int]) -> None:
    while fds:
        try:
            os.close(fds.pop())
        except OSError:
            pass


def _run_connected(
    plan: List[Tuple[Stage, Stdio, Stdio, Stdio, Optional[_NativePolicy]]],
    to_close_after: Dict[int, List[int]],
    timeout: Optional[float],
    fds: List[int],
) -> Optional[List[Result]]:
    """Spawn each planned stage (closing the parent's copy of each pipe end
    as soon as the stage that needs it has started), then wait for all of
    them. Returns their results, or None on timeout (all killed)."""
    import time

    timeout_ms = _timeout_ms(timeout)
    deadline = time.monotonic() * 1000 + timeout_ms if timeout_ms else None
    running: List[_Running] = []
    try:
        for i, (stage, stdin, stdout, stderr, policy) in enumerate(plan):
            own = stage.sandbox._spawn_policy() if policy is None else None
            try:
                rs = _spawn(policy or own, stage.args, stdin, stdout, stderr,  # type: ignore[arg-type]
                            name=stage.sandbox.name)
            finally:
                if own is not None:
                    own.close()
            running.append(rs)
            stage.sandbox._track(rs)
            for fd in to_close_after.get(i, []):
                if fd in fds:
                    fds.remove(fd)
                    os.close(fd)
        _close_fds(fds)
        natives = _wait_all(running, deadline)
        if natives is None:
            for rs in running:
                rs.kill()
            for rs in running:
                r = rs.try_wait(-1)
                if r is not None:
                    lib.sandlock_result_free(r)
            return None
        return [_result_from_native(r) for r in natives]
    except BaseException:
        for rs in running:
            try:
                rs.kill()
            except SandlockError:
                pass
        for rs in running:
            try:
                r = rs.try_wait(-1)
                if r is not None:
                    lib.sandlock_result_free(r)
            except SandlockError:
                pass
        raise
    finally:
        _close_fds(fds)
        for (stage, *_), rs in zip(plan, running):
            stage.sandbox._untrack(rs)
            rs.free()


class Pipeline:
    """Stages connected stdout to stdin, each in its own sandbox with its own
    policy. The first stage reads the caller's stdin; intermediate stderr
    goes to the caller's stderr; the last stage's stdout and stderr are
    captured."""

    def __init__(self, stages: Sequence[Stage]) -> None:
        stages = list(stages)
        if len(stages) < 2:
            raise ValueError("a Pipeline needs at least 2 stages")
        self.stages: List[Stage] = stages

    def __or__(self, other: Union[Stage, "Pipeline"]) -> "Pipeline":
        if isinstance(other, Stage):
            return Pipeline([*self.stages, other])
        if isinstance(other, Pipeline):
            return Pipeline([*self.stages, *other.stages])
        return NotImplemented

    def run(self, stdout: Optional[int] = None, timeout: Optional[float] = None) -> Result:
        """Run all stages at once and wait for them.

        Args:
            stdout: a file descriptor that receives the last stage's output
                after the run (the result's ``stdout`` is then empty).
            timeout: seconds for the whole pipeline; on expiry every stage
                is killed and the result is ``Result(False, -1,
                error="Pipeline timed out")``.

        Returns:
            The last stage's exit status and captured output.
        """
        fds: List[int] = []
        plan: List[Tuple[Stage, Stdio, Stdio, Stdio, Optional[_NativePolicy]]] = []
        close_after: Dict[int, List[int]] = {}
        try:
            prev_read: Optional[int] = None
            n = len(self.stages)
            for i, stage in enumerate(self.stages):
                stdin: Stdio = (_native.STDIO_INHERIT, -1) if prev_read is None else (_native.STDIO_FD, prev_read)
                if i == n - 1:
                    out: Stdio = (_native.STDIO_CAPTURE, -1)
                    err: Stdio = (_native.STDIO_CAPTURE, -1)
                    next_read = None
                else:
                    r, w = os.pipe()
                    fds += [r, w]
                    out, err, next_read = (_native.STDIO_FD, w), (_native.STDIO_INHERIT, -1), r
                    close_after.setdefault(i, []).append(w)
                if prev_read is not None:
                    close_after.setdefault(i, []).append(prev_read)
                plan.append((stage, stdin, out, err, None))
                prev_read = next_read
        except BaseException:
            _close_fds(fds)
            raise
        results = _run_connected(plan, close_after, timeout, fds)
        if results is None:
            return Result(success=False, exit_code=-1, error="Pipeline timed out")
        last = results[-1]
        if stdout is not None:
            data = memoryview(last.stdout)
            while data:
                data = data[os.write(stdout, data):]
            last = _with_reason(Result(last.success, last.exit_code, b"", last.stderr, last.error), last.reason)
        return last

    def __repr__(self) -> str:
        return " | ".join(repr(s) for s in self.stages)


class NamedStage:
    """A :class:`Stage` whose output is a named input of a gather consumer.
    ``a.as_("x") + b.as_("y")`` makes a :class:`Gather`."""

    def __init__(self, stage: Stage, name: str) -> None:
        if not isinstance(name, str) or not name or any(c in name for c in ",:"):
            raise ValueError(f"invalid gather input name {name!r}")
        self.stage = stage
        self.name = name

    def __add__(self, other: "NamedStage") -> "Gather":
        if isinstance(other, NamedStage):
            return Gather([(self.name, self.stage), (other.name, other.stage)])
        return NotImplemented


class Gather:
    """Producers whose outputs feed one consumer (``gather | consumer``)."""

    def __init__(self, sources: Sequence[Tuple[str, Stage]]) -> None:
        self.sources: List[Tuple[str, Stage]] = list(sources)
        names = [n for n, _ in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate gather input names: {names}")

    def __add__(self, other: NamedStage) -> "Gather":
        if isinstance(other, NamedStage):
            return Gather([*self.sources, (other.name, other.stage)])
        return NotImplemented

    def __or__(self, consumer: Stage) -> "GatherPipeline":
        if isinstance(consumer, Stage):
            return GatherPipeline(self.sources, consumer)
        return NotImplemented


class GatherPipeline:
    """Producers running in parallel, each in its own sandbox, feeding a
    consumer that reads them with :data:`sandlock.inputs`.

    The last source is the consumer's stdin. Further sources would go to
    descriptors 3, 4, ... of the consumer, which the library cannot pass
    yet: a gather of more than one source raises
    :class:`~sandlock.NotImplementedFeatureError`.
    """

    def __init__(self, sources: Sequence[Tuple[str, Stage]], consumer: Stage) -> None:
        self.sources: List[Tuple[str, Stage]] = list(sources)
        self.consumer = consumer
        if not self.sources:
            raise ValueError("a gather needs at least one source")

    def run(self, timeout: Optional[float] = None) -> Result:
        """Run producers and consumer; return the consumer's result (or
        ``Result(False, -1, error="Gather timed out")``)."""
        if len(self.sources) > 1:
            raise NotImplementedFeatureError(
                "gather with more than one source: passing extra descriptors (fd 3, 4, ...) to the "
                "consumer is not implemented yet"
            )
        name, producer = self.sources[-1]
        consumer_policy = self.consumer.sandbox._spawn_policy()
        fds: List[int] = []
        try:
            lib.sandlock_policy_set_env(consumer_policy.ptr, b"_SANDLOCK_GATHER", _native.encode(f"{name}:0", "name"))
            r, w = os.pipe()
            fds += [r, w]
            plan = [
                (producer, (_native.STDIO_NULL, -1), (_native.STDIO_FD, w), (_native.STDIO_INHERIT, -1), None),
                (self.consumer, (_native.STDIO_FD, r), (_native.STDIO_CAPTURE, -1), (_native.STDIO_CAPTURE, -1),
                 consumer_policy),
            ]
            results = _run_connected(plan, {0: [w], 1: [r]}, timeout, fds)
        finally:
            _close_fds(fds)
            consumer_policy.close()
        if results is None:
            return Result(success=False, exit_code=-1, error="Gather timed out")
        return results[-1]


class _Inputs:
    """Named inputs of a gather consumer: ``inputs["name"]`` is the whole
    output of that producer (read once, then cached)."""

    def __init__(self) -> None:
        self._cache: Dict[str, str] = {}

    def _fds(self) -> Dict[str, int]:
        out: Dict[str, int] = {}
        spec = os.environ.get("_SANDLOCK_GATHER", "")
        for item in spec.split(","):
            name, sep, fd = item.partition(":")
            if sep and fd.isdigit():
                out[name] = int(fd)
        return out

    def __getitem__(self, name: str) -> str:
        if name in self._cache:
            return self._cache[name]
        fds = self._fds()
        if name not in fds:
            raise KeyError(f"no gather input {name!r}; available: {sorted(fds)}")
        chunks = []
        while True:
            b = os.read(fds[name], 1 << 16)
            if not b:
                break
            chunks.append(b)
        text = b"".join(chunks).decode("utf-8", "replace")
        self._cache[name] = text
        return text

    def __contains__(self, name: object) -> bool:
        return name in self._fds()

    def keys(self) -> List[str]:
        """Names of the inputs this process was given."""
        return list(self._fds())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __repr__(self) -> str:
        return f"inputs({self.keys()!r})"


#: The gather inputs of this process (see :class:`GatherPipeline`).
inputs = _Inputs()
