/*
 * wipc_bench.c - the benchmark harness program (driven by scripts/bench; see README "Benchmarks").
 *
 *   wipc_bench list                 the case ids this build can run, one per line
 *   wipc_bench run [--quick] ID...  runs the cases in order; one JSON line per case on stdout
 *   wipc_bench peer IMPL ARGS...    (internal) the peer process of a case
 *
 * Cases (id = impl.metric.size): wipc transports (pipe, shm, msg, ...), raw OS baselines (unix,
 * seqpacket, futex, spin, memcpy; Windows: npipe, copydata, mapev), peer libraries (nng, zmq) and the
 * pipe server scaling run (scale.rate.N). Every figure of one run comes from the same program on the
 * same machine, side by side; scripts/bench repeats runs and takes medians.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"
#include "wipc.h"

#if !defined(_WIN32)
#  include <signal.h>
#  include <spawn.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>
extern char **environ;
#endif

double bt_rtt_secs = 0.8;
double bt_tput_secs = 0.6;
int bt_rtt_max = 40000;

/* ---- clocks ---- */

double bt_now_us(void)
{
#if defined(_WIN32)
    static LARGE_INTEGER f;
    LARGE_INTEGER c;
    if (!f.QuadPart)
        QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e6 / (double)f.QuadPart;
#else
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
#endif
}

void bt_sleep_ms(int ms)
{
#if defined(_WIN32)
    Sleep((DWORD)ms);
#else
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
#endif
}

uint32_t bt_pid(void)
{
#if defined(_WIN32)
    return (uint32_t)GetCurrentProcessId();
#else
    return (uint32_t)getpid();
#endif
}

void *bt_alloc(size_t size)
{
    /* page-aligned, like the mmap'ed buffers large allocations get: copies in and out of the kernel
     * are alignment-sensitive, and every case should see the same */
    size_t n = ((size ? size : 1) + 4095) & ~(size_t)4095;
#if defined(_WIN32)
    void *p = _aligned_malloc(n, 4096);
#else
    void *p = aligned_alloc(4096, n);
#endif
    if (p)
        memset(p, 0, n);
    if (!p) {
        fprintf(stderr, "wipc_bench: out of memory (%zu bytes)\n", size);
        exit(2);
    }
    return p;
}

void bt_free(void *p)
{
#if defined(_WIN32)
    _aligned_free(p);
#else
    free(p);
#endif
}

const char *bt_name(char *buf, size_t cap, const char *tag)
{
    static unsigned counter;
    snprintf(buf, cap, "wb-%u-%u-%s", (unsigned)bt_pid(), ++counter, tag);
    return buf;
}

/* ---- results ---- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static double pct(const double *s, int n, double p)
{
    int i = (int)(p * (double)n);
    if (i >= n)
        i = n - 1;
    return s[i];
}

static const char *g_current; /* the case being measured (emit clears it) */

void bt_emit_rtt(const char *id, double *us, int n)
{
    double sum = 0;
    for (int i = 0; i < n; i++)
        sum += us[i];
    qsort(us, (size_t)n, sizeof *us, cmp_double);
    printf("{\"id\":\"%s\",\"p50\":%.2f,\"p99\":%.2f,\"p999\":%.2f,\"mean\":%.2f,\"n\":%d}\n", id, pct(us, n, 0.5),
           pct(us, n, 0.99), pct(us, n, 0.999), sum / n, n);
    fflush(stdout);
    g_current = NULL;
}

void bt_emit_tput(const char *id, size_t size, uint64_t msgs, double secs)
{
    printf("{\"id\":\"%s\",\"msgs_s\":%.1f,\"gbps\":%.4f,\"n\":%llu,\"secs\":%.3f}\n", id, (double)msgs / secs,
           (double)msgs * (double)size / secs / 1e9, (unsigned long long)msgs, secs);
    fflush(stdout);
    g_current = NULL;
}

void bt_emit_rate(const char *id, int clients, uint64_t msgs, double secs)
{
    printf("{\"id\":\"%s\",\"msgs_s\":%.1f,\"clients\":%d,\"n\":%llu,\"secs\":%.3f}\n", id, (double)msgs / secs,
           clients, (unsigned long long)msgs, secs);
    fflush(stdout);
    g_current = NULL;
}

void bt_emit_error(const char *id, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = '\'';
    printf("{\"id\":\"%s\",\"error\":\"%s\"}\n", id, msg);
    fflush(stdout);
    g_current = NULL;
}

int bt_rtt_loop(const char *id, bt_once_fn once, void *ctx)
{
    char err[256] = "";
    double *s = malloc(sizeof *s * (size_t)bt_rtt_max);
    if (!s) {
        bt_emit_error(id, "out of memory");
        return 1;
    }
    /* warm-up: 10% of the budget, at least 50 calls. WIPC_BENCH_ITERS=N: exactly 50 + N calls (for
     * instruction counts under valgrind) */
    const char *fixed = getenv("WIPC_BENCH_ITERS");
    int iters = fixed ? atoi(fixed) : 0;
    double warm_end = iters ? 0 : bt_now_us() + bt_rtt_secs * 1e5;
    for (int i = 0; i < 50 || bt_now_us() < warm_end; i++) {
        if (once(ctx, err, sizeof err)) {
            bt_emit_error(id, "%s", err);
            free(s);
            return 1;
        }
    }
    int n = 0;
    double end = bt_now_us() + bt_rtt_secs * 1e6;
    while (n < bt_rtt_max) {
        double t0 = bt_now_us();
        if (once(ctx, err, sizeof err)) {
            bt_emit_error(id, "%s", err);
            free(s);
            return 1;
        }
        double t1 = bt_now_us();
        s[n++] = t1 - t0;
        if (iters ? n >= iters : (t1 > end && n >= 200))
            break;
    }
    bt_emit_rtt(id, s, n);
    free(s);
    return 0;
}

/* ---- processes ---- */

static char g_self[1024];

int bt_spawn_peer(bt_child *c, const char *const *args)
{
    memset(c, 0, sizeof *c);
#if defined(_WIN32)
    char cmd[4096];
    size_t off = (size_t)snprintf(cmd, sizeof cmd, "\"%s\" peer", g_self);
    for (int i = 0; args[i] && off < sizeof cmd; i++)
        off += (size_t)snprintf(cmd + off, sizeof cmd - off, " %s", args[i]);
    STARTUPINFOA si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    int tries = 0;
    while (!CreateProcessA(NULL, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &c->pi)) {
        if (++tries == 100) { /* Wine sometimes refuses for a moment when many start at once */
            fprintf(stderr, "wipc_bench: CreateProcess failed (error %lu)\n", (unsigned long)GetLastError());
            return -1;
        }
        Sleep(20);
    }
#else
    const char *argv[64];
    int n = 0;
    argv[n++] = g_self;
    argv[n++] = "peer";
    for (int i = 0; args[i] && n < 62; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    if (posix_spawn(&c->pid, g_self, NULL, NULL, (char *const *)argv, environ) != 0)
        return -1;
#endif
    c->live = 1;
    return 0;
}

int bt_start_peer(const bt_case *bc, const char *id, const char *name, bt_child *child)
{
    char sz[32];
    snprintf(sz, sizeof sz, "%zu", bc->size);
    const char *args[] = { bc->impl, bc->metric, name, sz, NULL };
    if (bt_spawn_peer(child, args)) {
        bt_emit_error(id, "cannot start the peer process");
        return 1;
    }
    bt_watch(id, child);
    return 0;
}

int bt_start_named_peer(const bt_case *bc, const char *id, char *name, size_t cap, bt_child *child)
{
    bt_name(name, cap, bc->impl);
    return bt_start_peer(bc, id, name, child);
}

void bt_kill(bt_child *c)
{
    if (!c->live)
        return;
#if defined(_WIN32)
    TerminateProcess(c->pi.hProcess, 99);
    WaitForSingleObject(c->pi.hProcess, 5000);
    CloseHandle(c->pi.hProcess);
    CloseHandle(c->pi.hThread);
#else
    kill(c->pid, SIGKILL);
    waitpid(c->pid, NULL, 0);
#endif
    c->live = 0;
}

int bt_wait(bt_child *c, int timeout_ms)
{
    if (!c->live)
        return -1;
#if defined(_WIN32)
    if (WaitForSingleObject(c->pi.hProcess, (DWORD)timeout_ms) != WAIT_OBJECT_0) {
        bt_kill(c);
        return -1;
    }
    DWORD code = 1;
    GetExitCodeProcess(c->pi.hProcess, &code);
    CloseHandle(c->pi.hProcess);
    CloseHandle(c->pi.hThread);
    c->live = 0;
    return (int)code;
#else
    double end = bt_now_us() + timeout_ms * 1e3;
    for (;;) {
        int st;
        pid_t r = waitpid(c->pid, &st, WNOHANG);
        if (r == c->pid) {
            c->live = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        if (bt_now_us() > end) {
            bt_kill(c);
            return -1;
        }
        bt_sleep_ms(2);
    }
#endif
}

/* ---- watchdog: a case that hangs is reported as an error and the program exits (the driver runs
 * the remaining cases in a new process) ---- */

#define CASE_LIMIT_S 90

static volatile double g_case_start;
static bt_child *volatile g_case_child;

void bt_watch(const char *id, bt_child *child)
{
    g_current = id;
    g_case_child = child;
    g_case_start = bt_now_us();
}

#if defined(_WIN32)
static DWORD WINAPI watchdog(LPVOID arg)
#else
static void *watchdog(void *arg)
#endif
{
    (void)arg;
    for (;;) {
        bt_sleep_ms(500);
        const char *id = g_current;
        if (id && bt_now_us() - g_case_start > CASE_LIMIT_S * 1e6) {
            printf("{\"id\":\"%s\",\"error\":\"no result within %d s (hung)\"}\n", id, CASE_LIMIT_S);
            fflush(stdout);
            bt_child *c = g_case_child;
            if (c)
                bt_kill(c);
#if defined(_WIN32)
            ExitProcess(3);
#else
            _exit(3);
#endif
        }
    }
#if !defined(_WIN32)
    return NULL;
#else
    return 0;
#endif
}

#if !defined(_WIN32)
#  include <pthread.h>
#endif

static void start_watchdog(void)
{
#if defined(_WIN32)
    HANDLE h = CreateThread(NULL, 0, watchdog, NULL, 0, NULL);
    if (h)
        CloseHandle(h);
#else
    pthread_t t;
    if (pthread_create(&t, NULL, watchdog, NULL) == 0)
        pthread_detach(t);
#endif
}

/* ---- case table ---- */

static const bt_case *const *all_lists[4];

static void load_cases(void)
{
    all_lists[0] = bt_cases_raw();
    all_lists[1] = bt_cases_wipc();
    all_lists[2] = bt_cases_peers();
    all_lists[3] = bt_cases_scale();
}

static void case_id(const bt_case *c, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s.%s.%zu", c->impl, c->metric, c->size);
}

static const bt_case *find_case(const char *id)
{
    char b[128];
    for (int l = 0; l < 4; l++)
        for (const bt_case *const *p = all_lists[l]; p && *p; p++) {
            case_id(*p, b, sizeof b);
            if (!strcmp(b, id))
                return *p;
        }
    return NULL;
}

static const bt_case *find_impl(const char *impl)
{
    for (int l = 0; l < 4; l++)
        for (const bt_case *const *p = all_lists[l]; p && *p; p++)
            if (!strcmp((*p)->impl, impl) && (*p)->peer)
                return *p;
    return NULL;
}

static void find_self(const char *argv0)
{
#if defined(_WIN32)
    (void)argv0;
    GetModuleFileNameA(NULL, g_self, sizeof g_self);
#else
    ssize_t n = readlink("/proc/self/exe", g_self, sizeof g_self - 1);
    if (n > 0)
        g_self[n] = 0;
    else
        snprintf(g_self, sizeof g_self, "%s", argv0);
#endif
}

int main(int argc, char **argv)
{
    find_self(argv[0]);
    load_cases();
#if !defined(_WIN32)
    signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error return, not a signal */
#endif
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    const char *scale = getenv("WIPC_BENCH_SCALE");
    double k = scale ? atof(scale) : 1.0;
    if (argc >= 2 && !strcmp(argv[1], "peer")) {
        if (argc < 3)
            return 2;
        const bt_case *c = find_impl(argv[2]);
        if (!c) {
            fprintf(stderr, "wipc_bench peer: unknown impl %s\n", argv[2]);
            return 2;
        }
        return c->peer(argc - 2, argv + 2);
    }
    if (argc >= 2 && !strcmp(argv[1], "list")) {
        char b[128];
        for (int l = 0; l < 4; l++)
            for (const bt_case *const *p = all_lists[l]; p && *p; p++) {
                case_id(*p, b, sizeof b);
                printf("%s\n", b);
            }
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "run")) {
        int first = 2;
        if (argc > 2 && !strcmp(argv[2], "--quick")) {
            k *= 0.25;
            first = 3;
        }
        if (k > 0 && k != 1.0) {
            bt_rtt_secs *= k;
            bt_tput_secs *= k;
        }
        start_watchdog();
        int failed = 0;
        for (int i = first; i < argc; i++) {
            const bt_case *c = find_case(argv[i]);
            if (!c) {
                bt_emit_error(argv[i], "unknown case (not built on this platform?)");
                failed = 1;
                continue;
            }
            bt_watch(argv[i], NULL);
            failed |= c->run(c, argv[i]) != 0;
            bt_watch(NULL, NULL);
        }
        wipc_shutdown();
        return failed;
    }
    fprintf(stderr, "usage: wipc_bench list | run [--quick] ID... | peer IMPL ARGS...\n");
    return 2;
}
