/*
 * async_peer.c - the helper process of the asynchronous-operation tests (test_async.c, python-tests).
 *
 *   async_peer error-server NAME
 *       listens on NAME with callbacks, prints "READY", serves until killed: a request of type 99 is
 *       answered with wipc_reply_error(code 42, "bad thing: <its bytes>"), type 98 is never
 *       answered, any other request gets its own bytes back with type+1 (wipc_reply from the
 *       callback); plain messages are dropped.
 *   async_peer noread NAME COUNT SIZE
 *       a client written against the OS (AF_UNIX socket / CreateFileA): connects to NAME, sends the
 *       wipc HELLO, prints "READY", sends COUNT requests of SIZE bytes and never reads anything (a
 *       peer that does not read its replies); prints "SENT" (or stops when the
 *       server ends the connection), then blocks until killed.
 *   async_peer error-client NAME
 *       connects to NAME, sends one request of type 7 ("why?") and prints "REMOTE <code> <message>"
 *       for a remote error (wipc_last_remote_code, wipc_last_error_message), else "STATUS <name>";
 *       exit 0 if it got WIPC_E_REMOTE, 1 otherwise.
 *   async_peer slow-reader NAME COUNT PAUSE_MS
 *       connects to NAME, prints "READY", reads COUNT messages, pausing PAUSE_MS before every 2,000 (a
 *       reader slower than its writer): message i must have type i, wt_wb_size(i) bytes and the
 *       wt_fill(i) pattern; prints "GOT <count>" and exits 0, or prints what was wrong and exits 1
 *       (test_pipe_writebehind.c).
 *
 * Exit codes: 0 ok, 1 test failure, 2 setup failure, 64 usage.
 */
#include "raw_frame.h"
#include "support.h"
#include "writebehind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "async_peer"

static uint32_t wt_self_pid_peer(void)
{
#ifdef _WIN32
    return (uint32_t)GetCurrentProcessId();
#else
    return (uint32_t)getpid();
#endif
}

static int32_t WIPC_CALL on_request(wipc_handle h, const wipc_message *m, void *user)
{
    (void)user;
    if (!m->request_id || m->type == 98)
        return 0;
    if (m->type == 99) {
        char text[256];
        snprintf(text, sizeof text, "bad thing: %.*s", (int)(m->size < 200 ? m->size : 200), (const char *)m->data);
        wipc_reply_error(h, m->request_id, 42, text);
    } else {
        wipc_reply(h, m->request_id, m->type + 1, m->data, m->size);
    }
    return 0;
}

static int cmd_error_server(const char *name)
{
    wipc_handle srv = 0;
    wipc_status s = wipc_pipe_listen(name, NULL, &srv);
    if (s == WIPC_OK)
        s = wipc_set_callbacks(srv, on_request, NULL, NULL);
    if (s != WIPC_OK) {
        wt_peer_report(PROG, "listen", s);
        return 2;
    }
    wt_peer_ready();
    wt_peer_block_forever();
    return 0;
}

#ifdef _WIN32
typedef HANDLE raw_fd;
static raw_fd raw_open(const char *name)
{
    char path[300];
    snprintf(path, sizeof path, "\\\\.\\pipe\\wipc-%s", name);
    for (int i = 0; i < 1000; i++) {
        HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h != INVALID_HANDLE_VALUE)
            return h;
        Sleep(10);
    }
    return NULL;
}
static int raw_write(raw_fd f, const void *p, size_t n)
{
    DWORD w = 0;
    return WriteFile(f, p, (DWORD)n, &w, NULL) && w == n ? 0 : -1;
}
#else
#  include <sys/socket.h>
#  include <sys/un.h>
typedef int raw_fd;
static raw_fd raw_open(const char *name)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/p.%s", wt_run_dir(), name);
    for (int i = 0; i < 1000; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            return fd;
        if (fd >= 0)
            close(fd);
        wt_sleep_ms(10);
    }
    return 0;
}
static int raw_write(raw_fd f, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t r = send(f, b, n, MSG_NOSIGNAL);
        if (r <= 0)
            return -1;
        b += r;
        n -= (size_t)r;
    }
    return 0;
}
#endif

/* A wipc client written against the OS: HELLO, then `count` requests of `size` bytes; it never
 * reads anything (not even the server's HELLO). */
static int cmd_noread(const char *name, long count, size_t size)
{
    raw_fd f = raw_open(name);
    if (!f) {
        fprintf(stderr, PROG ": cannot connect to %s\n", name);
        return 2;
    }
    uint8_t *frame = calloc(1, 24 + (size > 16 ? size : 16));
    if (!frame)
        return 2;
    wt_raw_hello(frame, wt_self_pid_peer());
    if (raw_write(f, frame, WT_RAW_HELLO) != 0)
        return 2;
    wt_peer_ready();
    for (long i = 0; i < count; i++) {
        wt_raw_header(frame, 2, 1, (uint32_t)size, (uint64_t)i + 1);
        if (raw_write(f, frame, 24 + size) != 0)
            break; /* the server ended the connection */
    }
    printf("SENT\n");
    fflush(stdout);
    wt_peer_block_forever();
    return 0;
}

static int cmd_error_client(const char *name)
{
    wipc_handle c = 0;
    wipc_status s = wipc_pipe_connect(name, NULL, 10000, &c);
    if (s != WIPC_OK) {
        wt_peer_report(PROG, "wipc_pipe_connect", s);
        return 2;
    }
    char resp[64];
    size_t got = 0;
    s = wipc_request(c, 7, "why?", 4, resp, sizeof resp, &got, 10000);
    if (s == WIPC_E_REMOTE)
        printf("REMOTE %d %s\n", (int)wipc_last_remote_code(), wipc_last_error_message());
    else
        printf("STATUS %s\n", wipc_status_name(s));
    fflush(stdout);
    wipc_close(c);
    return s == WIPC_E_REMOTE ? 0 : 1;
}

static int cmd_slow_reader(const char *name, long count, int pause_ms)
{
    wipc_handle c = 0;
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_WAIT_FOR_SERVER;
    o.max_queued_messages = 16; /* little read ahead of the application: the writer gets ahead */
    wipc_status s = wipc_pipe_connect(name, &o, 10000, &c);
    if (s != WIPC_OK) {
        wt_peer_report(PROG, "wipc_pipe_connect", s);
        return 2;
    }
    wt_peer_ready();
    size_t cap = WT_WB_BIG + 64;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return 2;
    long i = 0;
    for (; i < count; i++) {
        if (i % 2000 == 0)
            wt_sleep_ms(pause_ms); /* before the first message too: the writer gets ahead at once */
        size_t got = 0;
        uint32_t type = 0;
        s = wipc_recv(c, buf, cap, &got, &type, 30000);
        if (s != WIPC_OK) {
            printf("RECV %ld %s\n", i, wipc_status_name(s));
            break;
        }
        if (type != (uint32_t)i || got != wt_wb_size((uint32_t)i) || !wt_check(buf, got, (uint32_t)i)) {
            printf("BAD %ld type %u size %zu\n", i, (unsigned)type, got);
            break;
        }
    }
    printf("GOT %ld\n", i);
    fflush(stdout);
    free(buf);
    wipc_close(c);
    return i == count ? 0 : 1;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: " PROG " error-server NAME | noread NAME | error-client NAME | slow-reader NAME COUNT PAUSE_MS\n");
    return 64;
}

int main(int argc, char **argv)
{
    if (wt_peer_die_with_parent() != 0)
        return 2;
    if (argc < 3)
        return usage();
    if (strcmp(argv[1], "error-server") == 0)
        return cmd_error_server(argv[2]);
    if (strcmp(argv[1], "noread") == 0 && argc >= 5)
        return cmd_noread(argv[2], strtol(argv[3], NULL, 10), (size_t)strtoul(argv[4], NULL, 10));
    if (strcmp(argv[1], "error-client") == 0)
        return cmd_error_client(argv[2]);
    if (strcmp(argv[1], "slow-reader") == 0 && argc >= 5)
        return cmd_slow_reader(argv[2], strtol(argv[3], NULL, 10), atoi(argv[4]));
    return usage();
}
