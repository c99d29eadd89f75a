/*
 * test_msg_raw.c - msg raw mode against programs that do not use wipc, on both
 * backends. The foreign side is this program run as a child with plain Win32 / POSIX code and no
 * wipc call:
 *   test_msg_raw send TARGET TYPE TEXT [TYPE TEXT ...]
 *       a plain sender. Windows: FindWindowExW(HWND_MESSAGE, NULL, TARGET, NULL) (the window class),
 *       then SendMessageTimeoutW(WM_COPYDATA, dwData = TYPE, TEXT); POSIX: a SOCK_SEQPACKET
 *       connection to the socket path TARGET, one packet (type u32, 0 u32, TEXT) per message and an
 *       8-byte reply. Prints "REPLY <LRESULT as a signed 64-bit number>" per message. TEXT "@N" is
 *       N bytes of 'x'.
 *   test_msg_raw serve CLASS TITLE MSGCLASS   (Windows)
 *       a plain top-level window (CLASS, titled TITLE; "NOTOP" is printed if none can be made) and a
 *       message-only window (MSGCLASS) whose WM_COPYDATA prints "GOT <top|msg> <type> <len> <text>"
 *       and answers type + 100.
 *   test_msg_raw serve PATH   (POSIX)
 *       a plain SOCK_SEQPACKET server at PATH: per packet "GOT sock <type> <len> <text>", answer
 *       type + 100 as 8 bytes LE.
 *
 * Cases: a foreign sender to a WIPC_MSG_RAW endpoint (payload, type, LRESULT incl. a negative one,
 * queue mode, oversize refused with 0); a foreign sender to a framed endpoint (LRESULT 0, nothing
 * delivered); wipc raw sends (class:/title:/class:;title:/path:) to the plain windows / socket, the
 * bytes arriving with no header; wipc's own senders reaching a RAW endpoint by name; the refused
 * forms (NOT_FOUND / NOT_SUPPORTED / INVALID_ARG).
 */
#include "testlib.h"

#include <stdlib.h>
#ifndef _WIN32
#  include <errno.h>
#  include <sys/socket.h>
#  include <sys/un.h>
#endif

#define TIMEOUT_MS 10000

/* ---- the foreign child ------------------------------------------------------------------------ */

/* TEXT, or N bytes of 'x' for "@N" (malloc'd; *len set). */
static char *payload_of(const char *text, size_t *len)
{
    if (text[0] == '@') {
        *len = (size_t)strtoul(text + 1, NULL, 10);
        char *p = malloc(*len + 1);
        memset(p, 'x', *len);
        p[*len] = '\0';
        return p;
    }
    *len = strlen(text);
    char *p = malloc(*len + 1);
    memcpy(p, text, *len + 1);
    return p;
}

#ifdef _WIN32
static int child_send(int argc, char **argv)
{
    wchar_t cls[300];
    MultiByteToWideChar(CP_UTF8, 0, argv[0], -1, cls, 300);
    HWND w = FindWindowExW(HWND_MESSAGE, NULL, cls, NULL);
    if (!w)
        w = FindWindowExW(NULL, NULL, cls, NULL);
    if (!w) {
        printf("NOTFOUND\n");
        return 1;
    }
    /* wParam: "a handle to the window passing the data", as MFC senders pass it */
    HWND self = CreateWindowExW(0, L"STATIC", L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, NULL, NULL);
    for (int i = 1; i + 1 < argc; i += 2) {
        size_t len;
        char *p = payload_of(argv[i + 1], &len);
        COPYDATASTRUCT cds = { (ULONG_PTR)strtoul(argv[i], NULL, 10), (DWORD)len, p };
        DWORD_PTR r = 0;
        if (!SendMessageTimeoutW(w, WM_COPYDATA, (WPARAM)self, (LPARAM)&cds, SMTO_ABORTIFHUNG, TIMEOUT_MS, &r))
            printf("FAILED %lu\n", (unsigned long)GetLastError());
        else
            printf("REPLY %lld\n", (long long)(LRESULT)r);
        fflush(stdout);
        free(p);
    }
    return 0;
}

static LRESULT CALLBACK plain_wndproc(HWND hwnd, UINT msg, WPARAM wp, LPARAM lp)
{
    if (msg == WM_COPYDATA) {
        const COPYDATASTRUCT *cds = (const COPYDATASTRUCT *)lp;
        HWND parent = GetAncestor(hwnd, GA_PARENT);
        int top = parent == GetDesktopWindow();
        printf("GOT %s %lu %lu %.*s\n", top ? "top" : "msg", (unsigned long)cds->dwData, (unsigned long)cds->cbData,
               (int)cds->cbData, cds->cbData ? (const char *)cds->lpData : "");
        fflush(stdout);
        return (LRESULT)cds->dwData + 100;
    }
    return DefWindowProcW(hwnd, msg, wp, lp);
}

static int child_serve(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    wchar_t cls[300], title[300], mcls[300];
    MultiByteToWideChar(CP_UTF8, 0, argv[0], -1, cls, 300);
    MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, title, 300);
    MultiByteToWideChar(CP_UTF8, 0, argv[2], -1, mcls, 300);
    WNDCLASSEXW wc;
    memset(&wc, 0, sizeof wc);
    wc.cbSize = sizeof wc;
    wc.lpfnWndProc = plain_wndproc;
    wc.hInstance = GetModuleHandleW(NULL);
    wc.lpszClassName = cls;
    RegisterClassExW(&wc);
    wc.lpszClassName = mcls;
    RegisterClassExW(&wc);
    if (!CreateWindowExW(0, cls, title, WS_OVERLAPPED, 0, 0, 10, 10, NULL, NULL, wc.hInstance, NULL))
        printf("NOTOP\n");
    if (!CreateWindowExW(0, mcls, L"", 0, 0, 0, 0, 0, HWND_MESSAGE, NULL, wc.hInstance, NULL)) {
        printf("FAILED CreateWindowExW(HWND_MESSAGE) %lu\n", (unsigned long)GetLastError());
        return 2;
    }
    wt_peer_ready();
    MSG m;
    while (GetMessageW(&m, NULL, 0, 0) > 0)
        DispatchMessageW(&m);
    return 0;
}
#else
static int child_send(int argc, char **argv)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[0]);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        printf("NOTFOUND\n");
        return 1;
    }
    struct timeval tv = { TIMEOUT_MS / 1000, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    for (int i = 1; i + 1 < argc; i += 2) {
        size_t len;
        char *p = payload_of(argv[i + 1], &len);
        uint32_t type = (uint32_t)strtoul(argv[i], NULL, 10);
        uint8_t *pkt = malloc(8 + len);
        for (int b = 0; b < 4; b++) {
            pkt[b] = (uint8_t)(type >> (8 * b));
            pkt[4 + b] = 0;
        }
        memcpy(pkt + 8, p, len);
        uint8_t in[16];
        ssize_t r = -1;
        if (send(fd, pkt, 8 + len, MSG_NOSIGNAL) == (ssize_t)(8 + len))
            r = recv(fd, in, sizeof in, 0);
        if (r != 8) {
            printf("FAILED %zd %d\n", r, errno);
        } else {
            uint64_t v = 0;
            for (int b = 7; b >= 0; b--)
                v = (v << 8) | in[b];
            printf("REPLY %lld\n", (long long)(int64_t)v);
        }
        fflush(stdout);
        free(pkt);
        free(p);
    }
    close(fd);
    return 0;
}

static int child_serve(int argc, char **argv)
{
    (void)argc;
    int l = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", argv[0]);
    unlink(argv[0]);
    if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(l, 8) != 0) {
        printf("FAILED bind %d\n", errno);
        return 2;
    }
    wt_peer_ready();
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0)
            continue;
        uint8_t buf[70000];
        ssize_t n;
        while ((n = recv(c, buf, sizeof buf, 0)) >= 8) {
            uint32_t type = (uint32_t)buf[0] | (uint32_t)buf[1] << 8 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 24;
            printf("GOT sock %u %zd %.*s\n", (unsigned)type, n - 8, (int)(n - 8), (const char *)buf + 8);
            fflush(stdout);
            uint64_t v = (uint64_t)type + 100;
            uint8_t out[8];
            for (int b = 0; b < 8; b++)
                out[b] = (uint8_t)(v >> (8 * b));
            send(c, out, sizeof out, MSG_NOSIGNAL);
        }
        close(c);
    }
}
#endif

/* ---- helpers ------------------------------------------------------------------------------------ */

typedef struct got {
    int n;
    uint32_t type[8];
    size_t size[8];
    char text[8][64];
    uint32_t pid[8];
    int32_t reply; /* what on_message returns: reply + type, or -5 for type 2 */
} got;

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)h;
    got *g = (got *)user;
    if (g->n < 8) {
        g->type[g->n] = m->type;
        g->size[g->n] = m->size;
        snprintf(g->text[g->n], sizeof g->text[0], "%.*s", (int)(m->size < 63 ? m->size : 63), (const char *)m->data);
        g->pid[g->n] = m->peer_pid;
        g->n++;
    }
    return m->type == 2 ? -5 : g->reply + (int32_t)m->type;
}

static wipc_handle listen_msg(const char *name, uint32_t flags, uint32_t max_message, got *g)
{
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.flags = flags;
    if (max_message)
        o.max_message_size = max_message;
    wipc_handle h = 0;
    WT_OK(wipc_msg_listen(name, &o, &h));
    if (g)
        WT_OK(wipc_set_callbacks(h, on_message, NULL, g));
    return h;
}

/* A unique name from `tag` into name (96 bytes), *g cleared with reply base `reply`, and an endpoint
 * of that name listening with `flags` and on_message recording into g. */
static wipc_handle listen_recording(char *name, const char *tag, got *g, int32_t reply, uint32_t flags,
                                    uint32_t max_message)
{
    wt_unique_name(name, 96, tag);
    memset(g, 0, sizeof *g);
    g->reply = reply;
    return listen_msg(name, flags, max_message, g);
}

/* What a foreign sender looks for: the window class (Windows) or socket path (POSIX) of endpoint `name`. */
static const char *foreign_target(const char *name, char *buf, size_t cap)
{
#ifdef _WIN32
    snprintf(buf, cap, "wipc-msg-%s", name);
#else
    snprintf(buf, cap, "%s/m.%s", wt_run_dir(), name);
#endif
    return buf;
}

/* Runs the foreign sender child with args and reads `n` result lines into lines[]; returns its pid. */
static uint32_t run_sender(const char *const *args, char lines[][128], int n)
{
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "cannot spawn %s", wt_peer_path());
    uint32_t pid = wt_proc_pid(p);
    for (int i = 0; i < n; i++)
        WT_CHECK(wt_proc_read_line(p, lines[i], 128, 30000) == 0, "the foreign sender printed %d of %d lines", i, n);
    int code = -1;
    WT_CHECK(wt_proc_wait(p, 30000, &code) == 0 && code == 0, "the foreign sender exited %d (%s)", code, lines[0]);
    wt_proc_free(p);
    return pid;
}

/* ---- a foreign sender to a WIPC_MSG_RAW endpoint -------------------------------------------------- */

static void test_foreign_sender_to_raw_endpoint(void **state)
{
    (void)state;
    char name[96], target[300];
    got g;
    wipc_handle h = listen_recording(name, "rawrx", &g, 1000, WIPC_MSG_RAW, 1024);
    const char *args[] = {
        "send", foreign_target(name, target, sizeof target), "7", "hello raw", "2", "neg", "9", "@2000", "0", "", NULL
    };
    char lines[4][128];
    uint32_t child = run_sender(args, lines, 4);
    assert_string_equal(lines[0], "REPLY 1007"); /* on_message's value is the LRESULT */
    assert_string_equal(lines[1], "REPLY -5"); /* sign-extended */
    assert_string_equal(lines[2], "REPLY 0"); /* above max_message_size: "not handled" */
    assert_string_equal(lines[3], "REPLY 1000"); /* a 0-byte payload is a message */
    WT_OK(wipc_close(h));
    assert_int_equal(g.n, 3);
    assert_int_equal(g.type[0], 7);
    assert_int_equal(g.size[0], 9);
    assert_string_equal(g.text[0], "hello raw"); /* the payload exactly: no header was stripped */
    assert_int_equal(g.type[1], 2);
    assert_string_equal(g.text[1], "neg");
    assert_int_equal(g.type[2], 0);
    assert_int_equal(g.size[2], 0);
    assert_int_equal(g.pid[0], child); /* POSIX SO_PEERCRED; Windows the process of wParam's window */
}

/* Queue mode: a taken message answers 1 (TRUE), the payload is read with wipc_recv; a full queue 0. */
static void test_foreign_sender_to_raw_queue(void **state)
{
    (void)state;
    char name[96], target[300];
    wt_unique_name(name, sizeof name, "rawq");
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.flags = WIPC_MSG_RAW;
    o.queue_depth = 1;
    wipc_handle h = 0;
    WT_OK(wipc_msg_listen(name, &o, &h));
    const char *args[] = { "send", foreign_target(name, target, sizeof target), "5", "queued", "6", "full", NULL };
    char lines[2][128];
    run_sender(args, lines, 2);
    assert_string_equal(lines[0], "REPLY 1");
    assert_string_equal(lines[1], "REPLY 0");
    char buf[64];
    size_t size = 0;
    uint32_t type = 0;
    WT_OK(wipc_recv(h, buf, sizeof buf, &size, &type, 1000));
    assert_int_equal(type, 5);
    assert_int_equal(size, 6);
    assert_memory_equal(buf, "queued", 6);
    WT_ASSERT_STATUS(wipc_recv(h, buf, sizeof buf, &size, &type, 0), WIPC_E_TIMEOUT); /* "full" was not delivered */
    WT_OK(wipc_close(h));
}

/* ---- a foreign sender to a framed endpoint: 0, nothing delivered ------------------------------- */

static void test_foreign_sender_to_framed_endpoint(void **state)
{
    (void)state;
    char name[96], target[300];
    got g;
    wipc_handle h = listen_recording(name, "framed", &g, 1000, 0, 0);
    const char *args[] = { "send", foreign_target(name, target, sizeof target), "7", "not wipc", "3", "@40", NULL };
    char lines[2][128];
    run_sender(args, lines, 2);
    assert_string_equal(lines[0], "REPLY 0"); /* "not handled", not a packed value that reads as success */
    assert_string_equal(lines[1], "REPLY 0");
    assert_int_equal(g.n, 0);
    int32_t reply = 0; /* a wipc sender is still served */
    WT_OK(wipc_msg_send(name, 4, "ok", 2, TIMEOUT_MS, &reply));
    assert_int_equal(reply, 1004);
    WT_OK(wipc_close(h));
    assert_int_equal(g.n, 1);
    assert_string_equal(g.text[0], "ok");
}

/* wipc's own senders reach a RAW endpoint by name (header recognised, reply word as usual), and a
 * raw send to class:wipc-msg-NAME reaches it on both backends with the plain reply. */
static void test_wipc_senders_to_raw_endpoint(void **state)
{
    (void)state;
    char name[96], target[300];
    got g;
    wipc_handle h = listen_recording(name, "rawboth", &g, 50, WIPC_MSG_RAW, 0);
    int32_t reply = 0;
    WT_OK(wipc_msg_send(name, 3, "framed", 6, TIMEOUT_MS, &reply));
    assert_int_equal(reply, 53);
    snprintf(target, sizeof target, "class:wipc-msg-%s", name);
    WT_OK(wipc_msg_send(target, 4, "plain", 5, TIMEOUT_MS, &reply));
    assert_int_equal(reply, 54);
    WT_OK(wipc_msg_send(target, 2, "", 0, TIMEOUT_MS, &reply));
    assert_int_equal(reply, -5);
    WT_OK(wipc_close(h));
    assert_int_equal(g.n, 3);
    assert_string_equal(g.text[0], "framed");
    assert_int_equal(g.pid[0], wt_self_pid());
    assert_string_equal(g.text[1], "plain");
    assert_int_equal(g.size[1], 5);
    /* the endpoint is gone: not found */
    WT_ASSERT_FAILS(wipc_msg_send(target, 1, "x", 1, 1000, &reply), WIPC_E_NOT_FOUND);
}

/* ---- wipc raw sends to a plain window / socket ---------------------------------------------------- */

/* Reads the child's next line and checks it is "GOT <where> <type> <len> <text>". */
static void expect_got(wt_proc *p, const char *where, unsigned type, const char *text)
{
    char line[256], want[256];
    WT_CHECK(wt_proc_read_line(p, line, sizeof line, 30000) == 0, "the plain receiver printed nothing");
    snprintf(want, sizeof want, "GOT %s %u %zu %s", where, type, strlen(text), text);
    assert_string_equal(line, want);
}

static void test_raw_send_to_plain_receiver(void **state)
{
    (void)state;
    char tag[96];
    wt_unique_name(tag, sizeof tag, "plain");
    int32_t reply = 0;
#ifdef _WIN32
    char cls[160], title[160], mcls[160], target[400];
    snprintf(cls, sizeof cls, "WtPlainTop-%s", tag);
    snprintf(title, sizeof title, "Wt Plain Title %s", tag);
    snprintf(mcls, sizeof mcls, "WtPlainMsg-%s", tag);
    const char *args[] = { "serve", cls, title, mcls, NULL };
    wt_proc *p = wt_spawn_peer(args);
    WT_CHECK(p != NULL, "cannot spawn");
    char line[256];
    WT_CHECK(wt_proc_read_line(p, line, sizeof line, 30000) == 0, "no READY");
    int top = strcmp(line, "NOTOP") != 0;
    if (!top) {
        fprintf(stderr,
                "note: no top-level window under this driver; by-class/title of a top-level window not tested\n");
        WT_CHECK(wt_proc_read_line(p, line, sizeof line, 30000) == 0, "no READY");
    }
    assert_string_equal(line, "READY");
    /* an HWND_MESSAGE window, by class */
    snprintf(target, sizeof target, "class:%s", mcls);
    WT_OK(wipc_msg_send(target, 11, "to msg-only", 11, TIMEOUT_MS, &reply));
    assert_int_equal(reply, 111);
    expect_got(p, "msg", 11, "to msg-only");
    if (top) {
        snprintf(target, sizeof target, "class:%s", cls);
        WT_OK(wipc_msg_send(target, 12, "by class", 8, TIMEOUT_MS, &reply));
        assert_int_equal(reply, 112);
        expect_got(p, "top", 12, "by class");
        snprintf(target, sizeof target, "title:%s", title);
        WT_OK(wipc_msg_send(target, 13, "by title", 8, TIMEOUT_MS, &reply));
        assert_int_equal(reply, 113);
        expect_got(p, "top", 13, "by title");
        snprintf(target, sizeof target, "class:%s;title:%s", cls, title);
        WT_OK(wipc_msg_send(target, 14, "by both", 7, TIMEOUT_MS, &reply));
        assert_int_equal(reply, 114);
        expect_got(p, "top", 14, "by both");
        snprintf(target, sizeof target, "class:%s;title:not %s", cls, title);
        WT_ASSERT_FAILS(wipc_msg_send(target, 1, "x", 1, TIMEOUT_MS, &reply), WIPC_E_NOT_FOUND);
    }
    WT_ASSERT_FAILS(wipc_msg_send("path:/tmp/x", 1, "x", 1, TIMEOUT_MS, &reply), WIPC_E_NOT_SUPPORTED);
#else
    char path[200], target[300];
    wt_raw_path(path, sizeof path);
    const char *args[] = { "serve", path, NULL };
    wt_proc *p = wt_spawn_ready(args);
    snprintf(target, sizeof target, "path:%s", path);
    WT_OK(wipc_msg_send(target, 11, "to socket", 9, TIMEOUT_MS, &reply));
    assert_int_equal(reply, 111);
    expect_got(p, "sock", 11, "to socket");
    WT_OK(wipc_msg_send(target, 12, "", 0, TIMEOUT_MS, &reply)); /* 0 bytes: one 8-byte packet */
    assert_int_equal(reply, 112);
    expect_got(p, "sock", 12, "");
    WT_ASSERT_FAILS(wipc_msg_send("title:Some App", 1, "x", 1, TIMEOUT_MS, &reply), WIPC_E_NOT_SUPPORTED);
    WT_ASSERT_FAILS(wipc_msg_send("class:MyAppWnd", 1, "x", 1, TIMEOUT_MS, &reply), WIPC_E_NOT_FOUND);
    unlink(path);
#endif
    wt_proc_free(p);
    snprintf(target, sizeof target, "class:WtNoSuchClass-%s", tag);
    WT_ASSERT_FAILS(wipc_msg_send(target, 1, "x", 1, TIMEOUT_MS, &reply), WIPC_E_NOT_FOUND);
}

/* Malformed targets: INVALID_ARG before anything is sent, in the sync and async forms. */
static void test_raw_target_forms(void **state)
{
    (void)state;
    int32_t reply = 7;
    WT_ASSERT_FAILS(wipc_msg_send("class:", 1, "x", 1, 100, &reply), WIPC_E_INVALID_ARG);
    assert_int_equal(reply, 0);
    WT_ASSERT_FAILS(wipc_msg_send("title:", 1, "x", 1, 100, &reply), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_send("class:A;title:", 1, "x", 1, 100, &reply), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_send("class:A;nope:B", 1, "x", 1, 100, &reply), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_send("window:A", 1, "x", 1, 100, &reply), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_send("path:", 1, "x", 1, 100, &reply), WIPC_E_INVALID_ARG);
    char longc[400];
    memset(longc, 'c', sizeof longc);
    memcpy(longc, "class:", 6);
    longc[sizeof longc - 1] = '\0';
    WT_ASSERT_FAILS(wipc_msg_send(longc, 1, "x", 1, 100, &reply), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_send("class:A", 1, NULL, 1, 100, &reply), WIPC_E_INVALID_ARG);
    WT_ASSERT_FAILS(wipc_msg_broadcast("class:A", 1, "x", 1, 100, NULL), WIPC_E_INVALID_ARG);
    wipc_op op = 0;
    WT_ASSERT_FAILS(wipc_msg_send_async("title:", 1, "x", 1, 100, NULL, NULL, &op), WIPC_E_INVALID_ARG);
    /* unknown listen flags are still refused */
    wipc_msg_options o;
    wipc_msg_options_init(&o);
    o.flags = 0x80000000u;
    wipc_handle h = 0;
    WT_ASSERT_FAILS(wipc_msg_listen("wt-rawflags", &o, &h), WIPC_E_INVALID_ARG);
}

/* wipc_msg_send_async to a raw target: the reply arrives in the completion. */
typedef struct async_done {
    atomic_int done;
    wipc_status status;
    int32_t reply;
} async_done;

static void WIPC_CALL on_done(const wipc_completion *c, void *user)
{
    async_done *d = (async_done *)user;
    d->status = c->status;
    d->reply = c->msg_reply;
    atomic_store(&d->done, 1);
}

static void test_raw_send_async(void **state)
{
    (void)state;
    char name[96], target[300];
    got g;
    wipc_handle h = listen_recording(name, "rawasync", &g, 200, WIPC_MSG_RAW, 0);
    snprintf(target, sizeof target, "class:wipc-msg-%s", name);
    async_done d;
    memset(&d, 0, sizeof d);
    wipc_op op = 0;
    WT_OK(wipc_msg_send_async(target, 6, "async", 5, TIMEOUT_MS, on_done, &d, &op));
    WT_CHECK(wt_wait_atomic_ge(&d.done, 1, 30000) == 1, "no completion");
    assert_int_equal(d.status, WIPC_OK);
    assert_int_equal(d.reply, 206);
    WT_OK(wipc_close(h));
    assert_string_equal(g.text[0], "async");
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "send") == 0)
        return wt_peer_die_with_parent() != 0 ? 2 : child_send(argc - 2, argv + 2);
    if (argc >= 3 && strcmp(argv[1], "serve") == 0)
        return wt_peer_die_with_parent() != 0 ? 2 : child_serve(argc - 2, argv + 2);
    wt_use_peer("test_msg_raw");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_sender_to_raw_endpoint),
        cmocka_unit_test(test_foreign_sender_to_raw_queue),
        cmocka_unit_test(test_foreign_sender_to_framed_endpoint),
        cmocka_unit_test(test_wipc_senders_to_raw_endpoint),
        cmocka_unit_test(test_raw_send_to_plain_receiver),
        cmocka_unit_test(test_raw_target_forms),
        cmocka_unit_test(test_raw_send_async),
    };
    wt_apply_test_filter();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
