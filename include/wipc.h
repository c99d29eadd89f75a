/*
 * wipc.h - the public C ABI of wipc, a Windows IPC library (Named Pipes, shared memory, WM_COPYDATA)
 * with a POSIX backend that keeps the same ABI.
 *
 * This is the only public header. Everything the library exports is declared here, one function per
 * line as `WIPC_API <type> WIPC_CALL wipc_<name>(...)`, and listed in wipc.def (the export ledger).
 * All three transports (pipe, shm, msg) are implemented on both backends; where Windows and POSIX
 * differ, the comment says so ("Windows: ...; POSIX: ...").
 *
 * ABI rules (see README "ABI policy"):
 *  - Same WIPC_VERSION_MAJOR = binary compatible. Functions, constants, status codes and struct fields
 *    are only ever appended; nothing is renamed, renumbered, reordered or removed.
 *  - Every option/info struct starts with `uint32_t struct_size` (the Win32 cbSize idiom). Initialise
 *    option structs with their wipc_*_options_init() function. The library reads
 *    min(struct_size, sizeof its own struct) bytes; a larger struct is accepted only if the bytes the
 *    library does not know are all zero (else WIPC_E_INVALID_ARG). A struct_size below 8 (smaller than
 *    struct_size + flags) is WIPC_E_INVALID_ARG. A NULL options pointer = defaults. Option structs are
 *    read during the call only (strings in them are copied).
 *  - Handles are opaque 64-bit values from a process-wide table with generation counters. 0 is never a
 *    valid handle. A closed, stale, forged or wrong-kind handle gives WIPC_E_BAD_HANDLE, never a crash.
 *
 * Conventions for every function below:
 *  - Sizes are in bytes, timeouts in int32_t milliseconds (WIPC_INFINITE = -1 waits forever, 0 polls;
 *    a timeout below -1 is WIPC_E_INVALID_ARG).
 *  - Names are 1-128 characters of [A-Za-z0-9._-], the same on both platforms; anything else (or NULL)
 *    is WIPC_E_INVALID_ARG. POSIX keeps sockets and name locks in a private runtime directory,
 *    $XDG_RUNTIME_DIR/wipc or else /tmp/wipc-<uid> (0700, must be owned by the user and not a
 *    symlink, else WIPC_E_ACCESS_DENIED).
 *  - An out pointer (out_*) that is NULL where required is WIPC_E_INVALID_ARG; out handles are set to 0
 *    on failure. The library never keeps a pointer the caller passed in after the call returns.
 *  - WIPC_E_NO_MEMORY can come from any call that allocates (including a full handle table).
 *
 * Threads: every function is thread-safe. Message and event callbacks run on library-owned threads,
 * never on the thread that registered them, never with a library lock held, and never concurrently
 * for one handle (see wipc_message_cb; the log callback has its own rules, see wipc_log_cb).
 * Errors: every function that can fail returns a wipc_status (0 = WIPC_OK, errors < 0) and sets a
 * per-thread message, read with wipc_last_error_message(), naming what failed. Successful calls do not
 * clear it.
 *
 * Peers are untrusted (since 1.1; docs/RELIABILITY.md, "Hardening"). A buggy or hostile process of the same user - the only
 * kind the OS lets reach a wipc endpoint - can make its own calls fail, never crash, flood or starve
 * yours. The rules every transport follows:
 *  - Every value read from shared memory is read once: into a local (an atomic or volatile load),
 *    then validated, then only the local is used - sizes and capacities checked at open included.
 *  - Every mapping a peer could resize is sealed or never shrinks: POSIX channel sections and pipe
 *    bulk sections are memfds sealed with F_SEAL_SHRINK | F_SEAL_GROW (a peer reaches them through
 *    /proc/<pid>/fd and they are refused unsealed); the /dev/shm name of a channel only holds a
 *    locator read with pread. Windows sections cannot shrink while mapped (their pages are checked
 *    committed). Regions (wipc_region_*) are the caller's raw memory: wipc never reads them, and on
 *    POSIX another process of the user can still truncate a region's object under its users.
 *  - Every per-connection resource is bounded in every mode, with a documented default and an option:
 *    received and unconsumed messages, queued for wipc_recv or waiting for on_message
 *    (wipc_pipe_options.max_queued_bytes / max_queued_messages: 8 MiB / 1024; reading pauses, the peer's
 *    sends time out), the handshake (handshake_timeout_ms: 5 s, then the slot is freed), memory for a
 *    frame (allocated as its bytes arrive, never from the length it claims), the shm ring (its capacity;
 *    a shm channel with callbacks stops reading its ring at the same 8 MiB / 1024 messages of callback
 *    backlog), msg queues (queue_depth).
 *  - Library threads are never held by one peer: the I/O thread never waits for a peer, accept at the
 *    descriptor limit backs off instead of spinning, and waits for a peer honour a deadline.
 *  - The library never deletes what it did not create: a WIPC_PIPE_RAW path is unlinked only if it is
 *    a socket of this user that nobody answers, and a listener removes only the socket file it bound.
 */
#ifndef WIPC_H
#define WIPC_H
/* clang-format stays out of this header: it is laid out by hand for its readers (aligned constants
 * with trailing Doxygen comments, one declaration per line) and read by scripts as it is (the version
 * lines by CMakeLists.txt and setup.py, the constants by python-tests/test_abi.py, scripts/abi-check). */
/* clang-format off */

/** @file wipc.h
 *  The public C ABI of wipc: every exported function, type and constant (see the comment at the top of
 *  this file for the rules every function follows). The declarations are grouped by topic. */

#include <stddef.h>
#include <stdint.h>

/* ---- version ------------------------------------------------------------------------------------ */
/** @addtogroup wipc_library
 *  @{ */

/** Major version: changes only with an ABI break (then the SONAME libwipc.so.<major> changes too). */
#define WIPC_VERSION_MAJOR 1
/** Minor version: bumped when functions, constants or struct fields are appended (backward compatible). */
#define WIPC_VERSION_MINOR 1
/** Patch version: bug fixes only. */
#define WIPC_VERSION_PATCH 0
/** Compile-time version as one number: (major << 16) | (minor << 8) | patch. Compare with wipc_version(). */
#define WIPC_VERSION ((WIPC_VERSION_MAJOR << 16) | (WIPC_VERSION_MINOR << 8) | WIPC_VERSION_PATCH)
/** Compile-time version as "major.minor.patch". Compare with wipc_version_string(). */
#define WIPC_VERSION_STRING "1.1.0"

/* ---- export and calling convention ------------------------------------------------------------- */

/** WIPC_CALL: the calling convention of every export and callback: __cdecl on Windows (so C#
 *  CallingConvention.Cdecl and ctypes CDLL fit), nothing elsewhere.
 *  WIPC_API: the export decoration. Windows: __declspec(dllexport) when building the DLL
 *  (WIPC_BUILDING), nothing for a static build (define WIPC_STATIC), else __declspec(dllimport).
 *  Elsewhere: visibility("default") when building with GCC/Clang (the library is built with
 *  -fvisibility=hidden), else nothing. */
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
 *  0 is never valid. Handles are process-local: do not pass them to another process. Compare them
 *  only for equality; a closed handle's value is never reused for a live object of that slot. */
typedef uint64_t wipc_handle;

/** Status code: WIPC_OK (0) or a negative error. Values are fixed forever; new ones are appended.
 *  wipc_status_name() / wipc_strerror() give its name and text. */
typedef int32_t wipc_status;

#define WIPC_OK                   0   /**< success */
#define WIPC_E_INVALID_ARG      (-1)  /**< NULL where not allowed, bad name, bad flags, size out of range, bad option struct, timeout < -1 */
#define WIPC_E_BAD_HANDLE       (-2)  /**< unknown, closed, stale or wrong-kind handle */
#define WIPC_E_NO_MEMORY        (-3)  /**< allocation failed (also: handle table full, no room for shm pages or file space) */
#define WIPC_E_TIMEOUT          (-4)  /**< the wait ran out (also: timeout 0 and nothing ready; a pipe server that stayed busy) */
#define WIPC_E_NOT_FOUND        (-5)  /**< no endpoint (pipe server, shm channel or region, msg receiver, file) of that name */
#define WIPC_E_ADDR_IN_USE      (-6)  /**< that name is already served (squatting refused) */
#define WIPC_E_ACCESS_DENIED    (-7)  /**< the OS or the peer-credential check refused */
#define WIPC_E_DISCONNECTED     (-8)  /**< the peer closed or died */
#define WIPC_E_TOO_LARGE        (-9)  /**< message above max_message_size or ring capacity */
#define WIPC_E_BUFFER_TOO_SMALL (-10) /**< *out_size (out->size, *out_resp_size, *out_needed) holds the size needed; a received message stays queued */
#define WIPC_E_CLOSED           (-11) /**< the handle was closed (or the library shut down) while the call waited */
#define WIPC_E_PROTOCOL         (-12) /**< malformed frame, version mismatch, corrupt shared header, foreign peer */
#define WIPC_E_NOT_SUPPORTED    (-13) /**< the operation does not exist for this handle kind or platform */
#define WIPC_E_BUSY             (-14) /**< shm channel already has a live opener / msg receiver's queue full (busy pipe servers: WIPC_E_TIMEOUT) */
#define WIPC_E_SYSTEM           (-15) /**< another OS error: see wipc_last_os_error() */
#define WIPC_E_INVALID_STATE    (-16) /**< e.g. wipc_recv on a handle that has callbacks, callbacks set twice, zero-copy calls out of order */
#define WIPC_E_CANCELLED        (-17) /**< since 1.1: the asynchronous operation was cancelled with wipc_cancel before it completed */
#define WIPC_E_REMOTE           (-18) /**< since 1.1: the peer answered the request with wipc_reply_error (see wipc_last_remote_code) */

/** Timeouts are int32_t milliseconds: WIPC_INFINITE waits forever, 0 polls (never waits for the
 *  event itself; wipc_pipe_connect still waits for the handshake of a server that accepted). */
#define WIPC_INFINITE (-1)

/** Handle kinds, reported in wipc_info.kind (since 1.1 also WIPC_KIND_EVENT = 6, see the named events below). */
#define WIPC_KIND_PIPE_SERVER  1 /**< from wipc_pipe_listen */
#define WIPC_KIND_PIPE_CONN    2 /**< from wipc_pipe_connect, wipc_pipe_accept or WIPC_EVENT_CONNECTED */
#define WIPC_KIND_SHM_CHANNEL  3 /**< from wipc_shm_create / wipc_shm_open */
#define WIPC_KIND_REGION       4 /**< from wipc_region_create / wipc_region_open / wipc_region_map_file */
#define WIPC_KIND_MSG_ENDPOINT 5 /**< from wipc_msg_listen */

/** Transports, reported in wipc_info.transport. */
#define WIPC_TRANSPORT_PIPE 1 /**< Named Pipes / AF_UNIX stream sockets */
#define WIPC_TRANSPORT_SHM  2 /**< file mappings / shm_open + mmap (channels and regions) */
#define WIPC_TRANSPORT_MSG  3 /**< WM_COPYDATA to message-only windows / AF_UNIX seqpacket sockets */

/** Events passed to a wipc_event_cb. Msg endpoints get none; wipc_close raises none. */
#define WIPC_EVENT_CONNECTED    1 /**< on a server: `related` is the new connection handle (yours to close); shm creator: an opener attached */
#define WIPC_EVENT_DISCONNECTED 2 /**< the peer closed or died; `status` = WIPC_E_DISCONNECTED (a shm creator may get CONNECTED again) */
#define WIPC_EVENT_ERROR        3 /**< the transport failed (`status` = WIPC_E_PROTOCOL, _TOO_LARGE, _NO_MEMORY or _SYSTEM); the handle is dead: close it */

/** Log levels for wipc_set_log_callback() and wipc_log_cb. */
#define WIPC_LOG_DEBUG 0 /**< protocol details and errors the library handles itself (returned errors are not logged) */
#define WIPC_LOG_INFO  1 /**< endpoints created / closed, peers attached, stale names reclaimed */
#define WIPC_LOG_WARN  2 /**< a connection or channel ended by an error, a peer refused */
#define WIPC_LOG_ERROR 3 /**< lost data or a library thread in trouble (out of memory, OS failures) */

/** wipc_region_open() / wipc_region_map_file() flag: map read-only (FILE_MAP_READ / PROT_READ); a write
 *  through the view faults (access violation / SIGSEGV). */
#define WIPC_REGION_READONLY 1u

/** Pipe option flags (wipc_pipe_options.flags).
 *  WIPC_PIPE_RAW: no wipc framing or handshake, for foreign peers. Windows: a message-mode pipe (a foreign
 *  byte-type pipe is read as bytes). POSIX: an AF_UNIX stream (required for absolute paths): each read of
 *  up to 64 KiB is one message, so boundaries are not kept. Received type is 0, the send type is dropped,
 *  wipc_request is WIPC_E_NOT_SUPPORTED.
 *  WIPC_PIPE_ANY_USER: Windows: the DACL also grants Everyone read/write (ignored when security_descriptor
 *  is set); POSIX: socket mode 0666 and no SO_PEERCRED uid check, which only matters for an absolute RAW
 *  path (the runtime directory is 0700). */
#define WIPC_PIPE_ALLOW_REMOTE 0x1u /**< server, Windows: do not set PIPE_REJECT_REMOTE_CLIENTS (ignored by connect and on POSIX) */
#define WIPC_PIPE_RAW          0x2u /**< no wipc framing or handshake: a plain message-mode pipe / AF_UNIX stream for foreign peers */
#define WIPC_PIPE_ANY_USER     0x4u /**< server: accept clients of any user (Windows: DACL grants Everyone; POSIX: no SO_PEERCRED uid check) */

/** Shared-memory option flags (wipc_shm_options.flags). WIPC_SHM_GLOBAL without SeCreateGlobalPrivilege is
 *  WIPC_E_ACCESS_DENIED; a channel's opener must pass it too; wipc_region_open cannot open a Global\ region
 *  by its wipc name (since 1.1 it can by its full name, "Global\<rest>"). A full object name (see
 *  "Full object names" below) says its own namespace: WIPC_SHM_GLOBAL is ignored with one. */
#define WIPC_SHM_GLOBAL 0x1u /**< Windows: section and events in the Global\ namespace (no effect on POSIX) */

/** Window-message option flags (wipc_msg_options.flags). WIPC_MSG_ALLOW_LOWER_INTEGRITY lets senders of a
 *  lower integrity level through UIPI to this one window; it has no effect on POSIX. */
#define WIPC_MSG_ALLOW_LOWER_INTEGRITY 0x1u /**< Windows: ChangeWindowMessageFilterEx(hwnd, WM_COPYDATA, MSGFLT_ALLOW) */

/** Limits. */
#define WIPC_NAME_MAX 128                          /**< longest endpoint name, in characters (a full pipe path: 255) */
#define WIPC_DEFAULT_MAX_MESSAGE (16u * 1024 * 1024) /**< pipe and shm default max_message_size, bytes */
#define WIPC_DEFAULT_HANDSHAKE_TIMEOUT_MS 5000      /**< pipe server: default handshake_timeout_ms (since 1.1) */
#define WIPC_DEFAULT_MAX_QUEUED_BYTES (8u * 1024 * 1024) /**< pipe: default max_queued_bytes per connection (since 1.1) */
#define WIPC_DEFAULT_MAX_QUEUED_MESSAGES 1024u      /**< pipe: default max_queued_messages per connection (since 1.1) */
#define WIPC_DEFAULT_MSG_MAX_MESSAGE (64u * 1024)  /**< msg default max_message_size, bytes */
#define WIPC_MAX_MESSAGE_LIMIT (1024u * 1024 * 1024) /**< no transport accepts a max_message_size (or a message) above this (1 GiB) */
#define WIPC_MSG_MAX_MESSAGE_LIMIT (256u * 1024)   /**< the msg transport carries at most this many bytes (WM_COPYDATA is for small data) */

/** @} */

/* ---- structs ------------------------------------------------------------------------------------ */
/** @addtogroup wipc_handles
 *  @{ */

/** One received message: what a message callback sees, and what wipc_recv_message() fills. In a
 *  callback the struct and `data` are valid only during the call: copy what you keep. */
typedef struct wipc_message {
    uint32_t    struct_size; /**< callbacks: sizeof(wipc_message) as the library knows it; wipc_recv_message: set it to sizeof(wipc_message) */
    uint32_t    type;        /**< user tag: WM_COPYDATA dwData, or carried in the frame (0 on WIPC_PIPE_RAW) */
    const void *data;        /**< the payload (NULL only when size is 0); wipc_recv_message: = buf */
    size_t      size;        /**< payload size, bytes */
    uint64_t    request_id;  /**< nonzero: the sender waits in wipc_request; answer with wipc_reply(h, request_id, ...). Always 0 on msg endpoints */
    uint32_t    peer_pid;    /**< sender's process id, 0 if unknown. Pipe: from the OS (GetNamedPipeClient/ServerProcessId,
                                  SO_PEERCRED); shm: from the section header; msg: Windows as the sender claims it, POSIX SO_PEERCRED */
    uint32_t    flags;       /**< reserved, 0 */
} wipc_message;

/** Information about a handle, filled by wipc_get_info(). Set struct_size = sizeof(wipc_info) first. */
typedef struct wipc_info {
    uint32_t struct_size;       /**< in: sizeof(wipc_info) of the caller, at least 8 */
    uint32_t kind;              /**< WIPC_KIND_* */
    uint32_t transport;         /**< WIPC_TRANSPORT_* */
    uint32_t flags;             /**< the flags the handle was made with (WIPC_PIPE_*, WIPC_SHM_*, WIPC_MSG_*; opened or mapped regions: WIPC_REGION_READONLY) */
    uint32_t peer_pid;          /**< peer process id (connections, channels; msg endpoints: the last accepted sender), 0 if none or unknown */
    uint32_t peer_uid;          /**< POSIX pipe connections: peer uid from SO_PEERCRED ((uint32_t)-1 if that failed); otherwise 0 (always 0 on Windows) */
    uint64_t messages_sent;     /**< messages sent through this handle (requests and replies included) */
    uint64_t messages_received; /**< messages received (queued, peeked or delivered to a callback; replies included) */
    uint64_t bytes_sent;        /**< payload bytes sent (frame headers not counted) */
    uint64_t bytes_received;    /**< payload bytes received */
    uint32_t connected;         /**< 1 while the peer is attached (pipe connection: handshake done, not ended); servers: number of
                                     live connections; msg endpoints: 1 while listening; regions: 0 */
    uint32_t max_message_size;  /**< the limit in force, bytes (shm: not capped by the ring, larger messages are streamed through it; regions: 0) */
    char     name[264];         /**< the name or path as given to the call that made the handle (an accepted connection: its server's), NUL-terminated UTF-8 */
} wipc_info;

/** Called for every message on a handle with callbacks (wipc_set_callbacks). Thread: pipe and shm: a
 *  library callback worker; msg endpoints: the endpoint's own receiver thread (Windows window thread,
 *  POSIX socket thread), except messages queued before wipc_set_callbacks, which run on a worker
 *  first. Never concurrently for one handle, never with a library lock held. `m` and `m->data` are
 *  valid only during the call. The return value is the reply a msg sender receives in *out_reply; it is
 *  ignored on pipe and shm. May call any wipc function except wipc_shutdown (WIPC_E_INVALID_STATE),
 *  including wipc_close(h) and wipc_reply(h, m->request_id, ...). A slow callback delays the handle's
 *  other callbacks (and, on a msg endpoint, keeps its sender waiting in wipc_msg_send). */
typedef int32_t (WIPC_CALL *wipc_message_cb)(wipc_handle h, const wipc_message *m, void *user_data);

/** Called for WIPC_EVENT_*: on a server, CONNECTED with `related` = the new connection; on a shm
 *  creator, CONNECTED (related 0) when an opener attaches; on a connection or channel, DISCONNECTED /
 *  ERROR with `status` = why. Runs on a library callback worker; same rules as wipc_message_cb.
 *  Msg endpoints get no events; wipc_close raises none. */
typedef void (WIPC_CALL *wipc_event_cb)(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user_data);

/** Receives library log lines: `level` = WIPC_LOG_*, `text` NUL-terminated UTF-8 (at most 1023 bytes),
 *  valid during the call only. Runs synchronously on whatever thread logged: a library thread, or the
 *  caller's own thread inside a wipc call, possibly while that call holds a library lock: return
 *  quickly and do not call wipc functions from it. Returned errors are not logged (read them with
 *  wipc_last_error_message()). */
typedef void (WIPC_CALL *wipc_log_cb)(int32_t level, const char *text, void *user_data);

/** Options for wipc_pipe_listen() and wipc_pipe_connect(). Initialise with wipc_pipe_options_init(). */
typedef struct wipc_pipe_options {
    uint32_t    struct_size;         /**< sizeof(wipc_pipe_options) */
    uint32_t    flags;               /**< WIPC_PIPE_*; other bits are WIPC_E_INVALID_ARG */
    uint32_t    max_message_size;    /**< largest message this side sends and accepts, bytes, 1..WIPC_MAX_MESSAGE_LIMIT; default 16 MiB;
                                          announced in the handshake; a larger incoming frame ends the connection */
    uint32_t    max_instances;       /**< server: concurrent connections, 1..255 (validated by connect too); default 64; beyond it
                                          clients are told busy and wipc_pipe_connect retries until its timeout. 255 =
                                          WIPC_PIPE_UNLIMITED_INSTANCES (since 1.1): no count limit, as Windows'
                                          PIPE_UNLIMITED_INSTANCES; connections are then bounded by the process's handle /
                                          descriptor limit (RLIMIT_NOFILE) and each by its own per-connection bounds */
    uint32_t    buffer_size;         /**< Windows server: CreateNamedPipeW nIn/OutBufferSize hint in bytes; 0 = 128 KiB (since 1.1; 64 KiB
                                          before: a 64 KiB message and its frame header now fit, so its write completes at once).
                                          Unused by connect and on POSIX */
    uint32_t    reserved;            /**< must be 0 (else WIPC_E_INVALID_ARG) */
    const char *security_descriptor; /**< Windows server: SDDL string (UTF-8) for the pipe's DACL, NULL = current user + SYSTEM only;
                                          copied; invalid SDDL = WIPC_E_INVALID_ARG; overrides WIPC_PIPE_ANY_USER; ignored by
                                          connect. POSIX: must be NULL (else WIPC_E_INVALID_ARG) */
    /* appended in 1.1 (hardening, docs/RELIABILITY.md): per-connection bounds; 0 = the default */
    int32_t     handshake_timeout_ms; /**< server: a client must complete the HELLO handshake within this many ms of being
                                          accepted, else it is disconnected and its instance slot freed (squatters cannot
                                          hold max_instances). Default WIPC_DEFAULT_HANDSHAKE_TIMEOUT_MS (5000); 0 = the
                                          default; WIPC_INFINITE = no deadline; other values below -1 are WIPC_E_INVALID_ARG.
                                          Ignored by connect (its timeout_ms bounds its own handshake). Since 1.1 */
    uint32_t    max_queued_bytes;     /**< bytes received on one connection and not yet consumed - queued for wipc_recv, or
                                          waiting for (or running in) on_message - above which the library stops reading
                                          that connection until the backlog drains to half (the peer's sends then block and
                                          time out: back-pressure). One message is always taken whatever its size. Default
                                          WIPC_DEFAULT_MAX_QUEUED_BYTES (8 MiB); 0 = the default. Since 1.1 */
    uint32_t    max_queued_messages;  /**< the same bound in messages (small-message floods). Default
                                          WIPC_DEFAULT_MAX_QUEUED_MESSAGES (1024); 0 = the default. Since 1.1 */
} wipc_pipe_options;

/** Options for shared-memory channels and regions. Initialise with wipc_shm_options_init(). */
typedef struct wipc_shm_options {
    uint32_t struct_size;      /**< sizeof(wipc_shm_options) */
    uint32_t flags;            /**< WIPC_SHM_*; other bits are WIPC_E_INVALID_ARG */
    uint32_t max_message_size; /**< largest message this side sends and accepts, bytes, 1..WIPC_MAX_MESSAGE_LIMIT; default 16 MiB.
                                    Messages larger than the ring are streamed through it in pieces by the copying calls
                                    (wipc_send, wipc_reply, wipc_request and their async forms; the receiver assembles them
                                    in a buffer of at most this size); zero-copy wipc_shm_reserve stays limited to the ring
                                    capacity minus the 24-byte record header. A peer whose library predates streaming
                                    advertises a max_message_size capped that way, and sends to it keep to it. Channels only */
    uint32_t spin_us;          /**< microseconds to busy-wait before blocking, 0..1000000; default 50, 0 = block at once. Channels only */
    uint64_t capacity;         /**< wipc_shm_create: ring size per direction, bytes, power of two 4 KiB..1 GiB; default 1 MiB
                                    (the section is 4 KiB + 2 x capacity). Ignored by wipc_shm_open (the creator's is used), regions */
} wipc_shm_options;

/** Options for wipc_msg_listen(). Initialise with wipc_msg_options_init(). */
typedef struct wipc_msg_options {
    uint32_t struct_size;      /**< sizeof(wipc_msg_options) */
    uint32_t flags;            /**< WIPC_MSG_*; other bits are WIPC_E_INVALID_ARG */
    uint32_t max_message_size; /**< largest message accepted, bytes, 1..WIPC_MSG_MAX_MESSAGE_LIMIT; default 64 KiB (larger: the sender gets WIPC_E_TOO_LARGE) */
    uint32_t queue_depth;      /**< messages held for wipc_recv when no callback is set, 1..65536; default 64 (full: the sender gets WIPC_E_BUSY) */
} wipc_msg_options;

/** @} */

/* ---- library ------------------------------------------------------------------------------------ */
/** @addtogroup wipc_library
 *  @{ */

/** Run-time version, (major << 16) | (minor << 8) | patch. Compare with WIPC_VERSION. Never fails. @since 1.0 */
WIPC_API uint32_t WIPC_CALL wipc_version(void);

/** Run-time version as "major.minor.patch". Static storage; never NULL. Never fails. @since 1.0 */
WIPC_API const char *WIPC_CALL wipc_version_string(void);

/** The status's name, e.g. "WIPC_E_TIMEOUT"; "WIPC_E_UNKNOWN" for a value not in the table.
 *  Static storage; never NULL. Never fails; does not touch the last error.
 *  @since 1.0 */
WIPC_API const char *WIPC_CALL wipc_status_name(wipc_status s);

/** A one-sentence English description of the status ("unknown status code" for a value not in the
 *  table). Static storage; never NULL. Never fails; does not touch the last error.
 *  @since 1.0 */
WIPC_API const char *WIPC_CALL wipc_strerror(wipc_status s);

/** The calling thread's last error: "<status name>: what failed, on which name/handle", followed by
 *  " (OS error <code>: <text>)" when an OS call failed (text from FormatMessageW in English if
 *  available / strerror_r). Set by every failing call and not cleared by successful ones ("" until the
 *  first failure on this thread). Thread-local storage (at most 1023 bytes), never NULL, overwritten by
 *  this thread's next failing wipc call. Never fails.
 *  @since 1.0 */
WIPC_API const char *WIPC_CALL wipc_last_error_message(void);

/** The OS error code (GetLastError() / errno value) recorded by the calling thread's last failing
 *  call, 0 if that failure was not an OS error. Not cleared by successful calls. Never fails.
 *  @since 1.0 */
WIPC_API int64_t WIPC_CALL wipc_last_os_error(void);

/** Closes every handle of the process as wipc_close does (threads blocked on them get WIPC_E_CLOSED),
 *  waits for running callbacks to return and stops the library's threads (the I/O thread (IOCP /
 *  epoll), the callback workers; endpoint window/socket threads and shm reader threads go with their
 *  handles). May block for a few seconds while pipes are released. The library can be used again
 *  afterwards (threads restart lazily); the log callback stays installed.
 *  Returns WIPC_OK, or WIPC_E_INVALID_STATE when called from a callback (it would wait for itself).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_shutdown(void);

/** Installs (cb != NULL) or removes (cb == NULL) the process-wide log callback for lines at
 *  `min_level` (WIPC_LOG_DEBUG..WIPC_LOG_ERROR) and above, replacing any previous one. `user_data` is
 *  passed back untouched. See wipc_log_cb for the thread it runs on.
 *  Returns WIPC_OK, or WIPC_E_INVALID_ARG for a level outside 0..3 (also when removing). The library
 *  never prints to stdout/stderr.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_set_log_callback(wipc_log_cb cb, int32_t min_level, void *user_data);

/** @} */

/* ---- any handle --------------------------------------------------------------------------------- */
/** @addtogroup wipc_handles
 *  @{ */

/** Closes a handle of any kind and releases its OS objects (CloseHandle / UnmapViewOfFile; close /
 *  munmap; POSIX: a server, a shm channel's, region's or named event's creator and a msg endpoint remove
 *  their name; a full object name only ever by the process that created its object). Named events
 *  (1.1) too: wipc_event_close is this call for event handles only.
 *  Threads blocked on it (wipc_recv, wipc_request, wipc_pipe_accept, wipc_send, wipc_shm_peek, wipc_event_wait, ...)
 *  return WIPC_E_CLOSED. When wipc_close returns, no callback for `h` runs any more, unless it was
 *  called from inside that callback (then the callback in progress finishes and no other one starts);
 *  so it may block while a callback runs, and for a pipe until the I/O thread let go (at most ~5 s).
 *  Pointers from wipc_region_view, wipc_shm_reserve and wipc_shm_peek become invalid. Closing a server
 *  does not close the connections it accepted (clients not yet accepted are dropped); closing a shm
 *  creator ends the channel for its opener.
 *  Returns WIPC_OK, or WIPC_E_BAD_HANDLE for 0, unknown, stale or already closed handles.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_close(wipc_handle h);

/** Fills `*out` (set out->struct_size first; a smaller older struct gets the fields it has, a larger
 *  one only those this library knows) with the handle's kind, transport, flags, name, peer pid/uid,
 *  message/byte counters, connected state and max_message_size. For a shm channel it first re-checks
 *  whether the peer is alive (process lookup). No callback is involved; any handle kind.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (out NULL or struct_size < 8), WIPC_E_BAD_HANDLE.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_get_info(wipc_handle h, wipc_info *out);

/* ---- message I/O on connections, channels, msg endpoints --------------------------------------- */

/** Sends one message (`size` bytes at `data`, tagged `type`) on a pipe connection or shm channel.
 *  Blocks until the whole message is handed over (pipe: overlapped WriteFile / sendmsg + poll(POLLOUT);
 *  shm: copied into the outgoing ring, the peer woken by SetEvent / futex; a message larger than the
 *  ring - and since 1.1 one above 256 KiB, so that the peer copies while this call fills - goes
 *  through it in pieces, the peer delivers it whole or, if this call fails or the process
 *  dies midway, not at all), waiting up to `timeout_ms` for room. `data` may be NULL only if size is 0; the library does not keep the pointer. Messages keep
 *  their boundaries and order (except POSIX WIPC_PIPE_RAW). A shm creator may send before an opener
 *  attached (the ring holds the messages). Since 1.1, on a WIPC_PIPE_WRITE_BEHIND connection a message
 *  of up to 8,168 bytes may instead be queued (WIPC_OK once queued; WIPC_E_TIMEOUT when the queue stayed
 *  full): see WIPC_PIPE_WRITE_BEHIND and wipc_flush.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (data NULL with size > 0, timeout < -1, size 0 on a
 *  WIPC_PIPE_RAW byte stream - POSIX, or a Windows byte-type pipe - where it would carry nothing; a
 *  Windows message-mode RAW pipe sends a zero-length message, WIPC_PIPE_LENGTH_PREFIX a zero length), WIPC_E_BAD_HANDLE,
 *  WIPC_E_NOT_SUPPORTED (servers, regions, named events, msg endpoints: use wipc_msg_send), WIPC_E_TOO_LARGE (size
 *  above WIPC_MAX_MESSAGE_LIMIT, this side's or the peer's max_message_size, or - shm, a peer that
 *  predates streaming - the ring; nothing was sent), WIPC_E_TIMEOUT (no room in time; nothing was sent; if a pipe frame was partly written the
 *  connection is failed and later calls get WIPC_E_DISCONNECTED), WIPC_E_INVALID_STATE (shm: this
 *  thread holds an open wipc_shm_reserve), WIPC_E_DISCONNECTED (the peer is gone), WIPC_E_CLOSED (h was
 *  closed meanwhile), WIPC_E_PROTOCOL / WIPC_E_TOO_LARGE / WIPC_E_NO_MEMORY (an earlier receive error
 *  ended the connection), WIPC_E_SYSTEM (a write or OS call failed).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_send(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms);

/** Receives the next message into `buf` (`cap` bytes; copied), waiting up to `timeout_ms`: pipe
 *  connections and shm channels (read on the calling thread, straight from the ring) and msg
 *  endpoints (their queue). On success *out_size = its size (bytes) and *out_type = its type (either
 *  pointer may be NULL if not wanted). If the message is a request (sent with wipc_request), answer it
 *  with wipc_reply(h, 0, ...) or use wipc_recv_message() to learn its request id.
 *  Returns WIPC_OK, WIPC_E_BUFFER_TOO_SMALL (*out_size, if given, = the size needed; the message stays
 *  queued), WIPC_E_TIMEOUT, WIPC_E_DISCONNECTED (peer gone and nothing left to read), WIPC_E_CLOSED,
 *  WIPC_E_INVALID_STATE (the handle has callbacks), WIPC_E_PROTOCOL / WIPC_E_TOO_LARGE (the peer sent
 *  a bad or oversized frame, or the shm section is corrupt; the connection is ended), WIPC_E_NO_MEMORY
 *  / WIPC_E_SYSTEM (a read failed and ended the connection), WIPC_E_BAD_HANDLE, WIPC_E_INVALID_ARG
 *  (buf NULL with cap > 0, timeout < -1), WIPC_E_NOT_SUPPORTED (servers, regions, named events).
 *  On any status but WIPC_OK the contents of `buf` are unspecified (a shm channel assembles a message
 *  sent in pieces straight in it; a receive that ends first leaves the part to the next one).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_recv(wipc_handle h, void *buf, size_t cap, size_t *out_size, uint32_t *out_type, int32_t timeout_ms);

/** Sends a request and waits up to `timeout_ms` in all for its reply (the peer answers with
 *  wipc_reply). Pipe connections and shm channels only. Several threads may have requests in flight on
 *  one handle; replies are matched by request id. The reply is copied to `resp` (`resp_cap` bytes), its
 *  size to *out_resp_size (may be NULL; also set on WIPC_E_BUFFER_TOO_SMALL).
 *  Returns the statuses of wipc_send, plus WIPC_E_INVALID_ARG (resp NULL with resp_cap > 0),
 *  WIPC_E_NOT_SUPPORTED (msg endpoints: use wipc_msg_send; WIPC_PIPE_RAW connections),
 *  WIPC_E_TIMEOUT (no reply in time; a late reply is dropped), WIPC_E_BUFFER_TOO_SMALL (the reply is
 *  dropped), WIPC_E_DISCONNECTED / WIPC_E_CLOSED (while waiting for the reply), WIPC_E_REMOTE (since
 *  1.1: the peer answered with wipc_reply_error; wipc_last_error_message() = "remote error <code>:
 *  <message>" (cut to the 1023 bytes it holds), wipc_last_remote_code() = code; resp is untouched).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_request(wipc_handle h, uint32_t type, const void *req, size_t req_size, void *resp, size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms);

/** Answers the request `request_id` (wipc_message.request_id) received on `h` with `size` bytes of
 *  `data` tagged `type` (`data` may be NULL only if size is 0; copied). request_id 0 answers the last
 *  request this handle returned from wipc_recv / wipc_recv_message (callbacks pass m->request_id). The
 *  id is not checked: a reply nobody waits for is dropped by the peer. Sent like wipc_send but with no
 *  timeout: blocks until there is room, the peer goes or `h` is closed - except (since 1.1) on a pipe
 *  connection from inside a callback: there it never blocks the callback worker; what the pipe does
 *  not take at once is queued (WIPC_ASYNC_QUEUE_BYTES at most, else the connection is ended: the peer
 *  does not read; a queued reply unwritten after WIPC_REPLY_DEADLINE_MS ends it too) and WIPC_OK means
 *  "written or queued".
 *  Returns the statuses of wipc_send (with an infinite timeout), WIPC_E_INVALID_ARG (request_id 0 and
 *  no unanswered request), WIPC_E_NOT_SUPPORTED (msg endpoints: on_message's return value is the
 *  reply; servers, regions).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_reply(wipc_handle h, uint64_t request_id, uint32_t type, const void *data, size_t size);

/** Switches `h` (pipe server or connection, shm channel, msg endpoint) to callback mode: messages go
 *  to `on_message` and events to `on_event` (either may be NULL: messages without on_message are
 *  dropped). Threads: see wipc_message_cb (pipe: the I/O thread (IOCP / epoll) hands them to a
 *  callback worker; shm: the channel's reader thread does; msg: on_message runs on the endpoint's
 *  window/socket thread). Never concurrently for one handle; messages already queued are delivered
 *  first. A server with callbacks accepts by itself: its new connections are registered, inherit the
 *  callbacks and `user_data`, and get theirs only after the server's CONNECTED callback returned; a
 *  thread blocked in wipc_pipe_accept on it returns WIPC_E_INVALID_STATE. If `h` already failed, its
 *  DISCONNECTED / ERROR event comes at once. Callbacks are set once per handle and cannot be removed.
 *  `user_data` is passed back untouched.
 *  Returns WIPC_OK, WIPC_E_BAD_HANDLE, WIPC_E_INVALID_ARG (both NULL), WIPC_E_INVALID_STATE (already
 *  set, or a thread is blocked in wipc_recv on it), WIPC_E_NOT_SUPPORTED (regions, named events). A shm channel whose
 *  reader thread cannot start gets WIPC_EVENT_ERROR (WIPC_E_SYSTEM).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_set_callbacks(wipc_handle h, wipc_message_cb on_message, wipc_event_cb on_event, void *user_data);

/** @} */

/* ---- pipe --------------------------------------------------------------------------------------- */
/** @addtogroup wipc_pipe
 *  @{ */

/* How pipe connections move messages (visible only in speed, and in the environment variable below):
 *  - A connection without callbacks is read on the thread that waits on it (wipc_recv, wipc_request):
 *    its own message is read straight into its buffer, no library thread in between. With callbacks
 *    the I/O thread (IOCP / epoll) reads.
 *  - Large messages: when both ends are on this machine and run as the same user (not WIPC_PIPE_RAW,
 *    WIPC_PIPE_ANY_USER or WIPC_PIPE_ALLOW_REMOTE connections, nor servers with a security_descriptor,
 *    nor a path to another machine; Windows: a peer in the same session), a message of 256 KiB or more
 *    (Windows: 64 KiB or more, since 1.1: under Wine every byte through a named pipe passes the
 *    wineserver) is copied whole into a shared section of the sender (owner-only: POSIX shm_open mode 0600
 *    /wipc-<uid>-pb-<pid>-<n>, Windows Local\wipc-pb-<pid>-<n> with the owner-only DACL), and only a
 *    small frame naming it goes through the pipe; the receiver copies it out. Order, types,
 *    request/reply matching, timeouts and errors are those of the pipe: a receiver never waits for a
 *    sender's copy (a stopped or killed sender is a pipe with nothing more in it), and a sender whose
 *    peer holds back two large messages waits for it like for a full pipe, up to its timeout. Both
 *    ends agree on it in the handshake, per connection.
 *  - Environment: WIPC_PIPE_BULK=0 (read when a connection is made) sends large messages through
 *    the pipe itself instead. */

/** Fills `*o` with defaults (struct_size set, flags 0, 16 MiB messages, 64 instances, buffer_size 0 =
 *  128 KiB on Windows, security_descriptor NULL). NULL is ignored.
 *  The exported function writes the 1.0 layout only (the first 32 bytes; struct_size = 32), so a
 *  program built against 1.0 keeps working with a 1.1 library: its smaller struct is never written
 *  past its end. C code compiled against this header calls wipc_pipe_options_init_size() instead,
 *  through the macro below, and so gets every field of the struct it has. Bindings (which call the
 *  exported symbol) call wipc_pipe_options_init_size() with the size of their struct. Since 1.0.
 *  @since 1.0 */
WIPC_API void WIPC_CALL wipc_pipe_options_init(wipc_pipe_options *o);

/** Fills the first `struct_size` bytes of `*o` with defaults (the fields this library knows, 0 beyond
 *  them) and sets o->struct_size = struct_size. Pass sizeof(wipc_pipe_options) of the header you
 *  compiled with (the macro wipc_pipe_options_init(o) does). A struct_size below 8 (struct_size and
 *  flags) or a NULL `o` is ignored. Fields appended in 1.1 default to 0, which means "the default".
 *  Since 1.1.
 *  @since 1.1 */
WIPC_API void WIPC_CALL wipc_pipe_options_init_size(wipc_pipe_options *o, uint32_t struct_size);

/* Whom a client reaches (known limit, Windows). FILE_FLAG_FIRST_PIPE_INSTANCE stops a second server
 * from taking a served name, but the owner-only DACL grants its user FILE_CREATE_PIPE_INSTANCE: any
 * process of the same user may add instances to a live pipe (CreateNamedPipeW on the same path), and
 * a client may reach one of them instead of the wipc server. wipc cannot prevent it (the OS grants it
 * to the owner); it tells the client whom it reached: wipc_get_info(conn).peer_pid is the server
 * process's id from GetNamedPipeServerProcessId (POSIX: SO_PEERCRED), read from the OS, not from the
 * handshake. Callers that know which process should serve a name compare it. Other users cannot add
 * instances (WIPC_PIPE_ANY_USER grants them read/write without FILE_CREATE_PIPE_INSTANCE). */

/** Serves `name` (1-128 chars of [A-Za-z0-9._-]; Windows: \\.\pipe\wipc-<name> (a name ending in '.'
 *  gets a '~' appended, because Win32 path canonicalisation strips trailing dots), or a full pipe
 *  path starting with \\ (at most 255 chars); POSIX: a socket <rundir>/p.<name>, or an absolute path
 *  (fitting sockaddr_un) with WIPC_PIPE_RAW). Windows: CreateNamedPipeW with
 *  FILE_FLAG_FIRST_PIPE_INSTANCE, overlapped, on the library's I/O completion port, byte mode (RAW:
 *  message mode), owner-only DACL unless security_descriptor / WIPC_PIPE_ANY_USER,
 *  PIPE_REJECT_REMOTE_CLIENTS unless WIPC_PIPE_ALLOW_REMOTE; one instance always waits in
 *  ConnectNamedPipe. POSIX: AF_UNIX stream socket 0600 in the 0700 runtime directory, watched by
 *  epoll, name guarded by flock(<socket>.lock) so stale socket files of dead servers are reclaimed;
 *  clients of another uid (SO_PEERCRED) are dropped unless WIPC_PIPE_ANY_USER. Clients are accepted
 *  and handshaken in the background, up to max_instances at a time; take them with wipc_pipe_accept or
 *  wipc_set_callbacks. *out_server receives the server handle (0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (name or out_server NULL, bad name or path, bad option struct,
 *  unknown flags, max_message_size, max_instances or reserved out of range; Windows: invalid SDDL or
 *  pipe path; POSIX: security_descriptor not NULL, absolute path without WIPC_PIPE_RAW),
 *  WIPC_E_ADDR_IN_USE (name already served), WIPC_E_ACCESS_DENIED (Windows: CreateNamedPipeW refused;
 *  POSIX: runtime directory not private, or a file refused), WIPC_E_NOT_FOUND (POSIX: the directory of
 *  an absolute path does not exist), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM (bind, listen, epoll,
 *  CreateIoCompletionPort, thread start, ...).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_pipe_listen(const char *name, const wipc_pipe_options *o, wipc_handle *out_server);

/** Waits up to `timeout_ms` for the next client of `server` that completed the handshake (RAW: that
 *  connected) and gives its connection in *out_conn (yours to close; 0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (out_conn NULL, timeout < -1), WIPC_E_BAD_HANDLE (not a pipe
 *  server), WIPC_E_TIMEOUT, WIPC_E_CLOSED (server closed meanwhile), WIPC_E_INVALID_STATE (the server
 *  has callbacks, or got them meanwhile: it accepts by itself), WIPC_E_NO_MEMORY (handle table full;
 *  that client is dropped).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_pipe_accept(wipc_handle server, int32_t timeout_ms, wipc_handle *out_conn);

/** Connects to the server `name` (a name or full path as for wipc_pipe_listen), waiting up to
 *  `timeout_ms` for one that is busy, or (since 1.1 only with WIPC_PIPE_WAIT_FOR_SERVER; without it a
 *  name nobody serves is WIPC_E_NOT_FOUND at once) not up yet (Windows: CreateFileW(GENERIC_READ |
 *  FILE_WRITE_DATA, overlapped, SECURITY_SQOS_PRESENT | SECURITY_IDENTIFICATION), retried on
 *  ERROR_FILE_NOT_FOUND, WaitNamedPipeW on ERROR_PIPE_BUSY; RAW: PIPE_READMODE_MESSAGE; POSIX:
 *  connect() retried on ENOENT / ECONNREFUSED / EAGAIN, then the server's uid is checked with
 *  SO_PEERCRED except for absolute paths). Then the wipc handshake (not with WIPC_PIPE_RAW): a server
 *  that accepted has up to 2 s beyond the timeout to answer, so timeout 0 connects to a free server; a
 *  server at max_instances answers busy and is retried until the timeout. Only `flags` (WIPC_PIPE_RAW,
 *  WIPC_PIPE_WAIT_FOR_SERVER) and `max_message_size` of `o` apply, but the other fields are validated as for wipc_pipe_listen
 *  (POSIX: security_descriptor must be NULL). *out_conn receives the connection (0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (as wipc_pipe_listen, or timeout < -1), WIPC_E_NOT_FOUND (nobody
 *  serves the name; with WIPC_PIPE_WAIT_FOR_SERVER: none appeared in time), WIPC_E_TIMEOUT (the server stayed busy, or accepted but did not answer the
 *  handshake), WIPC_E_ACCESS_DENIED (the DACL refused, connect() EACCES, or the server runs as another
 *  uid), WIPC_E_PROTOCOL (not a wipc server, or another protocol version), WIPC_E_DISCONNECTED (the
 *  server hung up during the handshake), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_pipe_connect(const char *name, const wipc_pipe_options *o, int32_t timeout_ms, wipc_handle *out_conn);

/** Server side: the calling thread impersonates the client of the accepted connection `conn`
 *  (ImpersonateNamedPipeClient), at the level the client allowed: wipc clients allow
 *  SecurityIdentification only (the token can be queried, objects cannot be opened as the client).
 *  Only the calling thread is affected; end with wipc_revert_to_self() on the same thread (in a
 *  callback: before it returns, the worker thread is shared).
 *  Returns WIPC_OK, WIPC_E_BAD_HANDLE (not a pipe connection), WIPC_E_NOT_SUPPORTED (client-side
 *  connections; always on POSIX), WIPC_E_ACCESS_DENIED (e.g. ERROR_CANNOT_IMPERSONATE),
 *  WIPC_E_DISCONNECTED (the client is gone), WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_pipe_impersonate(wipc_handle conn);

/** Ends impersonation on the calling thread (RevertToSelf); harmless when not impersonating.
 *  Returns WIPC_OK, WIPC_E_SYSTEM (RevertToSelf failed), WIPC_E_NOT_SUPPORTED on POSIX.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_revert_to_self(void);

/** @} */

/* ---- shm: channels (two SPSC rings in one named section) and regions ---------------------------- */
/** @addtogroup wipc_shm
 *  @{ */

/** Fills `*o` with defaults (struct_size set, flags 0, 1 MiB capacity per direction, 16 MiB max
 *  message (streamed through the ring when larger than it), spin 50 us). NULL is ignored. Writes the 1.0 layout (as
 *  wipc_pipe_options_init; C callers reach wipc_shm_options_init_size through the macro below). Since 1.0.
 *  @since 1.0 */
WIPC_API void WIPC_CALL wipc_shm_options_init(wipc_shm_options *o);

/** wipc_shm_options_init for a struct of `struct_size` bytes (see wipc_pipe_options_init_size). Since 1.1. @since 1.1 */
WIPC_API void WIPC_CALL wipc_shm_options_init_size(wipc_shm_options *o, uint32_t struct_size);

/* Full object names (since 1.1): wipc_shm_create/_open, wipc_region_create/_open and
 *  wipc_event_create/_open take, besides a wipc name, a full object name of the platform, used as given
 *  instead of the name wipc derives, the way pipes take a full \\.\pipe\ path - to share memory with
 *  programs that do not use wipc (e.g. wipc_region_open("Local\\DemoSharedMem")). Windows: "Local\<rest>"
 *  or "Global\<rest>" (prefix in any case; for CreateFileMappingW / OpenFileMappingW / CreateEventW /
 *  OpenEventW); POSIX: "/<rest>" (for shm_open); at most 255 bytes, <rest> non-empty, without '\'
 *  (Windows) or '/' (POSIX) or control characters; another form is WIPC_E_INVALID_ARG. The
 *  hardening rules hold under a full name as under a wipc name: creation refuses an existing object
 *  (owner-only DACL / mode 0600), an opened section is bounds-checked (Windows: its size from the
 *  section, every page committed (VirtualQuery); POSIX: its size from fstat, read once) and a channel's
 *  header validated, and the library never removes an object it did not create: a full POSIX name is
 *  shm_unlink'ed only by the process that created it (a channel's opener leaves it, and the next
 *  wipc_shm_create reclaims it only if it holds a wipc locator of a dead creator). A channel's other
 *  objects are named after the full name: Windows its wake events "<full name>#<i>"; POSIX its locator
 *  is the object of the full name and its sealed memfd is named wipc-chx-<hash>-<name>. Endpoints under
 *  full names publish no statistics and wipc_list does not list them. */

/** Creates the shm channel `name`: one section holding a 4 KiB header and two SPSC rings of
 *  `capacity` bytes (one per direction), for this creator and one opener at a time (Windows:
 *  CreateFileMappingW(PAGE_READWRITE | SEC_COMMIT) Local\wipc-<name> (Global\ with WIPC_SHM_GLOBAL)
 *  with an owner-only DACL, plus named auto-reset events for wake-ups, all of which must not exist yet
 *  (objects of those names made by another process are refused, never adopted); POSIX: shm_open
 *  /wipc-<uid>-<name> O_EXCL mode 0600, pages reserved with posix_fallocate, mmap, futex wake-ups).
 *  Since 1.1 `name` may be a full object name (see "Full object names" above).
 *  A section left by a dead creator and opener is reclaimed. When the opener leaves, the creator's
 *  calls get WIPC_E_DISCONNECTED until a new opener attaches (WIPC_EVENT_CONNECTED with callbacks).
 *  A peer that closes wakes this side's waiters itself; a peer that dies is seen at once through a
 *  watch on its process's exit (Linux: pidfd_open on the library's I/O thread; Windows: a registered
 *  wait on its process handle), so a blocked or idle channel wakes no thread while nothing happens
 *  (since 1.1; 1.0 checked every 100 ms). Where the exit cannot be watched (Linux before 5.3, a
 *  process this user cannot open) blocked calls check the peer every 100 ms, as in 1.0.
 *  *out_channel receives the handle (0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (name or out_channel NULL, bad name, bad option struct,
 *  unknown flags, max_message_size 0 or above 1 GiB, spin_us above 1 s, capacity not a power of two
 *  in 4 KiB..1 GiB), WIPC_E_ADDR_IN_USE (a live channel has the name; Windows: or its section or
 *  wake events exist as another process's objects), WIPC_E_ACCESS_DENIED
 *  (WIPC_SHM_GLOBAL without SeCreateGlobalPrivilege, or the OS refused), WIPC_E_NO_MEMORY (no room for
 *  the pages: /dev/shm full or commit limit), WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_shm_create(const char *name, const wipc_shm_options *o, wipc_handle *out_channel);

/** Opens the channel `name` (a wipc name, or since 1.1 a full object name: see above) created by
 *  another process (or this one), waiting up to `timeout_ms`
 *  for it to exist and be ready (Windows: OpenFileMappingW + MapViewOfFile + OpenEventW; POSIX:
 *  shm_open + mmap, the object must belong to this user). The shared header is validated before use;
 *  Windows: every page of the section must be committed (VirtualQuery; a SEC_RESERVE section is
 *  refused) and its size is the section's own (NtQuerySection).
 *  Of `o`, flags (WIPC_SHM_GLOBAL), max_message_size and spin_us apply; the ring capacity is the
 *  creator's. *out_channel receives the handle (0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (as wipc_shm_create except capacity, or timeout < -1),
 *  WIPC_E_NOT_FOUND (no live channel of that name in time: absent, or its creator closed it or died),
 *  WIPC_E_TIMEOUT (the section exists but its creator did not finish it in time), WIPC_E_BUSY (it
 *  already has a live opener), WIPC_E_PROTOCOL (not a wipc channel: magic, layout version or sizes; Windows: reserved pages),
 *  WIPC_E_ACCESS_DENIED (DACL, or another user's object), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_shm_open(const char *name, const wipc_shm_options *o, int32_t timeout_ms, wipc_handle *out_channel);

/** Zero-copy send, step 1: reserves `size` bytes in the outgoing ring, waiting up to `timeout_ms` for
 *  room; *out_ptr (NULL on failure) points into the section: write the payload there, then call
 *  wipc_shm_commit. Valid until wipc_shm_commit or wipc_close. The reservation holds this side's send
 *  turn: other threads' sends wait for the commit, this thread's get WIPC_E_INVALID_STATE.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (out_ptr NULL, timeout < -1), WIPC_E_BAD_HANDLE (not a shm
 *  channel), WIPC_E_TOO_LARGE (above the ring's capacity minus the 24-byte record header - a
 *  reservation is one record, never streamed: use wipc_send for larger messages - or either side's
 *  max_message_size),
 *  WIPC_E_TIMEOUT (no room in time, or another thread's send held the ring), WIPC_E_INVALID_STATE (a
 *  reservation is already open), WIPC_E_DISCONNECTED, WIPC_E_CLOSED, WIPC_E_PROTOCOL (corrupt
 *  section), or the error that already ended the channel.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_shm_reserve(wipc_handle ch, size_t size, void **out_ptr, int32_t timeout_ms);

/** Zero-copy send, step 2: publishes the first `size` bytes of the reservation (`size` <= reserved) as
 *  one message of `type` and wakes the peer. Any thread may commit. Never waits.
 *  Returns WIPC_OK, WIPC_E_BAD_HANDLE, WIPC_E_INVALID_STATE (no reservation open, or another thread
 *  committed it), WIPC_E_INVALID_ARG (size above the reservation; it stays open), WIPC_E_CLOSED (the
 *  handle was closed meanwhile; nothing sent).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_shm_commit(wipc_handle ch, uint32_t type, size_t size);

/** Zero-copy receive, step 1: waits up to `timeout_ms` for the next message and points *out_ptr at it
 *  (in place in the section, or in a library copy if another thread already queued it or if it was
 *  larger than the ring and streamed through it in pieces; read-only),
 *  *out_size = its size in bytes, *out_type (may be NULL) = its type. Valid until wipc_shm_release or
 *  wipc_close; meanwhile other readers of `ch` (wipc_recv, the reply wait of wipc_request) wait.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (out_ptr or out_size NULL, timeout < -1), WIPC_E_BAD_HANDLE,
 *  WIPC_E_TIMEOUT, WIPC_E_DISCONNECTED, WIPC_E_CLOSED, WIPC_E_PROTOCOL / WIPC_E_TOO_LARGE (corrupt
 *  ring, or a record above max_message_size; the channel is ended), WIPC_E_NO_MEMORY,
 *  WIPC_E_INVALID_STATE (callbacks set, or a peek is already open).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_shm_peek(wipc_handle ch, const void **out_ptr, size_t *out_size, uint32_t *out_type, int32_t timeout_ms);

/** Zero-copy receive, step 2: frees the peeked message's ring space (a sender waiting for room is
 *  woken) and lets other readers go on. Any thread may release.
 *  Returns WIPC_OK, WIPC_E_BAD_HANDLE, WIPC_E_INVALID_STATE (no peek open).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_shm_release(wipc_handle ch);

/** Creates a plain named shared mapping of `size` bytes (1 .. 2^40), zeroed, mapped read-write, that
 *  the caller manages itself (no header, no synchronisation; see wipc_region_view): Windows
 *  CreateFileMappingW(SEC_COMMIT) Local\wipc-region-<name> (Global\ with WIPC_SHM_GLOBAL), owner-only
 *  DACL; POSIX shm_open /wipc-<uid>-r-<name> O_EXCL 0600, pages reserved with posix_fallocate, mmap.
 *  Since 1.1 `name` may be a full object name ("Local\<rest>" / "Global\<rest>", POSIX "/<rest>",
 *  used as given; see "Full object names" above), e.g. to create a section a program that does not use
 *  wipc opens with OpenFileMappingW / shm_open.
 *  Only flags of `o` apply. POSIX: closing the creator removes the name (openers keep their mapping);
 *  a dead creator's name stays until removed by hand. *out_region receives the handle (0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (name or out_region NULL, bad name, bad option struct, unknown
 *  flags, size 0 or above 2^40), WIPC_E_ADDR_IN_USE (the name exists), WIPC_E_ACCESS_DENIED
 *  (WIPC_SHM_GLOBAL without the privilege, or the OS refused), WIPC_E_NO_MEMORY (not enough space for
 *  the pages), WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_region_create(const char *name, uint64_t size, const wipc_shm_options *o, wipc_handle *out_region);

/** Opens an existing region and maps all of it (Windows OpenFileMappingW + MapViewOfFile; POSIX
 *  shm_open + mmap, the object must belong to this user). `name`: a wipc name (a region of
 *  wipc_region_create, Local\ namespace), or since 1.1 a full object name used as given ("Local\<rest>"
 *  / "Global\<rest>", POSIX "/<rest>"; see "Full object names" above), so that sections other programs
 *  made with CreateFileMappingW / shm_open can be opened. The mapping is bounds-checked whichever the
 *  name: its size is the section's own, read once (Windows NtQuerySection, else VirtualQuery, and
 *  every page must be committed: a SEC_RESERVE section is WIPC_E_PROTOCOL; POSIX fstat), and is what
 *  wipc_region_view reports. `flags`
 *  WIPC_REGION_READONLY maps it read-only (writes fault). *out_region receives the handle (0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (name or out_region NULL, bad name, flags other than
 *  WIPC_REGION_READONLY), WIPC_E_NOT_FOUND (no such region, or it is still being created: size 0),
 *  WIPC_E_PROTOCOL (Windows: pages of the section are not committed), WIPC_E_ACCESS_DENIED (DACL, or
 *  another user's object), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_region_open(const char *name, uint32_t flags, wipc_handle *out_region);

/** Gives the region's mapped view: *out_ptr (owned by the library, valid until wipc_close of the
 *  region) and *out_size (bytes: the size created or mapped; Windows may round an opened region up to
 *  whole pages). No OS call.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (out_ptr or out_size NULL), WIPC_E_BAD_HANDLE (not a region).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_region_view(wipc_handle region, void **out_ptr, uint64_t *out_size);

/** Maps the file at UTF-8 `path` shared with every process that maps it (Windows: CreateFileW
 *  (OPEN_ALWAYS; read-only: OPEN_EXISTING) + CreateFileMappingW + MapViewOfFile; POSIX: open (O_CREAT
 *  | O_EXCL 0600, then without them if it exists; read-only: O_RDONLY) + posix_fallocate + mmap MAP_SHARED). Read-write: the file is created if
 *  missing and grown to `size` bytes, never shrunk (0 = the file's current size, which must not be 0).
 *  WIPC_REGION_READONLY maps it read-only (writes fault); the file must exist and hold `size` bytes.
 *  Get the view with wipc_region_view; wipc_close unmaps (the file stays). *out_region receives the
 *  handle (0 on failure). A failed call removes the file only if this call created it.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (path or out_region NULL, path empty or not UTF-8, unknown
 *  flags, size above 2^40, size 0 with an empty file, read-only with a shorter file), WIPC_E_NOT_FOUND
 *  (read-only: no such file), WIPC_E_ACCESS_DENIED, WIPC_E_NO_MEMORY (disk full, no address space),
 *  WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_region_map_file(const char *path, uint64_t size, uint32_t flags, wipc_handle *out_region);

/** @} */

/* ---- msg: small synchronous messages to a named receiver (WM_COPYDATA semantics) ---------------- */
/** @addtogroup wipc_msg
 *  @{ */

/** Fills `*o` with defaults (struct_size set, flags 0, 64 KiB messages, queue depth 64). NULL is
 *  ignored. Writes the 1.0 layout (as wipc_pipe_options_init; C callers reach
 *  wipc_msg_options_init_size through the macro below). Since 1.0.
 *  @since 1.0 */
WIPC_API void WIPC_CALL wipc_msg_options_init(wipc_msg_options *o);

/** wipc_msg_options_init for a struct of `struct_size` bytes (see wipc_pipe_options_init_size). Since 1.1. @since 1.1 */
WIPC_API void WIPC_CALL wipc_msg_options_init_size(wipc_msg_options *o, uint32_t struct_size);

/** Creates the receiver `name` (1-128 chars of [A-Za-z0-9._-]). Windows: a message-only window
 *  (HWND_MESSAGE) of class wipc-msg-<name> on its own library thread running a message loop (no pump
 *  needed in your code); the name is guarded by the mutex Local\wipc-msg-<name> held by that thread
 *  (owner-only DACL, created, never adopted if it exists), so a dead owner's name is reclaimed, and
 *  owned through the record Local\wipc-msg-owner:<name> (this pid and window; owner-only DACL, must
 *  not exist): senders deliver only to the window it names, never to another process's window of
 *  the same class. The window procedure finds its endpoint in the library's own table, never in
 *  window memory (GWLP_USERDATA) another process can write. POSIX: a SOCK_SEQPACKET socket
 *  <rundir>/m.<name> (0600) served by a library thread, guarded by flock like pipes; only senders of
 *  the same uid (SO_PEERCRED) are taken.
 *  Messages go to on_message (wipc_set_callbacks; its return value is the sender's reply; it runs on
 *  the endpoint's thread, one message at a time) or, without callbacks, to a queue of `queue_depth`
 *  messages read with wipc_recv (a full queue answers the sender WIPC_E_BUSY; the reply is 0). The
 *  endpoint only receives: wipc_send / wipc_request / wipc_reply on it are WIPC_E_NOT_SUPPORTED.
 *  max_message_size: 1 .. WIPC_MSG_MAX_MESSAGE_LIMIT bytes. WIPC_MSG_ALLOW_LOWER_INTEGRITY calls
 *  ChangeWindowMessageFilterEx(hwnd, WM_COPYDATA, MSGFLT_ALLOW) for this window only. WIPC_MSG_RAW
 *  (since 1.1) also takes plain WM_COPYDATA from programs that do not use wipc (see there).
 *  *out_endpoint receives the handle (0 on failure).
 *  Returns WIPC_OK, WIPC_E_ADDR_IN_USE (a live endpoint has the name: Windows in this session, POSIX of
 *  this user; Windows also: its mutex or owner record exists as another process's object),
 *  WIPC_E_INVALID_ARG (name or out_endpoint NULL, bad name, bad option struct, unknown
 *  flags, max_message_size or queue_depth (1..65536) out of range), WIPC_E_ACCESS_DENIED (Windows:
 *  another user's name mutex; POSIX: runtime directory not private), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM
 *  (window, class, thread, socket or ChangeWindowMessageFilterEx failure).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_msg_listen(const char *name, const wipc_msg_options *o, wipc_handle *out_endpoint);

/** Sends one message synchronously to the receiver `name` (since 1.1 also a raw target such as
 *  "class:MyAppWnd": a plain WM_COPYDATA to any window, see WIPC_MSG_TARGET_CLASS) and waits up to
 *  `timeout_ms` for it to be taken (Windows: the window named by the receiver's owner record, if GetWindowThreadProcessId
 *  says it belongs to the record's pid, then SendMessageTimeoutW(WM_COPYDATA,
 *  SMTO_ABORTIFHUNG | SMTO_BLOCK), type in dwData, a 16-byte wipc header (magic, version, sender pid)
 *  before the bytes; POSIX: one packet and a reply packet on a seqpacket connection that is kept for
 *  the next message to that receiver: a process caches up to 32 idle connections, closed by
 *  wipc_shutdown, and reconnects by itself when the receiver has closed or restarted since, without
 *  ever delivering a message twice). *out_reply (may
 *  be NULL; 0 unless WIPC_OK) gets the receiver's on_message return value (0 in queue mode). The
 *  sender pid the receiver sees is claimed by the sender on Windows (not verified) and taken from
 *  SO_PEERCRED on POSIX. Zero-length messages are allowed; data may be NULL only when size is 0; the
 *  bytes are copied. A message whose sender timed out before the receiver took it is dropped, not
 *  delivered later (on POSIX; Windows may still deliver it).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (bad name, data NULL with size > 0, timeout < -1),
 *  WIPC_E_NOT_FOUND (no such receiver; Windows: also when only windows of class wipc-msg-<name>
 *  that no wipc receiver owns are there - they are named in the last error, not sent to),
 *  WIPC_E_TIMEOUT (not taken in time, a hung receiver, or timeout
 *  0), WIPC_E_BUSY (its queue is full, or sent from that endpoint's own on_message), WIPC_E_TOO_LARGE
 *  (above WIPC_MSG_MAX_MESSAGE_LIMIT: nothing sent; or above the receiver's max_message_size; POSIX: the
 *  OS refused the datagram), WIPC_E_DISCONNECTED (the receiver closed or died while the message
 *  waited), WIPC_E_ACCESS_DENIED (Windows: UIPI, a higher-integrity receiver without
 *  WIPC_MSG_ALLOW_LOWER_INTEGRITY, or an owner record naming a window of another process; POSIX: the receiver runs as another user), WIPC_E_PROTOCOL (the
 *  window is not a wipc receiver, or it rejected the header), WIPC_E_NO_MEMORY (here or in the
 *  receiver), WIPC_E_SYSTEM.
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_msg_send(const char *name, uint32_t type, const void *data, size_t size, int32_t timeout_ms, int32_t *out_reply);

/** Sends the message to every live receiver whose name starts with `prefix` ("" = all, as listed by
 *  wipc_msg_list), one after the other as wipc_msg_send does, each with the full `timeout_ms` (so the
 *  whole call may take receivers x timeout; message-only windows get no HWND_BROADCAST). A receiver
 *  that is the calling callback's own endpoint is skipped (WIPC_E_BUSY). *out_delivered (may be NULL)
 *  = how many accepted it.
 *  Returns WIPC_OK even if some receivers refused or timed out (logged at WIPC_LOG_DEBUG; the last
 *  error message may be left set); WIPC_E_INVALID_ARG (prefix NULL or not made of name characters,
 *  data NULL with size > 0, timeout < -1), WIPC_E_TOO_LARGE (above WIPC_MSG_MAX_MESSAGE_LIMIT),
 *  WIPC_E_NO_MEMORY, or the error of listing the receivers (POSIX: WIPC_E_ACCESS_DENIED /
 *  WIPC_E_SYSTEM for the runtime directory).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_msg_broadcast(const char *prefix, uint32_t type, const void *data, size_t size, int32_t timeout_ms, uint32_t *out_delivered);

/** Lists live receivers whose name starts with `prefix` ("" = all), sorted, without duplicates, into
 *  `buf` (`cap` bytes) as '\0'-terminated names followed by one more '\0' (none: just "\0").
 *  Windows: EnumChildWindows of the message-only root, classes wipc-msg-<name> (this desktop session)
 *  whose window is the one the name's owner record names;
 *  POSIX: held name locks <rundir>/m.*.lock (this user's). *out_needed (may be NULL) = bytes needed,
 *  final '\0' included; set on WIPC_OK and WIPC_E_BUFFER_TOO_SMALL.
 *  Returns WIPC_OK, WIPC_E_BUFFER_TOO_SMALL (cap short; nothing written), WIPC_E_INVALID_ARG (prefix
 *  NULL or not made of name characters, buf NULL with cap > 0), WIPC_E_NO_MEMORY, POSIX:
 *  WIPC_E_ACCESS_DENIED / WIPC_E_SYSTEM (runtime directory).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_msg_list(const char *prefix, char *buf, size_t cap, size_t *out_needed);

/** @} */

/* ---- extensions (appended after the 1.0 surface) ------------------------------------------------ */
/** @addtogroup wipc_handles
 *  @{ */

/** Like wipc_recv, but fills `*out` (set out->struct_size = sizeof(wipc_message) first) with type, size
 *  (bytes), request_id (nonzero: answer with wipc_reply(h, out->request_id, ...)) and peer_pid;
 *  out->data = buf. Same statuses as wipc_recv, plus WIPC_E_INVALID_ARG for out NULL (out->size holds
 *  the size needed on WIPC_E_BUFFER_TOO_SMALL).
 *  @since 1.0 */
WIPC_API wipc_status WIPC_CALL wipc_recv_message(wipc_handle h, void *buf, size_t cap, wipc_message *out, int32_t timeout_ms);

/** @} */

/* ---- asynchronous operations, cancellation, remote errors (since 1.1) ---------------------------- */
/** @addtogroup wipc_async
 *  @{ */

/* Every call that can wait has an asynchronous form that returns at once and completes through a
 * wipc_complete_cb. Rules for every *_async function below:
 *  - A start call that returns an error started nothing and never calls `cb`. One that returns WIPC_OK
 *    stores the operation's id in *out_op (may be NULL if not wanted) and calls `cb` exactly once,
 *    on a library thread (a callback worker), never from inside the start call itself.
 *  - Completions of operations on one handle run on that handle's callback strand: never concurrently
 *    with each other nor with the handle's message and event callbacks, in the order they completed.
 *    Operations without a handle (wipc_pipe_connect_async, wipc_msg_send_async) each run on a strand
 *    of their own. A completion callback may call any wipc function except wipc_shutdown: start,
 *    cancel, close - its own handle included.
 *  - wipc_cancel(op) completes the operation with WIPC_E_CANCELLED unless it completed first.
 *    wipc_close(h) completes every pending operation of h with WIPC_E_CLOSED before it returns (when
 *    called from inside one of h's callbacks: right after that callback returns); wipc_shutdown()
 *    completes every operation.
 *  - Timeouts (timeout_ms, WIPC_INFINITE = never) are kept by one library timer thread for all
 *    operations; pending operations cost memory, not threads.
 *  - No torn frames: a cancelled or timed-out send either wrote nothing (WIPC_E_CANCELLED /
 *    WIPC_E_TIMEOUT) or its whole frame (WIPC_OK): when wipc_cancel finds part of a frame already
 *    taken by the OS, the send completes at once with WIPC_OK and the rest of its frame is written
 *    after it (a request completes WIPC_E_CANCELLED, its frame finished the same way). A timeout (or
 *    close) that finds part of a frame taken ends the connection
 *    instead (later calls get WIPC_E_DISCONNECTED), as the blocking calls do. A cancelled request's
 *    late reply is dropped.
 *  - Pipe connections with asynchronous reads pending are read by the library's I/O thread (IOCP /
 *    epoll) from then on, like connections with callbacks; blocking calls on them still work (their
 *    replies and messages come through that thread). Elsewhere the blocking calls keep their own fast
 *    path (the caller reads its own reply on its thread): they are not built on the async forms.
 *  - Shm channels with asynchronous reads pending are read by the channel's reader thread (as with
 *    callbacks; wipc_shm_peek is then WIPC_E_INVALID_STATE). An async send that finds the ring full is
 *    queued (same bound) and written in order by a small library job pool (at most 4 threads, shared
 *    with wipc_msg_send_async), which waits for room 20 ms at a time and never holds a thread for one
 *    peer; a queued send not yet in the ring is dropped whole on cancel or timeout.
 *  - Asynchronous sends on a pipe go through the connection's write queue (Windows: overlapped
 *    WriteFile completed on the IOCP; POSIX: send(MSG_DONTWAIT) and EPOLLOUT on the epoll thread),
 *    bounded to WIPC_ASYNC_QUEUE_BYTES: a send that does not fit is refused at start (WIPC_E_BUSY). */

/** Since 1.1: the bytes of frames an asynchronous pipe connection may hold queued for writing
 *  (send_async / request_async / replies from callbacks) before new asynchronous sends are refused
 *  with WIPC_E_BUSY. One frame is always accepted by an empty queue, whatever its size. */
#define WIPC_ASYNC_QUEUE_BYTES (16u * 1024 * 1024)

/** Since 1.1: a reply (wipc_reply / wipc_reply_error) sent from inside a callback is queued instead of
 *  blocking the callback worker on a peer that does not read. If the queue holds more than
 *  WIPC_ASYNC_QUEUE_BYTES, or a queued reply is not written within this many milliseconds, the
 *  connection is ended (the peer is not reading; WIPC_EVENT_DISCONNECTED follows). Pipes. On a shm
 *  channel a reply from a callback waits for room in the ring at most this long, then wipc_reply /
 *  wipc_reply_error return WIPC_E_TIMEOUT (nothing written): a peer that stops reading holds the
 *  callback worker that long, never longer. */
#define WIPC_REPLY_DEADLINE_MS 30000

/** Since 1.1: the longest remote error text carried by wipc_reply_error, bytes of UTF-8 (longer text
 *  is cut on a character boundary). */
#define WIPC_REMOTE_TEXT_MAX 4096

/** Since 1.1: one asynchronous operation in flight. 0 is never valid; ids are never reused within the
 *  process, so a stale id is simply not found. */
typedef uint64_t wipc_op;

/** Since 1.1: what a completion callback sees. The struct and everything it points to are valid only
 *  during the callback: copy what you keep. Fields may be appended (struct_size tells). */
typedef struct wipc_completion {
    uint32_t            struct_size; /**< sizeof(wipc_completion) as the library knows it */
    wipc_op             op;          /**< the operation's id, as *out_op of its start call */
    wipc_status         status;      /**< WIPC_OK, what the blocking form would have returned, WIPC_E_CANCELLED (wipc_cancel)
                                          or WIPC_E_CLOSED (wipc_close / wipc_shutdown) */
    wipc_handle         handle;      /**< the handle the operation ran on (0 for connect and msg_send) */
    wipc_handle         related;     /**< connect / accept with WIPC_OK: the new connection, yours to close; else 0 */
    const wipc_message *message;     /**< recv: the message; request: the reply (WIPC_E_REMOTE: type = the peer's code as
                                          uint32_t, data/size = its UTF-8 text, not NUL-terminated); else NULL */
    int32_t             msg_reply;   /**< msg_send: the receiver's int32 reply; else 0 */
} wipc_completion;

/** Since 1.1: called exactly once per started operation, on a library callback worker (see the rules
 *  above); `user_data` as given to the start call. */
typedef void (WIPC_CALL *wipc_complete_cb)(const wipc_completion *c, void *user_data);

/** Since 1.1: the asynchronous form of wipc_pipe_connect: one connect attempt now (AF_UNIX connect /
 *  CreateFileW), retried by the library timer (no thread waits) while the server is absent or busy
 *  until `timeout_ms`, then the wipc handshake on the I/O thread (a server that accepted has up to
 *  2 s beyond the timeout to answer). Completion: handle 0, related = the connection on WIPC_OK.
 *  Completion statuses: those of wipc_pipe_connect, WIPC_E_CANCELLED, WIPC_E_CLOSED (wipc_shutdown).
 *  Start returns WIPC_OK, WIPC_E_INVALID_ARG (as wipc_pipe_connect, or cb NULL), WIPC_E_NO_MEMORY.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_pipe_connect_async(const char *name, const wipc_pipe_options *o, int32_t timeout_ms, wipc_complete_cb cb, void *user_data, wipc_op *out_op);

/** Since 1.1: the asynchronous form of wipc_pipe_accept: completes with the next handshaken client
 *  of `server` (related = its connection, yours to close), in start order with other accepts.
 *  Completion statuses: WIPC_OK, WIPC_E_TIMEOUT, WIPC_E_CANCELLED, WIPC_E_CLOSED, WIPC_E_NO_MEMORY
 *  (handle table full; that client is dropped).
 *  Start returns WIPC_OK, WIPC_E_INVALID_ARG (cb NULL, timeout < -1), WIPC_E_BAD_HANDLE (not a pipe
 *  server), WIPC_E_INVALID_STATE (the server has callbacks: it accepts by itself), WIPC_E_NO_MEMORY.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_pipe_accept_async(wipc_handle server, int32_t timeout_ms, wipc_complete_cb cb, void *user_data, wipc_op *out_op);

/** Since 1.1: the asynchronous form of wipc_send. `data` is copied before the call returns. Pipe: the
 *  frame goes to the connection's write queue (see above); it completes when the whole frame was
 *  handed to the OS. Shm channels: copied into the ring when there is room; a message larger than the
 *  ring is streamed through it by the library's job pool, which keeps the channel's send turn
 *  between pieces (other sends of this side wait; cancel or timeout midway: the peer delivers nothing).
 *  Completion statuses: those of wipc_send, WIPC_E_CANCELLED, WIPC_E_CLOSED.
 *  Start returns WIPC_OK, WIPC_E_INVALID_ARG (cb NULL, data NULL with size > 0, timeout < -1, size 0
 *  on RAW), WIPC_E_BAD_HANDLE, WIPC_E_NOT_SUPPORTED (servers, regions, named events, msg endpoints), WIPC_E_TOO_LARGE,
 *  WIPC_E_BUSY (the write queue is full), WIPC_E_DISCONNECTED / WIPC_E_CLOSED (already ended),
 *  WIPC_E_NO_MEMORY.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_send_async(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms, wipc_complete_cb cb, void *user_data, wipc_op *out_op);

/** Since 1.1: the asynchronous form of wipc_recv_message: completes with the next message
 *  (c->message: type, data, size, request_id - answer requests with wipc_reply(h, request_id, ...) -
 *  and peer_pid). Several recv_async on one handle complete in the order they were started; messages
 *  already queued are taken first.
 *  Completion statuses: WIPC_OK, WIPC_E_TIMEOUT, WIPC_E_CANCELLED, WIPC_E_CLOSED, WIPC_E_DISCONNECTED,
 *  WIPC_E_PROTOCOL / WIPC_E_TOO_LARGE / WIPC_E_NO_MEMORY / WIPC_E_SYSTEM (the connection ended).
 *  Start returns WIPC_OK, WIPC_E_INVALID_ARG (cb NULL, timeout < -1), WIPC_E_BAD_HANDLE,
 *  WIPC_E_INVALID_STATE (the handle has message callbacks), WIPC_E_NOT_SUPPORTED (servers, regions, named events,
 *  msg endpoints), WIPC_E_NO_MEMORY.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_recv_async(wipc_handle h, int32_t timeout_ms, wipc_complete_cb cb, void *user_data, wipc_op *out_op);

/** Since 1.1: the asynchronous form of wipc_request: sends the request (copied before return) and
 *  completes with its reply in c->message (any size up to max_message_size; no buffer to size).
 *  10,000 and more may be in flight on one connection. A reply that comes after the operation was
 *  cancelled or timed out is dropped.
 *  Completion statuses: WIPC_OK, WIPC_E_REMOTE (the peer called wipc_reply_error: c->message->type =
 *  its code, data = its text), WIPC_E_TIMEOUT, WIPC_E_CANCELLED, WIPC_E_CLOSED, WIPC_E_DISCONNECTED,
 *  and the send errors of wipc_send_async.
 *  Start returns what wipc_send_async's start returns, plus WIPC_E_NOT_SUPPORTED (RAW pipes).
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_request_async(wipc_handle h, uint32_t type, const void *req, size_t req_size, int32_t timeout_ms, wipc_complete_cb cb, void *user_data, wipc_op *out_op);

/** Since 1.1: the asynchronous form of wipc_msg_send (bytes copied before return); c->msg_reply = the
 *  receiver's reply. Runs on a small bounded pool of library threads (at most 4; msg sends are short
 *  and bounded by their own timeout), not a thread per operation; cancel completes it at once and
 *  drops the receiver's late answer. Completion: handle 0, the statuses of wipc_msg_send,
 *  WIPC_E_CANCELLED, WIPC_E_CLOSED (wipc_shutdown).
 *  Start returns WIPC_OK, WIPC_E_INVALID_ARG (bad name, cb NULL, data NULL with size > 0, timeout < -1),
 *  WIPC_E_TOO_LARGE, WIPC_E_NO_MEMORY.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_msg_send_async(const char *name, uint32_t type, const void *data, size_t size, int32_t timeout_ms, wipc_complete_cb cb, void *user_data, wipc_op *out_op);

/** Since 1.1: asks the operation `op` to stop. Any thread, also from inside callbacks; never waits
 *  for the completion callback.
 *  Returns WIPC_OK (it completes with WIPC_E_CANCELLED, unless it completed first: e.g. a send whose
 *  frame was already being written completes with WIPC_OK), or WIPC_E_NOT_FOUND (already completed,
 *  or never existed).
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_cancel(wipc_op op);

/** Since 1.1: answers the request `request_id` received on `h` (pipe connection or shm channel) with
 *  an error: `code` (any int32, the application's) and `message` (UTF-8, may be NULL = "", cut at
 *  WIPC_REMOTE_TEXT_MAX bytes on a character boundary). The requester's wipc_request returns
 *  WIPC_E_REMOTE with wipc_last_error_message() = "remote error <code>: <message>" and
 *  wipc_last_remote_code() = code; its wipc_request_async completes with WIPC_E_REMOTE. request_id 0
 *  answers the last request returned by wipc_recv, as wipc_reply does. Sent like wipc_reply (queued
 *  when called from a callback).
 *  Returns the statuses of wipc_reply, plus WIPC_E_NOT_SUPPORTED when the peer speaks wipc 1.0 (its
 *  handshake did not offer remote errors; nothing is sent and the request stays unanswered: answer it
 *  with wipc_reply instead, request_id 0 still names it) or for WIPC_PIPE_RAW connections.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_reply_error(wipc_handle h, uint64_t request_id, int32_t code, const char *message);

/** Since 1.1: the code of the calling thread's last WIPC_E_REMOTE (from wipc_request), 0 if none yet.
 *  Per thread; not cleared by other calls. Never fails.
 *  @since 1.1 */
WIPC_API int32_t WIPC_CALL wipc_last_remote_code(void);

/** @} */

/* ---- discovery (ABI 1.1): the live endpoints of this user ---------------------------------------- */
/** @addtogroup wipc_discovery
 *  @{ */

/** wipc_list() transport mask bits: one bit per WIPC_TRANSPORT_* value, (1u << transport). */
#define WIPC_LIST_PIPE (1u << WIPC_TRANSPORT_PIPE) /**< pipe servers */
#define WIPC_LIST_SHM  (1u << WIPC_TRANSPORT_SHM)  /**< shm channels and regions */
#define WIPC_LIST_MSG  (1u << WIPC_TRANSPORT_MSG)  /**< msg receivers */
#define WIPC_LIST_ALL  (WIPC_LIST_PIPE | WIPC_LIST_SHM | WIPC_LIST_MSG) /**< every transport (0 means the same) */

/** One live endpoint, as wipc_list() reports it (since 1.1). Records are plain data, owned by the
 *  caller; fields may be appended (the caller says how many bytes it knows: `record_size`). */
typedef struct wipc_endpoint {
    uint32_t struct_size;      /**< out: bytes of this record the library filled (min(record_size, its own sizeof)) */
    uint32_t transport;        /**< WIPC_TRANSPORT_* */
    uint32_t kind;             /**< WIPC_KIND_PIPE_SERVER, WIPC_KIND_SHM_CHANNEL, WIPC_KIND_REGION or WIPC_KIND_MSG_ENDPOINT */
    uint32_t owner_pid;        /**< process id of the process serving it (pipe server, shm creator, msg receiver); 0 if unknown */
    int64_t  created_unix_ms;  /**< when it was created, milliseconds since 1970-01-01 UTC; 0 if unknown */
    char     name[136];        /**< the wipc name (1-128 characters of [A-Za-z0-9._-]), NUL-terminated */
} wipc_endpoint;

/** Lists the live endpoints of this user whose name starts with `prefix` ("" = all) on the transports of
 *  `transport_mask` (WIPC_LIST_* bits; 0 = all), sorted by transport, kind, then name, without duplicates, into
 *  the caller's array `out` of `cap` records, each `record_size` bytes apart (pass sizeof(wipc_endpoint);
 *  at least offsetof(wipc_endpoint, name) + 129 = 153; the library fills min(record_size, its own
 *  sizeof) bytes of each, zeroes the rest of the record, and sets struct_size to what it filled).
 *  *out_count (required) = how many endpoints there are (set on WIPC_OK and WIPC_E_BUFFER_TOO_SMALL).
 *  The list is a snapshot: endpoints may appear or go right after the call; call again with a larger
 *  array when it was too small. Endpoints of this process are listed too. Never waits, starts no
 *  thread, connects to nothing and opens nothing for writing: the endpoints do not see the call.
 *  Windows (this logon session): pipes from FindFirstFileW(\\.\pipe\*) (names wipc-<name>) and from
 *  the pipe servers' stats sections (see wipc_stat; the only source where the pipe namespace cannot be
 *  enumerated, as under Wine); a pipe cannot be asked who serves it without connecting to it, so owner
 *  pid and creation time come from the stats section (0 with WIPC_PIPE_NO_STATS); shm from the
 *  session's object directory (NtOpenDirectoryObject + NtQueryDirectoryObject on
 *  \Sessions\<id>\BaseNamedObjects, sections wipc-<name> and wipc-region-<name>; a channel is listed
 *  only if its header is valid and its creator alive, owner pid = the creator; regions: pid 0);
 *  msg from the message-only windows (EnumChildWindows of the HWND_MESSAGE root, classes wipc-msg-<name>;
 *  owner pid from GetWindowThreadProcessId); creation times on Windows come from the stats sections
 *  (0 for endpoints that publish none). POSIX (this uid): pipe servers and msg receivers from the
 *  held name locks <rundir>/p.*.lock and m.*.lock (a lock nobody holds is a dead owner's leftover:
 *  skipped; owner pid from /proc/locks, creation time = the lock file's mtime); shm from the
 *  /dev/shm objects /wipc-<uid>-<name> (channels with a valid header and a live creator, which is the
 *  owner pid) and /wipc-<uid>-r-<name> (regions: pid 0; a dead creator's region stays listed until
 *  removed), creation time = the object's ctime. Section headers are untrusted: copied once, validated.
 *  Returns WIPC_OK, WIPC_E_BUFFER_TOO_SMALL (more than `cap` endpoints: the first `cap` are written,
 *  *out_count = the number needed), WIPC_E_INVALID_ARG (prefix or out_count NULL, prefix not made of
 *  name characters, unknown mask bits, out NULL with cap > 0, record_size too small), WIPC_E_NO_MEMORY,
 *  WIPC_E_ACCESS_DENIED / WIPC_E_SYSTEM (POSIX: the runtime directory). Since 1.1.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_list(uint32_t transport_mask, const char *prefix, wipc_endpoint *out, size_t cap, size_t record_size, size_t *out_count);

/* ---- live statistics (ABI 1.1): counters every endpoint publishes, read by any process of the user - */

/** Option flags (since 1.1): do not publish this endpoint's statistics (no stats section is created;
 *  wipc_stat() then finds nothing, wipc_list() still lists the endpoint). Servers, shm creators and msg
 *  receivers publish by default; clients (wipc_pipe_connect, wipc_shm_open) never publish. */
#define WIPC_PIPE_NO_STATS 0x8u /**< wipc_pipe_options.flags: wipc_pipe_listen publishes nothing */
#define WIPC_SHM_NO_STATS  0x2u /**< wipc_shm_options.flags: wipc_shm_create publishes nothing */
#define WIPC_MSG_NO_STATS  0x2u /**< wipc_msg_options.flags: wipc_msg_listen publishes nothing */

/** An endpoint's statistics, filled by wipc_stat() (since 1.1). Set struct_size = sizeof(wipc_stats)
 *  first. Counters count since the endpoint was created, over the endpoint and all its connections
 *  (live and ended); they are updated by the owner without locks, so two counters read together may
 *  be a few messages apart. */
typedef struct wipc_stats {
    uint32_t struct_size;            /**< in: sizeof(wipc_stats) of the caller, at least 8 */
    uint32_t transport;              /**< WIPC_TRANSPORT_* */
    uint32_t kind;                   /**< WIPC_KIND_PIPE_SERVER, WIPC_KIND_SHM_CHANNEL or WIPC_KIND_MSG_ENDPOINT */
    uint32_t owner_pid;              /**< the publishing process */
    int64_t  created_unix_ms;        /**< when the endpoint was created, ms since 1970-01-01 UTC */
    int64_t  last_activity_unix_ms;  /**< the last message sent or received (coarse: a few ms), or created_unix_ms */
    uint64_t messages_sent;          /**< messages sent (replies included) */
    uint64_t messages_received;      /**< messages received (requests included) */
    uint64_t bytes_sent;             /**< payload bytes sent */
    uint64_t bytes_received;         /**< payload bytes received */
    uint64_t connections_total;      /**< connections accepted (pipe) / openers attached (shm) since creation; msg: 0 */
    uint64_t errors;                 /**< connections or channels ended by an error other than the peer leaving */
    uint32_t connections;            /**< live connections now (pipe), 1 while an opener is attached (shm); msg: 0 */
    uint32_t queue_depth;            /**< received messages queued, not yet taken by wipc_recv or a callback */
    char     name[136];              /**< the endpoint's name, NUL-terminated */
} wipc_stats;

/** Reads the statistics the endpoint `name` of `transport` (WIPC_TRANSPORT_*; 0 = the first found of
 *  pipe, shm, msg) publishes, from any process of the same user, without the owner's cooperation:
 *  nothing is sent to it and it cannot tell. Each publishing endpoint owns a small stats section
 *  (POSIX: shm_open /wipc-<uid>-st-<t>-<name>, mode 0600; Windows: Local\wipc-stats-<t>-<name> with the
 *  owner-only DACL; <t> = p, s or m) that its process updates with relaxed atomic adds on the message
 *  path (no lock, no system call) and that readers map read-only (shm_open O_RDONLY + mmap PROT_READ /
 *  OpenFileMappingW(FILE_MAP_READ) + MapViewOfFile). The section is untrusted input: it is copied once,
 *  and the copy is validated (magic, layout version, sizes, name, transport) before any field is used.
 *  A section whose owner died (pid + start time) or closed the endpoint is not reported. An endpoint
 *  serves at most 120 connections with live per-connection counters; the counters of further ones
 *  are added when they end. *out is filled up to out->struct_size bytes (0 on failure).
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (name or out NULL, bad name, transport not 0..3, struct_size
 *  below 8), WIPC_E_NOT_FOUND (no live endpoint of that name publishes: absent, WIPC_*_NO_STATS, or
 *  its owner died), WIPC_E_PROTOCOL (the section is not a valid stats section), WIPC_E_ACCESS_DENIED
 *  (another user's object), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM. Since 1.1.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_stat(const char *name, uint32_t transport, wipc_stats *out);

/** wipc_pipe_options.flags for wipc_pipe_connect (since 1.1): when nobody serves the name, wait up to
 *  the timeout for a server to appear (the 1.0 behaviour) instead of failing at once with
 *  WIPC_E_NOT_FOUND. Without it, a name nobody serves fails at once (no socket / no pipe instance:
 *  POSIX ENOENT or ECONNREFUSED, Windows ERROR_FILE_NOT_FOUND for 250 ms: a server whose max_instances
 *  are all connected has no instance of the name between closing one and creating the next); a server that exists but is busy
 *  (every instance connected / backlog full / BUSY handshake) is waited for up to the timeout either
 *  way. Use it for clients that may start before their server. Ignored by wipc_pipe_listen. */
#define WIPC_PIPE_WAIT_FOR_SERVER 0x10u

/** wipc_pipe_options.flags for wipc_pipe_listen and wipc_pipe_connect (since 1.1): length-prefixed
 *  framing for foreign protocols ("4-byte length + payload"). It implies WIPC_PIPE_RAW (no wipc header,
 *  no handshake; wipc_info's flags show both), and everything said of RAW names and peers holds.
 *  On the wire each message is a 4-byte little-endian unsigned length, then that many payload bytes;
 *  nothing else (docs/PROTOCOL.md, "Length-prefixed RAW pipes").
 *  - Receiving: the pipe's own write / message boundaries do not matter: the length and the payload
 *    may come in separate writes or a byte at a time, and one read may hold several messages; each
 *    message is delivered whole (type 0, request_id 0) when its last byte arrives. A length of 0 is a
 *    0-byte message. The length is checked against this side's max_message_size BEFORE any memory is
 *    allocated for the payload, and the payload's buffer grows as its bytes arrive (so a claim costs
 *    only what is actually sent). A larger claim (e.g. 0xFFFFFFFF, 4 GiB) ends that connection: a
 *    WIPC_LOG_WARN naming the pipe, the peer's pid and the claimed length, then the connection's
 *    WIPC_EVENT_ERROR with WIPC_E_TOO_LARGE (waiters in wipc_recv get WIPC_E_TOO_LARGE); a server
 *    goes on serving its other and next clients.
 *  - Sending (wipc_send, wipc_send_async): the 4-byte length and the payload go out together: one
 *    buffer up to 512 bytes; larger, one sendmsg (POSIX), one WriteFile of the joined bytes on a
 *    message-mode pipe, the length then the payload on a Windows byte-type pipe. `type` is not sent.
 *    A 0-byte send writes a 4-byte zero length. Sizes above max_message_size: WIPC_E_TOO_LARGE, nothing sent.
 *  - Windows: the server is a message-type pipe as with RAW (PIPE_TYPE_MESSAGE), so a foreign client may
 *    read in byte or message mode, and each message we send is one WriteFile (one pipe message). A
 *    client sets PIPE_READMODE_MESSAGE where the server's pipe type allows it and reads bytes otherwise;
 *    either way the framing is in the bytes. POSIX: an AF_UNIX SOCK_STREAM socket, as with RAW.
 *  - Request/reply: without wipc's header there is no request id on the wire, so wipc_request,
 *    wipc_request_async, wipc_reply and wipc_reply_error return WIPC_E_NOT_SUPPORTED on such
 *    connections (as on RAW). A foreign protocol's request and response are two messages: wipc_send
 *    the request, then wipc_recv (or on_message) the response; matching them (one outstanding request,
 *    answers in order) is the application's protocol. */
#define WIPC_PIPE_LENGTH_PREFIX 0x20u

/** wipc_pipe_options.flags for wipc_pipe_listen and wipc_pipe_connect (since 1.1): write-behind, like a
 *  socket's send buffer or a ZeroMQ socket's queue - wipc_send returns once the frame is queued, and
 *  frames queued while the pipe is busy go out together (one send / WriteFile of many frames).
 *  A server's flag applies to every connection it accepts; the peer needs nothing (it reads the usual
 *  frames). Not with WIPC_PIPE_RAW or WIPC_PIPE_LENGTH_PREFIX (WIPC_E_INVALID_ARG): batching needs
 *  wipc's framing (a Windows message-mode RAW pipe would merge messages).
 *  On such a connection, wipc_send and wipc_reply of a payload of up to 8,168 bytes (8 KiB with the
 *  frame header):
 *  - write the frame at once, on the caller's thread, when it is lone, nothing is queued and the pipe
 *    takes it without blocking (POSIX send(MSG_DONTWAIT); Windows one WriteFile that completes at
 *    once): a lone message costs what it costs without the flag, with no wait for company (no Nagle
 *    delay). Lone: no wipc_send / wipc_reply on this connection began within twice the duration of
 *    its last such direct write (the monotonic clock, per connection; the estimate grows at most 2x
 *    per write and halves whenever a close send finds the queue idle), or a message was
 *    received on the connection since the last send and nothing is queued. So a send/recv ping-pong
 *    always writes at once (a round trip takes longer than two writes, and an answer came in), while
 *    sends in a row are batched;
 *  - otherwise copy the frame into the connection's write queue (frames are appended into 64 KiB
 *    chunks) and return WIPC_OK without a system call; when the queue turns non-empty the library's
 *    I/O thread (epoll / IOCP) is woken once (one eventfd write / PostQueuedCompletionStatus) and
 *    writes the queue in order, everything queued by then (up to 64 KiB) in one send / WriteFile,
 *    again and again until it is empty, while the caller keeps queuing. The queue is bounded by the
 *    connection's max_queued_bytes (payload bytes) and by max_queued_messages or max_queued_bytes /
 *    128 frames, whichever is more (8 MiB: 65,536 frames; the receive bound of 1024 messages would
 *    make a sender of small frames wait for nearly every write); one frame always fits an empty
 *    queue. When it is full, wipc_send waits up to its timeout_ms for room, then returns
 *    WIPC_E_TIMEOUT with nothing queued.
 *  Larger payloads, wipc_request (its reply is awaited anyway), bulk transfers and replies from callbacks
 *  (always queued, see wipc_reply) are written as without the flag, after every frame queued before them
 *  (order is kept per connection).
 *  What the sender learns: WIPC_OK from wipc_send means the frame is in the pipe or queued in this process -
 *  not that the peer read it, and a queued frame is lost if this process exits or calls wipc_close first
 *  (call wipc_flush before). If a queued frame cannot be written (the peer closed or died, the pipe
 *  broke), the connection ends at once: that frame and every frame queued after it are dropped, the
 *  next wipc_send / wipc_reply / wipc_recv / wipc_request / wipc_flush on it returns the error
 *  (WIPC_E_DISCONNECTED; WIPC_E_CLOSED after wipc_close) and callbacks get WIPC_EVENT_DISCONNECTED.
 *  Which of the frames sent before the error reached the peer cannot be known from this side (as
 *  with a socket's send buffer); frames are never duplicated, torn or reordered. wipc_flush returns
 *  WIPC_OK only when every queued frame was written into the pipe. */
#define WIPC_PIPE_WRITE_BEHIND 0x40u

/** @} */

/* ---- msg raw mode (since 1.1): plain WM_COPYDATA, without wipc's header ------------ */
/** @addtogroup wipc_msg
 *  @{ */

/** wipc_msg_options.flags (since 1.1): a plain WM_COPYDATA receiver, for senders that do not use wipc
 *  (an MFC app's SendMessage(WM_COPYDATA), a script calling SendMessageW). No wipc header is expected:
 *  - Windows: the endpoint's message-only window (class wipc-msg-<name>, window title <name>; a foreign
 *    sender finds it with FindWindowExW(HWND_MESSAGE, NULL, L"wipc-msg-<name>", NULL)) takes any
 *    WM_COPYDATA: COPYDATASTRUCT.dwData is the message's `type` (a dwData above 0xffffffff is refused),
 *    cbData/lpData are the payload (all of it is user data), and the peer_pid is the process of the
 *    window passed in wParam (GetWindowThreadProcessId; 0 if none).
 *  - POSIX: the endpoint's SOCK_SEQPACKET socket <rundir>/m.<name> takes packets of an 8-byte prefix
 *    (type u32 LE, reserved u32) followed by the payload; the peer_pid is the SO_PEERCRED pid.
 *  The reply (Windows: the window procedure's LRESULT; POSIX: one 8-byte little-endian packet) is
 *  plain: in callback mode on_message's int32 return value, sign-extended to 64 bits; in queue mode 1
 *  (TRUE, "handled") when the message was queued. A message the endpoint does not take (above
 *  max_message_size, queue full, endpoint closing, sent from its own callback; POSIX: a sender of
 *  another uid, a packet shorter than the prefix) is answered 0 (FALSE, "not handled"), logged, and
 *  not delivered: a foreign sender cannot tell that 0 from a callback returning 0, so callbacks that
 *  want to be told apart should return non-zero for success.
 *  wipc's own senders still work: a payload that begins with a valid wipc header (docs/PROTOCOL.md
 *  section 8: magic 0x47534d57, version 1, header size 16) is taken as a wipc message (header
 *  stripped, reply word as for any endpoint), so wipc_msg_send / wipc_msg_broadcast by name reach a
 *  RAW endpoint as usual. A foreign payload that happens to begin with those 6 bytes is read the same way.
 *  Without this flag (a framed endpoint) a WM_COPYDATA / packet without a valid wipc header is
 *  refused, delivered nowhere, logged at WIPC_LOG_WARN, and answered 0 (the conventional "not
 *  handled"), never a value a foreign sender could read as success. */
#define WIPC_MSG_RAW 0x4u

/** Raw sends (since 1.1): wipc_msg_send and wipc_msg_send_async accept, instead of a wipc name, a
 *  target of one of these forms (a ':' is not a name character, so no wipc name means anything else):
 *  - Windows, the first window of class CLASS: class:CLASS
 *  - Windows, the first window titled TITLE (exact, whole title): title:TITLE
 *  - Windows, both (CLASS then has no ';'; TITLE may contain anything): class:CLASS;title:TITLE
 *  - POSIX, the AF_UNIX SOCK_SEQPACKET socket at an absolute path: path:/abs/socket
 *  CLASS (1..255 bytes), TITLE (1..1023 bytes) and the path (1..255 bytes; POSIX: shorter than
 *  sun_path) are UTF-8. Windows looks among top-level windows first
 *  (FindWindowExW(NULL, NULL, class, title)), then among message-only windows
 *  (FindWindowExW(HWND_MESSAGE, NULL, class, title)); the window may belong to any process of the
 *  desktop and need not use wipc. It is sent SendMessageTimeoutW(WM_COPYDATA, wParam NULL,
 *  SMTO_ABORTIFHUNG | SMTO_BLOCK, timeout_ms) with dwData = type and cbData/lpData = the bytes exactly
 *  (no wipc header); *out_reply = the window procedure's LRESULT, its low 32 bits as an int32 (0 is
 *  the conventional "not handled"; it is returned as WIPC_OK, interpret it yourself).
 *  POSIX has no windows: "class:wipc-msg-NAME" addresses the wipc endpoint NAME (the class its window
 *  has on Windows, so a raw send to a WIPC_MSG_RAW endpoint is spelt the same on both), any other class
 *  is WIPC_E_NOT_FOUND and "title:" WIPC_E_NOT_SUPPORTED. A POSIX raw send opens one connection per
 *  message, sends one packet (8-byte prefix: type u32 LE, reserved u32 0; then the bytes), waits up to
 *  timeout_ms for one 8-byte little-endian reply packet (*out_reply = its low 32 bits) and closes; for
 *  "path:" the server may run as any user (for "class:" it must be ours, SO_PEERCRED). "path:" on
 *  Windows is WIPC_E_NOT_SUPPORTED. wipc_msg_broadcast and wipc_msg_list take wipc names only.
 *  Statuses as wipc_msg_send, plus: WIPC_E_INVALID_ARG (empty or over-long CLASS / TITLE / path, an
 *  unknown "xxx:" form), WIPC_E_NOT_FOUND (no such window / no socket there), WIPC_E_NOT_SUPPORTED
 *  (a form this platform lacks), WIPC_E_PROTOCOL (POSIX: the answer was not one 8-byte packet). No
 *  WIPC_E_BUSY / refusal statuses come from the receiver: whatever it answers is the reply.
 *  The Windows window need not run a wipc receiver: for one that is busy or hung the call ends after
 *  timeout_ms (SMTO_ABORTIFHUNG). Thread: the calling thread (wipc_msg_send_async: a library pool
 *  thread, as for names). */
#define WIPC_MSG_TARGET_CLASS "class:" /**< raw send target prefix: a window class (see above). Since 1.1 */
#define WIPC_MSG_TARGET_TITLE "title:" /**< raw send target prefix: a window title (see above). Since 1.1 */
#define WIPC_MSG_TARGET_PATH  "path:"  /**< raw send target prefix: a POSIX seqpacket socket path (see above). Since 1.1 */

/** @} */

/* ---- named events (ABI 1.1): the "section + event" pattern without raw Win32 -------------------- */
/** @addtogroup wipc_event
 *  @{ */

/** Handle kind of a named event (wipc_info.kind; wipc_info.transport is WIPC_TRANSPORT_SHM, flags
 *  WIPC_EVENT_FLAG_MANUAL_RESET when the event is known to be manual-reset). Since 1.1. */
#define WIPC_KIND_EVENT 6

/** wipc_event_create flags (since 1.1). Other bits are WIPC_E_INVALID_ARG. */
#define WIPC_EVENT_FLAG_MANUAL_RESET 0x1u /**< manual reset: stays set (every wait returns) until wipc_event_reset; without it auto reset: each set releases one wait */
#define WIPC_EVENT_FLAG_INITIAL_SET  0x2u /**< the event starts set */

/** Creates the named event `name`, not set unless WIPC_EVENT_FLAG_INITIAL_SET, auto-reset unless
 *  WIPC_EVENT_FLAG_MANUAL_RESET, and gives its handle in *out_event (0 on failure); close it with
 *  wipc_event_close or wipc_close. Since 1.1.
 *  `name`: a wipc name (1-128 characters of [A-Za-z0-9._-]: Windows "Local\wipc-event-<name>", POSIX
 *  the shm object "/wipc-<uid>-ev-<name>"), or a full object name used as given, to meet programs that
 *  do not use wipc: Windows "Local\<rest>" or "Global\<rest>" (Global\ needs SeCreateGlobalPrivilege
 *  to create), POSIX "/<rest>" (a shm_open name); at most 255 bytes, <rest> non-empty without '\'
 *  (Windows) or '/' (POSIX) or control characters.
 *  The name must not exist yet: an existing object is refused, never adopted (POSIX: a wipc event whose
 *  creator died is reclaimed first).
 *  `security_descriptor`: Windows, an SDDL string (UTF-8) for the event's DACL; NULL = owner-only
 *  (SYSTEM and the current user, like every object the library creates). POSIX: must be NULL (the
 *  object is mode 0600 and openers must be of the same user).
 *  Windows: CreateEventW(DACL, manual, initial, name). POSIX: shm_open(O_CREAT | O_EXCL, 0600) +
 *  ftruncate to 64 bytes + pwrite of the header + mmap; the event is a futex word in it (layout in
 *  docs/PROTOCOL.md, "Named events"); closing the creator's handle removes the name (openers keep their
 *  mapping), and only the creator ever removes it.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (name or out_event NULL, bad name, unknown flags, bad SDDL,
 *  POSIX: an SDDL given), WIPC_E_ADDR_IN_USE (the name exists), WIPC_E_ACCESS_DENIED (the OS refused,
 *  e.g. Global\ without the privilege), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_event_create(const char *name, uint32_t flags, const char *security_descriptor, wipc_handle *out_event);

/** Opens the existing named event `name` (a wipc name or a full object name, as for
 *  wipc_event_create) made by any process of this user - wipc_event_create, or, under a full name,
 *  another program: Windows CreateEventW, POSIX a 64-byte shm object laid out as docs/PROTOCOL.md
 *  says. *out_event receives the handle (0 on failure). `flags`: none defined, pass 0. Since 1.1.
 *  Windows: OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE). POSIX: shm_open(O_RDWR) + mmap; the object
 *  is untrusted: it must belong to this user and be exactly 64 bytes (fstat, read once) with a valid
 *  header (pread, read once) before it is mapped; an object its creator has not finished is waited for
 *  up to one second.
 *  Returns WIPC_OK, WIPC_E_INVALID_ARG (name or out_event NULL, bad name, flags not 0),
 *  WIPC_E_NOT_FOUND (no object of that name), WIPC_E_PROTOCOL (the name holds something that is not
 *  an event: Windows another type of object; POSIX wrong size, magic, version or flags),
 *  WIPC_E_ACCESS_DENIED (DACL, or another user's object), WIPC_E_NO_MEMORY, WIPC_E_SYSTEM.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_event_open(const char *name, uint32_t flags, wipc_handle *out_event);

/** Sets the event: a manual-reset event releases every wait until wipc_event_reset; an auto-reset
 *  event releases one wait (of any process), then is not set again. Setting a set event does nothing.
 *  Never waits. Windows: SetEvent. POSIX: the word 0 -> 1 (compare-exchange) + FUTEX_WAKE. Since 1.1.
 *  Returns WIPC_OK, WIPC_E_BAD_HANDLE (not an event handle: closed, stale or another kind),
 *  WIPC_E_PROTOCOL (POSIX: the shared word holds neither 0 nor 1; it is left as it is),
 *  WIPC_E_SYSTEM.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_event_set(wipc_handle ev);

/** Resets the event to not set (a no-op when it is not set). Windows: ResetEvent. POSIX: the word -> 0.
 *  Since 1.1. Returns WIPC_OK, WIPC_E_BAD_HANDLE, WIPC_E_PROTOCOL (POSIX: corrupt word, left as it is),
 *  WIPC_E_SYSTEM.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_event_reset(wipc_handle ev);

/** Waits up to `timeout_ms` milliseconds (WIPC_INFINITE = forever, 0 = only look) for the event to be
 *  set; an auto-reset event is reset by the wait that takes it (one wait per set), a manual-reset event
 *  stays set. A set that came before the wait is not lost. Several threads (and processes) may wait at
 *  once. wipc_close / wipc_event_close of `ev` from another thread ends the wait with WIPC_E_CLOSED.
 *  Windows: WaitForMultipleObjects(the event, the handle's private cancel event). POSIX: the word is
 *  read once per check (1 = set: taken with compare-exchange 1 -> 0 when auto-reset), else
 *  FUTEX_WAIT in slices of at most 250 ms. Since 1.1.
 *  Returns WIPC_OK (the event was set), WIPC_E_TIMEOUT (not set in time), WIPC_E_INVALID_ARG (timeout
 *  below -1), WIPC_E_BAD_HANDLE, WIPC_E_CLOSED (the handle was closed while the call waited),
 *  WIPC_E_PROTOCOL (POSIX: the shared word holds neither 0 nor 1), WIPC_E_SYSTEM.
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_event_wait(wipc_handle ev, int32_t timeout_ms);

/** Closes an event handle: wipc_close restricted to WIPC_KIND_EVENT handles (wipc_close and
 *  wipc_shutdown close event handles too). Waits on it in other threads return WIPC_E_CLOSED. Windows:
 *  CloseHandle (the event goes with its last handle in any process). POSIX: munmap; the creator's
 *  close removes the name (shm_unlink) if it still names its object - a foreign name only ever by the
 *  process that created it. Since 1.1.
 *  Returns WIPC_OK, WIPC_E_BAD_HANDLE (not an event handle: closed, stale or another kind; nothing is
 *  closed).
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_event_close(wipc_handle ev);

/** @} */

/* ---- write-behind (since 1.1) ------------------------------------------------------- */
/** @addtogroup wipc_pipe
 *  @{ */

/** Waits until every frame queued on `conn` by write-behind (WIPC_PIPE_WRITE_BEHIND) is written into the
 *  pipe - handed to the OS (POSIX send() on the AF_UNIX socket; Windows WriteFile completed), not yet
 *  read by the peer. Frames other threads queue while it waits are waited for too.
 *  @param conn        a pipe connection (wipc_pipe_connect / wipc_pipe_accept), or any handle that sends:
 *                     without write-behind nothing is ever queued and it returns WIPC_OK at once
 *                     (shm channels; replies queued from callbacks are not waited for).
 *  @param timeout_ms  milliseconds to wait, 0 = only check, WIPC_INFINITE = no limit.
 *  Thread: any thread, including a callback (it only waits on the queue, which the library's I/O
 *  thread drains); several threads may flush at once.
 *  @return WIPC_OK (nothing queued: everything sent before the call is in the pipe),
 *  WIPC_E_TIMEOUT (frames still queued after timeout_ms; they stay queued and are written later),
 *  WIPC_E_DISCONNECTED (the connection ended with frames queued, or a queued frame could not be written
 *  and was dropped: see WIPC_PIPE_WRITE_BEHIND), WIPC_E_CLOSED (the handle was closed while waiting),
 *  WIPC_E_BAD_HANDLE, WIPC_E_NOT_SUPPORTED (a pipe server, region, named event or msg endpoint),
 *  WIPC_E_INVALID_ARG (timeout_ms below -1).
 *  @since 1.1 */
WIPC_API wipc_status WIPC_CALL wipc_flush(wipc_handle conn, int32_t timeout_ms);

/** @} */

/* Option structs grow by appending fields (struct_size, top of this file). The 1.0 entry points wipc_*_options_init write
 * only the 1.0 layout, because a program built against 1.0 passes a struct of that size. C code
 * compiled against this header gets the size-aware form instead, with its own sizeof; define
 * WIPC_NO_INIT_SIZE_MACROS to call the 1.0 entry points directly. Since 1.1. */
#ifndef WIPC_NO_INIT_SIZE_MACROS
/** wipc_pipe_options_init for C callers: wipc_pipe_options_init_size with the caller's sizeof. Since 1.1. */
#define wipc_pipe_options_init(o) wipc_pipe_options_init_size((o), (uint32_t)sizeof *(o))
/** wipc_shm_options_init for C callers: wipc_shm_options_init_size with the caller's sizeof. Since 1.1. */
#define wipc_shm_options_init(o)  wipc_shm_options_init_size((o), (uint32_t)sizeof *(o))
/** wipc_msg_options_init for C callers: wipc_msg_options_init_size with the caller's sizeof. Since 1.1. */
#define wipc_msg_options_init(o)  wipc_msg_options_init_size((o), (uint32_t)sizeof *(o))
#endif

/** wipc_pipe_options.max_instances value for a server with no connection count limit (Windows:
 *  CreateNamedPipeW's PIPE_UNLIMITED_INSTANCES, the same number). Since 1.1 (in 1.0, 255 meant at most
 *  255 connections at a time). */
#define WIPC_PIPE_UNLIMITED_INSTANCES 255u

#ifdef __cplusplus
}
#endif

/* clang-format on */
#endif /* WIPC_H */
