/*
 * stats.h - the statistics an endpoint publishes for wipc_stat (ABI 1.1): the layout of its stats
 * section, identical on Windows and POSIX, and the core's hooks.
 *
 * Section (WIPC__STATS_SIZE = 8192 bytes; POSIX /wipc-<uid>-st-<t>-<name> 0600, Windows
 * Local\wipc-stats-<t>-<name> owner-only DACL; <t> = p, s, m): a 512-byte header, then
 * WIPC__STATS_SLOTS slots of 64 bytes (one cache line each). Slot 0 is the endpoint object itself;
 * pipe connections of a server take a free slot each (in_use 0 -> 1 by compare-and-swap) and fold
 * their counters into the header's `retired` block when they end, so the totals never go back.
 * A connection that finds no free slot counts locally and folds when it ends.
 *
 * Hot path: every object has `ctr`, a pointer to its counters - its slot in the section, or its own
 * `ctr_local` when it publishes nothing - and counting a message is one relaxed atomic add per
 * counter there, plus (publishing only) a coarse wall-clock read (vDSO / shared user page: no system
 * call) stored into the slot's last_ms when the millisecond changed. The clock is read at most about
 * once a millisecond per object (core.h, wipc__stats_touch_coarse: the CPU's time-stamp counter says
 * when a millisecond may have passed), so last_ms is at most that much older than the last message.
 * No lock anywhere.
 *
 * Readers (any process of the user) map the section read-only, copy it once and validate the copy
 * (wipc__stats_parse, also the fuzz target's entry): magic, version, sizes, transport, name, slot
 * flags. `magic` is written last by the owner (release), so a section being created reads as absent.
 * Owner liveness is pid + start key (wipc__plat_proc_alive); `closed` is set when the endpoint goes.
 *
 * Header (offsets in bytes): 0 magic "WSTA", 4 version 1, 8 header_size 512, 12 slot_count, 16
 * transport, 20 kind, 24 owner_pid, 28 owner_key, 32 created_ms, 40 closed, 48 name[136];
 * owner-updated line at 192: connections_total, errors, connections, queue_depth, last_ms; 256 retired
 * counters (msgs_sent, msgs_recv, bytes_sent, bytes_recv). Slot: 0 counters (32 bytes), 32 in_use,
 * 40 last_ms.
 */
#ifndef WIPC_STATS_H
#define WIPC_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include "wipc.h"

#define WIPC__STATS_MAGIC   0x41545357u /* "WSTA" in memory */
#define WIPC__STATS_VERSION 1u
#define WIPC__STATS_HEADER  512u
#define WIPC__STATS_SLOTS   120u
#define WIPC__STATS_SIZE    (WIPC__STATS_HEADER + 64u * WIPC__STATS_SLOTS) /* 8192 */

typedef struct wipc__counters {
    _Atomic uint64_t msgs_sent, msgs_recv, bytes_sent, bytes_recv;
} wipc__counters;

typedef struct wipc__stats_slot {
    wipc__counters c;
    _Atomic uint32_t in_use; /* 0 free, 1 taken */
    uint32_t reserved0;
    _Atomic int64_t last_ms; /* Unix ms of the last message counted here */
    uint8_t reserved[16];
} wipc__stats_slot;

typedef struct wipc__stats_header {
    _Atomic uint32_t magic;
    uint32_t version, header_size, slot_count;
    uint32_t transport, kind, owner_pid, owner_key;
    int64_t created_ms;
    _Atomic uint32_t closed;
    uint32_t reserved0;
    char name[136];
    uint8_t pad0[8];
    _Atomic uint64_t connections_total, errors;
    _Atomic uint32_t connections, queue_depth;
    _Atomic int64_t last_ms; /* of the retired counters */
    uint8_t pad1[32];
    wipc__counters retired;
    uint8_t reserved[224];
} wipc__stats_header;

_Static_assert(sizeof(wipc__counters) == 32, "counters");
_Static_assert(sizeof(wipc__stats_slot) == 64, "one slot per cache line");
_Static_assert(offsetof(wipc__stats_header, name) == 48, "layout");
_Static_assert(offsetof(wipc__stats_header, connections_total) == 192, "owner line");
_Static_assert(offsetof(wipc__stats_header, retired) == 256, "layout");
_Static_assert(sizeof(wipc__stats_header) == WIPC__STATS_HEADER, "header size");

/* The process-local handle of a published section (shared by an endpoint and its connections). */
typedef struct wipc__stats {
    atomic_int refs;
    void *sec; /* wipc__section */
    wipc__stats_header *hdr;
    wipc__stats_slot *slots;
} wipc__stats;

/* Validates a private copy of a stats section (n bytes) for the endpoint `name` of `transport` and
 * fills `out` (a full wipc_stats) and *owner_key. WIPC_E_NOT_FOUND: being created, or closed;
 * WIPC_E_PROTOCOL: not a valid section (last error set). Touches nothing but its arguments. */
wipc_status wipc__stats_parse(const void *copy, size_t n, uint32_t transport, const char *name, wipc_stats *out,
                              uint32_t *owner_key);

#endif /* WIPC_STATS_H */
