/*
 * test_unit.c - white-box unit tests: the library's internal functions called directly, linked from
 * the wipc_core object library (the same objects as wipc.dll / libwipc.so.1) instead of through the
 * exported API. Here: the wire codec of the pipe transport (dll/common/core/frame.c, docs/PROTOCOL.md), and
 * the deadline type with the timed condition wait (dll/deadline.h, wipc__cond_wait_until).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/core/frame.h"
#include "platform.h"

static void test_unit_le_roundtrip(void **state)
{
    (void)state;
    uint8_t b[8];
    wipc__put_le32(b, 0x11223344u);
    assert_int_equal(b[0], 0x44);
    assert_int_equal(b[3], 0x11);
    assert_int_equal(wipc__get_le32(b), 0x11223344u);
    wipc__put_le64(b, 0x0102030405060708ull);
    assert_int_equal(b[0], 0x08);
    assert_int_equal(b[7], 0x01);
    assert_true(wipc__get_le64(b) == 0x0102030405060708ull);
}

static void test_unit_frame_roundtrip(void **state)
{
    (void)state;
    const wipc__frame in[] = {
        { WIPC__FRAME_DATA, 7, 100, 0 },
        { WIPC__FRAME_REQUEST, 0xffffffffu, 0, 42 },
        { WIPC__FRAME_REPLY, 1, 65536, 0x8000000000000001ull },
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        uint8_t hdr[WIPC__FRAME_HEADER];
        wipc__frame out;
        char why[256] = "";
        wipc__frame_encode(hdr, &in[i]);
        assert_int_equal(wipc__get_le32(hdr), WIPC__FRAME_MAGIC);
        assert_int_equal(wipc__frame_decode(hdr, 1u << 20, &out, why, sizeof why), WIPC_OK);
        assert_int_equal(out.kind, in[i].kind);
        assert_int_equal(out.type, in[i].type);
        assert_int_equal(out.length, in[i].length);
        assert_true(out.request_id == in[i].request_id);
    }
}

static void test_unit_frame_refused(void **state)
{
    (void)state;
    const wipc__frame ok = { WIPC__FRAME_DATA, 1, 64, 0 };
    uint8_t hdr[WIPC__FRAME_HEADER], bad[WIPC__FRAME_HEADER];
    wipc__frame out;
    char why[256];
    wipc__frame_encode(hdr, &ok);

    memcpy(bad, hdr, sizeof bad);
    bad[0] ^= 0xff; /* magic */
    why[0] = 0;
    assert_int_equal(wipc__frame_decode(bad, 1u << 20, &out, why, sizeof why), WIPC_E_PROTOCOL);
    assert_non_null(strstr(why, "magic"));

    memcpy(bad, hdr, sizeof bad);
    bad[4] = WIPC__FRAME_VERSION + 1; /* version */
    assert_int_equal(wipc__frame_decode(bad, 1u << 20, &out, why, sizeof why), WIPC_E_PROTOCOL);

    memcpy(bad, hdr, sizeof bad);
    wipc__put_le64(bad + 16, 5); /* a request id on a DATA frame */
    assert_int_equal(wipc__frame_decode(bad, 1u << 20, &out, why, sizeof why), WIPC_E_PROTOCOL);

    /* longer than the receiver's limit */
    assert_int_equal(wipc__frame_decode(hdr, 63, &out, why, sizeof why), WIPC_E_TOO_LARGE);
    assert_int_equal(wipc__frame_decode(hdr, 64, &out, why, sizeof why), WIPC_OK);
}

static void test_unit_deadline_helpers(void **state)
{
    (void)state;
    wipc__deadline never = wipc__deadline_in(WIPC_INFINITE), due = wipc__deadline_in(0);
    wipc__deadline later = wipc__deadline_in(60000);
    assert_true(wipc__deadline_is_never(never) && wipc__deadline_is_never(wipc__deadline_never()));
    assert_int_equal(wipc__deadline_left(never), WIPC_INFINITE);
    assert_false(wipc__deadline_passed(never));
    assert_false(wipc__deadline_is_never(due));
    assert_true(wipc__deadline_passed(due));
    assert_int_equal(wipc__deadline_left(due), 0);
    assert_false(wipc__deadline_passed(later));
    assert_in_range(wipc__deadline_left(later), 1, 60000);
    assert_in_range(wipc__deadline_left(wipc__deadline_in(INT32_MAX)), 1, INT32_MAX);
    assert_true(wipc__deadline_min(later, never).at_ms == later.at_ms);
    assert_true(wipc__deadline_min(later, due).at_ms == due.at_ms);
    assert_true(wipc__deadline_is_never(wipc__deadline_max(later, never)));
    assert_true(wipc__deadline_max(due, later).at_ms == later.at_ms);

    /* a call's timeout: the clock starts at the first use; 0 and WIPC_INFINITE never read it */
    wipc__timeout t = wipc__timeout_of(5000);
    assert_false(t.started);
    assert_int_equal(wipc__timeout_left(&t), 5000);
    assert_true(t.started);
    assert_in_range(wipc__timeout_left(&t), 1, 5000);
    assert_true(wipc__timeout_deadline(&t).at_ms == t.dl.at_ms);
    wipc__timeout zero = wipc__timeout_of(0), inf = wipc__timeout_of(WIPC_INFINITE);
    assert_int_equal(wipc__timeout_left(&zero), 0);
    assert_false(zero.started);
    assert_true(wipc__deadline_passed(wipc__timeout_deadline(&zero)));
    assert_int_equal(wipc__timeout_left(&inf), WIPC_INFINITE);
    assert_true(wipc__deadline_is_never(wipc__timeout_deadline(&inf)));
}

typedef struct cv_pair {
    wipc__mutex m;
    wipc__cond c;
    int flag;
} cv_pair;

static void wake_later(void *arg)
{
    cv_pair *p = arg;
    wipc__sleep_ms(20);
    wipc__mutex_lock(&p->m);
    p->flag = 1;
    wipc__cond_signal(&p->c);
    wipc__mutex_unlock(&p->m);
}

/* WIPC_E_TIMEOUT only once the deadline passed (never early), at once for a passed one; a signal wakes
 * a wait long before its deadline. */
static void test_unit_cond_wait_until(void **state)
{
    (void)state;
    cv_pair p;
    memset(&p, 0, sizeof p);
    wipc__mutex_init(&p.m);
    wipc__cond_init(&p.c);
    wipc__mutex_lock(&p.m);
    assert_int_equal(wipc__cond_wait_until(&p.c, &p.m, wipc__deadline_in(0)), WIPC_E_TIMEOUT);
    wipc__deadline dl = wipc__deadline_in(50);
    int rc;
    while ((rc = wipc__cond_wait_until(&p.c, &p.m, dl)) == 0) { /* spurious wake-ups: wait on */
    }
    assert_int_equal(rc, WIPC_E_TIMEOUT);
    assert_true(wipc__deadline_passed(dl));

    wipc__thread th;
    assert_int_equal(wipc__thread_start(&th, wake_later, &p), WIPC_OK);
    dl = wipc__deadline_in(60000);
    while (!p.flag)
        assert_int_equal(wipc__cond_wait_until(&p.c, &p.m, dl), 0);
    assert_false(wipc__deadline_passed(dl));
    wipc__mutex_unlock(&p.m);
    wipc__thread_join(&th);
    wipc__cond_destroy(&p.c);
    wipc__mutex_destroy(&p.m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_le_roundtrip),    cmocka_unit_test(test_unit_frame_roundtrip),
        cmocka_unit_test(test_unit_frame_refused),   cmocka_unit_test(test_unit_deadline_helpers),
        cmocka_unit_test(test_unit_cond_wait_until),
    };
    const char *f = getenv("WT_FILTER"); /* as every suite: WT_FILTER=pattern runs the matching cases */
    if (f && f[0])
        cmocka_set_test_filter(f);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
