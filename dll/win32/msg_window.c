/*
 * msg_window.c - Win32 msg endpoints: one message-only window (HWND_MESSAGE) of class
 * L"wipc-msg-<name>" per endpoint, on a library thread that runs its own message loop (callers need
 * no message pump; nothing is started in DllMain).
 *
 * Name guard: the window thread creates (owner-only DACL) and owns the mutex L"Local\wipc-msg-<name>"
 * for the endpoint's life. WAIT_TIMEOUT on it = another live endpoint (any process of the session) =
 * WIPC_E_ADDR_IN_USE; WAIT_ABANDONED = its owner died = the name is reclaimed. The mutex is taken
 * before the window exists, so two listeners racing for a name cannot both create a window.
 *
 * WM_COPYDATA: the window procedure hands (dwData = type, lpData, cbData) to the core, which validates
 * cbData, the header and max_message_size before touching the data and copies it (queue mode) or runs
 * on_message (callback mode) before the window procedure returns. The LRESULT is the reply word
 * (dll/common/msg_wire.h): 0x574d in bits 63..48, -status in bits 47..32, the reply in bits 31..0.
 * The sender's pid is the one its header claims: Windows cannot vouch for a WM_COPYDATA sender.
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
#include "common/msg_wire.h"
#include "win32/msg_win32.h"

struct wipc__msg_rx {
    struct wipc__msg_ep *ep;
    wipc__thread         thread;
    atomic_ulong         tid;          /* the window thread's id */
    HWND                 hwnd;         /* window thread only (and close, after start) */
    HANDLE               mutex;
    atomic_bool          stop;
    bool                 detach;       /* closed from its own callback: the thread frees rx */
    bool                 in_message;   /* window thread: re-entrancy guard */
    uint32_t             flags;
    /* start-up hand-over (lock/cond): the thread's result, described for the caller's last error */
    wipc__mutex          lock;
    wipc__cond           cond;
    bool                 started;
    wipc_status          start_status;
    DWORD                start_os_error;
    const char          *start_what;
    char                 name[WIPC_NAME_MAX + 1];
    wchar_t              cls[WIPC__MSG_CLASS_MAX];
    wchar_t              mutex_name[WIPC__MSG_CLASS_MAX + 8];
};

wipc_status wipc__win_msg_wide(const wchar_t *prefix, const char *name, wchar_t *out, size_t cap, const char *fn)
{
    wchar_t *w = wipc__win_utf8_to_wide(name);
    if (!w) {
        DWORD err = GetLastError();
        return wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_INVALID_ARG, err, "%s(%s): bad name", fn, name);
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

static LRESULT word_result(wipc_status st)
{
    return (LRESULT)wipc__msg_reply_encode(st, 0);
}

static LRESULT on_copydata(wipc__msg_rx *rx, const COPYDATASTRUCT *cds)
{
    if (!rx || !cds)
        return word_result(WIPC_E_PROTOCOL);
    if (atomic_load(&rx->stop))
        return word_result(WIPC_E_CLOSED);
    if (rx->in_message)   /* sent from inside our own callback: it would nest */
        return word_result(WIPC_E_BUSY);
    if ((uint64_t)cds->dwData > UINT32_MAX) {
        wipc__log(WIPC_LOG_WARN, "msg %s: WM_COPYDATA with dwData 0x%llx (not a 32-bit wipc type); refused", rx->name,
                  (unsigned long long)cds->dwData);
        return word_result(WIPC_E_PROTOCOL);
    }
    rx->in_message = true;
    /* the core checks cbData (and lpData for NULL) before it reads a byte */
    uint64_t word = wipc__core_msg_received(rx->ep, (uint32_t)cds->dwData, cds->cbData ? cds->lpData : NULL, cds->cbData, 0);
    rx->in_message = false;
    return (LRESULT)word;
}

static LRESULT CALLBACK msg_wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    switch (msg) {
    case WM_NCCREATE: {
        const CREATESTRUCTW *cs = (const CREATESTRUCTW *)lp;
        SetWindowLongPtrW(hwnd, GWLP_USERDATA, (LONG_PTR)cs->lpCreateParams);
        break;
    }
    case WM_COPYDATA:
        return on_copydata((wipc__msg_rx *)GetWindowLongPtrW(hwnd, GWLP_USERDATA), (const COPYDATASTRUCT *)lp);
    case WM_CLOSE: {
        wipc__msg_rx *rx = (wipc__msg_rx *)GetWindowLongPtrW(hwnd, GWLP_USERDATA);
        if (rx && atomic_load(&rx->stop))   /* only our own close stops the endpoint */
            DestroyWindow(hwnd);
        return 0;
    }
    case WM_DESTROY: {
        wipc__msg_rx *rx = (wipc__msg_rx *)GetWindowLongPtrW(hwnd, GWLP_USERDATA);
        if (rx && atomic_load(&rx->stop))
            PostQuitMessage(0);
        return 0;
    }
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

/* Creates and takes the name mutex. WIPC_OK, or a status with *what / *err set. */
static wipc_status take_name(wipc__msg_rx *rx, const char **what, DWORD *err)
{
    wipc__win_sa sa;
    wipc_status st = wipc__win_sa_init(&sa, NULL, NULL);
    if (st != WIPC_OK) {
        *what = "cannot build the owner-only security descriptor of the name mutex";
        *err = (DWORD)wipc_last_os_error();
        return st;
    }
    rx->mutex = CreateMutexW(&sa.sa, FALSE, rx->mutex_name);
    *err = GetLastError();
    wipc__win_sa_free(&sa);
    if (!rx->mutex) {
        *what = "CreateMutexW(Local\\wipc-msg-<name>) failed (another user's object of that name?)";
        return *err == ERROR_ACCESS_DENIED ? WIPC_E_ACCESS_DENIED : WIPC_E_SYSTEM;
    }
    DWORD w = WaitForSingleObject(rx->mutex, 0);
    if (w == WAIT_OBJECT_0)
        return WIPC_OK;
    if (w == WAIT_ABANDONED) {
        wipc__log(WIPC_LOG_INFO, "msg %s: the previous owner of the name died; reclaimed", rx->name);
        return WIPC_OK;
    }
    *err = w == WAIT_TIMEOUT ? 0 : GetLastError();
    CloseHandle(rx->mutex);
    rx->mutex = NULL;
    *what = w == WAIT_TIMEOUT ? "the name is already listened to (its mutex is held)" : "WaitForSingleObject(name mutex) failed";
    return w == WAIT_TIMEOUT ? WIPC_E_ADDR_IN_USE : WIPC_E_SYSTEM;
}

static void release_name(wipc__msg_rx *rx)
{
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
    atomic_store(&rx->tid, GetCurrentThreadId());
    MSG m;
    PeekMessageW(&m, NULL, WM_USER, WM_USER, PM_NOREMOVE);   /* make sure this thread has a queue */
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
        rx->hwnd = CreateWindowExW(0, rx->cls, L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, inst, rx);
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
        start_done(rx, st, err, what);   /* the caller frees rx */
        return;
    }
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
        wipc__log(WIPC_LOG_ERROR, "msg %s: GetMessageW failed (error %lu); the endpoint stops", rx->name, (unsigned long)GetLastError());
    if (IsWindow(rx->hwnd))
        DestroyWindow(rx->hwnd);
    rx->hwnd = NULL;
    if (registered)
        UnregisterClassW(rx->cls, inst);
    release_name(rx);   /* last: the name is free once the window and class are gone */
    if (rx->detach) {
        CloseHandle(rx->thread);
        rx_free(rx);
    }
}

/* ---- backend entry points ------------------------------------------------------------------------- */

wipc_status wipc__plat_msg_listen(const char *name, const wipc__msg_cfg *cfg, struct wipc__msg_ep *ep, wipc__msg_rx **out)
{
    static const char fn[] = "wipc_msg_listen";
    wipc__msg_rx *rx = (wipc__msg_rx *)calloc(1, sizeof *rx);
    if (!rx)
        return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "%s(%s): out of memory", fn, name);
    rx->ep = ep;
    rx->flags = cfg->flags;
    snprintf(rx->name, sizeof rx->name, "%s", name);
    wipc__mutex_init(&rx->lock);
    wipc__cond_init(&rx->cond);
    wipc_status st = wipc__win_msg_wide(WIPC__MSG_CLASS_PREFIX, name, rx->cls, WIPC__MSG_CLASS_MAX, fn);
    if (st == WIPC_OK)
        st = wipc__win_msg_wide(L"Local\\wipc-msg-", name, rx->mutex_name, sizeof rx->mutex_name / sizeof(wchar_t), fn);
    if (st == WIPC_OK)
        st = wipc__thread_start(&rx->thread, window_main, rx);
    if (st != WIPC_OK) {
        rx_free(rx);
        return st;
    }
    wipc__mutex_lock(&rx->lock);
    while (!rx->started)
        wipc__cond_wait_ms(&rx->cond, &rx->lock, WIPC_INFINITE);
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
