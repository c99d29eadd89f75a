/*
 * cli_ls.c - `wipc ls [PREFIX | pipe://PREFIX | shm://PREFIX | msg://PREFIX] [--json]`: the live
 * endpoints of this user (wipc_list), one line each: transport, kind, owner pid, age, name.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static const char *const transport_names[] = { "?", "pipe", "shm", "msg" };

static const char *kind_name(uint32_t kind)
{
    switch (kind) {
    case WIPC_KIND_PIPE_SERVER:
        return "server";
    case WIPC_KIND_SHM_CHANNEL:
        return "channel";
    case WIPC_KIND_REGION:
        return "region";
    case WIPC_KIND_MSG_ENDPOINT:
        return "receiver";
    default:
        return "?";
    }
}

/* The endpoints into *out (malloc'd); returns the exit code. */
int cli_list_endpoints(uint32_t mask, const char *prefix, wipc_endpoint **out, size_t *count)
{
    size_t cap = 64;
    *out = NULL;
    for (int attempt = 0; attempt < 8; attempt++) {
        wipc_endpoint *e = malloc(cap * sizeof *e);
        if (!e)
            return cli_fail("malloc", WIPC_E_NO_MEMORY);
        wipc_status st = wipc_list(mask, prefix, e, cap, sizeof *e, count);
        if (st == WIPC_OK) {
            *out = e;
            return CLI_EXIT_OK;
        }
        free(e);
        if (st != WIPC_E_BUFFER_TOO_SMALL)
            return cli_fail("wipc_list", st);
        cap = *count + 64; /* endpoints may appear between the two calls */
    }
    return cli_fail("wipc_list", WIPC_E_BUFFER_TOO_SMALL);
}

static void print_age(char *buf, size_t cap, int64_t created_ms)
{
    if (created_ms <= 0) {
        snprintf(buf, cap, "-");
        return;
    }
    long long s = (long long)time(NULL) - created_ms / 1000;
    if (s < 0)
        s = 0;
    if (s < 120)
        snprintf(buf, cap, "%llds", s);
    else if (s < 7200)
        snprintf(buf, cap, "%lldm", s / 60);
    else if (s < 172800)
        snprintf(buf, cap, "%lldh", s / 3600);
    else
        snprintf(buf, cap, "%lldd", s / 86400);
}

int cli_ls(const cli_args *a)
{
    uint32_t mask = a->transport ? 1u << a->transport : WIPC_LIST_ALL;
    const char *prefix = a->name ? a->name : "";
    wipc_endpoint *e;
    size_t n = 0;
    int rc = cli_list_endpoints(mask, prefix, &e, &n);
    if (rc)
        return rc;
    if (a->json) {
        putchar('[');
        for (size_t i = 0; i < n; i++)
            printf("%s{\"transport\":\"%s\",\"kind\":\"%s\",\"name\":\"%s\",\"pid\":%u,\"created_unix_ms\":%lld}",
                   i ? "," : "", transport_names[e[i].transport <= 3 ? e[i].transport : 0], kind_name(e[i].kind),
                   e[i].name, (unsigned)e[i].owner_pid, (long long)e[i].created_unix_ms);
        puts("]");
    } else {
        if (n)
            printf("%-5s %-8s %8s %6s  %s\n", "TRANS", "KIND", "PID", "AGE", "NAME");
        for (size_t i = 0; i < n; i++) {
            char age[32], pid[16];
            print_age(age, sizeof age, e[i].created_unix_ms);
            snprintf(pid, sizeof pid, e[i].owner_pid ? "%u" : "-", (unsigned)e[i].owner_pid);
            printf("%-5s %-8s %8s %6s  %s\n", transport_names[e[i].transport <= 3 ? e[i].transport : 0],
                   kind_name(e[i].kind), pid, age, e[i].name);
        }
    }
    free(e);
    return CLI_EXIT_OK;
}
