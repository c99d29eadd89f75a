/*
 * util.h - helpers shared by the files of the Win32 backend (util.c), below every transport's file:
 * they call only the OS. Nothing here is exported from the DLL.
 */
#ifndef WIPC_WIN32_UTIL_H
#define WIPC_WIN32_UTIL_H

#include <wchar.h>

#ifdef __cplusplus
extern "C" {
#endif

/** malloc'ed UTF-16 copy of UTF-8 `s` (MultiByteToWideChar, invalid UTF-8 refused). NULL on failure
 *  with GetLastError() telling why (ERROR_NO_UNICODE_TRANSLATION, ERROR_NOT_ENOUGH_MEMORY). */
wchar_t *wipc__win_utf8_to_wide(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* WIPC_WIN32_UTIL_H */
