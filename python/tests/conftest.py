"""Shared fixtures of the sandlock Python tests.

The tests import the *installed* package (``make test-python`` installs it
into a fresh virtualenv), never ``python/src`` directly.

Environment:
    SANDLOCK_TEST_STRICT=1  every skip becomes a failure (CI sets it: on the
                            CI machines a skipped test is a defect).
    SANDLOCK_EXPECT_BUNDLED=1  the library must have been loaded from the
                            copy bundled in the package.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

import sandlock
from sandlock import Policy

STRICT = os.environ.get("SANDLOCK_TEST_STRICT") == "1"

#: System directories a command needs to start (binary, libraries, config).
SYSTEM_DIRS = [d for d in ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc") if os.path.exists(d)]

#: A Python interpreter the sandbox can read (the host's, below /usr).
SANDBOX_PYTHON = "/usr/bin/python3"

#: Source tree paths, when the tests run from a checkout.
REPO = Path(__file__).resolve().parents[2]
HEADER = REPO / "include" / "sandlock.h"

_notes: List[str] = []


def note(line: str) -> None:
    """Record a figure to print in the session summary (e.g. leak counts)."""
    _notes.append(line)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _notes:
        terminalreporter.section("sandlock figures")
        for line in _notes:
            terminalreporter.write_line(line)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: Any, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if STRICT and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in strict mode (SANDLOCK_TEST_STRICT=1): {reason}"


def require_landlock_abi(n: int) -> int:
    """Skip (fail in strict mode) unless the kernel has Landlock ABI >= n."""
    abi = sandlock.landlock_abi_version()
    if abi < n:
        pytest.skip(f"needs Landlock ABI {n}, kernel has {abi}")
    return abi


def require_sandbox_python() -> str:
    if not os.access(SANDBOX_PYTHON, os.X_OK):
        pytest.skip(f"{SANDBOX_PYTHON} not found")
    return SANDBOX_PYTHON


@pytest.fixture
def base_policy() -> Policy:
    """Reads the system directories, nothing else."""
    return Policy(fs_readable=list(SYSTEM_DIRS))


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A private directory, readable by every user (tests may run as root
    and spawn as root; the directory must work either way)."""
    d = tmp_path / "w"
    d.mkdir()
    return d


def run_script(code: str, timeout: float = 60, env: Optional[Dict[str, str]] = None,
               **kwargs: Any) -> subprocess.CompletedProcess:
    """Run Python code in a fresh interpreter of this virtualenv."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True, text=True, timeout=timeout, env=full_env, **kwargs,
    )


def count_fds() -> int:
    return len(os.listdir("/proc/self/fd")) - 1  # minus the listing's own fd


def count_threads() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads: line in /proc/self/status")


def which(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} not found")
    return path
