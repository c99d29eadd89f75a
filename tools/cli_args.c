/*
 * cli_args.c - the command table of the `wipc` tool, its option parser and its --help texts.
 *
 * Shell habits: `--opt value` and `--opt=value`; `-` is an ordinary argument (`--file -` = stdin);
 * `--` ends the options (what follows is positional, even if it starts with '-'); any other word that
 * starts with '-' is an option, so an unknown one is a usage error (exit 2), never a payload.
 * Every command accepts only the options its table row lists. (A small parser of our own rather than
 * getopt_long: glibc's permutes arguments and accepts abbreviations, mingw-w64's differs in both.)
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    OPT_TYPE = 1u << 0,
    OPT_TIMEOUT = 1u << 1,
    OPT_COUNT = 1u << 2,
    OPT_FILE = 1u << 3,
    OPT_REPLY = 1u << 4,
    OPT_QUIET = 1u << 5,
    OPT_EXPECT = 1u << 6,
    OPT_RAW = 1u << 7,
    OPT_JSON = 1u << 8,
    OPT_RECORDS = 1u << 9,
    OPT_ONEWAY = 1u << 10,
    OPT_SIZE = 1u << 11,
    OPT_INTERVAL = 1u << 12,
    OPT_WAIT = 1u << 13,
    OPT_LENGTH_PREFIX = 1u << 14,
};
#define SCHEME(t)  (1u << (t))
#define ANY_SCHEME (SCHEME(CLI_PIPE) | SCHEME(CLI_SHM) | SCHEME(CLI_MSG))

static const cli_command commands[] = {
    { "listen", cli_listen, OPT_COUNT | OPT_REPLY | OPT_QUIET | OPT_TIMEOUT | OPT_RAW | OPT_JSON | OPT_LENGTH_PREFIX,
      ANY_SCHEME, "U",
      "wipc listen URI [--reply echo|upper|none|error] [--count N] [--timeout MS] [--quiet | --raw | --json] "
      "[--length-prefix]",
      "  Serves URI and prints each whole message: time, type, size, peer pid, text (escaped, in quotes)\n"
      "  or hex. --raw: only the payload bytes, as they are (msg://: also a plain WM_COPYDATA receiver,\n"
      "  WIPC_MSG_RAW, so foreign senders are taken); --json: one JSON object per line.\n"
      "  pipe://NAME  a pipe server; clients are served concurrently.\n"
      "  shm://NAME   creates the shm channel; one client at a time, the next may attach after it.\n"
      "  msg://NAME   a msg receiver; each message is answered with the sum of its bytes.\n"
      "  Requests are answered with the same bytes (echo, the default), upper-cased ASCII (upper)\n"
      "  or not at all (none; msg senders then get 0), or with a remote error (error: code 1 and the\n"
      "  request's text, wipc_reply_error; pipe and shm). --count N: exit after N messages;\n"
      "  --timeout MS: exit 3 (WIPC_E_TIMEOUT) after MS ms without a message; --quiet: print nothing\n"
      "  but the first line (\"listening on URI (pid N)\"). Ctrl-C or SIGTERM closes URI and exits 0.\n"
      "  Foreign pipe clients (no wipc framing): pipe:// with --raw serves a WIPC_PIPE_RAW pipe (and\n"
      "  prints only the payload bytes, as --raw does); --length-prefix serves WIPC_PIPE_LENGTH_PREFIX\n"
      "  (each message a 4-byte little-endian length + payload), printed as usual. Such messages are\n"
      "  not requests: they are answered (sent back) only with --reply echo or --reply upper." },
    { "send", cli_send, OPT_TYPE | OPT_TIMEOUT | OPT_FILE | OPT_WAIT | OPT_RAW | OPT_LENGTH_PREFIX, ANY_SCHEME, "UT",
      "wipc send URI [--type N] [--timeout MS] [--wait] [--raw | --length-prefix] (TEXT | --file F)",
      "  Sends one message (TEXT, or the bytes of file F; --file - reads stdin) tagged with type N\n"
      "  (default 0). msg:// prints the receiver's reply (an int32). --timeout: default 5000 ms.\n"
      "  msg://class:CLASS, msg://title:TITLE, msg://class:CLASS;title:TITLE (Windows) and\n"
      "  msg://path:SOCKET (POSIX) send a plain WM_COPYDATA (no wipc header; type = dwData) to any\n"
      "  such window / seqpacket socket and print its LRESULT; --raw sends msg://NAME that way too\n"
      "  (to class:wipc-msg-NAME, a WIPC_MSG_RAW receiver).\n"
      "  A TEXT that starts with '-' goes after --: wipc send pipe://x -- -t\n"
      "  pipe:// with nobody serving the name fails at once (exit 4) unless --wait: then a server may\n"
      "  still appear within --timeout (as a busy one is always waited for).\n"
      "  pipe:// to a foreign server: --raw connects WIPC_PIPE_RAW (the bytes alone; 0 bytes only where\n"
      "  the pipe keeps message boundaries), --length-prefix WIPC_PIPE_LENGTH_PREFIX (a 4-byte\n"
      "  little-endian length, then the bytes). The type is not sent then." },
    { "request", cli_request,
      OPT_TYPE | OPT_TIMEOUT | OPT_FILE | OPT_COUNT | OPT_EXPECT | OPT_RAW | OPT_JSON | OPT_WAIT, ANY_SCHEME, "UT",
      "wipc request URI [--type N] [--timeout MS] [--wait] [--count N] [--expect REPLY] [--raw | --json] (TEXT | "
      "--file F)",
      "  Sends a request and prints the reply (text, or hex for binary; msg:// an int32).\n"
      "  --raw: the reply's bytes as they are, no newline; --json: {\"size\":..,\"text\"|\"hex\":..}.\n"
      "  --count N: N requests on one connection, then the round trip p50/p99.\n"
      "  --expect REPLY: exit 1 unless every reply is exactly REPLY. --wait: as for send.\n"
      "  Exit 3: no reply within the timeout (WIPC_E_TIMEOUT); exit 5: the server answered with an\n"
      "  error (wipc_reply_error), printed as \"wipc: remote error CODE: MESSAGE\"." },
    { "cat", cli_cat, OPT_TYPE | OPT_TIMEOUT | OPT_RECORDS | OPT_ONEWAY | OPT_WAIT, SCHEME(CLI_PIPE) | SCHEME(CLI_SHM),
      "U", "wipc cat URI [--records] [--oneway] [--type N] [--timeout MS] [--wait]",
      "  Like `socat -` / nngcat: each line of stdin (without its newline) is sent as a request and\n"
      "  its reply is written to stdout followed by a newline. --records: stdin and stdout are\n"
      "  length-delimited records instead (a 4-byte little-endian length, then that many bytes).\n"
      "  --oneway: send messages, read no replies. Ends at the end of stdin (exit 0)." },
    { "broadcast", cli_broadcast, OPT_TYPE | OPT_TIMEOUT | OPT_FILE, SCHEME(CLI_MSG), "UT",
      "wipc broadcast msg://PREFIX [--type N] [--timeout MS] (TEXT | --file F)",
      "  Sends to every msg receiver whose name starts with PREFIX and prints how many accepted." },
    { "list", cli_list, OPT_JSON, SCHEME(CLI_MSG), "U", "wipc list msg://PREFIX [--json]",
      "  Lists the live msg receivers whose name starts with PREFIX (msg:// lists all)." },
    { "ls", cli_ls, OPT_JSON, ANY_SCHEME, "N?",
      "wipc ls [PREFIX | pipe://PREFIX | shm://PREFIX | msg://PREFIX] [--json]",
      "  Lists the live endpoints of this user (all transports, or the URI's), whose name starts with\n"
      "  PREFIX: transport, kind (server, channel, region, receiver), owner pid (- if the OS cannot tell\n"
      "  without connecting), age, name. Made by any process; nothing is connected to or changed." },
    { "stat", cli_stat, OPT_JSON, ANY_SCHEME, "N", "wipc stat (NAME | pipe://NAME | shm://NAME | msg://NAME) [--json]",
      "  Prints the statistics the endpoint publishes (any process of this user; the owner is not\n"
      "  asked): messages and bytes in/out, connections now and in all, queue depth, errors, age and\n"
      "  last activity. A bare NAME takes the first of pipe, shm, msg. Exit 4 if none publishes." },
    { "top", cli_top, OPT_INTERVAL | OPT_COUNT, 0, "w", "wipc top [PREFIX] [--interval MS] [--count N]",
      "  A live table of every endpoint of this user (or those whose name starts with PREFIX):\n"
      "  messages/s and bytes/s (in + out), connections, queue depth, total messages, errors, idle time,\n"
      "  busiest first, refreshed every MS ms (default 1000). q or Ctrl-C quits and restores the\n"
      "  terminal. --count N: quit after N refreshes. Not a terminal: one plain table per refresh." },
    { "bench", cli_bench, OPT_COUNT | OPT_SIZE | OPT_JSON, 0, "w",
      "wipc bench [pipe|shm|msg] [--count N] [--size BYTES] [--json]",
      "  Measures this machine: round trip (p50, p99) of N requests of 64 bytes (default 2000) and the\n"
      "  one-way throughput of messages of BYTES (default 64 KiB; msg: 4 KiB), per transport, both\n"
      "  ends in this process (library threads serve). Prints a table and a bar chart." },
    { "info", cli_info, OPT_JSON, 0, "", "wipc info [--json]",
      "  Prints the library version, the platform and which transports this build supports." },
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct option_spec {
    const char *name;
    unsigned bit;
    int takes_value;
} options[] = {
    { "--type", OPT_TYPE, 1 },         { "--timeout", OPT_TIMEOUT, 1 }, { "--count", OPT_COUNT, 1 },
    { "--file", OPT_FILE, 1 },         { "--reply", OPT_REPLY, 1 },     { "--quiet", OPT_QUIET, 0 },
    { "--expect", OPT_EXPECT, 1 },     { "--raw", OPT_RAW, 0 },         { "--json", OPT_JSON, 0 },
    { "--records", OPT_RECORDS, 0 },   { "--oneway", OPT_ONEWAY, 0 },   { "--size", OPT_SIZE, 1 },
    { "--interval", OPT_INTERVAL, 1 }, { "--wait", OPT_WAIT, 0 },       { "--length-prefix", OPT_LENGTH_PREFIX, 0 },
};
#define N_OPTIONS (sizeof options / sizeof options[0])

void cli_help(const cli_command *only)
{
    if (!only)
        puts("wipc - talk to wipc endpoints (pipe://NAME, shm://NAME, msg://NAME) from a shell.\n"
             "Options take their value as `--opt VALUE` or `--opt=VALUE`; `--` ends the options;\n"
             "`--file -` reads stdin. `wipc --version` prints the versions.\n"
             "Exit status: 0 success, 1 transport error (status name and last error on stderr),\n"
             "2 usage error, 3 timeout, 4 not found, 5 remote error (the peer answered with an error).\n"
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

/* scheme://NAME into transport + name; a bare NAME only where the command takes one ('N'). */
static int parse_uri(cli_args *a)
{
    static const char *const schemes[] = { NULL, "pipe", "shm", "msg" };
    const char *sep = strstr(a->uri, "://");
    for (int t = CLI_PIPE; sep && t <= CLI_MSG; t++)
        if ((size_t)(sep - a->uri) == strlen(schemes[t]) && !strncmp(a->uri, schemes[t], (size_t)(sep - a->uri)))
            a->transport = t;
    if (!sep && strchr(a->command->args, 'N')) {
        a->name = a->uri;
        return 0;
    }
    if (!a->transport)
        return cli_usage("'%s' is not an endpoint URI: use pipe://NAME, shm://NAME or msg://NAME", a->uri);
    if (!(a->command->schemes & SCHEME(a->transport)))
        return cli_usage("%s does not take %.*s:// URIs", a->command->name, (int)(sep - a->uri), a->uri);
    a->name = sep + 3;
    if (!*a->name && strcmp(a->command->name, "list") && !strchr(a->command->args, '?'))
        return cli_usage("the URI '%s' has no name", a->uri);
    return 0;
}

static int set_option(cli_args *a, const struct option_spec *o, const char *v)
{
    long n = 0;
    switch (o->bit) {
    case OPT_TYPE:
        if (parse_number(o->name, v, 0, 0x7fffffffL, &n))
            return CLI_EXIT_USAGE;
        a->type = (uint32_t)n;
        break;
    case OPT_TIMEOUT:
        if (parse_number(o->name, v, -1, 0x7fffffffL, &n))
            return CLI_EXIT_USAGE;
        a->timeout_ms = (int32_t)n;
        break;
    case OPT_COUNT:
        if (parse_number(o->name, v, 1, 0x7fffffffL, &n))
            return CLI_EXIT_USAGE;
        a->count = n;
        break;
    case OPT_SIZE:
        if (parse_number(o->name, v, 1, 16L << 20, &n))
            return CLI_EXIT_USAGE;
        a->size = n;
        break;
    case OPT_INTERVAL:
        if (parse_number(o->name, v, 50, 3600000L, &n))
            return CLI_EXIT_USAGE;
        a->interval_ms = n;
        break;
    case OPT_FILE:
        a->file = v;
        break;
    case OPT_EXPECT:
        a->expect = v;
        break;
    case OPT_QUIET:
        a->quiet = 1;
        break;
    case OPT_RAW:
        a->raw = 1;
        break;
    case OPT_JSON:
        a->json = 1;
        break;
    case OPT_RECORDS:
        a->records = 1;
        break;
    case OPT_ONEWAY:
        a->oneway = 1;
        break;
    case OPT_WAIT:
        a->wait = 1;
        break;
    case OPT_LENGTH_PREFIX:
        a->length_prefix = 1;
        break;
    case OPT_REPLY:
        a->reply_given = 1;
        if (!strcmp(v, "echo"))
            a->reply = CLI_REPLY_ECHO;
        else if (!strcmp(v, "upper"))
            a->reply = CLI_REPLY_UPPER;
        else if (!strcmp(v, "none"))
            a->reply = CLI_REPLY_NONE;
        else if (!strcmp(v, "error"))
            a->reply = CLI_REPLY_ERROR;
        else
            return cli_usage("--reply takes echo, upper, none or error, not '%s'", v);
        break;
    }
    return 0;
}

/* One option (argv[*i]: "--name", "--name=value" or "--name" "value"); consumes its value. */
static int parse_option(cli_args *a, int argc, char **argv, int *i)
{
    const char *s = argv[*i], *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    for (size_t k = 0; k < N_OPTIONS; k++) {
        const struct option_spec *o = &options[k];
        if (strlen(o->name) != len || strncmp(s, o->name, len))
            continue;
        if (!(a->command->options & o->bit))
            return cli_usage("%s does not take %s", a->command->name, o->name);
        const char *v = eq ? eq + 1 : NULL;
        if (o->takes_value && !v) {
            if (*i + 1 >= argc)
                return cli_usage("%s needs a value", o->name);
            v = argv[++*i];
        } else if (!o->takes_value && v) {
            return cli_usage("%s takes no value", o->name);
        }
        return set_option(a, o, v);
    }
    return cli_usage("unknown option %.*s", (int)len, s);
}

/* The next positional argument, by the command's `args` letters. */
static int take_positional(cli_args *a, const char *s, size_t *pos)
{
    const char *spec = a->command->args;
    while (spec[*pos] == '?')
        ++*pos;
    if (*pos >= strlen(spec))
        return cli_usage("unexpected argument '%s'", s);
    switch (spec[(*pos)++]) {
    case 'U':
    case 'u':
    case 'N':
        a->uri = s;
        break;
    case 'T':
        a->text = s;
        break;
    default:
        a->word = s;
        break;
    }
    return 0;
}

static int check_required(cli_args *a)
{
    const char *spec = a->command->args;
    if ((strchr(spec, 'U') || (strchr(spec, 'N') && !strchr(spec, '?'))) && !a->uri)
        return cli_usage("%s needs an endpoint %s", a->command->name, strchr(spec, 'N') ? "NAME or URI" : "URI");
    if (a->uri && parse_uri(a))
        return CLI_EXIT_USAGE;
    if (strchr(spec, 'T') && !a->text == !a->file)
        return cli_usage("%s needs either TEXT or --file F", a->command->name);
    if (a->raw + a->json + a->quiet > 1)
        return cli_usage("--quiet, --raw and --json exclude each other");
    if (a->length_prefix && a->transport != CLI_PIPE)
        return cli_usage("--length-prefix is for pipe:// URIs");
    if (a->command->run == cli_send && a->raw && a->transport == CLI_SHM)
        return cli_usage("send --raw is not for shm:// URIs (a channel always keeps message boundaries)");
    if (cli_pipe_flags(a) && a->reply == CLI_REPLY_ERROR)
        return cli_usage("--reply error needs wipc framing (not with --raw or --length-prefix)");
    return 0;
}

static int top_level(int argc, char **argv)
{
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("wipc %s (library %s, ABI %u)\n", WIPC_VERSION_STRING, wipc_version_string(),
               (unsigned)(wipc_version() >> 16));
        return CLI_HELP_SHOWN;
    }
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

int cli_parse(int argc, char **argv, cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->count = a->size = -1;
    if (argc < 2)
        return cli_usage("no command given");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help") ||
        !strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
        return top_level(argc, argv);
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name))
            a->command = &commands[i];
    if (!a->command)
        return cli_usage("unknown command '%s'", argv[1]);
    a->timeout_ms = a->command->run == cli_listen ? WIPC_INFINITE : 5000;
    size_t pos = 0;
    int options_done = 0;
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        int rc;
        if (!options_done && !strcmp(s, "--"))
            rc = (options_done = 1, 0);
        else if (!options_done && (!strcmp(s, "--help") || !strcmp(s, "-h"))) {
            cli_help(a->command);
            return CLI_HELP_SHOWN;
        } else if (!options_done && s[0] == '-' && s[1] == '-')
            rc = parse_option(a, argc, argv, &i);
        else if (!options_done && s[0] == '-' && s[1])
            rc = cli_usage("unknown option %s (a TEXT that starts with '-' goes after --)", s);
        else
            rc = take_positional(a, s, &pos);
        if (rc)
            return rc;
    }
    return check_required(a);
}
