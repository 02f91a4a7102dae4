"""The sandbox policy: what a confined command may do.

:class:`Policy` has the fields of the original sandlock Python SDK (v0.7.0),
in the same order and with the same defaults. Importing this module does not
load libsandlock; the policy is turned into a native one by
:class:`sandlock.Sandbox`.
"""

from __future__ import annotations

import datetime as _dt
import enum
import math
import re
from dataclasses import dataclass, field
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

__all__ = [
    "Policy",
    "FsIsolation",
    "BranchAction",
    "parse_ports",
    "parse_memory_size",
    "parse_time_start",
]


class FsIsolation(str, enum.Enum):
    """Copy-on-write backend for :attr:`Policy.workdir`."""

    NONE = "none"
    BRANCHFS = "branchfs"
    OVERLAYFS = "overlayfs"


class BranchAction(str, enum.Enum):
    """What happens to the copy-on-write layer when the sandbox ends."""

    COMMIT = "commit"
    ABORT = "abort"
    KEEP = "keep"


_SIZE_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_SIZE_RE = re.compile(r"^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*([KMGT]?)(?:I?B)?$", re.IGNORECASE)


def parse_memory_size(s: Union[str, int]) -> int:
    """Parse a size such as ``"512M"``, ``"1.5g"`` or ``"4096"`` into bytes.

    Units K, M, G and T are powers of 1024 and case-insensitive; a trailing
    ``B`` or ``iB`` is accepted (``"64MiB"``); a fraction is allowed and the
    result rounded down; a plain number is bytes; surrounding whitespace is
    ignored. An ``int`` is returned as it is.

    Raises:
        ValueError: for an empty, negative or malformed size.
    """
    if isinstance(s, bool):
        raise ValueError(f"invalid memory size: {s!r}")
    if isinstance(s, int):
        if s < 0:
            raise ValueError(f"invalid memory size: {s!r} is negative")
        return s
    if not isinstance(s, str):
        raise ValueError(f"invalid memory size: {s!r}")
    text = s.strip()
    m = _SIZE_RE.match(text)
    if not m:
        raise ValueError(f"invalid memory size: {s!r} (expected a number with an optional K, M, G or T)")
    number, unit = m.group(1), m.group(2).upper()
    value = float(number) * _SIZE_UNITS[unit]
    if not math.isfinite(value):
        raise ValueError(f"invalid memory size: {s!r}")
    return int(value)


def _port(value: Any, spec: Any) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"invalid port spec {spec!r}") from None
    if not 0 <= port <= 65535:
        raise ValueError(f"port {port} out of range 0-65535 in {spec!r}")
    return port


def parse_ports(specs: Sequence[Union[int, str]]) -> List[int]:
    """Expand port specifications into a sorted list without duplicates.

    Each item is an ``int`` or a string ``"80"`` or ``"8000-8010"``
    (inclusive); a string may also hold several comma-separated items.

    Raises:
        ValueError: for a malformed item, a port outside 0..65535 or a range
            whose end is below its start.
    """
    ports = set()
    for spec in specs:
        if isinstance(spec, bool):
            raise ValueError(f"invalid port spec {spec!r}")
        if isinstance(spec, int):
            ports.add(_port(spec, spec))
            continue
        if not isinstance(spec, str):
            raise ValueError(f"invalid port spec {spec!r}")
        for item in spec.split(","):
            item = item.strip()
            if not item:
                raise ValueError(f"invalid port spec {spec!r}")
            if "-" in item:
                lo_s, _, hi_s = item.partition("-")
                if not lo_s.strip().isdigit() or not hi_s.strip().isdigit():
                    raise ValueError(f"invalid port range {item!r}")
                lo, hi = _port(lo_s, spec), _port(hi_s, spec)
                if lo > hi:
                    raise ValueError(f"invalid port range {item!r}: {lo} > {hi}")
                ports.update(range(lo, hi + 1))
            else:
                if not item.isdigit():
                    raise ValueError(f"invalid port spec {item!r}")
                ports.add(_port(item, spec))
    return sorted(ports)


def port_ranges(ports: Sequence[int]) -> List[Tuple[int, int]]:
    """Collapse a sorted port list into inclusive (first, last) ranges."""
    out: List[Tuple[int, int]] = []
    for p in ports:
        if out and p == out[-1][1] + 1:
            out[-1] = (out[-1][0], p)
        else:
            out.append((p, p))
    return out


def parse_time_start(value: Union[float, int, str, _dt.datetime]) -> Tuple[int, int]:
    """Convert a ``time_start`` value into (unix seconds, nanoseconds).

    Accepts a number of seconds since the epoch (int or float), a
    :class:`datetime.datetime` (naive means UTC) or an ISO-8601 string such
    as ``"2000-01-01"``, ``"2000-01-01T12:00:00Z"`` or
    ``"2000-01-01 12:00:00+02:00"`` (naive means UTC).

    Raises:
        ValueError: for anything else.
    """
    if isinstance(value, bool):
        raise ValueError(f"invalid time_start: {value!r}")
    if isinstance(value, _dt.datetime):
        dt = value
    elif isinstance(value, _dt.date):
        dt = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise ValueError(f"invalid time_start: {value!r}")
        if isinstance(value, int):
            return value, 0
        sec = math.floor(value)
        nsec = int(round((value - sec) * 1e9))
        if nsec >= 1_000_000_000:
            sec, nsec = sec + 1, nsec - 1_000_000_000
        return int(sec), nsec
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("invalid time_start: empty string")
        try:
            return parse_time_start(float(text))
        except ValueError:
            pass
        iso = text[:-1] + "+00:00" if text[-1:] in ("Z", "z") else text
        try:
            dt = _dt.datetime.fromisoformat(iso)
        except ValueError:
            raise ValueError(f"invalid time_start: {value!r} is not an ISO-8601 date/time") from None
    else:
        raise ValueError(f"invalid time_start: {value!r}")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_dt.timezone.utc)
    delta = dt - _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
    sec = delta.days * 86400 + delta.seconds
    return sec, delta.microseconds * 1000


@dataclass(frozen=True)
class Policy:
    """What a sandboxed command may do. Immutable; all fields are keywords
    with the original SDK's defaults (deny by default: no filesystem, no TCP
    bind/connect, no raw sockets, at most 64 processes).

    Paths may be relative; they are made absolute against the current
    directory when the policy is used. Options whose enforcement this build
    does not have yet make :class:`sandlock.Sandbox` raise
    :class:`sandlock.NotImplementedFeatureError` naming them: an option is
    never silently dropped.
    """

    #: Paths granted read, write, create and delete.
    fs_writable: Sequence[str] = field(default_factory=list)
    #: Paths granted read, list and execute.
    fs_readable: Sequence[str] = field(default_factory=list)
    #: Paths carved out of the granted trees (EACCES).
    fs_denied: Sequence[str] = field(default_factory=list)
    #: Replacement deny list (``None``: the built-in list).
    deny_syscalls: Optional[Sequence[str]] = None
    #: Allowlist mode: only these syscalls (plus what the sandbox needs).
    allow_syscalls: Optional[Sequence[str]] = None
    #: Hosts the sandbox may reach (``None``: no restriction; ``[]``: none).
    net_allow_hosts: Optional[Sequence[str]] = None
    #: No core files.
    no_coredump: bool = False
    #: TCP ports that may be bound (ints or ``"lo-hi"`` strings).
    net_bind: Sequence[Union[int, str]] = field(default_factory=list)
    #: TCP ports that may be connected to.
    net_connect: Sequence[Union[int, str]] = field(default_factory=list)
    #: Forbid raw IP sockets.
    no_raw_sockets: bool = True
    #: Forbid UDP sockets.
    no_udp: bool = False
    #: HTTP allow rules ``"METHOD host/path"``.
    http_allow: Sequence[str] = field(default_factory=list)
    #: HTTP deny rules, evaluated first.
    http_deny: Sequence[str] = field(default_factory=list)
    #: Ports whose connections go through the HTTP rules.
    http_ports: Sequence[int] = field(default_factory=list)
    #: PEM CA certificate for HTTPS inspection.
    https_ca: Optional[str] = None
    #: PEM CA key for HTTPS inspection.
    https_key: Optional[str] = None
    #: Anonymous-memory budget (``"512M"`` or bytes).
    max_memory: Optional[Union[str, int]] = None
    #: Most processes alive at once (threads not counted); 0 is unlimited.
    max_processes: int = 64
    #: RLIMIT_NOFILE of the sandbox.
    max_open_files: Optional[int] = None
    #: CPU share in percent of one core, 1..100.
    max_cpu: Optional[int] = None
    #: CPUs to pin the sandbox to.
    cpu_cores: Optional[Sequence[int]] = None
    #: Number of CPUs the sandbox sees.
    num_cpus: Optional[int] = None
    #: Private TCP port space.
    port_remap: bool = False
    #: Deterministic getrandom() and /dev/urandom.
    random_seed: Optional[int] = None
    #: Wall-clock start instant: epoch seconds, datetime or ISO-8601 string.
    time_start: Optional[Union[float, str, _dt.datetime]] = None
    #: Disable address-space randomisation.
    no_randomize_memory: bool = False
    #: Disable transparent huge pages.
    no_huge_pages: bool = False
    #: Sorted directory listings.
    deterministic_dirs: bool = False
    #: GPU access (device indexes; ``[]`` grants access without a list).
    gpu_devices: Optional[Sequence[int]] = None
    #: Directory the sandbox sees as "/".
    chroot: Optional[str] = None
    #: Virtual path -> host directory, inside the chroot.
    fs_mount: Mapping[str, str] = field(default_factory=dict)
    #: Start from an empty environment.
    clean_env: bool = False
    #: Variables set after clean_env.
    env: Mapping[str, str] = field(default_factory=dict)
    #: User id inside a new user namespace.
    uid: Optional[int] = None
    #: Leftover of the original's pure-Python era; never used.
    notif_policy: Optional[Any] = None
    #: Copy-on-write root.
    workdir: Optional[str] = None
    #: Working directory of the command.
    cwd: Optional[str] = None
    #: Copy-on-write backend.
    fs_isolation: FsIsolation = FsIsolation.NONE
    #: Where the copy-on-write layer is kept.
    fs_storage: Optional[str] = None
    #: Size cap of the copy-on-write layer.
    max_disk: Optional[str] = None
    #: Copy-on-write action after exit status 0.
    on_exit: BranchAction = BranchAction.COMMIT
    #: Copy-on-write action after any other end.
    on_error: BranchAction = BranchAction.ABORT

    def bind_ports(self) -> List[int]:
        """The TCP ports of :attr:`net_bind`, expanded and sorted."""
        return parse_ports(self.net_bind)

    def connect_ports(self) -> List[int]:
        """The TCP ports of :attr:`net_connect`, expanded and sorted."""
        return parse_ports(self.net_connect)

    def memory_bytes(self) -> Optional[int]:
        """:attr:`max_memory` in bytes, or ``None`` when unset."""
        if self.max_memory is None:
            return None
        return parse_memory_size(self.max_memory)

    def time_start_timestamp(self) -> Optional[float]:
        """:attr:`time_start` as seconds since the epoch (float, datetime
        and ISO-8601 strings accepted), or ``None`` when unset."""
        if self.time_start is None:
            return None
        sec, nsec = parse_time_start(self.time_start)
        return sec + nsec / 1e9

    def cpu_pct(self) -> int:
        """:attr:`max_cpu` clamped to 1..100; 100 when unset."""
        if self.max_cpu is None:
            return 100
        return max(1, min(100, int(self.max_cpu)))
