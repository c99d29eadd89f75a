/*
 * memfd.h - sealed shared memory for the POSIX backend (docs/RELIABILITY.md, Hardening: a peer must not be able to shrink
 * a mapping wipc reads, or the next access is a SIGBUS).
 *
 * A section wipc shares with a peer is a memfd created with MFD_ALLOW_SEALING, sized, then sealed
 * with F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL: from then on nobody - not the creator, not a
 * same-user process holding the fd - can change its size, so every page of a mapping of it stays
 * valid. The peer reaches it through the creator's descriptor table, /proc/<pid>/fd/<n>, found by the
 * memfd's name ("/memfd:<name> (deleted)"); the kernel allows that only to processes that may
 * ptrace-read the creator (the same user, a dumpable process). The opener accepts the file only if it
 * is a regular file of the expected owner, at least the expected size and sealed against shrinking.
 */
#ifndef WIPC_LINUX_MEMFD_H
#define WIPC_LINUX_MEMFD_H

#include <stdint.h>
#include "wipc.h"

#define WIPC__LINUX_MEMFD_PREFIX "wipc-" /* memfd names: wipc-<what>, at most 249 bytes */

/** Creates a sealed memfd named `name` of `size` bytes, its pages reserved (posix_fallocate: a full
 *  tmpfs fails here, never later with SIGBUS). Returns the fd (O_CLOEXEC) or -1 with the last error
 *  set (WIPC_E_NO_MEMORY for ENOSPC/ENOMEM, else WIPC_E_SYSTEM). */
int wipc__linux_memfd_create(const char *name, uint64_t size, const char *what);

/** Opens the memfd named `name` held by process `pid`, read-write, into *out_fd. It must belong to
 *  `uid`, hold at least `min_size` bytes and carry F_SEAL_SHRINK. Returns WIPC_OK, or (last error
 *  set) WIPC_E_NOT_FOUND (no such memfd in that process, or the process is gone),
 *  WIPC_E_ACCESS_DENIED (the kernel refused /proc/<pid>/fd, or another owner), WIPC_E_PROTOCOL (not
 *  sealed, too small, not a regular file). */
wipc_status wipc__linux_memfd_open(uint32_t pid, const char *name, uint32_t uid, uint64_t min_size, const char *what,
                                   int *out_fd);

/** 1 if this process's memfds can be opened by a peer through /proc/<pid>/fd (procfs is there and
 *  the process is dumpable), else 0. */
int wipc__linux_memfd_shareable(void);

#endif
