"""pycallbacks - the Python host of the policy-callback benchmark
(tests/bench/suite callbacks).

A long-running Python process that imports this project's `sandlock`
package and is driven over its standard input one request per line, like
the C host (chost.c), so that the benchmark can interleave the two:

  loop none|fn SYSCALL ARGV...
      Sandbox(policy).run(ARGV), or the same Sandbox with
      policy_fn=<a counting callback that allows everything>. ARGV is a
      sysloop command (tests/bench/helpers/sysloop.c); no argument may
      contain a space.

The first line it writes is "ready PATH VERSION" (the package it imported)
or "skip REASON", then one answer per request: "ok LOOP_N LOOP_NS EVENTS
HELD OTHER SPAN_NS CPU_NS" or "err MESSAGE". LOOP_N and LOOP_NS are what sysloop
printed (its timed iterations and their nanoseconds); EVENTS counts the
callback's events of SYSCALL, OTHER those of other system calls, SPAN_NS is
the time between the first and the last SYSCALL event as the callback saw
them. HELD is -1: the Python API does not say whether an event is held.
CPU_NS is the user + system time of the request, of this process (where
the supervisor and the callback run) and of the reaped sandboxed process.
Events still queued when the command has ended are waited for (up to 2 s).

The policy is sandlock's defaults plus fs_readable for every argument.

  python3 pycallbacks.py DIR...
"""

from __future__ import annotations

import os
import resource
import sys
import threading
import time
from typing import Any, List, Optional, Tuple

QUIET_NS = 50_000_000  # the callback saw nothing new for this long: done
DRAIN_NS = 2_000_000_000  # at most this long after the command ended


def say(line: str) -> None:
    """Write one answer line and flush it."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Counter:
    """What the counting callback saw during one request.

    The library may run a sandbox's callbacks on more than one thread, so
    the counts are updated under a lock. Each request has its own Counter
    (and Sandbox), so that a late callback of an earlier run cannot count
    for a later one.
    """

    def __init__(self, target: str) -> None:
        self.lock = threading.Lock()
        self.target = target
        self.events = 0
        self.other = 0
        self.first_ns = 0
        self.last_ns = 0

    def __call__(self, event: Any, ctx: Any) -> None:
        """The policy callback: count the event and allow it (None)."""
        now = time.monotonic_ns()
        with self.lock:
            if event.syscall != self.target:
                self.other += 1
                return None
            if self.first_ns == 0:
                self.first_ns = now
            self.last_ns = max(self.last_ns, now)
            self.events += 1
        return None

    def seen(self) -> int:
        """Every event counted so far."""
        with self.lock:
            return self.events + self.other

    def drain(self) -> None:
        """Wait until no event arrived for QUIET_NS (events that are not
        held may still be queued when the command has ended)."""
        seen = self.seen()
        quiet_since = time.monotonic_ns()
        deadline = quiet_since + DRAIN_NS
        while time.monotonic_ns() < deadline and time.monotonic_ns() - quiet_since < QUIET_NS:
            time.sleep(0.001)
            cur = self.seen()
            if cur != seen:
                seen, quiet_since = cur, time.monotonic_ns()


def cpu_ns() -> int:
    """User + system time of this process and its reaped children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        total += ru.ru_utime + ru.ru_stime
    return int(total * 1e9)


def parse_loop(stdout: bytes) -> Tuple[int, int]:
    """sysloop's "N NANOSECONDS" line."""
    fields = stdout.split()
    if len(fields) != 2:
        raise ValueError("sysloop printed %r" % stdout)
    return int(fields[0]), int(fields[1])


def serve(sandlock: Any, readable: List[str]) -> None:
    """Answer requests until "quit" or the end of the input."""
    policy = sandlock.Policy(fs_readable=readable)
    plain = sandlock.Sandbox(policy)
    for line in sys.stdin:
        req = line.split()
        if req == ["quit"]:
            break
        if len(req) < 4 or req[0] != "loop" or req[1] not in ("none", "fn"):
            say("err usage: loop none|fn SYSCALL ARGV...")
            continue
        cb, target, argv = req[1], req[2], req[3:]
        counter = Counter(target)
        cpu0 = cpu_ns()
        sb: Any = None
        err: Optional[str] = None
        loop_n = loop_ns = 0
        try:
            sb = sandlock.Sandbox(policy, policy_fn=counter) if cb == "fn" else plain
            res = sb.run(argv, timeout=120)
            if not res.success:
                err = "sandboxed %s: exit %r, reason %r, stderr %r" % (
                    argv[0], res.exit_code, res.reason, res.stderr[:200])
            else:
                loop_n, loop_ns = parse_loop(res.stdout)
        except Exception as e:  # a failed run is an answer, not the end of the host
            err = "%s: %s" % (type(e).__name__, e)
        if cb == "fn":
            counter.drain()
            if sb is not None:
                sb.close()
        if err is not None:
            say("err " + err.replace("\n", " "))
            continue
        with counter.lock:
            span = max(0, counter.last_ns - counter.first_ns)
            held = -1 if cb == "fn" else 0
            say("ok %d %d %d %d %d %d %d" % (loop_n, loop_ns, counter.events, held, counter.other, span,
                                            cpu_ns() - cpu0))


def main() -> None:
    """Import the package, greet, serve."""
    readable = sys.argv[1:]
    try:
        import sandlock
    except Exception as e:  # any failure to load is a skip, with its reason
        say("skip %s: %s" % (type(e).__name__, str(e).replace("\n", " ")))
        return
    say("ready %s %s" % (os.path.dirname(os.path.abspath(sandlock.__file__)),
                         getattr(sandlock, "__version__", "?")))
    serve(sandlock, readable)


if __name__ == "__main__":
    main()
