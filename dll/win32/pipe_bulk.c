/*
 * pipe_bulk.c - Win32 side of the pipe's large-message sections (dll/common/pipe/pipe_bulk.c): pagefile-
 * backed sections Local\wipc-pb-<pid>-<number> with the owner-only DACL (security.c), mapped
 * read-write by the sending process and its peer; the section lives as long as either keeps it open.
 * Each section has an auto-reset event (same name + "-ev"): only the sender waits on it (for a free
 * slot), woken by the receiver; the receiver never waits on the sender (the message is whole before its
 * BULK frame is written).
 * The creator's section and event must not exist yet (ERROR_ALREADY_EXISTS fails the create: a name
 * someone pre-created is never used). The peer's section is untrusted: mapped at the size the core
 * asks for (a smaller section cannot be), and refused unless every page of that view is committed
 * (VirtualQuery: the peer may have made it SEC_RESERVE, whose pages fault when touched). Sections
 * cannot shrink on Windows, so the check holds for the mapping's life.
 */
#include <stdio.h>
#include <stdlib.h>

#include <stdatomic.h>

#include "win32_internal.h"

struct wipc__bulk_section {
    HANDLE h;
    HANDLE ev; /* auto-reset: wipc__plat_bulk_wake */
    void *base;
};

wipc_status wipc__plat_bulk_section(int create, uint32_t owner_pid, uint32_t owner_uid, uint32_t number, uint64_t size,
                                    void **base, wipc__bulk_section **out)
{
    (void)owner_uid; /* the owner-only DACL keeps other users out */
    *out = NULL;
    *base = NULL;
    wchar_t name[96], evname[100];
    _snwprintf(name, sizeof name / sizeof name[0], L"Local\\wipc-pb-%lu-%lu", (unsigned long)owner_pid,
               (unsigned long)number);
    name[sizeof name / sizeof name[0] - 1] = 0;
    _snwprintf(evname, sizeof evname / sizeof evname[0], L"%ls-ev", name);
    evname[sizeof evname / sizeof evname[0] - 1] = 0;
    wipc__bulk_section *s = (wipc__bulk_section *)calloc(1, sizeof *s);
    if (!s)
        return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "out of memory for a pipe bulk section");
    if (create) {
        wipc__win_sa sa;
        wipc_status st = wipc__win_sa_init(&sa, NULL, NULL);
        if (st != WIPC_OK) {
            free(s);
            return st;
        }
        s->h = CreateFileMappingW(INVALID_HANDLE_VALUE, &sa.sa, PAGE_READWRITE | SEC_COMMIT, (DWORD)(size >> 32),
                                  (DWORD)size, name);
        DWORD err = GetLastError();
        if (s->h && err == ERROR_ALREADY_EXISTS) {
            CloseHandle(s->h);
            s->h = NULL;
        }
        if (s->h) {
            s->ev = CreateEventW(&sa.sa, FALSE, FALSE, evname);
            err = GetLastError();
            if (s->ev && err == ERROR_ALREADY_EXISTS) {
                CloseHandle(s->ev);
                s->ev = NULL;
            }
            if (!s->ev) {
                CloseHandle(s->h);
                s->h = NULL;
            }
        }
        wipc__win_sa_free(&sa);
        if (!s->h) {
            free(s);
            return wipc__error(
                err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_COMMITMENT_LIMIT ? WIPC_E_NO_MEMORY : WIPC_E_SYSTEM, err,
                "CreateFileMappingW for a %llu-byte pipe bulk section failed", (unsigned long long)size);
        }
    } else {
        s->h = OpenFileMappingW(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name);
        s->ev = s->h ? OpenEventW(SYNCHRONIZE | EVENT_MODIFY_STATE, FALSE, evname) : NULL;
        if (!s->h || !s->ev) {
            DWORD err = GetLastError();
            if (s->h)
                CloseHandle(s->h);
            free(s);
            return wipc__error(WIPC_E_PROTOCOL, err, "the peer's bulk section cannot be opened");
        }
    }
    /* a section smaller than `size` cannot be mapped that large: the size check */
    s->base = MapViewOfFile(s->h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, (SIZE_T)size);
    if (!s->base) {
        DWORD err = GetLastError();
        CloseHandle(s->h);
        CloseHandle(s->ev);
        free(s);
        return wipc__error(create ? WIPC_E_NO_MEMORY : WIPC_E_PROTOCOL, err,
                           "MapViewOfFile of a %llu-byte pipe bulk section failed", (unsigned long long)size);
    }
    if (!create) {
        wipc_status st = wipc__win_committed(s->base, size, "the peer's bulk section");
        if (st != WIPC_OK) {
            wipc__plat_bulk_close(s);
            return st;
        }
    }
    *base = s->base;
    *out = s;
    return WIPC_OK;
}

void wipc__plat_bulk_close(wipc__bulk_section *s)
{
    if (!s)
        return;
    UnmapViewOfFile(s->base);
    CloseHandle(s->h);
    CloseHandle(s->ev);
    free(s);
}

int wipc__plat_pipe_bulk_ok(wipc__pipe *p)
{
    char v[8];
    DWORD n = GetEnvironmentVariableA("WIPC_PIPE_BULK", v, sizeof v);
    if (n == 1 && v[0] == '0')
        return 0;
    uint32_t pid = 0;
    wipc__plat_pipe_peer(p, &pid, NULL);
    return wipc__win_same_user_session(pid); /* Local\ names are per session; the DACL is owner-only */
}

void wipc__plat_bulk_wait(wipc__bulk_section *s, _Atomic uint32_t *word, uint32_t val, int32_t ms)
{
    if (atomic_load(word) != val)
        return;
    WaitForSingleObject(s->ev, ms < 0 ? INFINITE : (DWORD)ms);
}

void wipc__plat_bulk_wake(wipc__bulk_section *s, _Atomic uint32_t *word)
{
    (void)word;
    SetEvent(s->ev);
}
