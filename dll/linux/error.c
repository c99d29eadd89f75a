/*
 * error.c - errno: its text (strerror_r) and the wipc_status it maps to.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "platform.h"

int64_t wipc__os_error(void)
{
    return errno;
}

void wipc__os_error_text(int64_t code, char *buf, size_t cap)
{
    char tmp[256];
    /* _GNU_SOURCE strerror_r returns a pointer that may or may not be tmp */
    const char *s = strerror_r((int)code, tmp, sizeof tmp);
    snprintf(buf, cap, "%s", s);
}

wipc_status wipc__os_error_status(int64_t code)
{
    switch (code) {
    case ENOENT:
    case ECONNREFUSED:
        return WIPC_E_NOT_FOUND;
    case EACCES:
    case EPERM:
        return WIPC_E_ACCESS_DENIED;
    case EADDRINUSE:
    case EEXIST:
        return WIPC_E_ADDR_IN_USE;
    case ENOMEM:
    case ENOSPC:
        return WIPC_E_NO_MEMORY;
    case ETIMEDOUT:
        return WIPC_E_TIMEOUT;
    case EPIPE:
    case ECONNRESET:
    case ENOTCONN:
        return WIPC_E_DISCONNECTED;
    case EAGAIN:
        return WIPC_E_BUSY;
    case ENAMETOOLONG:
    case EINVAL:
        return WIPC_E_INVALID_ARG;
    default:
        return WIPC_E_SYSTEM;
    }
}
