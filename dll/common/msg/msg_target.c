/*
 * msg_target.c - raw msg sends: wipc_msg_send to a window found by class and/or title, or
 * (POSIX) to a seqpacket socket by path, with no wipc header. The target forms are documented in
 * wipc.h (WIPC_MSG_TARGET_*): "class:C", "title:T", "class:C;title:T", "path:P". This file parses
 * them and hands the parts to the backend (wipc__plat_msg_send_raw); the receiver's answer comes back
 * uninterpreted and its low 32 bits are the reply.
 */
#include <stdio.h>
#include <string.h>
#include "common/msg/msg.h"

#define CLASS_TAG  WIPC_MSG_TARGET_CLASS
#define TITLE_TAG  WIPC_MSG_TARGET_TITLE
#define PATH_TAG   WIPC_MSG_TARGET_PATH
#define TAG_LEN(t) (sizeof(t) - 1)

static int starts_with(const char *s, const char *tag)
{
    return strncmp(s, tag, strlen(tag)) == 0;
}

int wipc__msg_is_target(const char *dest)
{
    return starts_with(dest, CLASS_TAG) || starts_with(dest, TITLE_TAG) || starts_with(dest, PATH_TAG);
}

/* Copies s[0..n) into out (cap bytes, '\0'-terminated); WIPC_E_INVALID_ARG if empty or too long. */
static wipc_status take_part(const char *fn, const char *dest, const char *what, const char *s, size_t n, char *out,
                             size_t cap)
{
    if (n == 0 || n >= cap)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): the %s must be 1..%zu bytes, not %zu", fn, dest, what,
                           cap - 1, n);
    memcpy(out, s, n);
    out[n] = '\0';
    return WIPC_OK;
}

/* Parses a raw target into *t (wipc.h: class:C / title:T / class:C;title:T / path:P). */
static wipc_status parse_target(const char *fn, const char *dest, wipc__msg_target *t)
{
    memset(t, 0, sizeof *t);
    t->text = dest;
    if (starts_with(dest, PATH_TAG)) {
        const char *p = dest + TAG_LEN(PATH_TAG);
        return take_part(fn, dest, "socket path", p, strlen(p), t->path, sizeof t->path);
    }
    const char *title = NULL;
    if (starts_with(dest, CLASS_TAG)) {
        const char *c = dest + TAG_LEN(CLASS_TAG);
        const char *semi = strchr(c, ';');
        wipc_status st =
            take_part(fn, dest, "window class", c, semi ? (size_t)(semi - c) : strlen(c), t->cls, sizeof t->cls);
        if (st != WIPC_OK || !semi)
            return st;
        if (!starts_with(semi + 1, TITLE_TAG))
            return wipc__error(WIPC_E_INVALID_ARG, 0, "%s(%s): after \"class:CLASS;\" only \"title:TITLE\" may follow",
                               fn, dest);
        title = semi + 1 + TAG_LEN(TITLE_TAG);
    } else if (starts_with(dest, TITLE_TAG)) {
        title = dest + TAG_LEN(TITLE_TAG);
    } else {
        return wipc__error(WIPC_E_INVALID_ARG, 0,
                           "%s(%s): not a wipc name ([A-Za-z0-9._-], 1..%d chars) nor a raw target "
                           "(class:CLASS, title:TITLE, class:CLASS;title:TITLE, path:SOCKET)",
                           fn, dest, WIPC_NAME_MAX);
    }
    return take_part(fn, dest, "window title", title, strlen(title), t->title, sizeof t->title);
}

wipc_status wipc__msg_check_dest(const char *dest, const char *fn)
{
    if (dest && strchr(dest, ':')) {
        wipc__msg_target t;
        return parse_target(fn, dest, &t);
    }
    return wipc__check_name(dest, fn);
}

/* A raw send from an endpoint's own callback to that endpoint's window / socket could only wait for
 * itself. Catches the spelling a portable caller uses (class:wipc-msg-NAME, nothing else). */
static int to_self(const wipc__msg_target *t)
{
    static const char cls_prefix[] = "wipc-msg-";
    const char *self = wipc__msg_current_endpoint();
    return self && !t->title[0] && strncmp(t->cls, cls_prefix, sizeof cls_prefix - 1) == 0 &&
           strcmp(t->cls + sizeof cls_prefix - 1, self) == 0;
}

/* wipc_msg_send's raw form: arguments other than `dest` are checked by the caller. */
wipc_status wipc__msg_send_raw(const char *fn, const char *dest, uint32_t type, const void *data, size_t size,
                               int32_t timeout_ms, int32_t *out_reply)
{
    wipc__msg_target t;
    wipc_status st = parse_target(fn, dest, &t);
    if (st != WIPC_OK)
        return st;
    if (to_self(&t))
        return wipc__error(WIPC_E_BUSY, 0,
                           "%s(%s): called from that endpoint's own on_message callback; it cannot take "
                           "another message until this one returns",
                           fn, dest);
    uint64_t word = 0;
    if ((st = wipc__plat_msg_send_raw(&t, type, data, size, timeout_ms, &word)) != WIPC_OK)
        return st;
    if (out_reply)
        *out_reply = (int32_t)(uint32_t)word;
    return WIPC_OK;
}
