/*
 * fuzz_frame - the pipe frame header and HELLO decoders (dll/common/core/frame.c).
 *
 * Input: 24 header bytes, a u32 max_length, then a HELLO payload of any size.
 * Invariants: decode never reads past its 24 bytes (ASan), a rejected header gives
 * WIPC_E_PROTOCOL / WIPC_E_TOO_LARGE with a reason, an accepted one has a known kind, a request id
 * exactly for REQUEST/REPLY, length <= max_length, and re-encodes to the same 24 bytes. An accepted
 * HELLO is 16 bytes of protocol 1 with a max_message_size in 1..1 GiB and round-trips.
 */
#include "fz_common.h"
#include "common/core/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    const uint8_t *h;
    size_t got = fz_bytes(&in, WIPC__FRAME_HEADER, &h);
    uint8_t *hdr = malloc(WIPC__FRAME_HEADER); /* exactly 24 bytes: ASan sees any over-read */
    memset(hdr, 0, WIPC__FRAME_HEADER);
    memcpy(hdr, h, got);
    uint32_t max_length = fz_u32(&in);

    wipc__frame f;
    char why[160] = "";
    wipc_status st = wipc__frame_decode(hdr, max_length, &f, why, sizeof why);
    if (st == WIPC_OK) {
#ifdef WIPC__FRAME_ERROR
        /* ERROR (1.1): a reply carrying an error: a request id, at most WIPC__ERROR_TEXT_MAX bytes of text */
        FZ_CHECK((f.kind >= WIPC__FRAME_DATA && f.kind <= WIPC__FRAME_BULK) || f.kind == WIPC__FRAME_ERROR, "kind %u",
                 f.kind);
        FZ_CHECK(f.kind != WIPC__FRAME_ERROR || (f.request_id != 0 && f.length <= WIPC__ERROR_TEXT_MAX), "ERROR frame");
#endif
#ifdef WIPC__FRAME_BULK
        /* BULK stands for a large DATA / REQUEST / REPLY: any request id, a fixed-size descriptor */
#  ifndef WIPC__FRAME_ERROR
        FZ_CHECK(f.kind >= WIPC__FRAME_DATA && f.kind <= WIPC__FRAME_BULK, "kind %u", f.kind);
#  endif
        FZ_CHECK(f.kind != WIPC__FRAME_BULK || f.length == WIPC__BULK_DESC, "BULK length %u", f.length);
        if (f.kind != WIPC__FRAME_BULK)
#else
        FZ_CHECK(f.kind >= WIPC__FRAME_DATA && f.kind <= WIPC__FRAME_BUSY, "kind %u", f.kind);
#endif
            FZ_CHECK((f.kind == WIPC__FRAME_REQUEST || f.kind == WIPC__FRAME_REPLY || f.kind == WIPC__FRAME_ERROR) ==
                         (f.request_id != 0),
                     "request id");
        FZ_CHECK(f.length <= max_length, "length %u > max %u", f.length, max_length);
        FZ_CHECK(f.kind != WIPC__FRAME_HELLO || f.length == WIPC__HELLO_SIZE, "HELLO length");
        FZ_CHECK(f.kind != WIPC__FRAME_BUSY || f.length == 0, "BUSY length");
        uint8_t again[WIPC__FRAME_HEADER];
        wipc__frame_encode(again, &f);
        FZ_CHECK(memcmp(again, hdr, sizeof again) == 0, "an accepted header does not re-encode to itself");
    } else {
        FZ_CHECK(st == WIPC_E_PROTOCOL || st == WIPC_E_TOO_LARGE, "status %d", (int)st);
        FZ_CHECK(why[0] != '\0' && memchr(why, 0, sizeof why) != NULL, "no reason given");
    }

    /* HELLO payload: the rest, in a buffer of exactly its size */
    const uint8_t *rest;
    size_t rn = fz_bytes(&in, in.n, &rest);
    uint8_t *payload = malloc(rn ? rn : 1);
    memcpy(payload, rest, rn);
    wipc__hello hello;
    why[0] = '\0';
    st = wipc__hello_decode(payload, rn, &hello, why, sizeof why);
    if (st == WIPC_OK) {
        FZ_CHECK(rn == WIPC__HELLO_SIZE, "HELLO of %zu bytes accepted", rn);
        FZ_CHECK(hello.pid == wipc__get_le32(payload + 4), "HELLO pid");
        FZ_CHECK(hello.version == WIPC__FRAME_VERSION, "version");
        FZ_CHECK(hello.max_message_size >= 1 && hello.max_message_size <= WIPC_MAX_MESSAGE_LIMIT, "max %u",
                 hello.max_message_size);
        uint8_t again[WIPC__HELLO_SIZE];
        wipc__hello_encode(again, &hello);
        FZ_CHECK(memcmp(again, payload, sizeof again) == 0, "HELLO does not round-trip");
    } else {
        FZ_CHECK(st == WIPC_E_PROTOCOL, "HELLO status %d", (int)st);
        FZ_CHECK(why[0] != '\0', "no reason given for a bad HELLO");
    }
    free(payload);
    free(hdr);
    return 0;
}
