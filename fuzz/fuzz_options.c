/*
 * fuzz_options - name validation and the option structs of every entry point that takes one
 * (dll/common/core/options.c: wipc__read_options, wipc__check_name; the pipe, shm, region and msg entry
 * points), with the portable core linked in and the stub backend (no OS objects are created).
 *
 * Input: a selector byte, a name (up to the first 0 byte, at most 200 bytes), a region size, then
 * the raw bytes of an option struct whose struct_size is clamped to the bytes actually given (the
 * caller's side of the contract; the allocation is exact so ASan sees any read beyond it).
 * Invariants: wipc__check_name accepts exactly 1..128 characters of [A-Za-z0-9._-] (checked against
 * a reference and against wipc__msg_name_ok); every call returns a defined status, with a last error
 * message on failure; a handle returned is valid and closes.
 */
#include "fz_common.h"
#include "stub_platform.h"
#include "common/core/core.h"
#include "common/msg/msg_wire.h"

static int ref_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > WIPC_NAME_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

static void check_call(wipc_status st, wipc_handle h, const char *what)
{
    FZ_CHECK(fz_status_ok(st), "%s: status %d", what, (int)st);
    if (st != WIPC_OK) {
        FZ_CHECK(h == 0, "%s: a handle on failure", what);
        FZ_CHECK(wipc_last_error_message()[0] != '\0', "%s: %s without a message", what, wipc_status_name(st));
    } else {
        FZ_CHECK(h != 0, "%s: no handle", what);
        wipc_info info;
        memset(&info, 0, sizeof info);
        info.struct_size = sizeof info;
        FZ_CHECK(wipc_get_info(h, &info) == WIPC_OK, "%s: get_info", what);
        FZ_CHECK(wipc_close(h) == WIPC_OK, "%s: close", what);
        FZ_CHECK(wipc_close(h) == WIPC_E_BAD_HANDLE, "%s: second close", what);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    uint8_t sel = fz_u8(&in);
    char name[201];
    size_t nl = 0;
    while (in.n && nl < 200) {
        uint8_t c = fz_u8(&in);
        if (c == 0)
            break;
        name[nl++] = (char)c;
    }
    name[nl] = '\0';
    uint64_t region_size = fz_u64(&in) % (8u * 1024 * 1024);

    /* names: the core, the msg helper and the reference agree */
    wipc_status st = wipc__check_name(name, "fuzz");
    int ok = ref_name_ok(name);
    FZ_CHECK((st == WIPC_OK) == ok, "check_name(\"%s\") = %d, reference %d", name, (int)st, ok);
    FZ_CHECK(st == WIPC_OK || st == WIPC_E_INVALID_ARG, "check_name status %d", (int)st);
    FZ_CHECK(wipc__msg_name_ok(name, nl) == ok, "msg_name_ok disagrees on \"%s\"", name);

    /* the option struct: exact allocation, struct_size clamped to what is there */
    const uint8_t *b;
    size_t k = fz_bytes(&in, 256, &b);
    uint8_t *opts = NULL;
    if (k >= 4) {
        opts = malloc(k);
        memcpy(opts, b, k);
        uint32_t ss;
        memcpy(&ss, opts, 4);
        if (ss > k)
            ss = (uint32_t)k;
        memcpy(opts, &ss, 4);
    }
    const void *o = (sel & 0x80) ? NULL : opts;
    wipc_handle h = 0;
    switch (sel % 7) {
    case 0:
    case 1: {
        /* the SDDL pointer (offset 24) must be NULL or a string: the caller's side of the contract */
        if (opts && k >= 32) {
            const char *sd = (sel & 0x40) ? "D:P(A;;GA;;;SY)" : NULL;
            memcpy(opts + 24, &sd, sizeof sd);
        }
        if (sel % 7 == 0) {
            st = wipc_pipe_listen(name, (const wipc_pipe_options *)o, &h);
            check_call(st, h, "wipc_pipe_listen");
        } else {
            st = wipc_pipe_connect(name, (const wipc_pipe_options *)o, 0, &h);
            check_call(st, h, "wipc_pipe_connect");
            FZ_CHECK(st != WIPC_OK, "connect without a server");
        }
        break;
    }
    case 2:
        st = wipc_shm_create(name, (const wipc_shm_options *)o, &h);
        check_call(st, h, "wipc_shm_create");
        break;
    case 3:
        st = wipc_shm_open(name, (const wipc_shm_options *)o, 0, &h);
        check_call(st, h, "wipc_shm_open");
        break;
    case 4:
        st = wipc_region_create(name, region_size, (const wipc_shm_options *)o, &h);
        check_call(st, h, "wipc_region_create");
        break;
    case 5:
        st = wipc_msg_listen(name, (const wipc_msg_options *)o, &h);
        check_call(st, h, "wipc_msg_listen");
        break;
    case 6: {
        /* wipc_get_info with a caller struct of any struct_size (exact allocation) */
        wipc_handle srv = 0;
        if (wipc_pipe_listen("fuzz-info", NULL, &srv) == WIPC_OK) {
            size_t cap = opts ? k : 4;
            uint8_t *info = calloc(1, cap < 8 ? 8 : cap);
            uint32_t ss = opts ? (uint32_t)(((uint32_t)opts[0] | (uint32_t)opts[1] << 8) % (cap + 1)) : 0;
            memcpy(info, &ss, 4);
            st = wipc_get_info(srv, (wipc_info *)info);
            FZ_CHECK(st == WIPC_OK || st == WIPC_E_INVALID_ARG, "get_info status %d", (int)st);
            free(info);
            wipc_close(srv);
        }
        break;
    }
    }
    free(opts);
    return 0;
}
