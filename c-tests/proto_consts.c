/*
 * proto_consts.c - prints the wire-protocol constants compiled into the library (dll/common/frame.h,
 * msg_wire.h, shm_layout.h), one "NAME = value" line each, for python-tests/test_protocol_doc.py,
 * which compares them with the `constants` blocks of docs/PROTOCOL.md (so the document cannot drift
 * from the code). Structure offsets come from offsetof on the real structures.
 */
#include <stddef.h>
#include <stdio.h>
#include "common/frame.h"
#include "common/msg_wire.h"
#include "common/shm_layout.h"

#define P(name) printf("%s = 0x%llx\n", #name, (unsigned long long)(name))
#define OFF(type, field) printf("offsetof(%s.%s) = 0x%llx\n", #type, #field, (unsigned long long)offsetof(type, field))
#define SIZE(type) printf("sizeof(%s) = 0x%llx\n", #type, (unsigned long long)sizeof(type))

int main(void)
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
    return 0;
}
