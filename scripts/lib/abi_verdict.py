#!/usr/bin/env python3
"""abi_verdict.py BINARY.xml SOURCE.xml WIPC_H - wipc's verdict on abi-compliance-checker's XML reports
(scripts/abi-check). Prints the allowed changes and every BREAK; exits 1 when anything breaks the ABI.

Allowed: a field appended at the end of a struct whose first member is `uint32_t struct_size` (with
the size change it implies), and renamed parameters (C has no named arguments). Anything else of
severity Low, Medium or High, and any removed symbol, is a BREAK.
"""
import re, sys, xml.etree.ElementTree as ET
binary, source, header = sys.argv[1:4]
hdr = open(header).read()
# structs that grow by struct_size: "typedef struct NAME {" followed by "uint32_t struct_size;"
growable = set(re.findall(r'typedef\s+struct\s+(\w+)\s*\{\s*uint32_t\s+struct_size\s*;', hdr))
bad = []
allowed = {}
for path in (binary, source):
    kind = 'binary' if path == binary else 'source'
    r = ET.parse(path).getroot()
    removed = [n.text for n in r.findall('./removed_symbols//name')]
    count = r.find('./problem_summary/removed_symbols')
    if count is not None and int(count.text or 0) and not removed:
        removed = [f'({count.text} symbols)']
    for n in sorted(set(x for x in removed if x)):
        bad.append(f'{kind}: removed symbol {n}')
    for sec in list(r.findall('problems_with_types')) + list(r.findall('problems_with_symbols')) + \
               list(r.findall('problems_with_constants')):
        sev = sec.get('severity')
        if sev == 'Safe':
            continue
        for owner in sec.iter():
            if owner.tag not in ('type', 'symbol', 'constant'):
                continue
            name = owner.get('name') or ''
            probs = [p for p in owner.findall('problem')]
            ids = [p.get('id') for p in probs]
            for p in probs:
                pid = p.get('id')
                tname = re.sub(r'^struct\s+', '', name)
                ok, why = False, 'appended to a struct_size struct'
                if sev == 'Low' and pid == 'Renamed_Parameter':
                    ok, why = True, 'C has no named arguments'
                elif sev == 'Low' and owner.tag == 'type' and tname in growable:
                    if pid in ('Added_Field_And_Size', 'Added_Field'):
                        ok = True
                    elif pid == 'DataType_Size' and 'Added_Field_And_Size' in ids:
                        ch = p.find('change')
                        ok = ch is not None and int(ch.get('new_size', 0)) > int(ch.get('old_size', 0))
                if ok:
                    key = f'{pid} ({why})' if pid == 'Renamed_Parameter' else f'{name}: {pid} ({why})'
                    allowed[(kind, key)] = allowed.get((kind, key), 0) + 1
                else:
                    ch = p.find('change')
                    txt = ' '.join((ch.text or '').split()) if ch is not None else ''
                    for k, v in (ch.attrib.items() if ch is not None else []):
                        txt = txt.replace('@' + k, str(v))
                    bad.append(f'{kind}: {sev}: {name}: {pid}: {txt}')
for (kind, key), n in sorted(allowed.items()):
    print(f'  allowed ({kind}): {key}' + (f' x{n}' if n > 1 else ''))
for b in bad:
    print('  BREAK ' + b)
sys.exit(1 if bad else 0)
