/* plat_types.h - Win32 types behind the names dll/platform.h uses. */
#ifndef WIPC_WIN32_PLAT_TYPES_H
#define WIPC_WIN32_PLAT_TYPES_H
#ifndef WIN32_LEAN_AND_MEAN
#  define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
typedef SRWLOCK wipc__mutex;
#define WIPC__MUTEX_INIT SRWLOCK_INIT /* a static wipc__mutex needs no wipc__mutex_init */
typedef CONDITION_VARIABLE wipc__cond;
typedef HANDLE wipc__thread;
/* Pipe messages of at least this many bytes go through the bulk section (dll/common/pipe/pipe.h;
 * the default is 256 KiB). Under Wine every byte written to a named pipe is copied into and out of
 * the wineserver, which allocates each message's data on its heap. With 64 KiB messages (65,560
 * bytes with the frame header) its heap shrank and grew again on nearly every message once the
 * benchmark's earlier cases had shaped it (strace -c of the server: ~1,000 brk in a 200-round-trip
 * run; none for the raw CreateNamedPipeW ping-pong of 65,536 bytes), and the 64 KiB round trip took
 * 2.15x the raw one (scripts/bench, 4e588ff). Through the section only the 56-byte BULK frame
 * passes the server. */
#define WIPC__PLAT_BULK_MIN (64u * 1024)
#endif
