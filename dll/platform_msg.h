/*
 * platform_msg.h - the backend contract of the window-message (msg) transport. The portable half
 * (dll/common/msg*.c) owns the endpoint object, the payload header, validation, queue/callback
 * delivery and the reply encoding; a backend (dll/win32/msg*.c, dll/linux/msg*.c) only finds
 * endpoints, moves one payload to one of them and carries one 64-bit reply word back.
 *
 *   Windows: a message-only window (HWND_MESSAGE) of class L"wipc-msg-<name>" on a library thread
 *            running its own message loop; WM_COPYDATA carries the payload (dwData = type) and the
 *            window procedure's LRESULT is the reply word. Name guard: mutex Local\wipc-msg-<name>.
 *   POSIX:   a SOCK_SEQPACKET AF_UNIX socket <rundir>/m.<name> served by a receiver thread (epoll
 *            over every sender connection); per message a request packet in, a reply packet (the
 *            8-byte reply word) out, on a connection the sender caches for its next messages.
 *            Name guard: flock(<rundir>/m.<name>.lock), which also holds the name for listing.
 *
 * Threading: the backend calls wipc__core_msg_received() on its receiver thread only, one message at
 * a time per endpoint (so callbacks of one endpoint never run concurrently).
 * Naming as in platform.h: wipc__plat_* = implemented by the backend, wipc__core_* = by dll/common/.
 */
#ifndef WIPC_PLATFORM_MSG_H
#define WIPC_PLATFORM_MSG_H

#include "platform.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wipc__msg_rx wipc__msg_rx; /* backend: one listening endpoint (window + thread / socket + thread) */
struct wipc__msg_ep; /* core object, opaque to the backend */

/** The core's entry point for a message: wipc__core_msg_received (below). */
typedef uint64_t (*wipc__msg_received_fn)(struct wipc__msg_ep *ep, uint32_t type, const void *payload, size_t size,
                                          uint32_t os_pid);

/** What the core asks of a listening endpoint, already validated. */
typedef struct wipc__msg_cfg {
    uint32_t flags; /* WIPC_MSG_* */
    uint32_t max_message_size; /* user bytes, 1..WIPC__MSG_SIZE_LIMIT; the backend sizes its receive buffer with it */
    wipc__msg_received_fn received; /* = wipc__core_msg_received: the backend calls up only through it */
} wipc__msg_cfg;

/** Serves `name` (a validated wipc name). Returns once the endpoint is reachable (window created /
 *  socket listening) or failed: WIPC_E_ADDR_IN_USE (the name is served, in any process of this
 *  user/session), WIPC_E_ACCESS_DENIED, WIPC_E_NO_MEMORY, WIPC_E_SYSTEM (last error set). From then on
 *  the receiver thread calls wipc__core_msg_received(ep, ...) for each message. */
wipc_status wipc__plat_msg_listen(const char *name, const wipc__msg_cfg *cfg, struct wipc__msg_ep *ep,
                                  wipc__msg_rx **out);

/** Stops the endpoint: the name is released, senders waiting on it get WIPC_E_DISCONNECTED, new ones
 *  WIPC_E_NOT_FOUND. When it returns, wipc__core_msg_received is not running and never called again
 *  for `rx`, unless the caller IS the receiver thread (a callback closing its own endpoint): then the
 *  call in progress finishes, no other one starts, and the thread frees `rx` when it ends. Takes
 *  ownership of `rx` (it is freed now or by that thread). */
void wipc__plat_msg_close(wipc__msg_rx *rx);

/** Sends one payload (the concatenation of iov[0..n): the wipc payload header then the user bytes)
 *  tagged `type` to the endpoint `name` and waits up to `timeout_ms` (WIPC_INFINITE = forever) for
 *  the receiver's 64-bit reply word (*out_word; decode with wipc__msg_reply_decode).
 *  Returns WIPC_OK, WIPC_E_NOT_FOUND (no such endpoint), WIPC_E_TIMEOUT (slow or hung receiver, or it
 *  stayed unreachable), WIPC_E_DISCONNECTED (it closed or died while we waited), WIPC_E_ACCESS_DENIED
 *  (UIPI / another user), WIPC_E_TOO_LARGE (the OS refused the size), WIPC_E_SYSTEM. Sets the last
 *  error on failure. */
wipc_status wipc__plat_msg_send(const char *name, uint32_t type, const wipc__iov *iov, size_t n, int32_t timeout_ms,
                                uint64_t *out_word);

/** Enumerates the live endpoints of this user/session: calls fn(name, arg) for each, with a valid
 *  wipc name (the core filters by prefix, sorts and formats). fn returns 0 to go on, non-zero to stop
 *  (that value is returned). Returns WIPC_OK, or an error with the last error set. */
typedef int (*wipc__msg_name_fn)(const char *name, void *arg);
wipc_status wipc__plat_msg_list(wipc__msg_name_fn fn, void *arg);

/** A raw send target (wipc.h, WIPC_MSG_TARGET_*), parsed by the core: each part '\0'-terminated
 *  UTF-8, empty when absent; at least one part is set. */
#define WIPC__MSG_TARGET_CLASS_MAX 256 /* bytes, '\0' included */
#define WIPC__MSG_TARGET_TITLE_MAX 1024
#define WIPC__MSG_TARGET_PATH_MAX  256
typedef struct wipc__msg_target {
    char cls[WIPC__MSG_TARGET_CLASS_MAX]; /* "class:" */
    char title[WIPC__MSG_TARGET_TITLE_MAX]; /* "title:" */
    char path[WIPC__MSG_TARGET_PATH_MAX]; /* "path:" */
    const char *text; /* the whole target as the caller wrote it, for messages */
} wipc__msg_target;

/** Raw send (WIPC_MSG_RAW semantics, no wipc header): `size` bytes at `data` tagged `type` to the
 *  window / socket `t` names, waiting up to `timeout_ms` for its answer: *out_word = the LRESULT
 *  (Windows) or the 8-byte reply packet (POSIX), uninterpreted. Returns WIPC_OK, WIPC_E_NOT_FOUND,
 *  WIPC_E_NOT_SUPPORTED (a form this backend lacks), WIPC_E_INVALID_ARG (a part this backend cannot
 *  use, e.g. a path too long for sockaddr_un), and the transport statuses of wipc__plat_msg_send.
 *  Sets the last error on failure. */
wipc_status wipc__plat_msg_send_raw(const wipc__msg_target *t, uint32_t type, const void *data, size_t size,
                                    int32_t timeout_ms, uint64_t *out_word);

/* ---- called by backends (through wipc__msg_cfg.received), implemented in dll/common/msg/msg.c ----- */

/** One message arrived for `ep` on its receiver thread: `payload` / `size` is exactly what the sender
 *  gave (payload header + user bytes; `size` may exceed what `payload` holds when the backend could
 *  not take it all: the core rejects it by size before touching the data), `type` its tag, `os_pid`
 *  the sender's pid as the OS vouches for it (SO_PEERCRED; 0 = unknown, then the pid the sender
 *  claims in the header is used). Validates, then queues a copy or runs on_message inline, and returns
 *  the reply word to send back (wipc__msg_reply_encode). `payload` need only be valid during the call. */
uint64_t wipc__core_msg_received(struct wipc__msg_ep *ep, uint32_t type, const void *payload, size_t size,
                                 uint32_t os_pid);

#ifdef __cplusplus
}
#endif

#endif /* WIPC_PLATFORM_MSG_H */
