/*
 * hostile_peer.c - a pipe client written against the OS, not wipc: it speaks just enough
 * of the wire format (dll/common/core/frame.h) to attack a wipc pipe server, for test_hardening.c.
 * Windows: CreateFileW on \\.\pipe\wipc-<name>, ReadFile / WriteFile; POSIX: an AF_UNIX socket at
 * <runtime dir>/p.<name> ($XDG_RUNTIME_DIR/wipc, else /tmp/wipc-<uid>; names short enough not to be
 * hashed).
 *
 *   hostile_peer squat NAME N   opens N connections and never says HELLO (handshake squatters)
 *   hostile_peer claim NAME N   opens N connections, answers the server's HELLO, then sends a frame
 *                               header claiming a 16 MiB message and 40 bytes of it (memory amplification)
 * Prints "MADE <connections made>", "READY", and then holds them until it is killed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _WIN32
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  include <windows.h>
typedef HANDLE conn_t;
#  define BAD_CONN INVALID_HANDLE_VALUE
#else
#  include <sys/socket.h>
#  include <sys/un.h>
#  include <unistd.h>
typedef int conn_t;
#  define BAD_CONN (-1)
#endif

static conn_t open_conn(const char *name)
{
#ifdef _WIN32
    wchar_t path[300];
    swprintf(path, 300, L"\\\\.\\pipe\\wipc-%hs", name);
    for (int tries = 0; tries < 50; tries++) {
        HANDLE h = CreateFileW(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h != INVALID_HANDLE_VALUE)
            return h;
        if (GetLastError() != ERROR_PIPE_BUSY)
            return BAD_CONN;
        WaitNamedPipeW(path, 200);
    }
    return BAD_CONN;
#else
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (x && x[0] == '/')
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s/wipc/p.%s", x, name);
    else
        snprintf(sa.sun_path, sizeof sa.sun_path, "/tmp/wipc-%u/p.%s", (unsigned)geteuid(), name);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        fd = -1;
    }
    return fd;
#endif
}

static int put(conn_t c, const void *p, size_t n)
{
#ifdef _WIN32
    DWORD put = 0;
    return WriteFile(c, p, (DWORD)n, &put, NULL) && put == n ? 0 : -1;
#else
    return send(c, p, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
#endif
}

static int get(conn_t c, void *p, size_t n)
{
    size_t have = 0;
    while (have < n) {
#ifdef _WIN32
        DWORD got = 0;
        if (!ReadFile(c, (uint8_t *)p + have, (DWORD)(n - have), &got, NULL) && GetLastError() != ERROR_MORE_DATA)
            return -1;
#else
        ssize_t got = recv(c, (uint8_t *)p + have, n - have, 0);
        if (got <= 0)
            return -1;
#endif
        have += (size_t)got;
    }
    return 0;
}

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* A frame header (frame.h): magic, version 1, kind, header size 24, type, length, request id 0. */
static void header(uint8_t *h, uint8_t kind, uint32_t length)
{
    memset(h, 0, 24);
    le32(h, 0x43504957u);
    h[4] = 1;
    h[5] = kind;
    h[6] = 24;
    le32(h + 12, length);
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "squat") && strcmp(argv[1], "claim"))) {
        fprintf(stderr, "usage: hostile_peer squat|claim NAME N\n");
        return 2;
    }
    int claim = !strcmp(argv[1], "claim"), n = atoi(argv[3]), made = 0;
    conn_t *conns = calloc((size_t)n, sizeof *conns);
    for (int i = 0; i < n; i++) {
        conn_t c = open_conn(argv[2]);
        if (c == BAD_CONN)
            break;
        conns[made++] = c;
        if (claim) {
            uint8_t in[40], out[24 + 16 + 24 + 40];
            if (get(c, in, sizeof in) != 0) /* the server's HELLO */
                break;
            header(out, 4, 16); /* our HELLO: version 1, pid, 16 MiB, no flags */
            le32(out + 24, 1);
            le32(out + 28, 4242);
            le32(out + 32, 16u << 20);
            le32(out + 36, 0);
            header(out + 40, 1, (16u << 20) - 64); /* DATA claiming ~16 MiB ... */
            memset(out + 64, 'x', 40); /* ... of which 40 bytes come */
            if (put(c, out, sizeof out) != 0)
                break;
        }
    }
    printf("MADE %d\nREADY\n", made);
    fflush(stdout);
    for (;;) {
#ifdef _WIN32
        Sleep(1000);
#else
        sleep(1);
#endif
    }
}
