/*
 * msg_stubs.c - entry points of the window-message transport until it lands. They validate their
 * arguments like the real ones will, then give WIPC_E_NOT_SUPPORTED with a message that says so.
 */
#include "core.h"

static wipc_status not_yet(const char *fn, const char *transport)
{
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "%s: the %s transport is not in this build of wipc %s yet", fn, transport, WIPC_VERSION_STRING);
}

WIPC_API void WIPC_CALL wipc_msg_options_init(wipc_msg_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->max_message_size = WIPC_DEFAULT_MSG_MAX_MESSAGE;
    o->queue_depth = 64;
}

static wipc_status named(const char *fn, const char *name, const void *out, const char *transport)
{
    wipc_status st = wipc__check_name(name, fn);
    if (st == WIPC_OK)
        st = wipc__check_out(out, fn);
    return st == WIPC_OK ? not_yet(fn, transport) : st;
}

WIPC_API wipc_status WIPC_CALL wipc_msg_listen(const char *name, const wipc_msg_options *o, wipc_handle *out)
{ (void)o; return named("wipc_msg_listen", name, out, "msg"); }
WIPC_API wipc_status WIPC_CALL wipc_msg_send(const char *name, uint32_t type, const void *data, size_t size, int32_t t, int32_t *reply)
{ (void)type; (void)t; (void)reply; if (!data && size) return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_msg_send: data is NULL but size is %zu", size); wipc_status st = wipc__check_name(name, "wipc_msg_send"); return st ? st : not_yet("wipc_msg_send", "msg"); }
WIPC_API wipc_status WIPC_CALL wipc_msg_broadcast(const char *prefix, uint32_t type, const void *data, size_t size, int32_t t, uint32_t *d)
{ (void)prefix; (void)type; (void)data; (void)size; (void)t; (void)d; return not_yet("wipc_msg_broadcast", "msg"); }
WIPC_API wipc_status WIPC_CALL wipc_msg_list(const char *prefix, char *buf, size_t cap, size_t *needed)
{ (void)prefix; (void)buf; (void)cap; (void)needed; return not_yet("wipc_msg_list", "msg"); }
