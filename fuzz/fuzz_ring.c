/*
 * fuzz_ring - the shm ring (dll/common/shm/ring.c) as the consumer and the producer see it when the
 * other side is hostile: the shared head/tail indices and the records can change between any two
 * calls.
 *
 * Input: capacity selector (4..32 KiB), max_len, initial head and tail, an operation script
 * (11 bytes per op: code, u16 arg, u64 value), and the rest fills the ring data.
 * Ops: consumer peek / release, producer reserve / commit, and scribbles on head, tail, a data word.
 * Invariants: no access outside the data block (it is a heap block of exactly `capacity` bytes, so
 * ASan catches any), a peeked record is a known kind (or a streamed piece) with a consistent request id, at most max_len
 * bytes and entirely inside the ring; a reservation lies inside the ring; CORRUPT is sticky enough
 * that the harness never has to trust the indices.
 */
#include "fz_common.h"
#include "common/shm/ring.h"
#include "common/core/frame.h"

enum { OP_PEEK, OP_RELEASE, OP_RESERVE, OP_COMMIT, OP_SET_HEAD, OP_SET_TAIL, OP_POKE, OP_QUERY, OP_COUNT };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    uint64_t cap = 4096u << (fz_u8(&in) & 3);
    uint32_t max_len = fz_u32(&in);
    uint64_t head = fz_u64(&in), tail = fz_u64(&in);
    unsigned nops = fz_u8(&in) % 64;
    const uint8_t *ops;
    size_t ops_len = fz_bytes(&in, (size_t)nops * 11, &ops);
    nops = (unsigned)(ops_len / 11);

    wipc__shm_ring_ctl *ctl = calloc(1, sizeof *ctl);
    uint8_t *ring = malloc(cap);
    const uint8_t *fill;
    size_t fn = fz_bytes(&in, in.n, &fill);
    for (uint64_t i = 0; i < cap; i++)
        ring[i] = fn ? fill[i % fn] : 0;
    atomic_store(&ctl->head, head);
    atomic_store(&ctl->tail, tail);

    wipc__ring cons, prod;
    bool cons_ok = wipc__ring_attach(&cons, ctl, ring, cap, false, max_len) == WIPC__RING_OK;
    bool prod_ok = wipc__ring_attach(&prod, ctl, ring, cap, true, 0) == WIPC__RING_OK;
    bool peeked = false, reserved = false;
    uint64_t reserved_len = 0;
    volatile uint8_t sink = 0;

    for (unsigned k = 0; k < nops; k++) {
        const uint8_t *op = ops + 11 * k;
        unsigned code = op[0] % OP_COUNT;
        unsigned arg = (unsigned)op[1] | (unsigned)op[2] << 8;
        uint64_t v;
        memcpy(&v, op + 3, 8);
        char why[200];
        bool wake = false;
        switch (code) {
        case OP_PEEK: {
            if (!cons_ok || peeked)
                break;
            wipc__ring_rec rec;
            why[0] = '\0';
            wipc__ring_rc rc = wipc__ring_peek(&cons, &rec, &wake, why, sizeof why);
            if (rc == WIPC__RING_OK) {
                /* a streamed message's BEGIN carries its kind under WIPC__SHM_KIND_BEGIN and at least the
                 * 8-byte total; a PART has no request id */
                uint8_t base =
                    rec.kind == WIPC__SHM_KIND_PART ? WIPC__FRAME_DATA : (uint8_t)(rec.kind & ~WIPC__SHM_KIND_BEGIN);
                FZ_CHECK((base >= WIPC__FRAME_DATA && base <= WIPC__FRAME_REPLY) || base == WIPC__FRAME_ERROR,
                         "kind %u", rec.kind); /* ERROR (1.1): a reply carrying an error */
                FZ_CHECK((base == WIPC__FRAME_DATA) == (rec.request_id == 0), "request id vs kind");
                FZ_CHECK(!(rec.kind & WIPC__SHM_KIND_BEGIN) || rec.length >= WIPC__SHM_STREAM_PREFIX,
                         "BEGIN without its total");
                FZ_CHECK(rec.length <= max_len, "length %u above max_len %u", rec.length, max_len);
                FZ_CHECK(rec.payload >= ring + WIPC__SHM_RECORD_HEADER && rec.payload + rec.length <= ring + cap,
                         "record outside the ring");
                for (uint32_t i = 0; i < rec.length; i++) /* the caller will read every byte */
                    sink ^= rec.payload[i];
                peeked = true;
            } else if (rc == WIPC__RING_CORRUPT || rc == WIPC__RING_TOO_LARGE) {
                FZ_CHECK(why[0] != '\0', "no reason for rc %d", (int)rc);
                cons_ok = false; /* the channel would be ended here */
            }
            break;
        }
        case OP_RELEASE:
            if (cons_ok && peeked) {
                wipc__ring_release(&cons);
                peeked = false;
            }
            break;
        case OP_RESERVE: {
            if (!prod_ok || reserved)
                break;
            uint64_t len = v % (cap + 64);
            uint8_t *payload = NULL;
            wipc__ring_rc rc = wipc__ring_reserve(&prod, len, &payload, &wake);
            if (rc == WIPC__RING_OK) {
                FZ_CHECK(payload >= ring + WIPC__SHM_RECORD_HEADER && payload + len <= ring + cap,
                         "reservation outside the ring");
                memset(payload, 0xA5, (size_t)len); /* the caller writes all of it */
                reserved = true;
                reserved_len = len;
            } else if (rc == WIPC__RING_CORRUPT) {
                prod_ok = false;
            } else {
                FZ_CHECK(rc == WIPC__RING_AGAIN || (rc == WIPC__RING_TOO_LARGE && wipc__ring_record_size(len) > cap),
                         "reserve rc %d", (int)rc);
            }
            break;
        }
        case OP_COMMIT:
            if (prod_ok && reserved) {
                uint32_t len = (uint32_t)(reserved_len ? v % (reserved_len + 1) : 0);
                uint8_t kind = (uint8_t)(1 + arg % 3);
                wipc__ring_commit(&prod, kind, (uint32_t)v, kind == WIPC__FRAME_DATA ? 0 : (v | 1), len);
                reserved = false;
            }
            break;
        case OP_SET_HEAD:
            atomic_store(&ctl->head, (arg & 1) ? v : atomic_load(&ctl->head) + (v & 0xfff8));
            break;
        case OP_SET_TAIL:
            atomic_store(&ctl->tail, (arg & 1) ? v : atomic_load(&ctl->tail) + (v & 0xfff8));
            break;
        case OP_POKE: {
            uint64_t off = (v % cap) & ~(uint64_t)3;
            uint32_t w = (uint32_t)(v >> 32);
            if (arg & 1)
                w = WIPC__SHM_PAD;
            memcpy(ring + off, &w, 4);
            break;
        }
        case OP_QUERY:
            if (cons_ok)
                sink ^= (uint8_t)wipc__ring_readable(&cons);
            if (prod_ok)
                sink ^= (uint8_t)wipc__ring_writable(&prod, wipc__ring_record_size(v % cap));
            break;
        }
    }
    (void)sink;
    free(ring);
    free(ctl);
    return 0;
}
