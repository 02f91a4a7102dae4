"""Result.reason: how a command ended, so that a max_memory kill is not
mistaken for any other SIGKILL."""

from __future__ import annotations

import dataclasses
import platform
import shutil
import subprocess
from pathlib import Path
from typing import List

import pytest

from sandlock import Policy, Result, Sandbox

#: 40 MiB of bss (mapped by execve), then a 3 s sleep and no memory call:
#: no libc, whose start-up would allocate. Three of them under a 64 MiB
#: budget exceed it by more than the supervisor's slack.
BSS_SOURCE = r"""
static char big[40 << 20];
void _start(void)
{
    for (unsigned long i = 0; i < sizeof big; i += 4096)
        big[i] = 1;
    long ts[2] = {3, 0};
#if defined(__x86_64__)
    __asm__ volatile("syscall" : : "a"(35L), "D"(ts), "S"(0L) : "rcx", "r11", "memory");
    __asm__ volatile("syscall" : : "a"(60L), "D"(0L) : "rcx", "r11", "memory");
#elif defined(__aarch64__)
    register long x0 __asm__("x0") = (long)ts;
    register long x1 __asm__("x1") = 0;
    register long x8 __asm__("x8") = 101;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x1), "r"(x8) : "memory");
    x0 = 0;
    x8 = 93;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8) : "memory");
#else
#error unsupported architecture
#endif
    for (;;)
        ;
}
"""


def run(policy: Policy, cmd: List[str], **kw: object) -> Result:
    with Sandbox(policy) as sb:
        return sb.run(cmd, **kw)  # type: ignore[arg-type]


@pytest.fixture
def bss_program(workdir: Path) -> Path:
    """The bss program, built with the host's C compiler."""
    cc = shutil.which("gcc") or shutil.which("cc")
    assert cc, "a C compiler is part of the test environment"
    assert platform.machine() in ("x86_64", "aarch64"), platform.machine()
    src, out = workdir / "bss.c", workdir / "bss"
    src.write_text(BSS_SOURCE)
    subprocess.run([cc, "-O0", "-static", "-nostdlib", "-fno-stack-protector", "-o", str(out), str(src)],
                   check=True, capture_output=True)
    workdir.chmod(0o755)
    out.chmod(0o755)
    return out


def test_memory_limit_kill_has_a_reason(base_policy: Policy, bss_program: Path) -> None:
    # The shell gives background jobs /dev/null as stdin.
    readable = list(base_policy.fs_readable) + [str(bss_program.parent), "/dev/null"]
    p = dataclasses.replace(base_policy, fs_readable=readable, max_memory="64M")
    b = str(bss_program)
    script = f"{b} & {b} & {b} & wait"
    r = run(p, ["sh", "-c", script], timeout=10)
    assert not r.success and r.exit_code == -1 and r.error is None
    assert r.reason == "memory_limit", r

    # Control: the same programs without the budget run to the end.
    q = dataclasses.replace(p, max_memory=None)
    r = run(q, ["sh", "-c", script], timeout=10)
    assert r.success and r.reason == "exited", r


def test_own_sigkill_is_signaled(base_policy: Policy) -> None:
    p = dataclasses.replace(base_policy, max_memory="64M")
    r = run(p, ["sh", "-c", "kill -KILL $$"])
    assert not r.success and r.exit_code == -1 and r.reason == "signaled"


def test_reason_is_not_a_field() -> None:
    # The original SDK's five fields, in order, and its repr: reason is a
    # property, None on a result the caller builds.
    r = Result(False, -1, b"o", b"e", "boom")
    assert r.reason is None
    assert [f.name for f in dataclasses.fields(Result)] == ["success", "exit_code", "stdout", "stderr", "error"]
    assert "reason" not in repr(r)
