/*
 * shm_stubs.c - entry points of the shared-memory transport until it lands. They validate their arguments like the
 * real ones will, then give WIPC_E_NOT_SUPPORTED with a message that says so. The transport's issue
 * replaces this file.
 */
#include "core.h"

static wipc_status not_yet(const char *fn, const char *transport)
{
    return wipc__error(WIPC_E_NOT_SUPPORTED, 0, "%s: the %s transport is not in this build of wipc %s yet", fn, transport, WIPC_VERSION_STRING);
}

WIPC_API void WIPC_CALL wipc_shm_options_init(wipc_shm_options *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->max_message_size = WIPC_DEFAULT_MAX_MESSAGE;
    o->spin_us = 50;
    o->capacity = 1024 * 1024;
}

static wipc_status named(const char *fn, const char *name, const void *out, const char *transport)
{
    wipc_status st = wipc__check_name(name, fn);
    if (st == WIPC_OK)
        st = wipc__check_out(out, fn);
    return st == WIPC_OK ? not_yet(fn, transport) : st;
}

WIPC_API wipc_status WIPC_CALL wipc_shm_create(const char *name, const wipc_shm_options *o, wipc_handle *out)
{ (void)o; return named("wipc_shm_create", name, out, "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_shm_open(const char *name, const wipc_shm_options *o, int32_t t, wipc_handle *out)
{ (void)o; (void)t; return named("wipc_shm_open", name, out, "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_shm_reserve(wipc_handle ch, size_t size, void **out_ptr, int32_t t)
{ (void)ch; (void)size; (void)out_ptr; (void)t; return not_yet("wipc_shm_reserve", "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_shm_commit(wipc_handle ch, uint32_t type, size_t size)
{ (void)ch; (void)type; (void)size; return not_yet("wipc_shm_commit", "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_shm_peek(wipc_handle ch, const void **p, size_t *s, uint32_t *ty, int32_t t)
{ (void)ch; (void)p; (void)s; (void)ty; (void)t; return not_yet("wipc_shm_peek", "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_shm_release(wipc_handle ch)
{ (void)ch; return not_yet("wipc_shm_release", "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_region_create(const char *name, uint64_t size, const wipc_shm_options *o, wipc_handle *out)
{ (void)size; (void)o; return named("wipc_region_create", name, out, "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_region_open(const char *name, uint32_t flags, wipc_handle *out)
{ (void)flags; return named("wipc_region_open", name, out, "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_region_view(wipc_handle r, void **p, uint64_t *s)
{ (void)r; (void)p; (void)s; return not_yet("wipc_region_view", "shm"); }
WIPC_API wipc_status WIPC_CALL wipc_region_map_file(const char *path, uint64_t size, uint32_t flags, wipc_handle *out)
{ (void)size; (void)flags; if (!path) return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_region_map_file: path is NULL"); return not_yet("wipc_region_map_file", "shm"); (void)out; }
