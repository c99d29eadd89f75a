/*
 * idle_scene.c - an idle wipc process and what it costs (see idle_scene.h).
 */
#if !defined(_WIN32) && !defined(_GNU_SOURCE)
#  define _GNU_SOURCE
#endif
#include "idle_scene.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#  ifndef WIN32_LEAN_AND_MEAN
#    define WIN32_LEAN_AND_MEAN
#  endif
#  include <windows.h>
typedef HANDLE scene_thread;
#else
#  include <dirent.h>
#  include <pthread.h>
#  include <sys/syscall.h>
#  include <unistd.h>
typedef pthread_t scene_thread;
#endif

struct idle_scene {
    wipc_handle srv, cli[IDLE_MAX_CLIENTS], shm_a, shm_b, msg;
    int nclients;
    wipc_op op;
    scene_thread t_pipe, t_shm;
    int have_pipe_thread, have_shm_thread;
};

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)user;
    if (m->request_id)
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    return 0;
}

static void WIPC_CALL on_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user)
{
    (void)h, (void)event, (void)related, (void)status, (void)user;
}

static void WIPC_CALL on_done(const wipc_completion *c, void *user)
{
    (void)c, (void)user;
}

/* A thread blocked in wipc_recv with no timeout, until its handle is closed. */
#if defined(_WIN32)
static DWORD WINAPI blocked_recv(void *arg)
#else
static void *blocked_recv(void *arg)
#endif
{
    char buf[256];
    size_t got;
    uint32_t type;
    wipc_recv(*(wipc_handle *)arg, buf, sizeof buf, &got, &type, WIPC_INFINITE);
    return 0;
}

static int thread_start(scene_thread *t, wipc_handle *h)
{
#if defined(_WIN32)
    *t = CreateThread(NULL, 0, blocked_recv, h, 0, NULL);
    return *t != NULL;
#else
    return pthread_create(t, NULL, blocked_recv, h) == 0;
#endif
}

static void thread_join(scene_thread t)
{
#if defined(_WIN32)
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
#else
    pthread_join(t, NULL);
#endif
}

#define FAIL(...)                                                                                                      \
  do {                                                                                                                 \
    snprintf(err, cap, __VA_ARGS__);                                                                                   \
    snprintf(err + strlen(err), cap - strlen(err), ": %s", wipc_last_error_message());                                 \
    goto fail;                                                                                                         \
  } while (0)

idle_scene *idle_scene_open(const char *tag, int nclients, char *err, size_t cap)
{
    if (nclients < 2 || nclients > IDLE_MAX_CLIENTS) {
        snprintf(err, cap, "idle scene: %d clients (2..%d)", nclients, IDLE_MAX_CLIENTS);
        return NULL;
    }
    idle_scene *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, cap, "idle scene: out of memory");
        return NULL;
    }
    /* WIPC_IDLE_PARTS (e.g. "shm"): only these parts of the scene, to find which one wakes up */
    const char *parts = getenv("WIPC_IDLE_PARTS");
    if (!parts || !*parts)
        parts = "pipe,shm,msg";
    char name[96];
    if (!strstr(parts, "pipe"))
        goto shm;
    wipc_pipe_options po;
    wipc_pipe_options_init(&po);
    po.max_instances = 255;
    snprintf(name, sizeof name, "%s-pipe", tag);
    if (wipc_pipe_listen(name, &po, &s->srv) != WIPC_OK ||
        wipc_set_callbacks(s->srv, on_message, on_event, NULL) != WIPC_OK)
        FAIL("listen %s", name);
    for (; s->nclients < nclients; s->nclients++) {
        wipc_handle *c = &s->cli[s->nclients];
        if (wipc_pipe_connect(name, NULL, 10000, c) != WIPC_OK)
            FAIL("connect %d to %s", s->nclients, name);
        if (s->nclients >= 2 && wipc_set_callbacks(*c, on_message, on_event, NULL) != WIPC_OK)
            FAIL("callbacks on client %d", s->nclients);
    }
    if (!(s->have_pipe_thread = thread_start(&s->t_pipe, &s->cli[0])))
        FAIL("thread");
    if (wipc_recv_async(s->cli[1], WIPC_INFINITE, on_done, NULL, &s->op) != WIPC_OK)
        FAIL("recv_async");
shm:
    if (!strstr(parts, "shm"))
        goto msg;
    snprintf(name, sizeof name, "%s-shm", tag);
    if (wipc_shm_create(name, NULL, &s->shm_a) != WIPC_OK)
        FAIL("shm create %s", name);
    if (wipc_shm_open(name, NULL, 10000, &s->shm_b) != WIPC_OK ||
        wipc_set_callbacks(s->shm_b, on_message, on_event, NULL) != WIPC_OK)
        FAIL("shm open %s", name);
    if (!(s->have_shm_thread = thread_start(&s->t_shm, &s->shm_a)))
        FAIL("thread");
msg:
    if (!strstr(parts, "msg"))
        return s;
    snprintf(name, sizeof name, "%s-msg", tag);
    if (wipc_msg_listen(name, NULL, &s->msg) != WIPC_OK ||
        wipc_set_callbacks(s->msg, on_message, on_event, NULL) != WIPC_OK)
        FAIL("msg listen %s", name);
    return s;
fail:
    idle_scene_close(s);
    return NULL;
}

void idle_scene_close(idle_scene *s)
{
    if (!s)
        return;
    if (s->op)
        wipc_cancel(s->op);
    for (int i = 0; i < s->nclients; i++)
        wipc_close(s->cli[i]);
    if (s->have_pipe_thread)
        thread_join(s->t_pipe);
    if (s->shm_a)
        wipc_close(s->shm_a);
    if (s->have_shm_thread)
        thread_join(s->t_shm);
    if (s->shm_b)
        wipc_close(s->shm_b);
    if (s->msg)
        wipc_close(s->msg);
    if (s->srv)
        wipc_close(s->srv);
    free(s);
}

/* ---- what the process costs ------------------------------------------------------------------ */

#if defined(_WIN32)
void idle_usage(idle_usage_t *u)
{
    FILETIME c, e, k, us;
    memset(u, 0, sizeof *u);
    u->switches = -1;
    if (GetProcessTimes(GetCurrentProcess(), &c, &e, &k, &us)) {
        uint64_t t = (((uint64_t)k.dwHighDateTime << 32) | k.dwLowDateTime) +
                     (((uint64_t)us.dwHighDateTime << 32) | us.dwLowDateTime);
        u->ticks = t / 100000u; /* 100 ns units -> 10 ms */
    }
}

char *idle_threads_snapshot(void)
{
    return calloc(1, 1);
}

size_t idle_threads_diff(char *out, size_t cap, const char *before)
{
    (void)before;
    if (cap)
        out[0] = '\0';
    return 0;
}
#else
/* Field `want` (1-based, after the command name) of a /proc stat line. */
static uint64_t stat_field(const char *buf, int want)
{
    const char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    p += 2; /* field 3 */
    for (int f = 3; f < want && p; f++) {
        p = strchr(p, ' ');
        if (p)
            p++;
    }
    return p ? strtoull(p, NULL, 10) : 0;
}

static int read_text(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return 1;
}

/* utime + stime of thread `tid` in clock ticks (0 if it is gone). */
static uint64_t thread_ticks(const char *tid)
{
    char path[96], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    if (!read_text(path, buf, sizeof buf))
        return 0;
    return stat_field(buf, 14) + stat_field(buf, 15);
}

/* voluntary + involuntary switches of thread `tid` and its name; -1 if it is gone. */
static int64_t thread_switches(const char *tid, char *comm, size_t comm_cap)
{
    char path[96], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
    if (!read_text(path, buf, sizeof buf))
        return -1;
    int64_t n = 0;
    const char *p = buf;
    while ((p = strstr(p, "ctxt_switches:")) != NULL) {
        p += strlen("ctxt_switches:");
        n += strtoll(p, NULL, 10);
    }
    if (comm) {
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", tid);
        if (!read_text(path, comm, comm_cap))
            comm[0] = '\0';
        comm[strcspn(comm, "\n")] = '\0';
    }
    return n;
}

void idle_usage(idle_usage_t *u)
{
    memset(u, 0, sizeof *u);
    char self[32];
    snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
    DIR *d = opendir("/proc/self/task");
    if (!d) {
        u->switches = -1;
        return;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        u->threads++;
        if (strcmp(e->d_name, self) == 0)
            continue;
        int64_t n = thread_switches(e->d_name, NULL, 0);
        if (n > 0)
            u->switches += n;
        u->ticks += thread_ticks(e->d_name);
    }
    closedir(d);
}

char *idle_threads_snapshot(void)
{
    size_t cap = 1 << 16, len = 0;
    char *out = calloc(1, cap);
    DIR *d = opendir("/proc/self/task");
    if (!out || !d) {
        if (d)
            closedir(d);
        return out;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL && len + 128 < cap) {
        if (e->d_name[0] == '.')
            continue;
        int64_t n = thread_switches(e->d_name, NULL, 0);
        if (n >= 0)
            len += (size_t)snprintf(out + len, cap - len, "%s %lld\n", e->d_name, (long long)n);
    }
    closedir(d);
    return out;
}

size_t idle_threads_diff(char *out, size_t cap, const char *before)
{
    char *now = idle_threads_snapshot();
    size_t len = 0;
    if (cap)
        out[0] = '\0';
    char self[32];
    snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
    for (const char *p = now; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : "") {
        char tid[32];
        long long n;
        if (sscanf(p, "%31s %lld", tid, &n) != 2 || strcmp(tid, self) == 0)
            continue;
        long long was = 0;
        char key[40];
        snprintf(key, sizeof key, "\n%s ", tid);
        const char *q = strstr(before, key + 1) == before ? before : strstr(before, key);
        if (q)
            sscanf(q + (q == before ? 0 : 1), "%*s %lld", &was);
        if (n != was && len + 64 < cap) {
            char comm[32];
            thread_switches(tid, comm, sizeof comm);
            len += (size_t)snprintf(out + len, cap - len, "%s%s(%s) +%lld", len ? ", " : "", tid, comm, n - was);
        }
    }
    free(now);
    return len;
}
#endif
