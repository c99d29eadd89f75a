/*
 * pipe.c - the POSIX pipe backend: AF_UNIX stream sockets in the private runtime directory.
 *
 * Names: <rundir>/p.<name> (a hash when too long for sockaddr_un); WIPC_PIPE_RAW may name an absolute
 * socket path instead. Squatting: the server holds flock(<rundir>/p.<name>.lock) for its life, so a
 * second server gets WIPC_E_ADDR_IN_USE and the socket file of a dead server is reclaimed safely.
 * Peers are checked with SO_PEERCRED (same uid unless WIPC_PIPE_ANY_USER).
 *
 * Connected sockets are blocking; every operation that must not block says MSG_DONTWAIT. In I/O mode
 * the epoll thread (loop.c) reads; in caller mode (see dll/common/pipe/pipe.h) the core's reader calls
 * wipc__plat_pipe_read on its own thread: one recv(), the timeout set with SO_RCVTIMEO (only when it
 * changes), woken by shutdown() on close; meanwhile the epoll thread only watches for the peer hanging
 * up (EPOLLRDHUP, one-shot) so that a connection nobody reads still ends. Writers send with
 * sendmsg(MSG_DONTWAIT) and wait in poll(POLLOUT) with the caller's timeout. The end is reported
 * (wipc__core_closed) on the epoll thread: posted there by shutdown / stop.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>
#include "platform.h"
#include "linux/loop.h"
#include "linux/rundir.h"
#include "linux/pipe_linux.h"

#define READ_CHUNK (64 * 1024)

struct wipc__pipe {
    wipc__linux_source src; /* fd + loop handler */
    struct wipc__conn *conn;
    const wipc__pipe_calls *calls; /* the core's entry points (wipc__pipe_cfg.calls) */
    wipc__mutex lock; /* guards the flags below */
    bool started, registered, paused, shut, ended;
    bool io; /* I/O mode: the loop thread reads; else caller mode */
    bool stop; /* the core saw the end: report it */
    uint32_t peer_pid, peer_uid;
    int rcvtimeo_ms; /* SO_RCVTIMEO in force, -1 = none (reader role only) */
    uint8_t *buf; /* READ_CHUNK bytes, loop thread only */
    struct wipc__linux_awrite *aw; /* the asynchronous write (pipe_write_async.c), made on first use */
    void (*aw_free)(wipc__pipe *p); /* set with aw by pipe_write_async.c: frees it with the pipe */
};

struct wipc__listener {
    wipc__linux_source src;
    wipc__linux_source backoff; /* timerfd: accepting resumes when it fires (EMFILE and kin) */
    bool backing_off;
    wipc__mutex lock; /* held while accepting; close waits for it */
    bool closed;
    struct wipc__server *server;
    const wipc__pipe_calls *calls; /* the core's entry points, given to each accepted pipe */
    uint32_t flags;
    int lock_fd; /* flock'ed name lock, -1 for raw paths */
    bool bound; /* bind() made the socket file at path: ours to unlink */
    dev_t sock_dev; /* ... this one (checked again before unlinking) */
    ino_t sock_ino;
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    char lock_path[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
};

static atomic_int live_pipes; /* started pipes whose wipc__core_closed has not run yet */

/* ---- helpers ---- */

static wipc_status socket_path(const char *name, uint32_t flags, char *path, size_t cap, const char *fn)
{
    if (name[0] == '/') {
        if (strlen(name) >= sizeof(((struct sockaddr_un *)0)->sun_path))
            return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: socket path %s is longer than sockaddr_un allows", fn, name);
        snprintf(path, cap, "%s", name);
        return WIPC_OK;
    }
    (void)flags;
    return wipc__linux_rundir_path(path, cap, "p.", name, "", fn);
}

static void fill_addr(struct sockaddr_un *sa, const char *path)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, strlen(path));
}

static void peer_cred(int fd, uint32_t *pid, uint32_t *uid)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) == 0) {
        *pid = (uint32_t)cr.pid;
        *uid = (uint32_t)cr.uid;
    } else {
        *pid = 0;
        *uid = (uint32_t)-1;
    }
}

static wipc__pipe *pipe_new(int fd, const wipc__pipe_calls *calls)
{
    wipc__pipe *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->calls = calls;
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0 && (fl & O_NONBLOCK))
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK); /* blocking: the caller-mode reader sleeps in recv() */
    p->src.fd = fd;
    p->rcvtimeo_ms = -1;
    wipc__mutex_init(&p->lock);
    peer_cred(fd, &p->peer_pid, &p->peer_uid);
    return p;
}

static void pipe_free_src(wipc__linux_source *src)
{
    wipc__pipe *p = (wipc__pipe *)src;
    close(p->src.fd);
    wipc__mutex_destroy(&p->lock);
    free(p->buf);
    free(p);
}

/* ---- reading: the loop thread (I/O mode, the hang-up watch, the end) ---- */

/* Reports the end: wipc__core_closed, exactly once. Loop thread; the caller's last touch of p. */
static void pipe_end(wipc__pipe *p, wipc_status why)
{
    wipc__mutex_lock(&p->lock);
    if (p->ended) {
        wipc__mutex_unlock(&p->lock);
        return;
    }
    p->ended = true;
    if (p->registered) {
        wipc__linux_loop_del(&p->src);
        p->registered = false;
    }
    if (p->shut)
        why = WIPC_E_CLOSED;
    wipc__mutex_unlock(&p->lock);
    atomic_fetch_sub(&live_pipes, 1);
    p->calls->closed(p->conn, why); /* last: it may free p */
}

#define HUP_EVENTS (EPOLLRDHUP | EPOLLHUP | EPOLLERR)

static void pipe_on_ready(wipc__linux_source *src, uint32_t events)
{
    wipc__pipe *p = (wipc__pipe *)src;
    wipc__mutex_lock(&p->lock);
    bool ended = p->ended, finish = p->stop || p->shut, io = p->io;
    wipc__mutex_unlock(&p->lock);
    if (ended)
        return;
    if (finish) {
        pipe_end(p, WIPC_E_DISCONNECTED);
        return;
    }
    if (!io) {
        /* caller mode: the one-shot hang-up watch fired (or a stale post) */
        if (events & HUP_EVENTS)
            p->calls->hup(p->conn);
        return;
    }
    for (int round = 0; round < 4; round++) {
        ssize_t n = recv(p->src.fd, p->buf, READ_CHUNK, MSG_DONTWAIT);
        if (n > 0) {
            if (!p->calls->read(p->conn, p->buf, (size_t)n, 1)) {
                /* caller mode from now on: only watch for the peer hanging up */
                wipc__mutex_lock(&p->lock);
                p->io = false;
                if (p->registered && !p->ended)
                    wipc__linux_loop_mod(&p->src, EPOLLRDHUP | EPOLLONESHOT);
                wipc__mutex_unlock(&p->lock);
                return;
            }
            wipc__mutex_lock(&p->lock);
            bool stop = p->paused || p->ended || !p->io;
            wipc__mutex_unlock(&p->lock);
            if (stop || n < READ_CHUNK)
                return;
            continue;
        }
        if (n == 0) {
            pipe_end(p, WIPC_E_DISCONNECTED);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (events & (EPOLLHUP | EPOLLERR))
                pipe_end(p, WIPC_E_DISCONNECTED);
            return;
        }
        pipe_end(p, wipc__os_error_status(errno) == WIPC_E_DISCONNECTED ? WIPC_E_DISCONNECTED : WIPC_E_SYSTEM);
        return;
    }
}

wipc_status wipc__plat_pipe_start(wipc__pipe *p, struct wipc__conn *conn)
{
    p->buf = malloc(READ_CHUNK);
    if (!p->buf)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for a pipe read buffer");
    p->conn = conn;
    p->src.on_ready = pipe_on_ready;
    wipc__mutex_lock(&p->lock);
    wipc_status st = wipc__linux_loop_add(&p->src, EPOLLIN | EPOLLRDHUP);
    if (st == WIPC_OK) {
        p->started = p->registered = p->io = true;
        atomic_fetch_add(&live_pipes, 1);
    }
    wipc__mutex_unlock(&p->lock);
    return st;
}

void wipc__plat_pipe_pause(wipc__pipe *p, int paused)
{
    wipc__mutex_lock(&p->lock);
    if (p->started && !p->ended && p->io) {
        p->paused = paused != 0;
        if (p->paused && p->registered && !p->shut) {
            wipc__linux_loop_del(&p->src);
            p->registered = false;
        } else if (!p->paused && !p->registered) {
            if (wipc__linux_loop_add(&p->src, EPOLLIN | EPOLLRDHUP) == WIPC_OK)
                p->registered = true;
        }
    }
    wipc__mutex_unlock(&p->lock);
}

void wipc__plat_pipe_io(wipc__pipe *p)
{
    wipc__mutex_lock(&p->lock);
    if (p->started && !p->ended && !p->io) {
        p->io = true;
        p->paused = false;
        if (p->registered)
            wipc__linux_loop_mod(&p->src, EPOLLIN | EPOLLRDHUP);
        else if (wipc__linux_loop_add(&p->src, EPOLLIN | EPOLLRDHUP) == WIPC_OK)
            p->registered = true;
    }
    wipc__mutex_unlock(&p->lock);
}

void wipc__plat_pipe_stop(wipc__pipe *p)
{
    wipc__mutex_lock(&p->lock);
    if (p->started && !p->ended && !p->stop) {
        p->stop = true;
        wipc__linux_loop_post(&p->src);
    }
    wipc__mutex_unlock(&p->lock);
}

void wipc__plat_pipe_shutdown(wipc__pipe *p)
{
    wipc__mutex_lock(&p->lock);
    if (!p->shut) {
        p->shut = true;
        shutdown(p->src.fd, SHUT_RDWR); /* wakes a writer in poll and a reader in recv */
        if (p->started && !p->ended)
            wipc__linux_loop_post(&p->src); /* the loop thread reports the end */
    }
    wipc__mutex_unlock(&p->lock);
}

/* ---- reading: caller mode (the core's reader role) ---- */

static void set_rcvtimeo(wipc__pipe *p, int32_t ms)
{
    struct timeval tv = { 0, 0 }; /* 0 = wait forever */
    if (ms > 0) {
        tv.tv_sec = ms / 1000;
        tv.tv_usec = (ms % 1000) * 1000;
    }
    if (setsockopt(p->src.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0)
        p->rcvtimeo_ms = ms > 0 ? ms : -1;
}

static wipc_status read_end_status(wipc__pipe *p, int e)
{
    wipc__mutex_lock(&p->lock);
    bool shut = p->shut;
    wipc__mutex_unlock(&p->lock);
    if (shut)
        return WIPC_E_CLOSED;
    if (e == 0 || e == ECONNRESET || e == EPIPE || e == ENOTCONN)
        return WIPC_E_DISCONNECTED;
    return wipc__error(WIPC_E_SYSTEM, e, "recv on a pipe failed");
}

wipc_status wipc__plat_pipe_read(wipc__pipe *p, void *buf, size_t cap, int32_t timeout_ms, size_t *n)
{
    return wipc__plat_pipe_read2(p, buf, cap, NULL, 0, timeout_ms, n);
}

wipc_status wipc__plat_pipe_read2(wipc__pipe *p, void *a, size_t alen, void *b, size_t blen, int32_t timeout_ms,
                                  size_t *n)
{
    *n = 0;
    wipc__timeout tmo = wipc__timeout_of(timeout_ms); /* the clock is read only if a signal interrupts the wait */
    for (;;) {
        int flags = 0;
        if (timeout_ms == 0) {
            flags = MSG_DONTWAIT;
        } else if (timeout_ms < 0) {
            if (p->rcvtimeo_ms != -1)
                set_rcvtimeo(p, 0);
        } else {
            /* the timeout in force may exceed the one asked for by a little (no setsockopt per call) */
            int32_t slack = 2 + timeout_ms / 64;
            if (p->rcvtimeo_ms < timeout_ms || p->rcvtimeo_ms > timeout_ms + slack)
                set_rcvtimeo(p, timeout_ms);
        }
        ssize_t r;
        if (!b) {
            r = recv(p->src.fd, a, alen, flags);
        } else {
            struct iovec v[2] = { { a, alen }, { b, blen } };
            struct msghdr mh = { .msg_iov = v, .msg_iovlen = 2 };
            r = recvmsg(p->src.fd, &mh, flags);
        }
        if (r > 0) {
            *n = (size_t)r;
            return WIPC_OK;
        }
        if (r == 0)
            return read_end_status(p, 0);
        int e = errno;
        if (e == EINTR || e == EAGAIN || e == EWOULDBLOCK) {
            wipc__mutex_lock(&p->lock);
            bool shut = p->shut;
            wipc__mutex_unlock(&p->lock);
            if (shut)
                return WIPC_E_CLOSED;
            if (e != EINTR || timeout_ms == 0)
                return WIPC_E_TIMEOUT; /* SO_RCVTIMEO (>= timeout_ms) ran out, or nothing there */
            if (timeout_ms > 0) {
                timeout_ms = wipc__timeout_left(&tmo);
                if (timeout_ms == 0)
                    return WIPC_E_TIMEOUT;
            }
            continue;
        }
        return read_end_status(p, e);
    }
}

/* For pipe_write_async.c: the socket, the pipe's lock and state, its async-write slot. */
int wipc__linux_pipe_fd(wipc__pipe *p)
{
    return p->src.fd;
}

wipc__mutex *wipc__linux_pipe_lock(wipc__pipe *p)
{
    return &p->lock;
}

bool wipc__linux_pipe_usable(wipc__pipe *p) /* p->lock held */
{
    return p->started && !p->shut && !p->ended;
}

struct wipc__linux_awrite **wipc__linux_pipe_awrite(wipc__pipe *p)
{
    return &p->aw;
}

struct wipc__conn *wipc__linux_pipe_conn(wipc__pipe *p)
{
    return p->conn;
}

const wipc__pipe_calls *wipc__linux_pipe_calls(wipc__pipe *p)
{
    return p->calls;
}

void wipc__linux_pipe_awrite_free_fn(wipc__pipe *p, void (*aw_free)(wipc__pipe *p))
{
    p->aw_free = aw_free;
}

void wipc__plat_pipe_free(wipc__pipe *p)
{
    if (p->aw_free)
        p->aw_free(p);
    if (p->started) {
        wipc__linux_loop_retire(&p->src, pipe_free_src); /* after any event the loop fetched for it */
        return;
    }
    pipe_free_src(&p->src);
}

int wipc__plat_pipe_alive(wipc__pipe *p)
{
    struct pollfd pfd = { p->src.fd, POLLRDHUP, 0 };
    if (poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR)))
        return 0;
    return 1;
}

int wipc__plat_pipe_message_mode(wipc__pipe *p)
{
    (void)p;
    return 0; /* AF_UNIX SOCK_STREAM */
}

void wipc__plat_pipe_peer(wipc__pipe *p, uint32_t *pid, uint32_t *uid)
{
    *pid = p->peer_pid;
    *uid = p->peer_uid;
}

/* ---- writing (caller's thread) ---- */

wipc_status wipc__plat_pipe_write(wipc__pipe *p, const wipc__iov *iov, size_t n, int32_t timeout_ms, size_t *written)
{
    if (n == 1) { /* one piece (the core sends small frames in one): send() has less to gather */
        ssize_t r = send(p->src.fd, iov[0].base, iov[0].len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r == (ssize_t)iov[0].len) {
            *written = (size_t)r;
            return WIPC_OK;
        }
        /* partial, full or failed: the general path below (it resends from the start: nothing or
         * the part already written is accounted for) */
        if (r > 0) {
            wipc__iov rest = { (const uint8_t *)iov[0].base + r, iov[0].len - (size_t)r };
            size_t more = 0;
            wipc_status st = wipc__plat_pipe_write(p, &rest, 1, timeout_ms, &more);
            *written = (size_t)r + more;
            return st;
        }
    }
    struct iovec v[8];
    size_t cnt = n < 8 ? n : 8;
    for (size_t i = 0; i < cnt; i++) {
        v[i].iov_base = (void *)iov[i].base;
        v[i].iov_len = iov[i].len;
    }
    size_t first = 0;
    *written = 0;
    wipc__timeout tmo = wipc__timeout_of(timeout_ms); /* the clock is read only when the pipe is full */
    while (first < cnt) {
        struct msghdr mh = { .msg_iov = v + first, .msg_iovlen = cnt - first };
        ssize_t r = sendmsg(p->src.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r >= 0) {
            *written += (size_t)r;
            size_t left = (size_t)r;
            while (first < cnt && left >= v[first].iov_len) {
                left -= v[first].iov_len;
                first++;
            }
            if (first < cnt) {
                v[first].iov_base = (uint8_t *)v[first].iov_base + left;
                v[first].iov_len -= left;
            }
            continue;
        }
        int e = errno;
        if (e == EINTR)
            continue;
        wipc__mutex_lock(&p->lock);
        bool shut = p->shut;
        wipc__mutex_unlock(&p->lock);
        if (shut)
            return wipc__error(WIPC_E_CLOSED, 0, "write: the handle was closed");
        if (e == EAGAIN || e == EWOULDBLOCK) {
            int32_t left = wipc__timeout_left(&tmo);
            if (left == 0)
                return wipc__error(WIPC_E_TIMEOUT, 0, "write: the peer did not read %zu more bytes within %d ms",
                                   (size_t)0 + v[first].iov_len, (int)timeout_ms);
            struct pollfd pfd = { p->src.fd, POLLOUT, 0 };
            int pr = poll(&pfd, 1, left);
            if (pr < 0 && errno != EINTR)
                return wipc__error(WIPC_E_SYSTEM, errno, "write: poll(POLLOUT) failed");
            continue;
        }
        if (e == EPIPE || e == ECONNRESET || e == ENOTCONN)
            return wipc__error(WIPC_E_DISCONNECTED, e, "write: the peer closed the connection");
        return wipc__error(WIPC_E_SYSTEM, e, "write: sendmsg failed");
    }
    return WIPC_OK;
}

/* ---- connect ---- */

wipc_status wipc__plat_connect(const char *name, const wipc__pipe_cfg *cfg, int32_t timeout_ms, wipc__pipe **out)
{
    char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
    wipc_status st = socket_path(name, cfg->flags, path, sizeof path, "wipc_pipe_connect");
    if (st != WIPC_OK)
        return st;
    struct sockaddr_un sa;
    fill_addr(&sa, path);
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    uint32_t backoff = 1;
    bool seen_busy = false;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            return wipc__error(WIPC_E_SYSTEM, errno, "wipc_pipe_connect(%s): socket(AF_UNIX) failed", name);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            wipc__pipe *p = pipe_new(fd, cfg->calls);
            if (!p) {
                close(fd);
                return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_pipe_connect(%s): out of memory", name);
            }
            if (name[0] != '/' && p->peer_uid != (uint32_t)geteuid()) {
                uint32_t uid = p->peer_uid;
                wipc__plat_pipe_free(p);
                return wipc__error(
                    WIPC_E_ACCESS_DENIED, 0,
                    "wipc_pipe_connect(%s): the server runs as uid %u, not uid %u (SO_PEERCRED); refused", name,
                    (unsigned)uid, (unsigned)geteuid());
            }
            *out = p;
            return WIPC_OK;
        }
        int e = errno;
        close(fd);
        if (e == EACCES || e == EPERM)
            return wipc__error(WIPC_E_ACCESS_DENIED, e, "wipc_pipe_connect(%s): connect(%s) refused", name, path);
        if (e == EAGAIN)
            seen_busy = true;
        else if (e != ENOENT && e != ECONNREFUSED && e != EINTR)
            return wipc__error(wipc__os_error_status(e), e, "wipc_pipe_connect(%s): connect(%s) failed", name, path);
        int32_t left = wipc__deadline_left(deadline);

        if (e != EAGAIN && !seen_busy && !(cfg->flags & WIPC_PIPE_WAIT_FOR_SERVER)) /* nobody serves it: at once */
            return wipc__error(WIPC_E_NOT_FOUND, e,
                               "wipc_pipe_connect(%s): no server at %s (WIPC_PIPE_WAIT_FOR_SERVER waits "
                               "for one)",
                               name, path);
        if (left == 0) {
            if (seen_busy)
                return wipc__error(WIPC_E_TIMEOUT, e, "wipc_pipe_connect(%s): the server stayed busy for %d ms", name,
                                   (int)timeout_ms);
            return wipc__error(WIPC_E_NOT_FOUND, e, "wipc_pipe_connect(%s): no server at %s (waited %d ms)", name, path,
                               (int)timeout_ms);
        }
        wipc__sleep_ms(left < 0 || (uint32_t)left > backoff ? backoff : (uint32_t)left);
        if (backoff < 20)
            backoff *= 2;
    }
}

/* ---- listen ---- */

#define ACCEPT_BACKOFF_MS 100 /* out of descriptors (or memory): accepting pauses this long */

/* accept4 failed for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM): the listening socket stays
 * readable (level-triggered), so retrying at once would spin the I/O thread. Stop watching it and
 * let the backoff timer re-arm it (l->lock held). */
static void listener_back_off(wipc__listener *l, int err)
{
    if (!l->backing_off)
        wipc__log(WIPC_LOG_WARN, "pipe %s: accept4 failed (errno %d); accepting pauses %d ms", l->path, err,
                  ACCEPT_BACKOFF_MS);
    struct itimerspec its = { { 0, 0 }, { 0, ACCEPT_BACKOFF_MS * 1000000L } };
    if (l->backoff.fd >= 0 && timerfd_settime(l->backoff.fd, 0, &its, NULL) == 0) {
        wipc__linux_loop_mod(&l->src, 0);
        l->backing_off = true;
    } else {
        wipc__sleep_ms(10); /* no timer: at least do not spin */
    }
}

static void listener_on_timer(wipc__linux_source *src, uint32_t events)
{
    (void)events;
    wipc__listener *l = (wipc__listener *)((uint8_t *)src - offsetof(wipc__listener, backoff));
    uint64_t ticks;
    ssize_t r = read(src->fd, &ticks, sizeof ticks);
    (void)r;
    wipc__mutex_lock(&l->lock);
    if (!l->closed && l->backing_off) {
        l->backing_off = false;
        wipc__linux_loop_mod(&l->src, EPOLLIN); /* accept again (and back off again if still out of fds) */
    }
    wipc__mutex_unlock(&l->lock);
}

static void listener_on_ready(wipc__linux_source *src, uint32_t events)
{
    (void)events;
    wipc__listener *l = (wipc__listener *)src;
    wipc__mutex_lock(&l->lock);
    while (!l->closed && !l->backing_off) {
        int fd = accept4(l->src.fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EINTR || e == ECONNABORTED)
                continue;
            if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
                listener_back_off(l, e);
            else if (e != EAGAIN && e != EWOULDBLOCK)
                wipc__log(WIPC_LOG_WARN, "pipe %s: accept4 failed (errno %d)", l->path, e);
            break;
        }
        wipc__pipe *p = pipe_new(fd, l->calls);
        if (!p) {
            close(fd);
            wipc__log(WIPC_LOG_ERROR, "pipe %s: out of memory; client dropped", l->path);
            continue;
        }
        if (!(l->flags & WIPC_PIPE_ANY_USER) && p->peer_uid != (uint32_t)geteuid()) {
            wipc__log(WIPC_LOG_WARN, "pipe %s: client pid %u runs as uid %u, not uid %u (SO_PEERCRED); refused",
                      l->path, (unsigned)p->peer_pid, (unsigned)p->peer_uid, (unsigned)geteuid());
            wipc__plat_pipe_free(p);
            continue;
        }
        l->calls->accepted(l->server, p);
    }
    wipc__mutex_unlock(&l->lock);
}

static void listener_free(wipc__linux_source *src)
{
    wipc__listener *l = (wipc__listener *)src;
    close(l->src.fd);
    if (l->backoff.fd >= 0)
        close(l->backoff.fd);
    if (l->lock_fd >= 0)
        close(l->lock_fd); /* releases the flock */
    wipc__mutex_destroy(&l->lock);
    free(l);
}

/* Takes the name lock: flock on <path>.lock, re-checked against the path's inode so that a lock file
 * unlinked by a closing server is never trusted. */
static wipc_status take_name_lock(wipc__listener *l, const char *name)
{
    for (int tries = 0; tries < 8; tries++) {
        int fd = open(l->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return wipc__error(wipc__os_error_status(errno), errno, "wipc_pipe_listen(%s): open(%s) failed", name,
                               l->lock_path);
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e == EWOULDBLOCK)
                return wipc__error(WIPC_E_ADDR_IN_USE, 0,
                                   "wipc_pipe_listen(%s): the name is already served by another server", name);
            return wipc__error(WIPC_E_SYSTEM, e, "wipc_pipe_listen(%s): flock(%s) failed", name, l->lock_path);
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(l->lock_path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            l->lock_fd = fd;
            return WIPC_OK;
        }
        close(fd); /* the file was replaced while we locked it: try again */
    }
    return wipc__error(WIPC_E_ADDR_IN_USE, 0, "wipc_pipe_listen(%s): the name lock keeps changing hands", name);
}

/* The path a listener is about to bind: absent, or a stale socket file that is removed. wipc never
 * deletes what it did not create: anything but a socket owned by this user (a regular file, a
 * directory, a symlink, another user's socket) is left alone and the name is WIPC_E_ADDR_IN_USE; a
 * socket somebody answers on is a live server (WIPC_E_ADDR_IN_USE); only a socket of ours that
 * refuses connections (its server died) is unlinked. */
static wipc_status reclaim_socket_path(const char *path, const struct sockaddr_un *sa, const char *name)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT)
            return WIPC_OK;
        return wipc__error(wipc__os_error_status(errno), errno, "wipc_pipe_listen(%s): lstat(%s) failed", name, path);
    }
    if (!S_ISSOCK(st.st_mode) || st.st_uid != geteuid())
        return wipc__error(WIPC_E_ADDR_IN_USE, 0,
                           "wipc_pipe_listen(%s): %s exists and is not a socket of this user (mode 0%o, uid %u); "
                           "it is left alone",
                           name, path, (unsigned)st.st_mode, (unsigned)st.st_uid);
    int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe < 0)
        return wipc__error(WIPC_E_SYSTEM, errno, "wipc_pipe_listen(%s): socket(AF_UNIX) failed", name);
    int rc = connect(probe, (const struct sockaddr *)sa, sizeof *sa);
    int e = errno;
    close(probe);
    if (rc == 0 || e != ECONNREFUSED)
        return wipc__error(WIPC_E_ADDR_IN_USE, rc == 0 ? 0 : e, "wipc_pipe_listen(%s): a server already answers at %s",
                           name, path);
    struct stat again; /* the same socket file still: unlink it */
    if (lstat(path, &again) == 0 && again.st_ino == st.st_ino && again.st_dev == st.st_dev && S_ISSOCK(again.st_mode))
        unlink(path);
    return WIPC_OK;
}

/* Unlinks the socket file this listener's bind() made, if the path still names it. */
static void unlink_own_socket(wipc__listener *l)
{
    struct stat st;
    if (l->bound && lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == l->sock_ino &&
        st.st_dev == l->sock_dev)
        unlink(l->path);
    l->bound = false;
}

wipc_status wipc__plat_listen(const char *name, const wipc__pipe_cfg *cfg, struct wipc__server *server,
                              wipc__listener **out)
{
    wipc__listener *l = calloc(1, sizeof *l);
    if (!l)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_pipe_listen(%s): out of memory", name);
    l->lock_fd = -1;
    l->src.fd = -1;
    l->backoff.fd = -1;
    l->server = server;
    l->calls = cfg->calls;
    l->flags = cfg->flags;
    wipc__mutex_init(&l->lock);
    wipc_status st = socket_path(name, cfg->flags, l->path, sizeof l->path, "wipc_pipe_listen");
    struct sockaddr_un sa;
    if (st != WIPC_OK)
        goto fail;
    fill_addr(&sa, l->path);
    if (name[0] != '/') {
        snprintf(l->lock_path, sizeof l->lock_path, "%s.lock", l->path);
        if ((st = take_name_lock(l, name)) != WIPC_OK)
            goto fail;
    }
    /* a dead server's socket file (named: we hold the name lock; raw: nobody answers) */
    if ((st = reclaim_socket_path(l->path, &sa, name)) != WIPC_OK)
        goto fail;
    l->src.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (l->src.fd < 0) {
        st = wipc__error(WIPC_E_SYSTEM, errno, "wipc_pipe_listen(%s): socket(AF_UNIX) failed", name);
        goto fail;
    }
    if (bind(l->src.fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        st = wipc__error(e == EADDRINUSE ? WIPC_E_ADDR_IN_USE : wipc__os_error_status(e), e,
                         "wipc_pipe_listen(%s): bind(%s) failed", name, l->path);
        goto fail;
    }
    struct stat bst;
    if (lstat(l->path, &bst) == 0) {
        l->bound = true;
        l->sock_dev = bst.st_dev;
        l->sock_ino = bst.st_ino;
    }
    chmod(l->path, (cfg->flags & WIPC_PIPE_ANY_USER) ? 0666 : 0600);
    if (listen(l->src.fd, 128) != 0) {
        st = wipc__error(WIPC_E_SYSTEM, errno, "wipc_pipe_listen(%s): listen failed", name);
        goto fail;
    }
    l->src.on_ready = listener_on_ready;
    l->backoff.on_ready = listener_on_timer;
    l->backoff.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->backoff.fd < 0) {
        st = wipc__error(WIPC_E_SYSTEM, errno, "wipc_pipe_listen(%s): timerfd_create failed", name);
        goto fail;
    }
    if ((st = wipc__linux_loop_add(&l->backoff, EPOLLIN)) != WIPC_OK)
        goto fail;
    if ((st = wipc__linux_loop_add(&l->src, EPOLLIN)) != WIPC_OK) {
        wipc__linux_loop_del(&l->backoff);
        goto fail;
    }
    /* Reachable now: publish the name in the lock file for wipc_list (a hashed path hides it). */
    if (l->lock_fd >= 0 &&
        (ftruncate(l->lock_fd, 0) != 0 || pwrite(l->lock_fd, name, strlen(name), 0) != (ssize_t)strlen(name)))
        wipc__log(WIPC_LOG_WARN, "pipe %s: cannot write the name into %s (errno %d); wipc_list will not show it", name,
                  l->lock_path, errno);
    *out = l;
    return WIPC_OK;
fail:
    if (l->src.fd >= 0) {
        close(l->src.fd);
        unlink_own_socket(l);
    }
    if (l->backoff.fd >= 0)
        close(l->backoff.fd);
    if (l->lock_fd >= 0)
        close(l->lock_fd);
    wipc__mutex_destroy(&l->lock);
    free(l);
    return st;
}

void wipc__plat_listener_close(wipc__listener *l)
{
    wipc__mutex_lock(&l->lock); /* waits for an accept in progress */
    l->closed = true;
    wipc__mutex_unlock(&l->lock);
    unlink_own_socket(l);
    if (l->lock_fd >= 0)
        unlink(l->lock_path); /* still locked by us: take_name_lock's inode check makes this safe */
    wipc__linux_loop_del(&l->backoff); /* before the retire: an event fetched for it is handled before the free */
    wipc__linux_loop_retire(&l->src, listener_free);
}

void wipc__plat_listener_slot_free(wipc__listener *l)
{
    (void)l; /* the core answers BUSY above max_instances; nothing to re-arm on POSIX */
}

wipc_status wipc__plat_pipe_impersonate(wipc__pipe *p)
{
    (void)p;
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                       "wipc_pipe_impersonate: impersonation is a Windows feature (ImpersonateNamedPipeClient)");
}

wipc_status wipc__plat_revert_to_self(void)
{
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                       "wipc_revert_to_self: impersonation is a Windows feature (RevertToSelf)");
}

int wipc__linux_pipes_live(void)
{
    return atomic_load(&live_pipes);
}
