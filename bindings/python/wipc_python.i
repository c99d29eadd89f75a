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
    if ($1 < 0) {
        wipcpy_raise($1);
        SWIG_fail;
    }
    $result = SWIG_Py_Void();
}

/* ---- bytes in ---------------------------------------------------------------------------------------- */
%typemap(in) (const void *data, size_t size) (Py_buffer view = {0}) {
    if ($input == Py_None) {
        $1 = NULL;
        $2 = 0;
    } else {
        if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0)
            SWIG_fail;
        $1 = view.buf;
        $2 = (size_t)view.len;
    }
}
%typemap(freearg) (const void *data, size_t size) {
    if (view$argnum.obj)
        PyBuffer_Release(&view$argnum);
}
%apply (const void *data, size_t size) { (const void *req, size_t req_size) };

/* ---- out-parameters ------------------------------------------------------------------------------------ */
%typemap(in, numinputs=0) wipc_handle *OUT_HANDLE (wipc_handle temp = 0) "$1 = &temp;"
%typemap(argout) wipc_handle *OUT_HANDLE {
    $result = SWIG_Python_AppendOutput($result, PyLong_FromUnsignedLongLong(temp$argnum));
}
%apply wipc_handle *OUT_HANDLE { wipc_handle *out_server, wipc_handle *out_conn, wipc_handle *out_channel,
                                 wipc_handle *out_region, wipc_handle *out_endpoint };
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

%feature("nothread") wipcpy_set_errors;
%feature("nothread") wipcpy_callbacks_new;
%feature("nothread") wipcpy_callbacks_clear;
%feature("nothread") wipcpy_set_log_callback;
%feature("nothread") wipcpy_memoryview;

/* The helpers of wipcpy.h that Python calls (wipc.i includes that header after wipc.h). */
%ignore wipcpy_buf;
%ignore wipcpy_msg;
%ignore wipcpy_raise;
%ignore wipcpy_ctx_from;
%ignore wipcpy_pipe_options;
%ignore wipcpy_shm_options;
%ignore wipcpy_msg_options;
%ignore wipcpy_info_dict;
