/*
 * iocp.c - the library's one I/O thread and its I/O completion port.
 *
 * The port (CreateIoCompletionPort) and the thread (wipc__thread_start) are created lazily, on the
 * first handle associated or packet posted - never in DllMain. The thread loops on
 * GetQueuedCompletionStatus and runs the handler of the wipc__win_iocp_op whose OVERLAPPED completed;
 * PostQueuedCompletionStatus queues work to it (key KEY_POSTED) and the quit packet (KEY_QUIT).
 *
 * Every operation that will queue a packet is counted (wipc__win_iocp_begin / the handler's return), so
 * wipc__plat_shutdown can post the quit packet, let the thread drain what is still in flight (bounded
 * by WIPC__WIN_IOCP_DRAIN_MS), join it and close the port. The next use starts a new port and thread.
 *
 * Blocking writes never complete through this port (see pipe.c: the event low-bit trick), so a
 * handler may block in a write without starving its own completion; the write queue's overlapped
 * writes (pipe_write_async.c) do, and never block.
 */
#include "win32_internal.h"

#define KEY_IO     0u /* a real overlapped operation on an associated handle */
#define KEY_POSTED 1u /* PostQueuedCompletionStatus from wipc__win_iocp_post */
#define KEY_QUIT   2u /* wipc__plat_shutdown: drain and leave */

#define WIPC__WIN_IOCP_DRAIN_MS 5000

static SRWLOCK g_lock = SRWLOCK_INIT; /* guards g_port / g_thread; shared to use the port */
static SRWLOCK g_stop_lock = SRWLOCK_INIT; /* serialises wipc__plat_shutdown */
static HANDLE g_port;
static wipc__thread g_thread;
static volatile DWORD g_thread_id;
static volatile LONG g_pending; /* operations whose packet has not been handled yet */

void wipc__win_iocp_op_init(wipc__win_iocp_op *op, wipc__win_iocp_fn fn)
{
    ZeroMemory(&op->ov, sizeof op->ov);
    op->magic = WIPC__WIN_IOCP_MAGIC;
    op->posted_err = 0;
    op->fn = fn;
}

int wipc__win_iocp_on_io_thread(void)
{
    return g_thread_id != 0 && g_thread_id == GetCurrentThreadId();
}

void wipc__win_iocp_begin(void)
{
    InterlockedIncrement(&g_pending);
}
void wipc__win_iocp_abandon(void)
{
    InterlockedDecrement(&g_pending);
}

static void io_main(void *arg)
{
    HANDLE port = (HANDLE)arg;
    int quitting = 0;
    wipc__deadline quit_deadline = wipc__deadline_never();
    g_thread_id = GetCurrentThreadId();
    for (;;) {
        DWORD wait = INFINITE;
        if (quitting) {
            if (InterlockedCompareExchange(&g_pending, 0, 0) <= 0)
                break;
            if (wipc__deadline_passed(quit_deadline)) {
                wipc__log(WIPC_LOG_WARN, "wipc I/O thread: leaving with %ld operation(s) still pending",
                          (long)g_pending);
                break;
            }
            wait = wipc__win_wait_ms(quit_deadline);
        }
        DWORD n = 0;
        ULONG_PTR key = 0;
        OVERLAPPED *ov = NULL;
        BOOL ok = GetQueuedCompletionStatus(port, &n, &key, &ov, wait);
        if (!ov) {
            if (ok && key == KEY_QUIT) {
                quitting = 1;
                quit_deadline = wipc__deadline_in(WIPC__WIN_IOCP_DRAIN_MS);

                continue;
            }
            if (!ok) {
                DWORD err = GetLastError();
                if (err == WAIT_TIMEOUT)
                    continue;
                wipc__log(WIPC_LOG_ERROR, "GetQueuedCompletionStatus failed (Win32 error %lu): I/O thread stops",
                          (unsigned long)err);
                break;
            }
            continue;
        }
        DWORD err = ok ? 0 : GetLastError();
        wipc__win_iocp_op *op = CONTAINING_RECORD(ov, wipc__win_iocp_op, ov);
        if (op->magic != WIPC__WIN_IOCP_MAGIC) {
            /* an OVERLAPPED that is not ours (e.g. a write whose low-bit event was not honoured) */
            wipc__log(WIPC_LOG_ERROR, "wipc I/O thread: ignoring a completion packet for a foreign OVERLAPPED %p",
                      (void *)ov);
            continue;
        }
        int posted = key == KEY_POSTED;
        if (posted)
            err = op->posted_err;
        op->fn(op, n, err, posted);
        InterlockedDecrement(&g_pending);
    }
    g_thread_id = 0;
}

/* Returns the port, creating it and the I/O thread if needed. Caller holds no lock. */
static wipc_status ensure_port(const char *what)
{
    AcquireSRWLockShared(&g_lock);
    HANDLE port = g_port;
    ReleaseSRWLockShared(&g_lock);
    if (port)
        return WIPC_OK;
    wipc_status st = WIPC_OK;
    AcquireSRWLockExclusive(&g_lock);
    if (!g_port) {
        port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
        if (!port) {
            st = wipc__error(WIPC_E_SYSTEM, GetLastError(), "CreateIoCompletionPort failed (for %s)", what);
        } else {
            st = wipc__thread_start(&g_thread, io_main, port);
            if (st == WIPC_OK)
                g_port = port;
            else
                CloseHandle(port);
        }
    }
    ReleaseSRWLockExclusive(&g_lock);
    return st;
}

wipc_status wipc__win_iocp_associate(HANDLE h, const char *what)
{
    for (;;) {
        wipc_status st = ensure_port(what);
        if (st != WIPC_OK)
            return st;
        AcquireSRWLockShared(&g_lock);
        if (!g_port) { /* shut down in between: start again */
            ReleaseSRWLockShared(&g_lock);
            continue;
        }
        HANDLE r = CreateIoCompletionPort(h, g_port, KEY_IO, 0);
        DWORD err = GetLastError();
        ReleaseSRWLockShared(&g_lock);
        if (!r)
            return wipc__error(wipc__os_error_status(err) == WIPC_E_NO_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_SYSTEM, err,
                               "CreateIoCompletionPort(%s) failed", what);
        return WIPC_OK;
    }
}

wipc_status wipc__win_iocp_post(wipc__win_iocp_op *op, DWORD err)
{
    for (;;) {
        wipc_status st = ensure_port("a posted packet");
        if (st != WIPC_OK)
            return st;
        AcquireSRWLockShared(&g_lock);
        if (!g_port) {
            ReleaseSRWLockShared(&g_lock);
            continue;
        }
        op->posted_err = err;
        InterlockedIncrement(&g_pending);
        BOOL ok = PostQueuedCompletionStatus(g_port, 0, KEY_POSTED, &op->ov);
        DWORD e = GetLastError();
        if (!ok)
            InterlockedDecrement(&g_pending);
        ReleaseSRWLockShared(&g_lock);
        if (!ok)
            return wipc__error(WIPC_E_SYSTEM, e, "PostQueuedCompletionStatus failed");
        return WIPC_OK;
    }
}

void wipc__plat_shutdown(void)
{
    if (wipc__win_iocp_on_io_thread()) {
        wipc__log(WIPC_LOG_ERROR, "wipc__plat_shutdown called on the I/O thread: ignored");
        return;
    }
    AcquireSRWLockExclusive(&g_stop_lock);
    AcquireSRWLockShared(&g_lock);
    HANDLE port = g_port;
    wipc__thread thread = g_thread;
    ReleaseSRWLockShared(&g_lock);
    if (port) {
        /* The lock is not held while joining: handlers still running may post (shared lock). */
        if (PostQueuedCompletionStatus(port, 0, KEY_QUIT, NULL))
            wipc__thread_join(&thread);
        else
            wipc__log(WIPC_LOG_ERROR, "PostQueuedCompletionStatus(quit) failed (Win32 error %lu)",
                      (unsigned long)GetLastError());
        AcquireSRWLockExclusive(&g_lock);
        if (thread == NULL) { /* joined */
            CloseHandle(g_port);
            g_port = NULL;
            g_thread = NULL;
            InterlockedExchange(&g_pending, 0);
        }
        ReleaseSRWLockExclusive(&g_lock);
    }
    ReleaseSRWLockExclusive(&g_stop_lock);
}
