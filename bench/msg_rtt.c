/*
 * msg_rtt.c - round trip of one small message between two processes with the msg transport
 * (wipc_msg_send -> on_message -> its return value back), next to the raw OS baseline measured in the
 * same run:
 *   Linux:   raw AF_UNIX SOCK_SEQPACKET ping-pong on one connection (send N bytes, get an 8-byte
 *            answer), and the same with one connection per message (socket + connect + accept + close
 *            each time: the OS work of wipc's POSIX emulation);
 *   Windows: raw WM_COPYDATA with SendMessageW to a message-only window found once, and
 *            FindWindowExW + SendMessageTimeoutW(SMTO_ABORTIFHUNG | SMTO_BLOCK) per message (the OS work
 *            of wipc_msg_send).
 *
 *   msg_rtt [--size BYTES] [--iters N]        prints one line per case: p50, p99, mean (us)
 *
 * The receivers are this program re-run as a child ("msg_rtt serve-wipc NAME", "serve-raw ...",
 * "serve-raw1 ..."); they run until killed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "wipc.h"

#if defined(_WIN32)
#  include <windows.h>
#else
#  include <signal.h>
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

static void sleep_ms(int ms)
{
#if defined(_WIN32)
    Sleep((DWORD)ms);
#else
    usleep((useconds_t)ms * 1000);
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
    printf("%-52s %5zu B  p50 %8.1f us  p99 %8.1f us  mean %8.1f us  (n=%d)\n", what, size, t[n / 2], t[(int)(n * 0.99)], sum / n, n);
    fflush(stdout);
}

/* ---- the receiver processes (this program again) ---- */

typedef struct child {
#if defined(_WIN32)
    PROCESS_INFORMATION pi;
#else
    pid_t pid;
#endif
} child;

static int spawn_self(const char *self, const char *mode, const char *arg, child *c)
{
#if defined(_WIN32)
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "\"%s\" %s %s", self, mode, arg);
    STARTUPINFOA si = { .cb = sizeof si };
    return CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &c->pi) ? 0 : -1;
#else
    char *argv[] = { (char *)self, (char *)mode, (char *)arg, NULL };
    return posix_spawn(&c->pid, self, NULL, NULL, argv, environ);
#endif
}

static void kill_child(child *c)
{
#if defined(_WIN32)
    TerminateProcess(c->pi.hProcess, 0);
    WaitForSingleObject(c->pi.hProcess, 30000);
    CloseHandle(c->pi.hProcess);
    CloseHandle(c->pi.hThread);
#else
    int st;
    kill(c->pid, SIGKILL);
    waitpid(c->pid, &st, 0);
#endif
}

/* ---- wipc msg ---- */

static int32_t WIPC_CALL answer(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)user;
    return (int32_t)m->size;
}

static int serve_wipc(const char *name)
{
    wipc_handle h;
    if (wipc_msg_listen(name, NULL, &h) || wipc_set_callbacks(h, answer, NULL, NULL)) {
        fprintf(stderr, "serve-wipc: %s\n", wipc_last_error_message());
        return 1;
    }
    for (;;)
        sleep_ms(1000);
}

static int run_wipc(const char *self, size_t size, int iters, int warm)
{
    char name[64];
    snprintf(name, sizeof name, "bench-msg-%u", (unsigned)now_us());
    child c;
    if (spawn_self(self, "serve-wipc", name, &c) != 0)
        return 1;
    char *req = calloc(1, size + 1);
    double *t = malloc(sizeof *t * (size_t)iters);
    int32_t reply = 0;
    wipc_status st;
    for (int i = 0; (st = wipc_msg_send(name, 1, req, size, 10000, &reply)) == WIPC_E_NOT_FOUND && i < 2000; i++)
        sleep_ms(5);   /* the receiver is starting */
    for (int i = 0; st == WIPC_OK && i < iters + warm; i++) {
        double t0 = now_us();
        st = wipc_msg_send(name, 1, req, size, 10000, &reply);
        if (i >= warm)
            t[i - warm] = now_us() - t0;
        if (st == WIPC_OK && reply != (int32_t)size)
            st = WIPC_E_PROTOCOL;
    }
    kill_child(&c);
    if (st != WIPC_OK) {
        fprintf(stderr, "wipc_msg_send: %s\n", wipc_last_error_message());
        return 1;
    }
    report("wipc msg send + reply (wipc_msg_send)", t, iters, size);
    free(req);
    free(t);
    return 0;
}

/* ---- raw OS baselines ---- */

#if defined(_WIN32)

static LRESULT CALLBACK raw_wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == WM_COPYDATA)
        return (LRESULT)((const COPYDATASTRUCT *)lp)->cbData;
    return DefWindowProcW(hwnd, msg, wp, lp);
}

static int serve_raw(const char *cls8)
{
    wchar_t cls[128];
    MultiByteToWideChar(CP_UTF8, 0, cls8, -1, cls, 128);
    WNDCLASSEXW wc = { .cbSize = sizeof wc, .lpfnWndProc = raw_wndproc, .hInstance = GetModuleHandleW(NULL), .lpszClassName = cls };
    if (!RegisterClassExW(&wc) || !CreateWindowExW(0, cls, L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, wc.hInstance, NULL))
        return 1;
    MSG m;
    while (GetMessageW(&m, NULL, 0, 0) > 0)
        DispatchMessageW(&m);
    return 0;
}

/* per_message: FindWindowExW + SendMessageTimeoutW each time (what wipc_msg_send does), else
 * SendMessageW to the window found once. */
static int run_raw(const char *self, size_t size, int iters, int warm, int per_message)
{
    char cls8[64];
    wchar_t cls[64];
    snprintf(cls8, sizeof cls8, "bench-raw-%u", (unsigned)now_us());
    MultiByteToWideChar(CP_UTF8, 0, cls8, -1, cls, 64);
    child c;
    if (spawn_self(self, "serve-raw", cls8, &c) != 0)
        return 1;
    HWND w = NULL;
    for (int i = 0; !w && i < 2000; i++) {
        w = FindWindowExW(HWND_MESSAGE, NULL, cls, NULL);
        if (!w)
            Sleep(5);
    }
    char *req = calloc(1, size + 1);
    double *t = malloc(sizeof *t * (size_t)iters);
    int ok = w != NULL;
    for (int i = 0; ok && i < iters + warm; i++) {
        COPYDATASTRUCT cds = { 1, (DWORD)size, req };
        double t0 = now_us();
        DWORD_PTR r = 0;
        if (per_message) {
            HWND h = FindWindowExW(HWND_MESSAGE, NULL, cls, NULL);
            ok = h && SendMessageTimeoutW(h, WM_COPYDATA, 0, (LPARAM)&cds, SMTO_ABORTIFHUNG | SMTO_BLOCK, 10000, &r);
        } else {
            r = (DWORD_PTR)SendMessageW(w, WM_COPYDATA, 0, (LPARAM)&cds);
        }
        DWORD err = GetLastError();
        if (i >= warm)
            t[i - warm] = now_us() - t0;
        if (!ok || r != size) {
            fprintf(stderr, "raw WM_COPYDATA #%d failed: result %llu, error %lu\n", i, (unsigned long long)r, err);
            ok = 0;
        }
    }
    kill_child(&c);
    if (!ok)
        return 1;
    report(per_message ? "raw FindWindowExW + SendMessageTimeoutW(WM_COPYDATA)" : "raw SendMessageW(WM_COPYDATA), window found once", t,
           iters, size);
    free(req);
    free(t);
    return 0;
}

#else

static void raw_addr(const char *path, struct sockaddr_un *sa)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    snprintf(sa->sun_path, sizeof sa->sun_path, "%s", path);
}

/* per_message: one connection per message (accept, recv, send, close), else one connection. */
static int serve_raw(const char *path, int per_message)
{
    struct sockaddr_un sa;
    raw_addr(path, &sa);
    int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    unlink(path);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) || listen(l, 64))
        return 1;
    char buf[70000];
    uint64_t word = 0;
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            return 1;
        ssize_t n;
        while ((n = recv(c, buf, sizeof buf, 0)) > 0) {
            word = (uint64_t)n;
            if (send(c, &word, sizeof word, MSG_NOSIGNAL) != (ssize_t)sizeof word || per_message)
                break;
        }
        close(c);
    }
}

static int raw_connect(const char *path)
{
    struct sockaddr_un sa;
    raw_addr(path, &sa);
    int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static int run_raw(const char *self, size_t size, int iters, int warm, int per_message)
{
    char path[108];
    snprintf(path, sizeof path, "/tmp/bench-msg-raw-%d.sock", (int)getpid());
    child c;
    if (spawn_self(self, per_message ? "serve-raw1" : "serve-raw", path, &c) != 0)
        return 1;
    int fd = -1;
    for (int i = 0; fd < 0 && i < 2000; i++) {
        fd = raw_connect(path);
        if (fd < 0)
            sleep_ms(5);
    }
    char *req = calloc(1, size + 1);
    double *t = malloc(sizeof *t * (size_t)iters);
    int ok = fd >= 0;
    if (per_message && fd >= 0)
        close(fd);
    for (int i = 0; ok && i < iters + warm; i++) {
        uint64_t word = 0;
        double t0 = now_us();
        if (per_message)
            fd = raw_connect(path);
        ok = fd >= 0 && send(fd, req, size, MSG_NOSIGNAL) == (ssize_t)size && recv(fd, &word, sizeof word, 0) == (ssize_t)sizeof word;
        if (per_message && fd >= 0)
            close(fd);
        if (i >= warm)
            t[i - warm] = now_us() - t0;
        ok = ok && word == size;
    }
    if (!per_message && fd >= 0)
        close(fd);
    kill_child(&c);
    unlink(path);
    if (!ok) {
        perror("raw seqpacket");
        return 1;
    }
    report(per_message ? "raw seqpacket, connect + send + reply + close" : "raw seqpacket ping-pong, one connection", t, iters, size);
    free(req);
    free(t);
    return 0;
}

#endif

static void self_path(char *buf, size_t cap, const char *argv0)
{
#if defined(_WIN32)
    (void)argv0;
    GetModuleFileNameA(NULL, buf, (DWORD)cap);
#else
    ssize_t n = readlink("/proc/self/exe", buf, cap - 1);
    if (n > 0)
        buf[n] = 0;
    else
        snprintf(buf, cap, "%s", argv0);
#endif
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "serve-wipc"))
        return serve_wipc(argv[2]);
#if defined(_WIN32)
    if (argc == 3 && !strcmp(argv[1], "serve-raw"))
        return serve_raw(argv[2]);
#else
    if (argc == 3 && !strcmp(argv[1], "serve-raw"))
        return serve_raw(argv[2], 0);
    if (argc == 3 && !strcmp(argv[1], "serve-raw1"))
        return serve_raw(argv[2], 1);
#endif
    size_t size = 64;
#if defined(_WIN32)
    int iters = 5000;
#else
    int iters = 20000;
#endif
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--size"))
            size = (size_t)strtoul(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--iters"))
            iters = atoi(argv[i + 1]);
    }
    if (size > 60000 || iters < 10) {
        fprintf(stderr, "usage: msg_rtt [--size BYTES (<= 60000)] [--iters N (>= 10)]\n");
        return 64;
    }
    char self[1024];
    self_path(self, sizeof self, argv[0]);
    int warm = iters / 10;
    int bad = 0;
    bad |= run_raw(self, size, iters, warm, 0);
    bad |= run_raw(self, size, iters, warm, 1);
    bad |= run_wipc(self, size, iters, warm);
    return bad;
}
