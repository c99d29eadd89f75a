/*
 * pipe_write_async.c - the POSIX side of wipc__plat_pipe_write_start / _cancel (platform.h): the core's
 * write queue hands one frame at a time; it is sent with send(MSG_DONTWAIT | MSG_NOSIGNAL) at once,
 * and what the socket does not take waits for EPOLLOUT on the existing epoll thread (loop.c), which
 * sends the rest and reports wipc__core_write_done there.
 *
 * The wait for EPOLLOUT is registered on a dup() of the socket: epoll keys its registrations by
 * descriptor, so the reader's registration (EPOLLIN, paused, one-shot hang-up watch; pipe.c) and the
 * writer's never disturb each other. One-shot: armed only while a write waits.
 * wipc__plat_pipe_write_kick posts the same source with `kick` set: its handler then calls
 * wipc__core_write_kick (after any write report), on the epoll thread.
 * Everything below runs under the pipe's lock except the reports (wipc__core_write_done, _write_kick).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include "platform.h"
#include "linux/loop.h"
#include "linux/pipe_linux.h"

enum { AW_IDLE, AW_WAIT, AW_REPORT };

struct wipc__linux_awrite {
    wipc__linux_source src; /* fd = dup of the socket; on_ready = aw_on_ready */
    wipc__pipe *p;
    const uint8_t *buf;
    size_t len, done;
    int state; /* AW_* */
    wipc_status result; /* AW_REPORT */
    bool cancel;
    bool registered;
    bool kick; /* wipc__plat_pipe_write_kick: call wipc__core_write_kick */
};

#define AW_EVENTS (EPOLLOUT | EPOLLONESHOT)

/* Sends what it can (pipe lock held). Returns AW_WAIT (the socket is full) or AW_REPORT (result set). */
static int aw_send(struct wipc__linux_awrite *aw)
{
    int fd = wipc__linux_pipe_fd(aw->p);
    while (aw->done < aw->len) {
        ssize_t r = send(fd, aw->buf + aw->done, aw->len - aw->done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (r > 0) {
            aw->done += (size_t)r;
            continue;
        }
        int e = r < 0 ? errno : EPIPE;
        if (e == EINTR)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK)
            return AW_WAIT;
        aw->result = (e == EPIPE || e == ECONNRESET || e == ENOTCONN) ? WIPC_E_DISCONNECTED : WIPC_E_SYSTEM;
        if (aw->result == WIPC_E_SYSTEM)
            wipc__log(WIPC_LOG_WARN, "pipe: send failed (errno %d)", e);
        return AW_REPORT;
    }
    aw->result = WIPC_OK;
    return AW_REPORT;
}

/* Waits for EPOLLOUT (pipe lock held). */
static bool aw_arm(struct wipc__linux_awrite *aw)
{
    if (aw->registered) {
        wipc__linux_loop_mod(&aw->src, AW_EVENTS);
        return true;
    }
    if (wipc__linux_loop_add(&aw->src, AW_EVENTS) != WIPC_OK)
        return false;
    aw->registered = true;
    return true;
}

/* The write's report, if it is due (pipe lock held; released on return). */
static void aw_report(struct wipc__linux_awrite *aw, wipc__mutex *lock);

static void aw_on_ready(wipc__linux_source *src, uint32_t events)
{
    (void)events;
    struct wipc__linux_awrite *aw = (struct wipc__linux_awrite *)src;
    wipc__pipe *p = aw->p;
    wipc__mutex *lock = wipc__linux_pipe_lock(p);
    wipc__mutex_lock(lock);
    bool kick = aw->kick;
    aw->kick = false;
    struct wipc__conn *conn = wipc__linux_pipe_conn(p);
    const wipc__pipe_calls *calls = wipc__linux_pipe_calls(p);
    aw_report(aw, lock);
    if (kick)
        calls->write_kick(conn);
}

static void aw_report(struct wipc__linux_awrite *aw, wipc__mutex *lock)
{
    wipc__pipe *p = aw->p;
    if (aw->state == AW_WAIT) {
        if (aw->cancel) {
            aw->result = WIPC_E_CANCELLED;
        } else if (!wipc__linux_pipe_usable(p)) {
            aw->result = WIPC_E_CLOSED;
        } else if (aw_send(aw) == AW_WAIT) {
            if (aw_arm(aw)) {
                wipc__mutex_unlock(lock);
                return;
            }
            aw->result = WIPC_E_SYSTEM;
        }
        aw->state = AW_REPORT;
    }
    if (aw->state != AW_REPORT) {
        wipc__mutex_unlock(lock);
        return;
    }
    aw->state = AW_IDLE;
    wipc_status st = aw->result;
    if (st != WIPC_OK && st != WIPC_E_CANCELLED && !wipc__linux_pipe_usable(p))
        st = WIPC_E_CLOSED;
    size_t written = aw->done;
    struct wipc__conn *conn = wipc__linux_pipe_conn(p);
    const wipc__pipe_calls *calls = wipc__linux_pipe_calls(p);
    wipc__mutex_unlock(lock);
    calls->write_done(conn, st, written);
}

static void aw_free_src(wipc__linux_source *src)
{
    close(src->fd);
    free(src);
}

/* Frees the async-write state with its pipe (wipc__plat_pipe_free, through the pointer registered
 * when the state was made): after any event the loop fetched for it. */
static void aw_release(wipc__pipe *p)
{
    struct wipc__linux_awrite **slot = wipc__linux_pipe_awrite(p), *aw = *slot;
    if (aw) {
        *slot = NULL;
        wipc__linux_loop_retire(&aw->src, aw_free_src);
    }
}

/* The pipe's async-write state in *out, made on first use (pipe lock held). */
static wipc_status aw_get(wipc__pipe *p, struct wipc__linux_awrite **out)
{
    struct wipc__linux_awrite **slot = wipc__linux_pipe_awrite(p), *aw = *slot;
    *out = aw;
    if (aw)
        return WIPC_OK;
    aw = calloc(1, sizeof *aw);
    int fd = aw ? fcntl(wipc__linux_pipe_fd(p), F_DUPFD_CLOEXEC, 0) : -1;
    if (fd < 0) {
        int e = errno;
        free(aw);
        return wipc__error(aw ? WIPC_E_SYSTEM : WIPC_E_NO_MEMORY, aw ? e : 0,
                           "write: cannot set up an asynchronous write");
    }
    aw->src.fd = fd;
    aw->src.on_ready = aw_on_ready;
    aw->p = p;
    wipc__linux_pipe_awrite_free_fn(p, aw_release);
    *slot = *out = aw;
    return WIPC_OK;
}

wipc_status wipc__plat_pipe_write_kick(wipc__pipe *p)
{
    wipc__mutex *lock = wipc__linux_pipe_lock(p);
    wipc__mutex_lock(lock);
    struct wipc__linux_awrite *aw;
    wipc_status st = aw_get(p, &aw);
    if (st == WIPC_OK) {
        aw->kick = true;
        wipc__linux_loop_post(&aw->src);
    }
    wipc__mutex_unlock(lock);
    return st;
}

wipc_status wipc__plat_pipe_write_start(wipc__pipe *p, const void *buf, size_t len)
{
    wipc__mutex *lock = wipc__linux_pipe_lock(p);
    wipc__mutex_lock(lock);
    if (!wipc__linux_pipe_usable(p)) {
        wipc__mutex_unlock(lock);
        return wipc__error(WIPC_E_CLOSED, 0, "write: the pipe is shut down");
    }
    struct wipc__linux_awrite *aw;
    wipc_status st = aw_get(p, &aw);
    if (st != WIPC_OK) {
        wipc__mutex_unlock(lock);
        return st;
    }
    if (aw->state != AW_IDLE) {
        wipc__mutex_unlock(lock);
        return wipc__error(WIPC_E_INVALID_STATE, 0, "write: an asynchronous write is already in flight");
    }
    aw->buf = buf;
    aw->len = len;
    aw->done = 0;
    aw->cancel = false;
    aw->result = WIPC_OK;
    if (aw_send(aw) == AW_WAIT && aw_arm(aw)) {
        aw->state = AW_WAIT;
    } else {
        if (aw->done < aw->len && aw->result == WIPC_OK)
            aw->result = WIPC_E_SYSTEM; /* epoll refused the socket: reported with the bytes sent */
        aw->state = AW_REPORT; /* done (or failed) at once: reported on the loop thread, never from here */
        wipc__linux_loop_post(&aw->src);
    }
    wipc__mutex_unlock(lock);
    return WIPC_OK;
}

void wipc__plat_pipe_write_cancel(wipc__pipe *p)
{
    wipc__mutex *lock = wipc__linux_pipe_lock(p);
    wipc__mutex_lock(lock);
    struct wipc__linux_awrite *aw = *wipc__linux_pipe_awrite(p);
    if (aw && aw->state == AW_WAIT && !aw->cancel) {
        aw->cancel = true;
        wipc__linux_loop_post(&aw->src);
    }
    wipc__mutex_unlock(lock);
}
