/* plat_types.h - POSIX types behind the names dll/platform.h uses. */
#ifndef WIPC_POSIX_PLAT_TYPES_H
#define WIPC_POSIX_PLAT_TYPES_H
#include <pthread.h>
typedef pthread_mutex_t wipc__mutex;
typedef pthread_cond_t  wipc__cond;    /* initialised with CLOCK_MONOTONIC */
typedef pthread_t       wipc__thread;
#endif
