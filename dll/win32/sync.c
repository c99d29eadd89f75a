/*
 * sync.c - threads, locks, condition variables, clocks and process id for the Win32 backend.
 *
 * wipc__mutex = SRWLOCK used exclusively (AcquireSRWLockExclusive; not recursive), wipc__cond =
 * CONDITION_VARIABLE (SleepConditionVariableSRW). Threads are CreateThread threads that pin the
 * module (GetModuleHandleExW(FROM_ADDRESS)) while they run and leave through FreeLibraryAndExitThread,
 * so wipc.dll cannot be unloaded under a running library thread. Time: GetTickCount64 (ms) and
 * QueryPerformanceCounter (ns); Sleep; GetCurrentThreadId; GetCurrentProcessId.
 */
#include <stdlib.h>

#include "win32_internal.h"

void wipc__mutex_init(wipc__mutex *m)
{
    InitializeSRWLock(m);
}
void wipc__mutex_destroy(wipc__mutex *m)
{
    (void)m; /* SRW locks own no resources */
}
void wipc__mutex_lock(wipc__mutex *m)
{
    AcquireSRWLockExclusive(m);
}
void wipc__mutex_unlock(wipc__mutex *m)
{
    ReleaseSRWLockExclusive(m);
}

void wipc__cond_init(wipc__cond *c)
{
    InitializeConditionVariable(c);
}
void wipc__cond_destroy(wipc__cond *c)
{
    (void)c; /* nothing to free */
}
void wipc__cond_signal(wipc__cond *c)
{
    WakeConditionVariable(c);
}
void wipc__cond_broadcast(wipc__cond *c)
{
    WakeAllConditionVariable(c);
}

int wipc__cond_wait_until(wipc__cond *c, wipc__mutex *m, wipc__deadline dl)
{
    DWORD saved = GetLastError(); /* a wait is not a failure: keep the caller's last error */
    int rc = 0;
    for (;;) {
        DWORD left = wipc__win_wait_ms(dl);
        if (left == 0) {
            rc = WIPC_E_TIMEOUT;
            break;
        }
        if (SleepConditionVariableSRW(c, m, left, 0))

            break;
        /* ERROR_TIMEOUT is the documented failure; anything else is treated as a wake-up: the caller
         * re-checks its predicate and its deadline. A timeout is reported only once GetTickCount64
         * has reached the deadline (the wait may end a tick early): else it waits for the rest. */
        if (GetLastError() != ERROR_TIMEOUT)
            break;
    }
    SetLastError(saved);
    return rc;
}

/* ---- threads ---------------------------------------------------------------------------------- */

typedef struct thread_start {
    wipc__thread_fn fn;
    void *arg;
    HMODULE module; /* reference held while the thread runs; NULL if it could not be taken */
} thread_start;

static DWORD WINAPI thread_main(LPVOID p)
{
    thread_start ts = *(thread_start *)p;
    free(p);
    ts.fn(ts.arg);
    if (ts.module)
        FreeLibraryAndExitThread(ts.module, 0); /* does not return */
    return 0;
}

wipc_status wipc__thread_start(wipc__thread *t, wipc__thread_fn fn, void *arg)
{
    thread_start *ts = (thread_start *)malloc(sizeof *ts);
    if (!ts)
        return wipc__error(WIPC_E_NO_MEMORY, ERROR_NOT_ENOUGH_MEMORY, "CreateThread: out of memory");
    ts->fn = fn;
    ts->arg = arg;
    ts->module = NULL;
    if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS, (LPCWSTR)(void *)&thread_main, &ts->module))
        ts->module = NULL; /* not fatal: the thread simply does not pin the module */
    HANDLE h = CreateThread(NULL, 0, thread_main, ts, 0, NULL);
    if (!h) {
        DWORD err = GetLastError();
        if (ts->module)
            FreeLibrary(ts->module);
        free(ts);
        return wipc__error(WIPC_E_SYSTEM, err, "CreateThread failed");
    }
    *t = h;
    return WIPC_OK;
}

void wipc__thread_join(wipc__thread *t)
{
    if (!*t)
        return;
    WaitForSingleObject(*t, INFINITE);
    CloseHandle(*t);
    *t = NULL;
}

uint64_t wipc__thread_self(void)
{
    return (uint64_t)GetCurrentThreadId();
}

/* ---- time, process ---------------------------------------------------------------------------- */

uint64_t wipc__now_ms(void)
{
    return (uint64_t)GetTickCount64();
}

int64_t wipc__unix_ms(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft); /* 100 ns units since 1601 */
    uint64_t t = ((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime;
    return (int64_t)(t / 10000u) - 11644473600000LL;
}

uint64_t wipc__now_ns(void)
{
    static LONG64 freq; /* counts per second; fixed at boot, so a benign race */
    LARGE_INTEGER c, f;
    if (!freq) {
        QueryPerformanceFrequency(&f);
        freq = f.QuadPart > 0 ? f.QuadPart : 1;
    }
    QueryPerformanceCounter(&c);
    uint64_t count = (uint64_t)c.QuadPart, hz = (uint64_t)freq;
    /* split to avoid overflowing count * 1e9 */
    return (count / hz) * 1000000000ull + (count % hz) * 1000000000ull / hz;
}

void wipc__sleep_ms(uint32_t ms)
{
    Sleep((DWORD)ms);
}

uint32_t wipc__getpid(void)
{
    return (uint32_t)GetCurrentProcessId();
}
