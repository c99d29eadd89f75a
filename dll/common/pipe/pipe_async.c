/*
 * pipe_async.c - asynchronous operations on pipe connections (include/wipc.h, "asynchronous operations"): the ops hooks for
 * wipc_send_async / wipc_request_async / wipc_recv_async (wipc_pipe_connect_async: pipe_connect.c).
 *
 * Reads: a connection with async receives or requests is read by the backend's I/O thread from then
 * on (wipc__conn_go_async, as for callbacks); replies find their operation by request id (op.h),
 * messages the first recv_async in the handle's FIFO (inbox.c).
 * Writes: through the connection's write queue (pipe_wq.c).
 */
#include "common/pipe/pipe.h"
#include "common/core/op.h"

wipc_status wipc__conn_send_async(wipc__obj *o, wipc__op *op, uint8_t kind, uint64_t request_id, uint32_t type,
                                  const void *data, size_t size)
{
    wipc__conn *c = (wipc__conn *)o;
    wipc_status st = wipc__conn_send_check(c, kind, size);
    if (st != WIPC_OK)
        return st;
    if (kind == WIPC__KIND_REQUEST)
        wipc__conn_go_async(c); /* its reply is read by the I/O thread */
    else
        op->vt = &wipc__wq_op_vt; /* cancel / timeout: drop the queued frame, or stop the write */
    if ((st = wipc__op_start(op, false)) != WIPC_OK)
        return st;
    st = wipc__wq_send(c, op, kind, request_id, type, data, size);
    if (st != WIPC_OK && !wipc__op_abort(op))
        return WIPC_OK; /* cancelled meanwhile (an id guessed by another thread): it completes with that */
    return st;
}

wipc_status wipc__conn_recv_async(wipc__obj *o, wipc__op *op)
{
    wipc__conn_go_async((wipc__conn *)o);
    return wipc__inbox_recv_async(o, op);
}
