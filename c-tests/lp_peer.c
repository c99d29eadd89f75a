/*
 * lp_peer.c - wipc_lp_peer: a "foreign" program that speaks a home-made length-prefixed pipe
 * protocol (4-byte little-endian length, then the payload) with plain OS calls and no wipc calls,
 * for test_lenprefix.c. Payloads are wt_fill patterns (support.c).
 *
 *   wipc_lp_peer server PATH byte|message
 *       Linux: an AF_UNIX stream socket bound at the absolute PATH. Windows: CreateNamedPipeW at PATH
 *       (PIPE_TYPE_BYTE or PIPE_TYPE_MESSAGE). Prints "READY"; for one client after another, reads
 *       length-prefixed messages and echoes each back, writing the length and the payload in two
 *       separate writes (two WriteFile calls: two pipe messages on a message-type pipe). Until killed.
 *   wipc_lp_peer client PATH echo|trickle|huge [msgread]
 *       Connects to PATH (Linux connect(); Windows CreateFileA, and with "msgread"
 *       SetNamedPipeHandleState(PIPE_READMODE_MESSAGE)); prints "READY", then:
 *       echo: messages of 0, 1, 100, 488, 489, 4000, 70000 and 300000 bytes, each written as the length
 *             then the payload (two writes), and its echo read back and checked; prints "ECHO OK".
 *       trickle: one 300-byte message written a byte at a time (1 ms apart), its echo checked;
 *             prints "TRICKLE OK".
 *       huge: a length of 0xFFFFFFFF and 16 bytes (one write); then waits for the server to hang up
 *             (EOF or a broken pipe; a write refused because it already did counts) and prints "DROPPED".
 *
 * Exit codes: 0 ok, 1 test failure (the reason on stderr), 2 setup failure, 64 usage.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32
#  include <errno.h>
#  include <signal.h>
#  include <sys/socket.h>
#  include <sys/un.h>
typedef int fd_t;
#else
typedef HANDLE fd_t;
#endif

#define PROG "wipc_lp_peer"
#define CAP  (1u << 20)

static int fail(const char *what)
{
#ifdef _WIN32
    fprintf(stderr, PROG ": %s (Win32 error %lu)\n", what, (unsigned long)GetLastError());
#else
    fprintf(stderr, PROG ": %s (%s)\n", what, strerror(errno));
#endif
    return 1;
}

/* Writes all n bytes in one write call (a pipe write takes all or fails). 0 = ok. */
static int put(fd_t f, const void *p, size_t n)
{
#ifdef _WIN32
    DWORD w = 0;
    return WriteFile(f, p, (DWORD)n, &w, NULL) && w == n ? 0 : -1;
#else
    const char *b = p;
    while (n) {
        ssize_t w = send(f, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
#endif
}

/* Reads exactly n bytes, whatever pieces they come in (ERROR_MORE_DATA: the rest of a message
 * follows). 0 = ok, -1 = EOF or error. */
static int get(fd_t f, void *p, size_t n)
{
    char *b = p;
    while (n) {
#ifdef _WIN32
        DWORD got = 0;
        BOOL ok = ReadFile(f, b, (DWORD)n, &got, NULL);
        if (!ok && GetLastError() != ERROR_MORE_DATA)
            return -1;
#else
        ssize_t got = recv(f, b, n, 0);
        if (got <= 0)
            return -1;
#endif
        b += got;
        n -= (size_t)got;
    }
    return 0;
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void fd_close(fd_t f)
{
#ifdef _WIN32
    CloseHandle(f);
#else
    close(f);
#endif
}

/* ---- server ----------------------------------------------------------------------------------- */

/* Echoes one client's messages until it hangs up. */
static void serve(fd_t f, uint8_t *buf)
{
    for (;;) {
        uint8_t len[4];
        if (get(f, len, 4) != 0)
            return;
        uint32_t n = get_le32(len);
        if (n > CAP || get(f, buf, n) != 0)
            return;
        if (put(f, len, 4) != 0 || (n && put(f, buf, n) != 0)) /* two writes on purpose */
            return;
    }
}

static int cmd_server(const char *path, const char *mode)
{
    uint8_t *buf = malloc(CAP);
    if (!buf)
        return 2;
#ifdef _WIN32
    wchar_t w[1024];
    MultiByteToWideChar(CP_UTF8, 0, path, -1, w, 1024);
    DWORD type =
        strcmp(mode, "message") == 0 ? PIPE_TYPE_MESSAGE | PIPE_READMODE_MESSAGE : PIPE_TYPE_BYTE | PIPE_READMODE_BYTE;
    HANDLE h = CreateNamedPipeW(w, PIPE_ACCESS_DUPLEX | FILE_FLAG_FIRST_PIPE_INSTANCE, type | PIPE_WAIT, 1, 65536,
                                65536, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return fail("CreateNamedPipeW"), 2;
    wt_peer_ready();
    for (;;) {
        if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
            return fail("ConnectNamedPipe"), 2;
        serve(h, buf);
        FlushFileBuffers(h);
        DisconnectNamedPipe(h);
    }
#else
    (void)mode; /* a stream socket has no message mode */
    signal(SIGPIPE, SIG_IGN);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (s < 0 || strlen(path) >= sizeof a.sun_path)
        return fail("socket / path"), 2;
    strcpy(a.sun_path, path);
    unlink(path);
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0 || listen(s, 8) != 0)
        return fail("bind / listen"), 2;
    wt_peer_ready();
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0)
            return fail("accept"), 2;
        serve(c, buf);
        close(c);
    }
#endif
}

/* ---- client ----------------------------------------------------------------------------------- */

static int connect_to(const char *path, int msgread, fd_t *out)
{
#ifdef _WIN32
    for (int i = 0; i < 500; i++) {
        HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            DWORD m = PIPE_READMODE_MESSAGE;
            if (msgread && !SetNamedPipeHandleState(h, &m, NULL, NULL))
                return fail("SetNamedPipeHandleState(PIPE_READMODE_MESSAGE)");
            *out = h;
            return 0;
        }
        if (GetLastError() == ERROR_PIPE_BUSY)
            WaitNamedPipeA(path, 100);
        else
            Sleep(20);
    }
    return fail("CreateFileA");
#else
    (void)msgread;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof a);
    a.sun_family = AF_UNIX;
    if (s < 0 || strlen(path) >= sizeof a.sun_path)
        return fail("socket / path");
    strcpy(a.sun_path, path);
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0)
        return fail("connect");
    *out = s;
    return 0;
#endif
}

/* Reads one length-prefixed message and checks it is `n` bytes of pattern `seed`. */
static int expect(fd_t f, uint8_t *buf, uint32_t n, uint32_t seed)
{
    uint8_t len[4];
    if (get(f, len, 4) != 0)
        return fail("reading the echo's length");
    if (get_le32(len) != n) {
        fprintf(stderr, PROG ": echo of %u bytes has length %u\n", (unsigned)n, (unsigned)get_le32(len));
        return 1;
    }
    if (get(f, buf, n) != 0)
        return fail("reading the echo's payload");
    if (!wt_check(buf, n, seed)) {
        fprintf(stderr, PROG ": echo of %u bytes differs\n", (unsigned)n);
        return 1;
    }
    return 0;
}

static int cmd_client(const char *path, const char *what, int msgread)
{
    static const uint32_t sizes[] = { 0, 1, 100, 488, 489, 4000, 70000, 300000 };
    uint8_t *buf = malloc(CAP), *out = malloc(CAP);
    fd_t f = (fd_t)0;
    if (!buf || !out || connect_to(path, msgread, &f) != 0) {
        free(buf);
        free(out);
        return 2;
    }
#ifndef _WIN32
    signal(SIGPIPE, SIG_IGN);
#endif
    wt_peer_ready();
    uint8_t len[4];
    int rc = 0;
    if (strcmp(what, "echo") == 0) {
        for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0] && rc == 0; i++) {
            uint32_t n = sizes[i];
            wt_fill(out, n, 100 + i);
            le32(len, n);
            if (put(f, len, 4) != 0 || (n && put(f, out, n) != 0))
                rc = fail("writing a message");
            else
                rc = expect(f, buf, n, 100 + i);
        }
        if (rc == 0)
            printf("ECHO OK\n");
    } else if (strcmp(what, "trickle") == 0) {
        const uint32_t n = 300;
        wt_fill(out, n, 7);
        le32(len, n);
        for (uint32_t i = 0; i < 4 + n && rc == 0; i++) {
            if (put(f, i < 4 ? len + i : out + (i - 4), 1) != 0)
                rc = fail("writing a byte");
            wt_sleep_ms(1);
        }
        if (rc == 0 && (rc = expect(f, buf, n, 7)) == 0)
            printf("TRICKLE OK\n");
    } else if (strcmp(what, "huge") == 0) {
        le32(out, 0xFFFFFFFFu);
        memset(out + 4, 'x', 16);
        /* the claim and 16 bytes in one write; the server may hang up before it reads them all, so a
         * failed write counts as the hang-up it is. It must hang up: a read ends with EOF / a broken
         * pipe, never with data */
        if (put(f, out, 20) == 0 && get(f, buf, 1) == 0) {
            fprintf(stderr, PROG ": the server answered a 4 GiB claim instead of hanging up\n");
            rc = 1;
        } else {
            printf("DROPPED\n");
        }
    } else {
        rc = 64;
    }
    fflush(stdout);
    fd_close(f);
    free(buf);
    free(out);
    return rc;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 4 && strcmp(argv[1], "server") == 0)
        return cmd_server(argv[2], argv[3]);
    if ((argc == 4 || argc == 5) && strcmp(argv[1], "client") == 0)
        return cmd_client(argv[2], argv[3], argc == 5 && strcmp(argv[4], "msgread") == 0);
    fprintf(stderr, "usage: " PROG " server PATH byte|message | client PATH echo|trickle|huge [msgread]\n");
    return 64;
}
