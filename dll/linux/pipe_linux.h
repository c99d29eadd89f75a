/*
 * pipe_linux.h - what the POSIX pipe backend's files share: pipe.c (sockets, reading, blocking writes)
 * exposes the few pieces of its wipc__pipe that pipe_write_async.c (asynchronous writes) needs.
 */
#ifndef WIPC_POSIX_PIPE_H
#define WIPC_POSIX_PIPE_H
#include <stdbool.h>
#include "platform.h"

struct wipc__pipe_aw;

int                    wipc__posix_pipe_fd(wipc__pipe *p);
wipc__mutex           *wipc__posix_pipe_lock(wipc__pipe *p);
/* started, not shut down, not ended; the pipe's lock held */
bool                   wipc__posix_pipe_usable(wipc__pipe *p);
struct wipc__pipe_aw **wipc__posix_pipe_aw(wipc__pipe *p);
struct wipc__conn     *wipc__posix_pipe_conn(wipc__pipe *p);
/* pipe_write_async.c: frees the async-write state with the pipe */
void                   wipc__posix_aw_free(wipc__pipe *p);

#endif
