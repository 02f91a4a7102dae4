"""Profiles (TOML) and CLI-style overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

import sandlock
from sandlock import BranchAction, FsIsolation, Policy
from sandlock._profile import load_profile_path, merge_cli_overrides, policy_from_dict, profiles_dir


@pytest.fixture
def profiles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    return tmp_path / "cfg" / "sandlock" / "profiles"


def test_empty_dict() -> None:
    assert policy_from_dict({}) == Policy()


def test_simple_fields() -> None:
    p = policy_from_dict({"fs_readable": ["/usr"], "max_processes": 8, "clean_env": True,
                          "env": {"A": "1"}, "uid": 0, "max_memory": "64M"})
    assert p.fs_readable == ["/usr"] and p.max_processes == 8 and p.clean_env
    assert p.env == {"A": "1"} and p.uid == 0 and p.max_memory == "64M"


def test_ports_become_strings() -> None:
    p = policy_from_dict({"net_bind": [8080, "9000-9001"], "net_connect": [443]})
    assert p.net_bind == ["8080", "9000-9001"] and p.net_connect == ["443"]
    assert p.bind_ports() == [8080, 9000, 9001]


def test_enums() -> None:
    p = policy_from_dict({"fs_isolation": "overlayfs", "on_exit": "keep", "on_error": "COMMIT"})
    assert p.fs_isolation is FsIsolation.OVERLAYFS
    assert p.on_exit is BranchAction.KEEP and p.on_error is BranchAction.COMMIT


@pytest.mark.parametrize(
    "data, match",
    [
        ({"no_such_field": 1}, "unknown"),
        ({"max_processes": "8"}, "max_processes"),
        ({"clean_env": 1}, "clean_env"),
        ({"fs_readable": "/usr"}, "fs_readable"),
        ({"env": {"A": 1}}, "env"),
        ({"net_bind": [True]}, "net_bind"),
        ({"fs_isolation": "zfs"}, "fs_isolation"),
        ({"on_exit": "later"}, "on_exit"),
        ({"max_processes": True}, "max_processes"),
    ],
)
def test_invalid(data: dict, match: str) -> None:
    with pytest.raises(sandlock.PolicyError, match=match):
        policy_from_dict(data)


def test_name_key_ignored_with_warning() -> None:
    with pytest.warns(UserWarning, match="name"):
        assert policy_from_dict({"name": "x"}) == Policy()


def test_load_toml_file(profiles: Path) -> None:
    profiles.mkdir(parents=True)
    (profiles / "web.toml").write_text(
        'fs_readable = ["/usr", "/etc"]\nnet_connect = [443]\nmax_processes = 4\n\n[env]\nLANG = "C"\n'
    )
    p = sandlock.load_profile("web")
    assert p.fs_readable == ["/usr", "/etc"] and p.net_connect == ["443"]
    assert p.max_processes == 4 and p.env == {"LANG": "C"}
    assert load_profile_path(profiles / "web.toml") == p


def test_load_errors(profiles: Path) -> None:
    with pytest.raises(sandlock.PolicyError, match="not found"):
        sandlock.load_profile("missing")
    profiles.mkdir(parents=True)
    (profiles / "bad.toml").write_text("fs_readable = [\n")
    with pytest.raises(sandlock.PolicyError, match="TOML"):
        sandlock.load_profile("bad")
    (profiles / "unknown.toml").write_text("colour = 'blue'\n")
    with pytest.raises(sandlock.PolicyError, match="colour"):
        sandlock.load_profile("unknown")
    with pytest.raises(sandlock.PolicyError):
        sandlock.load_profile("../etc/passwd")


def test_list_profiles(profiles: Path) -> None:
    assert sandlock.list_profiles() == []  # missing directory
    profiles.mkdir(parents=True)
    assert sandlock.list_profiles() == []
    for name in ("zeta", "alpha", "mid"):
        (profiles / f"{name}.toml").write_text("")
    (profiles / "notes.txt").write_text("")
    assert sandlock.list_profiles() == ["alpha", "mid", "zeta"]
    assert profiles_dir() == profiles


def test_profiles_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert profiles_dir() == tmp_path / ".config" / "sandlock" / "profiles"


def test_merge_cli_overrides() -> None:
    base = Policy(fs_readable=["/usr"], max_processes=8, clean_env=False)
    merged = merge_cli_overrides(base, {"fs_readable": ["/etc"], "max_processes": 2, "clean_env": True})
    assert merged.fs_readable == ["/usr", "/etc"] and merged.max_processes == 2 and merged.clean_env
    assert base.fs_readable == ["/usr"]
    with pytest.raises(sandlock.PolicyError):
        merge_cli_overrides(base, {"nope": 1})
