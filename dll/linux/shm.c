/*
 * shm.c - the POSIX backend of the shm transport (dll/platform_shm.h).
 *
 * Channels: the section is a sealed memfd (linux/memfd.h: F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)
 * named wipc-ch-<name>, created by the channel's creator and kept open in its descriptor table; the
 * name "/wipc-<uid>-<name>" in /dev/shm (mode 0600, owned by the caller) only says where it is: a
 * 16-byte record, read with pread, never mapped - magic "WSHP", version 1, the creator's pid and
 * start key. An opener follows it to /proc/<pid>/fd and maps the memfd only if it is sealed against
 * shrinking. So no process - not even one of the same user holding the object - can shrink a channel
 * under its peers (docs/RELIABILITY.md, Hardening, attack 3: ftruncate of the 1.0 named section killed both peers with
 * SIGBUS); a name object truncated or scribbled on is just a name that leads nowhere. The name is
 * reclaimed by the next creator when the process it names is dead (or, for a 1.0 section left
 * behind, when its creator and opener are both dead).
 * Regions: shm_open objects "/wipc-<uid>-r-<name>", mapped directly (a region is the caller's raw
 * memory: wipc itself never reads it).
 * Pages are reserved with posix_fallocate (a full /dev/shm fails at create with WIPC_E_NO_MEMORY
 * instead of a SIGBUS later); futex(FUTEX_WAIT / FUTEX_WAKE) on the wake words (shared futexes: no
 * FUTEX_PRIVATE_FLAG, the words live in a MAP_SHARED mapping); process liveness from /proc/<pid>/stat
 * (state and field 22, the start time in clock ticks since boot).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <stdbool.h>
#include "platform.h"
#include "platform_shm.h"
#include "linux/memfd.h"
#include "linux/shm_linux.h"

#define PATH_CAP (WIPC__FULL_NAME_MAX + 48) /* a shm_open name: wipc-made or a full name */

struct wipc__section {
    void *base;
    uint64_t size;
    int memfd; /* channel creator: the sealed memfd, open while the channel lives; else -1 */
    dev_t dev; /* the name's object (channels: the locator record; regions: the section) */
    ino_t ino;
    bool foreign; /* the name is a full shm_open name given by the caller, not one wipc derived */
    bool created; /* this process created the name's object */
    char path[PATH_CAP]; /* shm_open name, "" for mapped files */
};

/* The shm_open name of `name`: a full name ("/...", not for stats) as given, else wipc's own. */
static void shm_path(char *buf, size_t cap, int ns, const char *name)
{
    if (ns != WIPC__SECTION_STATS && wipc__is_full_name(name)) {
        snprintf(buf, cap, "%s", name);
        return;
    }
    snprintf(buf, cap,
             ns == WIPC__SECTION_REGION  ? "/wipc-%u-r-%s"
             : ns == WIPC__SECTION_STATS ? "/wipc-%u-st-%s"
                                         : "/wipc-%u-%s",
             (unsigned)geteuid(), name);
}

static wipc_status os_fail(int err, const char *call, const char *path)
{
    wipc_status st = wipc__os_error_status(err);
    if (st == WIPC_E_INVALID_ARG || st == WIPC_E_BUSY || st == WIPC_E_TIMEOUT || st == WIPC_E_DISCONNECTED)
        st = WIPC_E_SYSTEM;
    return wipc__error(st, err, "%s(%s) failed", call, path);
}

/* shm_open(O_CREAT | O_EXCL) of a new name failed with err: WIPC_E_ADDR_IN_USE when it exists. */
static wipc_status create_failed(int err, const char *path, const char *name)
{
    if (err == EEXIST)
        return wipc__error(WIPC_E_ADDR_IN_USE, err, "shm_open(%s, O_CREAT|O_EXCL) failed: the name %s is in use", path,
                           name);
    return os_fail(err, "shm_open", path);
}

static wipc__section *section_new(const char *path)
{
    wipc__section *s = calloc(1, sizeof *s);
    if (s) {
        snprintf(s->path, sizeof s->path, "%s", path ? path : "");
        s->memfd = -1;
    }
    return s;
}

/* Maps fd (size bytes) into s. Closes nothing. */
static wipc_status map_fd(wipc__section *s, int fd, uint64_t size, bool readonly, const char *what)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return os_fail(errno, "fstat", what);
    s->dev = st.st_dev;
    s->ino = st.st_ino;
    s->size = size;
    if (size == 0)
        return WIPC_OK;
    if (size > (uint64_t)SIZE_MAX)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "mmap(%s): %llu bytes do not fit the address space", what,
                           (unsigned long long)size);
    void *p = mmap(NULL, (size_t)size, readonly ? PROT_READ : PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return os_fail(errno, "mmap", what);
    s->base = p;
    return WIPC_OK;
}

/* Reserves the pages: posix_fallocate, falling back to ftruncate where it is not supported. */
static wipc_status reserve(int fd, uint64_t size, const char *path)
{
    int rc = posix_fallocate(fd, 0, (off_t)size);
    if (rc == 0)
        return WIPC_OK;
    if (rc == ENOSPC || rc == EFBIG || rc == ENOMEM)
        return wipc__error(WIPC_E_NO_MEMORY, rc,
                           "posix_fallocate(%s, %llu bytes) failed: not enough room in /dev/shm for the section", path,
                           (unsigned long long)size);
    if (rc != EOPNOTSUPP && rc != EINVAL)
        return os_fail(rc, "posix_fallocate", path);
    if (ftruncate(fd, (off_t)size) != 0)
        return os_fail(errno, "ftruncate", path);
    return WIPC_OK;
}

/* ---- channels: a sealed memfd behind a locator record ----------------------------------------------- */

#define LOC_MAGIC   0x50485357u /* "WSHP" */
#define LOC_VERSION 1u
#define LOC_SIZE    16

/* The channel's memfd: wipc-ch-<name>, or for a full name (which may hold up to 255 bytes, more than a
 * memfd name, and '/') wipc-chx-<FNV-1a 64 of the name>-<its first 64 bytes after the '/'>. */
static void memfd_name(char *buf, size_t cap, const char *name)
{
    if (!wipc__is_full_name(name)) {
        snprintf(buf, cap, WIPC__LINUX_MEMFD_PREFIX "ch-%s", name);
        return;
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    snprintf(buf, cap, WIPC__LINUX_MEMFD_PREFIX "chx-%016llx-%.64s", (unsigned long long)h, name + 1);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
    return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static bool ident_alive(uint64_t ident)
{
    return ident && wipc__plat_proc_alive((uint32_t)ident, (uint32_t)(ident >> 32));
}

int wipc__linux_channel_locator(const void *b, size_t n, uint32_t *creator_pid)
{
    const uint8_t *p = b;
    if (n != LOC_SIZE || get32(p) != LOC_MAGIC || get32(p + 4) != LOC_VERSION)
        return 0;
    uint32_t pid = get32(p + 8);
    if (!ident_alive(pid | (uint64_t)get32(p + 12) << 32))
        return 0;
    *creator_pid = pid;
    return 1;
}

/* The object at `path` exists: is it a channel name nobody can use any more? Only this user's
 * objects; read with pread (a truncated object cannot fault). Under a full (caller-given) name only a
 * wipc locator of a dead creator counts: anything else there may be another program's object. */
static bool name_is_stale(const char *path, bool foreign, struct stat *out)
{
    int fd = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return false;
    uint8_t b[192];
    struct stat st;
    ssize_t n = fstat(fd, &st) == 0 && st.st_uid == geteuid() && S_ISREG(st.st_mode) ? pread(fd, b, sizeof b, 0) : -1;
    close(fd);
    *out = st;
    if (n < 0)
        return false;
    if (n >= LOC_SIZE && get32(b) == LOC_MAGIC) /* a locator: its creator (and so its memfd) is gone */
        return !ident_alive(get32(b + 8) | (uint64_t)get32(b + 12) << 32);
    if (foreign)
        return false;
    if (n >= 136 && get32(b) == 0x4D485357u) /* a 1.0 channel section: creator and opener dead */
        return get32(b + 24) != 0 && !ident_alive(get64(b + 64)) && !ident_alive(get64(b + 128));
    if (n == 0) /* a creator died before writing its locator */
        return time(NULL) - st.st_ctime > 10;
    return false;
}

static wipc_status channel_create(const wipc__section_cfg *cfg, const char *path, wipc__section **out)
{
    int fd = -1;
    for (int tries = 0; tries < 2 && fd < 0; tries++) {
        fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST)
            break;
        struct stat st, again;
        if (!name_is_stale(path, wipc__is_full_name(cfg->name), &st))
            break;
        int cur = shm_open(path, O_RDONLY | O_CLOEXEC, 0); /* still that very object: remove it */
        bool same = cur >= 0 && fstat(cur, &again) == 0 && again.st_ino == st.st_ino && again.st_dev == st.st_dev;
        if (cur >= 0)
            close(cur);
        if (!same)
            break;
        wipc__log(WIPC_LOG_INFO, "shm %s: reclaiming the name left by a dead creator", cfg->name);
        shm_unlink(path);
    }
    if (fd < 0)
        return create_failed(errno, path, cfg->name);
    char mname[WIPC_NAME_MAX + 16];
    memfd_name(mname, sizeof mname, cfg->name);
    bool foreign = wipc__is_full_name(cfg->name);
    wipc__section *s = section_new(path);
    wipc_status st = WIPC_OK;
    int mfd = -1;
    if (!s)
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for section %s", path);
    else if ((mfd = wipc__linux_memfd_create(mname, cfg->size, path)) < 0)
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "%s: %s", path, wipc_last_error_message());
    if (st == WIPC_OK && (st = map_fd(s, mfd, cfg->size, false, path)) == WIPC_OK) {
        struct stat ns;
        uint32_t pid, key;
        wipc__plat_proc_self(&pid, &key);
        uint8_t rec[LOC_SIZE];
        uint32_t v[4] = { LOC_MAGIC, LOC_VERSION, pid, key };
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                rec[i * 4 + j] = (uint8_t)(v[i] >> (8 * j));
        if (fstat(fd, &ns) != 0 || pwrite(fd, rec, sizeof rec, 0) != (ssize_t)sizeof rec) {
            st = os_fail(errno, "writing the locator of", path);
        } else {
            s->dev = ns.st_dev; /* the name's object: wipc__plat_section_unlink checks it */
            s->ino = ns.st_ino;
            s->memfd = mfd;
            s->foreign = foreign;
            s->created = true;
        }
    }
    close(fd);
    if (st != WIPC_OK) {
        if (mfd >= 0)
            close(mfd);
        if (s && s->base)
            munmap(s->base, (size_t)s->size);
        shm_unlink(path);
        free(s);
        return st;
    }
    *out = s;
    return WIPC_OK;
}

/* Follows the locator in the name's object (fd) to the creator's sealed memfd and maps it. A locator
 * not written yet gives an empty section (the common code waits: NOT_READY). */
static wipc_status channel_open(int fd, const char *path, const char *name, const struct stat *nst, wipc__section *s)
{
    uint8_t rec[LOC_SIZE];
    ssize_t n = pread(fd, rec, sizeof rec, 0);
    s->dev = nst->st_dev;
    s->ino = nst->st_ino;
    if (n == 0)
        return WIPC_OK; /* size 0: being created */
    if (n == (ssize_t)sizeof rec && get32(rec) == WIPC__SHM_MAGIC)
        return wipc__error(WIPC_E_PROTOCOL, 0,
                           "wipc_shm_open(%s): %s is a wipc 1.0 channel section; this library opens only "
                           "1.1 channels (a locator to a sealed memfd): both sides need wipc 1.1",
                           name, path);
    if (n != (ssize_t)sizeof rec || get32(rec) != LOC_MAGIC || get32(rec + 4) != LOC_VERSION)
        return wipc__error(WIPC_E_PROTOCOL, 0,
                           "wipc_shm_open(%s): %s exists but is not a wipc shm channel (no channel "
                           "locator in it: another program made it)",
                           name, path);
    uint32_t pid = get32(rec + 8), key = get32(rec + 12);
    if (!wipc__plat_proc_alive(pid, key))
        return wipc__error(WIPC_E_NOT_FOUND, 0, "wipc_shm_open(%s): the channel's creator (pid %u) is gone", name,
                           (unsigned)pid);
    char mname[WIPC_NAME_MAX + 16];
    memfd_name(mname, sizeof mname, name);
    int mfd = -1;
    wipc_status ms = wipc__linux_memfd_open(pid, mname, (uint32_t)geteuid(), WIPC__SHM_HEADER_SIZE, path, &mfd);
    if (ms != WIPC_OK)
        return ms; /* NOT_FOUND: the creator is closing or gone (the caller retries) */
    struct stat st;
    wipc_status rc = fstat(mfd, &st) == 0 ? WIPC_OK : os_fail(errno, "fstat", path);
    dev_t dev = s->dev;
    ino_t ino = s->ino;
    if (rc == WIPC_OK)
        rc = map_fd(s, mfd, (uint64_t)st.st_size, false, path);
    s->dev = dev; /* map_fd took the memfd's; unlink goes by the name's */
    s->ino = ino;
    close(mfd);
    return rc;
}

wipc_status wipc__plat_section_create(const wipc__section_cfg *cfg, wipc__section **out)
{
    char path[PATH_CAP];
    shm_path(path, sizeof path, cfg->ns, cfg->name);
    *out = NULL;
    if (cfg->ns == WIPC__SECTION_CHANNEL)
        return channel_create(cfg, path, out);
    int fd = shm_open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return create_failed(errno, path, cfg->name);
    wipc__section *s = section_new(path);
    wipc_status st =
        s ? reserve(fd, cfg->size, path) : wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for section %s", path);
    if (st == WIPC_OK)
        st = map_fd(s, fd, cfg->size, false, path);
    close(fd);
    if (st != WIPC_OK) {
        shm_unlink(path);
        free(s);
        return st;
    }
    s->foreign = wipc__is_full_name(cfg->name);
    s->created = true;
    *out = s;
    return WIPC_OK;
}

wipc_status wipc__plat_section_open(int ns, const char *name, uint32_t flags, bool readonly, wipc__section **out)
{
    (void)flags;
    char path[PATH_CAP];
    shm_path(path, sizeof path, ns, name);
    *out = NULL;
    bool channel = ns == WIPC__SECTION_CHANNEL;
    int fd = shm_open(path, (readonly || channel ? O_RDONLY : O_RDWR) | O_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT)
            return wipc__error(WIPC_E_NOT_FOUND, err, "shm_open(%s) failed: no %s named %s", path,
                               ns == WIPC__SECTION_REGION ? "region" : "channel", name);
        return os_fail(err, "shm_open", path);
    }
    struct stat st;
    wipc_status rc = WIPC_OK;
    if (fstat(fd, &st) != 0)
        rc = os_fail(errno, "fstat", path);
    else if (st.st_uid != geteuid())
        rc = wipc__error(WIPC_E_ACCESS_DENIED, 0, "shm_open(%s): the object belongs to uid %u, not to this user (%u)",
                         path, (unsigned)st.st_uid, (unsigned)geteuid());
    wipc__section *s = rc == WIPC_OK ? section_new(path) : NULL;
    if (rc == WIPC_OK && !s)
        rc = wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for section %s", path);
    if (s)
        s->foreign = wipc__is_full_name(name);
    if (rc == WIPC_OK)
        rc = channel ? channel_open(fd, path, name, &st, s) : map_fd(s, fd, (uint64_t)st.st_size, readonly, path);
    close(fd);
    if (rc != WIPC_OK) {
        if (s && s->base)
            munmap(s->base, (size_t)s->size);
        free(s);
        return rc;
    }
    *out = s;
    return WIPC_OK;
}

static wipc_status file_size(int fd, uint64_t want, bool readonly, const char *path, uint64_t *out)
{
    struct stat st;
    if (fstat(fd, &st) != 0)
        return os_fail(errno, "fstat", path);
    if (want == 0) {
        if (st.st_size == 0)
            return wipc__error(WIPC_E_INVALID_ARG, 0, "wipc_region_map_file(%s): the file is empty; give a size", path);
        *out = (uint64_t)st.st_size;
        return WIPC_OK;
    }
    if ((uint64_t)st.st_size < want) {
        if (readonly)
            return wipc__error(
                WIPC_E_INVALID_ARG, 0,
                "wipc_region_map_file(%s): the file has %lld bytes, fewer than %llu, and is mapped read-only", path,
                (long long)st.st_size, (unsigned long long)want);
        wipc_status rc = reserve(fd, want, path);
        if (rc != WIPC_OK)
            return rc;
    }
    *out = want;
    return WIPC_OK;
}

wipc_status wipc__plat_section_map_file(const char *path, uint64_t size, bool readonly, wipc__section **out)
{
    *out = NULL;
    /* O_EXCL first, to know whether this call created the file: a failed call removes only that */
    int fd = -1;
    if (!readonly && (fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0 && errno != EEXIST)
        return os_fail(errno, "open", path);
    bool created = fd >= 0;
    if (!created)
        fd = open(path, readonly ? O_RDONLY | O_CLOEXEC : O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return os_fail(errno, "open", path);
    uint64_t n = 0;
    wipc_status st = file_size(fd, size, readonly, path, &n);
    wipc__section *s = st == WIPC_OK ? section_new(NULL) : NULL;
    if (st == WIPC_OK && !s)
        st = wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory mapping %s", path);
    if (st == WIPC_OK)
        st = map_fd(s, fd, n, readonly, path);
    close(fd);
    if (st != WIPC_OK) {
        free(s);
        if (created)
            unlink(path);
        return st;
    }
    *out = s;
    return WIPC_OK;
}

void *wipc__plat_section_base(const wipc__section *s)
{
    return s->base;
}
uint64_t wipc__plat_section_size(const wipc__section *s)
{
    return s->size;
}

void wipc__plat_section_unlink(wipc__section *s)
{
    if (!s || !s->path[0] || (s->foreign && !s->created))
        return; /* a caller-given name is removed only by the process that created its object */
    int fd = shm_open(s->path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct stat st;
    bool same = fstat(fd, &st) == 0 && st.st_dev == s->dev && st.st_ino == s->ino;
    close(fd);
    if (same)
        shm_unlink(s->path);
}

void wipc__plat_section_close(wipc__section *s)
{
    if (!s)
        return;
    if (s->base)
        munmap(s->base, (size_t)s->size);
    if (s->memfd >= 0)
        close(s->memfd);
    free(s);
}

/* ---- wake words ---------------------------------------------------------------------------------- */

wipc_status wipc__plat_shm_wait(wipc__section *s, unsigned index, _Atomic uint32_t *word, uint32_t expected, int32_t ms)
{
    (void)s;
    (void)index;
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    long rc = syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT, expected, &ts, NULL, 0);
    return rc != 0 && errno == ETIMEDOUT ? WIPC_E_TIMEOUT : WIPC_OK;
}

void wipc__plat_shm_wake(wipc__section *s, unsigned index, _Atomic uint32_t *word)
{
    (void)s;
    (void)index;
    syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

/* ---- asymmetric fences (platform_shm.h; the argument is in shm_layout.h, "Concurrency") ---------- */

#ifndef MEMBARRIER_CMD_GLOBAL_EXPEDITED
#  define MEMBARRIER_CMD_QUERY                     0
#  define MEMBARRIER_CMD_GLOBAL_EXPEDITED          (1 << 1)
#  define MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED (1 << 2)
#endif

static _Atomic int asym_state; /* 0 not asked yet, 1 registered, 2 unavailable */

bool wipc__plat_shm_asym_init(void)
{
    int state = atomic_load_explicit(&asym_state, memory_order_acquire);
    if (state)
        return state == 1;
    bool ok = false;
#ifdef SYS_membarrier
    if (getenv("WIPC_SHM_NO_MEMBARRIER") == NULL) { /* tests: the symmetric protocol on this kernel */
        long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
        ok = cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL_EXPEDITED) &&
             (cmds & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
             syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0, 0) == 0;
    }
#endif
    atomic_store_explicit(&asym_state, ok ? 1 : 2, memory_order_release);
    return ok;
}

bool wipc__plat_shm_heavy_fence(void)
{
#ifdef SYS_membarrier
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0, 0) == 0)
        return true;
#endif
    atomic_thread_fence(memory_order_seq_cst);
    return false;
}

/* ---- liveness ------------------------------------------------------------------------------------- */

/* Reads /proc/<pid>/stat: 1 and *key if the process exists and is not a zombie, else 0. */
static int proc_stat(uint32_t pid, uint32_t *key)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%u/stat", (unsigned)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!p || p[1] != ' ')
        return 0;
    char state = p[2];
    if (state == 'Z' || state == 'X' || state == 'x')
        return 0;
    p += 2;
    for (int field = 3; field < 22; field++) { /* p is at field 3 (state); skip to field 22 */
        p = strchr(p, ' ');
        if (!p)
            return 0;
        p++;
    }
    *key = (uint32_t)strtoull(p, NULL, 10);
    return 1;
}

void wipc__plat_proc_self(uint32_t *pid, uint32_t *start_key)
{
    *pid = (uint32_t)getpid();
    *start_key = 0;
    proc_stat(*pid, start_key);
}

int wipc__plat_proc_alive(uint32_t pid, uint32_t start_key)
{
    uint32_t key = 0;
    if (pid == 0 || !proc_stat(pid, &key))
        return 0;
    return start_key == 0 || key == start_key;
}

#ifndef MADV_POPULATE_WRITE
#  define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
#define PREFAULT_MAX (64ull << 20) /* bytes of a section mapped in advance, at most */

void wipc__plat_section_prefault(wipc__section *s)
{
    if (!s->base || s->size == 0)
        return;
    size_t n = (size_t)(s->size < PREFAULT_MAX ? s->size : PREFAULT_MAX);
    (void)madvise(s->base, n, MADV_POPULATE_WRITE); /* EINVAL on older kernels: the pages fault in as used */
}
