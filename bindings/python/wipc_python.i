/*
 * wipc_python.i - Python typemaps of wipc.i (included by it). The extension is the low layer, called
 * only by the package wipc (bindings/python/wipc/): every function keeps its C name.
 *
 *  - wipc_status results: WIPC_OK -> nothing, an error -> the wipc.Error subclass of that status
 *    (raised with this thread's wipc_last_error_message(), read right after the call);
 *  - (const void *data, size_t size): any bytes-like object (bytes, bytearray, memoryview) or None;
 *  - out-parameters become return values; option structs are dicts of field names (None = defaults);
 *  - swig -threads: every call releases the GIL, except the [GIL] helpers marked %nothread.
 */
%begin %{
#define PY_SSIZE_T_CLEAN
%}
%{
#include "wipcpy.h"
%}
%include "typemaps.i"

/* ---- status -> exception ---------------------------------------------------------------------------- */
%typemap(out) wipc_status {
    if ($1 == WIPCPY_INTERRUPTED)
        SWIG_fail;   /* a signal handler raised: its exception is set */
    if ($1 < 0) {
        wipcpy_raise($1);
        SWIG_fail;
    }
    $result = SWIG_Py_Void();
}

/* ---- bytes in ---------------------------------------------------------------------------------------- */
%typemap(in) (const void *data, size_t size) (Py_buffer view = {0}) {
    if (!PyObject_CheckBuffer($input)) {
        PyErr_Format(PyExc_TypeError, "data must be a bytes-like object, not %s", Py_TYPE($input)->tp_name);
        SWIG_fail;
    }
    if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0)
        SWIG_fail;
    $1 = view.buf;
    $2 = (size_t)view.len;
}
%typemap(freearg) (const void *data, size_t size) {
    if (view$argnum.obj)
        PyBuffer_Release(&view$argnum);
}
%apply (const void *data, size_t size) { (const void *req, size_t req_size) };

/* ---- names: a str without NUL (a C string would end at it: "x\0../evil" must not mean "x") ------- */
%typemap(in) const char *name, const char *prefix, const char *path, const char *text, const char *message {
    Py_ssize_t len = 0;
    if (!PyUnicode_Check($input)) {
        PyErr_Format(PyExc_TypeError, "$1_name must be a str, not %s", Py_TYPE($input)->tp_name);
        SWIG_fail;
    }
    $1 = (char *)PyUnicode_AsUTF8AndSize($input, &len);
    if (!$1)
        SWIG_fail;
    if (strlen($1) != (size_t)len) {
        PyErr_Format(PyExc_ValueError, "$1_name must not contain NUL characters: %R", $input);
        SWIG_fail;
    }
}
%typemap(freearg) const char *name, const char *prefix, const char *path, const char *text, const char *message ""

/* ---- integers: Python wording, not SWIG's "argument 2 of type 'uint32_t'" ----------------------------- */
%typemap(in) uint32_t type {
    unsigned long v = PyLong_Check($input) ? PyLong_AsUnsignedLong($input) : (unsigned long)-1;
    if (!PyLong_Check($input) || (v == (unsigned long)-1 && PyErr_Occurred()) || v > 0xFFFFFFFFul) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError, "type must be an int in 0..4294967295, not %R", $input);
        SWIG_fail;
    }
    $1 = (uint32_t)v;
}

/* ---- out-parameters ------------------------------------------------------------------------------------ */
%typemap(in, numinputs=0) wipc_handle *OUT_HANDLE (wipc_handle temp = 0) "$1 = &temp;"
%typemap(argout) wipc_handle *OUT_HANDLE {
    $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong(temp$argnum));
}
%apply wipc_handle *OUT_HANDLE { wipc_handle *out_server, wipc_handle *out_conn, wipc_handle *out_channel,
                                 wipc_handle *out_region, wipc_handle *out_endpoint, wipc_handle *out_event };
%apply int *OUTPUT { int32_t *out_reply };
%apply unsigned int *OUTPUT { uint32_t *out_delivered };

/* wipc_region_view: (address, size); the package makes a memoryview of it with wipcpy_memoryview */
%typemap(in, numinputs=0) (void **out_ptr, uint64_t *out_size) (void *ptr = NULL, uint64_t size = 0) {
    $1 = &ptr;
    $2 = &size;
}
%typemap(argout) (void **out_ptr, uint64_t *out_size) {
    $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(KK)", (unsigned long long)(uintptr_t)ptr$argnum,
                                                              (unsigned long long)size$argnum));
}

%typemap(in, numinputs=0) wipc_info *out (wipc_info temp) "$1 = &temp;"
%typemap(argout) wipc_info *out {
    $result = SWIG_Python_AppendOutput($result, wipcpy_info_dict(&temp$argnum));
}

%typemap(in, numinputs=0) wipcpy_msg *out (wipcpy_msg temp = {0}) "$1 = &temp;"
%typemap(argout) wipcpy_msg *out {
    $result = SWIG_Python_AppendOutput($result, Py_BuildValue("(y#IKI)", temp$argnum.buf.data ? (const char *)temp$argnum.buf.data : "",
        (Py_ssize_t)temp$argnum.buf.size, temp$argnum.type, (unsigned long long)temp$argnum.request_id, temp$argnum.peer_pid));
}
%typemap(freearg) wipcpy_msg *out "free(temp$argnum.buf.data);"

%typemap(in, numinputs=0) wipcpy_buf *out (wipcpy_buf temp = {0}) "$1 = &temp;"
%typemap(argout) wipcpy_buf *out {
    $result = SWIG_Python_AppendOutput($result, PyBytes_FromStringAndSize(temp$argnum.data ? (const char *)temp$argnum.data : "",
                                                                          (Py_ssize_t)temp$argnum.size));
}
%typemap(freearg) wipcpy_buf *out "free(temp$argnum.data);"

/* ---- options: dict or None ------------------------------------------------------------------------------- */
%define WIPC_OPTIONS_DICT(TYPE, FILL)
%typemap(in) const TYPE *o (TYPE opts) {
    $1 = NULL;
    if ($input != Py_None) {
        if (FILL($input, &opts) < 0)
            SWIG_fail;
        $1 = &opts;
    }
}
%enddef
WIPC_OPTIONS_DICT(wipc_pipe_options, wipcpy_pipe_options)
WIPC_OPTIONS_DICT(wipc_shm_options, wipcpy_shm_options)
WIPC_OPTIONS_DICT(wipc_msg_options, wipcpy_msg_options)

/* ---- callbacks ------------------------------------------------------------------------------------------- */
%typemap(in) wipcpy_ctx *ctx {
    $1 = wipcpy_ctx_from($input);
    if (!$1)
        SWIG_fail;
}
%typemap(in) PyObject * "$1 = $input;"
%typemap(out) PyObject * "$result = $1;"

/* ---- what the package calls instead of the raw C functions ------------------------------------------------- */
%ignore wipc_recv;
%ignore wipc_recv_message;
%ignore wipc_request;
%ignore wipc_get_info;
%ignore wipc_set_callbacks;
%ignore wipc_set_log_callback;
%ignore wipc_msg_list;
%ignore wipc_pipe_options_init;
%ignore wipc_shm_options_init;
%ignore wipc_msg_options_init;
/* zero-copy shm: pointers into the rings are not exposed to Python (use send/recv) */
%ignore wipc_shm_reserve;
%ignore wipc_shm_commit;
%ignore wipc_shm_peek;
%ignore wipc_shm_release;

%feature("nothread") wipcpy_recv_wait;     /* they release the GIL slice by slice themselves */
%feature("nothread") wipcpy_request_wait;
%feature("nothread") wipcpy_send_wait;
%feature("nothread") wipcpy_msg_send_wait;
%feature("nothread") wipcpy_msg_broadcast_wait;
%feature("nothread") wipcpy_connect_async;  /* they release it around the start call */
%feature("nothread") wipcpy_accept_async;
%feature("nothread") wipcpy_send_async;
%feature("nothread") wipcpy_recv_async;
%feature("nothread") wipcpy_request_async;
%feature("nothread") wipcpy_msg_send_async;
%feature("nothread") wipcpy_accept;
%feature("nothread") wipcpy_connect;
%feature("nothread") wipcpy_shm_open;
%feature("nothread") wipcpy_set_errors;
%feature("nothread") wipcpy_callbacks_new;
%feature("nothread") wipcpy_callbacks_clear;
%feature("nothread") wipcpy_set_log_callback;
%feature("nothread") wipcpy_memoryview;

/* The helpers of wipcpy.h that Python calls (wipc.i includes that header after wipc.h). */
%ignore wipcpy_buf;
%ignore wipcpy_msg;
%ignore wipcpy_raise;
%ignore wipcpy_raise_text;
%ignore wipcpy_python_alive;
%ignore wipcpy_ctx_from;
%ignore wipcpy_pipe_options;
%ignore wipcpy_shm_options;
%ignore wipcpy_msg_options;
%ignore wipcpy_info_dict;
%ignore wipcpy_slice_ms;
%ignore wipcpy_deadline;
%ignore wipcpy_recv;
