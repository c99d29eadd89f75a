/*
 * platform_shm.h - the backend contract of the shared-memory transport (channels and regions).
 *
 * The portable half (dll/common/shm*.c, ring.c) lays out the section, runs the rings and the
 * channel object; a backend (dll/linux/shm.c, dll/win32/shm.c) only names, creates, maps and
 * reserves sections, waits and wakes on a 32-bit word inside a section, and tells whether a process
 * is alive. Nothing here is exported from the library; every failing call sets the last error
 * (wipc__error) naming the call, the object name and the OS error.
 *
 * Names (the wipc name is already validated by the caller):
 *   channel  POSIX shm_open "/wipc-<uid>-<name>"    Windows section "Local\wipc-<name>"
 *   region   POSIX shm_open "/wipc-<uid>-r-<name>"  Windows section "Local\wipc-region-<name>"
 *   stats    POSIX shm_open "/wipc-<uid>-st-<name>" Windows section "Local\wipc-stats-<name>"
 *   WIPC_SHM_GLOBAL: Windows "Global\..." (needs SeCreateGlobalPrivilege -> WIPC_E_ACCESS_DENIED
 *   without it); no effect on POSIX. POSIX objects are created 0600 and must be owned by the caller.
 *
 * Wake words: a channel section holds WIPC__SHM_WORDS 32-bit words used as "a thread of this side
 * sleeps, wake it" flags. POSIX waits with futex(FUTEX_WAIT/FUTEX_WAKE) on the word itself (shared,
 * not FUTEX_PRIVATE: the two processes map the same page). Windows creates one named auto-reset
 * event per word, "<section name>#<index>" ('#' cannot occur in a wipc name), with the owner-only
 * DACL, and waits on it; the word is checked by the caller before it waits.
 */
#ifndef WIPC_PLATFORM_SHM_H
#define WIPC_PLATFORM_SHM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "wipc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wipc__section wipc__section; /* a mapped section (fd/HANDLE + view + events): backend-owned */

#define WIPC__SECTION_CHANNEL 0 /* a channel's section, with wake words */
#define WIPC__SECTION_REGION  1 /* a plain region */
#define WIPC__SECTION_STATS   2 /* an endpoint's published counters (dll/common/core/stats.h); name "<t>-<name>" */

#define WIPC__SHM_WORDS 4 /* wake words per channel section (2 per ring) */

/** What the common code asks for when it creates a section. */
typedef struct wipc__section_cfg {
    int ns; /* WIPC__SECTION_CHANNEL / _REGION */
    const char *name; /* validated wipc name */
    uint32_t flags; /* WIPC_SHM_GLOBAL */
    uint64_t size; /* bytes, > 0 */
} wipc__section_cfg;

/** Creates the named section exclusively, reserves all its pages (posix_fallocate / SEC_COMMIT:
 *  not enough space -> WIPC_E_NO_MEMORY now, never a SIGBUS later) and maps it read-write, zeroed.
 *  Channels also get their WIPC__SHM_WORDS wake objects. Returns WIPC_OK, WIPC_E_ADDR_IN_USE (the
 *  name exists), WIPC_E_NO_MEMORY, WIPC_E_ACCESS_DENIED, WIPC_E_SYSTEM. */
wipc_status wipc__plat_section_create(const wipc__section_cfg *cfg, wipc__section **out);

/** Opens and maps an existing section (its whole size) read-write, or read-only when `readonly`
 *  (PROT_READ / FILE_MAP_READ). Channels also open the wake objects. Returns WIPC_OK,
 *  WIPC_E_NOT_FOUND, WIPC_E_ACCESS_DENIED (OS refused, or POSIX: owned by another user),
 *  WIPC_E_SYSTEM. A POSIX object of size 0 (its creator has not sized it yet) maps as size 0. */
wipc_status wipc__plat_section_open(int ns, const char *name, uint32_t flags, bool readonly, wipc__section **out);

/** Maps the file at UTF-8 `path` MAP_SHARED / CreateFileMappingW, creating it or growing it to
 *  `size` bytes (0 = its current size, which must not be 0). Returns WIPC_OK, WIPC_E_NOT_FOUND,
 *  WIPC_E_ACCESS_DENIED, WIPC_E_INVALID_ARG, WIPC_E_NO_MEMORY, WIPC_E_SYSTEM. */
wipc_status wipc__plat_section_map_file(const char *path, uint64_t size, bool readonly, wipc__section **out);

void *wipc__plat_section_base(const wipc__section *s);
uint64_t wipc__plat_section_size(const wipc__section *s);

/** POSIX: removes the section's name if it still names this very object (same device and inode),
 *  so a later create can reuse it; Windows: nothing (names vanish with the last handle). */
void wipc__plat_section_unlink(wipc__section *s);

/** Maps the first pages of a channel's section (up to 64 MiB) into this process's page tables now,
 *  writable (POSIX: madvise(MADV_POPULATE_WRITE), Linux 5.14+; older kernels and Windows: nothing),
 *  so the rings' first lap takes no page faults (each a trap, under some hypervisors a costly exit).
 *  The pages are already reserved (see create). Best effort: never fails. */
void wipc__plat_section_prefault(wipc__section *s);

/** Unmaps and closes everything; `s` is freed. NULL is ignored. */
void wipc__plat_section_close(wipc__section *s);

/** Waits while *word == expected, up to `ms` milliseconds (>= 0), for wipc__plat_shm_wake on word
 *  `index` of this section. May return early (spuriously); callers re-check. Returns WIPC_OK (woken,
 *  changed, or spurious) or WIPC_E_TIMEOUT. */
wipc_status wipc__plat_shm_wait(wipc__section *s, unsigned index, _Atomic uint32_t *word, uint32_t expected,
                                int32_t ms);

/** Wakes the thread(s) waiting on word `index` of the section (any process). */
void wipc__plat_shm_wake(wipc__section *s, unsigned index, _Atomic uint32_t *word);

/** Asymmetric fences for the wake words (shm_layout.h "Concurrency"). Registers this process
 *  so that wipc__plat_shm_heavy_fence called in another process also orders this process's memory
 *  accesses, once per process (later calls return the first answer; any thread). Returns true if the
 *  heavy fence works here: then this side's publishers may skip their per-message full fence towards
 *  a peer whose sleeps use the heavy fence (WIPC__SHM_SIDE_ASYM). POSIX: membarrier(2)
 *  MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED (Linux 4.16+); Windows: false (FlushProcessWriteBuffers
 *  reaches only the caller's own process), so both sides keep a full fence per publication. */
bool wipc__plat_shm_asym_init(void);

/** The heavy side of the asymmetric fence: returns only after every running thread of every process
 *  registered by wipc__plat_shm_asym_init has executed a full memory barrier (POSIX membarrier(2)
 *  MEMBARRIER_CMD_GLOBAL_EXPEDITED, about 1 us: inter-processor interrupts to the CPUs running such
 *  threads). Called by a sleeper between setting its wait word and re-checking the ring, and only
 *  when wipc__plat_shm_asym_init returned true. On failure it falls back to a local full fence and
 *  returns false (the caller then no longer advertises the asymmetric protocol). */
bool wipc__plat_shm_heavy_fence(void);

/** The calling process's liveness identity: pid and a 32-bit key of its start time (POSIX
 *  /proc/self/stat field 22, clock ticks since boot; Windows GetProcessTimes creation time in ms).
 *  Two processes with the same pid have different keys unless started within the same tick. */
void wipc__plat_proc_self(uint32_t *pid, uint32_t *start_key);

/** 1 if the process `pid` runs and its start key is `start_key` (start_key 0 = any), else 0
 *  (gone, a zombie, or the pid was reused by another process). */
int wipc__plat_proc_alive(uint32_t pid, uint32_t start_key);

/** A notice of a process's exit, so a shm channel need not poll its peer (an idle process
 *  never wakes up). Watches the process `pid` whose start key is `start_key` (see above) and calls
 *  on_exit(arg) once, on a library thread (POSIX: the epoll I/O thread), when it exits; on_free(arg)
 *  follows once the watch is freed after wipc__plat_proc_unwatch, and no on_exit runs after it: the caller keeps `arg` alive until then. POSIX: pidfd_open(2) (Linux
 *  5.3+), checked against start_key after it is opened (a reused pid is not watched); Windows:
 *  RegisterWaitForSingleObject on OpenProcess(SYNCHRONIZE), on_exit on a thread-pool thread. Returns NULL when it cannot watch (no pidfd support, the process is already
 *  gone or another one has its pid, no memory; on_free is then not called): the caller then checks
 *  liveness by polling, as before. */
typedef struct wipc__proc_watch wipc__proc_watch;
wipc__proc_watch *wipc__plat_proc_watch(uint32_t pid, uint32_t start_key, void (*on_exit)(void *arg),
                                        void (*on_free)(void *arg), void *arg);

/** Stops the watch (any thread, also from inside on_exit): on_free(arg) runs later, on the library
 *  thread, when no on_exit can be running any more. NULL is ignored. */
void wipc__plat_proc_unwatch(wipc__proc_watch *w);

#ifdef __cplusplus
}
#endif

#endif /* WIPC_PLATFORM_SHM_H */
