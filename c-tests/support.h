/*
 * support.h - portable helpers for the wipc cmocka tests and the wipc_peer program:
 * child processes (spawn / kill / wait / READY line), threads, time, unique names, and the
 * status-checking assertion macros used by the test files.
 *
 * Linux: posix_spawn, SIGKILL, waitpid, pthreads. Windows: CreateProcessW, TerminateProcess,
 * WaitForSingleObject, CreateThread. Nothing here uses cmocka, so wipc_peer links it too.
 */
#ifndef WIPC_TEST_SUPPORT_H
#define WIPC_TEST_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "wipc.h"

/* The platform headers the tests and peers use (WIN32_LEAN_AND_MEAN: c-tests/CMakeLists.txt). */
#ifdef _WIN32
#  include <windows.h>
#else
#  include <unistd.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Iteration counts are smaller under Wine (roughly 10x slower). */
#ifdef _WIN32
#  define WT_SCALE(linux_n, windows_n) (windows_n)
#else
#  define WT_SCALE(linux_n, windows_n) (linux_n)
#endif

/* ---- time -------------------------------------------------------------------------------------- */

uint64_t wt_now_ms(void);
double wt_now_us(void); /* a finer monotonic clock (QueryPerformanceCounter / CLOCK_MONOTONIC) */
void wt_sleep_ms(unsigned ms);

/* ---- names ------------------------------------------------------------------------------------- */

/** Writes a name unique to this process and call ("wt-<pid>-<counter>-<tag>") into buf; returns buf. */
const char *wt_unique_name(char *buf, size_t cap, const char *tag);

/** A path for a raw (non-wipc) server: Linux an absolute socket path in /tmp, Windows a full pipe
 *  path "\\.\pipe\wt-raw-<pid>-<n>". Returns buf. */
const char *wt_raw_path(char *buf, size_t cap);

#ifndef _WIN32
/** The library's POSIX runtime directory as it is named now: "$XDG_RUNTIME_DIR/wipc" when that is an
 *  absolute path, else "/tmp/wipc-<euid>". A static buffer. */
const char *wt_run_dir(void);
#endif

/** Fills buf with a deterministic byte pattern derived from seed. */
void wt_fill(void *buf, size_t n, uint32_t seed);

/** Returns 1 if buf holds the pattern wt_fill(seed) would write, else 0. */
int wt_check(const void *buf, size_t n, uint32_t seed);

/* ---- threads ----------------------------------------------------------------------------------- */

typedef struct wt_thread wt_thread;
typedef void *(*wt_thread_fn)(void *arg);

/** Starts a thread; aborts the process if it cannot. */
wt_thread *wt_thread_start(wt_thread_fn fn, void *arg);
/** Joins with a bound: returns 0 and frees the thread, or -1 if it still runs after timeout_ms. */
int wt_thread_join_timeout(wt_thread *t, int timeout_ms, void **out_result);
/** Joins or, if the thread hangs past timeout_ms, prints "HANG: what" and ends the process with
 *  exit code 3 (a hang is a failure, and continuing would let the thread use freed stack memory). */
void *wt_thread_join_or_die(wt_thread *t, int timeout_ms, const char *what);

/* ---- processes --------------------------------------------------------------------------------- */

typedef struct wt_proc wt_proc;

/** Names the peer program of this suite: `program` (".exe" added on Windows), looked up next to this
 *  executable when $WIPC_PEER is not set. Default "wipc_peer". Call at the start of main(). */
void wt_use_peer(const char *program);

/** Path of the peer program: $WIPC_PEER, else the wt_use_peer program next to this executable. */
const char *wt_peer_path(void);

/** Spawns wipc_peer with the given arguments (argv[0] excluded, NULL-terminated), its stdout piped
 *  to us and its stderr inherited. Returns NULL on failure (reason on stderr). */
wt_proc *wt_spawn_peer(const char *const *args);

/** Reads one line from the child's stdout (without the newline). 0 = ok, -1 = timeout/EOF. */
int wt_proc_read_line(wt_proc *p, char *buf, size_t cap, int timeout_ms);

/** Reads lines until one is "READY". 0 = ok, -1 = timeout/EOF (the child died or never got ready). */
int wt_proc_wait_ready(wt_proc *p, int timeout_ms);

/** The child's process id (as GetCurrentProcessId / getpid see it in the child). */
uint32_t wt_proc_pid(const wt_proc *p);

/** Kills the child at once (SIGKILL / TerminateProcess). 0 = ok. */
int wt_proc_kill(wt_proc *p);

/** Waits up to timeout_ms for the child to exit. 0 = exited (*exit_code set; a signal gives 128+sig),
 *  -1 = still running. */
int wt_proc_wait(wt_proc *p, int timeout_ms, int *exit_code);

/** Kills the child if it still runs, reaps it, closes the pipe, frees p. NULL is ignored. */
void wt_proc_free(wt_proc *p);

/** wt_proc_free for every child not freed yet (a test that failed half-way); returns how many.
 *  Also runs at exit. Windows children are in a kill-on-close job object as well; Linux peers ask
 *  for SIGKILL when their parent dies (PR_SET_PDEATHSIG). */
int wt_kill_all_peers(void);

/* ---- status helpers ---------------------------------------------------------------------------- */

/** Copies wipc_last_error_message() of the calling thread into buf (it must be read before any
 *  other wipc call). Returns buf. */
const char *wt_last_error(char *buf, size_t cap);

/* ---- helper peer programs ---- */
/* Prints the "READY" line a test waits for (flushed). */
void wt_peer_ready(void);
/* Prints "<prog>: <what>: <status name> (<n>): <last error>" to stderr. */
void wt_peer_report(const char *prog, const char *what, wipc_status s);
/* Sleeps forever (until killed). */
void wt_peer_block_forever(void);
/* The start of a peer's main(): Linux asks for SIGKILL when the parent (the test) dies, even if it
 * is killed (a hang, a ctest timeout); -1 if the parent is gone already (exit 2). Windows: 0 (the
 * tests' job object kills the peers). */
int wt_peer_die_with_parent(void);
/* The end of a command that holds something: s is what `what` returned; not WIPC_OK: reported,
 * returns 2 (setup failure); else prints READY and blocks forever (to be killed). */
int wt_peer_hold(const char *prog, const char *what, wipc_status s);
/* wipc_pipe_connect with WIPC_PIPE_WAIT_FOR_SERVER (1.1): for clients that may start before their
 * server (peers, restarts); a name nobody serves is otherwise WIPC_E_NOT_FOUND at once. */
wipc_status wt_connect_waiting(const char *name, int32_t timeout_ms, wipc_handle *out);
/* wt_peer_hold after wipc_pipe_connect(NAME) (10 s) / wipc_pipe_listen(NAME). */
int wt_peer_pipe_hold(const char *prog, const char *name);
int wt_peer_pipe_squat(const char *prog, const char *name);
/* wt_peer_hold after wipc_shm_create(NAME) with 64 KiB rings (create) or wipc_shm_open(NAME) (10 s). */
int wt_peer_shm_hold(const char *prog, const char *name, int create);
/* Answers every request on h (wipc_reply) and every plain message (wipc_send) with the same bytes
 * and type+1 until the other end goes: 0; 1 when a call fails (reported). buf holds cap bytes. */
int wt_peer_echo(const char *prog, wipc_handle h, void *buf, size_t cap);
/* Opens the shm channel NAME (10 s), prints READY and echoes (wt_peer_echo) until the creator goes.
 * 0, 1 (an echo failed) or 2 (cannot open). */
int wt_peer_shm_echo(const char *prog, const char *name);

#ifdef __cplusplus
}
#endif

/* Fails the current cmocka test with a printf-style message. The text is formatted with our own
 * snprintf (mingw: __USE_MINGW_ANSI_STDIO, so %zu and %llu work) and handed to cmocka as "%s". */
#define WT_FAIL(...)                                                                                                   \
  do {                                                                                                                 \
    char wt_fm_[4096];                                                                                                 \
    snprintf(wt_fm_, sizeof wt_fm_, __VA_ARGS__);                                                                      \
    fail_msg("%s", wt_fm_);                                                                                            \
  } while (0)

/* Assertion macros for cmocka test files (include cmocka.h before using them). They print the
 * status names and the library's last error message on failure. */
#define WT_ASSERT_STATUS(expr, expected)                                                                               \
  do {                                                                                                                 \
    wipc_status wt_s_ = (expr);                                                                                        \
    wipc_status wt_e_ = (expected);                                                                                    \
    if (wt_s_ != wt_e_) {                                                                                              \
      char wt_m_[1024];                                                                                                \
      wt_last_error(wt_m_, sizeof wt_m_);                                                                              \
      WT_FAIL("%s:%d: %s\n    returned %s (%d), expected %s (%d)\n    last error: \"%s\"", __FILE__, __LINE__, #expr,  \
              wipc_status_name(wt_s_), (int)wt_s_, wipc_status_name(wt_e_), (int)wt_e_, wt_m_);                        \
    }                                                                                                                  \
  } while (0)

#define WT_OK(expr) WT_ASSERT_STATUS(expr, WIPC_OK)

/* Expects a failing status AND a non-empty wipc_last_error_message(). */
#define WT_ASSERT_FAILS(expr, expected)                                                                                \
  do {                                                                                                                 \
    WT_ASSERT_STATUS(expr, expected);                                                                                  \
    const char *wt_lm_ = wipc_last_error_message();                                                                    \
    if (wt_lm_ == NULL || wt_lm_[0] == '\0')                                                                           \
      WT_FAIL("%s:%d: %s returned %s but wipc_last_error_message() is empty", __FILE__, __LINE__, #expr,               \
              wipc_status_name(expected));                                                                             \
  } while (0)

#define WT_CHECK(cond, ...)                                                                                            \
  do {                                                                                                                 \
    if (!(cond)) {                                                                                                     \
      char wt_cm_[2048];                                                                                               \
      snprintf(wt_cm_, sizeof wt_cm_, __VA_ARGS__);                                                                    \
      WT_FAIL("%s:%d: check failed: %s: %s", __FILE__, __LINE__, #cond, wt_cm_);                                       \
    }                                                                                                                  \
  } while (0)

#endif /* WIPC_TEST_SUPPORT_H */
