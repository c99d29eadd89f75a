/*
 * options.c - validation shared by every entry point: option structs read by struct_size (the Win32
 * cbSize idiom; the rules are at the top of include/wipc.h), endpoint names and output pointers.
 */
#include "common/core/core.h"

void wipc__options_init_size(void *o, const void *defaults, size_t known, uint32_t struct_size)
{
    if (!o || struct_size < 2 * sizeof(uint32_t))
        return;
    size_t n = struct_size < known ? struct_size : known;
    memcpy(o, defaults, n);
    if (struct_size > known)
        memset((uint8_t *)o + known, 0, struct_size - known); /* a newer caller's fields: 0, as read_options wants */
    memcpy(o, &struct_size, sizeof struct_size);
}

wipc_status wipc__read_options(void *dst, size_t dst_size, const void *src, const char *what)
{
    if (!src)
        return WIPC_OK; /* NULL = defaults, already in dst */
    uint32_t size;
    memcpy(&size, src, sizeof size);
    if (size < sizeof(uint32_t) * 2)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s.struct_size is %u; call %s_init() first (expected %u)", what,
                           (unsigned)size, what, (unsigned)dst_size);
    if (size > dst_size) {
        const uint8_t *tail = (const uint8_t *)src + dst_size;
        for (size_t i = 0; i < size - dst_size; i++)
            if (tail[i] != 0)
                return wipc__error(
                    WIPC_E_INVALID_ARG, 0,
                    "%s.struct_size is %u but this library knows %u bytes, and byte %u of the unknown tail is not zero",
                    what, (unsigned)size, (unsigned)dst_size, (unsigned)(dst_size + i));
        size = (uint32_t)dst_size;
    }
    memcpy((uint8_t *)dst + sizeof(uint32_t), (const uint8_t *)src + sizeof(uint32_t), size - sizeof(uint32_t));
    return WIPC_OK;
}

wipc_status wipc__check_name(const char *name, const char *what)
{
    if (!name)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: name is NULL", what);
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++, n++) {
        unsigned char c = *p;
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                  c == '-';
        if (!ok)
            return wipc__error(
                WIPC_E_INVALID_ARG, 0,
                "%s: name \"%.64s\" has character 0x%02x at offset %u; names are 1-%d characters of [A-Za-z0-9._-]",
                what, name, c, (unsigned)n, WIPC_NAME_MAX);
        if (n >= WIPC_NAME_MAX)
            return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: name \"%.32s...\" is longer than %d characters", what, name,
                               WIPC_NAME_MAX);
    }
    if (n == 0)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: name is empty; names are 1-%d characters of [A-Za-z0-9._-]",
                           what, WIPC_NAME_MAX);
    return WIPC_OK;
}

wipc_status wipc__check_out(const void *p, const char *what)
{
    return p ? WIPC_OK : wipc__error(WIPC_E_INVALID_ARG, 0, "%s is NULL", what);
}
