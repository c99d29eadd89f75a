/*
 * sync.c - POSIX threads, locks, condition variables (CLOCK_MONOTONIC), clocks and sleeping.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "platform.h"

void wipc__mutex_init(wipc__mutex *m)
{
    pthread_mutex_init(m, NULL);
}
void wipc__mutex_destroy(wipc__mutex *m)
{
    pthread_mutex_destroy(m);
}
void wipc__mutex_lock(wipc__mutex *m)
{
    pthread_mutex_lock(m);
}
void wipc__mutex_unlock(wipc__mutex *m)
{
    pthread_mutex_unlock(m);
}

void wipc__cond_init(wipc__cond *c)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(c, &a);
    pthread_condattr_destroy(&a);
}
void wipc__cond_destroy(wipc__cond *c)
{
    pthread_cond_destroy(c);
}
void wipc__cond_signal(wipc__cond *c)
{
    pthread_cond_signal(c);
}
void wipc__cond_broadcast(wipc__cond *c)
{
    pthread_cond_broadcast(c);
}

int wipc__cond_wait_until(wipc__cond *c, wipc__mutex *m, wipc__deadline dl)
{
    if (wipc__deadline_is_never(dl)) {
        pthread_cond_wait(c, m);
        return 0;
    }
    /* wipc__now_ms() is CLOCK_MONOTONIC, the clock wipc__cond_init gives every cond: the deadline is
     * the absolute time to wait for, as it is */
    struct timespec ts = { (time_t)(dl.at_ms / 1000u), (long)(dl.at_ms % 1000u) * 1000000L };
    return pthread_cond_timedwait(c, m, &ts) == ETIMEDOUT ? WIPC_E_TIMEOUT : 0;
}

typedef struct start_arg {
    wipc__thread_fn fn;
    void *arg;
} start_arg;

static void *trampoline(void *p)
{
    start_arg a = *(start_arg *)p;
    free(p);
    a.fn(a.arg);
    return NULL;
}

wipc_status wipc__thread_start(wipc__thread *t, wipc__thread_fn fn, void *arg)
{
    start_arg *a = malloc(sizeof *a);
    if (!a)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "cannot start a library thread: out of memory");
    a->fn = fn;
    a->arg = arg;
    /* Library threads never take the application's termination and job-control signals: the kernel
     * delivers a process signal to any thread that does not block it, and a runtime such as CPython
     * runs its handlers only when its main thread wakes up. The new thread inherits the mask. Only
     * these: managed runtimes that call in through callbacks suspend their threads with other
     * signals (mono: SIGPWR / SIGXCPU), and faults (SIGSEGV, ...) must stay deliverable. */
    static const int app_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGALRM, SIGCHLD, SIGWINCH, SIGTSTP };
    sigset_t all, old;
    sigemptyset(&all);
    for (size_t i = 0; i < sizeof app_signals / sizeof app_signals[0]; i++)
        sigaddset(&all, app_signals[i]);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(t, NULL, trampoline, a);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(a);
        return wipc__error(WIPC_E_SYSTEM, rc, "pthread_create failed");
    }
    return WIPC_OK;
}

void wipc__thread_join(wipc__thread *t)
{
    pthread_join(*t, NULL);
}
uint64_t wipc__thread_self(void)
{
    return (uint64_t)syscall(SYS_gettid);
}

uint64_t wipc__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t wipc__now_ms(void)
{
    return wipc__now_ns() / 1000000u;
}

int64_t wipc__unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wipc__sleep_ms(uint32_t ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

uint32_t wipc__getpid(void)
{
    return (uint32_t)getpid();
}
