/*
 * msg_wire.h - the wire format of the msg transport, the same on both backends.
 *
 * Payload (WM_COPYDATA lpData/cbData on Windows; after the packet prefix on POSIX): a 16-byte
 * little-endian header, then the user bytes.
 *
 *   offset size field
 *        0    4 magic        0x47534d57 ("WMSG" in memory)
 *        4    1 version      WIPC__MSG_VERSION (1)
 *        5    1 header_size  16 (version 1 requires exactly 16)
 *        6    2 flags        0 (reserved; ignored by version-1 receivers)
 *        8    4 sender_pid   the pid the sender CLAIMS (GetCurrentProcessId / getpid). Windows cannot
 *                            vouch for the sender of a WM_COPYDATA, so the receiver reports this value
 *                            as is; POSIX replaces it with the SO_PEERCRED pid.
 *       12    4 reserved     0
 *       16    - user bytes   <= the receiver's max_message_size
 *
 * The type travels outside the payload: in COPYDATASTRUCT.dwData on Windows, and in the 8-byte POSIX
 * packet prefix (type u32, reserved u32) on POSIX.
 *
 * Reply word (the window procedure's LRESULT on Windows; an 8-byte little-endian reply packet on
 * POSIX):
 *
 *   bits 63..48  0x574d ("WM"): marks an answer from a wipc endpoint (a foreign window answering
 *                WM_COPYDATA with 0 or anything else decodes as WIPC_E_PROTOCOL)
 *
 * A message without a valid wipc header (a foreign sender) is answered 0, never a reply word: to a
 * plain WM_COPYDATA sender 0 means "not handled". WIPC_MSG_RAW endpoints take such messages as raw
 * payloads and answer the plain reply (on_message's int32 sign-extended, 1 when queued, 0 refused).
 *   bits 47..32  -status: 0 = accepted; else the receiver refused the message with that wipc_status
 *                (WIPC_E_BUSY queue full, WIPC_E_TOO_LARGE above its max_message_size,
 *                WIPC_E_PROTOCOL bad header, WIPC_E_CLOSED endpoint closing, ...)
 *   bits 31..0   the reply: on_message's return value (int32, two's complement); 0 in queue mode
 *
 * A 64-bit LRESULT is needed, i.e. 64-bit Windows (the only Windows target of this build).
 */
#ifndef WIPC_MSG_WIRE_H
#define WIPC_MSG_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include "wipc.h"
#include "platform_wire.h" /* WIPC__MSG_HEADER, WIPC__MSG_PACKET_PREFIX and the helpers a backend calls */

#define WIPC__MSG_MAGIC      0x47534d57u
#define WIPC__MSG_VERSION    1
#define WIPC__MSG_REPLY_MARK 0x574du

/** The largest max_message_size a msg endpoint accepts, and the largest message wipc_msg_send sends
 *  (bigger: WIPC_E_TOO_LARGE before anything is sent). 256 KiB: WM_COPYDATA is meant for small
 *  notifications, and one AF_UNIX seqpacket datagram must fit the socket send buffer. */
#define WIPC__MSG_SIZE_LIMIT WIPC_MSG_MAX_MESSAGE_LIMIT

typedef struct wipc__msg_hdr {
    uint32_t pid; /* claimed by the sender */
    uint16_t flags;
} wipc__msg_hdr;

/** Writes the 16-byte payload header. */
void wipc__msg_hdr_encode(uint8_t out[WIPC__MSG_HEADER], uint32_t sender_pid);

/** Checks a received payload of `size` bytes (`data` may be NULL only if size is 0) before any user
 *  byte is touched: the header fits, magic, version, header size, and the user bytes are at most
 *  `max_user`. Reads only the first WIPC__MSG_HEADER bytes. Returns WIPC_OK with *hdr filled and
 *  *user_size = size - header, WIPC_E_PROTOCOL or WIPC_E_TOO_LARGE with `why` explaining. */
wipc_status wipc__msg_hdr_validate(const void *data, size_t size, uint32_t max_user, wipc__msg_hdr *hdr,
                                   size_t *user_size, char *why, size_t why_cap);

/** The reply word for `status` (WIPC_OK or a refusal) and the reply `value`. */
uint64_t wipc__msg_reply_encode(wipc_status status, int32_t value);

/** Decodes a reply word: returns the receiver's status (WIPC_OK: *value = the reply) or
 *  WIPC_E_PROTOCOL if the word does not come from a wipc endpoint. */
wipc_status wipc__msg_reply_decode(uint64_t word, int32_t *value);

#endif /* WIPC_MSG_WIRE_H */
