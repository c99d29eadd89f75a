/* plat_types.h - POSIX types behind the names dll/platform.h uses. */
#ifndef WIPC_LINUX_PLAT_TYPES_H
#define WIPC_LINUX_PLAT_TYPES_H
#include <pthread.h>
typedef pthread_mutex_t wipc__mutex;
#define WIPC__MUTEX_INIT PTHREAD_MUTEX_INITIALIZER /* a static wipc__mutex needs no wipc__mutex_init */
typedef pthread_cond_t wipc__cond; /* initialised with CLOCK_MONOTONIC */
typedef pthread_t wipc__thread;
/* The HELLO flag by which this backend offers pipe bulk sections (dll/common/core/frame.h): sealed memfds
 * found through /proc/<pid>/fd (linux/pipe_bulk.c), not the named objects of 1.0, which a peer could
 * shrink under the reader. */
#define WIPC__PLAT_HELLO_BULK 0x2u /* WIPC__HELLO_BULK_SEALED */
#endif
