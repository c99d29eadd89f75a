/*
 * platform_event.h - the backend contract of named events (wipc_event_*, ABI 1.1; dll/common/core/event.c
 * holds the handle object and the argument checks, dll/win32/event.c and dll/linux/event.c the
 * objects). Nothing here is exported; every failing call sets the last error (wipc__error) naming the
 * call, the object name and the OS error.
 *
 * Names (already validated with wipc__check_object_name): a wipc name <name> is
 *   Windows  the event "Local\wipc-event-<name>"
 *   POSIX    the shm object "/wipc-<uid>-ev-<name>"
 * and a full name ("Local\..." / "Global\..." on Windows, "/..." on POSIX) is used as given.
 *
 * Windows: a kernel event (CreateEventW with the owner-only DACL or the caller's SDDL, must not exist
 * yet; OpenEventW(EVENT_MODIFY_STATE | SYNCHRONIZE)); waits are WaitForMultipleObjects on the event
 * and a private cancel event set by wipc__plat_event_cancel.
 * POSIX: a 64-byte shm object (layout WIPC__EVENT_* below, little-endian, mode 0600, O_EXCL) holding a
 * futex word: 0 = not set, 1 = set; set = exchange 1 + FUTEX_WAKE (all waiters), reset = store 0,
 * an auto-reset wait consumes a set with compare-exchange 1 -> 0. The object is untrusted: its size
 * (fstat, once) and header (pread, once) are checked at open, the word is read once per check, and a
 * word that is neither 0 nor 1 is WIPC_E_PROTOCOL.
 */
#ifndef WIPC_PLATFORM_EVENT_H
#define WIPC_PLATFORM_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include "wipc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* POSIX event object layout (docs/PROTOCOL.md gives it for foreign implementations). */
#define WIPC__EVENT_MAGIC     0x54564557u /* "WEVT" at offset 0 */
#define WIPC__EVENT_VERSION   1u /* offset 4 */
#define WIPC__EVENT_OFF_FLAGS 8 /* uint32: bit 0 = manual reset */
#define WIPC__EVENT_OFF_WORD  12 /* uint32 futex word: 0 not set, 1 set */
#define WIPC__EVENT_OFF_CREATOR                                                                                        \
  16 /* uint32 pid, uint32 start key of the creator (0 = a foreign creator: never reclaimed) */
#define WIPC__EVENT_SIZE   64 /* the object's exact size */
#define WIPC__EVENT_MANUAL 0x1u

typedef struct wipc__event wipc__event; /* an opened event: HANDLE / mapped word; backend-owned */

/** Creates the named event (must not exist: WIPC_E_ADDR_IN_USE; POSIX: a wipc event object whose
 *  creator died is reclaimed first). `sddl`: Windows only (NULL = owner-only DACL); POSIX: NULL.
 *  Returns WIPC_OK, WIPC_E_ADDR_IN_USE, WIPC_E_ACCESS_DENIED, WIPC_E_INVALID_ARG (bad SDDL),
 *  WIPC_E_NO_MEMORY, WIPC_E_SYSTEM. */
wipc_status wipc__plat_event_create(const char *name, bool manual_reset, bool initial_set, const char *sddl,
                                    wipc__event **out);

/** Opens an existing event. Returns WIPC_OK, WIPC_E_NOT_FOUND, WIPC_E_ACCESS_DENIED, WIPC_E_PROTOCOL
 *  (the name holds something that is not an event: wrong object type / size / header),
 *  WIPC_E_NO_MEMORY, WIPC_E_SYSTEM. *manual_reset = the event's mode if known (POSIX), else false. */
wipc_status wipc__plat_event_open(const char *name, wipc__event **out, bool *manual_reset);

/** SetEvent / exchange 1 + FUTEX_WAKE. Returns WIPC_OK, WIPC_E_PROTOCOL (POSIX: corrupt word), WIPC_E_SYSTEM. */
wipc_status wipc__plat_event_set(wipc__event *e);
/** ResetEvent / store 0. Returns WIPC_OK, WIPC_E_PROTOCOL (POSIX: corrupt word), WIPC_E_SYSTEM. */
wipc_status wipc__plat_event_reset(wipc__event *e);

/** Waits up to `timeout_ms` (WIPC_INFINITE, 0 = poll) for the event to be set (an auto-reset event is
 *  consumed). Returns WIPC_OK, WIPC_E_TIMEOUT, WIPC_E_CLOSED (wipc__plat_event_cancel was called),
 *  WIPC_E_PROTOCOL (POSIX: the word is neither 0 nor 1), WIPC_E_SYSTEM. Several threads may wait. */
wipc_status wipc__plat_event_wait(wipc__event *e, int32_t timeout_ms);

/** wipc_close: every wait on `e`, now and later, returns WIPC_E_CLOSED; POSIX: the creator removes the
 *  name if it still names its object (a caller-given name likewise, and only by its creator). Any
 *  thread; `e` stays valid until wipc__plat_event_free. */
void wipc__plat_event_cancel(wipc__event *e);

/** Frees `e` (closes the handles / unmaps) when no thread uses it any more. NULL is ignored. */
void wipc__plat_event_free(wipc__event *e);

#ifdef __cplusplus
}
#endif

#endif /* WIPC_PLATFORM_EVENT_H */
