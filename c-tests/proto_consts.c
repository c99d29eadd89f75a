/*
 * proto_consts.c - prints the wire-protocol constants compiled into the library (dll/common/core/frame.h,
 * msg_wire.h, shm_layout.h), one "NAME = value" line each, for python-tests/test_protocol_doc.py,
 * which compares them with the `constants` blocks of docs/PROTOCOL.md (so the document cannot drift
 * from the code). Structure offsets come from offsetof on the real structures.
 *
 * With a path (ctest passes docs/PROTOCOL.md) it checks the document itself, on every backend (the
 * mingw build under Wine too): each of its constants without a "file:" prefix must be one of these
 * with the same value, and each of these must be in the document. Exit status 1 on a difference.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "common/core/frame.h"
#include "common/msg/msg_wire.h"
#include "common/shm/shm_layout.h"

typedef struct konst {
    char name[64];
    unsigned long long value;
    int seen; /* found in the document */
} konst;

static konst table[128];
static int count;

static void add(const char *name, unsigned long long value)
{
    if (count < (int)(sizeof table / sizeof table[0])) {
        snprintf(table[count].name, sizeof table[count].name, "%s", name);
        table[count++].value = value;
    }
}

#define P(name)          add(#name, (unsigned long long)(name))
#define OFF(type, field) add("offsetof(" #type "." #field ")", (unsigned long long)offsetof(type, field))
#define SIZE(type)       add("sizeof(" #type ")", (unsigned long long)sizeof(type))

static void collect(void)
{
    /* pipe frames (frame.h) */
    P(WIPC__FRAME_MAGIC);
    P(WIPC__FRAME_VERSION);
    P(WIPC__FRAME_HEADER);
    P(WIPC__HELLO_SIZE);
    P(WIPC__ERROR_TEXT_MAX);
    P(WIPC__FRAME_DATA);
    P(WIPC__FRAME_REQUEST);
    P(WIPC__FRAME_REPLY);
    P(WIPC__FRAME_HELLO);
    P(WIPC__FRAME_BUSY);
    P(WIPC__FRAME_BULK);
    P(WIPC__FRAME_ERROR);
    P(WIPC__HELLO_BULK);
    P(WIPC__HELLO_BULK_SEALED);
    P(WIPC__HELLO_ERRORS);
    P(WIPC__BULK_DESC);
    P(WIPC__BULK_MAGIC);
    P(WIPC_MAX_MESSAGE_LIMIT);
    /* msg (msg_wire.h) */
    P(WIPC__MSG_MAGIC);
    P(WIPC__MSG_VERSION);
    P(WIPC__MSG_HEADER);
    P(WIPC__MSG_REPLY_MARK);
    P(WIPC__MSG_PACKET_PREFIX);
    P(WIPC__MSG_SIZE_LIMIT);
    /* shm channels (shm_layout.h) */
    P(WIPC__SHM_MAGIC);
    P(WIPC__SHM_LAYOUT_VERSION);
    P(WIPC__SHM_HEADER_SIZE);
    P(WIPC__SHM_RECORD_HEADER);
    P(WIPC__SHM_PAD);
    P(WIPC__SHM_MIN_CAPACITY);
    P(WIPC__SHM_MAX_CAPACITY);
    P(WIPC__SHM_STATE_CREATING);
    P(WIPC__SHM_STATE_READY);
    P(WIPC__SHM_STATE_CLOSED);
    P(WIPC__SHM_SIDE_ERRORS);
    P(WIPC__SHM_SIDE_STREAM);
    P(WIPC__SHM_SIDE_ASYM);
    P(WIPC__SHM_KIND_BEGIN);
    P(WIPC__SHM_KIND_PART);
    P(WIPC__SHM_STREAM_PREFIX);
    P(WIPC__SHM_SESSION_MASK);
    OFF(wipc__shm_header, magic);
    OFF(wipc__shm_header, layout_version);
    OFF(wipc__shm_header, header_size);
    OFF(wipc__shm_header, record_header);
    OFF(wipc__shm_header, capacity);
    OFF(wipc__shm_header, state);
    OFF(wipc__shm_header, session);
    OFF(wipc__shm_header, section_size);
    OFF(wipc__shm_header, creator);
    OFF(wipc__shm_header, opener);
    OFF(wipc__shm_header, ring);
    SIZE(wipc__shm_header);
    OFF(wipc__shm_side, ident);
    OFF(wipc__shm_side, max_message_size);
    OFF(wipc__shm_side, flags);
    SIZE(wipc__shm_side);
    OFF(wipc__shm_ring_ctl, head);
    OFF(wipc__shm_ring_ctl, tail);
    OFF(wipc__shm_ring_ctl, data_wait);
    OFF(wipc__shm_ring_ctl, space_wait);
    SIZE(wipc__shm_ring_ctl);
    OFF(wipc__shm_record, length);
    OFF(wipc__shm_record, kind);
    OFF(wipc__shm_record, session);
    OFF(wipc__shm_record, type);
    OFF(wipc__shm_record, pid);
    OFF(wipc__shm_record, request_id);
    SIZE(wipc__shm_record);
}

static char *trim(char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t' || p[n - 1] == '\r' || p[n - 1] == '\n'))
        p[--n] = 0;
    return p;
}

/* Compares the document's `constants` blocks with the table; returns the number of differences. */
static int check_doc(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("cannot open %s\n", path);
        return 1;
    }
    char line[512];
    int in_block = 0, bad = 0;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "```", 3)) {
            in_block = !in_block && !strncmp(line, "```constants", 12);
            continue;
        }
        char *hash = strchr(line, '#'), *eq = strchr(line, '=');
        if (hash)
            *hash = 0;
        if (!in_block || !eq || (hash && hash < eq))
            continue;
        *eq = 0;
        char *name = trim(line), *text = trim(eq + 1);
        if (strchr(name, ':'))
            continue; /* read from a source file: python-tests/test_protocol_doc.py checks those */
        konst *k = NULL;
        for (int i = 0; i < count && !k; i++)
            if (!strcmp(table[i].name, name))
                k = &table[i];
        char *end = NULL;
        unsigned long long v = strtoull(text, &end, 0);
        if (!k) {
            printf("%s: the document lists %s, which this program does not know\n", path, name);
            bad++;
        } else if (!end || *end || end == text || v != k->value) {
            printf("%s: %s = %s, the code has 0x%llx\n", path, name, text, k->value);
            bad++;
        } else {
            k->seen = 1;
        }
    }
    fclose(f);
    for (int i = 0; i < count; i++)
        if (!table[i].seen) {
            printf("%s: %s (0x%llx) is not in the document\n", path, table[i].name, table[i].value);
            bad++;
        }
    return bad;
}

int main(int argc, char **argv)
{
    collect();
    if (argc > 1) {
        int bad = check_doc(argv[1]);
        printf("%s: %d constants compared, %d differences\n", argv[1], count, bad);
        return bad ? 1 : 0;
    }
    for (int i = 0; i < count; i++)
        printf("%s = 0x%llx\n", table[i].name, table[i].value);
    return 0;
}
