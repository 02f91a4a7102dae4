"""Build step that bundles libsandlock.so into the package.

`pip install ./python` (after `make`) and `make python` copy the library
into the wheel as sandlock/libsandlock.so.0, where the package looks for it
right after the SANDLOCK_LIB environment variable. Which file is bundled:

* SANDLOCK_BUNDLE_LIB=/path/to/libsandlock.so.0 bundles that file;
  SANDLOCK_BUNDLE_LIB= (empty) bundles nothing;
* otherwise ../build/libsandlock.so.0 next to this directory (the output of
  `make` in the sandlock tree) is bundled if it exists.

A wheel with the library inside is tagged for this platform
(py3-none-linux_<arch>); without it the package is pure Python and finds
the library through SANDLOCK_LIB or the system library path.
"""

import os
import shutil
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

try:
    from setuptools.command.bdist_wheel import bdist_wheel
except ImportError:  # setuptools < 70.1 with the wheel package
    from wheel.bdist_wheel import bdist_wheel  # type: ignore[no-redef]

HERE = Path(__file__).resolve().parent
SONAME = "libsandlock.so.0"


def library_to_bundle():
    """The library file to put into the package, or None."""
    env = os.environ.get("SANDLOCK_BUNDLE_LIB")
    if env is not None:
        if not env:
            return None
        path = Path(env)
        if not path.is_file():
            raise SystemExit(f"SANDLOCK_BUNDLE_LIB={env}: no such file")
        return path
    path = HERE.parent / "build" / SONAME
    return path if path.is_file() else None


class BuildPyWithLibrary(build_py):
    """build_py, then copy libsandlock.so.0 into the built package."""

    def run(self):
        super().run()
        target = Path(self.build_lib) / "sandlock" / SONAME
        lib = library_to_bundle()
        if lib is None:
            if target.exists():
                target.unlink()  # a stale copy from an earlier build
            print("sandlock: no libsandlock.so.0 bundled (set SANDLOCK_LIB at run time, "
                  "or install the library on the system library path)")
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(lib, target)
        os.chmod(target, 0o755)
        print(f"sandlock: bundled {lib}")


class DistributionWithLibrary(Distribution):
    """A distribution that carries a native file when the library is
    bundled, so that it is built and installed as platform-specific."""

    def has_ext_modules(self):
        return library_to_bundle() is not None


class BdistWheelTagged(bdist_wheel):
    """Tag the wheel for the platform when it carries the native library."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = library_to_bundle() is None

    def get_tag(self):
        python, abi, plat = super().get_tag()
        if not self.root_is_pure:
            # The library has no Python ABI dependence (ctypes only).
            return "py3", "none", plat
        return python, abi, plat


setup(
    distclass=DistributionWithLibrary,
    cmdclass={"build_py": BuildPyWithLibrary, "bdist_wheel": BdistWheelTagged},
)
