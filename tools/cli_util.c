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
#  include <fcntl.h>
#  include <io.h>
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
    if (!strncmp(msg, name, strlen(name))) /* the library's message starts with the status name */
        fprintf(stderr, "wipc: %s\n", msg);
    else
        fprintf(stderr, "wipc: %s failed: %s: %s\n", what, name, msg);
    return cli_exit_code(st);
}

int cli_exit_code(wipc_status st)
{
    switch (st) {
    case WIPC_OK:
        return CLI_EXIT_OK;
    case WIPC_E_TIMEOUT:
        return CLI_EXIT_TIMEOUT;
    case WIPC_E_NOT_FOUND:
        return CLI_EXIT_NOT_FOUND;
    case WIPC_E_REMOTE:
        return CLI_EXIT_REMOTE;
    default:
        return CLI_EXIT_FAIL;
    }
}

static volatile sig_atomic_t g_stop_signal;

static void on_stop_signal(int sig)
{
    g_stop_signal = sig;
}

void cli_catch_stop(void)
{
    signal(SIGINT, on_stop_signal); /* Ctrl-C (Windows: the CRT's console control handler) */
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
void cli_binary_stdio(void)
{
    _setmode(_fileno(stdin), _O_BINARY);
    _setmode(_fileno(stdout), _O_BINARY);
}
double cli_now_us(void)
{
    LARGE_INTEGER f, c;
    QueryPerformanceFrequency(&f);
    QueryPerformanceCounter(&c);
    return (double)c.QuadPart * 1e6 / (double)f.QuadPart;
}
void cli_sleep_ms(unsigned ms)
{
    Sleep(ms);
}
int64_t cli_unix_ms(void)
{
    FILETIME ft;
    GetSystemTimeAsFileTime(&ft);
    return (int64_t)((((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime) / 10000u) - 11644473600000LL;
}
unsigned cli_pid(void)
{
    return (unsigned)GetCurrentProcessId();
}
static void wall_clock(char out[32])
{
    SYSTEMTIME t;
    GetLocalTime(&t);
    snprintf(out, 32, "%02u:%02u:%02u.%03u", t.wHour, t.wMinute, t.wSecond, t.wMilliseconds);
}
#else
void cli_binary_stdio(void)
{
}
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
unsigned cli_pid(void)
{
    return (unsigned)getpid();
}
int64_t cli_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
static void wall_clock(char out[32])
{
    struct timespec ts;
    struct tm tmv;
    clock_gettime(CLOCK_REALTIME, &ts);
    localtime_r(&ts.tv_sec, &tmv);
    snprintf(out, 32, "%02d:%02d:%02d.%03ld", tmv.tm_hour, tmv.tm_min, tmv.tm_sec, ts.tv_nsec / 1000000L);
}
#endif

/* TEXT, or the whole of --file (at most 16 MiB; "-" = stdin). NULL with *exit_code set on failure. */
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
    int from_stdin = !strcmp(a->file, "-");
    if (from_stdin)
        cli_binary_stdio();
    FILE *f = from_stdin ? stdin : fopen(a->file, "rb");
    if (!f) {
        *exit_code = cli_usage("cannot open %s: %s", a->file, strerror(errno));
        return NULL;
    }
    unsigned char *buf = malloc(MAX_PAYLOAD + 1);
    size_t n = buf ? fread(buf, 1, MAX_PAYLOAD + 1, f) : 0;
    int bad = ferror(f);
    if (!from_stdin)
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
        if (data[i] >= 0x80 || (!isprint(data[i]) && data[i] != '\t' && data[i] != '\n' && data[i] != '\r'))
            return 0;
    return 1;
}

/* Text ([printable ASCII, tab, CR, LF]) in double quotes with \n \r \t \" \\ escaped, or hex: the whole
 * message, however long. */
static void print_data_unlocked(FILE *f, const unsigned char *d, size_t size)
{
    if (!cli_is_text(d, size)) {
        for (size_t i = 0; i < size; i++)
            fprintf(f, "%02x", d[i]);
        return;
    }
    fputc('"', f);
    for (size_t i = 0; i < size; i++) {
        const char *esc = d[i] == '\n'   ? "\\n"
                          : d[i] == '\r' ? "\\r"
                          : d[i] == '\t' ? "\\t"
                          : d[i] == '"'  ? "\\\""
                          : d[i] == '\\' ? "\\\\"
                                         : NULL;
        if (esc)
            fputs(esc, f);
        else
            fputc(d[i], f);
    }
    fputc('"', f);
}

void cli_print_data(FILE *f, const unsigned char *data, size_t size)
{
    print_data_unlocked(f, data, size);
}

void cli_print_json_data(FILE *f, const unsigned char *d, size_t size)
{
    /* The escapes of print_data_unlocked are JSON's too; printable ASCII needs none. */
    fputs(cli_is_text(d, size) ? "\"text\":" : "\"hex\":\"", f);
    print_data_unlocked(f, d, size);
    if (!cli_is_text(d, size))
        fputc('"', f);
}

/* The lines of concurrent callbacks must not interleave: one lock around each line's writes. */
#if defined(_WIN32)
#  define lock_out(f)   _lock_file(f)
#  define unlock_out(f) _unlock_file(f)
#else
#  define lock_out(f)   flockfile(f)
#  define unlock_out(f) funlockfile(f)
#endif

void cli_print_event(const char *fmt, ...)
{
    char stamp[32];
    va_list ap;
    va_start(ap, fmt);
    wall_clock(stamp);
    lock_out(stdout);
    printf("%s ", stamp);
    vprintf(fmt, ap);
    putchar('\n');
    fflush(stdout);
    unlock_out(stdout);
    va_end(ap);
}

void cli_print_message(const cli_args *a, uint32_t type, const void *data, size_t size, uint32_t pid,
                       uint64_t request_id)
{
    char stamp[32];
    wall_clock(stamp);
    lock_out(stdout);
    if (a->raw) {
        fwrite(data, 1, size, stdout);
    } else if (a->json) {
        printf("{\"time\":\"%s\",\"type\":%u,\"size\":%zu,\"pid\":%u,\"request\":%s,", stamp, (unsigned)type, size,
               (unsigned)pid, request_id ? "true" : "false");
        cli_print_json_data(stdout, data, size);
        puts("}");
    } else {
        printf("%s type=%u size=%zu pid=%u%s ", stamp, (unsigned)type, size, (unsigned)pid,
               request_id ? " request" : "");
        print_data_unlocked(stdout, data, size);
        putchar('\n');
    }
    fflush(stdout);
    unlock_out(stdout);
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
