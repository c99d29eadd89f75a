/*
 * shm_region.c - regions: plain named shared mappings (or mapped files) that the caller manages
 * itself. A region handle carries no messages; wipc_region_view gives its mapped view, valid until
 * wipc_close. WIPC_REGION_READONLY maps with PROT_READ / FILE_MAP_READ, so writes fault.
 *
 * Name lifetime (POSIX): the creator's wipc_close removes the name; openers keep their mappings.
 * A region has no header, so the name of a creator that died stays until removed by hand
 * (/dev/shm/wipc-<uid>-r-<name>); Windows names vanish with the last handle.
 */
#include <stdlib.h>
#include "common/shm/shm.h"
#include "common/core/object_name.h"

#define REGION_MAX_SIZE (1ull << 40)

typedef struct wipc__region {
    wipc__obj obj;
    wipc__section *sec;
    bool creator;
} wipc__region;

static void region_close(wipc__obj *o)
{
    wipc__region *r = (wipc__region *)o;
    if (r->creator)
        wipc__plat_section_unlink(r->sec);
}

static void region_destroy(wipc__obj *o)
{
    wipc__plat_section_close(((wipc__region *)o)->sec);
}

static const wipc__ops region_ops = {
    .kind = WIPC_KIND_REGION,
    .transport = WIPC_TRANSPORT_SHM,
    .close = region_close,
    .destroy = region_destroy,
};

/* Wraps a mapped section in a region handle (the section is freed on failure). */
static wipc_status region_publish(const char *name, uint32_t flags, wipc__section *sec, bool creator, wipc_handle *out)
{
    wipc__region *r = calloc(1, sizeof *r);
    if (!r) {
        if (creator)
            wipc__plat_section_unlink(sec);
        wipc__plat_section_close(sec);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "region %s: out of memory", name);
    }
    wipc__obj_init(&r->obj, &region_ops, name, flags);
    r->sec = sec;
    r->creator = creator;
    wipc_status st = wipc__handle_add(&r->obj);
    if (st != WIPC_OK) {
        region_close(&r->obj);
        wipc__obj_unref(&r->obj);
        return st;
    }
    *out = r->obj.handle;
    return WIPC_OK;
}

static wipc_status check_flags(const char *fn, const char *what, uint32_t flags)
{
    if (flags & ~WIPC_REGION_READONLY)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): unknown flags 0x%x (only WIPC_REGION_READONLY)", fn, what,
                           (unsigned)flags);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_region_create(const char *name, uint64_t size, const wipc_shm_options *user,
                                                  wipc_handle *out_region)
{
    const char *fn = "wipc_region_create";
    wipc_status st = wipc__check_out(out_region, "wipc_region_create: out_region");
    if (st != WIPC_OK)
        return st;
    *out_region = 0;
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    if ((st = wipc__read_options(&o, sizeof o, user, "wipc_shm_options")) != WIPC_OK ||
        (st = wipc__check_object_name(name, fn)) != WIPC_OK)
        return st;
    if (o.flags & ~(uint32_t)WIPC_SHM_GLOBAL)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): unknown flags 0x%x", fn, name, (unsigned)o.flags);
    if (size == 0 || size > REGION_MAX_SIZE)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): size %llu is outside 1..2^40 bytes", fn, name,
                           (unsigned long long)size);
    wipc__section_cfg cfg = { WIPC__SECTION_REGION, name, o.flags, size };
    wipc__section *sec = NULL;
    if ((st = wipc__plat_section_create(&cfg, &sec)) != WIPC_OK)
        return st;
    return region_publish(name, o.flags, sec, true, out_region);
}

WIPC_API wipc_status WIPC_CALL wipc_region_open(const char *name, uint32_t flags, wipc_handle *out_region)
{
    const char *fn = "wipc_region_open";
    wipc_status st = wipc__check_out(out_region, "wipc_region_open: out_region");
    if (st != WIPC_OK)
        return st;
    *out_region = 0;
    if ((st = wipc__check_object_name(name, fn)) != WIPC_OK || (st = check_flags(fn, name, flags)) != WIPC_OK)
        return st;
    wipc__section *sec = NULL;
    if ((st = wipc__plat_section_open(WIPC__SECTION_REGION, name, 0, (flags & WIPC_REGION_READONLY) != 0, &sec)) !=
        WIPC_OK)
        return st;
    if (wipc__plat_section_size(sec) == 0) {
        wipc__plat_section_close(sec);
        return wipc__error(WIPC_E_NOT_FOUND, 0, "%s(%s): the region is still being created (size 0)", fn, name);
    }
    return region_publish(name, flags, sec, false, out_region);
}

WIPC_API wipc_status WIPC_CALL wipc_region_view(wipc_handle region, void **out_ptr, uint64_t *out_size)
{
    wipc_status st = wipc__check_out(out_ptr, "wipc_region_view: out_ptr");
    if (st != WIPC_OK || (st = wipc__check_out(out_size, "wipc_region_view: out_size")) != WIPC_OK)
        return st;
    wipc__obj *o;
    if ((st = wipc__handle_get(region, WIPC_KIND_REGION, &o)) != WIPC_OK)
        return st;
    wipc__region *r = (wipc__region *)o;
    *out_ptr = wipc__plat_section_base(r->sec);
    *out_size = wipc__plat_section_size(r->sec);
    wipc__obj_unref(o);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_region_map_file(const char *path, uint64_t size, uint32_t flags,
                                                    wipc_handle *out_region)
{
    const char *fn = "wipc_region_map_file";
    wipc_status st = wipc__check_out(out_region, "wipc_region_map_file: out_region");
    if (st != WIPC_OK)
        return st;
    *out_region = 0;
    if (!path || !path[0])
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: path is NULL or empty", fn);
    if ((st = check_flags(fn, path, flags)) != WIPC_OK)
        return st;
    if (size > REGION_MAX_SIZE)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): size %llu is above 2^40 bytes", fn, path,
                           (unsigned long long)size);
    wipc__section *sec = NULL;
    if ((st = wipc__plat_section_map_file(path, size, (flags & WIPC_REGION_READONLY) != 0, &sec)) != WIPC_OK)
        return st;
    return region_publish(path, flags, sec, false, out_region);
}
