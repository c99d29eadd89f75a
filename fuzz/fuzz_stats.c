/*
 * fuzz_stats - a stats section (dll/common/core/stats.h) written by a hostile process of the same user,
 * read by wipc_stat: the copy-once validation (wipc__stats_parse) and the sums over the slots.
 *
 * Input: byte 0 picks the transport asked for (0..3), the rest is the whole section as the stub
 * backend's wipc__plat_section_open maps it (a heap block of exactly that size, so ASan sees any
 * read past it). The endpoint name asked for is "fz" (a valid section names itself so).
 * Invariants: a defined status; WIPC_OK only with the name and a transport that match, and with
 * struct_size as given; on failure the out struct is zero past struct_size.
 */
#include "fz_common.h"
#include "wipc.h"

extern uint8_t *fz_next_section;
extern uint64_t fz_next_section_size;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_in in = { data, size };
    uint32_t transport = fz_u8(&in) & 3;
    uint8_t *sec = malloc(in.n ? in.n : 1);
    memcpy(sec, in.p, in.n);
    fz_next_section = sec;
    fz_next_section_size = in.n;
    wipc_stats out;
    memset(&out, 0xAA, sizeof out);
    out.struct_size = sizeof out;
    wipc_status st = wipc_stat("fz", transport, &out);
    FZ_LOG("wipc_stat: %s\n", wipc_status_name(st));
    FZ_CHECK(fz_status_ok(st), "status %d", (int)st);
    if (st == WIPC_OK) {
        FZ_CHECK(strcmp(out.name, "fz") == 0, "name %.*s", 136, out.name);
        FZ_CHECK(out.struct_size == sizeof out, "struct_size %u", (unsigned)out.struct_size);
        FZ_CHECK(out.transport >= 1 && out.transport <= 3 && (!transport || out.transport == transport), "transport %u",
                 (unsigned)out.transport);
        FZ_CHECK(out.last_activity_unix_ms >= out.created_unix_ms, "activity before creation");
    } else {
        FZ_CHECK(out.transport == 0 && out.messages_sent == 0 && out.name[0] == 0, "out not cleared");
    }
    fz_next_section = NULL;
    free(sec);
    return 0;
}
