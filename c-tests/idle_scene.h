/*
 * idle_scene.h - an idle wipc process, shared by c-tests/test_idle.c (asserts it
 * costs nothing) and the benchmark's idle.ticks case (bench/b_scale.c, reports it for 10 s).
 *
 * The scene, in this one process, at default options:
 *  - a pipe server with callbacks and `nclients` client connections to it (the first blocked in a
 *    wipc_recv with no timeout on a thread of its own, the second with a wipc_recv_async pending
 *    with no timeout, the others with callbacks),
 *  - a shm channel whose creator is blocked in wipc_recv (no timeout, its own thread) and whose
 *    opener has callbacks (the channel's reader thread waits for data),
 *  - a msg endpoint with callbacks.
 * Nothing is sent after the setup: a process in this state should never run. WIPC_IDLE_PARTS in the
 * environment (e.g. "shm", "pipe,msg") builds only those parts: a diagnosis of what wakes up.
 *
 * The cost: idle_usage() reads the CPU time in clock ticks (Linux: utime + stime of every thread but
 * the caller, /proc/self/task/<tid>/stat, USER_HZ = 100/s, so that the caller's own reading of about
 * 70 /proc files is not charged to the library; Windows: GetProcessTimes of the whole process in
 * 10 ms units) and, on Linux, the context switches of every thread but the caller (voluntary +
 * involuntary, /proc/self/task/<tid>/status): each time a sleeping thread wakes up is one switch, so
 * a thread that polls shows up even when its polls are too cheap to add a tick.
 */
#ifndef WIPC_IDLE_SCENE_H
#define WIPC_IDLE_SCENE_H

#include <stddef.h>
#include <stdint.h>
#include "wipc.h"

#define IDLE_MAX_CLIENTS 256

typedef struct idle_usage_t {
    uint64_t ticks; /* utime + stime, 1/100 s: Linux every thread but the caller, Windows the process */
    int64_t switches; /* context switches of the other threads; -1 where not measurable */
    int threads; /* threads of the process; 0 where not measurable */
} idle_usage_t;

typedef struct idle_scene idle_scene;

/* Builds the scene (names from `tag`). NULL on failure, with the reason in err. */
idle_scene *idle_scene_open(const char *tag, int nclients, char *err, size_t cap);
/* Closes every handle, joins the blocked threads and frees the scene. */
void idle_scene_close(idle_scene *s);
/* The process's cost so far (see above). */
void idle_usage(idle_usage_t *u);
/* Writes "tid comm switches" for each other thread whose switch count moved between two
 * idle_threads_snapshot calls (Linux; a diagnosis of what woke up). Returns the bytes written. */
size_t idle_threads_diff(char *out, size_t cap, const char *before);
/* A snapshot of per-thread switch counts for idle_threads_diff (a malloc'd string; free it). */
char *idle_threads_snapshot(void);

#endif
