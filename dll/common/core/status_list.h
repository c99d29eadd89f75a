/*
 * status_list.h - every wipc_status, once: its name and the text wipc_strerror gives for it. error.c
 * expands it into the table behind wipc_status_name / wipc_strerror.
 *
 * The values are wipc.h's #defines (WIPC_OK, WIPC_E_*), which stay there as they are: users, the
 * SWIG bindings, scripts/abi-check and the doc comments read them as plain #define constants, which an
 * X-macro could not produce. A new status is appended to both; python-tests/test_abi.py checks that
 * this list names exactly wipc.h's statuses, in order, and that the library names each one.
 */
#ifndef WIPC_STATUS_LIST_H
#define WIPC_STATUS_LIST_H

#include "wipc.h"

/* X(name, text): name is the wipc.h constant (its value, and #name its name) */
#define WIPC__STATUS_LIST(X)                                                                                           \
  X(WIPC_OK, "success")                                                                                                \
  X(WIPC_E_INVALID_ARG, "invalid argument: a NULL pointer, bad name, bad flags or a size out of range")                \
  X(WIPC_E_BAD_HANDLE, "unknown, closed, stale or wrong-kind handle")                                                  \
  X(WIPC_E_NO_MEMORY, "out of memory")                                                                                 \
  X(WIPC_E_TIMEOUT, "the wait ran out")                                                                                \
  X(WIPC_E_NOT_FOUND, "no endpoint of that name")                                                                      \
  X(WIPC_E_ADDR_IN_USE, "that name is already served")                                                                 \
  X(WIPC_E_ACCESS_DENIED, "access denied by the OS or the peer-credential check")                                      \
  X(WIPC_E_DISCONNECTED, "the peer closed or died")                                                                    \
  X(WIPC_E_TOO_LARGE, "message larger than max_message_size or the ring capacity")                                     \
  X(WIPC_E_BUFFER_TOO_SMALL, "buffer too small: *out_size holds the size needed")                                      \
  X(WIPC_E_CLOSED, "the handle was closed while the call waited")                                                      \
  X(WIPC_E_PROTOCOL, "protocol error: malformed frame, version mismatch or corrupt shared header")                     \
  X(WIPC_E_NOT_SUPPORTED, "not supported for this handle kind or platform")                                            \
  X(WIPC_E_BUSY, "busy: every instance in use, or the channel already has a peer")                                     \
  X(WIPC_E_SYSTEM, "operating-system error: see wipc_last_os_error()")                                                 \
  X(WIPC_E_INVALID_STATE, "the call is not valid in the handle's current state")                                       \
  X(WIPC_E_CANCELLED, "the operation was cancelled")                                                                   \
  X(WIPC_E_REMOTE, "the peer answered the request with an error")

#endif /* WIPC_STATUS_LIST_H */
