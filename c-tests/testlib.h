/*
 * testlib.h - helpers shared by the cmocka test files (include after cmocka.h).
 */
#ifndef WIPC_TESTLIB_H
#define WIPC_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support.h" /* and <windows.h> / <unistd.h> */
#include "wipc.h"

/* A connected pair in one process: server handle, client connection, server-side connection. */
typedef struct wt_pair {
    char name[160];
    wipc_handle srv;
    wipc_handle cli;
    wipc_handle svc;
} wt_pair;

static inline void wt_pair_open_opts(wt_pair *p, const char *tag, const wipc_pipe_options *srv_opts,
                                     const wipc_pipe_options *cli_opts)
{
    memset(p, 0, sizeof *p);
    wt_unique_name(p->name, sizeof p->name, tag);
    WT_OK(wipc_pipe_listen(p->name, srv_opts, &p->srv));
    assert_true(p->srv != 0);
    WT_OK(wipc_pipe_connect(p->name, cli_opts, 5000, &p->cli));
    assert_true(p->cli != 0);
    WT_OK(wipc_pipe_accept(p->srv, 5000, &p->svc));
    assert_true(p->svc != 0);
    assert_true(p->srv != p->cli && p->cli != p->svc && p->srv != p->svc);
}

static inline void wt_pair_open(wt_pair *p, const char *tag)
{
    wt_pair_open_opts(p, tag, NULL, NULL);
}

/* Closes whatever is still open; handles already closed by the test are set to 0 by it. */
static inline void wt_pair_close(wt_pair *p)
{
    if (p->cli)
        WT_OK(wipc_close(p->cli));
    if (p->svc)
        WT_OK(wipc_close(p->svc));
    if (p->srv)
        WT_OK(wipc_close(p->srv));
    p->cli = p->svc = p->srv = 0;
}

static inline uint32_t wt_self_pid(void)
{
#ifdef _WIN32
    return (uint32_t)GetCurrentProcessId();
#else
    return (uint32_t)getpid();
#endif
}

static inline wipc_info wt_info(wipc_handle h)
{
    wipc_info in;
    memset(&in, 0, sizeof in);
    in.struct_size = sizeof in;
    WT_OK(wipc_get_info(h, &in));
    return in;
}

/* Spawns wipc_peer with args and waits for its READY line (fails the test otherwise). */
static inline wt_proc *wt_spawn_ready(const char *const *args)
{
    wt_proc *p = wt_spawn_peer(args);
    if (!p)
        WT_FAIL("cannot spawn %s", wt_peer_path());
    if (wt_proc_wait_ready(p, 20000) != 0) {
        int code = -1;
        wt_proc_kill(p);
        wt_proc_wait(p, 5000, &code);
        wt_proc_free(p);
        WT_FAIL("wipc_peer %s %s did not print READY (exit code %d)", args[0], args[1] ? args[1] : "", code);
    }
    return p;
}

/* Polls (every 2 ms) until *v >= want or timeout_ms passed; 1 if reached, else 0. */
static inline int wt_wait_atomic_ge(atomic_int *v, int want, int timeout_ms)
{
    uint64_t end = wt_now_ms() + (uint64_t)timeout_ms;
    while (atomic_load(v) < want) {
        if (wt_now_ms() >= end)
            return 0;
        wt_sleep_ms(2);
    }
    return 1;
}

/* Fails the test with "<what>: <call> returned <status>" and the last error unless s is WIPC_OK
 * (for the helpers below: `what` names the case, `call` the wipc call). */
static inline void wt_ok_in(const char *what, const char *call, wipc_status s)
{
    if (s != WIPC_OK) {
        char m[1024];
        wt_last_error(m, sizeof m);
        WT_FAIL("%s: %s returned %s (%d)\n    last error: \"%s\"", what, call, wipc_status_name(s), (int)s, m);
    }
}

/* Listens on name, spawns the peer (args; waits for its READY line) and accepts its connection
 * within accept_ms: *srv is the server handle, *conn the peer's connection. Returns the peer. */
static inline wt_proc *wt_serve_peer(const char *what, const char *name, const char *const *args, int32_t accept_ms,
                                     wipc_handle *srv, wipc_handle *conn)
{
    wt_ok_in(what, "wipc_pipe_listen", wipc_pipe_listen(name, NULL, srv));
    wt_proc *p = wt_spawn_ready(args);
    wt_ok_in(what, "wipc_pipe_accept", wipc_pipe_accept(*srv, accept_ms, conn));
    return p;
}

/* Writes a unique name (tag) into name (160 bytes) and a msg endpoint listens on it; with callbacks (on_message,
 * user) unless on_message is NULL. Returns the endpoint. */
static inline wipc_handle wt_msg_listen_named(char *name, const char *tag, wipc_message_cb on_message, void *user)
{
    wipc_handle h = 0;
    wt_unique_name(name, 160, tag);
    wt_ok_in(tag, "wipc_msg_listen", wipc_msg_listen(name, NULL, &h));
    if (on_message)
        wt_ok_in(tag, "wipc_set_callbacks", wipc_set_callbacks(h, on_message, NULL, user));
    return h;
}

/* Waits up to timeout_ms for the peer to exit with code 0 (fails with "<what> exit <code>"
 * otherwise), then frees it. */
static inline void wt_expect_exit_0(wt_proc *p, int timeout_ms, const char *what)
{
    int code = -1;
    WT_CHECK(wt_proc_wait(p, timeout_ms, &code) == 0 && code == 0, "%s exit %d", what, code);
    wt_proc_free(p);
}

/* Spawns the peer (args; waits for READY), kills it, waits (10 s) until it is gone and frees it:
 * whatever it held is left behind as a killed process leaves it. */
static inline void wt_spawn_and_kill(const char *const *args)
{
    wt_proc *p = wt_spawn_ready(args);
    int code = 0;
    WT_CHECK(wt_proc_kill(p) == 0, "kill %s %s", args[0], args[1] ? args[1] : "");
    WT_CHECK(wt_proc_wait(p, 10000, &code) == 0, "%s %s still runs 10 s after the kill", args[0],
             args[1] ? args[1] : "");
    wt_proc_free(p);
}

/* WT_FILTER=pattern (cmocka wildcards, e.g. "test_pipe_squat*") runs only the matching tests. */
static inline void wt_apply_test_filter(void)
{
    const char *f = getenv("WT_FILTER");
    if (f && f[0])
        cmocka_set_test_filter(f);
}

#endif /* WIPC_TESTLIB_H */
