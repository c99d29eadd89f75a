/*
 * loop.h - the POSIX backend's one I/O thread: an epoll loop, started lazily, stopped by
 * wipc__plat_shutdown. Sources register a file descriptor with a handler; handlers run on the loop
 * thread only, one at a time.
 */
#ifndef WIPC_POSIX_LOOP_H
#define WIPC_POSIX_LOOP_H
#include <stdint.h>
#include "wipc.h"

typedef struct wipc__source wipc__source;
struct wipc__source {
    void (*on_ready)(wipc__source *src, uint32_t epoll_events);   /* loop thread; events 0 = posted */
    void (*on_free)(wipc__source *src);   /* set by wipc__loop_retire: frees the source safely */
    wipc__source *next_dead;
    uint64_t      dead_epoch;
    wipc__source *next_posted;            /* guarded by the loop's lock */
    int           posted;
    int           fd;
};

/* Registers src->fd for `events` (EPOLLIN...). Starts the loop thread if needed. */
wipc_status wipc__loop_add(wipc__source *src, uint32_t events);
/* Changes the events watched (0 = none; pause). */
void wipc__loop_mod(wipc__source *src, uint32_t events);
/* Unregisters the fd. */
void wipc__loop_del(wipc__source *src);
/* Unregisters and frees the source from any thread: on_free runs on the loop thread once no event
 * already fetched for it can still be handled (or at once if the loop is not running). */
void wipc__loop_retire(wipc__source *src, void (*on_free)(wipc__source *));
/* Makes the loop thread call src->on_ready(src, 0) soon (once, however often it is posted before).
 * Starts the loop thread if needed. Any thread. */
void wipc__loop_post(wipc__source *src);
/* Stops the loop thread (it restarts on the next wipc__loop_add) and frees every retired source. */
void wipc__loop_stop(void);
#endif
