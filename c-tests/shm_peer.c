/*
 * shm_peer.c - the helper process of the cross-process shm tests (C and Python).
 *
 *   shm_peer stress-create NAME N SEED CAPACITY [zc]
 *   shm_peer stress-open   NAME N SEED CAPACITY [zc]
 *       the two ends of the stress test: the creator prints READY once the channel exists. Each side
 *       sends N messages (a thread) while it receives N (main thread), both directions at once.
 *       Message i of a direction has type i, a size drawn from (SEED, direction, i) between 0 and
 *       CAPACITY/2 and a payload the receiver recomputes and compares: a lost, duplicated,
 *       reordered or corrupted message fails. "zc": wipc_shm_reserve/commit + wipc_shm_peek/release.
 *       Prints "DONE N" and exits 0; 1 on a mismatch or error (details on stderr).
 *   shm_peer echo NAME
 *       opens NAME (waiting up to 10 s), prints READY, answers every request (wipc_reply) and every
 *       plain message (wipc_send) with the same bytes and type+1, until the creator goes. Exit 0.
 *   shm_peer hold NAME
 *       opens NAME, prints READY, then never reads (to be killed).
 *   shm_peer create-hold NAME
 *       creates NAME (64 KiB rings), prints READY, then never reads (to be killed).
 *   shm_peer send NAME TEXT [HOLD_MS]
 *       opens NAME (waiting up to 10 s), sends TEXT (type 7; "-" sends nothing), prints READY, keeps
 *       the channel open HOLD_MS (default 0) and closes it: a short-lived opener. Exit 0.
 *   shm_peer send-big NAME SIZE
 *       opens NAME, prints READY, then sends one SIZE-byte message (type 9, wt_fill seed 9; streamed
 *       through the ring in pieces when it is larger, or above 256 KiB) with a 60 s timeout: killed or
 *       stopped while it blocks mid-message. Exit 0.
 *   shm_peer serve-cb NAME [SPIN_US]
 *       creates NAME (spin_us SPIN_US, default 50) with callbacks that answer every request with the same bytes (from on_message),
 *       prints READY, exits 0 after the first opener leaves (WIPC_EVENT_DISCONNECTED; 120 s at most).
 *   shm_peer rtt NAME N SIZE GAP_US [cb]
 *       opens NAME, sends N SIZE-byte requests (after min(500, N/10) warm-up ones), GAP_US microseconds apart
 *       (0 = back to back), and prints "p50 X p99 Y mean Z" in microseconds. "cb": the opener has
 *       callbacks too (the reply reaches wipc_request through its reader thread).
 *   shm_peer flood NAME N SIZE
 *       opens NAME, sends N SIZE-byte messages back to back, then one request (answered after the
 *       creator's callbacks took them all), and prints "msgs_per_s X".
 *
 * Exit codes: 0 ok, 1 test failure, 2 setup failure, 64 usage.
 */
#include "support.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32 /* <windows.h>: support.h */
#  include <time.h>
#endif

#define PROG "shm_peer"

static int fail_status(const char *what, wipc_status s)
{
    wt_peer_report(PROG, what, s);
    return 1;
}

/* ---- stress ------------------------------------------------------------------------------------ */

static uint64_t mix(uint64_t x) /* splitmix64 */
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

typedef struct stress {
    wipc_handle h;
    long n;
    uint64_t seed;
    uint64_t capacity;
    int zc;
    int creator;
    int rc;
} stress;

static size_t msg_size(const stress *s, int dir, long i)
{
    return (size_t)(mix(s->seed * 4 + (uint64_t)dir + ((uint64_t)i << 8)) % (s->capacity / 2 + 1));
}

/* The payload of message i of direction dir: 8-byte words of a keyed sequence (tail bytes too). */
static void fill(uint8_t *p, size_t n, uint64_t key)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = mix(key + i);
        memcpy(p + i, &v, 8);
    }
    uint64_t v = mix(key + i);
    memcpy(p + i, &v, n - i);
}

static uint64_t msg_key(const stress *s, int dir, long i)
{
    return mix(s->seed ^ ((uint64_t)dir << 62) ^ (uint64_t)i) << 16;
}

static int check(const uint8_t *p, size_t n, uint64_t key, uint8_t *scratch)
{
    fill(scratch, n, key);
    return memcmp(p, scratch, n) == 0;
}

static void *stress_sender(void *arg)
{
    stress *s = (stress *)arg;
    int dir = s->creator ? 0 : 1;
    uint8_t *buf = (uint8_t *)malloc(s->capacity);
    for (long i = 0; i < s->n && buf; i++) {
        size_t n = msg_size(s, dir, i);
        wipc_status st;
        if (s->zc) {
            void *p = NULL;
            st = wipc_shm_reserve(s->h, n, &p, 20000);
            if (st == WIPC_OK) {
                fill((uint8_t *)p, n, msg_key(s, dir, i));
                st = wipc_shm_commit(s->h, (uint32_t)i, n);
            }
        } else {
            fill(buf, n, msg_key(s, dir, i));
            st = wipc_send(s->h, (uint32_t)i, buf, n, 20000);
        }
        if (st != WIPC_OK) {
            fprintf(stderr, "shm_peer: send of message %ld (%zu bytes) failed\n", i, n);
            s->rc = fail_status("send", st);
            break;
        }
    }
    free(buf);
    return NULL;
}

static int stress_receive(stress *s)
{
    int dir = s->creator ? 1 : 0;
    uint8_t *buf = (uint8_t *)malloc(s->capacity), *scratch = (uint8_t *)malloc(s->capacity);
    if (!buf || !scratch)
        return 2;
    for (long i = 0; i < s->n; i++) {
        const uint8_t *p = buf;
        size_t n = 0;
        uint32_t type = 0;
        wipc_status st = s->zc ? wipc_shm_peek(s->h, (const void **)&p, &n, &type, 20000)
                               : wipc_recv(s->h, buf, s->capacity, &n, &type, 20000);
        if (st != WIPC_OK)
            return fail_status("receive", st);
        size_t want = msg_size(s, dir, i);
        if (type != (uint32_t)i || n != want || !check(p, n, msg_key(s, dir, i), scratch)) {
            fprintf(stderr, "shm_peer: message %ld: type %u size %zu, expected type %ld size %zu%s\n", i,
                    (unsigned)type, n, i, want, type == (uint32_t)i && n == want ? " (payload corrupt)" : "");
            return 1;
        }
        if (s->zc && (st = wipc_shm_release(s->h)) != WIPC_OK)
            return fail_status("wipc_shm_release", st);
    }
    free(buf);
    free(scratch);
    return 0;
}

static int cmd_stress(int creator, const char *name, long n, uint64_t seed, uint64_t capacity, int zc)
{
    stress s = { 0, n, seed, capacity, zc, creator, 0 };
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.capacity = capacity;
    wipc_status st = creator ? wipc_shm_create(name, &o, &s.h) : wipc_shm_open(name, &o, 10000, &s.h);
    if (st != WIPC_OK)
        return fail_status(creator ? "wipc_shm_create" : "wipc_shm_open", st), 2;
    if (creator)
        wt_peer_ready();
    wt_thread *t = wt_thread_start(stress_sender, &s);
    int rc = stress_receive(&s);
    wt_thread_join_or_die(t, 120000, "stress sender");
    if (rc == 0)
        rc = s.rc;
    if (rc == 0) {
        printf("DONE %ld\n", n);
        fflush(stdout);
    }
    wipc_close(s.h);
    return rc;
}

/* ---- short-lived opener ---------------------------------------------------------------------- */

static int cmd_send(const char *name, const char *text, unsigned hold_ms)
{
    wipc_handle h = 0;
    wipc_status st = wipc_shm_open(name, NULL, 10000, &h);
    if (st != WIPC_OK)
        return fail_status("wipc_shm_open", st), 2;
    if (strcmp(text, "-") != 0 && (st = wipc_send(h, 7, text, strlen(text), 10000)) != WIPC_OK)
        return fail_status("wipc_send", st);
    wt_peer_ready();
    if (hold_ms)
        wt_sleep_ms(hold_ms);
    wipc_close(h);
    return 0;
}

static int cmd_send_big(const char *name, size_t size)
{
    wipc_handle h = 0;
    uint8_t *buf = (uint8_t *)malloc(size ? size : 1);
    wipc_status st = wipc_shm_open(name, NULL, 10000, &h);
    if (st != WIPC_OK || !buf)
        return fail_status("wipc_shm_open", st), 2;
    wt_fill(buf, size, 9);
    wt_peer_ready();
    if ((st = wipc_send(h, 9, buf, size, 60000)) != WIPC_OK)
        return fail_status("wipc_send", st);
    wipc_close(h);
    free(buf);
    return 0;
}

/* ---- round-trip measurement --------------------------------------------------------------------- */

static atomic_int g_disconnected;

static int32_t WIPC_CALL echo_cb(wipc_handle h, const wipc_message *m, void *user)
{
    (void)user;
    if (m->request_id)
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    return 0;
}

static void WIPC_CALL event_cb(wipc_handle h, int32_t ev, wipc_handle related, wipc_status st, void *user)
{
    (void)h;
    (void)related;
    (void)st;
    (void)user;
    if (ev == WIPC_EVENT_DISCONNECTED)
        atomic_store(&g_disconnected, 1);
}

static int cmd_serve_cb(const char *name, long spin_us)
{
    wipc_handle h = 0;
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    if (spin_us >= 0)
        o.spin_us = (uint32_t)spin_us;
    wipc_status st = wipc_shm_create(name, &o, &h);
    if (st != WIPC_OK || (st = wipc_set_callbacks(h, echo_cb, event_cb, NULL)) != WIPC_OK)
        return fail_status("wipc_shm_create / wipc_set_callbacks", st), 2;
    wt_peer_ready();
    uint64_t end = wt_now_ms() + 120000;
    while (!atomic_load(&g_disconnected) && wt_now_ms() < end)
        wt_sleep_ms(5);
    wipc_close(h);
    return atomic_load(&g_disconnected) ? 0 : 1;
}

static void pause_us(unsigned us)
{
#ifdef _WIN32
    Sleep(us >= 1000 ? us / 1000 : 1);
#else
    struct timespec ts = { us / 1000000u, (long)(us % 1000000u) * 1000L };
    nanosleep(&ts, NULL);
#endif
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static int cmd_rtt(const char *name, long n, size_t size, unsigned gap_us, int cb)
{
    wipc_handle h = 0;
    wipc_status st = wipc_shm_open(name, NULL, 10000, &h);
    if (st != WIPC_OK)
        return fail_status("wipc_shm_open", st), 2;
    if (cb && (st = wipc_set_callbacks(h, echo_cb, event_cb, NULL)) != WIPC_OK)
        return fail_status("wipc_set_callbacks", st), 2;
    uint8_t *req = (uint8_t *)calloc(1, size + 1), *resp = (uint8_t *)malloc(size + 1);
    double *t = (double *)malloc(sizeof *t * (size_t)(n > 0 ? n : 1));
    if (!req || !resp || !t || n <= 0)
        return 2;
    const long warm = n >= 5000 ? 500 : n / 10;
    for (long i = 0; i < n + warm; i++) {
        if (gap_us)
            pause_us(gap_us);
        size_t got = 0;
        double t0 = wt_now_us();
        if ((st = wipc_request(h, 1, req, size, resp, size + 1, &got, 10000)) != WIPC_OK)
            return fail_status("wipc_request", st);
        if (i >= warm)
            t[i - warm] = wt_now_us() - t0;
    }
    double sum = 0;
    for (long i = 0; i < n; i++)
        sum += t[i];
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("p50 %.1f p99 %.1f mean %.1f\n", t[n / 2], t[(long)((double)n * 0.99)], sum / (double)n);
    fflush(stdout);
    wipc_close(h);
    free(req);
    free(resp);
    free(t);
    return 0;
}

static int cmd_flood(const char *name, long n, size_t size)
{
    wipc_handle h = 0;
    wipc_status st = wipc_shm_open(name, NULL, 10000, &h);
    if (st != WIPC_OK)
        return fail_status("wipc_shm_open", st), 2;
    uint8_t *buf = (uint8_t *)calloc(1, size + 1);
    size_t got = 0;
    double t0 = wt_now_us();
    for (long i = 0; i < n; i++)
        if ((st = wipc_send(h, 2, buf, size, 10000)) != WIPC_OK)
            return fail_status("wipc_send", st);
    if ((st = wipc_request(h, 1, buf, size, buf, size + 1, &got, 10000)) != WIPC_OK)
        return fail_status("wipc_request", st);
    printf("msgs_per_s %.0f\n", (double)n / ((wt_now_us() - t0) / 1e6));
    fflush(stdout);
    wipc_close(h);
    free(buf);
    return 0;
}

/* Opener for test_shm_batch_wakeups: R rounds of K messages (type 5, payload {round, index}), each
 * checked in order, then an ack (type 6, payload the round); between rounds it blocks in wipc_recv
 * (spins, then sleeps on the ring's data word). Exits 0 when the creator closes. */
static int cmd_batches(const char *name, long k, long rounds)
{
    wipc_handle h = 0;
    wipc_status st = wipc_shm_open(name, NULL, 10000, &h);
    if (st != WIPC_OK)
        return fail_status("wipc_shm_open", st), 2;
    wt_peer_ready();
    for (long r = 0; r < rounds; r++) {
        for (long i = 0; i < k; i++) {
            uint32_t v[2] = { 0, 0 }, type = 0;
            size_t n = 0;
            if ((st = wipc_recv(h, v, sizeof v, &n, &type, 30000)) != WIPC_OK)
                return fail_status("wipc_recv (a wake-up was lost?)", st);
            if (type != 5 || n != sizeof v || v[0] != (uint32_t)r || v[1] != (uint32_t)i) {
                fprintf(stderr, "%s: round %ld message %ld: got type %u, %zu bytes, {%u, %u}\n", PROG, r, i,
                        (unsigned)type, n, (unsigned)v[0], (unsigned)v[1]);
                return 1;
            }
        }
        uint32_t ack = (uint32_t)r;
        if ((st = wipc_send(h, 6, &ack, sizeof ack, 30000)) != WIPC_OK)
            return fail_status("wipc_send(ack)", st);
    }
    uint8_t b[8];
    size_t n = 0;
    uint32_t type = 0;
    st = wipc_recv(h, b, sizeof b, &n, &type, 30000);
    wipc_close(h);
    return st == WIPC_E_DISCONNECTED ? 0 : fail_status("wipc_recv after the last round", st);
}

int main(int argc, char **argv)
{
    if (argc >= 7 - 1 && (strcmp(argv[1], "stress-create") == 0 || strcmp(argv[1], "stress-open") == 0))
        return cmd_stress(argv[1][7] == 'c', argv[2], strtol(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                          strtoull(argv[5], NULL, 10), argc > 6 && strcmp(argv[6], "zc") == 0);
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return wt_peer_shm_echo(PROG, argv[2]);
    if (argc == 3 && strcmp(argv[1], "hold") == 0)
        return wt_peer_shm_hold(PROG, argv[2], 0);
    if (argc == 3 && strcmp(argv[1], "create-hold") == 0)
        return wt_peer_shm_hold(PROG, argv[2], 1);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "send") == 0)
        return cmd_send(argv[2], argv[3], argc == 5 ? (unsigned)strtoul(argv[4], NULL, 10) : 0);
    if (argc == 4 && strcmp(argv[1], "send-big") == 0)
        return cmd_send_big(argv[2], (size_t)strtoull(argv[3], NULL, 10));
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "serve-cb") == 0)
        return cmd_serve_cb(argv[2], argc == 4 ? strtol(argv[3], NULL, 10) : -1);
    if ((argc == 6 || argc == 7) && strcmp(argv[1], "rtt") == 0)
        return cmd_rtt(argv[2], strtol(argv[3], NULL, 10), (size_t)strtoul(argv[4], NULL, 10),
                       (unsigned)strtoul(argv[5], NULL, 10), argc == 7 && strcmp(argv[6], "cb") == 0);
    if (argc == 5 && strcmp(argv[1], "batches") == 0)
        return cmd_batches(argv[2], strtol(argv[3], NULL, 10), strtol(argv[4], NULL, 10));
    if (argc == 5 && strcmp(argv[1], "flood") == 0)
        return cmd_flood(argv[2], strtol(argv[3], NULL, 10), (size_t)strtoul(argv[4], NULL, 10));
    fprintf(
        stderr,
        "usage: shm_peer stress-create|stress-open NAME N SEED CAPACITY [zc] | echo NAME | hold NAME | create-hold NAME"
        " | send NAME TEXT [HOLD_MS] | send-big NAME SIZE | serve-cb NAME [SPIN_US] | rtt NAME N SIZE GAP_US [cb] | "
        "flood NAME N SIZE"
        " | batches NAME K ROUNDS\n");
    return 64;
}
