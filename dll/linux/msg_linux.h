/*
 * msg_linux.h - what the POSIX msg files share (msg_recv.c, msg_send.c, msg_pool.c, msg_list.c).
 *
 * An endpoint `name` is the SOCK_SEQPACKET socket <rundir>/m.<name> (a hash of the name when the path
 * would not fit sockaddr_un) plus the lock file <socket path>.lock. The listener holds an exclusive
 * flock on the lock file for its whole life and writes the endpoint name into it once the socket
 * listens: a locked lock file = a live endpoint (how wipc_msg_list finds them, long names included),
 * an unlocked one = a dead process's leftover, reclaimed by the next listener.
 */
#ifndef WIPC_LINUX_MSG_H
#define WIPC_LINUX_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>
#include "platform_msg.h"

#define WIPC__LINUX_MSG_FILE_PREFIX "m."
#define WIPC__LINUX_MSG_LOCK_SUFFIX ".lock"
#define WIPC__LINUX_MSG_SUN_PATH    sizeof(((struct sockaddr_un *)0)->sun_path)

/** The socket path of endpoint `name` (buf of WIPC__LINUX_MSG_SUN_PATH bytes). Sets the last error. */
wipc_status wipc__linux_msg_path(const char *name, char *buf, size_t cap, const char *fn);

/** A sender's connection to an endpoint. */
typedef struct wipc__linux_msg_sock {
    int fd;
    int32_t rcv_timeout_ms; /* the SO_RCVTIMEO it has, WIPC_INFINITE = none */
} wipc__linux_msg_sock;

/* The sender's cache of idle connections (msg_pool.c). */
/** Takes an idle connection to endpoint `name` out of the cache (it is now the caller's): true, or
 *  false if none is cached. */
bool wipc__linux_msg_pool_take(const char *name, wipc__linux_msg_sock *out);
/** Gives `s` back after a complete exchange with `name` (it may be closed at once if the cache is full). */
void wipc__linux_msg_pool_put(const char *name, const wipc__linux_msg_sock *s);
/** Closes every cached socket (wipc_shutdown; library unload does it by itself). */
void wipc__linux_msg_pool_clear(void);

#endif
