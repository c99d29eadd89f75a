/*
 * cli_util.c - helpers of the `wipc` tool: errors, time, payloads and printing.
 */
#define _POSIX_C_SOURCE 200809L
#include <ctype.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#if defined(_WIN32)
#  include <windows.h>
#else
#  include <unistd.h>
#endif

#define MAX_PAYLOAD WIPC_DEFAULT_MAX_MESSAGE

int cli_usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("wipc: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (try: wipc --help)\n", stderr);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_fail(const char *what, wipc_status st)
{
    const char *name = wipc_status_name(st), *msg = wipc_last_error_message();
    if (!strncmp(msg, name, strlen(name)))   /* the library's message starts with the status name */
        fprintf(stderr, "wipc: %s\n", msg);
    else
        fprintf(stderr, "wipc: %s failed: %s: %s\n", what, name, msg);
    return CLI_EXIT_FAIL;
}

static volatile sig_atomic_t g_stop_signal;

static void on_stop_signal(int sig)
{
    g_stop_signal = sig;
}

void cli_catch_stop(void)
{
    signal(SIGINT, on_stop_signal);    /* Ctrl-C (Windows: the CRT's console control handler) */
    signal(SIGTERM, on_stop_signal);
#ifdef SIGHUP
    signal(SIGHUP, on_stop_signal);
#endif
}

int cli_stop_signal(void)
{
    return (int)g_stop_signal;
}

#if defined(_WIN32)
double cli_now_us(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e6 / (double)f.QuadPart;
}
void cli_sleep_ms(unsigned ms) { Sleep(ms); }
unsigned cli_pid(void) { return (unsigned)GetCurrentProcessId(); }
static void wall_clock(char out[32])
{
    SYSTEMTIME t;
    GetLocalTime(&t);
    snprintf(out, 32, "%02u:%02u:%02u.%03u", t.wHour, t.wMinute, t.wSecond, t.wMilliseconds);
}
#else
double cli_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}
void cli_sleep_ms(unsigned ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) && errno == EINTR) {
    }
}
unsigned cli_pid(void) { return (unsigned)getpid(); }
static void wall_clock(char out[32])
{
    struct timespec ts;
    struct tm tmv;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tmv);
    snprintf(out, 32, "%02d:%02d:%02d.%03ld", tmv.tm_hour, tmv.tm_min, tmv.tm_sec, ts.tv_nsec / 1000000L);
}
#endif

/* TEXT, or the whole of --file (at most 16 MiB). NULL with *exit_code set on failure. */
unsigned char *cli_payload(const cli_args *a, size_t *size, int *exit_code)
{
    *size = 0;
    if (!a->file) {
        *size = strlen(a->text);
        unsigned char *p = malloc(*size + 1);
        if (p)
            memcpy(p, a->text, *size + 1);
        return p;
    }
    FILE *f = fopen(a->file, "rb");
    if (!f) {
        *exit_code = cli_usage("cannot open %s: %s", a->file, strerror(errno));
        return NULL;
    }
    unsigned char *buf = malloc(MAX_PAYLOAD + 1);
    size_t n = buf ? fread(buf, 1, MAX_PAYLOAD + 1, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad || n > MAX_PAYLOAD) {
        free(buf);
        *exit_code = cli_usage(buf && !bad ? "%s is larger than 16 MiB" : "cannot read %s", a->file);
        return NULL;
    }
    *size = n;
    return buf;
}

int32_t cli_byte_sum(const void *data, size_t size)
{
    uint32_t sum = 0;
    for (size_t i = 0; i < size; i++)
        sum += ((const unsigned char *)data)[i];
    return (int32_t)(sum & 0x7fffffffu);
}

int cli_is_text(const unsigned char *data, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (data[i] >= 0x80 || (!isprint(data[i]) && data[i] != '\t'))
            return 0;
    return 1;
}

/* Text in double quotes (first 200 bytes) or hex (first 64 bytes), then "..." if cut. */
static void format_data(char *out, size_t cap, const unsigned char *d, size_t size)
{
    int text = cli_is_text(d, size);
    size_t shown = size > (text ? 200u : 64u) ? (text ? 200u : 64u) : size;
    int n = 0;
    if (text)
        n = snprintf(out, cap, "\"%.*s\"", (int)shown, (const char *)d);
    else
        for (size_t i = 0; i < shown; i++)
            n += snprintf(out + n, cap - (size_t)n, "%02x", d[i]);
    snprintf(out + n, cap - (size_t)n, "%s", shown < size ? "..." : "");
}

void cli_print_data(FILE *f, const unsigned char *data, size_t size)
{
    char text[256];
    format_data(text, sizeof text, data, size);
    fputs(text, f);
}

/* "HH:MM:SS.mmm " + the formatted rest, written with one call so that the lines of concurrent
 * callbacks do not interleave. */
static void print_line(const char *rest)
{
    char stamp[32];
    wall_clock(stamp);
    printf("%s %s\n", stamp, rest);
    fflush(stdout);
}

void cli_print_event(const char *fmt, ...)
{
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    print_line(line);
}

void cli_print_message(uint32_t type, const void *data, size_t size, uint32_t pid, uint64_t request_id)
{
    char line[512];
    int n = snprintf(line, sizeof line, "type=%u size=%zu pid=%u%s ", (unsigned)type, size, (unsigned)pid,
                     request_id ? " request" : "");
    format_data(line + n, sizeof line - (size_t)n, data, size);
    print_line(line);
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

void cli_print_rtt(long n, size_t size, double *rtt_us)
{
    qsort(rtt_us, (size_t)n, sizeof *rtt_us, cmp_double);
    printf("%ld requests of %zu bytes: round trip p50 %.1f us, p99 %.1f us\n", n, size, rtt_us[n / 2],
           rtt_us[(n * 99) / 100]);
}
