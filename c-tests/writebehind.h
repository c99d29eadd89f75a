/*
 * writebehind.h - the message sizes test_pipe_writebehind.c sends and async_peer slow-reader checks:
 * message i is small (16..65 bytes: write-behind, batched) except every 1,000th, which is WT_WB_BIG
 * bytes (above the write-behind limit: written as by a plain wipc_send, after the queued frames).
 */
#ifndef WIPC_WRITEBEHIND_H
#define WIPC_WRITEBEHIND_H

#include <stddef.h>
#include <stdint.h>

#define WT_WB_BIG 20000u

static inline size_t wt_wb_size(uint32_t i)
{
    return i % 1000 == 999 ? WT_WB_BIG : 16 + i % 50;
}

#endif
