/*
 * rel_peer.c - the helper process of the reliability suite (test_fault.c, test_load.c,
 * test_security.c and python-tests/test_fault*.py). Every command that serves or holds something
 * prints "READY" once it is in place; the tests kill it (SIGKILL / TerminateProcess) when they inject
 * a fault. Messages carry checksums so a receiver can tell a corrupt, lost or duplicated message.
 *
 * pipe
 *   pipe-stream NAME SIZE          connect, READY, send SIZE-byte messages (type i, wt_fill(i)) forever
 *   pipe-hold NAME                 connect, READY, never read (the library reads until its queue is full)
 *   pipe-squat NAME                listen, READY, block
 *   req-server NAME LOGFILE        listen with callbacks, READY; each request "cid seq" (8 bytes) is
 *                                  logged as "cid seq pid\n" (one write(), O_APPEND) and then answered
 *                                  with the request bytes + this pid (4 bytes); serves until killed
 *   load-client NAME N CID         connect (up to 20 s), N requests of 16..272 bytes, every reply
 *                                  checked (the server echoes; see echo_cb in test_load.c); "DONE N us"
 * shm
 *   shm-hold-reserve NAME create|open SIZE
 *                                  create (64 KiB rings) or open NAME, reserve SIZE bytes, write half,
 *                                  READY, block (killed while it holds the reservation)
 *   shm-create-hold NAME           create (64 KiB rings), READY, block
 *   shm-hold NAME                  open, READY, never read
 *   shm-echo NAME                  open, READY, answer requests / echo messages until the creator goes
 *   shm-load-send NAME N SEED      open, send N checksummed messages (8..128 bytes), "DONE N"
 * msg
 *   msg-block NAME                 listen with a callback that prints "INCB <type>" and then sleeps
 *                                  forever (to be killed inside the callback)
 *   msg-hold NAME                  listen (queue mode), READY, block
 *   msg-send NAME N ID             send N checksummed messages (type ID<<20 | i); the receiver's
 *                                  reply must be the payload's checksum; "DONE N"
 *
 * Exit codes: 0 ok, 1 test failure, 2 setup failure, 64 usage.
 */
#include "support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef _WIN32 /* <windows.h> / <unistd.h>: support.h */
#  include <fcntl.h>
#  include <pthread.h>
#  include <signal.h>
#endif

#include "test_fault_lib.h"

#define PROG "rel_peer"

static int fail_status(const char *what, wipc_status s)
{
    wt_peer_report(PROG, what, s);
    return 1;
}

/* ---- pipe ---------------------------------------------------------------------------------------- */

static int cmd_pipe_stream(const char *name, size_t size)
{
    wipc_handle c = 0;
    wipc_status s = wt_connect_waiting(name, 10000, &c);
    if (s != WIPC_OK)
        return fail_status("wipc_pipe_connect", s), 2;
    uint8_t *buf = (uint8_t *)malloc(size ? size : 1);
    if (!buf)
        return 2;
    wt_peer_ready();
    for (uint32_t i = 0;; i++) {
        wt_fill(buf, size, i);
        s = wipc_send(c, i, buf, size, WIPC_INFINITE);
        if (s != WIPC_OK)
            return fail_status("wipc_send", s);
    }
}

/* req-server: the log line is written before the reply, so every reply a client ever saw is in the
 * log of the process that sent it, even if that process is killed right after. Callbacks of several
 * connections run on several threads: one handle, one lock, one write per line. */
#ifdef _WIN32
static HANDLE g_log = INVALID_HANDLE_VALUE;
static CRITICAL_SECTION g_log_lock;
#else
static int g_log = -1;
static pthread_mutex_t g_log_lock = PTHREAD_MUTEX_INITIALIZER;
#endif

static int log_open(const char *path)
{
#ifdef _WIN32
    InitializeCriticalSection(&g_log_lock);
    g_log = CreateFileA(path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, NULL,
                        OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    return g_log != INVALID_HANDLE_VALUE;
#else
    g_log = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    return g_log >= 0;
#endif
}

static void log_line(const char *line, size_t n)
{
#ifdef _WIN32
    EnterCriticalSection(&g_log_lock);
    DWORD put = 0;
    WriteFile(g_log, line, (DWORD)n, &put, NULL);
    LeaveCriticalSection(&g_log_lock);
#else
    pthread_mutex_lock(&g_log_lock);
    ssize_t w = write(g_log, line, n);
    (void)w;
    pthread_mutex_unlock(&g_log_lock);
#endif
}

static int32_t WIPC_CALL req_on_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)user;
    if (!m->request_id || m->size != 8)
        return 0;
    uint32_t cid, seq;
    memcpy(&cid, m->data, 4);
    memcpy(&seq, (const uint8_t *)m->data + 4, 4);
    uint32_t pid = rel_self_pid();
    char line[64];
    int n = snprintf(line, sizeof line, "%u %u %u\n", (unsigned)cid, (unsigned)seq, (unsigned)pid);
    log_line(line, (size_t)n);
    uint8_t reply[12];
    memcpy(reply, m->data, 8);
    memcpy(reply + 8, &pid, 4);
    wipc_reply(h, m->request_id, m->type + 1, reply, sizeof reply);
    return 0;
}

static void WIPC_CALL req_on_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user)
{
    (void)h;
    (void)related;
    (void)status;
    (void)user;
    if (event == WIPC_EVENT_DISCONNECTED || event == WIPC_EVENT_ERROR)
        wipc_close(h); /* a connection whose client left: free it (closing from inside its callback) */
}

static int cmd_req_server(const char *name, const char *log_path)
{
    if (!log_open(log_path)) {
        fprintf(stderr, "rel_peer: cannot open the log %s\n", log_path);
        return 2;
    }
    wipc_handle srv = 0;
    wipc_status s = wipc_pipe_listen(name, NULL, &srv);
    if (s != WIPC_OK)
        return fail_status("wipc_pipe_listen", s), 2;
    return wt_peer_hold(PROG, "wipc_set_callbacks", wipc_set_callbacks(srv, req_on_message, req_on_event, NULL));
}

static int cmd_load_client(const char *name, long n, uint32_t cid)
{
    wipc_handle c = 0;
    wipc_status s = wt_connect_waiting(name, 20000, &c);
    if (s != WIPC_OK)
        return fail_status("wipc_pipe_connect", s), 2;
    uint8_t req[REL_LOAD_MAX], resp[REL_LOAD_MAX + 16];
    uint64_t t0 = wt_now_ms();
    for (long i = 0; i < n; i++) {
        size_t sz = rel_load_fill(req, cid, (uint32_t)i);
        size_t got = 0;
        s = wipc_request(c, cid, req, sz, resp, sizeof resp, &got, 30000);
        if (s != WIPC_OK) {
            fprintf(stderr, "rel_peer: client %u request %ld\n", (unsigned)cid, i);
            return fail_status("wipc_request", s);
        }
        if (got != sz || memcmp(req, resp, sz) != 0) {
            fprintf(stderr, "rel_peer: client %u request %ld: reply of %zu bytes does not match the %zu sent\n",
                    (unsigned)cid, i, got, sz);
            return 1;
        }
    }
    uint64_t ms = wt_now_ms() - t0;
    wipc_close(c);
    printf("DONE %ld %llu\n", n, (unsigned long long)ms);
    fflush(stdout);
    return 0;
}

/* ---- shm ----------------------------------------------------------------------------------------- */

static int cmd_shm_hold_reserve(const char *name, int create, size_t size)
{
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    o.capacity = 64 * 1024;
    wipc_handle h = 0;
    wipc_status s = create ? wipc_shm_create(name, &o, &h) : wipc_shm_open(name, &o, 10000, &h);
    if (s != WIPC_OK)
        return fail_status(create ? "wipc_shm_create" : "wipc_shm_open", s), 2;
    void *p = NULL;
    s = wipc_shm_reserve(h, size, &p, 10000);
    if (s == WIPC_OK)
        memset(p, 0xEE, size / 2); /* half written when the process dies */
    return wt_peer_hold(PROG, "wipc_shm_reserve", s);
}

static int cmd_shm_load_send(const char *name, long n, uint64_t seed)
{
    wipc_shm_options o;
    wipc_shm_options_init(&o);
    wipc_handle h = 0;
    wipc_status s = wipc_shm_open(name, &o, 20000, &h);
    if (s != WIPC_OK)
        return fail_status("wipc_shm_open", s), 2;
    uint8_t buf[REL_SHM_MAX];
    for (long i = 0; i < n; i++) {
        uint32_t sum;
        size_t sz = rel_shm_fill(buf, seed, (uint64_t)i, &sum);
        s = wipc_send(h, sum, buf, sz, 30000);
        if (s != WIPC_OK) {
            fprintf(stderr, "rel_peer: shm message %ld\n", i);
            return fail_status("wipc_send", s);
        }
    }
    printf("DONE %ld\n", n);
    fflush(stdout);
    /* stay until the receiver has read everything and closed (a creator reads what is left anyway) */
    uint8_t tmp[16];
    wipc_recv(h, tmp, sizeof tmp, NULL, NULL, 60000);
    wipc_close(h);
    return 0;
}

/* ---- msg ----------------------------------------------------------------------------------------- */

static int32_t WIPC_CALL block_cb(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    (void)user;
    printf("INCB %u\n", (unsigned)m->type);
    fflush(stdout);
    wt_peer_block_forever();
    return 0;
}

static int cmd_msg_block(const char *name)
{
    wipc_handle ep = 0;
    wipc_status s = wipc_msg_listen(name, NULL, &ep);
    if (s != WIPC_OK)
        return fail_status("wipc_msg_listen", s), 2;
    return wt_peer_hold(PROG, "wipc_set_callbacks", wipc_set_callbacks(ep, block_cb, NULL, NULL));
}

static int cmd_msg_hold(const char *name)
{
    wipc_handle ep = 0;
    return wt_peer_hold(PROG, "wipc_msg_listen", wipc_msg_listen(name, NULL, &ep));
}

static int cmd_msg_send(const char *name, long n, uint32_t id)
{
    uint8_t buf[REL_MSG_MAX];
    for (long i = 0; i < n; i++) {
        uint32_t type = (id << 20) | (uint32_t)i;
        uint32_t sum;
        size_t sz = rel_msg_fill(buf, type, &sum);
        int32_t reply = 0;
        wipc_status s;
        /* a full receiver queue answers BUSY: try again (the message was not delivered) */
        for (int tries = 0;; tries++) {
            s = wipc_msg_send(name, type, buf, sz, 30000, &reply);
            if (s != WIPC_E_BUSY || tries > 1000)
                break;
            wt_sleep_ms(2);
        }
        if (s != WIPC_OK) {
            fprintf(stderr, "rel_peer: msg %ld to %s\n", i, name);
            return fail_status("wipc_msg_send", s);
        }
        if ((uint32_t)reply != sum) {
            fprintf(stderr, "rel_peer: msg %ld: reply 0x%08x, expected the checksum 0x%08x\n", i, (unsigned)reply,
                    (unsigned)sum);
            return 1;
        }
    }
    printf("DONE %ld\n", n);
    fflush(stdout);
    return 0;
}

/* ---- main ---------------------------------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr, "usage: rel_peer COMMAND ARGS... (see rel_peer.c)\n");
    return 64;
}

int main(int argc, char **argv)
{
    if (wt_peer_die_with_parent() != 0)
        return 2;
#ifndef _WIN32
    signal(SIGPIPE, SIG_IGN);
#endif
    if (argc < 3)
        return usage();
    const char *cmd = argv[1], *name = argv[2];
    if (!strcmp(cmd, "pipe-stream") && argc == 4)
        return cmd_pipe_stream(name, (size_t)strtoull(argv[3], NULL, 10));
    if (!strcmp(cmd, "pipe-hold"))
        return wt_peer_pipe_hold(PROG, name);
    if (!strcmp(cmd, "pipe-squat"))
        return wt_peer_pipe_squat(PROG, name);
    if (!strcmp(cmd, "req-server") && argc == 4)
        return cmd_req_server(name, argv[3]);
    if (!strcmp(cmd, "load-client") && argc == 5)
        return cmd_load_client(name, strtol(argv[3], NULL, 10), (uint32_t)strtoul(argv[4], NULL, 10));
    if (!strcmp(cmd, "shm-hold-reserve") && argc == 5)
        return cmd_shm_hold_reserve(name, !strcmp(argv[3], "create"), (size_t)strtoull(argv[4], NULL, 10));
    if (!strcmp(cmd, "shm-create-hold"))
        return wt_peer_shm_hold(PROG, name, 1);
    if (!strcmp(cmd, "shm-hold"))
        return wt_peer_shm_hold(PROG, name, 0);
    if (!strcmp(cmd, "shm-echo"))
        return wt_peer_shm_echo(PROG, name);
    if (!strcmp(cmd, "shm-load-send") && argc == 5)
        return cmd_shm_load_send(name, strtol(argv[3], NULL, 10), strtoull(argv[4], NULL, 10));
    if (!strcmp(cmd, "msg-block"))
        return cmd_msg_block(name);
    if (!strcmp(cmd, "msg-hold"))
        return cmd_msg_hold(name);
    if (!strcmp(cmd, "msg-send") && argc == 5)
        return cmd_msg_send(name, strtol(argv[3], NULL, 10), (uint32_t)strtoul(argv[4], NULL, 10));
    return usage();
}
