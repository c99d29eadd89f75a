"""Imports the Python package `wipc` under test, for test_swig.py and the test_py_*.py files.

- WIPC_PYTHONPATH=installed: the `wipc` the interpreter has installed (scripts/test-python-wheels runs
  the suite in a venv where the wheel is installed);
- WIPC_PYTHONPATH=<dir>: the package in <dir>;
- else the build tree's package: <dir of $WIPC_LIBRARY>/bindings/python (build/linux by default).

PKG_DIR is the directory to put on PYTHONPATH for child processes ("" when the package is installed).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import wipc_ctypes as w

_where = os.environ.get("WIPC_PYTHONPATH", "")
if _where == "installed":
    PKG_DIR = ""
else:
    PKG_DIR = _where or str(Path(w.default_library_path()).parent / "bindings" / "python")
    if not (Path(PKG_DIR) / "wipc" / "__init__.py").exists():
        pytest.fail(f"the SWIG package is not built in {PKG_DIR} (needs swig + python3-dev; cmake --build build/linux)",
                    pytrace=False)
    if PKG_DIR not in sys.path:
        sys.path.insert(0, PKG_DIR)

import wipc  # noqa: E402


def child_env() -> dict[str, str]:
    """The environment of a child Python process that must import the same `wipc`."""
    env = dict(os.environ)
    if PKG_DIR:
        env["PYTHONPATH"] = PKG_DIR + os.pathsep + env.get("PYTHONPATH", "")
    return env


__all__ = ["wipc", "PKG_DIR", "child_env"]
