/*
 * pipe_write_async.c - PLACEHOLDER for the Win32 side of wipc__plat_pipe_write_start / _cancel
 * (dll/platform.h). The Win32 backend's owner replaces this file with overlapped WriteFile completed on
 * the IOCP. Until then the write queue cannot start a write: a frame the pipe does not take at once
 * fails with WIPC_E_NOT_SUPPORTED (small frames still go through the core's immediate write).
 */
#include "platform.h"

wipc_status wipc__plat_pipe_write_start(wipc__pipe *p, const void *buf, size_t len)
{
    (void)p;
    (void)buf;
    (void)len;
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "asynchronous pipe writes are not implemented on this backend yet");
}

void wipc__plat_pipe_write_cancel(wipc__pipe *p)
{
    (void)p;
}
