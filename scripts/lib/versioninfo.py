#!/usr/bin/env python3
"""versioninfo.py WIPC_DLL VERSION - checks the VERSIONINFO resource of a built wipc.dll
(scripts/test-shipping, step "versioninfo"): the fixed file and product versions are VERSION.0, the
FileVersion / ProductVersion strings start with VERSION, FileDescription and LegalCopyright are set.
Prints what it found; exits non-zero with the reasons otherwise.
"""
import re, struct, sys
path, want = sys.argv[1], sys.argv[2]
data = open(path, 'rb').read()
i = data.find(struct.pack('<I', 0xFEEF04BD))
if i < 0:
    sys.exit('no VS_FIXEDFILEINFO in ' + path)
_, _, fms, fls, pms, pls = struct.unpack_from('<6I', data, i)
ver = lambda ms, ls: f'{ms >> 16}.{ms & 0xffff}.{ls >> 16}.{ls & 0xffff}'
fv, pv = ver(fms, fls), ver(pms, pls)
text = data[data.rfind(b'S\x00t\x00r\x00i\x00n\x00g\x00F\x00i\x00l\x00e\x00I\x00n\x00f\x00o\x00'):]
strings = {}
for key in ('FileDescription', 'FileVersion', 'ProductVersion', 'LegalCopyright', 'ProductName', 'OriginalFilename'):
    k = key.encode('utf-16-le') + b'\x00\x00'
    j = text.find(k)
    if j < 0:
        continue
    j += len(k)
    while j < len(text) and text[j:j + 2] == b'\x00\x00':
        j += 2
    end = j
    while end < len(text) and text[end:end + 2] != b'\x00\x00':
        end += 2
    strings[key] = text[j:end].decode('utf-16-le')
print(f'  fixed: FileVersion {fv}, ProductVersion {pv}')
for k, v in strings.items():
    print(f'  {k}: {v}')
bad = []
if fv != want + '.0' or pv != want + '.0':
    bad.append(f'fixed versions {fv} / {pv}, want {want}.0')
for k in ('FileDescription', 'LegalCopyright'):
    if not strings.get(k):
        bad.append('no ' + k)
for k in ('FileVersion', 'ProductVersion'):
    if not strings.get(k, '').startswith(want):
        bad.append(f'{k} string {strings.get(k)!r}, want {want}...')
if bad:
    sys.exit('VERSIONINFO: ' + '; '.join(bad))
