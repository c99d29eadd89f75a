/*
 * handles.c - the process-wide handle table.
 *
 * A handle is 64 bits: bits 0-31 = slot index + 1, bits 32-55 = the slot's generation (24 bits),
 * bits 56-63 = the object kind. A slot's generation is bumped each time it is freed, so a closed or
 * stale handle never finds an object again; a forged one fails the index, generation or kind check.
 *
 * Lookup takes no lock (it is on every call: wipc_send, wipc_recv, ...). The slots live in chunks of
 * CHUNK slots that are never moved or freed while the library is loaded, so a slot's address stays
 * valid for any index once its chunk exists. Each slot has one atomic word: the generation (bits
 * 40-63), PENDING (bit 33), LIVE (bit 32: the slot holds an open handle's object) and the pins (bits
 * 0-31: lookups in progress, and calls that hold a pin as their reference).
 *   pin:    fetch_add 1 (acquire); if LIVE and the generation matches the handle's, the object and the
 *           table's reference to it stay while the pin is held. A lookup of a stale handle pins and
 *           unpins at once. wipc__handle_get then takes a reference and unpins; wipc__handle_pin keeps
 *           the pin as the call's reference (one atomic add each way instead of four: the hot calls).
 *   remove: (table_lock held) takes a reference for its caller (the one the caller is handed, as
 *           "the table's"), then clears LIVE, sets PENDING and bumps the generation in one
 *           compare-and-swap: no lookup succeeds from then on. It never waits for pins.
 *   unpin:  fetch_sub 1 (release); the one whose unpin takes the pins to 0 while PENDING is set - or
 *           the remover, if there were none - claims PENDING (fetch_and: exactly one sees it) and frees
 *           the slot: drops the table's reference and puts the slot on the free list. So an object
 *           lives as long as any lookup or call holds it, and a slot is reused only when nobody does.
 * The free list is kept under table_lock. Two lookups of different handles do not share a cache
 * line (one slot per line).
 */
#include <stdlib.h>
#include "common/core/core.h"

#define GEN_MASK   0xFFFFFFu
#define MAX_SLOTS  (1u << 24)
#define CHUNK_BITS 10u
#define CHUNK      (1u << CHUNK_BITS) /* slots per chunk */

#define W_PINS      0xFFFFFFFFull
#define W_LIVE      (1ull << 32)
#define W_PENDING   (1ull << 33)
#define W_GEN_SHIFT 40

typedef struct slot {
    _Atomic uint64_t word; /* generation << 40 | LIVE | pins */
    _Atomic(wipc__obj *) obj; /* set while LIVE; read by pinned lookups */
    uint32_t next_free; /* index + 1 of the next free slot, 0 = none (table_lock) */
    uint8_t pad[64 - 8 - sizeof(void *) - 4];
} slot;

static wipc__mutex table_lock = WIPC__MUTEX_INIT;
static _Atomic(slot *) chunks[MAX_SLOTS / CHUNK]; /* never freed: lookups read them without the lock */
static uint32_t slot_count; /* table_lock */
static uint32_t free_head; /* index + 1 (table_lock) */
static uint32_t live_count; /* table_lock */

static wipc_handle make_handle(uint32_t index, uint32_t gen, uint32_t kind)
{
    return ((uint64_t)(kind & 0xFF) << 56) | ((uint64_t)(gen & GEN_MASK) << 32) | (uint64_t)(index + 1);
}

static uint32_t word_gen(uint64_t w)
{
    return (uint32_t)(w >> W_GEN_SHIFT) & GEN_MASK;
}

static slot *slot_at(uint32_t index)
{
    return &atomic_load_explicit(&chunks[index >> CHUNK_BITS], memory_order_relaxed)[index & (CHUNK - 1)];
}

/* The slot a handle names if its chunk exists, else NULL (no lock: chunks are never freed). */
static slot *slot_of(wipc_handle h)
{
    uint32_t index = (uint32_t)(h & 0xFFFFFFFFu);
    if (index == 0 || index > MAX_SLOTS)
        return NULL;
    slot *chunk = atomic_load_explicit(&chunks[(index - 1) >> CHUNK_BITS], memory_order_acquire);
    return chunk ? &chunk[(index - 1) & (CHUNK - 1)] : NULL;
}

static wipc_status grow_locked(void)
{
    if (slot_count >= MAX_SLOTS)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "the handle table is full (%u handles)", (unsigned)slot_count);
    slot *chunk = calloc(CHUNK, sizeof *chunk);
    if (!chunk)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "cannot grow the handle table to %u slots",
                           (unsigned)(slot_count + CHUNK));
    for (uint32_t i = CHUNK; i-- > 0;) {
        atomic_init(&chunk[i].word, (uint64_t)1 << W_GEN_SHIFT);
        atomic_init(&chunk[i].obj, NULL);
        chunk[i].next_free = free_head;
        free_head = slot_count + i + 1;
    }
    atomic_store_explicit(&chunks[slot_count >> CHUNK_BITS], chunk, memory_order_release);
    slot_count += CHUNK;
    return WIPC_OK;
}

wipc_status wipc__handle_add(wipc__obj *o)
{
    wipc__mutex_lock(&table_lock);
    if (free_head == 0) {
        wipc_status st = grow_locked();
        if (st != WIPC_OK) {
            wipc__mutex_unlock(&table_lock);
            return st;
        }
    }
    uint32_t index = free_head - 1;
    slot *s = slot_at(index);
    free_head = s->next_free;
    live_count++;
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    o->handle = make_handle(index, word_gen(w), o->ops->kind);
    atomic_store_explicit(&s->obj, o, memory_order_relaxed);
    /* LIVE last, with release: a lookup that pins and sees it also sees o and o->handle. A failing
     * lookup may hold a pin right now, so the word changes only by read-modify-write. */
    atomic_fetch_or_explicit(&s->word, W_LIVE, memory_order_release);
    wipc__mutex_unlock(&table_lock);
    return WIPC_OK;
}

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case WIPC_KIND_PIPE_SERVER:
        return "pipe server";
    case WIPC_KIND_PIPE_CONN:
        return "pipe connection";
    case WIPC_KIND_SHM_CHANNEL:
        return "shm channel";
    case WIPC_KIND_REGION:
        return "region";
    case WIPC_KIND_MSG_ENDPOINT:
        return "msg endpoint";
    case WIPC_KIND_EVENT:
        return "named event";
    default:
        return "handle";
    }
}

/* Frees a removed slot whose PENDING this thread claimed: nobody holds a pin on it any more. Drops
 * the table's reference (never the last one while the remover's caller still holds its own) and puts
 * the slot on the free list. `locked`: table_lock is held. */
static void release_slot(slot *s, uint32_t index, bool locked)
{
    wipc__obj *o = atomic_load_explicit(&s->obj, memory_order_relaxed);
    atomic_store_explicit(&s->obj, NULL, memory_order_relaxed);
    if (!locked)
        wipc__mutex_lock(&table_lock);
    s->next_free = free_head;
    free_head = index + 1;
    live_count--;
    if (!locked)
        wipc__mutex_unlock(&table_lock);
    wipc__obj_unref(o);
}

/* After an unpin that found `old` in the word: the last pin of a removed slot frees it. */
static void unpinned(slot *s, uint64_t old, uint32_t index)
{
    if ((old & W_PINS) != 1 || !(old & W_PENDING))
        return;
    if (atomic_fetch_and_explicit(&s->word, ~W_PENDING, memory_order_acq_rel) & W_PENDING)
        release_slot(s, index, false);
}

static void unpin(slot *s, wipc_handle h)
{
    unpinned(s, atomic_fetch_sub_explicit(&s->word, 1, memory_order_release), (uint32_t)(h & 0xFFFFFFFFu) - 1);
}

/* Pins h's slot; returns its object if h is open and of `kind` (0 = any), else NULL (unpinned, the
 * last error set). */
static wipc__obj *pin(wipc_handle h, uint32_t kind, slot **out_slot)
{
    if (h == 0) {
        wipc__error(WIPC_E_BAD_HANDLE, 0, "handle 0 is never valid");
        return NULL;
    }
    slot *s = slot_of(h);
    wipc__obj *o = NULL;
    if (s) {
        uint64_t w = atomic_fetch_add_explicit(&s->word, 1, memory_order_acquire);
        if ((w & W_LIVE) && word_gen(w) == ((uint32_t)(h >> 32) & GEN_MASK)) {
            o = atomic_load_explicit(&s->obj, memory_order_relaxed);
            if (o->handle != h)
                o = NULL; /* the kind bits of a forged handle */
        }
        if (o && (kind == 0 || o->ops->kind == kind)) {
            *out_slot = s;
            return o;
        }
        uint32_t found = o ? o->ops->kind : 0;
        unpin(s, h);
        if (o) {
            wipc__error(WIPC_E_BAD_HANDLE, 0, "handle 0x%016llx is a %s, not a %s", (unsigned long long)h,
                        kind_name(found), kind_name(kind));
            return NULL;
        }
    }
    wipc__error(WIPC_E_BAD_HANDLE, 0, "handle 0x%016llx is unknown, closed or stale", (unsigned long long)h);
    return NULL;
}

wipc_status wipc__handle_get(wipc_handle h, uint32_t kind, wipc__obj **out)
{
    slot *s = NULL;
    *out = pin(h, kind, &s);
    if (!*out)
        return WIPC_E_BAD_HANDLE;
    wipc__obj_ref(*out);
    unpin(s, h);
    return WIPC_OK;
}

wipc_status wipc__handle_pin(wipc_handle h, wipc__obj **out)
{
    slot *s = slot_of(h); /* the open handle in a few instructions; pin() finds why not */
    if (s) {
        uint64_t w = atomic_fetch_add_explicit(&s->word, 1, memory_order_acquire);
        wipc__obj *o = atomic_load_explicit(&s->obj, memory_order_relaxed);
        if ((w & W_LIVE) && word_gen(w) == ((uint32_t)(h >> 32) & GEN_MASK) && o->handle == h) {
            *out = o;
            return WIPC_OK;
        }
        unpin(s, h);
    }
    *out = pin(h, 0, &s);
    return *out ? WIPC_OK : WIPC_E_BAD_HANDLE;
}

void wipc__handle_unpin(wipc__obj *o)
{
    unpin(slot_of(o->handle), o->handle);
}

/* Ends the slot's generation: lookups of its handle fail from now on. Returns its object with a
 * reference for the caller; the table's own goes when the last pin does (now, if none). table_lock
 * held. */
static wipc__obj *remove_locked(slot *s, uint32_t index)
{
    wipc__obj *o = atomic_load_explicit(&s->obj, memory_order_relaxed);
    wipc__obj_ref(o); /* before the swap: until then the table's reference keeps o */
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    for (;;) {
        uint32_t gen = (word_gen(w) + 1) & GEN_MASK;
        uint64_t next = ((uint64_t)(gen ? gen : 1) << W_GEN_SHIFT) | W_PENDING | (w & W_PINS);
        if (atomic_compare_exchange_weak_explicit(&s->word, &w, next, memory_order_acq_rel, memory_order_relaxed))
            break;
    }
    if ((w & W_PINS) == 0 && (atomic_fetch_and_explicit(&s->word, ~W_PENDING, memory_order_acq_rel) & W_PENDING))
        release_slot(s, index, true);
    return o;
}

/* The slot of a live handle h, or NULL. table_lock held (the object cannot go meanwhile). */
static slot *find_locked(wipc_handle h, uint32_t *index)
{
    slot *s = h ? slot_of(h) : NULL;
    if (!s)
        return NULL;
    uint64_t w = atomic_load_explicit(&s->word, memory_order_relaxed);
    wipc__obj *o = atomic_load_explicit(&s->obj, memory_order_relaxed);
    if (!(w & W_LIVE) || !o || o->handle != h)
        return NULL;
    *index = (uint32_t)(h & 0xFFFFFFFFu) - 1;
    return s;
}

wipc__obj *wipc__handle_remove(wipc_handle h)
{
    wipc__mutex_lock(&table_lock);
    uint32_t index = 0;
    slot *s = find_locked(h, &index);
    wipc__obj *o = s ? remove_locked(s, index) : NULL;
    wipc__mutex_unlock(&table_lock);
    return o;
}

size_t wipc__handle_remove_all(wipc__obj ***out)
{
    wipc__mutex_lock(&table_lock);
    size_t n = 0;
    wipc__obj **all = live_count ? malloc(live_count * sizeof *all) : NULL;
    if (all) {
        for (uint32_t i = 0; i < slot_count; i++) {
            slot *s = slot_at(i);
            if (atomic_load_explicit(&s->word, memory_order_relaxed) & W_LIVE)
                all[n++] = remove_locked(s, i);
        }
    }
    wipc__mutex_unlock(&table_lock);
    *out = all;
    return n;
}
