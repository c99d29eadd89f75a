/*
 * proc_watch.c - a process's exit as an event (platform_shm.h, wipc__plat_proc_watch): a pidfd
 * (pidfd_open(2), Linux 5.3+) on the epoll I/O thread; it becomes readable when the process exits.
 * The shm channel watches its peer with it instead of polling /proc every 100 ms.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "platform.h"
#include "platform_shm.h"
#include "linux/loop.h"

#ifndef SYS_pidfd_open
#  define SYS_pidfd_open 434 /* the same number on every architecture */
#endif

struct wipc__proc_watch {
    wipc__linux_source src; /* first: the loop hands back the source */
    void (*on_exit)(void *arg);
    void (*on_free)(void *arg);
    void *arg;
    atomic_bool fired;
};

static void watch_ready(wipc__linux_source *src, uint32_t events)
{
    wipc__proc_watch *w = (wipc__proc_watch *)src;
    if (events && !atomic_exchange(&w->fired, true)) /* EPOLLONESHOT: once */
        w->on_exit(w->arg);
}

static void watch_free(wipc__linux_source *src)
{
    wipc__proc_watch *w = (wipc__proc_watch *)src;
    close(w->src.fd);
    w->on_free(w->arg);
    free(w);
}

wipc__proc_watch *wipc__plat_proc_watch(uint32_t pid, uint32_t start_key, void (*on_exit)(void *arg),
                                        void (*on_free)(void *arg), void *arg)
{
    if (pid == 0)
        return NULL;
    int fd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0);
    if (fd < 0)
        return NULL; /* ENOSYS (kernel before 5.3, seccomp), ESRCH (gone), EMFILE: the caller polls */
    /* The pidfd names whatever process has the pid now: it is ours only if it has our start key. */
    if (!wipc__plat_proc_alive(pid, start_key)) {
        close(fd);
        return NULL;
    }
    wipc__proc_watch *w = calloc(1, sizeof *w);
    if (!w) {
        close(fd);
        return NULL;
    }
    w->src.fd = fd;
    w->src.on_ready = watch_ready;
    w->on_exit = on_exit;
    w->on_free = on_free;
    w->arg = arg;
    if (wipc__linux_loop_add(&w->src, EPOLLIN | EPOLLONESHOT) != WIPC_OK) {
        close(fd);
        free(w);
        return NULL;
    }
    return w;
}

void wipc__plat_proc_unwatch(wipc__proc_watch *w)
{
    if (w)
        wipc__linux_loop_retire(&w->src, watch_free);
}
