/*
 * msg_peer.c - helper process for the msg transport tests (test_msg.c, python-tests/test_msg.py).
 *
 *   msg_peer listen NAME[,NAME...] [--max BYTES] [--sleep-type T --sleep-ms MS] [--print]
 *       listens on every NAME with a callback, prints "READY", then serves until killed. The callback
 *       answers msg_reply_of(type, data, size) (below); for type T it first sleeps MS milliseconds.
 *       --print: one line "MSG <name> <type> <size> <peer_pid>" per message (flushed).
 *   msg_peer squat NAME
 *       listens on NAME in queue mode, prints "READY", blocks until killed.
 *   msg_peer send NAME TYPE SIZE COUNT TIMEOUT_MS
 *       sends COUNT messages (type TYPE+i, SIZE bytes of wt_fill(i)), prints "REPLY <i> <status> <value>"
 *       per message; exit 0 if every send returned WIPC_OK, else 1.
 *
 * Exit codes: 0 ok, 1 failure, 2 setup failure, 64 usage.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The reply a msg_peer callback gives (test_msg.c has the same function). */
static int32_t msg_reply_of(uint32_t type, const void *data, size_t size)
{
    uint32_t h = 2166136261u ^ type;
    for (size_t i = 0; i < size; i++)
        h = (h ^ ((const uint8_t *)data)[i]) * 16777619u;
    return (int32_t)(h ^ (uint32_t)size);
}

static uint32_t g_sleep_type = 0xffffffffu;
static unsigned g_sleep_ms;
static int g_print;

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    if (g_print) {
        printf("MSG %s %u %zu %u\n", (const char *)user, (unsigned)m->type, m->size, (unsigned)m->peer_pid);
        fflush(stdout);
    }
    if (m->type == g_sleep_type)
        wt_sleep_ms(g_sleep_ms);
    return msg_reply_of(m->type, m->data, m->size);
}

static int fail_status(const char *what, wipc_status s)
{
    wt_peer_report("msg_peer", what, s);
    return 2;
}

static int cmd_listen(int argc, char **argv)
{
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "--max") && i + 1 < argc)
            o.max_message_size = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sleep-type") && i + 1 < argc)
            g_sleep_type = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sleep-ms") && i + 1 < argc)
            g_sleep_ms = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--print"))
            g_print = 1;
        else
            return 64;
    }
    static char names[2048];
    snprintf(names, sizeof names, "%s", argv[2]);
    for (char *n = names, *next; n && *n; n = next) {
        next = strchr(n, ',');
        if (next)
            *next++ = '\0';
        wipc_handle h = 0;
        wipc_status st = wipc_msg_listen(n, &o, &h);
        if (st != WIPC_OK)
            return fail_status(n, st);
        if ((st = wipc_set_callbacks(h, on_message, NULL, n)) != WIPC_OK)
            return fail_status("wipc_set_callbacks", st);
    }
    wt_peer_ready();
    wt_peer_block_forever();
    return 0;
}

static int cmd_squat(int argc, char **argv)
{
    (void)argc;
    wipc_handle h = 0;
    wipc_status st = wipc_msg_listen(argv[2], NULL, &h);
    if (st != WIPC_OK)
        return fail_status(argv[2], st);
    wt_peer_ready();
    wt_peer_block_forever();
    return 0;
}

static int cmd_send(int argc, char **argv)
{
    if (argc < 7)
        return 64;
    const char *name = argv[2];
    uint32_t type = (uint32_t)strtoul(argv[3], NULL, 10);
    size_t size = (size_t)strtoul(argv[4], NULL, 10);
    int count = atoi(argv[5]);
    int32_t timeout = (int32_t)atoi(argv[6]);
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf)
        return 2;
    int bad = 0;
    for (int i = 0; i < count; i++) {
        wt_fill(buf, size, (uint32_t)i);
        int32_t reply = 0;
        wipc_status st = wipc_msg_send(name, type + (uint32_t)i, buf, size, timeout, &reply);
        if (st != WIPC_OK) {
            char m[1024];
            wt_last_error(m, sizeof m);
            fprintf(stderr, "msg_peer send: %s\n", m);
            bad = 1;
        }
        printf("REPLY %d %d %d\n", i, (int)st, (int)reply);
        fflush(stdout);
    }
    free(buf);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: msg_peer listen|squat|send NAME ...\n");
        return 64;
    }
    if (!strcmp(argv[1], "listen"))
        return cmd_listen(argc, argv);
    if (!strcmp(argv[1], "squat"))
        return cmd_squat(argc, argv);
    if (!strcmp(argv[1], "send"))
        return cmd_send(argc, argv);
    fprintf(stderr, "msg_peer: unknown command %s\n", argv[1]);
    return 64;
}
