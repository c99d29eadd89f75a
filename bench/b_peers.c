/*
 * b_peers.c - the same round trip and throughput with two messaging libraries from Debian's
 * packages, over their local IPC transports:
 *   nng.rtt.S / nng.tput.S   nng pair1 socket, ipc:// (libnng-dev; built when find_package(nng) works)
 *   zmq.rtt.S / zmq.tput.S   ZeroMQ ZMQ_PAIR socket, ipc:// (libzmq3-dev; built when pkg-config finds libzmq)
 * The peer listens (binds) and echoes (rtt) or counts (tput); this process dials. The first payload
 * byte tags a message: 1 data, 2 sync (the peer answers with its count), 9 stop.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

#if defined(WIPC_BENCH_NNG)
#  include <nng/nng.h>
#  include <nng/protocol/pair1/pair.h>
#endif
#if defined(WIPC_BENCH_ZMQ)
#  include <zmq.h>
#endif

#define M_DATA 1
#define M_SYNC 2
#define M_STOP 9

#if defined(WIPC_BENCH_NNG) || defined(WIPC_BENCH_ZMQ)
static void ipc_url(const char *name, char *url, size_t cap)
{
    snprintf(url, cap, "ipc:///tmp/%s.ipc", name);
}

/* a transport-neutral socket */
typedef struct psock {
    int zmq;
    void *zctx, *z;
#  if defined(WIPC_BENCH_NNG)
    nng_socket n;
#  endif
} psock;

static int p_send(psock *s, const void *buf, size_t n)
{
#  if defined(WIPC_BENCH_ZMQ)
    if (s->zmq)
        return zmq_send(s->z, buf, n, 0) == (int)n ? 0 : -1;
#  endif
#  if defined(WIPC_BENCH_NNG)
    if (!s->zmq)
        return nng_send(s->n, (void *)buf, n, 0) == 0 ? 0 : -1;
#  endif
    return -1;
}

/* returns the size received, -1 on error */
static long p_recv(psock *s, void *buf, size_t cap)
{
#  if defined(WIPC_BENCH_ZMQ)
    if (s->zmq) {
        int r = zmq_recv(s->z, buf, cap, 0);
        return r < 0 ? -1 : r;
    }
#  endif
#  if defined(WIPC_BENCH_NNG)
    if (!s->zmq) {
        size_t n = cap;
        return nng_recv(s->n, buf, &n, 0) == 0 ? (long)n : -1;
    }
#  endif
    return -1;
}

static int p_open(psock *s, const char *impl, const char *name, int listen)
{
    char url[256];
    ipc_url(name, url, sizeof url);
    memset(s, 0, sizeof *s);
    s->zmq = !strcmp(impl, "zmq");
#  if defined(WIPC_BENCH_ZMQ)
    if (s->zmq) {
        s->zctx = zmq_ctx_new();
        s->z = zmq_socket(s->zctx, ZMQ_PAIR);
        int hwm = 64, linger = 0;
        zmq_setsockopt(s->z, ZMQ_SNDHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s->z, ZMQ_RCVHWM, &hwm, sizeof hwm);
        zmq_setsockopt(s->z, ZMQ_LINGER, &linger, sizeof linger);
        return listen ? zmq_bind(s->z, url) : zmq_connect(s->z, url);
    }
#  endif
#  if defined(WIPC_BENCH_NNG)
    if (!s->zmq) {
        if (nng_pair1_open(&s->n) != 0)
            return -1;
        nng_socket_set_size(s->n, NNG_OPT_RECVMAXSZ, 0); /* no size limit (1 MiB messages) */
        nng_socket_set_int(s->n, NNG_OPT_SENDBUF, 64); /* queue like ZeroMQ's HWM, for throughput */
        nng_socket_set_int(s->n, NNG_OPT_RECVBUF, 64);
        if (listen)
            return nng_listen(s->n, url, NULL, 0) == 0 ? 0 : -1;
        double end = bt_now_us() + 30e6;
        int rv;
        while ((rv = nng_dial(s->n, url, NULL, 0)) != 0 && bt_now_us() < end)
            bt_sleep_ms(3);
        return rv == 0 ? 0 : -1;
    }
#  endif
    return -1;
}

static void p_close(psock *s)
{
#  if defined(WIPC_BENCH_ZMQ)
    if (s->zmq) {
        zmq_close(s->z);
        zmq_ctx_term(s->zctx);
        return;
    }
#  endif
#  if defined(WIPC_BENCH_NNG)
    if (!s->zmq)
        nng_close(s->n);
#  endif
}

/* peer <impl> <metric> <name> <size> */
static int lib_peer(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    size_t size = (size_t)strtoull(argv[3], NULL, 10);
    psock s;
    if (p_open(&s, argv[0], argv[2], 1) != 0)
        return 1;
    uint8_t *buf = bt_alloc(size + 64);
    int rtt = !strcmp(argv[1], "rtt");
    uint64_t count = 0;
    for (;;) {
        long n = p_recv(&s, buf, size + 64);
        if (n <= 0 || buf[0] == M_STOP)
            break;
        if (buf[0] == M_SYNC) {
            if (p_send(&s, &count, sizeof count))
                break;
            count = 0;
            continue;
        }
        count++;
        if (rtt && p_send(&s, buf, (size_t)n))
            break;
    }
    p_close(&s);
    bt_free(buf);
    return 0;
}

typedef struct lctx {
    psock s;
    uint8_t *out, *in;
    size_t size;
} lctx;

static int once_lib(void *p, char *err, size_t cap)
{
    lctx *c = p;
    c->out[0] = M_DATA;
    if (p_send(&c->s, c->out, c->size) || p_recv(&c->s, c->in, c->size + 64) != (long)c->size) {
        snprintf(err, cap, "send/recv failed");
        return 1;
    }
    return 0;
}

static int run_lib(const bt_case *bc, const char *id)
{
    char name[96];
    bt_child child;
    if (bt_start_named_peer(bc, id, name, sizeof name, &child))
        return 1;
    bt_sleep_ms(50); /* let the peer bind (zmq_connect is asynchronous anyway) */
    lctx c;
    memset(&c, 0, sizeof c);
    c.size = bc->size;
    c.out = bt_alloc(bc->size + 64);
    c.in = bt_alloc(bc->size + 64);
    int rc = 1;
    if (p_open(&c.s, bc->impl, name, 0) != 0) {
        bt_emit_error(id, "cannot dial the peer");
        bt_kill(&child);
        goto out;
    }
    if (!strcmp(bc->metric, "rtt")) {
        rc = bt_rtt_loop(id, once_lib, &c);
    } else {
        rc = 0;
        uint64_t n = 0;
        double t0 = 0;
        for (int phase = 0; phase < 2 && !rc; phase++) {
            n = 0;
            t0 = bt_now_us();
            double end = t0 + bt_tput_secs * (phase ? 1e6 : 0.15e6);
            c.out[0] = M_DATA;
            do {
                for (int i = 0; i < 16; i++, n++)
                    if (p_send(&c.s, c.out, c.size)) {
                        rc = 1;
                        break;
                    }
            } while (!rc && bt_now_us() < end);
            uint64_t peer = 0;
            c.out[0] = M_SYNC;
            if (rc || p_send(&c.s, c.out, c.size) || p_recv(&c.s, c.in, c.size + 64) != (long)sizeof peer ||
                (memcpy(&peer, c.in, sizeof peer), peer != n)) {
                bt_emit_error(id, "throughput: sent %llu, the peer counted %llu", (unsigned long long)n,
                              (unsigned long long)peer);
                rc = 1;
            }
        }
        if (!rc)
            bt_emit_tput(id, c.size, n, (bt_now_us() - t0) / 1e6);
    }
    c.out[0] = M_STOP;
    p_send(&c.s, c.out, c.size);
    bt_wait(&child, 10000);
    p_close(&c.s);
out:
    bt_free(c.out);
    bt_free(c.in);
    return rc;
}

#  define L(impl, metric, size)                                                                                        \
    {                                                                                                                  \
      impl, metric, size, run_lib, lib_peer                                                                            \
    }
static const bt_case cases[] = {
#  if defined(WIPC_BENCH_NNG)
    L("nng", "rtt", 64),  L("nng", "rtt", 4096),   L("nng", "rtt", 65536),
    L("nng", "tput", 64), L("nng", "tput", 65536), L("nng", "tput", 1048576),
#  endif
#  if defined(WIPC_BENCH_ZMQ)
    L("zmq", "rtt", 64),  L("zmq", "rtt", 4096),   L("zmq", "rtt", 65536),
    L("zmq", "tput", 64), L("zmq", "tput", 65536), L("zmq", "tput", 1048576),
#  endif
};
#  undef L

BT_CASE_LIST(bt_cases_peers, cases)
#else
const bt_case *const *bt_cases_peers(void)
{
    static const bt_case *none[1];
    return none;
}
#endif
