/*
 * api.c - the entry points that work on any handle kind (close, info, send, recv, request, reply,
 * callbacks) and the library-wide ones (version, shutdown). They validate arguments, look the handle
 * up, and hand over to the transport through its wipc__ops.
 */
#include <stdlib.h>
#include "common/core/core.h"
#include "common/core/frame.h"
#include "common/core/op.h"

WIPC_API uint32_t WIPC_CALL wipc_version(void)
{
    return WIPC_VERSION;
}

WIPC_API const char *WIPC_CALL wipc_version_string(void)
{
    return WIPC_VERSION_STRING;
}

wipc_status wipc__check_timeout(const char *fn, int32_t timeout_ms)
{
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s: timeout %d ms is negative (use WIPC_INFINITE = -1 to wait forever)", fn,
                           (int)timeout_ms);
    return WIPC_OK;
}

wipc_status wipc__check_data(const char *fn, const void *data, size_t size)
{
    if (!data && size)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: data is NULL but size is %zu", fn, size);
    if (size > WIPC_MAX_MESSAGE_LIMIT)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "%s: %zu bytes is above every transport's limit (%u)", fn, size,
                           (unsigned)WIPC_MAX_MESSAGE_LIMIT);
    return WIPC_OK;
}

/* WIPC_OK if o carries messages (not a server, region or event), else the error. */
static wipc_status carries_messages(const char *fn, wipc_handle h, const wipc__obj *o)
{
    uint32_t kind = o->ops->kind;
    if (kind == WIPC_KIND_PIPE_SERVER || kind == WIPC_KIND_REGION || kind == WIPC_KIND_EVENT)
        return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "%s: handle 0x%016llx is a %s, which carries no messages", fn,
                           (unsigned long long)h,
                           kind == WIPC_KIND_REGION  ? "region"
                           : kind == WIPC_KIND_EVENT ? "named event (use wipc_event_set / wipc_event_wait)"
                                                     : "pipe server (use wipc_pipe_accept)");
    return WIPC_OK;
}

/* Looks up a handle that carries messages (not a server or region). */
wipc_status wipc__get_message_handle(const char *fn, wipc_handle h, wipc__obj **out)
{
    wipc_status st = wipc__handle_get(h, 0, out);
    if (st == WIPC_OK && (st = carries_messages(fn, h, *out)) != WIPC_OK) {
        wipc__obj_unref(*out);
        *out = NULL;
    }
    return st;
}

/* The same for the per-message calls, with a pin as the call's reference: release it with
 * wipc__handle_unpin (handles.c). */
static wipc_status pin_message_handle(const char *fn, wipc_handle h, wipc__obj **out)
{
    wipc_status st = wipc__handle_pin(h, out);
    if (st == WIPC_OK && (st = carries_messages(fn, h, *out)) != WIPC_OK) {
        wipc__handle_unpin(*out);
        *out = NULL;
    }
    return st;
}

static void close_object(wipc__obj *o)
{
    atomic_store(&o->closed, true);
    if (o->ops->close)
        o->ops->close(o);
    wipc__inbox_close(o);
    wipc__dispatch_quiesce(o);
    wipc__op_close_obj(o); /* pending operations complete with WIPC_E_CLOSED, their callbacks run */
    wipc__obj_unref(o); /* the table's reference */
}

WIPC_API wipc_status WIPC_CALL wipc_close(wipc_handle h)
{
    wipc__obj *o = wipc__handle_remove(h);
    if (!o)
        return wipc__error(WIPC_E_BAD_HANDLE, 0, "wipc_close: handle 0x%016llx is unknown, closed or stale",
                           (unsigned long long)h);
    close_object(o);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_shutdown(void)
{
    if (wipc__in_callback(NULL))
        return wipc__error(WIPC_E_INVALID_STATE, 0,
                           "wipc_shutdown: called from inside a callback; it would wait for itself");
    wipc__obj **all = NULL;
    size_t n = wipc__handle_remove_all(&all);
    /* Mark all closed first: a thread blocked on one end of an in-process pair must see its own
     * close (WIPC_E_CLOSED), not the other end's (WIPC_E_DISCONNECTED). */
    for (size_t i = 0; i < n; i++)
        atomic_store(&all[i]->closed, true);
    for (size_t i = 0; i < n; i++)
        close_object(all[i]);
    free(all);
    wipc__pipe_shutdown_all(); /* the handshake watch: its thread and the connections it still holds */
    wipc__op_shutdown(); /* operations without a handle; the timer thread stops */
    wipc__pool_shutdown();
    wipc__dispatch_shutdown();
    wipc__plat_shutdown();
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_get_info(wipc_handle h, wipc_info *out)
{
    if (!out)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_get_info: out is NULL");
    if (out->struct_size < 8)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_get_info: out->struct_size is %u; set it to sizeof(wipc_info)",
                           (unsigned)out->struct_size);
    wipc__obj *o;
    wipc_status st = wipc__handle_get(h, 0, &o);
    if (st != WIPC_OK)
        return st;
    wipc__fill_info(o, out);
    wipc__obj_unref(o);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_send(wipc_handle h, uint32_t type, const void *data, size_t size,
                                         int32_t timeout_ms)
{
    wipc__obj *o;
    wipc_status st;
    if ((st = wipc__check_data("wipc_send", data, size)) != WIPC_OK ||
        (st = wipc__check_timeout("wipc_send", timeout_ms)) != WIPC_OK)
        return st;
    if ((st = pin_message_handle("wipc_send", h, &o)) != WIPC_OK)
        return st;
    if (!o->ops->send)
        st = wipc__error(WIPC_E_NOT_SUPPORTED, 0, "wipc_send: %s %s only receives; send to it with wipc_msg_send",
                         "msg endpoint", o->name);
    else
        st = o->ops->send(o, WIPC__KIND_DATA, 0, type, data, size, timeout_ms);
    wipc__handle_unpin(o);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_recv_message(wipc_handle h, void *buf, size_t cap, wipc_message *out,
                                                 int32_t timeout_ms)
{
    wipc__obj *o;
    wipc_status st;
    if (!out)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_recv_message: out is NULL");
    if (out->struct_size < sizeof(wipc_message))
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_recv_message: out->struct_size is %u; set it to sizeof(wipc_message) (%u)",
                           (unsigned)out->struct_size, (unsigned)sizeof(wipc_message));
    if (!buf && cap)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_recv_message: buf is NULL but cap is %zu", cap);
    if ((st = wipc__check_timeout("wipc_recv_message", timeout_ms)) != WIPC_OK)
        return st;
    if ((st = pin_message_handle("wipc_recv_message", h, &o)) != WIPC_OK)
        return st;
    st = o->ops->recv ? o->ops->recv(o, buf, cap, out, timeout_ms) : wipc__inbox_recv(o, buf, cap, out, timeout_ms);
    wipc__handle_unpin(o);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_recv(wipc_handle h, void *buf, size_t cap, size_t *out_size, uint32_t *out_type,
                                         int32_t timeout_ms)
{
    wipc_message m;
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    wipc_status st = wipc_recv_message(h, buf, cap, &m, timeout_ms);
    if (st == WIPC_E_BUFFER_TOO_SMALL && !out_size)
        return wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0,
                           "wipc_recv: the message is %zu bytes, the buffer %zu (pass out_size to learn the size)",
                           m.size, cap);
    if (out_size && (st == WIPC_OK || st == WIPC_E_BUFFER_TOO_SMALL))
        *out_size = m.size;
    if (out_type && st == WIPC_OK)
        *out_type = m.type;
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_request(wipc_handle h, uint32_t type, const void *req, size_t req_size, void *resp,
                                            size_t resp_cap, size_t *out_resp_size, int32_t timeout_ms)
{
    wipc__obj *o;
    wipc_status st;
    if ((st = wipc__check_data("wipc_request", req, req_size)) != WIPC_OK ||
        (st = wipc__check_timeout("wipc_request", timeout_ms)) != WIPC_OK)
        return st;
    if (!resp && resp_cap)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_request: resp is NULL but resp_cap is %zu", resp_cap);
    if ((st = pin_message_handle("wipc_request", h, &o)) != WIPC_OK)
        return st;
    if (!o->ops->send || (o->flags & WIPC_PIPE_RAW && o->ops->kind == WIPC_KIND_PIPE_CONN))
        st = wipc__error(
            WIPC_E_NOT_SUPPORTED, 0,
            "wipc_request on %s: this handle cannot carry requests (msg endpoint, or a WIPC_PIPE_RAW pipe)", o->name);
    else
        st = o->ops->request ? o->ops->request(o, type, req, req_size, resp, resp_cap, out_resp_size, timeout_ms)
                             : wipc__inbox_request(o, type, req, req_size, resp, resp_cap, out_resp_size, timeout_ms);
    wipc__handle_unpin(o);
    return st;
}

/* How long a reply may wait for room. A pipe reply from a callback never waits (the connection's write
 * queue takes it). A shm reply from a callback waits at most WIPC_REPLY_DEADLINE_MS for room in the
 * ring (then WIPC_E_TIMEOUT): a peer that stops reading holds a callback worker that long, not forever.
 * Elsewhere (a thread of the caller's) as long as it takes, as in 1.0. */
int32_t wipc__reply_timeout(const wipc__obj *o)
{
    return o->ops->kind == WIPC_KIND_SHM_CHANNEL && wipc__in_callback(NULL) ? WIPC_REPLY_DEADLINE_MS : WIPC_INFINITE;
}

WIPC_API wipc_status WIPC_CALL wipc_reply(wipc_handle h, uint64_t request_id, uint32_t type, const void *data,
                                          size_t size)
{
    wipc__obj *o;
    wipc_status st;
    if ((st = wipc__check_data("wipc_reply", data, size)) != WIPC_OK)
        return st;
    if ((st = pin_message_handle("wipc_reply", h, &o)) != WIPC_OK)
        return st;
    if (request_id == 0) {
        wipc__mutex_lock(&o->lock);
        request_id = o->last_request_id;
        o->last_request_id = 0;
        wipc__mutex_unlock(&o->lock);
    }
    if (!o->ops->send)
        st = wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                         "wipc_reply on %s: msg endpoints answer through the on_message return value", o->name);
    else if (request_id == 0)
        st = wipc__error(WIPC_E_INVALID_ARG, 0,
                         "wipc_reply on %s: request_id 0 and no unanswered request from wipc_recv", o->name);
    else
        st = o->ops->send(o, WIPC__KIND_REPLY, request_id, type, data, size, wipc__reply_timeout(o));
    wipc__handle_unpin(o);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_set_callbacks(wipc_handle h, wipc_message_cb on_message, wipc_event_cb on_event,
                                                  void *user_data)
{
    if (!on_message && !on_event)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_set_callbacks: on_message and on_event are both NULL");
    wipc__obj *o;
    wipc_status st = wipc__handle_get(h, 0, &o);
    if (st != WIPC_OK)
        return st;
    if (o->ops->kind == WIPC_KIND_REGION || o->ops->kind == WIPC_KIND_EVENT) {
        wipc__obj_unref(o);
        return wipc__error(WIPC_E_NOT_SUPPORTED, 0,
                           "wipc_set_callbacks: regions and named events have no messages or events");
    }
    if ((st = wipc__inbox_set_callbacks(o, on_message, on_event, user_data)) != WIPC_OK) {
        wipc__obj_unref(o);
        return st;
    }
    if (o->ops->callbacks_set)
        o->ops->callbacks_set(o);
    wipc__obj_unref(o);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_flush(wipc_handle conn, int32_t timeout_ms)
{
    wipc__obj *o;
    wipc_status st;
    if ((st = wipc__check_timeout("wipc_flush", timeout_ms)) != WIPC_OK)
        return st;
    if ((st = wipc__get_message_handle("wipc_flush", conn, &o)) != WIPC_OK)
        return st;
    if (!o->ops->send)
        st = wipc__error(WIPC_E_NOT_SUPPORTED, 0, "wipc_flush: msg endpoint %s only receives; it queues nothing",
                         o->name);
    else if (o->ops->flush)
        st = o->ops->flush(o, timeout_ms);
    wipc__obj_unref(o);
    return st;
}
