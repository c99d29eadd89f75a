/*
 * log.c - the user's log callback. Lines are formatted only when someone listens at that level.
 */
#include <stdarg.h>
#include <stdio.h>
#include "common/core/core.h"

/* All-zero is a valid unlocked lock on both backends (SRWLOCK_INIT, PTHREAD_MUTEX_INITIALIZER on glibc). */
static wipc__mutex log_lock = WIPC__MUTEX_INIT;
static wipc_log_cb log_cb;
static void *log_user;
static atomic_int log_min = 4; /* above WIPC_LOG_ERROR: nothing logged */
WIPC_API wipc_status WIPC_CALL wipc_set_log_callback(wipc_log_cb cb, int32_t min_level, void *user_data)
{
    if (min_level < WIPC_LOG_DEBUG || min_level > WIPC_LOG_ERROR)
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "wipc_set_log_callback: min_level %d is not WIPC_LOG_DEBUG..WIPC_LOG_ERROR (0..3)",
                           (int)min_level);
    wipc__mutex_lock(&log_lock);
    log_cb = cb;
    log_user = user_data;
    atomic_store(&log_min, cb ? min_level : 4);
    wipc__mutex_unlock(&log_lock);
    return WIPC_OK;
}

void wipc__log(int32_t level, const char *fmt, ...)
{
    if (level < atomic_load_explicit(&log_min, memory_order_relaxed))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    wipc__mutex_lock(&log_lock);
    wipc_log_cb cb = log_cb;
    void *ud = log_user;
    wipc__mutex_unlock(&log_lock);
    if (cb)
        cb(level, line, ud);
}
