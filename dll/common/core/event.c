/*
 * event.c - named events (wipc_event_*, ABI 1.1): the handle object and the argument checks; the
 * objects themselves are the backend's (dll/platform_event.h). An event handle lives in the
 * generation-checked handle table like every other handle, so a closed or stale one is
 * WIPC_E_BAD_HANDLE; wipc_event_close is wipc_close for event handles only, and wipc_close (and
 * wipc_shutdown) close events too. A wait holds a reference to the object, so closing an event while
 * another thread waits on it ends that wait with WIPC_E_CLOSED before the object is freed.
 */
#include <stdlib.h>
#include "common/core/core.h"
#include "common/core/object_name.h"
#include "platform_event.h"

typedef struct wipc__event_obj {
    wipc__obj obj;
    wipc__event *ev;
} wipc__event_obj;

static void event_close(wipc__obj *o)
{
    wipc__plat_event_cancel(((wipc__event_obj *)o)->ev);
}

static void event_destroy(wipc__obj *o)
{
    wipc__plat_event_free(((wipc__event_obj *)o)->ev);
}

static const wipc__ops event_ops = {
    .kind = WIPC_KIND_EVENT,
    .transport = WIPC_TRANSPORT_SHM,
    .close = event_close,
    .destroy = event_destroy,
};

/* Wraps an opened event in a handle (the event is freed on failure). */
static wipc_status event_publish(const char *name, uint32_t flags, wipc__event *ev, wipc_handle *out)
{
    wipc__event_obj *e = calloc(1, sizeof *e);
    if (!e) {
        wipc__plat_event_cancel(ev);
        wipc__plat_event_free(ev);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "event %s: out of memory", name);
    }
    wipc__obj_init(&e->obj, &event_ops, name, flags);
    e->ev = ev;
    wipc_status st = wipc__handle_add(&e->obj);
    if (st != WIPC_OK) {
        event_close(&e->obj);
        wipc__obj_unref(&e->obj);
        return st;
    }
    *out = e->obj.handle;
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_event_create(const char *name, uint32_t flags, const char *security_descriptor,
                                                 wipc_handle *out_event)
{
    const char *fn = "wipc_event_create";
    wipc_status st = wipc__check_out(out_event, "wipc_event_create: out_event");
    if (st != WIPC_OK)
        return st;
    *out_event = 0;
    if ((st = wipc__check_object_name(name, fn)) != WIPC_OK)
        return st;
    if (flags & ~(uint32_t)(WIPC_EVENT_FLAG_MANUAL_RESET | WIPC_EVENT_FLAG_INITIAL_SET))
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): unknown flags 0x%x", fn, name, (unsigned)flags);
#if !defined(_WIN32)
    if (security_descriptor)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s(%s): security_descriptor (SDDL) is Windows-only; must be NULL on POSIX", fn, name);
#endif
    wipc__event *ev = NULL;
    if ((st = wipc__plat_event_create(name, (flags & WIPC_EVENT_FLAG_MANUAL_RESET) != 0,
                                      (flags & WIPC_EVENT_FLAG_INITIAL_SET) != 0, security_descriptor, &ev)) != WIPC_OK)
        return st;
    return event_publish(name, flags & WIPC_EVENT_FLAG_MANUAL_RESET, ev, out_event);
}

WIPC_API wipc_status WIPC_CALL wipc_event_open(const char *name, uint32_t flags, wipc_handle *out_event)
{
    const char *fn = "wipc_event_open";
    wipc_status st = wipc__check_out(out_event, "wipc_event_open: out_event");
    if (st != WIPC_OK)
        return st;
    *out_event = 0;
    if ((st = wipc__check_object_name(name, fn)) != WIPC_OK)
        return st;
    if (flags != 0)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): flags 0x%x; none are defined, pass 0", fn, name,
                           (unsigned)flags);
    wipc__event *ev = NULL;
    bool manual = false;
    if ((st = wipc__plat_event_open(name, &ev, &manual)) != WIPC_OK)
        return st;
    return event_publish(name, manual ? WIPC_EVENT_FLAG_MANUAL_RESET : 0, ev, out_event);
}

/* Looks up an event handle (with a reference) for `fn`. */
static wipc_status get_event(const char *fn, wipc_handle h, wipc__event_obj **out)
{
    wipc__obj *o = NULL;
    wipc_status st = wipc__handle_get(h, WIPC_KIND_EVENT, &o); /* sets the last error */
    *out = (wipc__event_obj *)o;
    if (st != WIPC_OK)
        wipc__log(WIPC_LOG_DEBUG, "%s: %s", fn, wipc_last_error_message());
    return st;
}

/* wipc_event_set / wipc_event_reset: `op` on the event of `ev`. */
static wipc_status event_op(const char *fn, wipc_handle ev, wipc_status (*op)(wipc__event *))
{
    wipc__event_obj *e;
    wipc_status st = get_event(fn, ev, &e);
    if (st != WIPC_OK)
        return st;
    st = op(e->ev);
    wipc__obj_unref(&e->obj);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_event_set(wipc_handle ev)
{
    return event_op("wipc_event_set", ev, wipc__plat_event_set);
}

WIPC_API wipc_status WIPC_CALL wipc_event_reset(wipc_handle ev)
{
    return event_op("wipc_event_reset", ev, wipc__plat_event_reset);
}

WIPC_API wipc_status WIPC_CALL wipc_event_wait(wipc_handle ev, int32_t timeout_ms)
{
    wipc__event_obj *e;
    wipc_status st = wipc__check_timeout("wipc_event_wait", timeout_ms);
    if (st != WIPC_OK || (st = get_event("wipc_event_wait", ev, &e)) != WIPC_OK)
        return st;
    st = atomic_load(&e->obj.closed) ? WIPC_E_CLOSED : wipc__plat_event_wait(e->ev, timeout_ms);
    if (st == WIPC_E_CLOSED)
        wipc__error(st, 0, "wipc_event_wait(%s): the handle was closed while the call waited", e->obj.name);
    else if (st == WIPC_E_TIMEOUT)
        wipc__error(st, 0, "wipc_event_wait(%s): not set within %d ms", e->obj.name, (int)timeout_ms);
    wipc__obj_unref(&e->obj);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_event_close(wipc_handle ev)
{
    wipc__event_obj *e;
    wipc_status st = get_event("wipc_event_close", ev, &e);
    if (st != WIPC_OK)
        return st;
    wipc__obj_unref(&e->obj);
    return wipc_close(ev);
}
