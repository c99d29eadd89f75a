/*
 * shm_linux.h - what the POSIX shm backend (shm.c) tells the rest of dll/linux: how a channel's name
 * in /dev/shm is laid out since 1.1 (a 16-byte locator record naming the creator, whose sealed memfd
 * holds the channel; see shm.c).
 */
#ifndef WIPC_LINUX_SHM_H
#define WIPC_LINUX_SHM_H

#include <stddef.h>
#include <stdint.h>

/** 1 if b[0..n) (a private copy of a channel name's object, read once) is a channel locator whose
 *  creator is alive; *creator_pid = its pid. 0 for anything else (a region, a dead creator's locator,
 *  a 1.0 channel section, garbage). */
int wipc__linux_channel_locator(const void *b, size_t n, uint32_t *creator_pid);

#endif
