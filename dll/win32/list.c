/*
 * list.c - Win32 endpoint discovery (dll/platform_list.h), all within this logon session:
 *
 *   pipe: FindFirstFileW / FindNextFileW over L"\\.\pipe\*", names L"wipc-<name>", and the stats
 *         sections of pipe servers (wipc-stats-p-<name>, stats.h) in the object directory below (Wine
 *         cannot enumerate the pipe namespace; a server with WIPC_PIPE_NO_STATS is then not seen).
 *         A pipe cannot be asked who serves it without connecting to it (which a server would see):
 *         owner pid and creation time come from the stats section, else 0.
 *   shm:  the session's object directory (\Sessions\<id>\BaseNamedObjects, or \BaseNamedObjects in
 *         session 0) read with NtOpenDirectoryObject + NtQueryDirectoryObject (ntdll, found with
 *         GetProcAddress), objects of type "Section" named wipc-<name> / wipc-region-<name>. Each is
 *         opened read-only (OpenFileMappingW(FILE_MAP_READ) + MapViewOfFile of the header), the header
 *         copied once and validated: a READY channel whose creator is alive is listed with the
 *         creator's pid; a wipc-region-<name> that is no channel is a region (pid 0). Bulk sections
 *         (wipc-pb-*), stats sections and dead channels are skipped.
 *   msg:  the message-only windows of class wipc-msg-<name> (wipc__plat_msg_list: EnumChildWindows of
 *         the HWND_MESSAGE root), owner pid from GetWindowThreadProcessId.
 *   Creation times (all transports) come from the endpoint's stats section, if it publishes one.
 */
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "platform_list.h"
#include "win32/msg_win32.h"
#include "win32_internal.h"

/* UTF-16 "wipc-<name>" (after `skip` more characters) -> UTF-8 name; 1 if a valid wipc name. */
static int wide_name(const wchar_t *w, size_t wlen, size_t skip, char name[WIPC_NAME_MAX + 1])
{
    if (wlen <= skip || wlen - skip > WIPC_NAME_MAX)
        return 0;
    size_t n = wlen - skip;
    for (size_t i = 0; i < n; i++) {
        if (w[skip + i] > 0x7f)
            return 0;
        name[i] = (char)w[skip + i];
    }
    name[n] = '\0';
    return wipc__msg_name_ok(name, n);
}

/* Owner pid and creation time from the endpoint's stats section, when it publishes one. */
static void fill_from_stats(const wipc__list_calls *up, wipc__found *f)
{
    uint32_t pid;
    int64_t created;
    if (up->stats_owner(f->transport, f->name, &pid, &created)) {
        if (!f->owner_pid)
            f->owner_pid = pid;
        f->created_ms = created;
    }
}

static int list_pipes(const wipc__list_calls *up, wipc__found_fn fn, void *arg)
{
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileW(L"\\\\.\\pipe\\*", &fd);
    if (h == INVALID_HANDLE_VALUE)
        return 0;
    int stop = 0;
    do {
        char name[WIPC_NAME_MAX + 1];
        if (wcsncmp(fd.cFileName, L"wipc-", 5) != 0 || !wide_name(fd.cFileName, wcslen(fd.cFileName), 5, name))
            continue;
        wipc__found f = { WIPC_TRANSPORT_PIPE, WIPC_KIND_PIPE_SERVER, 0, 0, name };
        fill_from_stats(up, &f);
        stop = fn(&f, arg);
    } while (!stop && FindNextFileW(h, &fd));
    FindClose(h);
    return stop;
}

/* ---- sections: the session's object directory ---- */

typedef struct nt_ustr {
    USHORT Length, MaximumLength;
    PWSTR Buffer;
} nt_ustr;

typedef struct nt_oa {
    ULONG Length;
    HANDLE RootDirectory;
    nt_ustr *ObjectName;
    ULONG Attributes;
    PVOID SecurityDescriptor, SecurityQualityOfService;
} nt_oa;

typedef struct nt_dir_entry {
    nt_ustr Name, TypeName;
} nt_dir_entry;

typedef LONG(NTAPI *open_dir_fn)(HANDLE *, ACCESS_MASK, nt_oa *);
typedef LONG(NTAPI *query_dir_fn)(HANDLE, PVOID, ULONG, BOOLEAN, BOOLEAN, PULONG, PULONG);

#define WIPC__WIN_DIRECTORY_QUERY      0x0001
#define WIPC__WIN_OBJ_CASE_INSENSITIVE 0x40

/* 1 if the section Local\<object> is a live channel (*pid = its creator). */
static int channel_owner(const wipc__list_calls *up, const wchar_t *object, uint32_t *pid)
{
    wchar_t full[WIPC_NAME_MAX + 32];
    _snwprintf(full, sizeof full / sizeof full[0], L"Local\\%ls", object);
    full[sizeof full / sizeof full[0] - 1] = 0;
    HANDLE m = OpenFileMappingW(FILE_MAP_READ, FALSE, full);
    if (!m)
        return 0;
    int ok = 0;
    const void *view = MapViewOfFile(m, FILE_MAP_READ, 0, 0, WIPC__CHANNEL_HEADER_BYTES);
    if (view) {
        unsigned char copy[WIPC__CHANNEL_HEADER_BYTES];
        memcpy(copy, view, sizeof copy); /* the peer's memory: one read into our copy */
        UnmapViewOfFile(view);
        ok = up->channel_owner(copy, sizeof copy, pid);
    }
    CloseHandle(m);
    return ok;
}

static int one_section(uint32_t mask, const nt_dir_entry *e, const wipc__list_calls *up, wipc__found_fn fn, void *arg)
{
    size_t len = e->Name.Length / sizeof(wchar_t);
    wchar_t object[WIPC_NAME_MAX + 16];
    if (e->TypeName.Length != 7 * sizeof(wchar_t) || wcsncmp(e->TypeName.Buffer, L"Section", 7) != 0 || len < 6 ||
        len >= sizeof object / sizeof object[0] || wcsncmp(e->Name.Buffer, L"wipc-", 5) != 0)
        return 0;
    memcpy(object, e->Name.Buffer, len * sizeof(wchar_t));
    object[len] = 0;
    char name[WIPC_NAME_MAX + 1];
    wipc__found f = { WIPC_TRANSPORT_SHM, WIPC_KIND_SHM_CHANNEL, 0, 0, name };
    if (wcsncmp(object, L"wipc-stats-p-", 13) == 0) {
        if (!(mask & WIPC_LIST_PIPE) || !wide_name(object, len, 13, name))
            return 0;
        /* a pipe server's stats section: the pipe namespace may not be enumerable (Wine) */
        f.transport = WIPC_TRANSPORT_PIPE;
        f.kind = WIPC_KIND_PIPE_SERVER;
        return up->stats_owner(WIPC_TRANSPORT_PIPE, name, &f.owner_pid, &f.created_ms) ? fn(&f, arg) : 0;
    }
    if (!(mask & WIPC_LIST_SHM))
        return 0;
    if (wide_name(object, len, 5, name) && channel_owner(up, object, &f.owner_pid)) {
        fill_from_stats(up, &f);
        return fn(&f, arg);
    }
    if (wcsncmp(object, L"wipc-region-", 12) == 0 && wide_name(object, len, 12, name)) {
        f.kind = WIPC_KIND_REGION;
        return fn(&f, arg);
    }
    return 0;
}

static int list_sections(uint32_t mask, const wipc__list_calls *up, wipc__found_fn fn, void *arg)
{
    HMODULE ntdll = GetModuleHandleW(L"ntdll.dll");
    open_dir_fn open_dir = ntdll ? (open_dir_fn)(void (*)(void))GetProcAddress(ntdll, "NtOpenDirectoryObject") : NULL;
    query_dir_fn query_dir =
        ntdll ? (query_dir_fn)(void (*)(void))GetProcAddress(ntdll, "NtQueryDirectoryObject") : NULL;
    DWORD session = 0;
    if (!open_dir || !query_dir || !ProcessIdToSessionId(GetCurrentProcessId(), &session))
        return 0;
    wchar_t path[64];
    if (session)
        _snwprintf(path, sizeof path / sizeof path[0], L"\\Sessions\\%lu\\BaseNamedObjects", (unsigned long)session);
    else
        wcscpy(path, L"\\BaseNamedObjects");
    nt_ustr us = { (USHORT)(wcslen(path) * sizeof(wchar_t)), (USHORT)(wcslen(path) * sizeof(wchar_t)), path };
    nt_oa oa = { sizeof oa, NULL, &us, WIPC__WIN_OBJ_CASE_INSENSITIVE, NULL, NULL };
    HANDLE dir;
    if (open_dir(&dir, WIPC__WIN_DIRECTORY_QUERY, &oa) < 0)
        return 0;
    union {
        nt_dir_entry e;
        unsigned char bytes[2048];
    } buf;
    ULONG ctx = 0, got = 0;
    int stop = 0;
    for (BOOLEAN restart = TRUE; !stop; restart = FALSE) {
        if (query_dir(dir, &buf, sizeof buf, TRUE, restart, &ctx, &got) != 0) /* STATUS_NO_MORE_ENTRIES or an error */
            break;
        stop = one_section(mask, &buf.e, up, fn, arg);
    }
    CloseHandle(dir);
    return stop;
}

/* ---- msg windows ---- */

typedef struct msg_walk {
    const wipc__list_calls *up;
    wipc__found_fn fn;
    void *arg;
} msg_walk;

static int one_window(const char *name, void *arg)
{
    msg_walk *k = arg;
    wchar_t cls[WIPC__WIN_MSG_CLASS_MAX + 1];
    if (wipc__win_msg_wide(WIPC__WIN_MSG_CLASS_PREFIX, name, cls, sizeof cls / sizeof cls[0], "wipc_list") != WIPC_OK)
        return 0;
    DWORD pid = 0;
    HWND w = FindWindowExW(HWND_MESSAGE, NULL, cls, NULL);
    if (!w || !GetWindowThreadProcessId(w, &pid))
        return 0; /* gone meanwhile */
    wipc__found f = { WIPC_TRANSPORT_MSG, WIPC_KIND_MSG_ENDPOINT, (uint32_t)pid, 0, name };
    fill_from_stats(k->up, &f);
    return k->fn(&f, k->arg);
}

wipc_status wipc__plat_list(uint32_t mask, const wipc__list_calls *up, wipc__found_fn fn, void *arg)
{
    int stop = 0;
    if (mask & WIPC_LIST_PIPE)
        stop = list_pipes(up, fn, arg);
    if (!stop && (mask & (WIPC_LIST_SHM | WIPC_LIST_PIPE)))
        stop = list_sections(mask, up, fn, arg); /* shm sections, and pipe servers' stats sections */
    if (!stop && (mask & WIPC_LIST_MSG)) {
        msg_walk k = { up, fn, arg };
        return wipc__plat_msg_list(one_window, &k);
    }
    return WIPC_OK;
}
