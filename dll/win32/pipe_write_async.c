/*
 * pipe_write_async.c - the write queue's writes (dll/platform.h, wipc__plat_pipe_write_start): one
 * overlapped WriteFile per pipe at a time, completed on the library's I/O completion port, so a slow
 * or never-reading peer holds memory (the core's queued bytes), never a thread.
 *
 *  - Start (any thread, the I/O thread included): under the pipe's lock, refuse a pipe that is not
 *    started, shut down or already ended, or that has a write in flight; mark it pending; then
 *    WriteFile(buf, len) with the op's OVERLAPPED (no event: the packet goes to the port, also when
 *    WriteFile finishes at once). A WriteFile that fails at once is posted to the port with its error
 *    (PostQueuedCompletionStatus): the start still returns WIPC_OK and the completion still comes on
 *    the I/O thread, never from inside the start call.
 *  - Byte-mode pipes write pieces of at most PIPE_WRITE_CHUNK (1 GiB: WriteFile takes a DWORD); each
 *    piece's packet issues the next. Message-mode pipes (WIPC_PIPE_RAW) write one WriteFile (a
 *    message above 4 GiB - 1 is refused at the start).
 *  - Cancel (any thread): CancelIoEx(h, &op) under the lock. A cancel that comes before WriteFile was
 *    issued is seen by the issuer's re-check under the lock right after WriteFile.
 *  - Completion (I/O thread): all bytes written = WIPC_OK, even if a cancel came late; else
 *    WIPC_E_CLOSED after wipc__plat_pipe_shutdown (its CancelIoEx(h, NULL) ends the write too),
 *    WIPC_E_CANCELLED after wipc__plat_pipe_write_cancel, WIPC_E_DISCONNECTED for a broken pipe or
 *    when the read side ended meanwhile, WIPC_E_SYSTEM otherwise; `written` = bytes that reached the
 *    pipe.
 *  - Kick (wipc__plat_pipe_write_kick, any thread): posts p->kop to the port, at most one at a time;
 *    its handler calls wipc__core_write_kick on the I/O thread, which starts the write from there (so
 *    the sender does not pay the WriteFile). The core holds the connection, hence the pipe, until then.
 *  - Lifetime: a pending WriteFile uses the pipe's OVERLAPPED and the core's buffer. When the read
 *    side ends while a write is in flight (read_finish in pipe.c), the write is cancelled and
 *    wipc__core_closed waits: the write's completion calls wipc__core_write_done and then
 *    wipc__core_closed, its last touch of the pipe (the core may free it right after). So the core
 *    never frees a pipe whose write packet is still to come.
 */
#include <string.h>

#include "win32/pipe_win32.h"

static void awrite_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted);

static void kick_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted)
{
    (void)n;
    (void)err;
    (void)posted;
    wipc__pipe *p = CONTAINING_RECORD(op, wipc__pipe, kop);
    InterlockedExchange(&p->kick_posted, 0);
    p->calls->write_kick(p->conn);
}

void wipc__win_awrite_init(wipc__pipe *p)
{
    memset(&p->aw, 0, sizeof p->aw);
    wipc__win_iocp_op_init(&p->aw.op, awrite_done);
    wipc__win_iocp_op_init(&p->kop, kick_done);
    p->kick_posted = 0;
}

wipc_status wipc__plat_pipe_write_kick(wipc__pipe *p)
{
    if (InterlockedCompareExchange(&p->kick_posted, 1, 0) != 0)
        return WIPC_OK; /* one is on its way */
    wipc_status st = wipc__win_iocp_post(&p->kop, 0);
    if (st != WIPC_OK)
        InterlockedExchange(&p->kick_posted, 0);
    return st;
}

int wipc__win_awrite_defer_close_locked(wipc__pipe *p)
{
    if (!p->aw.pending)
        return 0;
    p->aw.close_deferred = 1;
    CancelIoEx(p->h, &p->aw.op.ov); /* the pipe has ended: the write must end soon too */
    return 1;
}

/* Issues the next piece. Returns 0 when a packet will come, else the WriteFile error (no packet). */
static DWORD awrite_issue(wipc__pipe *p)
{
    size_t left = p->aw.len - p->aw.done;
    DWORD piece = p->message_mode || left <= PIPE_WRITE_CHUNK ? (DWORD)left : PIPE_WRITE_CHUNK;
    ZeroMemory(&p->aw.op.ov, sizeof p->aw.op.ov);
    wipc__win_iocp_begin();
    BOOL ok = WriteFile(p->h, p->aw.buf + p->aw.done, piece, NULL, &p->aw.op.ov);
    DWORD err = ok ? 0 : GetLastError();
    if (ok || err == ERROR_IO_PENDING) {
        /* a packet will come; a cancel or shutdown that ran before WriteFile found nothing to cancel */
        AcquireSRWLockExclusive(&p->lock);
        if (p->shut || p->aw.cancel || p->aw.close_deferred)
            CancelIoEx(p->h, &p->aw.op.ov);
        ReleaseSRWLockExclusive(&p->lock);
        return 0;
    }
    wipc__win_iocp_abandon();
    return err ? err : ERROR_GEN_FAILURE;
}

/* The status of a write that did not write everything. Lock held. */
static wipc_status awrite_status_locked(wipc__pipe *p, DWORD err)
{
    if (p->shut)
        return WIPC_E_CLOSED;
    if (err == ERROR_OPERATION_ABORTED && p->aw.cancel)
        return WIPC_E_CANCELLED;
    switch (err) {
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED:
    case ERROR_NETNAME_DELETED:
        return WIPC_E_DISCONNECTED;
    default:
        break;
    }
    if (p->aw.close_deferred || p->aw.cancel)
        return p->aw.close_deferred ? WIPC_E_DISCONNECTED : WIPC_E_CANCELLED;
    wipc__log(WIPC_LOG_WARN, "WriteFile(%s) failed: Win32 error %lu", wipc__win_pname(p), (unsigned long)err);
    return WIPC_E_SYSTEM;
}

static void awrite_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted)
{
    wipc__pipe *p = CONTAINING_RECORD(op, wipc__pipe, aw.op);
    if (!posted) {
        p->aw.done += n;
        if (err == 0 && p->aw.done < p->aw.len && !p->message_mode) {
            AcquireSRWLockExclusive(&p->lock);
            int go_on = !p->shut && !p->aw.cancel && !p->aw.close_deferred;
            ReleaseSRWLockExclusive(&p->lock);
            err = go_on ? awrite_issue(p) : ERROR_OPERATION_ABORTED;
            if (err == 0)
                return; /* the next piece's packet comes here again */
        }
    }
    AcquireSRWLockExclusive(&p->lock);
    wipc_status st =
        err == 0 && p->aw.done >= p->aw.len ? WIPC_OK : awrite_status_locked(p, err ? err : ERROR_GEN_FAILURE);
    size_t written = p->aw.done;
    struct wipc__conn *conn = p->conn;
    const wipc__pipe_calls *calls = p->calls;
    p->aw.pending = 0;
    p->aw.cancel = 0;
    int deferred = p->aw.close_deferred;
    ReleaseSRWLockExclusive(&p->lock);
    /* The core may start the next write from in here; a pipe whose end was deferred refuses it
     * (closed_reported), so `deferred` still holds afterwards. */
    calls->write_done(conn, st, written);
    if (deferred)
        calls->closed(conn, p->aw.close_why); /* last touch of p */
}

wipc_status wipc__plat_pipe_write_start(wipc__pipe *p, const void *buf, size_t len)
{
    if (p->message_mode && len > (size_t)0xFFFFFFFFu)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "WriteFile(%s): a message of %llu bytes is too large",
                           wipc__win_pname(p), (unsigned long long)len);
    AcquireSRWLockExclusive(&p->lock);
    wipc_status st = WIPC_OK;
    if (!p->started)
        st = wipc__error(WIPC_E_INVALID_STATE, 0, "WriteFile(%s): the pipe is not started", wipc__win_pname(p));
    else if (p->shut)
        st = wipc__error(WIPC_E_CLOSED, 0, "WriteFile(%s): the pipe was shut down", wipc__win_pname(p));
    else if (p->closed_reported || p->stop)
        st = wipc__error(WIPC_E_DISCONNECTED, 0, "WriteFile(%s): the connection has ended", wipc__win_pname(p));
    else if (p->aw.pending)
        st = wipc__error(WIPC_E_INVALID_STATE, 0, "WriteFile(%s): a write is already in flight", wipc__win_pname(p));
    if (st != WIPC_OK) {
        ReleaseSRWLockExclusive(&p->lock);
        return st;
    }
    p->aw.pending = 1;
    p->aw.cancel = 0;
    p->aw.buf = (const uint8_t *)buf;
    p->aw.len = len;
    p->aw.done = 0;
    ReleaseSRWLockExclusive(&p->lock);

    DWORD err = awrite_issue(p);
    if (err == 0)
        return WIPC_OK;
    /* failed at once: report it on the I/O thread like any completion */
    if (wipc__win_iocp_post(&p->aw.op, err) == WIPC_OK)
        return WIPC_OK;
    AcquireSRWLockExclusive(&p->lock);
    p->aw.pending = 0;
    int deferred = p->aw.close_deferred;
    ReleaseSRWLockExclusive(&p->lock);
    if (deferred) /* the port is failing: the end cannot be reported either */
        wipc__log(WIPC_LOG_ERROR, "pipe %s: the end cannot be reported (PostQueuedCompletionStatus failed)",
                  wipc__win_pname(p));
    return wipc__error(WIPC_E_SYSTEM, err, "WriteFile(%s) failed and its failure cannot be queued", wipc__win_pname(p));
}

void wipc__plat_pipe_write_cancel(wipc__pipe *p)
{
    AcquireSRWLockExclusive(&p->lock);
    if (p->aw.pending && !p->aw.cancel) {
        p->aw.cancel = 1;
        CancelIoEx(p->h, &p->aw.op.ov);
    }
    ReleaseSRWLockExclusive(&p->lock);
}
