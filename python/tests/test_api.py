"""The public API has the original SDK's names, fields, defaults and
exception hierarchy; the ctypes layer matches include/sandlock.h."""

from __future__ import annotations

import ctypes
import dataclasses
import os
import re
from pathlib import Path

import pytest

import sandlock
from sandlock import _native
from conftest import HEADER

# --- public names -----------------------------------------------------------------

ORIGINAL_ALL = {
    "__version__", "Sandbox", "Stage", "Pipeline", "Result", "SyscallEvent", "PolicyContext",
    "Checkpoint", "NamedStage", "Gather", "GatherPipeline", "inputs", "Policy", "FsIsolation",
    "BranchAction", "parse_ports", "Change", "DryRunResult", "landlock_abi_version",
    "min_landlock_abi", "confine", "load_profile", "list_profiles",
}
EXCEPTIONS = {
    "SandlockError", "PolicyError", "SandboxError", "MemoryProtectError", "ForkError",
    "ConfinementError", "ChildError", "BranchError", "LandlockUnavailableError", "SeccompError",
    "NotifError", "BranchConflictError",
}


def test_all_has_the_original_names() -> None:
    missing = (ORIGINAL_ALL | EXCEPTIONS) - set(sandlock.__all__)
    assert not missing, f"missing from sandlock.__all__: {sorted(missing)}"
    for name in sandlock.__all__:
        assert hasattr(sandlock, name), name
    assert "NotImplementedFeatureError" in sandlock.__all__
    assert "parse_memory_size" in sandlock.__all__
    from sandlock.policy import parse_memory_size  # where the original had it

    assert parse_memory_size is sandlock.parse_memory_size


@pytest.mark.parametrize(
    "child, parent",
    [
        ("PolicyError", "SandlockError"),
        ("SandboxError", "SandlockError"),
        ("MemoryProtectError", "SandlockError"),
        ("ForkError", "SandboxError"),
        ("ConfinementError", "SandboxError"),
        ("ChildError", "SandboxError"),
        ("BranchError", "SandboxError"),
        ("LandlockUnavailableError", "ConfinementError"),
        ("SeccompError", "ConfinementError"),
        ("NotifError", "SeccompError"),
        ("BranchConflictError", "BranchError"),
        ("NotImplementedFeatureError", "SandlockError"),
    ],
)
def test_exception_hierarchy(child: str, parent: str) -> None:
    c, p = getattr(sandlock, child), getattr(sandlock, parent)
    assert c.__bases__[0] is p, f"{child} derives from {c.__bases__[0].__name__}, want {parent}"
    assert issubclass(c, Exception)


def test_sandlock_error_is_a_plain_exception() -> None:
    assert sandlock.SandlockError.__bases__ == (Exception,)
    assert issubclass(sandlock.NotImplementedFeatureError, NotImplementedError)
    e = sandlock.PolicyError("x")
    assert str(e) == "x" and e.code is None and e.errno == 0


POLICY_FIELDS: list = [
    ("fs_writable", []), ("fs_readable", []), ("fs_denied", []), ("deny_syscalls", None),
    ("allow_syscalls", None), ("net_allow_hosts", None), ("no_coredump", False), ("net_bind", []),
    ("net_connect", []), ("no_raw_sockets", True), ("no_udp", False), ("http_allow", []),
    ("http_deny", []), ("http_ports", []), ("https_ca", None), ("https_key", None),
    ("max_memory", None), ("max_processes", 64), ("max_open_files", None), ("max_cpu", None),
    ("cpu_cores", None), ("num_cpus", None), ("port_remap", False), ("random_seed", None),
    ("time_start", None), ("no_randomize_memory", False), ("no_huge_pages", False),
    ("deterministic_dirs", False), ("gpu_devices", None), ("chroot", None), ("fs_mount", {}),
    ("clean_env", False), ("env", {}), ("uid", None), ("notif_policy", None), ("workdir", None),
    ("cwd", None), ("fs_isolation", sandlock.FsIsolation.NONE), ("fs_storage", None),
    ("max_disk", None), ("on_exit", sandlock.BranchAction.COMMIT),
    ("on_error", sandlock.BranchAction.ABORT),
]


def test_policy_fields_in_order_with_defaults() -> None:
    fields = dataclasses.fields(sandlock.Policy)
    assert [f.name for f in fields] == [n for n, _ in POLICY_FIELDS]
    assert len(fields) == 42
    p = sandlock.Policy()
    for name, default in POLICY_FIELDS:
        assert getattr(p, name) == default, name


def test_result_types() -> None:
    r = sandlock.Result(True)
    assert (r.success, r.exit_code, r.stdout, r.stderr, r.error) == (True, 0, b"", b"", None)
    assert [f.name for f in dataclasses.fields(sandlock.Result)] == [
        "success", "exit_code", "stdout", "stderr", "error"]
    rep = repr(sandlock.Result(False, 3, b"secret-out", b"secret-err", "boom"))
    assert "secret" not in rep and "exit_code=3" in rep and "boom" in rep
    d = sandlock.DryRunResult(True)
    assert [f.name for f in dataclasses.fields(sandlock.DryRunResult)] == [
        "success", "exit_code", "stdout", "stderr", "changes", "error"]
    assert d.changes == [] and d.error is None
    c = sandlock.Change("A", "x/y")
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.kind = "D"  # type: ignore[misc]


def test_enums() -> None:
    assert [m.value for m in sandlock.FsIsolation] == ["none", "branchfs", "overlayfs"]
    assert [m.value for m in sandlock.BranchAction] == ["commit", "abort", "keep"]
    assert sandlock.BranchAction.KEEP == "keep"


def test_syscall_event() -> None:
    e = sandlock.SyscallEvent("execve", "process", 10, argv=("ls", "-la"))
    assert e.parent_pid == 0 and e.host is None and e.port == 0 and not e.denied
    assert e.argv_contains("-l") and not e.argv_contains("rm")
    assert not sandlock.SyscallEvent("openat", "file", 1).argv_contains("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.pid = 3  # type: ignore[misc]


def test_platform_queries() -> None:
    assert sandlock.min_landlock_abi() == 6
    abi = sandlock.landlock_abi_version()
    assert abi == -1 or abi >= 1


def test_version_matches_header() -> None:
    if not HEADER.exists():
        pytest.skip("not run from a source tree")
    text = HEADER.read_text()
    m = re.search(r'#define SANDLOCK_VERSION_STRING "([^"]+)"', text)
    assert m and sandlock.__version__ == m.group(1)
    assert _native.library_version() == m.group(1)


# --- the ctypes layer ------------------------------------------------------------


def _header_functions() -> set:
    text = HEADER.read_text()
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return set(re.findall(r"SANDLOCK_API[^;(]*?\b(sandlock_\w+)\s*\(", text))


def test_every_header_function_has_a_prototype() -> None:
    if not HEADER.exists():
        pytest.skip("not run from a source tree")
    header = _header_functions()
    assert len(header) > 50
    declared = set(_native._PROTOTYPES)
    assert header == declared, (
        f"in the header only: {sorted(header - declared)}; in the binding only: {sorted(declared - header)}")


def _header_enum_values() -> dict:
    text = re.sub(r"/\*.*?\*/", "", HEADER.read_text(), flags=re.S)
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"\b(SANDLOCK_[A-Z_]+)\s*=\s*(-?\d+)", text)}


def test_constants_match_header() -> None:
    if not HEADER.exists():
        pytest.skip("not run from a source tree")
    values = _header_enum_values()
    names = {
        "SANDLOCK_STDIN": _native.STDIN, "SANDLOCK_STDOUT": _native.STDOUT, "SANDLOCK_STDERR": _native.STDERR,
        "SANDLOCK_STDIO_INHERIT": _native.STDIO_INHERIT, "SANDLOCK_STDIO_CAPTURE": _native.STDIO_CAPTURE,
        "SANDLOCK_STDIO_NULL": _native.STDIO_NULL, "SANDLOCK_STDIO_FD": _native.STDIO_FD,
        "SANDLOCK_FS_ISOLATION_NONE": _native.FS_ISOLATION_NONE,
        "SANDLOCK_FS_ISOLATION_OVERLAYFS": _native.FS_ISOLATION_OVERLAYFS,
        "SANDLOCK_FS_ISOLATION_BRANCHFS": _native.FS_ISOLATION_BRANCHFS,
        "SANDLOCK_BRANCH_COMMIT": _native.BRANCH_COMMIT, "SANDLOCK_BRANCH_ABORT": _native.BRANCH_ABORT,
        "SANDLOCK_BRANCH_KEEP": _native.BRANCH_KEEP,
        "SANDLOCK_REASON_EXITED": _native.REASON_EXITED, "SANDLOCK_REASON_SIGNALED": _native.REASON_SIGNALED,
        "SANDLOCK_REASON_KILLED": _native.REASON_KILLED, "SANDLOCK_REASON_TIMEOUT": _native.REASON_TIMEOUT,
    }
    for code, name in _native.CODE_NAMES.items():
        names[name] = code
    for name, value in names.items():
        assert values.get(name) == value, f"{name}: header {values.get(name)}, binding {value}"
    codes = {n for n in values if re.fullmatch(r"SANDLOCK_(OK|E[A-Z]+)", n)}
    assert codes == set(_native.CODE_NAMES.values())


def test_strerror_names_every_code() -> None:
    for code, name in _native.CODE_NAMES.items():
        s = _native.lib.sandlock_strerror(code).decode()
        assert s.startswith(name + ":"), s
    assert _native.lib.sandlock_strerror(-999) == b"unknown sandlock status code"


def test_abi_sizes() -> None:
    # Handles are pointers to opaque structs; callbacks are function
    # pointers. The header has no public struct whose size could change.
    ptr = ctypes.sizeof(ctypes.c_void_p)
    for t in (_native.PolicyP, _native.OptionsP, _native.SandboxP, _native.ResultP, _native.EventP,
              _native.CtxP):
        assert ctypes.sizeof(t) == ptr
    assert ctypes.sizeof(_native.POLICY_FN) == ptr
    assert ctypes.sizeof(_native.FREE_FN) == ptr
    assert _native.POLICY_FN._restype_ is ctypes.c_int32
    assert _native.POLICY_FN._argtypes_ == (_native.EventP, _native.CtxP, ctypes.c_void_p)
    assert ctypes.sizeof(ctypes.c_size_t) == ptr  # sandlock_result_stdout's len


def test_library_loaded_with_cdll() -> None:
    dll = _native.lib.dll
    assert type(dll) is ctypes.CDLL
    assert not isinstance(dll, ctypes.PyDLL)


def test_library_major_version() -> None:
    v = _native.lib.sandlock_version_number()
    assert v // 10000 == _native.EXPECTED_MAJOR
    assert _native.lib.sandlock_version_string().decode() == f"{v // 10000}.{v // 100 % 100}.{v % 100}"


def test_bundled_library_used() -> None:
    if os.environ.get("SANDLOCK_EXPECT_BUNDLED") != "1":
        pytest.skip("only when the package was installed with the library bundled (make test-python)")
    pkg = Path(sandlock.__file__).resolve().parent
    assert Path(_native.library_path).resolve() == pkg / "libsandlock.so.0"
    assert Path(_native.library_file()).resolve() == pkg / "libsandlock.so.0"


def test_error_mapping() -> None:
    cases = [
        (_native.EPOLICY, "x", "sandlock_spawn", sandlock.PolicyError),
        (_native.EINVAL, "x", "sandlock_policy_add_net_bind", sandlock.PolicyError),
        (_native.EINVAL, "x", "sandlock_sandbox_wait", sandlock.SandlockError),
        (_native.ENOTIMPL, "x", "sandlock_spawn", sandlock.NotImplementedFeatureError),
        (_native.ENOTSUP, "landlock: kernel lacks", "sandlock_spawn", sandlock.LandlockUnavailableError),
        (_native.ENOTSUP, "kernel lacks seccomp notif", "sandlock_spawn", sandlock.ConfinementError),
        (_native.ECONFINE, "seccomp: EINVAL", "sandlock_spawn", sandlock.SeccompError),
        (_native.ECONFINE, "landlock_restrict_self", "sandlock_spawn", sandlock.ConfinementError),
        (_native.ESPAWN, "clone", "sandlock_spawn", sandlock.ForkError),
        (_native.ESTATE, "ended", "sandlock_sandbox_kill", sandlock.SandboxError),
        (_native.EOS, "EMFILE", "sandlock_spawn", sandlock.SandboxError),
        (_native.EINTERNAL, "bug", "sandlock_spawn", sandlock.SandlockError),
    ]
    for code, msg, fn, cls in cases:
        assert _native._class_for(code, msg, fn) is cls, (code, msg, fn)


def test_errcheck_raises_with_last_error() -> None:
    p = _native.new_policy()
    try:
        with pytest.raises(sandlock.PolicyError) as ei:
            _native.lib.sandlock_policy_add_net_bind_range(p, 90, 80)
        assert ei.value.code == _native.EINVAL
        assert str(ei.value).startswith("sandlock_policy_add_net_bind_range:")
        with pytest.raises(sandlock.SandlockError, match="sandlock_policy_new: out is NULL"):
            _native.lib.sandlock_policy_new(None)
    finally:
        _native.lib.sandlock_policy_free(p)
