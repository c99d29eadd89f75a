/*
 * cli_bench.c - `wipc bench [pipe|shm|msg]`: what each transport does on this machine, for users.
 *
 * Both ends live in this process: the library's callback threads serve (echo requests, count one-way
 * messages), the main thread is the client. Round trip: N requests of 64 bytes (msg: wipc_msg_send,
 * which waits for the receiver's answer), p50 and p99. Throughput: one-way messages of --size bytes
 * until the server has counted them all. Only public library calls; bench/ holds the full harness
 * (raw OS calls and peer libraries side by side, separate processes).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct bench_server {
    atomic_llong msgs, bytes; /* one-way messages counted */
} bench_server;

typedef struct bench_row {
    const char *name;
    double p50_us, p99_us, msgs_per_s, mib_per_s;
    size_t size; /* bytes per one-way message */
    wipc_status st;
} bench_row;

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    bench_server *s = user;
    if (m->request_id)
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    else {
        atomic_fetch_add(&s->bytes, (long long)m->size);
        atomic_fetch_add(&s->msgs, 1);
    }
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

typedef struct bench_ends {
    int t;
    const char *name;
    wipc_handle server, client;
} bench_ends;

static wipc_status one(bench_ends *e, int request, const void *d, size_t n, void *resp, size_t cap)
{
    size_t got;
    int32_t reply;
    if (e->t == CLI_MSG)
        return wipc_msg_send(e->name, 0, d, n, 5000, &reply);
    return request ? wipc_request(e->client, 0, d, n, resp, cap, &got, 5000) : wipc_send(e->client, 0, d, n, 5000);
}

static wipc_status open_ends(bench_ends *e, bench_server *s)
{
    wipc_status st = e->t == CLI_PIPE  ? wipc_pipe_listen(e->name, NULL, &e->server)
                     : e->t == CLI_SHM ? wipc_shm_create(e->name, NULL, &e->server)
                                       : wipc_msg_listen(e->name, NULL, &e->server);
    if (!st)
        st = wipc_set_callbacks(e->server, on_message, NULL, s);
    if (!st && e->t == CLI_PIPE)
        st = wipc_pipe_connect(e->name, NULL, 5000, &e->client);
    if (!st && e->t == CLI_SHM)
        st = wipc_shm_open(e->name, NULL, 5000, &e->client);
    return st;
}

static void run_one(int t, long count, size_t size, bench_row *row)
{
    static const char *const names[] = { NULL, "pipe", "shm", "msg" };
    char name[64];
    snprintf(name, sizeof name, "wipc-bench-%u-%s", cli_pid(), names[t]);
    bench_server s = { 0 };
    bench_ends e = { .t = t, .name = name };
    row->name = names[t];
    row->size = size;
    unsigned char *data = calloc(1, size), *resp = malloc(size > 64 ? size : 64);
    double *rtt = malloc(sizeof *rtt * (size_t)count);
    wipc_status st = data && resp && rtt ? open_ends(&e, &s) : WIPC_E_NO_MEMORY;
    for (long i = 0; !st && i < count; i++) {
        double t0 = cli_now_us();
        st = one(&e, 1, data, 64, resp, 64);
        rtt[i] = cli_now_us() - t0;
    }
    if (!st) {
        qsort(rtt, (size_t)count, sizeof *rtt, cmp_double);
        row->p50_us = rtt[count / 2];
        row->p99_us = rtt[(count * 99) / 100];
        long n = (long)((64u << 20) / size); /* 64 MiB, at least 200 and at most 20,000 messages */
        n = n < 200 ? 200 : n > 20000 ? 20000 : n;
        double t0 = cli_now_us();
        for (long i = 0; !st && i < n; i++)
            st = one(&e, 0, data, size, NULL, 0);
        while (!st && atomic_load(&s.msgs) < n && cli_now_us() - t0 < 30e6)
            cli_sleep_ms(1);
        double secs = (cli_now_us() - t0) / 1e6;
        row->msgs_per_s = (double)atomic_load(&s.msgs) / secs;
        row->mib_per_s = (double)atomic_load(&s.bytes) / secs / (1024.0 * 1024.0);
    }
    row->st = st;
    if (e.client)
        wipc_close(e.client);
    if (e.server)
        wipc_close(e.server);
    free(rtt);
    free(resp);
    free(data);
}

static void bar(const char *label, double v, double max, const char *unit)
{
    int n = max > 0 ? (int)(v / max * 40.0 + 0.5) : 0;
    printf("  %-5s %10.1f %-6s |", label, v, unit);
    for (int i = 0; i < n; i++)
        putchar('#');
    putchar('\n');
}

static void print_rows(const cli_args *a, const bench_row *rows, int n, size_t size)
{
    if (a->json) {
        putchar('[');
        for (int i = 0; i < n; i++)
            printf("%s{\"transport\":\"%s\",\"rtt_p50_us\":%.2f,\"rtt_p99_us\":%.2f,\"msgs_per_s\":%.0f,"
                   "\"mib_per_s\":%.1f,\"message_size\":%zu}",
                   i ? "," : "", rows[i].name, rows[i].p50_us, rows[i].p99_us, rows[i].msgs_per_s, rows[i].mib_per_s,
                   rows[i].size);
        puts("]");
        return;
    }
    printf("%-5s %12s %12s %14s %12s\n", "", "rtt p50 us", "rtt p99 us", "msgs/s", "MiB/s");
    double max_rtt = 0, max_tp = 0;
    for (int i = 0; i < n; i++) {
        printf("%-5s %12.1f %12.1f %14.0f %12.1f\n", rows[i].name, rows[i].p50_us, rows[i].p99_us, rows[i].msgs_per_s,
               rows[i].mib_per_s);
        max_rtt = rows[i].p50_us > max_rtt ? rows[i].p50_us : max_rtt;
        max_tp = rows[i].mib_per_s > max_tp ? rows[i].mib_per_s : max_tp;
    }
    puts("\nround trip p50 (shorter is better):");
    for (int i = 0; i < n; i++)
        bar(rows[i].name, rows[i].p50_us, max_rtt, "us");
    printf("throughput (longer is better; messages of %zu bytes, msg: at most 4096):\n", size);
    for (int i = 0; i < n; i++)
        bar(rows[i].name, rows[i].mib_per_s, max_tp, "MiB/s");
}

int cli_bench(const cli_args *a)
{
    static const char *const names[] = { NULL, "pipe", "shm", "msg" };
    int first = CLI_PIPE, last = CLI_MSG;
    if (a->word) {
        for (first = CLI_PIPE; first <= CLI_MSG && strcmp(a->word, names[first]); first++) {
        }
        if (first > CLI_MSG)
            return cli_usage("bench takes pipe, shm or msg, not '%s'", a->word);
        last = first;
    }
    long count = a->count > 0 ? a->count : 2000;
    size_t size = a->size > 0 ? (size_t)a->size : 64 * 1024;
    bench_row rows[3];
    int n = 0;
    for (int t = first; t <= last; t++, n++) {
        size_t sz = t == CLI_MSG && size > 4096 ? 4096 : size; /* WM_COPYDATA is for small data */
        run_one(t, count, sz < 64 ? 64 : sz, &rows[n]);
        if (rows[n].st)
            return cli_fail(names[t], rows[n].st);
    }
    print_rows(a, rows, n, size);
    wipc_shutdown();
    return CLI_EXIT_OK;
}
