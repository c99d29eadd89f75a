"""Types: the package is typed (py.typed) and `mypy --strict` is clean on the README's
Python examples, on the package itself and on the typed test helpers (swig_pkg.py, test_py_*.py).
Also runs the README's examples, so that what they print stays true.

mypy is Debian's (scripts/deps: mypy); the test is skipped where it is not installed.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from swig_pkg import PKG_DIR, child_env, wipc

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"


def readme_examples() -> list[str]:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) >= 2, "the README has a sync and an asyncio Python example"
    return blocks


def test_package_is_typed() -> None:
    assert (Path(wipc.__file__).parent / "py.typed").exists()


def mypy(args: list[str], tmp_path: Path) -> None:
    """Runs mypy --strict (python-tests/mypy.ini) with MYPYPATH holding the package under test: the
    build tree's, or for an installed wheel a directory with only a link to it (not the whole
    site-packages, and not --python-executable: Debian's mypy 1.0 cannot query a 3.13 interpreter)."""
    pkg_parent = PKG_DIR
    if not pkg_parent:
        pkg_parent = str(tmp_path / "pkg")
        os.makedirs(pkg_parent, exist_ok=True)
        os.symlink(Path(wipc.__file__).resolve().parent, Path(pkg_parent) / "wipc")
    env = dict(child_env(), MYPYPATH=os.pathsep.join((pkg_parent, str(HERE))))
    p = subprocess.run(["mypy", "--config-file", str(HERE / "mypy.ini"), "--no-incremental",
                        "--cache-dir", str(tmp_path / "cache"), *args],
                       capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0 and "Success: no issues found" in p.stdout, p.stdout + p.stderr


@pytest.mark.skipif(not shutil.which("mypy"), reason="mypy is not installed (apt-get install mypy)")
def test_mypy_strict_on_readme_examples_and_helpers(tmp_path: Path) -> None:
    files = []
    for i, code in enumerate(readme_examples()):
        f = tmp_path / f"readme_example_{i}.py"
        f.write_text(code)
        files.append(str(f))
    mypy(files + [str(HERE / "swig_pkg.py")] + sorted(str(p) for p in HERE.glob("test_py_*.py")), tmp_path)


@pytest.mark.skipif(not shutil.which("mypy"), reason="mypy is not installed (apt-get install mypy)")
def test_mypy_strict_on_the_package(tmp_path: Path) -> None:
    mypy(["-p", "wipc"], tmp_path)


def unique_names(code: str, prefix: str) -> str:
    """The example with its endpoint names made unique to this run (other processes may use "calc")."""
    for n in ("calc", "status", "bulk", "nobody"):
        code = code.replace(f'"{n}"', f'"{prefix}-{n}"')
    return code.replace('wipc.msg_list("st")', f'wipc.msg_list("{prefix}-st")')


def test_readme_examples_run(tmp_path: Path, name: bytes) -> None:
    sync, aio = (unique_names(code, name.decode()) for code in readme_examples()[:2])
    p = subprocess.run([sys.executable, "-c", sync], capture_output=True, text=True, env=child_env(), timeout=60,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "b'HELLO'" and lines[1].startswith("NotFound - ") and lines[3] == "100000", lines
    assert lines[2] == f"4 ['{name.decode()}-status']", lines
    if not wipc.aio.AVAILABLE:
        pytest.skip("wipc.aio needs libwipc 1.1")
    p = subprocess.run([sys.executable, "-c", aio], capture_output=True, text=True, env=child_env(), timeout=60,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["b'HELLO'", "100", "KeyError: 'empty'", "no message"]
