/*
 * event.c - the POSIX backend of named events (dll/platform_event.h): a futex word in a 64-byte shm
 * object.
 *
 * The object "/wipc-<uid>-ev-<name>" (or the caller's full "/..." name) is created O_EXCL, mode 0600,
 * sized with ftruncate to WIPC__EVENT_SIZE and written with pwrite - magic "WEVT", version 1, flags
 * (bit 0 manual reset), the word, the creator's pid and start key - before anyone can map it (an
 * opener that finds it still empty retries for up to a second). Openers check that it belongs to
 * this user, is a regular file of exactly WIPC__EVENT_SIZE bytes (fstat, once) and holds a valid
 * header (pread into a local copy, once) before they map it; the mode (manual / auto) is taken from
 * that copy and never read again. The word is read once per check: 0 = not set, 1 = set, anything
 * else is WIPC_E_PROTOCOL (never a crash or a hang). Set = atomic exchange to 1 then FUTEX_WAKE of
 * every waiter (shared futex: no FUTEX_PRIVATE_FLAG); reset = store 0; a wait on an auto-reset event
 * takes a set with compare-exchange 1 -> 0 (of several woken waiters one wins, the others wait
 * again), a manual-reset event stays set. Waits sleep in FUTEX_WAIT slices of at most SLICE_MS, so
 * wipc_close (which also wakes the word) ends them even when its wake raced with the wait.
 * The creator removes the name when it closes (if it still names its object: device + inode); a name
 * whose wipc creator died (pid + start key in the object) is reclaimed by the next create; an object
 * with creator pid 0 (made by another program) is never removed. As for regions, another process of
 * the user could still truncate the object under its users; the library never creates one that small.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "platform.h"
#include "platform_event.h"

#define SLICE_MS     250 /* longest futex sleep between checks of the closed flag */
#define OPEN_WAIT_MS 1000 /* how long an opener waits for a creator to finish an empty object */

struct wipc__event {
    uint8_t *base; /* the mapping, WIPC__EVENT_SIZE bytes */
    _Atomic uint32_t *word;
    bool manual; /* from the header, read once */
    bool created;
    atomic_bool cancelled;
    dev_t dev;
    ino_t ino;
    char path[WIPC__FULL_NAME_MAX + 48];
};

static void event_path(char *buf, size_t cap, const char *name)
{
    if (wipc__is_full_name(name))
        snprintf(buf, cap, "%s", name);
    else
        snprintf(buf, cap, "/wipc-%u-ev-%s", (unsigned)geteuid(), name);
}

static wipc_status os_fail(int err, const char *call, const char *path)
{
    wipc_status st = wipc__os_error_status(err);
    if (st == WIPC_E_INVALID_ARG || st == WIPC_E_BUSY || st == WIPC_E_TIMEOUT || st == WIPC_E_DISCONNECTED)
        st = WIPC_E_SYSTEM;
    return wipc__error(st, err, "%s(%s) failed", call, path);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static wipc_status map_event(wipc__event *e, int fd)
{
    void *p = mmap(NULL, WIPC__EVENT_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return os_fail(errno, "mmap", e->path);
    e->base = p;
    e->word = (_Atomic uint32_t *)(e->base + WIPC__EVENT_OFF_WORD);
    return WIPC_OK;
}

/* The name holds a wipc event whose creator died: remove it (only that very object). */
static bool reclaim_stale(const char *path)
{
    int fd = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return false;
    uint8_t b[WIPC__EVENT_SIZE];
    struct stat st;
    bool stale = fstat(fd, &st) == 0 && st.st_uid == geteuid() && S_ISREG(st.st_mode) &&
                 pread(fd, b, sizeof b, 0) == (ssize_t)sizeof b && get32(b) == WIPC__EVENT_MAGIC &&
                 get32(b + WIPC__EVENT_OFF_CREATOR) != 0 &&
                 !wipc__plat_proc_alive(get32(b + WIPC__EVENT_OFF_CREATOR), get32(b + WIPC__EVENT_OFF_CREATOR + 4));
    close(fd);
    if (!stale)
        return false;
    struct stat again;
    fd = shm_open(path, O_RDONLY | O_CLOEXEC, 0);
    bool same = fd >= 0 && fstat(fd, &again) == 0 && again.st_dev == st.st_dev && again.st_ino == st.st_ino;
    if (fd >= 0)
        close(fd);
    if (same) {
        wipc__log(WIPC_LOG_INFO, "event %s: reclaiming the name left by a dead creator", path);
        shm_unlink(path);
    }
    return same;
}

wipc_status wipc__plat_event_create(const char *name, bool manual_reset, bool initial_set, const char *sddl,
                                    wipc__event **out)
{
    (void)sddl;
    *out = NULL;
    wipc__event *e = calloc(1, sizeof *e);
    if (!e)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for event %s", name);
    event_path(e->path, sizeof e->path, name);
    int fd = shm_open(e->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST && reclaim_stale(e->path))
        fd = shm_open(e->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        int err = errno;
        wipc_status st = err == EEXIST ? wipc__error(WIPC_E_ADDR_IN_USE, err,
                                                     "shm_open(%s, O_CREAT|O_EXCL) failed: the event %s "
                                                     "exists",
                                                     e->path, name)
                                       : os_fail(err, "shm_open", e->path);
        free(e);
        return st;
    }
    uint8_t hdr[WIPC__EVENT_SIZE] = { 0 };
    uint32_t pid, key;
    wipc__plat_proc_self(&pid, &key);
    put32(hdr, WIPC__EVENT_MAGIC);
    put32(hdr + 4, WIPC__EVENT_VERSION);
    put32(hdr + WIPC__EVENT_OFF_FLAGS, manual_reset ? WIPC__EVENT_MANUAL : 0);
    put32(hdr + WIPC__EVENT_OFF_WORD, initial_set ? 1 : 0);
    put32(hdr + WIPC__EVENT_OFF_CREATOR, pid);
    put32(hdr + WIPC__EVENT_OFF_CREATOR + 4, key);
    struct stat st;
    wipc_status rc = WIPC_OK;
    if (ftruncate(fd, WIPC__EVENT_SIZE) != 0 || pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr ||
        fstat(fd, &st) != 0)
        rc = os_fail(errno, "writing the event object", e->path);
    else
        rc = map_event(e, fd);
    close(fd);
    if (rc != WIPC_OK) {
        shm_unlink(e->path);
        free(e);
        return rc;
    }
    e->manual = manual_reset;
    e->created = true;
    e->dev = st.st_dev;
    e->ino = st.st_ino;
    *out = e;
    return WIPC_OK;
}

/* One look at the object: WIPC_OK with the header checked and the object mapped, 1 when it is still
 * empty (its creator between shm_open and ftruncate), or an error. */
static wipc_status open_once(wipc__event *e, const char *name, bool *manual)
{
    int fd = shm_open(e->path, O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) {
        int err = errno;
        if (err == ENOENT)
            return wipc__error(WIPC_E_NOT_FOUND, err, "shm_open(%s) failed: no event named %s", e->path, name);
        return os_fail(err, "shm_open", e->path);
    }
    struct stat st;
    uint8_t hdr[WIPC__EVENT_SIZE];
    wipc_status rc = WIPC_OK;
    if (fstat(fd, &st) != 0)
        rc = os_fail(errno, "fstat", e->path);
    else if (st.st_uid != geteuid())
        rc = wipc__error(WIPC_E_ACCESS_DENIED, 0, "shm_open(%s): the object belongs to uid %u, not to this user (%u)",
                         e->path, (unsigned)st.st_uid, (unsigned)geteuid());
    else if (st.st_size == 0 && S_ISREG(st.st_mode))
        rc = 1;
    else if (!S_ISREG(st.st_mode) || st.st_size != WIPC__EVENT_SIZE)
        rc =
            wipc__error(WIPC_E_PROTOCOL, 0, "wipc_event_open(%s): %s is %lld bytes, not a wipc event object (%d bytes)",
                        name, e->path, (long long)st.st_size, WIPC__EVENT_SIZE);
    else if (pread(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr)
        rc = os_fail(errno ? errno : EIO, "pread", e->path);
    else if (get32(hdr) == 0 && get32(hdr + 4) == 0)
        rc = 1; /* sized, header not written yet */
    else if (get32(hdr) != WIPC__EVENT_MAGIC || get32(hdr + 4) != WIPC__EVENT_VERSION ||
             (get32(hdr + WIPC__EVENT_OFF_FLAGS) & ~WIPC__EVENT_MANUAL) != 0)
        rc = wipc__error(WIPC_E_PROTOCOL, 0,
                         "wipc_event_open(%s): %s is not a wipc event object (magic 0x%08x, version %u, "
                         "flags 0x%x)",
                         name, e->path, (unsigned)get32(hdr), (unsigned)get32(hdr + 4),
                         (unsigned)get32(hdr + WIPC__EVENT_OFF_FLAGS));
    if (rc == WIPC_OK) {
        *manual = (get32(hdr + WIPC__EVENT_OFF_FLAGS) & WIPC__EVENT_MANUAL) != 0;
        e->dev = st.st_dev;
        e->ino = st.st_ino;
        rc = map_event(e, fd);
    }
    close(fd);
    return rc;
}

wipc_status wipc__plat_event_open(const char *name, wipc__event **out, bool *manual_reset)
{
    *out = NULL;
    *manual_reset = false;
    wipc__event *e = calloc(1, sizeof *e);
    if (!e)
        return wipc__error(WIPC_E_NO_MEMORY, 0, "out of memory for event %s", name);
    event_path(e->path, sizeof e->path, name);
    wipc__deadline deadline = wipc__deadline_in(OPEN_WAIT_MS);
    bool manual = false;
    wipc_status rc;
    while ((rc = open_once(e, name, &manual)) == 1 && !wipc__deadline_passed(deadline))
        wipc__sleep_ms(5);
    if (rc == 1)
        rc = wipc__error(WIPC_E_PROTOCOL, 0, "wipc_event_open(%s): %s stayed empty for %d ms: not a wipc event object",
                         name, e->path, OPEN_WAIT_MS);
    if (rc != WIPC_OK) {
        free(e);
        return rc;
    }
    e->manual = manual;
    *manual_reset = manual;
    *out = e;
    return WIPC_OK;
}

static wipc_status corrupt(wipc__event *e, uint32_t v)
{
    return wipc__error(WIPC_E_PROTOCOL, 0,
                       "event %s: its word holds %u, neither 0 (not set) nor 1 (set): the object is corrupt", e->path,
                       (unsigned)v);
}

/* Stores `to` (0 or 1) unless the word holds garbage, which is left as it is. */
static wipc_status store(wipc__event *e, uint32_t to)
{
    uint32_t v = atomic_load(e->word);
    for (;;) {
        if (v > 1)
            return corrupt(e, v);
        if (atomic_compare_exchange_weak(e->word, &v, to)) /* v is reloaded (once) on failure */
            return WIPC_OK;
    }
}

wipc_status wipc__plat_event_set(wipc__event *e)
{
    wipc_status st = store(e, 1u);
    if (st == WIPC_OK)
        syscall(SYS_futex, (uint32_t *)e->word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
    return st;
}

wipc_status wipc__plat_event_reset(wipc__event *e)
{
    return store(e, 0u);
}

wipc_status wipc__plat_event_wait(wipc__event *e, int32_t timeout_ms)
{
    wipc__deadline deadline = wipc__deadline_in(timeout_ms);
    for (;;) {
        uint32_t v = atomic_load(e->word); /* once per check */
        if (v == 1) {
            if (e->manual)
                return WIPC_OK;
            uint32_t one = 1;
            if (atomic_compare_exchange_strong(e->word, &one, 0u))
                return WIPC_OK;
            continue; /* another waiter took it, or it changed: look again */
        }
        if (v != 0)
            return corrupt(e, v);
        if (atomic_load(&e->cancelled))
            return WIPC_E_CLOSED;
        int32_t left = wipc__deadline_left(deadline);

        if (left == 0)
            return WIPC_E_TIMEOUT;
        int32_t ms = left < 0 || left > SLICE_MS ? SLICE_MS : left;
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        if (syscall(SYS_futex, (uint32_t *)e->word, FUTEX_WAIT, 0u, &ts, NULL, 0) != 0 && errno != ETIMEDOUT &&
            errno != EAGAIN && errno != EINTR)
            return os_fail(errno, "futex(FUTEX_WAIT)", e->path);
    }
}

void wipc__plat_event_cancel(wipc__event *e)
{
    if (!e)
        return;
    atomic_store(&e->cancelled, true);
    if (e->word)
        syscall(SYS_futex, (uint32_t *)e->word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0); /* waiters re-check */
    if (!e->created)
        return;
    e->created = false; /* once */
    int fd = shm_open(e->path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return;
    struct stat st;
    bool same = fstat(fd, &st) == 0 && st.st_dev == e->dev && st.st_ino == e->ino;
    close(fd);
    if (same)
        shm_unlink(e->path);
}

void wipc__plat_event_free(wipc__event *e)
{
    if (!e)
        return;
    if (e->base)
        munmap(e->base, WIPC__EVENT_SIZE);
    free(e);
}
