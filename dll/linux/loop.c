/*
 * loop.c - the epoll I/O thread (see loop.h).
 *
 * Freeing a source safely: an event may have been fetched by epoll_wait for a source another thread
 * is unregistering. A retired source records the loop's epoch (incremented before each epoll_wait)
 * and is freed at the top of a later iteration, when the batch that could name it is done; while one
 * waits, the next epoll_wait does not block, so that iteration comes at once.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include "platform.h"
#include "linux/loop.h"

static wipc__mutex loop_lock = WIPC__MUTEX_INIT;
static int epfd = -1;
static int wakefd = -1;
static bool running;
static bool stop_requested;
static wipc__thread loop_thread;
static uint64_t epoch; /* guarded by loop_lock */
static wipc__linux_source *dead_head; /* guarded by loop_lock */
static wipc__linux_source *posted_head; /* guarded by loop_lock */

static void free_dead(bool all)
{
    wipc__mutex_lock(&loop_lock);
    wipc__linux_source **pp = &dead_head, *ready = NULL;
    while (*pp) {
        wipc__linux_source *s = *pp;
        if (all || s->dead_epoch < epoch) {
            *pp = s->next_dead;
            s->next_dead = ready;
            ready = s;
        } else {
            pp = &s->next_dead;
        }
    }
    wipc__mutex_unlock(&loop_lock);
    while (ready) {
        wipc__linux_source *next = ready->next_dead;
        ready->on_free(ready);
        ready = next;
    }
}

static void loop_main(void *arg)
{
    (void)arg;
    struct epoll_event evs[64];
    for (;;) {
        free_dead(false);
        wipc__mutex_lock(&loop_lock);
        epoch++;
        bool stop = stop_requested;
        /* a retired source waits for the next iteration: do not sleep until then (an idle loop
         * would otherwise keep it, and what its on_free releases, until some later event) */
        int wait_ms = dead_head ? 0 : -1;
        wipc__mutex_unlock(&loop_lock);
        if (stop)
            break;
        int n = epoll_wait(epfd, evs, 64, wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            wipc__log(WIPC_LOG_ERROR, "epoll_wait failed (errno %d); the I/O thread stops", errno);
            break;
        }
        for (int i = 0; i < n; i++) {
            wipc__linux_source *s = evs[i].data.ptr;
            if (!s) {
                uint64_t v;
                ssize_t r = read(wakefd, &v, sizeof v);
                (void)r;
                continue;
            }
            s->on_ready(s, evs[i].events);
        }
        /* posted sources: in this iteration, so a source retired meanwhile is freed only later */
        wipc__mutex_lock(&loop_lock);
        wipc__linux_source *p = posted_head;
        posted_head = NULL;
        wipc__mutex_unlock(&loop_lock);
        while (p) {
            /* posted stays set while p waits in this list, so a new post does not relink it */
            wipc__mutex_lock(&loop_lock);
            wipc__linux_source *next = p->next_posted;
            p->posted = 0;
            wipc__mutex_unlock(&loop_lock);
            p->on_ready(p, 0);
            p = next;
        }
    }
}

static wipc_status ensure_running_locked(void)
{
    if (running)
        return WIPC_OK;
    if (epfd < 0) {
        epfd = epoll_create1(EPOLL_CLOEXEC);
        if (epfd < 0)
            return wipc__error(WIPC_E_SYSTEM, errno, "epoll_create1 failed");
        wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (wakefd < 0) {
            int e = errno;
            close(epfd);
            epfd = -1;
            return wipc__error(WIPC_E_SYSTEM, e, "eventfd failed");
        }
        struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
        epoll_ctl(epfd, EPOLL_CTL_ADD, wakefd, &ev);
    }
    stop_requested = false;
    wipc_status st = wipc__thread_start(&loop_thread, loop_main, NULL);
    if (st == WIPC_OK)
        running = true;
    return st;
}

static void wake(void)
{
    uint64_t one = 1;
    ssize_t r = write(wakefd, &one, sizeof one);
    (void)r;
}

wipc_status wipc__linux_loop_add(wipc__linux_source *src, uint32_t events)
{
    wipc__mutex_lock(&loop_lock);
    wipc_status st = ensure_running_locked();
    wipc__mutex_unlock(&loop_lock);
    if (st != WIPC_OK)
        return st;
    struct epoll_event ev = { .events = events, .data.ptr = src };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, src->fd, &ev) != 0)
        return wipc__error(WIPC_E_SYSTEM, errno, "epoll_ctl(ADD, fd %d) failed", src->fd);
    return WIPC_OK;
}

void wipc__linux_loop_mod(wipc__linux_source *src, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = src };
    epoll_ctl(epfd, EPOLL_CTL_MOD, src->fd, &ev);
}

void wipc__linux_loop_del(wipc__linux_source *src)
{
    struct epoll_event ev = { 0 };
    if (epfd >= 0)
        epoll_ctl(epfd, EPOLL_CTL_DEL, src->fd, &ev);
}

void wipc__linux_loop_post(wipc__linux_source *src)
{
    wipc__mutex_lock(&loop_lock);
    if (ensure_running_locked() != WIPC_OK) {
        wipc__mutex_unlock(&loop_lock);
        wipc__log(WIPC_LOG_ERROR, "cannot start the I/O thread to post to fd %d", src->fd);
        return;
    }
    if (!src->posted) {
        src->posted = 1;
        src->next_posted = posted_head;
        posted_head = src;
    }
    wipc__mutex_unlock(&loop_lock);
    wake();
}

void wipc__linux_loop_retire(wipc__linux_source *src, void (*on_free)(wipc__linux_source *))
{
    wipc__linux_loop_del(src);
    src->on_free = on_free;
    wipc__mutex_lock(&loop_lock);
    if (src->posted) { /* never handled now: unlink it */
        for (wipc__linux_source **pp = &posted_head; *pp; pp = &(*pp)->next_posted)
            if (*pp == src) {
                *pp = src->next_posted;
                break;
            }
        src->posted = 0;
    }
    if (!running) {
        wipc__mutex_unlock(&loop_lock);
        on_free(src);
        return;
    }
    src->dead_epoch = epoch;
    src->next_dead = dead_head;
    dead_head = src;
    wipc__mutex_unlock(&loop_lock);
    wake();
}

void wipc__linux_loop_stop(void)
{
    wipc__mutex_lock(&loop_lock);
    bool was = running;
    if (was) {
        stop_requested = true;
        wake();
    }
    wipc__mutex_unlock(&loop_lock);
    if (was)
        wipc__thread_join(&loop_thread);
    wipc__mutex_lock(&loop_lock);
    running = false;
    wipc__mutex_unlock(&loop_lock);
    free_dead(true);
}
