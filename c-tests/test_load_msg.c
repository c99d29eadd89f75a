/*
 * test_load_msg.c - msg load: 8 sender processes x 1,000 messages to one receiver
 * in this process. Every message carries a checksum: the callback recomputes the payload from its
 * type tag, answers the payload's FNV-1a (the sender checks it), and marks (sender, sequence) in a
 * bitmap: none lost, none duplicated, none corrupt. Under Wine the counts are smaller.
 */
#include "testlib.h"

#include <stdatomic.h>

#include "test_fault_lib.h"

#define NSENDERS 8

typedef struct msg_load {
    long n;
    atomic_long received;
    atomic_long bad;
    atomic_long dup;
    uint8_t *seen; /* [sender * n + seq]; callbacks of one endpoint never run concurrently */
} msg_load;

static int32_t WIPC_CALL check_cb(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    msg_load *l = (msg_load *)user;
    uint32_t sender = m->type >> 20, seq = m->type & 0xFFFFF;
    uint8_t want[REL_MSG_MAX];
    uint32_t sum;
    size_t wn = rel_msg_fill(want, m->type, &sum);
    if (sender < 1 || sender > NSENDERS || (long)seq >= l->n || wn != m->size || memcmp(want, m->data, wn) != 0) {
        atomic_fetch_add(&l->bad, 1);
        return 0;
    }
    uint8_t *s = &l->seen[(size_t)(sender - 1) * (size_t)l->n + seq];
    if (*s)
        atomic_fetch_add(&l->dup, 1);
    *s = 1;
    atomic_fetch_add(&l->received, 1);
    return (int32_t)sum;
}

static void test_load_msg_senders(void **state)
{
    (void)state;
    static msg_load l;
    memset(&l, 0, sizeof l);
    l.n = rel_scale_n(WT_SCALE(1000, 100), 20);
    l.seen = (uint8_t *)calloc((size_t)NSENDERS * (size_t)l.n, 1);
    char name[160], nbuf[32], ids[NSENDERS][8];
    wt_unique_name(name, sizeof name, "load-msg");
    wipc_handle ep = 0;
    WT_OK(wipc_msg_listen(name, NULL, &ep));
    WT_OK(wipc_set_callbacks(ep, check_cb, NULL, &l));
    snprintf(nbuf, sizeof nbuf, "%ld", l.n);
    wt_proc *p[NSENDERS];
    uint64_t t0 = wt_now_ms();
    for (int i = 0; i < NSENDERS; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", i + 1);
        const char *args[] = { "msg-send", name, nbuf, ids[i], NULL };
        p[i] = wt_spawn_peer(args);
        WT_CHECK(p[i] != NULL, "spawn sender %d", i);
    }
    for (int i = 0; i < NSENDERS; i++) {
        char line[64] = "";
        int code = -1;
        int got = wt_proc_read_line(p[i], line, sizeof line, 300000);
        WT_CHECK(wt_proc_wait(p[i], 30000, &code) == 0 && code == 0, "sender %d exit code %d (said \"%s\")", i + 1,
                 code, line);
        long done = -1;
        WT_CHECK(got == 0 && sscanf(line, "DONE %ld", &done) == 1 && done == l.n, "sender %d said \"%s\"", i + 1, line);
        wt_proc_free(p[i]);
    }
    uint64_t ms = wt_now_ms() - t0;
    WT_OK(wipc_close(ep)); /* no callback runs after this */
    long total = (long)NSENDERS * l.n;
    assert_int_equal(atomic_load(&l.bad), 0);
    assert_int_equal(atomic_load(&l.dup), 0);
    WT_CHECK(atomic_load(&l.received) == total, "received %ld of %ld", atomic_load(&l.received), total);
    for (long k = 0; k < total; k++)
        WT_CHECK(l.seen[k], "message %ld of sender %ld never arrived", k % l.n, k / l.n + 1);
    free(l.seen);
    rel_report("msg", "load", "sender processes x messages to one receiver (checksummed replies)", "pass",
               "senders=%d,messages_each=%ld,messages=%ld,lost=0,ms=%llu", NSENDERS, l.n, total,
               (unsigned long long)ms);
}

int main(void)
{
    wt_use_peer("rel_peer"); /* the peer program, next to this one */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_msg_senders),
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("load_msg", tests, NULL, NULL);
    wt_kill_all_peers();
    wipc_shutdown();
    return failed;
}
