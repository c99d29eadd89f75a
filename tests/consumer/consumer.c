/*
 * consumer.c - a program that uses wipc the way a user does: only the installed/shipped files
 * (include/wipc.h, the library, its CMake package or pkg-config file), nothing of the source tree.
 *
 * One process: a server thread accepts on a named pipe and answers one request; the main thread
 * connects and sends the request. Exits 0 when the reply came back intact, prints what failed otherwise.
 */
#include <wipc.h>

#include <stdio.h>
#include <string.h>

#ifdef _WIN32
#  include <windows.h>
#  include <process.h>
typedef HANDLE thread_t;
static unsigned __stdcall server_main_win(void *arg);
#  define getpid_ GetCurrentProcessId
#else
#  include <pthread.h>
#  include <unistd.h>
typedef pthread_t thread_t;
static void *server_main_posix(void *arg);
#  define getpid_ getpid
#endif

#define REQ_TYPE 7u
#define REPLY_TYPE 8u

static wipc_handle g_server;
static volatile int g_server_status = 1; /* 0 = served one request */

static void fail_line(const char *what, wipc_status st)
{
    fprintf(stderr, "consumer: %s: %s (%s)\n", what, wipc_status_name(st), wipc_last_error_message());
}

static void server_main(void)
{
    wipc_handle conn = 0;
    char buf[256];
    wipc_message m;
    wipc_status st = wipc_pipe_accept(g_server, 10000, &conn);
    if (st != WIPC_OK) { fail_line("server: wipc_pipe_accept", st); return; }
    memset(&m, 0, sizeof m);
    m.struct_size = sizeof m;
    st = wipc_recv_message(conn, buf, sizeof buf - 1, &m, 10000);
    if (st != WIPC_OK) { fail_line("server: wipc_recv_message", st); wipc_close(conn); return; }
    if (m.type != REQ_TYPE || m.request_id == 0) {
        fprintf(stderr, "consumer: server: got type %u request_id %llu, want type %u and a request\n",
                m.type, (unsigned long long)m.request_id, REQ_TYPE);
        wipc_close(conn);
        return;
    }
    /* reply: "pong:" + the request */
    char reply[300];
    int n = snprintf(reply, sizeof reply, "pong:%.*s", (int)m.size, buf);
    st = wipc_reply(conn, m.request_id, REPLY_TYPE, reply, (size_t)n);
    if (st != WIPC_OK) { fail_line("server: wipc_reply", st); wipc_close(conn); return; }
    /* Wait for the client to hang up before closing our end, so the reply is never cut short. */
    size_t sz; uint32_t ty;
    (void)wipc_recv(conn, buf, sizeof buf, &sz, &ty, 10000);
    wipc_close(conn);
    g_server_status = 0;
}

#ifdef _WIN32
static unsigned __stdcall server_main_win(void *arg) { (void)arg; server_main(); return 0; }
#else
static void *server_main_posix(void *arg) { (void)arg; server_main(); return NULL; }
#endif

int main(void)
{
    uint32_t v = wipc_version();
    printf("consumer: built against wipc %s, running with %s (0x%06x)\n", WIPC_VERSION_STRING,
           wipc_version_string(), (unsigned)v);
    if ((v >> 16) != WIPC_VERSION_MAJOR || v < (uint32_t)WIPC_VERSION) {
        fprintf(stderr, "consumer: run-time version 0x%06x does not satisfy the header's 0x%06x\n",
                (unsigned)v, (unsigned)WIPC_VERSION);
        return 1;
    }

    char name[64];
    snprintf(name, sizeof name, "consumer-%lu", (unsigned long)getpid_());
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    wipc_status st = wipc_pipe_listen(name, &o, &g_server);
    if (st != WIPC_OK) { fail_line("wipc_pipe_listen", st); return 1; }

    thread_t t;
#ifdef _WIN32
    t = (HANDLE)_beginthreadex(NULL, 0, server_main_win, NULL, 0, NULL);
    if (!t) { fprintf(stderr, "consumer: _beginthreadex failed\n"); return 1; }
#else
    if (pthread_create(&t, NULL, server_main_posix, NULL) != 0) { fprintf(stderr, "consumer: pthread_create failed\n"); return 1; }
#endif

    wipc_handle cli = 0;
    int rc = 1;
    st = wipc_pipe_connect(name, NULL, 10000, &cli);
    if (st != WIPC_OK) {
        fail_line("wipc_pipe_connect", st);
    } else {
        char resp[300];
        size_t n = 0;
        st = wipc_request(cli, REQ_TYPE, "ping", 4, resp, sizeof resp, &n, 10000);
        if (st != WIPC_OK) {
            fail_line("wipc_request", st);
        } else if (n != 9 || memcmp(resp, "pong:ping", 9) != 0) {
            fprintf(stderr, "consumer: wrong reply (%zu bytes): %.*s\n", n, (int)n, resp);
        } else {
            printf("consumer: request 'ping' over pipe '%s' -> reply '%.*s'\n", name, (int)n, resp);
            rc = 0;
        }
        wipc_close(cli);
    }

#ifdef _WIN32
    WaitForSingleObject(t, INFINITE);
    CloseHandle(t);
#else
    pthread_join(t, NULL);
#endif
    wipc_close(g_server);
    wipc_shutdown();
    if (rc == 0 && g_server_status != 0) rc = 1;
    printf("consumer: %s\n", rc == 0 ? "OK" : "FAILED");
    return rc;
}
