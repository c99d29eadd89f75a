/*
 * pipe_win32.h - the connected pipe object of the Win32 backend, shared by pipe.c (connect, reads,
 * blocking writes, shutdown, free) and pipe_write_async.c (the write queue's overlapped writes).
 * Nothing here is exported from the DLL.
 */
#ifndef WIPC_WIN32_PIPE_H
#define WIPC_WIN32_PIPE_H

#include "win32_internal.h"

#define PIPE_READ_BUF    (64u * 1024u) /* per-pipe ReadFile buffer */
#define PIPE_WRITE_CHUNK (1u << 30) /* byte-mode pieces above this are split (DWORD lengths) */

/** The write started by wipc__plat_pipe_write_start (pipe_write_async.c). Guarded by the pipe's lock
 *  except buf/len/done, which only the starter (before WriteFile) and the I/O thread touch. */
typedef struct wipc__win_awrite {
    wipc__win_iocp_op op; /* completes on the port: WriteFile's packet, or a posted failure */
    const uint8_t *buf; /* the core's bytes, valid until wipc__core_write_done */
    size_t len; /* bytes to write */
    size_t done; /* bytes written by the pieces completed so far */
    int pending; /* started, wipc__core_write_done not yet called */
    int cancel; /* wipc__plat_pipe_write_cancel was called for this write */
    int close_deferred; /* the read side ended meanwhile: wipc__core_closed(close_why) follows
                                      the write's completion */
    wipc_status close_why;
} wipc__win_awrite;

struct wipc__pipe {
    HANDLE h;
    int server_side; /* an instance accepted by a listener */
    int message_mode; /* reads report message ends; writes must be one WriteFile */
    int associated; /* with the completion port */
    wipc__listener *listener; /* server side: reference dropped in wipc__plat_pipe_free */
    void (*release)(wipc__listener *l); /* server side: how the listener wants that done (pipe_listen.c) */
    const wipc__pipe_calls *calls; /* the core's entry points (wipc__pipe_cfg.calls) */
    uint32_t peer_pid;
    char *name; /* UTF-8 pipe path, for messages */

    SRWLOCK lock; /* guards the read state below and `shut` transitions */
    struct wipc__conn *conn;
    int started;
    int io; /* I/O mode: the I/O thread reads; else caller mode */
    int stop; /* the core saw the end: report it */
    int paused;
    int read_pending; /* rop is in flight: a ReadFile or a posted packet */
    int closed_reported;
    volatile LONG shut;
    int write_broken; /* a cancelled write never finished: wov unusable */
    volatile LONG write_waiting; /* a blocking write waits for the peer to take its bytes */

    wipc__win_iocp_op rop; /* the read operation (and the packets that start it) */
    wipc__win_awrite aw; /* the asynchronous write (pipe_write_async.c) */
    wipc__win_iocp_op kop; /* wipc__plat_pipe_write_kick's packet (pipe_write_async.c) */
    volatile LONG kick_posted; /* kop is on the port: further kicks are merged into it */
    OVERLAPPED wov; /* the blocking write operation; never on the port */
    HANDLE wev; /* manual-reset event of wov */
    OVERLAPPED rov; /* caller mode: the read operation; never on the port */
    HANDLE rev; /* manual-reset event of rov (created on the first caller read) */
    int read_broken; /* a cancelled caller read never finished: rov unusable */
    HANDLE cancel_ev; /* manual-reset, set by wipc__plat_pipe_shutdown */
    uint8_t *wbuf; /* PIPE_COALESCE_MAX bytes, allocated on the first gathered write */
    uint8_t rbuf[PIPE_READ_BUF];
};

/** Message for errors: the pipe's path, or a placeholder. */
static inline const char *wipc__win_pname(const wipc__pipe *p)
{
    return p->name ? p->name : "(pipe)";
}

/** Prepares p->aw (wipc__win_pipe_new). */
void wipc__win_awrite_init(wipc__pipe *p);
/** The read side ended (I/O thread, p->lock held, closed_reported just set): returns 1 if an
 *  asynchronous write is in flight - it is cancelled, and the caller must not report the end: the
 *  write's completion reports it after wipc__core_write_done, with p->aw.close_why (which the caller
 *  sets once the lock is released; both run on the I/O thread). Else 0. */
int wipc__win_awrite_defer_close_locked(wipc__pipe *p);

#endif /* WIPC_WIN32_PIPE_H */
