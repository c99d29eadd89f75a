/*
 * pipe_bulk.c - large pipe messages through a shared section ("the pipe for control, shared memory
 * for bulk"), transparent to the API.
 *
 * Negotiated in the HELLO handshake: each side sets WIPC__HELLO_BULK when it may (both ends on this
 * machine: POSIX always; Windows unless the server allows remote clients or the name is a remote
 * path; not for WIPC_PIPE_ANY_USER servers or servers with their own security_descriptor, whose
 * sections another user could not open; Windows: only with a peer of the same user and session,
 * wipc__plat_pipe_bulk_ok; not for WIPC_PIPE_RAW; not when WIPC_PIPE_BULK=0 is in the environment). A sender whose peer set it sends
 * a message of at least WIPC__BULK_SEND_MIN bytes (pipe.h: 256 KiB, Win32 64 KiB) like this: it takes a free slot of its section, copies
 * the payload into it, marks the slot FULL and then sends a BULK frame whose 32-byte payload
 * describes the slot (frame.h). The receiver maps the sender's section (named after the sender's pid
 * and a number), checks the descriptor, marks the slot TAKING, copies the message out - straight
 * into the waiting caller's buffer when it is the caller's own - and marks it FREE. The message is
 * whole before its frame is in the pipe, so a receiver never waits for a sender (a sender frozen in
 * its copy is just a pipe with nothing new in it), and order and request/reply matching are the
 * pipe's: the BULK frame takes the message's place in the stream.
 *
 * Two slots: the sender fills one while the receiver copies out of the other. It may take a slot only
 * while no slot is FULL - the peer has started on everything sent before - so a peer that does not
 * read holds back the second large send, as a full pipe would. A waiting sender sleeps on the
 * section's event word (futex / event), woken by the receiver when it said it waits, and checks
 * meanwhile that the handle is open, the peer alive and the timeout not over. The section grows (a
 * new number) when a larger message comes; the old one goes once both slots are free. The shared
 * header is untrusted: the receiver checks the descriptor and the slot's state.
 *
 * The peer's section is a mapping the peer could resize: it must never shrink under the receiver
 * (docs/RELIABILITY.md, Hardening, attack 1: a section truncated after the first message crashed the receiver with SIGBUS).
 * POSIX: sections are sealed memfds (F_SEAL_SHRINK | F_SEAL_GROW; linux/pipe_bulk.c, offered with
 * WIPC__HELLO_BULK_SEALED) and the receiver maps only sealed ones. Windows: a section's size is
 * fixed when it is created and a mapped section cannot shrink (NtExtendSection only grows); what the
 * win32 backend checks is that every page it uses is committed (a SEC_RESERVE section, item 14).
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/pipe/pipe.h"

#define BULK_HDR      4096u
#define BULK_SLOTS    2u
#define BULK_SLOT_MIN (1u << 20)
#define BULK_SLICE_MS 50 /* waits are cut in slices to check the handle and the peer */
#define BULK_MAGIC    0x53425057u /* "WPBS" */
#define BULK_VERSION  1u

enum { SLOT_FREE = 0, SLOT_FULL = 1, SLOT_TAKING = 2 };

typedef struct bulk_hdr {
    uint32_t magic;
    uint32_t version;
    uint32_t slots;
    uint32_t owner_pid;
    uint64_t slot_size;
    _Atomic uint32_t state[BULK_SLOTS];
    _Atomic uint32_t events; /* + 1 by the receiver on every take and release (the sender's wait word) */
    _Atomic uint32_t sender_waits; /* the sender sleeps on `events`: wake it */
} bulk_hdr;

static atomic_uint section_numbers; /* names this process's sections */

bool wipc__bulk_offer(uint32_t flags, const char *name, wipc__pipe *p)
{
    if (flags & (WIPC_PIPE_RAW | WIPC_PIPE_ANY_USER | WIPC_PIPE_ALLOW_REMOTE))
        return false;
#if defined(_WIN32)
    if (name[0] == '\\' && name[1] == '\\' && !(name[2] == '.' && name[3] == '\\'))
        return false; /* a full path to another machine */
#else
    (void)name;
#endif
    return wipc__plat_pipe_bulk_ok(p) != 0;
}

static uint8_t *slot_data(wipc__pipe_bulk *b, unsigned slot)
{
    return b->base + BULK_HDR + (size_t)slot * b->slot_size;
}

/* A slot the sender may fill: none FULL (the peer started on everything sent) and one FREE; -1 if not. */
static int usable_slot(bulk_hdr *h)
{
    int free_slot = -1;
    for (unsigned i = 0; i < BULK_SLOTS; i++) {
        uint32_t st = atomic_load_explicit(&h->state[i], memory_order_acquire);
        if (st == SLOT_FULL)
            return -1;
        if (st == SLOT_FREE && free_slot < 0)
            free_slot = (int)i;
    }
    return free_slot;
}

static bool all_free(bulk_hdr *h)
{
    for (unsigned i = 0; i < BULK_SLOTS; i++)
        if (atomic_load_explicit(&h->state[i], memory_order_acquire) != SLOT_FREE)
            return false;
    return true;
}

/* Waits (bulk_excl held) until a slot of our section can be filled (all_slots: until every slot is
 * free); returns it in *slot. */
static wipc_status wait_slot(wipc__conn *c, wipc__timeout *dl, bool all_slots, int *slot)
{
    bulk_hdr *h = (bulk_hdr *)c->tx.base;
    for (;;) {
        uint32_t ev = atomic_load(&h->events);
        int s = all_slots ? (all_free(h) ? 0 : -1) : usable_slot(h);
        if (s >= 0) {
            *slot = s;
            return WIPC_OK;
        }
        atomic_store(&h->sender_waits, 1);
        if (atomic_load(&h->events) != ev)
            continue;
        if (atomic_load(&c->obj.closed))
            return wipc__error(WIPC_E_CLOSED, 0, "send on pipe %s: the handle was closed", c->obj.name);
        if (c->state == WIPC__CONN_DEAD) {
            wipc__mutex_lock(&c->obj.lock);
            wipc_status failed = c->obj.failed;
            wipc__mutex_unlock(&c->obj.lock);
            return wipc__error(failed && failed != WIPC_E_BUSY ? failed : WIPC_E_DISCONNECTED, 0,
                               "send on pipe %s: the connection has ended", c->obj.name);
        }
        if (!wipc__plat_pipe_alive(c->pipe))
            return wipc__error(WIPC_E_DISCONNECTED, 0, "send on pipe %s: the peer closed the connection", c->obj.name);
        int32_t left = wipc__timeout_left(dl);
        if (left == 0)
            return wipc__error(WIPC_E_TIMEOUT, 0,
                               "send on pipe %s: the peer did not take the previous large message within %d ms",
                               c->obj.name, (int)dl->ms);
        wipc__plat_bulk_wait(c->tx.sec, &h->events, ev, left < 0 || left > BULK_SLICE_MS ? BULK_SLICE_MS : left);
    }
}

/* Makes our section (again, larger) when it is missing or too small for `size` bytes. */
static wipc_status ensure_section(wipc__conn *c, size_t size, wipc__timeout *dl)
{
    if (c->tx.sec && c->tx.slot_size >= size)
        return WIPC_OK;
    if (c->tx.sec) {
        int unused;
        wipc_status st = wait_slot(c, dl, true, &unused); /* the peer may still read the old one */
        if (st != WIPC_OK)
            return st;
        wipc__plat_bulk_close(c->tx.sec);
        memset(&c->tx, 0, sizeof c->tx);
    }
    uint64_t slot_size = BULK_SLOT_MIN;
    while (slot_size < size)
        slot_size <<= 1;
    uint32_t number = atomic_fetch_add(&section_numbers, 1) + 1;
    void *base = NULL;
    wipc__bulk_section *sec = NULL;
    wipc_status st =
        wipc__plat_bulk_section(1, wipc__getpid(), 0, number, BULK_HDR + BULK_SLOTS * slot_size, &base, &sec);
    if (st != WIPC_OK) {
        wipc__log(WIPC_LOG_WARN, "pipe %s: no bulk section (%s): large messages go through the pipe", c->obj.name,
                  wipc_last_error_message());
        return WIPC_E_NOT_SUPPORTED;
    }
    bulk_hdr *h = base;
    h->magic = BULK_MAGIC;
    h->version = BULK_VERSION;
    h->slots = BULK_SLOTS;
    h->owner_pid = wipc__getpid();
    h->slot_size = slot_size;
    for (unsigned i = 0; i < BULK_SLOTS; i++)
        atomic_store(&h->state[i], SLOT_FREE);
    c->tx.sec = sec;
    c->tx.base = base;
    c->tx.number = number;
    c->tx.slot_size = slot_size;
    return WIPC_OK;
}

wipc_status wipc__bulk_send(wipc__conn *c, uint8_t kind, uint64_t request_id, uint32_t type, const void *data,
                            size_t size, int32_t timeout_ms)
{
    wipc__timeout dl = wipc__timeout_of(timeout_ms);
    int slot = 0;
    if (wipc__excl_enter(&c->bulk_excl, &dl) != WIPC_OK)
        return wipc__error(WIPC_E_TIMEOUT, 0,
                           "send on pipe %s: another thread's large send kept the shared section busy "
                           "for the whole timeout (%d ms); nothing was sent",
                           c->obj.name, (int)timeout_ms);
    wipc_status st = ensure_section(c, size, &dl);
    if (st == WIPC_OK)
        st = wait_slot(c, &dl, false, &slot);
    if (st != WIPC_OK) {
        wipc__excl_leave(&c->bulk_excl);
        return st;
    }
    bulk_hdr *h = (bulk_hdr *)c->tx.base;
    memcpy(slot_data(&c->tx, (unsigned)slot), data, size);
    atomic_store_explicit(&h->state[slot], SLOT_FULL, memory_order_release);
    uint8_t desc[WIPC__BULK_DESC];
    memset(desc, 0, sizeof desc);
    wipc__put_le32(desc, WIPC__BULK_MAGIC);
    desc[4] = kind;
    desc[5] = (uint8_t)slot;
    wipc__put_le32(desc + 8, c->tx.number);
    wipc__put_le64(desc + 16, size);
    wipc__put_le64(desc + 24, c->tx.slot_size);
    /* the frame only now: the message is whole before anyone can see it */
    st = wipc__conn_write_frame(c, WIPC__FRAME_BULK, request_id, type, desc, sizeof desc, wipc__timeout_left(&dl));
    if (st != WIPC_OK)
        atomic_store_explicit(&h->state[slot], SLOT_FREE, memory_order_release); /* nobody will take it */
    wipc__excl_leave(&c->bulk_excl);
    return st;
}

wipc_status wipc__bulk_take(wipc__conn *c, uint8_t *kind, const uint8_t **data, size_t *len, unsigned *slot)
{
    const uint8_t *d = c->bulkd;
    uint8_t k = d[4];
    unsigned s = d[5];
    uint32_t number = wipc__get_le32(d + 8);
    uint64_t length = wipc__get_le64(d + 16), slot_size = wipc__get_le64(d + 24);
    if (wipc__get_le32(d) != WIPC__BULK_MAGIC || d[6] || d[7] || wipc__get_le32(d + 12) ||
        (k != WIPC__KIND_DATA && k != WIPC__KIND_REQUEST && k != WIPC__KIND_REPLY) || s >= BULK_SLOTS)
        return wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: malformed BULK descriptor", c->obj.name);
    if ((k == WIPC__KIND_DATA) != (c->cur.request_id == 0))
        return wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: BULK frame of kind %u with request id %llu", c->obj.name,
                           (unsigned)k, (unsigned long long)c->cur.request_id);
    if (slot_size < BULK_SLOT_MIN || slot_size > (uint64_t)WIPC_MAX_MESSAGE_LIMIT || (slot_size & (slot_size - 1)))
        return wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: BULK slot size %llu", c->obj.name,
                           (unsigned long long)slot_size);
    if (length > c->obj.max_message_size)
        return wipc__error(WIPC_E_TOO_LARGE, 0, "pipe %s: a large message of %llu bytes is above max_message_size %u",
                           c->obj.name, (unsigned long long)length, (unsigned)c->obj.max_message_size);
    if (length > slot_size)
        return wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: BULK length %llu above its slot", c->obj.name,
                           (unsigned long long)length);
    if (!c->rx.sec || c->rx.number != number || c->rx.slot_size != slot_size) {
        if (c->rx.sec)
            wipc__plat_bulk_close(c->rx.sec);
        memset(&c->rx, 0, sizeof c->rx);
        void *base = NULL;
        wipc__bulk_section *sec = NULL;
        /* located by the pid the OS reports for the peer (SO_PEERCRED / GetNamedPipe*ProcessId), not
         * the one its HELLO claims: a peer cannot point us at another process's section */
        wipc_status st = wipc__plat_bulk_section(0, c->obj.peer_pid, c->obj.peer_uid, number,
                                                 BULK_HDR + BULK_SLOTS * slot_size, &base, &sec);
        if (st != WIPC_OK)
            return st;
        const bulk_hdr *h = base;
        if (h->magic != BULK_MAGIC || h->version != BULK_VERSION || h->slots != BULK_SLOTS ||
            h->owner_pid != c->hello_pid || h->slot_size != slot_size) {
            wipc__plat_bulk_close(sec);
            return wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: the peer's bulk section %u has a bad header", c->obj.name,
                               (unsigned)number);
        }
        c->rx.sec = sec;
        c->rx.base = base;
        c->rx.number = number;
        c->rx.slot_size = slot_size;
    }
    bulk_hdr *h = (bulk_hdr *)c->rx.base;
    uint32_t expected = SLOT_FULL;
    if (!atomic_compare_exchange_strong(&h->state[s], &expected, SLOT_TAKING))
        return wipc__error(WIPC_E_PROTOCOL, 0, "pipe %s: BULK frame for a slot that holds no message", c->obj.name);
    atomic_fetch_add(&h->events, 1); /* the sender may fill the other slot now */
    if (atomic_exchange(&h->sender_waits, 0))
        wipc__plat_bulk_wake(c->rx.sec, &h->events);
    *kind = k;
    *data = slot_data(&c->rx, s);
    *len = (size_t)length;
    *slot = s;
    return WIPC_OK;
}

void wipc__bulk_release(wipc__conn *c, unsigned slot)
{
    bulk_hdr *h = (bulk_hdr *)c->rx.base;
    atomic_store_explicit(&h->state[slot], SLOT_FREE, memory_order_release);
    atomic_fetch_add(&h->events, 1);
    if (atomic_exchange(&h->sender_waits, 0))
        wipc__plat_bulk_wake(c->rx.sec, &h->events);
}

void wipc__bulk_free(wipc__conn *c)
{
    if (c->tx.sec)
        wipc__plat_bulk_close(c->tx.sec);
    if (c->rx.sec)
        wipc__plat_bulk_close(c->rx.sec);
    memset(&c->tx, 0, sizeof c->tx);
    memset(&c->rx, 0, sizeof c->rx);
}
