/*
 * b_raw.c - raw OS baselines, measured by the same program in the same run as the wipc cases.
 *
 * Linux:
 *   unix.rtt.S       AF_UNIX stream ping-pong: write S bytes, the peer reads S and writes S back
 *   unix.tput.S      AF_UNIX stream, S-byte messages written back to back, the peer reads 256 KiB at a time
 *   seqpacket.rtt.S  AF_UNIX SOCK_SEQPACKET on one connection: send S bytes, the peer answers 4 bytes
 *   seqconn.rtt.S    the same with one connection per message (what wipc's POSIX msg emulation does)
 *   futex.rtt.64     two processes on a shared page: copy 64 bytes, publish, FUTEX_WAKE / FUTEX_WAIT
 *   spin.rtt.64      the same, busy-waiting instead of futexes
 * Windows (run under Wine here):
 *   npipe.rtt.S      CreateNamedPipeW byte-mode ping-pong, synchronous ReadFile / WriteFile
 *   npipe.tput.S     the same pipe, S-byte messages back to back, the peer reads 256 KiB at a time
 *   copydata.rtt.S   WM_COPYDATA with SendMessageW to a message-only window in the peer (found once)
 *   mapev.rtt.64     a named section + two auto-reset named events: copy 64 bytes, SetEvent, wait
 *   mapspin.rtt.64   the same section, busy-waiting
 * Both:
 *   memcpy.tput.S    memcpy of S bytes (GB/s), in one process
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

#if !defined(_WIN32)
#  include <errno.h>
#  include <linux/futex.h>
#  include <sys/mman.h>
#  include <sys/socket.h>
#  include <sys/syscall.h>
#  include <sys/un.h>
#  include <sys/wait.h>
#  include <unistd.h>
#endif

#define CHUNK  (256 * 1024)
#define M_DATA 1
#define M_SYNC 2
#define M_STOP 9

/* ---- stream throughput (both): AF_UNIX stream / named pipe ---- */

typedef int (*raw_io_fn)(void *conn, void *buf, size_t n, int wr); /* all n bytes, or -1 */

/* S-byte M_DATA messages back to back: a warm-up phase, then a timed phase, each ended by M_SYNC that
 * the peer answers with its count; then M_STOP. Emits the result. */
static int raw_tput(const char *id, const char *what, raw_io_fn io, void *conn, uint8_t *buf, size_t size)
{
    int rc = 0;
    uint64_t n = 0;
    double t0 = 0;
    for (int phase = 0; phase < 2 && !rc; phase++) {
        n = 0;
        t0 = bt_now_us();
        double end = t0 + bt_tput_secs * (phase ? 1e6 : 0.15e6);
        buf[0] = M_DATA;
        do {
            for (int i = 0; i < 16; i++, n++)
                if (io(conn, buf, size, 1)) {
                    rc = 1;
                    break;
                }
        } while (!rc && bt_now_us() < end);
        uint64_t peer = 0;
        buf[0] = M_SYNC;
        if (rc || io(conn, buf, size, 1) || io(conn, &peer, sizeof peer, 0) || peer != n) {
            bt_emit_error(id, "%s throughput: sent %llu, the peer counted %llu", what, (unsigned long long)n,
                          (unsigned long long)peer);
            rc = 1;
        }
    }
    if (!rc)
        bt_emit_tput(id, size, n, (bt_now_us() - t0) / 1e6);
    buf[0] = M_STOP;
    io(conn, buf, size, 1);
    return rc;
}

/* ---- memcpy (both) ---- */

static int run_memcpy(const bt_case *bc, const char *id)
{
    size_t size = bc->size;
    uint8_t *a = bt_alloc(size), *b = bt_alloc(size);
    memset(a, 1, size);
    memset(b, 2, size);
    uint64_t n = 0;
    int batch = size >= 65536 ? 4 : 4096;
    double t0 = bt_now_us(), end = t0 + bt_tput_secs * 1e6 * 0.5;
    do {
        for (int i = 0; i < batch; i++) {
            memcpy((n & 1) ? a : b, (n & 1) ? b : a, size);
            __asm__ volatile("" ::: "memory");
            n++;
        }
    } while (bt_now_us() < end);
    bt_emit_tput(id, size, n, (bt_now_us() - t0) / 1e6);
    bt_free(a);
    bt_free(b);
    return 0;
}

/* Counts S-byte messages in a byte stream read in big chunks; returns the marker of a message that
 * starts in this chunk with a non-DATA first byte (SYNC / STOP), else 0. *off = offset in the current message. */
static int scan_chunk(const uint8_t *p, size_t n, size_t size, size_t *off, uint64_t *count)
{
    int marker = 0;
    size_t i = 0;
    while (i < n) {
        if (*off == 0) {
            if (p[i] != M_DATA && !marker)
                marker = p[i];
            else if (p[i] == M_DATA)
                (*count)++;
        }
        size_t take = size - *off;
        if (take > n - i)
            take = n - i;
        i += take;
        *off = (*off + take) % size;
    }
    return marker;
}

#if !defined(_WIN32)

/* ================================== Linux ================================== */

static void unix_path(const char *name, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof sa->sun_path, "/tmp/%s.sock", name);
}

static int io_all(int fd, void *buf, size_t n, int wr)
{
    uint8_t *p = buf;
    while (n) {
        ssize_t r = wr ? write(fd, p, n) : read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int sock_io(void *fd, void *buf, size_t n, int wr)
{
    return io_all(*(int *)fd, buf, n, wr);
}

static int listen_accept(const char *name, int type, int *listener)
{
    struct sockaddr_un sa;
    unix_path(name, &sa);
    int l = socket(AF_UNIX, type, 0);
    unlink(sa.sun_path);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 16))
        return -1;
    if (listener) {
        *listener = l;
        return 0;
    }
    int c = accept(l, NULL, NULL);
    close(l);
    unlink(sa.sun_path);
    return c;
}

static int connect_to(const char *name, int type, int retry_ms)
{
    struct sockaddr_un sa;
    unix_path(name, &sa);
    double end = bt_now_us() + retry_ms * 1e3;
    for (;;) {
        int s = socket(AF_UNIX, type, 0);
        if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof sa) == 0)
            return s;
        if (s >= 0)
            close(s);
        if (bt_now_us() > end)
            return -1;
        bt_sleep_ms(2);
    }
}

/* peer <impl> <metric> <name> <size> */
static int sock_peer(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *impl = argv[0], *metric = argv[1], *name = argv[2];
    size_t size = (size_t)strtoull(argv[3], NULL, 10);
    uint8_t *buf = bt_alloc(size > CHUNK ? size : CHUNK);
    if (!strcmp(impl, "unix")) {
        int c = listen_accept(name, SOCK_STREAM, NULL);
        if (c < 0)
            return 1;
        if (!strcmp(metric, "rtt")) {
            while (io_all(c, buf, size, 0) == 0)
                if (io_all(c, buf, size, 1))
                    break;
        } else {
            uint64_t count = 0;
            size_t off = 0;
            for (;;) {
                ssize_t r = read(c, buf, CHUNK);
                if (r <= 0)
                    break;
                int mk = scan_chunk(buf, (size_t)r, size, &off, &count);
                if (mk == M_STOP)
                    break;
                if (mk == M_SYNC) {
                    /* the sync message may straddle chunks: drain it, then answer */
                    while (off != 0) {
                        size_t want = size - off;
                        r = read(c, buf, want < CHUNK ? want : CHUNK);
                        if (r <= 0)
                            return 1;
                        off = (off + (size_t)r) % size;
                    }
                    if (io_all(c, &count, sizeof count, 1))
                        break;
                    count = 0;
                }
            }
        }
        close(c);
    } else if (!strcmp(impl, "seqpacket")) {
        int c = listen_accept(name, SOCK_SEQPACKET, NULL);
        if (c < 0)
            return 1;
        int32_t reply = (int32_t)size;
        for (;;) {
            ssize_t r = recv(c, buf, size ? size : 1, 0);
            if (r <= 0 && size)
                break;
            if (r < 0)
                break;
            if (send(c, &reply, sizeof reply, 0) != sizeof reply)
                break;
            if (!size && r == 0)
                continue;
        }
        close(c);
    } else if (!strcmp(impl, "seqconn")) {
        int l;
        if (listen_accept(name, SOCK_SEQPACKET, &l) < 0)
            return 1;
        int32_t reply = (int32_t)size;
        for (;;) {
            int c = accept(l, NULL, NULL);
            if (c < 0)
                break;
            ssize_t r = recv(c, buf, size, 0);
            if (r <= 0) {
                close(c);
                break; /* the stop connection sends nothing */
            }
            int ok = send(c, &reply, sizeof reply, 0) == sizeof reply;
            close(c);
            if (!ok)
                break;
        }
        close(l);
        struct sockaddr_un sa;
        unix_path(name, &sa);
        unlink(sa.sun_path);
    }
    bt_free(buf);
    return 0;
}

typedef struct sctx {
    int fd;
    const char *name;
    uint8_t *buf;
    size_t size;
    int type;
} sctx;

static int once_stream(void *p, char *err, size_t cap)
{
    sctx *s = p;
    if (io_all(s->fd, s->buf, s->size, 1) || io_all(s->fd, s->buf, s->size, 0)) {
        snprintf(err, cap, "AF_UNIX ping-pong: %s", strerror(errno));
        return 1;
    }
    return 0;
}

static int once_seqpacket(void *p, char *err, size_t cap)
{
    sctx *s = p;
    int32_t r;
    if (send(s->fd, s->buf, s->size, 0) != (ssize_t)s->size || recv(s->fd, &r, sizeof r, 0) != sizeof r) {
        snprintf(err, cap, "seqpacket ping-pong: %s", strerror(errno));
        return 1;
    }
    return 0;
}

static int once_seqconn(void *p, char *err, size_t cap)
{
    sctx *s = p;
    int32_t r;
    int fd = connect_to(s->name, SOCK_SEQPACKET, 2000);
    if (fd < 0 || send(fd, s->buf, s->size, 0) != (ssize_t)s->size || recv(fd, &r, sizeof r, 0) != sizeof r) {
        snprintf(err, cap, "seqpacket connection per message: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return 1;
    }
    close(fd);
    return 0;
}

static int run_sock(const bt_case *bc, const char *id)
{
    char name[96];
    bt_child child;
    if (bt_start_named_peer(bc, id, name, sizeof name, &child))
        return 1;
    sctx s = { -1, name, bt_alloc(bc->size > CHUNK ? bc->size : CHUNK), bc->size, 0 };
    int rc = 1;
    int type = !strcmp(bc->impl, "unix") ? SOCK_STREAM : SOCK_SEQPACKET;
    if (strcmp(bc->impl, "seqconn")) {
        s.fd = connect_to(name, type, 20000);
        if (s.fd < 0) {
            bt_emit_error(id, "cannot connect to the peer: %s", strerror(errno));
            bt_kill(&child);
            goto out;
        }
    } else {
        int probe = connect_to(name, SOCK_SEQPACKET, 20000); /* wait until the peer listens */
        if (probe < 0) {
            bt_emit_error(id, "cannot connect to the peer");
            bt_kill(&child);
            goto out;
        }
        int32_t r;
        send(probe, "x", 1, 0);
        recv(probe, &r, sizeof r, 0);
        close(probe);
    }
    if (!strcmp(bc->metric, "rtt")) {
        rc = bt_rtt_loop(id,
                         !strcmp(bc->impl, "unix")        ? once_stream
                         : !strcmp(bc->impl, "seqpacket") ? once_seqpacket
                                                          : once_seqconn,
                         &s);
    } else {
        rc = raw_tput(id, "AF_UNIX stream", sock_io, &s.fd, s.buf, s.size);
    }
    if (s.fd >= 0)
        close(s.fd);
    if (!strcmp(bc->impl, "seqconn")) {
        int fd = connect_to(name, SOCK_SEQPACKET, 1000); /* stop: a connection that sends nothing */
        if (fd >= 0)
            close(fd);
    }
    bt_wait(&child, 10000);
out:
    bt_free(s.buf);
    return rc;
}

/* ---- futex / spin ping-pong on a shared page (fork: the child only touches the page) ---- */

typedef struct pp_page {
    _Alignas(64) _Atomic uint32_t a; /* parent -> child sequence */
    _Alignas(64) _Atomic uint32_t b; /* child -> parent sequence */
    _Alignas(64) uint8_t req[64];
    _Alignas(64) uint8_t resp[64];
} pp_page;

static void fwait(_Atomic uint32_t *w, uint32_t v)
{
    while (atomic_load(w) == v)
        syscall(SYS_futex, w, FUTEX_WAIT, v, NULL, NULL, 0);
}
static void fwake(_Atomic uint32_t *w)
{
    syscall(SYS_futex, w, FUTEX_WAKE, 1, NULL, NULL, 0);
}

typedef struct ppctx {
    pp_page *p;
    int futex;
    uint32_t seq;
    uint8_t out[64], in[64];
} ppctx;

static int once_pp(void *arg, char *err, size_t cap)
{
    (void)err;
    (void)cap;
    ppctx *c = arg;
    uint32_t s = ++c->seq;
    memcpy(c->p->req, c->out, 64);
    atomic_store(&c->p->a, s);
    if (c->futex) {
        fwake(&c->p->a);
        fwait(&c->p->b, s - 1);
    } else {
        while (atomic_load(&c->p->b) != s)
            __builtin_ia32_pause();
    }
    memcpy(c->in, c->p->resp, 64);
    return 0;
}

static int run_pp(const bt_case *bc, const char *id)
{
    int futex = !strcmp(bc->impl, "futex");
    pp_page *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        bt_emit_error(id, "mmap failed");
        return 1;
    }
    memset(p, 0, sizeof *p);
    bt_child child;
    memset(&child, 0, sizeof child);
    pid_t pid = fork();
    if (pid == 0) {
        for (uint32_t i = 1;; i++) {
            if (futex)
                fwait(&p->a, i - 1);
            else
                while (atomic_load(&p->a) == i - 1)
                    __builtin_ia32_pause();
            if (atomic_load(&p->a) == UINT32_MAX)
                _exit(0);
            memcpy(p->resp, p->req, 64);
            atomic_store(&p->b, i);
            if (futex)
                fwake(&p->b);
        }
    }
    child.pid = pid;
    child.live = pid > 0;
    bt_watch(id, &child);
    ppctx c;
    memset(&c, 0, sizeof c);
    c.p = p;
    c.futex = futex;
    int rc = bt_rtt_loop(id, once_pp, &c);
    atomic_store(&p->a, UINT32_MAX);
    fwake(&p->a);
    bt_wait(&child, 5000);
    munmap(p, 4096);
    return rc;
}

#  define S(impl, metric, size, run, peer)                                                                             \
    {                                                                                                                  \
      impl, metric, size, run, peer                                                                                    \
    }
static const bt_case cases[] = {
    S("unix", "rtt", 64, run_sock, sock_peer),
    S("unix", "rtt", 4096, run_sock, sock_peer),
    S("unix", "rtt", 65536, run_sock, sock_peer),
    S("unix", "tput", 64, run_sock, sock_peer),
    S("unix", "tput", 65536, run_sock, sock_peer),
    S("unix", "tput", 1048576, run_sock, sock_peer),
    S("seqpacket", "rtt", 64, run_sock, sock_peer),
    S("seqpacket", "rtt", 4096, run_sock, sock_peer),
    S("seqpacket", "rtt", 65536, run_sock, sock_peer),
    S("seqconn", "rtt", 64, run_sock, sock_peer),
    S("futex", "rtt", 64, run_pp, NULL),
    S("spin", "rtt", 64, run_pp, NULL),
    S("memcpy", "tput", 64, run_memcpy, NULL),
    S("memcpy", "tput", 65536, run_memcpy, NULL),
    S("memcpy", "tput", 1048576, run_memcpy, NULL),
};

#else

/* ================================== Windows ================================== */

static void pipe_path(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "\\\\.\\pipe\\%s", name);
}

static int w_io(HANDLE f, void *buf, size_t n, int wr)
{
    uint8_t *p = buf;
    while (n) {
        DWORD done = 0;
        BOOL ok = wr ? WriteFile(f, p, (DWORD)n, &done, NULL) : ReadFile(f, p, (DWORD)n, &done, NULL);
        if (!ok || done == 0)
            return -1;
        p += done;
        n -= done;
    }
    return 0;
}

static int handle_io(void *h, void *buf, size_t n, int wr)
{
    return w_io(*(HANDLE *)h, buf, n, wr);
}

static int npipe_peer(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *metric = argv[1], *name = argv[2];
    size_t size = (size_t)strtoull(argv[3], NULL, 10);
    char path[256];
    pipe_path(name, path, sizeof path);
    HANDLE h = CreateNamedPipeA(path, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 65536,
                                65536, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return 1;
    if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
        return 1;
    uint8_t *buf = bt_alloc(size > CHUNK ? size : CHUNK);
    if (!strcmp(metric, "rtt")) {
        while (w_io(h, buf, size, 0) == 0)
            if (w_io(h, buf, size, 1))
                break;
    } else {
        uint64_t count = 0;
        size_t off = 0;
        for (;;) {
            DWORD r = 0;
            if (!ReadFile(h, buf, CHUNK, &r, NULL) || r == 0)
                break;
            int mk = scan_chunk(buf, r, size, &off, &count);
            if (mk == M_STOP)
                break;
            if (mk == M_SYNC) {
                while (off != 0) {
                    size_t want = size - off;
                    if (!ReadFile(h, buf, (DWORD)(want < CHUNK ? want : CHUNK), &r, NULL) || r == 0)
                        return 1;
                    off = (off + r) % size;
                }
                if (w_io(h, &count, sizeof count, 1))
                    break;
                count = 0;
            }
        }
    }
    CloseHandle(h);
    bt_free(buf);
    return 0;
}

typedef struct wctx {
    HANDLE h;
    HWND hwnd;
    uint8_t *buf;
    size_t size;
} wctx;

static int once_npipe(void *p, char *err, size_t cap)
{
    wctx *c = p;
    if (w_io(c->h, c->buf, c->size, 1) || w_io(c->h, c->buf, c->size, 0)) {
        snprintf(err, cap, "named pipe ping-pong failed (error %lu)", (unsigned long)GetLastError());
        return 1;
    }
    return 0;
}

static int run_npipe(const bt_case *bc, const char *id)
{
    char name[96], path[256];
    bt_child child;
    if (bt_start_named_peer(bc, id, name, sizeof name, &child))
        return 1;
    pipe_path(name, path, sizeof path);
    wctx c = { INVALID_HANDLE_VALUE, NULL, bt_alloc(bc->size > CHUNK ? bc->size : CHUNK), bc->size };
    double end = bt_now_us() + 30e6;
    while ((c.h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL)) ==
               INVALID_HANDLE_VALUE &&
           bt_now_us() < end)
        bt_sleep_ms(3);
    int rc = 1;
    if (c.h == INVALID_HANDLE_VALUE) {
        bt_emit_error(id, "cannot open the peer's pipe");
        bt_kill(&child);
        bt_free(c.buf);
        return 1;
    }
    if (!strcmp(bc->metric, "rtt")) {
        rc = bt_rtt_loop(id, once_npipe, &c);
    } else {
        rc = raw_tput(id, "named pipe", handle_io, &c.h, c.buf, c.size);
    }
    CloseHandle(c.h);
    bt_wait(&child, 10000);
    bt_free(c.buf);
    return rc;
}

/* ---- WM_COPYDATA ---- */

static LRESULT CALLBACK cd_proc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == WM_COPYDATA) {
        const COPYDATASTRUCT *cds = (const COPYDATASTRUCT *)lp;
        if (cds->dwData == M_STOP)
            PostQuitMessage(0);
        return (LRESULT)cds->cbData;
    }
    return DefWindowProcA(hwnd, msg, wp, lp);
}

static int copydata_peer(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *name = argv[2];
    WNDCLASSA wc;
    memset(&wc, 0, sizeof wc);
    wc.lpfnWndProc = cd_proc;
    wc.hInstance = GetModuleHandleA(NULL);
    wc.lpszClassName = name;
    if (!RegisterClassA(&wc))
        return 1;
    HWND w = CreateWindowExA(0, name, name, 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, wc.hInstance, NULL);
    if (!w)
        return 1;
    MSG m;
    while (GetMessageA(&m, NULL, 0, 0) > 0) {
        TranslateMessage(&m);
        DispatchMessageA(&m);
    }
    DestroyWindow(w);
    return 0;
}

static int once_copydata(void *p, char *err, size_t cap)
{
    wctx *c = p;
    COPYDATASTRUCT cds = { M_DATA, (DWORD)c->size, c->buf };
    LRESULT r = SendMessageA(c->hwnd, WM_COPYDATA, 0, (LPARAM)&cds);
    if (r != (LRESULT)c->size) {
        snprintf(err, cap, "WM_COPYDATA returned %ld", (long)r);
        return 1;
    }
    return 0;
}

static int run_copydata(const bt_case *bc, const char *id)
{
    char name[96];
    bt_child child;
    if (bt_start_named_peer(bc, id, name, sizeof name, &child))
        return 1;
    wctx c = { NULL, NULL, bt_alloc(bc->size), bc->size };
    double end = bt_now_us() + 30e6;
    while (!(c.hwnd = FindWindowExA(HWND_MESSAGE, NULL, name, NULL)) && bt_now_us() < end)
        bt_sleep_ms(5);
    int rc = 1;
    if (!c.hwnd) {
        bt_emit_error(id, "the peer's window did not appear");
        bt_kill(&child);
    } else {
        rc = bt_rtt_loop(id, once_copydata, &c);
        COPYDATASTRUCT cds = { M_STOP, 0, NULL };
        SendMessageTimeoutA(c.hwnd, WM_COPYDATA, 0, (LPARAM)&cds, SMTO_ABORTIFHUNG, 5000, NULL);
        bt_wait(&child, 10000);
    }
    bt_free(c.buf);
    return rc;
}

/* ---- section + events / spin ---- */

typedef struct map_page {
    volatile LONG a, b, stop;
    LONG pad[13];
    uint8_t req[64];
    uint8_t resp[64];
} map_page;

static int map_names(const char *name, char *sec, char *ea, char *eb, size_t cap)
{
    snprintf(sec, cap, "Local\\%s", name);
    snprintf(ea, cap, "Local\\%s-a", name);
    snprintf(eb, cap, "Local\\%s-b", name);
    return 0;
}

static int mapev_peer(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    int spin = !strcmp(argv[0], "mapspin");
    char sec[128], ea[128], eb[128];
    map_names(argv[2], sec, ea, eb, sizeof sec);
    HANDLE m = OpenFileMappingA(FILE_MAP_ALL_ACCESS, FALSE, sec);
    HANDLE a = OpenEventA(EVENT_ALL_ACCESS, FALSE, ea), b = OpenEventA(EVENT_ALL_ACCESS, FALSE, eb);
    if (!m || !a || !b)
        return 1;
    map_page *p = MapViewOfFile(m, FILE_MAP_ALL_ACCESS, 0, 0, 4096);
    if (!p)
        return 1;
    for (LONG i = 1;; i++) {
        if (spin)
            while (p->a != i && !p->stop)
                YieldProcessor();
        else
            WaitForSingleObject(a, INFINITE);
        if (p->stop)
            break;
        memcpy(p->resp, p->req, 64);
        InterlockedExchange(&p->b, i);
        if (!spin)
            SetEvent(b);
    }
    return 0;
}

typedef struct mctx {
    map_page *p;
    HANDLE a, b;
    int spin;
    LONG seq;
    uint8_t out[64], in[64];
} mctx;

static int once_map(void *arg, char *err, size_t cap)
{
    mctx *c = arg;
    LONG s = ++c->seq;
    memcpy(c->p->req, c->out, 64);
    InterlockedExchange(&c->p->a, s);
    if (c->spin) {
        while (c->p->b != s)
            YieldProcessor();
    } else {
        SetEvent(c->a);
        if (WaitForSingleObject(c->b, 10000) != WAIT_OBJECT_0 || c->p->b != s) {
            snprintf(err, cap, "event ping-pong out of step");
            return 1;
        }
    }
    memcpy(c->in, c->p->resp, 64);
    return 0;
}

static int run_map(const bt_case *bc, const char *id)
{
    char name[96], sec[128], ea[128], eb[128];
    bt_name(name, sizeof name, bc->impl);
    map_names(name, sec, ea, eb, sizeof sec);
    mctx c;
    memset(&c, 0, sizeof c);
    c.spin = !strcmp(bc->impl, "mapspin");
    HANDLE m = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 4096, sec);
    c.a = CreateEventA(NULL, FALSE, FALSE, ea);
    c.b = CreateEventA(NULL, FALSE, FALSE, eb);
    c.p = m ? MapViewOfFile(m, FILE_MAP_ALL_ACCESS, 0, 0, 4096) : NULL;
    if (!c.p || !c.a || !c.b) {
        bt_emit_error(id, "cannot create the section / events");
        return 1;
    }
    bt_child child;
    if (bt_start_peer(bc, id, name, &child))
        return 1;
    int rc = bt_rtt_loop(id, once_map, &c);
    c.p->stop = 1;
    SetEvent(c.a);
    bt_wait(&child, 10000);
    UnmapViewOfFile(c.p);
    CloseHandle(m);
    CloseHandle(c.a);
    CloseHandle(c.b);
    return rc;
}

#  define S(impl, metric, size, run, peer)                                                                             \
    {                                                                                                                  \
      impl, metric, size, run, peer                                                                                    \
    }
static const bt_case cases[] = {
    S("npipe", "rtt", 64, run_npipe, npipe_peer),
    S("npipe", "rtt", 4096, run_npipe, npipe_peer),
    S("npipe", "rtt", 65536, run_npipe, npipe_peer),
    S("npipe", "tput", 64, run_npipe, npipe_peer),
    S("npipe", "tput", 65536, run_npipe, npipe_peer),
    S("npipe", "tput", 1048576, run_npipe, npipe_peer),
    S("copydata", "rtt", 64, run_copydata, copydata_peer),
    S("copydata", "rtt", 4096, run_copydata, copydata_peer),
    S("copydata", "rtt", 65536, run_copydata, copydata_peer),
    S("mapev", "rtt", 64, run_map, mapev_peer),
    S("mapspin", "rtt", 64, run_map, mapev_peer),
    S("memcpy", "tput", 64, run_memcpy, NULL),
    S("memcpy", "tput", 65536, run_memcpy, NULL),
    S("memcpy", "tput", 1048576, run_memcpy, NULL),
};
#endif

BT_CASE_LIST(bt_cases_raw, cases)
