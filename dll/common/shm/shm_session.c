/*
 * shm_session.c - the creator's view of its opener sessions, in ring order (the rule is in
 * shm_layout.h, "Sessions"). Only the reader-role holder calls these, so the rx_* state needs no
 * lock: blocking readers keep it up to date silently, the reader thread (callbacks) also raises
 * WIPC_EVENT_CONNECTED / _DISCONNECTED through the callback strand, between the messages it
 * delivers there, so each opener's events and messages reach the application in order:
 * CONNECTED, its messages (peer_pid = the pid stamped in each record), DISCONNECTED.
 *
 * A session begins when a record stamped with a later session arrives, or when the ring is empty
 * and the header's counter has moved on. It ends when a later one begins, or when the ring is empty
 * and the opener slot no longer holds its opener (left: 0; replaced: another ident) or that process
 * died. The header values are read before the ring is found empty: an opener publishes its records
 * before it releases the slot, so by then every record of the sessions before is delivered.
 */
#include "common/shm/shm.h"

#define SKIPPED_MAX 16 /* sessions that wrote nothing reported in a row, at most (the counter is untrusted) */

static void sess_event(wipc__shm_chan *c, int32_t event)
{
    if (atomic_load(&c->obj.has_callbacks))
        wipc__dispatch_event(&c->obj, event, 0, event == WIPC_EVENT_CONNECTED ? WIPC_OK : WIPC_E_DISCONNECTED, NULL);
}

static void sess_end(wipc__shm_chan *c)
{
    if (!c->rx_open)
        return;
    c->rx_open = false;
    wipc__shm_stream_drop(c, "its opener left mid-message"); /* never delivered in part */
    wipc__stats_peer(&c->obj, 0);
    if (c->rx_announced)
        sess_event(c, WIPC_EVENT_DISCONNECTED);
}

/* Raises the open session's CONNECTED if there are callbacks and it was not raised yet: when the
 * session begins, or (it began before the callbacks were set) when the reader thread starts, so
 * that every DISCONNECTED follows its CONNECTED. */
void wipc__shm_sess_announce(wipc__shm_chan *c)
{
    if (c->creator && c->rx_open && !c->rx_announced && atomic_load(&c->obj.has_callbacks)) {
        c->rx_announced = true;
        wipc__dispatch_event(&c->obj, WIPC_EVENT_CONNECTED, 0, WIPC_OK, NULL);
    }
}

/* The session `ahead` sessions after rx_sess began: the open one ended; the ones in between
 * attached and left without a frame. */
static void sess_begin(wipc__shm_chan *c, uint32_t ahead)
{
    sess_end(c);
    for (uint32_t i = 1; i < ahead && i <= SKIPPED_MAX; i++) {
        sess_event(c, WIPC_EVENT_CONNECTED);
        sess_event(c, WIPC_EVENT_DISCONNECTED);
    }
    c->rx_sess += ahead;
    c->rx_open = true;
    wipc__stats_peer(&c->obj, 1);
    c->rx_ident = 0;
    c->rx_announced = false;
    wipc__shm_sess_announce(c);
}

/* How far `session` (from the header, 32 bits) is ahead of rx_sess; 0 if not ahead (or corrupt). */
static uint32_t sess_ahead(const wipc__shm_chan *c, uint32_t session)
{
    uint32_t ahead = session - c->rx_sess;
    return ahead <= 0x7FFFFFFFu ? ahead : 0;
}

/* A record is about to be delivered: begin its session if it is a later one. Returns the pid to
 * report with it: the stamped one, else (a writer without stamps) the live peer's. */
uint32_t wipc__shm_sess_record(wipc__shm_chan *c, const wipc__ring_rec *rec)
{
    if (c->creator) {
        uint32_t stamp = rec->session & WIPC__SHM_SESSION_MASK;
        if (stamp) {
            uint32_t ahead = (stamp - c->rx_sess) & WIPC__SHM_SESSION_MASK;
            if (ahead && ahead <= WIPC__SHM_SESSION_MASK / 2)
                sess_begin(c, ahead);
        } else { /* a writer without stamps (an older library): the counter and the slot are all there is */
            uint32_t ahead = sess_ahead(c, atomic_load_explicit(&c->hdr->session, memory_order_acquire));
            if (ahead) {
                wipc__shm_peer_check(c, false); /* learn the new opener's pid, if it is still attached */
                sess_begin(c, ahead);
            }
        }
    }
    if (rec->pid)
        return rec->pid;
    wipc__mutex_lock(&c->obj.lock);
    uint32_t pid = c->obj.peer_pid;
    wipc__mutex_unlock(&c->obj.lock);
    return pid;
}

/* The ring is empty, and `session` / `ident` were read from the header before it was found so:
 * every record written before them has been delivered. `dead_ident` is the opener the live check
 * found dead before that (0: none); a process found dead had published all its records. Begins the
 * sessions counted since (their openers wrote nothing yet, or nothing at all) and ends the open one
 * if its opener is not the one in the slot any more, or died. */
void wipc__shm_sess_idle(wipc__shm_chan *c, uint32_t session, uint64_t ident, uint64_t dead_ident)
{
    uint32_t ahead = sess_ahead(c, session);
    if (ahead)
        sess_begin(c, ahead);
    if (!c->rx_open)
        return;
    /* The slot may already hold the next opener, which claims it before it counts itself: then
     * this session ends when that one is counted, a moment later. */
    if (c->rx_ident == 0)
        c->rx_ident = ident;
    bool dead = ident && dead_ident == ident;
    if (ident == 0 || ident != c->rx_ident || dead)
        sess_end(c);
}
