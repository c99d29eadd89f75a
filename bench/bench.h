/*
 * bench.h - the benchmark harness's shared pieces (bench/wipc_bench.c and the b_*.c case files):
 * clocks, statistics, JSON result lines, spawning this program again as the peer process, and the
 * case table.
 *
 * A case id is "<impl>.<metric>.<size>", e.g. "pipe.rtt.64", "raw.unix.tput.65536" is written
 * "unix.tput.65536" (impl names are unique across wipc, raw and peer libraries). Every case prints
 * exactly one JSON object on one stdout line: {"id":..., "p50":..., ...} or {"id":..., "error":...}.
 */
#ifndef WIPC_BENCH_H
#define WIPC_BENCH_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  include <windows.h>
#else
#  include <sys/types.h>
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- clocks ---- */
double bt_now_us(void);
void bt_sleep_ms(int ms);
uint32_t bt_pid(void);

/* ---- budgets: seconds a case measures for (after warm-up); scaled by --quick / WIPC_BENCH_SCALE ---- */
extern double bt_rtt_secs; /* per round-trip case */
extern double bt_tput_secs; /* per throughput case */
extern int bt_rtt_max; /* most samples kept per round-trip case */

/* ---- results ---- */
/* Round-trip samples (microseconds, n of them; sorted in place): p50, p99, p99.9, mean. */
void bt_emit_rtt(const char *id, double *us, int n);
/* One-way throughput: msgs messages of `size` bytes in `secs` seconds. */
void bt_emit_tput(const char *id, size_t size, uint64_t msgs, double secs);
/* Scaling: aggregate messages per second with `clients` client processes. */
void bt_emit_rate(const char *id, int clients, uint64_t msgs, double secs);
/* A failed measurement. */
void bt_emit_error(const char *id, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- round-trip driver ---- */
/* Calls once(ctx) repeatedly: a warm-up, then timed calls until bt_rtt_secs pass (or bt_rtt_max
 * samples). once returns 0, or nonzero to abort (the message is in `err`). Emits the result. */
typedef int (*bt_once_fn)(void *ctx, char *err, size_t cap);
int bt_rtt_loop(const char *id, bt_once_fn once, void *ctx);

/* ---- processes: this program again, "wipc_bench peer ARGS..." ---- */
typedef struct bt_child {
#if defined(_WIN32)
    PROCESS_INFORMATION pi;
#else
    pid_t pid;
#endif
    int live;
} bt_child;
/* Starts "self peer a1 a2 ..." (args NULL-terminated). 0 on success. */
int bt_spawn_peer(bt_child *c, const char *const *args);
/* Waits up to timeout_ms for the child; kills it after that. Returns its exit code, or -1. */
int bt_wait(bt_child *c, int timeout_ms);
void bt_kill(bt_child *c);
/* A unique endpoint name for this process: "wb-<pid>-<counter>-<tag>". */
const char *bt_name(char *buf, size_t cap, const char *tag);

/* The case currently measured (for the watchdog) and its child, killed if the case hangs. */
void bt_watch(const char *id, bt_child *child);
/* The usual peer of a case: "self peer IMPL METRIC NAME SIZE", watched for the case `id`. 0 on success;
 * else the failure is emitted. */
struct bt_case;
int bt_start_peer(const struct bt_case *bc, const char *id, const char *name, bt_child *child);
/* bt_start_peer with a fresh name (bt_name(name, cap, IMPL)), for cases whose peer makes the endpoint. */
int bt_start_named_peer(const struct bt_case *bc, const char *id, char *name, size_t cap, bt_child *child);

/* ---- case table ---- */
typedef struct bt_case {
    const char *impl; /* "pipe", "unix", ... */
    const char *metric; /* "rtt", "tput", "rate" */
    size_t size; /* bytes, or clients for "rate" */
    int (*run)(const struct bt_case *c, const char *id);
    int (*peer)(int argc, char **argv); /* peer entry, argv after "peer IMPL" */
} bt_case;

/* Each b_*.c file provides its cases (NULL-terminated list). */
const bt_case *const *bt_cases_wipc(void);
const bt_case *const *bt_cases_raw(void);
const bt_case *const *bt_cases_peers(void);
const bt_case *const *bt_cases_scale(void);

/* Defines `const bt_case *const *fn(void)`, the NULL-terminated list of the array `cases`. */
#define BT_CASE_LIST(fn, cases)                                                                                        \
  const bt_case *const *fn(void)                                                                                       \
  {                                                                                                                    \
    static const bt_case *list[sizeof cases / sizeof cases[0] + 1];                                                    \
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)                                                        \
      list[i] = &cases[i];                                                                                             \
    return list;                                                                                                       \
  }

/* common payload helpers */
void *bt_alloc(size_t size); /* zeroed, page-aligned, never NULL (exits) */
void bt_free(void *p);

#ifdef __cplusplus
}
#endif
#endif
