#!/usr/bin/env python3
"""A timeout: a command that runs too long is killed, with everything it
started; Ctrl-C does the same.

Run: python3 examples/python/timeout.py
"""

import sys
import time

from sandlock import Policy, Sandbox


def main() -> int:
    policy = Policy(fs_readable=["/usr", "/lib", "/lib64", "/bin", "/etc"])
    with Sandbox(policy) as sb:
        start = time.monotonic()
        # The shell starts a background sleep too: the whole sandbox goes.
        result = sb.run(["sh", "-c", "sleep 60 & sleep 60"], timeout=1.0)
        took = time.monotonic() - start
        print(f"after {took:.1f}s: success={result.success} exit_code={result.exit_code}")
        return 0 if not result.success and result.exit_code == -1 else 1


if __name__ == "__main__":
    sys.exit(main())
