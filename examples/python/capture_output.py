#!/usr/bin/env python3
"""Capturing output: stdout and stderr come back as bytes, of any size, and
the exit status tells success from failure.

Run: python3 examples/python/capture_output.py
"""

import sys

from sandlock import Policy, Sandbox


def main() -> int:
    policy = Policy(fs_readable=["/usr", "/lib", "/lib64", "/bin", "/etc"])
    with Sandbox(policy) as sb:
        r = sb.run(["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"])
        print(f"exit_code={r.exit_code} stdout={r.stdout!r} stderr={r.stderr!r}")

        # Large output is drained while the command runs: no deadlock.
        big = sb.run(["sh", "-c", "yes sandlock | head -c 5000000"])
        print(f"captured {len(big.stdout)} bytes")

        # A missing program: exit code 127 and a readable reason.
        missing = sb.run(["no-such-program"])
        print(f"missing program: exit_code={missing.exit_code} {missing.stderr.decode().strip()}")
        return 0 if (r.exit_code == 3 and len(big.stdout) == 5_000_000 and missing.exit_code == 127) else 1


if __name__ == "__main__":
    sys.exit(main())
