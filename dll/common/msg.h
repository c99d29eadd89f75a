/*
 * msg.h - what the portable files of the msg transport share: msg.c (endpoint object, receiving,
 * wipc_msg_listen) and msg_send.c (wipc_msg_send / _broadcast / _list). Not exported.
 */
#ifndef WIPC_COMMON_MSG_H
#define WIPC_COMMON_MSG_H

#include "core.h"
#include "platform_msg.h"
#include "msg_wire.h"

/** The name of the msg endpoint whose on_message runs on the calling thread right now (inline, on
 *  that endpoint's receiver thread), or NULL. A send from there to the same name could only wait for
 *  itself: wipc_msg_send refuses it with WIPC_E_BUSY. */
const char *wipc__msg_current_endpoint(void);

#endif /* WIPC_COMMON_MSG_H */
