"""Pipelines and gather: stages are separate sandboxes joined by pipes."""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import Iterator

import pytest

import sandlock
from sandlock import Pipeline, Policy, Sandbox, Stage
from conftest import SYSTEM_DIRS


@pytest.fixture
def sb(base_policy: Policy) -> Iterator[Sandbox]:
    with Sandbox(base_policy) as s:
        yield s


def test_cmd_returns_stage(sb: Sandbox) -> None:
    st = sb.cmd(["echo", "x"])
    assert isinstance(st, Stage) and st.sandbox is sb and st.args == ["echo", "x"]
    assert st.run().stdout == b"x\n"


def test_or_composition(sb: Sandbox) -> None:
    a, b, c = sb.cmd(["echo"]), sb.cmd(["cat"]), sb.cmd(["wc", "-c"])
    p = a | b
    assert isinstance(p, Pipeline) and p.stages == [a, b]
    assert (p | c).stages == [a, b, c]
    assert (a | (b | c)).stages == [a, b, c]
    assert ((a | b) | (b | c)).stages == [a, b, b, c]


def test_two_stages(sb: Sandbox) -> None:
    r = (sb.cmd(["echo", "hello world"]) | sb.cmd(["tr", "a-z", "A-Z"])).run(timeout=30)
    assert r.success and r.stdout == b"HELLO WORLD\n"


def test_three_stages_large_data(sb: Sandbox) -> None:
    p = sb.cmd(["sh", "-c", "seq 1 200000"]) | sb.cmd(["grep", "7"]) | sb.cmd(["wc", "-l"])
    r = p.run(timeout=60)
    want = sum(1 for i in range(1, 200001) if "7" in str(i))
    assert r.success and int(r.stdout) == want


def test_disjoint_policies_with_control(base_policy: Policy, workdir: Path) -> None:
    secret = workdir / "secret"
    secret.write_text("data-for-stage-1\n")
    reader = Sandbox(dataclasses.replace(base_policy, fs_readable=[*SYSTEM_DIRS, str(workdir)]))
    other = Sandbox(base_policy)
    try:
        # Stage 1 may read the file and passes it on.
        r = (reader.cmd(["cat", str(secret)]) | other.cmd(["cat"])).run(timeout=30)
        assert r.stdout == b"data-for-stage-1\n"
        # Stage 2 may not read it itself.
        r = (reader.cmd(["true"]) | other.cmd(["cat", str(secret)])).run(timeout=30)
        assert not r.success and b"Permission denied" in r.stderr
    finally:
        reader.close()
        other.close()


def test_last_stage_stderr_captured(sb: Sandbox) -> None:
    r = (sb.cmd(["echo", "x"]) | sb.cmd(["sh", "-c", "cat; echo oops >&2"])).run(timeout=30)
    assert r.stdout == b"x\n" and r.stderr == b"oops\n"


def test_stdout_to_fd(sb: Sandbox, tmp_path: Path) -> None:
    out = tmp_path / "out"
    with open(out, "wb") as f:
        r = (sb.cmd(["echo", "to-fd"]) | sb.cmd(["cat"])).run(stdout=f.fileno(), timeout=30)
    assert r.success and r.stdout == b""
    assert out.read_bytes() == b"to-fd\n"


def test_first_stage_failure(sb: Sandbox) -> None:
    r = (sb.cmd(["sh", "-c", "echo partial; exit 3"]) | sb.cmd(["cat"])).run(timeout=30)
    assert r.success and r.exit_code == 0 and r.stdout == b"partial\n"


def test_last_stage_failure(sb: Sandbox) -> None:
    r = (sb.cmd(["echo", "x"]) | sb.cmd(["sh", "-c", "cat >/dev/null; exit 4"])).run(timeout=30)
    assert not r.success and r.exit_code == 4


def test_needs_two_stages(sb: Sandbox) -> None:
    with pytest.raises(ValueError):
        Pipeline([sb.cmd(["true"])])
    with pytest.raises(ValueError):
        Pipeline([])


def test_pipeline_timeout(sb: Sandbox) -> None:
    t0 = time.monotonic()
    r = (sb.cmd(["sleep", "30"]) | sb.cmd(["cat"])).run(timeout=0.5)
    assert time.monotonic() - t0 < 10
    assert not r.success and r.exit_code == -1 and r.error == "Pipeline timed out"


def test_pipeline_leaves_no_fds(sb: Sandbox) -> None:
    from conftest import count_fds

    (sb.cmd(["echo"]) | sb.cmd(["cat"])).run(timeout=30)
    before = count_fds()
    for _ in range(20):
        (sb.cmd(["echo", "x"]) | sb.cmd(["cat"]) | sb.cmd(["cat"])).run(timeout=30)
    (sb.cmd(["sleep", "5"]) | sb.cmd(["cat"])).run(timeout=0.2)
    assert count_fds() == before


def test_gather_single_source(sb: Sandbox) -> None:
    g = sb.cmd(["echo", "from-producer"]).as_("data")
    assert isinstance(g, sandlock.NamedStage)
    consumer = sb.cmd(["sh", "-c", 'echo "$_SANDLOCK_GATHER"; cat'])
    r = sandlock.GatherPipeline([(g.name, g.stage)], consumer).run(timeout=30)
    assert r.success and r.stdout == b"data:0\nfrom-producer\n"


def test_gather_composition(sb: Sandbox) -> None:
    a, b, c = sb.cmd(["echo", "a"]).as_("a"), sb.cmd(["echo", "b"]).as_("b"), sb.cmd(["echo", "c"]).as_("c")
    g = a + b
    assert isinstance(g, sandlock.Gather) and [n for n, _ in g.sources] == ["a", "b"]
    g3 = g + c
    assert [n for n, _ in g3.sources] == ["a", "b", "c"]
    gp = g3 | sb.cmd(["cat"])
    assert isinstance(gp, sandlock.GatherPipeline) and gp.consumer.args == ["cat"]
    with pytest.raises(sandlock.NotImplementedFeatureError, match="more than one source"):
        gp.run(timeout=10)
    with pytest.raises(ValueError):
        sb.cmd(["echo"]).as_("bad:name")
    with pytest.raises(ValueError):
        a + sb.cmd(["echo"]).as_("a")


def test_inputs_mapping(monkeypatch: pytest.MonkeyPatch) -> None:
    from sandlock._sdk import _Inputs

    r, w = os.pipe()
    os.write(w, "gathered ✓".encode())
    os.close(w)
    monkeypatch.setenv("_SANDLOCK_GATHER", f"first:{r}")
    inp = _Inputs()
    try:
        assert "first" in inp and "other" not in inp
        assert inp.keys() == ["first"]
        assert inp["first"] == "gathered ✓"
        assert inp["first"] == "gathered ✓"  # cached
        with pytest.raises(KeyError, match="first"):
            inp["other"]
        assert "first" in repr(inp)
    finally:
        os.close(r)
    assert isinstance(sandlock.inputs, _Inputs)
