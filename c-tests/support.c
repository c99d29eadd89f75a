/*
 * support.c - see support.h. Process, thread and time helpers for the tests and wipc_peer.
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE /* pthread_timedjoin_np */
#endif

#include "support.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  include <windows.h>
#else
#  include <dirent.h>
#  include <errno.h>
#  include <fcntl.h>
#  include <poll.h>
#  include <pthread.h>
#  include <signal.h>
#  include <spawn.h>
#  include <sys/prctl.h>
#  include <sys/types.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>
extern char **environ;
#endif

/* ---- crashes (Windows) --------------------------------------------------------------------------- */

#ifdef _WIN32
/* Under Wine an unhandled exception in a thread other than the main one (a library thread: the I/O
 * thread, a callback worker, a msg window thread) starts winedbg, prints its backtrace and then ends
 * the process with exit code 0: ctest would count the crash as a pass. Every test program and peer
 * therefore ends itself with the exception code (0xC0000005 -> exit status 5) from its top-level
 * filter, which runs before Wine's debugger, as Windows would end it. */
static LONG WINAPI wt_crash_filter(EXCEPTION_POINTERS *ep)
{
    DWORD code = ep && ep->ExceptionRecord ? ep->ExceptionRecord->ExceptionCode : 1;
    fprintf(stderr, "CRASH: unhandled exception 0x%08lx at %p in thread %lu\n", (unsigned long)code,
            ep && ep->ExceptionRecord ? ep->ExceptionRecord->ExceptionAddress : NULL,
            (unsigned long)GetCurrentThreadId());
    fflush(stderr);
    TerminateProcess(GetCurrentProcess(), code ? (UINT)code : 1u);
    return EXCEPTION_EXECUTE_HANDLER;
}

__attribute__((constructor)) static void wt_install_crash_filter(void)
{
    SetUnhandledExceptionFilter(wt_crash_filter);
}
#endif

/* ---- time -------------------------------------------------------------------------------------- */

#ifndef _WIN32
static uint64_t wt_monotonic_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#endif

uint64_t wt_now_ms(void)
{
#ifdef _WIN32
    return (uint64_t)GetTickCount64();
#else
    return wt_monotonic_ns() / 1000000u;
#endif
}

double wt_now_us(void)
{
#ifdef _WIN32
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e6 / (double)f.QuadPart;
#else
    return (double)wt_monotonic_ns() / 1e3;
#endif
}

void wt_sleep_ms(unsigned ms)
{
#ifdef _WIN32
    Sleep(ms);
#else
    struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
#endif
}

static uint32_t wt_getpid(void)
{
#ifdef _WIN32
    return (uint32_t)GetCurrentProcessId();
#else
    return (uint32_t)getpid();
#endif
}

/* ---- names and data ---------------------------------------------------------------------------- */

static atomic_uint g_name_counter;

const char *wt_unique_name(char *buf, size_t cap, const char *tag)
{
    unsigned n = atomic_fetch_add(&g_name_counter, 1u);
    snprintf(buf, cap, "wt-%u-%u-%s", (unsigned)wt_getpid(), n, tag ? tag : "x");
    return buf;
}

const char *wt_raw_path(char *buf, size_t cap)
{
    unsigned n = atomic_fetch_add(&g_name_counter, 1u);
#ifdef _WIN32
    snprintf(buf, cap, "\\\\.\\pipe\\wt-raw-%u-%u", (unsigned)wt_getpid(), n);
#else
    snprintf(buf, cap, "/tmp/wt-raw-%u-%u-%u.sock", (unsigned)getuid(), (unsigned)wt_getpid(), n);
    unlink(buf);
#endif
    return buf;
}

#ifndef _WIN32
const char *wt_run_dir(void)
{
    static char buf[256];
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (x && x[0] == '/')
        snprintf(buf, sizeof buf, "%s/wipc", x);
    else
        snprintf(buf, sizeof buf, "/tmp/wipc-%u", (unsigned)geteuid());
    return buf;
}

/* Removes the entries of `dir` whose name starts with one of the `n` prefixes. */
static void wt_remove_prefixed(const char *dir, const char *const *prefixes, size_t n)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        for (size_t i = 0; i < n; i++) {
            if (strncmp(e->d_name, prefixes[i], strlen(prefixes[i])) == 0) {
                char path[512];
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
                break;
            }
        }
    }
    closedir(d);
}

/* Peers killed on purpose leave their socket and lock files or shm objects behind (POSIX reclaims
 * them only when a listener takes the same name again, and every test name is unique): at exit, the
 * test process removes the ones of its own names (wt-<pid>-..., wt_unique_name). */
static void wt_remove_leftovers(void)
{
    char pipe[64], msg[64], shm[80], st[3][80];
    snprintf(pipe, sizeof pipe, "p.wt-%u-", (unsigned)wt_getpid());
    snprintf(msg, sizeof msg, "m.wt-%u-", (unsigned)wt_getpid());
    snprintf(shm, sizeof shm, "wipc-%u-wt-%u-", (unsigned)geteuid(), (unsigned)wt_getpid());
    for (int i = 0; i < 3; i++) /* stats sections (1.1): wipc-<uid>-st-<p|s|m>-<name> */
        snprintf(st[i], sizeof st[i], "wipc-%u-st-%c-wt-%u-", (unsigned)geteuid(), "psm"[i], (unsigned)wt_getpid());
    const char *run[] = { pipe, msg }, *dev[] = { shm, st[0], st[1], st[2] };
    wt_remove_prefixed(wt_run_dir(), run, 2);
    wt_remove_prefixed("/dev/shm", dev, 4);
}
#endif

static uint8_t wt_byte(size_t i, uint32_t seed)
{
    uint32_t x = (uint32_t)i * 2654435761u + seed * 40503u + (uint32_t)(i >> 13);
    x ^= x >> 15;
    return (uint8_t)(x ^ (x >> 8));
}

void wt_fill(void *buf, size_t n, uint32_t seed)
{
    uint8_t *p = (uint8_t *)buf;
    for (size_t i = 0; i < n; i++)
        p[i] = wt_byte(i, seed);
}

int wt_check(const void *buf, size_t n, uint32_t seed)
{
    const uint8_t *p = (const uint8_t *)buf;
    for (size_t i = 0; i < n; i++)
        if (p[i] != wt_byte(i, seed))
            return 0;
    return 1;
}

const char *wt_last_error(char *buf, size_t cap)
{
    const char *m = wipc_last_error_message();
    snprintf(buf, cap, "%s", m ? m : "(NULL)");
    return buf;
}

/* ---- threads ----------------------------------------------------------------------------------- */

struct wt_thread {
    wt_thread_fn fn;
    void *arg;
    void *result;
#ifdef _WIN32
    HANDLE h;
#else
    pthread_t t;
#endif
};

#ifdef _WIN32
static DWORD WINAPI wt_thread_main(LPVOID p)
{
    wt_thread *t = (wt_thread *)p;
    t->result = t->fn(t->arg);
    return 0;
}
#endif

wt_thread *wt_thread_start(wt_thread_fn fn, void *arg)
{
    wt_thread *t = (wt_thread *)calloc(1, sizeof *t);
    if (!t) {
        fprintf(stderr, "wt_thread_start: out of memory\n");
        abort();
    }
    t->fn = fn;
    t->arg = arg;
#ifdef _WIN32
    t->h = CreateThread(NULL, 0, wt_thread_main, t, 0, NULL);
    if (!t->h) {
        fprintf(stderr, "wt_thread_start: CreateThread failed (%lu)\n", (unsigned long)GetLastError());
        abort();
    }
#else
    if (pthread_create(&t->t, NULL, fn, arg) != 0) {
        fprintf(stderr, "wt_thread_start: pthread_create failed\n");
        abort();
    }
#endif
    return t;
}

int wt_thread_join_timeout(wt_thread *t, int timeout_ms, void **out_result)
{
#ifdef _WIN32
    if (WaitForSingleObject(t->h, (DWORD)timeout_ms) != WAIT_OBJECT_0)
        return -1;
    CloseHandle(t->h);
    if (out_result)
        *out_result = t->result;
#else
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    void *r = NULL;
    if (pthread_timedjoin_np(t->t, &r, &ts) != 0)
        return -1;
    if (out_result)
        *out_result = r;
#endif
    free(t);
    return 0;
}

void *wt_thread_join_or_die(wt_thread *t, int timeout_ms, const char *what)
{
    void *r = NULL;
    if (wt_thread_join_timeout(t, timeout_ms, &r) != 0) {
        fprintf(stderr, "HANG: %s: thread still blocked after %d ms\n", what, timeout_ms);
        fflush(stderr);
        fflush(stdout);
#ifdef _WIN32
        ExitProcess(3);
#else
        _exit(3);
#endif
    }
    return r;
}

/* ---- processes --------------------------------------------------------------------------------- */

struct wt_proc {
    char line[4096];
    size_t line_len;
    int exited;
    int exit_code;
    uint32_t pid;
#ifdef _WIN32
    HANDLE process;
    HANDLE out_read;
#else
    pid_t p;
    int out_fd;
#endif
};

static char g_peer_path[4096];

/* ---- registry of live children: a failed test (cmocka longjmps out of it) must not leave its
 * peers running; test teardowns and an atexit handler kill whatever is left. */
#define WT_MAX_PROCS 64
static wt_proc *g_procs[WT_MAX_PROCS];
static int g_procs_registered;
int wt_kill_all_peers(void);
#ifdef _WIN32
static HANDLE g_job; /* KILL_ON_JOB_CLOSE: the children die with this process, even if it is killed */
#endif

static void wt_kill_all_at_exit(void)
{
    wt_kill_all_peers();
}

static void wt_register(wt_proc *p)
{
    if (!g_procs_registered) {
        g_procs_registered = 1;
        atexit(wt_kill_all_at_exit);
    }
    for (int i = 0; i < WT_MAX_PROCS; i++)
        if (!g_procs[i]) {
            g_procs[i] = p;
            return;
        }
}

static void wt_unregister(wt_proc *p)
{
    for (int i = 0; i < WT_MAX_PROCS; i++)
        if (g_procs[i] == p)
            g_procs[i] = NULL;
}

int wt_kill_all_peers(void)
{
    int n = 0;
    for (int i = 0; i < WT_MAX_PROCS; i++)
        if (g_procs[i]) {
            wt_proc_free(g_procs[i]); /* kills, reaps, unregisters */
            n++;
        }
    return n;
}

static const char *g_peer_prog = "wipc_peer";

void wt_use_peer(const char *program)
{
    g_peer_prog = program;
    g_peer_path[0] = 0;
}

const char *wt_peer_path(void)
{
    if (g_peer_path[0])
        return g_peer_path;
    const char *env = getenv("WIPC_PEER");
    if (env && env[0]) {
        snprintf(g_peer_path, sizeof g_peer_path, "%s", env);
        return g_peer_path;
    }
#ifdef _WIN32
    wchar_t w[MAX_PATH * 2], prog[128];
    DWORD n = GetModuleFileNameW(NULL, w, (DWORD)(sizeof w / sizeof w[0]));
    MultiByteToWideChar(CP_UTF8, 0, g_peer_prog, -1, prog, (int)(sizeof prog / sizeof prog[0]) - 5);
    wcscat(prog, L".exe");
    if (n == 0 || n + wcslen(prog) >= sizeof w / sizeof w[0]) {
        snprintf(g_peer_path, sizeof g_peer_path, "%s.exe", g_peer_prog);
        return g_peer_path;
    }
    wchar_t *slash = wcsrchr(w, L'\\');
    wchar_t *slash2 = wcsrchr(w, L'/');
    if (slash2 > slash)
        slash = slash2;
    if (slash)
        slash[1] = 0;
    else
        w[0] = 0;
    wcscat(w, prog);
    WideCharToMultiByte(CP_UTF8, 0, w, -1, g_peer_path, (int)sizeof g_peer_path, NULL, NULL);
#else
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return g_peer_prog;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (slash)
        slash[1] = 0;
    snprintf(g_peer_path, sizeof g_peer_path, "%s%s", exe, g_peer_prog);
#endif
    return g_peer_path;
}

#ifdef _WIN32
static void wt_append_arg(wchar_t *cmd, size_t cap, const char *arg)
{
    wchar_t w[2048];
    MultiByteToWideChar(CP_UTF8, 0, arg, -1, w, (int)(sizeof w / sizeof w[0]));
    size_t len = wcslen(cmd);
    if (len && len + 1 < cap)
        cmd[len++] = L' ';
    if (len + 1 < cap)
        cmd[len++] = L'"';
    /* Our arguments never hold quotes; backslashes before the closing quote are doubled. */
    size_t wl = wcslen(w), trailing = 0;
    while (trailing < wl && w[wl - 1 - trailing] == L'\\')
        trailing++;
    for (size_t i = 0; i < wl && len + 1 < cap; i++)
        cmd[len++] = w[i];
    for (size_t i = 0; i < trailing && len + 1 < cap; i++)
        cmd[len++] = L'\\';
    if (len + 1 < cap)
        cmd[len++] = L'"';
    cmd[len] = 0;
}
#endif

wt_proc *wt_spawn_peer(const char *const *args)
{
#ifndef _WIN32
    static atomic_bool cleanup_registered;
    if (!atomic_exchange(&cleanup_registered, 1))
        atexit(wt_remove_leftovers);
#endif
    wt_proc *p = (wt_proc *)calloc(1, sizeof *p);
    if (!p)
        return NULL;
    const char *path = wt_peer_path();
#ifdef _WIN32
    SECURITY_ATTRIBUTES sa = { sizeof sa, NULL, TRUE };
    HANDLE rd = NULL, wr = NULL;
    if (!CreatePipe(&rd, &wr, &sa, 0)) {
        fprintf(stderr, "wt_spawn_peer: CreatePipe failed (%lu)\n", (unsigned long)GetLastError());
        free(p);
        return NULL;
    }
    SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
    HANDLE err = NULL;
    HANDLE my_err = GetStdHandle(STD_ERROR_HANDLE);
    if (my_err && my_err != INVALID_HANDLE_VALUE)
        DuplicateHandle(GetCurrentProcess(), my_err, GetCurrentProcess(), &err, 0, TRUE, DUPLICATE_SAME_ACCESS);

    static wchar_t cmd[8192];
    cmd[0] = 0;
    wt_append_arg(cmd, sizeof cmd / sizeof cmd[0], path);
    for (size_t i = 0; args[i]; i++)
        wt_append_arg(cmd, sizeof cmd / sizeof cmd[0], args[i]);
    wchar_t wpath[4096];
    MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, (int)(sizeof wpath / sizeof wpath[0]));

    STARTUPINFOW si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = NULL;
    si.hStdOutput = wr;
    si.hStdError = err ? err : wr;
    PROCESS_INFORMATION pi;
    memset(&pi, 0, sizeof pi);
    BOOL ok = CreateProcessW(wpath, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si, &pi);
    DWORD e = GetLastError();
    CloseHandle(wr);
    if (err)
        CloseHandle(err);
    if (!ok) {
        fprintf(stderr, "wt_spawn_peer: CreateProcessW(%s) failed (%lu)\n", path, (unsigned long)e);
        CloseHandle(rd);
        free(p);
        return NULL;
    }
    if (!g_job) {
        g_job = CreateJobObjectW(NULL, NULL);
        if (g_job) {
            JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
            memset(&li, 0, sizeof li);
            li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
            SetInformationJobObject(g_job, JobObjectExtendedLimitInformation, &li, sizeof li);
        }
    }
    if (g_job)
        AssignProcessToJobObject(g_job, pi.hProcess); /* best effort */
    CloseHandle(pi.hThread);
    p->process = pi.hProcess;
    p->pid = (uint32_t)pi.dwProcessId;
    p->out_read = rd;
#else
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        perror("wt_spawn_peer: pipe2");
        free(p);
        return NULL;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    const char *argv[64];
    size_t n = 0;
    argv[n++] = path;
    for (size_t i = 0; args[i] && n < 63; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, path, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (rc != 0) {
        fprintf(stderr, "wt_spawn_peer: posix_spawn(%s) failed: %s\n", path, strerror(rc));
        close(fds[0]);
        free(p);
        return NULL;
    }
    p->p = pid;
    p->pid = (uint32_t)pid;
    p->out_fd = fds[0];
#endif
    wt_register(p);
    return p;
}

uint32_t wt_proc_pid(const wt_proc *p)
{
    return p->pid;
}

/* Reads what is available (waiting up to ms); returns bytes read, 0 on timeout, -1 on EOF. */
static int wt_proc_read_some(wt_proc *p, int ms)
{
    if (p->line_len >= sizeof p->line - 1)
        return -1;
    char *dst = p->line + p->line_len;
    size_t room = sizeof p->line - 1 - p->line_len;
#ifdef _WIN32
    uint64_t end = wt_now_ms() + (uint64_t)ms;
    for (;;) {
        DWORD avail = 0;
        if (!PeekNamedPipe(p->out_read, NULL, 0, NULL, &avail, NULL))
            return -1;
        if (avail > 0) {
            DWORD got = 0;
            if (!ReadFile(p->out_read, dst, avail < room ? avail : (DWORD)room, &got, NULL) || got == 0)
                return -1;
            p->line_len += got;
            return (int)got;
        }
        if (wt_now_ms() >= end)
            return 0;
        Sleep(5);
    }
#else
    struct pollfd pfd = { p->out_fd, POLLIN, 0 };
    int r = poll(&pfd, 1, ms);
    if (r == 0)
        return 0;
    if (r < 0)
        return errno == EINTR ? 0 : -1;
    ssize_t got = read(p->out_fd, dst, room);
    if (got <= 0)
        return -1;
    p->line_len += (size_t)got;
    return (int)got;
#endif
}

int wt_proc_read_line(wt_proc *p, char *buf, size_t cap, int timeout_ms)
{
    uint64_t end = wt_now_ms() + (uint64_t)timeout_ms;
    for (;;) {
        char *nl = (char *)memchr(p->line, '\n', p->line_len);
        if (nl) {
            size_t len = (size_t)(nl - p->line);
            size_t keep = len;
            if (keep && p->line[keep - 1] == '\r')
                keep--;
            if (cap) {
                size_t c = keep < cap - 1 ? keep : cap - 1;
                memcpy(buf, p->line, c);
                buf[c] = 0;
            }
            memmove(p->line, nl + 1, p->line_len - len - 1);
            p->line_len -= len + 1;
            return 0;
        }
        uint64_t now = wt_now_ms();
        if (now >= end)
            return -1;
        if (wt_proc_read_some(p, (int)(end - now)) < 0)
            return -1;
    }
}

int wt_proc_wait_ready(wt_proc *p, int timeout_ms)
{
    uint64_t end = wt_now_ms() + (uint64_t)timeout_ms;
    char line[512];
    for (;;) {
        uint64_t now = wt_now_ms();
        if (now >= end)
            return -1;
        if (wt_proc_read_line(p, line, sizeof line, (int)(end - now)) != 0)
            return -1;
        if (strcmp(line, "READY") == 0)
            return 0;
    }
}

int wt_proc_kill(wt_proc *p)
{
    if (p->exited)
        return 0;
#ifdef _WIN32
    return TerminateProcess(p->process, 137) ? 0 : -1;
#else
    return kill(p->p, SIGKILL);
#endif
}

int wt_proc_wait(wt_proc *p, int timeout_ms, int *exit_code)
{
    if (!p->exited) {
#ifdef _WIN32
        if (WaitForSingleObject(p->process, (DWORD)timeout_ms) != WAIT_OBJECT_0)
            return -1;
        DWORD code = 0;
        GetExitCodeProcess(p->process, &code);
        p->exit_code = (int)code;
        p->exited = 1;
#else
        uint64_t end = wt_now_ms() + (uint64_t)timeout_ms;
        for (;;) {
            int st = 0;
            pid_t r = waitpid(p->p, &st, WNOHANG);
            if (r == p->p) {
                p->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 255;
                p->exited = 1;
                break;
            }
            if (r < 0 && errno != EINTR) {
                p->exit_code = 255;
                p->exited = 1;
                break;
            }
            if (wt_now_ms() >= end)
                return -1;
            wt_sleep_ms(5);
        }
#endif
    }
    if (exit_code)
        *exit_code = p->exit_code;
    return 0;
}

void wt_proc_free(wt_proc *p)
{
    if (!p)
        return;
    wt_unregister(p);
    if (!p->exited) {
        wt_proc_kill(p);
        wt_proc_wait(p, 10000, NULL);
    }
#ifdef _WIN32
    CloseHandle(p->out_read);
    CloseHandle(p->process);
#else
    close(p->out_fd);
#endif
    free(p);
}

/* ---- helper peer programs ---- */

void wt_peer_ready(void)
{
    fputs("READY\n", stdout);
    fflush(stdout);
}

void wt_peer_report(const char *prog, const char *what, wipc_status s)
{
    char m[1024];
    wt_last_error(m, sizeof m);
    fprintf(stderr, "%s: %s: %s (%d): %s\n", prog, what, wipc_status_name(s), (int)s, m);
}

void wt_peer_block_forever(void)
{
    for (;;)
        wt_sleep_ms(1000);
}

int wt_peer_die_with_parent(void)
{
#ifndef _WIN32
    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        return -1;
#endif
    return 0;
}

int wt_peer_hold(const char *prog, const char *what, wipc_status s)
{
    if (s != WIPC_OK) {
        wt_peer_report(prog, what, s);
        return 2;
    }
    wt_peer_ready();
    wt_peer_block_forever();
    return 0;
}

wipc_status wt_connect_waiting(const char *name, int32_t timeout_ms, wipc_handle *out)
{
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_WAIT_FOR_SERVER;
    return wipc_pipe_connect(name, &o, timeout_ms, out);
}

int wt_peer_pipe_hold(const char *prog, const char *name)
{
    wipc_handle c = 0;
    return wt_peer_hold(prog, "wipc_pipe_connect", wt_connect_waiting(name, 10000, &c));
}

int wt_peer_pipe_squat(const char *prog, const char *name)
{
    wipc_handle srv = 0;
    return wt_peer_hold(prog, "wipc_pipe_listen", wipc_pipe_listen(name, NULL, &srv));
}

int wt_peer_shm_hold(const char *prog, const char *name, int create)
{
    wipc_handle h = 0;
    if (!create)
        return wt_peer_hold(prog, "wipc_shm_open", wipc_shm_open(name, NULL, 10000, &h));
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.capacity = 64 * 1024;
    return wt_peer_hold(prog, "wipc_shm_create", wipc_shm_create(name, &o, &h));
}

int wt_peer_echo(const char *prog, wipc_handle h, void *buf, size_t cap)
{
    for (;;) {
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        wipc_status s = wipc_recv_message(h, buf, cap, &m, 60000);
        if (s == WIPC_E_TIMEOUT)
            continue;
        if (s == WIPC_E_DISCONNECTED)
            return 0;
        if (s != WIPC_OK) {
            wt_peer_report(prog, "wipc_recv_message", s);
            return 1;
        }
        s = m.request_id ? wipc_reply(h, m.request_id, m.type + 1, buf, m.size)
                         : wipc_send(h, m.type + 1, buf, m.size, 10000);
        if (s != WIPC_OK && s != WIPC_E_DISCONNECTED) { /* a peer that left: the next receive says so */
            wt_peer_report(prog, m.request_id ? "wipc_reply" : "wipc_send", s);
            return 1;
        }
    }
}

int wt_peer_shm_echo(const char *prog, const char *name)
{
    wipc_handle h = 0;
    wipc_status s = wipc_shm_open(name, NULL, 10000, &h);
    if (s != WIPC_OK) {
        wt_peer_report(prog, "wipc_shm_open", s);
        return 2;
    }
    wipc_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    wipc_get_info(h, &in);
    size_t cap = in.max_message_size;
    void *buf = malloc(cap ? cap : 1);
    wt_peer_ready();
    if (wt_peer_echo(prog, h, buf, cap) != 0)
        return 1;
    wipc_close(h);
    free(buf);
    return 0;
}
