/*
 * ring.h - one single-producer single-consumer ring of framed records inside a shm section, as seen
 * by one side (see shm_layout.h for the layout, the PAD marker and the memory ordering). No waiting
 * and no locks here: the caller serialises producers and consumers of its process and sleeps on the
 * wait words when a call says WIPC__RING_AGAIN.
 *
 * The process-local copy of this side's index (`pos`) is authoritative; the other side's index is
 * read from the section once per refresh, validated, and kept in `seen`.
 */
#ifndef WIPC_RING_H
#define WIPC_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "common/shm/shm_layout.h"

typedef enum wipc__ring_rc {
    WIPC__RING_OK = 0,
    WIPC__RING_AGAIN, /* producer: not enough room now; consumer: nothing to read now */
    WIPC__RING_CORRUPT, /* a shared index or record is impossible: WIPC_E_PROTOCOL */
    WIPC__RING_TOO_LARGE /* consumer: a record above max_len; producer: above the capacity */
} wipc__ring_rc;

typedef struct wipc__ring {
    wipc__shm_ring_ctl *ctl;
    uint8_t *data;
    uint64_t cap; /* power of two */
    uint64_t pos; /* producer: next write index; consumer: next read index */
    uint64_t seen; /* producer: tail last read; consumer: head last read */
    uint64_t open_rec; /* bytes of the reserved / peeked record, 0 = none */
    uint32_t max_len; /* consumer: largest payload accepted */
    uint32_t session; /* producer: stamped into every record (low 24 bits; 0 after attach) */
    uint32_t pid; /* producer: stamped into every record (0 after attach) */
    bool asym; /* this process is registered for the heavy fence (wipc__plat_shm_asym_init) */
    _Atomic uint32_t *peer_flags; /* the other side's wipc__shm_side.flags (NULL: none); with asym and
                                         WIPC__SHM_SIDE_ASYM there, a publication needs no full fence */
} wipc__ring;

/** A record found by wipc__ring_peek (payload points into the ring). */
typedef struct wipc__ring_rec {
    uint8_t kind;
    uint32_t type;
    uint32_t length;
    uint64_t request_id;
    uint32_t session; /* the writer's session stamp (24 bits), 0 = none */
    uint32_t pid; /* the writer's pid stamp, 0 = unknown */
    const uint8_t *payload;
} wipc__ring_rec;

/** The ring's record size for a payload of `len` bytes (header + payload, rounded up to 8). */
static inline uint64_t wipc__ring_record_size(uint64_t len)
{
    return (WIPC__SHM_RECORD_HEADER + len + 7u) & ~(uint64_t)7u;
}

/** Attaches a producer (`producer` true) or consumer view, taking the current indices from the
 *  section. Returns WIPC__RING_CORRUPT if they are impossible. */
wipc__ring_rc wipc__ring_attach(wipc__ring *r, wipc__shm_ring_ctl *ctl, uint8_t *data, uint64_t cap, bool producer,
                                uint32_t max_len);

/** Producer: makes room for a `len`-byte payload at the write position and points *payload at it.
 *  May publish a PAD marker first (then *wake is set when the consumer must be woken). Returns OK,
 *  AGAIN (call again when the consumer has released room), CORRUPT, TOO_LARGE. */
wipc__ring_rc wipc__ring_reserve(wipc__ring *r, uint64_t len, uint8_t **payload, bool *wake);

/** Producer: publishes the reserved record with `len` (<= reserved) payload bytes, stamped with
 *  r->session and r->pid. Returns true when the consumer sleeps and must be woken. */
bool wipc__ring_commit(wipc__ring *r, uint8_t kind, uint32_t type, uint64_t request_id, uint32_t len);

/** Consumer: finds the next record (skipping PAD markers, which may set *wake for the producer).
 *  Returns OK (*out filled, the record stays until wipc__ring_release), AGAIN, CORRUPT, TOO_LARGE
 *  (out->length holds the announced length). `why` gets the reason for CORRUPT / TOO_LARGE. */
wipc__ring_rc wipc__ring_peek(wipc__ring *r, wipc__ring_rec *out, bool *wake, char *why, size_t why_cap);

/** Consumer: frees the peeked record. Returns true when the producer sleeps and must be woken. */
bool wipc__ring_release(wipc__ring *r);

/** Consumer: true if a record (or PAD) is published and not yet consumed. One acquire load. */
bool wipc__ring_readable(const wipc__ring *r);

/** Producer: true if `rec` bytes (a whole record, plus a PAD when it must wrap) fit now. */
bool wipc__ring_writable(const wipc__ring *r, uint64_t rec);

#endif /* WIPC_RING_H */
