/*
 * msg_send.c - Win32 msg sending and discovery.
 *
 * Send: the endpoint's window is the one its owner record names (L"Local\wipc-msg-owner:<name>",
 * msg_window.c), never merely a window of class L"wipc-msg-<name>" (any process may create one): the
 * record's hwnd must be a live window of that class whose process (GetWindowThreadProcessId) is the
 * record's pid. No record, or no hwnd in it: WIPC_E_NOT_FOUND (a window of that class without an
 * owner is named in the message); a record whose hwnd belongs to another process: WIPC_E_ACCESS_DENIED.
 * Then SendMessageTimeoutW(WM_COPYDATA, SMTO_ABORTIFHUNG | SMTO_BLOCK, timeout) with dwData = type and the
 * payload (wipc header + user bytes) in lpData/cbData; the LRESULT is the reply word. A slow receiver
 * gives ERROR_TIMEOUT after `timeout_ms`, a hung one (not pumping for 5 s) at once: WIPC_E_TIMEOUT,
 * never a hang. A window that vanished meanwhile: WIPC_E_DISCONNECTED. UIPI refusing a lower-integrity
 * sender: ERROR_ACCESS_DENIED = WIPC_E_ACCESS_DENIED.
 *
 * Raw sends (class:/title: targets, wipc.h): FindWindowExW over top-level windows, then over
 * message-only ones; the bytes go as they are (no header) and the LRESULT comes back uninterpreted.
 *
 * List: every message-only window whose class name (GetClassNameW) is L"wipc-msg-" + a valid wipc name
 * and which is the window its name's owner record names.
 * The windows come from EnumChildWindows on the message-only root (GetAncestor(GA_PARENT) of the
 * first FindWindowExW(HWND_MESSAGE, NULL, NULL, NULL)): one consistent snapshot. A plain
 * FindWindowExW(HWND_MESSAGE, prev, ...) walk, the fallback, can skip live windows when the window it
 * stands on is destroyed or moved in the z-order meanwhile (seen under Wine with endpoints churning).
 */
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include "win32/msg_win32.h"

#define STACK_PAYLOAD 4096

/* Reads the owner record of `name` once: *pid and *hwnd (0 when there is none or it is not ready). */
static void read_owner(const char *name, DWORD *pid, HWND *hwnd)
{
    *pid = 0;
    *hwnd = NULL;
    wchar_t w[WIPC__WIN_MSG_OWNER_MAX];
    if (wipc__win_msg_wide(WIPC__WIN_MSG_OWNER_PREFIX, name, w, WIPC__WIN_MSG_OWNER_MAX, "wipc_msg_send") != WIPC_OK)
        return;
    HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, w);
    if (!h)
        return;
    wipc__win_msg_owner_rec *rec = (wipc__win_msg_owner_rec *)MapViewOfFile(h, FILE_MAP_READ, 0, 0, sizeof *rec);
    if (rec) {
        if (atomic_load(&rec->magic) == WIPC__WIN_MSG_OWNER_MAGIC) {
            *pid = atomic_load(&rec->pid);
            *hwnd = (HWND)(uintptr_t)atomic_load(&rec->hwnd);
        }
        UnmapViewOfFile(rec);
    }
    CloseHandle(h);
}

/* 1 if w is a live window of class `cls` that belongs to process `pid`. */
static int window_of(HWND w, const wchar_t *cls, DWORD pid)
{
    wchar_t got[WIPC__WIN_MSG_CLASS_MAX + 1];
    DWORD wpid = 0;
    return w && IsWindow(w) && GetWindowThreadProcessId(w, &wpid) && wpid == pid &&
           GetClassNameW(w, got, (int)(sizeof got / sizeof got[0])) > 0 && wcscmp(got, cls) == 0;
}

/* Endpoints this process resolved lately (name -> hwnd, pid), so that a send to the same name does
 * not repeat the owner-record lookup: under Wine its seven calls (OpenFileMappingW, MapViewOfFile,
 * UnmapViewOfFile, CloseHandle, IsWindow, GetWindowThreadProcessId, GetClassNameW) are seven
 * wineserver round trips, and made wipc_msg_send ~3x a raw WM_COPYDATA. An entry is used only while
 * GetWindowThreadProcessId still puts its hwnd in its pid: a closed endpoint's window is gone (an
 * HWND carries a reuse counter, so the value does not come back as another window), and the next
 * send resolves the name again from its owner record. Entries are replaced least-recently-used.
 * g_cache_lock is a leaf (core.h's lock order). */
#define ENDPOINT_CACHE 8
static struct {
    char name[WIPC_NAME_MAX + 1];
    HWND hwnd;
    DWORD pid;
    uint64_t used;
} g_cache[ENDPOINT_CACHE];
static uint64_t g_cache_clock;
static SRWLOCK g_cache_lock = SRWLOCK_INIT;

/* g_cache_lock held: the slot that holds `name`, or -1. */
static int cache_find(const char *name)
{
    for (int i = 0; i < ENDPOINT_CACHE; i++)
        if (g_cache[i].hwnd && strcmp(g_cache[i].name, name) == 0)
            return i;
    return -1;
}

/* The cached endpoint of `name`, if any: 1 with *hwnd and *pid set. */
static int cache_get(const char *name, HWND *hwnd, DWORD *pid)
{
    AcquireSRWLockExclusive(&g_cache_lock);
    int slot = cache_find(name);
    if (slot >= 0) {
        *hwnd = g_cache[slot].hwnd;
        *pid = g_cache[slot].pid;
        g_cache[slot].used = ++g_cache_clock;
    }
    ReleaseSRWLockExclusive(&g_cache_lock);
    return slot >= 0;
}

/* Remembers (hwnd, pid) for `name`, or forgets the name when hwnd is NULL. */
static void cache_put(const char *name, HWND hwnd, DWORD pid)
{
    size_t len = strlen(name);
    if (len > WIPC_NAME_MAX)
        return;
    AcquireSRWLockExclusive(&g_cache_lock);
    int slot = cache_find(name);
    if (slot < 0 && hwnd) { /* a new name: an empty slot, else the least recently used */
        slot = 0;
        for (int i = 1; i < ENDPOINT_CACHE && g_cache[slot].hwnd; i++)
            if (!g_cache[i].hwnd || g_cache[i].used < g_cache[slot].used)
                slot = i;
    }
    if (slot >= 0) {
        memcpy(g_cache[slot].name, name, len + 1);
        g_cache[slot].hwnd = hwnd;
        g_cache[slot].pid = pid;
        g_cache[slot].used = ++g_cache_clock;
    }
    ReleaseSRWLockExclusive(&g_cache_lock);
}

/* The endpoint's window, as its owner record names it (or as the cache remembers it). */
static wipc_status find_endpoint(const char *name, const wchar_t *cls, HWND *out, const char *fn)
{
    DWORD pid = 0, wpid = 0;
    HWND hwnd = NULL;
    if (cache_get(name, &hwnd, &pid)) {
        if (GetWindowThreadProcessId(hwnd, &wpid) && wpid == pid) {
            *out = hwnd;
            return WIPC_OK;
        }
        cache_put(name, NULL, 0);
    }
    read_owner(name, &pid, &hwnd);
    if (hwnd && window_of(hwnd, cls, pid)) {
        cache_put(name, hwnd, pid);
        *out = hwnd;
        return WIPC_OK;
    }
    HWND any = FindWindowExW(HWND_MESSAGE, NULL, cls, NULL);
    DWORD any_pid = 0;
    if (any)
        GetWindowThreadProcessId(any, &any_pid);
    if (hwnd && IsWindow(hwnd))
        return wipc__error(WIPC_E_ACCESS_DENIED, 0,
                           "%s(%s): the endpoint's owner record (process %lu) names a window that is "
                           "not that process's wipc-msg-%s window: refused",
                           fn, name, (unsigned long)pid, name);
    if (any && !pid)
        return wipc__error(WIPC_E_NOT_FOUND, 0,
                           "%s(%s): no endpoint of that name (a window of class wipc-msg-%s exists, in "
                           "process %lu, but no wipc endpoint owns the name: not delivered)",
                           fn, name, name, (unsigned long)any_pid);
    return wipc__error(WIPC_E_NOT_FOUND, 0, "%s(%s): no endpoint of that name (no owner record, or its window is gone)",
                       fn, name);
}

/* SendMessageTimeoutW(WM_COPYDATA) of `total` bytes at `buf` to hwnd; *out_word = its LRESULT.
 * `dest` names the receiver in messages. */
static wipc_status copydata(HWND hwnd, const char *dest, uint32_t type, const void *buf, size_t total,
                            int32_t timeout_ms, uint64_t *out_word)
{
    static const char fn[] = "wipc_msg_send";
    COPYDATASTRUCT cds;
    cds.dwData = (ULONG_PTR)type;
    cds.cbData = (DWORD)total;
    cds.lpData = (void *)buf;
    DWORD_PTR result = 0;
    UINT wait = timeout_ms < 0 ? INFINITE : (UINT)timeout_ms;
    SetLastError(0);
    LRESULT ok = SendMessageTimeoutW(hwnd, WM_COPYDATA, 0, (LPARAM)&cds, SMTO_ABORTIFHUNG | SMTO_BLOCK, wait, &result);
    DWORD err = GetLastError();
    if (ok) {
        *out_word = (uint64_t)result;
        return WIPC_OK;
    }
    if (!IsWindow(hwnd) || err == ERROR_INVALID_WINDOW_HANDLE)
        return wipc__error(WIPC_E_DISCONNECTED, err, "%s(%s): the receiver closed or died before answering", fn, dest);
    if (err == ERROR_ACCESS_DENIED)
        return wipc__error(WIPC_E_ACCESS_DENIED, err,
                           "%s(%s): WM_COPYDATA refused (UIPI: the receiver runs at a higher integrity "
                           "level and did not allow WM_COPYDATA from lower ones, e.g. WIPC_MSG_ALLOW_LOWER_INTEGRITY)",
                           fn, dest);
    if (err == ERROR_TIMEOUT || err == 0)
        return wipc__error(WIPC_E_TIMEOUT, err, "%s(%s): no answer within %d ms (the receiver is slow or hung)", fn,
                           dest, (int)timeout_ms);
    return wipc__error(WIPC_E_SYSTEM, err, "%s(%s): SendMessageTimeoutW(WM_COPYDATA) failed", fn, dest);
}

wipc_status wipc__plat_msg_send(const char *name, uint32_t type, const wipc__iov *iov, size_t n, int32_t timeout_ms,
                                uint64_t *out_word)
{
    static const char fn[] = "wipc_msg_send";
    wchar_t cls[WIPC__WIN_MSG_CLASS_MAX];
    wipc_status st = wipc__win_msg_wide(WIPC__WIN_MSG_CLASS_PREFIX, name, cls, WIPC__WIN_MSG_CLASS_MAX, fn);
    if (st != WIPC_OK)
        return st;
    HWND hwnd = NULL;
    if ((st = find_endpoint(name, cls, &hwnd, fn)) != WIPC_OK)
        return st;

    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += iov[i].len;
    uint8_t stack[STACK_PAYLOAD];
    uint8_t *buf = total <= sizeof stack ? stack : (uint8_t *)malloc(total);
    if (!buf)
        return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "%s(%s): out of memory for %zu bytes", fn, name,
                           total);
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (iov[i].len)
            memcpy(buf + at, iov[i].base, iov[i].len);
        at += iov[i].len;
    }
    st = copydata(hwnd, name, type, buf, total, timeout_ms, out_word);
    if (buf != stack)
        free(buf);
    return st;
}

/* ---- raw sends: any window, by class and/or title (wipc.h, WIPC_MSG_TARGET_*) ------------------- */

/* UTF-16 copy of a target part, or NULL for an empty one (*st says whether that is an error). */
static wchar_t *wide_part(const char *part, const char *dest, wipc_status *st)
{
    *st = WIPC_OK;
    if (!part[0])
        return NULL;
    wchar_t *w = wipc__win_utf8_to_wide(part);
    if (!w) {
        DWORD err = GetLastError();
        *st = wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_INVALID_ARG, err,
                          "wipc_msg_send(%s): the class or title is not valid UTF-8", dest);
    }
    return w;
}

wipc_status wipc__plat_msg_send_raw(const wipc__msg_target *t, uint32_t type, const void *data, size_t size,
                                    int32_t timeout_ms, uint64_t *out_word)
{
    if (t->path[0])
        return wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                           "wipc_msg_send(%s): \"path:\" names a POSIX socket; on Windows address a "
                           "window with class:CLASS and/or title:TITLE",
                           t->text);
    wipc_status st, st2 = WIPC_OK;
    wchar_t *cls = wide_part(t->cls, t->text, &st);
    wchar_t *title = st == WIPC_OK ? wide_part(t->title, t->text, &st2) : NULL;
    if (st == WIPC_OK)
        st = st2;
    HWND hwnd = NULL;
    if (st == WIPC_OK) {
        hwnd = FindWindowExW(NULL, NULL, cls, title); /* top-level windows */
        if (!hwnd)
            hwnd = FindWindowExW(HWND_MESSAGE, NULL, cls, title); /* message-only windows */
    }
    free(cls);
    free(title);
    if (st != WIPC_OK)
        return st;
    if (!hwnd)
        return wipc__error(WIPC_E_NOT_FOUND, 0,
                           "wipc_msg_send(%s): no top-level or message-only window of that class/title", t->text);
    return copydata(hwnd, t->text, type, data, size, timeout_ms, out_word);
}

/* The endpoint name of a message-only window of class L"wipc-msg-<name>", else 0. */
static int endpoint_name(HWND w, char name[WIPC_NAME_MAX + 1])
{
    wchar_t cls[WIPC__WIN_MSG_CLASS_MAX + 1];
    int len = GetClassNameW(w, cls, (int)(sizeof cls / sizeof cls[0]));
    if (len <= WIPC__WIN_MSG_CLASS_PREFIX_LEN || len > WIPC__WIN_MSG_CLASS_PREFIX_LEN + WIPC_NAME_MAX ||
        wcsncmp(cls, WIPC__WIN_MSG_CLASS_PREFIX, WIPC__WIN_MSG_CLASS_PREFIX_LEN) != 0)
        return 0;
    size_t n = (size_t)len - WIPC__WIN_MSG_CLASS_PREFIX_LEN;
    for (size_t i = 0; i < n; i++) {
        wchar_t c = cls[WIPC__WIN_MSG_CLASS_PREFIX_LEN + i];
        if (c > 0x7f)
            return 0;
        name[i] = (char)c;
    }
    name[n] = '\0';
    if (!wipc__msg_name_ok(name, n))
        return 0;
    DWORD pid = 0;
    HWND owned = NULL;
    read_owner(name, &pid, &owned); /* only the window its owner record names */
    return owned == w && window_of(w, cls, pid);
}

typedef struct snapshot_walk {
    HWND root; /* the parent of every message-only window */
    wipc__msg_name_fn fn;
    void *arg;
    int seen; /* windows enumerated */
} snapshot_walk;

static BOOL CALLBACK snapshot_one(HWND w, LPARAM lp)
{
    snapshot_walk *k = (snapshot_walk *)lp;
    char name[WIPC_NAME_MAX + 1];
    k->seen++;
    if (GetAncestor(w, GA_PARENT) != k->root || !endpoint_name(w, name)) /* direct children only, as FindWindowExW */
        return TRUE;
    return k->fn(name, k->arg) == 0;
}

wipc_status wipc__plat_msg_list(wipc__msg_name_fn fn, void *arg)
{
    /* A consistent snapshot: EnumChildWindows on the message-only root lists its children in one go
     * (a FindWindowExW(HWND_MESSAGE, prev, ...) walk skips windows when one it passes is destroyed or
     * moves in the z-order meanwhile, e.g. while being created). The root is the parent of any
     * message-only window. */
    for (int tries = 0; tries < 4; tries++) {
        HWND first = FindWindowExW(HWND_MESSAGE, NULL, NULL, NULL);
        if (!first)
            return WIPC_OK; /* no message-only window at all */
        HWND root = GetAncestor(first, GA_PARENT);
        if (!root)
            continue; /* `first` went away meanwhile */
        snapshot_walk k = { root, fn, arg, 0 };
        EnumChildWindows(root, snapshot_one, (LPARAM)&k);
        if (k.seen > 0)
            return WIPC_OK;
    }
    /* Fallback: the FindWindowExW walk, started over when the window it stands on is destroyed. */
    HWND prev = NULL;
    int restarts = 0;
    for (int guard = 0; guard < 1000000; guard++) {
        HWND w = FindWindowExW(HWND_MESSAGE, prev, NULL, NULL);
        if (!w) {
            if (prev && !IsWindow(prev) && restarts++ < 16) {
                prev = NULL;
                continue;
            }
            break;
        }
        prev = w;
        char name[WIPC_NAME_MAX + 1];
        if (endpoint_name(w, name) && fn(name, arg) != 0)
            break;
    }
    return WIPC_OK;
}
