/*
 * fuzz_msg - the msg transport's wire format (dll/common/msg/msg_wire.c: payload header, reply word,
 * packet prefix) and the receiving path of an endpoint (dll/common/msg/msg.c: wipc__core_msg_received
 * in queue mode, then wipc_recv), with the portable core linked in and the stub backend.
 *
 * Input: max_user (u32), a reply word (u64), then messages: [u8 kind][u16 len][len bytes]... where
 * kind selects the type tag, whether a valid header is put in front, and the claimed OS pid.
 * Invariants: validation never reads past the payload (exact-size heap copies), accepts only a
 * header of magic/version/size 16 with user bytes <= max_user, reply words round-trip, a queued
 * message comes back from wipc_recv with its type and bytes, and nothing leaks.
 */
#include "fz_common.h"
#include "stub_platform.h"
#include "common/core/frame.h"
#include "common/msg/msg_wire.h"
#include "wipc.h"

static wipc_handle g_ep;
static struct wipc__msg_ep *g_core_ep;

static void init(void)
{
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.max_message_size = 4096;
    o.queue_depth = 8;
    FZ_CHECK(wipc_msg_listen("fuzz-msg", &o, &g_ep) == WIPC_OK, "listen");
    g_core_ep = fz_last_ep;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_ep)
        init();
    fz_in in = { data, size };
    uint32_t max_user = fz_u32(&in);
    uint64_t word = fz_u64(&in);

    /* reply word: decoding anything is safe; encode/decode round-trips for every status */
    int32_t value = 0;
    wipc_status st = wipc__msg_reply_decode(word, &value);
    FZ_CHECK(st <= 0 && st >= -1000, "reply decode %d", (int)st);
    wipc_status want = -(wipc_status)((word >> 32) % 17);
    int32_t v2 = 0;
    FZ_CHECK(wipc__msg_reply_decode(wipc__msg_reply_encode(want, (int32_t)word), &v2) == want, "reply round trip");
    FZ_CHECK(want != WIPC_OK || v2 == (int32_t)word, "reply value round trip");

    uint8_t prefix[WIPC__MSG_PACKET_PREFIX];
    wipc__msg_prefix_encode(prefix, (uint32_t)word);
    FZ_CHECK(wipc__msg_prefix_type(prefix) == (uint32_t)word, "prefix round trip");

    int sent = 0;
    while (in.n >= 3) {
        uint8_t kind = fz_u8(&in);
        uint16_t len = (uint16_t)(fz_u8(&in) | fz_u8(&in) << 8);
        const uint8_t *b;
        size_t k = fz_bytes(&in, len, &b);
        size_t total = k + ((kind & 1) ? WIPC__MSG_HEADER : 0);
        uint8_t *payload = malloc(total ? total : 1);
        if (kind & 1) {
            wipc__msg_hdr_encode(payload, 1000 + kind);
            memcpy(payload + WIPC__MSG_HEADER, b, k);
        } else {
            memcpy(payload, b, k);
        }
        /* direct validation */
        wipc__msg_hdr hdr;
        size_t user = 0;
        char why[160] = "";
        st = wipc__msg_hdr_validate(total ? payload : NULL, total, max_user, &hdr, &user, why, sizeof why);
        if (st == WIPC_OK) {
            FZ_CHECK(total >= WIPC__MSG_HEADER && user == total - WIPC__MSG_HEADER && user <= max_user,
                     "validate sizes");
            FZ_CHECK(wipc__get_le32(payload) == WIPC__MSG_MAGIC && payload[4] == WIPC__MSG_VERSION &&
                         payload[5] == WIPC__MSG_HEADER,
                     "accepted a bad header");
        } else {
            FZ_CHECK(st == WIPC_E_PROTOCOL || st == WIPC_E_TOO_LARGE, "validate status %d", (int)st);
            FZ_CHECK(why[0], "no reason");
        }
        /* through the endpoint (queue mode) */
        uint64_t reply = wipc__core_msg_received(g_core_ep, (uint32_t)kind * 7u, total ? payload : NULL, total,
                                                 (kind & 2) ? 77u : 0u);
        int32_t rv = 0;
        wipc_status rs = wipc__msg_reply_decode(reply, &rv);
        FZ_CHECK(fz_status_ok(rs) && rv == 0, "endpoint reply %d/%d", (int)rs, (int)rv);
        if (rs == WIPC_OK) {
            sent++;
            FZ_CHECK(total >= WIPC__MSG_HEADER, "short payload accepted");
        }
        free(payload);
        if (sent >= 4 || (kind & 0x80)) {
            uint8_t buf[4096];
            for (;;) {
                wipc_message m;
                memset(&m, 0, sizeof m);
                m.struct_size = sizeof m;
                st = wipc_recv_message(g_ep, buf, sizeof buf, &m, 0);
                if (st != WIPC_OK)
                    break;
                FZ_CHECK(m.size <= 4096 && m.type % 7 == 0, "received %zu bytes type %u", m.size, m.type);
                sent--;
            }
            FZ_CHECK(st == WIPC_E_TIMEOUT && sent == 0, "drain: %d, %d left", (int)st, sent);
        }
    }
    /* leave the queue empty for the next input */
    for (;;) {
        uint8_t buf[4096];
        size_t n;
        if (wipc_recv(g_ep, buf, sizeof buf, &n, NULL, 0) != WIPC_OK)
            break;
    }
    return 0;
}
