/*
 * cli_send.c - the client commands of the `wipc` tool: send, request, broadcast, list, info.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define RESP_CAP WIPC_DEFAULT_MAX_MESSAGE

/* Connects to a pipe server (a busy one is waited for up to --timeout; one that is not there only with
 * --wait) or opens a shm channel (waiting up to --timeout for it to exist). */
wipc_status cli_open_client(const cli_args *a, wipc_handle *out, const char **what)
{
    if (a->transport == CLI_PIPE) {
        wipc_pipe_options o;
        wipc_pipe_options_init(&o);
        if (a->wait)
            o.flags |= WIPC_PIPE_WAIT_FOR_SERVER;
        o.flags |= cli_pipe_flags(a);
        *what = "wipc_pipe_connect";
        return wipc_pipe_connect(a->name, &o, a->timeout_ms, out);
    }
    *what = "wipc_shm_open";
    return wipc_shm_open(a->name, NULL, a->timeout_ms, out);
}

uint32_t cli_pipe_flags(const cli_args *a)
{
    if (a->transport != CLI_PIPE)
        return 0;
    if (a->length_prefix)
        return WIPC_PIPE_LENGTH_PREFIX;
    /* --raw means "no wipc framing" for the pipe of listen and send; for request and cat it is the output form */
    if (a->raw && (a->command->run == cli_listen || a->command->run == cli_send))
        return WIPC_PIPE_RAW;
    return 0;
}

int cli_send(const cli_args *a)
{
    size_t size;
    int rc = CLI_EXIT_FAIL;
    unsigned char *data = cli_payload(a, &size, &rc);
    if (!data)
        return rc;
    const char *what = "wipc_msg_send";
    wipc_status st;
    if (a->transport == CLI_MSG) {
        int32_t reply = 0;
        char target[16 + WIPC_NAME_MAX];
        const char *to = a->name;
        if (a->raw && !strchr(to, ':')) { /* --raw msg://NAME: plain WM_COPYDATA to NAME's window */
            snprintf(target, sizeof target, "%swipc-msg-%.*s", WIPC_MSG_TARGET_CLASS, WIPC_NAME_MAX, to);
            to = target;
        }
        st = wipc_msg_send(to, a->type, data, size, a->timeout_ms, &reply);
        if (!st)
            printf("%ld\n", (long)reply);
    } else if (a->raw && a->transport == CLI_SHM) {
        free(data);
        return cli_usage("send --raw is for pipe:// (a WIPC_PIPE_RAW pipe) and msg:// URIs (a plain WM_COPYDATA)");
    } else {
        wipc_handle h;
        st = cli_open_client(a, &h, &what);
        if (!st) {
            what = "wipc_send";
            st = wipc_send(h, a->type, data, size, a->timeout_ms);
            wipc_close(h);
        }
    }
    free(data);
    return st ? cli_fail(what, st) : CLI_EXIT_OK;
}

/* ---- request ------------------------------------------------------------------------------------ */

typedef struct req_ctx {
    const cli_args *a;
    wipc_handle h; /* pipe/shm: the connection */
    const unsigned char *data;
    size_t size;
    unsigned char *resp; /* pipe/shm: the reply */
    size_t got;
    int32_t msg_reply; /* msg: the reply */
} req_ctx;

static wipc_status one_request(req_ctx *r)
{
    const cli_args *a = r->a;
    if (a->transport == CLI_MSG)
        return wipc_msg_send(a->name, a->type, r->data, r->size, a->timeout_ms, &r->msg_reply);
    return wipc_request(r->h, a->type, r->data, r->size, r->resp, RESP_CAP, &r->got, a->timeout_ms);
}

static int reply_matches(const req_ctx *r)
{
    const char *want = r->a->expect;
    if (!want)
        return 1;
    if (r->a->transport == CLI_MSG) {
        char num[16];
        snprintf(num, sizeof num, "%ld", (long)r->msg_reply);
        return !strcmp(num, want);
    }
    return r->got == strlen(want) && !memcmp(r->resp, want, r->got);
}

/* Text as it is, binary as hex, then a newline; --raw: the bytes only; --json: one object. */
static void print_reply(FILE *f, const req_ctx *r)
{
    const cli_args *a = r->a;
    if (a->json && f == stdout) {
        if (a->transport == CLI_MSG)
            fprintf(f, "{\"reply\":%ld}\n", (long)r->msg_reply);
        else {
            fprintf(f, "{\"size\":%zu,", r->got);
            cli_print_json_data(f, r->resp, r->got);
            fputs("}\n", f);
        }
        return;
    }
    if (a->raw && f == stdout && a->transport != CLI_MSG) {
        cli_binary_stdio();
        fwrite(r->resp, 1, r->got, f);
        return;
    }
    if (a->transport == CLI_MSG)
        fprintf(f, "%ld", (long)r->msg_reply);
    else if (cli_is_text(r->resp, r->got))
        fwrite(r->resp, 1, r->got, f);
    else
        cli_print_data(f, r->resp, r->got);
    fputc('\n', f);
}

static int run_requests(req_ctx *r, long n, double *rtt)
{
    for (long i = 0; i < n; i++) {
        double t0 = cli_now_us();
        wipc_status st = one_request(r);
        rtt[i] = cli_now_us() - t0;
        if (st == WIPC_E_REMOTE) { /* the server's own error, not a transport failure */
            fprintf(stderr, "wipc: %s\n", wipc_last_error_message()); /* "remote error <code>: <message>" */
            return CLI_EXIT_REMOTE;
        }
        if (st) {
            return cli_fail(r->a->transport == CLI_MSG ? "wipc_msg_send" : "wipc_request", st);
        }
        if (!reply_matches(r)) {
            fprintf(stderr, "wipc: reply %ld does not match --expect \"%s\": got ", i + 1, r->a->expect);
            print_reply(stderr, r);
            return CLI_EXIT_FAIL;
        }
    }
    if (n > 1)
        cli_print_rtt(n, r->size, rtt);
    else
        print_reply(stdout, r);
    return CLI_EXIT_OK;
}

int cli_request(const cli_args *a)
{
    req_ctx r = { .a = a };
    int rc = CLI_EXIT_FAIL;
    unsigned char *data = cli_payload(a, &r.size, &rc);
    if (!data)
        return rc;
    r.data = data;
    long n = a->count > 0 ? a->count : 1;
    double *rtt = malloc(sizeof *rtt * (size_t)n);
    r.resp = a->transport == CLI_MSG ? NULL : malloc(RESP_CAP);
    const char *what = "";
    wipc_status st = WIPC_OK;
    if (!rtt || (a->transport != CLI_MSG && !r.resp))
        rc = cli_fail("malloc", WIPC_E_NO_MEMORY);
    else if (a->transport != CLI_MSG && (st = cli_open_client(a, &r.h, &what)) != WIPC_OK)
        rc = cli_fail(what, st);
    else
        rc = run_requests(&r, n, rtt);
    if (r.h)
        wipc_close(r.h);
    free(r.resp);
    free(rtt);
    free(data);
    return rc;
}

/* ---- broadcast, list, info ---------------------------------------------------------------------- */

int cli_broadcast(const cli_args *a)
{
    size_t size;
    int rc = CLI_EXIT_FAIL;
    unsigned char *data = cli_payload(a, &size, &rc);
    if (!data)
        return rc;
    uint32_t delivered = 0;
    wipc_status st = wipc_msg_broadcast(a->name, a->type, data, size, a->timeout_ms, &delivered);
    free(data);
    if (st)
        return cli_fail("wipc_msg_broadcast", st);
    printf("delivered to %u receiver%s\n", (unsigned)delivered, delivered == 1 ? "" : "s");
    return CLI_EXIT_OK;
}

int cli_list(const cli_args *a)
{
    size_t cap = 4096, need = 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        char *buf = malloc(cap);
        if (!buf)
            return cli_fail("malloc", WIPC_E_NO_MEMORY);
        wipc_status st = wipc_msg_list(a->name, buf, cap, &need);
        if (st == WIPC_OK) {
            if (a->json)
                putchar('[');
            for (const char *p = buf; *p; p += strlen(p) + 1)
                printf(a->json ? "%s\"%s\"" : "%.0s%s\n", p == buf ? "" : ",", p);
            if (a->json)
                puts("]");
        }
        free(buf);
        if (st != WIPC_E_BUFFER_TOO_SMALL)
            return st ? cli_fail("wipc_msg_list", st) : CLI_EXIT_OK;
        cap = need + 1024; /* receivers may appear between the two calls */
    }
    return cli_fail("wipc_msg_list", WIPC_E_BUFFER_TOO_SMALL);
}

/* A call that fails with WIPC_E_NOT_SUPPORTED only if the transport is missing from this build. */
static wipc_status probe(int transport)
{
    char name[64], buf[256];
    size_t need;
    wipc_handle h = 0;
    wipc_status st;
    snprintf(name, sizeof name, "wipc-info-probe-%u", cli_pid());
    switch (transport) {
    case CLI_PIPE:
        st = wipc_pipe_connect(name, NULL, 0, &h);
        break;
    case CLI_SHM:
        st = wipc_shm_open(name, NULL, 0, &h);
        break;
    default:
        st = wipc_msg_list(name, buf, sizeof buf, &need);
        break;
    }
    if (h)
        wipc_close(h);
    return st;
}

int cli_info(const cli_args *a)
{
    static const char *const names[] = { NULL, "pipe", "shm", "msg" };
    static const char *const about[] = { NULL, "duplex connections, many clients, request/reply",
                                         "two shared-memory rings, one peer, lowest latency and bulk data",
                                         "small synchronous messages to named receivers, broadcast, discovery" };
    uint32_t v = wipc_version();
    if (a->json) {
        printf("{\"version\":\"%s\",\"abi\":%u,\"built_against\":\"%s\",\"platform\":\"%s\",\"transports\":{",
               wipc_version_string(), (unsigned)(v >> 16), WIPC_VERSION_STRING,
#if defined(_WIN32)
               "windows"
#else
               "posix"
#endif
        );
        for (int t = CLI_PIPE; t <= CLI_MSG; t++)
            printf("%s\"%s\":%s", t == CLI_PIPE ? "" : ",", names[t],
                   probe(t) != WIPC_E_NOT_SUPPORTED ? "true" : "false");
        puts("}}");
        return CLI_EXIT_OK;
    }
    printf("wipc %s (ABI %u, built against %s)\n", wipc_version_string(), (unsigned)(v >> 16), WIPC_VERSION_STRING);
#if defined(_WIN32)
    puts("platform: Windows (wipc.dll): Named Pipes, file-mapping sections, WM_COPYDATA");
#else
    puts("platform: POSIX (libwipc.so.1): AF_UNIX sockets, shm_open + futex, seqpacket msg emulation");
#endif
    puts("transports:");
    for (int t = CLI_PIPE; t <= CLI_MSG; t++) {
        int ok = probe(t) != WIPC_E_NOT_SUPPORTED;
        printf("  %-5s %-28s %s\n", names[t], ok ? "available" : "not available in this build", about[t]);
    }
    return CLI_EXIT_OK;
}
