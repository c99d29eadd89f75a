/*
 * platform_list.h - the backend contract of endpoint discovery (wipc_list, ABI 1.1). The portable half
 * (dll/common/core/list.c) validates the arguments, filters by prefix, sorts, removes duplicates and fills
 * the caller's records; a backend (dll/linux/list.c, dll/win32/list.c) only enumerates what the OS
 * shows of this user's live endpoints, without connecting to them or opening anything for writing.
 *
 *   POSIX:   held name locks <rundir>/p.*.lock and m.*.lock (their content is the name; owner pid from
 *            /proc/locks), /dev/shm/wipc-<uid>-* objects (channel header -> creator pid and liveness).
 *   Windows: \\.\pipe\wipc-*, the session's object directory (sections wipc-*), the message-only
 *            windows of class wipc-msg-*.
 *
 * Naming as in platform.h: wipc__plat_* = implemented by the backend, wipc__core_* = by dll/common/.
 */
#ifndef WIPC_PLATFORM_LIST_H
#define WIPC_PLATFORM_LIST_H

#include <stdbool.h>
#include "platform.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One endpoint as a backend found it; `name` is a valid wipc name, valid during the callback. */
typedef struct wipc__found {
    uint32_t transport; /* WIPC_TRANSPORT_* */
    uint32_t kind; /* WIPC_KIND_* */
    uint32_t owner_pid; /* 0 = unknown */
    int64_t created_ms; /* Unix ms, 0 = unknown */
    const char *name;
} wipc__found;

/** Called for each endpoint found; returns 0 to go on, non-zero to stop (the enumeration returns WIPC_OK). */
typedef int (*wipc__found_fn)(const wipc__found *f, void *arg);

/** The core's entry points for a listing: wipc__core_channel_owner and wipc__core_stats_owner (below).
 *  The core hands them to wipc__plat_list; the backend calls up only through them. */
typedef struct wipc__list_calls {
    int (*channel_owner)(const void *header, size_t n, uint32_t *creator_pid);
    int (*stats_owner)(uint32_t transport, const char *name, uint32_t *pid, int64_t *created_ms);
} wipc__list_calls;

/** Bytes of a shm channel's section header (sizeof(wipc__shm_header) of dll/common/shm/shm_layout.h;
 *  dll/common/core/list.c checks it): what a backend copies for wipc__list_calls.channel_owner. */
#define WIPC__CHANNEL_HEADER_BYTES 704u

/** Enumerates the live endpoints of this user / session on the transports of `mask` (WIPC_LIST_* bits,
 *  never 0), checking owners through `up`. Skips what it cannot read or what belongs to a dead owner.
 *  Returns WIPC_OK, or an error with the last error set (POSIX: the runtime directory refused). */
wipc_status wipc__plat_list(uint32_t mask, const wipc__list_calls *up, wipc__found_fn fn, void *arg);

/* ---- called by backends (through wipc__list_calls), implemented in dll/common/core/list.c --------- */

/* (Names: backends check them with wipc__msg_name_ok, platform_msg.h.) */

/** Checks a copy of the first `n` bytes of a section that may be a shm channel (untrusted: a private
 *  copy, read once): 1 with *creator_pid if it is a READY wipc channel header (magic, layout version,
 *  sizes) whose creator is alive (wipc__plat_proc_alive), else 0. */
int wipc__core_channel_owner(const void *header, size_t n, uint32_t *creator_pid);

/** 1 with *pid and *created_ms if the endpoint `name` of `transport` publishes statistics (stats.h)
 *  from a live owner (the section is opened read-only, copied once and validated), else 0. */
int wipc__core_stats_owner(uint32_t transport, const char *name, uint32_t *pid, int64_t *created_ms);

#ifdef __cplusplus
}
#endif

#endif /* WIPC_PLATFORM_LIST_H */
