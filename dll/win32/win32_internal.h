/*
 * win32_internal.h - what the files of the Win32 backend (dll/win32/) share with each other and with
 * later Win32 transports (shm sections and events, the msg window): the library I/O thread and its
 * completion port (iocp.c), security attributes from SDDL (security.c), UTF-8 -> UTF-16 (util.c) and
 * pipe names (pipe.c), and the pipe/listener internals split between pipe.c and pipe_listen.c.
 * Nothing here is exported from the DLL.
 */
#ifndef WIPC_WIN32_INTERNAL_H
#define WIPC_WIN32_INTERNAL_H

#include "platform.h" /* pulls in <windows.h> through win32/plat_types.h */
#include "win32/util.h" /* wipc__win_utf8_to_wide */

#ifdef __cplusplus
extern "C" {
#endif

/** The timeout a Win32 wait (WaitForSingleObject / WaitForMultipleObjects / GetQueuedCompletionStatus /
 *  SleepConditionVariableSRW) gets for `dl`: INFINITE for never, else the milliseconds left (0 once
 *  passed). */
static inline DWORD wipc__win_wait_ms(wipc__deadline dl)
{
    int32_t left = wipc__deadline_left(dl);
    return left < 0 ? INFINITE : (DWORD)left;
}

/* ---- the library I/O thread (iocp.c) ----------------------------------------------------------- */

typedef struct wipc__win_iocp_op wipc__win_iocp_op;

/** Completion handler, run on the I/O thread. `err` is 0 on success, else the Win32 error of the
 *  operation (ERROR_MORE_DATA, ERROR_BROKEN_PIPE, ERROR_OPERATION_ABORTED, ...). `posted` is 1 when the
 *  packet came from wipc__win_iocp_post (then `err` is what the poster gave and `bytes` is 0). */
typedef void (*wipc__win_iocp_fn)(wipc__win_iocp_op *op, DWORD bytes, DWORD err, int posted);

/** One overlapped operation that completes through the library's completion port. Embed it in the
 *  object that owns the I/O; the OVERLAPPED must stay valid until the handler has run. */
struct wipc__win_iocp_op {
    OVERLAPPED ov;
    uint32_t magic; /* WIPC__WIN_IOCP_MAGIC: packets with a foreign OVERLAPPED are ignored */
    DWORD posted_err; /* the error a posted packet carries */
    wipc__win_iocp_fn fn;
};
#define WIPC__WIN_IOCP_MAGIC 0x50434f49u /* "IOCP" */

/** Prepares `op` (zeroes the OVERLAPPED, sets the handler). */
void wipc__win_iocp_op_init(wipc__win_iocp_op *op, wipc__win_iocp_fn fn);
/** Associates `h` (opened with FILE_FLAG_OVERLAPPED) with the completion port, starting the I/O thread
 *  if it is not running. Sets the last error on failure. */
wipc_status wipc__win_iocp_associate(HANDLE h, const char *what);
/** Call right before issuing an overlapped operation on an associated handle that will queue a packet
 *  (ReadFile, ConnectNamedPipe, ...): counts it as pending so wipc__plat_shutdown drains it. */
void wipc__win_iocp_begin(void);
/** Undoes wipc__win_iocp_begin when the operation failed at once and no packet will come. */
void wipc__win_iocp_abandon(void);
/** Queues `op` to the I/O thread (PostQueuedCompletionStatus): its handler runs there with posted = 1
 *  and err = `err`. Starts the I/O thread if needed. Returns WIPC_OK or WIPC_E_SYSTEM (last error set). */
wipc_status wipc__win_iocp_post(wipc__win_iocp_op *op, DWORD err);
/** 1 when the caller is the library I/O thread. */
int wipc__win_iocp_on_io_thread(void);

/* ---- security attributes (security.c) ---------------------------------------------------------- */

/** A SECURITY_ATTRIBUTES with the security descriptor it points to (LocalAlloc'ed). */
typedef struct wipc__win_sa {
    SECURITY_ATTRIBUTES sa;
    PSECURITY_DESCRIPTOR sd;
} wipc__win_sa;

/** Access mask granted to Everyone by WIPC_PIPE_ANY_USER: FILE_GENERIC_READ | FILE_GENERIC_WRITE
 *  without FILE_APPEND_DATA (= FILE_CREATE_PIPE_INSTANCE, so other users cannot add server instances
 *  to the pipe and intercept its clients). */
#define WIPC__WIN_PIPE_ANY_USER_ACE L"(A;;0x12019b;;;WD)"

/** Builds security attributes (bInheritHandle FALSE):
 *   - sddl_utf8 != NULL: that SDDL string, as given by the user (UTF-8);
 *   - else owner-only: L"D:P(A;;GA;;;SY)(A;;GA;;;<current user SID>)" followed by `extra_aces`
 *     (NULL = none; e.g. WIPC__WIN_PIPE_ANY_USER_ACE).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (bad SDDL), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM; sets the last error.
 *  Free with wipc__win_sa_free. Reusable for sections, events and any other named object. */
wipc_status wipc__win_sa_init(wipc__win_sa *out, const char *sddl_utf8, const wchar_t *extra_aces);
void wipc__win_sa_free(wipc__win_sa *sa);
/** The SDDL string of the current user's SID (process token), e.g. L"S-1-5-21-...". Computed once,
 *  cached for the life of the process. Returns NULL on failure (last error set). */
const wchar_t *wipc__win_user_sid(void);
/** 1 if process `pid` runs in this process's session as this process's user (its token readable), else 0. */
int wipc__win_same_user_session(DWORD pid);

/* ---- sections (shm.c) -------------------------------------------------------------------------- */

/** Checks that every page of the mapped view [base, base + size) is committed (VirtualQuery says
 *  MEM_COMMIT): a section made with SEC_RESERVE has reserved pages that fault when touched. Returns
 *  WIPC_OK, WIPC_E_PROTOCOL (a page is reserved or free: the offset is in the last error) or
 *  WIPC_E_SYSTEM. `what` names the section in the message. */
wipc_status wipc__win_committed(const void *base, uint64_t size, const char *what);

/* ---- pipe names (pipe.c) ----------------------------------------------------------------------- */

/** The pipe path of a wipc name: "\\.\pipe\wipc-<name>", or `name` itself when it starts with "\\".
 *  `w` (may be NULL) receives a malloc'ed UTF-16 copy, `u8` (may be NULL) a UTF-8 one for messages.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (not UTF-8, too long) or WIPC_E_NO_MEMORY; sets the last error. */
wipc_status wipc__win_pipe_path(const char *name, wchar_t **w, char **u8);

/* ---- pipe internals shared by pipe.c and pipe_listen.c ----------------------------------------- */

/** Creates the wipc__pipe of a connected handle; `name` (UTF-8 path, copied) names it in messages,
 *  `calls` are the core's entry points it reports through (wipc__pipe_cfg.calls).
 *  `listener` != NULL for server instances: the caller gives the pipe one reference of it, which
 *  wipc__plat_pipe_free hands back with release(listener) (the listener frees the slot and drops the
 *  reference: pipe.c never calls into pipe_listen.c). NULL on allocation failure (h is not closed). */
wipc__pipe *wipc__win_pipe_new(HANDLE h, int server_side, int message_mode, const wipc__pipe_calls *calls,
                               wipc__listener *listener, void (*release)(wipc__listener *l), const char *name);
/** Drops one reference of a listener (pipe_listen.c); the last one frees it. Any thread. */
void wipc__win_listener_unref(wipc__listener *l);

#ifdef __cplusplus
}
#endif

#endif /* WIPC_WIN32_INTERNAL_H */
