"""Policy profiles: TOML files of policy fields.

A profile is ``<profiles_dir()>/<name>.toml`` with top-level keys named like
the :class:`~sandlock.Policy` fields, for example::

    fs_readable = ["/usr", "/lib", "/etc"]
    fs_writable = ["/tmp/work"]
    net_connect = [443]
    max_processes = 16
    clean_env = true

    [env]
    LANG = "C.UTF-8"
"""

from __future__ import annotations

import dataclasses
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Dict, List, Mapping, Union

from .exceptions import PolicyError
from .policy import BranchAction, FsIsolation, Policy

if sys.version_info >= (3, 11):
    import tomllib as _toml
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as _toml

__all__ = [
    "profiles_dir",
    "load_profile",
    "load_profile_path",
    "list_profiles",
    "policy_from_dict",
    "merge_cli_overrides",
]

_STR_LISTS = {"fs_writable", "fs_readable", "fs_denied", "deny_syscalls", "allow_syscalls", "net_allow_hosts"}
_PORT_LISTS = {"net_bind", "net_connect"}
_INT_LISTS = {"cpu_cores"}
_BOOLS = {
    "no_raw_sockets", "no_udp", "clean_env", "no_randomize_memory", "no_huge_pages",
    "deterministic_dirs", "no_coredump", "port_remap",
}
_STRS = {"max_memory", "chroot", "workdir", "fs_storage", "max_disk"}
_INTS = {"max_processes", "max_open_files", "max_cpu", "num_cpus", "random_seed", "uid"}
_TABLES = {"fs_mount", "env"}
_ENUMS: Dict[str, Any] = {"fs_isolation": FsIsolation, "on_exit": BranchAction, "on_error": BranchAction}
#: Accepted for compatibility with the original's profiles, but not a
#: Policy field: the sandbox name is given to Sandbox(name=...).
_IGNORED = {"name"}


def profiles_dir() -> Path:
    """Where profiles live: ``$XDG_CONFIG_HOME/sandlock/profiles``, by
    default ``~/.config/sandlock/profiles``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "sandlock" / "profiles"


def _type_error(key: str, want: str, value: Any) -> PolicyError:
    return PolicyError(f"profile field {key!r}: expected {want}, got {type(value).__name__} {value!r}")


def policy_from_dict(data: Mapping[str, Any]) -> Policy:
    """Build a :class:`~sandlock.Policy` from a mapping of field names.

    Raises:
        PolicyError: an unknown key, a value of the wrong type, or an
            invalid enum value.
    """
    kwargs: Dict[str, Any] = {}
    for key, value in data.items():
        if key in _IGNORED:
            warnings.warn(f"profile key {key!r} is ignored: pass the name to Sandbox(name=...)", stacklevel=2)
            continue
        if key in _STR_LISTS:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise _type_error(key, "a list of strings", value)
            kwargs[key] = list(value)
        elif key in _PORT_LISTS:
            if not isinstance(value, list) or not all(
                isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool)) for v in value
            ):
                raise _type_error(key, "a list of ports (integers or strings)", value)
            kwargs[key] = [str(v) for v in value]
        elif key in _INT_LISTS:
            if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
                raise _type_error(key, "a list of integers", value)
            kwargs[key] = list(value)
        elif key in _BOOLS:
            if not isinstance(value, bool):
                raise _type_error(key, "a boolean", value)
            kwargs[key] = value
        elif key in _STRS:
            if not isinstance(value, str):
                raise _type_error(key, "a string", value)
            kwargs[key] = value
        elif key in _INTS:
            if not isinstance(value, int) or isinstance(value, bool):
                raise _type_error(key, "an integer", value)
            kwargs[key] = value
        elif key in _TABLES:
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in value.items()
            ):
                raise _type_error(key, "a table of strings", value)
            kwargs[key] = dict(value)
        elif key in _ENUMS:
            enum_type = _ENUMS[key]
            if not isinstance(value, str):
                raise _type_error(key, "a string", value)
            try:
                kwargs[key] = enum_type(value.lower())
            except ValueError:
                names = ", ".join(repr(m.value) for m in enum_type)
                raise PolicyError(f"profile field {key!r}: {value!r} is not one of {names}") from None
        else:
            raise PolicyError(f"unknown profile field {key!r}")
    return Policy(**kwargs)


def load_profile_path(path: Union[str, Path]) -> Policy:
    """Load a profile from a TOML file.

    Raises:
        PolicyError: the file is missing, is not valid TOML, or holds an
            invalid policy.
    """
    path = Path(path)
    try:
        with path.open("rb") as f:
            data = _toml.load(f)
    except FileNotFoundError:
        raise PolicyError(f"profile not found: {path}") from None
    except OSError as e:
        raise PolicyError(f"cannot read profile {path}: {e}") from None
    except _toml.TOMLDecodeError as e:
        raise PolicyError(f"invalid TOML in profile {path}: {e}") from None
    return policy_from_dict(data)


def load_profile(name: str) -> Policy:
    """Load the profile ``name`` from :func:`profiles_dir`.

    Raises:
        PolicyError: no such profile, or an invalid one.
    """
    if not name or "/" in name or name.startswith("."):
        raise PolicyError(f"invalid profile name {name!r}")
    return load_profile_path(profiles_dir() / f"{name}.toml")


def list_profiles() -> List[str]:
    """Names of the available profiles, sorted (empty if the directory does
    not exist)."""
    d = profiles_dir()
    if not d.is_dir():
        return []
    return sorted(p.stem for p in d.glob("*.toml") if p.is_file())


def merge_cli_overrides(policy: Policy, overrides: Mapping[str, Any]) -> Policy:
    """A copy of ``policy`` with ``overrides`` applied: list fields are
    extended, every other field is replaced.

    Raises:
        PolicyError: an override names no Policy field.
    """
    fields = {f.name for f in dataclasses.fields(Policy)}
    changes: Dict[str, Any] = {}
    for key, value in overrides.items():
        if key not in fields:
            raise PolicyError(f"unknown policy field {key!r}")
        current = getattr(policy, key)
        if isinstance(current, (list, tuple)) and isinstance(value, (list, tuple)):
            changes[key] = [*current, *value]
        else:
            changes[key] = value
    return dataclasses.replace(policy, **changes)
