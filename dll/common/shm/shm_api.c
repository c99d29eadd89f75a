/*
 * shm_api.c - the wipc_shm_* entry points: options, creating a channel's section (reclaiming the
 * stale section of a dead creator), opening it (waiting for the creator, validating the header,
 * claiming the opener slot) and the zero-copy calls.
 *
 * Name lifetime: POSIX shm names outlive processes, so the creator removes the name when it closes
 * (an opener keeps its mapping and reads what is left); an opener that closes after the creator
 * died removes it instead; if both died, the next wipc_shm_create of the name finds the section's
 * creator and opener dead and reclaims it. Windows names vanish with the last handle.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/shm/shm.h"
#include "common/core/object_name.h"

#define NOT_READY 1 /* internal: the section exists but its creator has not finished it */

static void chan_close(wipc__obj *o);
static void chan_destroy(wipc__obj *o);
static void chan_info(wipc__obj *o, wipc_info *out);
static void chan_callbacks_set(wipc__obj *o);

static void defaults(wipc_shm_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->max_message_size = WIPC_DEFAULT_MAX_MESSAGE;
    o->spin_us = 50;
    o->capacity = 1024 * 1024;
}

/* The 1.0 entry point: the 1.0 layout only (a 1.0 caller's struct is that small). In parentheses: the
 * header's macro of the same name stands for wipc_shm_options_init_size. */
WIPC_API void WIPC_CALL(wipc_shm_options_init)(wipc_shm_options *o)
{
    wipc_shm_options_init_size(o, WIPC__SHM_OPTIONS_1_0);
}

WIPC_API void WIPC_CALL wipc_shm_options_init_size(wipc_shm_options *o, uint32_t struct_size)
{
    wipc_shm_options d;
    defaults(&d);
    wipc__options_init_size(o, &d, sizeof d, struct_size);
}

static bool is_pow2(uint64_t v)
{
    return v && (v & (v - 1)) == 0;
}

static wipc_status read_options(const char *fn, const char *name, const wipc_shm_options *user, wipc_shm_options *o,
                                bool check_capacity)
{
    wipc_shm_options_init(o);
    wipc_status st = wipc__read_options(o, sizeof *o, user, "wipc_shm_options");
    if (st != WIPC_OK || (st = wipc__check_object_name(name, fn)) != WIPC_OK)
        return st;
    if (o->flags & ~(uint32_t)(WIPC_SHM_GLOBAL | WIPC_SHM_NO_STATS))
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): unknown flags 0x%x", fn, name, (unsigned)o->flags);
    if (o->max_message_size == 0 || o->max_message_size > WIPC_MAX_MESSAGE_LIMIT)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): max_message_size %u is outside 1..%u", fn, name,
                           (unsigned)o->max_message_size, (unsigned)WIPC_MAX_MESSAGE_LIMIT);
    if (o->spin_us > 1000000)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): spin_us %u is above one second", fn, name,
                           (unsigned)o->spin_us);
    if (check_capacity &&
        (!is_pow2(o->capacity) || o->capacity < WIPC__SHM_MIN_CAPACITY || o->capacity > WIPC__SHM_MAX_CAPACITY))
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): capacity %llu is not a power of two from %u to %llu bytes",
                           fn, name, (unsigned long long)o->capacity, (unsigned)WIPC__SHM_MIN_CAPACITY,
                           (unsigned long long)WIPC__SHM_MAX_CAPACITY);
    return WIPC_OK;
}

static uint64_t my_ident(void)
{
    uint32_t pid, key;
    wipc__plat_proc_self(&pid, &key);
    return wipc__shm_ident(pid, key);
}

static bool ident_alive(uint64_t ident)
{
    return ident && wipc__plat_proc_alive((uint32_t)ident, (uint32_t)(ident >> 32));
}

static wipc__shm_chan *chan_new(const char *name, const wipc_shm_options *o)
{
    wipc__shm_chan *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    wipc__obj_init(&c->obj, &wipc__shm_chan_ops, name, o->flags);
    wipc__shm_async_init(c);
    wipc__mutex_init(&c->tx_lock);
    wipc__cond_init(&c->tx_cond);
    c->spin_us = o->spin_us;
    c->my_ident = my_ident();
    return c;
}

/* Gives the channel its section and ring views. The section is the channel's from now on. `cap` is
 * the ring capacity already validated (or chosen, by the creator): never read again from the
 * section, where a peer may change it after the check (docs/RELIABILITY.md, Hardening, attack 2: a capacity flipped between the
 * check and a second read made the opener's ring views run past the mapping). */
static wipc_status chan_bind(wipc__shm_chan *c, wipc__section *sec, bool creator, uint64_t cap,
                             uint32_t max_message_size, const char *fn)
{
    c->sec = sec;
    c->hdr = wipc__plat_section_base(sec);
    c->creator = creator;
    c->tx_index = creator ? WIPC__SHM_RING_C2O : WIPC__SHM_RING_O2C;
    c->rx_index = creator ? WIPC__SHM_RING_O2C : WIPC__SHM_RING_C2O;
    /* Not capped by the ring: larger messages are streamed through it in pieces
     * (shm_layout.h, "Streaming"); this side says so with WIPC__SHM_SIDE_STREAM. */
    c->obj.max_message_size = max_message_size;
    wipc__plat_section_prefault(sec); /* no page fault per ring page on the first lap */
    uint8_t *base = (uint8_t *)c->hdr + WIPC__SHM_HEADER_SIZE;
    if (wipc__ring_attach(&c->tx, &c->hdr->ring[c->tx_index], base + cap * c->tx_index, cap, true, 0) !=
            WIPC__RING_OK ||
        wipc__ring_attach(&c->rx, &c->hdr->ring[c->rx_index], base + cap * c->rx_index, cap, false,
                          c->obj.max_message_size) != WIPC__RING_OK)
        return wipc__error(WIPC_E_PROTOCOL, 0, "%s(%s): the ring indices in the section are corrupt", fn, c->obj.name);
    /* the asymmetric fence (shm_layout.h, "Concurrency"): publications towards a peer side with
     * WIPC__SHM_SIDE_ASYM skip their full fence when this process is registered too */
    _Atomic uint32_t *peer_flags = creator ? &c->hdr->opener.flags : &c->hdr->creator.flags;
    c->tx.asym = c->rx.asym = wipc__plat_shm_asym_init();
    c->tx.peer_flags = c->rx.peer_flags = peer_flags;
    return WIPC_OK;
}

/* What this side advertises in its wipc__shm_side.flags. */
static uint32_t side_flags(void)
{
    return WIPC__SHM_SIDE_ERRORS | WIPC__SHM_SIDE_STREAM | (wipc__plat_shm_asym_init() ? WIPC__SHM_SIDE_ASYM : 0u);
}

static wipc_status chan_publish(wipc__shm_chan *c, wipc_handle *out)
{
    wipc_status st = wipc__handle_add(&c->obj);
    if (st != WIPC_OK)
        return st;
    *out = c->obj.handle;
    return WIPC_OK;
}

/* Closes a channel that never got a handle (the section detaches as in wipc_close). */
static void chan_abandon(wipc__shm_chan *c)
{
    atomic_store(&c->obj.closed, true);
    if (c->sec)
        c->obj.ops->close(&c->obj);
    wipc__obj_unref(&c->obj);
}

/* ---- create ---------------------------------------------------------------------------------------- */

/* The name is taken: if it is a wipc channel whose creator and opener are both dead, remove it. */
static bool reclaim_stale(const char *name, uint32_t flags)
{
    wipc__section *old = NULL;
    if (wipc__plat_section_open(WIPC__SECTION_CHANNEL, name, flags, false, &old) != WIPC_OK)
        return false;
    bool stale = false;
    if (wipc__plat_section_size(old) >= WIPC__SHM_HEADER_SIZE) {
        wipc__shm_header *h = wipc__plat_section_base(old);
        uint32_t state = atomic_load(&h->state);
        uint64_t creator = atomic_load(&h->creator.ident), opener = atomic_load(&h->opener.ident);
        stale = wipc__shm_once32(&h->magic) == WIPC__SHM_MAGIC && state != WIPC__SHM_STATE_CREATING &&
                !ident_alive(creator) && !ident_alive(opener);
    }
    if (stale) {
        wipc__log(WIPC_LOG_INFO, "shm %s: reclaiming the section left by a dead creator", name);
        wipc__plat_section_unlink(old);
    }
    wipc__plat_section_close(old);
    return stale;
}

static void header_init(wipc__shm_header *h, uint64_t capacity, uint32_t max_message_size, uint64_t ident)
{
    h->magic = WIPC__SHM_MAGIC;
    h->layout_version = WIPC__SHM_LAYOUT_VERSION;
    h->header_size = WIPC__SHM_HEADER_SIZE;
    h->record_header = WIPC__SHM_RECORD_HEADER;
    h->capacity = capacity;
    h->section_size = WIPC__SHM_HEADER_SIZE + 2 * capacity;
    atomic_store(&h->creator.max_message_size, max_message_size);
    atomic_store(&h->creator.flags, side_flags());
    atomic_store(&h->creator.ident, ident);
    atomic_store_explicit(&h->state, WIPC__SHM_STATE_READY, memory_order_release);
}

WIPC_API wipc_status WIPC_CALL wipc_shm_create(const char *name, const wipc_shm_options *user, wipc_handle *out_channel)
{
    const char *fn = "wipc_shm_create";
    wipc_shm_options o;
    wipc_status st = wipc__check_out(out_channel, "wipc_shm_create: out_channel");
    if (st != WIPC_OK)
        return st;
    *out_channel = 0;
    if ((st = read_options(fn, name, user, &o, true)) != WIPC_OK)
        return st;
    wipc__section_cfg cfg = { WIPC__SECTION_CHANNEL, name, o.flags, WIPC__SHM_HEADER_SIZE + 2 * o.capacity };
    wipc__section *sec = NULL;
    st = wipc__plat_section_create(&cfg, &sec);
    if (st == WIPC_E_ADDR_IN_USE && reclaim_stale(name, o.flags))
        st = wipc__plat_section_create(&cfg, &sec);
    if (st != WIPC_OK)
        return st;
    wipc__shm_chan *c = chan_new(name, &o);
    if (!c) {
        wipc__plat_section_unlink(sec);
        wipc__plat_section_close(sec);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "%s(%s): out of memory", fn, name);
    }
    wipc__shm_header *h = wipc__plat_section_base(sec);
    header_init(h, o.capacity, o.max_message_size, c->my_ident);
    if ((st = chan_bind(c, sec, true, o.capacity, o.max_message_size, fn)) != WIPC_OK) {
        chan_abandon(c);
        return st;
    }
    c->tx.pid = (uint32_t)c->my_ident; /* the creator's records carry its pid and session 0 */
    if (!(o.flags & WIPC_SHM_NO_STATS))
        wipc__stats_publish(&c->obj, WIPC_TRANSPORT_SHM, name); /* the channel has a unique name now */
    if ((st = chan_publish(c, out_channel)) != WIPC_OK) {
        chan_abandon(c);
        return st;
    }
    wipc__log(WIPC_LOG_INFO, "shm %s: created (capacity %llu per ring)", name, (unsigned long long)o.capacity);
    return WIPC_OK;
}

/* ---- open ------------------------------------------------------------------------------------------ */

static wipc_status bad_header(const char *name, const char *what, unsigned long long got, unsigned long long want)
{
    return wipc__error(WIPC_E_PROTOCOL, 0, "wipc_shm_open(%s): %s is 0x%llx, expected 0x%llx", name, what, got, want);
}

/* Checks a mapped section's header (read once, field by field) and gives the validated ring
 * capacity in *out_cap: the only copy the channel uses. NOT_READY: being created. */
static wipc_status check_header(const char *name, wipc__section *sec, uint64_t *out_cap)
{
    uint64_t size = wipc__plat_section_size(sec);
    if (size == 0)
        return NOT_READY;
    if (size < WIPC__SHM_HEADER_SIZE)
        return wipc__error(WIPC_E_PROTOCOL, 0,
                           "wipc_shm_open(%s): the section is %llu bytes, smaller than a channel header", name,
                           (unsigned long long)size);
    wipc__shm_header *h = wipc__plat_section_base(sec);
    uint32_t state = atomic_load_explicit(&h->state, memory_order_acquire);
    uint32_t magic = wipc__shm_once32(&h->magic), version = wipc__shm_once32(&h->layout_version);
    if (magic == 0 && state == WIPC__SHM_STATE_CREATING)
        return NOT_READY;
    if (magic != WIPC__SHM_MAGIC)
        return bad_header(name, "the section's magic (not a wipc shm channel)", magic, WIPC__SHM_MAGIC);
    if (version != WIPC__SHM_LAYOUT_VERSION)
        return wipc__error(WIPC_E_PROTOCOL, 0,
                           "wipc_shm_open(%s): the section has layout version %u, this library speaks %u", name,
                           (unsigned)version, (unsigned)WIPC__SHM_LAYOUT_VERSION);
    if (state == WIPC__SHM_STATE_CREATING)
        return NOT_READY;
    if (state != WIPC__SHM_STATE_READY && state != WIPC__SHM_STATE_CLOSED)
        return bad_header(name, "the header's state", state, WIPC__SHM_STATE_READY);
    uint32_t header_size = wipc__shm_once32(&h->header_size), record_header = wipc__shm_once32(&h->record_header);
    uint64_t cap = wipc__shm_once64(&h->capacity), section_size = wipc__shm_once64(&h->section_size);
    if (header_size != WIPC__SHM_HEADER_SIZE)
        return bad_header(name, "the header size", header_size, WIPC__SHM_HEADER_SIZE);
    if (record_header != WIPC__SHM_RECORD_HEADER)
        return bad_header(name, "the record header size", record_header, WIPC__SHM_RECORD_HEADER);
    if (!is_pow2(cap) || cap < WIPC__SHM_MIN_CAPACITY || cap > WIPC__SHM_MAX_CAPACITY)
        return bad_header(name, "the ring capacity (not a power of two in range)", cap, 0);
    if (section_size != WIPC__SHM_HEADER_SIZE + 2 * cap || section_size > size)
        return bad_header(name, "the section size in the header", section_size, WIPC__SHM_HEADER_SIZE + 2 * cap);
    *out_cap = cap;
    return WIPC_OK;
}

/* Claims the opener slot: free, or held by a dead opener. */
static wipc_status claim_slot(const char *name, wipc__shm_header *h, uint64_t mine)
{
    uint64_t cur = atomic_load(&h->opener.ident);
    for (;;) {
        if (cur != 0 && ident_alive(cur))
            return wipc__error(WIPC_E_BUSY, 0, "wipc_shm_open(%s): the channel already has a live opener (pid %u)",
                               name, (unsigned)(uint32_t)cur);
        if (atomic_compare_exchange_strong(&h->opener.ident, &cur, mine))
            return WIPC_OK;
    }
}

/* One attempt. NOT_READY / WIPC_E_NOT_FOUND: worth retrying until the deadline. */
static wipc_status try_open(const char *name, const wipc_shm_options *o, wipc__shm_chan **out)
{
    wipc__section *sec = NULL;
    wipc_status st = wipc__plat_section_open(WIPC__SECTION_CHANNEL, name, o->flags, false, &sec);
    if (st != WIPC_OK)
        return st;
    uint64_t cap = 0;
    if ((st = check_header(name, sec, &cap)) != WIPC_OK) {
        wipc__plat_section_close(sec);
        return st;
    }
    wipc__shm_header *h = wipc__plat_section_base(sec);
    uint64_t creator = atomic_load(&h->creator.ident);
    if (atomic_load(&h->state) != WIPC__SHM_STATE_READY || !ident_alive(creator)) {
        wipc__plat_section_close(sec);
        return wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_shm_open(%s): the channel's creator closed it or died", name);
    }
    wipc__shm_chan *c = chan_new(name, o);
    if (!c) {
        wipc__plat_section_close(sec);
        return wipc__error(WIPC_E_NO_MEMORY, 0, "wipc_shm_open(%s): out of memory", name);
    }
    if ((st = claim_slot(name, h, c->my_ident)) != WIPC_OK) {
        c->sec = sec; /* freed with the object; the slot is not ours, so no detach */
        wipc__obj_unref(&c->obj);
        return st;
    }
    uint32_t max = o->max_message_size;
    /* flags first: a creator that sees the new max_message_size (acquire) sees these flags too */
    atomic_store(&h->opener.flags, side_flags());
    atomic_store(&h->opener.max_message_size, max);
    c->peer_ident = creator;
    c->obj.peer_pid = (uint32_t)creator;
    st = chan_bind(c, sec, false, cap, o->max_message_size, "wipc_shm_open");
    /* our session number, stamped into every record we write (shm_layout.h, Sessions) */
    uint32_t session = atomic_fetch_add_explicit(&h->session, 1, memory_order_acq_rel) + 1;
    c->tx.session = session & WIPC__SHM_SESSION_MASK;
    c->tx.pid = (uint32_t)c->my_ident;
    /* the creator's reader sleeps on our tx ring's data word: let it see the new session now */
    atomic_store(&h->ring[c->tx_index].data_wait, 0);
    wipc__plat_shm_wake(sec, WIPC__SHM_WORD_DATA(c->tx_index), &h->ring[c->tx_index].data_wait);
    if (st != WIPC_OK) {
        chan_abandon(c);
        return st;
    }
    *out = c;
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_shm_open(const char *name, const wipc_shm_options *user, int32_t timeout_ms,
                                             wipc_handle *out_channel)
{
    const char *fn = "wipc_shm_open";
    wipc_shm_options o;
    wipc_status st = wipc__check_out(out_channel, "wipc_shm_open: out_channel");
    if (st != WIPC_OK)
        return st;
    *out_channel = 0;
    if ((st = read_options(fn, name, user, &o, false)) != WIPC_OK)
        return st;
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): timeout %d ms is negative (use WIPC_INFINITE = -1)", fn,
                           name, (int)timeout_ms);
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    uint32_t backoff_ms = 1;
    for (;;) {
        wipc__shm_chan *c = NULL;
        st = try_open(name, &o, &c);
        if (st == WIPC_OK) {
            if ((st = chan_publish(c, out_channel)) != WIPC_OK)
                chan_abandon(c);
            else
                wipc__log(WIPC_LOG_INFO, "shm %s: opened (creator pid %u)", name, (unsigned)c->obj.peer_pid);
            return st;
        }
        if (st != NOT_READY && st != WIPC_E_NOT_FOUND)
            return st;
        int32_t left = wipc__deadline_left(deadline);

        if (left == 0) {
            if (st == NOT_READY)
                return wipc__error(WIPC_E_TIMEOUT, 0,
                                   "%s(%s): the section exists but its creator did not finish it within %d ms", fn,
                                   name, (int)timeout_ms);
            {
                char last[160]; /* the last attempt's reason, e.g. "the channel's creator closed it or died" */
                snprintf(last, sizeof last, "%s", wipc_last_error_message());
                return wipc__error(WIPC_E_NOT_FOUND, 0,
                                   "%s(%s): no live channel of that name within %d ms (last attempt: %s)", fn, name,
                                   (int)timeout_ms, last);
            }
        }
        wipc__sleep_ms(left > 0 && (uint32_t)left < backoff_ms ? (uint32_t)left : backoff_ms);
        if (backoff_ms < 20)
            backoff_ms *= 2;
    }
}

/* ---- zero-copy entry points ------------------------------------------------------------------------ */

static wipc_status get_chan(wipc_handle h, wipc__shm_chan **out)
{
    wipc__obj *o;
    wipc_status st = wipc__handle_get(h, WIPC_KIND_SHM_CHANNEL, &o);
    *out = st == WIPC_OK ? (wipc__shm_chan *)o : NULL;
    return st;
}

static wipc_status check_timeout(const char *fn, int32_t timeout_ms)
{
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: timeout %d ms is negative (use WIPC_INFINITE = -1)", fn,
                           (int)timeout_ms);
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_shm_reserve(wipc_handle ch, size_t size, void **out_ptr, int32_t timeout_ms)
{
    wipc__shm_chan *c;
    wipc_status st = wipc__check_out(out_ptr, "wipc_shm_reserve: out_ptr");
    if (st != WIPC_OK || (st = check_timeout("wipc_shm_reserve", timeout_ms)) != WIPC_OK)
        return st;
    *out_ptr = NULL;
    if ((st = get_chan(ch, &c)) != WIPC_OK)
        return st;
    st = wipc__shm_reserve(c, size, out_ptr, timeout_ms);
    wipc__obj_unref(&c->obj);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_shm_commit(wipc_handle ch, uint32_t type, size_t size)
{
    wipc__shm_chan *c;
    wipc_status st = get_chan(ch, &c);
    if (st != WIPC_OK)
        return st;
    st = wipc__shm_commit(c, type, size);
    wipc__obj_unref(&c->obj);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_shm_peek(wipc_handle ch, const void **out_ptr, size_t *out_size, uint32_t *out_type,
                                             int32_t timeout_ms)
{
    wipc__shm_chan *c;
    wipc_status st = wipc__check_out(out_ptr, "wipc_shm_peek: out_ptr");
    if (st != WIPC_OK || (st = wipc__check_out(out_size, "wipc_shm_peek: out_size")) != WIPC_OK ||
        (st = check_timeout("wipc_shm_peek", timeout_ms)) != WIPC_OK)
        return st;
    *out_ptr = NULL;
    *out_size = 0;
    if ((st = get_chan(ch, &c)) != WIPC_OK)
        return st;
    st = wipc__shm_peek(c, out_ptr, out_size, out_type, timeout_ms);
    wipc__obj_unref(&c->obj);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_shm_release(wipc_handle ch)
{
    wipc__shm_chan *c;
    wipc_status st = get_chan(ch, &c);
    if (st != WIPC_OK)
        return st;
    st = wipc__shm_release(c);
    wipc__obj_unref(&c->obj);
    return st;
}

/* ---- the channel object's wipc__ops (the top of the shm stack: it reaches every layer) ---------- */

static void chan_close(wipc__obj *o)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    wipc__shm_pump_stop(c);
    wipc__shm_rx_wake(c);
    wipc__shm_tx_wake_all(c);
    wipc__shm_leave(c);
}

static void chan_destroy(wipc__obj *o)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    wipc__shm_async_free(c);
    wipc__rxmsg_free(c->peek_msg);
    wipc__rxmsg_free(c->rx_part);
    wipc__rxmsg_free(c->rx_whole);
    wipc__plat_section_close(c->sec);
    wipc__cond_destroy(&c->tx_cond);
    wipc__mutex_destroy(&c->tx_lock);
}

/* connected / peer_pid: the peer attached now (fresh: a new opener, or a peer that just died). The
 * creator reports peer_pid 0 while no opener is attached; the opener keeps its creator's pid. */
static void chan_info(wipc__obj *o, wipc_info *out)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    if (!atomic_load(&o->closed))
        wipc__shm_peer_check(c, true);
    wipc__mutex_lock(&o->lock);
    out->connected = c->peer_ident != 0 && !c->peer_gone;
    out->peer_pid = c->peer_ident && (out->connected || !c->creator) ? (uint32_t)c->peer_ident : 0;
    wipc__mutex_unlock(&o->lock);
}

static void chan_callbacks_set(wipc__obj *o)
{
    wipc__shm_chan *c = (wipc__shm_chan *)o;
    if (wipc__shm_pump_start(c) != WIPC_OK)
        wipc__shm_fail(c, WIPC_E_SYSTEM, "wipc_set_callbacks", "cannot start the channel's reader thread");
    wipc__shm_rx_wake(c); /* a thread still reading on its own (blocking call) hands the ring over */
}
const wipc__ops wipc__shm_chan_ops = {
    .kind = WIPC_KIND_SHM_CHANNEL,
    .transport = WIPC_TRANSPORT_SHM,
    .close = chan_close,
    .destroy = chan_destroy,
    .send = wipc__shm_send,
    .callbacks_set = chan_callbacks_set,
    .info = chan_info,
    .recv = wipc__shm_recv,
    .request = wipc__shm_request,
    .send_async = wipc__shm_send_async,
    .recv_async = wipc__shm_recv_async,
    .resume = wipc__shm_resume,
};
