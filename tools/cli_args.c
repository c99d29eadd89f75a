/*
 * cli_args.c - the command table of the `wipc` tool, its option parser and its --help texts.
 * Every command accepts only the options its table row lists; anything else is a usage error (exit 2).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    OPT_TYPE = 1u << 0, OPT_TIMEOUT = 1u << 1, OPT_COUNT = 1u << 2, OPT_FILE = 1u << 3,
    OPT_REPLY = 1u << 4, OPT_QUIET = 1u << 5, OPT_EXPECT = 1u << 6,
};
#define SCHEME(t) (1u << (t))
#define ANY_SCHEME (SCHEME(CLI_PIPE) | SCHEME(CLI_SHM) | SCHEME(CLI_MSG))

static const cli_command commands[] = {
    { "listen", cli_listen, OPT_COUNT | OPT_REPLY | OPT_QUIET | OPT_TIMEOUT, ANY_SCHEME, 0,
      "wipc listen URI [--reply echo|upper|none|error] [--count N] [--timeout MS] [--quiet]",
      "  Serves URI and prints each message: time, type, size, peer pid, text (or hex).\n"
      "  pipe://NAME  a pipe server; clients are served concurrently.\n"
      "  shm://NAME   creates the shm channel; one client at a time, the next may attach after it.\n"
      "  msg://NAME   a msg receiver; each message is answered with the sum of its bytes.\n"
      "  Requests are answered with the same bytes (echo, the default), upper-cased ASCII (upper)\n"
      "  or not at all (none; msg senders then get 0), or with a remote error (error: code 1 and the\n"
      "  request's text, wipc_reply_error; pipe and shm). --count N: exit after N messages;\n"
      "  --timeout MS: exit 1 (WIPC_E_TIMEOUT) after MS ms without a message; --quiet: print nothing\n"
      "  but the first line (\"listening on URI (pid N)\"). Ctrl-C or SIGTERM closes URI and exits 0." },
    { "send", cli_send, OPT_TYPE | OPT_TIMEOUT | OPT_FILE, ANY_SCHEME, 1,
      "wipc send URI [--type N] [--timeout MS] (TEXT | --file F)",
      "  Sends one message (TEXT, or the bytes of file F) tagged with type N (default 0).\n"
      "  msg:// prints the receiver's reply (an int32). --timeout: default 5000 ms." },
    { "request", cli_request, OPT_TYPE | OPT_TIMEOUT | OPT_FILE | OPT_COUNT | OPT_EXPECT, ANY_SCHEME, 1,
      "wipc request URI [--type N] [--timeout MS] [--count N] [--expect REPLY] (TEXT | --file F)",
      "  Sends a request and prints the reply (text, or hex for binary; msg:// an int32).\n"
      "  --count N: N requests on one connection, then the round trip p50/p99.\n"
      "  --expect REPLY: exit 1 unless every reply is exactly REPLY.\n"
      "  Exit 3: no reply within the timeout (WIPC_E_TIMEOUT); exit 4: the server answered with an\n"
      "  error (wipc_reply_error), printed as \"wipc: remote error CODE: MESSAGE\"." },
    { "broadcast", cli_broadcast, OPT_TYPE | OPT_TIMEOUT | OPT_FILE, SCHEME(CLI_MSG), 1,
      "wipc broadcast msg://PREFIX [--type N] [--timeout MS] (TEXT | --file F)",
      "  Sends to every msg receiver whose name starts with PREFIX and prints how many accepted." },
    { "list", cli_list, 0, SCHEME(CLI_MSG), 0,
      "wipc list msg://PREFIX",
      "  Lists the live msg receivers whose name starts with PREFIX (msg:// lists all)." },
    { "info", cli_info, 0, 0, 0,
      "wipc info",
      "  Prints the library version, the platform and which transports this build supports." },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

void cli_help(const cli_command *only)
{
    if (!only)
        puts("wipc - talk to wipc endpoints (pipe://NAME, shm://NAME, msg://NAME) from a shell.\n"
             "Exit status: 0 success, 1 transport error (status name and last error on stderr),\n"
             "2 usage error; `wipc request` also 3 (timeout) and 4 (the server answered with an error).\n"
             "`wipc COMMAND --help` shows one command.\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!only || only == &commands[i])
            printf("%s\n%s\n%s", commands[i].synopsis, commands[i].help, only ? "" : "\n");
}

static int parse_number(const char *opt, const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    if (errno || end == s || *end || v < min || v > max)
        return cli_usage("%s takes a number from %ld to %ld, not '%s'", opt, min, max, s);
    *out = v;
    return 0;
}

static int parse_uri(cli_args *a)
{
    static const char *const schemes[] = { NULL, "pipe", "shm", "msg" };
    const char *sep = strstr(a->uri, "://");
    for (int t = CLI_PIPE; sep && t <= CLI_MSG; t++)
        if ((size_t)(sep - a->uri) == strlen(schemes[t]) && !strncmp(a->uri, schemes[t], (size_t)(sep - a->uri)))
            a->transport = t;
    if (!a->transport)
        return cli_usage("'%s' is not an endpoint URI: use pipe://NAME, shm://NAME or msg://NAME", a->uri);
    if (!(a->command->schemes & SCHEME(a->transport)))
        return cli_usage("%s does not take %.*s:// URIs", a->command->name, (int)(sep - a->uri), a->uri);
    a->name = sep + 3;
    if (!*a->name && strcmp(a->command->name, "list"))
        return cli_usage("the URI '%s' has no name", a->uri);
    return 0;
}

/* One option (argv[*i]); consumes its value. */
static int parse_option(cli_args *a, int argc, char **argv, int *i)
{
    static const struct { const char *name; unsigned bit; int takes_value; } opts[] = {
        { "--type", OPT_TYPE, 1 }, { "--timeout", OPT_TIMEOUT, 1 }, { "--count", OPT_COUNT, 1 },
        { "--file", OPT_FILE, 1 }, { "--reply", OPT_REPLY, 1 }, { "--quiet", OPT_QUIET, 0 },
        { "--expect", OPT_EXPECT, 1 },
    };
    const char *s = argv[*i];
    for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++) {
        if (strcmp(s, opts[k].name))
            continue;
        if (!(a->command->options & opts[k].bit))
            return cli_usage("%s does not take %s", a->command->name, s);
        const char *v = NULL;
        if (opts[k].takes_value) {
            if (*i + 1 >= argc)
                return cli_usage("%s needs a value", s);
            v = argv[++*i];
        }
        long n = 0;
        switch (opts[k].bit) {
        case OPT_TYPE:    if (parse_number(s, v, 0, 0x7fffffffL, &n)) return CLI_EXIT_USAGE; a->type = (uint32_t)n; break;
        case OPT_TIMEOUT: if (parse_number(s, v, -1, 0x7fffffffL, &n)) return CLI_EXIT_USAGE; a->timeout_ms = (int32_t)n; break;
        case OPT_COUNT:   if (parse_number(s, v, 1, 0x7fffffffL, &n)) return CLI_EXIT_USAGE; a->count = n; break;
        case OPT_FILE:    a->file = v; break;
        case OPT_EXPECT:  a->expect = v; break;
        case OPT_QUIET:   a->quiet = 1; break;
        case OPT_REPLY:
            if (!strcmp(v, "echo")) a->reply = CLI_REPLY_ECHO;
            else if (!strcmp(v, "upper")) a->reply = CLI_REPLY_UPPER;
            else if (!strcmp(v, "none")) a->reply = CLI_REPLY_NONE;
            else if (!strcmp(v, "error")) a->reply = CLI_REPLY_ERROR;
            else return cli_usage("--reply takes echo, upper, none or error, not '%s'", v);
            break;
        }
        return 0;
    }
    return cli_usage("unknown option %s", s);
}

int cli_parse(int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->count = -1;
    if (argc < 2)
        return cli_usage("no command given");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        const char *which = argc > 2 ? argv[2] : NULL;
        for (size_t i = 0; which && i < N_COMMANDS; i++)
            if (!strcmp(which, commands[i].name)) {
                cli_help(&commands[i]);
                return CLI_HELP_SHOWN;
            }
        if (which)
            return cli_usage("unknown command '%s'", which);
        cli_help(NULL);
        return CLI_HELP_SHOWN;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            a->command = &commands[i];
    if (!a->command)
        return cli_usage("unknown command '%s'", argv[1]);
    a->timeout_ms = a->command->run == cli_listen ? WIPC_INFINITE : 5000;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            cli_help(a->command);
            return CLI_HELP_SHOWN;
        }
        int rc;
        if (s[0] == '-' && s[1] == '-' && s[2])
            rc = parse_option(a, argc, argv, &i);
        else if (!a->uri && a->command->schemes)
            rc = (a->uri = s, 0);
        else if (!a->text && a->command->payload)
            rc = (a->text = s, 0);
        else
            rc = cli_usage("unexpected argument '%s'", s);
        if (rc)
            return rc;
    }
    if (a->command->schemes && !a->uri)
        return cli_usage("%s needs an endpoint URI", a->command->name);
    if (a->uri && parse_uri(a))
        return CLI_EXIT_USAGE;
    if (a->command->payload && !a->text == !a->file)
        return cli_usage("%s needs either TEXT or --file F", a->command->name);
    return 0;
}
