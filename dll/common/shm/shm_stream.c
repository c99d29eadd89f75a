/*
 * shm_stream.c - receiving streamed messages: a message larger than the ring arrives as a BEGIN
 * record and PART records (shm_layout.h, "Streaming"); the reader-role holder assembles it here and
 * hands the whole message to shm_read.c, which delivers it like a record read from the ring.
 *
 * The peer is untrusted: the total length in the BEGIN is read once and checked against this
 * side's max_message_size before anything is allocated; at most one message is assembled at a
 * time (a new BEGIN, or any other record, drops an incomplete one: its writer gave up or died);
 * a piece that would run past the total is corruption. Nothing partial is ever delivered.
 * A DATA or REQUEST message read by a wipc_recv whose buffer holds it is assembled straight in that
 * buffer (one copy out of the ring, not two); should that receive end first (timeout, close, error),
 * the part assembled moves to an allocation of its own (wipc__shm_stream_unborrow) for the next
 * reader. Until the message is whole the caller's buffer holds only bytes no call returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/shm/shm.h"

/* Frees rx_part or rx_whole (never the caller's buffer it may be assembled in). */
static void part_free(wipc__shm_chan *c, wipc__rxmsg *m)
{
    if (c->rx_in_caller)
        m->data = NULL;
    c->rx_in_caller = false;
    wipc__rxmsg_free(m);
}

void wipc__shm_stream_drop(wipc__shm_chan *c, const char *why)
{
    if (!c->rx_part)
        return;
    wipc__log(WIPC_LOG_DEBUG, "shm %s: dropped a streamed message of %llu bytes after %llu (%s)", c->obj.name,
              (unsigned long long)c->rx_part->size, (unsigned long long)c->rx_part_have, why);
    part_free(c, c->rx_part);
    c->rx_part = NULL;
    c->rx_part_have = 0;
}

wipc_status wipc__shm_stream_unborrow(wipc__shm_chan *c, const char *fn)
{
    if (!c->rx_in_caller)
        return WIPC_OK;
    wipc__rxmsg *m = c->rx_part ? c->rx_part : c->rx_whole;
    size_t have = c->rx_part ? c->rx_part_have : m->size;
    uint8_t *own = malloc(m->size ? m->size : 1);
    if (!own) {
        if (c->rx_part) {
            wipc__shm_stream_drop(c, "no memory to keep it");
        } else {
            part_free(c, c->rx_whole);
            c->rx_whole = NULL;
            c->rx_from_whole = false;
        }
        return wipc__shm_fail(c, WIPC_E_NO_MEMORY, fn, "out of memory for a streamed message being received");
    }
    memcpy(own, m->data, have);
    m->data = own;
    c->rx_in_caller = false;
    return WIPC_OK;
}

/* Describes the assembled rx_whole as the record being delivered. */
static void whole_rec(wipc__shm_chan *c, wipc__ring_rec *rec, uint32_t *pid)
{
    wipc__rxmsg *m = c->rx_whole;
    memset(rec, 0, sizeof *rec);
    rec->kind = c->rx_whole_kind;
    rec->type = m->type;
    rec->length = (uint32_t)m->size;
    rec->request_id = m->request_id;
    rec->pid = m->peer_pid;
    rec->payload = m->data;
    *pid = m->peer_pid;
    c->rx_from_whole = true;
}

bool wipc__shm_stream_pending(wipc__shm_chan *c, wipc__ring_rec *rec, uint32_t *pid)
{
    if (!c->rx_whole)
        return false;
    whole_rec(c, rec, pid);
    return true;
}

wipc__rxmsg *wipc__shm_stream_steal(wipc__shm_chan *c, const wipc__ring_rec *rec, uint32_t pid)
{
    if (!c->rx_from_whole || !c->rx_whole || rec->payload != c->rx_whole->data || c->rx_in_caller)
        return NULL;
    wipc__rxmsg *m = c->rx_whole;
    c->rx_whole = NULL;
    m->peer_pid = pid;
    return m;
}

/* The piece in rec (payload bytes from `from`) is copied into rx_part and released from the ring. */
static int take_piece(wipc__shm_chan *c, wipc__ring_rec *rec, uint32_t from, uint32_t *pid, wipc_status *st,
                      const char *fn)
{
    uint32_t n = rec->length - from;
    if (n > c->rx_part->size - c->rx_part_have) {
        char why[160];
        snprintf(why, sizeof why, "a streamed message's piece of %lu bytes runs past its announced %llu bytes",
                 (unsigned long)n, (unsigned long long)c->rx_part->size);
        wipc__shm_stream_drop(c, "corrupt");
        *st = wipc__shm_fail(c, WIPC_E_PROTOCOL, fn, why);
        return WIPC__STREAM_ERROR;
    }
    if (n)
        memcpy(c->rx_part->data + c->rx_part_have, rec->payload + from, n);
    c->rx_part_have += n;
    wipc__shm_rx_release(c);
    if (c->rx_part_have < c->rx_part->size)
        return WIPC__STREAM_TAKEN;
    c->rx_whole = c->rx_part;
    c->rx_whole_kind = c->rx_part_kind;
    c->rx_part = NULL;
    c->rx_part_have = 0;
    whole_rec(c, rec, pid);
    return WIPC__STREAM_WHOLE;
}

int wipc__shm_stream_rx(wipc__shm_chan *c, wipc__ring_rec *rec, uint32_t *pid, wipc_status *st, const char *fn,
                        void *buf, size_t cap)
{
    c->rx_from_whole = false;
    if (rec->kind == WIPC__SHM_KIND_PART) {
        if (!c->rx_part) { /* the rest of a message whose beginning an earlier reader took, or that was dropped */
            wipc__shm_rx_release(c);
            return WIPC__STREAM_TAKEN;
        }
        return take_piece(c, rec, 0, pid, st, fn);
    }
    if (c->rx_part)
        wipc__shm_stream_drop(c, "its writer gave up or left: another record followed");
    if (!(rec->kind & WIPC__SHM_KIND_BEGIN))
        return WIPC__STREAM_PLAIN;
    uint64_t total; /* read once; the ring checked that the BEGIN payload holds it */
    memcpy(&total, rec->payload, sizeof total);
    char why[200];
    if (total > c->obj.max_message_size) {
        snprintf(why, sizeof why, "a streamed message announces %llu bytes, above this side's max_message_size %lu",
                 (unsigned long long)total, (unsigned long)c->obj.max_message_size);
        *st = wipc__shm_fail(c, WIPC_E_TOO_LARGE, fn, why);
        return WIPC__STREAM_ERROR;
    }
    uint8_t base = (uint8_t)(rec->kind & ~WIPC__SHM_KIND_BEGIN);
    bool in_caller = buf && total <= cap && (base == WIPC__KIND_DATA || base == WIPC__KIND_REQUEST);
    wipc__rxmsg *m = wipc__rxmsg_new(in_caller ? 0 : (size_t)total);
    if (m && in_caller) {
        m->size = (size_t)total;
        m->data = buf;
        c->rx_in_caller = true;
    }
    if (!m) {
        snprintf(why, sizeof why, "out of memory for a streamed message of %llu bytes", (unsigned long long)total);
        *st = wipc__shm_fail(c, WIPC_E_NO_MEMORY, fn, why);
        return WIPC__STREAM_ERROR;
    }
    m->type = rec->type;
    m->request_id = rec->request_id;
    m->peer_pid = *pid;
    c->rx_part = m;
    c->rx_part_kind = (uint8_t)(rec->kind & ~WIPC__SHM_KIND_BEGIN);
    c->rx_part_have = 0;
    return take_piece(c, rec, WIPC__SHM_STREAM_PREFIX, pid, st, fn);
}

/* Frees the record just delivered (the ring's, or the assembled rx_whole). */
void wipc__shm_rx_release(wipc__shm_chan *c)
{
    if (c->rx_from_whole) { /* an assembled streamed message (shm_stream.c), not a ring record */
        c->rx_from_whole = false;
        part_free(c, c->rx_whole);
        c->rx_whole = NULL;
        return;
    }
    if (wipc__ring_release(&c->rx))
        wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_SPACE(c->rx_index), &c->hdr->ring[c->rx_index].space_wait);
}
