"""README.md's C examples compile against include/ and run against the built library (exit 0)."""
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import wipc_ctypes as w

REPO = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```c\n(.*?)```", (REPO / "README.md").read_text(), re.S)


@pytest.mark.skipif(os.name == "nt" or not shutil.which("cc"), reason="needs cc on POSIX")
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_c_example_compiles_and_runs(index, tmp_path):
    lib_dir = Path(w.default_library_path()).parent
    src = tmp_path / "example.c"
    src.write_text(BLOCKS[index])
    exe = tmp_path / "example"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Werror", str(src), "-I", str(REPO / "include"), "-o", str(exe),
                    "-L", str(lib_dir), "-l:libwipc.so.1", f"-Wl,-rpath,{lib_dir}"], check=True)
    env = dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path))   # its own runtime dir: fixed names like "calc" never clash
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=30, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip(), "the example printed nothing"
