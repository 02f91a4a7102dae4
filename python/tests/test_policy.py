"""Policy defaults, helpers and parsers (no sandbox is started)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sandlock import BranchAction, FsIsolation, Policy, parse_memory_size, parse_ports
from sandlock.policy import parse_time_start, port_ranges


@pytest.mark.parametrize(
    "text, want",
    [
        ("1024", 1024),
        (4096, 4096),
        ("1K", 1024),
        ("1k", 1024),
        ("512M", 512 << 20),
        ("512m", 512 << 20),
        ("2G", 2 << 30),
        ("1T", 1 << 40),
        ("1.5G", int(1.5 * (1 << 30))),
        ("0.5k", 512),
        ("  64M  ", 64 << 20),
        ("64MiB", 64 << 20),
        ("64MB", 64 << 20),
        ("0", 0),
    ],
)
def test_parse_memory_size(text: object, want: int) -> None:
    assert parse_memory_size(text) == want  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "   ", "abc", "10X", "-1", "1.2.3", "M", "1 G B", "nanG", True, -5, None])
def test_parse_memory_size_invalid(text: object) -> None:
    with pytest.raises(ValueError):
        parse_memory_size(text)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "specs, want",
    [
        ([80], [80]),
        (["443"], [443]),
        (["8000-8003"], [8000, 8001, 8002, 8003]),
        ([80, "443", "1000-1001"], [80, 443, 1000, 1001]),
        ([443, 80, "80", "79-81"], [79, 80, 81, 443]),
        (["80,443"], [80, 443]),
        ([0, 65535], [0, 65535]),
        ([], []),
    ],
)
def test_parse_ports(specs: list, want: list) -> None:
    assert parse_ports(specs) == want


@pytest.mark.parametrize("specs", [["90-80"], [65536], [-1], ["70000"], ["http"], ["1-2-3"], ["80-"], [""],
                                   [None], [1.5], [True]])
def test_parse_ports_invalid(specs: list) -> None:
    with pytest.raises(ValueError):
        parse_ports(specs)


def test_port_ranges() -> None:
    assert port_ranges([1, 2, 3, 5, 7, 8]) == [(1, 3), (5, 5), (7, 8)]
    assert port_ranges([]) == []


def test_policy_defaults() -> None:
    p = Policy()
    assert p.fs_writable == [] and p.fs_readable == [] and p.fs_denied == []
    assert p.deny_syscalls is None and p.allow_syscalls is None
    assert p.net_allow_hosts is None and p.net_bind == [] and p.net_connect == []
    assert p.no_raw_sockets is True and p.no_udp is False
    assert p.max_processes == 64 and p.max_memory is None and p.max_open_files is None
    assert p.env == {} and p.clean_env is False
    assert p.gpu_devices is None and p.cpu_cores is None
    assert p.fs_isolation is FsIsolation.NONE
    assert p.on_exit is BranchAction.COMMIT and p.on_error is BranchAction.ABORT
    assert p.max_disk is None


def test_policy_default_lists_are_not_shared() -> None:
    a, b = Policy(), Policy()
    assert a.fs_readable is not b.fs_readable
    assert a.env is not b.env


def test_policy_is_frozen() -> None:
    p = Policy(fs_readable=["/usr"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.max_processes = 3  # type: ignore[misc]
    q = dataclasses.replace(p, max_processes=3)
    assert q.max_processes == 3 and p.max_processes == 64


def test_net_allow_hosts_none_empty_list() -> None:
    assert Policy().net_allow_hosts is None
    assert Policy(net_allow_hosts=[]).net_allow_hosts == []
    assert Policy(net_allow_hosts=["example.com"]).net_allow_hosts == ["example.com"]


def test_memory_bytes() -> None:
    assert Policy().memory_bytes() is None
    assert Policy(max_memory="64M").memory_bytes() == 64 << 20
    assert Policy(max_memory=1000).memory_bytes() == 1000


@pytest.mark.parametrize("value, want", [(None, 100), (50, 50), (0, 1), (-3, 1), (150, 100), (100, 100), (1, 1)])
def test_cpu_pct(value: object, want: int) -> None:
    assert Policy(max_cpu=value).cpu_pct() == want  # type: ignore[arg-type]


def test_ports_helpers() -> None:
    p = Policy(net_bind=["8080-8081", 22], net_connect=[443, "80"])
    assert p.bind_ports() == [22, 8080, 8081]
    assert p.connect_ports() == [80, 443]


def test_max_disk_field() -> None:
    assert Policy(max_disk="1G").max_disk == "1G"


@pytest.mark.parametrize(
    "value, want",
    [
        (946684800, (946684800, 0)),
        (946684800.25, (946684800, 250_000_000)),
        ("946684800", (946684800, 0)),
        (dt.datetime(2000, 1, 1), (946684800, 0)),
        (dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), (946684800, 0)),
        (dt.datetime(2000, 1, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2))), (946684800, 0)),
        (dt.date(2000, 1, 1), (946684800, 0)),
        ("2000-01-01", (946684800, 0)),
        ("2000-01-01T00:00:00Z", (946684800, 0)),
        ("2000-01-01T00:00:00.5Z", (946684800, 500_000_000)),
        ("2000-01-01 02:00:00+02:00", (946684800, 0)),
        ("1969-12-31T23:59:59Z", (-1, 0)),
        (-0.5, (-1, 500_000_000)),
    ],
)
def test_time_start_conversions(value: object, want: tuple) -> None:
    assert parse_time_start(value) == want  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", "yesterday", "2000-13-01", float("nan"), [], True])
def test_time_start_invalid(value: object) -> None:
    with pytest.raises(ValueError):
        parse_time_start(value)  # type: ignore[arg-type]


def test_time_start_timestamp() -> None:
    assert Policy().time_start_timestamp() is None
    assert Policy(time_start="2000-01-01T00:00:00Z").time_start_timestamp() == 946684800.0
    assert Policy(time_start=dt.datetime(2000, 1, 1)).time_start_timestamp() == 946684800.0
    assert Policy(time_start=1.5).time_start_timestamp() == 1.5
