/*
 * pipe_rtt.c - round trip of a small request between two processes: wipc pipe (wipc_request /
 * wipc_reply) next to the raw OS baseline measured in the same run (Linux: an AF_UNIX stream
 * ping-pong; Windows: a CreateNamedPipeW byte-mode ping-pong).
 *
 *   pipe_rtt [--size BYTES] [--iters N]        prints one line per case: p50, p99, mean (us)
 *
 * The program re-runs itself as the server process ("pipe_rtt serve-wipc NAME SIZE N" /
 * "serve-raw ...").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wipc.h"

#if defined(_WIN32)
#  include <windows.h>
#else
#  include <spawn.h>
#  include <sys/socket.h>
#  include <sys/un.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>
extern char **environ;
#endif

static double now_us(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e6 / (double)f.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
#endif
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static void report(const char *what, double *t, int n, size_t size)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += t[i];
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    printf("%-34s %6zu B  p50 %8.1f us  p99 %8.1f us  mean %8.1f us  (n=%d)\n", what, size, t[n / 2], t[(int)(n * 0.99)], sum / n, n);
    fflush(stdout);
}

/* ---- process spawning (the server is this program again) ---- */

typedef struct child {
#if defined(_WIN32)
    PROCESS_INFORMATION pi;
#else
    pid_t pid;
#endif
} child;

static int spawn_self(const char *self, const char *mode, const char *name, size_t size, int iters, child *c)
{
    char sz[32], it[32];
    snprintf(sz, sizeof sz, "%zu", size);
    snprintf(it, sizeof it, "%d", iters);
#if defined(_WIN32)
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" %s %s %s %s", self, mode, name, sz, it);
    STARTUPINFOA si = { .cb = sizeof si };
    return CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &c->pi) ? 0 : -1;
#else
    char *argv[] = { (char *)self, (char *)mode, (char *)name, sz, it, NULL };
    return posix_spawn(&c->pid, self, NULL, NULL, argv, environ);
#endif
}

static void wait_child(child *c)
{
#if defined(_WIN32)
    WaitForSingleObject(c->pi.hProcess, 30000);
    CloseHandle(c->pi.hProcess);
    CloseHandle(c->pi.hThread);
#else
    int st;
    waitpid(c->pid, &st, 0);
#endif
}

/* ---- wipc ---- */

static int serve_wipc(const char *name, size_t size, int iters)
{
    wipc_handle srv, conn;
    if (wipc_pipe_listen(name, NULL, &srv) || wipc_pipe_accept(srv, 20000, &conn)) {
        fprintf(stderr, "serve-wipc: %s\n", wipc_last_error_message());
        return 1;
    }
    char *buf = malloc(size + 1);
    wipc_message m = { .struct_size = sizeof m };
    for (int i = 0; i < iters; i++) {
        if (wipc_recv_message(conn, buf, size + 1, &m, 20000) || wipc_reply(conn, m.request_id, m.type, buf, m.size)) {
            fprintf(stderr, "serve-wipc: %s\n", wipc_last_error_message());
            return 1;
        }
    }
    wipc_recv_message(conn, buf, size + 1, &m, 20000);   /* waits for the client to hang up */
    wipc_close(conn);
    wipc_close(srv);
    free(buf);
    return 0;
}

static int run_wipc(const char *self, size_t size, int iters, int warm)
{
    char name[64];
    snprintf(name, sizeof name, "bench-rtt-%u", (unsigned)(now_us()));
    child c;
    if (spawn_self(self, "serve-wipc", name, size, iters + warm, &c) != 0)
        return 1;
    wipc_handle h;
    if (wipc_pipe_connect(name, NULL, 10000, &h)) {
        fprintf(stderr, "wipc connect: %s\n", wipc_last_error_message());
        return 1;
    }
    char *req = calloc(1, size + 1), *resp = malloc(size + 1);
    double *t = malloc(sizeof *t * (size_t)iters);
    size_t got;
    for (int i = 0; i < iters + warm; i++) {
        double t0 = now_us();
        if (wipc_request(h, 1, req, size, resp, size + 1, &got, 10000)) {
            fprintf(stderr, "wipc request: %s\n", wipc_last_error_message());
            return 1;
        }
        if (i >= warm)
            t[i - warm] = now_us() - t0;
    }
    wipc_close(h);
    wait_child(&c);
    report("wipc pipe request/reply", t, iters, size);
    free(req);
    free(resp);
    free(t);
    return 0;
}

/* ---- raw OS baseline ---- */

#if defined(_WIN32)
typedef HANDLE raw_fd;
static int raw_io(raw_fd f, void *buf, size_t n, int wr)
{
    char *p = buf;
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
static void raw_path(const char *name, char *out, size_t cap) { snprintf(out, cap, "\\\\.\\pipe\\%s", name); }
static int raw_listen(const char *name, raw_fd *conn)
{
    char path[256];
    raw_path(name, path, sizeof path);
    HANDLE h = CreateNamedPipeA(path, PIPE_ACCESS_DUPLEX, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 65536, 65536, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return -1;
    if (!ConnectNamedPipe(h, NULL) && GetLastError() != ERROR_PIPE_CONNECTED)
        return -1;
    *conn = h;
    return 0;
}
static int raw_connect(const char *name, raw_fd *conn)
{
    char path[256];
    raw_path(name, path, sizeof path);
    for (int i = 0; i < 2000; i++) {
        HANDLE h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h != INVALID_HANDLE_VALUE) {
            *conn = h;
            return 0;
        }
        Sleep(5);
    }
    return -1;
}
static void raw_close(raw_fd f) { CloseHandle(f); }
#define RAW_NAME "raw CreateNamedPipeW ping-pong"
#else
typedef int raw_fd;
static int raw_io(raw_fd f, void *buf, size_t n, int wr)
{
    char *p = buf;
    while (n) {
        ssize_t r = wr ? write(f, p, n) : read(f, p, n);
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}
static void raw_addr(const char *name, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof sa->sun_path, "/tmp/%s.sock", name);
}
static int raw_listen(const char *name, raw_fd *conn)
{
    struct sockaddr_un sa;
    raw_addr(name, &sa);
    int l = socket(AF_UNIX, SOCK_STREAM, 0);
    unlink(sa.sun_path);
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 1))
        return -1;
    *conn = accept(l, NULL, NULL);
    close(l);
    unlink(sa.sun_path);
    return *conn < 0 ? -1 : 0;
}
static int raw_connect(const char *name, raw_fd *conn)
{
    struct sockaddr_un sa;
    raw_addr(name, &sa);
    for (int i = 0; i < 2000; i++) {
        int s = socket(AF_UNIX, SOCK_STREAM, 0);
        if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0) {
            *conn = s;
            return 0;
        }
        close(s);
        usleep(5000);
    }
    return -1;
}
static void raw_close(raw_fd f) { close(f); }
#define RAW_NAME "raw AF_UNIX stream ping-pong"
#endif

static int serve_raw(const char *name, size_t size, int iters)
{
    raw_fd c;
    if (raw_listen(name, &c))
        return 1;
    char *buf = malloc(size ? size : 1);
    for (int i = 0; i < iters; i++)
        if (raw_io(c, buf, size, 0) || raw_io(c, buf, size, 1))
            return 1;
    raw_close(c);
    free(buf);
    return 0;
}

static int run_raw(const char *self, size_t size, int iters, int warm)
{
    char name[64];
    snprintf(name, sizeof name, "bench-raw-%u", (unsigned)(now_us()));
    child c;
    if (spawn_self(self, "serve-raw", name, size, iters + warm, &c) != 0)
        return 1;
    raw_fd f;
    if (raw_connect(name, &f))
        return 1;
    char *buf = calloc(1, size ? size : 1);
    double *t = malloc(sizeof *t * (size_t)iters);
    for (int i = 0; i < iters + warm; i++) {
        double t0 = now_us();
        if (raw_io(f, buf, size, 1) || raw_io(f, buf, size, 0))
            return 1;
        if (i >= warm)
            t[i - warm] = now_us() - t0;
    }
    raw_close(f);
    wait_child(&c);
    report(RAW_NAME, t, iters, size);
    free(buf);
    free(t);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && !strcmp(argv[1], "serve-wipc"))
        return serve_wipc(argv[2], (size_t)atol(argv[3]), atoi(argv[4]));
    if (argc == 5 && !strcmp(argv[1], "serve-raw"))
        return serve_raw(argv[2], (size_t)atol(argv[3]), atoi(argv[4]));
    size_t size = 64;
    int iters = 20000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--size"))
            size = (size_t)atol(argv[i + 1]);
        else if (!strcmp(argv[i], "--iters"))
            iters = atoi(argv[i + 1]);
    }
    int warm = iters / 10 + 10;
    int rc = run_raw(argv[0], size, iters, warm);
    rc |= run_wipc(argv[0], size, iters, warm);
    return rc;
}
