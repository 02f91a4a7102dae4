"""The examples in examples/python run and succeed."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

EXAMPLES = sorted((REPO / "examples" / "python").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_example_runs(path: object) -> None:
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr


def test_examples_present() -> None:
    if not (REPO / "examples").exists():
        pytest.skip("not run from a source tree")
    names = {p.name for p in EXAMPLES}
    assert {"basic_confinement.py", "timeout.py", "capture_output.py"} <= names
