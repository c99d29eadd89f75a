/*
 * op.c - asynchronous operations: table, pending lists, exactly-once completion, the timer thread,
 * wipc_cancel, and what wipc_close / wipc_shutdown do to pending operations (see op.h).
 *
 * The timer: one library thread for every operation's deadline (and connect retries), sleeping on a
 * condition variable until the earliest entry of a binary min-heap of fire times. Started with the
 * first operation that has a deadline, stopped by wipc_shutdown.
 */
#include <stdlib.h>
#include "common/core/op.h"

/* ---- the table: id -> op (chained hash) ---------------------------------------------------------- */

static wipc__mutex t_lock = WIPC__MUTEX_INIT;
static wipc__op **t_buckets;
static size_t t_nbuckets, t_count;
static atomic_uint_fast64_t next_id = 1;

static size_t bucket_of(wipc_op id, size_t n)
{
    return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 20) & (n - 1);
}

static bool table_grow_locked(void)
{
    size_t n = t_nbuckets ? t_nbuckets * 2 : 1024;
    wipc__op **b = calloc(n, sizeof *b);
    if (!b)
        return t_nbuckets != 0; /* keep the old table (longer chains) */
    for (size_t i = 0; i < t_nbuckets; i++)
        for (wipc__op *op = t_buckets[i], *next; op; op = next) {
            next = op->tnext;
            size_t k = bucket_of(op->id, n);
            op->tnext = b[k];
            b[k] = op;
        }
    free(t_buckets);
    t_buckets = b;
    t_nbuckets = n;
    return true;
}

static bool table_add(wipc__op *op)
{
    wipc__mutex_lock(&t_lock);
    if ((t_count >= t_nbuckets * 2 || !t_nbuckets) && !table_grow_locked()) {
        wipc__mutex_unlock(&t_lock);
        return false;
    }
    size_t k = bucket_of(op->id, t_nbuckets);
    op->tnext = t_buckets[k];
    t_buckets[k] = op;
    op->in_table = true;
    t_count++;
    wipc__mutex_unlock(&t_lock);
    return true;
}

static void table_remove(wipc__op *op)
{
    wipc__mutex_lock(&t_lock);
    if (op->in_table) {
        for (wipc__op **pp = &t_buckets[bucket_of(op->id, t_nbuckets)]; *pp; pp = &(*pp)->tnext)
            if (*pp == op) {
                *pp = op->tnext;
                break;
            }
        op->in_table = false;
        t_count--;
    }
    wipc__mutex_unlock(&t_lock);
}

/* The pending op `id` with a reference, or NULL. */
static wipc__op *table_find(wipc_op id)
{
    wipc__op *found = NULL;
    wipc__mutex_lock(&t_lock);
    if (t_nbuckets)
        for (wipc__op *op = t_buckets[bucket_of(id, t_nbuckets)]; op; op = op->tnext)
            if (op->id == id) {
                wipc__op_ref(op);
                found = op;
                break;
            }
    wipc__mutex_unlock(&t_lock);
    return found;
}

/* ---- the timer ----------------------------------------------------------------------------------- */

static wipc__mutex tm_lock = WIPC__MUTEX_INIT;
static wipc__cond tm_cond;
static bool tm_init, tm_running, tm_stop;
static wipc__thread tm_thread;
static wipc__op **heap;
static size_t heap_n, heap_cap;

static void heap_set(size_t i, wipc__op *op)
{
    heap[i] = op;
    op->heap_pos = i + 1;
}

static void heap_up(size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent]->fire_at.at_ms <= heap[i]->fire_at.at_ms)
            break;
        wipc__op *a = heap[parent];
        heap_set(parent, heap[i]);
        heap_set(i, a);
        i = parent;
    }
}

static void heap_down(size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_n && heap[l]->fire_at.at_ms < heap[m]->fire_at.at_ms)
            m = l;
        if (r < heap_n && heap[r]->fire_at.at_ms < heap[m]->fire_at.at_ms)
            m = r;
        if (m == i)
            return;
        wipc__op *a = heap[m];
        heap_set(m, heap[i]);
        heap_set(i, a);
        i = m;
    }
}

static void heap_remove_locked(wipc__op *op)
{
    if (!op->heap_pos)
        return;
    size_t i = op->heap_pos - 1;
    op->heap_pos = 0;
    heap_n--;
    if (i == heap_n)
        return;
    heap_set(i, heap[heap_n]);
    heap_up(i);
    heap_down(heap[i]->heap_pos - 1);
}

static void timer_main(void *arg);

/* Puts op on the heap at op->fire_at (timer lock held). false: no memory or no thread. */
static bool heap_add_locked(wipc__op *op)
{
    if (!tm_init) {
        wipc__cond_init(&tm_cond);
        tm_init = true;
    }
    if (!tm_running) {
        tm_stop = false;
        if (wipc__thread_start(&tm_thread, timer_main, NULL) != WIPC_OK)
            return false;
        tm_running = true;
    }
    if (heap_n == heap_cap) {
        size_t n = heap_cap ? heap_cap * 2 : 256;
        wipc__op **h = realloc(heap, n * sizeof *h);
        if (!h)
            return false;
        heap = h;
        heap_cap = n;
    }
    heap_set(heap_n++, op);
    heap_up(heap_n - 1);
    if (op->heap_pos == 1)
        wipc__cond_signal(&tm_cond); /* a new earliest entry */
    return true;
}

static void timer_main(void *arg)
{
    (void)arg;
    wipc__mutex_lock(&tm_lock);
    while (!tm_stop) {
        if (!heap_n) {
            wipc__cond_wait_until(&tm_cond, &tm_lock, wipc__deadline_never());
            continue;
        }
        wipc__op *op = heap[0];
        if (!wipc__deadline_passed(op->fire_at)) {
            wipc__cond_wait_until(&tm_cond, &tm_lock, op->fire_at);
            continue;
        }
        heap_remove_locked(op);
        wipc__op_ref(op);
        wipc__mutex_unlock(&tm_lock);
        if (atomic_load(&op->state) == 0) {
            if (op->vt && op->vt->timer)
                op->vt->timer(op); /* it keeps its deadline itself (connect: retries, handshake grace) */
            else
                wipc__op_stop(op, WIPC_E_TIMEOUT);
        }
        wipc__op_unref(op);
        wipc__mutex_lock(&tm_lock);
    }
    wipc__mutex_unlock(&tm_lock);
}

void wipc__op_timer_at(wipc__op *op, wipc__deadline at)
{
    at = wipc__deadline_min(at, op->deadline);
    wipc__mutex_lock(&tm_lock);
    if (atomic_load(&op->state) == 0) {
        heap_remove_locked(op);
        op->fire_at = at;
        if (!heap_add_locked(op))
            wipc__log(WIPC_LOG_ERROR, "async operation %llu: cannot arm the timer", (unsigned long long)op->id);
    }
    wipc__mutex_unlock(&tm_lock);
}

/* ---- life ------------------------------------------------------------------------------------------ */

static const wipc__ops strand_ops = { .kind = 0, .transport = 0 };

wipc_status wipc__op_new(wipc__obj *o, int kind, const wipc__op_vt *vt, wipc_complete_cb cb, void *user_data,
                         int32_t timeout_ms, wipc__op **out)
{
    *out = NULL;
    wipc__op *op = calloc(1, sizeof *op);
    if (!op)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for an asynchronous operation");
    if (o) {
        wipc__obj_ref(o);
        op->handle = o->handle;
    } else {
        o = calloc(1, sizeof *o); /* a strand of its own */
        if (!o) {
            free(op);
            return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for an asynchronous operation");
        }
        wipc__obj_init(o, &strand_ops, "", 0);
    }
    op->obj = o;
    op->kind = kind;
    op->vt = vt;
    op->cb = cb;
    op->user_data = user_data;
    atomic_init(&op->refs, 1);
    atomic_init(&op->state, 0);
    op->id = atomic_fetch_add(&next_id, 1);
    op->deadline = wipc__deadline_in(timeout_ms);
    *out = op;
    return WIPC_OK;
}

void wipc__op_ref(wipc__op *op)
{
    atomic_fetch_add_explicit(&op->refs, 1, memory_order_relaxed);
}

void wipc__op_unref(wipc__op *op)
{
    if (atomic_fetch_sub_explicit(&op->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (op->vt && op->vt->release)
        op->vt->release(op);
    wipc__rxmsg_free(op->msg);
    wipc__obj_unref(op->obj);
    free(op);
}

wipc_status wipc__op_start_locked(wipc__op *op, bool fifo)
{
    wipc__obj *o = op->obj;
    if (atomic_load(&o->closed))
        return wipc__error(WIPC_E_CLOSED, 0, "asynchronous operation on %s: the handle is closed", o->name);
    if (!table_add(op))
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for the operation table");
    op->next = o->ops_head;
    op->prev = NULL;
    if (o->ops_head)
        o->ops_head->prev = op;
    o->ops_head = op;
    op->in_list = true;
    if (fifo) {
        op->fnext = NULL;
        if (o->fifo_tail)
            o->fifo_tail->fnext = op;
        else
            o->fifo_head = op;
        o->fifo_tail = op;
        op->in_fifo = true;
    }
    if (!wipc__deadline_is_never(op->deadline))

        wipc__op_timer_at(op, op->deadline);
    return WIPC_OK;
}

wipc_status wipc__op_start(wipc__op *op, bool fifo)
{
    wipc__mutex_lock(&op->obj->lock);
    wipc_status st = wipc__op_start_locked(op, fifo);
    wipc__mutex_unlock(&op->obj->lock);
    return st;
}

bool wipc__op_claim(wipc__op *op)
{
    int expected = 0;
    return atomic_compare_exchange_strong(&op->state, &expected, 1);
}

static void unlink_locked(wipc__op *op)
{
    wipc__obj *o = op->obj;
    if (op->in_list) {
        if (op->prev)
            op->prev->next = op->next;
        else
            o->ops_head = op->next;
        if (op->next)
            op->next->prev = op->prev;
        op->in_list = false;
    }
    if (op->in_fifo) {
        wipc__op *prev = NULL;
        for (wipc__op *f = o->fifo_head; f; prev = f, f = f->fnext)
            if (f == op) {
                if (prev)
                    prev->fnext = op->fnext;
                else
                    o->fifo_head = op->fnext;
                if (o->fifo_tail == op)
                    o->fifo_tail = prev;
                break;
            }
        op->in_fifo = false;
    }
}

/* A COMPLETE work item's hook (wipc__work.complete): dispatch.c runs the completion, or drops it. */
static void work_complete(wipc__op *op, bool run)
{
    if (run)
        wipc__op_run_completion(op);
    else
        wipc__op_unref(op);
}

void wipc__op_finish(wipc__op *op, wipc_status st, bool obj_locked)
{
    wipc__obj *o = op->obj;
    op->status = st;
    if (!obj_locked)
        wipc__mutex_lock(&o->lock);
    unlink_locked(op);
    if (!obj_locked)
        wipc__mutex_unlock(&o->lock);
    wipc__mutex_lock(&tm_lock);
    heap_remove_locked(op);
    wipc__mutex_unlock(&tm_lock);
    table_remove(op);
    if (!op->cb) { /* internal: nobody to tell */
        wipc__op_unref(op);
        return;
    }
    wipc__work *w = calloc(1, sizeof *w);
    if (!w) {
        /* the completion must still run exactly once: run it here, on this library thread */
        wipc__log(WIPC_LOG_ERROR, "out of memory queueing the completion of operation %llu; it runs inline",
                  (unsigned long long)op->id);
        if (obj_locked)
            wipc__mutex_unlock(&o->lock);
        wipc__op_run_completion(op);
        if (obj_locked)
            wipc__mutex_lock(&o->lock);
        return;
    }
    w->what = WIPC__WORK_COMPLETE;
    w->op = op; /* the creator's reference goes to the strand */
    w->complete = work_complete; /* dispatch.c runs it through this (it sits below op.c) */
    wipc__dispatch(o, w);
}

bool wipc__op_abort(wipc__op *op)
{
    if (!wipc__op_claim(op))
        return false;
    wipc__mutex_lock(&op->obj->lock);
    unlink_locked(op);
    wipc__mutex_unlock(&op->obj->lock);
    wipc__mutex_lock(&tm_lock);
    heap_remove_locked(op);
    wipc__mutex_unlock(&tm_lock);
    table_remove(op);
    return true;
}

bool wipc__op_complete(wipc__op *op, wipc_status st)
{
    if (!wipc__op_claim(op))
        return false;
    wipc__op_finish(op, st, false);
    return true;
}

bool wipc__op_complete_locked(wipc__op *op, wipc_status st)
{
    if (!wipc__op_claim(op))
        return false;
    wipc__op_finish(op, st, true);
    return true;
}

void wipc__op_stop(wipc__op *op, wipc_status why)
{
    if (op->vt && op->vt->stop)
        op->vt->stop(op, why);
    else
        wipc__op_complete(op, why);
}

void wipc__op_run_completion(wipc__op *op)
{
    wipc_message m;
    wipc_completion c;
    memset(&c, 0, sizeof c);
    c.struct_size = sizeof c;
    c.op = op->id;
    c.status = op->status;
    c.handle = op->handle;
    c.related = op->related;
    c.msg_reply = op->msg_reply;
    if (op->msg) {
        wipc__rxmsg_view(op->msg, &m);
        c.message = &m;
    }
    if (op->cb)
        op->cb(&c, op->user_data);
    wipc__op_unref(op);
}

/* ---- finders ----------------------------------------------------------------------------------------- */

wipc__op *wipc__op_take_fifo_locked(wipc__obj *o, int kind)
{
    for (wipc__op *op = o->fifo_head; op; op = op->fnext)
        if (op->kind == kind && wipc__op_claim(op))
            return op;
    return NULL;
}

bool wipc__op_has_fifo_locked(wipc__obj *o)
{
    for (wipc__op *op = o->fifo_head; op; op = op->fnext)
        if (atomic_load(&op->state) == 0)
            return true;
    return false;
}

wipc__op *wipc__op_find_request(wipc__obj *o, uint64_t rid)
{
    if (!(rid & WIPC__ASYNC_RID_BIT))
        return NULL;
    wipc__op *op = table_find(rid & ~WIPC__ASYNC_RID_BIT);
    if (op && (op->obj != o || op->kind != WIPC__OP_REQUEST)) { /* a forged id: not this handle's */
        wipc__op_unref(op);
        op = NULL;
    }
    return op;
}

/* Collects o's pending ops matching `pred` with a reference each (obj lock held). */
static size_t collect_locked(wipc__obj *o, bool (*pred)(wipc__op *), wipc__op ***out)
{
    size_t n = 0;
    for (wipc__op *op = o->ops_head; op; op = op->next)
        if (!pred || pred(op))
            n++;
    *out = NULL;
    if (!n)
        return 0;
    wipc__op **v = malloc(n * sizeof *v);
    if (!v)
        return 0;
    size_t i = 0;
    for (wipc__op *op = o->ops_head; op; op = op->next)
        if (!pred || pred(op)) {
            wipc__op_ref(op);
            v[i++] = op;
        }
    *out = v;
    return n;
}

static bool is_reader(wipc__op *op)
{
    return op->kind == WIPC__OP_RECV || op->kind == WIPC__OP_REQUEST || op->kind == WIPC__OP_ACCEPT;
}

static void complete_all(wipc__op **v, size_t n, wipc_status why, bool stop)
{
    for (size_t i = 0; i < n; i++) {
        if (stop)
            wipc__op_stop(v[i], why);
        else
            wipc__op_complete(v[i], why);
        wipc__op_unref(v[i]);
    }
    free(v);
}

void wipc__op_fail_readers(wipc__obj *o, wipc_status why)
{
    wipc__op **v;
    wipc__mutex_lock(&o->lock);
    size_t n = o->ops_head ? collect_locked(o, is_reader, &v) : 0;
    wipc__mutex_unlock(&o->lock);
    if (n)
        complete_all(v, n, atomic_load(&o->closed) ? WIPC_E_CLOSED : why, false);
}

void wipc__op_close_obj(wipc__obj *o)
{
    wipc__op **v;
    for (;;) { /* an op started by a racing thread just before the close is swept too */
        wipc__mutex_lock(&o->lock);
        size_t n = o->ops_head ? collect_locked(o, NULL, &v) : 0;
        wipc__mutex_unlock(&o->lock);
        if (!n)
            break;
        complete_all(v, n, WIPC_E_CLOSED, false);
    }
    wipc__dispatch_drain(o);
}

void wipc__op_shutdown(void)
{
    /* every op left has no handle (connect, msg_send): complete them, then stop the timer */
    for (;;) {
        wipc__op *op = NULL;
        wipc__mutex_lock(&t_lock);
        for (size_t i = 0; i < t_nbuckets && !op; i++)
            if (t_buckets[i]) {
                op = t_buckets[i];
                wipc__op_ref(op);
            }
        wipc__mutex_unlock(&t_lock);
        if (!op)
            break;
        wipc__obj *strand = op->obj;
        wipc__obj_ref(strand);
        if (!wipc__op_complete(op, WIPC_E_CLOSED))
            table_remove(op); /* being completed by another thread: it unlinks it itself */
        wipc__op_unref(op);
        wipc__dispatch_drain(strand);
        wipc__obj_unref(strand);
    }
    wipc__mutex_lock(&tm_lock);
    bool running = tm_running;
    tm_stop = true;
    if (tm_init)
        wipc__cond_signal(&tm_cond);
    wipc__mutex_unlock(&tm_lock);
    if (running)
        wipc__thread_join(&tm_thread);
    wipc__mutex_lock(&tm_lock);
    tm_running = false;
    wipc__mutex_unlock(&tm_lock);
}

/* ---- wipc_cancel ------------------------------------------------------------------------------------- */

WIPC_API wipc_status WIPC_CALL wipc_cancel(wipc_op id)
{
    wipc__op *op = id ? table_find(id) : NULL;
    if (!op)
        return wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_cancel: operation %llu has completed already or never existed",
                           (unsigned long long)id);
    bool pending = atomic_load(&op->state) == 0;
    if (pending)
        wipc__op_stop(op, WIPC_E_CANCELLED);
    wipc__op_unref(op);
    if (!pending)
        return wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_cancel: operation %llu has completed already",
                           (unsigned long long)id);
    return WIPC_OK;
}
