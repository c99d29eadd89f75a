#!/usr/bin/env python3
"""abi_mutate.py NAME - applies one ABI mutation of `scripts/abi-check --self-test` to the copy of the
library's sources in the current directory. Each mutation must get the verdict the self-test expects:

  removed-export      wipc_msg_list dropped from wipc.def                     -> FAIL
  reordered-fields    max_message_size and max_instances of wipc_pipe_options swapped -> FAIL
  field-type          queue_depth becomes uint64_t                            -> FAIL
  status-renumbered   WIPC_E_TIMEOUT (-4) becomes (-40)                       -> FAIL
  appended-field      a field appended to wipc_msg_options (a struct_size struct) -> PASS
"""
import re
import sys


def sub(path, old, new):
    s = open(path).read()
    if old not in s:
        sys.exit("self-test: pattern not found in " + path + ": " + old)
    open(path, "w").write(s.replace(old, new, 1))


def removed_export():
    sub('wipc.def', '    wipc_msg_list\n', '')


def reordered_fields():
    s = open('include/wipc.h').read()
    body = re.search(r'typedef struct wipc_pipe_options \{.*?\} wipc_pipe_options;', s, re.S).group(0)

    def member(f):
        return re.search(r'\n *uint32_t +' + f + r';[^\n]*?(?:\*/|\n(?:[^\n]*\n)*?[^\n]*\*/)', body).group(0)

    a, b = member('max_message_size'), member('max_instances')
    sub('include/wipc.h', body, body.replace(a, '\x00').replace(b, a).replace('\x00', b))


def field_type():
    s = open('include/wipc.h').read()
    a = re.search(r'uint32_t( +queue_depth;)', s)
    sub('include/wipc.h', a.group(0), 'uint64_t' + a.group(1))


def status_renumbered():
    s = open('include/wipc.h').read()
    a = re.search(r'#define WIPC_E_TIMEOUT +\(-4\)', s)
    sub('include/wipc.h', a.group(0), a.group(0).replace('(-4)', '(-40)'))


def appended_field():
    s = open('include/wipc.h').read()
    a = re.search(r'(typedef struct wipc_msg_options \{[^}]*)\}', s)
    sub('include/wipc.h', a.group(0), a.group(1) + '    uint32_t appended_in_1_1; /* self-test */\n}')


MUTATIONS = {
    'removed-export': removed_export,
    'reordered-fields': reordered_fields,
    'field-type': field_type,
    'status-renumbered': status_renumbered,
    'appended-field': appended_field,
}

if __name__ == '__main__':
    if len(sys.argv) != 2 or sys.argv[1] not in MUTATIONS:
        sys.exit('usage: abi_mutate.py ' + '|'.join(MUTATIONS))
    MUTATIONS[sys.argv[1]]()
