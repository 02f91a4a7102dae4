"""The library inside a Python host: threads and the GIL, os.fork(), Ctrl-C,
and the controlling terminal."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import List

import pytest

from sandlock import Policy, Sandbox
from conftest import SYSTEM_DIRS, run_script

POLICY = f"sandlock.Policy(fs_readable={SYSTEM_DIRS!r})"


def test_run_from_thread_while_main_thread_is_busy(base_policy: Policy) -> None:
    # The main thread spins in Python (holding the GIL except at switch
    # intervals) while another thread runs a sandbox: the run must finish
    # while the spin is still going, i.e. the library never waits for the
    # GIL (CDLL releases it during every call).
    with Sandbox(base_policy) as sb:
        sb.run(["true"])
        done = threading.Event()
        results: List[bytes] = []

        def worker() -> None:
            results.append(sb.run(["sh", "-c", "sleep 0.2; echo from-thread"], timeout=30).stdout)
            done.set()

        t = threading.Thread(target=worker)
        t.start()
        spins = 0
        deadline = time.monotonic() + 20
        while not done.is_set() and time.monotonic() < deadline:
            spins += 1  # busy: no sleep, no I/O
        t.join(timeout=30)
        assert done.is_set(), "the sandbox run did not finish while the main thread was busy"
        assert results == [b"from-thread\n"] and spins > 0


def test_run_while_gil_held_in_c_code(base_policy: Policy) -> None:
    # A long C-level call holding the GIL (no switch interval) delays a
    # thread's return from the library, but must not deadlock it.
    with Sandbox(base_policy) as sb:
        out: List[bytes] = []
        t = threading.Thread(target=lambda: out.append(sb.run(["echo", "ok"], timeout=30).stdout))
        t.start()
        sum(range(30_000_000))  # one C call, GIL held throughout
        t.join(timeout=30)
        assert not t.is_alive() and out == [b"ok\n"]


def test_concurrent_runs_are_independent(base_policy: Policy) -> None:
    with Sandbox(base_policy) as sb:
        outs: dict = {}

        def worker(i: int) -> None:
            outs[i] = sb.run(["sh", "-c", f"echo {i}; exit {i % 3}"], timeout=30)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for i, r in outs.items():
            assert r.stdout == f"{i}\n".encode() and r.exit_code == i % 3


FORK_SCRIPT = """
import os, sys, sandlock
sb = sandlock.Sandbox(%s)
assert sb.run(["true"]).success
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(r)
    try:
        sb.run(["echo", "from-child"])
        msg = "ran"
    except sandlock.SandlockError as e:
        msg = type(e).__name__ + ": " + str(e)
    os.write(w, msg.encode())
    os._exit(0)
os.close(w)
msg = os.read(r, 4096).decode()
_, status = os.waitpid(pid, 0)
print(msg)
print("parent still works:", sb.run(["echo", "ok"]).stdout == b"ok\\n")
"""


def test_fork_child_refuses_the_library() -> None:
    out = run_script(FORK_SCRIPT % POLICY, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("ForkedChildError: sandlock_"), out.stdout
    assert "os.fork()" in lines[0]
    assert lines[1] == "parent still works: True"


def test_fork_child_without_library_calls_exits_cleanly() -> None:
    # A forked child that does not use sandlock but exits normally runs the
    # finalisers of the native objects it inherited; they must not call into
    # the (dead) Go runtime.
    script = """
    import os, sandlock
    sb = sandlock.Sandbox(%s)
    sb.run(["true"])
    pid = os.fork()
    if pid == 0:
        import sys
        print("child ok", flush=True)
        sys.exit(0)      # runs atexit and the finalisers
    _, status = os.waitpid(pid, 0)
    print("child status", os.waitstatus_to_exitcode(status))
    """ % POLICY
    out = run_script(script, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["child ok", "child status 0"]


def test_multiprocessing_fork_without_sandlock() -> None:
    script = """
    import multiprocessing as mp, sandlock
    sandlock.Sandbox(%s).run(["true"])
    def square(x):
        return x * x
    if __name__ == "__main__":
        with mp.get_context("fork").Pool(2) as pool:
            print(pool.map(square, range(5)))
    """ % POLICY
    out = run_script(script, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[0, 1, 4, 9, 16]"


def test_ctrl_c_kills_the_sandbox(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    script = textwrap.dedent(f"""
        import signal, sys, time, sandlock
        # Python leaves SIGINT ignored if it started ignored (a background
        # job of a non-interactive shell); the test needs the usual handler.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        sb = sandlock.Sandbox(sandlock.Policy(fs_readable={SYSTEM_DIRS!r}, fs_writable=[{str(tmp_path)!r}]))
        t0 = time.monotonic()
        try:
            sb.run(["sh", "-c", "echo $$ > {pidfile}; exec sleep 60"])
            print("not interrupted")
        except KeyboardInterrupt:
            print("interrupted after %.1f" % (time.monotonic() - t0))
            print("pid after", sb.pid)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 20
        while not (pidfile.exists() and pidfile.read_text().strip()) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert pidfile.exists(), "sandbox did not start"
        child = int(pidfile.read_text())
        time.sleep(0.2)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        took = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.splitlines()[0].startswith("interrupted"), out + err
    assert "pid after None" in out
    assert took < 3, f"Ctrl-C took {took:.2f}s"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    break
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"sandboxed process {child} survived Ctrl-C")


TTY_SCRIPT = """
import fcntl, os, sys, termios, threading, time, sandlock
fcntl.ioctl(0, termios.TIOCSCTTY, 0)       # the pty becomes our terminal
os.tcsetpgrp(0, os.getpgrp())
me = os.getpgrp()
seen = set()
stop = False
def watch():
    while not stop:
        seen.add(os.tcgetpgrp(0))
        time.sleep(0.005)
t = threading.Thread(target=watch); t.start()
sb = sandlock.Sandbox(%s)
r = sb.run(["sh", "-c", "sleep 0.3; echo captured"], timeout=30)
stop = True; t.join()
print("foreground unchanged:", seen == {me} and os.tcgetpgrp(0) == me)
print("output:", r.stdout.decode().strip())
"""


def test_run_never_takes_the_terminal() -> None:
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-c", TTY_SCRIPT % POLICY], stdin=slave, capture_output=True, text=True,
            timeout=60, start_new_session=True,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["foreground unchanged: True", "output: captured"]


def test_import_error_for_bad_sandlock_lib(tmp_path: Path) -> None:
    bogus = tmp_path / "libnothing.so"
    bogus.write_text("not a library")
    out = run_script("import sandlock", env={"SANDLOCK_LIB": str(bogus)})
    assert out.returncode != 0
    assert "ImportError" in out.stderr and "SANDLOCK_LIB" in out.stderr


def test_sandlock_lib_is_used_first() -> None:
    from sandlock import _native

    real = _native.library_file()
    out = run_script("import sandlock._native as n; print(n.library_path)", env={"SANDLOCK_LIB": real})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == real
