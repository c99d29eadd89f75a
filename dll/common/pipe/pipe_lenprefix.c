/*
 * pipe_lenprefix.c - what goes before a payload on a pipe connection, and the decoder of
 * WIPC_PIPE_LENGTH_PREFIX connections ("4-byte length + payload", the most common
 * home-made pipe protocol).
 *
 * A LENGTH_PREFIX connection is a RAW one (no handshake, read by the I/O thread) whose messages are
 * a 4-byte little-endian length and then that many payload bytes. The decoder ignores the pipe's own
 * message boundaries: a peer may write the length and the payload in separate writes, or trickle
 * them a byte at a time, on a byte- or message-mode pipe or an AF_UNIX stream.
 *  - The length is checked against max_message_size before anything is allocated for the payload:
 *    a larger claim (0xFFFFFFFF: 4 GiB) ends the connection (WIPC_E_TOO_LARGE, a WARN naming the
 *    peer; the server goes on serving others).
 *  - The payload's buffer grows as its bytes arrive (64 KiB, then doubling up to the length: wipc__conn_body_reserve),
 *    so a peer that claims 16 MiB and sends 10 bytes costs 64 KiB, not 16 MiB.
 *  - A length of 0 is a 0-byte message.
 * State (the I/O thread's): c->hdr / hdr_have hold the partial length; c->body (the message being
 * filled, its size the claimed length), body_have, body_cap.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/pipe/pipe.h"

size_t wipc__conn_prefix(const wipc__conn *c, uint8_t *out, uint8_t kind, uint64_t request_id, uint32_t type,
                         size_t size)
{
    if (c->lenprefix) {
        wipc__put_le32(out, (uint32_t)size); /* size <= max_message_size <= WIPC_MAX_MESSAGE_LIMIT */
        return WIPC__LP_HEADER;
    }
    if (c->raw)
        return 0;
    wipc__frame f = { kind, type, (uint32_t)size, request_id };
    wipc__frame_encode(out, &f);
    return WIPC__FRAME_HEADER;
}

/* Room for `need` bytes of the current payload (need <= its length). */
/* A whole length has arrived: check it, then start the message. false: the connection was ended. */
static bool lp_begin(wipc__conn *c)
{
    uint32_t len = wipc__get_le32(c->hdr);
    c->hdr_have = 0;
    if (len > c->obj.max_message_size) {
        char why[160];
        snprintf(why, sizeof why, "the peer (pid %u) announced a %lu-byte message, above max_message_size %u",
                 (unsigned)c->obj.peer_pid, (unsigned long)len, (unsigned)c->obj.max_message_size);
        wipc__conn_fail(c, WIPC_E_TOO_LARGE, why); /* logs a WARN, ends the connection */
        return false;
    }
    wipc__rxmsg *m = wipc__rxmsg_new(0);
    if (!m) {
        wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for a length-prefixed message");
        return false;
    }
    m->size = len; /* what it will hold; body_cap says what is allocated */
    m->peer_pid = c->obj.peer_pid;
    c->body = m;
    c->body_have = 0;
    c->body_cap = 0;
    return true;
}

bool wipc__lp_read(wipc__conn *c, const uint8_t *data, size_t n)
{
    bool pause = false;
    for (;;) {
        if (c->body && c->body_have == c->body->size) { /* a message is complete (0 bytes included) */
            wipc__rxmsg *m = c->body;
            c->body = NULL;
            c->body_have = c->body_cap = 0;
            if (wipc__inbox_deliver(&c->obj, WIPC__KIND_DATA, m))
                pause = true; /* the rest of this chunk is still delivered */
            continue;
        }
        if (n == 0 || c->state == WIPC__CONN_DEAD)
            return pause;
        if (!c->body) {
            size_t take = WIPC__LP_HEADER - c->hdr_have;
            if (take > n)
                take = n;
            memcpy(c->hdr + c->hdr_have, data, take);
            c->hdr_have += take;
            data += take;
            n -= take;
            if (c->hdr_have == WIPC__LP_HEADER && !lp_begin(c))
                return pause;
            continue;
        }
        size_t take = c->body->size - c->body_have;
        if (take > n)
            take = n;
        if (!wipc__conn_body_reserve(c, c->body_have + take, c->body->size)) {
            wipc__conn_fail(c, WIPC_E_NO_MEMORY, "out of memory for a length-prefixed message");
            return pause;
        }
        memcpy(c->body->data + c->body_have, data, take);
        c->body_have += take;
        data += take;
        n -= take;
    }
}
