#!/usr/bin/env python3
"""Basic confinement: a command may read the system directories and write
one scratch directory, and nothing else.

Run: python3 examples/python/basic_confinement.py
"""

import sys
import tempfile

from sandlock import Policy, Sandbox

SYSTEM = ["/usr", "/lib", "/lib64", "/bin", "/etc"]


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        policy = Policy(
            fs_readable=SYSTEM,
            fs_writable=[scratch],
            fs_denied=["/etc/shadow"],
            max_processes=8,
            clean_env=True,
            env={"PATH": "/usr/bin:/bin"},
        )
        with Sandbox(policy) as sb:
            # Allowed: write and read back inside the scratch directory.
            ok = sb.run(["sh", "-c", f"echo hello > {scratch}/note && cat {scratch}/note"])
            print("scratch write:", ok.success, ok.stdout.decode().strip())

            # Denied: anything outside the policy, e.g. the home directory.
            denied = sb.run(["ls", "/root"])
            print("ls /root:", "denied" if not denied.success else "allowed",
                  denied.stderr.decode().strip())

            # Denied: a file carved out of a readable tree.
            shadow = sb.run(["cat", "/etc/shadow"])
            print("cat /etc/shadow:", "denied" if not shadow.success else "allowed")
            return 0 if ok.success and not denied.success and not shadow.success else 1


if __name__ == "__main__":
    sys.exit(main())
