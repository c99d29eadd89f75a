/*
 * msg_recv.c - POSIX msg endpoints: the listening seqpacket socket and its receiver thread.
 *
 * One receiver thread per endpoint (the counterpart of the Win32 window thread) waits in epoll on the
 * listening socket, a wake pipe and every accepted sender connection. A connection carries many
 * messages, one at a time (a sender waits for each reply before the next; wipc_msg_send caches its
 * connections, msg_pool.c). At accept the peer's credentials are taken (SO_PEERCRED: pid, and the uid,
 * which must be ours); then each request packet (prefix with the type, then the payload; MSG_TRUNC
 * gives its real size so an oversize one is refused without being read) goes to the core, and the
 * 8-byte reply word goes back on the same connection. Messages are handled one at a time; a wake-up
 * serves at most one packet per ready connection, and a connected sender that sends nothing holds up
 * nobody. A sender that already hung up (it timed out while the receiver was busy) is skipped and its
 * connection closed: nobody would get the answer, and it was told WIPC_E_TIMEOUT.
 *
 * Closing from another thread: the socket file is unlinked (new senders: WIPC_E_NOT_FOUND), the
 * thread is woken and joined (a callback in progress finishes first), then the listening socket is
 * closed with every accepted connection (senders in the backlog or waiting for a reply: ECONNRESET
 * or EOF = WIPC_E_DISCONNECTED; idle cached connections: the sender reconnects) and the name released.
 * From inside a callback (the receiver thread itself): the name is released at once and the thread
 * frees the rest and detaches itself once the callback has returned.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "linux/msg_linux.h"
#include "linux/rundir.h"

#define LOCK_RETRIES 20 /* wipc_msg_list probes lock files for a few microseconds */

/* One accepted sender connection, with the peer's credentials as SO_PEERCRED gave them at accept. */
typedef struct rx_conn {
    int fd;
    size_t slot; /* index in rx->conns */
    uint32_t pid, uid;
} rx_conn;

struct wipc__msg_rx {
    struct wipc__msg_ep *ep;
    wipc__msg_received_fn received; /* the core's entry point (wipc__msg_cfg.received) */
    wipc__thread thread;
    bool thread_started;
    atomic_uint_fast64_t tid; /* the receiver thread's id, for "closed from my own callback" */
    atomic_bool stop;
    bool detach; /* set on the receiver thread by a close from its own callback */
    int listen_fd, lock_fd, wake_rd, wake_wr, epoll_fd;
    struct rx_conn **conns; /* the accepted sender connections, receiver thread only */
    size_t n_conns, cap_conns;
    uint32_t uid; /* ours: senders must run as this uid */
    uint8_t *buf;
    size_t buf_cap;
    char name[WIPC_NAME_MAX + 1];
    char path[WIPC__LINUX_MSG_SUN_PATH];
    char lock_path[WIPC__LINUX_MSG_SUN_PATH + sizeof WIPC__LINUX_MSG_LOCK_SUFFIX];
};

wipc_status wipc__linux_msg_path(const char *name, char *buf, size_t cap, const char *fn)
{
    return wipc__linux_rundir_path(buf, cap, WIPC__LINUX_MSG_FILE_PREFIX, name, "", fn);
}

/* ---- name lock ------------------------------------------------------------------------------------ */

/* flock(LOCK_EX) on the lock file, re-checked against the path's inode so that a lock file unlinked by
 * a closing endpoint is never trusted. Retries briefly while a lister holds its shared probe lock. */
static wipc_status take_name_lock(wipc__msg_rx *rx)
{
    for (int tries = 0; tries < LOCK_RETRIES; tries++) {
        int fd = open(rx->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return wipc__error(wipc__os_error_status(errno), errno, "wipc_msg_listen(%s): open(%s) failed", rx->name,
                               rx->lock_path);
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e != EWOULDBLOCK)
                return wipc__error(WIPC_E_SYSTEM, e, "wipc_msg_listen(%s): flock(%s) failed", rx->name, rx->lock_path);
            if (tries + 1 < LOCK_RETRIES) {
                wipc__sleep_ms(1);
                continue;
            }
            return wipc__error(WIPC_E_ADDR_IN_USE, 0,
                               "wipc_msg_listen(%s): the name is already listened to (lock %s is held)", rx->name,
                               rx->lock_path);
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(rx->lock_path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            if (ftruncate(fd, 0) != 0) { /* a dead owner's name stays until we are listening */
                int e = errno;
                close(fd);
                return wipc__error(WIPC_E_SYSTEM, e, "wipc_msg_listen(%s): ftruncate(%s) failed", rx->name,
                                   rx->lock_path);
            }
            rx->lock_fd = fd;
            return WIPC_OK;
        }
        close(fd); /* replaced while we locked it: try again */
    }
    return wipc__error(WIPC_E_ADDR_IN_USE, 0, "wipc_msg_listen(%s): the name lock keeps changing hands", rx->name);
}

/* Unlinks the socket and lock files and drops the lock (unlink first: we still hold it). */
static void release_name(wipc__msg_rx *rx)
{
    if (rx->listen_fd >= 0) {
        if (rx->epoll_fd >= 0) /* see drop_conn */
            epoll_ctl(rx->epoll_fd, EPOLL_CTL_DEL, rx->listen_fd, NULL);
        unlink(rx->path);
        close(rx->listen_fd);
        rx->listen_fd = -1;
    }
    if (rx->lock_fd >= 0) {
        unlink(rx->lock_path);
        close(rx->lock_fd);
        rx->lock_fd = -1;
    }
}

static void rx_free(wipc__msg_rx *rx)
{
    release_name(rx);
    for (size_t i = 0; i < rx->n_conns; i++) { /* senders waiting on them: WIPC_E_DISCONNECTED */
        close(rx->conns[i]->fd);
        free(rx->conns[i]);
    }
    free(rx->conns);
    if (rx->epoll_fd >= 0)
        close(rx->epoll_fd);
    if (rx->wake_rd >= 0)
        close(rx->wake_rd);
    if (rx->wake_wr >= 0)
        close(rx->wake_wr);
    free(rx->buf);
    free(rx);
}

/* ---- the receiver thread -------------------------------------------------------------------------- */

/* Room for more connections in rx->conns. */
static bool grow_conns(wipc__msg_rx *rx)
{
    size_t cap = rx->cap_conns ? rx->cap_conns * 2 : 16;
    struct rx_conn **grown = realloc(rx->conns, cap * sizeof *grown);
    if (!grown)
        return false;
    rx->conns = grown;
    rx->cap_conns = cap;
    return true;
}

static void drop_conn(wipc__msg_rx *rx, rx_conn *c)
{
    /* Leave the epoll set explicitly: close() alone does not while a forked child still holds the
     * socket (between fork and exec), and epoll would go on reporting the freed rx_conn. */
    epoll_ctl(rx->epoll_fd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    rx_conn *last = rx->conns[--rx->n_conns];
    rx->conns[c->slot] = last;
    last->slot = c->slot;
    free(c);
}

static void send_word(int fd, uint64_t word)
{
    uint8_t out[8];
    wipc__put_le64(out, word);
    if (send(fd, out, sizeof out, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof out)
        wipc__log(WIPC_LOG_DEBUG, "msg: the reply could not be written (errno %d): the sender is gone", errno);
}

/* Accepts every pending connection into the epoll set. */
static void accept_all(wipc__msg_rx *rx)
{
    while (!atomic_load(&rx->stop)) {
        int fd = accept4(rx->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                wipc__log(WIPC_LOG_WARN, "msg %s: accept4 failed (errno %d)", rx->name, errno);
                wipc__sleep_ms(10); /* e.g. EMFILE: do not spin */
            }
            return;
        }
        struct ucred cr;
        socklen_t len = sizeof cr;
        rx_conn *c = NULL;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
            wipc__log(WIPC_LOG_WARN, "msg %s: SO_PEERCRED failed (errno %d); sender dropped", rx->name, errno);
        } else if (rx->n_conns == rx->cap_conns && !grow_conns(rx)) {
            wipc__log(WIPC_LOG_ERROR, "msg %s: out of memory for another sender connection; dropped", rx->name);
        } else if ((c = malloc(sizeof *c)) != NULL) {
            *c = (rx_conn){ fd, rx->n_conns, (uint32_t)cr.pid, (uint32_t)cr.uid };
            struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
            if (epoll_ctl(rx->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) {
                rx->conns[rx->n_conns++] = c;
                continue;
            }
            wipc__log(WIPC_LOG_WARN, "msg %s: epoll_ctl failed (errno %d); sender dropped", rx->name, errno);
            free(c);
        }
        close(fd);
    }
}

/* Serves the next request packet of connection c. `events` is what epoll reported; `fresh` = nothing
 * ran since, so its hang-up bits are current (else the socket is asked again). */
static void serve_packet(wipc__msg_rx *rx, rx_conn *c, uint32_t events, bool fresh)
{
    /* n = the packet's real size (MSG_TRUNC): an oversize one is refused without being read */
    ssize_t n = recv(c->fd, rx->buf, rx->buf_cap, MSG_TRUNC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    if (n <= 0) { /* EOF (the sender closed its connection) or an error */
        drop_conn(rx, c);
        return;
    }
    if ((size_t)n < WIPC__MSG_PACKET_PREFIX) { /* no wipc sender sends that: answered 0, "not handled" */
        wipc__log(WIPC_LOG_WARN, "msg %s: a %zd-byte packet from pid %u is shorter than the packet prefix; refused",
                  rx->name, n, (unsigned)c->pid);
        send_word(c->fd, wipc__msg_refusal(WIPC_E_PROTOCOL, 0));
        return;
    }
    if (c->uid != rx->uid) {
        wipc__log(WIPC_LOG_WARN, "msg %s: sender pid %u runs as uid %u, not uid %u (SO_PEERCRED); refused", rx->name,
                  (unsigned)c->pid, (unsigned)c->uid, (unsigned)rx->uid);
        size_t got = (size_t)n < rx->buf_cap ? (size_t)n : rx->buf_cap;
        send_word(c->fd,
                  wipc__msg_refusal(WIPC_E_ACCESS_DENIED, wipc__msg_hdr_present(rx->buf + WIPC__MSG_PACKET_PREFIX,
                                                                                got - WIPC__MSG_PACKET_PREFIX)));
        return;
    }
    if (!fresh) {
        struct pollfd hup = { c->fd, POLLRDHUP, 0 };
        events = poll(&hup, 1, 0) == 1 ? (uint32_t)hup.revents : 0;
    }
    if (events & (EPOLLHUP | EPOLLRDHUP | EPOLLERR)) { /* same bits as POLLHUP | POLLRDHUP | POLLERR */
        wipc__log(WIPC_LOG_DEBUG, "msg %s: the sender (pid %u) gave up before its message was taken; dropped", rx->name,
                  (unsigned)c->pid);
        drop_conn(rx, c);
        return;
    }
    uint32_t type = wipc__msg_prefix_type(rx->buf);
    uint64_t word =
        rx->received(rx->ep, type, rx->buf + WIPC__MSG_PACKET_PREFIX, (size_t)n - WIPC__MSG_PACKET_PREFIX, c->pid);
    send_word(c->fd, word);
}

/* One epoll set: the listening socket (data.ptr = rx), the wake pipe (NULL) and every accepted
 * connection (its rx_conn). Each wake-up serves at most one packet per connection, so a busy sender
 * cannot starve the others; a connection that says nothing costs nothing. */
static void receiver_main(void *arg)
{
    wipc__msg_rx *rx = (wipc__msg_rx *)arg;
    atomic_store(&rx->tid, wipc__thread_self());
    struct epoll_event ev[32];
    while (!atomic_load(&rx->stop)) {
        int n = epoll_wait(rx->epoll_fd, ev, 32, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            wipc__log(WIPC_LOG_ERROR, "msg %s: epoll_wait failed (errno %d); the receiver stops", rx->name, errno);
            break;
        }
        bool fresh = true;
        for (int i = 0; i < n && !atomic_load(&rx->stop); i++) {
            if (ev[i].data.ptr == NULL)
                break; /* woken to stop */
            if (ev[i].data.ptr == rx) {
                accept_all(rx);
                continue;
            }
            serve_packet(rx, ev[i].data.ptr, ev[i].events, fresh);
            fresh = false;
        }
    }
    if (rx->detach) { /* closed from our own callback: nobody joins us */
        pthread_detach(pthread_self());
        rx_free(rx);
    }
}

/* ---- backend entry points ------------------------------------------------------------------------- */

/* The receiver's epoll set with the listening socket (data.ptr = rx) and the wake pipe (NULL). */
static wipc_status make_epoll(wipc__msg_rx *rx)
{
    rx->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event l = { .events = EPOLLIN, .data.ptr = rx }, w = { .events = EPOLLIN, .data.ptr = NULL };
    if (rx->epoll_fd < 0 || epoll_ctl(rx->epoll_fd, EPOLL_CTL_ADD, rx->listen_fd, &l) != 0 ||
        epoll_ctl(rx->epoll_fd, EPOLL_CTL_ADD, rx->wake_rd, &w) != 0)
        return wipc__error(WIPC_E_SYSTEM, errno, "wipc_msg_listen(%s): epoll setup failed", rx->name);
    return WIPC_OK;
}

wipc_status wipc__plat_msg_listen(const char *name, const wipc__msg_cfg *cfg, struct wipc__msg_ep *ep,
                                  wipc__msg_rx **out)
{
    static const char fn[] = "wipc_msg_listen";
    wipc__msg_rx *rx = calloc(1, sizeof *rx);
    if (!rx)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "%s(%s): out of memory", fn, name);
    rx->ep = ep;
    rx->received = cfg->received;
    rx->listen_fd = rx->lock_fd = rx->wake_rd = rx->wake_wr = rx->epoll_fd = -1;
    rx->uid = (uint32_t)geteuid();
    snprintf(rx->name, sizeof rx->name, "%s", name);
    wipc_status st = wipc__linux_msg_path(name, rx->path, sizeof rx->path, fn);
    if (st != WIPC_OK)
        goto fail;
    snprintf(rx->lock_path, sizeof rx->lock_path, "%s%s", rx->path, WIPC__LINUX_MSG_LOCK_SUFFIX);
    rx->buf_cap = WIPC__MSG_PACKET_PREFIX + WIPC__MSG_HEADER + (size_t)cfg->max_message_size;
    rx->buf = malloc(rx->buf_cap);
    if (!rx->buf) {
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "%s(%s): out of memory for a %zu-byte receive buffer", fn, name,
                         rx->buf_cap);
        goto fail;
    }
    if ((st = take_name_lock(rx)) != WIPC_OK)
        goto fail;
    unlink(rx->path); /* a dead endpoint's socket file: we hold the name lock, so it is stale */
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        st = wipc__error(WIPC_E_SYSTEM, errno, "%s(%s): socket(AF_UNIX, SOCK_SEQPACKET) failed", fn, name);
        goto fail;
    }
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, rx->path, strlen(rx->path));
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        st = wipc__error(wipc__os_error_status(errno), errno, "%s(%s): bind(%s) failed", fn, name, rx->path);
        close(fd);
        goto fail;
    }
    rx->listen_fd = fd;
    chmod(rx->path, 0600);
    if (listen(fd, 64) != 0) {
        st = wipc__error(WIPC_E_SYSTEM, errno, "%s(%s): listen failed", fn, name);
        goto fail;
    }
    int wake[2];
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        st = wipc__error(WIPC_E_SYSTEM, errno, "%s(%s): pipe2 failed", fn, name);
        goto fail;
    }
    rx->wake_rd = wake[0];
    rx->wake_wr = wake[1];
    if ((st = make_epoll(rx)) != WIPC_OK)
        goto fail;
    if ((st = wipc__thread_start(&rx->thread, receiver_main, rx)) != WIPC_OK)
        goto fail;
    rx->thread_started = true;
    /* Reachable now: publish the name for wipc_msg_list. */
    size_t len = strlen(name);
    if (pwrite(rx->lock_fd, name, len, 0) != (ssize_t)len)
        wipc__log(WIPC_LOG_WARN, "msg %s: cannot write the name into %s (errno %d); wipc_msg_list will not show it",
                  name, rx->lock_path, errno);
    *out = rx;
    return WIPC_OK;
fail:
    rx_free(rx);
    return st;
}

void wipc__plat_msg_close(wipc__msg_rx *rx)
{
    if (rx->thread_started && atomic_load(&rx->tid) == wipc__thread_self()) {
        /* From our own callback: let it finish; the thread frees rx when it leaves its loop. */
        atomic_store(&rx->stop, true);
        rx->detach = true;
        release_name(rx);
        return;
    }
    unlink(rx->path); /* new senders: WIPC_E_NOT_FOUND */
    atomic_store(&rx->stop, true);
    if (rx->thread_started) {
        char b = 1;
        if (write(rx->wake_wr, &b, 1) < 0 && errno != EAGAIN)
            wipc__log(WIPC_LOG_WARN, "msg %s: cannot wake the receiver thread (errno %d)", rx->name, errno);
        wipc__thread_join(&rx->thread);
    }
    rx_free(rx);
}
