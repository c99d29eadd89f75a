/*
 * cli.h - the pieces of the `wipc` command-line tool (tools/wipc.c is main).
 *
 *   cli_args.c    the command table, option parsing and --help texts
 *   cli_util.c    time, payloads, printing a message (text, --raw, --json), failing with an exit code
 *   cli_listen.c  wipc listen (pipe server, shm channel creator, msg receiver; all with callbacks)
 *   cli_send.c    wipc send / request / broadcast / list / info
 *   cli_cat.c     wipc cat (stdin lines or length-delimited records -> messages, replies -> stdout)
 *   cli_bench.c   wipc bench (round trip and throughput of each transport on this machine)
 *   cli_ls.c      wipc ls (wipc_list)
 *   cli_stat.c    wipc stat (wipc_stat) and wipc top (a live table of every endpoint)
 *
 * Exit codes (cli_exit_code maps a wipc_status): 0 success; 1 transport error (the status name and
 * wipc_last_error_message() on stderr) or a failed --expect check; 2 usage error (one line on
 * stderr); 3 WIPC_E_TIMEOUT; 4 WIPC_E_NOT_FOUND; 5 WIPC_E_REMOTE (the peer answered with an error).
 */
#ifndef WIPC_CLI_H
#define WIPC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wipc.h"

enum { CLI_PIPE = 1, CLI_SHM, CLI_MSG }; /* URI schemes */
enum { CLI_REPLY_ECHO, CLI_REPLY_UPPER, CLI_REPLY_NONE, CLI_REPLY_ERROR }; /* listen --reply */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAIL = 1,
    CLI_EXIT_USAGE = 2,
    CLI_EXIT_TIMEOUT = 3,
    CLI_EXIT_NOT_FOUND = 4,
    CLI_EXIT_REMOTE = 5,
    CLI_HELP_SHOWN = -1,
};

typedef struct cli_args cli_args;
typedef int (*cli_run_fn)(const cli_args *a);

typedef struct cli_command {
    const char *name;
    cli_run_fn run;
    unsigned options; /* CLI_OPT_* accepted */
    unsigned schemes; /* 1 << CLI_PIPE | ...: URI schemes accepted (with a URI in `args`) */
    const char *args; /* positional arguments, in order: 'U' URI, 'u' optional URI, 'T' TEXT (or
                              --file), 'w' optional WORD, 'N' NAME or URI; '?' after a letter: optional */
    const char *synopsis;
    const char *help;
} cli_command;

struct cli_args {
    const cli_command *command;
    const char *uri, *name, *text, *file, *expect, *word;
    int transport; /* CLI_PIPE / CLI_SHM / CLI_MSG; 0 = none given (a bare NAME) */
    uint32_t type;
    int32_t timeout_ms; /* default: listen forever, everything else 5000 */
    long count; /* -1 = not given */
    long size; /* bench --size, -1 = not given */
    long interval_ms; /* top --interval, 0 = not given */
    int reply; /* CLI_REPLY_* */
    int quiet, raw, json, records, oneway, wait;
    int length_prefix; /* --length-prefix (listen, send; pipe://) */
    int reply_given; /* --reply was given (a RAW pipe answers only then) */
};

/* cli_args.c */
int cli_parse(int argc, char **argv, cli_args *a); /* CLI_EXIT_OK, CLI_EXIT_USAGE or CLI_HELP_SHOWN */
void cli_help(const cli_command *only); /* NULL = every command */

/* cli_util.c */
int cli_usage(const char *fmt, ...); /* "wipc: <reason> (try: wipc --help)", returns 2 */
int cli_exit_code(wipc_status st); /* CLI_EXIT_TIMEOUT / _NOT_FOUND / _REMOTE / _FAIL */
int cli_fail(const char *what, wipc_status st); /* prints it, returns cli_exit_code(st) */
double cli_now_us(void);
int64_t cli_unix_ms(void); /* wall clock, ms since 1970 UTC */
void cli_sleep_ms(unsigned ms);
unsigned cli_pid(void);
void cli_catch_stop(void); /* SIGINT / SIGTERM / SIGHUP: cli_stop_signal() turns non-zero */
int cli_stop_signal(void);
void cli_binary_stdio(void); /* Windows: stdin/stdout in binary mode */
unsigned char *cli_payload(const cli_args *a, size_t *size, int *exit_code);
int32_t cli_byte_sum(const void *data, size_t size);
int cli_is_text(const unsigned char *data, size_t size);
void cli_print_data(FILE *f, const unsigned char *data, size_t size); /* text or hex, whole */
void cli_print_json_data(FILE *f, const unsigned char *data, size_t size); /* "text":"..." or "hex":"..." */
void cli_print_event(const char *fmt, ...); /* "HH:MM:SS.mmm <text>\n" on stdout, one write */
void cli_print_message(const cli_args *a, uint32_t type, const void *data, size_t size, uint32_t pid,
                       uint64_t request_id);
void cli_print_rtt(long n, size_t size, double *rtt_us); /* sorts rtt_us */

/* cli_send.c: connects to URI's pipe server (--wait: also for one not up yet) or opens its shm channel */
wipc_status cli_open_client(const cli_args *a, wipc_handle *out, const char **what);

/* cli_send.c: the wipc_pipe_options.flags of listen / send for foreign peers: WIPC_PIPE_LENGTH_PREFIX
 * (--length-prefix), WIPC_PIPE_RAW (--raw on pipe://), else 0 */
uint32_t cli_pipe_flags(const cli_args *a);

/* commands */
int cli_listen(const cli_args *a);
int cli_send(const cli_args *a);
int cli_request(const cli_args *a);
int cli_broadcast(const cli_args *a);
int cli_list(const cli_args *a);
int cli_info(const cli_args *a);
int cli_cat(const cli_args *a);
int cli_bench(const cli_args *a);
int cli_ls(const cli_args *a);
int cli_stat(const cli_args *a);
int cli_top(const cli_args *a);

/* cli_ls.c: wipc_list into a malloc'd array (grown until it fits); returns an exit code. */
int cli_list_endpoints(uint32_t mask, const char *prefix, wipc_endpoint **out, size_t *count);

#endif /* WIPC_CLI_H */
