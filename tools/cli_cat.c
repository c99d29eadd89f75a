/*
 * cli_cat.c - `wipc cat URI`: stdin -> messages, replies -> stdout (like `socat -` or nngcat).
 *
 * Line mode (default): each line of stdin, without its "\n" (and a "\r" before it), is one request;
 * its reply is written with a "\n" after it. --records: stdin holds records of a 4-byte little-endian
 * length and that many bytes (at most 16 MiB), and replies are written the same way. --oneway: plain
 * messages (wipc_send), no replies read. One connection for the whole stream; stdout is flushed after
 * each reply so the tool can sit in a pipeline with an interactive peer.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_RECORD WIPC_DEFAULT_MAX_MESSAGE

typedef struct cat_buf {
    unsigned char *p;
    size_t len, cap;
} cat_buf;

static int grow(cat_buf *b, size_t need)
{
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need)
        cap *= 2;
    unsigned char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

/* Next line into b (without "\n" / "\r\n"). 1 = got one, 0 = end of input, -1 = too long / no memory. */
static int read_line(FILE *in, cat_buf *b)
{
    b->len = 0;
    int c = EOF;
    while ((c = getc(in)) != EOF && c != '\n') {
        if (b->len >= MAX_RECORD || grow(b, b->len + 1))
            return -1;
        b->p[b->len++] = (unsigned char)c;
    }
    if (c == EOF && b->len == 0)
        return 0;
    if (b->len && b->p[b->len - 1] == '\r')
        b->len--;
    return 1;
}

/* Next record into b. 1 = got one, 0 = clean end of input, -1 = truncated or above 16 MiB. */
static int read_record(FILE *in, cat_buf *b)
{
    unsigned char h[4];
    size_t got = fread(h, 1, 4, in);
    if (got == 0)
        return 0;
    if (got < 4)
        return -1;
    size_t n = (size_t)h[0] | (size_t)h[1] << 8 | (size_t)h[2] << 16 | (size_t)h[3] << 24;
    if (n > MAX_RECORD || grow(b, n ? n : 1))
        return -1;
    b->len = n;
    return fread(b->p, 1, n, in) == n ? 1 : -1;
}

static void write_reply(const cli_args *a, const unsigned char *d, size_t n)
{
    if (a->records) {
        unsigned char h[4] = { (unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                               (unsigned char)(n >> 24) };
        fwrite(h, 1, 4, stdout);
    }
    fwrite(d, 1, n, stdout);
    if (!a->records)
        putchar('\n');
    fflush(stdout);
}

static int pump(const cli_args *a, wipc_handle h, cat_buf *in, unsigned char *resp)
{
    for (long n = 1;; n++) {
        int got = a->records ? read_record(stdin, in) : read_line(stdin, in);
        if (got == 0)
            return CLI_EXIT_OK;
        if (got < 0)
            return cli_usage("stdin %s %ld is truncated or longer than 16 MiB", a->records ? "record" : "line", n);
        const void *data = in->len ? in->p : NULL;
        size_t out = 0;
        wipc_status st = a->oneway ? wipc_send(h, a->type, data, in->len, a->timeout_ms)
                                   : wipc_request(h, a->type, data, in->len, resp, MAX_RECORD, &out, a->timeout_ms);
        if (st)
            return cli_fail(a->oneway ? "wipc_send" : "wipc_request", st);
        if (!a->oneway)
            write_reply(a, resp, out);
    }
}

int cli_cat(const cli_args *a)
{
    cli_binary_stdio();
    wipc_handle h = 0;
    const char *what;
    wipc_status st = cli_open_client(a, &h, &what);
    if (st)
        return cli_fail(what, st);
    cat_buf in = { 0 };
    unsigned char *resp = a->oneway ? NULL : malloc(MAX_RECORD);
    int rc = !a->oneway && !resp ? cli_fail("malloc", WIPC_E_NO_MEMORY) : pump(a, h, &in, resp);
    free(resp);
    free(in.p);
    wipc_close(h);
    return rc;
}
