/*
 * raw_frame.h - wipc pipe frames written by hand, for peers written against the OS rather than wipc
 * (c-tests/async_peer.c, test_async.c, bench/noread.c): the 24-byte frame header and the HELLO of
 * dll/common/core/frame.h, little-endian. Header-only (static inline), so a program outside c-tests can
 * include it without the test support library.
 */
#ifndef WIPC_RAW_FRAME_H
#define WIPC_RAW_FRAME_H

#include <stdint.h>
#include <string.h>

#define WT_RAW_HEADER 24 /* frame header bytes */
#define WT_RAW_HELLO  (WT_RAW_HEADER + 16) /* a whole HELLO frame */

/* Writes the 24-byte header of a frame: magic, version 1, `kind` (2 REQUEST, 4 HELLO, ...), header
 * size 24, `type`, payload `length` in bytes, `request_id`. */
static inline void wt_raw_header(uint8_t *h, uint8_t kind, uint32_t type, uint32_t length, uint64_t request_id)
{
    uint32_t magic = 0x43504957u;
    for (int i = 0; i < 4; i++) {
        h[i] = (uint8_t)(magic >> (8 * i));
        h[8 + i] = (uint8_t)(type >> (8 * i));
        h[12 + i] = (uint8_t)(length >> (8 * i));
    }
    h[4] = 1;
    h[5] = kind;
    h[6] = WT_RAW_HEADER;
    h[7] = 0;
    for (int i = 0; i < 8; i++)
        h[16 + i] = (uint8_t)(request_id >> (8 * i));
}

/* Writes a whole HELLO frame (WT_RAW_HELLO bytes): protocol version 1, `pid`, max message 16 MiB,
 * flags 0 (no bulk section, no ERROR frames: a 1.0 peer). */
static inline void wt_raw_hello(uint8_t *out, uint32_t pid)
{
    uint32_t hello[4] = { 1, pid, 16u * 1024 * 1024, 0 };
    wt_raw_header(out, 4, 0, 16, 0);
    for (int w = 0; w < 4; w++)
        for (int i = 0; i < 4; i++)
            out[WT_RAW_HEADER + 4 * w + i] = (uint8_t)(hello[w] >> (8 * i));
}

#endif
