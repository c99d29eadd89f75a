/*
 * stub_platform.c - see stub_platform.h: a backend without an OS, for the fuzz targets.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "stub_platform.h"
#include "platform_shm.h"
#include "platform_list.h"

#ifndef FZ_PIPE_CALLER_MODE
#  define FZ_PIPE_CALLER_MODE 1
#endif

struct wipc__server *fz_last_server;
struct wipc__msg_ep *fz_last_ep;
struct wipc__pipe *fz_next_connect;
uint8_t *fz_next_section;
uint64_t fz_next_section_size;
uint8_t *fz_last_created;

/* ---- pipes ---------------------------------------------------------------------------------------- */

struct wipc__listener {
    struct wipc__server *server;
};

void fz_pipe_init(struct wipc__pipe *p, const uint8_t *data, size_t n, uint32_t seed, bool raw)
{
    memset(p, 0, sizeof *p);
    p->stream = data;
    p->left = n;
    p->seed = seed;
    p->raw = raw;
}

/* The next chunk of the peer's stream, at most cap bytes. */
static size_t take(struct wipc__pipe *p, size_t cap, const uint8_t **out, int *eom)
{
    p->seed = p->seed * 1103515245u + 12345u;
    uint32_t r = p->seed >> 8;
    size_t k;
    switch (r % 4) {
    case 0:
        k = 1 + r % 7;
        break; /* tiny: split headers */
    case 1:
        k = 1 + r % 97;
        break;
    case 2:
        k = 1 + r % 70000;
        break; /* a frame and a half */
    default:
        k = p->left;
        break; /* all the rest */
    }
    if (k > p->left)
        k = p->left;
    if (k > cap)
        k = cap;
    *out = p->stream;
    *eom = p->raw ? (int)((p->seed >> 3) & 1) || k == p->left : 1;
    p->stream += k;
    p->left -= k;
    return k;
}

/* wipc__core_closed once, never from inside a wipc__core_* call (as on a real I/O thread). */
static void end_now(struct wipc__pipe *p, wipc_status why)
{
    if (p->started && !p->ended && !p->in_read) {
        p->ended = true;
        wipc__core_closed(p->conn, why); /* may free the conn (and mark p freed) */
    }
}

void fz_pipe_settle(struct wipc__pipe *p)
{
    if (p->shut || p->stopped)
        end_now(p, p->shut ? WIPC_E_CLOSED : WIPC_E_DISCONNECTED);
}

bool fz_pipe_feed_one(struct wipc__pipe *p)
{
    if (!p->started || p->ended || !p->io_mode || p->shut || p->stopped || !p->left)
        return false;
    const uint8_t *src;
    int eom;
    size_t k = take(p, SIZE_MAX, &src, &eom);
    uint8_t *chunk = malloc(k); /* exactly k bytes: ASan sees an over-read */
    memcpy(chunk, src, k);
    p->in_read = true;
#if FZ_PIPE_CALLER_MODE
    if (!wipc__core_read(p->conn, chunk, k, eom))
        p->io_mode = false; /* caller mode: the core reads with wipc__plat_pipe_read */
#else
    wipc__core_read(p->conn, chunk, k, eom);
#endif
    p->in_read = false;
    free(chunk);
    fz_pipe_settle(p);
    return true;
}

void fz_pipe_feed_all(struct wipc__pipe *p)
{
    while (fz_pipe_feed_one(p)) {
    }
}

void fz_pipe_finish(struct wipc__pipe *p)
{
    p->eof = true;
    fz_pipe_feed_all(p);
    if (p->io_mode || !FZ_PIPE_CALLER_MODE) {
        end_now(p, WIPC_E_DISCONNECTED);
        return;
    }
#if FZ_PIPE_CALLER_MODE
    if (p->started && !p->ended) {
        p->in_read = true;
        wipc__core_hup(p->conn);
        p->in_read = false;
    }
#endif
    fz_pipe_settle(p);
}

wipc_status wipc__plat_listen(const char *name, const wipc__pipe_cfg *cfg, struct wipc__server *server,
                              wipc__listener **out)
{
    (void)name;
    (void)cfg;
    wipc__listener *l = calloc(1, sizeof *l);
    if (!l)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "stub listen: out of memory");
    l->server = server;
    fz_last_server = server;
    *out = l;
    return WIPC_OK;
}

void wipc__plat_listener_close(wipc__listener *l)
{
    if (fz_last_server == l->server)
        fz_last_server = NULL;
    free(l);
}

void wipc__plat_listener_slot_free(wipc__listener *l)
{
    (void)l;
}

wipc_status wipc__plat_connect(const char *name, const wipc__pipe_cfg *cfg, int32_t timeout_ms, wipc__pipe **out)
{
    (void)cfg;
    (void)timeout_ms;
    if (!fz_next_connect)
        return wipc__error(WIPC_E_NOT_FOUND, 0, "stub connect(%s): no server", name);
    *out = fz_next_connect;
    fz_next_connect = NULL;
    return WIPC_OK;
}

void wipc__plat_pipe_peer(wipc__pipe *p, uint32_t *pid, uint32_t *uid)
{
    (void)p;
    *pid = 4242;
    *uid = 0;
}

wipc_status wipc__plat_pipe_start(wipc__pipe *p, struct wipc__conn *conn)
{
    p->conn = conn;
    p->started = true;
    p->io_mode = true;
    return WIPC_OK;
}

#if FZ_PIPE_CALLER_MODE
void wipc__plat_pipe_io(wipc__pipe *p)
{
    p->io_mode = true;
}

wipc_status wipc__plat_pipe_read(wipc__pipe *p, void *buf, size_t cap, int32_t timeout_ms, size_t *n)
{
    (void)timeout_ms; /* never blocks: the harness has no other thread to wait for */
    *n = 0;
    if (p->shut)
        return wipc__error(WIPC_E_CLOSED, 0, "stub read: shut down");
    if (p->left && cap) {
        const uint8_t *src;
        int eom;
        size_t k = take(p, cap, &src, &eom);
        memcpy(buf, src, k);
        *n = k;
        return WIPC_OK;
    }
    if (p->eof)
        return wipc__error(WIPC_E_DISCONNECTED, 0, "stub read: the peer hung up");
    return wipc__error(WIPC_E_TIMEOUT, 0, "stub read: nothing there");
}

#  if FZ_PIPE_READ2
wipc_status wipc__plat_pipe_read2(wipc__pipe *p, void *a, size_t alen, void *b, size_t blen, int32_t timeout_ms,
                                  size_t *n)
{
    (void)timeout_ms;
    *n = 0;
    if (p->shut)
        return wipc__error(WIPC_E_CLOSED, 0, "stub read2: shut down");
    if (p->left && alen + blen) {
        const uint8_t *src;
        int eom;
        size_t k = take(p, alen + blen, &src, &eom);
        size_t ka = k < alen ? k : alen;
        memcpy(a, src, ka);
        if (k > ka)
            memcpy(b, src + ka, k - ka);
        *n = k;
        return WIPC_OK;
    }
    if (p->eof)
        return wipc__error(WIPC_E_DISCONNECTED, 0, "stub read2: the peer hung up");
    return wipc__error(WIPC_E_TIMEOUT, 0, "stub read2: nothing there");
}
#  endif

void wipc__plat_pipe_stop(wipc__pipe *p)
{
    p->stopped = true;
    end_now(p, WIPC_E_DISCONNECTED); /* deferred when inside a wipc__core_* call */
}
#endif

void wipc__plat_pipe_pause(wipc__pipe *p, int paused)
{
    p->paused = paused != 0;
}

wipc_status wipc__plat_pipe_write(wipc__pipe *p, const wipc__iov *iov, size_t n, int32_t timeout_ms, size_t *written)
{
    (void)timeout_ms;
    *written = 0;
    if (p->shut)
        return wipc__error(WIPC_E_CLOSED, 0, "stub write: shut down");
    for (size_t i = 0; i < n; i++)
        *written += iov[i].len;
    p->writes += *written;
    if (p->on_write) {
        void (*hook)(struct wipc__pipe *, const wipc__iov *, size_t) = p->on_write;
        p->on_write = NULL; /* once */
        hook(p, iov, n);
    }
    return WIPC_OK;
}

/* The stub's blocking writes always take everything, so the core's write queue never needs one. */
wipc_status wipc__plat_pipe_write_start(wipc__pipe *p, const void *buf, size_t len)
{
    (void)p;
    (void)buf;
    (void)len;
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "stub: no asynchronous writes");
}

wipc_status wipc__plat_pipe_write_kick(wipc__pipe *p)
{
    (void)p;
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "stub: no I/O thread");
}

void wipc__plat_pipe_write_cancel(wipc__pipe *p)
{
    (void)p;
}

void wipc__plat_pipe_shutdown(wipc__pipe *p)
{
    p->shut = true;
    end_now(p, WIPC_E_CLOSED); /* a real backend's I/O thread would do this soon after */
}

void wipc__plat_pipe_free(wipc__pipe *p)
{
    p->freed = true;
} /* the harness owns the memory */

wipc_status wipc__plat_pipe_impersonate(wipc__pipe *p)
{
    (void)p;
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "stub: no impersonation");
}

wipc_status wipc__plat_revert_to_self(void)
{
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "stub: no impersonation");
}

void wipc__plat_shutdown(void)
{
}

/* ---- pipe: bulk sections (large messages through shared memory) ------------------------------------- */

#if FZ_PIPE_BULK
const uint8_t *fz_bulk_data;
size_t fz_bulk_size;

struct wipc__bulk_section {
    uint8_t *base;
};

int wipc__plat_pipe_bulk_ok(wipc__pipe *p)
{
    (void)p;
    return 1;
}

int wipc__plat_pipe_alive(wipc__pipe *p)
{
    /* a static fuzz section never advances: the peer counts as gone once its stream is used up */
    return !p->eof && p->left > 0;
}

wipc_status wipc__plat_bulk_section(int create, uint32_t owner_pid, uint32_t owner_uid, uint32_t number, uint64_t size,
                                    void **base, wipc__bulk_section **out)
{
    (void)owner_pid;
    (void)owner_uid;
    (void)number;
    if (size > FZ_SECTION_MAX)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "stub bulk section: %llu bytes is above the stub's limit",
                           (unsigned long long)size);
    wipc__bulk_section *s = calloc(1, sizeof *s);
    uint8_t *b = malloc(size ? (size_t)size : 1); /* exactly `size` bytes: ASan sees any access beyond */
    if (!s || !b) {
        free(s);
        free(b);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "stub bulk section: out of memory");
    }
    if (create || !fz_bulk_size) {
        memset(b, 0, (size_t)size);
    } else {
        for (uint64_t i = 0; i < size; i++) /* the peer's section: what the input says, repeated */
            b[i] = fz_bulk_data[i % fz_bulk_size];
    }
    s->base = b;
    *base = b;
    *out = s;
    return WIPC_OK;
}

void wipc__plat_bulk_close(wipc__bulk_section *s)
{
    if (s) {
        free(s->base);
        free(s);
    }
}

void wipc__plat_bulk_wait(wipc__bulk_section *s, _Atomic uint32_t *word, uint32_t val, int32_t ms)
{
    (void)s;
    (void)word;
    (void)val;
    (void)ms; /* never sleeps: callers re-check their deadline and the peer */
}

void wipc__plat_bulk_wake(wipc__bulk_section *s, _Atomic uint32_t *word)
{
    (void)s;
    (void)word;
}
#endif

/* ---- shm -------------------------------------------------------------------------------------------- */

struct wipc__section {
    uint8_t *base;
    uint64_t size;
    bool owned;
};

wipc_status wipc__plat_section_create(const wipc__section_cfg *cfg, wipc__section **out)
{
    if (cfg->size > FZ_SECTION_MAX)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "stub section_create(%s): %llu bytes is above the stub's limit",
                           cfg->name, (unsigned long long)cfg->size);
    wipc__section *s = calloc(1, sizeof *s);
    uint8_t *b = calloc(1, (size_t)cfg->size);
    if (!s || !b) {
        free(s);
        free(b);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "stub section_create: out of memory");
    }
    s->base = b;
    s->size = cfg->size;
    s->owned = true;
    if (cfg->ns != WIPC__SECTION_STATS)
        fz_last_created = b; /* the harnesses scribble on the channel's section, not on its stats */
    *out = s;
    return WIPC_OK;
}

wipc_status wipc__plat_section_open(int ns, const char *name, uint32_t flags, bool readonly, wipc__section **out)
{
    (void)ns;
    (void)flags;
    (void)readonly;
    if (!fz_next_section)
        return wipc__error(WIPC_E_NOT_FOUND, 0, "stub section_open(%s): no section", name);
    wipc__section *s = calloc(1, sizeof *s);
    if (!s)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "stub section_open: out of memory");
    s->base = fz_next_section;
    s->size = fz_next_section_size;
    *out = s;
    return WIPC_OK;
}

wipc_status wipc__plat_section_map_file(const char *path, uint64_t size, bool readonly, wipc__section **out)
{
    (void)size;
    (void)readonly;
    (void)out;
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "stub map_file(%s)", path);
}

void *wipc__plat_section_base(const wipc__section *s)
{
    return s->base;
}
uint64_t wipc__plat_section_size(const wipc__section *s)
{
    return s->size;
}
void wipc__plat_section_prefault(wipc__section *s)
{
    (void)s;
}
void wipc__plat_section_unlink(wipc__section *s)
{
    (void)s;
}

void wipc__plat_section_close(wipc__section *s)
{
    if (!s)
        return;
    if (s->owned)
        free(s->base);
    free(s);
}

wipc_status wipc__plat_shm_wait(wipc__section *s, unsigned index, _Atomic uint32_t *word, uint32_t expected, int32_t ms)
{
    (void)s;
    (void)index;
    (void)word;
    (void)expected;
    (void)ms;
    return WIPC_E_TIMEOUT; /* never sleeps: callers re-check their deadline */
}

void wipc__plat_shm_wake(wipc__section *s, unsigned index, _Atomic uint32_t *word)
{
    (void)s;
    (void)index;
    (void)word;
}

bool wipc__plat_shm_asym_init(void)
{
    return false;
}

bool wipc__plat_shm_heavy_fence(void)
{
    atomic_thread_fence(memory_order_seq_cst);
    return false;
}

void wipc__plat_proc_self(uint32_t *pid, uint32_t *start_key)
{
    *pid = (uint32_t)getpid();
    *start_key = 1;
}

const uint8_t *fz_race_bytes;
size_t fz_race_len, fz_race_off;

int wipc__plat_proc_alive(uint32_t pid, uint32_t start_key)
{
    (void)start_key;
    if (fz_race_len && fz_next_section && fz_race_off < fz_next_section_size) { /* the racing write, once */
        size_t n = fz_race_len < fz_next_section_size - fz_race_off ? fz_race_len
                                                                    : (size_t)(fz_next_section_size - fz_race_off);
        memcpy(fz_next_section + fz_race_off, fz_race_bytes, n);
        fz_race_len = 0;
    }
    return pid != 0 && pid % 3 != 0; /* deterministic: lets the input pick live and dead peers */
}

/* ---- msg -------------------------------------------------------------------------------------------- */

struct wipc__msg_rx {
    struct wipc__msg_ep *ep;
};

wipc_status wipc__plat_msg_listen(const char *name, const wipc__msg_cfg *cfg, struct wipc__msg_ep *ep,
                                  wipc__msg_rx **out)
{
    (void)name;
    (void)cfg;
    wipc__msg_rx *rx = calloc(1, sizeof *rx);
    if (!rx)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "stub msg_listen: out of memory");
    rx->ep = ep;
    fz_last_ep = ep;
    *out = rx;
    return WIPC_OK;
}

void wipc__plat_msg_close(wipc__msg_rx *rx)
{
    if (fz_last_ep == rx->ep)
        fz_last_ep = NULL;
    free(rx);
}

wipc_status wipc__plat_msg_send(const char *name, uint32_t type, const wipc__iov *iov, size_t n, int32_t timeout_ms,
                                uint64_t *out_word)
{
    (void)type;
    (void)iov;
    (void)n;
    (void)timeout_ms;
    (void)out_word;
    return wipc__error(WIPC_E_NOT_FOUND, 0, "stub msg_send(%s): no endpoint", name);
}

wipc_status wipc__plat_msg_send_raw(const wipc__msg_target *t, uint32_t type, const void *data, size_t size,
                                    int32_t timeout_ms, uint64_t *out_word)
{
    (void)type;
    (void)data;
    (void)size;
    (void)timeout_ms;
    (void)out_word;
    return wipc__error(WIPC_E_NOT_FOUND, 0, "stub msg_send(%s): no window", t->text);
}

wipc_status wipc__plat_msg_list(wipc__msg_name_fn fn, void *arg)
{
    (void)fn;
    (void)arg;
    return WIPC_OK;
}

/* ---- discovery (dll/platform_list.h): nothing to find without an OS ----------------------------------- */

wipc_status wipc__plat_list(uint32_t mask, const wipc__list_calls *up, wipc__found_fn fn, void *arg)
{
    (void)mask;
    (void)up;
    (void)fn;
    (void)arg;
    return WIPC_OK;
}

/* The fuzzers' pipes are byte streams, as on POSIX. */
int wipc__plat_pipe_message_mode(wipc__pipe *p)
{
    (void)p;
    return 0;
}

/* No exit watch in the stub: the shm waits poll, as where pidfd_open is missing. */
wipc__proc_watch *wipc__plat_proc_watch(uint32_t pid, uint32_t start_key, void (*on_exit)(void *arg),
                                        void (*on_free)(void *arg), void *arg)
{
    (void)pid;
    (void)start_key;
    (void)on_exit;
    (void)on_free;
    (void)arg;
    return NULL;
}

void wipc__plat_proc_unwatch(wipc__proc_watch *w)
{
    (void)w;
}
