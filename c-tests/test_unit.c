/*
 * test_unit.c - white-box unit tests: the library's internal functions called directly, linked from
 * the wipc_core object library (the same objects as wipc.dll / libwipc.so.1) instead of through the
 * exported API. Here: the wire codec of the pipe transport (dll/common/core/frame.c, docs/PROTOCOL.md).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/core/frame.h"

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
        {WIPC__FRAME_DATA, 7, 100, 0},
        {WIPC__FRAME_REQUEST, 0xffffffffu, 0, 42},
        {WIPC__FRAME_REPLY, 1, 65536, 0x8000000000000001ull},
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
    const wipc__frame ok = {WIPC__FRAME_DATA, 1, 64, 0};
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_le_roundtrip),
        cmocka_unit_test(test_unit_frame_roundtrip),
        cmocka_unit_test(test_unit_frame_refused),
    };
    const char *f = getenv("WT_FILTER"); /* as every suite: WT_FILTER=pattern runs the matching cases */
    if (f && f[0])
        cmocka_set_test_filter(f);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
