/*
 * msg_win32.h - what the Win32 msg files share (msg_window.c, msg_send.c): the window class of an
 * endpoint, L"wipc-msg-<name>", and the name-guard mutex, L"Local\wipc-msg-<name>".
 */
#ifndef WIPC_WIN32_MSG_H
#define WIPC_WIN32_MSG_H

#include "win32_internal.h"
#include "platform_msg.h"

#include <stdatomic.h>

#define WIPC__WIN_MSG_CLASS_PREFIX     L"wipc-msg-"
#define WIPC__WIN_MSG_CLASS_PREFIX_LEN 9
#define WIPC__WIN_MSG_CLASS_MAX        (WIPC__WIN_MSG_CLASS_PREFIX_LEN + WIPC_NAME_MAX + 1)

/* The owner record of an endpoint: a section L"Local\wipc-msg-owner:<name>" of one page (msg_window.c). */
#define WIPC__WIN_MSG_OWNER_PREFIX L"Local\\wipc-msg-owner:"
#define WIPC__WIN_MSG_OWNER_MAX    (32 + WIPC_NAME_MAX + 1)
#define WIPC__WIN_MSG_OWNER_SIZE   4096u
#define WIPC__WIN_MSG_OWNER_MAGIC  0x4f534d57u /* "WMSO" */
typedef struct wipc__win_msg_owner_rec {
    _Atomic uint32_t magic; /* WIPC__WIN_MSG_OWNER_MAGIC once pid is written */
    _Atomic uint32_t pid; /* the process that holds the name */
    _Atomic uint64_t hwnd; /* its window; 0 = not reachable (starting or closing) */
} wipc__win_msg_owner_rec;

/** Writes `prefix` + `name` (a validated wipc name) as UTF-16 into out (cap wchar_ts). Sets the last
 *  error on failure (not UTF-8, too long, no memory). */
wipc_status wipc__win_msg_wide(const wchar_t *prefix, const char *name, wchar_t *out, size_t cap, const char *fn);

#endif
