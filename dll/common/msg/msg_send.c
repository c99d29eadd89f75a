/*
 * msg_send.c - the sending side of the msg transport: wipc_msg_send, wipc_msg_broadcast and
 * wipc_msg_list. Arguments are checked here; the backend finds the endpoint(s) and moves the payload
 * (wipc payload header + user bytes); the reply word it brings back is decoded here.
 *
 * Broadcast = list + one send per endpoint (message-only windows do not get HWND_BROADCAST), each
 * with the full timeout_ms, like SendMessageTimeoutW gives every window of a broadcast the full
 * timeout. *out_delivered counts the endpoints that accepted the message.
 *
 * A destination of the form class:/title:/path: (wipc.h) is a raw send, handled in msg_target.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include "common/msg/msg.h"

static wipc_status check_payload(const char *fn, const void *data, size_t size, int32_t timeout_ms)
{
    if (!data && size)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: data is NULL but size is %zu", fn, size);
    if (timeout_ms < WIPC_INFINITE)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s: timeout %d ms is negative (use WIPC_INFINITE = -1 to wait forever)", fn,
                           (int)timeout_ms);
    if (size > WIPC__MSG_SIZE_LIMIT)
        return wipc__error(WIPC_E_TOO_LARGE, 0,
                           "%s: %zu bytes is above the msg transport's limit of %u bytes; nothing was sent", fn, size,
                           (unsigned)WIPC__MSG_SIZE_LIMIT);
    return WIPC_OK;
}

/* "" or a name prefix of the name charset. */
static wipc_status check_prefix(const char *fn, const char *prefix)
{
    if (!prefix)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: prefix is NULL (use \"\" for every endpoint)", fn);
    return prefix[0] ? wipc__check_name(prefix, fn) : WIPC_OK;
}

/* One synchronous exchange with `name`; `hdr` is the encoded payload header. */
static wipc_status send_one(const char *fn, const char *name, uint32_t type, const uint8_t *hdr, const void *data,
                            size_t size, int32_t timeout_ms, int32_t *out_reply)
{
    const char *self = wipc__msg_current_endpoint();
    if (self && strcmp(self, name) == 0)
        return wipc__error(WIPC_E_BUSY, 0,
                           "%s(%s): called from that endpoint's own on_message callback; it cannot take "
                           "another message until this one returns",
                           fn, name);
    wipc__iov iov[2] = { { hdr, WIPC__MSG_HEADER }, { data, size } };
    uint64_t word = 0;
    wipc_status st = wipc__plat_msg_send(name, type, iov, size ? 2 : 1, timeout_ms, &word);
    if (st != WIPC_OK)
        return st;
    int32_t value = 0;
    st = wipc__msg_reply_decode(word, &value);
    switch (st) {
    case WIPC_OK:
        if (out_reply)
            *out_reply = value;
        return WIPC_OK;
    case WIPC_E_PROTOCOL:
        return wipc__error(WIPC_E_PROTOCOL, 0, "%s(%s): the receiver answered 0x%016llx, which is not a wipc reply", fn,
                           name, (unsigned long long)word);
    case WIPC_E_BUSY:
        return wipc__error(WIPC_E_BUSY, 0,
                           "%s(%s): the receiver's queue is full (nobody reads it with wipc_recv fast enough)", fn,
                           name);
    case WIPC_E_TOO_LARGE:
        return wipc__error(WIPC_E_TOO_LARGE, 0, "%s(%s): %zu bytes is above the receiver's max_message_size", fn, name,
                           size);
    case WIPC_E_CLOSED:
        return wipc__error(WIPC_E_DISCONNECTED, 0, "%s(%s): the receiver was closing and did not take the message", fn,
                           name);
    default:
        return wipc__error(st, 0, "%s(%s): the receiver refused the message: %s", fn, name, wipc_status_name(st));
    }
}

WIPC_API wipc_status WIPC_CALL wipc_msg_send(const char *name, uint32_t type, const void *data, size_t size,
                                             int32_t timeout_ms, int32_t *out_reply)
{
    static const char fn[] = "wipc_msg_send";
    if (out_reply)
        *out_reply = 0;
    wipc_status st = wipc__msg_check_dest(name, fn);
    if (st == WIPC_OK)
        st = check_payload(fn, data, size, timeout_ms);
    if (st != WIPC_OK)
        return st;
    if (wipc__msg_is_target(name)) /* class:/title:/path: (wipc.h): plain WM_COPYDATA, no header */
        return wipc__msg_send_raw(fn, name, type, data, size, timeout_ms, out_reply);
    uint8_t hdr[WIPC__MSG_HEADER];
    wipc__msg_hdr_encode(hdr, wipc__getpid());
    return send_one(fn, name, type, hdr, data, size, timeout_ms, out_reply);
}

/* ---- listing ------------------------------------------------------------------------------------- */

typedef struct name_list {
    const char *prefix;
    size_t prefix_len;
    char **names;
    size_t count, cap;
    bool no_memory;
} name_list;

static int collect(const char *name, void *arg)
{
    name_list *l = (name_list *)arg;
    if (strncmp(name, l->prefix, l->prefix_len) != 0)
        return 0;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **grown = realloc(l->names, cap * sizeof *grown);
        if (!grown) {
            l->no_memory = true;
            return 1;
        }
        l->names = grown;
        l->cap = cap;
    }
    size_t len = strlen(name);
    char *copy = malloc(len + 1);
    if (!copy) {
        l->no_memory = true;
        return 1;
    }
    memcpy(copy, name, len + 1);
    l->names[l->count++] = copy;
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void list_free(name_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->names[i]);
    free(l->names);
}

/* The live endpoints whose name starts with `prefix`, sorted, without duplicates. */
static wipc_status list_names(const char *fn, const char *prefix, name_list *l)
{
    memset(l, 0, sizeof *l);
    l->prefix = prefix;
    l->prefix_len = strlen(prefix);
    wipc_status st = wipc__plat_msg_list(collect, l);
    if (st == WIPC_OK && l->no_memory)
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "%s(\"%s\"): out of memory for the list of endpoints", fn, prefix);
    if (st != WIPC_OK) {
        list_free(l);
        memset(l, 0, sizeof *l);
        return st;
    }
    if (l->count > 1) {
        qsort(l->names, l->count, sizeof *l->names, cmp_names);
        size_t w = 1;
        for (size_t i = 1; i < l->count; i++) {
            if (strcmp(l->names[i], l->names[w - 1]) == 0)
                free(l->names[i]);
            else
                l->names[w++] = l->names[i];
        }
        l->count = w;
    }
    return WIPC_OK;
}

WIPC_API wipc_status WIPC_CALL wipc_msg_list(const char *prefix, char *buf, size_t cap, size_t *out_needed)
{
    static const char fn[] = "wipc_msg_list";
    if (out_needed)
        *out_needed = 0;
    wipc_status st = check_prefix(fn, prefix);
    if (st != WIPC_OK)
        return st;
    if (!buf && cap)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: buf is NULL but cap is %zu", fn, cap);
    name_list l;
    if ((st = list_names(fn, prefix, &l)) != WIPC_OK)
        return st;
    size_t needed = 1;
    for (size_t i = 0; i < l.count; i++)
        needed += strlen(l.names[i]) + 1;
    if (out_needed)
        *out_needed = needed;
    if (cap < needed) {
        st = wipc__error(WIPC_E_BUFFER_TOO_SMALL, 0, "%s(\"%s\"): %zu endpoints need %zu bytes, the buffer has %zu", fn,
                         prefix, l.count, needed, cap);
    } else {
        char *p = buf;
        for (size_t i = 0; i < l.count; i++) {
            size_t len = strlen(l.names[i]) + 1;
            memcpy(p, l.names[i], len);
            p += len;
        }
        *p = '\0';
    }
    list_free(&l);
    return st;
}

WIPC_API wipc_status WIPC_CALL wipc_msg_broadcast(const char *prefix, uint32_t type, const void *data, size_t size,
                                                  int32_t timeout_ms, uint32_t *out_delivered)
{
    static const char fn[] = "wipc_msg_broadcast";
    if (out_delivered)
        *out_delivered = 0;
    wipc_status st = check_prefix(fn, prefix);
    if (st == WIPC_OK)
        st = check_payload(fn, data, size, timeout_ms);
    if (st != WIPC_OK)
        return st;
    name_list l;
    if ((st = list_names(fn, prefix, &l)) != WIPC_OK)
        return st;
    uint8_t hdr[WIPC__MSG_HEADER];
    wipc__msg_hdr_encode(hdr, wipc__getpid());
    uint32_t delivered = 0;
    for (size_t i = 0; i < l.count; i++) {
        wipc_status one = send_one(fn, l.names[i], type, hdr, data, size, timeout_ms, NULL);
        if (one == WIPC_OK)
            delivered++;
        else
            wipc__log(WIPC_LOG_DEBUG, "%s(\"%s\"): %s did not accept: %s", fn, prefix, l.names[i],
                      wipc_last_error_message());
    }
    list_free(&l);
    if (out_delivered)
        *out_delivered = delivered;
    return WIPC_OK;
}
