/*
 * error.c - OS error codes for the Win32 backend: the calling thread's code (GetLastError), its text
 * (FormatMessageW, converted to UTF-8 with WideCharToMultiByte, trailing ".\r\n" stripped) and the
 * nearest wipc_status for a Win32 error code.
 */
#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "win32_internal.h"

int64_t wipc__os_error(void)
{
    return (int64_t)GetLastError();
}

void wipc__os_error_text(int64_t code, char *buf, size_t cap)
{
    if (!buf || cap == 0)
        return;
    buf[0] = '\0';
    DWORD saved = GetLastError();
    wchar_t wide[512];
    DWORD flags = FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS | FORMAT_MESSAGE_MAX_WIDTH_MASK;
    /* English first (stable text for logs and tests), then whatever language the system has. */
    DWORD n = FormatMessageW(flags, NULL, (DWORD)code, MAKELANGID(LANG_ENGLISH, SUBLANG_ENGLISH_US), wide,
                             (DWORD)(sizeof wide / sizeof wide[0]), NULL);
    if (n == 0)
        n = FormatMessageW(flags, NULL, (DWORD)code, 0, wide, (DWORD)(sizeof wide / sizeof wide[0]), NULL);
    if (n == 0) {
        snprintf(buf, cap, "Win32 error %lu", (unsigned long)(DWORD)code);
        SetLastError(saved);
        return;
    }
    /* strip trailing whitespace, newlines and the final period */
    while (n > 0 && (wide[n - 1] == L'\r' || wide[n - 1] == L'\n' || wide[n - 1] == L' ' || wide[n - 1] == L'.'))
        n--;
    int len = WideCharToMultiByte(CP_UTF8, 0, wide, (int)n, NULL, 0, NULL, NULL);
    if (len <= 0) {
        snprintf(buf, cap, "Win32 error %lu", (unsigned long)(DWORD)code);
    } else if ((size_t)len < cap) {
        WideCharToMultiByte(CP_UTF8, 0, wide, (int)n, buf, len, NULL, NULL);
        buf[len] = '\0';
    } else {
        /* too long for buf: convert into a scratch buffer and cut at a UTF-8 character boundary */
        char tmp[512 * 3 + 1];
        int m = WideCharToMultiByte(CP_UTF8, 0, wide, (int)n, tmp, (int)sizeof tmp - 1, NULL, NULL);
        if (m < 0)
            m = 0;
        size_t keep = cap - 1 < (size_t)m ? cap - 1 : (size_t)m;
        while (keep > 0 && ((unsigned char)tmp[keep] & 0xC0) == 0x80)
            keep--;
        memcpy(buf, tmp, keep);
        buf[keep] = '\0';
    }
    SetLastError(saved);
}

wipc_status wipc__os_error_status(int64_t code)
{
    switch ((DWORD)code) {
    case ERROR_SUCCESS:
        return WIPC_OK;
    case ERROR_FILE_NOT_FOUND:
    case ERROR_PATH_NOT_FOUND:
    case ERROR_BAD_NETPATH:
    case ERROR_BAD_NET_NAME:
        return WIPC_E_NOT_FOUND;
    case ERROR_ACCESS_DENIED:
    case ERROR_PRIVILEGE_NOT_HELD:
    case ERROR_CANNOT_IMPERSONATE:
        return WIPC_E_ACCESS_DENIED;
    case ERROR_PIPE_BUSY:
    case ERROR_BUSY:
        return WIPC_E_BUSY;
    case ERROR_BROKEN_PIPE:
    case ERROR_NO_DATA:
    case ERROR_PIPE_NOT_CONNECTED:
    case ERROR_PIPE_LISTENING:
    case ERROR_HANDLE_EOF:
        return WIPC_E_DISCONNECTED;
    case ERROR_NOT_ENOUGH_MEMORY:
    case ERROR_OUTOFMEMORY:
    case ERROR_NO_SYSTEM_RESOURCES:
        return WIPC_E_NO_MEMORY;
    case ERROR_SEM_TIMEOUT:
    case WAIT_TIMEOUT:
    case ERROR_TIMEOUT:
        return WIPC_E_TIMEOUT;
    case ERROR_ALREADY_EXISTS:
    case ERROR_FILE_EXISTS:
        return WIPC_E_ADDR_IN_USE;
    case ERROR_INVALID_NAME:
    case ERROR_BAD_PATHNAME:
    case ERROR_FILENAME_EXCED_RANGE:
    case ERROR_NO_UNICODE_TRANSLATION:
        return WIPC_E_INVALID_ARG;
    case ERROR_OPERATION_ABORTED:
        return WIPC_E_CLOSED;
    case ERROR_NOT_SUPPORTED:
    case ERROR_CALL_NOT_IMPLEMENTED:
        return WIPC_E_NOT_SUPPORTED;
    default:
        return WIPC_E_SYSTEM;
    }
}
