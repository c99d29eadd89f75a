/*
 * test_security.c - proofs of the safe defaults: the tests read back what the OS
 * has, rather than trusting the library's word.
 *
 * POSIX: the runtime directory is 0700 and ours; sockets, lock files and shm objects are 0600 and
 *        ours (even with umask 0); a runtime directory that is a symlink, someone else's, open to
 *        others or not a directory is refused; a second listener gets WIPC_E_ADDR_IN_USE; a peer of
 *        another uid is refused by SO_PEERCRED on both sides (needs root: the other side runs as
 *        uid 65534 through setpriv, as a small python3 program); shm objects of another uid are
 *        refused and never reclaimed.
 * Windows: the DACL of a created pipe, section and its events, and a named event (1.1), read with GetSecurityInfo and
 *        printed as SDDL: owner-only by default (the user + SYSTEM, protected), the caller's SDDL
 *        when given, Everyone with WIPC_PIPE_ANY_USER; a second listener gets WIPC_E_ADDR_IN_USE.
 *        Under Wine the SDDL read back is reported as is (what Wine supports is part of the result).
 */
#include "testlib.h"

#include <stdatomic.h>

#include "test_fault_lib.h"

#ifdef _WIN32
#  include <aclapi.h>
#  include <sddl.h>
#else
#  include <dirent.h>
#  include <errno.h>
#  include <fcntl.h>
#  include <sys/mman.h>
#  include <sys/stat.h>
#  include <sys/types.h>
#  include <sys/wait.h>
#endif

static int teardown_peers(void **state)
{
    (void)state;
    wt_kill_all_peers();
    return 0;
}

/* ---- second listener on a served name (both platforms) --------------------------------------------- */

static void test_security_second_listener(void **state)
{
    (void)state;
    char name[160];
    wt_unique_name(name, sizeof name, "s-squat");
    wipc_handle a = 0, b = 0;
    int tried = 0;

    WT_OK(wipc_pipe_listen(name, NULL, &a));
    WT_ASSERT_FAILS(wipc_pipe_listen(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    tried++;
    WT_OK(wipc_close(a));
    WT_OK(wipc_shm_create(name, NULL, &a));
    WT_ASSERT_FAILS(wipc_shm_create(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    tried++;
    WT_OK(wipc_close(a));
    WT_OK(wipc_region_create(name, 4096, NULL, &a));
    WT_ASSERT_FAILS(wipc_region_create(name, 4096, NULL, &b), WIPC_E_ADDR_IN_USE);
    tried++;
    WT_OK(wipc_close(a));

    /* another process serves the name */
    const char *pa[] = { "pipe-squat", name, NULL };
    wt_proc *p = wt_spawn_ready(pa);
    WT_ASSERT_FAILS(wipc_pipe_listen(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    tried++;
    wt_proc_free(p);
    WT_OK(wipc_pipe_listen(name, NULL, &b)); /* reclaim the killed server's socket file, then remove it */
    WT_OK(wipc_close(b));
    const char *sa[] = { "shm-create-hold", name, NULL };
    p = wt_spawn_ready(sa);
    WT_ASSERT_FAILS(wipc_shm_create(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    tried++;
    wt_proc_free(p);
    /* the killed creator's section outlives it (POSIX): take the name over so it is removed */
    WT_OK(wipc_shm_create(name, NULL, &b));
    WT_OK(wipc_close(b));

    /* msg: in this process and in another */
    WT_OK(wipc_msg_listen(name, NULL, &a));
    WT_ASSERT_FAILS(wipc_msg_listen(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    tried++;
    WT_OK(wipc_close(a));
    const char *ma[] = { "msg-hold", name, NULL };
    p = wt_spawn_ready(ma);
    WT_ASSERT_FAILS(wipc_msg_listen(name, NULL, &b), WIPC_E_ADDR_IN_USE);
    tried++;
    wt_proc_free(p);
    WT_OK(wipc_msg_listen(name, NULL, &b)); /* reclaim the killed endpoint's name, then remove it */
    WT_OK(wipc_close(b));
    rel_report("pipe,shm,msg", "security", "second listener on a served name (same and other process) gets ADDR_IN_USE",
               "pass", "inputs=%d", tried);
}

#ifndef _WIN32
/* ==== POSIX ============================================================================================ */

/* Puts $XDG_RUNTIME_DIR back as it was (saved: a strdup of the old value, freed here; NULL: unset). */
static void restore_runtime_dir(char *saved)
{
    if (saved) {
        setenv("XDG_RUNTIME_DIR", saved, 1);
        free(saved);
    } else {
        unsetenv("XDG_RUNTIME_DIR");
    }
}

static void expect_mode(const char *path, mode_t type, unsigned mode)
{
    struct stat st;
    WT_CHECK(lstat(path, &st) == 0, "lstat(%s): %s", path, strerror(errno));
    WT_CHECK((st.st_mode & S_IFMT) == type, "%s has type 0%o, expected 0%o", path, (unsigned)(st.st_mode & S_IFMT),
             (unsigned)type);
    WT_CHECK((st.st_mode & 07777) == mode, "%s has mode %04o, expected %04o", path, (unsigned)(st.st_mode & 07777),
             mode);
    WT_CHECK(st.st_uid == geteuid(), "%s belongs to uid %u, not %u", path, (unsigned)st.st_uid, (unsigned)geteuid());
}

static void test_security_posix_modes(void **state)
{
    (void)state;
    char name[160], path[512];
    wt_unique_name(name, sizeof name, "s-modes");
    mode_t old = umask(0); /* the modes must not depend on the caller's umask */
    wipc_handle srv = 0, ch = 0, reg = 0, ep = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    WT_OK(wipc_shm_create(name, NULL, &ch));
    WT_OK(wipc_region_create(name, 4096, NULL, &reg));
    wipc_status mst = wipc_msg_listen(name, NULL, &ep);
    umask(old);
    int checked = 0;
    expect_mode(wt_run_dir(), S_IFDIR, 0700), checked++;
    snprintf(path, sizeof path, "%s/p.%s", wt_run_dir(), name);
    expect_mode(path, S_IFSOCK, 0600), checked++;
    snprintf(path, sizeof path, "%s/p.%s.lock", wt_run_dir(), name);
    expect_mode(path, S_IFREG, 0600), checked++;
    snprintf(path, sizeof path, "/dev/shm/wipc-%u-%s", (unsigned)geteuid(), name);
    expect_mode(path, S_IFREG, 0600), checked++;
    snprintf(path, sizeof path, "/dev/shm/wipc-%u-r-%s", (unsigned)geteuid(), name);
    expect_mode(path, S_IFREG, 0600), checked++;
    if (mst == WIPC_OK) {
        /* the msg endpoint's socket and lock file live in the same directory */
        DIR *d = opendir(wt_run_dir());
        assert_non_null(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, "p.", 2) == 0 || e->d_name[0] == '.' || !strstr(e->d_name, name))
                continue;
            snprintf(path, sizeof path, "%s/%s", wt_run_dir(), e->d_name);
            struct stat st;
            if (lstat(path, &st) == 0) {
                WT_CHECK((st.st_mode & 0777) == 0600 && st.st_uid == geteuid(), "%s: mode %04o uid %u", path,
                         (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
                checked++;
            }
        }
        closedir(d);
        WT_OK(wipc_close(ep));
    }
    WT_OK(wipc_close(srv));
    WT_OK(wipc_close(ch));
    WT_OK(wipc_close(reg));
    rel_report("pipe,shm,msg", "security",
               "runtime dir 0700, sockets / lock files / shm objects 0600 and ours (umask 0)", "pass", "inputs=%d",
               checked);
}

/* A private scratch directory XDG_RUNTIME_DIR can point at. */
static void make_scratch(char *dir, size_t cap)
{
    snprintf(dir, cap, "/tmp/wipc-sec-%u-XXXXXX", (unsigned)getpid());
    WT_CHECK(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void rm_rf(const char *path)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
    int rc = system(cmd);
    (void)rc;
}

/* Each endpoint kind that lives in the runtime directory must refuse it. */
static int expect_rundir_refused(const char *why)
{
    char name[160];
    wt_unique_name(name, sizeof name, "s-rundir");
    wipc_handle h = 0;
    WT_ASSERT_FAILS(wipc_pipe_listen(name, NULL, &h), WIPC_E_ACCESS_DENIED);
    const char *m = wipc_last_error_message();
    WT_CHECK(strstr(m, "refused") || strstr(m, "must be"), "%s: listen's message: %s", why, m);
    WT_ASSERT_FAILS(wipc_pipe_connect(name, NULL, 0, &h), WIPC_E_ACCESS_DENIED);
    wipc_status st = wipc_msg_listen(name, NULL, &h);
    WT_CHECK(st == WIPC_E_ACCESS_DENIED, "%s: wipc_msg_listen gave %s", why, wipc_status_name(st));
    int32_t reply = 0;
    st = wipc_msg_send(name, 1, "x", 1, 0, &reply);
    WT_CHECK(st == WIPC_E_ACCESS_DENIED, "%s: wipc_msg_send gave %s", why, wipc_status_name(st));
    return 4;
}

static void test_security_rundir_refusals(void **state)
{
    (void)state;
    char dir[256], wipc[300], other[300];
    char *saved = getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
    make_scratch(dir, sizeof dir);
    snprintf(wipc, sizeof wipc, "%s/wipc", dir);
    snprintf(other, sizeof other, "%s/elsewhere", dir);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    int tried = 0, cases = 0;

    /* 1. a symlink to a perfectly good 0700 directory of ours */
    WT_CHECK(mkdir(other, 0700) == 0 && symlink(other, wipc) == 0, "set up the symlink");
    tried += expect_rundir_refused("symlink"), cases++;
    unlink(wipc);
    /* 2. open to group/others */
    WT_CHECK(mkdir(wipc, 0700) == 0 && chmod(wipc, 0755) == 0, "set up 0755");
    tried += expect_rundir_refused("mode 0755"), cases++;
    chmod(wipc, 0701);
    tried += expect_rundir_refused("mode 0701"), cases++;
    rmdir(wipc);
    /* 3. not a directory */
    int fd = open(wipc, O_CREAT | O_WRONLY, 0600);
    WT_CHECK(fd >= 0, "create a file");
    close(fd);
    tried += expect_rundir_refused("a regular file"), cases++;
    unlink(wipc);
    /* 4. someone else's (needs root to hand it over) */
    if (geteuid() == 0) {
        WT_CHECK(mkdir(wipc, 0700) == 0 && chown(wipc, 65534, 65534) == 0, "chown to 65534");
        tried += expect_rundir_refused("owned by uid 65534"), cases++;
        rmdir(wipc);
    }
    /* and a good one is created 0700 and used */
    wipc_handle srv = 0;
    char name[160];
    wt_unique_name(name, sizeof name, "s-goodrun");
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    expect_mode(wipc, S_IFDIR, 0700);
    WT_OK(wipc_close(srv));

    restore_runtime_dir(saved);
    rm_rf(dir);
    rel_report("pipe,msg", "security", "runtime dir refused: symlink, mode 0755/0701, not a directory, other owner",
               "pass", "inputs=%d,cases=%d", tried, cases);
}

/* ---- another uid (root only) -------------------------------------------------------------------- */

/* A python3 program run as uid 65534 (setpriv). Client mode: connect to argv[1], send a wipc HELLO
 * frame, print HELLO if a HELLO frame comes back, EOF if the server hung up. Server mode (argv[2] =
 * "serve"): bind argv[1], print READY, answer one client with a HELLO frame. */
static const char probe_py[] =
    "import socket,struct,sys\n"
    "p=sys.argv[1]\n"
    "h=struct.pack('<IBBHIIQ',0x43504957,1,4,24,0,16,0)+struct.pack('<IIII',1,4242,65536,0)\n"
    "if len(sys.argv)>2 and sys.argv[2]=='msg':\n"
    "  s=socket.socket(socket.AF_UNIX,socket.SOCK_SEQPACKET)\n"
    "  try:\n"
    "    s.connect(p)\n"
    "  except OSError as e:\n"
    "    print('ERR',e.errno,flush=True);sys.exit(0)\n"
    "  s.settimeout(5);s.send(struct.pack('<II',1,0)+struct.pack('<IBBHII',0x47534d57,1,16,0,4242,0)+b'hi')\n"
    "  d=s.recv(8)\n"
    "  if len(d)<8: print('EOF',flush=True);sys.exit(0)\n"
    "  w=struct.unpack('<Q',d)[0]\n"
    "  print('STATUS',-((w>>32)&0xffff) if (w>>48)==0x574d else 'FOREIGN',flush=True);sys.exit(0)\n"
    "if len(sys.argv)>2:\n"
    "  s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM);s.bind(p);s.listen(1)\n"
    "  print('READY',flush=True)\n"
    "  c,_=s.accept();c.sendall(h)\n"
    "  try:\n"
    "    c.settimeout(10);c.recv(100)\n"
    "  except Exception: pass\n"
    "  sys.exit(0)\n"
    "s=socket.socket(socket.AF_UNIX,socket.SOCK_STREAM)\n"
    "try:\n"
    "  s.connect(p)\n"
    "except OSError as e:\n"
    "  print('ERR',e.errno,flush=True);sys.exit(0)\n"
    "s.settimeout(5)\n"
    "try:\n"
    "  s.sendall(h);d=s.recv(40)\n"
    "  print('HELLO' if len(d)>=24 and d[5]==4 else ('EOF' if not d else 'DATA'),flush=True)\n"
    "except socket.timeout:\n"
    "  print('TIMEOUT',flush=True)\n"
    "except OSError as e:\n"
    "  print('EOF' if e.errno in (104,32) else 'ERR %d'%e.errno,flush=True)\n";

static int have_setpriv_python(void)
{
    return geteuid() == 0 && access("/usr/bin/setpriv", X_OK) == 0 && access("/usr/bin/python3", X_OK) == 0;
}

/* Starts the probe as uid 65534; returns its stdout. */
static FILE *run_probe(const char *path, const char *mode, pid_t *pid)
{
    int fds[2];
    if (pipe(fds) != 0)
        return NULL;
    pid_t p = fork();
    if (p == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        const char *argv[] = { "/usr/bin/setpriv",
                               "--reuid=65534",
                               "--regid=65534",
                               "--clear-groups",
                               "/usr/bin/python3",
                               "-c",
                               probe_py,
                               path,
                               mode,
                               NULL };
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    *pid = p;
    return fdopen(fds[0], "r");
}

static void read_probe_line(FILE *f, char *buf, size_t cap)
{
    buf[0] = '\0';
    if (!fgets(buf, (int)cap, f))
        snprintf(buf, cap, "(no output)");
    buf[strcspn(buf, "\n")] = '\0';
}

static atomic_int g_refusals;
static void WIPC_CALL log_cb(int32_t level, const char *text, void *user)
{
    (void)level;
    (void)user;
    if (strstr(text, "SO_PEERCRED") && strstr(text, "refused"))
        atomic_fetch_add(&g_refusals, 1);
}

static void test_security_other_uid(void **state)
{
    (void)state;
    if (!have_setpriv_python()) {
        rel_report("pipe", "security", "peer of another uid refused (SO_PEERCRED)", "skip",
                   "reason=needs root, setpriv and python3");
        skip();
    }
    char dir[256], wipc[300], path[512], line[128];
    char *saved = getenv("XDG_RUNTIME_DIR") ? strdup(getenv("XDG_RUNTIME_DIR")) : NULL;
    make_scratch(dir, sizeof dir);
    chmod(dir, 0711);
    setenv("XDG_RUNTIME_DIR", dir, 1);
    snprintf(wipc, sizeof wipc, "%s/wipc", dir);
    WT_OK(wipc_set_log_callback(log_cb, WIPC_LOG_WARN, NULL));
    int tried = 0;

    /* server side: a default server whose socket the other user can reach (the directory is opened
     * up after listen, as a misconfiguration would) still refuses that user */
    char name[160];
    wt_unique_name(name, sizeof name, "s-uid");
    wipc_handle srv = 0, c = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    snprintf(path, sizeof path, "%s/p.%s", wipc, name);
    chmod(wipc, 0711);
    chmod(path, 0666);
    atomic_store(&g_refusals, 0);
    pid_t pid;
    FILE *f = run_probe(path, NULL, &pid);
    assert_non_null(f);
    read_probe_line(f, line, sizeof line);
    fclose(f);
    waitpid(pid, NULL, 0);
    WT_CHECK(strcmp(line, "EOF") == 0, "the uid-65534 client got \"%s\", expected the server to hang up (EOF)", line);
    WT_ASSERT_STATUS(wipc_pipe_accept(srv, 500, &c), WIPC_E_TIMEOUT);
    WT_CHECK(atomic_load(&g_refusals) >= 1, "no SO_PEERCRED refusal was logged");
    tried++;
    WT_OK(wipc_close(srv));

    /* control: WIPC_PIPE_ANY_USER lets the same client in, and its uid is reported */
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.flags = WIPC_PIPE_ANY_USER;
    chmod(wipc, 0700);
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    chmod(wipc, 0711);
    f = run_probe(path, NULL, &pid);
    assert_non_null(f);
    read_probe_line(f, line, sizeof line);
    WT_CHECK(strcmp(line, "HELLO") == 0, "with WIPC_PIPE_ANY_USER the client got \"%s\"", line);
    WT_OK(wipc_pipe_accept(srv, 5000, &c));
    assert_int_equal(wt_info(c).peer_uid, 65534);
    fclose(f);
    waitpid(pid, NULL, 0);
    WT_OK(wipc_close(c));
    WT_OK(wipc_close(srv));

    /* msg: an endpoint whose socket the other user can reach answers it WIPC_E_ACCESS_DENIED */
    wipc_handle ep = 0;
    wt_unique_name(name, sizeof name, "s-uidmsg");
    chmod(wipc, 0700);
    if (wipc_msg_listen(name, NULL, &ep) == WIPC_OK) {
        snprintf(path, sizeof path, "%s/m.%s", wipc, name);
        chmod(wipc, 0711);
        chmod(path, 0666);
        atomic_store(&g_refusals, 0);
        f = run_probe(path, "msg", &pid);
        assert_non_null(f);
        read_probe_line(f, line, sizeof line);
        fclose(f);
        waitpid(pid, NULL, 0);
        WT_CHECK(strcmp(line, "STATUS -7") == 0,
                 "the uid-65534 msg sender got \"%s\", expected STATUS -7 (ACCESS_DENIED)", line);
        WT_CHECK(atomic_load(&g_refusals) >= 1, "no SO_PEERCRED refusal was logged for msg");
        char buf[16];
        size_t n = 0;
        WT_ASSERT_STATUS(wipc_recv(ep, buf, sizeof buf, &n, NULL, 0), WIPC_E_TIMEOUT); /* nothing was delivered */
        WT_OK(wipc_close(ep));
        tried++;
    }
    chmod(wipc, 0700);

    /* client side: a server of another uid planted under our name (a symlink in our runtime directory
     * to its socket) is refused by the client's SO_PEERCRED check */
    char odir[256], osock[300], link[512];
    make_scratch(odir, sizeof odir);
    WT_CHECK(chown(odir, 65534, 65534) == 0 && chmod(odir, 0755) == 0, "prepare the other user's dir");
    snprintf(osock, sizeof osock, "%s/s.sock", odir);
    f = run_probe(osock, "serve", &pid);
    assert_non_null(f);
    read_probe_line(f, line, sizeof line);
    WT_CHECK(strcmp(line, "READY") == 0, "the uid-65534 server said \"%s\"", line);
    wt_unique_name(name, sizeof name, "s-spoof");
    snprintf(link, sizeof link, "%s/p.%s", wipc, name);
    WT_CHECK(symlink(osock, link) == 0, "symlink %s", link);
    WT_ASSERT_FAILS(wipc_pipe_connect(name, NULL, 2000, &c), WIPC_E_ACCESS_DENIED);
    WT_CHECK(strstr(wipc_last_error_message(), "65534") != NULL, "message: %s", wipc_last_error_message());
    tried++;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    fclose(f);
    unlink(link);
    rm_rf(odir);

    WT_OK(wipc_set_log_callback(NULL, WIPC_LOG_WARN, NULL));
    restore_runtime_dir(saved);
    rm_rf(dir);
    rel_report("pipe,msg", "security",
               "peer of another uid refused by SO_PEERCRED (pipe server and client side, msg receiver)", "pass",
               "inputs=%d", tried);
}

static void test_security_shm_other_owner(void **state)
{
    (void)state;
    if (geteuid() != 0) {
        rel_report("shm", "security", "shm object of another uid refused, never reclaimed", "skip",
                   "reason=needs root");
        skip();
    }
    char name[160], obj[256];
    wt_unique_name(name, sizeof name, "s-shmown");
    snprintf(obj, sizeof obj, "/wipc-%u-%s", (unsigned)geteuid(), name);
    int fd = shm_open(obj, O_CREAT | O_EXCL | O_RDWR, 0600);
    WT_CHECK(fd >= 0, "shm_open(%s): %s", obj, strerror(errno));
    WT_CHECK(ftruncate(fd, 4096 + 2 * 4096) == 0 && fchown(fd, 65534, 65534) == 0, "size and chown");
    close(fd);
    wipc_handle h = 0;
    WT_ASSERT_FAILS(wipc_shm_open(name, NULL, 200, &h), WIPC_E_ACCESS_DENIED);
    WT_ASSERT_FAILS(wipc_shm_create(name, NULL, &h), WIPC_E_ADDR_IN_USE); /* not "reclaimed" */
    struct stat st;
    char dev[300];
    snprintf(dev, sizeof dev, "/dev/shm%s", obj);
    WT_CHECK(stat(dev, &st) == 0 && st.st_uid == 65534, "the other user's object is untouched");
    shm_unlink(obj);
    /* the same for a region name */
    snprintf(obj, sizeof obj, "/wipc-%u-r-%s", (unsigned)geteuid(), name);
    fd = shm_open(obj, O_CREAT | O_EXCL | O_RDWR, 0600);
    WT_CHECK(fd >= 0 && ftruncate(fd, 4096) == 0 && fchown(fd, 65534, 65534) == 0, "region object");
    close(fd);
    WT_ASSERT_FAILS(wipc_region_open(name, 0, &h), WIPC_E_ACCESS_DENIED);
    shm_unlink(obj);
    rel_report("shm", "security", "shm object of another uid refused, never reclaimed", "pass", "inputs=3");
}

#else
/* ==== Windows ========================================================================================== */

static void to_utf8(const wchar_t *w, char *out, size_t cap)
{
    WideCharToMultiByte(CP_UTF8, 0, w, -1, out, (int)cap, NULL, NULL);
}

static void user_sid(char *out, size_t cap)
{
    out[0] = '\0';
    HANDLE tok = NULL;
    if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok))
        return;
    DWORD need = 0;
    GetTokenInformation(tok, TokenUser, NULL, 0, &need);
    TOKEN_USER *tu = (TOKEN_USER *)malloc(need ? need : 1);
    wchar_t *s = NULL;
    if (tu && GetTokenInformation(tok, TokenUser, tu, need, &need) && ConvertSidToStringSidW(tu->User.Sid, &s)) {
        to_utf8(s, out, cap);
        LocalFree(s);
    }
    free(tu);
    CloseHandle(tok);
}

/* The SDDL (owner + DACL) of a kernel object handle, or "" with *err set. */
static void sddl_of(HANDLE h, char *out, size_t cap, DWORD *err)
{
    out[0] = '\0';
    PSECURITY_DESCRIPTOR sd = NULL;
    DWORD e = GetSecurityInfo(h, SE_KERNEL_OBJECT, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, NULL, NULL,
                              NULL, NULL, &sd);
    *err = e;
    if (e != ERROR_SUCCESS)
        return;
    wchar_t *str = NULL;
    if (ConvertSecurityDescriptorToStringSecurityDescriptorW(
            sd, SDDL_REVISION_1, OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &str, NULL)) {
        to_utf8(str, out, cap);
        LocalFree(str);
    } else {
        *err = GetLastError();
    }
    LocalFree(sd);
}

/* Owner-only: every ACE of the DACL is for SYSTEM or for the user; the DACL is protected. */
static int owner_only(const char *sddl, const char *sid, char *why, size_t cap)
{
    const char *d = strstr(sddl, "D:");
    if (!d) {
        snprintf(why, cap, "no DACL in \"%s\"", sddl);
        return 0;
    }
    int aces = 0;
    for (const char *p = strchr(d, '('); p; p = strchr(p + 1, '(')) {
        const char *end = strchr(p, ')');
        if (!end)
            break;
        const char *last = end;
        while (last > p && last[-1] != ';')
            last--;
        size_t n = (size_t)(end - last);
        int ok = (n == 2 && strncmp(last, "SY", 2) == 0) || (n == strlen(sid) && strncmp(last, sid, n) == 0);
        if (!ok) {
            snprintf(why, cap, "ACE %.*s grants a trustee other than SYSTEM and %s", (int)(end - p + 1), p, sid);
            return 0;
        }
        aces++;
    }
    if (aces == 0) {
        snprintf(why, cap, "no ACE at all in \"%s\" (a NULL DACL would grant everyone)", sddl);
        return 0;
    }
    return 1;
}

static void check_object(const char *what, HANDLE h, const char *sid, int *supported, char *report, size_t rcap)
{
    char sddl[2048], why[512];
    DWORD err = 0;
    sddl_of(h, sddl, sizeof sddl, &err);
    printf("SDDL %s: %s (GetSecurityInfo %lu)\n", what, sddl, (unsigned long)err);
    if (err != ERROR_SUCCESS || !sddl[0]) {
        snprintf(report + strlen(report), rcap - strlen(report), "%s%s=unsupported(%lu)", report[0] ? "," : "", what,
                 (unsigned long)err);
        return;
    }
    (*supported)++;
    WT_CHECK(owner_only(sddl, sid, why, sizeof why), "%s: %s", what, why);
    snprintf(report + strlen(report), rcap - strlen(report), "%s%s=%s", report[0] ? "," : "", what, sddl);
}

static HANDLE open_pipe_client(const char *name)
{
    wchar_t w[300];
    char full[300];
    snprintf(full, sizeof full, "\\\\.\\pipe\\wipc-%s", name);
    MultiByteToWideChar(CP_UTF8, 0, full, -1, w, 300);
    for (int i = 0; i < 50; i++) {
        HANDLE h = CreateFileW(w, READ_CONTROL | GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
        if (h != INVALID_HANDLE_VALUE)
            return h;
        if (GetLastError() != ERROR_PIPE_BUSY)
            return h;
        WaitNamedPipeW(w, 200);
    }
    return INVALID_HANDLE_VALUE;
}

static void test_security_windows_dacls(void **state)
{
    (void)state;
    char sid[256], report[4096] = "", name[160];
    user_sid(sid, sizeof sid);
    WT_CHECK(sid[0] != '\0', "cannot read the user's SID");
    printf("user SID %s\n", sid);
    int supported = 0, tried = 0;

    /* pipe, default: owner-only */
    wt_unique_name(name, sizeof name, "s-dacl");
    wipc_handle srv = 0, ch = 0;
    WT_OK(wipc_pipe_listen(name, NULL, &srv));
    HANDLE h = open_pipe_client(name);
    WT_CHECK(h != INVALID_HANDLE_VALUE, "open the pipe for READ_CONTROL: %lu", (unsigned long)GetLastError());
    check_object("pipe", h, sid, &supported, report, sizeof report);
    tried++;
    CloseHandle(h);
    WT_OK(wipc_close(srv));

    /* pipe with the caller's SDDL: read back */
    wipc_pipe_options o;
    wipc_pipe_options_init(&o);
    o.security_descriptor = "D:P(A;;GA;;;WD)";
    wt_unique_name(name, sizeof name, "s-sddl");
    WT_OK(wipc_pipe_listen(name, &o, &srv));
    h = open_pipe_client(name);
    WT_CHECK(h != INVALID_HANDLE_VALUE, "open the SDDL pipe: %lu", (unsigned long)GetLastError());
    char sddl[2048];
    DWORD err = 0;
    sddl_of(h, sddl, sizeof sddl, &err);
    printf("SDDL pipe with caller SDDL: %s (%lu)\n", sddl, (unsigned long)err);
    if (err == ERROR_SUCCESS && sddl[0]) {
        WT_CHECK(strstr(sddl, ";;;WD)") != NULL, "the caller's SDDL (Everyone) is not in \"%s\"", sddl);
        snprintf(report + strlen(report), sizeof report - strlen(report), ",pipe_sddl=%s", sddl);
    }
    tried++;
    CloseHandle(h);
    WT_OK(wipc_close(srv));

    /* section and its events */
    wt_unique_name(name, sizeof name, "s-sec");
    WT_OK(wipc_shm_create(name, NULL, &ch));
    wchar_t w[300];
    char full[300];
    snprintf(full, sizeof full, "Local\\wipc-%s", name);
    MultiByteToWideChar(CP_UTF8, 0, full, -1, w, 300);
    h = OpenFileMappingW(READ_CONTROL | FILE_MAP_READ, FALSE, w);
    WT_CHECK(h != NULL, "OpenFileMappingW(%s): %lu", full, (unsigned long)GetLastError());
    check_object("section", h, sid, &supported, report, sizeof report);
    tried++;
    CloseHandle(h);
    snprintf(full, sizeof full, "Local\\wipc-%s#0", name);
    MultiByteToWideChar(CP_UTF8, 0, full, -1, w, 300);
    h = OpenEventW(READ_CONTROL | SYNCHRONIZE, FALSE, w);
    if (h) {
        check_object("event", h, sid, &supported, report, sizeof report);
        tried++;
        CloseHandle(h);
    } else {
        printf("OpenEventW(%s): %lu\n", full, (unsigned long)GetLastError());
    }
    WT_OK(wipc_close(ch));

    /* named events (1.1): owner-only by default, the caller's SDDL when given */
    wipc_handle ev = 0;
    wt_unique_name(name, sizeof name, "s-nev");
    WT_OK(wipc_event_create(name, 0, NULL, &ev));
    snprintf(full, sizeof full, "Local\\wipc-event-%s", name);
    MultiByteToWideChar(CP_UTF8, 0, full, -1, w, 300);
    h = OpenEventW(READ_CONTROL | SYNCHRONIZE, FALSE, w);
    WT_CHECK(h != NULL, "OpenEventW(%s): %lu", full, (unsigned long)GetLastError());
    check_object("named_event", h, sid, &supported, report, sizeof report);
    tried++;
    CloseHandle(h);
    WT_OK(wipc_event_close(ev));
    snprintf(full, sizeof full, "Local\\wt-%s-sddl", name); /* a full name, with the caller's SDDL */
    WT_OK(wipc_event_create(full, 0, "D:P(A;;GA;;;WD)", &ev));
    MultiByteToWideChar(CP_UTF8, 0, full, -1, w, 300);
    h = OpenEventW(READ_CONTROL | SYNCHRONIZE, FALSE, w);
    WT_CHECK(h != NULL, "OpenEventW(%s): %lu", full, (unsigned long)GetLastError());
    sddl_of(h, sddl, sizeof sddl, &err);
    printf("SDDL named event with caller SDDL: %s (%lu)\n", sddl, (unsigned long)err);
    if (err == ERROR_SUCCESS && sddl[0]) {
        WT_CHECK(strstr(sddl, ";;;WD)") != NULL, "the caller's SDDL (Everyone) is not in \"%s\"", sddl);
        snprintf(report + strlen(report), sizeof report - strlen(report), ",named_event_sddl=%s", sddl);
    }
    tried++;
    CloseHandle(h);
    WT_OK(wipc_event_close(ev));
    wipc_handle bad = 0;
    WT_ASSERT_FAILS(wipc_event_create(name, 0, "not SDDL", &bad), WIPC_E_INVALID_ARG);
    rel_report("pipe,shm", "security", "DACL read back: owner-only by default, the caller's SDDL when given",
               supported ? "pass" : "skip", "inputs=%d,%s", tried, report);
}
#endif

int main(void)
{
    wt_use_peer("rel_peer"); /* the peer program, next to this one */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_security_second_listener, teardown_peers),
#ifndef _WIN32
        cmocka_unit_test_teardown(test_security_posix_modes, teardown_peers),
        cmocka_unit_test_teardown(test_security_rundir_refusals, teardown_peers),
        cmocka_unit_test_teardown(test_security_other_uid, teardown_peers),
        cmocka_unit_test_teardown(test_security_shm_other_owner, teardown_peers),
#else
        cmocka_unit_test_teardown(test_security_windows_dacls, teardown_peers),
#endif
    };
    wt_apply_test_filter();
    int failed = cmocka_run_group_tests_name("security", tests, NULL, NULL);
    wipc_shutdown();
    return failed;
}
