/*
 * pipe.c - one connected named pipe (client or accepted server instance): names, connect, reading
 * through the I/O completion port, blocking writes, pause, shutdown, free, peer pid, impersonation.
 * The serving side (instances waiting in ConnectNamedPipe) is in pipe_listen.c.
 *
 * Names: a wipc name maps to \\.\pipe\wipc-<name>; a name starting with "\\" is a full pipe path used
 * as is (UTF-8 -> UTF-16 with MultiByteToWideChar).
 *
 * Connect: CreateFileW(GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES, OPEN_EXISTING,
 * FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION), retried while the name does
 * not exist (ERROR_FILE_NOT_FOUND, every 10 ms) or is busy (ERROR_PIPE_BUSY -> WaitNamedPipeW in 100 ms slices), up to
 * the deadline. FILE_WRITE_DATA rather than GENERIC_WRITE: GENERIC_WRITE includes FILE_APPEND_DATA =
 * FILE_CREATE_PIPE_INSTANCE, which a client never needs and a WIPC_PIPE_ANY_USER DACL does not grant.
 * WIPC_PIPE_RAW: SetNamedPipeHandleState(PIPE_READMODE_MESSAGE).
 *
 * Threading (see also iocp.c):
 *  - Reads: every ReadFile is issued on the I/O thread into the pipe's 64 KiB buffer; wipc__plat_pipe_start
 *    and a resume only post a packet (PostQueuedCompletionStatus) that makes the I/O thread issue it.
 *    One read op per pipe is outstanding at most (read_pending); its completion calls wipc__core_read and
 *    re-issues unless paused; its failure (or a shutdown) calls wipc__core_closed exactly once, as the
 *    handler's last action, since the core may free the pipe right after.
 *  - Blocking writes never go through the port: the OVERLAPPED's hEvent has its low bit set (documented for
 *    GetQueuedCompletionStatus: no completion packet is queued), and the writer waits with
 *    WaitForMultipleObjects on that event and the pipe's cancel event, so the core may write from
 *    inside wipc__core_read on the I/O thread. Timeout or shutdown: CancelIoEx(h, &ov), then wait for
 *    the operation to finish and GetOverlappedResult to learn how much was written.
 *  - The write queue's writes (wipc__plat_pipe_write_start, pipe_write_async.c) do go through the
 *    port; while one is in flight the end of the read side waits for its packet (read_finish).
 *  - Shutdown sets a flag under the pipe lock, sets the cancel event and CancelIoEx(h, NULL): the read
 *    ends with ERROR_OPERATION_ABORTED -> wipc__core_closed(WIPC_E_CLOSED); a paused pipe (no read in
 *    flight) gets a posted packet that reports the same on the I/O thread.
 *  - Caller mode (see dll/common/pipe/pipe.h): after the handshake a connection without callbacks is read
 *    by the waiting caller's thread (wipc__plat_pipe_read): an overlapped ReadFile on rov whose event
 *    has the low bit set (no completion packet), waited on alone (a shutdown cancels the read, which
 *    completes it); timeout: CancelIoEx(h, &rov) and wait for it to finish. The I/O thread
 *    issues nothing meanwhile (io == 0) until wipc__plat_pipe_io; its only job left is to report the
 *    end (a shutdown or stop posts a packet: read_issue sees it and calls read_finish).
 *  - No ResetEvent before ReadFile / WriteFile: both reset the OVERLAPPED's event when they start (one
 *    wineserver round trip less per call under Wine).
 *  - Free: CloseHandle only (no DisconnectNamedPipe, which would discard the data the client has not
 *    read yet - e.g. a last reply), then the listener is told a slot is free.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win32/pipe_win32.h"

#define PIPE_COALESCE_MAX                                                                                              \
  (68u * 1024u) /* gathered writes up to this are copied into one WriteFile (a 64 KiB payload + header) */
#define CONNECT_RETRY_MS   10
#define NOT_FOUND_GRACE_MS 250 /* ERROR_FILE_NOT_FOUND retried this long before WIPC_E_NOT_FOUND */
#define BUSY_WAIT_MS       100 /* longest WaitNamedPipeW before CreateFileW is tried again */
#define CANCEL_WAIT_MS     10000 /* how long a cancelled write may take to finish */

/* ---- strings and names ------------------------------------------------------------------------- */

static int is_full_path(const char *name)
{
    return name[0] == '\\' && name[1] == '\\';
}

wipc_status wipc__win_pipe_path(const char *name, wchar_t **w, char **u8)
{
    static const char prefix[] = "\\\\.\\pipe\\wipc-";
    if (w)
        *w = NULL;
    if (u8)
        *u8 = NULL;
    size_t len = strlen(name);
    if (len > 32000)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "pipe name is too long (%u bytes)", (unsigned)len);
    size_t cap = len + sizeof prefix + 1;
    char *path = (char *)malloc(cap);
    if (!path)
        return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "out of memory for pipe name %s", name);
    if (is_full_path(name))
        memcpy(path, name, len + 1);
    else
        /* Win32 path canonicalisation strips trailing dots from \\.\pipe\ paths ("a." would be "a"):
         * such names get a '~' (outside the name charset, so no other name maps there). */
        snprintf(path, cap, "%s%s%s", prefix, name, name[len - 1] == '.' ? "~" : "");
    if (w) {
        *w = wipc__win_utf8_to_wide(path);
        if (!*w) {
            DWORD err = GetLastError();
            wipc_status st = wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_INVALID_ARG, err,
                                         "pipe name %s is not valid UTF-8", path);
            free(path);
            return st;
        }
    }
    if (u8)
        *u8 = path;
    else
        free(path);
    return WIPC_OK;
}

/* ---- the pipe object --------------------------------------------------------------------------- */

static void read_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted);

wipc__pipe *wipc__win_pipe_new(HANDLE h, int server_side, int message_mode, const wipc__pipe_calls *calls,
                               wipc__listener *listener, void (*release)(wipc__listener *l), const char *name)
{
    wipc__pipe *p = (wipc__pipe *)calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->wev = CreateEventW(NULL, TRUE, FALSE, NULL);
    p->cancel_ev = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!p->wev || !p->cancel_ev) {
        DWORD err = GetLastError();
        if (p->wev)
            CloseHandle(p->wev);
        if (p->cancel_ev)
            CloseHandle(p->cancel_ev);
        free(p);
        SetLastError(err);
        return NULL;
    }
    if (name) {
        size_t len = strlen(name);
        if ((p->name = (char *)malloc(len + 1)) != NULL)
            memcpy(p->name, name, len + 1);
    }
    p->h = h;
    p->server_side = server_side;
    p->message_mode = message_mode;
    p->associated = server_side; /* instances are associated by the listener before ConnectNamedPipe */
    p->calls = calls;
    p->listener = listener;
    p->release = release;
    InitializeSRWLock(&p->lock);
    wipc__win_iocp_op_init(&p->rop, read_done);
    wipc__win_awrite_init(p);
    ULONG pid = 0;
    if (server_side ? GetNamedPipeClientProcessId(h, &pid) : GetNamedPipeServerProcessId(h, &pid))
        p->peer_pid = (uint32_t)pid;
    return p;
}

#define pname wipc__win_pname

int wipc__plat_pipe_alive(wipc__pipe *p)
{
    DWORD avail = 0;
    if (!PeekNamedPipe(p->h, NULL, 0, NULL, &avail, NULL)) {
        DWORD err = GetLastError();
        return !(err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED || err == ERROR_NO_DATA);
    }
    return 1;
}

int wipc__plat_pipe_message_mode(wipc__pipe *p)
{
    return p->message_mode;
}

void wipc__plat_pipe_peer(wipc__pipe *p, uint32_t *pid, uint32_t *uid)
{
    if (pid)
        *pid = p ? p->peer_pid : 0;
    if (uid)
        *uid = 0;
}

/* ---- connect ----------------------------------------------------------------------------------- */

wipc_status wipc__plat_connect(const char *name, const wipc__pipe_cfg *cfg, int32_t timeout_ms, wipc__pipe **out)
{
    *out = NULL;
    wchar_t *wpath = NULL;
    char *path = NULL;
    wipc_status st = wipc__win_pipe_path(name, &wpath, &path);
    if (st != WIPC_OK)
        return st;
    int raw = cfg && (cfg->flags & WIPC_PIPE_RAW);
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    HANDLE h = INVALID_HANDLE_VALUE;
    int saw_busy = 0;
    wipc__deadline grace = wipc__deadline_in(NOT_FOUND_GRACE_MS);

    for (;;) {
        h = CreateFileW(wpath, GENERIC_READ | FILE_WRITE_DATA | FILE_WRITE_ATTRIBUTES, 0, NULL, OPEN_EXISTING,
                        FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION, NULL);
        if (h != INVALID_HANDLE_VALUE)
            break;
        DWORD err = GetLastError();
        DWORD left = wipc__win_wait_ms(deadline);
        if (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND) {
            /* no server (yet), or it is between two instances */
            /* nobody serves it: at once - after a short grace, since a server whose max_instances are
             * all connected has no instance of the name between closing one and creating the next */
            if (!saw_busy && !(cfg && (cfg->flags & WIPC_PIPE_WAIT_FOR_SERVER)) && wipc__deadline_passed(grace)) {
                st = wipc__error(WIPC_E_NOT_FOUND, err,
                                 "CreateFileW(%s) failed: no server is listening "
                                 "(WIPC_PIPE_WAIT_FOR_SERVER waits for one)",
                                 path);
                goto fail;
            }
            if (left == 0) {
                if (saw_busy)
                    st = wipc__error(WIPC_E_TIMEOUT, ERROR_PIPE_BUSY,
                                     "CreateFileW(%s): every instance stayed busy for %d ms", path, (int)timeout_ms);
                else
                    st = wipc__error(WIPC_E_NOT_FOUND, err, "CreateFileW(%s) failed: no server is listening", path);
                goto fail;
            }
            Sleep(left < CONNECT_RETRY_MS ? left : CONNECT_RETRY_MS);
            continue;
        }
        if (err == ERROR_PIPE_BUSY) {
            saw_busy = 1;
            if (left == 0) {
                st = wipc__error(WIPC_E_TIMEOUT, err, "CreateFileW(%s): every instance stayed busy for %d ms", path,
                                 (int)timeout_ms);
                goto fail;
            }
            /* NMPWAIT_USE_DEFAULT_WAIT is 0: never pass 0. Whatever WaitNamedPipeW says
             * (ERROR_SEM_TIMEOUT; ERROR_FILE_NOT_FOUND when the last instance closed; Wine also
             * returns unmapped codes then), CreateFileW is tried again and decides, bounded by the
             * deadline. The wait is cut in BUSY_WAIT_MS slices: an instance that came back while we
             * were not yet waiting (a server dropping a squatter) is not always reported (seen under
             * Wine: a connect slept through its whole 15 s timeout with a free instance there). */
            if (!WaitNamedPipeW(wpath, left < BUSY_WAIT_MS ? left : BUSY_WAIT_MS)) {
                DWORD werr = GetLastError();
                if (werr != ERROR_SEM_TIMEOUT && werr != ERROR_TIMEOUT) {
                    left = wipc__win_wait_ms(deadline);
                    Sleep(left < CONNECT_RETRY_MS ? left : CONNECT_RETRY_MS);
                }
            }
            continue;
        }
        if (err == ERROR_ACCESS_DENIED) {
            st = wipc__error(WIPC_E_ACCESS_DENIED, err, "CreateFileW(%s) failed: the pipe's DACL refuses this user",
                             path);
            goto fail;
        }
        st = wipc__os_error_status(err);
        if (st != WIPC_E_INVALID_ARG && st != WIPC_E_NOT_FOUND && st != WIPC_E_NO_MEMORY)
            st = WIPC_E_SYSTEM; /* e.g. ERROR_BAD_NETPATH -> NOT_FOUND, ERROR_INVALID_NAME -> INVALID_ARG */
        st = wipc__error(st, err, "CreateFileW(%s) failed", path);
        goto fail;
    }

    int message_mode = 0;
    if (raw) {
        DWORD mode = PIPE_READMODE_MESSAGE;
        if (SetNamedPipeHandleState(h, &mode, NULL, NULL)) {
            message_mode = 1;
        } else {
            DWORD err = GetLastError();
            DWORD type = 0;
            if (GetNamedPipeInfo(h, &type, NULL, NULL, NULL) && !(type & PIPE_TYPE_MESSAGE)) {
                /* a foreign byte-type pipe: keep byte reads, every chunk ends a "message" */
                wipc__log(WIPC_LOG_DEBUG, "pipe %s is a byte-type pipe: RAW connection reads bytes", path);
            } else {
                st = wipc__error(WIPC_E_SYSTEM, err, "SetNamedPipeHandleState(%s, PIPE_READMODE_MESSAGE) failed", path);
                CloseHandle(h);
                goto fail;
            }
        }
    }
    wipc__pipe *p = wipc__win_pipe_new(h, 0, message_mode, cfg->calls, NULL, NULL, path);
    if (!p) {
        st = wipc__error(WIPC_E_NO_MEMORY, GetLastError(), "out of memory for a connection to %s", path);
        CloseHandle(h);
        goto fail;
    }
    free(wpath);
    free(path);
    *out = p;
    return WIPC_OK;

fail:
    free(wpath);
    free(path);
    return st;
}

/* ---- reading (I/O thread) ---------------------------------------------------------------------- */

static wipc_status read_error_status(wipc__pipe *p, DWORD err)
{
    switch (err) {
    case ERROR_BROKEN_PIPE:
    case ERROR_PIPE_NOT_CONNECTED:
    case ERROR_NO_DATA:
    case ERROR_HANDLE_EOF:
    case ERROR_PIPE_LISTENING:
    case ERROR_NETNAME_DELETED:
        return WIPC_E_DISCONNECTED;
    case ERROR_OPERATION_ABORTED:
        return WIPC_E_CLOSED;
    default: {
        char text[256];
        wipc__os_error_text(err, text, sizeof text);
        wipc__log(WIPC_LOG_WARN, "ReadFile(%s) failed: Win32 error %lu: %s", pname(p), (unsigned long)err, text);
        wipc_status st = wipc__os_error_status(err);
        return st == WIPC_OK ? WIPC_E_SYSTEM : st;
    }
    }
}

/* Ends the read side: wipc__core_closed exactly once. The caller's last touch of p. */
static void read_finish(wipc__pipe *p, DWORD err)
{
    AcquireSRWLockExclusive(&p->lock);
    int shut = p->shut != 0;
    p->read_pending = 0;
    p->closed_reported = 1;
    struct wipc__conn *conn = p->conn;
    const wipc__pipe_calls *calls = p->calls;
    int deferred = wipc__win_awrite_defer_close_locked(p); /* an async write holds the pipe */
    ReleaseSRWLockExclusive(&p->lock);
    wipc_status why = shut ? WIPC_E_CLOSED : read_error_status(p, err);
    if (deferred)
        p->aw.close_why = why; /* the write's completion (this thread, later) reports the end */
    else
        calls->closed(conn, why);
}

/* Issues the next ReadFile unless paused or shut. I/O thread, read_pending == 1, no lock held. */
static void read_issue(wipc__pipe *p)
{
    AcquireSRWLockExclusive(&p->lock);
    if (p->shut || p->stop) {
        ReleaseSRWLockExclusive(&p->lock);
        read_finish(p, p->shut ? ERROR_OPERATION_ABORTED : ERROR_BROKEN_PIPE);
        return;
    }
    if (p->paused || !p->io) {
        p->read_pending = 0; /* wipc__plat_pipe_pause(p, 0) / wipc__plat_pipe_io post a packet to resume */
        ReleaseSRWLockExclusive(&p->lock);
        return;
    }
    ReleaseSRWLockExclusive(&p->lock);

    ZeroMemory(&p->rop.ov, sizeof p->rop.ov);
    wipc__win_iocp_begin();
    BOOL ok = ReadFile(p->h, p->rbuf, PIPE_READ_BUF, NULL, &p->rop.ov);
    DWORD err = ok ? 0 : GetLastError();
    if (ok || err == ERROR_IO_PENDING || err == ERROR_MORE_DATA) {
        /* a packet will come (also for immediate success and ERROR_MORE_DATA). A shutdown that ran
         * between the check above and ReadFile found nothing to cancel: cancel it now. The packet
         * cannot be handled before we return (this is the I/O thread), so p is still alive. */
        AcquireSRWLockExclusive(&p->lock);
        if (p->shut)
            CancelIoEx(p->h, &p->rop.ov);
        ReleaseSRWLockExclusive(&p->lock);
        return;
    }
    wipc__win_iocp_abandon();
    read_finish(p, err);
}

static void read_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted)
{
    wipc__pipe *p = CONTAINING_RECORD(op, wipc__pipe, rop);
    if (!posted) {
        if (err != 0 && err != ERROR_MORE_DATA) {
            read_finish(p, err);
            return;
        }
        /* byte mode: every chunk is whole (end_of_message 1); message mode: a zero-length message
         * is delivered too, and ERROR_MORE_DATA means the message goes on. */
        if ((n > 0 || (p->message_mode && err == 0)) &&
            !p->calls->read(p->conn, p->rbuf, n, err == ERROR_MORE_DATA ? 0 : 1)) {
            /* caller mode from now on: the waiting threads read; the I/O thread only reports the end */
            AcquireSRWLockExclusive(&p->lock);
            p->io = 0;
            ReleaseSRWLockExclusive(&p->lock);
        }
    }
    read_issue(p);
}

wipc_status wipc__plat_pipe_start(wipc__pipe *p, struct wipc__conn *conn)
{
    if (!p->associated) {
        wipc_status st = wipc__win_iocp_associate(p->h, pname(p));
        if (st != WIPC_OK)
            return st;
        p->associated = 1;
    }
    AcquireSRWLockExclusive(&p->lock);
    if (p->started) {
        ReleaseSRWLockExclusive(&p->lock);
        return wipc__error(WIPC_E_INVALID_STATE, 0, "pipe %s is already started", pname(p));
    }
    p->conn = conn;
    p->started = 1;
    p->io = 1;
    int kick = !p->paused || p->shut;
    if (kick)
        p->read_pending = 1;
    ReleaseSRWLockExclusive(&p->lock);
    if (kick) {
        wipc_status st = wipc__win_iocp_post(&p->rop, 0);
        if (st != WIPC_OK) {
            AcquireSRWLockExclusive(&p->lock);
            p->started = 0;
            p->read_pending = 0;
            p->conn = NULL;
            ReleaseSRWLockExclusive(&p->lock);
            return st;
        }
    }
    return WIPC_OK;
}

void wipc__plat_pipe_pause(wipc__pipe *p, int paused)
{
    AcquireSRWLockExclusive(&p->lock);
    if (!p->io) { /* caller mode: nothing to pause */
        ReleaseSRWLockExclusive(&p->lock);
        return;
    }
    p->paused = paused != 0;
    int kick = !paused && p->started && !p->read_pending && !p->closed_reported && !p->shut;
    if (kick)
        p->read_pending = 1;
    ReleaseSRWLockExclusive(&p->lock);
    if (kick && wipc__win_iocp_post(&p->rop, 0) != WIPC_OK) {
        AcquireSRWLockExclusive(&p->lock);
        p->read_pending = 0;
        ReleaseSRWLockExclusive(&p->lock);
        wipc__log(WIPC_LOG_ERROR, "pipe %s: cannot resume reading (PostQueuedCompletionStatus failed)", pname(p));
    }
}

/* Posts the read packet so that the I/O thread runs read_issue (to read, or to report the end).
 * Lock held by the caller; `what` names the reason in the log. */
static void kick_locked(wipc__pipe *p, const char *what)
{
    if (!p->started || p->read_pending || p->closed_reported)
        return;
    p->read_pending = 1;
    if (wipc__win_iocp_post(&p->rop, 0) != WIPC_OK) {
        p->read_pending = 0;
        wipc__log(WIPC_LOG_ERROR, "pipe %s: cannot %s (PostQueuedCompletionStatus failed)", pname(p), what);
    }
}

void wipc__plat_pipe_io(wipc__pipe *p)
{
    AcquireSRWLockExclusive(&p->lock);
    if (p->started && !p->closed_reported && !p->io) {
        p->io = 1;
        p->paused = 0;
        kick_locked(p, "resume reading");
    }
    ReleaseSRWLockExclusive(&p->lock);
}

void wipc__plat_pipe_stop(wipc__pipe *p)
{
    AcquireSRWLockExclusive(&p->lock);
    if (!p->stop) {
        p->stop = 1;
        if (p->read_pending && p->io)
            CancelIoEx(p->h, &p->rop.ov); /* its completion reports the end */
        kick_locked(p, "report the end");
    }
    ReleaseSRWLockExclusive(&p->lock);
}

void wipc__plat_pipe_shutdown(wipc__pipe *p)
{
    AcquireSRWLockExclusive(&p->lock);
    if (p->shut) {
        ReleaseSRWLockExclusive(&p->lock);
        return;
    }
    InterlockedExchange(&p->shut, 1);
    /* no read in flight (paused): the I/O thread must still report the end */
    int kick = p->started && !p->read_pending && !p->closed_reported;
    if (kick)
        p->read_pending = 1;
    int stuck = p->aw.pending || InterlockedCompareExchange(&p->write_waiting, 0, 0);
    ReleaseSRWLockExclusive(&p->lock);
    SetEvent(p->cancel_ev);
    CancelIoEx(p->h, NULL); /* the pending read, and a write in progress */
    /* A write of ours is stuck: the peer does not take what we send, so nothing unread would ever be
     * read. Force it off now (its blocked writes and reads fail), as shutdown(2) does on POSIX, rather
     * than when the handle is closed - which may be much later (a connection the core ended stays in
     * the handle table until the user closes it), with the peer blocked in WriteFile meanwhile. A
     * graceful end (nothing stuck) keeps CloseHandle only, so the peer still reads a last reply.
     * The price: whole frames written before the stuck one and still unread in the pipe are
     * discarded too (a slow reader closed on mid-write loses them; the stuck frame was torn anyway). */
    if (stuck && p->server_side)
        DisconnectNamedPipe(p->h);
    if (kick && wipc__win_iocp_post(&p->rop, 0) != WIPC_OK)
        wipc__log(WIPC_LOG_ERROR, "pipe %s: cannot report its shutdown (PostQueuedCompletionStatus failed)", pname(p));
}

/* ---- reading in caller mode (the core's reader role, on the caller's thread) --------------------- */

wipc_status wipc__plat_pipe_read(wipc__pipe *p, void *buf, size_t cap, int32_t timeout_ms, size_t *n)
{
    *n = 0;
    if (p->shut)
        return WIPC_E_CLOSED;
    if (p->read_broken)
        return wipc__error(WIPC_E_SYSTEM, 0, "ReadFile(%s): an earlier cancelled read never finished", pname(p));
    if (!p->rev && !(p->rev = CreateEventW(NULL, TRUE, FALSE, NULL)))
        return wipc__error(WIPC_E_SYSTEM, GetLastError(), "CreateEventW for a read on %s failed", pname(p));
again:
    ZeroMemory(&p->rov, sizeof p->rov);
    p->rov.hEvent = (HANDLE)((ULONG_PTR)p->rev | 1); /* low bit: no completion packet on the port */
    DWORD got = 0, len = cap > (1u << 30) ? (1u << 30) : (DWORD)cap;
    BOOL ok = ReadFile(p->h, buf, len, NULL, &p->rov);
    DWORD err = ok ? 0 : GetLastError();
    if (!ok && err == ERROR_IO_PENDING) {
        /* One object to wait on: a shutdown cancels the read (CancelIoEx(h, NULL)), which completes
         * it. A shutdown that came before the ReadFile found nothing to cancel: check after it. */
        DWORD r = InterlockedCompareExchange(&p->shut, 0, 0)
                      ? WAIT_TIMEOUT
                      : WaitForSingleObject(p->rev, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
        if (r != WAIT_OBJECT_0) {
            int cancelled = InterlockedCompareExchange(&p->shut, 0, 0) != 0;
            CancelIoEx(p->h, &p->rov);
            if (WaitForSingleObject(p->rev, CANCEL_WAIT_MS) != WAIT_OBJECT_0) {
                p->read_broken = 1; /* the OVERLAPPED and the buffer may still be written: never reuse */
                wipc__log(WIPC_LOG_ERROR, "ReadFile(%s): the cancelled read did not finish", pname(p));
                return cancelled || p->shut ? WIPC_E_CLOSED : WIPC_E_TIMEOUT;
            }
            ok = GetOverlappedResult(p->h, &p->rov, &got, FALSE);
            if (ok && got > 0) { /* it completed before the cancel took */
                *n = got;
                return WIPC_OK;
            }
            return cancelled || p->shut ? WIPC_E_CLOSED : WIPC_E_TIMEOUT;
        }
        ok = GetOverlappedResult(p->h, &p->rov, &got, FALSE);
        err = ok ? 0 : GetLastError();
    } else if (ok) {
        ok = GetOverlappedResult(p->h, &p->rov, &got, FALSE);
        err = ok ? 0 : GetLastError();
    }
    if (ok || err == ERROR_MORE_DATA) {
        *n = got;
        if (got == 0 && timeout_ms != 0)
            goto again; /* an empty write by the peer: nothing to decode, read on */
        return got > 0 ? WIPC_OK : WIPC_E_TIMEOUT;
    }
    if (p->shut)
        return WIPC_E_CLOSED;
    wipc_status st = read_error_status(p, err);
    if (st != WIPC_E_DISCONNECTED && st != WIPC_E_CLOSED)
        return wipc__error(st, err, "ReadFile(%s) failed", pname(p));
    return st;
}

wipc_status wipc__plat_pipe_read2(wipc__pipe *p, void *a, size_t alen, void *b, size_t blen, int32_t timeout_ms,
                                  size_t *n)
{
    (void)p, (void)a, (void)alen, (void)b, (void)blen, (void)timeout_ms;
    *n = 0;
    return WIPC_E_NOT_SUPPORTED; /* ReadFileScatter is for files, not pipes */
}

/* ---- writing (any thread, the I/O thread included) --------------------------------------------- */

static wipc_status write_error(wipc__pipe *p, DWORD err, const char *what)
{
    if (p->shut || err == ERROR_OPERATION_ABORTED)
        return wipc__error(WIPC_E_CLOSED, 0, "%s(%s): the pipe was shut down", what, pname(p));
    switch (err) {
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED:
    case ERROR_NETNAME_DELETED:
        return wipc__error(WIPC_E_DISCONNECTED, err, "%s(%s) failed: the peer closed the pipe", what, pname(p));
    default: {
        wipc_status st = wipc__os_error_status(err);
        if (st == WIPC_OK || st == WIPC_E_NOT_FOUND || st == WIPC_E_ADDR_IN_USE)
            st = WIPC_E_SYSTEM;
        return wipc__error(st, err, "%s(%s) failed", what, pname(p));
    }
    }
}

/* One WriteFile of len bytes, waiting until `deadline`. Adds what was written to *written. */
static wipc_status write_once(wipc__pipe *p, const uint8_t *buf, DWORD len, wipc__deadline deadline, size_t *written)
{
    if (p->shut)
        return wipc__error(WIPC_E_CLOSED, 0, "WriteFile(%s): the pipe was shut down", pname(p));
    if (p->write_broken)
        return wipc__error(WIPC_E_DISCONNECTED, 0, "WriteFile(%s): an earlier write could not be cancelled", pname(p));
    ZeroMemory(&p->wov, sizeof p->wov); /* WriteFile resets wev itself */
    p->wov.hEvent = (HANDLE)((ULONG_PTR)p->wev | 1); /* low bit: no completion packet on the port */
    DWORD n = 0;
    BOOL ok = WriteFile(p->h, buf, len, NULL, &p->wov);
    if (!ok) {
        DWORD err = GetLastError();
        if (err != ERROR_IO_PENDING)
            return write_error(p, err, "WriteFile");
        HANDLE hs[2] = { p->wev, p->cancel_ev };
        InterlockedExchange(&p->write_waiting, 1);
        DWORD r = WaitForMultipleObjects(2, hs, FALSE, wipc__win_wait_ms(deadline));
        InterlockedExchange(&p->write_waiting, 0);
        if (r != WAIT_OBJECT_0) {
            int cancelled = r == WAIT_OBJECT_0 + 1;
            CancelIoEx(p->h, &p->wov);
            if (WaitForSingleObject(p->wev, CANCEL_WAIT_MS) != WAIT_OBJECT_0) {
                p->write_broken = 1; /* the OVERLAPPED is still in use: never reuse it */
                wipc__log(WIPC_LOG_ERROR, "WriteFile(%s): the cancelled write did not finish", pname(p));
                return cancelled ? wipc__error(WIPC_E_CLOSED, 0, "WriteFile(%s): the pipe was shut down", pname(p))
                                 : wipc__error(WIPC_E_TIMEOUT, ERROR_SEM_TIMEOUT, "WriteFile(%s) timed out", pname(p));
            }
            ok = GetOverlappedResult(p->h, &p->wov, &n, FALSE);
            *written += n;
            if (ok && n == len)
                return WIPC_OK; /* it finished before the cancel took */
            if (cancelled || p->shut)
                return wipc__error(WIPC_E_CLOSED, 0, "WriteFile(%s): the pipe was shut down", pname(p));
            return wipc__error(WIPC_E_TIMEOUT, ERROR_SEM_TIMEOUT,
                               "WriteFile(%s): no room in the pipe in time (%lu of %lu bytes written)", pname(p),
                               (unsigned long)n, (unsigned long)len);
        }
    }
    if (!GetOverlappedResult(p->h, &p->wov, &n, FALSE)) {
        DWORD err = GetLastError();
        *written += n;
        return write_error(p, err, "WriteFile");
    }
    *written += n;
    if (n != len) /* pipes write all or fail; be safe */
        return wipc__error(WIPC_E_SYSTEM, 0, "WriteFile(%s) wrote %lu of %lu bytes", pname(p), (unsigned long)n,
                           (unsigned long)len);
    return WIPC_OK;
}

wipc_status wipc__plat_pipe_write(wipc__pipe *p, const wipc__iov *iov, size_t n, int32_t timeout_ms, size_t *written)
{
    size_t dummy;
    if (!written)
        written = &dummy;
    *written = 0;
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    size_t total = 0;

    for (size_t i = 0; i < n; i++)
        total += iov[i].len;

    if (p->message_mode && total > (size_t)0xFFFFFFFFu)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "WriteFile(%s): a message of %llu bytes is too large", pname(p),
                           (unsigned long long)total);
    if (total == 0) {
        if (!p->message_mode)
            return p->shut ? wipc__error(WIPC_E_CLOSED, 0, "WriteFile(%s): the pipe was shut down", pname(p)) : WIPC_OK;
        static const uint8_t none = 0;
        return write_once(p, &none, 0, deadline, written); /* an empty message */
    }

    /* a single piece, or pieces that must go as one message: one WriteFile */
    if (n == 1 && (p->message_mode || total <= PIPE_WRITE_CHUNK))
        return write_once(p, (const uint8_t *)iov[0].base, (DWORD)total, deadline, written);

    if (total <= PIPE_COALESCE_MAX || p->message_mode) {
        uint8_t *buf;
        int heap = 0;
        if (total <= PIPE_COALESCE_MAX) {
            if (!p->wbuf && !(p->wbuf = (uint8_t *)malloc(PIPE_COALESCE_MAX)))
                return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "WriteFile(%s): out of memory", pname(p));
            buf = p->wbuf;
        } else {
            /* a large message on a message-mode pipe: it must still be one WriteFile */
            if (!(buf = (uint8_t *)malloc(total)))
                return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY,
                                   "WriteFile(%s): out of memory for a %llu-byte message", pname(p),
                                   (unsigned long long)total);
            heap = 1;
        }
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            if (iov[i].len)
                memcpy(buf + off, iov[i].base, iov[i].len);
            off += iov[i].len;
        }
        wipc_status st = write_once(p, buf, (DWORD)total, deadline, written);
        if (heap)
            free(buf);
        return st;
    }

    /* byte mode, large: piece by piece (a small header + a big payload = two WriteFile calls) */
    for (size_t i = 0; i < n; i++) {
        const uint8_t *b = (const uint8_t *)iov[i].base;
        size_t left = iov[i].len;
        while (left > 0) {
            DWORD chunk = left > PIPE_WRITE_CHUNK ? PIPE_WRITE_CHUNK : (DWORD)left;
            wipc_status st = write_once(p, b, chunk, deadline, written);
            if (st != WIPC_OK)
                return st;
            b += chunk;
            left -= chunk;
        }
    }
    return WIPC_OK;
}

/* ---- free, impersonation ----------------------------------------------------------------------- */

void wipc__plat_pipe_free(wipc__pipe *p)
{
    if (!p)
        return;
    if (p->h && p->h != INVALID_HANDLE_VALUE)
        CloseHandle(p->h);
    if (p->wev)
        CloseHandle(p->wev);
    if (p->rev)
        CloseHandle(p->rev);
    if (p->cancel_ev)
        CloseHandle(p->cancel_ev);
    wipc__listener *l = p->listener;
    void (*p_release)(wipc__listener *) = p->release;
    free(p->wbuf);
    free(p->name);
    free(p);
    if (l)
        p_release(l); /* the instance is gone: the listener may create another, and drops our reference */
}

wipc_status wipc__plat_pipe_impersonate(wipc__pipe *p)
{
    if (!p->server_side)
        return wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                           "ImpersonateNamedPipeClient(%s): only the server side of a pipe can impersonate", pname(p));
    if (!ImpersonateNamedPipeClient(p->h)) {
        DWORD err = GetLastError();
        wipc_status st = wipc__os_error_status(err);
        if (st != WIPC_E_ACCESS_DENIED && st != WIPC_E_DISCONNECTED)
            st = WIPC_E_SYSTEM;
        return wipc__error(st, err, "ImpersonateNamedPipeClient(%s) failed", pname(p));
    }
    return WIPC_OK;
}

wipc_status wipc__plat_revert_to_self(void)
{
    if (!RevertToSelf())
        return wipc__error(WIPC_E_SYSTEM, GetLastError(), "RevertToSelf failed");
    return WIPC_OK;
}
