/*
 * ring.c - the SPSC ring of framed records (layout and ordering rules in shm_layout.h).
 *
 * Every value read from the section is read once into a local and checked before use:
 *  - producer: tail must satisfy head - capacity <= tail <= head;
 *  - consumer: head must satisfy tail <= head <= tail + capacity, 8-byte aligned; a record's kind,
 *    length and request id must be possible and the record must end inside both the published
 *    span and the ring.
 */
#include <stdio.h>
#include <string.h>
#include "common/shm/ring.h"
#include "common/core/frame.h"

/* After an index store: whether the other side sleeps (or is about to) and must be woken. The index
 * store must be seen before the word is loaded (shm_layout.h, "Concurrency"): a full fence, unless the
 * peer's sleepers take the heavy side of an asymmetric fence (membarrier) that covers this process.
 * The peer's flags word is read at each publication (one load of a line nobody writes while the
 * channel runs), so a new opener without WIPC__SHM_SIDE_ASYM gets the fence at once. */
static bool take_waiter(const wipc__ring *r, _Atomic uint32_t *word)
{
    if (r->asym && (atomic_load_explicit(r->peer_flags, memory_order_relaxed) & WIPC__SHM_SIDE_ASYM))
        atomic_signal_fence(memory_order_seq_cst); /* the compiler keeps the order; the CPU is fenced by the sleeper */
    else
        atomic_thread_fence(memory_order_seq_cst); /* the index store above is seen before the flag load */
    if (atomic_load_explicit(word, memory_order_relaxed) == 0)
        return false;
    return atomic_exchange_explicit(word, 0, memory_order_seq_cst) != 0;
}

wipc__ring_rc wipc__ring_attach(wipc__ring *r, wipc__shm_ring_ctl *ctl, uint8_t *data, uint64_t cap, bool producer,
                                uint32_t max_len)
{
    memset(r, 0, sizeof *r);
    r->ctl = ctl;
    r->data = data;
    r->cap = cap;
    r->max_len = max_len;
    uint64_t head = atomic_load_explicit(&ctl->head, memory_order_acquire);
    uint64_t tail = atomic_load_explicit(&ctl->tail, memory_order_acquire);
    if (head - tail > cap || (head & 7u) || (tail & 7u))
        return WIPC__RING_CORRUPT;
    r->pos = producer ? head : tail;
    r->seen = producer ? tail : head;
    return WIPC__RING_OK;
}

/* ---- producer ------------------------------------------------------------------------------------ */

/* Free bytes, re-reading tail when the cached value is not enough. UINT64_MAX = corrupt tail. */
static uint64_t room(wipc__ring *r, uint64_t want)
{
    uint64_t used = r->pos - r->seen;
    if (r->cap - used >= want)
        return r->cap - used;
    uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
    if (r->pos - tail > r->cap || (tail & 7u))
        return UINT64_MAX;
    r->seen = tail;
    return r->cap - (r->pos - tail);
}

bool wipc__ring_writable(const wipc__ring *r, uint64_t rec)
{
    uint64_t tail = atomic_load_explicit(&r->ctl->tail, memory_order_acquire);
    uint64_t used = r->pos - tail;
    if (used > r->cap)
        return true; /* corrupt: let the caller find out */
    uint64_t off = r->pos & (r->cap - 1);
    uint64_t need = rec > r->cap - off ? (r->cap - off) : rec; /* the PAD first, if it must wrap */
    return r->cap - used >= need;
}

wipc__ring_rc wipc__ring_reserve(wipc__ring *r, uint64_t len, uint8_t **payload, bool *wake)
{
    uint64_t rec = wipc__ring_record_size(len);
    if (rec > r->cap)
        return WIPC__RING_TOO_LARGE;
    uint64_t off = r->pos & (r->cap - 1);
    uint64_t to_end = r->cap - off;
    if (rec > to_end) {
        uint64_t free_now = room(r, to_end);
        if (free_now == UINT64_MAX)
            return WIPC__RING_CORRUPT;
        if (free_now < to_end)
            return WIPC__RING_AGAIN;
        uint32_t pad = WIPC__SHM_PAD;
        memcpy(r->data + off, &pad, sizeof pad);
        r->pos += to_end;
        atomic_store_explicit(&r->ctl->head, r->pos, memory_order_release);
        if (take_waiter(r, &r->ctl->data_wait))
            *wake = true;
        off = 0;
    }
    uint64_t free_now = room(r, rec);
    if (free_now == UINT64_MAX)
        return WIPC__RING_CORRUPT;
    if (free_now < rec)
        return WIPC__RING_AGAIN;
    r->open_rec = rec;
    *payload = r->data + off + WIPC__SHM_RECORD_HEADER;
    return WIPC__RING_OK;
}

bool wipc__ring_commit(wipc__ring *r, uint8_t kind, uint32_t type, uint64_t request_id, uint32_t len)
{
    /* The header as three little-endian 64-bit words stored straight into the ring (shm_layout.h:
     * length | kind << 32 | session << 40, type | pid << 32, request_id). Built in a struct on the
     * stack and copied, it was written in 4- and 8-byte pieces and read back as one 16-byte load:
     * a store-forwarding stall on every message (perf annotate: most of this function's samples). */
    _Static_assert(sizeof(wipc__shm_record) == 3 * sizeof(uint64_t), "three words");
    volatile uint64_t *dst = (volatile uint64_t *)(r->data + (r->pos & (r->cap - 1))); /* 8-byte aligned; volatile: */
    dst[0] = (uint64_t)len | (uint64_t)kind << 32 | (uint64_t)(r->session & WIPC__SHM_SESSION_MASK) << 40;
    dst[1] = (uint64_t)type | (uint64_t)r->pid << 32; /* three plain stores, */
    dst[2] = request_id; /* never merged again */
    r->pos += wipc__ring_record_size(len);
    r->open_rec = 0;
    atomic_store_explicit(&r->ctl->head, r->pos, memory_order_release);
    return take_waiter(r, &r->ctl->data_wait);
}

/* ---- consumer ------------------------------------------------------------------------------------ */

bool wipc__ring_readable(const wipc__ring *r)
{
    return atomic_load_explicit(&r->ctl->head, memory_order_acquire) != r->pos;
}

/* Bytes published and not consumed, re-reading head when the cache is empty. UINT64_MAX = corrupt. */
static uint64_t avail(wipc__ring *r)
{
    uint64_t have = r->seen - r->pos;
    if (have)
        return have;
    uint64_t head = atomic_load_explicit(&r->ctl->head, memory_order_acquire);
    if (head - r->pos > r->cap || (head & 7u))
        return UINT64_MAX;
    r->seen = head;
    return head - r->pos;
}

static wipc__ring_rc corrupt(char *why, size_t cap, const char *fmt, unsigned long long a, unsigned long long b)
{
    snprintf(why, cap, fmt, a, b);
    return WIPC__RING_CORRUPT;
}

static wipc__ring_rc check_record(const wipc__ring *r, const wipc__shm_record *h, uint64_t have, uint64_t to_end,
                                  char *why, size_t why_cap)
{
    /* a streamed message's BEGIN carries its kind under the BEGIN bit; a PART has no id, like DATA */
    uint8_t base = h->kind == WIPC__SHM_KIND_PART ? WIPC__FRAME_DATA : (uint8_t)(h->kind & ~WIPC__SHM_KIND_BEGIN);
    if ((base < WIPC__FRAME_DATA || base > WIPC__FRAME_REPLY) && base != WIPC__FRAME_ERROR)
        return corrupt(why, why_cap,
                       "record kind %llu at ring index %llu is not DATA, REQUEST, REPLY, ERROR or a streamed piece",
                       h->kind, r->pos);
    if ((base == WIPC__FRAME_DATA) != (h->request_id == 0))
        return corrupt(why, why_cap, "record kind %llu at ring index %llu has a request id that does not fit it",
                       h->kind, r->pos);
    if ((h->kind & WIPC__SHM_KIND_BEGIN) && h->length < WIPC__SHM_STREAM_PREFIX)
        return corrupt(why, why_cap,
                       "streamed message at ring index %llu: its first piece of %llu bytes has no total length", r->pos,
                       h->length);
    if (h->length > r->max_len) {
        snprintf(why, why_cap, "record of %lu bytes is above this side's max_message_size %lu",
                 (unsigned long)h->length, (unsigned long)r->max_len);
        return WIPC__RING_TOO_LARGE;
    }
    uint64_t rec = wipc__ring_record_size(h->length);
    if (rec > to_end || rec > have)
        return corrupt(why, why_cap, "record of %llu bytes overruns the published data (%llu bytes)", h->length,
                       have < to_end ? have : to_end);
    return WIPC__RING_OK;
}

wipc__ring_rc wipc__ring_peek(wipc__ring *r, wipc__ring_rec *out, bool *wake, char *why, size_t why_cap)
{
    for (;;) {
        uint64_t have = avail(r);
        if (have == UINT64_MAX)
            return corrupt(why, why_cap, "the producer's index is impossible (consumer at %llu, capacity %llu)", r->pos,
                           r->cap);
        if (have == 0)
            return WIPC__RING_AGAIN;
        uint64_t off = r->pos & (r->cap - 1);
        uint64_t to_end = r->cap - off;
        uint32_t length;
        memcpy(&length, r->data + off, sizeof length);
        if (length == WIPC__SHM_PAD) {
            if (to_end > have)
                return corrupt(why, why_cap, "PAD marker at ring index %llu covers %llu unpublished bytes", r->pos,
                               to_end - have);
            r->pos += to_end;
            atomic_store_explicit(&r->ctl->tail, r->pos, memory_order_release);
            if (take_waiter(r, &r->ctl->space_wait))
                *wake = true;
            continue;
        }
        if (to_end < WIPC__SHM_RECORD_HEADER || have < WIPC__SHM_RECORD_HEADER)
            return corrupt(why, why_cap, "a record header at ring index %llu does not fit (%llu bytes)", r->pos,
                           have < to_end ? have : to_end);
        wipc__shm_record h;
        memcpy(&h, r->data + off, sizeof h);
        h.length = length; /* the value already judged above, not a second read */
        wipc__ring_rc rc = check_record(r, &h, have, to_end, why, why_cap);
        out->kind = h.kind;
        out->type = h.type;
        out->length = h.length;
        out->request_id = h.request_id;
        out->session = (uint32_t)h.session[0] | (uint32_t)h.session[1] << 8 | (uint32_t)h.session[2] << 16;
        out->pid = h.pid;
        out->payload = r->data + off + WIPC__SHM_RECORD_HEADER;
        if (rc == WIPC__RING_OK)
            r->open_rec = wipc__ring_record_size(h.length);
        return rc;
    }
}

bool wipc__ring_release(wipc__ring *r)
{
    r->pos += r->open_rec;
    r->open_rec = 0;
    atomic_store_explicit(&r->ctl->tail, r->pos, memory_order_release);
    return take_waiter(r, &r->ctl->space_wait);
}
