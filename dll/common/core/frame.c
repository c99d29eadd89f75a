/*
 * frame.c - encoding and validation of the frame header and the HELLO payload (layout in frame.h).
 */
#include <stdio.h>
#include "common/core/frame.h"

void wipc__put_le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

void wipc__put_le64(uint8_t *p, uint64_t v)
{
    wipc__put_le32(p, (uint32_t)v);
    wipc__put_le32(p + 4, (uint32_t)(v >> 32));
}

uint32_t wipc__get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t wipc__get_le64(const uint8_t *p)
{
    return (uint64_t)wipc__get_le32(p) | (uint64_t)wipc__get_le32(p + 4) << 32;
}

void wipc__frame_encode(uint8_t out[WIPC__FRAME_HEADER], const wipc__frame *f)
{
    wipc__put_le32(out, WIPC__FRAME_MAGIC);
    out[4] = WIPC__FRAME_VERSION;
    out[5] = f->kind;
    out[6] = WIPC__FRAME_HEADER;
    out[7] = 0;
    wipc__put_le32(out + 8, f->type);
    wipc__put_le32(out + 12, f->length);
    wipc__put_le64(out + 16, f->request_id);
}

wipc_status wipc__frame_decode(const uint8_t in[WIPC__FRAME_HEADER], uint32_t max_length, wipc__frame *f, char *why,
                               size_t cap)
{
    uint32_t magic = wipc__get_le32(in);
    if (magic != WIPC__FRAME_MAGIC) {
        snprintf(why, cap, "bad frame magic 0x%08x (expected 0x%08x): the peer does not speak wipc", (unsigned)magic,
                 (unsigned)WIPC__FRAME_MAGIC);
        return WIPC_E_PROTOCOL;
    }
    if (in[4] != WIPC__FRAME_VERSION) {
        snprintf(why, cap, "frame version %u, this library speaks %u", (unsigned)in[4], (unsigned)WIPC__FRAME_VERSION);
        return WIPC_E_PROTOCOL;
    }
    unsigned header_size = (unsigned)in[6] | (unsigned)in[7] << 8;
    if (header_size != WIPC__FRAME_HEADER) {
        snprintf(why, cap, "frame header size %u, expected %u", header_size, (unsigned)WIPC__FRAME_HEADER);
        return WIPC_E_PROTOCOL;
    }
    f->kind = in[5];
    f->type = wipc__get_le32(in + 8);
    f->length = wipc__get_le32(in + 12);
    f->request_id = wipc__get_le64(in + 16);
    switch (f->kind) {
    case WIPC__FRAME_DATA:
    case WIPC__FRAME_HELLO:
    case WIPC__FRAME_BUSY:
        if (f->request_id != 0) {
            snprintf(why, cap, "frame kind %u carries request id %llu", (unsigned)f->kind,
                     (unsigned long long)f->request_id);
            return WIPC_E_PROTOCOL;
        }
        break;
    case WIPC__FRAME_BULK: /* carries the request id of the message it stands for, if any */
        if (f->length != WIPC__BULK_DESC) {
            snprintf(why, cap, "BULK frame of %u bytes, expected %u", (unsigned)f->length, (unsigned)WIPC__BULK_DESC);
            return WIPC_E_PROTOCOL;
        }
        break;
    case WIPC__FRAME_REQUEST:
    case WIPC__FRAME_REPLY:
    case WIPC__FRAME_ERROR:
        if (f->request_id == 0) {
            snprintf(why, cap, "frame kind %u without a request id", (unsigned)f->kind);
            return WIPC_E_PROTOCOL;
        }
        break;
    default:
        snprintf(why, cap, "unknown frame kind %u", (unsigned)f->kind);
        return WIPC_E_PROTOCOL;
    }
    if (f->kind == WIPC__FRAME_HELLO && f->length != WIPC__HELLO_SIZE) {
        snprintf(why, cap, "HELLO frame of %u bytes, expected %u", (unsigned)f->length, (unsigned)WIPC__HELLO_SIZE);
        return WIPC_E_PROTOCOL;
    }
    if (f->kind == WIPC__FRAME_ERROR && f->length > WIPC__ERROR_TEXT_MAX) {
        snprintf(why, cap, "ERROR frame of %u bytes, at most %u", (unsigned)f->length, (unsigned)WIPC__ERROR_TEXT_MAX);
        return WIPC_E_PROTOCOL;
    }
    if (f->kind == WIPC__FRAME_BUSY && f->length != 0) {
        snprintf(why, cap, "BUSY frame of %u bytes, expected 0", (unsigned)f->length);
        return WIPC_E_PROTOCOL;
    }
    if (f->length > max_length) {
        snprintf(why, cap, "frame of %u bytes is above max_message_size %u", (unsigned)f->length, (unsigned)max_length);
        return WIPC_E_TOO_LARGE;
    }
    return WIPC_OK;
}

void wipc__hello_encode(uint8_t out[WIPC__HELLO_SIZE], const wipc__hello *h)
{
    wipc__put_le32(out, h->version);
    wipc__put_le32(out + 4, h->pid);
    wipc__put_le32(out + 8, h->max_message_size);
    wipc__put_le32(out + 12, h->flags);
}

wipc_status wipc__hello_decode(const uint8_t *in, size_t size, wipc__hello *h, char *why, size_t cap)
{
    if (size != WIPC__HELLO_SIZE) {
        snprintf(why, cap, "HELLO of %zu bytes, expected %u", size, (unsigned)WIPC__HELLO_SIZE);
        return WIPC_E_PROTOCOL;
    }
    h->version = wipc__get_le32(in);
    h->pid = wipc__get_le32(in + 4);
    h->max_message_size = wipc__get_le32(in + 8);
    h->flags = wipc__get_le32(in + 12);
    if (h->version != WIPC__FRAME_VERSION) {
        snprintf(why, cap, "peer speaks wipc protocol %u, this library %u", (unsigned)h->version,
                 (unsigned)WIPC__FRAME_VERSION);
        return WIPC_E_PROTOCOL;
    }
    if (h->max_message_size == 0 || h->max_message_size > WIPC_MAX_MESSAGE_LIMIT) {
        snprintf(why, cap, "peer announced max_message_size %u, outside 1..%u", (unsigned)h->max_message_size,
                 (unsigned)WIPC_MAX_MESSAGE_LIMIT);
        return WIPC_E_PROTOCOL;
    }
    return WIPC_OK;
}
