/*
 * msg_send.c - POSIX msg sending (the counterpart of FindWindowExW + SendMessageTimeoutW): one packet
 * (prefix with the type, payload header, user bytes) over a SOCK_SEQPACKET connection to
 * <rundir>/m.<name>, then up to the timeout for the 8-byte reply word. Connections are reused: an
 * idle one to that name comes from the cache (msg_pool.c) and goes back after a complete exchange;
 * otherwise we connect and check that the receiver runs as our uid (SO_PEERCRED) first.
 *
 * connect ENOENT / ECONNREFUSED (no socket, or a dead process's leftover) = WIPC_E_NOT_FOUND;
 * EAGAIN (backlog full: the receiver is stuck) is retried until the timeout = WIPC_E_TIMEOUT; EOF or
 * ECONNRESET instead of a reply = WIPC_E_DISCONNECTED (the endpoint closed or died meanwhile).
 *
 * A cached connection may lead to an endpoint that has closed since (or a process that died; a new
 * receiver may serve the name now). sendmsg on it fails (EPIPE / ECONNRESET) without queueing
 * anything, so the message provably never left: it is sent again on a fresh connection. Once sendmsg
 * succeeded, the message may have been delivered: any later failure is reported, never retried, and
 * the connection is dropped (a late reply can never be read as the next message's).
 *
 * Raw sends (path:/class: targets, wipc.h): one connection per message, the bytes without a header,
 * the 8-byte answer uninterpreted; for path: the server may run as any user.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>
#include "linux/msg_linux.h"

/* Waits for `events` on fd until the deadline. 1 = ready, 0 = timed out, -1 = poll failed (errno). */
static int wait_fd(int fd, short events, wipc__deadline deadline, short *revents)
{
    for (;;) {
        struct pollfd p = { fd, events, 0 };
        int r = poll(&p, 1, wipc__deadline_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        *revents = p.revents;
        return r;
    }
}

static wipc_status connect_endpoint(const char *name, const char *path, wipc__deadline deadline, int32_t timeout_ms,
                                    int *out_fd)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, path, strlen(path));
    uint32_t backoff = 1;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            return wipc__error(WIPC_E_SYSTEM, errno, "wipc_msg_send(%s): socket(AF_UNIX, SOCK_SEQPACKET) failed", name);
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0) {
            *out_fd = fd;
            return WIPC_OK;
        }
        int e = errno;
        close(fd);
        if (e == ENOENT || e == ECONNREFUSED)
            return wipc__error(WIPC_E_NOT_FOUND, e, "wipc_msg_send(%s): no endpoint of that name (%s)", name, path);
        if (e == EACCES || e == EPERM)
            return wipc__error(WIPC_E_ACCESS_DENIED, e, "wipc_msg_send(%s): connect(%s) refused", name, path);
        if (e != EAGAIN && e != EINTR)
            return wipc__error(wipc__os_error_status(e), e, "wipc_msg_send(%s): connect(%s) failed", name, path);
        int32_t left = wipc__deadline_left(deadline);
        if (left == 0)
            return wipc__error(WIPC_E_TIMEOUT, e,
                               "wipc_msg_send(%s): the receiver took no new message within %d ms (busy or hung)", name,
                               (int)timeout_ms);
        wipc__sleep_ms(left < 0 || (uint32_t)left > backoff ? backoff : (uint32_t)left);
        if (backoff < 16)
            backoff *= 2;
    }
}

/* A fresh connection to the socket at `path` (`name` names it in messages); unless `any_uid`, its
 * receiver must run as our uid. Blocking from now on (sendmsg says MSG_DONTWAIT, the reply is awaited
 * with SO_RCVTIMEO: one system call, no poll). */
static wipc_status connect_path(const char *name, const char *path, bool any_uid, wipc__deadline deadline,
                                int32_t timeout_ms, wipc__linux_msg_sock *out)
{
    int fd = -1;
    wipc_status st = connect_endpoint(name, path, deadline, timeout_ms, &fd);
    if (st != WIPC_OK)
        return st;
    struct ucred cr;
    socklen_t clen = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &clen) != 0)
        st = wipc__error(WIPC_E_SYSTEM, errno, "wipc_msg_send(%s): SO_PEERCRED failed", name);
    else if (!any_uid && cr.uid != geteuid())
        st = wipc__error(WIPC_E_ACCESS_DENIED, 0,
                         "wipc_msg_send(%s): the endpoint runs as uid %u, not uid %u (SO_PEERCRED); refused", name,
                         (unsigned)cr.uid, (unsigned)geteuid());
    else if (fcntl(fd, F_SETFL, 0) != 0)
        st = wipc__error(WIPC_E_SYSTEM, errno, "wipc_msg_send(%s): fcntl(F_SETFL) failed", name);
    if (st != WIPC_OK) {
        close(fd);
        return st;
    }
    out->fd = fd;
    out->rcv_timeout_ms = WIPC_INFINITE;
    return WIPC_OK;
}

/* A fresh connection to the endpoint `name`. */
static wipc_status open_connection(const char *name, wipc__deadline deadline, int32_t timeout_ms,
                                   wipc__linux_msg_sock *out)
{
    char path[WIPC__LINUX_MSG_SUN_PATH];
    wipc_status st = wipc__linux_msg_path(name, path, sizeof path, "wipc_msg_send");
    return st == WIPC_OK ? connect_path(name, path, false, deadline, timeout_ms, out) : st;
}

/* Gives s the receive timeout `left` ms (> 0 or WIPC_INFINITE) unless its current one is close enough:
 * a bit shorter is fine (recv then ends early and the caller waits again for the rest), so the same
 * timeout_ms sent again and again costs no system call. 0 or -1 (errno). */
static int set_rcv_timeout(wipc__linux_msg_sock *s, int32_t left)
{
    int32_t have = s->rcv_timeout_ms;
    if (left == WIPC_INFINITE ? have == WIPC_INFINITE
                              : (have != WIPC_INFINITE && have <= left && have >= left - left / 16 - 1))
        return 0;
    struct timeval tv = { 0, 0 }; /* 0 = no timeout */
    if (left != WIPC_INFINITE) {
        tv.tv_sec = left / 1000;
        tv.tv_usec = (left % 1000) * 1000;
    }
    if (setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0)
        return -1;
    s->rcv_timeout_ms = left;
    return 0;
}

/* One request and its reply on s. *not_sent = true when sendmsg refused the packet because the
 * receiver's end is gone: then it provably never got the message. */
static wipc_status exchange(const char *name, wipc__linux_msg_sock *s, uint32_t type, const wipc__iov *iov, size_t n,
                            wipc__deadline deadline, int32_t timeout_ms, uint64_t *out_word, bool *not_sent)
{
    int fd = s->fd;
    uint8_t prefix[WIPC__MSG_PACKET_PREFIX];
    wipc__msg_prefix_encode(prefix, type);
    struct iovec v[4];
    size_t cnt = 0, total = sizeof prefix;
    v[cnt].iov_base = prefix;
    v[cnt++].iov_len = sizeof prefix;
    for (size_t i = 0; i < n && cnt < 4; i++) {
        v[cnt].iov_base = (void *)iov[i].base;
        v[cnt++].iov_len = iov[i].len;
        total += iov[i].len;
    }
    if (total > 64 * 1024) { /* one datagram must fit the send buffer */
        int want = (int)(total + 4096);
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    }
    struct msghdr mh;
    memset(&mh, 0, sizeof mh);
    mh.msg_iov = v;
    mh.msg_iovlen = cnt;
    for (;;) {
        ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r >= 0)
            break;
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN || e == EWOULDBLOCK) {
            short rev = 0;
            int w = wait_fd(fd, POLLOUT, deadline, &rev);
            if (w == 0)
                return wipc__error(WIPC_E_TIMEOUT, 0, "wipc_msg_send(%s): the receiver took no data within %d ms", name,
                                   (int)timeout_ms);
            if (w < 0)
                return wipc__error(WIPC_E_SYSTEM, errno, "wipc_msg_send(%s): poll(POLLOUT) failed", name);
            continue;
        }
        if (e == EMSGSIZE || e == ENOBUFS)
            return wipc__error(WIPC_E_TOO_LARGE, e,
                               "wipc_msg_send(%s): the OS refused a %zu-byte datagram (is net.core.wmem_max below it?)",
                               name, total);
        if (e == EPIPE || e == ECONNRESET || e == ENOTCONN) {
            *not_sent = true;
            return wipc__error(WIPC_E_DISCONNECTED, e,
                               "wipc_msg_send(%s): the endpoint closed or died before taking the message", name);
        }
        return wipc__error(WIPC_E_SYSTEM, e, "wipc_msg_send(%s): sendmsg failed", name);
    }

    for (;;) {
        uint8_t in[8];
        int32_t left = wipc__deadline_left(deadline);
        ssize_t r;
        if (left == 0)
            r = recv(fd, in, sizeof in, MSG_DONTWAIT | MSG_TRUNC);
        else if (set_rcv_timeout(s, left) != 0)
            return wipc__error(WIPC_E_SYSTEM, errno, "wipc_msg_send(%s): setsockopt(SO_RCVTIMEO) failed", name);
        else
            r = recv(fd, in, sizeof in, MSG_TRUNC); /* blocks up to SO_RCVTIMEO */
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && left == 0)
            return wipc__error(WIPC_E_TIMEOUT, 0,
                               "wipc_msg_send(%s): no answer within %d ms (the receiver is slow or hung)", name,
                               (int)timeout_ms);
        if (r < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
            continue;
        if (r == 0 || (r < 0 && (errno == ECONNRESET || errno == EPIPE || errno == ENOTCONN)))
            return wipc__error(WIPC_E_DISCONNECTED, r < 0 ? errno : 0,
                               "wipc_msg_send(%s): the endpoint closed or died before answering", name);
        if (r < 0)
            return wipc__error(WIPC_E_SYSTEM, errno, "wipc_msg_send(%s): recv failed", name);
        if (r != (ssize_t)sizeof in)
            return wipc__error(WIPC_E_PROTOCOL, 0, "wipc_msg_send(%s): a %zd-byte answer, expected %zu", name, r,
                               sizeof in);
        *out_word = wipc__get_le64(in);
        return WIPC_OK;
    }
}

wipc_status wipc__plat_msg_send(const char *name, uint32_t type, const wipc__iov *iov, size_t n, int32_t timeout_ms,
                                uint64_t *out_word)
{
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    for (;;) {
        wipc__linux_msg_sock s;
        bool cached = wipc__linux_msg_pool_take(name, &s);
        wipc_status st;
        if (!cached && (st = open_connection(name, deadline, timeout_ms, &s)) != WIPC_OK)
            return st;
        bool not_sent = false;
        st = exchange(name, &s, type, iov, n, deadline, timeout_ms, out_word, &not_sent);
        if (st == WIPC_OK) {
            wipc__linux_msg_pool_put(name, &s);
            return WIPC_OK;
        }
        close(s.fd);
        if (!(cached && not_sent))
            return st;
        wipc__log(WIPC_LOG_DEBUG, "msg: the cached connection to %s leads to a closed endpoint; connecting afresh",
                  name);
    }
}

/* ---- raw sends (wipc.h, WIPC_MSG_TARGET_*) --------------------------------------------------------- */

wipc_status wipc__plat_msg_send_raw(const wipc__msg_target *t, uint32_t type, const void *data, size_t size,
                                    int32_t timeout_ms, uint64_t *out_word)
{
    static const char cls_prefix[] = "wipc-msg-";
    if (t->title[0])
        return wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                           "wipc_msg_send(%s): POSIX has no window titles (use path:SOCKET, or "
                           "class:wipc-msg-NAME for the wipc endpoint NAME)",
                           t->text);
    char path[WIPC__LINUX_MSG_SUN_PATH];
    bool any_uid = t->path[0] != '\0';
    if (any_uid) {
        if (strlen(t->path) >= sizeof path)
            return wipc__error(WIPC_E_INVALID_ARG, 0,
                               "wipc_msg_send(%s): the socket path is longer than sun_path (%zu bytes)", t->text,
                               sizeof path - 1);
        snprintf(path, sizeof path, "%s", t->path);
    } else {
        const char *name = t->cls + sizeof cls_prefix - 1;
        if (strncmp(t->cls, cls_prefix, sizeof cls_prefix - 1) != 0 || !wipc__msg_name_ok(name, strlen(name)))
            return wipc__error(WIPC_E_NOT_FOUND, 0,
                               "wipc_msg_send(%s): POSIX has no windows; the only classes are "
                               "wipc-msg-NAME (the wipc endpoint NAME)",
                               t->text);
        wipc_status st = wipc__linux_msg_path(name, path, sizeof path, "wipc_msg_send");
        if (st != WIPC_OK)
            return st;
    }
    /* one connection per message: a foreign server need not keep connections apart */
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    wipc__linux_msg_sock s;
    wipc_status st = connect_path(t->text, path, any_uid, deadline, timeout_ms, &s);
    if (st != WIPC_OK)
        return st;
    wipc__iov iov = { data, size };
    bool not_sent = false;
    st = exchange(t->text, &s, type, &iov, size ? 1 : 0, deadline, timeout_ms, out_word, &not_sent);
    close(s.fd);
    return st;
}
