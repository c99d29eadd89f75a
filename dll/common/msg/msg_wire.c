/*
 * msg_wire.c - encoding and validation of the msg transport's payload header, reply word and POSIX
 * packet prefix (layouts in msg_wire.h).
 */
#include <stdio.h>
#include "common/core/frame.h"
#include "common/msg/msg_wire.h"

void wipc__msg_hdr_encode(uint8_t out[WIPC__MSG_HEADER], uint32_t sender_pid)
{
    wipc__put_le32(out, WIPC__MSG_MAGIC);
    out[4] = WIPC__MSG_VERSION;
    out[5] = WIPC__MSG_HEADER;
    out[6] = 0;
    out[7] = 0;
    wipc__put_le32(out + 8, sender_pid);
    wipc__put_le32(out + 12, 0);
}

wipc_status wipc__msg_hdr_validate(const void *data, size_t size, uint32_t max_user, wipc__msg_hdr *hdr,
                                   size_t *user_size, char *why, size_t why_cap)
{
    const uint8_t *p = (const uint8_t *)data;
    if (size < WIPC__MSG_HEADER || !p) {
        snprintf(why, why_cap, "payload of %zu bytes is shorter than the %u-byte wipc header", size,
                 (unsigned)WIPC__MSG_HEADER);
        return WIPC_E_PROTOCOL;
    }
    uint32_t magic = wipc__get_le32(p);
    if (magic != WIPC__MSG_MAGIC) {
        snprintf(why, why_cap, "payload magic 0x%08x is not wipc's 0x%08x", (unsigned)magic, (unsigned)WIPC__MSG_MAGIC);
        return WIPC_E_PROTOCOL;
    }
    if (p[4] != WIPC__MSG_VERSION) {
        snprintf(why, why_cap, "sender speaks msg protocol %u, this library %u", (unsigned)p[4],
                 (unsigned)WIPC__MSG_VERSION);
        return WIPC_E_PROTOCOL;
    }
    if (p[5] != WIPC__MSG_HEADER) {
        snprintf(why, why_cap, "header size %u, expected %u", (unsigned)p[5], (unsigned)WIPC__MSG_HEADER);
        return WIPC_E_PROTOCOL;
    }
    size_t user = size - WIPC__MSG_HEADER;
    if (user > max_user) {
        snprintf(why, why_cap, "message of %zu bytes is above this endpoint's max_message_size %u", user,
                 (unsigned)max_user);
        return WIPC_E_TOO_LARGE;
    }
    hdr->flags = (uint16_t)(p[6] | (p[7] << 8));
    hdr->pid = wipc__get_le32(p + 8);
    *user_size = user;
    return WIPC_OK;
}

int wipc__msg_hdr_present(const void *data, size_t size)
{
    const uint8_t *p = (const uint8_t *)data;
    return p && size >= WIPC__MSG_HEADER && wipc__get_le32(p) == WIPC__MSG_MAGIC && p[4] == WIPC__MSG_VERSION &&
           p[5] == WIPC__MSG_HEADER;
}

uint64_t wipc__msg_refusal(wipc_status status, int framed)
{
    return framed ? wipc__msg_reply_encode(status, 0) : 0;
}

uint64_t wipc__msg_reply_encode(wipc_status status, int32_t value)
{
    uint32_t code = status < 0 ? (uint32_t)(-status) & 0xffffu : 0u;
    return ((uint64_t)WIPC__MSG_REPLY_MARK << 48) | ((uint64_t)code << 32) | (uint64_t)(uint32_t)value;
}

wipc_status wipc__msg_reply_decode(uint64_t word, int32_t *value)
{
    if ((word >> 48) != WIPC__MSG_REPLY_MARK)
        return WIPC_E_PROTOCOL;
    uint32_t code = (uint32_t)(word >> 32) & 0xffffu;
    if (code == 0) {
        *value = (int32_t)(uint32_t)word;
        return WIPC_OK;
    }
    if (code > 1000) /* no wipc status is that far from 0: not one of ours */
        return WIPC_E_PROTOCOL;
    return -(wipc_status)code;
}

void wipc__msg_prefix_encode(uint8_t out[WIPC__MSG_PACKET_PREFIX], uint32_t type)
{
    wipc__put_le32(out, type);
    wipc__put_le32(out + 4, 0);
}

uint32_t wipc__msg_prefix_type(const uint8_t in[WIPC__MSG_PACKET_PREFIX])
{
    return wipc__get_le32(in);
}

int wipc__msg_name_ok(const char *s, size_t n)
{
    if (n == 0 || n > WIPC_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}
