/*
 * rundir.h - the per-user private runtime directory where POSIX endpoints live:
 * $XDG_RUNTIME_DIR/wipc/ or else /tmp/wipc-<uid>/, mode 0700, refused if it is a symlink, not a
 * directory, not owned by the user, or open to group/others.
 */
#ifndef WIPC_LINUX_RUNDIR_H
#define WIPC_LINUX_RUNDIR_H
#include <stddef.h>
#include "wipc.h"

/* Writes the directory path (no trailing slash) into buf, creating it if needed. Sets the last error. */
wipc_status wipc__linux_rundir(char *buf, size_t cap, const char *fn);
/* Builds <rundir>/<prefix><name><suffix>, using a hash of the name when the path would not fit a
 * sockaddr_un (108 bytes). */
wipc_status wipc__linux_rundir_path(char *buf, size_t cap, const char *prefix, const char *name, const char *suffix,
                                    const char *fn);
#endif
