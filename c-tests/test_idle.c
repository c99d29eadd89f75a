/*
 * test_idle.c - an idle wipc process costs nothing: with 64 idle pipe clients of a
 * pipe server with callbacks, a blocked shm pair at default options and a msg endpoint with callbacks
 * (c-tests/idle_scene.h), no library thread wakes up for WIPC_IDLE_SECS seconds (default 6) and the
 * process uses no CPU tick. Linux only (it reads /proc).
 *
 * What is asserted: the context switches of every thread but this one (a thread that sleeps and
 * wakes up - a poll, a timed wait that expires, a periodic liveness check - counts one each time,
 * however cheap its work) stay exactly the same, and so do their utime + stime ticks (this thread's
 * own reading of about 70 /proc files is not counted: it is not the library's, and a sampled tick
 * landing in it was charged to the process before). Not a speed assertion: nothing here depends on
 * how fast the machine is.
 *
 * The shm liveness check polled every 100 ms before 1.1 (each blocked waiter woke ~30 times in
 * 3 s): this test failed on that code ("+30" on the shm threads). The window (6 s, after 1 s of
 * settling) also covers the handshake watch's deadline (5 s after the last accept), whose thread used
 * to wake once then although every handshake was done: it failed on that too ("+1").
 */
#include <errno.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "testlib.h"
#include "idle_scene.h"

/* Whether pidfd_open(2) works here: the library watches a shm peer's exit with it. */
static int pidfd_available(void)
{
    int fd = (int)syscall(434 /* SYS_pidfd_open, the same number on every architecture */, (pid_t)getpid(), 0);
    if (fd < 0)
        return errno != ENOSYS;
    close(fd);
    return 1;
}

static int idle_secs(void)
{
    const char *e = getenv("WIPC_IDLE_SECS");
    int n = e ? atoi(e) : 0;
    return n > 0 ? n : 6;
}

static void test_idle_process_costs_nothing(void **state)
{
    (void)state;
    char tag[96], err[512];
    wt_unique_name(tag, sizeof tag, "idle");
    idle_scene *s = idle_scene_open(tag, 64, err, sizeof err);
    if (!s)
        fail_msg("%s", err);
    wt_sleep_ms(1000); /* the setup's own work settles: handshakes, first callbacks, thread starts */
    char *snap = idle_threads_snapshot();
    idle_usage_t a, b;
    idle_usage(&a);
    wt_sleep_ms((unsigned)idle_secs() * 1000u);
    idle_usage(&b);
    char who[2048];
    idle_threads_diff(who, sizeof who, snap);
    free(snap);
    print_message("idle %d s, %d threads: %llu tick(s), %lld wake-up(s)%s%s\n", idle_secs(), b.threads,
                  (unsigned long long)(b.ticks - a.ticks), (long long)(b.switches - a.switches), who[0] ? ": " : "",
                  who);
    idle_scene_close(s);
    assert_true(a.switches >= 0 && b.switches >= 0);
#if defined(__SANITIZE_THREAD__)
    /* TSan's own background thread wakes every 100 ms in every process: the count says nothing about
     * wipc here. The property is asserted by the plain and ASan runs of this test. */
    print_message("built with ThreadSanitizer: its background thread wakes every 100 ms; no assertion on wake-ups\n");
    return;
#endif
    if (!pidfd_available()) {
        /* the documented fallback (wipc_shm_create): the two blocked shm waiters check their peer every
         * 100 ms; nothing else may wake. Ticks are not asserted: this case is valgrind's, whose own
         * work is charged to the process. */
        print_message("pidfd_open(2) is not available here (ENOSYS: a kernel before 5.3, or valgrind, which does not "
                      "emulate syscall 434): the shm waits poll every 100 ms, as documented; asserting that bound\n");
        assert_true(b.switches - a.switches <= 2 * 15 * idle_secs());
        return;
    }
    assert_int_equal(b.switches - a.switches, 0);
    assert_int_equal(b.ticks - a.ticks, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_idle_process_costs_nothing),
    };
    wt_apply_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
