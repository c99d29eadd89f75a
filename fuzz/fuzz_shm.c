/*
 * fuzz_shm - a shm channel section written by a hostile peer, read through the public API with the
 * whole portable core linked in (dll/common/ sources) and the stub backend (stub_platform.c).
 *
 * Input: a control byte (bit 0: act as the creator instead of the opener; bit 1: zero-copy reads;
 * bit 2: small max_message_size; bit 3, opener: a racing write), a capacity selector, a section-size
 * selector, with bit 3 a racing write (u8 header offset / 8, u8 length 1..16 and those bytes: the
 * peer rewrites the header after wipc_shm_open validated it and before it binds the rings:
 * a capacity re-read there ran the rings past the section), then the section bytes: the 704-byte
 * header, then ring 0 and ring 1 data (zero-filled where the input ends).
 *  - opener: the section is what wipc_shm_open maps: header validation (magic, version, sizes,
 *    capacity, state), the opener-slot claim, ring attach, then up to 64 reads and a few sends.
 *  - creator: wipc_shm_create makes a zeroed section, then the input overwrites the opener's side
 *    of the header and the opener-to-creator ring (everything the peer may write), then reads.
 * Invariants: no crash or out-of-bounds access (the section is a heap block of exactly its size),
 * every status is a defined one, a message read fits what was asked, and everything is freed.
 */
#include "fz_common.h"
#include "stub_platform.h"
#include "common/shm/shm_layout.h"
#include "wipc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    uint8_t ctl = fz_u8(&in);
    uint64_t cap = 4096u << (fz_u8(&in) & 3);
    uint8_t size_sel = fz_u8(&in);
    bool creator = ctl & 1, zc = ctl & 2;
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.spin_us = 0;
    o.capacity = cap;
    if (ctl & 4)
        o.max_message_size = 100;

    uint64_t full = WIPC__SHM_HEADER_SIZE + 2 * cap;
    const uint8_t *race = NULL;
    size_t race_len = 0, race_off = 0;
    if (ctl & 8) {
        race_off = (size_t)fz_u8(&in) * 8 % sizeof(wipc__shm_header);
        race_len = fz_bytes(&in, 1 + fz_u8(&in) % 16, &race);
    }
    uint8_t *sec = NULL;
    wipc_handle h = 0;
    wipc_status st;
    if (!creator) {
        uint64_t sz = full;
        switch (size_sel % 6) {
        case 1:
            sz = 0;
            break;
        case 2:
            sz = 704;
            break;
        case 3:
            sz = WIPC__SHM_HEADER_SIZE;
            break;
        case 4:
            sz = full - 8;
            break;
        case 5:
            sz = full + 4096;
            break;
        }
        sec = calloc(1, sz ? sz : 1);
        const uint8_t *b;
        size_t k = fz_bytes(&in, sz, &b);
        /* the header as given; the rings right after the 4 KiB header page */
        size_t hk = k < sizeof(wipc__shm_header) ? k : sizeof(wipc__shm_header);
        memcpy(sec, b, hk < sz ? hk : sz);
        if (k > hk && sz > WIPC__SHM_HEADER_SIZE) {
            size_t room = (size_t)(sz - WIPC__SHM_HEADER_SIZE);
            size_t rk = k - hk < room ? k - hk : room;
            memcpy(sec + WIPC__SHM_HEADER_SIZE, b + hk, rk);
        }
        fz_next_section = sec;
        fz_next_section_size = sz;
        fz_race_bytes = race;
        fz_race_len = race_len;
        fz_race_off = race_off;
        st = wipc_shm_open("fuzz", &o, 0, &h);
        fz_next_section = NULL;
        fz_race_len = 0;
        FZ_LOG("open: %d %s\n", (int)st, st ? wipc_last_error_message() : "");
        FZ_CHECK(fz_status_ok(st), "open status %d", (int)st);
        FZ_CHECK(st == WIPC_OK || h == 0, "handle on failure");
        FZ_CHECK(st == WIPC_OK || wipc_last_error_message()[0], "no error message");
    } else {
        st = wipc_shm_create("fuzz", &o, &h);
        FZ_CHECK(st == WIPC_OK, "create: %d %s", (int)st, wipc_last_error_message());
        uint8_t *base = fz_last_created;
        wipc__shm_header *hd = (wipc__shm_header *)base;
        /* the peer writes: its side of the header, the session word, its ring's indices and data */
        const uint8_t *b;
        size_t k = fz_bytes(&in, 8, &b);
        uint64_t ident = 0;
        memcpy(&ident, b, k);
        atomic_store(&hd->opener.ident, ident);
        atomic_store(&hd->opener.max_message_size, fz_u32(&in));
        atomic_store(&hd->session, fz_u32(&in));
        atomic_store(&hd->ring[WIPC__SHM_RING_O2C].head, fz_u64(&in));
        atomic_store(&hd->ring[WIPC__SHM_RING_C2O].tail, fz_u64(&in));
        if (size_sel & 1)
            atomic_store(&hd->state, fz_u32(&in));
        k = fz_bytes(&in, cap, &b);
        memcpy(base + WIPC__SHM_HEADER_SIZE + cap, b, k);
    }

    if (st == WIPC_OK) {
        uint8_t buf[512];
        for (int i = 0; i < 64; i++) {
            if (zc) {
                const void *p = NULL;
                size_t n = 0;
                uint32_t type = 0;
                st = wipc_shm_peek(h, &p, &n, &type, 0);
                FZ_CHECK(fz_status_ok(st), "peek status %d", (int)st);
                FZ_LOG("peek: %d size %zu\n", (int)st, n);
                if (st != WIPC_OK)
                    break;
                volatile uint8_t sink = 0;
                for (size_t j = 0; j < n; j++)
                    sink ^= ((const uint8_t *)p)[j];
                (void)sink;
                FZ_CHECK(wipc_shm_release(h) == WIPC_OK, "release after a peek");
            } else {
                wipc_message m;
                memset(&m, 0, sizeof m);
                m.struct_size = sizeof m;
                st = wipc_recv_message(h, buf, sizeof buf, &m, 0);
                FZ_CHECK(fz_status_ok(st), "recv status %d", (int)st);
                FZ_LOG("recv: %d size %zu type %u id %llu %s\n", (int)st, m.size, m.type,
                       (unsigned long long)m.request_id, st ? wipc_last_error_message() : "");
                if (st == WIPC_E_BUFFER_TOO_SMALL) {
                    FZ_CHECK(m.size > sizeof buf, "BUFFER_TOO_SMALL for %zu bytes", m.size);
                    uint8_t *big = malloc(m.size);
                    st = wipc_recv_message(h, big, m.size, &m, 0);
                    free(big);
                }
                if (st != WIPC_OK)
                    break;
                FZ_CHECK(m.data == buf || m.size > sizeof buf, "data pointer");
                /* no wipc_reply here: it waits without a timeout for room in a ring that a live
                 * peer may keep full forever (documented), which is a hang by design, not a bug */
            }
        }
        uint8_t small[64] = { 0 };
        for (int i = 0; i < 3; i++) {
            st = wipc_send(h, 7, small, sizeof small, 0);
            FZ_CHECK(fz_status_ok(st), "send status %d", (int)st);
        }
        wipc_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        FZ_CHECK(wipc_get_info(h, &info) == WIPC_OK, "get_info");
        FZ_CHECK(wipc_close(h) == WIPC_OK, "close");
    }
    free(sec);
    return 0;
}
