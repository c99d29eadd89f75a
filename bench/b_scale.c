/*
 * b_scale.c - the pipe server under load: scale.rate.N = one wipc pipe server with callbacks (its
 * on_message answers every request with wipc_reply) and N client processes, each doing 64-byte
 * wipc_request calls back to back for the same fixed time after a common start signal. The figure is
 * the aggregate number of requests answered per second.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "wipc.h"

#define T_GO     1
#define T_RESULT 3
#define MAXC     64

typedef struct server {
    atomic_int      slots;
    atomic_int      connected;
    atomic_int      results;
    atomic_ullong   total;
    wipc_handle     conns[MAXC];
} server;

static void WIPC_CALL on_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user)
{
    (void)h;
    (void)status;
    server *s = user;
    if (event == WIPC_EVENT_CONNECTED) {
        int i = atomic_fetch_add(&s->slots, 1);
        if (i < MAXC)
            s->conns[i] = related;
        else
            wipc_close(related);
        atomic_fetch_add(&s->connected, 1);
    }
}

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    server *s = user;
    if (m->request_id) {
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    } else if (m->type == T_RESULT && m->size == sizeof(uint64_t)) {
        uint64_t n;
        memcpy(&n, m->data, sizeof n);
        atomic_fetch_add(&s->total, n);
        atomic_fetch_add(&s->results, 1);
    }
    return 0;
}

/* peer scale <name> <duration_ms> */
static int scale_peer(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *name = argv[1];
    double dur_us = atof(argv[2]) * 1e3;
    wipc_handle h;
    wipc_pipe_options po;   /* started with the server: it may not listen yet */
    wipc_pipe_options_init(&po);
    po.flags = WIPC_PIPE_WAIT_FOR_SERVER;
    if (wipc_pipe_connect(name, &po, 120000, &h) != WIPC_OK) {
        fprintf(stderr, "scale client: connect: %s\n", wipc_last_error_message());
        return 1;
    }
    uint8_t req[64] = { 1 }, resp[128];
    size_t got;
    uint32_t type;
    if (wipc_recv(h, resp, sizeof resp, &got, &type, 180000) != WIPC_OK || type != T_GO) {
        fprintf(stderr, "scale client: no start signal: %s\n", wipc_last_error_message());
        return 1;
    }
    uint64_t n = 0;
    double end = bt_now_us() + dur_us;
    do {
        if (wipc_request(h, 2, req, sizeof req, resp, sizeof resp, &got, 30000) != WIPC_OK) {
            fprintf(stderr, "scale client: request: %s\n", wipc_last_error_message());
            return 1;
        }
        n++;
    } while (bt_now_us() < end);
    wipc_send(h, T_RESULT, &n, sizeof n, 10000);
    wipc_recv(h, resp, sizeof resp, &got, &type, 10000);   /* the server hangs up */
    wipc_close(h);
    wipc_shutdown();
    return 0;
}

static int run_scale(const bt_case *bc, const char *id)
{
    int nclients = (int)bc->size;
    char name[96], dur[32];
    bt_name(name, sizeof name, "scale");
    double dur_s = bt_tput_secs * 2.5;
    snprintf(dur, sizeof dur, "%d", (int)(dur_s * 1000));
    static server s;
    memset(&s, 0, sizeof s);
    wipc_handle srv;
    if (wipc_pipe_listen(name, NULL, &srv) != WIPC_OK || wipc_set_callbacks(srv, on_message, on_event, &s) != WIPC_OK) {
        bt_emit_error(id, "listen: %s", wipc_last_error_message());
        return 1;
    }
    bt_child *kids = calloc((size_t)nclients, sizeof *kids);
    const char *args[] = { "scale", name, dur, NULL };
    int rc = 1, started = 0;
    for (; started < nclients; started++)
        if (bt_spawn_peer(&kids[started], args))
            break;
    bt_watch(id, nclients ? &kids[0] : NULL);
    if (started < nclients) {
        bt_emit_error(id, "started only %d of %d client processes", started, nclients);
        goto out;
    }
    double end = bt_now_us() + 120e6;
    while (atomic_load(&s.connected) < nclients && bt_now_us() < end)
        bt_sleep_ms(5);
    if (atomic_load(&s.connected) < nclients) {
        bt_emit_error(id, "only %d of %d clients connected", atomic_load(&s.connected), nclients);
        goto out;
    }
    for (int i = 0; i < nclients; i++)
        wipc_send(s.conns[i], T_GO, NULL, 0, 10000);
    end = bt_now_us() + dur_s * 1e6 + 60e6;
    while (atomic_load(&s.results) < nclients && bt_now_us() < end)
        bt_sleep_ms(5);
    if (atomic_load(&s.results) < nclients) {
        bt_emit_error(id, "only %d of %d clients reported", atomic_load(&s.results), nclients);
        goto out;
    }
    bt_emit_rate(id, nclients, atomic_load(&s.total), dur_s);
    rc = 0;
out:
    for (int i = 0; i < atomic_load(&s.connected) && i < MAXC; i++)
        wipc_close(s.conns[i]);
    wipc_close(srv);
    for (int i = 0; i < started; i++)
        if (bt_wait(&kids[i], 20000) != 0 && !rc)
            fprintf(stderr, "wipc_bench: scale client %d did not exit cleanly\n", i);
    free(kids);
    return rc;
}

static const bt_case cases[] = {
    { "scale", "rate", 1, run_scale, scale_peer },
    { "scale", "rate", 8, run_scale, scale_peer },
    { "scale", "rate", 64, run_scale, scale_peer },
};
BT_CASE_LIST(bt_cases_scale, cases)
