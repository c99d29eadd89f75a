/*
 * wipc.h - the public C ABI of wipc, a Windows IPC library (Named Pipes, shared memory, WM_COPYDATA)
 * with a POSIX backend that keeps the same ABI.
 *
 * This is the only public header. Everything the library exports is declared here, one function per
 * line as `WIPC_API <type> WIPC_CALL wipc_<name>(...)`, and listed in wipc.def (the export ledger).
 *
 * ABI rules (see README "ABI policy"):
 *  - Same WIPC_VERSION_MAJOR = binary compatible. Functions, constants, status codes and struct fields
 *    are only ever appended; nothing is renamed, renumbered, reordered or removed.
 *  - Every option/info struct starts with `uint32_t struct_size` (the Win32 cbSize idiom). Initialise
 *    option structs with their wipc_*_options_init() function. The library reads
 *    min(struct_size, sizeof its own struct) bytes; a larger struct is accepted only if the bytes the
 *    library does not know are all zero (else WIPC_E_INVALID_ARG). A struct_size below 8 (smaller than
 *    struct_size + flags) is WIPC_E_INVALID_ARG. A NULL options pointer = defaults.
 *  - Handles are opaque 64-bit values from a process-wide table with generation counters. 0 is never a
 *    valid handle. A closed, stale, forged or wrong-kind handle gives WIPC_E_BAD_HANDLE, never a crash.
 *
 * Threads: every function is thread-safe. Callbacks run on library-owned threads, never on the thread
 * that registered them, never with a library lock held, and never concurrently for one handle.
 * Errors: every function that can fail returns a wipc_status (0 = WIPC_OK, errors < 0) and sets a
 * per-thread message, read with wipc_last_error_message(), naming what failed.
 */
#ifndef WIPC_H
#define WIPC_H

#include <stddef.h>
#include <stdint.h>

/* ---- version ------------------------------------------------------------------------------------ */

#define WIPC_VERSION_MAJOR 1
#define WIPC_VERSION_MINOR 0
#define WIPC_VERSION_PATCH 0
/** Compile-time version as one number: (major << 16) | (minor << 8) | patch. Compare with wipc_version(). */
#define WIPC_VERSION ((WIPC_VERSION_MAJOR << 16) | (WIPC_VERSION_MINOR << 8) | WIPC_VERSION_PATCH)
#define WIPC_VERSION_STRING "1.0.0"

/* ---- export and calling convention ------------------------------------------------------------- */

#if defined(_WIN32)
#  define WIPC_CALL __cdecl
#  if defined(WIPC_BUILDING)
#    define WIPC_API __declspec(dllexport)
#  elif defined(WIPC_STATIC)
#    define WIPC_API
#  else
#    define WIPC_API __declspec(dllimport)
#  endif
#else
#  define WIPC_CALL
#  if defined(WIPC_BUILDING) && defined(__GNUC__)
#    define WIPC_API __attribute__((visibility("default")))
#  else
#    define WIPC_API
#  endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- basic types ------------------------------------------------------------------------------- */

/** An opaque handle to a library object (pipe server, connection, shm channel, region, msg endpoint).
 *  0 is never valid. Handles are process-local: do not pass them to another process. */
typedef uint64_t wipc_handle;

/** Status code: WIPC_OK (0) or a negative error. Values are fixed forever; new ones are appended. */
typedef int32_t wipc_status;

#define WIPC_OK                   0   /**< success */
#define WIPC_E_INVALID_ARG      (-1)  /**< NULL where not allowed, bad name, bad flags, size out of range */
#define WIPC_E_BAD_HANDLE       (-2)  /**< unknown, closed, stale or wrong-kind handle */
#define WIPC_E_NO_MEMORY        (-3)  /**< allocation failed */
#define WIPC_E_TIMEOUT          (-4)  /**< the wait ran out (also: timeout 0 and nothing ready) */
#define WIPC_E_NOT_FOUND        (-5)  /**< no endpoint of that name */
#define WIPC_E_ADDR_IN_USE      (-6)  /**< that name is already served (squatting refused) */
#define WIPC_E_ACCESS_DENIED    (-7)  /**< the OS or the peer-credential check refused */
#define WIPC_E_DISCONNECTED     (-8)  /**< the peer closed or died */
#define WIPC_E_TOO_LARGE        (-9)  /**< message above max_message_size or ring capacity */
#define WIPC_E_BUFFER_TOO_SMALL (-10) /**< *out_size holds the size needed; the message stays queued */
#define WIPC_E_CLOSED           (-11) /**< the handle was closed (or the library shut down) while the call waited */
#define WIPC_E_PROTOCOL         (-12) /**< malformed frame, version mismatch, corrupt shared header */
#define WIPC_E_NOT_SUPPORTED    (-13) /**< the operation does not exist for this handle kind or platform */
#define WIPC_E_BUSY             (-14) /**< every server instance busy / shm channel already has a peer / msg queue full */
#define WIPC_E_SYSTEM           (-15) /**< another OS error: see wipc_last_os_error() */
#define WIPC_E_INVALID_STATE    (-16) /**< e.g. wipc_recv on a handle that has callbacks */

/** Timeouts are int32_t milliseconds: WIPC_INFINITE waits forever, 0 polls (never blocks). */
#define WIPC_INFINITE (-1)

/** Handle kinds, reported in wipc_info.kind. */
#define WIPC_KIND_PIPE_SERVER  1
#define WIPC_KIND_PIPE_CONN    2
#define WIPC_KIND_SHM_CHANNEL  3
#define WIPC_KIND_REGION       4
#define WIPC_KIND_MSG_ENDPOINT 5

/** Transports, reported in wipc_info.transport. */
#define WIPC_TRANSPORT_PIPE 1
#define WIPC_TRANSPORT_SHM  2
#define WIPC_TRANSPORT_MSG  3

/** Events passed to a wipc_event_cb. */
#define WIPC_EVENT_CONNECTED    1 /**< on a server: `related` is the new connection handle (yours to close) */
#define WIPC_EVENT_DISCONNECTED 2 /**< the peer closed or died; `status` says how (usually WIPC_E_DISCONNECTED) */
#define WIPC_EVENT_ERROR        3 /**< the transport failed (e.g. WIPC_E_PROTOCOL, WIPC_E_TOO_LARGE); the handle is dead */

/** Log levels for wipc_set_log_callback(). */
#define WIPC_LOG_DEBUG 0
#define WIPC_LOG_INFO  1
#define WIPC_LOG_WARN  2
#define WIPC_LOG_ERROR 3

/** wipc_region_open() / wipc_region_map_file() flag: map read-only (FILE_MAP_READ / PROT_READ). */
#define WIPC_REGION_READONLY 1u

/** Pipe option flags (wipc_pipe_options.flags). */
#define WIPC_PIPE_ALLOW_REMOTE 0x1u /**< Windows: do not set PIPE_REJECT_REMOTE_CLIENTS (no effect on POSIX) */
#define WIPC_PIPE_RAW          0x2u /**< no wipc framing or handshake: a plain message-mode pipe / AF_UNIX stream for foreign peers */
#define WIPC_PIPE_ANY_USER     0x4u /**< server: accept clients of any user (Windows: DACL grants Everyone; POSIX: no SO_PEERCRED uid check) */

/** Shared-memory option flags (wipc_shm_options.flags). */
#define WIPC_SHM_GLOBAL 0x1u /**< Windows: section and events in the Global\ namespace (needs SeCreateGlobalPrivilege) */

/** Window-message option flags (wipc_msg_options.flags). */
#define WIPC_MSG_ALLOW_LOWER_INTEGRITY 0x1u /**< Windows: ChangeWindowMessageFilterEx(hwnd, WM_COPYDATA, MSGFLT_ALLOW) */

/** Limits. */
#define WIPC_NAME_MAX 128                          /**< longest endpoint name, in characters */
#define WIPC_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024) /**< pipe and shm default max_message_size, bytes */
#define WIPC_DEFAULT_MSG_MAX_MESSAGE (64u * 1024)  /**< msg default max_message_size, bytes */
#define WIPC_MAX_MESSAGE_LIMIT (1024u * 1024 * 1024) /**< no transport accepts a max_message_size above this (1 GiB) */
#define WIPC_MSG_MAX_MESSAGE_LIMIT (256u * 1024)   /**< the msg transport carries at most this many bytes (WM_COPYDATA is for small data) */

/* ---- structs ------------------------------------------------------------------------------------ */

/** What a message callback sees. The struct and `data` are valid only during the callback: copy what
 *  you keep. */
typedef struct wipc_message {
    uint32_t    struct_size; /**< sizeof(wipc_message) as the library knows it */
    uint32_t    type;        /**< user tag: WM_COPYDATA dwData, or carried in the frame */
    const void *data;        /**< the payload (NULL only when size is 0) */
    size_t      size;        /**< payload size, bytes */
    uint64_t    request_id;  /**< nonzero: the sender waits in wipc_request; answer with wipc_reply */
    uint32_t    peer_pid;    /**< sender's process id, 0 if unknown */
    uint32_t    flags;       /**< reserved, 0 */
} wipc_message;

/** Information about a handle, filled by wipc_get_info(). Set struct_size = sizeof(wipc_info) first. */
typedef struct wipc_info {
    uint32_t struct_size;       /**< in: sizeof(wipc_info) of the caller */
    uint32_t kind;              /**< WIPC_KIND_* */
    uint32_t transport;         /**< WIPC_TRANSPORT_* */
    uint32_t flags;             /**< the flags the handle was made with */
    uint32_t peer_pid;          /**< peer process id (connections, channels), 0 if none or unknown */
    uint32_t peer_uid;          /**< POSIX: peer uid from SO_PEERCRED; Windows: 0 */
    uint64_t messages_sent;     /**< messages sent through this handle */
    uint64_t messages_received; /**< messages received (queued or delivered to a callback) */
    uint64_t bytes_sent;        /**< payload bytes sent (frame headers not counted) */
    uint64_t bytes_received;    /**< payload bytes received */
    uint32_t connected;         /**< 1 while the peer is attached (servers: number of live connections) */
    uint32_t max_message_size;  /**< the limit in force, bytes */
    char     name[264];         /**< endpoint name as given (or the full pipe path), NUL-terminated UTF-8 */
} wipc_info;

/** Called for every message on a handle with callbacks, on a library thread, never concurrently for one
 *  handle. `m` and `m->data` are valid only during the call. The return value is the reply a msg sender
 *  receives in *out_reply; it is ignored on pipe and shm. May call any wipc function, including
 *  wipc_close(h) and wipc_reply(h, m->request_id, ...). */
typedef int32_t (WIPC_CALL *wipc_message_cb)(wipc_handle h, const wipc_message *m, void *user_data);

/** Called for WIPC_EVENT_*: on a server, CONNECTED with `related` = the new connection; on a
 *  connection or channel, DISCONNECTED / ERROR with `status` = why. Same threading rules as
 *  wipc_message_cb. */
typedef void (WIPC_CALL *wipc_event_cb)(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user_data);

/** Receives library log lines (`text` valid during the call only), on whatever thread logged them. */
typedef void (WIPC_CALL *wipc_log_cb)(int32_t level, const char *text, void *user_data);

/** Options for wipc_pipe_listen() and wipc_pipe_connect(). Initialise with wipc_pipe_options_init(). */
typedef struct wipc_pipe_options {
    uint32_t    struct_size;         /**< sizeof(wipc_pipe_options) */
    uint32_t    flags;               /**< WIPC_PIPE_* */
    uint32_t    max_message_size;    /**< bytes, 1..WIPC_MAX_MESSAGE_LIMIT; default 16 MiB */
    uint32_t    max_instances;       /**< server: concurrent connections, 1..255; default 64 */
    uint32_t    buffer_size;         /**< OS pipe buffer hint in bytes (CreateNamedPipeW nIn/OutBufferSize, SO_SNDBUF/SO_RCVBUF); 0 = default 64 KiB */
    uint32_t    reserved;            /**< 0 */
    const char *security_descriptor; /**< Windows server: SDDL string for the pipe's DACL, NULL = current user + SYSTEM only. Copied; POSIX: must be NULL */
} wipc_pipe_options;

/** Options for shared-memory channels and regions. Initialise with wipc_shm_options_init(). */
typedef struct wipc_shm_options {
    uint32_t struct_size;      /**< sizeof(wipc_shm_options) */
    uint32_t flags;            /**< WIPC_SHM_* */
    uint32_t max_message_size; /**< bytes; default 16 MiB, never above the ring capacity minus the frame header */
    uint32_t spin_us;          /**< microseconds to busy-wait before blocking; default 50, 0 = block at once */
    uint64_t capacity;         /**< ring size per direction, bytes, power of two 4 KiB..1 GiB; default 1 MiB */
} wipc_shm_options;

/** Options for wipc_msg_listen(). Initialise with wipc_msg_options_init(). */
typedef struct wipc_msg_options {
    uint32_t struct_size;      /**< sizeof(wipc_msg_options) */
    uint32_t flags;            /**< WIPC_MSG_* */
    uint32_t max_message_size; /**< bytes; default 64 KiB */
    uint32_t queue_depth;      /**< messages held for wipc_recv when no callback is set; default 64 */
} wipc_msg_options;

/* ---- library ------------------------------------------------------------------------------------ */

/** Run-time version, (major << 16) | (minor << 8) | patch. Compare with WIPC_VERSION. Never fails. */
WIPC_API uint32_t WIPC_CALL wipc_version(void);

/** Run-time version as "major.minor.patch". Static storage; never NULL. */
WIPC_API const char *WIPC_CALL wipc_version_string(void);

/** The status's name, e.g. "WIPC_E_TIMEOUT"; "WIPC_E_UNKNOWN" for a value not in the table.
 *  Static storage; never NULL. */
WIPC_API const char *WIPC_CALL wipc_status_name(wipc_status s);

/** A one-sentence English description of the status. Static storage; never NULL. */
WIPC_API const char *WIPC_CALL wipc_strerror(wipc_status s);

/** The calling thread's last error: what failed, on which name/handle, the OS code and its text
 *  (FormatMessageW / strerror_r). Set by every failing call, "" after wipc_... succeeded on this
 *  thread only if no call has failed yet. Thread-local storage, valid until this thread's next wipc call. */
WIPC_API const char *WIPC_CALL wipc_last_error_message(void);

/** The calling thread's last OS error code (GetLastError() / errno) recorded by a failing call, 0 if
 *  the failure was not an OS error. */
WIPC_API int64_t WIPC_CALL wipc_last_os_error(void);

/** Closes every handle (blocked callers get WIPC_E_CLOSED), waits for running callbacks to return and
 *  stops the library's threads (I/O thread, callback workers, window thread). The library can be used
 *  again afterwards (threads restart lazily). Must not be called from a callback: WIPC_E_INVALID_STATE.
 *  Returns WIPC_OK. */
WIPC_API wipc_status WIPC_CALL wipc_shutdown(void);

/** Installs (cb != NULL) or removes (cb == NULL) the log callback for lines at `min_level`
 *  (WIPC_LOG_DEBUG..WIPC_LOG_ERROR) and above. `user_data` is passed back untouched.
 *  Returns WIPC_E_INVALID_ARG for a level out of range. The library never prints to stdout/stderr. */
WIPC_API wipc_status WIPC_CALL wipc_set_log_callback(wipc_log_cb cb, int32_t min_level, void *user_data);

/* ---- any handle --------------------------------------------------------------------------------- */

/** Closes a handle of any kind and releases its OS objects (CloseHandle / close). Threads blocked on it
 *  (wipc_recv, wipc_request, wipc_pipe_accept, wipc_send, ...) return WIPC_E_CLOSED. When wipc_close
 *  returns, no callback for `h` runs any more, unless it was called from inside that callback (then
 *  the callback in progress finishes and no other one starts). Closing a server does not close the
 *  connections it accepted. Returns WIPC_E_BAD_HANDLE for 0, unknown, or already closed handles. */
WIPC_API wipc_status WIPC_CALL wipc_close(wipc_handle h);

/** Fills `*out` (set out->struct_size first; a smaller older struct gets the fields it has) with the
 *  handle's kind, transport, name, peer pid/uid and message/byte counters.
 *  Returns WIPC_E_INVALID_ARG (out NULL or struct_size < 8), WIPC_E_BAD_HANDLE. */
WIPC_API wipc_status WIPC_CALL wipc_get_info(wipc_handle h, wipc_info *out);

/* ---- message I/O on connections, channels, msg endpoints --------------------------------------- */

/** Sends one message (`size` bytes at `data`, tagged `type`) on a pipe connection or shm channel.
 *  Blocks until the whole message is handed to the OS (pipe: WriteFile / send; shm: copied into the
 *  ring), waiting up to `timeout_ms` for room. `data` may be NULL only if size is 0; the library does
 *  not keep the pointer. Messages keep their boundaries and order.
 *  Returns WIPC_E_INVALID_ARG, WIPC_E_BAD_HANDLE, WIPC_E_NOT_SUPPORTED (servers, regions, msg
 *  endpoints: use wipc_msg_send), WIPC_E_TOO_LARGE (size above this side's or the peer's
 *  max_message_size; nothing was sent), WIPC_E_TIMEOUT (no room in time; nothing was sent; if a pipe
 *  frame was partly written the connection is failed and later calls get WIPC_E_DISCONNECTED),
 *  WIPC_E_DISCONNECTED, WIPC_E_CLOSED, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_send(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms);

/** Receives the next message into `buf` (`cap` bytes), waiting up to `timeout_ms`. On success
 *  *out_size = its size (bytes) and *out_type = its type (either pointer may be NULL if not wanted).
 *  If the message is a request (sent with wipc_request), answer it with wipc_reply(h, 0, ...) or use
 *  wipc_recv_message() to learn its request id.
 *  Returns WIPC_E_BUFFER_TOO_SMALL with *out_size = the size needed (the message stays queued; out_size
 *  must then be non-NULL), WIPC_E_TIMEOUT, WIPC_E_DISCONNECTED (peer gone and the queue is empty),
 *  WIPC_E_CLOSED, WIPC_E_INVALID_STATE (the handle has callbacks), WIPC_E_PROTOCOL / WIPC_E_TOO_LARGE
 *  (the peer sent a bad frame; the connection is ended), WIPC_E_BAD_HANDLE, WIPC_E_INVALID_ARG
 *  (buf NULL with cap > 0), WIPC_E_NOT_SUPPORTED (servers, regions). */
WIPC_API wipc_status WIPC_CALL wipc_recv(wipc_handle h, void *buf, size_t cap, size_t *out_size, uint32_t *out_type, int32_t timeout_ms);

/** Sends a request and waits up to `timeout_ms` for its reply (the peer answers with wipc_reply).
 *  Several threads may have requests in flight on one handle; replies are matched by request id.
 *  The reply is copied to `resp` (`resp_cap` bytes), its size to *out_resp_size (may be NULL).
 *  Returns the statuses of wipc_send, plus WIPC_E_TIMEOUT (no reply in time; a late reply is dropped),
 *  WIPC_E_BUFFER_TOO_SMALL (*out_resp_size = the reply's size; the reply is dropped).
 *  Pipe connections and shm channels; msg endpoints use wipc_msg_send. */
WIPC_API wipc_status WIPC_CALL wipc_request(wipc_handle h, uint32_t type, const void *req, size_t req_size, void *resp, size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms);

/** Answers the request `request_id` (wipc_message.request_id) received on `h` with `size` bytes of
 *  `data` tagged `type`. request_id 0 answers the last request this handle returned from wipc_recv.
 *  Returns the statuses of wipc_send (with an infinite timeout), WIPC_E_INVALID_ARG (request_id 0 and
 *  no unanswered request). */
WIPC_API wipc_status WIPC_CALL wipc_reply(wipc_handle h, uint64_t request_id, uint32_t type, const void *data, size_t size);

/** Switches `h` to callback mode: messages go to `on_message` and events to `on_event` (either may be
 *  NULL) on library threads (the I/O-completion / epoll / window thread hands them to a callback
 *  worker), never concurrently for one handle; messages already queued are delivered first. A server
 *  with callbacks accepts by itself and its new connections inherit the callbacks (after its
 *  CONNECTED event returned). Callbacks are set once per handle. `user_data` is passed back untouched.
 *  Returns WIPC_E_BAD_HANDLE, WIPC_E_INVALID_ARG (both NULL), WIPC_E_INVALID_STATE (already set, or a
 *  thread is blocked in wipc_recv / wipc_pipe_accept on it), WIPC_E_NOT_SUPPORTED (regions). */
WIPC_API wipc_status WIPC_CALL wipc_set_callbacks(wipc_handle h, wipc_message_cb on_message, wipc_event_cb on_event, void *user_data);

/* ---- pipe --------------------------------------------------------------------------------------- */

/** Fills `*o` with defaults (struct_size set, flags 0, 16 MiB messages, 64 instances). NULL is ignored. */
WIPC_API void WIPC_CALL wipc_pipe_options_init(wipc_pipe_options *o);

/** Serves `name` (1-128 chars of [A-Za-z0-9._-]; Windows: \\.\pipe\wipc-<name> (a name ending in '.'
 *  gets a '~' appended, because Win32 path canonicalisation strips trailing dots), or a full pipe
 *  path starting with \\ ; POSIX: a socket in the private runtime directory, or an absolute path with
 *  WIPC_PIPE_RAW). Windows: CreateNamedPipeW with FILE_FLAG_FIRST_PIPE_INSTANCE, overlapped, on the
 *  library's I/O completion port, owner-only DACL unless security_descriptor / WIPC_PIPE_ANY_USER,
 *  PIPE_REJECT_REMOTE_CLIENTS unless WIPC_PIPE_ALLOW_REMOTE. POSIX: AF_UNIX stream socket, 0700
 *  directory, flock-guarded name, stale socket files of dead servers reclaimed.
 *  Returns WIPC_E_INVALID_ARG (name, options, out NULL), WIPC_E_ADDR_IN_USE (name already served),
 *  WIPC_E_ACCESS_DENIED, WIPC_E_NO_MEMORY, WIPC_E_SYSTEM. *out_server receives the server handle. */
WIPC_API wipc_status WIPC_CALL wipc_pipe_listen(const char *name, const wipc_pipe_options *o, wipc_handle *out_server);

/** Waits up to `timeout_ms` for the next client of `server` and gives its connection in *out_conn
 *  (yours to close). Returns WIPC_E_TIMEOUT, WIPC_E_CLOSED (server closed meanwhile),
 *  WIPC_E_INVALID_STATE (the server has callbacks: it accepts by itself), WIPC_E_BAD_HANDLE. */
WIPC_API wipc_status WIPC_CALL wipc_pipe_accept(wipc_handle server, int32_t timeout_ms, wipc_handle *out_conn);

/** Connects to the server `name`, waiting up to `timeout_ms` for one that is not up yet or busy
 *  (Windows: CreateFileW with SECURITY_SQOS_PRESENT|SECURITY_IDENTIFICATION, WaitNamedPipeW on
 *  ERROR_PIPE_BUSY; POSIX: connect() retried). A server that accepted has up to 2 s beyond the timeout
 *  to answer the wipc handshake, so timeout 0 connects to a free server. Only `flags` (WIPC_PIPE_RAW) and `max_message_size` of
 *  `o` apply. Returns WIPC_E_NOT_FOUND (no server appeared), WIPC_E_TIMEOUT (the server stayed busy),
 *  WIPC_E_ACCESS_DENIED (DACL or uid check refused), WIPC_E_PROTOCOL (not a wipc server, or another
 *  protocol version), WIPC_E_INVALID_ARG, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_pipe_connect(const char *name, const wipc_pipe_options *o, int32_t timeout_ms, wipc_handle *out_conn);

/** Server side: the calling thread impersonates the client of `conn` (ImpersonateNamedPipeClient; at
 *  SecurityIdentification level). End with wipc_revert_to_self(). Returns WIPC_E_NOT_SUPPORTED on
 *  POSIX and on client connections, WIPC_E_BAD_HANDLE, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_pipe_impersonate(wipc_handle conn);

/** Ends impersonation on the calling thread (RevertToSelf). WIPC_E_NOT_SUPPORTED on POSIX. */
WIPC_API wipc_status WIPC_CALL wipc_revert_to_self(void);

/* ---- shm: channels (two SPSC rings in one named section) and regions ---------------------------- */

/** Fills `*o` with defaults (1 MiB capacity per direction, 16 MiB max message capped by capacity,
 *  spin 50 us). NULL is ignored. */
WIPC_API void WIPC_CALL wipc_shm_options_init(wipc_shm_options *o);

/** Creates the shm channel `name` (Windows: CreateFileMappingW section Local\wipc-<name> with an
 *  owner-only DACL; POSIX: shm_open /wipc-<uid>-<name> mode 0600, pages reserved with posix_fallocate).
 *  Returns WIPC_E_ADDR_IN_USE, WIPC_E_INVALID_ARG, WIPC_E_NO_MEMORY, WIPC_E_ACCESS_DENIED, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_shm_create(const char *name, const wipc_shm_options *o, wipc_handle *out_channel);

/** Opens the channel `name` created by another process, waiting up to `timeout_ms` for it.
 *  Returns WIPC_E_NOT_FOUND / WIPC_E_TIMEOUT, WIPC_E_BUSY (it already has a live opener),
 *  WIPC_E_PROTOCOL (magic or layout version mismatch), WIPC_E_NOT_SUPPORTED, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_shm_open(const char *name, const wipc_shm_options *o, int32_t timeout_ms, wipc_handle *out_channel);

/** Zero-copy send, step 1: reserves `size` bytes in the outgoing ring, waiting up to `timeout_ms` for
 *  room; *out_ptr points into the section until wipc_shm_commit. Returns WIPC_E_TOO_LARGE,
 *  WIPC_E_TIMEOUT, WIPC_E_INVALID_STATE (a reservation is already open), WIPC_E_NOT_SUPPORTED. */
WIPC_API wipc_status WIPC_CALL wipc_shm_reserve(wipc_handle ch, size_t size, void **out_ptr, int32_t timeout_ms);

/** Zero-copy send, step 2: publishes the reserved bytes (`size` <= reserved) as one message of `type`.
 *  Returns WIPC_E_INVALID_STATE (no reservation), WIPC_E_INVALID_ARG (size above the reservation). */
WIPC_API wipc_status WIPC_CALL wipc_shm_commit(wipc_handle ch, uint32_t type, size_t size);

/** Zero-copy receive, step 1: waits up to `timeout_ms` for the next message and points *out_ptr at it
 *  inside the section (valid until wipc_shm_release). Returns WIPC_E_TIMEOUT, WIPC_E_DISCONNECTED,
 *  WIPC_E_PROTOCOL (corrupt ring), WIPC_E_INVALID_STATE (callbacks set, or a peek is already open). */
WIPC_API wipc_status WIPC_CALL wipc_shm_peek(wipc_handle ch, const void **out_ptr, size_t *out_size, uint32_t *out_type, int32_t timeout_ms);

/** Zero-copy receive, step 2: frees the peeked message's ring space. WIPC_E_INVALID_STATE without a peek. */
WIPC_API wipc_status WIPC_CALL wipc_shm_release(wipc_handle ch);

/** Creates a plain named shared mapping of `size` bytes (1 .. 2^40) that the caller manages itself
 *  (section Local\wipc-region-<name> / shm_open /wipc-<uid>-r-<name>, 0600, pages reserved).
 *  Only flags of `o` apply. Returns WIPC_E_ADDR_IN_USE, WIPC_E_INVALID_ARG, WIPC_E_NO_MEMORY
 *  (not enough space for the pages), WIPC_E_NOT_SUPPORTED, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_region_create(const char *name, uint64_t size, const wipc_shm_options *o, wipc_handle *out_region);

/** Opens an existing region; `flags` WIPC_REGION_READONLY maps it read-only (writes fault).
 *  Returns WIPC_E_NOT_FOUND, WIPC_E_ACCESS_DENIED, WIPC_E_INVALID_ARG, WIPC_E_NOT_SUPPORTED. */
WIPC_API wipc_status WIPC_CALL wipc_region_open(const char *name, uint32_t flags, wipc_handle *out_region);

/** Gives the region's mapped view: *out_ptr (valid until wipc_close of the region) and *out_size (bytes). */
WIPC_API wipc_status WIPC_CALL wipc_region_view(wipc_handle region, void **out_ptr, uint64_t *out_size);

/** Maps the file at UTF-8 `path` (CreateFileW + CreateFileMappingW / open + mmap MAP_SHARED), created
 *  or grown to `size` bytes (0 = the file's current size); WIPC_REGION_READONLY maps it read-only.
 *  Returns WIPC_E_NOT_FOUND, WIPC_E_ACCESS_DENIED, WIPC_E_INVALID_ARG, WIPC_E_NOT_SUPPORTED, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_region_map_file(const char *path, uint64_t size, uint32_t flags, wipc_handle *out_region);

/* ---- msg: small synchronous messages to a named receiver (WM_COPYDATA semantics) ---------------- */

/** Fills `*o` with defaults (64 KiB messages, queue depth 64). NULL is ignored. */
WIPC_API void WIPC_CALL wipc_msg_options_init(wipc_msg_options *o);

/** Creates the receiver `name` (1-128 chars of [A-Za-z0-9._-]). Windows: a message-only window
 *  (HWND_MESSAGE) of class wipc-msg-<name> on its own library thread running a message loop (no pump
 *  needed in your code); the name is guarded by the mutex Local\wipc-msg-<name> held by that thread
 *  (owner-only DACL), so a dead owner's name is reclaimed. POSIX: a SOCK_SEQPACKET socket
 *  <rundir>/m.<name> served by a library thread, guarded by flock like pipes.
 *  Messages go to on_message (wipc_set_callbacks; its return value is the sender's reply; it runs on
 *  the endpoint's thread, one message at a time) or, without callbacks, to a queue of `queue_depth`
 *  messages read with wipc_recv (a full queue answers the sender WIPC_E_BUSY; the reply is 0).
 *  max_message_size: 1 .. WIPC_MSG_MAX_MESSAGE_LIMIT bytes. WIPC_MSG_ALLOW_LOWER_INTEGRITY calls
 *  ChangeWindowMessageFilterEx(hwnd, WM_COPYDATA, MSGFLT_ALLOW) for this window only.
 *  Returns WIPC_E_ADDR_IN_USE (a live endpoint has the name), WIPC_E_INVALID_ARG, WIPC_E_SYSTEM. */
WIPC_API wipc_status WIPC_CALL wipc_msg_listen(const char *name, const wipc_msg_options *o, wipc_handle *out_endpoint);

/** Sends one message synchronously to the receiver `name` and waits up to `timeout_ms` for it to be
 *  taken (Windows: FindWindowExW(HWND_MESSAGE, ...) then SendMessageTimeoutW(WM_COPYDATA,
 *  SMTO_ABORTIFHUNG | SMTO_BLOCK), type in dwData, a 16-byte wipc header (magic, version, sender pid)
 *  before the bytes; POSIX: one packet and a reply packet). *out_reply (may be NULL) gets the
 *  receiver's on_message return value (0 in queue mode). The sender pid the receiver sees is claimed
 *  by the sender on Windows (not verified) and taken from SO_PEERCRED on POSIX. Zero-length messages
 *  are allowed; data may be NULL only when size is 0. A message whose sender timed out before the
 *  receiver took it is dropped, not delivered later (on POSIX; Windows may still deliver it).
 *  Returns WIPC_E_NOT_FOUND (no such receiver), WIPC_E_TIMEOUT (not taken in time, or timeout 0),
 *  WIPC_E_BUSY (its queue is full, or a callback sent to its own endpoint), WIPC_E_TOO_LARGE (above
 *  WIPC_MSG_MAX_MESSAGE_LIMIT: nothing sent; or above the receiver's max_message_size),
 *  WIPC_E_DISCONNECTED (the receiver closed or died while the message waited), WIPC_E_PROTOCOL (the
 *  window is not a wipc receiver), WIPC_E_INVALID_ARG. */
WIPC_API wipc_status WIPC_CALL wipc_msg_send(const char *name, uint32_t type, const void *data, size_t size, int32_t timeout_ms, int32_t *out_reply);

/** Sends the message to every live receiver whose name starts with `prefix` ("" = all), one after
 *  the other, each with the full `timeout_ms` (message-only windows get no HWND_BROADCAST, so the
 *  receivers are listed and sent to). *out_delivered (may be NULL) = how many accepted it. Returns
 *  WIPC_OK even if some receivers refused or timed out; WIPC_E_INVALID_ARG for a bad prefix or data,
 *  WIPC_E_TOO_LARGE. */
WIPC_API wipc_status WIPC_CALL wipc_msg_broadcast(const char *prefix, uint32_t type, const void *data, size_t size, int32_t timeout_ms, uint32_t *out_delivered);

/** Lists live receivers whose name starts with `prefix` ("" = all), sorted, into `buf` as
 *  '\0'-separated names followed by one more '\0' (Windows: message-only windows of class prefix
 *  wipc-msg-; POSIX: held name locks in the runtime directory). *out_needed (required) = bytes needed.
 *  Returns WIPC_E_BUFFER_TOO_SMALL when cap is short (nothing written), WIPC_E_INVALID_ARG. */
WIPC_API wipc_status WIPC_CALL wipc_msg_list(const char *prefix, char *buf, size_t cap, size_t *out_needed);

/* ---- extensions (appended after the DESIGN v1 surface) ------------------------------------------ */

/** Like wipc_recv, but fills `*out` (set out->struct_size first) with type, size, request_id and
 *  peer_pid; out->data = buf. Same statuses as wipc_recv (out->size holds the size needed on
 *  WIPC_E_BUFFER_TOO_SMALL). */
WIPC_API wipc_status WIPC_CALL wipc_recv_message(wipc_handle h, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* WIPC_H */
