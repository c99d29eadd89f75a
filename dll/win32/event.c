/*
 * event.c - the Win32 backend of named events (dll/platform_event.h): kernel events.
 *
 * Create: CreateEventW(security attributes, manual, initial, name) with the owner-only DACL
 * (security.c: SYSTEM and the current user) or the caller's SDDL; an event that exists already
 * (ERROR_ALREADY_EXISTS) is refused with WIPC_E_ADDR_IN_USE, never adopted, as for sections.
 * Open: OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE); a name that holds another type of object
 * (ERROR_INVALID_HANDLE: a section, a mutex) is WIPC_E_PROTOCOL.
 * Names: "Local\wipc-event-<name>" for a wipc name, a full "Local\..." / "Global\..." name as given.
 * Waits are WaitForMultipleObjects on { the event, a private manual-reset cancel event }: the event
 * comes first, so a set event is taken even when the handle is being closed; wipc_close sets the
 * cancel event and every wait returns WIPC_E_CLOSED.
 */
#include <stdio.h>
#include <stdlib.h>

#include "win32_internal.h"
#include "platform_event.h"

struct wipc__event {
    HANDLE ev;
    HANDLE cancel; /* unnamed, manual-reset: set by wipc__plat_event_cancel */
    char name[WIPC__FULL_NAME_MAX + 32];
};

static wipc_status event_fail(DWORD err, const char *call, const char *name)
{
    wipc_status st = wipc__os_error_status(err);
    if (err == ERROR_NOT_ENOUGH_MEMORY || err == ERROR_OUTOFMEMORY || err == ERROR_NO_SYSTEM_RESOURCES)
        st = WIPC_E_NO_MEMORY;
    else if (st == WIPC_E_INVALID_ARG || st == WIPC_E_BUSY || st == WIPC_E_DISCONNECTED || st == WIPC_E_TIMEOUT)
        st = WIPC_E_SYSTEM;
    return wipc__error(st, err, "%s(%s) failed", call, name);
}

/* A new wipc__event with its object name (UTF-16 into *w, to free) and its cancel event. */
static wipc_status event_new(const char *name, wipc__event **out, wchar_t **w)
{
    wipc__event *e = calloc(1, sizeof *e);
    if (!e)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for event %s", name);
    if (wipc__is_full_name(name))
        snprintf(e->name, sizeof e->name, "%s", name);
    else
        snprintf(e->name, sizeof e->name, "Local\\wipc-event-%s", name);
    *w = wipc__win_utf8_to_wide(e->name);
    e->cancel = *w ? CreateEventW(NULL, TRUE, FALSE, NULL) : NULL;
    if (!e->cancel) {
        DWORD err = GetLastError();
        bool bad_name = *w == NULL;
        free(*w);
        *w = NULL;
        free(e);
        if (bad_name)
            return wipc__error(err == ERROR_NOT_ENOUGH_MEMORY ? WIPC_E_NO_MEMORY : WIPC_E_INVALID_ARG, err,
                               "event name %s is not valid UTF-8", name);
        return event_fail(err, "CreateEventW(cancel event of)", name);
    }
    *out = e;
    return WIPC_OK;
}

wipc_status wipc__plat_event_create(const char *name, bool manual_reset, bool initial_set, const char *sddl,
                                    wipc__event **out)
{
    *out = NULL;
    wipc__win_sa sa;
    wipc_status st = wipc__win_sa_init(&sa, sddl, NULL);
    if (st != WIPC_OK)
        return st;
    wipc__event *e = NULL;
    wchar_t *w = NULL;
    if ((st = event_new(name, &e, &w)) != WIPC_OK) {
        wipc__win_sa_free(&sa);
        return st;
    }
    e->ev = CreateEventW(&sa.sa, manual_reset, initial_set, w);
    DWORD err = GetLastError();
    wipc__win_sa_free(&sa);
    free(w);
    if (!e->ev)
        st = event_fail(err, "CreateEventW", e->name);
    else if (err == ERROR_ALREADY_EXISTS)
        st = wipc__error(WIPC_E_ADDR_IN_USE, err,
                         "CreateEventW(%s): the event exists already (another process's object): "
                         "refused, not adopted",
                         e->name);
    if (st != WIPC_OK) {
        wipc__plat_event_free(e);
        return st;
    }
    *out = e;
    return WIPC_OK;
}

wipc_status wipc__plat_event_open(const char *name, wipc__event **out, bool *manual_reset)
{
    *out = NULL;
    *manual_reset = false;
    wipc__event *e = NULL;
    wchar_t *w = NULL;
    wipc_status st = event_new(name, &e, &w);
    if (st != WIPC_OK)
        return st;
    e->ev = OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE, FALSE, w);
    DWORD err = GetLastError();
    free(w);
    if (!e->ev) {
        if (err == ERROR_FILE_NOT_FOUND)
            st = wipc__error(WIPC_E_NOT_FOUND, err, "OpenEventW(%s) failed: no event of that name", e->name);
        else if (err == ERROR_INVALID_HANDLE)
            st = wipc__error(WIPC_E_PROTOCOL, err,
                             "OpenEventW(%s) failed: the name holds an object that is not an event", e->name);
        else
            st = event_fail(err, "OpenEventW", e->name);
        wipc__plat_event_free(e);
        return st;
    }
    *out = e;
    return WIPC_OK;
}

wipc_status wipc__plat_event_set(wipc__event *e)
{
    return SetEvent(e->ev) ? WIPC_OK : event_fail(GetLastError(), "SetEvent", e->name);
}

wipc_status wipc__plat_event_reset(wipc__event *e)
{
    return ResetEvent(e->ev) ? WIPC_OK : event_fail(GetLastError(), "ResetEvent", e->name);
}

wipc_status wipc__plat_event_wait(wipc__event *e, int32_t timeout_ms)
{
    HANDLE hs[2] = { e->ev, e->cancel };
    DWORD rc = WaitForMultipleObjects(2, hs, FALSE, timeout_ms < 0 ? INFINITE : (DWORD)timeout_ms);
    if (rc == WAIT_OBJECT_0)
        return WIPC_OK;
    if (rc == WAIT_OBJECT_0 + 1)
        return WIPC_E_CLOSED;
    if (rc == WAIT_TIMEOUT)
        return WIPC_E_TIMEOUT;
    return event_fail(GetLastError(), "WaitForMultipleObjects", e->name);
}

void wipc__plat_event_cancel(wipc__event *e)
{
    if (e && e->cancel)
        SetEvent(e->cancel);
}

void wipc__plat_event_free(wipc__event *e)
{
    if (!e)
        return;
    if (e->ev)
        CloseHandle(e->ev);
    if (e->cancel)
        CloseHandle(e->cancel);
    free(e);
}
