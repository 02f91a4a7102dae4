"""Many sandboxes from one Python process leave its descriptors and threads
where they were (spec README, requirement 10).

Descriptors must come back exactly. Threads may exceed the baseline by a
small allowance, for one documented behaviour of the Go runtime inside the
library: it starts a worker thread whenever all existing ones are busy or
blocked and never ends an idle one (golang/go#14592), so its thread count
is the high-water mark of its concurrency, not a function of how many
sandboxes ran (tests/c/test_leak.c measured this). A leak of one thread per
sandbox would add 500 (sequential) or 16 per round (concurrent), far above
the allowance.
"""

from __future__ import annotations

import threading
import time
from typing import List, Tuple

from sandlock import Policy, Sandbox
from conftest import count_fds, count_threads, note

SEQ_THREAD_SLACK = 6
CONC_THREAD_SLACK = 20
PLATEAU_SLACK = 16


def settle(fds0: int, thr0: int) -> Tuple[int, int]:
    """Wait up to 3 s for descriptors and 0.5 s more for threads to come
    back to the baseline; return the final counts."""
    deadline = time.monotonic() + 3
    while (fds := count_fds()) > fds0 and time.monotonic() < deadline:
        time.sleep(0.02)
    deadline = time.monotonic() + 0.5
    while (thr := count_threads()) > thr0 and time.monotonic() < deadline:
        time.sleep(0.02)
    return fds, thr


def test_500_sequential_runs(base_policy: Policy) -> None:
    n = 500
    with Sandbox(base_policy) as sb:
        for _ in range(10):  # warm-up: the runtime's permanent threads
            assert sb.run(["echo", "warm"]).success
        time.sleep(0.1)
        fds0, thr0 = count_fds(), count_threads()
        t0 = time.monotonic()
        failures = 0
        for i in range(n):
            r = sb.run(["echo", str(i)])
            if r.stdout != f"{i}\n".encode():
                failures += 1
        took = time.monotonic() - t0
        fds, thr = settle(fds0, thr0)
    note(f"{n} sequential Sandbox.run: {took * 1000 / n:.2f} ms each; fds {fds0} -> {fds}, "
         f"threads {thr0} -> {thr}")
    assert failures == 0
    assert fds == fds0, f"fds {fds0} -> {fds} after {n} runs"
    assert thr <= thr0 + SEQ_THREAD_SLACK, f"threads {thr0} -> {thr} after {n} runs"


def _concurrent_round(sb: Sandbox, n: int) -> int:
    """n runs at once from n Python threads; returns how many failed."""
    barrier = threading.Barrier(n)
    failures: List[str] = []

    def worker(i: int) -> None:
        barrier.wait()
        r = sb.run(["sh", "-c", f"sleep 0.3; echo {i}"], timeout=60)
        if r.stdout != f"{i}\n".encode():
            failures.append(f"{i}: {r}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return len(failures)


def test_16_concurrent_runs_from_threads(base_policy: Policy) -> None:
    n = 16
    with Sandbox(base_policy) as sb:
        for _ in range(10):
            assert sb.run(["true"]).success
        time.sleep(0.1)
        fds0, thr0 = count_fds(), count_threads()
        t0 = time.monotonic()
        assert _concurrent_round(sb, n) == 0
        took = time.monotonic() - t0
        fds1, thr1 = settle(fds0, thr0)
        assert fds1 == fds0, f"fds {fds0} -> {fds1} after {n} concurrent runs"
        assert thr1 <= thr0 + CONC_THREAD_SLACK, f"threads {thr0} -> {thr1} after {n} concurrent runs"
        # Further rounds must not keep growing: a plateau, not a leak.
        for _ in range(2):
            assert _concurrent_round(sb, n) == 0
        fds2, thr2 = settle(fds0, thr1)
    note(f"{n} concurrent Sandbox.run from threads in {took:.2f}s: fds {fds0} -> {fds1}, threads {thr0} -> "
         f"{thr1}; after 2 more rounds fds {fds2}, threads {thr2}")
    assert fds2 == fds0
    assert thr2 <= thr1 + PLATEAU_SLACK, f"threads {thr1} -> {thr2} over 2 more rounds"
