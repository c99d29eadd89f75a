/*
 * msg_recv.c - POSIX msg endpoints: the listening seqpacket socket and its receiver thread.
 *
 * One receiver thread per endpoint (the counterpart of the Win32 window thread) polls the listening
 * socket and a wake pipe. Every message is one connection: accept, check the peer's uid
 * (SO_PEERCRED, same user only), read the one request packet (prefix with the type, then the payload;
 * MSG_TRUNC gives its real size so an oversize one is refused without being read), hand it to the
 * core, write the 8-byte reply word, close. Messages are handled one at a time, in accept order.
 * A sender that already hung up (it timed out while the receiver was busy) is skipped: nobody would
 * get the answer, and it was told WIPC_E_TIMEOUT.
 *
 * Closing from another thread: the socket file is unlinked (new senders: WIPC_E_NOT_FOUND), the
 * thread is woken and joined (a callback in progress finishes first), then the listening socket is
 * closed (senders still in the backlog: ECONNRESET = WIPC_E_DISCONNECTED) and the name released.
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
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "common/msg_wire.h"
#include "common/frame.h"
#include "posix/msg_posix.h"
#include "posix/rundir.h"

#define FIRST_PACKET_WAIT_MS 2000   /* a sender writes right after connecting */
#define LOCK_RETRIES         20     /* wipc_msg_list probes lock files for a few microseconds */

struct wipc__msg_rx {
    struct wipc__msg_ep *ep;
    wipc__thread         thread;
    bool                 thread_started;
    atomic_uint_fast64_t tid;        /* the receiver thread's id, for "closed from my own callback" */
    atomic_bool          stop;
    bool                 detach;     /* set on the receiver thread by a close from its own callback */
    int                  listen_fd, lock_fd, wake_rd, wake_wr;
    uint8_t             *buf;
    size_t               buf_cap;
    char                 name[WIPC_NAME_MAX + 1];
    char                 path[WIPC__MSG_SUN_PATH];
    char                 lock_path[WIPC__MSG_SUN_PATH + sizeof WIPC__MSG_LOCK_SUFFIX];
};

wipc_status wipc__posix_msg_path(const char *name, char *buf, size_t cap, const char *fn)
{
    return wipc__rundir_path(buf, cap, WIPC__MSG_FILE_PREFIX, name, "", fn);
}

/* ---- name lock ------------------------------------------------------------------------------------ */

/* flock(LOCK_EX) on the lock file, re-checked against the path's inode so that a lock file unlinked by
 * a closing endpoint is never trusted. Retries briefly while a lister holds its shared probe lock. */
static wipc_status take_name_lock(wipc__msg_rx *rx)
{
    for (int tries = 0; tries < LOCK_RETRIES; tries++) {
        int fd = open(rx->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
            return wipc__error(wipc__os_error_status(errno), errno, "wipc_msg_listen(%s): open(%s) failed", rx->name, rx->lock_path);
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            close(fd);
            if (e != EWOULDBLOCK)
                return wipc__error(WIPC_E_SYSTEM, e, "wipc_msg_listen(%s): flock(%s) failed", rx->name, rx->lock_path);
            if (tries + 1 < LOCK_RETRIES) {
                wipc__sleep_ms(1);
                continue;
            }
            return wipc__error(WIPC_E_ADDR_IN_USE, 0, "wipc_msg_listen(%s): the name is already listened to (lock %s is held)",
                               rx->name, rx->lock_path);
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(rx->lock_path, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev) {
            if (ftruncate(fd, 0) != 0) {   /* a dead owner's name stays until we are listening */
                int e = errno;
                close(fd);
                return wipc__error(WIPC_E_SYSTEM, e, "wipc_msg_listen(%s): ftruncate(%s) failed", rx->name, rx->lock_path);
            }
            rx->lock_fd = fd;
            return WIPC_OK;
        }
        close(fd);   /* replaced while we locked it: try again */
    }
    return wipc__error(WIPC_E_ADDR_IN_USE, 0, "wipc_msg_listen(%s): the name lock keeps changing hands", rx->name);
}

/* Unlinks the socket and lock files and drops the lock (unlink first: we still hold it). */
static void release_name(wipc__msg_rx *rx)
{
    if (rx->listen_fd >= 0) {
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
    if (rx->wake_rd >= 0)
        close(rx->wake_rd);
    if (rx->wake_wr >= 0)
        close(rx->wake_wr);
    free(rx->buf);
    free(rx);
}

/* ---- the receiver thread -------------------------------------------------------------------------- */

static void send_word(int fd, uint64_t word)
{
    uint8_t out[8];
    wipc__put_le64(out, word);
    if (send(fd, out, sizeof out, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof out)
        wipc__log(WIPC_LOG_DEBUG, "msg: the reply could not be written (errno %d): the sender is gone", errno);
}

/* Waits for the request packet of a fresh connection. 1 = readable, 0 = nothing (stop, timeout). */
static int wait_packet(wipc__msg_rx *rx, int fd)
{
    struct pollfd p[2] = { { fd, POLLIN, 0 }, { rx->wake_rd, POLLIN, 0 } };
    uint64_t deadline = wipc__deadline(FIRST_PACKET_WAIT_MS);
    for (;;) {
        int left = wipc__remaining(deadline);
        int r = poll(p, 2, left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0 || (p[1].revents & POLLIN) || atomic_load(&rx->stop))
            return 0;
        return (p[0].revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
    }
}

static void handle_connection(wipc__msg_rx *rx, int fd)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) != 0) {
        wipc__log(WIPC_LOG_WARN, "msg %s: SO_PEERCRED failed (errno %d); sender dropped", rx->name, errno);
        return;
    }
    /* n = the packet's real size (MSG_TRUNC); usually there already, else wait for it */
    ssize_t n = recv(fd, rx->buf, rx->buf_cap, MSG_TRUNC | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && wait_packet(rx, fd))
        n = recv(fd, rx->buf, rx->buf_cap, MSG_TRUNC | MSG_DONTWAIT);
    if (n <= 0)
        return;   /* hung up without sending, or nothing came */
    if (cr.uid != geteuid()) {
        wipc__log(WIPC_LOG_WARN, "msg %s: sender pid %u runs as uid %u, not uid %u (SO_PEERCRED); refused", rx->name,
                  (unsigned)cr.pid, (unsigned)cr.uid, (unsigned)geteuid());
        send_word(fd, wipc__msg_reply_encode(WIPC_E_ACCESS_DENIED, 0));
        return;
    }
    if ((size_t)n < WIPC__MSG_PACKET_PREFIX) {
        wipc__log(WIPC_LOG_WARN, "msg %s: a %zd-byte packet from pid %u is shorter than the packet prefix; refused", rx->name, n,
                  (unsigned)cr.pid);
        send_word(fd, wipc__msg_reply_encode(WIPC_E_PROTOCOL, 0));
        return;
    }
    struct pollfd hup = { fd, POLLRDHUP, 0 };
    if (poll(&hup, 1, 0) == 1 && (hup.revents & (POLLHUP | POLLRDHUP | POLLERR))) {
        wipc__log(WIPC_LOG_DEBUG, "msg %s: the sender (pid %u) gave up before its message was taken; dropped", rx->name, (unsigned)cr.pid);
        return;
    }
    uint32_t type = wipc__msg_prefix_type(rx->buf);
    uint64_t word = wipc__core_msg_received(rx->ep, type, rx->buf + WIPC__MSG_PACKET_PREFIX, (size_t)n - WIPC__MSG_PACKET_PREFIX,
                                            (uint32_t)cr.pid);
    send_word(fd, word);
}

static void receiver_main(void *arg)
{
    wipc__msg_rx *rx = (wipc__msg_rx *)arg;
    atomic_store(&rx->tid, wipc__thread_self());
    while (!atomic_load(&rx->stop)) {
        struct pollfd p[2] = { { rx->listen_fd, POLLIN, 0 }, { rx->wake_rd, POLLIN, 0 } };
        int r = poll(p, 2, -1);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            wipc__log(WIPC_LOG_ERROR, "msg %s: poll failed (errno %d); the receiver stops", rx->name, errno);
            break;
        }
        if (p[1].revents)
            break;
        while (!atomic_load(&rx->stop)) {
            int fd = accept4(rx->listen_fd, NULL, NULL, SOCK_CLOEXEC);
            if (fd < 0) {
                if (errno == EINTR || errno == ECONNABORTED)
                    continue;
                if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    wipc__log(WIPC_LOG_WARN, "msg %s: accept4 failed (errno %d)", rx->name, errno);
                    wipc__sleep_ms(10);   /* e.g. EMFILE: do not spin */
                }
                break;
            }
            handle_connection(rx, fd);
            close(fd);
        }
    }
    if (rx->detach) {   /* closed from our own callback: nobody joins us */
        pthread_detach(pthread_self());
        rx_free(rx);
    }
}

/* ---- backend entry points ------------------------------------------------------------------------- */

wipc_status wipc__plat_msg_listen(const char *name, const wipc__msg_cfg *cfg, struct wipc__msg_ep *ep, wipc__msg_rx **out)
{
    static const char fn[] = "wipc_msg_listen";
    wipc__msg_rx *rx = calloc(1, sizeof *rx);
    if (!rx)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "%s(%s): out of memory", fn, name);
    rx->ep = ep;
    rx->listen_fd = rx->lock_fd = rx->wake_rd = rx->wake_wr = -1;
    snprintf(rx->name, sizeof rx->name, "%s", name);
    wipc_status st = wipc__posix_msg_path(name, rx->path, sizeof rx->path, fn);
    if (st != WIPC_OK)
        goto fail;
    snprintf(rx->lock_path, sizeof rx->lock_path, "%s%s", rx->path, WIPC__MSG_LOCK_SUFFIX);
    rx->buf_cap = WIPC__MSG_PACKET_PREFIX + WIPC__MSG_HEADER + (size_t)cfg->max_message_size;
    rx->buf = malloc(rx->buf_cap);
    if (!rx->buf) {
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "%s(%s): out of memory for a %zu-byte receive buffer", fn, name, rx->buf_cap);
        goto fail;
    }
    if ((st = take_name_lock(rx)) != WIPC_OK)
        goto fail;
    unlink(rx->path);   /* a dead endpoint's socket file: we hold the name lock, so it is stale */
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
    if ((st = wipc__thread_start(&rx->thread, receiver_main, rx)) != WIPC_OK)
        goto fail;
    rx->thread_started = true;
    /* Reachable now: publish the name for wipc_msg_list. */
    size_t len = strlen(name);
    if (pwrite(rx->lock_fd, name, len, 0) != (ssize_t)len)
        wipc__log(WIPC_LOG_WARN, "msg %s: cannot write the name into %s (errno %d); wipc_msg_list will not show it", name,
                  rx->lock_path, errno);
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
    unlink(rx->path);   /* new senders: WIPC_E_NOT_FOUND */
    atomic_store(&rx->stop, true);
    if (rx->thread_started) {
        char b = 1;
        if (write(rx->wake_wr, &b, 1) < 0 && errno != EAGAIN)
            wipc__log(WIPC_LOG_WARN, "msg %s: cannot wake the receiver thread (errno %d)", rx->name, errno);
        wipc__thread_join(&rx->thread);
    }
    rx_free(rx);
}
