/*
 * shm_peer.c - the helper process of the cross-process shm tests (C and Python).
 *
 *   shm_peer stress-create NAME N SEED CAPACITY [zc]
 *   shm_peer stress-open   NAME N SEED CAPACITY [zc]
 *       the two ends of the stress test: the creator prints READY once the channel exists. Each side
 *       sends N messages (a thread) while it receives N (main thread), both directions at once.
 *       Message i of a direction has type i, a size drawn from (SEED, direction, i) between 0 and
 *       CAPACITY/2 and a payload the receiver recomputes and compares: a lost, duplicated,
 *       reordered or corrupted message fails. "zc": wipc_shm_reserve/commit + wipc_shm_peek/release.
 *       Prints "DONE N" and exits 0; 1 on a mismatch or error (details on stderr).
 *   shm_peer echo NAME
 *       opens NAME (waiting up to 10 s), prints READY, answers every request (wipc_reply) and every
 *       plain message (wipc_send) with the same bytes and type+1, until the creator goes. Exit 0.
 *   shm_peer hold NAME
 *       opens NAME, prints READY, then never reads (to be killed).
 *   shm_peer create-hold NAME
 *       creates NAME (64 KiB rings), prints READY, then never reads (to be killed).
 *
 * Exit codes: 0 ok, 1 test failure, 2 setup failure, 64 usage.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ready(void)
{
    fputs("READY\n", stdout);
    fflush(stdout);
}

static int fail_status(const char *what, wipc_status s)
{
    char m[1024];
    wt_last_error(m, sizeof m);
    fprintf(stderr, "shm_peer: %s: %s (%d): %s\n", what, wipc_status_name(s), (int)s, m);
    return 1;
}

static void block_forever(void)
{
    for (;;)
        wt_sleep_ms(1000);
}

/* ---- stress ------------------------------------------------------------------------------------ */

static uint64_t mix(uint64_t x)   /* splitmix64 */
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

typedef struct stress {
    wipc_handle h;
    long        n;
    uint64_t    seed;
    uint64_t    capacity;
    int         zc;
    int         creator;
    int         rc;
} stress;

static size_t msg_size(const stress *s, int dir, long i)
{
    return (size_t)(mix(s->seed * 4 + (uint64_t)dir + ((uint64_t)i << 8)) % (s->capacity / 2 + 1));
}

/* The payload of message i of direction dir: 8-byte words of a keyed sequence (tail bytes too). */
static void fill(uint8_t *p, size_t n, uint64_t key)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = mix(key + i);
        memcpy(p + i, &v, 8);
    }
    uint64_t v = mix(key + i);
    memcpy(p + i, &v, n - i);
}

static uint64_t msg_key(const stress *s, int dir, long i)
{
    return mix(s->seed ^ ((uint64_t)dir << 62) ^ (uint64_t)i) << 16;
}

static int check(const uint8_t *p, size_t n, uint64_t key, uint8_t *scratch)
{
    fill(scratch, n, key);
    return memcmp(p, scratch, n) == 0;
}

static void *stress_sender(void *arg)
{
    stress *s = (stress *)arg;
    int dir = s->creator ? 0 : 1;
    uint8_t *buf = (uint8_t *)malloc(s->capacity);
    for (long i = 0; i < s->n && buf; i++) {
        size_t n = msg_size(s, dir, i);
        wipc_status st;
        if (s->zc) {
            void *p = NULL;
            st = wipc_shm_reserve(s->h, n, &p, 20000);
            if (st == WIPC_OK) {
                fill((uint8_t *)p, n, msg_key(s, dir, i));
                st = wipc_shm_commit(s->h, (uint32_t)i, n);
            }
        } else {
            fill(buf, n, msg_key(s, dir, i));
            st = wipc_send(s->h, (uint32_t)i, buf, n, 20000);
        }
        if (st != WIPC_OK) {
            fprintf(stderr, "shm_peer: send of message %ld (%zu bytes) failed\n", i, n);
            s->rc = fail_status("send", st);
            break;
        }
    }
    free(buf);
    return NULL;
}

static int stress_receive(stress *s)
{
    int dir = s->creator ? 1 : 0;
    uint8_t *buf = (uint8_t *)malloc(s->capacity), *scratch = (uint8_t *)malloc(s->capacity);
    if (!buf || !scratch)
        return 2;
    for (long i = 0; i < s->n; i++) {
        const uint8_t *p = buf;
        size_t n = 0;
        uint32_t type = 0;
        wipc_status st = s->zc ? wipc_shm_peek(s->h, (const void **)&p, &n, &type, 20000)
                               : wipc_recv(s->h, buf, s->capacity, &n, &type, 20000);
        if (st != WIPC_OK)
            return fail_status("receive", st);
        size_t want = msg_size(s, dir, i);
        if (type != (uint32_t)i || n != want || !check(p, n, msg_key(s, dir, i), scratch)) {
            fprintf(stderr, "shm_peer: message %ld: type %u size %zu, expected type %ld size %zu%s\n", i, (unsigned)type, n, i,
                    want, type == (uint32_t)i && n == want ? " (payload corrupt)" : "");
            return 1;
        }
        if (s->zc && (st = wipc_shm_release(s->h)) != WIPC_OK)
            return fail_status("wipc_shm_release", st);
    }
    free(buf);
    free(scratch);
    return 0;
}

static int cmd_stress(int creator, const char *name, long n, uint64_t seed, uint64_t capacity, int zc)
{
    stress s = { 0, n, seed, capacity, zc, creator, 0 };
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.capacity = capacity;
    wipc_status st = creator ? wipc_shm_create(name, &o, &s.h) : wipc_shm_open(name, &o, 10000, &s.h);
    if (st != WIPC_OK)
        return fail_status(creator ? "wipc_shm_create" : "wipc_shm_open", st), 2;
    if (creator)
        ready();
    wt_thread *t = wt_thread_start(stress_sender, &s);
    int rc = stress_receive(&s);
    wt_thread_join_or_die(t, 120000, "stress sender");
    if (rc == 0)
        rc = s.rc;
    if (rc == 0) {
        printf("DONE %ld\n", n);
        fflush(stdout);
    }
    wipc_close(s.h);
    return rc;
}

/* ---- echo / hold -------------------------------------------------------------------------------- */

static int cmd_echo(const char *name)
{
    wipc_handle h = 0;
    wipc_status st = wipc_shm_open(name, NULL, 10000, &h);
    if (st != WIPC_OK)
        return fail_status("wipc_shm_open", st), 2;
    wipc_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    wipc_get_info(h, &in);
    size_t cap = in.max_message_size;
    uint8_t *buf = (uint8_t *)malloc(cap ? cap : 1);
    ready();
    for (;;) {
        wipc_message m;
        memset(&m, 0, sizeof m);
        m.struct_size = sizeof m;
        st = wipc_recv_message(h, buf, cap, &m, 60000);
        if (st == WIPC_E_TIMEOUT)
            continue;
        if (st == WIPC_E_DISCONNECTED)
            break;
        if (st != WIPC_OK)
            return fail_status("wipc_recv_message", st);
        st = m.request_id ? wipc_reply(h, m.request_id, m.type + 1, buf, m.size) : wipc_send(h, m.type + 1, buf, m.size, 10000);
        if (st != WIPC_OK && st != WIPC_E_DISCONNECTED)
            return fail_status(m.request_id ? "wipc_reply" : "wipc_send", st);
    }
    wipc_close(h);
    free(buf);
    return 0;
}

static int cmd_hold(const char *name, int create)
{
    wipc_handle h = 0;
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.capacity = 64 * 1024;
    wipc_status st = create ? wipc_shm_create(name, &o, &h) : wipc_shm_open(name, NULL, 10000, &h);
    if (st != WIPC_OK)
        return fail_status(create ? "wipc_shm_create" : "wipc_shm_open", st), 2;
    ready();
    block_forever();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 7 - 1 && (strcmp(argv[1], "stress-create") == 0 || strcmp(argv[1], "stress-open") == 0))
        return cmd_stress(argv[1][7] == 'c', argv[2], strtol(argv[3], NULL, 10), strtoull(argv[4], NULL, 10),
                          strtoull(argv[5], NULL, 10), argc > 6 && strcmp(argv[6], "zc") == 0);
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return cmd_echo(argv[2]);
    if (argc == 3 && strcmp(argv[1], "hold") == 0)
        return cmd_hold(argv[2], 0);
    if (argc == 3 && strcmp(argv[1], "create-hold") == 0)
        return cmd_hold(argv[2], 1);
    fprintf(stderr, "usage: shm_peer stress-create|stress-open NAME N SEED CAPACITY [zc] | echo NAME | hold NAME | create-hold NAME\n");
    return 64;
}
