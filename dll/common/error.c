/*
 * error.c - status names and texts, and the per-thread last error (message + OS code).
 */
#include <stdarg.h>
#include <stdio.h>
#include "core.h"

typedef struct status_row {
    wipc_status code;
    const char *name;
    const char *text;
} status_row;

static const status_row status_table[] = {
    { WIPC_OK,                 "WIPC_OK",                 "success" },
    { WIPC_E_INVALID_ARG,      "WIPC_E_INVALID_ARG",      "invalid argument: a NULL pointer, bad name, bad flags or a size out of range" },
    { WIPC_E_BAD_HANDLE,       "WIPC_E_BAD_HANDLE",       "unknown, closed, stale or wrong-kind handle" },
    { WIPC_E_NO_MEMORY,        "WIPC_E_NO_MEMORY",        "out of memory" },
    { WIPC_E_TIMEOUT,          "WIPC_E_TIMEOUT",          "the wait ran out" },
    { WIPC_E_NOT_FOUND,        "WIPC_E_NOT_FOUND",        "no endpoint of that name" },
    { WIPC_E_ADDR_IN_USE,      "WIPC_E_ADDR_IN_USE",      "that name is already served" },
    { WIPC_E_ACCESS_DENIED,    "WIPC_E_ACCESS_DENIED",    "access denied by the OS or the peer-credential check" },
    { WIPC_E_DISCONNECTED,     "WIPC_E_DISCONNECTED",     "the peer closed or died" },
    { WIPC_E_TOO_LARGE,        "WIPC_E_TOO_LARGE",        "message larger than max_message_size or the ring capacity" },
    { WIPC_E_BUFFER_TOO_SMALL, "WIPC_E_BUFFER_TOO_SMALL", "buffer too small: *out_size holds the size needed" },
    { WIPC_E_CLOSED,           "WIPC_E_CLOSED",           "the handle was closed while the call waited" },
    { WIPC_E_PROTOCOL,         "WIPC_E_PROTOCOL",         "protocol error: malformed frame, version mismatch or corrupt shared header" },
    { WIPC_E_NOT_SUPPORTED,    "WIPC_E_NOT_SUPPORTED",    "not supported for this handle kind or platform" },
    { WIPC_E_BUSY,             "WIPC_E_BUSY",             "busy: every instance in use, or the channel already has a peer" },
    { WIPC_E_SYSTEM,           "WIPC_E_SYSTEM",           "operating-system error: see wipc_last_os_error()" },
    { WIPC_E_INVALID_STATE,    "WIPC_E_INVALID_STATE",    "the call is not valid in the handle's current state" },
    { WIPC_E_CANCELLED,        "WIPC_E_CANCELLED",        "the operation was cancelled" },
    { WIPC_E_REMOTE,           "WIPC_E_REMOTE",           "the peer answered the request with an error" },
};

static const status_row *find_status(wipc_status s)
{
    for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
        if (status_table[i].code == s)
            return &status_table[i];
    return NULL;
}

WIPC_API const char *WIPC_CALL wipc_status_name(wipc_status s)
{
    const status_row *r = find_status(s);
    return r ? r->name : "WIPC_E_UNKNOWN";
}

WIPC_API const char *WIPC_CALL wipc_strerror(wipc_status s)
{
    const status_row *r = find_status(s);
    return r ? r->text : "unknown status code";
}

/* ---- per-thread last error ---- */

static _Thread_local char    tls_message[1024];
static _Thread_local int64_t tls_os_error;
static _Thread_local int32_t tls_remote_code;

wipc_status wipc__error_remote(int32_t code, const char *text, size_t len)
{
    tls_remote_code = code;
    tls_os_error = 0;
    /* exactly "remote error <code>: <message>" (the remote-error text of include/wipc.h), cut to the 1023 bytes the message holds */
    snprintf(tls_message, sizeof tls_message, "remote error %d: %.*s", (int)code, (int)len, text ? text : "");
    return WIPC_E_REMOTE;
}

WIPC_API int32_t WIPC_CALL wipc_last_remote_code(void)
{
    return tls_remote_code;
}

wipc_status wipc__error(wipc_status status, int64_t os_err, const char *fmt, ...)
{
    char text[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    tls_os_error = os_err;
    if (os_err != 0) {
        char os_text[256];
        wipc__os_error_text(os_err, os_text, sizeof os_text);
        snprintf(tls_message, sizeof tls_message, "%s: %s (OS error %lld: %s)", wipc_status_name(status), text,
                 (long long)os_err, os_text);
    } else {
        snprintf(tls_message, sizeof tls_message, "%s: %s", wipc_status_name(status), text);
    }
    /* Not logged: errors are raised with object locks held, and the log callback runs synchronously on
     * the logging thread. The caller reads the message with wipc_last_error_message(). */
    return status;
}

WIPC_API const char *WIPC_CALL wipc_last_error_message(void)
{
    return tls_message;
}

WIPC_API int64_t WIPC_CALL wipc_last_os_error(void)
{
    return tls_os_error;
}
