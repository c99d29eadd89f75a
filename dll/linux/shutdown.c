/*
 * shutdown.c - wipc__plat_shutdown (wipc_shutdown, after every handle was closed): the end of the
 * backend's process-wide state. It sits above the files that own that state - the epoll I/O thread
 * (loop.c), the pipes still ending on it (pipe.c) and the msg sender's cached connections
 * (msg_pool.c) - so none of them depends on another for it. Everything restarts lazily.
 */
#include "platform.h"
#include "linux/loop.h"
#include "linux/msg_linux.h"
#include "linux/pipe_linux.h"

void wipc__plat_shutdown(void)
{
    /* Every handle is closed by now; let the I/O thread see the pipes end (bounded wait). */
    for (int i = 0; i < 2000 && wipc__linux_pipes_live() > 0; i++)
        wipc__sleep_ms(1);
    wipc__linux_loop_stop();
    wipc__linux_msg_pool_clear(); /* msg: the sender's cached connections */
}
