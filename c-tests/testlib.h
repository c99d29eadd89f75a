/*
 * testlib.h - helpers shared by the cmocka test files (include after cmocka.h).
 */
#ifndef WIPC_TESTLIB_H
#define WIPC_TESTLIB_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "support.h"   /* and <windows.h> / <unistd.h> */
#include "wipc.h"

/* A connected pair in one process: server handle, client connection, server-side connection. */
typedef struct wt_pair {
    char        name[160];
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

/* WT_FILTER=pattern (cmocka wildcards, e.g. "test_pipe_squat*") runs only the matching tests. */
static inline void wt_apply_test_filter(void)
{
    const char *f = getenv("WT_FILTER");
    if (f && f[0])
        cmocka_set_test_filter(f);
}

#endif /* WIPC_TESTLIB_H */
