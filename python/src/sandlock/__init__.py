"""sandlock: a lightweight Linux process sandbox (Landlock + seccomp).

Confine a command with a :class:`Policy` and run it in a :class:`Sandbox`::

    from sandlock import Policy, Sandbox

    policy = Policy(fs_readable=["/usr", "/lib", "/lib64", "/etc"], fs_writable=["/tmp"])
    result = Sandbox(policy).run(["sh", "-c", "echo hello > /tmp/x; cat /tmp/x"], timeout=10)
    print(result.success, result.stdout)

The API is the one of the original sandlock Python SDK (v0.7.0). The
engine is libsandlock.so (found through ``SANDLOCK_LIB``, a copy bundled in
this package, or the system library path) and is loaded when this package
is imported.
"""

from __future__ import annotations

from ._checkpoint import Checkpoint
from ._native import library_path as _library_path  # noqa: F401 (loads the library)
from ._platform import confine, landlock_abi_version, min_landlock_abi
from ._profile import list_profiles, load_profile
from ._sdk import (
    Change,
    DryRunResult,
    Gather,
    GatherPipeline,
    NamedStage,
    Pipeline,
    PolicyContext,
    Result,
    Sandbox,
    Stage,
    SyscallEvent,
    inputs,
)
from .exceptions import (
    BranchConflictError,
    BranchError,
    ChildError,
    ConfinementError,
    ForkError,
    LandlockUnavailableError,
    MemoryProtectError,
    NotifError,
    NotImplementedFeatureError,
    PolicyError,
    SandboxError,
    SandlockError,
    SeccompError,
)
from .policy import BranchAction, FsIsolation, Policy, parse_memory_size, parse_ports

#: Version of this package (also the version of libsandlock it is made for).
__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Sandbox",
    "Stage",
    "Pipeline",
    "Result",
    "SyscallEvent",
    "PolicyContext",
    "Checkpoint",
    "NamedStage",
    "Gather",
    "GatherPipeline",
    "inputs",
    "Policy",
    "FsIsolation",
    "BranchAction",
    "parse_ports",
    "parse_memory_size",
    "Change",
    "DryRunResult",
    "landlock_abi_version",
    "min_landlock_abi",
    "confine",
    "load_profile",
    "list_profiles",
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
]
