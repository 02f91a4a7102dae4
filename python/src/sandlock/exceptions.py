"""Exception classes of the sandlock package.

The hierarchy is the one of the original sandlock Python SDK (v0.7.0)::

    SandlockError
    ├── PolicyError
    ├── SandboxError
    │   ├── ForkError
    │   ├── ConfinementError
    │   │   ├── LandlockUnavailableError
    │   │   └── SeccompError
    │   │       └── NotifError
    │   ├── ChildError
    │   └── BranchError
    │       └── BranchConflictError
    ├── MemoryProtectError
    ├── NotImplementedFeatureError   (new: a feature this build lacks)
    └── ForkedChildError             (new: library used after os.fork())

Unlike the original, which surfaced most failures as ``RuntimeError`` or as
a failed :class:`~sandlock.Result`, this package raises these classes with
the library's message (``sandlock_last_error()``):

* an invalid policy raises :class:`PolicyError`;
* a confinement step the kernel refuses raises :class:`ConfinementError`,
  and a kernel without the Landlock protection a policy needs raises
  :class:`LandlockUnavailableError`;
* a command that could not be started raises :class:`ForkError`;
* an option or function that exists in the API but is not implemented yet
  raises :class:`NotImplementedFeatureError`.
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "SandlockError",
    "PolicyError",
    "SandboxError",
    "MemoryProtectError",
    "ForkError",
    "ConfinementError",
    "ChildError",
    "BranchError",
    "LandlockUnavailableError",
    "SeccompError",
    "NotifError",
    "BranchConflictError",
    "NotImplementedFeatureError",
    "ForkedChildError",
]


class SandlockError(Exception):
    """Base class of every error this package raises.

    Attributes:
        code: the library's status code (a negative ``SANDLOCK_E*`` value)
            when the error came from libsandlock, else ``None``.
        errno: the errno behind the failure when the library reported one
            (``sandlock_last_errno()``), else ``0``.
    """

    def __init__(self, *args: object, code: Optional[int] = None, errno: int = 0) -> None:
        super().__init__(*args)
        self.code: Optional[int] = code
        self.errno: int = errno


class PolicyError(SandlockError):
    """The policy is invalid: a bad value, options that exclude each other,
    or a path that does not exist on this host."""


class SandboxError(SandlockError):
    """A sandbox could not be run or controlled."""


class MemoryProtectError(SandlockError):
    """Memory protection failed (kept for compatibility; not raised yet)."""


class ForkError(SandboxError):
    """The sandboxed command could not be started."""


class ConfinementError(SandboxError):
    """The kernel refused a confinement step (Landlock, seccomp,
    no_new_privs), or confining is impossible here."""


class ChildError(SandboxError):
    """The sandboxed child failed in a way that is not its exit status
    (kept for compatibility; not raised yet)."""


class BranchError(SandboxError):
    """A copy-on-write branch operation failed (kept for compatibility)."""


class LandlockUnavailableError(ConfinementError):
    """The kernel lacks Landlock, or a Landlock protection the policy
    needs."""


class SeccompError(ConfinementError):
    """Installing the seccomp filter failed."""


class NotifError(SeccompError):
    """The seccomp user-notification supervisor failed (kept for
    compatibility)."""


class BranchConflictError(BranchError):
    """Two copy-on-write branches conflict (kept for compatibility)."""


class NotImplementedFeatureError(SandlockError, NotImplementedError):
    """The option or function exists in the API but this build of sandlock
    does not implement it yet.

    It is also a :class:`NotImplementedError`. The message names the
    option. Nothing is ever silently ignored: a policy that sets such an
    option is refused rather than run without it.
    """


class ForkedChildError(SandlockError):
    """libsandlock was called in a child made by ``os.fork()`` after the
    parent had loaded it.

    The Go runtime inside the library does not survive a fork (its threads
    are gone), so such a call would hang the child for ever; it raises this
    instead. Start children with :mod:`subprocess`, or use the ``"spawn"``
    or ``"forkserver"`` start method of :mod:`multiprocessing`.
    """
