/*
 * pipe_linux.h - what the Linux pipe backend's files share: pipe.c (sockets, reading, blocking writes)
 * exposes the few pieces of its wipc__pipe that pipe_write_async.c (asynchronous writes, the file
 * above it) needs.
 */
#ifndef WIPC_LINUX_PIPE_H
#define WIPC_LINUX_PIPE_H
#include <stdbool.h>
#include "platform.h"

struct wipc__linux_awrite;

int wipc__linux_pipe_fd(wipc__pipe *p);
wipc__mutex *wipc__linux_pipe_lock(wipc__pipe *p);
/* started, not shut down, not ended; the pipe's lock held */
bool wipc__linux_pipe_usable(wipc__pipe *p);
struct wipc__linux_awrite **wipc__linux_pipe_awrite(wipc__pipe *p);
struct wipc__conn *wipc__linux_pipe_conn(wipc__pipe *p);
/* the core's entry points the pipe was made with (wipc__pipe_cfg.calls) */
const wipc__pipe_calls *wipc__linux_pipe_calls(wipc__pipe *p);
/* pipe_write_async.c, when it makes p's async-write state: how wipc__plat_pipe_free frees it (so
 * pipe.c never calls into pipe_write_async.c, which sits above it); the pipe's lock held */
void wipc__linux_pipe_awrite_free_fn(wipc__pipe *p, void (*aw_free)(wipc__pipe *p));
/* started pipes whose end has not been reported yet (shutdown.c waits for 0) */
int wipc__linux_pipes_live(void);

#endif
