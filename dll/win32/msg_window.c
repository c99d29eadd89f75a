/*
 * msg_window.c - Win32 msg endpoints: one message-only window (HWND_MESSAGE) of class
 * L"wipc-msg-<name>" per endpoint, on a library thread that runs its own message loop (callers need
 * no message pump; nothing is started in DllMain).
 *
 * Name guard: the window thread creates (owner-only DACL, must not exist) and owns the mutex
 * L"Local\wipc-msg-<name>" for the endpoint's life. A mutex of that name that exists already is never
 * adopted: held (WAIT_TIMEOUT) = another live endpoint (any process of the session) =
 * WIPC_E_ADDR_IN_USE; not held = someone else's object (or a listener that is just giving up), retried
 * for ~100 ms, then WIPC_E_ADDR_IN_USE. The mutex is taken before the window exists, so two listeners
 * racing for a name cannot both create a window.
 *
 * Owner record (docs/RELIABILITY.md, Hardening, attack 12): a window class is no ownership - any process of the desktop may
 * register L"wipc-msg-<name>" and create a message-only window after ours. So the endpoint also
 * creates (owner-only DACL, must not exist) the page-sized section L"Local\wipc-msg-owner:<name>"
 * (':' is outside the name charset: no other object name collides) holding {magic, pid, hwnd}:
 * senders (msg_send.c) deliver only to that hwnd, and only if GetWindowThreadProcessId says it
 * belongs to that pid. hwnd is 0 until the window exists and again from the moment the endpoint
 * starts closing. A same-user process that opens the record for writing could still redirect senders
 * (as it could inject code into the receiver): what is closed is the window-class hijack.
 *
 * The window procedure finds its endpoint through the library's own table, never through window
 * memory another process can write (SetWindowLongPtrW(GWLP_USERDATA) works across processes): each
 * endpoint has its own window thread, whose thread-local `tls_rx` names it, and a message counts only
 * if it is for that endpoint's hwnd.
 *
 * WM_COPYDATA: the window procedure hands (dwData = type, lpData, cbData) to the core, which validates
 * cbData, the header and max_message_size before touching the data and copies it (queue mode) or runs
 * on_message (callback mode) before the window procedure returns. The LRESULT is the reply word
 * (dll/common/msg/msg_wire.h): 0x574d in bits 63..48, -status in bits 47..32, the reply in bits 31..0.
 * The sender's pid is the one its header claims: Windows cannot vouch for a WM_COPYDATA sender.
 * A WM_COPYDATA without a valid wipc header (a foreign sender) is answered 0, "not handled", unless
 * the endpoint is WIPC_MSG_RAW: then the payload is the message, the peer pid that of the window in
 * wParam, and the LRESULT on_message's value (1 when queued, 0 when not taken). RAW windows carry
 * the endpoint name as their title.
 *
 * WIPC_MSG_ALLOW_LOWER_INTEGRITY: ChangeWindowMessageFilterEx(hwnd, WM_COPYDATA, MSGFLT_ALLOW) on that
 * window only.
 *
 * Closing: `stop` is set (WM_COPYDATA then answers WIPC_E_CLOSED: the sender gets
 * WIPC_E_DISCONNECTED), WM_CLOSE is posted (DestroyWindow, WM_QUIT), the thread is joined; senders
 * blocked in SendMessageTimeoutW fail when the window and its thread go. From inside a callback (the
 * window thread itself) the thread is not joined: it cleans up and frees itself once the callback has
 * returned.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>
#include "win32/msg_win32.h"

struct wipc__msg_rx {
    struct wipc__msg_ep *ep;
    wipc__msg_received_fn received; /* the core's entry point (wipc__msg_cfg.received) */
    wipc__thread thread;
    atomic_ulong tid; /* the window thread's id */
    HWND hwnd; /* window thread only (and close, after start) */
    HANDLE mutex;
    HANDLE owner; /* the owner record section, and its view */
    wipc__win_msg_owner_rec *rec;
    atomic_bool stop;
    bool detach; /* closed from its own callback: the thread frees rx */
    bool in_message; /* window thread: re-entrancy guard */
    uint32_t flags;
    /* start-up hand-over (lock/cond): the thread's result, described for the caller's last error */
    wipc__mutex lock;
    wipc__cond cond;
    bool started;
    wipc_status start_status;
    DWORD start_os_error;
    const char *start_what;
    char name[WIPC_NAME_MAX + 1];
    wchar_t cls[WIPC__WIN_MSG_CLASS_MAX];
    wchar_t mutex_name[WIPC__WIN_MSG_CLASS_MAX + 8];
    wchar_t owner_name[WIPC__WIN_MSG_OWNER_MAX];
};

/* The endpoint whose window this thread runs (set by window_main before its window exists). */
static _Thread_local wipc__msg_rx *tls_rx;

wipc_status wipc__win_msg_wide(const wchar_t *prefix, const char *name, wchar_t *out, size_t cap, const char *fn)
{
    wchar_t *w = wipc__win_utf8_to_wide(name);
    if (!w) {
        DWORD err = GetLastError();
        return wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_INVALID_ARG, err,
                           "%s(%s): bad name", fn, name);
    }
    size_t pl = wcslen(prefix), nl = wcslen(w);
    if (pl + nl + 1 > cap) {
        free(w);
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): the name is too long for a window class", fn, name);
    }
    memcpy(out, prefix, pl * sizeof(wchar_t));
    memcpy(out + pl, w, (nl + 1) * sizeof(wchar_t));
    free(w);
    return WIPC_OK;
}

static HINSTANCE this_module(void)
{
    HMODULE m = NULL;
    GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS | GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                       (LPCWSTR)(void *)&this_module, &m);
    return m;
}

/* ---- the window procedure ------------------------------------------------------------------------- */

/* The answer to a WM_COPYDATA not taken: a reply word for a wipc sender, 0 ("not handled") for a
 * foreign one (msg_wire.h). */
static LRESULT refusal(const COPYDATASTRUCT *cds, wipc_status st)
{
    int framed = cds && cds->cbData && wipc__msg_hdr_present(cds->lpData, cds->cbData);
    return (LRESULT)wipc__msg_refusal(st, framed);
}

/* wParam of WM_COPYDATA is the sending window (a claim, as the header's pid): its process, or 0. */
static uint32_t sender_pid(WPARAM wp)
{
    DWORD pid = 0;
    HWND w = (HWND)wp;
    if (w && IsWindow(w))
        GetWindowThreadProcessId(w, &pid);
    return (uint32_t)pid;
}

static LRESULT on_copydata(wipc__msg_rx *rx, WPARAM wp, const COPYDATASTRUCT *cds)
{
    if (!rx || !cds)
        return refusal(cds, WIPC_E_PROTOCOL);
    if (atomic_load(&rx->stop))
        return refusal(cds, WIPC_E_CLOSED);
    if (rx->in_message) /* sent from inside our own callback: it would nest */
        return refusal(cds, WIPC_E_BUSY);
    if ((uint64_t)cds->dwData > UINT32_MAX) {
        wipc__log(WIPC_LOG_WARN, "msg %s: WM_COPYDATA with dwData 0x%llx (not a 32-bit wipc type); refused", rx->name,
                  (unsigned long long)cds->dwData);
        return refusal(cds, WIPC_E_PROTOCOL);
    }
    rx->in_message = true;
    /* the core checks cbData (and lpData for NULL) before it reads a byte; the pid of wParam's window
     * (0 from wipc senders) stands for an unknown sender's, else the header's claim is used */
    uint64_t word =
        rx->received(rx->ep, (uint32_t)cds->dwData, cds->cbData ? cds->lpData : NULL, cds->cbData, sender_pid(wp));
    rx->in_message = false;
    return (LRESULT)word;
}

static LRESULT CALLBACK msg_wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    wipc__msg_rx *rx = tls_rx;
    if (rx && rx->hwnd != hwnd)
        rx = NULL; /* not (yet) the endpoint's window */
    switch (msg) {
    case WM_COPYDATA:
        return on_copydata(rx, wp, (const COPYDATASTRUCT *)lp);
    case WM_CLOSE:
        if (rx && atomic_load(&rx->stop)) /* only our own close stops the endpoint */
            DestroyWindow(hwnd);
        return 0;
    case WM_DESTROY:
        if (rx && atomic_load(&rx->stop))
            PostQuitMessage(0);
        return 0;
    default:
        break;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

/* ---- the window thread ---------------------------------------------------------------------------- */

static void start_done(wipc__msg_rx *rx, wipc_status st, DWORD os_err, const char *what)
{
    wipc__mutex_lock(&rx->lock);
    rx->start_status = st;
    rx->start_os_error = os_err;
    rx->start_what = what;
    rx->started = true;
    wipc__cond_broadcast(&rx->cond);
    wipc__mutex_unlock(&rx->lock);
}

#define NAME_RETRIES  10 /* a name object that exists but is not held: retried every NAME_RETRY_MS */
#define NAME_RETRY_MS 10

/* Creates (must not exist) and takes the name mutex. WIPC_OK, or a status with *what / *err set. */
static wipc_status take_mutex(wipc__msg_rx *rx, const wipc__win_sa *sa, const char **what, DWORD *err)
{
    for (int tries = 0;; tries++) {
        rx->mutex = CreateMutexW((LPSECURITY_ATTRIBUTES)&sa->sa, TRUE, rx->mutex_name);
        *err = GetLastError();
        if (!rx->mutex) {
            *what = "CreateMutexW(Local\\wipc-msg-<name>) failed (another user's object of that name?)";
            return *err == ERROR_ACCESS_DENIED ? WIPC_E_ACCESS_DENIED : WIPC_E_SYSTEM;
        }
        if (*err != ERROR_ALREADY_EXISTS)
            return WIPC_OK; /* ours, created owned */
        /* It exists: held by a live endpoint, or someone else's object - never adopted. */
        DWORD w = WaitForSingleObject(rx->mutex, 0);
        if (w == WAIT_OBJECT_0 || w == WAIT_ABANDONED)
            ReleaseMutex(rx->mutex);
        CloseHandle(rx->mutex);
        rx->mutex = NULL;
        *err = ERROR_ALREADY_EXISTS;
        if (w == WAIT_TIMEOUT) {
            *what = "the name is already listened to (its mutex is held)";
            return WIPC_E_ADDR_IN_USE;
        }
        if (tries >= NAME_RETRIES) {
            *what = "the name mutex Local\\wipc-msg-<name> exists but no endpoint holds it (another process's object): "
                    "refused";
            return WIPC_E_ADDR_IN_USE;
        }
        Sleep(NAME_RETRY_MS);
    }
}

/* Creates (must not exist) the owner record and writes this process's pid in it (hwnd comes later). */
static wipc_status make_owner_record(wipc__msg_rx *rx, const wipc__win_sa *sa, const char **what, DWORD *err)
{
    for (int tries = 0;; tries++) {
        rx->owner = CreateFileMappingW(INVALID_HANDLE_VALUE, (LPSECURITY_ATTRIBUTES)&sa->sa,
                                       PAGE_READWRITE | SEC_COMMIT, 0, WIPC__WIN_MSG_OWNER_SIZE, rx->owner_name);
        *err = GetLastError();
        if (!rx->owner) {
            *what = "CreateFileMappingW(Local\\wipc-msg-owner:<name>) failed";
            return *err == ERROR_ACCESS_DENIED ? WIPC_E_ACCESS_DENIED : WIPC_E_SYSTEM;
        }
        if (*err != ERROR_ALREADY_EXISTS)
            break;
        CloseHandle(rx->owner); /* a sender still reading a dead owner's record, or someone else's object */
        rx->owner = NULL;
        if (tries >= NAME_RETRIES) {
            *what = "the owner record Local\\wipc-msg-owner:<name> exists already (another process's object): refused";
            return WIPC_E_ADDR_IN_USE;
        }
        Sleep(NAME_RETRY_MS);
    }
    rx->rec = (wipc__win_msg_owner_rec *)MapViewOfFile(rx->owner, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0,
                                                       WIPC__WIN_MSG_OWNER_SIZE);
    if (!rx->rec) {
        *err = GetLastError();
        *what = "MapViewOfFile(owner record) failed";
        return WIPC_E_SYSTEM;
    }
    atomic_store(&rx->rec->hwnd, 0);
    atomic_store(&rx->rec->pid, (uint32_t)GetCurrentProcessId());
    atomic_store(&rx->rec->magic, WIPC__WIN_MSG_OWNER_MAGIC);
    return WIPC_OK;
}

/* Takes the name: the mutex, then the owner record. WIPC_OK, or a status with *what / *err set. */
static wipc_status take_name(wipc__msg_rx *rx, const char **what, DWORD *err)
{
    wipc__win_sa sa;
    wipc_status st = wipc__win_sa_init(&sa, NULL, NULL);
    if (st != WIPC_OK) {
        *what = "cannot build the owner-only security descriptor of the name objects";
        *err = (DWORD)wipc_last_os_error();
        return st;
    }
    st = take_mutex(rx, &sa, what, err);
    if (st == WIPC_OK)
        st = make_owner_record(rx, &sa, what, err);
    wipc__win_sa_free(&sa);
    return st;
}

/* Senders stop finding the window (hwnd 0 in the record). */
static void withdraw_owner(wipc__msg_rx *rx)
{
    if (rx->rec)
        atomic_store(&rx->rec->hwnd, 0);
}

static void release_name(wipc__msg_rx *rx)
{
    if (rx->rec) {
        withdraw_owner(rx);
        UnmapViewOfFile(rx->rec);
        rx->rec = NULL;
    }
    if (rx->owner) {
        CloseHandle(rx->owner);
        rx->owner = NULL;
    }
    if (rx->mutex) {
        ReleaseMutex(rx->mutex);
        CloseHandle(rx->mutex);
        rx->mutex = NULL;
    }
}

static void rx_free(wipc__msg_rx *rx)
{
    wipc__cond_destroy(&rx->cond);
    wipc__mutex_destroy(&rx->lock);
    free(rx);
}

static void window_main(void *arg)
{
    wipc__msg_rx *rx = (wipc__msg_rx *)arg;
    tls_rx = rx;
    atomic_store(&rx->tid, GetCurrentThreadId());
    MSG m;
    PeekMessageW(&m, NULL, WM_USER, WM_USER, PM_NOREMOVE); /* make sure this thread has a queue */
    const char *what = NULL;
    DWORD err = 0;
    wipc_status st = take_name(rx, &what, &err);
    HINSTANCE inst = this_module();
    bool registered = false;
    if (st == WIPC_OK) {
        WNDCLASSEXW wc;
        memset(&wc, 0, sizeof wc);
        wc.cbSize = sizeof wc;
        wc.lpfnWndProc = msg_wndproc;
        wc.hInstance = inst;
        wc.lpszClassName = rx->cls;
        if (RegisterClassExW(&wc))
            registered = true;
        else if ((err = GetLastError()) != ERROR_CLASS_ALREADY_EXISTS) {
            st = WIPC_E_SYSTEM;
            what = "RegisterClassExW failed";
        }
    }
    if (st == WIPC_OK) {
        /* WIPC_MSG_RAW: titled <name>, for foreign senders that look windows up by title */
        const wchar_t *title = (rx->flags & WIPC_MSG_RAW) ? rx->cls + WIPC__WIN_MSG_CLASS_PREFIX_LEN : L"";
        rx->hwnd = CreateWindowExW(0, rx->cls, title, 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, inst, NULL);
        if (!rx->hwnd) {
            err = GetLastError();
            st = WIPC_E_SYSTEM;
            what = "CreateWindowExW(HWND_MESSAGE) failed";
        }
    }
    if (st == WIPC_OK && (rx->flags & WIPC_MSG_ALLOW_LOWER_INTEGRITY) &&
        !ChangeWindowMessageFilterEx(rx->hwnd, WM_COPYDATA, MSGFLT_ALLOW, NULL)) {
        err = GetLastError();
        st = WIPC_E_SYSTEM;
        what = "ChangeWindowMessageFilterEx(WM_COPYDATA, MSGFLT_ALLOW) failed";
    }
    if (st != WIPC_OK) {
        if (rx->hwnd)
            DestroyWindow(rx->hwnd);
        if (registered)
            UnregisterClassW(rx->cls, inst);
        release_name(rx);
        start_done(rx, st, err, what); /* the caller frees rx */
        return;
    }
    atomic_store(&rx->rec->hwnd, (uint64_t)(uintptr_t)rx->hwnd); /* senders may come now */
    start_done(rx, WIPC_OK, 0, NULL);

    int r;
    for (;;) {
        r = GetMessageW(&m, NULL, 0, 0);
        if (r > 0)
            DispatchMessageW(&m);
        else if (r < 0 || atomic_load(&rx->stop))
            break;
        /* else a WM_QUIT we did not post (another process can post one): ignored */
    }
    if (r < 0)
        wipc__log(WIPC_LOG_ERROR, "msg %s: GetMessageW failed (error %lu); the endpoint stops", rx->name,
                  (unsigned long)GetLastError());
    withdraw_owner(rx);
    if (IsWindow(rx->hwnd))
        DestroyWindow(rx->hwnd);
    rx->hwnd = NULL;
    if (registered)
        UnregisterClassW(rx->cls, inst);
    release_name(rx); /* last: the name is free once the window and class are gone */
    if (rx->detach) {
        CloseHandle(rx->thread);
        rx_free(rx);
    }
}

/* ---- backend entry points ------------------------------------------------------------------------- */

wipc_status wipc__plat_msg_listen(const char *name, const wipc__msg_cfg *cfg, struct wipc__msg_ep *ep,
                                  wipc__msg_rx **out)
{
    static const char fn[] = "wipc_msg_listen";
    wipc__msg_rx *rx = (wipc__msg_rx *)calloc(1, sizeof *rx);
    if (!rx)
        return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "%s(%s): out of memory", fn, name);
    rx->ep = ep;
    rx->received = cfg->received;
    rx->flags = cfg->flags;
    snprintf(rx->name, sizeof rx->name, "%s", name);
    wipc__mutex_init(&rx->lock);
    wipc__cond_init(&rx->cond);
    wipc_status st = wipc__win_msg_wide(WIPC__WIN_MSG_CLASS_PREFIX, name, rx->cls, WIPC__WIN_MSG_CLASS_MAX, fn);
    if (st == WIPC_OK)
        st = wipc__win_msg_wide(L"Local\\wipc-msg-", name, rx->mutex_name, sizeof rx->mutex_name / sizeof(wchar_t), fn);
    if (st == WIPC_OK)
        st = wipc__win_msg_wide(WIPC__WIN_MSG_OWNER_PREFIX, name, rx->owner_name, WIPC__WIN_MSG_OWNER_MAX, fn);
    if (st == WIPC_OK)
        st = wipc__thread_start(&rx->thread, window_main, rx);
    if (st != WIPC_OK) {
        rx_free(rx);
        return st;
    }
    wipc__mutex_lock(&rx->lock);
    while (!rx->started)
        wipc__cond_wait_until(&rx->cond, &rx->lock, wipc__deadline_never());
    wipc__mutex_unlock(&rx->lock);
    if (rx->start_status != WIPC_OK) {
        st = wipc__error(rx->start_status, (int64_t)rx->start_os_error, "%s(%s): %s", fn, name, rx->start_what);
        wipc__thread_join(&rx->thread);
        rx_free(rx);
        return st;
    }
    *out = rx;
    return WIPC_OK;
}

void wipc__plat_msg_close(wipc__msg_rx *rx)
{
    atomic_store(&rx->stop, true);
    withdraw_owner(rx); /* new senders: WIPC_E_NOT_FOUND from now on */
    if (atomic_load(&rx->tid) == GetCurrentThreadId()) {
        /* From our own callback: the loop ends after it returns; the thread frees rx. */
        rx->detach = true;
        PostQuitMessage(0);
        return;
    }
    if (!PostMessageW(rx->hwnd, WM_CLOSE, 0, 0))
        PostThreadMessageW((DWORD)atomic_load(&rx->tid), WM_QUIT, 0, 0);
    wipc__thread_join(&rx->thread);
    rx_free(rx);
}
