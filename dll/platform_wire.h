/*
 * platform_wire.h - what both sides of the platform boundary must agree on byte for byte, and the
 * core's pure helpers for it that a backend calls: no state, no call into a backend, so a backend
 * that uses them depends on a leaf of the core. Included by platform.h (for the backends) and by the
 * core's own wire headers (dll/common/core/frame.h, msg_wire.h, shm_layout.h, object_name.h), which
 * describe the formats in full.
 */
#ifndef WIPC_PLATFORM_WIRE_H
#define WIPC_PLATFORM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wipc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- byte order (dll/common/core/frame.c) ----------------------------------------------------------- */

void wipc__put_le32(uint8_t *p, uint32_t v);
void wipc__put_le64(uint8_t *p, uint64_t v);
uint32_t wipc__get_le32(const uint8_t *p);
uint64_t wipc__get_le64(const uint8_t *p);

/* ---- object names (dll/common/core/object_name.h, object_name.c) ------------------------------------ */

#define WIPC__FULL_NAME_MAX 255

/** true if `name` has the form of a full object name of this platform (its prefix; the rest is not
 *  checked): then the backend uses it as is. NULL is false. */
bool wipc__is_full_name(const char *name);

/* ---- msg payloads (dll/common/msg/msg_wire.h, msg_wire.c) ------------------------------------------ */

#define WIPC__MSG_HEADER        16
#define WIPC__MSG_PACKET_PREFIX 8 /* POSIX: type u32 + reserved u32 before the payload */

/** 1 if the payload `data`/`size` begins with a valid wipc header (magic, version, header size), i.e.
 *  its sender is a wipc sender that reads the reply word; 0 for anything else (a foreign sender). */
int wipc__msg_hdr_present(const void *data, size_t size);

/** The answer to a message a receiver does not take: the reply word of `status` for a wipc sender
 *  (`framed`, wipc__msg_hdr_present), 0 for a foreign one - the conventional WM_COPYDATA "not
 *  handled", never a value that reads as success. */
uint64_t wipc__msg_refusal(wipc_status status, int framed);

/** 1 if s[0..n) is a valid wipc name (1..WIPC_NAME_MAX chars of [A-Za-z0-9._-]); unlike
 *  wipc__check_name it does not touch the last error (for names found while listing). */
int wipc__msg_name_ok(const char *s, size_t n);

/** POSIX packet prefix: type u32 LE + reserved u32 0. */
void wipc__msg_prefix_encode(uint8_t out[WIPC__MSG_PACKET_PREFIX], uint32_t type);
uint32_t wipc__msg_prefix_type(const uint8_t in[WIPC__MSG_PACKET_PREFIX]);

/* ---- shm channel sections (dll/common/shm/shm_layout.h) -------------------------------------------- */

#define WIPC__SHM_MAGIC       0x4D485357u /* "WSHM": the first word of a channel's section */
#define WIPC__SHM_HEADER_SIZE 4096u /* the section header's bytes: ring 0 starts here */

/* Reads a plain (non-atomic) field of a shared header exactly once: a volatile load, so the compiler
 * cannot re-load it from the section after the value was checked (the peer may change it meanwhile).
 * Every value taken from shared memory goes into a local this way (or by an atomic load) and only the
 * local is checked and used. */
static inline uint32_t wipc__shm_once32(const uint32_t *p)
{
    return *(const volatile uint32_t *)p;
}
static inline uint64_t wipc__shm_once64(const uint64_t *p)
{
    return *(const volatile uint64_t *)p;
}

#ifdef __cplusplus
}
#endif

#endif /* WIPC_PLATFORM_WIRE_H */
