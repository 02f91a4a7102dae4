"""Kernel feature queries and confining the calling process."""

from __future__ import annotations

from ._native import lib
from .policy import Policy

__all__ = ["landlock_abi_version", "min_landlock_abi", "confine"]

#: The Landlock ABI the full guarantee needs (abstract-unix and signal
#: scoping arrived with ABI 6).
MIN_LANDLOCK_ABI = 6


def landlock_abi_version() -> int:
    """The running kernel's Landlock ABI version, or -1 when Landlock is
    missing or disabled."""
    v = int(lib.sandlock_landlock_abi_version())
    return v if v > 0 else -1


def min_landlock_abi() -> int:
    """The Landlock ABI that every protection of a policy needs (6)."""
    return MIN_LANDLOCK_ABI


def confine(policy: Policy) -> None:
    """Confine the calling process itself with ``policy``, irreversibly.

    A process that loaded libsandlock has several threads (the Go runtime's
    at least), and below Landlock ABI 8 the kernel can only restrict one
    thread per call, so the library refuses rather than confine part of the
    process.

    Raises:
        PolicyError: the policy is invalid.
        LandlockUnavailableError: the kernel cannot confine every thread at
            once (Landlock ABI below 8) or lacks Landlock (a
            :class:`ConfinementError`, the class the original raised).
        NotImplementedFeatureError: the kernel could, but this build does
            not implement it yet.
    """
    from ._sdk import _NativePolicy

    np = _NativePolicy.build(policy)
    try:
        lib.sandlock_confine(np.ptr)
    finally:
        np.close()
