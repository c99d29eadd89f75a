/*
 * msg.c - the portable half of the window-message (msg) transport: the endpoint object behind a
 * wipc_msg_listen handle, what happens to each received message, and wipc_msg_listen itself.
 *
 * Receiving. The backend's receiver thread (the window thread on Windows, the socket thread on POSIX)
 * hands every message to wipc__core_msg_received, one at a time. It validates the payload header,
 * the size against max_message_size (before touching a user byte), then
 *   - queue mode (no callbacks): copies the message into the inbox read by wipc_recv; at queue_depth
 *     messages the sender is answered WIPC_E_BUSY; the reply value is 0;
 *   - callback mode: runs on_message right there, on the receiver thread (wipc__call_message_inline),
 *     and its return value is the sender's *out_reply. One receiver thread per endpoint = callbacks of
 *     one endpoint never run concurrently.
 * and returns the reply word (msg_wire.h) that the backend carries back to the sender.
 * A message without a valid wipc header comes from a foreign sender: a framed endpoint refuses it
 * (WARN log) and answers 0, the WM_COPYDATA "not handled"; a WIPC_MSG_RAW endpoint takes the whole
 * payload as the message and answers plainly (on_message's value, 1 when queued, 0 when refused).
 *
 * Switching to callbacks. wipc_set_callbacks moves messages queued so far to the endpoint's callback
 * strand (worker threads). The receiver thread must not run on_message inline while one of those
 * still runs, so on its first callback-mode message it waits for callbacks_set (the flush is done),
 * then puts a barrier at the tail of the strand and waits until the strand has passed it. The
 * barrier is a no-op work item whose `unpause` releases a private paused object holding one event
 * item; that event runs barrier_fired, which wakes the receiver thread.
 *
 * Closing. ops->close stops the backend (wipc__plat_msg_close joins the receiver thread, so no
 * callback runs once it returns, except when called from inside the callback itself). Senders
 * waiting get WIPC_E_DISCONNECTED; threads in wipc_recv get WIPC_E_CLOSED from the inbox.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/msg/msg.h"

typedef struct wipc__msg_ep {
    wipc__obj obj; /* first: an endpoint is an object */
    wipc__msg_rx *rx; /* backend; guarded by obj.lock, NULL once closed */
    uint32_t queue_depth;
    atomic_uint last_pid; /* pid of the last accepted message's sender */
    /* callback-mode hand-over, guarded by obj.lock, signalled on cb_cond */
    wipc__cond cb_cond;
    bool stopping; /* ops->close ran */
    bool cb_flushed; /* callbacks_set ran: the queue was moved to the strand */
    bool barrier_done; /* the strand passed our barrier */
    bool inline_ready; /* receiver thread only: on_message may run inline */
} wipc__msg_ep;

/* The endpoint whose on_message runs on this thread: inline on the receiver thread, or on a worker
 * strand (messages queued before wipc_set_callbacks). */
const char *wipc__msg_current_endpoint(void)
{
    const wipc__obj *o = wipc__current_callback();
    return o && o->ops->kind == WIPC_KIND_MSG_ENDPOINT ? o->name : NULL;
}

/* ---- the callback-mode barrier ------------------------------------------------------------------- */

static void barrier_destroy(wipc__obj *d)
{
    wipc__obj_unref(&((wipc__msg_ep *)d->user_data)->obj);
}

static const wipc__ops barrier_ops = {
    .kind = 0,
    .transport = WIPC_TRANSPORT_MSG,
    .destroy = barrier_destroy,
};

static void WIPC_CALL barrier_fired(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user)
{
    (void)h;
    (void)event;
    (void)related;
    (void)status;
    wipc__msg_ep *ep = (wipc__msg_ep *)user;
    wipc__mutex_lock(&ep->obj.lock);
    ep->barrier_done = true;
    wipc__cond_broadcast(&ep->cb_cond);
    wipc__mutex_unlock(&ep->obj.lock);
}

/* Queues the barrier behind everything on ep's strand. false if out of memory. */
static bool post_barrier(wipc__msg_ep *ep)
{
    wipc__obj *d = calloc(1, sizeof *d);
    wipc__work *mark = calloc(1, sizeof *mark);
    wipc__work *fire = calloc(1, sizeof *fire);
    if (!d || !mark || !fire) {
        free(d);
        free(mark);
        free(fire);
        return false;
    }
    wipc__obj_init(d, &barrier_ops, "msg-barrier", 0);
    d->on_event = barrier_fired;
    d->user_data = ep;
    wipc__obj_ref(&ep->obj); /* dropped in barrier_destroy */
    wipc__dispatch_pause(d, true);
    fire->what = WIPC__WORK_EVENT;
    wipc__dispatch(d, fire); /* held until d is un-paused */
    mark->what = 0; /* runs nothing; freeing it un-pauses d */
    wipc__obj_ref(d);
    mark->unpause = d;
    wipc__dispatch(&ep->obj, mark); /* even if ep is closed: then freed at once, d fires */
    wipc__obj_unref(d);
    return true;
}

/* Receiver thread, first message in callback mode: waits until the messages queued before
 * wipc_set_callbacks have been run by the strand. false if the endpoint is closing meanwhile. */
static bool enter_inline_mode(wipc__msg_ep *ep)
{
    wipc__obj *o = &ep->obj;
    wipc__mutex_lock(&o->lock);
    while (!ep->cb_flushed && !ep->stopping)
        wipc__cond_wait_until(&ep->cb_cond, &o->lock, wipc__deadline_never());
    bool go = !ep->stopping;
    wipc__mutex_unlock(&o->lock);
    if (!go)
        return false;
    if (!post_barrier(ep)) {
        wipc__log(WIPC_LOG_ERROR, "msg %s: out of memory for the callback hand-over; callbacks may overlap once",
                  o->name);
        ep->inline_ready = true;
        return true;
    }
    wipc__mutex_lock(&o->lock);
    while (!ep->barrier_done && !ep->stopping)
        wipc__cond_wait_until(&ep->cb_cond, &o->lock, wipc__deadline_never());
    go = ep->barrier_done && !ep->stopping;
    wipc__mutex_unlock(&o->lock);
    ep->inline_ready = go;
    return go;
}

/* ---- receiving ------------------------------------------------------------------------------------ */

/* A message not taken: logged; a wipc sender (`framed`) gets the reply word of `st`, a foreign one 0. */
static uint64_t refuse(wipc__msg_ep *ep, bool framed, wipc_status st, int level, const char *why)
{
    wipc__log(level, "msg %s: message refused (%s): %s", ep->obj.name, wipc_status_name(st), why);
    return wipc__msg_refusal(st, framed);
}

/* The answer to a message that was taken: the reply word for a wipc sender; for a foreign one on a
 * WIPC_MSG_RAW endpoint the plain LRESULT (on_message's value sign-extended; 1 = queued). */
static uint64_t taken(bool framed, bool queued, int32_t reply)
{
    if (framed)
        return wipc__msg_reply_encode(WIPC_OK, reply);
    return queued ? 1u : (uint64_t)(int64_t)reply;
}

uint64_t wipc__core_msg_received(struct wipc__msg_ep *ep, uint32_t type, const void *payload, size_t size,
                                 uint32_t os_pid)
{
    wipc__obj *o = &ep->obj;
    char why[200];
    wipc__msg_hdr hdr = { 0, 0 };
    size_t user_size = 0;
    const uint8_t *user;
    wipc_status st = wipc__msg_hdr_validate(payload, size, o->max_message_size, &hdr, &user_size, why, sizeof why);
    bool framed = st != WIPC_E_PROTOCOL; /* a valid wipc header: a wipc sender, who reads reply words */
    if (!framed && !(o->flags & WIPC_MSG_RAW)) {
        char from[40] = "an unknown process";
        if (os_pid)
            snprintf(from, sizeof from, "pid %u", (unsigned)os_pid);
        wipc__log(WIPC_LOG_WARN,
                  "msg %s: a message (type %u, %zu bytes) from %s is not a wipc message (%s); refused, "
                  "answered 0 (listen with WIPC_MSG_RAW to take plain WM_COPYDATA)",
                  o->name, (unsigned)type, size, from, why);
        return 0;
    }
    if (framed) {
        user = user_size ? (const uint8_t *)payload + WIPC__MSG_HEADER : NULL;
    } else { /* WIPC_MSG_RAW, foreign sender: the whole payload is the message */
        user = size ? (const uint8_t *)payload : NULL;
        user_size = size;
        st = WIPC_OK;
        if (size > o->max_message_size) {
            snprintf(why, sizeof why, "message of %zu bytes is above this endpoint's max_message_size %u", size,
                     (unsigned)o->max_message_size);
            st = WIPC_E_TOO_LARGE;
        }
    }
    if (st != WIPC_OK)
        return refuse(ep, framed, st, WIPC_LOG_WARN, why);
    if (atomic_load(&o->closed))
        return refuse(ep, framed, WIPC_E_CLOSED, WIPC_LOG_DEBUG, "the endpoint is closing");
    uint32_t pid = os_pid ? os_pid : hdr.pid;

    if (atomic_load(&o->has_callbacks)) {
        if (!ep->inline_ready && !enter_inline_mode(ep))
            return refuse(ep, framed, WIPC_E_CLOSED, WIPC_LOG_DEBUG, "the endpoint is closing");
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        m.type = type;
        m.data = user;
        m.size = user_size;
        m.peer_pid = pid;
        atomic_store(&ep->last_pid, pid);
        wipc__count_recv(o, user_size);
        wipc__obj_ref(o); /* the callback may close the handle: keep ep alive */
        int32_t reply = wipc__call_message_inline(o, &m);
        wipc__obj_unref(o);
        return taken(framed, false, reply);
    }

    wipc__mutex_lock(&o->lock);
    size_t queued = o->q_count;
    wipc__mutex_unlock(&o->lock);
    if (queued >= ep->queue_depth) {
        snprintf(why, sizeof why, "the queue holds %zu messages (queue_depth %u); read them with wipc_recv", queued,
                 (unsigned)ep->queue_depth);
        return refuse(ep, framed, WIPC_E_BUSY, WIPC_LOG_DEBUG, why);
    }
    wipc__rxmsg *m = wipc__rxmsg_new(user_size);
    if (!m)
        return refuse(ep, framed, WIPC_E_NO_MEMORY, WIPC_LOG_ERROR, "out of memory for a queued copy");
    if (user_size)
        memcpy(m->data, user, user_size);
    m->type = type;
    m->peer_pid = pid;
    atomic_store(&ep->last_pid, pid);
    wipc__inbox_deliver(o, WIPC__KIND_DATA, m); /* counts it; goes to the strand if callbacks came meanwhile */
    return taken(framed, true, 0);
}

/* ---- the endpoint object ------------------------------------------------------------------------- */

static void ep_close(wipc__obj *o)
{
    wipc__msg_ep *ep = (wipc__msg_ep *)o;
    wipc__mutex_lock(&o->lock);
    ep->stopping = true;
    wipc__msg_rx *rx = ep->rx;
    ep->rx = NULL;
    wipc__cond_broadcast(&ep->cb_cond);
    wipc__mutex_unlock(&o->lock);
    if (rx) {
        wipc__plat_msg_close(rx); /* joins the receiver thread unless we are on it */
        wipc__log(WIPC_LOG_INFO, "msg %s: closed", o->name);
    }
}

static void ep_destroy(wipc__obj *o)
{
    wipc__msg_ep *ep = (wipc__msg_ep *)o;
    if (ep->rx) { /* never registered (wipc_msg_listen failed late) */
        wipc__plat_msg_close(ep->rx);
        ep->rx = NULL;
    }
    wipc__cond_destroy(&ep->cb_cond);
}

static void ep_callbacks_set(wipc__obj *o)
{
    wipc__msg_ep *ep = (wipc__msg_ep *)o;
    wipc__mutex_lock(&o->lock);
    ep->cb_flushed = true;
    wipc__cond_broadcast(&ep->cb_cond);
    wipc__mutex_unlock(&o->lock);
}

static void ep_info(wipc__obj *o, wipc_info *out)
{
    wipc__msg_ep *ep = (wipc__msg_ep *)o;
    wipc__mutex_lock(&o->lock);
    out->connected = ep->rx != NULL;
    wipc__mutex_unlock(&o->lock);
    out->peer_pid = atomic_load(&ep->last_pid);
}

static const wipc__ops ep_ops = {
    .kind = WIPC_KIND_MSG_ENDPOINT,
    .transport = WIPC_TRANSPORT_MSG,
    .close = ep_close,
    .destroy = ep_destroy,
    .callbacks_set = ep_callbacks_set,
    .info = ep_info,
    /* no .send: an endpoint only receives (wipc_send -> WIPC_E_NOT_SUPPORTED; use wipc_msg_send) */
};

/* ---- entry points ---------------------------------------------------------------------------------- */

static void defaults(wipc_msg_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->max_message_size = WIPC_DEFAULT_MSG_MAX_MESSAGE;
    o->queue_depth = 64;
}

/* The 1.0 entry point: the 1.0 layout only (a 1.0 caller's struct is that small). In parentheses: the
 * header's macro of the same name stands for wipc_msg_options_init_size. */
WIPC_API void WIPC_CALL(wipc_msg_options_init)(wipc_msg_options *o)
{
    wipc_msg_options_init_size(o, WIPC__MSG_OPTIONS_1_0);
}

WIPC_API void WIPC_CALL wipc_msg_options_init_size(wipc_msg_options *o, uint32_t struct_size)
{
    wipc_msg_options d;
    defaults(&d);
    wipc__options_init_size(o, &d, sizeof d, struct_size);
}

#define MSG_QUEUE_DEPTH_MAX 65536u

WIPC_API wipc_status WIPC_CALL wipc_msg_listen(const char *name, const wipc_msg_options *user,
                                               wipc_handle *out_endpoint)
{
    static const char fn[] = "wipc_msg_listen";
    wipc_status st = wipc__check_out(out_endpoint, "wipc_msg_listen: out_endpoint");
    if (st != WIPC_OK)
        return st;
    *out_endpoint = 0;
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    if ((st = wipc__read_options(&o, sizeof o, user, "wipc_msg_options")) != WIPC_OK)
        return st;
    if ((st = wipc__check_name(name, fn)) != WIPC_OK)
        return st;
    if (o.flags & ~(uint32_t)(WIPC_MSG_ALLOW_LOWER_INTEGRITY | WIPC_MSG_NO_STATS | WIPC_MSG_RAW))
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): unknown flags 0x%x", fn, name, (unsigned)o.flags);
    if (o.max_message_size == 0 || o.max_message_size > WIPC__MSG_SIZE_LIMIT)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s(%s): max_message_size %u is outside 1..%u (the msg transport's limit)", fn, name,
                           (unsigned)o.max_message_size, (unsigned)WIPC__MSG_SIZE_LIMIT);
    if (o.queue_depth == 0 || o.queue_depth > MSG_QUEUE_DEPTH_MAX)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): queue_depth %u is outside 1..%u", fn, name,
                           (unsigned)o.queue_depth, (unsigned)MSG_QUEUE_DEPTH_MAX);

    wipc__msg_ep *ep = calloc(1, sizeof *ep);
    if (!ep)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "%s(%s): out of memory", fn, name);
    wipc__obj_init(&ep->obj, &ep_ops, name, o.flags);
    ep->obj.max_message_size = o.max_message_size;
    ep->queue_depth = o.queue_depth;
    wipc__cond_init(&ep->cb_cond);

    wipc__msg_cfg cfg = { o.flags, o.max_message_size, wipc__core_msg_received };
    wipc__msg_rx *rx = NULL;
    if (!(o.flags & WIPC_MSG_NO_STATS))
        wipc__stats_publish(&ep->obj, WIPC_TRANSPORT_MSG, name); /* before the receiver thread runs */
    if ((st = wipc__plat_msg_listen(name, &cfg, ep, &rx)) != WIPC_OK) {
        wipc__obj_unref(&ep->obj);
        return st;
    }
    wipc__mutex_lock(&ep->obj.lock);
    ep->rx = rx;
    wipc__mutex_unlock(&ep->obj.lock);
    if ((st = wipc__handle_add(&ep->obj)) != WIPC_OK) {
        atomic_store(&ep->obj.closed, true);
        ep_close(&ep->obj);
        wipc__obj_unref(&ep->obj);
        return st;
    }
    *out_endpoint = ep->obj.handle;
    wipc__log(WIPC_LOG_INFO, "msg %s: listening (max %u bytes, queue %u%s)", name, (unsigned)o.max_message_size,
              (unsigned)o.queue_depth, (o.flags & WIPC_MSG_RAW) ? ", raw" : "");
    return WIPC_OK;
}
