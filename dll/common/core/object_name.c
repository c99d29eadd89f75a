/*
 * object_name.c - wipc names or full object names for sections, regions and events (object_name.h).
 */
#include <string.h>
#include "common/core/core.h"
#include "common/core/object_name.h"

#if defined(_WIN32)
/* The length of the namespace prefix ("Local\" / "Global\", any case) `name` starts with, or 0. */
static size_t prefix_len(const char *name)
{
    static const char *const prefixes[] = { "local\\", "global\\" };
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t n = strlen(prefixes[i]), k = 0;
        for (; k < n; k++) {
            char c = name[k];
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            if (c != prefixes[i][k])
                break;
        }
        if (k == n)
            return n;
    }
    return 0;
}
#  define SEPARATOR '\\'
#else
static size_t prefix_len(const char *name)
{
    return name[0] == '/' ? 1 : 0;
}
#  define SEPARATOR '/'
#endif

bool wipc__is_full_name(const char *name)
{
    return name && prefix_len(name) > 0;
}

wipc_status wipc__check_object_name(const char *name, const char *fn)
{
    if (!wipc__is_full_name(name))
        return wipc__check_name(name, fn);
    size_t len = strlen(name), pre = prefix_len(name);
    const char *rest = name + pre;
    if (len > WIPC__FULL_NAME_MAX)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: the full object name \"%.32s...\" is %zu bytes, at most %d", fn,
                           name, len, WIPC__FULL_NAME_MAX);
    if (!rest[0] || strcmp(rest, ".") == 0 || strcmp(rest, "..") == 0)
        return wipc__error(WIPC_E_INVALID_ARG, 0, "%s: the full object name \"%s\" names nothing after its prefix", fn,
                           name);
    for (const unsigned char *p = (const unsigned char *)rest; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == SEPARATOR)
            return wipc__error(WIPC_E_INVALID_ARG, 0,
                               "%s: the full object name \"%.64s\" has character 0x%02x at offset %u "
                               "(no '%c' or control characters after the prefix)",
                               fn, name, *p, (unsigned)((const char *)p - name), SEPARATOR);
    return WIPC_OK;
}
