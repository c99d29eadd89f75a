/*
 * stub_platform.h - a fake backend for the fuzz targets that link the portable core (dll/common/ sources).
 *
 * stub_platform.c implements every wipc__plat_* function of dll/platform.h, platform_shm.h and
 * platform_msg.h without touching the OS (threads, locks and clocks come from the real
 * dll/linux/sync.c, OS error texts from dll/linux/error.c). The harness drives it:
 *  - pipes: fz_pipe_init() makes a fake pipe carrying the peer's byte stream; the core gets it through
 *    wipc__core_accepted (server side) or wipc__plat_connect (client side, fz_next_connect).
 *    fz_pipe_feed_*() hand chunks to the core the way an I/O thread does (wipc__core_read); in caller
 *    mode the core pulls them with wipc__plat_pipe_read; fz_pipe_finish() is the peer hanging up.
 *    wipc__core_closed is called exactly once, never from inside a wipc__core_* call (a shutdown or
 *    stop asked for meanwhile is reported right after it returns), as on a real I/O thread.
 *  - shm: fz_next_section (+ size) is what wipc__plat_section_open maps; created sections are
 *    zeroed heap buffers (refused above FZ_SECTION_MAX bytes). Waits never sleep.
 *  - pipe bulk sections (large messages through shared memory): a peer's section is filled with
 *    fz_bulk_data (untrusted, like everything the peer writes); waits never sleep.
 *  - msg: wipc__plat_msg_listen records the endpoint in fz_last_ep.
 */
#ifndef WIPC_FUZZ_STUB_PLATFORM_H
#define WIPC_FUZZ_STUB_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "platform.h"
#include "platform_msg.h"

#define FZ_SECTION_MAX (4u * 1024 * 1024)

#ifndef FZ_PIPE_CALLER_MODE
#  define FZ_PIPE_CALLER_MODE 1
#endif
#ifndef FZ_PIPE_READ2
#  define FZ_PIPE_READ2 1
#endif
#ifndef FZ_PIPE_BULK
#  define FZ_PIPE_BULK 1
#endif

/* FZ_PIPE_CALLER_MODE (1: the contract of dll/platform.h in force has wipc__plat_pipe_read; likewise
 * FZ_PIPE_READ2 for wipc__plat_pipe_read2 and FZ_PIPE_BULK for wipc__plat_bulk_section):
 * the core reads a connection on its callers' threads after the handshake. The stub then serves
 * wipc__plat_pipe_read from the same stream the I/O-mode feed uses. */
struct wipc__pipe {
    struct wipc__conn *conn;
    bool started, shut, stopped, ended, in_read, freed, paused, io_mode, eof;
    /* the peer's byte stream, handed out in pseudo-random chunks */
    const uint8_t *stream;
    size_t left;
    uint32_t seed;
    bool raw;
    /* client side: called from wipc__plat_pipe_write (the core sends its HELLO), may feed bytes */
    void (*on_write)(struct wipc__pipe *p, const wipc__iov *iov, size_t n);
    size_t writes; /* bytes the core wrote */
};

extern struct wipc__server *fz_last_server; /* set by wipc__plat_listen */
extern struct wipc__msg_ep *fz_last_ep; /* set by wipc__plat_msg_listen */
extern struct wipc__pipe *fz_next_connect; /* handed out (once) by wipc__plat_connect */
extern uint8_t *fz_next_section; /* mapped by wipc__plat_section_open (not copied, not freed) */
extern uint64_t fz_next_section_size;
/* A peer writing the header while wipc_shm_open runs: the next wipc__plat_proc_alive (try_open asks
 * it between validating the header and binding the rings) copies fz_race_len bytes of fz_race_bytes
 * to fz_next_section + fz_race_off (within fz_next_section_size), once. */
extern const uint8_t *fz_race_bytes;
extern size_t fz_race_len, fz_race_off;
extern uint8_t *fz_last_created; /* base of the last section wipc__plat_section_create made */
#if FZ_PIPE_BULK
extern const uint8_t *fz_bulk_data; /* what a peer's bulk section holds (repeated to its size) */
extern size_t fz_bulk_size;
#endif

/* A fresh pipe whose peer will send `n` bytes of `data` (chunked by `seed`; raw: chunks may or may
 * not end an OS-level message). */
void fz_pipe_init(struct wipc__pipe *p, const uint8_t *data, size_t n, uint32_t seed, bool raw);
/* I/O thread: hands one chunk to wipc__core_read. false when nothing was fed (no input left, not in
 * I/O mode, ended). */
bool fz_pipe_feed_one(struct wipc__pipe *p);
/* I/O thread: feeds chunks while the core wants them in I/O mode. */
void fz_pipe_feed_all(struct wipc__pipe *p);
/* The peer hung up: I/O mode ends the pipe (wipc__core_closed); caller mode tells the core
 * (wipc__core_hup), which reads what is left. Then any end the core asked for is reported. */
void fz_pipe_finish(struct wipc__pipe *p);
/* Reports an end the core asked for (shutdown / stop) while the stub could not do it at once. */
void fz_pipe_settle(struct wipc__pipe *p);

#endif
