/*
 * list.c - wipc_list (ABI 1.1): the live endpoints of this user on every transport. Arguments are
 * checked here; the backend enumerates (dll/platform_list.h); this file keeps what matches the prefix,
 * sorts by transport then name, drops duplicates and fills the caller's fixed-size records.
 */
#include <stdlib.h>
#include <string.h>

#include "common/core/core.h"
#include "platform_list.h"
#include "common/shm/shm_layout.h"

_Static_assert(WIPC__CHANNEL_HEADER_BYTES == sizeof(wipc__shm_header), "platform_list.h: the channel header size");

typedef struct found_list {
    const char *prefix;
    size_t prefix_len;
    wipc_endpoint *items;
    size_t count, cap;
    bool no_memory;
} found_list;

static int collect(const wipc__found *f, void *arg)
{
    found_list *l = arg;
    size_t len = strlen(f->name);
    if (len < l->prefix_len || strncmp(f->name, l->prefix, l->prefix_len) != 0 || len > WIPC_NAME_MAX)
        return 0;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        wipc_endpoint *grown = realloc(l->items, cap * sizeof *grown);
        if (!grown) {
            l->no_memory = true;
            return 1;
        }
        l->items = grown;
        l->cap = cap;
    }
    wipc_endpoint *e = &l->items[l->count++];
    memset(e, 0, sizeof *e);
    e->struct_size = sizeof *e;
    e->transport = f->transport;
    e->kind = f->kind;
    e->owner_pid = f->owner_pid;
    e->created_unix_ms = f->created_ms;
    memcpy(e->name, f->name, len + 1);
    return 0;
}

static int cmp_endpoints(const void *a, const void *b)
{
    const wipc_endpoint *x = a, *y = b;
    if (x->transport != y->transport)
        return x->transport < y->transport ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return strcmp(x->name, y->name);
}

int wipc__core_channel_owner(const void *header, size_t n, uint32_t *creator_pid)
{
    wipc__shm_header h; /* the caller's bytes are already a private copy; take ours of the fields */
    if (n < sizeof h)
        return 0;
    memcpy(&h, header, sizeof h);
    uint64_t ident = atomic_load_explicit(&h.creator.ident, memory_order_relaxed);
    uint32_t state = atomic_load_explicit(&h.state, memory_order_relaxed);
    if (h.magic != WIPC__SHM_MAGIC || h.layout_version != WIPC__SHM_LAYOUT_VERSION ||
        h.header_size != WIPC__SHM_HEADER_SIZE || h.capacity < WIPC__SHM_MIN_CAPACITY ||
        h.capacity > WIPC__SHM_MAX_CAPACITY || (h.capacity & (h.capacity - 1)) ||
        h.section_size != WIPC__SHM_HEADER_SIZE + 2 * h.capacity || state != WIPC__SHM_STATE_READY)
        return 0;
    uint32_t pid = (uint32_t)ident, key = (uint32_t)(ident >> 32);
    if (!wipc__plat_proc_alive(pid, key))
        return 0;
    *creator_pid = pid;
    return 1;
}

#define MIN_RECORD (offsetof(wipc_endpoint, name) + WIPC_NAME_MAX + 1)

WIPC_API wipc_status WIPC_CALL wipc_list(uint32_t transport_mask, const char *prefix, wipc_endpoint *out, size_t cap,
                                         size_t record_size, size_t *out_count)
{
    static const char fn[] = "wipc_list";
    wipc_status st = wipc__check_out(out_count, "wipc_list: out_count");
    if (st != WIPC_OK)
        return st;
    *out_count = 0;
    if (!prefix)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: prefix is NULL (use \"\" for every endpoint)", fn);
    if (prefix[0] && (st = wipc__check_name(prefix, fn)) != WIPC_OK)
        return st;
    if (transport_mask & ~(uint32_t)WIPC_LIST_ALL)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: unknown transport mask bits 0x%x", fn,
                           (unsigned)(transport_mask & ~(uint32_t)WIPC_LIST_ALL));
    if (!out && cap)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: out is NULL but cap is %zu", fn, cap);
    if (cap && record_size < MIN_RECORD)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: record_size %zu is below %zu bytes", fn, record_size,
                           (size_t)MIN_RECORD);
    found_list l = { .prefix = prefix, .prefix_len = strlen(prefix) };
    static const wipc__list_calls up = { wipc__core_channel_owner, wipc__core_stats_owner };
    st = wipc__plat_list(transport_mask ? transport_mask : WIPC_LIST_ALL, &up, collect, &l);
    if (st == WIPC_OK && l.no_memory)
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "%s(\"%s\"): out of memory for the list of endpoints", fn, prefix);
    if (st != WIPC_OK) {
        free(l.items);
        return st;
    }
    if (l.count > 1) {
        qsort(l.items, l.count, sizeof *l.items, cmp_endpoints);
        size_t w = 1;
        for (size_t i = 1; i < l.count; i++)
            if (cmp_endpoints(&l.items[i], &l.items[w - 1]) != 0)
                l.items[w++] = l.items[i];
        l.count = w;
    }
    size_t fill = record_size < sizeof(wipc_endpoint) ? record_size : sizeof(wipc_endpoint);
    for (size_t i = 0; i < l.count && i < cap; i++) {
        unsigned char *rec = (unsigned char *)out + i * record_size;
        l.items[i].struct_size = (uint32_t)fill;
        memcpy(rec, &l.items[i], fill);
        memset(rec + fill, 0, record_size - fill);
    }
    *out_count = l.count;
    if (l.count > cap)
        st = wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0, "%s(\"%s\"): %zu endpoints, the array has room for %zu", fn,
                         prefix, l.count, cap);
    free(l.items);
    return st;
}
