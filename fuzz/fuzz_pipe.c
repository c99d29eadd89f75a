/*
 * fuzz_pipe - the pipe connection's byte-stream decoder and handshake (wipc__core_read and, since
 * the core reads on its callers' threads, the caller-side reader behind wipc_recv; the HELLO/BUSY
 * handling of wipc_pipe_connect), with the whole portable core linked in and the stub backend
 * (stub_platform.c) standing in for the OS. The harness includes the connection object's definition
 * (pipe.h, or pipe.c itself in the older layout) to watch the handshake state.
 *
 * Input: a mode byte (0 server side framed, 1 server side raw, 2 client side framed), a chunking
 * seed, a u16 length and that many bytes for the peer's bulk section (large messages travel through
 * a shared section the receiver maps: its header and slot are the peer's to write), then the bytes
 * the peer sends, handed to the core in chunks of pseudo-random sizes (raw
 * mode: each chunk may or may not end an OS-level message), by the I/O thread or by the stub's
 * wipc__plat_pipe_read, whichever the core asks for.
 *  - server side: a connection accepted by a listening server (max_message_size 64 KiB) reads the
 *    stream; the harness accepts it if the handshake completed, reads every queued message
 *    (answering requests), then the peer hangs up and everything is closed.
 *  - client side: wipc_pipe_connect; the stub hands the stream to the core when the client writes
 *    its HELLO (the server's answer), then the rest after the connect returned.
 * Invariants: no crash, leak or out-of-bounds access; defined statuses only; a received message is
 * within max_message_size; the connection object is always freed (the stub pipe sees its free).
 */
#include "common/pipe/pipe.h" /* the connection object, shared by pipe.c and pipe_read.c */
#include "fz_common.h"
#include "stub_platform.h"

#define FZ_MAX_MSG (64u * 1024)

static wipc_handle g_srv_framed, g_srv_raw;
static struct wipc__server *g_framed, *g_raw;

static void drain(wipc_handle h)
{
    uint8_t *buf = malloc(FZ_MAX_MSG);
    for (int i = 0; i < 256; i++) {
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        wipc_status st = wipc_recv_message(h, buf, i % 2 ? FZ_MAX_MSG : 64, &m, 0);
        FZ_CHECK(fz_status_ok(st), "recv status %d", (int)st);
        FZ_LOG("recv: %d size %zu type %u id %llu\n", (int)st, m.size, m.type, (unsigned long long)m.request_id);
        if (st == WIPC_E_BUFFER_TOO_SMALL) {
            FZ_CHECK(m.size > 64 && m.size <= FZ_MAX_MSG, "size needed %zu", m.size);
            continue;
        }
        if (st != WIPC_OK)
            break;
        FZ_CHECK(m.size <= FZ_MAX_MSG, "message of %zu bytes above max_message_size", m.size);
        if (m.request_id)
            FZ_CHECK(fz_status_ok(wipc_reply(h, m.request_id, m.type + 1, buf, m.size > 16 ? 16 : m.size)), "reply");
    }
    free(buf);
}

static int init(void)
{
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.max_message_size = FZ_MAX_MSG;
    o.max_instances = 4;
    FZ_CHECK(wipc_pipe_listen("fuzz-framed", &o, &g_srv_framed) == WIPC_OK, "listen");
    g_framed = fz_last_server;
    o.flags = WIPC_PIPE_RAW;
    FZ_CHECK(wipc_pipe_listen("fuzz-raw", &o, &g_srv_raw) == WIPC_OK, "listen raw");
    g_raw = fz_last_server;
    return 0;
}

/* Client side: the core wrote its HELLO; the server answers with the stream until the handshake
 * is decided (or the stream ends: then the pipe ends too). */
static void client_on_write(struct wipc__pipe *p, const wipc__iov *iov, size_t n)
{
    (void)iov;
    (void)n;
    wipc__conn *c = (wipc__conn *)p->conn;
    while (!p->ended && c->state == WIPC__CONN_HANDSHAKE && fz_pipe_feed_one(p)) {
    }
    if (!p->ended && c->state == WIPC__CONN_HANDSHAKE)
        fz_pipe_finish(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int once = -1;
    if (once < 0)
        once = init();
    fz_in in = { data, size };
    unsigned mode = fz_u8(&in) % 3;
    uint32_t seed = fz_u32(&in);
    /* what the peer's bulk section holds, if the stream sends a BULK frame */
    size_t bulk_len = fz_u8(&in) | (size_t)fz_u8(&in) << 8;
    const uint8_t *bulk;
    bulk_len = fz_bytes(&in, bulk_len, &bulk);
#if FZ_PIPE_BULK
    fz_bulk_data = bulk;
    fz_bulk_size = bulk_len;
#endif
    const uint8_t *stream;
    size_t n = fz_bytes(&in, in.n, &stream);

    struct wipc__pipe p;
    fz_pipe_init(&p, stream, n, seed, mode == 1);
    if (mode < 2) {
        wipc__core_accepted(mode == 1 ? g_raw : g_framed, &p);
        fz_pipe_feed_all(&p); /* I/O mode: the handshake (and everything, for raw connections) */
        wipc_handle h = 0;
        wipc_status st = wipc_pipe_accept(mode == 1 ? g_srv_raw : g_srv_framed, 0, &h);
        FZ_CHECK(st == WIPC_OK || st == WIPC_E_TIMEOUT, "accept status %d", (int)st);
        FZ_LOG("accept: %d\n", (int)st);
        if (h)
            drain(h); /* caller mode: wipc_recv reads the rest itself */
        fz_pipe_finish(&p);
        if (h) {
            drain(h);
            FZ_CHECK(wipc_close(h) == WIPC_OK, "close");
        }
    } else {
        p.on_write = client_on_write;
        fz_next_connect = &p;
        wipc_pipe_options o;
        wipc_pipe_options_init(&o);
        o.max_message_size = FZ_MAX_MSG;
        wipc_handle h = 0;
        wipc_status st = wipc_pipe_connect("fuzz-client", &o, 0, &h);
        fz_next_connect = NULL;
        FZ_LOG("connect: %d %s\n", (int)st, st ? wipc_last_error_message() : "");
        FZ_CHECK(fz_status_ok(st), "connect status %d", (int)st);
        FZ_CHECK(st == WIPC_OK || st == WIPC_E_PROTOCOL || st == WIPC_E_DISCONNECTED || st == WIPC_E_TIMEOUT ||
                     st == WIPC_E_TOO_LARGE || st == WIPC_E_NOT_FOUND || st == WIPC_E_BUSY,
                 "connect status %s", wipc_status_name(st));
        if (st == WIPC_OK) {
            fz_pipe_feed_all(&p);
            drain(h);
            fz_pipe_finish(&p);
            drain(h);
            FZ_CHECK(wipc_close(h) == WIPC_OK, "close");
        }
    }
    fz_pipe_settle(&p);
    FZ_CHECK(!p.started || p.ended, "the pipe was never ended");
    FZ_CHECK(p.freed || !p.started, "the connection was not freed (reference leak)");
    return 0;
}
