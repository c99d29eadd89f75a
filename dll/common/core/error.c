/*
 * error.c - status names and texts (the table from status_list.h), and the per-thread last error
 * (message + OS code).
 */
#include <stdarg.h>
#include <stdio.h>
#include "common/core/core.h"
#include "common/core/status_list.h"

typedef struct status_row {
    wipc_status code;
    const char *name;
    const char *text;
} status_row;

#define STATUS_ROW(name, text) { name, #name, text },
static const status_row status_table[] = { WIPC__STATUS_LIST(STATUS_ROW) };
#undef STATUS_ROW

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

static _Thread_local char tls_message[1024];
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
