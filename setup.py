"""Builds the wheel of the Python package `wipc` (metadata: pyproject.toml).

The extension wipc._native is not compiled by setuptools: build_ext runs CMake on this source tree
(only libwipc and the SWIG binding, for the interpreter running this build: -DWIPC_PYTHON) and
copies the extension and libwipc.so.1 into the package, the extension's RPATH being $ORIGIN.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext
from setuptools.command.install import install

ROOT = Path(__file__).resolve().parent


def version():
    """major.minor.patch from include/wipc.h (the library's version is the package's)."""
    header = (ROOT / "include" / "wipc.h").read_text()
    return ".".join(re.search(rf"#define WIPC_VERSION_{part}\s+(\d+)", header).group(1)
                    for part in ("MAJOR", "MINOR", "PATCH"))


class CMakeBuild(build_ext):
    """Builds wipc._native and libwipc.so.1 with CMake + SWIG and copies both into the package."""

    def build_extension(self, ext):
        build = Path(self.build_temp).resolve() / "cmake"
        gen = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.check_call(["cmake", "-S", str(ROOT), "-B", str(build), *gen, "-DCMAKE_BUILD_TYPE=Release",
                               f"-DWIPC_PYTHON={sys.executable}", "-DWIPC_PYTHON_RPATH=$ORIGIN",
                               "-DWIPC_BUILD_TESTS=OFF", "-DWIPC_BUILD_TOOLS=OFF", "-DWIPC_BUILD_BENCH=OFF"])
        subprocess.check_call(["cmake", "--build", str(build), "--target", "wipc_python",
                               "-j", str(os.cpu_count() or 1)])
        built = sorted((build / "bindings" / "python" / "wipc").glob("_native*.so"))
        if not built:
            sys.exit(f"CMake built no extension in {build}: are swig and the Python headers of "
                     f"{sys.executable} installed?")
        target = Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], target)
        shutil.copyfile(build / "libwipc.so.1", target.parent / "libwipc.so.1")   # the file, not the symlink


class Install(install):
    """Debian's setuptools (python3-setuptools-whl) reads `install_layout` and `prefix_option` from the
    install command, which only Debian's own Python defines: give them (None = the standard layout)
    elsewhere."""

    def initialize_options(self):
        super().initialize_options()
        for debian_only in ("install_layout", "prefix_option"):
            if not hasattr(self, debian_only):
                setattr(self, debian_only, None)


# setuptools' own build files go under build/python/ (beside the CMake builds of build/), not all over build/.
BUILD_BASE = ROOT / "build" / "python"
BUILD_BASE.mkdir(parents=True, exist_ok=True)
setup(version=version(), ext_modules=[Extension("wipc._native", sources=[])],
      cmdclass={"build_ext": CMakeBuild, "install": Install},
      options={"build": {"build_base": str(BUILD_BASE)}, "egg_info": {"egg_base": str(BUILD_BASE)}})
