/*
 * pipe_send.c - the blocking send of a pipe connection (the ops table's send hook, wipc_send /
 * wipc_reply / wipc_request's request, the HELLO): picks how the frame goes - the write queue from
 * a callback or with WIPC_PIPE_WRITE_BEHIND (pipe_wq.c), the bulk section for a large message
 * (pipe_bulk.c), or one frame written at once (wipc__conn_write_frame, pipe_wq.c).
 */
#include "common/pipe/pipe.h"

wipc_status wipc__conn_send(wipc__obj *o, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                            size_t size, int32_t timeout_ms)
{
    wipc__conn *c = (wipc__conn *)o;
    bool control = kind == WIPC__FRAME_HELLO || kind == WIPC__FRAME_BUSY;
    wipc_status st = wipc__conn_send_check(c, kind, size);
    if (st != WIPC_OK)
        return st;
    if ((kind == WIPC__KIND_REPLY || kind == WIPC__KIND_ERROR) && wipc__in_callback(NULL))
        return wipc__wq_send(c, NULL, kind, request_id, type, data, size); /* never blocks a callback worker */
    if (c->write_behind && !control && kind != WIPC__KIND_REQUEST && size <= WIPC__WQ_GATHER_FRAME - WIPC__FRAME_HEADER)
        return wipc__wq_send_behind(c, kind, request_id, type, data, size, timeout_ms);
    st = WIPC_E_NOT_SUPPORTED;
    if (!control && size >= WIPC__BULK_SEND_MIN && atomic_load_explicit(&c->bulk_tx, memory_order_relaxed))
        st = wipc__bulk_send(c, kind, request_id, type, data, size, timeout_ms);
    if (st == WIPC_E_NOT_SUPPORTED)
        st = wipc__conn_write_frame(c, kind, request_id, type, data, size, timeout_ms);
    if (st != WIPC_OK)
        return st;
    if (!control) {
        wipc__count_sent(o, size);
    }
    return WIPC_OK;
}
