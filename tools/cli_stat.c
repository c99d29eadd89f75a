/*
 * cli_stat.c - `wipc stat NAME|URI [--json]` (one endpoint's published statistics, wipc_stat) and
 * `wipc top [PREFIX] [--interval MS] [--count N]` (a live table of every endpoint of the user:
 * messages/s, bytes/s, connections, queue depth, sorted by traffic; q or Ctrl-C quits and the terminal
 * is restored). Plain ANSI escapes and termios (Windows: console VT mode and _kbhit); when stdout is
 * not a terminal, `top` prints one table per interval without escapes (like `top -b`).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#if defined(_WIN32)
#  include <conio.h>
#  include <io.h>
#  include <windows.h>
#  define isatty _isatty
#  define fileno _fileno
#else
#  include <poll.h>
#  include <stdio.h>
#  include <termios.h>
#  include <unistd.h>
#endif

static const char *const tname[] = { "?", "pipe", "shm", "msg" };

static const char *kind_name(uint32_t kind)
{
    return kind == WIPC_KIND_PIPE_SERVER    ? "server"
           : kind == WIPC_KIND_SHM_CHANNEL  ? "channel"
           : kind == WIPC_KIND_MSG_ENDPOINT ? "receiver"
           : kind == WIPC_KIND_REGION       ? "region"
                                            : "?";
}

static void print_stats_json(const wipc_stats *s)
{
    printf(
        "{\"transport\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"pid\":%u,\"created_unix_ms\":%lld,"
        "\"last_activity_unix_ms\":%lld,\"messages_sent\":%llu,\"messages_received\":%llu,\"bytes_sent\":%llu,"
        "\"bytes_received\":%llu,\"connections\":%u,\"connections_total\":%llu,\"queue_depth\":%u,\"errors\":%llu}\n",
        tname[s->transport <= 3 ? s->transport : 0], kind_name(s->kind), s->name, (unsigned)s->owner_pid,
        (long long)s->created_unix_ms, (long long)s->last_activity_unix_ms, (unsigned long long)s->messages_sent,
        (unsigned long long)s->messages_received, (unsigned long long)s->bytes_sent,
        (unsigned long long)s->bytes_received, (unsigned)s->connections, (unsigned long long)s->connections_total,
        (unsigned)s->queue_depth, (unsigned long long)s->errors);
}

int cli_stat(const cli_args *a)
{
    wipc_stats s = { .struct_size = sizeof s };
    wipc_status st = wipc_stat(a->name, (uint32_t)a->transport, &s);
    if (st)
        return cli_fail("wipc_stat", st);
    if (a->json) {
        print_stats_json(&s);
        return CLI_EXIT_OK;
    }
    long long now = (long long)cli_unix_ms();
    printf("%s://%s  (%s, pid %u)\n", tname[s.transport <= 3 ? s.transport : 0], s.name, kind_name(s.kind),
           (unsigned)s.owner_pid);
    printf("  up %.1f s, last activity %.1f s ago\n", (double)(now - s.created_unix_ms) / 1000.0,
           (double)(now - s.last_activity_unix_ms) / 1000.0);
    printf("  messages  received %llu, sent %llu\n", (unsigned long long)s.messages_received,
           (unsigned long long)s.messages_sent);
    printf("  bytes     received %llu, sent %llu\n", (unsigned long long)s.bytes_received,
           (unsigned long long)s.bytes_sent);
    printf("  connections %u now, %llu in all; queue %u; errors %llu\n", (unsigned)s.connections,
           (unsigned long long)s.connections_total, (unsigned)s.queue_depth, (unsigned long long)s.errors);
    return CLI_EXIT_OK;
}

/* ---- top ---------------------------------------------------------------------------------------- */

typedef struct top_row {
    wipc_endpoint e;
    wipc_stats s;
    int has_stats;
    double msgs_per_s, bytes_per_s;
} top_row;

typedef struct top_state {
    top_row *rows, *prev;
    size_t n, nprev;
    double t, tprev;
} top_state;

static const top_row *find_prev(const top_state *ts, const wipc_endpoint *e)
{
    for (size_t i = 0; i < ts->nprev; i++)
        if (ts->prev[i].e.transport == e->transport && !strcmp(ts->prev[i].e.name, e->name) && ts->prev[i].has_stats)
            return &ts->prev[i];
    return NULL;
}

static int cmp_rows(const void *x, const void *y)
{
    const top_row *a = x, *b = y;
    if (a->msgs_per_s != b->msgs_per_s)
        return a->msgs_per_s < b->msgs_per_s ? 1 : -1;
    if (a->bytes_per_s != b->bytes_per_s)
        return a->bytes_per_s < b->bytes_per_s ? 1 : -1;
    if (a->e.transport != b->e.transport)
        return a->e.transport < b->e.transport ? -1 : 1;
    return strcmp(a->e.name, b->e.name);
}

static void human(char *buf, size_t cap, double v)
{
    if (v >= 1e9)
        snprintf(buf, cap, "%.1fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, cap, "%.1fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, cap, "%.1fk", v / 1e3);
    else
        snprintf(buf, cap, "%.0f", v);
}

/* One sample: every endpoint, its stats, rates against the previous sample. */
static int sample(const cli_args *a, top_state *ts)
{
    wipc_endpoint *e;
    size_t n;
    int rc = cli_list_endpoints(WIPC_LIST_ALL, a->word ? a->word : "", &e, &n);
    if (rc)
        return rc;
    free(ts->prev);
    ts->prev = ts->rows;
    ts->nprev = ts->n;
    ts->tprev = ts->t;
    ts->t = cli_now_us() / 1e6;
    ts->rows = calloc(n ? n : 1, sizeof *ts->rows);
    ts->n = 0;
    for (size_t i = 0; ts->rows && i < n; i++) {
        top_row *r = &ts->rows[ts->n++];
        r->e = e[i];
        r->s.struct_size = sizeof r->s;
        r->has_stats = e[i].kind != WIPC_KIND_REGION && wipc_stat(e[i].name, e[i].transport, &r->s) == WIPC_OK;
        const top_row *p = r->has_stats ? find_prev(ts, &e[i]) : NULL;
        double dt = ts->t - ts->tprev;
        if (p && dt > 0) {
            r->msgs_per_s =
                (double)(r->s.messages_sent + r->s.messages_received - p->s.messages_sent - p->s.messages_received) /
                dt;
            r->bytes_per_s =
                (double)(r->s.bytes_sent + r->s.bytes_received - p->s.bytes_sent - p->s.bytes_received) / dt;
        }
    }
    free(e);
    if (!ts->rows)
        return cli_fail("malloc", WIPC_E_NO_MEMORY);
    qsort(ts->rows, ts->n, sizeof *ts->rows, cmp_rows);
    return CLI_EXIT_OK;
}

static void draw(const top_state *ts, int ansi, int rows_max)
{
    char clock[32];
    time_t now = time(NULL);
    struct tm *tm = localtime(&now);
    strftime(clock, sizeof clock, "%H:%M:%S", tm);
    if (ansi)
        fputs("\x1b[H\x1b[2J", stdout);
    double total_m = 0, total_b = 0;
    for (size_t i = 0; i < ts->n; i++)
        total_m += ts->rows[i].msgs_per_s, total_b += ts->rows[i].bytes_per_s;
    char tm_s[16], tb_s[16];
    human(tm_s, sizeof tm_s, total_m);
    human(tb_s, sizeof tb_s, total_b);
    printf("wipc top - %s - %zu endpoints - %s msgs/s, %sB/s%s\n\n", clock, ts->n, tm_s, tb_s,
           ansi ? " - q quits" : "");
    printf("%s%-5s %-8s %7s %6s %6s %9s %9s %11s %5s %6s  %-s%s\n", ansi ? "\x1b[7m" : "", "TRANS", "KIND", "PID",
           "CONNS", "QUEUE", "MSGS/S", "BYTES/S", "MSGS", "ERRS", "IDLE", "NAME", ansi ? "\x1b[0m" : "");
    for (size_t i = 0; i < ts->n && (rows_max <= 0 || (int)i < rows_max); i++) {
        const top_row *r = &ts->rows[i];
        char pid[16], ms[16], bs[16], total[16], idle[16], conns[16], queue[16], errs[16];
        snprintf(pid, sizeof pid, r->e.owner_pid ? "%u" : "-", (unsigned)r->e.owner_pid);
        if (r->has_stats) {
            human(ms, sizeof ms, r->msgs_per_s);
            human(bs, sizeof bs, r->bytes_per_s);
            human(total, sizeof total, (double)(r->s.messages_sent + r->s.messages_received));
            double idle_s = (double)(cli_unix_ms() - r->s.last_activity_unix_ms) / 1000.0;
            snprintf(idle, sizeof idle, "%.0fs", idle_s < 0 ? 0.0 : idle_s);
            snprintf(conns, sizeof conns, "%u", (unsigned)r->s.connections);
            snprintf(queue, sizeof queue, "%u", (unsigned)r->s.queue_depth);
            snprintf(errs, sizeof errs, "%llu", (unsigned long long)r->s.errors);
        } else {
            strcpy(ms, "-"), strcpy(bs, "-"), strcpy(total, "-"), strcpy(idle, "-"), strcpy(conns, "-"),
                strcpy(queue, "-"), strcpy(errs, "-");
        }
        printf("%-5s %-8s %7s %6s %6s %9s %9s %11s %5s %6s  %s\n", tname[r->e.transport <= 3 ? r->e.transport : 0],
               kind_name(r->e.kind), pid, conns, queue, ms, bs, total, errs, idle, r->e.name);
    }
    if (!ansi)
        putchar('\n');
    fflush(stdout);
}

/* ---- the terminal ---- */

#if defined(_WIN32)
static DWORD g_saved_mode;
static int g_saved;
static void term_raw(void)
{
    HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
    if (GetConsoleMode(out, &g_saved_mode)) {
        g_saved = 1;
        SetConsoleMode(out, g_saved_mode | 0x0004 /* ENABLE_VIRTUAL_TERMINAL_PROCESSING */);
    }
}
static void term_restore(void)
{
    if (g_saved)
        SetConsoleMode(GetStdHandle(STD_OUTPUT_HANDLE), g_saved_mode);
}
/* Waits up to ms for a key; returns it, or 0. */
static int wait_key(int ms)
{
    for (int waited = 0; waited < ms && !cli_stop_signal(); waited += 20) {
        if (_isatty(_fileno(stdin)) && _kbhit())
            return _getch();
        Sleep(20);
    }
    return 0;
}
static int term_rows(void)
{
    return 0;
}
#else
static struct termios g_saved_tio;
static int g_saved;
static void term_raw(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &g_saved_tio) != 0)
        return;
    struct termios t = g_saved_tio;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO); /* keys one at a time, not echoed; ISIG stays: Ctrl-C is SIGINT */
    t.c_cc[VMIN] = 0;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0)
        g_saved = 1;
}
static void term_restore(void)
{
    if (g_saved)
        tcsetattr(STDIN_FILENO, TCSANOW, &g_saved_tio);
    g_saved = 0;
}
static int wait_key(int ms)
{
    if (!g_saved) { /* stdin is not a terminal: no keys, just the interval */
        cli_sleep_ms((unsigned)ms);
        return 0;
    }
    struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
    if (poll(&p, 1, ms) > 0 && (p.revents & POLLIN)) {
        char c = 0;
        return read(STDIN_FILENO, &c, 1) == 1 ? (unsigned char)c : 'q'; /* end of input: quit */
    }
    return 0;
}
static int term_rows(void)
{
    const char *l = getenv("LINES");
    return l ? atoi(l) - 4 : 0;
}
#endif

int cli_top(const cli_args *a)
{
    int ansi = isatty(fileno(stdout));
    int interval = a->interval_ms > 0 ? (int)a->interval_ms : 1000;
    long rounds = a->count > 0 ? a->count : -1;
    top_state ts = { 0 };
    cli_catch_stop();
    if (ansi) {
        term_raw();
        fputs("\x1b[?1049h\x1b[?25l", stdout); /* alternate screen, cursor hidden */
    }
    int rc = sample(a, &ts); /* the first sample only sets the baseline for the rates */
    for (long i = 0; !rc && (rounds < 0 || i < rounds); i++) {
        int key = wait_key(i == 0 ? (interval < 300 ? interval : 300) : interval);
        if (key == 'q' || key == 'Q' || cli_stop_signal())
            break;
        if ((rc = sample(a, &ts)) == 0)
            draw(&ts, ansi, term_rows());
    }
    if (ansi) {
        fputs("\x1b[?25h\x1b[?1049l", stdout); /* cursor back, main screen back */
        fflush(stdout);
        term_restore();
    }
    free(ts.rows);
    free(ts.prev);
    return rc;
}
