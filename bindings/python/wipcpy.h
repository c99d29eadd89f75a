/*
 * wipcpy.h - the C side of the Python binding, compiled into the extension wipc._native beside the
 * SWIG wrapper: callback trampolines, status -> exception, buffers handed to Python, option dicts.
 *
 * GIL rules: functions marked [GIL] are called with the GIL held (SWIG %nothread); the others run
 * inside SWIG's allow-threads block (swig -threads) and never touch a Python object.
 */
#ifndef WIPCPY_H
#define WIPCPY_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "wipc.h"

/** The Python callables of one wipc_set_callbacks(): held by a capsule ("wipc.callbacks"). */
typedef struct wipcpy_ctx wipcpy_ctx;

/** malloc'd bytes handed to Python (the SWIG argout makes a bytes object and frees them). */
typedef struct wipcpy_buf {
    unsigned char *data;
    size_t         size;
} wipcpy_buf;

/** A received message, before it becomes a Python tuple (data, type, request_id, peer_pid). */
typedef struct wipcpy_msg {
    wipcpy_buf buf;
    uint32_t   type;
    uint64_t   request_id;
    uint32_t   peer_pid;
} wipcpy_msg;

/* ---- [GIL] ---------------------------------------------------------------------------------------- */

/** Registers {status: exception class} (key 0: the base class) used by wipcpy_raise. */
PyObject *wipcpy_set_errors(PyObject *mapping);
/** Sets the Python exception for a failing status, with this thread's wipc_last_error_message(). */
void wipcpy_raise(wipc_status st);
/** The same with a message composed by the caller (completions: the last-error text is another thread's). */
void wipcpy_raise_text(wipc_status st, const char *text);
/** False once the interpreter is finalizing (callbacks from library threads must not touch it). */
int wipcpy_python_alive(void);

/** A capsule holding new references to on_message(h, type, data, request_id, peer_pid) -> int|None
 *  and on_event(h, event, related, status) (either may be None). */
PyObject *wipcpy_callbacks_new(PyObject *on_message, PyObject *on_event);
/** Drops the callables (call after wipc_close returned): later trampoline calls do nothing. */
PyObject *wipcpy_callbacks_clear(PyObject *capsule);
/** The context in a capsule made by wipcpy_callbacks_new, or NULL with TypeError set. */
wipcpy_ctx *wipcpy_ctx_from(PyObject *capsule);

/** Installs callable(level, text) as the library's log callback (None removes it). */
PyObject *wipcpy_set_log_callback(PyObject *callable, int32_t min_level);

/** A memoryview over `size` bytes at address `ptr` (a mapped region), writable or read-only. */
PyObject *wipcpy_memoryview(unsigned long long ptr, unsigned long long size, int writable);

/** Fill option structs from a dict of field names (None = defaults: the caller passes NULL).
 *  Return 0, or -1 with an exception set (unknown field, wrong type, out of range). */
int wipcpy_pipe_options(PyObject *dict, wipc_pipe_options *o);
int wipcpy_shm_options(PyObject *dict, wipc_shm_options *o);
int wipcpy_msg_options(PyObject *dict, wipc_msg_options *o);

/** wipc_info as a dict. */
PyObject *wipcpy_info_dict(const wipc_info *info);

/** The longest a blocking call waits without the GIL before it runs Python's signal handlers. */
#define WIPCPY_SLICE_MS 100
/** Not a wipc status: a Python signal handler raised during the wait (the exception is set). */
#define WIPCPY_INTERRUPTED INT32_MIN

/** The next wait slice: WIPCPY_SLICE_MS, or less to end at `deadline` (0: the deadline passed).
 *  timeout_ms < 0 waits forever. */
int32_t wipcpy_slice_ms(int32_t timeout_ms, int64_t deadline);
/** A CLOCK_MONOTONIC deadline in ms, timeout_ms from now (INT64_MAX for a negative timeout). */
int64_t wipcpy_deadline(int32_t timeout_ms);

/** The blocking calls whose slices are harmless to repeat, as waits that Ctrl-C ends
 *  (WIPCPY_INTERRUPTED): see wipcpy_wait.c. */
wipc_status wipcpy_recv_wait(wipc_handle h, int32_t timeout_ms, wipcpy_msg *out);
wipc_status wipcpy_accept(wipc_handle server, int32_t timeout_ms, wipc_handle *out_conn);
wipc_status wipcpy_connect(const char *name, const wipc_pipe_options *o, int32_t timeout_ms, wipc_handle *out_conn);
wipc_status wipcpy_shm_open(const char *name, const wipc_shm_options *o, int32_t timeout_ms, wipc_handle *out_channel);

#ifdef WIPCPY_HAVE_ASYNC   /* wipc.h 1.1: set by bindings/python/CMakeLists.txt for the compiler and SWIG */
/** Since 1.1, for wipc.aio: start the asynchronous operation; its completion calls
 *  cb(status, related, data|None, type, request_id, peer_pid, msg_reply) on a library thread.
 *  Return the operation id (an int, for wipc_cancel), or NULL with the start's error raised. */
PyObject *wipcpy_connect_async(const char *name, const wipc_pipe_options *o, int32_t timeout_ms, PyObject *cb);
PyObject *wipcpy_accept_async(wipc_handle server, int32_t timeout_ms, PyObject *cb);
PyObject *wipcpy_send_async(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                            PyObject *cb);
PyObject *wipcpy_recv_async(wipc_handle h, int32_t timeout_ms, PyObject *cb);
PyObject *wipcpy_request_async(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                               PyObject *cb);
PyObject *wipcpy_msg_send_async(const char *name, uint32_t type, const void *data, size_t size,
                                int32_t timeout_ms, PyObject *cb);

/** Since 1.1: the sync request / send / msg_send as "start asynchronously + wait", Ctrl-C cancelling
 *  the operation (wipcpy_async.c). Return WIPC_OK, or WIPCPY_INTERRUPTED with an exception set (the
 *  operation's error, or what a signal handler raised). */
wipc_status wipcpy_request_wait(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                                wipcpy_buf *out);
wipc_status wipcpy_send_wait(wipc_handle h, uint32_t type, const void *data, size_t size, int32_t timeout_ms);
wipc_status wipcpy_msg_send_wait(const char *name, uint32_t type, const void *data, size_t size, int32_t timeout_ms,
                                 int32_t *out_reply);
/** wipc_msg_broadcast's semantics (each receiver in turn, the full timeout each, how many accepted)
 *  as a series of msg sends that Ctrl-C cancels. */
wipc_status wipcpy_msg_broadcast_wait(const char *prefix, uint32_t type, const void *data, size_t size,
                                      int32_t timeout_ms, uint32_t *out_delivered);
#endif

/* ---- without the GIL ------------------------------------------------------------------------------ */

wipc_status wipcpy_set_callbacks(wipc_handle h, wipcpy_ctx *ctx);
/** wipc_recv_message into a buffer grown to the message's size. */
wipc_status wipcpy_recv(wipc_handle h, int32_t timeout_ms, wipcpy_msg *out);
/** wipc_request with a reply buffer of `cap` bytes (the handle's max_message_size): the 1.0 path. */
wipc_status wipcpy_request(wipc_handle h, uint32_t type, const void *data, size_t size, size_t cap,
                           int32_t timeout_ms, wipcpy_buf *out);
/** wipc_msg_list into a buffer of the size needed: '\0'-separated names. */
wipc_status wipcpy_msg_list(const char *prefix, wipcpy_buf *out);
/** wipc_get_info with struct_size set. */
wipc_status wipcpy_get_info(wipc_handle h, wipc_info *out);

#endif /* WIPCPY_H */
