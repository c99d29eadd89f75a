/*
 * pipe_linux.h - what the POSIX pipe backend's files share: pipe.c (sockets, reading, blocking writes)
 * exposes the few pieces of its wipc__pipe that pipe_write_async.c (asynchronous writes) needs.
 */
#ifndef WIPC_LINUX_PIPE_H
#define WIPC_LINUX_PIPE_H
#include <stdbool.h>
#include "platform.h"

struct wipc__linux_awrite;

int                    wipc__linux_pipe_fd(wipc__pipe *p);
wipc__mutex           *wipc__linux_pipe_lock(wipc__pipe *p);
/* started, not shut down, not ended; the pipe's lock held */
bool                   wipc__linux_pipe_usable(wipc__pipe *p);
struct wipc__linux_awrite **wipc__linux_pipe_awrite(wipc__pipe *p);
struct wipc__conn     *wipc__linux_pipe_conn(wipc__pipe *p);
/* pipe_write_async.c: frees the async-write state with the pipe */
void                   wipc__linux_awrite_free(wipc__pipe *p);
/* started pipes whose end has not been reported yet (shutdown.c waits for 0) */
int                    wipc__linux_pipes_live(void);

#endif
