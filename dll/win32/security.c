/*
 * security.c - security attributes for the named objects the Win32 backend creates: pipes, shm
 * sections and their events, the msg name mutexes.
 *
 * Owner-only by default: a protected DACL granting GENERIC_ALL to SYSTEM and to the current user,
 * whose SID comes from the process token (OpenProcessToken + GetTokenInformation(TokenUser) +
 * ConvertSidToStringSidW), i.e. SDDL L"D:P(A;;GA;;;SY)(A;;GA;;;<sid>)", plus optional extra ACEs
 * (WIPC_PIPE_ANY_USER adds Everyone read/write). A caller's SDDL (UTF-8) is used as given. The
 * descriptor is built with ConvertStringSecurityDescriptorToSecurityDescriptorW and freed with
 * LocalFree.
 */
#include <stdlib.h>
#include <wchar.h>

#include "win32_internal.h" /* <windows.h> first: <sddl.h> needs it */

#include <sddl.h>

static SRWLOCK g_sid_lock = SRWLOCK_INIT;
static wchar_t *g_sid; /* LocalAlloc'ed by ConvertSidToStringSidW; kept for the life of the process */

/* The string SID of the user of `process`'s token (LocalFree it), or NULL with *what and the error set. */
static wchar_t *token_sid(HANDLE process, const char **what, DWORD *err)
{
    HANDLE tok = NULL;
    TOKEN_USER *tu = NULL;
    DWORD need = 0;
    wchar_t *sid = NULL;
    *err = 0;
    *what = "OpenProcessToken";
    if (!OpenProcessToken(process, TOKEN_QUERY, &tok)) {
        *err = GetLastError();
        goto done;
    }
    *what = "GetTokenInformation(TokenUser)";
    if (!GetTokenInformation(tok, TokenUser, NULL, 0, &need) && GetLastError() != ERROR_INSUFFICIENT_BUFFER) {
        *err = GetLastError();
        goto done;
    }
    tu = (TOKEN_USER *)malloc(need ? need : 1);
    if (!tu) {
        *err = ERROR_NOT_ENOUGH_MEMORY;
        goto done;
    }
    if (!GetTokenInformation(tok, TokenUser, tu, need, &need)) {
        *err = GetLastError();
        goto done;
    }
    *what = "ConvertSidToStringSidW";
    if (!ConvertSidToStringSidW(tu->User.Sid, &sid)) {
        *err = GetLastError();
        sid = NULL;
    }
done:
    if (tok)
        CloseHandle(tok);
    free(tu);
    return sid;
}

const wchar_t *wipc__win_user_sid(void)
{
    AcquireSRWLockShared(&g_sid_lock);
    wchar_t *sid = g_sid;
    ReleaseSRWLockShared(&g_sid_lock);
    if (sid)
        return sid;

    AcquireSRWLockExclusive(&g_sid_lock);
    if (!g_sid) {
        const char *what;
        DWORD err;
        g_sid = token_sid(GetCurrentProcess(), &what, &err);
        if (!g_sid)
            wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_SYSTEM, err,
                        "%s failed: cannot learn the current user's SID", what);
    }
    sid = g_sid;
    ReleaseSRWLockExclusive(&g_sid_lock);
    if (!sid)
        SetLastError(ERROR_GEN_FAILURE);
    return sid;
}

wipc_status wipc__win_sa_init(wipc__win_sa *out, const char *sddl_utf8, const wchar_t *extra_aces)
{
    ZeroMemory(out, sizeof *out);
    wchar_t *text = NULL;
    if (sddl_utf8) {
        text = wipc__win_utf8_to_wide(sddl_utf8);
        if (!text) {
            DWORD err = GetLastError();
            return wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_INVALID_ARG, err,
                               "security_descriptor is not valid UTF-8");
        }
    } else {
        const wchar_t *sid = wipc__win_user_sid();
        if (!sid)
            return WIPC_E_SYSTEM; /* last error already set */
        if (!extra_aces)
            extra_aces = L"";
        size_t cap = wcslen(sid) + wcslen(extra_aces) + 64;
        text = (wchar_t *)malloc(cap * sizeof(wchar_t));
        if (!text)
            return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "out of memory building a DACL");
        wcscpy(text, L"D:P(A;;GA;;;SY)(A;;GA;;;");
        wcscat(text, sid);
        wcscat(text, L")");
        wcscat(text, extra_aces);
    }
    PSECURITY_DESCRIPTOR sd = NULL;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(text, SDDL_REVISION_1, &sd, NULL)) {
        DWORD err = GetLastError();
        wipc_status st;
        if (sddl_utf8)
            st = wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_INVALID_ARG, err,
                             "ConvertStringSecurityDescriptorToSecurityDescriptorW(\"%s\") failed: "
                             "security_descriptor is not a valid SDDL string",
                             sddl_utf8);
        else
            st = wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_SYSTEM, err,
                             "ConvertStringSecurityDescriptorToSecurityDescriptorW(owner-only DACL) failed");
        free(text);
        return st;
    }
    free(text);
    out->sd = sd;
    out->sa.nLength = sizeof out->sa;
    out->sa.lpSecurityDescriptor = sd;
    out->sa.bInheritHandle = FALSE;
    return WIPC_OK;
}

void wipc__win_sa_free(wipc__win_sa *sa)
{
    if (sa && sa->sd) {
        LocalFree(sa->sd);
        sa->sd = NULL;
        sa->sa.lpSecurityDescriptor = NULL;
    }
}

int wipc__win_same_user_session(DWORD pid)
{
    DWORD mine = 0, theirs = 0;
    if (!pid || !ProcessIdToSessionId(GetCurrentProcessId(), &mine) || !ProcessIdToSessionId(pid, &theirs) ||
        mine != theirs)
        return 0;
    const wchar_t *me = wipc__win_user_sid();
    HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
    if (!me || !h) {
        if (h)
            CloseHandle(h);
        return 0;
    }
    const char *what;
    DWORD err;
    wchar_t *sid = token_sid(h, &what, &err);
    CloseHandle(h);
    int same = sid && wcscmp(sid, me) == 0;
    if (sid)
        LocalFree(sid);
    return same;
}
