/*
 * stats.c - the owner's side of published statistics (layout and rules in stats.h): creating the
 * stats section of an endpoint, giving connections their slots, folding counters when objects go.
 * The message path only touches the counters (core.h: wipc__count_*); everything here runs when an
 * endpoint or connection starts or ends.
 */
#include <stdio.h>
#include <stdlib.h>

#include "common/core/core.h"
#include "common/msg/msg_wire.h"

static const char transport_letter[] = { '?', 'p', 's', 'm' };

/* "<t>-<name>": the stats section's name for an endpoint. */
static void stats_name(char *buf, size_t cap, uint32_t transport, const char *name)
{
    snprintf(buf, cap, "%c-%s", transport_letter[transport <= 3 ? transport : 0], name);
}

/* An existing section of that name we may replace: its owner died or closed it. */
static bool stale_section(const char *sname)
{
    wipc__section *old = NULL;
    if (wipc__plat_section_open(WIPC__SECTION_STATS, sname, 0, false, &old) != WIPC_OK)
        return false;
    bool stale = true;
    if (wipc__plat_section_size(old) >= sizeof(wipc__stats_header)) {
        wipc__stats_header *h = wipc__plat_section_base(old);
        uint32_t pid = h->owner_pid, key = h->owner_key; /* only used to decide, never as an index */
        stale = atomic_load(&h->closed) != 0 || !wipc__plat_proc_alive(pid, key);
    }
    if (stale)
        wipc__plat_section_unlink(old);
    wipc__plat_section_close(old);
    return stale;
}

void wipc__stats_publish(wipc__obj *o, uint32_t transport, const char *name)
{
    if (!wipc__msg_name_ok(name, strlen(name)))
        return; /* a raw pipe path: nothing to publish under */
    char sname[WIPC_NAME_MAX + 8];
    stats_name(sname, sizeof sname, transport, name);
    wipc__section_cfg cfg = { WIPC__SECTION_STATS, sname, 0, WIPC__STATS_SIZE };
    wipc__section *sec = NULL;
    wipc_status st = wipc__plat_section_create(&cfg, &sec);
    if (st == WIPC_E_ADDR_IN_USE && stale_section(sname))
        st = wipc__plat_section_create(&cfg, &sec);
    wipc__stats *s = st == WIPC_OK ? calloc(1, sizeof *s) : NULL;
    if (!s) {
        wipc__log(WIPC_LOG_INFO, "%s: no statistics published (%s)", name,
                  st == WIPC_OK ? "out of memory" : wipc_last_error_message());
        if (sec) {
            wipc__plat_section_unlink(sec);
            wipc__plat_section_close(sec);
        }
        return; /* (successful calls may leave the last error set: wipc.h) */
    }
    atomic_init(&s->refs, 1);
    s->sec = sec;
    s->hdr = wipc__plat_section_base(sec);
    s->slots = (wipc__stats_slot *)((unsigned char *)s->hdr + WIPC__STATS_HEADER);
    wipc__stats_header *h = s->hdr;
    h->version = WIPC__STATS_VERSION;
    h->header_size = WIPC__STATS_HEADER;
    h->slot_count = WIPC__STATS_SLOTS;
    h->transport = transport;
    h->kind = o->ops->kind;
    wipc__plat_proc_self(&h->owner_pid, &h->owner_key);
    h->created_ms = wipc__unix_ms();
    snprintf(h->name, sizeof h->name, "%s", name);
    atomic_store_explicit(&h->last_ms, h->created_ms, memory_order_relaxed);
    atomic_store_explicit(&s->slots[0].in_use, 1, memory_order_relaxed);
    atomic_store_explicit(&h->magic, WIPC__STATS_MAGIC, memory_order_release); /* last: readers see it whole */
    o->stats = s;
    o->stats_slot = &s->slots[0];
    o->ctr = &s->slots[0].c;
}

void wipc__stats_attach(wipc__obj *owner, wipc__obj *o)
{
    wipc__stats *s = owner->stats;
    if (!s || o->stats)
        return;
    atomic_fetch_add(&s->refs, 1);
    o->stats = s;
    atomic_fetch_add_explicit(&s->hdr->connections, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->hdr->connections_total, 1, memory_order_relaxed);
    for (uint32_t i = 1; i < WIPC__STATS_SLOTS; i++) {
        uint32_t free_slot = 0;
        if (atomic_compare_exchange_strong(&s->slots[i].in_use, &free_slot, 1)) {
            wipc__stats_slot *slot = &s->slots[i];
            atomic_store(&slot->c.msgs_sent, atomic_load(&o->ctr_local.msgs_sent));
            atomic_store(&slot->c.msgs_recv, atomic_load(&o->ctr_local.msgs_recv));
            atomic_store(&slot->c.bytes_sent, atomic_load(&o->ctr_local.bytes_sent));
            atomic_store(&slot->c.bytes_recv, atomic_load(&o->ctr_local.bytes_recv));
            atomic_store(&slot->last_ms, wipc__unix_ms());
            o->stats_slot = slot;
            o->ctr = &slot->c;
            return;
        }
    }
}

static void fold(wipc__counters *into, wipc__counters *from)
{
    atomic_fetch_add_explicit(&into->msgs_sent, atomic_exchange(&from->msgs_sent, 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&into->msgs_recv, atomic_exchange(&from->msgs_recv, 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&into->bytes_sent, atomic_exchange(&from->bytes_sent, 0), memory_order_relaxed);
    atomic_fetch_add_explicit(&into->bytes_recv, atomic_exchange(&from->bytes_recv, 0), memory_order_relaxed);
}

void wipc__stats_drop(wipc__obj *o)
{
    wipc__stats *s = o->stats;
    if (!s)
        return;
    wipc__stats_header *h = s->hdr;
    bool endpoint = o->stats_slot == &s->slots[0];
    if (endpoint) {
        atomic_store(&h->closed, 1);
        wipc__plat_section_unlink(s->sec);
    } else if (!atomic_exchange(&o->stats_ended, true)) {
        atomic_fetch_sub_explicit(&h->connections, 1, memory_order_relaxed);
    }
    if (o->q_count)
        atomic_fetch_sub_explicit(&h->queue_depth, (uint32_t)o->q_count, memory_order_relaxed);
    fold(&h->retired, o->ctr);
    if (o->stats_slot) {
        int64_t last = atomic_load(&o->stats_slot->last_ms);
        if (last > atomic_load(&h->last_ms))
            atomic_store(&h->last_ms, last);
        atomic_store(&o->stats_slot->in_use, 0);
    }
    o->ctr = &o->ctr_local;
    o->stats = NULL;
    o->stats_slot = NULL;
    if (atomic_fetch_sub(&s->refs, 1) == 1) {
        wipc__plat_section_close(s->sec);
        free(s);
    }
}

void wipc__stats_failed(wipc__obj *o, wipc_status why)
{
    wipc__stats *s = o->stats;
    if (!s)
        return;
    if (why != WIPC_E_DISCONNECTED && why != WIPC_E_CLOSED)
        atomic_fetch_add_explicit(&s->hdr->errors, 1, memory_order_relaxed);
    if (o->stats_slot != &s->slots[0] && !atomic_exchange(&o->stats_ended, true)) /* a connection ended */
        atomic_fetch_sub_explicit(&s->hdr->connections, 1, memory_order_relaxed);
}

void wipc__stats_peer(wipc__obj *o, int attached)
{
    if (!o->stats)
        return;
    atomic_store_explicit(&o->stats->hdr->connections, attached ? 1u : 0u, memory_order_relaxed);
    if (attached)
        atomic_fetch_add_explicit(&o->stats->hdr->connections_total, 1, memory_order_relaxed);
}

void wipc__stats_touch(wipc__stats_slot *s)
{
    int64_t now = wipc__unix_ms();
    if (atomic_load_explicit(&s->last_ms, memory_order_relaxed) != now)
        atomic_store_explicit(&s->last_ms, now, memory_order_relaxed);
}
