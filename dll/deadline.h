/*
 * deadline.h - the library's one representation of "wait until": a wipc__deadline, an absolute time
 * on the monotonic millisecond clock wipc__now_ms() (GetTickCount64 / CLOCK_MONOTONIC), with one value
 * for "never" (at_ms == UINT64_MAX). Included by platform.h, so the core and both backends share it;
 * the timed condition wait that takes it is wipc__cond_wait_until (platform.h).
 *
 * A call's timeout (int32_t ms: WIPC_INFINITE = forever, 0 = do not wait) becomes a deadline with
 * wipc__deadline_in; an OS wait that takes relative milliseconds gets them from wipc__deadline_left
 * (WIPC_INFINITE for never: the Win32 waits map it to INFINITE). Millisecond precision is enough: the
 * only sub-millisecond wait, the shm spin (shm_channel.c), is a spin budget in ns, not a deadline.
 *
 * wipc__timeout is a call's timeout that becomes its deadline only when the call first has to wait,
 * so a call that never waits never reads the clock (the pipe and shm fast paths).
 */
#ifndef WIPC_DEADLINE_H
#define WIPC_DEADLINE_H

#include <stdbool.h>
#include <stdint.h>
#include "wipc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Monotonic milliseconds (platform.h; declared here too so that this header stands alone). */
uint64_t wipc__now_ms(void);

/* An absolute wipc__now_ms() time; at_ms == UINT64_MAX: never. */
typedef struct wipc__deadline {
    uint64_t at_ms;
} wipc__deadline;

static inline wipc__deadline wipc__deadline_never(void)
{
    wipc__deadline d = { UINT64_MAX };
    return d;
}

/* The deadline at the absolute wipc__now_ms() time `at_ms` (UINT64_MAX = never). */
static inline wipc__deadline wipc__deadline_at(uint64_t at_ms)
{
    wipc__deadline d = { at_ms };
    return d;
}

/* `timeout_ms` from now: WIPC_INFINITE (any negative value) = never, 0 = already due. */
static inline wipc__deadline wipc__deadline_in(int32_t timeout_ms)
{
    return timeout_ms < 0 ? wipc__deadline_never() : wipc__deadline_at(wipc__now_ms() + (uint64_t)timeout_ms);
}

static inline bool wipc__deadline_is_never(wipc__deadline d)
{
    return d.at_ms == UINT64_MAX;
}

/* Milliseconds that remain: WIPC_INFINITE for never, else 0 (passed) .. INT32_MAX. */
static inline int32_t wipc__deadline_left(wipc__deadline d)
{
    if (wipc__deadline_is_never(d))
        return WIPC_INFINITE;
    uint64_t now = wipc__now_ms();
    if (now >= d.at_ms)
        return 0;
    uint64_t left = d.at_ms - now;
    return left > INT32_MAX ? INT32_MAX : (int32_t)left;
}

/* The deadline is due (never: false). */
static inline bool wipc__deadline_passed(wipc__deadline d)
{
    return !wipc__deadline_is_never(d) && wipc__now_ms() >= d.at_ms;
}

/* The earlier / the later of two deadlines (never is later than any time). */
static inline wipc__deadline wipc__deadline_min(wipc__deadline a, wipc__deadline b)
{
    return a.at_ms <= b.at_ms ? a : b;
}

static inline wipc__deadline wipc__deadline_max(wipc__deadline a, wipc__deadline b)
{
    return a.at_ms >= b.at_ms ? a : b;
}

/* A call's timeout, turned into a deadline only when the call first has to wait. */
typedef struct wipc__timeout {
    int32_t ms; /* as given: WIPC_INFINITE, 0 or milliseconds */
    bool started; /* `dl` is set: the clock started at the first wait */
    wipc__deadline dl;
} wipc__timeout;

static inline wipc__timeout wipc__timeout_of(int32_t ms)
{
    wipc__timeout t = { ms, false, { 0 } };
    return t;
}

/* The call's deadline; the first use starts the clock. */
static inline wipc__deadline wipc__timeout_deadline(wipc__timeout *t)
{
    if (!t->started) {
        t->started = true;
        t->dl = wipc__deadline_in(t->ms);
    }
    return t->dl;
}

/* Milliseconds left: the whole timeout the first time (the clock starts then; no clock read for
 * WIPC_INFINITE or 0), WIPC_INFINITE or 0 .. INT32_MAX. */
static inline int32_t wipc__timeout_left(wipc__timeout *t)
{
    if (t->ms <= 0)
        return t->ms < 0 ? WIPC_INFINITE : 0;
    if (!t->started) {
        wipc__timeout_deadline(t);
        return t->ms;
    }
    return wipc__deadline_left(t->dl);
}

#ifdef __cplusplus
}
#endif

#endif /* WIPC_DEADLINE_H */
