#!/usr/bin/env python3
"""docs/doxyfilter.py FILE - Doxygen's INPUT_FILTER for include/wipc.h: the header's comments are
written for people reading C, with Windows object names (Local\\wipc-<name>, \\\\.\\pipe\\...) and
placeholders like <name>; this escapes them for Doxygen (backslash commands, HTML tags) in comment
text only, so the header itself stays plain. Line count is kept (warnings point at the real lines)."""
import re
import sys

TAG = re.compile(r"<(/?[A-Za-z][A-Za-z0-9_.|-]*(?: [^<>]*)?)>")


def escape(text):
    text = re.sub(r"\\(?=[A-Za-z0-9_.*\\])", r"\\\\", text)   # \wipc, \\.\pipe\* -> literal backslashes
    return TAG.sub(lambda m: "&lt;" + m.group(1) + "&gt;", text)


def main(path):
    in_comment = False
    for line in open(path, encoding="utf-8"):
        out, i = "", 0
        while i < len(line):
            if in_comment:
                end = line.find("*/", i)
                chunk = line[i:] if end < 0 else line[i:end]
                out += escape(chunk)
                if end < 0:
                    i = len(line)
                else:
                    out += "*/"
                    i = end + 2
                    in_comment = False
            else:
                start = line.find("/*", i)
                if start < 0:
                    out += line[i:]
                    break
                out += line[i:start + 2]
                i = start + 2
                in_comment = True
        sys.stdout.write(out)


if __name__ == "__main__":
    main(sys.argv[1])
