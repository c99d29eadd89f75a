/*
 * cli.h - the pieces of the `wipc` command-line tool (tools/wipc.c is main).
 *
 *   cli_args.c    the command table, option parsing and --help texts
 *   cli_util.c    time, payloads, printing a message, failing with the library's last error
 *   cli_listen.c  wipc listen (pipe server, shm channel creator, msg receiver; all with callbacks)
 *   cli_send.c    wipc send / request / broadcast / list / info
 *
 * Exit codes: 0 success, 1 transport error (status name + wipc_last_error_message() on stderr) or a
 * failed --expect check, 2 usage error (one line on stderr).
 */
#ifndef WIPC_CLI_H
#define WIPC_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "wipc.h"

enum { CLI_PIPE = 1, CLI_SHM, CLI_MSG };                   /* URI schemes */
enum { CLI_REPLY_ECHO, CLI_REPLY_UPPER, CLI_REPLY_NONE, CLI_REPLY_ERROR };   /* listen --reply */
enum { CLI_EXIT_OK = 0, CLI_EXIT_FAIL = 1, CLI_EXIT_USAGE = 2, CLI_HELP_SHOWN = -1 };
/* `wipc request` only: no reply in time, and a reply that is the server's error (wipc_reply_error) */
enum { CLI_EXIT_TIMEOUT = 3, CLI_EXIT_REMOTE = 4 };

typedef struct cli_args cli_args;
typedef int (*cli_run_fn)(const cli_args *a);

typedef struct cli_command {
    const char *name;
    cli_run_fn  run;
    unsigned    options;   /* CLI_OPT_* accepted */
    unsigned    schemes;   /* 1 << CLI_PIPE | ...: URI schemes accepted; 0 = takes no URI */
    int         payload;   /* 1: needs TEXT or --file */
    const char *synopsis;
    const char *help;
} cli_command;

struct cli_args {
    const cli_command *command;
    const char *uri, *name, *text, *file, *expect;
    int         transport;     /* CLI_PIPE / CLI_SHM / CLI_MSG */
    uint32_t    type;
    int32_t     timeout_ms;    /* default: listen forever, everything else 5000 */
    long        count;         /* -1 = not given */
    int         reply;         /* CLI_REPLY_* */
    int         quiet;
};

/* cli_args.c */
int  cli_parse(int argc, char **argv, cli_args *a);   /* CLI_EXIT_OK, CLI_EXIT_USAGE or CLI_HELP_SHOWN */
void cli_help(const cli_command *only);                /* NULL = every command */

/* cli_util.c */
int            cli_usage(const char *fmt, ...);         /* "wipc: <reason> (try: wipc --help)", returns 2 */
int            cli_fail(const char *what, wipc_status st);
double         cli_now_us(void);
void           cli_sleep_ms(unsigned ms);
unsigned       cli_pid(void);
void           cli_catch_stop(void);                    /* SIGINT / SIGTERM / SIGHUP: cli_stop_signal() turns non-zero */
int            cli_stop_signal(void);
unsigned char *cli_payload(const cli_args *a, size_t *size, int *exit_code);
int32_t        cli_byte_sum(const void *data, size_t size);
int            cli_is_text(const unsigned char *data, size_t size);
void           cli_print_data(FILE *f, const unsigned char *data, size_t size);
void           cli_print_event(const char *fmt, ...);   /* "HH:MM:SS.mmm <text>\n" on stdout, one write */
void           cli_print_message(uint32_t type, const void *data, size_t size, uint32_t pid, uint64_t request_id);
void           cli_print_rtt(long n, size_t size, double *rtt_us);   /* sorts rtt_us */

/* commands */
int cli_listen(const cli_args *a);
int cli_send(const cli_args *a);
int cli_request(const cli_args *a);
int cli_broadcast(const cli_args *a);
int cli_list(const cli_args *a);
int cli_info(const cli_args *a);

#endif /* WIPC_CLI_H */
