/*
 * handles.c - the process-wide handle table.
 *
 * A handle is 64 bits: bits 0-31 = slot index + 1, bits 32-55 = the slot's generation (24 bits),
 * bits 56-63 = the object kind. A slot's generation is bumped each time it is freed, so a closed or
 * stale handle never finds an object again; a forged one fails the index, generation or kind check.
 */
#include <stdlib.h>
#include "common/core/core.h"

typedef struct slot {
    wipc__obj *obj; /* NULL = free */
    uint32_t generation; /* 24 bits used, never 0 */
    uint32_t next_free; /* index + 1 of the next free slot, 0 = none */
} slot;

static wipc__mutex table_lock = WIPC__MUTEX_INIT;
static slot *slots;
static uint32_t slot_count;
static uint32_t free_head; /* index + 1 */
static uint32_t live_count;

#define GEN_MASK  0xFFFFFFu
#define MAX_SLOTS (1u << 24)

static wipc_handle make_handle(uint32_t index, uint32_t gen, uint32_t kind)
{
    return ((uint64_t)(kind & 0xFF) << 56) | ((uint64_t)(gen & GEN_MASK) << 32) | (uint64_t)(index + 1);
}

wipc_status wipc__handle_add(wipc__obj *o)
{
    wipc__mutex_lock(&table_lock);
    if (free_head == 0) {
        uint32_t n = slot_count ? slot_count * 2 : 64;
        if (n > MAX_SLOTS || n <= slot_count) {
            wipc__mutex_unlock(&table_lock);
            return wipc__error(WIPC_E_NO_MEMORY, 0, "the handle table is full (%u handles)", (unsigned)slot_count);
        }
        slot *grown = realloc(slots, (size_t)n * sizeof *grown);
        if (!grown) {
            wipc__mutex_unlock(&table_lock);
            return wipc__error(WIPC_E_NO_MEMORY, 0, "cannot grow the handle table to %u slots", (unsigned)n);
        }
        slots = grown;
        for (uint32_t i = n; i-- > slot_count;) {
            slots[i].obj = NULL;
            slots[i].generation = 1;
            slots[i].next_free = free_head;
            free_head = i + 1;
        }
        slot_count = n;
    }
    uint32_t index = free_head - 1;
    slot *s = &slots[index];
    free_head = s->next_free;
    s->obj = o;
    live_count++;
    o->handle = make_handle(index, s->generation, o->ops->kind);
    wipc__mutex_unlock(&table_lock);
    return WIPC_OK;
}

static slot *find_locked(wipc_handle h)
{
    uint32_t index = (uint32_t)(h & 0xFFFFFFFFu);
    if (index == 0 || index > slot_count)
        return NULL;
    slot *s = &slots[index - 1];
    if (!s->obj || s->obj->handle != h)
        return NULL;
    return s;
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

wipc_status wipc__handle_get(wipc_handle h, uint32_t kind, wipc__obj **out)
{
    *out = NULL;
    if (h == 0)
        return wipc__error(WIPC_E_BAD_HANDLE, 0, "handle 0 is never valid");
    wipc__mutex_lock(&table_lock);
    slot *s = find_locked(h);
    if (!s) {
        wipc__mutex_unlock(&table_lock);
        return wipc__error(WIPC_E_BAD_HANDLE, 0, "handle 0x%016llx is unknown, closed or stale", (unsigned long long)h);
    }
    wipc__obj *o = s->obj;
    if (kind != 0 && o->ops->kind != kind) {
        wipc__mutex_unlock(&table_lock);
        return wipc__error(WIPC_E_BAD_HANDLE, 0, "handle 0x%016llx is a %s, not a %s", (unsigned long long)h,
                           kind_name(o->ops->kind), kind_name(kind));
    }
    wipc__obj_ref(o);
    wipc__mutex_unlock(&table_lock);
    *out = o;
    return WIPC_OK;
}

static void free_slot_locked(slot *s)
{
    uint32_t index = (uint32_t)(s - slots);
    s->obj = NULL;
    s->generation = (s->generation + 1) & GEN_MASK;
    if (s->generation == 0)
        s->generation = 1;
    s->next_free = free_head;
    free_head = index + 1;
    live_count--;
}

wipc__obj *wipc__handle_remove(wipc_handle h)
{
    wipc__mutex_lock(&table_lock);
    slot *s = h ? find_locked(h) : NULL;
    wipc__obj *o = NULL;
    if (s) {
        o = s->obj;
        free_slot_locked(s);
    }
    wipc__mutex_unlock(&table_lock);
    return o;
}

size_t wipc__handle_remove_all(wipc__obj ***out)
{
    wipc__mutex_lock(&table_lock);
    size_t n = 0;
    wipc__obj **all = live_count ? malloc(live_count * sizeof *all) : NULL;
    if (all) {
        for (uint32_t i = 0; i < slot_count; i++)
            if (slots[i].obj) {
                all[n++] = slots[i].obj;
                free_slot_locked(&slots[i]);
            }
    }
    wipc__mutex_unlock(&table_lock);
    *out = all;
    return n;
}
