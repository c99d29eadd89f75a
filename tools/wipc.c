/*
 * wipc.c - the `wipc` command-line tool: talk to wipc endpoints from a shell.
 *
 *   wipc listen  URI [--count N] [--reply echo|upper|none] [--quiet]
 *   wipc send    URI [--type N] (TEXT | --file F)
 *   wipc request URI [--type N] [--timeout MS] [--count N] (TEXT | --file F)
 *   wipc list    msg://PREFIX
 *   wipc info
 *
 * URIs: pipe://NAME, shm://NAME, msg://NAME. Exit codes: 0 success, 1 transport error (the status
 * name and the last-error message are printed to stderr), 2 usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "wipc.h"

#if defined(_WIN32)
#  include <windows.h>
static double now_us(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e6 / (double)f.QuadPart;
}
static unsigned my_pid(void) { return (unsigned)GetCurrentProcessId(); }
#else
#  include <unistd.h>
static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}
static unsigned my_pid(void) { return (unsigned)getpid(); }
#endif

#define MAX_MSG (16u * 1024 * 1024)

typedef struct args {
    const char *cmd, *uri, *text, *file, *reply;
    uint32_t    type;
    int32_t     timeout_ms;
    long        count;
    int         quiet;
    char        scheme[8];
    const char *name;
} args;

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "wipc: %s (try: wipc --help)\n", why);
    return 2;
}

static void help(const char *cmd)
{
    if (!cmd || !strcmp(cmd, "listen"))
        puts("wipc listen URI [--count N] [--reply echo|upper|none] [--quiet]\n"
             "  Serve URI (pipe://NAME) and print each message: time, type, size, peer pid, text or hex.\n"
             "  Requests are answered with the same bytes (echo, default), upper-cased text (upper), or not at all.\n"
             "  --count N stops after N messages.");
    if (!cmd || !strcmp(cmd, "send"))
        puts("wipc send URI [--type N] [--timeout MS] (TEXT | --file F)\n  Send one message to URI.");
    if (!cmd || !strcmp(cmd, "request"))
        puts("wipc request URI [--type N] [--timeout MS] [--count N] (TEXT | --file F)\n"
             "  Send a request and print the reply; --count N repeats it and prints round-trip p50/p99.");
    if (!cmd || !strcmp(cmd, "list"))
        puts("wipc list msg://PREFIX\n  List live msg endpoints whose name starts with PREFIX.");
    if (!cmd || !strcmp(cmd, "info"))
        puts("wipc info\n  Print the library version and the transports.");
}

static int fail(const char *what, wipc_status st)
{
    fprintf(stderr, "wipc: %s failed: %s: %s\n", what, wipc_status_name(st), wipc_last_error_message());
    return 1;
}

static int parse(int argc, char **argv, args *a)
{
    memset(a, 0, sizeof *a);
    a->timeout_ms = 5000;
    a->count = -1;   /* not given: listen forever, request once */
    a->reply = "echo";
    if (argc < 2)
        return usage("no command given");
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            help(a->cmd);
            exit(0);
        } else if (!strcmp(s, "--type") && v) {
            a->type = (uint32_t)strtoul(v, NULL, 0);
            i++;
        } else if (!strcmp(s, "--timeout") && v) {
            a->timeout_ms = (int32_t)strtol(v, NULL, 0);
            i++;
        } else if (!strcmp(s, "--count") && v) {
            a->count = strtol(v, NULL, 0);
            if (a->count <= 0) {
                fprintf(stderr, "wipc: --count takes a positive number\n");
                return 2;
            }
            i++;
        } else if (!strcmp(s, "--file") && v) {
            a->file = v;
            i++;
        } else if (!strcmp(s, "--reply") && v) {
            a->reply = v;
            i++;
        } else if (!strcmp(s, "--quiet")) {
            a->quiet = 1;
        } else if (s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "wipc: unknown or incomplete option %s (try: wipc %s --help)\n", s, a->cmd);
            return 2;
        } else if (!a->uri) {
            a->uri = s;
        } else if (!a->text) {
            a->text = s;
        } else {
            return usage("too many arguments");
        }
    }
    if (a->uri) {
        const char *sep = strstr(a->uri, "://");
        if (!sep || sep - a->uri >= (long)sizeof a->scheme)
            return usage("the endpoint must be a URI: pipe://NAME, shm://NAME or msg://NAME");
        memcpy(a->scheme, a->uri, (size_t)(sep - a->uri));
        a->scheme[sep - a->uri] = '\0';
        a->name = sep + 3;
        if (strcmp(a->scheme, "pipe") && strcmp(a->scheme, "shm") && strcmp(a->scheme, "msg"))
            return usage("unknown URI scheme: use pipe://, shm:// or msg://");
    }
    return 0;
}

static unsigned char *load_payload(const args *a, size_t *size)
{
    if (a->file) {
        FILE *f = fopen(a->file, "rb");
        if (!f) {
            fprintf(stderr, "wipc: cannot open %s\n", a->file);
            return NULL;
        }
        unsigned char *buf = malloc(MAX_MSG);
        *size = buf ? fread(buf, 1, MAX_MSG, f) : 0;
        fclose(f);
        return buf;
    }
    *size = a->text ? strlen(a->text) : 0;
    unsigned char *buf = malloc(*size + 1);
    if (buf && a->text)
        memcpy(buf, a->text, *size);
    return buf;
}

static void print_message(uint32_t type, const unsigned char *data, size_t size, uint32_t pid, uint64_t request_id)
{
    time_t t = time(NULL);
    struct tm tmv;
#if defined(_WIN32)
    localtime_s(&tmv, &t);
#else
    localtime_r(&t, &tmv);
#endif
    char stamp[16];
    strftime(stamp, sizeof stamp, "%H:%M:%S", &tmv);
    int printable = 1;
    for (size_t i = 0; i < size; i++)
        if (!isprint(data[i]) && data[i] != '\n' && data[i] != '\t')
            printable = 0;
    printf("%s type=%u size=%zu pid=%u%s ", stamp, (unsigned)type, size, (unsigned)pid, request_id ? " request" : "");
    if (printable)
        printf("\"%.*s\"\n", (int)(size > 200 ? 200 : size), (const char *)data);
    else {
        for (size_t i = 0; i < size && i < 64; i++)
            printf("%02x", data[i]);
        printf("%s\n", size > 64 ? "..." : "");
    }
    fflush(stdout);
}

static int cmd_listen(const args *a)
{
    if (strcmp(a->scheme, "pipe"))
        return fail("listen", WIPC_E_NOT_SUPPORTED);
    wipc_handle srv, conn = 0;
    wipc_status st = wipc_pipe_listen(a->name, NULL, &srv);
    if (st)
        return fail("wipc_pipe_listen", st);
    printf("listening on %s (pid %u)\n", a->uri, my_pid());
    fflush(stdout);
    unsigned char *buf = malloc(MAX_MSG);
    long seen = 0;
    while (a->count < 0 || seen < a->count) {
        if (!conn) {
            st = wipc_pipe_accept(srv, WIPC_INFINITE, &conn);
            if (st)
                return fail("wipc_pipe_accept", st);
        }
        wipc_message m = { .struct_size = sizeof m };
        st = wipc_recv_message(conn, buf, MAX_MSG, &m, WIPC_INFINITE);
        if (st == WIPC_E_DISCONNECTED) {
            wipc_close(conn);
            conn = 0;
            continue;
        }
        if (st)
            return fail("wipc_recv", st);
        seen++;
        if (!a->quiet)
            print_message(m.type, buf, m.size, m.peer_pid, m.request_id);
        if (m.request_id && strcmp(a->reply, "none")) {
            if (!strcmp(a->reply, "upper"))
                for (size_t i = 0; i < m.size; i++)
                    buf[i] = (unsigned char)toupper(buf[i]);
            st = wipc_reply(conn, m.request_id, m.type, buf, m.size);
            if (st && st != WIPC_E_DISCONNECTED)
                return fail("wipc_reply", st);
        }
    }
    free(buf);
    wipc_close(srv);
    return 0;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static int cmd_send_or_request(const args *a, int request)
{
    if (strcmp(a->scheme, "pipe"))
        return fail(request ? "request" : "send", WIPC_E_NOT_SUPPORTED);
    size_t size;
    unsigned char *data = load_payload(a, &size);
    if (!data)
        return 1;
    wipc_handle c;
    wipc_status st = wipc_pipe_connect(a->name, NULL, a->timeout_ms, &c);
    if (st)
        return fail("wipc_pipe_connect", st);
    if (!request) {
        st = wipc_send(c, a->type, data, size, a->timeout_ms);
        wipc_close(c);
        return st ? fail("wipc_send", st) : 0;
    }
    unsigned char *resp = malloc(MAX_MSG);
    long n = a->count > 0 ? a->count : 1;
    double *rtt = malloc(sizeof *rtt * (size_t)n);
    size_t got = 0;
    for (long i = 0; i < n; i++) {
        double t0 = now_us();
        st = wipc_request(c, a->type, data, size, resp, MAX_MSG, &got, a->timeout_ms);
        rtt[i] = now_us() - t0;
        if (st)
            return fail("wipc_request", st);
    }
    if (n == 1) {
        fwrite(resp, 1, got, stdout);
        putchar('\n');
    } else {
        qsort(rtt, (size_t)n, sizeof *rtt, cmp_double);
        printf("%ld requests of %zu bytes: round trip p50 %.1f us, p99 %.1f us\n", n, size, rtt[n / 2], rtt[(n * 99) / 100]);
    }
    wipc_close(c);
    free(resp);
    free(rtt);
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        help(NULL);
        return 0;
    }
    args a;
    int rc = parse(argc, argv, &a);
    if (rc)
        return rc;
    if (!strcmp(a.cmd, "info")) {
        printf("wipc %s (ABI %u.%u)\ntransports: pipe, shm, msg\n", wipc_version_string(), wipc_version() >> 16, (wipc_version() >> 8) & 0xff);
        return 0;
    }
    if (strcmp(a.cmd, "listen") && strcmp(a.cmd, "send") && strcmp(a.cmd, "request") && strcmp(a.cmd, "list"))
        return usage("unknown command");
    if (!a.uri)
        return usage("missing URI");
    if (!strcmp(a.cmd, "listen"))
        return cmd_listen(&a);
    if (!strcmp(a.cmd, "send"))
        return cmd_send_or_request(&a, 0);
    if (!strcmp(a.cmd, "request"))
        return cmd_send_or_request(&a, 1);
    if (!strcmp(a.cmd, "list")) {
        char buf[65536];
        size_t need = 0;
        if (strcmp(a.scheme, "msg"))
            return usage("list takes msg://PREFIX");
        wipc_status st = wipc_msg_list(a.name, buf, sizeof buf, &need);
        if (st)
            return fail("wipc_msg_list", st);
        for (const char *p = buf; *p; p += strlen(p) + 1)
            puts(p);
        return 0;
    }
    return usage("unknown command");
}
