"""The ctypes layer matches the C ABI: every exported name declared, struct layouts and constants equal
to what a C compiler sees in include/wipc.h."""
import ctypes
import re
import shutil
import subprocess

import pytest

import wipc_ctypes as w
from conftest import REPO

HEADER = REPO / "include" / "wipc.h"
DEF = REPO / "wipc.def"


def def_names():
    names, in_exports = [], False
    for line in DEF.read_text().splitlines():
        line = line.split(";", 1)[0].strip()
        if not line:
            continue
        if line == "EXPORTS":
            in_exports = True
        elif in_exports:
            names.append(re.match(r"[A-Za-z_]\w*", line).group(0))
    return names


def header_functions():
    text = HEADER.read_text()
    return re.findall(r"^WIPC_API\s+[^;]*?WIPC_CALL\s+(wipc_\w+)\s*\(", text, re.M)


def test_declarations_cover_wipc_def():
    names = def_names()
    assert len(names) > 30
    missing = [n for n in names if n not in w.PROTOTYPES]
    extra = [n for n in w.PROTOTYPES if n not in names]
    assert not missing, f"in wipc.def but not declared in wipc_ctypes: {missing}"
    assert not extra, f"declared in wipc_ctypes but not in wipc.def: {extra}"


def test_declarations_cover_header():
    funcs = header_functions()
    assert sorted(funcs) == sorted(def_names()), "include/wipc.h and wipc.def list different functions"
    assert sorted(funcs) == sorted(w.PROTOTYPES)


def test_argument_counts_match_header():
    text = HEADER.read_text()
    for name, (_, argtypes) in w.PROTOTYPES.items():
        m = re.search(r"WIPC_CALL\s+" + name + r"\s*\(([^)]*)\)", text)
        assert m, name
        params = m.group(1).strip()
        n = 0 if params in ("", "void") else params.count(",") + 1
        assert n == len(argtypes), f"{name}: header has {n} parameters, wipc_ctypes declares {len(argtypes)}"


def test_loaded_library_has_every_function(lib):
    for name in w.PROTOTYPES:
        fn = getattr(lib, name)
        assert fn.argtypes is not None or w.PROTOTYPES[name][1] == []
        assert fn.restype == w.PROTOTYPES[name][0]


def _compile_and_run(tmp_path, source):
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler to read the header's layout")
    src = tmp_path / "probe.c"
    exe = tmp_path / "probe"
    src.write_text(source)
    subprocess.run([cc, "-std=c11", "-I", str(REPO / "include"), str(src), "-o", str(exe)], check=True)
    return subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout


STRUCTS = {
    "wipc_message": w.Message,
    "wipc_info": w.Info,
    "wipc_pipe_options": w.PipeOptions,
    "wipc_shm_options": w.ShmOptions,
    "wipc_msg_options": w.MsgOptions,
    "wipc_endpoint": w.Endpoint,
    "wipc_stats": w.Stats,
}


def test_struct_layouts_match_c(tmp_path):
    lines = ['#include <stdio.h>', '#include <stddef.h>', '#include "wipc.h"', "int main(void) {"]
    for cname, cls in STRUCTS.items():
        lines.append(f'printf("{cname} sizeof %zu\\n", sizeof({cname}));')
        lines.append(f'printf("{cname} alignof %zu\\n", _Alignof({cname}));')
        for field, _ in cls._fields_:
            lines.append(f'printf("{cname} {field} %zu\\n", offsetof({cname}, {field}));')
    lines += ["return 0;", "}"]
    out = _compile_and_run(tmp_path, "\n".join(lines))
    seen = {}
    for line in out.splitlines():
        cname, what, value = line.split()
        seen[(cname, what)] = int(value)
    for cname, cls in STRUCTS.items():
        assert ctypes.sizeof(cls) == seen[(cname, "sizeof")], cname
        assert ctypes.alignment(cls) == seen[(cname, "alignof")], cname
        for field, _ in cls._fields_:
            assert getattr(cls, field).offset == seen[(cname, field)], f"{cname}.{field}"
    # and the C structs have no field the ctypes ones lack (the sizes would differ, but be explicit)
    text = HEADER.read_text()
    for cname, cls in STRUCTS.items():
        body = re.search(r"typedef struct " + cname + r" \{(.*?)\} " + cname + ";", text, re.S).group(1)
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        cfields = re.findall(r"(\w+)\s*(?:\[\d+\])?\s*;", body)
        assert cfields == [f for f, _ in cls._fields_], cname


def header_constants():
    names = []
    for m in re.finditer(r"^#define\s+(WIPC_[A-Z0-9_]+)\s+(\S.*)$", HEADER.read_text(), re.M):
        name, value = m.group(1), m.group(2)
        if name in ("WIPC_H", "WIPC_CALL", "WIPC_API") or value.startswith('"'):
            continue
        names.append(name)
    return names


def test_constants_match_header(tmp_path):
    names = header_constants()
    assert "WIPC_E_INVALID_STATE" in names and "WIPC_MAX_MESSAGE_LIMIT" in names
    missing = [n for n in names if not hasattr(w, n)]
    assert not missing, f"constants of wipc.h missing in wipc_ctypes: {missing}"
    lines = ['#include <stdio.h>', '#include "wipc.h"', "int main(void) {"]
    for n in names:
        lines.append(f'printf("{n} %lld\\n", (long long)({n}));')
    lines += ["return 0;", "}"]
    out = _compile_and_run(tmp_path, "\n".join(lines))
    for line in out.splitlines():
        n, v = line.split()
        assert getattr(w, n) == int(v), f"{n}: wipc_ctypes {getattr(w, n)}, C {v}"
    assert w.WIPC_VERSION_STRING == re.search(r'#define WIPC_VERSION_STRING "([^"]+)"', HEADER.read_text()).group(1)


def test_status_names_table(lib):
    for code, name in w.STATUS_NAMES.items():
        assert lib.wipc_status_name(code).decode() == name
        assert lib.wipc_strerror(code)
    assert lib.wipc_status_name(-99).decode() == "WIPC_E_UNKNOWN"
    assert lib.wipc_version() == w.WIPC_VERSION
    assert lib.wipc_version_string().decode() == w.WIPC_VERSION_STRING


def test_status_list_matches_header(lib):
    """dll/common/core/status_list.h (the table behind wipc_status_name / wipc_strerror) names exactly the
    statuses of wipc.h, in order; the library names every one and ctypes' STATUS_NAMES has them all."""
    statuses = [n for n in header_constants() if n == "WIPC_OK" or n.startswith("WIPC_E_")]
    assert "WIPC_E_REMOTE" in statuses
    listed = re.findall(r"^\s*X\((WIPC_\w+),", (REPO / "dll" / "common" / "core" / "status_list.h").read_text(), re.M)
    assert listed == statuses, "dll/common/core/status_list.h and the statuses of include/wipc.h differ"
    for n in statuses:
        code = getattr(w, n)
        assert lib.wipc_status_name(code).decode() == n
        assert lib.wipc_strerror(code).decode() != "unknown status code", n
        assert w.STATUS_NAMES.get(code) == n, f"{n} missing in wipc_ctypes.STATUS_NAMES"
