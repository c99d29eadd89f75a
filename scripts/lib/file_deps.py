#!/usr/bin/env python3
"""scripts/lib/file_deps.py - the library's file dependency graph and its cycles.

A file A depends on file B when A's object file uses a symbol that B's object file defines (read with
`nm` from the wipc_core OBJECT library of a build tree), or when A #includes a header of another folder.
Strongly connected components of more than one file are the cycles. Each is classed by where its files
live: inside common/, inside a backend, or across the platform boundary (common/ and a backend in one
cycle); every one of them is a failure of --check (none is left: the pipe files, the last, stack one
way as common/pipe/pipe.h writes down). Backend files that #include a common/ header are listed too: a backend reaches the core only
through dll/platform*.h.

    file_deps.py BUILD_DIR [--check]
        BUILD_DIR  a configured and built tree (build/linux, build/win64)
        --check    exit 1 when there is any cycle (inside common/, inside a backend, or across the
                   platform boundary), or a backend includes a common/ header
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

BACKENDS = ("posix", "linux", "win32")


def nm_tool(objs):
    """The nm that reads these objects (mingw's for COFF .obj files)."""
    if any(o.endswith(".obj") for o in objs):
        for cand in ("x86_64-w64-mingw32-nm", "i686-w64-mingw32-nm"):
            if shutil.which(cand):
                return cand
    return "nm"


def objects(build_dir, dll_dir):
    """{source path relative to dll/: object path} of the wipc_core OBJECT library (objects whose
    source no longer exists, left in an incremental tree by a moved file, are skipped)."""
    top = os.path.join(build_dir, "CMakeFiles", "wipc_core.dir")
    found = {}
    for base, _dirs, files in os.walk(top):
        for f in files:
            if f.endswith((".c.o", ".c.obj")):
                path = os.path.join(base, f)
                rel = os.path.relpath(path, top)
                rel = rel[: rel.rindex(".c.") + 2]
                if rel.startswith("dll" + os.sep):
                    rel = rel[4:]
                rel = rel.replace(os.sep, "/")
                if os.path.exists(os.path.join(dll_dir, rel)):
                    found[rel] = path
    return found


def symbols(nm, path):
    """(defined global symbols, undefined symbols) of one object file."""
    out = subprocess.run([nm, "-g", path], check=True, capture_output=True, text=True).stdout
    defined, undefined = set(), set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] not in ("U", "w", "v"):
            defined.add(parts[2])
    return defined, undefined


def folder(src):
    """The part a file belongs to: 'common', or the backend's folder name."""
    top = src.split("/")[0]
    return top if top in BACKENDS else ("common" if top == "common" else top)


def include_edges(dll_dir, sources):
    """Backend file -> common/ header lines it includes: (file, header) pairs."""
    bad = []
    pat = re.compile(r'^\s*#\s*include\s+"(common/[^"]+)"')
    for src in sources:
        if folder(src) not in BACKENDS:
            continue
        with open(os.path.join(dll_dir, src), encoding="utf-8", errors="replace") as fh:
            for line in fh:
                m = pat.match(line)
                if m:
                    bad.append((src, m.group(1)))
    for name in os.listdir(dll_dir):
        if name in BACKENDS:
            for hdr in sorted(os.listdir(os.path.join(dll_dir, name))):
                if hdr.endswith(".h"):
                    rel = name + "/" + hdr
                    with open(os.path.join(dll_dir, rel), encoding="utf-8", errors="replace") as fh:
                        for line in fh:
                            m = pat.match(line)
                            if m:
                                bad.append((rel, m.group(1)))
    return bad


def sccs(graph):
    """Tarjan's strongly connected components of {node: set(nodes)}, iteratively."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on.add(root)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter[0]
                    counter[0] += 1
                    stack.append(nxt)
                    on.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                elif nxt in on:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    objs = objects(args.build_dir, os.path.join(root, "dll"))
    if not objs:
        print(f"file_deps: no wipc_core objects under {args.build_dir} (build it first)", file=sys.stderr)
        return 2
    nm = nm_tool(list(objs.values()))
    defs, uses = {}, {}
    for src, obj in objs.items():
        d, u = symbols(nm, obj)
        uses[src] = u
        for s in d:
            defs[s] = src
    graph = {src: set() for src in objs}
    for src, u in uses.items():
        for s in u:
            dst = defs.get(s)
            if dst and dst != src:
                graph[src].add(dst)
    edges = sum(len(v) for v in graph.values())
    cycles = sccs(graph)
    bad_inc = include_edges(os.path.join(root, "dll"), list(objs))
    lines = []
    for comp in cycles:
        parts = sorted({folder(f) for f in comp})
        if len(parts) > 1:
            kind = "across the platform boundary"
        elif parts[0] in BACKENDS:
            kind = f"inside the {parts[0]} backend"
        else:
            kind = f"inside {parts[0]}"
        lines.append(f"cycle ({len(comp)} files, {kind}): " + " ".join(comp))
    for src, hdr in bad_inc:
        lines.append(f"backend includes a core header: {src} -> {hdr}")
    print(f"file_deps {args.build_dir}: {len(objs)} files, {edges} file->file edges, "
          f"{len(cycles)} cycles ({sum(len(c) for c in cycles)} files in them), "
          f"{len(bad_inc)} backend->common includes (--check allows none of either)")
    for text in lines:
        print(("FAIL " if args.check else "") + text)
    return 1 if args.check and lines else 0


if __name__ == "__main__":
    sys.exit(main())
