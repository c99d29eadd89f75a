/*
 * peer.c - wipc_peer, the helper process of the cross-process tests (C and Python).
 *
 *   wipc_peer echo-server NAME [--count N] [--max-msg BYTES]
 *       listens on NAME, prints "READY", then serves N connections one after the other (default:
 *       until killed). Each request (wipc_request) is answered with wipc_reply: the same bytes,
 *       type+1. Each plain message is sent back with the same bytes, type+1. Exit 0.
 *   wipc_peer client NAME N
 *       connects to NAME (waiting up to 10 s), does N requests of varying sizes (0 .. 100000 bytes)
 *       checking each reply has the request's bytes, then N/4+1 plain messages checking the echo
 *       (same bytes, type+1, if the server echoes plain messages; see --no-plain). Prints "DONE N"
 *       and exits 0; 1 on a mismatch or error (details on stderr), 2 if it cannot connect.
 *       Option --no-plain: requests only.
 *   wipc_peer hold NAME
 *       connects to NAME, prints "READY", then blocks forever (to be killed).
 *   wipc_peer squat NAME
 *       listens on NAME, prints "READY", then blocks forever (to be killed).
 *   wipc_peer raw-server PATH
 *       a plain OS server without wipc framing: Linux an AF_UNIX stream socket bound at the absolute
 *       path PATH; Windows a CreateNamedPipeW message-mode server at PATH if it starts with "\\",
 *       else at \\.\pipe\PATH. Prints "READY"; echoes every chunk/message it reads, for one client
 *       after another, until killed.
 *
 * Exit codes: 0 ok, 1 test failure, 2 setup failure, 64 usage.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32 /* <windows.h> / <unistd.h>: support.h */
#  include <errno.h>
#  include <signal.h>
#  include <sys/socket.h>
#  include <sys/un.h>
#endif

#define PROG "wipc_peer"

static int fail_status(const char *what, wipc_status s)
{
    wt_peer_report(PROG, what, s);
    return s;
}

/* ---- echo-server ------------------------------------------------------------------------------- */

static int cmd_echo_server(const char *name, long count, uint32_t max_msg)
{
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    if (max_msg)
        o.max_message_size = max_msg;
    wipc_handle srv = 0;
    wipc_status s = wipc_pipe_listen(name, &o, &srv);
    if (s != WIPC_OK)
        return fail_status("wipc_pipe_listen", s), 2;
    wt_peer_ready();

    size_t cap = (size_t)o.max_message_size;
    uint8_t *buf = (uint8_t *)malloc(cap ? cap : 1);
    if (!buf)
        return 2;
    for (long served = 0; count < 0 || served < count; served++) {
        wipc_handle c = 0;
        do {
            s = wipc_pipe_accept(srv, 60000, &c);
        } while (s == WIPC_E_TIMEOUT);
        if (s != WIPC_OK)
            return fail_status("wipc_pipe_accept", s), 2;
        wt_peer_echo(PROG, c, buf, cap); /* until the client goes, or a failure (reported) */
        wipc_close(c);
    }
    wipc_close(srv);
    free(buf);
    return 0;
}

/* ---- client ------------------------------------------------------------------------------------ */

static size_t client_size(long i)
{
    if (i % 10 == 3)
        return 100000;
    if (i % 10 == 7)
        return 0;
    return (size_t)((i * 131) % 3000) + 1;
}

static int cmd_client(const char *name, long n, int plain)
{
    wipc_handle c = 0;
    wipc_status s = wt_connect_waiting(name, 10000, &c);
    if (s != WIPC_OK)
        return fail_status("wipc_pipe_connect", s), 2;
    uint8_t *req = (uint8_t *)malloc(100000), *resp = (uint8_t *)malloc(100001);
    if (!req || !resp)
        return 2;
    int rc = 0;
    for (long i = 0; i < n && rc == 0; i++) {
        size_t sz = client_size(i), got = (size_t)-1;
        wt_fill(req, sz, (uint32_t)i);
        s = wipc_request(c, (uint32_t)(1000 + i), req, sz, resp, 100001, &got, 10000);
        if (s != WIPC_OK) {
            fail_status("wipc_request", s);
            rc = 1;
        } else if (got != sz || !wt_check(resp, sz, (uint32_t)i)) {
            fprintf(stderr, "wipc_peer: request %ld: reply of %zu bytes does not match the %zu sent\n", i, got, sz);
            rc = 1;
        }
    }
    for (long i = 0; plain && i < n / 4 + 1 && rc == 0; i++) {
        size_t sz = client_size(i + 5), got = (size_t)-1;
        uint32_t type = 0;
        wt_fill(req, sz, (uint32_t)(i + 77));
        s = wipc_send(c, (uint32_t)(50 + i), req, sz, 10000);
        if (s != WIPC_OK) {
            fail_status("wipc_send", s);
            rc = 1;
            break;
        }
        s = wipc_recv(c, resp, 100001, &got, &type, 10000);
        if (s != WIPC_OK) {
            fail_status("wipc_recv", s);
            rc = 1;
        } else if (got != sz || type != (uint32_t)(51 + i) || !wt_check(resp, sz, (uint32_t)(i + 77))) {
            fprintf(stderr, "wipc_peer: plain message %ld: echo of %zu bytes type %u, expected %zu bytes type %u\n", i,
                    got, type, sz, (unsigned)(51 + i));
            rc = 1;
        }
    }
    wipc_close(c);
    free(req);
    free(resp);
    if (rc == 0) {
        printf("DONE %ld\n", n);
        fflush(stdout);
    }
    return rc;
}

/* ---- raw-server: plain OS calls, no wipc --------------------------------------------------------- */

#ifdef _WIN32
static int cmd_raw_server(const char *name)
{
    char full[1024];
    if (name[0] == '\\' && name[1] == '\\')
        snprintf(full, sizeof full, "%s", name);
    else
        snprintf(full, sizeof full, "\\\\.\\pipe\\%s", name);
    wchar_t wname[1024];
    MultiByteToWideChar(CP_UTF8, 0, full, -1, wname, 1024);
    HANDLE h = CreateNamedPipeW(wname, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE,
                                PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE | PIPE_WAIT, 1, 65536, 65536, 0, NULL);
    if (h == INVALID_HANDLE_VALUE) {
        fprintf(stderr, "wipc_peer: CreateNamedPipeW(%s) failed: %lu\n", full, (unsigned long)GetLastError());
        return 2;
    }
    wt_peer_ready();
    size_t cap = 1 << 20;
    char *buf = (char *)malloc(cap);
    for (;;) {
        if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED) {
            fprintf(stderr, "wipc_peer: ConnectNamedPipe failed: %lu\n", (unsigned long)GetLastError());
            return 2;
        }
        for (;;) {
            size_t len = 0;
            BOOL ok;
            DWORD got = 0;
            for (;;) {
                got = 0;
                ok = ReadFile(h, buf + len, (DWORD)(cap - len), &got, NULL);
                len += got;
                if (ok || GetLastError() != ERROR_MORE_DATA || len >= cap)
                    break;
            }
            if (!ok)
                break;
            DWORD put = 0;
            if (!WriteFile(h, buf, (DWORD)len, &put, NULL) || put != len)
                break;
        }
        DisconnectNamedPipe(h);
    }
}
#else
static int cmd_raw_server(const char *path)
{
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    if (s < 0)
        return perror("wipc_peer: socket"), 2;
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof a.sun_path) {
        fprintf(stderr, "wipc_peer: path too long: %s\n", path);
        return 2;
    }
    strcpy(a.sun_path, path);
    unlink(path);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0) {
        fprintf(stderr, "wipc_peer: bind/listen %s: %s\n", path, strerror(errno));
        return 2;
    }
    wt_peer_ready();
    static char buf[1 << 16];
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            return perror("wipc_peer: accept"), 2;
        }
        for (;;) {
            ssize_t n = read(c, buf, sizeof buf);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            ssize_t off = 0;
            while (off < n) {
                ssize_t w = write(c, buf + off, (size_t)(n - off));
                if (w < 0 && errno == EINTR)
                    continue;
                if (w <= 0)
                    break;
                off += w;
            }
            if (off < n)
                break;
        }
        close(c);
    }
}
#endif

/* ---- main -------------------------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr, "usage: wipc_peer echo-server NAME [--count N] [--max-msg BYTES]\n"
                    "       wipc_peer client NAME N [--no-plain]\n"
                    "       wipc_peer hold NAME\n"
                    "       wipc_peer squat NAME\n"
                    "       wipc_peer raw-server PATH\n");
    return 64;
}

int main(int argc, char **argv)
{
    if (wt_peer_die_with_parent() != 0)
        return 2;
    if (argc < 3)
        return usage();
    const char *cmd = argv[1], *name = argv[2];
    if (strcmp(cmd, "echo-server") == 0) {
        long count = -1;
        uint32_t max_msg = 0;
        for (int i = 3; i + 1 < argc; i += 2) {
            if (strcmp(argv[i], "--count") == 0)
                count = strtol(argv[i + 1], NULL, 10);
            else if (strcmp(argv[i], "--max-msg") == 0)
                max_msg = (uint32_t)strtoul(argv[i + 1], NULL, 10);
            else
                return usage();
        }
        return cmd_echo_server(name, count, max_msg);
    }
    if (strcmp(cmd, "client") == 0 && argc >= 4) {
        int plain = !(argc >= 5 && strcmp(argv[4], "--no-plain") == 0);
        return cmd_client(name, strtol(argv[3], NULL, 10), plain);
    }
    if (strcmp(cmd, "hold") == 0)
        return wt_peer_pipe_hold(PROG, name);
    if (strcmp(cmd, "squat") == 0)
        return wt_peer_pipe_squat(PROG, name);
    if (strcmp(cmd, "raw-server") == 0)
        return cmd_raw_server(name);
    return usage();
}
