/*
 * msg_win32.h - what the Win32 msg files share (msg_window.c, msg_send.c): the window class of an
 * endpoint, L"wipc-msg-<name>", and the name-guard mutex, L"Local\wipc-msg-<name>".
 */
#ifndef WIPC_WIN32_MSG_H
#define WIPC_WIN32_MSG_H

#include "win32_internal.h"
#include "platform_msg.h"

#define WIPC__MSG_CLASS_PREFIX L"wipc-msg-"
#define WIPC__MSG_CLASS_PREFIX_LEN 9
#define WIPC__MSG_CLASS_MAX (WIPC__MSG_CLASS_PREFIX_LEN + WIPC_NAME_MAX + 1)

/** Writes `prefix` + `name` (a validated wipc name) as UTF-16 into out (cap wchar_ts). Sets the last
 *  error on failure (not UTF-8, too long, no memory). */
wipc_status wipc__win_msg_wide(const wchar_t *prefix, const char *name, wchar_t *out, size_t cap, const char *fn);

#endif
