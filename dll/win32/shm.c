/*
 * shm.c - the Win32 backend of the shm transport (dll/platform_shm.h).
 *
 * Sections: CreateFileMappingW(INVALID_HANDLE_VALUE, owner-only DACL, PAGE_READWRITE | SEC_COMMIT)
 * named "Local\wipc-<name>" / "Local\wipc-region-<name>" ("Global\..." with WIPC_SHM_GLOBAL, which
 * needs SeCreateGlobalPrivilege: without it WIPC_E_ACCESS_DENIED says so). SEC_COMMIT charges every
 * page at creation, so a section larger than the commit limit fails there (WIPC_E_NO_MEMORY).
 * Wake words: one named auto-reset event per word, "<section name>#<i>", same DACL; the creator
 * creates them, the opener opens them (EVENT_MODIFY_STATE | SYNCHRONIZE). Liveness: OpenProcess +
 * GetProcessTimes (creation time in ms as the start key) + a zero wait on the process handle.
 * Names vanish with the last handle, so unlinking is a no-op.
 *
 * Named objects are created with "must not exist" semantics (docs/RELIABILITY.md, Hardening, attack 13): a section or wake
 * event that exists already (ERROR_ALREADY_EXISTS: a live channel, or objects someone pre-created -
 * e.g. signalled manual-reset events that would make every wait return at once) fails the create with
 * WIPC_E_ADDR_IN_USE; nothing found is ever adopted.
 * An opened section is untrusted (item 14): every page of it must be committed (VirtualQuery,
 * MEM_COMMIT) before it is used - a SEC_RESERVE section's reserved pages fault when touched - and its
 * size is the section's own (NtQuerySection), which the core compares with the size its header
 * claims. Windows sections cannot shrink, so a checked mapping stays valid (no SIGBUS class here).
 */
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

#include "win32_internal.h"
#include "platform_shm.h"

#define NAME_CAP (WIPC__FULL_NAME_MAX + 64) /* an object name: wipc-made or a full name, plus "#<i>" */

struct wipc__section {
    HANDLE mapping;
    void *base;
    uint64_t size;
    HANDLE events[WIPC__SHM_WORDS];
};

static const char *prefix_of(uint32_t flags)
{
    return (flags & WIPC_SHM_GLOBAL) ? "Global\\" : "Local\\";
}

/* "<Local|Global>\wipc-[region-]<name>[#<i>]" as UTF-16 into w (cap chars) and UTF-8 into u8; a full
 * name ("Local\..." / "Global\...", not for stats) is used as given (flags ignored), "#<i>" appended. */
static void object_name(wchar_t *w, size_t cap, char *u8, size_t u8cap, int ns, const char *name, uint32_t flags,
                        int index)
{
    char buf[NAME_CAP];
    int n;
    if (ns != WIPC__SECTION_STATS && wipc__is_full_name(name))
        n = snprintf(buf, sizeof buf, "%s", name);
    else
        n = snprintf(buf, sizeof buf, "%swipc-%s%s", prefix_of(flags),
                     ns == WIPC__SECTION_REGION  ? "region-"
                     : ns == WIPC__SECTION_STATS ? "stats-"
                                                 : "",
                     name);
    if (index >= 0)
        snprintf(buf + n, sizeof buf - (size_t)n, "#%d", index);
    snprintf(u8, u8cap, "%s", buf);
    MultiByteToWideChar(CP_UTF8, 0, buf, -1, w, (int)cap);
}

static wipc_status win_fail(DWORD err, const char *call, const char *what, uint32_t flags)
{
    if (err == ERROR_ACCESS_DENIED && (flags & WIPC_SHM_GLOBAL))
        return wipc__error(WIPC_E_ACCESS_DENIED, err,
                           "%s(%s) failed: WIPC_SHM_GLOBAL needs SeCreateGlobalPrivilege "
                           "(an elevated process or a service)",
                           call, what);
    wipc_status st = wipc__os_error_status(err);
    if (err == ERROR_COMMITMENT_LIMIT || err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_OUTOFMEMORY ||
        err == ERROR_DISK_FULL)
        st = WIPC_E_NO_MEMORY;
    else if (st == WIPC_E_INVALID_ARG || st == WIPC_E_BUSY || st == WIPC_E_DISCONNECTED || st == WIPC_E_TIMEOUT)
        st = WIPC_E_SYSTEM;
    return wipc__error(st, err, "%s(%s) failed", call, what);
}

static void section_free(wipc__section *s)
{
    if (!s)
        return;
    for (int i = 0; i < WIPC__SHM_WORDS; i++)
        if (s->events[i])
            CloseHandle(s->events[i]);
    if (s->base)
        UnmapViewOfFile(s->base);
    if (s->mapping)
        CloseHandle(s->mapping);
    free(s);
}

static wipc_status make_events(wipc__section *s, const char *name, uint32_t flags, bool create, const wipc__win_sa *sa)
{
    for (int i = 0; i < WIPC__SHM_WORDS; i++) {
        wchar_t w[NAME_CAP];
        char u8[NAME_CAP];
        object_name(w, sizeof w / sizeof w[0], u8, sizeof u8, WIPC__SECTION_CHANNEL, name, flags, i);
        s->events[i] = create ? CreateEventW((LPSECURITY_ATTRIBUTES)&sa->sa, FALSE, FALSE, w)
                              : OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, w);
        DWORD err = GetLastError();
        if (!s->events[i])
            return win_fail(err, create ? "CreateEventW" : "OpenEventW", u8, flags);
        if (create && err == ERROR_ALREADY_EXISTS)
            return wipc__error(WIPC_E_ADDR_IN_USE, err,
                               "CreateEventW(%s): the wake event exists already (another process's "
                               "object): the name %s is refused",
                               u8, name);
    }
    return WIPC_OK;
}

static wipc_status map_view(wipc__section *s, bool readonly, const char *what)
{
    s->base = MapViewOfFile(s->mapping, readonly ? FILE_MAP_READ : FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    if (!s->base)
        return win_fail(GetLastError(), "MapViewOfFile", what, 0);
    return WIPC_OK;
}

wipc_status wipc__plat_section_create(const wipc__section_cfg *cfg, wipc__section **out)
{
    wchar_t w[NAME_CAP];
    char u8[NAME_CAP];
    object_name(w, sizeof w / sizeof w[0], u8, sizeof u8, cfg->ns, cfg->name, cfg->flags, -1);
    *out = NULL;
    wipc__win_sa sa;
    wipc_status st = wipc__win_sa_init(&sa, NULL, NULL);
    if (st != WIPC_OK)
        return st;
    wipc__section *s = calloc(1, sizeof *s);
    if (!s) {
        wipc__win_sa_free(&sa);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for section %s", u8);
    }
    s->size = cfg->size;
    s->mapping = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa.sa, PAGE_READWRITE | SEC_COMMIT, (DWORD)(cfg->size >> 32),
                                    (DWORD)cfg->size, w);
    DWORD err = GetLastError();
    if (!s->mapping)
        st = win_fail(err, "CreateFileMappingW", u8, cfg->flags);
    else if (err == ERROR_ALREADY_EXISTS)
        st = wipc__error(WIPC_E_ADDR_IN_USE, err, "CreateFileMappingW(%s): the name %s is in use", u8, cfg->name);
    if (st == WIPC_OK)
        st = map_view(s, false, u8);
    if (st == WIPC_OK && cfg->ns == WIPC__SECTION_CHANNEL)
        st = make_events(s, cfg->name, cfg->flags, true, &sa);
    wipc__win_sa_free(&sa);
    if (st != WIPC_OK) {
        section_free(s);
        return st;
    }
    *out = s;
    return WIPC_OK;
}

/* The section's size: NtQuerySection (exact), else the view's size (whole pages). */
static uint64_t query_size(wipc__section *s)
{
    typedef struct {
        PVOID base;
        ULONG attributes;
        LARGE_INTEGER size;
    } basic_info;
    typedef LONG(NTAPI * query_fn)(HANDLE, int, PVOID, SIZE_T, PSIZE_T);
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    query_fn q = ntdll ? (query_fn)(void (*)(void))GetProcAddress(ntdll, "NtQuerySection") : NULL;
    basic_info bi;
    if (q && q(s->mapping, 0 /* SectionBasicInformation */, &bi, sizeof bi, NULL) >= 0 && bi.size.QuadPart > 0)
        return (uint64_t)bi.size.QuadPart;
    MEMORY_BASIC_INFORMATION mbi;
    if (VirtualQuery(s->base, &mbi, sizeof mbi) == sizeof mbi)
        return mbi.RegionSize;
    return 0;
}

wipc_status wipc__win_committed(const void *base, uint64_t size, const char *what)
{
    const uint8_t *b = (const uint8_t *)base, *p = b, *end = b + size;
    while (p < end) {
        MEMORY_BASIC_INFORMATION mbi;
        if (VirtualQuery(p, &mbi, sizeof mbi) != sizeof mbi)
            return wipc__error(WIPC_E_SYSTEM, GetLastError(), "VirtualQuery(%s, offset %llu) failed", what,
                               (unsigned long long)(p - b));
        if (mbi.State != MEM_COMMIT)
            return wipc__error(WIPC_E_PROTOCOL, 0,
                               "%s: the page at offset %llu is %s, not committed (a SEC_RESERVE "
                               "section?): refused",
                               what, (unsigned long long)(p - b), mbi.State == MEM_RESERVE ? "reserved" : "free");
        const uint8_t *next = (const uint8_t *)mbi.BaseAddress + mbi.RegionSize;
        if (next <= p)
            return wipc__error(WIPC_E_SYSTEM, 0, "VirtualQuery(%s) returned an empty region", what);
        p = next;
    }
    return WIPC_OK;
}

/* The section of a channel's name exists but its wake events do not: a wipc creator between its
 * CreateFileMappingW and CreateEventW (the header is still zero; NOT_FOUND, the caller retries), a
 * channel going away (wipc magic; the same), or a section another program made under that name:
 * anything else in the magic is WIPC_E_PROTOCOL at once (it used to be NOT_FOUND after the
 * whole timeout). The magic is read once; the view is at least a page. */
static wipc_status foreign_or_missing(wipc__section *s, const char *what)
{
    uint32_t magic = wipc__shm_once32((const uint32_t *)s->base);
    if (magic == 0 || magic == WIPC__SHM_MAGIC)
        return WIPC_E_NOT_FOUND; /* make_events set the last error */
    return wipc__error(WIPC_E_PROTOCOL, 0,
                       "wipc_shm_open: the section %s exists but is not a wipc shm channel (magic "
                       "0x%08x, no wake events: another program made it)",
                       what, (unsigned)magic);
}

wipc_status wipc__plat_section_open(int ns, const char *name, uint32_t flags, bool readonly, wipc__section **out)
{
    wchar_t w[NAME_CAP];
    char u8[NAME_CAP];
    object_name(w, sizeof w / sizeof w[0], u8, sizeof u8, ns, name, flags, -1);
    *out = NULL;
    wipc__section *s = calloc(1, sizeof *s);
    if (!s)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for section %s", u8);
    wipc_status st = WIPC_OK;
    DWORD access = readonly ? FILE_MAP_READ : FILE_MAP_READ | FILE_MAP_WRITE;
    s->mapping = OpenFileMappingW(access | SECTION_QUERY, FALSE, w);
    if (!s->mapping && GetLastError() == ERROR_ACCESS_DENIED && wipc__is_full_name(name))
        s->mapping = OpenFileMappingW(access, FALSE, w); /* another program's DACL may not grant SECTION_QUERY:
                                                               the size then comes from VirtualQuery (whole pages) */
    if (!s->mapping) {
        DWORD err = GetLastError();
        st = err == ERROR_FILE_NOT_FOUND
                 ? wipc__error(WIPC_E_NOT_FOUND, err, "OpenFileMappingW(%s) failed: no %s named %s", u8,
                               ns == WIPC__SECTION_REGION ? "region" : "channel", name)
                 : win_fail(err, "OpenFileMappingW", u8, flags);
    }
    if (st == WIPC_OK)
        st = map_view(s, readonly, u8);
    if (st == WIPC_OK)
        s->size = query_size(s);
    if (st == WIPC_OK)
        st = wipc__win_committed(s->base, s->size, u8);
    if (st == WIPC_OK && ns == WIPC__SECTION_CHANNEL &&
        (st = make_events(s, name, flags, false, NULL)) == WIPC_E_NOT_FOUND)
        st = foreign_or_missing(s, u8);
    if (st != WIPC_OK) {
        section_free(s);
        return st;
    }
    *out = s;
    return WIPC_OK;
}

/* Opens (read-only: must exist) or opens-or-creates the file; *created says whether this call created
 * it (CreateFileW with OPEN_ALWAYS sets ERROR_ALREADY_EXISTS when it did not). */
static wipc_status file_open(const wchar_t *w, const char *path, uint64_t size, bool readonly, HANDLE *out,
                             uint64_t *out_size, bool *created)
{
    HANDLE f =
        CreateFileW(w, readonly ? GENERIC_READ : GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
                    readonly ? OPEN_EXISTING : OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE)
        return win_fail(GetLastError(), "CreateFileW", path, 0);
    *created = !readonly && GetLastError() != ERROR_ALREADY_EXISTS;
    LARGE_INTEGER cur;
    if (!GetFileSizeEx(f, &cur)) {
        DWORD err = GetLastError();
        CloseHandle(f);
        return win_fail(err, "GetFileSizeEx", path, 0);
    }
    uint64_t n = size ? size : (uint64_t)cur.QuadPart;
    if (n == 0 || (readonly && n > (uint64_t)cur.QuadPart)) {
        CloseHandle(f);
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_region_map_file(%s): the file has %lld bytes; cannot map %llu bytes%s", path,
                           (long long)cur.QuadPart, (unsigned long long)n, readonly ? " read-only" : "");
    }
    *out = f;
    *out_size = n;
    return WIPC_OK;
}

static wipc_status map_file(const wchar_t *w, const char *path, uint64_t size, bool readonly, wipc__section **out,
                            bool *created)
{
    HANDLE f = INVALID_HANDLE_VALUE;
    uint64_t n = 0;
    wipc_status st = file_open(w, path, size, readonly, &f, &n, created);
    if (st != WIPC_OK)
        return st;
    wipc__section *s = calloc(1, sizeof *s);
    if (!s) {
        CloseHandle(f);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory mapping %s", path);
    }
    s->size = n;
    s->mapping =
        CreateFileMappingW(f, NULL, readonly ? PAGE_READONLY : PAGE_READWRITE, (DWORD)(n >> 32), (DWORD)n, NULL);
    DWORD err = GetLastError();
    CloseHandle(f); /* the mapping keeps the file open */
    if (!s->mapping)
        st = win_fail(err, "CreateFileMappingW", path, 0);
    if (st == WIPC_OK)
        st = map_view(s, readonly, path);
    if (st != WIPC_OK) {
        section_free(s);
        return st;
    }
    *out = s;
    return WIPC_OK;
}

wipc_status wipc__plat_section_map_file(const char *path, uint64_t size, bool readonly, wipc__section **out)
{
    *out = NULL;
    wchar_t *w = wipc__win_utf8_to_wide(path);
    if (!w)
        return wipc__error(WIPC_E_INVALID_ARG, GetLastError(), "wipc_region_map_file: path is not valid UTF-8");
    bool created = false;
    wipc_status st = map_file(w, path, size, readonly, out, &created);
    if (st != WIPC_OK && created)
        DeleteFileW(w); /* a failed call removes only a file it created itself */
    free(w);
    return st;
}

void *wipc__plat_section_base(const wipc__section *s)
{
    return s->base;
}
uint64_t wipc__plat_section_size(const wipc__section *s)
{
    return s->size;
}
void wipc__plat_section_unlink(wipc__section *s)
{
    (void)s;
}
void wipc__plat_section_close(wipc__section *s)
{
    section_free(s);
}

/* ---- wake words ---------------------------------------------------------------------------------- */

wipc_status wipc__plat_shm_wait(wipc__section *s, unsigned index, _Atomic uint32_t *word, uint32_t expected, int32_t ms)
{
    if (index >= WIPC__SHM_WORDS || !s->events[index] || atomic_load(word) != expected)
        return WIPC_OK;
    return WaitForSingleObject(s->events[index], (DWORD)ms) == WAIT_TIMEOUT ? WIPC_E_TIMEOUT : WIPC_OK;
}

void wipc__plat_shm_wake(wipc__section *s, unsigned index, _Atomic uint32_t *word)
{
    (void)word;
    if (index < WIPC__SHM_WORDS && s->events[index])
        SetEvent(s->events[index]);
}

/* No cross-process heavy fence on Windows (FlushProcessWriteBuffers reaches the caller's own process
 * only): publishers keep their full fence per message (platform_shm.h). */
bool wipc__plat_shm_asym_init(void)
{
    return false;
}

bool wipc__plat_shm_heavy_fence(void)
{
    atomic_thread_fence(memory_order_seq_cst);
    return false;
}

/* ---- liveness ------------------------------------------------------------------------------------- */

static uint32_t start_key_of(HANDLE proc)
{
    FILETIME created, exited, kernel, user;
    if (!GetProcessTimes(proc, &created, &exited, &kernel, &user))
        return 0;
    uint64_t t = ((uint64_t)created.dwHighDateTime << 32) | created.dwLowDateTime;
    uint32_t key = (uint32_t)(t / 10000u); /* milliseconds since 1601, low 32 bits */
    return key ? key : 1;
}

void wipc__plat_proc_self(uint32_t *pid, uint32_t *start_key)
{
    *pid = (uint32_t)GetCurrentProcessId();
    *start_key = start_key_of(GetCurrentProcess());
}

int wipc__plat_proc_alive(uint32_t pid, uint32_t start_key)
{
    if (pid == 0)
        return 0;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
    if (!h)
        return GetLastError() == ERROR_ACCESS_DENIED; /* exists, but not ours to open */
    int alive = WaitForSingleObject(h, 0) == WAIT_TIMEOUT;
    if (alive && start_key) {
        uint32_t key = start_key_of(h);
        alive = key == 0 || key == start_key;
    }
    CloseHandle(h);
    return alive;
}

/* Nothing on Windows: the committed section's pages are soft-faulted in as the rings first use them
 * (no documented call maps a view's pages writable in advance). */
void wipc__plat_section_prefault(wipc__section *s)
{
    (void)s;
}

/* The peer's exit as an event (platform_shm.h): a registered wait (RegisterWaitForSingleObject,
 * WT_EXECUTEONLYONCE) on the process handle; the thread pool's wait thread blocks without a timeout.
 * Unwatching waits for a running callback (UnregisterWaitEx with INVALID_HANDLE_VALUE), except from
 * inside that callback, where it cannot: then the callback frees the watch when it returns. */
struct wipc__proc_watch {
    HANDLE proc, wait;
    void (*on_exit)(void *arg);
    void (*on_free)(void *arg);
    void *arg;
    volatile LONG cb_thread; /* the thread running on_exit, 0 when none */
    volatile LONG free_in_cb; /* unwatched from inside on_exit: it frees the watch */
};

static void watch_release(wipc__proc_watch *w)
{
    CloseHandle(w->proc);
    w->on_free(w->arg);
    free(w);
}

static VOID CALLBACK watch_fired(PVOID arg, BOOLEAN timed_out)
{
    wipc__proc_watch *w = arg;
    (void)timed_out;
    InterlockedExchange(&w->cb_thread, (LONG)GetCurrentThreadId());
    w->on_exit(w->arg);
    InterlockedExchange(&w->cb_thread, 0);
    if (InterlockedCompareExchange(&w->free_in_cb, 0, 0))
        watch_release(w);
}

wipc__proc_watch *wipc__plat_proc_watch(uint32_t pid, uint32_t start_key, void (*on_exit)(void *arg),
                                        void (*on_free)(void *arg), void *arg)
{
    if (pid == 0)
        return NULL;
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | SYNCHRONIZE, FALSE, (DWORD)pid);
    if (!h)
        return NULL; /* gone, or not ours to open: the caller polls */
    uint32_t key = start_key_of(h);
    if (WaitForSingleObject(h, 0) != WAIT_TIMEOUT || (start_key && key && key != start_key)) {
        CloseHandle(h); /* exited already, or another process has the pid: the caller's poll sees it */
        return NULL;
    }
    wipc__proc_watch *w = calloc(1, sizeof *w);
    if (!w) {
        CloseHandle(h);
        return NULL;
    }
    w->proc = h;
    w->on_exit = on_exit;
    w->on_free = on_free;
    w->arg = arg;
    if (!RegisterWaitForSingleObject(&w->wait, h, watch_fired, w, INFINITE, WT_EXECUTEONLYONCE)) {
        CloseHandle(h);
        free(w);
        return NULL;
    }
    return w;
}

void wipc__plat_proc_unwatch(wipc__proc_watch *w)
{
    if (!w)
        return;
    if ((DWORD)InterlockedCompareExchange(&w->cb_thread, 0, 0) == GetCurrentThreadId()) {
        UnregisterWait(w->wait); /* inside on_exit: cannot wait for ourselves */
        InterlockedExchange(&w->free_in_cb, 1);
        return;
    }
    UnregisterWaitEx(w->wait, INVALID_HANDLE_VALUE); /* returns once no callback runs */
    watch_release(w);
}
