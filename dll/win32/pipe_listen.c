/*
 * pipe_listen.c - serving a pipe name: the multi-instance named-pipe server.
 *
 * wipc__plat_listen creates the first instance with CreateNamedPipeW(PIPE_ACCESS_DUPLEX |
 * FILE_FLAG_OVERLAPPED | FILE_FLAG_FIRST_PIPE_INSTANCE, byte mode or - WIPC_PIPE_RAW - message mode,
 * PIPE_REJECT_REMOTE_CLIENTS unless WIPC_PIPE_ALLOW_REMOTE, owner-only DACL from security.c) on the
 * caller's thread, so that a served name is refused at once with WIPC_E_ADDR_IN_USE (ERROR_ACCESS_DENIED
 * or ERROR_PIPE_BUSY, confirmed with a WaitNamedPipeW probe that connects to nothing). Wine ignores
 * FILE_FLAG_FIRST_PIPE_INSTANCE, so the same probe also runs before the first CreateNamedPipeW.
 *
 * From then on the I/O thread keeps exactly one instance waiting in an overlapped ConnectNamedPipe
 * (ERROR_PIPE_CONNECTED: a client came first - a packet is posted to complete it the same way). Each
 * completion hands the instance to wipc__core_accepted and creates the next instance; if
 * CreateNamedPipeW says ERROR_PIPE_BUSY (max_instances all connected), the next instance is created when
 * a slot frees (wipc__plat_listener_slot_free, also called by wipc__plat_pipe_free of an instance).
 *
 * Lifetime: the listener is reference counted: the owner (until wipc__plat_listener_close), each
 * operation in flight (cop: the ConnectNamedPipe, kop: a posted "create an instance" packet) and each
 * accepted pipe (so slot_free stays valid after close). All instance bookkeeping happens under the
 * listener's SRW lock; wipc__core_accepted runs without it, flagged by in_accept, and
 * wipc__plat_listener_close waits for such a call on another thread to return, so after close returns
 * wipc__core_accepted is never called again. Close cancels and closes the waiting instance
 * (CancelIoEx + CloseHandle); the memory goes with the last reference, possibly later on the I/O thread.
 */
#include <stdlib.h>
#include <string.h>

#include "win32_internal.h"

#define PIPE_DEFAULT_BUFFER (128u * 1024u) /* CreateNamedPipeW nIn/OutBufferSize when the options say 0 */

#define ARM_TRIES 8 /* clients that connect and leave before ConnectNamedPipe, in a row */

struct wipc__listener {
    SRWLOCK lock;
    CONDITION_VARIABLE cv; /* in_accept went to 0 */
    volatile LONG refs;
    struct wipc__server *server;
    const wipc__pipe_calls *calls; /* the core's entry points, given to each accepted pipe */
    wchar_t *wpath;
    char *path; /* UTF-8, for messages */
    wipc__win_sa sa;
    DWORD open_mode;
    DWORD pipe_mode;
    DWORD max_instances;
    DWORD buffer_size;
    int message_mode;

    int closed;
    HANDLE pend; /* the instance offered to the next client, or NULL */
    int connect_busy; /* cop in flight */
    int kick_posted; /* kop in flight */
    int want_instance; /* the last CreateNamedPipeW failed: retry when a slot frees */
    int in_accept; /* wipc__core_accepted is running ... */
    DWORD accept_thread; /* ... on this thread */
    wipc__win_iocp_op cop;
    wipc__win_iocp_op kop;
};

static void connect_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted);
static void kick_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted);

/* An accepted pipe was freed (wipc__plat_pipe_free calls it through wipc__win_pipe_new's release): its
 * instance is gone, so another may be created now, and the pipe's reference goes. */
static void instance_gone(wipc__listener *l)
{
    wipc__plat_listener_slot_free(l);
    wipc__win_listener_unref(l);
}

static void listener_free(wipc__listener *l)
{
    wipc__win_sa_free(&l->sa);
    free(l->wpath);
    free(l->path);
    free(l);
}

void wipc__win_listener_unref(wipc__listener *l)
{
    if (InterlockedDecrement(&l->refs) == 0)
        listener_free(l);
}

static HANDLE create_instance(wipc__listener *l, int first)
{
    DWORD open_mode = l->open_mode | (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0);
    return CreateNamedPipeW(l->wpath, open_mode, l->pipe_mode, l->max_instances, l->buffer_size, l->buffer_size, 0,
                            &l->sa.sa);
}

/* Makes sure an instance waits in ConnectNamedPipe. I/O thread (or before any I/O starts), lock held. */
static void arm(wipc__listener *l)
{
    for (int tries = 0; tries < ARM_TRIES; tries++) {
        if (l->closed || l->connect_busy)
            return;
        if (!l->pend) {
            HANDLE h = create_instance(l, 0);
            if (h == INVALID_HANDLE_VALUE) {
                DWORD err = GetLastError();
                l->want_instance = 1;
                if (err != ERROR_PIPE_BUSY) /* BUSY: all max_instances in use, wait for a slot */
                    wipc__log(WIPC_LOG_WARN,
                              "CreateNamedPipeW(%s) failed (Win32 error %lu): no new client "
                              "is accepted until a connection closes",
                              l->path, (unsigned long)err);
                return;
            }
            if (wipc__win_iocp_associate(h, l->path) != WIPC_OK) {
                wipc__log(WIPC_LOG_ERROR, "CreateIoCompletionPort(%s) failed for a new instance", l->path);
                CloseHandle(h);
                l->want_instance = 1;
                return;
            }
            l->pend = h;
        }
        l->want_instance = 0;
        wipc__win_iocp_op_init(&l->cop, connect_done);
        l->connect_busy = 1;
        InterlockedIncrement(&l->refs);
        wipc__win_iocp_begin();
        BOOL ok = ConnectNamedPipe(l->pend, &l->cop.ov);
        DWORD err = ok ? 0 : GetLastError();
        if (ok || err == ERROR_IO_PENDING)
            return; /* the port gets a packet */
        wipc__win_iocp_abandon();
        if (err == ERROR_PIPE_CONNECTED) {
            /* a client connected between CreateNamedPipeW and ConnectNamedPipe: no packet is queued,
             * so complete it on the I/O thread the same way */
            if (wipc__win_iocp_post(&l->cop, 0) == WIPC_OK)
                return;
        }
        l->connect_busy = 0;
        InterlockedDecrement(&l->refs); /* never the last: the caller holds one */
        CloseHandle(l->pend);
        l->pend = NULL;
        if (err == ERROR_NO_DATA) /* the client came and went already: offer a fresh instance */
            continue;
        wipc__log(WIPC_LOG_WARN, "ConnectNamedPipe(%s) failed (Win32 error %lu)", l->path, (unsigned long)err);
        l->want_instance = 1;
        return;
    }
    l->want_instance = 1;
}

/* ConnectNamedPipe finished (or a posted ERROR_PIPE_CONNECTED). I/O thread. */
static void connect_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted)
{
    (void)n;
    (void)posted;
    wipc__listener *l = CONTAINING_RECORD(op, wipc__listener, cop);
    AcquireSRWLockExclusive(&l->lock);
    l->connect_busy = 0;
    HANDLE h = l->pend;
    l->pend = NULL;
    if (l->closed || !h) {
        /* wipc__plat_listener_close already closed the instance */
        ReleaseSRWLockExclusive(&l->lock);
        if (h)
            CloseHandle(h);
        wipc__win_listener_unref(l);
        return;
    }
    if (err != 0 && err != ERROR_PIPE_CONNECTED) {
        if (err != ERROR_NO_DATA && err != ERROR_OPERATION_ABORTED && err != ERROR_BROKEN_PIPE)
            wipc__log(WIPC_LOG_WARN, "ConnectNamedPipe(%s) completed with Win32 error %lu", l->path,
                      (unsigned long)err);
        CloseHandle(h);
        arm(l);
        ReleaseSRWLockExclusive(&l->lock);
        wipc__win_listener_unref(l);
        return;
    }
    l->in_accept = 1;
    l->accept_thread = GetCurrentThreadId();
    InterlockedIncrement(&l->refs); /* the accepted pipe's reference */
    ReleaseSRWLockExclusive(&l->lock);

    wipc__pipe *p = wipc__win_pipe_new(h, 1, l->message_mode, l->calls, l, instance_gone, l->path);
    if (p) {
        l->calls->accepted(l->server, p);
    } else {
        wipc__log(WIPC_LOG_ERROR, "pipe %s: out of memory for an accepted connection: client dropped", l->path);
        CloseHandle(h);
        InterlockedDecrement(&l->refs); /* never the last: this operation holds one */
    }

    AcquireSRWLockExclusive(&l->lock);
    l->in_accept = 0;
    WakeAllConditionVariable(&l->cv);
    arm(l);
    ReleaseSRWLockExclusive(&l->lock);
    wipc__win_listener_unref(l);
}

/* A posted "offer an instance" packet. I/O thread. */
static void kick_done(wipc__win_iocp_op *op, DWORD n, DWORD err, int posted)
{
    (void)n;
    (void)err;
    (void)posted;
    wipc__listener *l = CONTAINING_RECORD(op, wipc__listener, kop);
    AcquireSRWLockExclusive(&l->lock);
    l->kick_posted = 0;
    arm(l);
    ReleaseSRWLockExclusive(&l->lock);
    wipc__win_listener_unref(l);
}

void wipc__plat_listener_slot_free(wipc__listener *l)
{
    if (!l)
        return;
    AcquireSRWLockExclusive(&l->lock);
    int kick = !l->closed && !l->kick_posted && !l->connect_busy;
    if (kick) {
        l->kick_posted = 1;
        InterlockedIncrement(&l->refs);
    }
    ReleaseSRWLockExclusive(&l->lock);
    if (kick && wipc__win_iocp_post(&l->kop, 0) != WIPC_OK) {
        AcquireSRWLockExclusive(&l->lock);
        l->kick_posted = 0;
        ReleaseSRWLockExclusive(&l->lock);
        wipc__log(WIPC_LOG_ERROR, "pipe %s: cannot offer a new instance (PostQueuedCompletionStatus failed)", l->path);
        wipc__win_listener_unref(l);
    }
}

/* Is `wpath` served (an instance exists, free or busy)? WaitNamedPipeW connects to nothing. */
static int name_is_served(const wchar_t *wpath)
{
    if (WaitNamedPipeW(wpath, 1))
        return 1;
    DWORD err = GetLastError();
    return err != ERROR_FILE_NOT_FOUND && err != ERROR_PATH_NOT_FOUND && err != ERROR_BAD_PATHNAME &&
           err != ERROR_INVALID_NAME;
}

wipc_status wipc__plat_listen(const char *name, const wipc__pipe_cfg *cfg, struct wipc__server *server,
                              wipc__listener **out)
{
    *out = NULL;
    wipc__listener *l = (wipc__listener *)calloc(1, sizeof *l);
    if (!l)
        return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "out of memory to serve pipe %s", name);
    InitializeSRWLock(&l->lock);
    InitializeConditionVariable(&l->cv);
    l->refs = 1; /* the owner's */
    l->server = server;
    l->calls = cfg->calls;
    wipc__win_iocp_op_init(&l->cop, connect_done);
    wipc__win_iocp_op_init(&l->kop, kick_done);
    wipc_status st = wipc__win_pipe_path(name, &l->wpath, &l->path);
    if (st != WIPC_OK) {
        listener_free(l);
        return st;
    }
    uint32_t flags = cfg ? cfg->flags : 0;
    st = wipc__win_sa_init(&l->sa, cfg ? cfg->sddl : NULL,
                           (flags & WIPC_PIPE_ANY_USER) ? WIPC__WIN_PIPE_ANY_USER_ACE : NULL);
    if (st != WIPC_OK) {
        listener_free(l);
        return st;
    }
    l->message_mode = (flags & WIPC_PIPE_RAW) != 0;
    l->open_mode = PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED;
    l->pipe_mode = (l->message_mode ? PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE : PIPE_TYPE_BYTE | PIPE_READMODE_BYTE) |
                   PIPE_WAIT | ((flags & WIPC_PIPE_ALLOW_REMOTE) ? 0 : PIPE_REJECT_REMOTE_CLIENTS);
    l->max_instances = cfg && cfg->max_instances ? cfg->max_instances : 64;
    if (l->max_instances > PIPE_UNLIMITED_INSTANCES)
        l->max_instances = PIPE_UNLIMITED_INSTANCES;
    /* 128 KiB: a 64 KiB message plus its frame header fits. A pipe completes a write at once only while
     * the unread bytes, this write's included, fit the reader's buffer (Wine: server/named_pipe.c,
     * reselect_write_queue); with 64 KiB every 64 KiB message's write pended until the peer read. */
    l->buffer_size = cfg && cfg->buffer_size ? cfg->buffer_size : PIPE_DEFAULT_BUFFER;

    /* Wine (8.0) ignores FILE_FLAG_FIRST_PIPE_INSTANCE: probe first. On Windows the flag alone is
     * authoritative (no race); the probe only makes the refusal independent of it. */
    if (name_is_served(l->wpath)) {
        st = wipc__error(WIPC_E_ADDR_IN_USE, ERROR_ALREADY_EXISTS,
                         "CreateNamedPipeW(%s) refused: pipe %s is already served by another server "
                         "(WaitNamedPipeW found an instance)",
                         l->path, l->path);
        listener_free(l);
        return st;
    }
    HANDLE h = create_instance(l, 1);
    if (h == INVALID_HANDLE_VALUE) {
        DWORD err = GetLastError();
        if ((err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY) && name_is_served(l->wpath))
            st = wipc__error(WIPC_E_ADDR_IN_USE, err,
                             "CreateNamedPipeW(%s) failed: pipe %s is already served by another server "
                             "(FILE_FLAG_FIRST_PIPE_INSTANCE)",
                             l->path, l->path);
        else if (err == ERROR_ACCESS_DENIED)
            st = wipc__error(WIPC_E_ACCESS_DENIED, err, "CreateNamedPipeW(%s) failed", l->path);
        else if (err == ERROR_INVALID_NAME || err == ERROR_BAD_PATHNAME || err == ERROR_PATH_NOT_FOUND ||
                 err == ERROR_FILENAME_EXCED_RANGE)
            st = wipc__error(WIPC_E_INVALID_ARG, err, "CreateNamedPipeW(%s) failed: not a valid pipe name", l->path);
        else
            st = wipc__error(err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_NO_SYSTEM_RESOURCES ? WIPC_E_NO_MEMORY
                                                                                                : WIPC_E_SYSTEM,
                             err, "CreateNamedPipeW(%s) failed", l->path);
        listener_free(l);
        return st;
    }
    st = wipc__win_iocp_associate(h, l->path);
    if (st != WIPC_OK) {
        CloseHandle(h);
        listener_free(l);
        return st;
    }
    l->pend = h;
    /* ConnectNamedPipe is issued on the I/O thread, like every overlapped operation of the library */
    l->kick_posted = 1;
    l->refs++;
    st = wipc__win_iocp_post(&l->kop, 0);
    if (st != WIPC_OK) {
        CloseHandle(h);
        listener_free(l);
        return st;
    }
    *out = l;
    return WIPC_OK;
}

void wipc__plat_listener_close(wipc__listener *l)
{
    if (!l)
        return;
    AcquireSRWLockExclusive(&l->lock);
    if (!l->closed) {
        l->closed = 1;
        if (l->pend) {
            /* the waiting ConnectNamedPipe ends with ERROR_OPERATION_ABORTED; its handler finds
             * closed and pend == NULL and only drops its reference */
            if (l->connect_busy)
                CancelIoEx(l->pend, &l->cop.ov);
            CloseHandle(l->pend);
            l->pend = NULL;
        }
        DWORD self = GetCurrentThreadId();
        while (l->in_accept && l->accept_thread != self)
            SleepConditionVariableSRW(&l->cv, &l->lock, INFINITE, 0);
        ReleaseSRWLockExclusive(&l->lock);
        wipc__win_listener_unref(l); /* the owner's reference */
        return;
    }
    ReleaseSRWLockExclusive(&l->lock);
}
