"""pyhost - the Python host of the spawn benchmark (tests/bench/spawn).

A long-running Python process that imports a `sandlock` package and is
driven over its standard input one request per line, so that the benchmark
can interleave it with the other variants. Each request is timed here,
around the calls themselves, so the pipe to the benchmark is not counted:

  sandlock true   Sandbox(...).run(["/bin/true"])
  sandlock echo   Sandbox(...).run(["/bin/echo", "hi"]), output checked
  bare true       os.posix_spawn + os.waitpid of /bin/true
  bare echo       the same with stdout on a pipe, read and checked

The first line it writes is "ready PATH VERSION" (the package it imported)
or "skip REASON" (it could not import one), then one answer per request:
"ok NANOSECONDS" or "err MESSAGE". With --bare it imports nothing and
serves only the bare requests.

It serves two packages with different constructors: this project's
(python/, the original's v0.7.0 API, `Sandbox(Policy(...))`) and the
original sandlock from PyPI (0.9 takes the policy fields as keyword
arguments of `Sandbox`). The policy is sandlock's defaults plus fs_readable
for every argument.

  python3 pyhost.py [--bare] DIR...
"""

import os
import sys
import time

TRUE_ARGV = ["/bin/true"]
ECHO_ARGV = ["/bin/echo", "hi"]
ECHO_WANT = b"hi\n"


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def make_sandbox(sandlock, readable):
    if hasattr(sandlock, "Policy"):
        return sandlock.Sandbox(sandlock.Policy(fs_readable=readable))
    return sandlock.Sandbox(fs_readable=readable)


def run_sandlock(sb, echo):
    res = sb.run(ECHO_ARGV if echo else TRUE_ARGV)
    if not res.success:
        return "sandboxed command failed: exit %r, error %r" % (
            getattr(res, "exit_code", None), getattr(res, "error", None))
    if echo and res.stdout != ECHO_WANT:
        return "echo output %r, want %r" % (res.stdout, ECHO_WANT)
    return None


def run_bare(echo):
    actions = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
    r = w = -1
    if echo:
        r, w = os.pipe()
        actions.append((os.POSIX_SPAWN_DUP2, w, 1))
    else:
        actions.append((os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0))
    argv = ECHO_ARGV if echo else TRUE_ARGV
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    finally:
        if echo:
            os.close(w)
    err = None
    if echo:
        out = b""
        while True:
            b = os.read(r, 64)
            if not b:
                break
            out += b
        os.close(r)
        if out != ECHO_WANT:
            err = "echo output %r, want %r" % (out, ECHO_WANT)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return "child status %#x" % status
    return err


def main():
    args = sys.argv[1:]
    bare_only = "--bare" in args
    readable = [a for a in args if a != "--bare"]
    sb = None
    if bare_only:
        say("ready - bare")
    else:
        try:
            import sandlock
            sb = make_sandbox(sandlock, readable)
        except Exception as e:  # any failure to load is a skip, with its reason
            say("skip %s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
            return
        say("ready %s %s" % (os.path.dirname(os.path.abspath(sandlock.__file__)),
                             getattr(sandlock, "__version__", "?")))
    for line in sys.stdin:
        req = line.strip()
        if req == "quit":
            break
        try:
            kind, cmd = req.split(" ", 1)
            if kind not in ("sandlock", "bare") or cmd not in ("true", "echo"):
                raise ValueError
        except ValueError:
            say("err unknown request %r" % req)
            continue
        echo = cmd == "echo"
        if kind == "sandlock" and sb is None:
            say("err started with --bare")
            continue
        t0 = time.perf_counter_ns()
        try:
            err = run_bare(echo) if kind == "bare" else run_sandlock(sb, echo)
        except Exception as e:
            err = "%s: %s" % (type(e).__name__, e)
        t1 = time.perf_counter_ns()
        if err is None:
            say("ok %d" % (t1 - t0))
        else:
            say("err " + err.replace("\n", " "))


if __name__ == "__main__":
    main()
