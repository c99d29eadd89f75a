/*
 * wipc.c - the `wipc` command-line tool: talk to wipc endpoints from a shell.
 *
 *   wipc listen    URI [--reply echo|upper|none] [--count N] [--timeout MS] [--quiet]
 *   wipc send      URI [--type N] [--timeout MS] (TEXT | --file F)
 *   wipc request   URI [--type N] [--timeout MS] [--count N] [--expect REPLY] (TEXT | --file F)
 *   wipc broadcast msg://PREFIX [--type N] [--timeout MS] (TEXT | --file F)
 *   wipc list      msg://PREFIX
 *   wipc info
 *
 * URIs: pipe://NAME, shm://NAME, msg://NAME. `wipc --help`, `wipc COMMAND --help`.
 * Exit codes: 0 success, 1 transport error (the status name and the last-error message are printed
 * to stderr), 2 usage error (one line on stderr); `wipc request`: 3 no reply in time (WIPC_E_TIMEOUT),
 * 4 the server answered with wipc_reply_error ("wipc: remote error CODE: MESSAGE"). See cli.h.
 */
#include "cli.h"

int main(int argc, char **argv)
{
    cli_args a;
    int rc = cli_parse(argc, argv, &a);
    if (rc == CLI_HELP_SHOWN)
        return CLI_EXIT_OK;
    if (rc)
        return rc;
    return a.command->run(&a);
}
