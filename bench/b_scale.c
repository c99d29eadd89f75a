/*
 * b_scale.c - the pipe server under load, and what an idle process costs.
 *
 * scale.rate.N (N = 1, 8, 64): one wipc pipe server with callbacks (its on_message answers every
 * request with wipc_reply) and N client processes, each doing 64-byte wipc_request calls back to back
 * for the same fixed time after a common start signal. The figure is the aggregate number of requests
 * answered per second.
 *
 * scale.rate.1000: the same server (max_instances WIPC_PIPE_UNLIMITED_INSTANCES) with 1,000 client
 * connections: 8 client processes - as many as in scale.rate.8, so the client side's process count
 * does not change and the ratio to it isolates the number of connections - each holding 125
 * connections, one thread per connection doing blocking wipc_request calls (a thread per connection is
 * what 1,000 independent synchronous clients look like to the server; async requests from one thread
 * would put fewer requests in flight). Its JSON line also carries:
 *  - memory per idle connection: the server process's RSS and PSS (Linux: /proc/self/status VmRSS,
 *    /proc/self/smaps_rollup Pss; Windows: GetProcessMemoryInfo WorkingSetSize and PrivateUsage)
 *    after all 1,000 connected and before the start signal, minus the same before the clients were
 *    started (after one warm-up connection started the library's threads), per connection, in KiB;
 *  - connect latency while the 1,000 connect at once (each client thread times its wipc_pipe_connect:
 *    connect, the server's accept and the handshake), p50 / p99 / max in microseconds;
 *  - accept latency at 1,000 connections: after the timed run, with the 1,000 still open, each client
 *    process's first thread times 25 more wipc_pipe_connect + wipc_close one after the other (200 in
 *    all), p50 / p99 / max.
 *
 * idle.ticks.10: the idle scene of c-tests/idle_scene.h (64 idle pipe clients, a blocked shm pair at
 * default options, a msg endpoint) in a process of its own (this program's watchdog thread wakes up
 * every 500 ms: not here), measured for 10 s (2.5 s with --quick): CPU ticks (utime + stime, 1/100 s;
 * Linux: of every thread but the measuring one, idle_usage in c-tests/idle_scene.c)
 * and, on Linux, the wake-ups of its threads (context switches; -1 where not measurable).
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "idle_scene.h"
#include "wipc.h"
#if defined(_WIN32)
#  include <psapi.h>
#else
#  include <pthread.h>
#  include <sys/resource.h>
#endif

#define T_GO       1
#define T_RESULT   3
#define T_PROBE    4 /* client -> server: the accept probes' times */
#define T_PROBE_GO 5 /* server -> a client's first thread: every result is in, time the probes now */
#define PROBES     25 /* sequential connects per client process at 1,000 connections */
#define BIG_PROCS  8

typedef struct result_msg {
    uint64_t n; /* requests answered */
    double connect_us; /* this connection's wipc_pipe_connect */
    uint64_t prober; /* 1: this thread times the accept probes when told (T_PROBE_GO) */
} result_msg;

typedef struct server {
    int cap; /* client connections expected (more are probes: closed at once) */
    atomic_int slots;
    atomic_int connected;
    atomic_int results;
    atomic_int probe_msgs;
    atomic_int nprobe;
    atomic_ullong total;
    wipc_handle *conns;
    wipc_handle warm; /* the server side of the warm-up connection */
    double *connect_us; /* cap */
    double *probe_us; /* BIG_PROCS * PROBES */
    atomic_int nprober;
    wipc_handle probers[BIG_PROCS];
} server;

static void WIPC_CALL on_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user)
{
    (void)h;
    (void)status;
    server *s = user;
    if (event == WIPC_EVENT_CONNECTED) {
        int i = atomic_fetch_add(&s->slots, 1);
        if (i < 0) {
            s->warm = related; /* run_server's warm-up connection */
        } else if (i < s->cap) {
            s->conns[i] = related;
            atomic_fetch_add(&s->connected, 1);
        } else if (i < s->cap + BIG_PROCS * PROBES) {
            s->conns[i] = related; /* an accept-latency probe: closed with the others at the end (closing it
                                      * here could beat the client's read of the handshake answer) */
        } else {
            wipc_close(related);
        }
    }
}

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    server *s = user;
    if (m->request_id) {
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    } else if (m->type == T_RESULT && (m->size == sizeof(uint64_t) || m->size == sizeof(result_msg))) {
        result_msg r = { 0, 0, 0 };
        memcpy(&r, m->data, m->size);
        if (r.prober) {
            int k = atomic_fetch_add(&s->nprober, 1);
            if (k < BIG_PROCS)
                s->probers[k] = h;
        }
        atomic_fetch_add(&s->total, r.n);
        int i = atomic_fetch_add(&s->results, 1);
        if (s->connect_us && i < s->cap)
            s->connect_us[i] = r.connect_us;
    } else if (m->type == T_PROBE && m->size % sizeof(double) == 0) {
        for (size_t k = 0; k < m->size / sizeof(double); k++) {
            int i = atomic_fetch_add(&s->nprobe, 1);
            if (s->probe_us && i < BIG_PROCS * PROBES)
                memcpy(&s->probe_us[i], (const char *)m->data + k * sizeof(double), sizeof(double));
        }
        atomic_fetch_add(&s->probe_msgs, 1);
    }
    return 0;
}

/* ---- threads and process limits (the 1,000-connection clients) ---------------------------------- */

typedef struct client_thread {
    const char *name;
    double dur_us;
    int probes; /* > 0: this thread also times the accept probes after the run */
    int rc;
#if defined(_WIN32)
    HANDLE t;
#else
    pthread_t t;
#endif
} client_thread;

static void raise_fd_limit(void)
{
#if !defined(_WIN32)
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
#endif
}

static int connect_timed(const char *name, wipc_handle *h, double *us)
{
    wipc_pipe_options po; /* started with the server: it may not listen yet */
    wipc_pipe_options_init(&po);
    po.flags = WIPC_PIPE_WAIT_FOR_SERVER;
    double t0 = bt_now_us();
    wipc_status st = wipc_pipe_connect(name, &po, 120000, h);
    *us = bt_now_us() - t0;
    if (st != WIPC_OK) {
        fprintf(stderr, "scale client: connect: %s\n", wipc_last_error_message());
        return 1;
    }
    return 0;
}

/* One client connection: connect, wait for the start signal, request until the time is up, report. */
static int client_run(client_thread *ct)
{
    wipc_handle h;
    result_msg r = { 0, 0, ct->probes > 0 };
    if (connect_timed(ct->name, &h, &r.connect_us))
        return 1;
    uint8_t req[64] = { 1 }, resp[128];
    size_t got;
    uint32_t type;
    if (wipc_recv(h, resp, sizeof resp, &got, &type, 180000) != WIPC_OK || type != T_GO) {
        fprintf(stderr, "scale client: no start signal: %s\n", wipc_last_error_message());
        wipc_close(h);
        return 1;
    }
    double end = bt_now_us() + ct->dur_us;
    do {
        if (wipc_request(h, 2, req, sizeof req, resp, sizeof resp, &got, 30000) != WIPC_OK) {
            fprintf(stderr, "scale client: request: %s\n", wipc_last_error_message());
            wipc_close(h);
            return 1;
        }
        r.n++;
    } while (bt_now_us() < end);
    wipc_send(h, T_RESULT, &r, ct->probes >= 0 ? sizeof r : sizeof r.n, 10000);
    if (ct->probes > 0) { /* once every result is in (the 1,000 idle and still open): time new connections */
        if (wipc_recv(h, resp, sizeof resp, &got, &type, 120000) != WIPC_OK || type != T_PROBE_GO) {
            fprintf(stderr, "scale client: no probe signal: %s\n", wipc_last_error_message());
            wipc_close(h);
            return 1;
        }
        double us[PROBES];
        int n = 0;
        for (; n < ct->probes && n < PROBES; n++) {
            wipc_handle p;
            if (connect_timed(ct->name, &p, &us[n]))
                break;
            wipc_close(p);
        }
        wipc_send(h, T_PROBE, us, (size_t)n * sizeof us[0], 10000);
    }
    wipc_recv(h, resp, sizeof resp, &got, &type, 60000); /* the server hangs up */
    wipc_close(h);
    return 0;
}

#if defined(_WIN32)
static DWORD WINAPI client_main(LPVOID arg)
{
    client_thread *ct = arg;
    ct->rc = client_run(ct);
    return 0;
}
#else
static void *client_main(void *arg)
{
    client_thread *ct = arg;
    ct->rc = client_run(ct);
    return NULL;
}
#endif

/* peer scale <name> <duration_ms> [<connections> <probes>]: one connection on this thread (the
 * 1..64-process cases), or `connections` threads with one connection each. */
static int scale_peer(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int nconn = argc > 3 ? atoi(argv[3]) : 0;
    int probes = argc > 4 ? atoi(argv[4]) : 0;
    client_thread one = { .name = argv[1], .dur_us = atof(argv[2]) * 1e3, .probes = -1 };
    if (nconn <= 0) {
        int rc = client_run(&one);
        wipc_shutdown();
        return rc;
    }
    raise_fd_limit();
    client_thread *ts = calloc((size_t)nconn, sizeof *ts);
    int started = 0, rc = 0;
    for (; ts && started < nconn; started++) {
        ts[started] = one;
        ts[started].probes = started == 0 ? probes : 0;
#if defined(_WIN32)
        ts[started].t =
            CreateThread(NULL, 64 * 1024, client_main, &ts[started], STACK_SIZE_PARAM_IS_A_RESERVATION, NULL);
        if (!ts[started].t)
            break;
#else
        pthread_attr_t at;
        pthread_attr_init(&at);
        pthread_attr_setstacksize(&at, 256 * 1024);
        int e = pthread_create(&ts[started].t, &at, client_main, &ts[started]);
        pthread_attr_destroy(&at);
        if (e != 0)
            break;
#endif
    }
    if (started < nconn) {
        fprintf(stderr, "scale client: started only %d of %d threads\n", started, nconn);
        rc = 1;
    }
    for (int i = 0; i < started; i++) {
#if defined(_WIN32)
        WaitForSingleObject(ts[i].t, INFINITE);
        CloseHandle(ts[i].t);
#else
        pthread_join(ts[i].t, NULL);
#endif
        rc |= ts[i].rc;
    }
    free(ts);
    wipc_shutdown();
    return rc;
}

/* ---- the server side ------------------------------------------------------------------------------- */

/* This process's resident and private (Linux: proportional) memory, KiB. */
static void mem_kib(double *rss, double *pss)
{
    *rss = *pss = 0;
#if defined(_WIN32)
    PROCESS_MEMORY_COUNTERS_EX pmc;
    if (GetProcessMemoryInfo(GetCurrentProcess(), (PROCESS_MEMORY_COUNTERS *)&pmc, sizeof pmc)) {
        *rss = (double)pmc.WorkingSetSize / 1024;
        *pss = (double)pmc.PrivateUsage / 1024;
    }
#else
    char line[256];
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmRSS:", 6))
            *rss = atof(line + 6);
    if (f)
        fclose(f);
    f = fopen("/proc/self/smaps_rollup", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Pss:", 4))
            *pss = atof(line + 4);
    if (f)
        fclose(f);
#endif
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, int n, double p)
{
    if (n <= 0)
        return 0;
    int i = (int)(p * (n - 1) + 0.5);
    return v[i];
}

/* Starts the library's threads (I/O, callback workers) with one connection and request, so the memory
 * baseline is taken with them running. */
static void warm_up(const char *name)
{
    wipc_handle h;
    uint8_t b[8] = { 0 };
    size_t got;
    if (wipc_pipe_connect(name, NULL, 10000, &h) != WIPC_OK)
        return;
    wipc_request(h, 2, b, sizeof b, b, sizeof b, &got, 10000);
    wipc_close(h);
}

static int run_server(const bt_case *bc, const char *id)
{
    int big = bc->size > 64;
    int nprocs = big ? BIG_PROCS : (int)bc->size, per = big ? (int)bc->size / BIG_PROCS : 1;
    int nconn = nprocs * per;
    char name[96], dur[32], pers[16], probes[16];
    bt_name(name, sizeof name, "scale");
    double dur_s = bt_tput_secs * 2.5;
    snprintf(dur, sizeof dur, "%d", (int)(dur_s * 1000));
    snprintf(pers, sizeof pers, "%d", per);
    snprintf(probes, sizeof probes, "%d", PROBES);
    static server s;
    memset(&s, 0, sizeof s);
    s.cap = nconn;
    s.conns = calloc((size_t)nconn + BIG_PROCS * PROBES, sizeof *s.conns);
    if (big) {
        s.connect_us = calloc((size_t)nconn, sizeof *s.connect_us);
        s.probe_us = calloc(BIG_PROCS * PROBES, sizeof *s.probe_us);
        raise_fd_limit();
    }
    bt_child *kids = calloc((size_t)nprocs, sizeof *kids);
    int rc = 1, started = 0;
    wipc_handle srv = 0;
    wipc_pipe_options po;
    wipc_pipe_options_init(&po);
    if (big)
        po.max_instances = WIPC_PIPE_UNLIMITED_INSTANCES;
    if (wipc_pipe_listen(name, &po, &srv) != WIPC_OK || wipc_set_callbacks(srv, on_message, on_event, &s) != WIPC_OK) {
        bt_emit_error(id, "listen: %s", wipc_last_error_message());
        goto out;
    }
    double rss0 = 0, pss0 = 0, rss1 = 0, pss1 = 0;
    if (big) {
        s.slots = -1; /* the warm-up connection takes slot -1: not a client */
        s.cap = nconn;
        warm_up(name);
        double t = bt_now_us() + 5e6;
        while (atomic_load(&s.slots) < 0 && bt_now_us() < t)
            bt_sleep_ms(5);
        atomic_store(&s.slots, 0);
        atomic_store(&s.connected, 0);
        bt_sleep_ms(200);
        mem_kib(&rss0, &pss0);
    }
    const char *args1[] = { "scale", name, dur, NULL };
    const char *argsN[] = { "scale", name, dur, pers, probes, NULL };
    for (; started < nprocs; started++)
        if (bt_spawn_peer(&kids[started], big ? argsN : args1))
            break;
    bt_watch(id, nprocs ? &kids[0] : NULL);
    if (started < nprocs) {
        bt_emit_error(id, "started only %d of %d client processes", started, nprocs);
        goto out;
    }
    double end = bt_now_us() + 120e6;
    while (atomic_load(&s.connected) < nconn && bt_now_us() < end)
        bt_sleep_ms(5);
    if (atomic_load(&s.connected) < nconn) {
        bt_emit_error(id, "only %d of %d clients connected", atomic_load(&s.connected), nconn);
        goto out;
    }
    if (big) {
        bt_sleep_ms(1000); /* every connection idle: handshakes and first reads done */
        mem_kib(&rss1, &pss1);
    }
    for (int i = 0; i < nconn; i++)
        wipc_send(s.conns[i], T_GO, NULL, 0, 10000);
    end = bt_now_us() + dur_s * 1e6 + 60e6;
    while (atomic_load(&s.results) < nconn && bt_now_us() < end)
        bt_sleep_ms(5);
    if (big && atomic_load(&s.results) == nconn) {
        bt_sleep_ms(200); /* the request storm's tail: replies read, threads asleep */
        for (int i = 0; i < atomic_load(&s.nprober) && i < BIG_PROCS; i++)
            wipc_send(s.probers[i], T_PROBE_GO, NULL, 0, 10000);
        while (atomic_load(&s.probe_msgs) < atomic_load(&s.nprober) && bt_now_us() < end)
            bt_sleep_ms(5);
    }
    if (atomic_load(&s.results) < nconn) {
        bt_emit_error(id, "only %d of %d clients reported", atomic_load(&s.results), nconn);
        goto out;
    }
    if (!big) {
        bt_emit_rate(id, nconn, atomic_load(&s.total), dur_s);
    } else {
        int np = atomic_load(&s.nprobe);
        if (np > BIG_PROCS * PROBES)
            np = BIG_PROCS * PROBES;
        qsort(s.connect_us, (size_t)nconn, sizeof(double), cmp_double);
        qsort(s.probe_us, (size_t)np, sizeof(double), cmp_double);
        printf("{\"id\":\"%s\",\"msgs_s\":%.1f,\"clients\":%d,\"procs\":%d,\"n\":%llu,\"secs\":%.3f,"
               "\"rss_kib_per_conn\":%.2f,\"pss_kib_per_conn\":%.2f,\"rss_kib\":%.0f,\"rss0_kib\":%.0f,"
               "\"connect_p50\":%.1f,\"connect_p99\":%.1f,\"connect_max\":%.1f,"
               "\"accept_p50\":%.1f,\"accept_p99\":%.1f,\"accept_max\":%.1f,\"accept_n\":%d}\n",
               id, (double)atomic_load(&s.total) / dur_s, nconn, nprocs, (unsigned long long)atomic_load(&s.total),
               dur_s, (rss1 - rss0) / nconn, (pss1 - pss0) / nconn, rss1, rss0, pct(s.connect_us, nconn, 0.5),
               pct(s.connect_us, nconn, 0.99), s.connect_us[nconn - 1], pct(s.probe_us, np, 0.5),
               pct(s.probe_us, np, 0.99), np ? s.probe_us[np - 1] : 0.0, np);
        fflush(stdout);
    }
    rc = 0;
out:
    for (int i = 0; i < nconn + BIG_PROCS * PROBES; i++)
        if (s.conns[i])
            wipc_close(s.conns[i]);
    if (s.warm)
        wipc_close(s.warm);
    if (srv)
        wipc_close(srv);
    for (int i = 0; i < started; i++)
        if (bt_wait(&kids[i], 60000) != 0 && !rc)
            fprintf(stderr, "wipc_bench: scale client %d did not exit cleanly\n", i);
    free(kids);
    free(s.conns);
    free(s.connect_us);
    free(s.probe_us);
    return rc;
}

/* ---- idle.ticks.10 ----------------------------------------------------------------------------------- */

/* peer idle <tag> <seconds> <out file>: builds the idle scene, measures, writes "ticks wakeups threads". */
static int idle_peer(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    char err[512];
    idle_scene *sc = idle_scene_open(argv[1], 64, err, sizeof err);
    if (!sc) {
        fprintf(stderr, "idle: %s\n", err);
        return 1;
    }
    bt_sleep_ms(1000); /* the setup's own work settles */
    idle_usage_t a, b;
    idle_usage(&a);
    bt_sleep_ms((int)(atof(argv[2]) * 1000));
    idle_usage(&b);
    idle_scene_close(sc);
    wipc_shutdown();
    FILE *f = fopen(argv[3], "w");
    if (!f)
        return 1;
    fprintf(f, "%llu %lld %d\n", (unsigned long long)(b.ticks - a.ticks),
            a.switches < 0 ? -1LL : (long long)(b.switches - a.switches), b.threads);
    fclose(f);
    return 0;
}

static int run_idle(const bt_case *bc, const char *id)
{
    char tag[96], secs[32], path[512];
    bt_name(tag, sizeof tag, "idle");
    double s = (double)bc->size * bt_tput_secs / 0.6; /* bt_tput_secs is 0.6 s (0.15 with --quick): 10 s, 2.5 s */
    snprintf(secs, sizeof secs, "%.2f", s);
#if defined(_WIN32)
    char dir[MAX_PATH];
    GetTempPathA(sizeof dir, dir);
    snprintf(path, sizeof path, "%s%s.txt", dir, tag);
#else
    snprintf(path, sizeof path, "/tmp/%s.txt", tag);
#endif
    remove(path);
    const char *args[] = { "idle", tag, secs, path, NULL };
    bt_child kid;
    if (bt_spawn_peer(&kid, args)) {
        bt_emit_error(id, "cannot start the idle process");
        return 1;
    }
    bt_watch(id, &kid);
    int code = bt_wait(&kid, (int)(s * 1000) + 60000);
    unsigned long long ticks = 0;
    long long wakeups = 0;
    int threads = 0;
    FILE *f = fopen(path, "r");
    int ok = f && fscanf(f, "%llu %lld %d", &ticks, &wakeups, &threads) == 3;
    if (f)
        fclose(f);
    remove(path);
    if (code != 0 || !ok) {
        bt_emit_error(id, "the idle process failed (exit %d)", code);
        return 1;
    }
    printf("{\"id\":\"%s\",\"ticks\":%llu,\"wakeups\":%lld,\"threads\":%d,\"secs\":%.2f}\n", id, ticks, wakeups,
           threads, s);
    fflush(stdout);
    return 0;
}

static const bt_case cases[] = {
    { "scale", "rate", 1, run_server, scale_peer },    { "scale", "rate", 8, run_server, scale_peer },
    { "scale", "rate", 64, run_server, scale_peer },
#if !defined(_WIN32) /* under Wine 8.0 on the 2-core VM, 1,000 connections from 8 processes were not set up within the
                        * harness's 90 s case limit (the 1,000-connection row is measured on Linux) */
    { "scale", "rate", 1000, run_server, scale_peer },
#endif
    { "idle", "ticks", 10, run_idle, idle_peer },
};
BT_CASE_LIST(bt_cases_scale, cases)
