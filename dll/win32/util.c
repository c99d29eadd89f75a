/*
 * util.c - small helpers every file of the Win32 backend may use (see util.h). They call only the OS,
 * so any backend file can use them without depending on a transport's file.
 */
#include <windows.h>
#include <stdlib.h>

#include "win32/util.h"

wchar_t *wipc__win_utf8_to_wide(const char *s)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
    if (n <= 0)
        return NULL; /* GetLastError: ERROR_NO_UNICODE_TRANSLATION, ... */
    wchar_t *w = (wchar_t *)malloc((size_t)n * sizeof(wchar_t));
    if (!w) {
        SetLastError(ERROR_NOT_ENOUGH_MEMORY);
        return NULL;
    }
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w, n) <= 0) {
        DWORD err = GetLastError();
        free(w);
        SetLastError(err);
        return NULL;
    }
    return w;
}
