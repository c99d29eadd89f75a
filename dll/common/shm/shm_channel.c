/*
 * shm_channel.c - the bottom of the shm stack: the peer's liveness (who is attached, whether it closed
 * or died), waking this side's readers and senders, the spin-then-sleep wait used by both, and
 * leaving the section on close (the channel's wipc__ops are in shm_api.c).
 *
 * Peer death is an event: the peer's process is watched (wipc__plat_proc_watch: a pidfd on the I/O
 * thread on Linux, a registered wait on the process handle on Windows) and its exit runs the live
 * check at once, which wakes every waiter of this side. So an idle channel never wakes up
 * (a blocked wait sleeps in slices of 60 s, a backstop only). Where the exit cannot be watched (no
 * pidfd_open, the process could not be opened), blocked waits sleep in slices of 100 ms and check,
 * between slices, the peer's side of the header and (at most every 100 ms) whether its process still
 * runs with the same start time, as before. A peer that closes the channel wakes the waiters itself
 * (detach); a new opener wakes the creator's reader. A peer killed with SIGKILL / TerminateProcess is
 * so noticed at once (watched) or within ~200 ms (polled).
 * The opener's channel ends for good when the creator closes or dies (with callbacks, the reader
 * thread raises WIPC_EVENT_DISCONNECTED after the creator's last message). The creator's channel
 * reports WIPC_E_DISCONNECTED while no opener is attached and works again when a new one attaches:
 * messages still in the rings belong to the channel, not to one opener. Its events are raised by
 * the reader (shm_session.c), one CONNECTED ... DISCONNECTED per opener session, in ring order;
 * the live check here only tells who is attached now.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/shm/shm.h"
#include "common/core/op.h"

#define LIVE_CHECK_MS  100
#define SLICE_MS       100 /* the peer's exit is not watched: poll */
#define QUIET_SLICE_MS 60000 /* it is (or there is no peer): a backstop only */

int32_t wipc__shm_slice(wipc__shm_chan *c, wipc__timeout *deadline)
{
    int32_t most = atomic_load(&c->quiet) ? QUIET_SLICE_MS : SLICE_MS;
    int32_t left = wipc__timeout_left(deadline);
    if (left < 0 || left > most)
        return most;
    return left;
}

/* ---- waking this side's waiters (the lowest layer: readers and senders both use it) ------------- */

/* Wakes this side's ring reader (a blocked reader, or the reader thread). */
void wipc__shm_rx_wake(wipc__shm_chan *c)
{
    wipc__shm_ring_ctl *ctl = &c->hdr->ring[c->rx_index];
    atomic_store(&ctl->data_wait, 0);
    wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_DATA(c->rx_index), &ctl->data_wait);
}

/* Wakes this side's senders: the ring-room waiters and the threads waiting for the send turn. */
void wipc__shm_tx_wake_all(wipc__shm_chan *c)
{
    wipc__shm_ring_ctl *ctl = &c->hdr->ring[c->tx_index];
    atomic_store(&ctl->space_wait, 0);
    wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_SPACE(c->tx_index), &ctl->space_wait);
    wipc__mutex_lock(&c->tx_lock);
    wipc__cond_broadcast(&c->tx_cond);
    wipc__mutex_unlock(&c->tx_lock);
}

/* ---- peer liveness ------------------------------------------------------------------------------- */

static bool ident_alive(uint64_t ident)
{
    return wipc__plat_proc_alive((uint32_t)ident, (uint32_t)(ident >> 32)) != 0;
}

/* The live peer is gone: wake everyone of this side (they see peer_gone). */
static void wake_all(wipc__shm_chan *c)
{
    wipc__mutex_lock(&c->obj.lock);
    wipc__cond_broadcast(&c->obj.cond);
    wipc__mutex_unlock(&c->obj.lock);
    wipc__shm_rx_wake(c);
    wipc__shm_tx_wake_all(c);
    wipc__op_fail_readers(&c->obj, WIPC_E_DISCONNECTED); /* pending async receives and requests */
}

static bool live_check_due(wipc__shm_chan *c, bool force)
{
    if (!force && !wipc__deadline_passed(c->next_live_check))
        return false;
    c->next_live_check = wipc__deadline_in(LIVE_CHECK_MS);
    return true;
}

/* The watched peer exited (I/O thread; the watch holds a reference on the channel). */
static void peer_exited(void *arg)
{
    wipc__shm_chan *c = arg;
    if (!wipc__shm_closed(c))
        wipc__shm_peer_check(c, true); /* finds it dead, wakes every waiter, moves the watch on */
}

static void watch_freed(void *arg)
{
    wipc__obj_unref(&((wipc__shm_chan *)arg)->obj);
}

/* Keeps the exit watch on the live peer (none once it is gone or the handle closed). Outside
 * obj.lock; any thread, also the I/O thread from peer_exited. */
static void watch_peer(wipc__shm_chan *c)
{
    if (atomic_load(&c->watch_ok)) /* the usual case: one load on the wait path */
        return;
    wipc__mutex_lock(&c->obj.lock);
    atomic_store(&c->watch_ok, true);
    uint64_t want = c->peer_gone || wipc__shm_closed(c) ? 0 : c->peer_ident;
    if (want == c->watch_ident) {
        wipc__mutex_unlock(&c->obj.lock);
        return;
    }
    wipc__proc_watch *old = c->watch;
    c->watch = NULL;
    c->watch_ident = want; /* claimed: another thread that sees it arms nothing */
    atomic_store(&c->quiet, want == 0);
    wipc__mutex_unlock(&c->obj.lock);
    wipc__plat_proc_unwatch(old);
    wipc__proc_watch *w = NULL;
    if (want) {
        wipc__obj_ref(&c->obj); /* the watch's, dropped by watch_freed */
        w = wipc__plat_proc_watch((uint32_t)want, (uint32_t)(want >> 32), peer_exited, watch_freed, c);
        if (!w)
            wipc__obj_unref(&c->obj); /* cannot watch: the waits poll (quiet stays false) */
    }
    wipc__mutex_lock(&c->obj.lock);
    if (w && c->watch_ident == want && !c->watch) {
        c->watch = w;
        w = NULL;
        atomic_store(&c->quiet, true);
    }
    wipc__mutex_unlock(&c->obj.lock);
    wipc__plat_proc_unwatch(w); /* another thread moved the watch on meanwhile */
}

/* Creator: who holds the opener slot now. A new ident, or the same ident with a new session count
 * (the same process opened again), is a new opener; ident 0 or a dead process is none. No events
 * here: they follow the ring (shm_session.c). */
static wipc_status creator_check(wipc__shm_chan *c, bool force)
{
    wipc__shm_header *h = c->hdr;
    uint32_t session = atomic_load_explicit(&h->session, memory_order_acquire);
    uint64_t ident = atomic_load_explicit(&h->opener.ident, memory_order_acquire);
    bool arrived = false, lost = false;
    wipc__mutex_lock(&c->obj.lock);
    if (ident == 0) {
        lost = c->peer_ident != 0 && !c->peer_gone;
    } else if (ident != c->peer_ident || session != c->live_session) {
        arrived = c->peer_gone || ident != c->peer_ident;
        c->peer_ident = ident;
        c->live_session = session;
        c->obj.peer_pid = (uint32_t)ident;
        atomic_store(&c->peer_gone, false);
        c->next_live_check = wipc__deadline_at(0); /* a slot left by a killed opener looks the same: check at once */

        force = true;
        atomic_store(&c->watch_ok, false);
    }
    if (!lost && c->peer_ident && !c->peer_gone && live_check_due(c, force) && !ident_alive(c->peer_ident))
        lost = true;
    if (lost) {
        atomic_store(&c->peer_gone, true);
        atomic_store(&c->watch_ok, false);
    }
    bool gone = c->peer_gone;
    bool none = c->peer_ident == 0;
    uint32_t pid = c->obj.peer_pid;
    wipc__mutex_unlock(&c->obj.lock);
    if (arrived && !lost)
        wipc__log(WIPC_LOG_INFO, "shm %s: opener pid %u attached", c->obj.name, (unsigned)pid);
    if (lost) {
        wipc__log(WIPC_LOG_INFO, "shm %s: the opener (pid %u) %s", c->obj.name, (unsigned)pid,
                  ident ? "died" : "closed the channel");
        wake_all(c);
    }
    if (gone)
        return WIPC_E_DISCONNECTED;
    return none ? WIPC_E_NOT_FOUND : WIPC_OK;
}

/* Opener: the creator closed the channel or died. Final: waiters get WIPC_E_DISCONNECTED. The event
 * is raised by the reader thread (now, or once there are callbacks) after it has delivered what the
 * creator sent before it went: disc_pending is set in the same lock hold as peer_gone, which is
 * what makes the reader stop. obj.failed is left alone, so wipc_set_callbacks does not raise it
 * ahead of those messages either. */
static wipc_status opener_check(wipc__shm_chan *c, bool force)
{
    wipc__mutex_lock(&c->obj.lock);
    if (c->peer_gone) {
        wipc__mutex_unlock(&c->obj.lock);
        return WIPC_E_DISCONNECTED;
    }
    bool closed = atomic_load_explicit(&c->hdr->state, memory_order_acquire) != WIPC__SHM_STATE_READY;
    bool check = !closed && live_check_due(c, force);
    uint64_t peer = c->peer_ident;
    wipc__mutex_unlock(&c->obj.lock);
    bool dead = check && !ident_alive(peer);
    if (!closed && !dead)
        return WIPC_OK;
    bool first = false;
    wipc__mutex_lock(&c->obj.lock);
    if (!c->peer_gone) {
        first = true;
        atomic_store(&c->peer_gone, true);
        atomic_store(&c->watch_ok, false);
        c->disc_pending = true;
    }
    wipc__mutex_unlock(&c->obj.lock);
    if (first) {
        wipc__log(WIPC_LOG_INFO, "shm %s: the creator (pid %u) %s", c->obj.name, (unsigned)(uint32_t)peer,
                  closed ? "closed the channel" : "died");
        wake_all(c);
    }
    return WIPC_E_DISCONNECTED;
}

wipc_status wipc__shm_peer_check(wipc__shm_chan *c, bool force)
{
    wipc_status st = c->creator ? creator_check(c, force) : opener_check(c, force);
    watch_peer(c);
    return st;
}

wipc_status wipc__shm_fail(wipc__shm_chan *c, wipc_status why, const char *fn, const char *reason)
{
    wipc__log(WIPC_LOG_WARN, "shm %s: channel ended: %s", c->obj.name, reason);
    int32_t none = 0;
    atomic_compare_exchange_strong(&c->broken, &none, why);
    wipc__inbox_fail(&c->obj, why);
    wipc__shm_rx_wake(c);
    wipc__shm_tx_wake_all(c);
    return wipc__error(why, 0, "%s on shm channel %s: %s; the channel is ended", fn, c->obj.name, reason);
}

wipc_status wipc__shm_ended(wipc__shm_chan *c, const char *fn)
{
    if (wipc__shm_closed(c))
        return wipc__error(WIPC_E_CLOSED, 0, "%s on shm channel %s: the handle was closed", fn, c->obj.name);
    wipc__mutex_lock(&c->obj.lock);
    wipc_status failed = c->obj.failed;
    wipc__mutex_unlock(&c->obj.lock);
    if (failed && failed != WIPC_E_DISCONNECTED)
        return wipc__error(failed, 0, "%s on shm channel %s: the channel was ended by an earlier error (%s)", fn,
                           c->obj.name, wipc_status_name(failed));
    return wipc__error(WIPC_E_DISCONNECTED, 0, "%s on shm channel %s: the %s closed the channel or died", fn,
                       c->obj.name, c->creator ? "opener" : "creator");
}

/* ---- waiting ------------------------------------------------------------------------------------- */

bool wipc__shm_spin(wipc__shm_chan *c, bool (*ready)(void *), void *arg)
{
    if (ready(arg))
        return true;
    if (c->spin_us == 0)
        return false;
    uint64_t end = wipc__now_ns() + (uint64_t)c->spin_us * 1000u;
    for (unsigned i = 1;; i++) {
        wipc__cpu_relax(); /* one PAUSE per look: it is ~100 cycles already on recent cores */
        if (ready(arg))
            return true;
        if ((i & 63) == 0 && wipc__now_ns() >= end)
            return false;
    }
}

void wipc__shm_sleep(wipc__shm_chan *c, unsigned word, _Atomic uint32_t *flag, bool (*ready)(void *), void *arg,
                     int32_t ms)
{
    atomic_store_explicit(flag, 1, memory_order_seq_cst);
    /* Dekker: the flag store before re-reading the index. This side advertises WIPC__SHM_SIDE_ASYM when
     * it can: then the peer's publications carry no fence and this one must be the heavy one
     * (shm_layout.h, "Concurrency"). Should it fail, the peer's last publication may be unseen: the
     * wait is cut to 1 ms, so it is late, never lost. */
    if (c->rx.asym && !wipc__plat_shm_heavy_fence() && ms > 1)
        ms = 1;
    else if (!c->rx.asym)
        atomic_thread_fence(memory_order_seq_cst);
    if (!ready(arg) && !wipc__shm_closed(c))
        wipc__plat_shm_wait(c->sec, word, flag, 1, ms);
    atomic_store_explicit(flag, 0, memory_order_relaxed);
}

/* ---- leaving the channel ------------------------------------------------------------------------ */

/* Waits until no thread of this process is inside the rings (they leave promptly once closed). */
static void wait_idle(wipc__shm_chan *c)
{
    wipc__mutex_lock(&c->tx_lock);
    atomic_fetch_add(&c->tx_waiters, 1);
    while (atomic_load(&c->tx_state) == WIPC__TX_BUSY)
        wipc__cond_wait_until(&c->tx_cond, &c->tx_lock, wipc__deadline_in(SLICE_MS));
    atomic_fetch_sub(&c->tx_waiters, 1);
    wipc__mutex_unlock(&c->tx_lock);
    wipc__mutex_lock(&c->obj.lock);
    atomic_fetch_add(&c->role.waiters, 1);
    while (atomic_load(&c->role.holder) == WIPC__ROLE_BUSY)
        wipc__cond_wait_until(&c->obj.cond, &c->obj.lock, wipc__deadline_in(SLICE_MS));
    atomic_fetch_sub(&c->role.waiters, 1);
    wipc__mutex_unlock(&c->obj.lock);
}

/* Leaves the section: the peer learns at once (its waits are woken). */
static void detach(wipc__shm_chan *c)
{
    wipc__shm_header *h = c->hdr;
    if (c->creator) {
        atomic_store_explicit(&h->state, WIPC__SHM_STATE_CLOSED, memory_order_release);
        atomic_store_explicit(&h->creator.ident, 0, memory_order_release);
        wipc__plat_section_unlink(c->sec);
    } else {
        uint64_t mine = c->my_ident;
        atomic_compare_exchange_strong(&h->opener.ident, &mine, 0);
        uint64_t creator = atomic_load_explicit(&h->creator.ident, memory_order_acquire);
        if (creator == 0 || !ident_alive(creator))
            wipc__plat_section_unlink(c->sec); /* the creator cannot release the name any more */
    }
    /* the peer's reader waits on our tx ring's data word, its sender on our rx ring's space word */
    atomic_store(&h->ring[c->tx_index].data_wait, 0);
    wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_DATA(c->tx_index), &h->ring[c->tx_index].data_wait);
    atomic_store(&h->ring[c->rx_index].space_wait, 0);
    wipc__plat_shm_wake(c->sec, WIPC__SHM_WORD_SPACE(c->rx_index), &h->ring[c->rx_index].space_wait);
}

/* Closing, after the reader thread stopped and the waiters were woken: waits until no thread of this
 * process is inside the rings, drops the peer watch and leaves the section (the peer learns at once). */
void wipc__shm_leave(wipc__shm_chan *c)
{
    wait_idle(c);
    wipc__mutex_lock(&c->obj.lock);
    atomic_store(&c->watch_ok, false);
    wipc__mutex_unlock(&c->obj.lock);
    watch_peer(c); /* closed: the watch goes (its reference keeps the channel until it is freed) */
    detach(c);
}
