/*
 * noread.c - wipc_noread: what a well-behaved client sees while 1,000 never-reading clients load the
 * same process ("wipc_reply has no timeout, so slow readers starve the whole
 * process"). A measurement, not a test: it is not run by CI nor by scripts/bench. Linux only.
 *
 *   build/linux/bench/wipc_noread [--servers 4] [--attackers 1000] [--per-process 50]
 *                                 [--count 100] [--size 4096] [--requests 1000] [--timeout-ms 5000]
 *                                 [--settle-ms 3000] [--rounds 1] [--interval-ms 10000]
 *
 * One process (this one) listens on --servers pipe servers (max_instances 255), each with callbacks
 * whose on_message echoes every request with wipc_reply: the callback workers are process-wide, so a
 * peer pinning them starves every server of the process. Then:
 *  1. baseline: a client process connects to server 0 and times --requests 64-byte wipc_request round
 *     trips (after 50 unmeasured ones), with 0 never-reading clients;
 *  2. --attackers never-reading clients connect, spread evenly over the servers, --per-process
 *     connections per attacker process (raw AF_UNIX sockets written against the OS, not wipc: each
 *     sends the wipc HELLO, then --count requests of --size bytes, non-blocking, and never reads a
 *     byte: the echoed replies fill its socket buffer and pile up on the server);
 *  3. once every attacker has sent all it could (waited for up to --settle-ms + 30 s, a progress line
 *     every 2 s), and --settle-ms more, the client process measures again on server 0 (repeated
 *     --rounds times, --interval-ms apart). 1.1 ends a connection whose reply is still unwritten after
 *     WIPC_REPLY_DEADLINE_MS (30 s): rounds that start later than that see the attackers gone.
 * A request that fails (e.g. times out after --timeout-ms) is counted; three failures in a row end
 * the round. Each round prints one line (p50 / p99 / max in microseconds) and one JSON line.
 * RLIMIT_NOFILE is raised to its hard limit (the servers hold 1,000 connections).
 *
 * Only wipc 1.0 calls are used, so the same binary measures an older library (it has RUNPATH, which
 * LD_LIBRARY_PATH overrides):
 *   LD_LIBRARY_PATH=/path/to/old/build/linux build/linux/bench/wipc_noread
 * Child processes die with this one (PR_SET_PDEATHSIG). Results: README "Never-reading clients".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "raw_frame.h" /* c-tests/: the frame header and HELLO, written by hand */
#include "wipc.h"

extern char **environ;

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- the attacker: raw sockets that send requests and never read ---------------------------------- */

/* The socket path of pipe NAME (dll/linux/rundir.c). */
static void pipe_path(struct sockaddr_un *sa, const char *name)
{
    memset(sa, 0, sizeof *sa);
    sa->sun_family = AF_UNIX;
    const char *x = getenv("XDG_RUNTIME_DIR");
    if (x && x[0] == '/')
        snprintf(sa->sun_path, sizeof sa->sun_path, "%s/wipc/p.%s", x, name);
    else
        snprintf(sa->sun_path, sizeof sa->sun_path, "/tmp/wipc-%u/p.%s", (unsigned)geteuid(), name);
}

typedef struct conn {
    int fd;
    long sent; /* whole requests sent */
    size_t off; /* bytes of the current frame sent */
    uint8_t hdr[24];
} conn;

/* attack NAME CONNS COUNT SIZE: prints "READY <connected>", then "SENT <requests> <ended>" once every
 * connection has sent COUNT requests or was ended by the server; then keeps everything open. */
static int cmd_attack(const char *name, int nconns, long count, size_t size)
{
    struct sockaddr_un sa;
    pipe_path(&sa, name);
    conn *cs = calloc((size_t)nconns, sizeof *cs);
    struct pollfd *pf = calloc((size_t)nconns, sizeof *pf);
    uint8_t *payload = calloc(1, size ? size : 1);
    if (!cs || !pf || !payload)
        return 2;
    int ok = 0;
    for (int i = 0; i < nconns; i++) {
        cs[i].fd = -1;
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
            fprintf(stderr, "wipc_noread attack: connect %s: %s\n", sa.sun_path, strerror(errno));
            if (fd >= 0)
                close(fd);
            continue;
        }
        uint8_t hello[WT_RAW_HELLO];
        wt_raw_hello(hello, (uint32_t)getpid());
        if (send(fd, hello, sizeof hello, MSG_NOSIGNAL) != (ssize_t)sizeof hello) {
            close(fd);
            continue;
        }
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
        cs[i].fd = fd;
        wt_raw_header(cs[i].hdr, 2, 1, (uint32_t)size, 1);
        ok++;
    }
    printf("READY %d\n", ok);
    fflush(stdout);
    size_t flen = 24 + size;
    int reported = 0;
    for (;;) {
        int n = 0, busy = 0, ended = 0;
        long total = 0;
        for (int i = 0; i < nconns; i++) {
            total += cs[i].sent;
            if (cs[i].fd < 0) {
                ended++;
                continue;
            }
            if (cs[i].sent >= count)
                continue;
            busy++;
            pf[n].fd = cs[i].fd;
            pf[n].events = POLLOUT;
            pf[n].revents = 0;
            n++;
        }
        if (!busy && !reported) {
            printf("SENT %ld %d\n", total, ended);
            fflush(stdout);
            reported = 1;
        }
        if (!n) {
            pause(); /* keep every connection open, unread, until killed */
            continue;
        }
        if (poll(pf, (nfds_t)n, 1000) <= 0)
            continue;
        for (int k = 0, i = 0; k < n; k++) {
            while (cs[i].fd != pf[k].fd)
                i++;
            conn *c = &cs[i];
            if (pf[k].revents & (POLLERR | POLLHUP)) {
                close(c->fd);
                c->fd = -1;
                continue;
            }
            if (!(pf[k].revents & POLLOUT))
                continue;
            while (c->sent < count) {
                struct iovec iov[2];
                int ni = 0;
                if (c->off < 24)
                    iov[ni++] = (struct iovec){ c->hdr + c->off, 24 - c->off };
                size_t poff = c->off > 24 ? c->off - 24 : 0;
                if (size > poff)
                    iov[ni++] = (struct iovec){ payload + poff, size - poff };
                struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)ni };
                ssize_t r = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (r < 0) {
                    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                        close(c->fd); /* the server ended the connection */
                        c->fd = -1;
                    }
                    break;
                }
                c->off += (size_t)r;
                if (c->off == flen) {
                    c->sent++;
                    c->off = 0;
                    wt_raw_header(c->hdr, 2, 1, (uint32_t)size, (uint64_t)c->sent + 1);
                }
            }
        }
    }
}

/* ---- the well-behaved client --------------------------------------------------------------------- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

/* client NAME REQUESTS TIMEOUT_MS: prints "RESULT ok failed p50 p99 max first_error" (microseconds). */
static int cmd_client(const char *name, int requests, int timeout_ms)
{
    wipc_handle h = 0;
    wipc_status s = wipc_pipe_connect(name, NULL, 10000, &h);
    if (s != WIPC_OK) {
        printf("RESULT 0 %d 0 0 0 connect:%s\n", requests, wipc_status_name(s));
        return 1;
    }
    double *lat = calloc((size_t)requests, sizeof *lat);
    uint8_t req[64] = { 1 }, resp[128];
    size_t got;
    int ok = 0, failed = 0, in_a_row = 0;
    const char *first = "-";
    for (int i = 0; i < 50 + requests && in_a_row < 3; i++) {
        double t0 = now_us();
        s = wipc_request(h, 2, req, sizeof req, resp, sizeof resp, &got, timeout_ms);
        double t1 = now_us();
        if (s == WIPC_OK && got == sizeof req) {
            in_a_row = 0;
            if (i >= 50)
                lat[ok++] = t1 - t0;
        } else {
            if (!failed)
                first = wipc_status_name(s);
            failed++;
            in_a_row++;
        }
    }
    qsort(lat, (size_t)ok, sizeof *lat, cmp_double);
    double p50 = ok ? lat[ok / 2] : 0, p99 = ok ? lat[(int)(ok * 0.99)] : 0, max = ok ? lat[ok - 1] : 0;
    printf("RESULT %d %d %.1f %.1f %.1f %s\n", ok, failed, p50, p99, max, first);
    fflush(stdout);
    wipc_close(h);
    return 0;
}

/* ---- the server process -------------------------------------------------------------------------- */

static int32_t WIPC_CALL on_message(wipc_handle h, const wipc_message *m, void *user)
{
    (void)user;
    if (m->request_id)
        wipc_reply(h, m->request_id, m->type, m->data, m->size);
    return 0;
}

static char g_self[1024];

typedef struct child {
    pid_t pid;
    FILE *out; /* its stdout */
} child;

static int spawn(child *c, const char *const *args)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    const char *argv[16];
    int n = 0;
    argv[n++] = g_self;
    for (int i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    int r = posix_spawn(&c->pid, g_self, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(p[1]);
    if (r != 0) {
        close(p[0]);
        return -1;
    }
    c->out = fdopen(p[0], "r");
    if (!c->out)
        return -1;
    setvbuf(c->out, NULL, _IONBF, 0); /* unbuffered: poll() on its descriptor sees every line not read yet */
    return 0;
}

/* Reads one line of c's stdout within timeout_ms; 0 on success. */
static int read_line(child *c, char *buf, size_t cap, int timeout_ms)
{
    struct pollfd pf = { fileno(c->out), POLLIN, 0 };
    if (poll(&pf, 1, timeout_ms) <= 0)
        return -1;
    return fgets(buf, (int)cap, c->out) ? 0 : -1;
}

static void end_child(child *c)
{
    if (c->pid > 0) {
        kill(c->pid, SIGKILL);
        waitpid(c->pid, NULL, 0);
    }
    if (c->out)
        fclose(c->out);
    c->pid = 0;
    c->out = NULL;
}

static long rss_kib(void)
{
    long pages = 0, rss = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
            rss = 0;
        fclose(f);
    }
    return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint32_t connected(wipc_handle srv)
{
    wipc_info info;
    memset(&info, 0, sizeof info);
    info.struct_size = sizeof info;
    return wipc_get_info(srv, &info) == WIPC_OK ? info.connected : 0;
}

/* A progress line: the servers' live connections and requests received so far. */
static void status(wipc_handle *srv, int nsrv, double t_attack, int finished, int nproc)
{
    uint32_t live = 0;
    for (int i = 0; i < nsrv; i++)
        live += connected(srv[i]);
    printf("  %5.1f s: %u connections live, %d of %d attacker processes done sending, RSS %ld MiB\n",
           (now_us() - t_attack) / 1e6, live, finished, nproc, rss_kib() / 1024);
    fflush(stdout);
}

static int measure(const char *label, int attackers, const char *name, int requests, int timeout_ms, wipc_handle *srv,
                   int nsrv, double t_attack)
{
    char rq[16], to[16], line[256];
    snprintf(rq, sizeof rq, "%d", requests);
    snprintf(to, sizeof to, "%d", timeout_ms);
    const char *args[] = { "client", name, rq, to, NULL };
    uint32_t conns = 0;
    for (int i = 0; i < nsrv; i++)
        conns += connected(srv[i]);
    child c = { 0, NULL };
    if (spawn(&c, args) != 0) {
        fprintf(stderr, "wipc_noread: cannot start the client\n");
        return 1;
    }
    double t0 = now_us();
    int wait_ms = 15000 + (requests + 50) * 50 + 3 * timeout_ms;
    int r = read_line(&c, line, sizeof line, wait_ms);
    end_child(&c);
    int ok = 0, failed = 0;
    double p50 = 0, p99 = 0, max = 0;
    char first[64] = "-";
    if (r != 0 || sscanf(line, "RESULT %d %d %lf %lf %lf %63s", &ok, &failed, &p50, &p99, &max, first) != 6) {
        printf("%s: the client gave no result within %d ms\n", label, wait_ms);
        return 1;
    }
    double since = t_attack > 0 ? (t0 - t_attack) / 1e6 : 0;
    printf("%-34s %5d ok %3d failed  p50 %9.1f us  p99 %9.1f us  max %10.1f us  (first failure %s; %u connections "
           "live before, server RSS %ld MiB, %.1f s after the attack began)\n",
           label, ok, failed, p50, p99, max, first, conns, rss_kib() / 1024, since);
    printf("{\"case\":\"noread\",\"never_reading\":%d,\"ok\":%d,\"failed\":%d,\"p50_us\":%.1f,\"p99_us\":%.1f,"
           "\"max_us\":%.1f,\"live_connections\":%u,\"t_s\":%.1f}\n",
           attackers, ok, failed, p50, p99, max, conns, since);
    fflush(stdout);
    return failed != 0;
}

static int arg_int(int argc, char **argv, const char *opt, int def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], opt))
            return atoi(argv[i + 1]);
    return def;
}

int main(int argc, char **argv)
{
    ssize_t sn = readlink("/proc/self/exe", g_self, sizeof g_self - 1);
    if (sn <= 0)
        return 2;
    g_self[sn] = 0;
    signal(SIGPIPE, SIG_IGN);
    if (argc >= 2 && (!strcmp(argv[1], "attack") || !strcmp(argv[1], "client")))
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a child process never outlives the measuring one */
    if (argc >= 6 && !strcmp(argv[1], "attack"))
        return cmd_attack(argv[2], atoi(argv[3]), atol(argv[4]), (size_t)atol(argv[5]));
    if (argc >= 5 && !strcmp(argv[1], "client"))
        return cmd_client(argv[2], atoi(argv[3]), atoi(argv[4]));
    for (int i = 1; i < argc; i += 2)
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 == argc) {
            fprintf(stderr, "usage: see the comment at the top of bench/noread.c\n");
            return 64;
        }
    int nsrv = arg_int(argc, argv, "--servers", 4), attackers = arg_int(argc, argv, "--attackers", 1000);
    int per = arg_int(argc, argv, "--per-process", 50), count = arg_int(argc, argv, "--count", 100);
    int size = arg_int(argc, argv, "--size", 4096), requests = arg_int(argc, argv, "--requests", 1000);
    int timeout_ms = arg_int(argc, argv, "--timeout-ms", 5000), settle_ms = arg_int(argc, argv, "--settle-ms", 3000);
    int rounds = arg_int(argc, argv, "--rounds", 1), interval_ms = arg_int(argc, argv, "--interval-ms", 10000);
    if (nsrv < 1 || nsrv > 64 || attackers < 0 || per < 1 || requests < 1 || size < 0 || count < 0 ||
        (attackers + nsrv - 1) / nsrv > 250) {
        fprintf(stderr, "wipc_noread: bad arguments (at most 250 never-reading clients per server)\n");
        return 64;
    }

    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < (rlim_t)attackers + 256) {
        fprintf(stderr, "wipc_noread: RLIMIT_NOFILE is %lu: too low for %d connections\n", (unsigned long)rl.rlim_cur,
                attackers);
        return 2;
    }
    printf(
        "wipc %s, %d pipe servers with echo callbacks in one process; %d never-reading clients (%d per process, "
        "each sends %d requests of %d bytes and never reads); the client: %d x 64-byte wipc_request, timeout %d ms\n",
        wipc_version_string(), nsrv, attackers, per, count, size, requests, timeout_ms);
    fflush(stdout);

    char names[64][96];
    wipc_handle srv[64];
    for (int i = 0; i < nsrv; i++) {
        snprintf(names[i], sizeof names[i], "wnr-%u-%d", (unsigned)getpid(), i);
        wipc_pipe_options o;
        (wipc_pipe_options_init)(&o); /* the 1.0 entry point: runs against a 1.0 library too */
        o.max_instances = 255;
        if (wipc_pipe_listen(names[i], &o, &srv[i]) != WIPC_OK ||
            wipc_set_callbacks(srv[i], on_message, NULL, NULL) != WIPC_OK) {
            fprintf(stderr, "wipc_noread: listen: %s\n", wipc_last_error_message());
            return 2;
        }
    }
    int rc = measure("0 never-reading clients:", 0, names[0], requests, timeout_ms, srv, nsrv, 0);

    int nproc = 0;
    child *kids = calloc((size_t)(attackers / per + nsrv + 1), sizeof *kids);
    char cnt[16], sz[16], line[256];
    snprintf(cnt, sizeof cnt, "%d", count);
    snprintf(sz, sizeof sz, "%d", size);
    double t_attack = now_us();
    for (int s = 0; s < nsrv; s++) {
        int mine = attackers / nsrv + (s < attackers % nsrv);
        for (int done = 0; done < mine; done += per) {
            char k[16];
            snprintf(k, sizeof k, "%d", mine - done < per ? mine - done : per);
            const char *args[] = { "attack", names[s], k, cnt, sz, NULL };
            if (spawn(&kids[nproc], args) != 0) {
                fprintf(stderr, "wipc_noread: cannot start an attacker\n");
                rc = 2;
                goto out;
            }
            nproc++;
        }
    }
    int ready = 0, sent_lines = 0, ended = 0;
    long sent = 0;
    for (int i = 0; i < nproc; i++) {
        int n = 0;
        if (read_line(&kids[i], line, sizeof line, 60000) == 0 && sscanf(line, "READY %d", &n) == 1)
            ready += n;
    }
    /* the requests go out and their replies pile up: wait until every attacker has sent all it could
     * (a progress line every 2 s) */
    double until = now_us() + settle_ms * 1e3 + 30e6, tick = now_us() + 2e6;
    int *reported = calloc((size_t)nproc, sizeof *reported);
    struct pollfd *pf = calloc((size_t)nproc, sizeof *pf);
    while (sent_lines < nproc && now_us() < until) {
        int n = 0;
        for (int i = 0; i < nproc; i++)
            if (!reported[i])
                pf[n++] = (struct pollfd){ fileno(kids[i].out), POLLIN, 0 };
        poll(pf, (nfds_t)n, 500);
        for (int k = 0; k < n; k++) {
            long s = 0;
            int e = 0, i = 0;
            while (fileno(kids[i].out) != pf[k].fd)
                i++;
            if (!(pf[k].revents & (POLLIN | POLLHUP)))
                continue;
            reported[i] = 1;
            if (fgets(line, sizeof line, kids[i].out) && sscanf(line, "SENT %ld %d", &s, &e) == 2) {
                sent_lines++;
                sent += s;
                ended += e;
            }
        }
        if (now_us() > tick) {
            tick += 2e6;
            status(srv, nsrv, t_attack, sent_lines, nproc);
        }
    }
    free(pf);
    free(reported);
    sleep_ms(settle_ms);
    uint32_t live = 0;
    for (int i = 0; i < nsrv; i++)
        live += connected(srv[i]);
    printf("never-reading clients: %d connected (%d processes), %d finished sending (%ld requests sent, %d connections "
           "ended by the server meanwhile), %u server connections live, server RSS %ld MiB, %.1f s after the attack "
           "began\n",
           ready, nproc, sent_lines, sent, ended, live, rss_kib() / 1024, (now_us() - t_attack) / 1e6);
    fflush(stdout);
    for (int r = 0; r < rounds; r++) {
        if (r)
            sleep_ms(interval_ms);
        char label[64];
        snprintf(label, sizeof label, "%d never-reading clients:", attackers);
        rc |= measure(label, attackers, names[0], requests, timeout_ms, srv, nsrv, t_attack);
    }
out:
    for (int i = 0; i < nproc; i++)
        end_child(&kids[i]);
    free(kids);
    for (int i = 0; i < nsrv; i++)
        wipc_close(srv[i]);
    wipc_shutdown();
    return rc;
}
