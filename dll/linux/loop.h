/*
 * loop.h - the POSIX backend's one I/O thread: an epoll loop, started lazily, stopped by
 * wipc__plat_shutdown. Sources register a file descriptor with a handler; handlers run on the loop
 * thread only, one at a time.
 */
#ifndef WIPC_LINUX_LOOP_H
#define WIPC_LINUX_LOOP_H
#include <stdint.h>
#include "wipc.h"

typedef struct wipc__linux_source wipc__linux_source;
struct wipc__linux_source {
    void (*on_ready)(wipc__linux_source *src, uint32_t epoll_events); /* loop thread; events 0 = posted */
    void (*on_free)(wipc__linux_source *src); /* set by wipc__linux_loop_retire: frees the source safely */
    wipc__linux_source *next_dead;
    uint64_t dead_epoch;
    wipc__linux_source *next_posted; /* guarded by the loop's lock */
    int posted;
    int fd;
};

/* Registers src->fd for `events` (EPOLLIN...). Starts the loop thread if needed. */
wipc_status wipc__linux_loop_add(wipc__linux_source *src, uint32_t events);
/* Changes the events watched (0 = none; pause). */
void wipc__linux_loop_mod(wipc__linux_source *src, uint32_t events);
/* Unregisters the fd. */
void wipc__linux_loop_del(wipc__linux_source *src);
/* Unregisters and frees the source from any thread: on_free runs on the loop thread once no event
 * already fetched for it can still be handled (or at once if the loop is not running). */
void wipc__linux_loop_retire(wipc__linux_source *src, void (*on_free)(wipc__linux_source *));
/* Makes the loop thread call src->on_ready(src, 0) soon (once, however often it is posted before).
 * Starts the loop thread if needed. Any thread. */
void wipc__linux_loop_post(wipc__linux_source *src);
/* Stops the loop thread (it restarts on the next wipc__linux_loop_add) and frees every retired source. */
void wipc__linux_loop_stop(void);
#endif
