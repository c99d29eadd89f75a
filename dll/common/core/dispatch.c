/*
 * dispatch.c - runs user callbacks on library worker threads.
 *
 * Each object has a strand: a FIFO of work items run one at a time, in order. Ready strands wait in
 * one list; workers take a strand, run ONE item with no library lock held, then put the strand back
 * at the tail if it has more (fairness between handles). Workers start lazily and stop in
 * wipc_shutdown. wipc_close waits until no callback of the handle runs (unless called from inside it).
 *
 * Pool size: MIN_WORKERS start as soon as there is work; beyond that the pool grows only when the
 * workers make no progress: a monitor thread (started with the pool) watches while work waits and no
 * worker is idle, and adds a worker when none finished an item for STALL_MS (every one of them is
 * inside a callback that blocks, e.g. in wipc_request), up to MAX_WORKERS. Fast callbacks under load
 * are thus served by a few busy threads instead of one thread per connection (context switches and
 * lock hand-offs grew with the number of connections).
 */
#include <stdlib.h>
#include "common/core/core.h"
#include "common/core/op.h"

#define MAX_WORKERS 64
#define MIN_WORKERS 2
#define STALL_MS    40

static wipc__mutex d_lock = WIPC__MUTEX_INIT;
static wipc__cond d_work; /* workers wait for ready strands */
static wipc__cond d_idle; /* quiesce waits for a strand to stop running */
static wipc__cond d_watch; /* the monitor waits for a backlog */
static bool d_ready_init;
static wipc__obj *ready_head, *ready_tail;
static wipc__thread workers[MAX_WORKERS];
static int n_workers, n_idle;
static bool stopping;
static wipc__thread monitor;
static bool monitor_running;
static uint64_t progress; /* items finished, for the monitor */

static _Thread_local const wipc__obj *tls_running; /* the object whose callback this thread runs */

static void ensure_init_locked(void)
{
    if (!d_ready_init) {
        wipc__cond_init(&d_work);
        wipc__cond_init(&d_idle);
        wipc__cond_init(&d_watch);
        d_ready_init = true;
    }
}

static void make_ready_locked(wipc__obj *o)
{
    wipc__strand *s = &o->strand;
    if (s->queued || s->running || s->paused || !s->head)
        return;
    s->queued = true;
    s->next_ready = NULL;
    wipc__obj_ref(o); /* the ready list holds a reference */
    if (ready_tail)
        ready_tail->strand.next_ready = o;
    else
        ready_head = o;
    ready_tail = o;
}

static void free_work(wipc__work *w)
{
    if (w->op)
        w->complete(w->op, false); /* a completion dropped: only at shutdown of a strand that never ran */
    wipc__rxmsg_free(w->msg);
    if (w->unpause) {
        wipc__dispatch_pause(w->unpause, false);
        wipc__obj_unref(w->unpause);
    }
    free(w);
}

static void run_item(wipc__obj *o, wipc__work *w)
{
    if (w->what == WIPC__WORK_COMPLETE) { /* completions run whether or not the handle is closed */
        wipc__op *op = w->op;
        w->op = NULL;
        w->complete(op, true);
    } else if (!atomic_load(&o->closed)) {
        if (w->what == WIPC__WORK_MESSAGE && o->on_message) {
            wipc_message m;
            wipc__rxmsg_view(w->msg, &m);
            o->on_message(o->handle, &m, o->user_data);
        } else if (w->what == WIPC__WORK_EVENT && o->on_event) {
            o->on_event(o->handle, w->event, w->related, w->status, o->user_data);
        }
    }
    if (w->consumed)
        w->consumed(o, w->msg->size); /* back-pressure: the backlog shrank (may resume reading) */
    free_work(w);
}

static void worker_main(void *arg)
{
    (void)arg;
    wipc__mutex_lock(&d_lock);
    for (;;) {
        while (!ready_head && !stopping) {
            n_idle++;
            wipc__cond_wait_until(&d_work, &d_lock, wipc__deadline_never());
            n_idle--;
        }
        if (!ready_head && stopping)
            break;
        wipc__obj *o = ready_head;
        ready_head = o->strand.next_ready;
        if (!ready_head)
            ready_tail = NULL;
        wipc__strand *s = &o->strand;
        s->queued = false;
        wipc__work *w = s->head;
        if (w && !s->paused) {
            s->head = w->next;
            if (!s->head)
                s->tail = NULL;
            s->running = true;
            s->running_thread = wipc__thread_self();
            wipc__mutex_unlock(&d_lock);
            tls_running = o;
            run_item(o, w);
            tls_running = NULL;
            wipc__mutex_lock(&d_lock);
            s->running = false;
            progress++;
            wipc__cond_broadcast(&d_idle);
            make_ready_locked(o);
        }
        wipc__mutex_unlock(&d_lock);
        wipc__obj_unref(o); /* the ready list's reference */
        wipc__mutex_lock(&d_lock);
    }
    wipc__mutex_unlock(&d_lock);
}

static void start_worker_locked(void)
{
    if (n_workers < MAX_WORKERS && !stopping) {
        if (wipc__thread_start(&workers[n_workers], worker_main, NULL) == WIPC_OK)
            n_workers++;
        else
            wipc__log(WIPC_LOG_ERROR, "cannot start a callback worker thread (%d running)", n_workers);
    }
}

/* The monitor: while work waits and no worker is idle, it watches the progress counter; when no worker
 * finished an item for STALL_MS, they are all blocked in callbacks: one more worker. */
static bool monitor_parked; /* the monitor sleeps until a backlog forms (d_lock) */

static void monitor_main(void *arg)
{
    (void)arg;
    wipc__mutex_lock(&d_lock);
    uint64_t seen = progress, since = wipc__now_ms();
    while (!stopping) {
        if (!ready_head || n_idle > 0) {
            monitor_parked = true;
            wipc__cond_wait_until(&d_watch, &d_lock, wipc__deadline_never());
            monitor_parked = false;
            seen = progress;
            since = wipc__now_ms();
            continue;
        }
        uint64_t now = wipc__now_ms();
        if (progress != seen) {
            seen = progress;
            since = now;
        } else if (now - since >= STALL_MS) {
            start_worker_locked();
            since = now;
        }
        wipc__cond_wait_until(&d_watch, &d_lock, wipc__deadline_in(STALL_MS));
    }
    wipc__mutex_unlock(&d_lock);
}

static void wake_worker_locked(void)
{
    if (n_idle > 0) {
        wipc__cond_signal(&d_work);
        return;
    }
    if (n_workers < MIN_WORKERS) {
        start_worker_locked();
        return;
    }
    /* every worker is busy: they take this up when done, unless they are blocked (the monitor) */
    if (!monitor_running && !stopping) {
        if (wipc__thread_start(&monitor, monitor_main, NULL) == WIPC_OK)
            monitor_running = true;
        else
            start_worker_locked(); /* no monitor: grow at once, as without one */
    }
    if (monitor_parked)
        wipc__cond_signal(&d_watch);
}

void wipc__dispatch(wipc__obj *o, wipc__work *w)
{
    w->next = NULL;
    wipc__mutex_lock(&d_lock);
    ensure_init_locked();
    if (atomic_load(&o->closed) && w->what != WIPC__WORK_COMPLETE) {
        wipc__mutex_unlock(&d_lock);
        free_work(w);
        return;
    }
    wipc__strand *s = &o->strand;
    if (s->tail)
        s->tail->next = w;
    else
        s->head = w;
    s->tail = w;
    bool was_queued = s->queued;
    make_ready_locked(o);
    if (!was_queued && s->queued)
        wake_worker_locked();
    wipc__mutex_unlock(&d_lock);
}

void wipc__dispatch_event(wipc__obj *o, int32_t event, wipc_handle related, wipc_status status, wipc__obj *unpause)
{
    wipc__work *w = calloc(1, sizeof *w);
    if (!w) {
        wipc__log(WIPC_LOG_ERROR, "out of memory: event %d for handle 0x%016llx dropped", (int)event,
                  (unsigned long long)o->handle);
        if (unpause) {
            wipc__dispatch_pause(unpause, false);
            wipc__obj_unref(unpause);
        }
        return;
    }
    w->what = WIPC__WORK_EVENT;
    w->event = event;
    w->related = related;
    w->status = status;
    w->unpause = unpause;
    wipc__dispatch(o, w);
}

void wipc__dispatch_pause(wipc__obj *o, bool paused)
{
    wipc__mutex_lock(&d_lock);
    ensure_init_locked();
    o->strand.paused = paused;
    if (!paused) {
        bool was_queued = o->strand.queued;
        make_ready_locked(o);
        if (!was_queued && o->strand.queued)
            wake_worker_locked();
    }
    wipc__mutex_unlock(&d_lock);
}

bool wipc__in_callback(const wipc__obj *o)
{
    return o ? tls_running == o : tls_running != NULL;
}

const wipc__obj *wipc__current_callback(void)
{
    return tls_running;
}

void wipc__dispatch_quiesce(wipc__obj *o)
{
    wipc__work *drop;
    wipc__mutex_lock(&d_lock);
    ensure_init_locked();
    uint64_t self = wipc__thread_self();
    while (o->strand.running && o->strand.running_thread != self)
        wipc__cond_wait_until(&d_idle, &d_lock, wipc__deadline_never());
    /* message and event items are dropped; completions stay, in order (they must run exactly once) */
    drop = NULL;
    wipc__work **tail = &drop, *keep = NULL, *keep_tail = NULL;
    for (wipc__work *w = o->strand.head, *next; w; w = next) {
        next = w->next;
        w->next = NULL;
        if (w->what == WIPC__WORK_COMPLETE) {
            if (keep_tail)
                keep_tail->next = w;
            else
                keep = w;
            keep_tail = w;
        } else {
            *tail = w;
            tail = &w->next;
        }
    }
    o->strand.head = keep;
    o->strand.tail = keep_tail;
    wipc__mutex_unlock(&d_lock);
    while (drop) {
        wipc__work *next = drop->next;
        free_work(drop);
        drop = next;
    }
}

void wipc__dispatch_drain(wipc__obj *o)
{
    wipc__mutex_lock(&d_lock);
    ensure_init_locked();
    uint64_t self = wipc__thread_self();
    while ((o->strand.head && !o->strand.paused) || o->strand.running) {
        if (o->strand.running && o->strand.running_thread == self)
            break; /* inside o's callback: what is queued runs right after it */
        wipc__cond_wait_until(&d_idle, &d_lock, wipc__deadline_never());
    }
    wipc__mutex_unlock(&d_lock);
}

void wipc__dispatch_shutdown(void)
{
    wipc__mutex_lock(&d_lock);
    ensure_init_locked();
    stopping = true;
    wipc__cond_broadcast(&d_work);
    wipc__cond_broadcast(&d_watch);
    bool mon = monitor_running;
    wipc__mutex_unlock(&d_lock);
    if (mon)
        wipc__thread_join(&monitor); /* first: it starts no worker after this */
    wipc__mutex_lock(&d_lock);
    int n = n_workers;
    monitor_running = false;
    wipc__mutex_unlock(&d_lock);
    for (int i = 0; i < n; i++)
        wipc__thread_join(&workers[i]);
    wipc__mutex_lock(&d_lock);
    n_workers = 0;
    stopping = false;
    wipc__mutex_unlock(&d_lock);
}

int32_t wipc__call_message_inline(wipc__obj *o, const wipc_message *m)
{
    const wipc__obj *outer = tls_running;
    tls_running = o;
    int32_t r = (!atomic_load(&o->closed) && o->on_message) ? o->on_message(o->handle, m, o->user_data) : 0;
    tls_running = outer;
    return r;
}
