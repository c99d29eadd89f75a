/*
 * object.c - life of the object behind a handle: init, reference counting, and received messages.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/core/core.h"

void wipc__obj_init(wipc__obj *o, const wipc__ops *ops, const char *name, uint32_t flags)
{
    memset(o, 0, sizeof *o);
    o->ops = ops;
    atomic_init(&o->refs, 1);
    o->flags = flags;
    snprintf(o->name, sizeof o->name, "%s", name ? name : "");
    wipc__mutex_init(&o->lock);
    wipc__cond_init(&o->cond);
    atomic_init(&o->next_request_id, 1);
    o->max_queued_bytes = WIPC_DEFAULT_MAX_QUEUED_BYTES;
    o->max_queued_count = WIPC_DEFAULT_MAX_QUEUED_MESSAGES;
    o->ctr = &o->ctr_local;
}

void wipc__obj_ref(wipc__obj *o)
{
    atomic_fetch_add_explicit(&o->refs, 1, memory_order_relaxed);
}

void wipc__obj_unref(wipc__obj *o)
{
    if (atomic_fetch_sub_explicit(&o->refs, 1, memory_order_acq_rel) != 1)
        return;
    wipc__stats_drop(o);
    if (o->ops->destroy)
        o->ops->destroy(o);
    wipc__rxmsg *m = o->q_head;
    while (m) {
        wipc__rxmsg *next = m->next;
        wipc__rxmsg_free(m);
        m = next;
    }
    wipc__cond_destroy(&o->cond);
    wipc__mutex_destroy(&o->lock);
    free(o);
}

wipc__rxmsg *wipc__rxmsg_new(size_t size)
{
    wipc__rxmsg *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->size = size;
    if (size) {
        m->data = malloc(size);
        if (!m->data) {
            free(m);
            return NULL;
        }
    }
    return m;
}

void wipc__rxmsg_view(const wipc__rxmsg *src, wipc_message *out)
{
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    out->type = src->type;
    out->data = src->data;
    out->size = src->size;
    out->request_id = src->request_id;
    out->peer_pid = src->peer_pid;
}

void wipc__rxmsg_free(wipc__rxmsg *m)
{
    if (m) {
        free(m->data);
        free(m);
    }
}

void wipc__fill_info(wipc__obj *o, wipc_info *out)
{
    wipc_info full;
    memset(&full, 0, sizeof full);
    full.struct_size = out->struct_size;
    full.kind = o->ops->kind;
    full.transport = o->ops->transport;
    full.flags = o->flags;
    wipc__mutex_lock(&o->lock); /* transports set the peer's identity under the lock (handshake, attach) */
    full.peer_pid = o->peer_pid;
    full.peer_uid = o->peer_uid;
    wipc__mutex_unlock(&o->lock);
    full.messages_sent = atomic_load(&o->ctr->msgs_sent);
    full.messages_received = atomic_load(&o->ctr->msgs_recv);
    full.bytes_sent = atomic_load(&o->ctr->bytes_sent);
    full.bytes_received = atomic_load(&o->ctr->bytes_recv);
    full.max_message_size = o->max_message_size;
    snprintf(full.name, sizeof full.name, "%s", o->name);
    if (o->ops->info)
        o->ops->info(o, &full);
    size_t n = out->struct_size < sizeof full ? out->struct_size : sizeof full;
    memcpy(out, &full, n);
}
