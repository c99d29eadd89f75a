/*
 * stats_read.c - wipc_stat (ABI 1.1): reads the stats section another process (or this one) publishes
 * (layout in stats.h). The section is untrusted: it is copied once into private memory, and only the
 * validated copy is used (wipc__stats_parse, also the fuzz target's entry point).
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/core/core.h"
#include "common/msg/msg_wire.h"
#include "platform_list.h"

static wipc_status bad(const char *name, const char *why)
{
    return wipc__error(WIPC_E_PROTOCOL, 0, "wipc_stat(%s): not a valid stats section: %s", name, why);
}

wipc_status wipc__stats_parse(const void *copy, size_t n, uint32_t transport, const char *name, wipc_stats *out,
                              uint32_t *owner_key)
{
    const wipc__stats_header *h = copy;
    if (n < WIPC__STATS_SIZE)
        return n < sizeof(uint32_t) || atomic_load_explicit(&h->magic, memory_order_relaxed) == 0
                   ? wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_stat(%s): the stats section is being created", name)
                   : bad(name, "too small");
    uint32_t magic = atomic_load_explicit(&h->magic, memory_order_relaxed);
    if (magic == 0)
        return wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_stat(%s): the stats section is being created", name);
    if (magic != WIPC__STATS_MAGIC || h->version != WIPC__STATS_VERSION)
        return bad(name, "magic or version");
    if (h->header_size != WIPC__STATS_HEADER || h->slot_count != WIPC__STATS_SLOTS)
        return bad(name, "sizes");
    if (h->transport != transport)
        return bad(name, "transport");
    static const uint32_t kinds[] = { 0, WIPC_KIND_PIPE_SERVER, WIPC_KIND_SHM_CHANNEL, WIPC_KIND_MSG_ENDPOINT };
    if (transport < 1 || transport > 3 || h->kind != kinds[transport])
        return bad(name, "kind");
    if (memchr(h->name, '\0', sizeof h->name) == NULL || strcmp(h->name, name) != 0)
        return bad(name, "name");
    if (atomic_load_explicit(&h->closed, memory_order_relaxed))
        return wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_stat(%s): the endpoint was closed", name);
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->transport = transport;
    out->kind = h->kind;
    out->owner_pid = h->owner_pid;
    out->created_unix_ms = h->created_ms;
    out->connections_total = atomic_load_explicit(&h->connections_total, memory_order_relaxed);
    out->errors = atomic_load_explicit(&h->errors, memory_order_relaxed);
    out->connections = atomic_load_explicit(&h->connections, memory_order_relaxed);
    out->queue_depth = atomic_load_explicit(&h->queue_depth, memory_order_relaxed);
    int64_t last = atomic_load_explicit(&h->last_ms, memory_order_relaxed);
    const wipc__counters *c = &h->retired;
    const wipc__stats_slot *slots = (const wipc__stats_slot *)((const unsigned char *)copy + WIPC__STATS_HEADER);
    for (uint32_t i = 0; i <= WIPC__STATS_SLOTS; i++) {
        if (i > 0) {
            uint32_t used = atomic_load_explicit(&slots[i - 1].in_use, memory_order_relaxed);
            if (used > 1)
                return bad(name, "slot flag");
            if (!used)
                continue;
            c = &slots[i - 1].c;
            int64_t l = atomic_load_explicit(&slots[i - 1].last_ms, memory_order_relaxed);
            last = l > last ? l : last;
        }
        out->messages_sent += atomic_load_explicit(&c->msgs_sent, memory_order_relaxed); /* wraps, never traps */
        out->messages_received += atomic_load_explicit(&c->msgs_recv, memory_order_relaxed);
        out->bytes_sent += atomic_load_explicit(&c->bytes_sent, memory_order_relaxed);
        out->bytes_received += atomic_load_explicit(&c->bytes_recv, memory_order_relaxed);
    }
    out->last_activity_unix_ms = last > out->created_unix_ms ? last : out->created_unix_ms;
    snprintf(out->name, sizeof out->name, "%s", h->name);
    *owner_key = h->owner_key;
    return WIPC_OK;
}

/* One transport: WIPC_OK with *out, WIPC_E_NOT_FOUND, or another error. `copy`: WIPC__STATS_SIZE bytes. */
static wipc_status stat_one(const char *name, uint32_t transport, void *copy, wipc_stats *out)
{
    static const char letter[] = { '?', 'p', 's', 'm' };
    char sname[WIPC_NAME_MAX + 8];
    snprintf(sname, sizeof sname, "%c-%s", letter[transport], name);
    wipc__section *sec = NULL;
    wipc_status st = wipc__plat_section_open(WIPC__SECTION_STATS, sname, 0, true, &sec);
    if (st != WIPC_OK)
        return st == WIPC_E_NOT_FOUND ? wipc__error(WIPC_E_NOT_FOUND, 0,
                                                    "wipc_stat(%s): no %s endpoint of that name publishes "
                                                    "statistics",
                                                    name,
                                                    transport == 1   ? "pipe"
                                                    : transport == 2 ? "shm"
                                                                     : "msg")
                                      : st;
    uint64_t size = wipc__plat_section_size(sec);
    size_t n = size < WIPC__STATS_SIZE ? (size_t)size : WIPC__STATS_SIZE;
    memcpy(copy, wipc__plat_section_base(sec), n); /* the one read of the shared memory */
    wipc__plat_section_close(sec);
    uint32_t key = 0;
    if ((st = wipc__stats_parse(copy, n, transport, name, out, &key)) != WIPC_OK)
        return st;
    if (!wipc__plat_proc_alive(out->owner_pid, key))
        return wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_stat(%s): its owner (pid %u) is gone", name,
                           (unsigned)out->owner_pid);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_stat(const char *name, uint32_t transport, wipc_stats *out)
{
    static const char fn[] = "wipc_stat";
    wipc_status st = wipc__check_out(out, "wipc_stat: out");
    if (st != WIPC_OK)
        return st;
    if (out->struct_size < 8)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: out->struct_size %u is below 8", fn, (unsigned)out->struct_size);
    size_t want = out->struct_size < sizeof(wipc_stats) ? out->struct_size : sizeof(wipc_stats);
    memset((unsigned char *)out + sizeof out->struct_size, 0, want - sizeof out->struct_size);
    if ((st = wipc__check_name(name, fn)) != WIPC_OK)
        return st;
    if (transport > WIPC_TRANSPORT_MSG)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): transport %u is not 0 or a WIPC_TRANSPORT_*", fn, name,
                           (unsigned)transport);
    void *copy = malloc(WIPC__STATS_SIZE);
    if (!copy)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "%s(%s): out of memory", fn, name);
    wipc_stats full;
    st = WIPC_E_NOT_FOUND;
    for (uint32_t t = transport ? transport : WIPC_TRANSPORT_PIPE; t <= (transport ? transport : WIPC_TRANSPORT_MSG);
         t++)
        if ((st = stat_one(name, t, copy, &full)) != WIPC_E_NOT_FOUND)
            break;
    free(copy);
    if (st != WIPC_OK)
        return st;
    full.struct_size = (uint32_t)want;
    memcpy(out, &full, want);
    return WIPC_OK;
}

int wipc__core_stats_owner(uint32_t transport, const char *name, uint32_t *pid, int64_t *created_ms)
{
    void *copy = malloc(WIPC__STATS_SIZE);
    wipc_stats s;
    int ok = copy && stat_one(name, transport, copy, &s) == WIPC_OK;
    free(copy);
    if (ok) {
        *pid = s.owner_pid;
        *created_ms = s.created_unix_ms;
    }
    return ok;
}
