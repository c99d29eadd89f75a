/*
 * frame.h - the wipc frame header used on pipes (and, with the same field meanings, in shm rings).
 *
 * Every frame is a 24-byte little-endian header followed by `length` payload bytes:
 *
 *   offset size field
 *        0    4 magic        0x43504957 ("WIPC" in memory)
 *        4    1 version      WIPC__FRAME_VERSION (1)
 *        5    1 kind         1 DATA, 2 REQUEST, 3 REPLY, 4 HELLO, 5 BUSY
 *        6    2 header_size  24 (a later version may grow the header; readers skip what they do not know)
 *        8    4 type         the user's type tag
 *       12    4 length       payload bytes, <= the receiver's max_message_size
 *       16    8 request_id   REQUEST/REPLY: matches a reply to its request; else 0
 *
 * HELLO (sent by both sides right after connecting, payload 16 bytes): protocol version u32, sender
 * pid u32, sender's max_message_size u32, flags u32 (WIPC__HELLO_BULK, other bits 0; a receiver
 * ignores bits it does not know). BUSY (server -> client, no payload): every instance is in use; the
 * client retries until its timeout.
 * BULK (only to a peer whose HELLO had WIPC__HELLO_BULK): a large DATA / REQUEST / REPLY whose payload
 * waits in a shared section of the sender (see pipe_bulk.c); the frame's type and request_id are the
 * message's, its 32-byte payload the descriptor below.
 * ERROR (wipc 1.1, only to a peer whose HELLO had WIPC__HELLO_ERRORS: a 1.0 peer never gets one): the
 * answer to a request whose handler failed (wipc_reply_error); request_id = the request's, type = the
 * error code (int32 as u32), payload = UTF-8 text of at most WIPC__ERROR_TEXT_MAX bytes.
 * The decoder checks the whole header before anything is allocated for the payload.
 */
#ifndef WIPC_FRAME_H
#define WIPC_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include "wipc.h"
#include "platform_wire.h" /* wipc__put_le32 / _le64, wipc__get_le32 / _le64 */

#define WIPC__FRAME_MAGIC    0x43504957u
#define WIPC__FRAME_VERSION  1
#define WIPC__FRAME_HEADER   24
#define WIPC__HELLO_SIZE     16
#define WIPC__ERROR_TEXT_MAX 4096

#define WIPC__FRAME_DATA    1
#define WIPC__FRAME_REQUEST 2
#define WIPC__FRAME_REPLY   3
#define WIPC__FRAME_HELLO   4
#define WIPC__FRAME_BUSY    5
#define WIPC__FRAME_BULK    6
#define WIPC__FRAME_ERROR                                                                                              \
  7 /* wipc 1.1: a reply that carries an error (only to a peer whose HELLO had WIPC__HELLO_ERRORS) */

#define WIPC__HELLO_BULK        0x1u /* HELLO flag: send me large messages through your shared section */
#define WIPC__HELLO_BULK_SEALED 0x2u /* the same, POSIX since 1.1: sections are sealed memfds (linux/pipe_bulk.c) */
#define WIPC__HELLO_ERRORS      0x4u /* HELLO flag (wipc 1.1): I understand ERROR frames (remote errors) */

/* BULK descriptor, 32 bytes LE: magic u32 "PBLK", the message's kind u8, slot u8, 0 u16, section number
 * u32, 0 u32, length u64, slot size u64. */
#define WIPC__BULK_DESC  32
#define WIPC__BULK_MAGIC 0x4b4c4250u

typedef struct wipc__frame {
    uint8_t kind;
    uint32_t type;
    uint32_t length;
    uint64_t request_id;
} wipc__frame;

typedef struct wipc__hello {
    uint32_t version;
    uint32_t pid;
    uint32_t max_message_size;
    uint32_t flags;
} wipc__hello;

/* Writes the 24-byte header for `f`. */
void wipc__frame_encode(uint8_t out[WIPC__FRAME_HEADER], const wipc__frame *f);

/* Validates and decodes a 24-byte header. Returns WIPC_OK; WIPC_E_PROTOCOL (bad magic, version, kind,
 * header size, or a request id where none belongs) or WIPC_E_TOO_LARGE (length > max_length), with
 * the reason written to why[cap]. Never reads past the 24 bytes, never allocates. */
wipc_status wipc__frame_decode(const uint8_t in[WIPC__FRAME_HEADER], uint32_t max_length, wipc__frame *f, char *why,
                               size_t cap);

void wipc__hello_encode(uint8_t out[WIPC__HELLO_SIZE], const wipc__hello *h);
wipc_status wipc__hello_decode(const uint8_t *in, size_t size, wipc__hello *h, char *why, size_t cap);

#endif /* WIPC_FRAME_H */
