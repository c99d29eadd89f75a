/*
 * object_name.h - names of named kernel objects (shm sections and regions, named events): a wipc name
 * (1-128 characters of [A-Za-z0-9._-], turned into wipc's own object names by the backend) or a full
 * object name of the platform, used as given so that wipc can meet objects other programs made,
 * the way pipes accept a full \\.\pipe\ path:
 *   Windows  "Local\<rest>" or "Global\<rest>" (prefix case-insensitive), <rest> 1 or more characters,
 *            no '\', no control characters;
 *   POSIX    "/<rest>": a shm_open name, <rest> 1 or more characters, no '/', not "." or "..", no
 *            control characters.
 * A full name is at most WIPC__FULL_NAME_MAX bytes (UTF-8) in all.
 */
#ifndef WIPC_OBJECT_NAME_H
#define WIPC_OBJECT_NAME_H

#include <stdbool.h>
#include "wipc.h"
#include "platform_wire.h" /* WIPC__FULL_NAME_MAX, wipc__is_full_name */

/** Validates a wipc name or a full object name (see above). Sets the last error naming `fn`. */
wipc_status wipc__check_object_name(const char *name, const char *fn);

#endif
