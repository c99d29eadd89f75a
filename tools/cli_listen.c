/*
 * cli_listen.c - `wipc listen URI`: serves a pipe, shm channel or msg receiver with callbacks, prints
 * every message and answers requests, until --count messages were seen, --timeout ran out idle, or
 * the process is stopped with Ctrl-C / SIGTERM (then it closes the endpoint and exits 0, so no socket
 * file or shm object of it stays behind on POSIX).
 *
 * pipe: the server accepts by itself; every connection inherits the callbacks and is closed here when
 * its client leaves. shm: the channel is created here; when its client leaves, the next one may open
 * it. msg: the callback's return value (the sum of the message's bytes) is the sender's reply.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

typedef struct listener {
    const cli_args *a;
    wipc_handle main; /* the server, channel or receiver */
    atomic_long seen; /* messages so far */
    atomic_llong last_ms; /* time of the last message (for --timeout) */
    atomic_int failed; /* a fatal event's status, or 0 */
} listener;

static long long now_ms(void)
{
    return (long long)(cli_now_us() / 1000.0);
}

/* A request is answered with wipc_reply; a message of a RAW / LENGTH_PREFIX pipe (no requests there)
 * is sent back with wipc_send (bounded: a foreign client that does not read costs at most 2 s). */
static void answer(wipc_handle h, const wipc_message *m, int upper, int raw_pipe)
{
    unsigned char small[4096];
    unsigned char *buf = m->size <= sizeof small ? small : malloc(m->size);
    if (!buf) {
        fprintf(stderr, "wipc: no memory for a %zu-byte reply\n", m->size);
        return;
    }
    if (m->size)
        memcpy(buf, m->data, m->size);
    for (size_t i = 0; upper && i < m->size; i++)
        if (buf[i] >= 'a' && buf[i] <= 'z')
            buf[i] = (unsigned char)(buf[i] - 'a' + 'A');
    wipc_status st = raw_pipe ? wipc_send(h, 0, m->size ? buf : NULL, m->size, 2000)
                              : wipc_reply(h, m->request_id, m->type, m->size ? buf : NULL, m->size);
    if (st && st != WIPC_E_DISCONNECTED && st != WIPC_E_CLOSED)
        cli_fail(raw_pipe ? "wipc_send" : "wipc_reply", st);
    if (buf != small)
        free(buf);
}

/* --reply error: a remote error, code 1, the request's text as the message */
static void answer_error(wipc_handle h, const wipc_message *m)
{
    char text[1024];
    size_t n = m->size < sizeof text - 1 ? m->size : sizeof text - 1;
    if (n)
        memcpy(text, m->data, n);
    text[n] = '\0';
    wipc_status st = wipc_reply_error(h, m->request_id, 1, text);
    if (st && st != WIPC_E_DISCONNECTED && st != WIPC_E_CLOSED)
        cli_fail("wipc_reply_error", st);
}

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    listener *l = user;
    const cli_args *a = l->a;
    int32_t ret = 0;
    if (!a->quiet)
        cli_print_message(a, m->type, m->data, m->size, m->peer_pid, m->request_id);
    if (a->transport == CLI_MSG)
        ret = a->reply == CLI_REPLY_NONE ? 0 : cli_byte_sum(m->data, m->size);
    else if (m->request_id && a->reply == CLI_REPLY_ERROR)
        answer_error(h, m);
    else if (m->request_id && a->reply != CLI_REPLY_NONE)
        answer(h, m, a->reply == CLI_REPLY_UPPER, 0);
    else if (cli_pipe_flags(a) && a->reply_given && a->reply != CLI_REPLY_NONE)
        answer(h, m, a->reply == CLI_REPLY_UPPER, 1); /* a foreign pipe's message: sent back */
    atomic_store(&l->last_ms, now_ms());
    atomic_fetch_add(&l->seen, 1);
    return ret;
}

static uint32_t peer_pid(wipc_handle h)
{
    wipc_info info = { .struct_size = sizeof info };
    return h && wipc_get_info(h, &info) == WIPC_OK ? info.peer_pid : 0;
}

/* Connections and departures are printed as plain events ("connected pid=N", "disconnected pid=N"): a
 * client that leaves is no error. Only WIPC_EVENT_ERROR (or a departure with another status) names a
 * status. --raw and --quiet print no events; --json prints them as {"time":..,"event":..,"pid":..}. */
static void print_event(const cli_args *a, const char *what, uint32_t pid, wipc_status st)
{
    if (a->quiet || a->raw)
        return;
    if (a->json)
        printf("{\"event\":\"%s\",\"pid\":%u%s%s%s}\n", what, (unsigned)pid, st ? ",\"status\":\"" : "",
               st ? wipc_status_name(st) : "", st ? "\"" : "");
    else if (st)
        cli_print_event("%s pid=%u (%s)", what, (unsigned)pid, wipc_status_name(st));
    else
        cli_print_event("%s pid=%u", what, (unsigned)pid);
    fflush(stdout);
}

static void WIPC_CALL on_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status st, void *user)
{
    listener *l = user;
    if (event == WIPC_EVENT_CONNECTED) {
        print_event(l->a, "connected", peer_pid(related ? related : h), WIPC_OK);
        return;
    }
    int left = event == WIPC_EVENT_DISCONNECTED && (st == WIPC_OK || st == WIPC_E_DISCONNECTED);
    print_event(l->a, left ? "disconnected" : "error", peer_pid(h), left ? WIPC_OK : (st ? st : WIPC_E_DISCONNECTED));
    if (h != l->main)
        wipc_close(h); /* a pipe connection: ours to close */
    else if (event == WIPC_EVENT_ERROR || l->a->transport != CLI_SHM)
        atomic_store(&l->failed, st ? st : WIPC_E_DISCONNECTED); /* the endpoint itself is dead */
}

static wipc_status open_endpoint(const cli_args *a, wipc_handle *out, const char **what)
{
    switch (a->transport) {
    case CLI_PIPE: {
        wipc_pipe_options o;
        wipc_pipe_options_init(&o);
        o.flags = cli_pipe_flags(a); /* --raw / --length-prefix: foreign clients */
        *what = "wipc_pipe_listen";
        return wipc_pipe_listen(a->name, &o, out);
    }
    case CLI_SHM:
        *what = "wipc_shm_create";
        return wipc_shm_create(a->name, NULL, out);
    default: {
        wipc_msg_options o; /* --raw: also a plain WM_COPYDATA receiver (foreign senders taken) */
        wipc_msg_options_init(&o);
        o.flags = a->raw ? WIPC_MSG_RAW : 0;
        *what = "wipc_msg_listen";
        return wipc_msg_listen(a->name, &o, out);
    }
    }
}

int cli_listen(const cli_args *a)
{
    listener l = { .a = a };
    const char *what;
    cli_catch_stop(); /* before the "listening on" line: a stop right after it still closes cleanly */
    atomic_store(&l.last_ms, now_ms());
    wipc_status st = open_endpoint(a, &l.main, &what);
    if (st)
        return cli_fail(what, st);
    st = wipc_set_callbacks(l.main, on_message, on_event, &l);
    if (st) {
        int rc = cli_fail("wipc_set_callbacks", st);
        wipc_close(l.main);
        return rc;
    }
    if (a->raw)
        cli_binary_stdio();
    /* --raw keeps stdout for payload bytes: the first line goes to stderr then */
    if (a->json)
        printf("{\"listening\":\"%s\",\"pid\":%u}\n", a->uri, cli_pid());
    else
        fprintf(a->raw ? stderr : stdout, "listening on %s (pid %u)\n", a->uri, cli_pid());
    fflush(a->raw ? stderr : stdout);
    int rc = CLI_EXIT_OK;
    for (;;) {
        cli_sleep_ms(10);
        if (cli_stop_signal())
            break;
        if (a->count > 0 && atomic_load(&l.seen) >= a->count)
            break;
        if ((st = atomic_load(&l.failed)) != 0) {
            fprintf(stderr, "wipc: %s stopped: %s\n", a->uri, wipc_status_name(st));
            rc = cli_exit_code(st);
            break;
        }
        if (a->timeout_ms >= 0 && now_ms() - atomic_load(&l.last_ms) > a->timeout_ms) {
            fprintf(stderr, "wipc: listen failed: WIPC_E_TIMEOUT: no message on %s for %ld ms\n", a->uri,
                    (long)a->timeout_ms);
            rc = CLI_EXIT_TIMEOUT;
            break;
        }
    }
    wipc_close(l.main);
    wipc_shutdown(); /* closes the connections still open, waits for running callbacks */
    return rc;
}
