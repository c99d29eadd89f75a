/*
 * msg.h - what the portable files of the msg transport share: msg.c (endpoint object, receiving,
 * wipc_msg_listen) and msg_send.c (wipc_msg_send / _broadcast / _list). Not exported.
 */
#ifndef WIPC_COMMON_MSG_H
#define WIPC_COMMON_MSG_H

#include "common/core/core.h"
#include "platform_msg.h"
#include "common/msg/msg_wire.h"

/** The name of the msg endpoint whose on_message runs on the calling thread right now (inline, on
 *  that endpoint's receiver thread), or NULL. A send from there to the same name could only wait for
 *  itself: wipc_msg_send refuses it with WIPC_E_BUSY. */
const char *wipc__msg_current_endpoint(void);

/** 1 if `dest` (not NULL) is a raw send target ("class:", "title:" or "path:" ...; wipc.h) rather than
 *  a wipc name. */
int wipc__msg_is_target(const char *dest);

/** Checks a wipc_msg_send destination: a valid wipc name or a well-formed raw target. WIPC_OK or
 *  WIPC_E_INVALID_ARG with the last error set (naming `fn`). */
wipc_status wipc__msg_check_dest(const char *dest, const char *fn);

/** wipc_msg_send to a raw target (msg_target.c): parses `dest`, sends through the backend, and
 *  stores the low 32 bits of the answer in *out_reply (may be NULL). data/size/timeout_ms are checked
 *  by the caller. */
wipc_status wipc__msg_send_raw(const char *fn, const char *dest, uint32_t type, const void *data, size_t size,
                               int32_t timeout_ms, int32_t *out_reply);

#endif /* WIPC_COMMON_MSG_H */
