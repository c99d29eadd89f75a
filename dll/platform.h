/*
 * platform.h - the contract between the portable core (dll/common/) and a backend (dll/win32/,
 * dll/linux/). The core calls wipc__plat_*; a backend calls back into the core only through the
 * wipc__core_* functions declared at the end. Exactly one backend is compiled into the library.
 *
 * The files stack one way: dll/common/ calls down into the backend by name; the backend calls up only
 * through function pointers the core handed it (wipc__pipe_cfg.calls, wipc__msg_cfg.received,
 * wipc__list_calls), never by name, the way the lower layers of libuv and nng call their users. So no
 * core file that calls the backend is ever called by it. The few core functions a backend does call
 * by name (wipc__error, wipc__log, the deadline helpers of deadline.h, the name and byte-order helpers
 * below and in platform_msg.h) call nothing in the backend but its leaves (errors, locks, clocks).
 * A backend includes only dll/platform*.h of the core (scripts/lib/file_deps.py --check).
 *
 * Naming: wipc__plat_* = implemented by the backend; wipc__core_* = implemented by dll/common/.
 * Nothing here is exported from the library.
 */
#ifndef WIPC_PLATFORM_H
#define WIPC_PLATFORM_H

#include <stddef.h>
#include <stdint.h>
#include "wipc.h"

#if defined(_WIN32)
#  include "win32/plat_types.h" /* wipc__mutex, wipc__cond, wipc__thread as Win32 types */
#else
#  include "linux/plat_types.h" /* the same as pthread types */
#endif
#include "deadline.h" /* wipc__deadline, wipc__timeout */

#ifdef __cplusplus
extern "C" {
#endif

/* printf-style checking. mingw-w64 builds use the C99-conforming stdio (__USE_MINGW_ANSI_STDIO=1, set
 * by CMake), so formats are checked as gnu_printf there (%zu, %lld). */
#if defined(__MINGW32__)
#  define WIPC__PRINTF(f, a) __attribute__((format(gnu_printf, f, a)))
#elif defined(__GNUC__)
#  define WIPC__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define WIPC__PRINTF(f, a)
#endif

/* ---- threads, locks, time ---------------------------------------------------------------------- */

void wipc__mutex_init(wipc__mutex *m);
void wipc__mutex_destroy(wipc__mutex *m);
void wipc__mutex_lock(wipc__mutex *m);
void wipc__mutex_unlock(wipc__mutex *m);
void wipc__cond_init(wipc__cond *c);
void wipc__cond_destroy(wipc__cond *c);
void wipc__cond_signal(wipc__cond *c);
void wipc__cond_broadcast(wipc__cond *c);
/** Waits on `c` (m held) until woken or until `dl` (wipc__deadline_never() = no limit). Returns 0
 *  when woken (or spuriously: callers re-check their predicate), WIPC_E_TIMEOUT only once `dl` has
 *  passed on wipc__now_ms(). POSIX: pthread_cond_timedwait on CLOCK_MONOTONIC (the cond's clock);
 *  Windows: SleepConditionVariableSRW with the milliseconds left, again if it timed out early. */
int wipc__cond_wait_until(wipc__cond *c, wipc__mutex *m, wipc__deadline dl);

typedef void (*wipc__thread_fn)(void *arg);
/** Starts a joinable thread. Returns WIPC_OK or WIPC_E_SYSTEM (last error set). */
wipc_status wipc__thread_start(wipc__thread *t, wipc__thread_fn fn, void *arg);
void wipc__thread_join(wipc__thread *t);
/** A number identifying the calling thread (GetCurrentThreadId / gettid). */
uint64_t wipc__thread_self(void);

/** Monotonic milliseconds (GetTickCount64 / CLOCK_MONOTONIC). */
uint64_t wipc__now_ms(void);
/** Monotonic nanoseconds (QueryPerformanceCounter / CLOCK_MONOTONIC). */
uint64_t wipc__now_ns(void);
void wipc__sleep_ms(uint32_t ms);
/** Wall-clock milliseconds since 1970 UTC, coarse (a few ms) and cheap: no system call
 *  (CLOCK_REALTIME_COARSE through the vDSO / GetSystemTimeAsFileTime). */
int64_t wipc__unix_ms(void);
uint32_t wipc__getpid(void);

/* ---- errors ---------------------------------------------------------------------------------- */

/** The calling thread's last OS error code (GetLastError() / errno). */
int64_t wipc__os_error(void);
/** Writes the OS's text for `code` (FormatMessageW -> UTF-8 / strerror_r) into buf, NUL-terminated,
 *  trailing newline and period stripped. */
void wipc__os_error_text(int64_t code, char *buf, size_t cap);
/** Maps an OS error code to the nearest wipc_status (ERROR_FILE_NOT_FOUND/ENOENT -> NOT_FOUND, ...). */
wipc_status wipc__os_error_status(int64_t code);

/* ---- pipe transport -------------------------------------------------------------------------- */

typedef struct wipc__pipe wipc__pipe; /* one connected pipe: a HANDLE / an fd, backend-owned */
typedef struct wipc__listener wipc__listener; /* a served name: pipe instances / a listening socket */
struct wipc__conn; /* core object, opaque to the backend */
struct wipc__server; /* core object, opaque to the backend */

/** The core's pipe entry points: the wipc__core_* functions of the same names (declared at the end,
 *  where their contracts are). The core hands them over in wipc__pipe_cfg.calls; the backend keeps
 *  the pointer with each listener and pipe and calls up only through it. */
typedef struct wipc__pipe_calls {
    int (*read)(struct wipc__conn *conn, const uint8_t *data, size_t n, int end_of_message);
    void (*write_done)(struct wipc__conn *conn, wipc_status status, size_t written);
    void (*write_kick)(struct wipc__conn *conn);
    void (*hup)(struct wipc__conn *conn);
    void (*closed)(struct wipc__conn *conn, wipc_status why);
    void (*accepted)(struct wipc__server *server, wipc__pipe *p);
} wipc__pipe_calls;

/** What the core asks of a pipe, already validated. */
typedef struct wipc__pipe_cfg {
    uint32_t flags; /* WIPC_PIPE_* */
    uint32_t max_instances; /* 1..255 */
    uint32_t buffer_size; /* bytes; 0 = the backend's default */
    const char *sddl; /* Windows: DACL as SDDL, NULL = owner-only (current user + SYSTEM) */
    const wipc__pipe_calls *calls; /* the core's entry points; valid for the life of the library */
} wipc__pipe_cfg;

/** One piece of a gathered write. */
typedef struct wipc__iov {
    const void *base;
    size_t len;
} wipc__iov;

/** Serves `name` (a validated wipc name, or a full path for WIPC_PIPE_RAW / `\\` names). From now on
 *  the backend's I/O thread calls wipc__core_accepted(server, pipe) for each new client. Squatting:
 *  a name already served gives WIPC_E_ADDR_IN_USE. Sets the last error on failure. */
wipc_status wipc__plat_listen(const char *name, const wipc__pipe_cfg *cfg, struct wipc__server *server,
                              wipc__listener **out);
/** Stops accepting. After it returns, wipc__core_accepted is never called for this listener again,
 *  and the listener's memory is freed. Pending (unaccepted) instances are closed. */
void wipc__plat_listener_close(wipc__listener *l);
/** Tells the listener that one of its accepted connections went away, so it may offer a new instance
 *  (Windows: create another pending ConnectNamedPipe instance). May be called from any thread. */
void wipc__plat_listener_slot_free(wipc__listener *l);

/** Connects to `name`, waiting up to `timeout_ms` for a server that is absent or busy. Returns
 *  WIPC_OK with *out (not yet reading), WIPC_E_NOT_FOUND (never appeared), WIPC_E_TIMEOUT (stayed
 *  busy), WIPC_E_ACCESS_DENIED, WIPC_E_SYSTEM. Sets the last error on failure. */
wipc_status wipc__plat_connect(const char *name, const wipc__pipe_cfg *cfg, int32_t timeout_ms, wipc__pipe **out);

/** Peer credentials of a connected pipe (GetNamedPipeClient/ServerProcessId / SO_PEERCRED). */
void wipc__plat_pipe_peer(wipc__pipe *p, uint32_t *pid, uint32_t *uid);

/** Starts reading the pipe for `conn` on the backend's I/O thread ("I/O mode"): it calls
 *  wipc__core_read(conn, ...) for every chunk read. When wipc__core_read returns 0 the I/O thread stops
 *  reading ("caller mode": the core reads on its callers' threads with wipc__plat_pipe_read) until
 *  wipc__plat_pipe_io. Exactly once at the end - EOF or error while in I/O mode, or after
 *  wipc__plat_pipe_shutdown / wipc__plat_pipe_stop in either mode - the I/O thread calls
 *  wipc__core_closed(conn, status); after that the backend never touches `conn` again.
 *  Returns WIPC_OK, or an error and then never calls back. */
wipc_status wipc__plat_pipe_start(wipc__pipe *p, struct wipc__conn *conn);

/** Stops (paused != 0) or resumes reading in I/O mode: back-pressure when the core's queue is full.
 *  No effect in caller mode. Any thread. */
void wipc__plat_pipe_pause(wipc__pipe *p, int paused);

/** Caller mode -> I/O mode: the I/O thread reads the pipe again (callbacks were set). Any thread. */
void wipc__plat_pipe_io(wipc__pipe *p);

/** Caller mode: reads up to `cap` bytes on the calling thread, waiting up to `timeout_ms` (0 = only
 *  what is there, WIPC_INFINITE = forever). One thread at a time (the core's reader role), never
 *  while the I/O thread reads. Returns WIPC_OK with *n > 0, WIPC_E_TIMEOUT, WIPC_E_DISCONNECTED (EOF,
 *  broken pipe), WIPC_E_CLOSED (wipc__plat_pipe_shutdown, also while blocked), or another error (last
 *  error set). POSIX: one recv() (SO_RCVTIMEO for the timeout); Windows: one overlapped ReadFile
 *  waited on its own event (no completion packet) and the pipe's cancel event. */
wipc_status wipc__plat_pipe_read(wipc__pipe *p, void *buf, size_t cap, int32_t timeout_ms, size_t *n);

/** Like wipc__plat_pipe_read, but scatters what one read returns over a[0..alen) then b[0..blen)
 *  (POSIX: recvmsg with two iovecs), so that a large frame's body lands in the caller's buffer.
 *  WIPC_E_NOT_SUPPORTED if the backend cannot (Windows: pipes have no scatter read); the core then
 *  reads with wipc__plat_pipe_read. */
wipc_status wipc__plat_pipe_read2(wipc__pipe *p, void *a, size_t alen, void *b, size_t blen, int32_t timeout_ms,
                                  size_t *n);

/** The core has seen the end of the connection (caller mode): the I/O thread reports
 *  wipc__core_closed soon. Idempotent, any thread, also from inside a wipc__core_* callback. */
void wipc__plat_pipe_stop(wipc__pipe *p);

/** Writes all of iov[0..n) in order, blocking up to `timeout_ms` (WIPC_INFINITE = forever).
 *  Only one thread writes to a pipe at a time (the core serialises). *written = bytes written even on
 *  failure. Returns WIPC_OK, WIPC_E_TIMEOUT, WIPC_E_DISCONNECTED (broken pipe / EPIPE),
 *  WIPC_E_CLOSED (wipc__plat_pipe_shutdown was called), WIPC_E_SYSTEM. */
wipc_status wipc__plat_pipe_write(wipc__pipe *p, const wipc__iov *iov, size_t n, int32_t timeout_ms, size_t *written);

/** Starts an asynchronous write of buf[0..len) for the connection's write queue (async sends, replies
 *  from callbacks). The core keeps buf valid and unchanged until the completion. At most one such write
 *  per pipe at a time, and none while a blocking wipc__plat_pipe_write runs (the core's writer
 *  exclusion covers both). Returns WIPC_OK if started: then exactly once, on the backend's I/O thread and
 *  never from inside this call, the backend calls wipc__core_write_done(conn, status, written) with
 *  WIPC_OK (all len bytes written), WIPC_E_DISCONNECTED (broken pipe), WIPC_E_CANCELLED (after
 *  wipc__plat_pipe_write_cancel), WIPC_E_CLOSED (after wipc__plat_pipe_shutdown) or WIPC_E_SYSTEM, and
 *  `written` = the bytes that reached the pipe. Returns an error if nothing was started (no callback).
 *  Only after wipc__plat_pipe_start. POSIX: send(MSG_DONTWAIT) then EPOLLOUT; Win32: overlapped
 *  WriteFile completed on the IOCP. */
wipc_status wipc__plat_pipe_write_start(wipc__pipe *p, const void *buf, size_t len);
/** Has the backend's I/O thread call wipc__core_write_kick(conn) soon, never from inside this call
 *  (write-behind: the I/O thread, not the sender, writes the frames queued meanwhile). Requests made
 *  before that call runs may be merged into one. Any thread, only after wipc__plat_pipe_start.
 *  Returns WIPC_OK, or an error (nothing will be called: the caller writes itself). POSIX: the epoll
 *  thread's posted list (one eventfd write); Win32: PostQueuedCompletionStatus to the library's port. */
wipc_status wipc__plat_pipe_write_kick(wipc__pipe *p);
/** Asks the write in flight to stop (CancelIoEx / stop waiting for EPOLLOUT); its completion comes as
 *  usual, WIPC_E_CANCELLED if it stopped early, WIPC_OK if it had finished. Any thread, idempotent. */
void wipc__plat_pipe_write_cancel(wipc__pipe *p);

/** Ends all I/O on the pipe from any thread: blocked writers and a blocked wipc__plat_pipe_read return
 *  WIPC_E_CLOSED, the I/O thread's reading ends, and wipc__core_closed is called soon after on the I/O
 *  thread (if started). Idempotent. */
void wipc__plat_pipe_shutdown(wipc__pipe *p);

/** Frees the pipe (CloseHandle / close). Called once, after wipc__core_closed (or if never started),
 *  when no thread uses `p` any more. */
void wipc__plat_pipe_free(wipc__pipe *p);

/* ---- pipe: large messages through a shared section (dll/common/pipe/pipe_bulk.c) ---------------------- */

typedef struct wipc__bulk_section wipc__bulk_section; /* a mapped bulk section, backend-owned */

/** Creates (create != 0: owner_pid is this process; owner-only: POSIX mode 0600, Windows owner-only
 *  DACL; fails if it exists) or opens (owner_uid: POSIX, the uid that must own it) the bulk section
 *  `number` of process `owner_pid`, `size` bytes, read-write, and maps it at *base. POSIX names it
 *  /wipc-<uid>-pb-<pid>-<number> and unlinks the name once the peer has opened it; Windows
 *  Local\wipc-pb-<pid>-<number>, with an auto-reset event Local\wipc-pb-<pid>-<number>-ev for
 *  wipc__plat_bulk_wait / _wake. Sets the last error on failure. */
wipc_status wipc__plat_bulk_section(int create, uint32_t owner_pid, uint32_t owner_uid, uint32_t number, uint64_t size,
                                    void **base, wipc__bulk_section **out);
/** Unmaps and releases a section (the creator's name goes too). */
void wipc__plat_bulk_close(wipc__bulk_section *s);
/** 0 when the pipe's peer has certainly hung up, else 1. Cheap, any thread, no effect on reading. */
int wipc__plat_pipe_alive(wipc__pipe *p);
/** 1 when the pipe keeps message boundaries (a Windows message-mode pipe: a zero-length WriteFile is
 *  a 0-byte message), 0 for a byte stream (POSIX AF_UNIX stream, a Windows byte-type pipe). */
int wipc__plat_pipe_message_mode(wipc__pipe *p);
/** 1 if large messages may go through bulk sections with the peer of `p`: the environment variable
 *  WIPC_PIPE_BULK is not "0", and the peer can open our sections as we can open its (POSIX: the same
 *  uid, already checked with SO_PEERCRED; Windows: the peer process runs as the same user in the same
 *  session, since Local\ names are per session and the sections' DACL is owner-only). */
int wipc__plat_pipe_bulk_ok(wipc__pipe *p);
/** Waits up to `ms` milliseconds while *word (a word in the section s) still equals `val`, or until a
 *  wipc__plat_bulk_wake on s (POSIX: a futex on the shared word; Windows: the section's event, so a
 *  wake may be spurious: callers re-check). */
void wipc__plat_bulk_wait(wipc__bulk_section *s, _Atomic uint32_t *word, uint32_t val, int32_t ms);
void wipc__plat_bulk_wake(wipc__bulk_section *s, _Atomic uint32_t *word);

/** Server side of a connection: ImpersonateNamedPipeClient / RevertToSelf. POSIX: WIPC_E_NOT_SUPPORTED. */
wipc_status wipc__plat_pipe_impersonate(wipc__pipe *p);
wipc_status wipc__plat_revert_to_self(void);

/** Stops the backend's I/O thread (wipc_shutdown, after every handle was closed). It restarts lazily. */
void wipc__plat_shutdown(void);

/* ---- called by backends, implemented in dll/common/ ------------------------------------------- */

/* The pipe entry points: a backend reaches them through wipc__pipe_cfg.calls (wipc__pipe_calls). */

/** Bytes read from the pipe of `conn` in I/O mode. `end_of_message` is 1 when the chunk ends an
 *  OS-level message (Windows message-mode read completed without ERROR_MORE_DATA; POSIX: always 1).
 *  I/O thread only. Returns 1 to go on reading, 0 to stop: caller mode from now on (see
 *  wipc__plat_pipe_start). */
int wipc__core_read(struct wipc__conn *conn, const uint8_t *data, size_t n, int end_of_message);
/** (core) The write started by wipc__plat_pipe_write_start ended. I/O thread. */
void wipc__core_write_done(struct wipc__conn *conn, wipc_status status, size_t written);
/** (core) The I/O thread's turn asked for by wipc__plat_pipe_write_kick. I/O thread. */
void wipc__core_write_kick(struct wipc__conn *conn);
/** Caller mode: the I/O thread noticed that the peer hung up (or the pipe failed) while it was not
 *  reading; the core reads what is left and the end. Optional for a backend (POSIX: EPOLLRDHUP). */
void wipc__core_hup(struct wipc__conn *conn);
/** The pipe of `conn` ended: `why` = WIPC_E_DISCONNECTED (EOF, broken pipe), WIPC_E_CLOSED (after
 *  shutdown), or another error. Called exactly once per started pipe. */
void wipc__core_closed(struct wipc__conn *conn, wipc_status why);
/** A client connected to `server`; the core takes ownership of `p` (it frees it). I/O thread. */
void wipc__core_accepted(struct wipc__server *server, wipc__pipe *p);

/** Sets the calling thread's last error: `status`, OS code `os_err` (0 = none) and a printf-style
 *  message. The OS text for os_err is appended. Returns `status` for `return wipc__error(...)`. */
wipc_status wipc__error(wipc_status status, int64_t os_err, const char *fmt, ...) WIPC__PRINTF(3, 4);
/** Logs a line through the user's log callback, if any and if `level` is high enough. */
void wipc__log(int32_t level, const char *fmt, ...) WIPC__PRINTF(2, 3);

#ifdef __cplusplus
}
#endif

/* The shared-memory and window-message transports' parts of the contract, and the wire constants and
 * pure helpers both sides share. */
#include "platform_shm.h"
#include "platform_msg.h"
#include "platform_wire.h"

#endif /* WIPC_PLATFORM_H */
