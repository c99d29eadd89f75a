/*
 * wipcpy_util.c - the rest of the Python binding's C side: statuses as exceptions, option dicts,
 * wipc_info as a dict, and the calls that return bytes of a size known only at run time.
 */
#include "wipcpy.h"   /* first: Python.h sets the feature macros */

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- statuses -> exceptions ------------------------------------------------------------------------ */

static PyObject *g_errors;   /* {status: class}, key 0 = wipc.Error */

static void raise_with(wipc_status st, const char *msg, long long os_error);

PyObject *wipcpy_set_errors(PyObject *mapping)
{
    if (!PyDict_Check(mapping))
        return PyErr_Format(PyExc_TypeError, "expected a dict {status: exception class}");
    Py_INCREF(mapping);
    Py_XSETREF(g_errors, mapping);
    Py_RETURN_NONE;
}

void wipcpy_raise(wipc_status st)
{
    const char *msg = wipc_last_error_message();   /* first: this thread's message for this call */
    raise_with(st, msg, (long long)wipc_last_os_error());
}

void wipcpy_raise_text(wipc_status st, const char *text)
{
    raise_with(st, text, 0);
}

static void raise_with(wipc_status st, const char *msg, long long os_error)
{
    PyObject *key = PyLong_FromLong(st), *zero = PyLong_FromLong(0);
    PyObject *cls = g_errors && key ? PyDict_GetItemWithError(g_errors, key) : NULL;
    if (!cls && g_errors && zero && !PyErr_Occurred())
        cls = PyDict_GetItemWithError(g_errors, zero);
    Py_XDECREF(key);
    Py_XDECREF(zero);
    if (PyErr_Occurred())
        return;
    if (!cls) {
        PyErr_Format(PyExc_RuntimeError, "%s: %s", wipc_status_name(st), msg);
        return;
    }
    PyObject *exc = PyObject_CallMethod(cls, "_from_native", "is", (int)st, msg ? msg : "");
    PyObject *os = exc ? PyLong_FromLongLong(os_error) : NULL;
    if (os && PyObject_SetAttrString(exc, "os_error", os) < 0)
        Py_CLEAR(exc);
    Py_XDECREF(os);
    if (exc) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
}

/* ---- option dicts -> structs ----------------------------------------------------------------------- */

typedef struct field {
    const char *name;
    size_t      offset;
    int         kind;   /* 4: uint32, 8: uint64, 's': const char * */
} field;

#define U32(T, f) { #f, offsetof(T, f), 4 }
#define U64(T, f) { #f, offsetof(T, f), 8 }

static const field pipe_fields[] = { U32(wipc_pipe_options, flags), U32(wipc_pipe_options, max_message_size),
    U32(wipc_pipe_options, max_instances), U32(wipc_pipe_options, buffer_size),
    { "security_descriptor", offsetof(wipc_pipe_options, security_descriptor), 's' }, { NULL, 0, 0 } };
static const field shm_fields[] = { U32(wipc_shm_options, flags), U32(wipc_shm_options, max_message_size),
    U32(wipc_shm_options, spin_us), U64(wipc_shm_options, capacity), { NULL, 0, 0 } };
static const field msg_fields[] = { U32(wipc_msg_options, flags), U32(wipc_msg_options, max_message_size),
    U32(wipc_msg_options, queue_depth), { NULL, 0, 0 } };

/* Sets one field; a `const char *` points into the str, which the dict keeps alive during the call. */
static int set_field(void *base, const field *f, PyObject *v)
{
    char *p = (char *)base + f->offset;
    if (f->kind == 's') {
        const char *s = v == Py_None ? NULL : PyUnicode_AsUTF8(v);
        if (v != Py_None && !s)
            return -1;
        memcpy(p, &s, sizeof s);
        return 0;
    }
    unsigned long long x = PyLong_AsUnsignedLongLong(v);
    if (x == (unsigned long long)-1 && PyErr_Occurred())
        return -1;
    if (f->kind == 4 && x > UINT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "option %s: %llu does not fit in 32 bits", f->name, x);
        return -1;
    }
    if (f->kind == 4) {
        uint32_t y = (uint32_t)x;
        memcpy(p, &y, sizeof y);
    } else {
        uint64_t y = x;
        memcpy(p, &y, sizeof y);
    }
    return 0;
}

static int fill_options(PyObject *dict, void *base, const field *fields)
{
    if (!PyDict_Check(dict)) {
        PyErr_SetString(PyExc_TypeError, "options must be a dict or None");
        return -1;
    }
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        const char *k = PyUnicode_Check(key) ? PyUnicode_AsUTF8(key) : NULL;
        const field *f = fields;
        while (k && f->name && strcmp(f->name, k))
            f++;
        if (!k || !f->name) {
            PyErr_Format(PyExc_TypeError, "unknown option %R", key);
            return -1;
        }
        if (value != Py_None && set_field(base, f, value) < 0)
            return -1;
    }
    return 0;
}

int wipcpy_pipe_options(PyObject *dict, wipc_pipe_options *o)
{
    wipc_pipe_options_init(o);
    return fill_options(dict, o, pipe_fields);
}

int wipcpy_shm_options(PyObject *dict, wipc_shm_options *o)
{
    wipc_shm_options_init(o);
    return fill_options(dict, o, shm_fields);
}

int wipcpy_msg_options(PyObject *dict, wipc_msg_options *o)
{
    wipc_msg_options_init(o);
    return fill_options(dict, o, msg_fields);
}

/* ---- results ----------------------------------------------------------------------------------------- */

PyObject *wipcpy_info_dict(const wipc_info *i)
{
    return Py_BuildValue("{sIsIsIsIsIsKsKsKsKsIsIss}", "kind", i->kind, "transport", i->transport, "flags", i->flags,
                         "peer_pid", i->peer_pid, "peer_uid", i->peer_uid,
                         "messages_sent", (unsigned long long)i->messages_sent,
                         "messages_received", (unsigned long long)i->messages_received,
                         "bytes_sent", (unsigned long long)i->bytes_sent,
                         "bytes_received", (unsigned long long)i->bytes_received,
                         "connected", i->connected, "max_message_size", i->max_message_size, "name", i->name);
}

PyObject *wipcpy_memoryview(unsigned long long ptr, unsigned long long size, int writable)
{
    if (!ptr || size > (unsigned long long)PY_SSIZE_T_MAX)
        return PyErr_Format(PyExc_ValueError, "no mapped view");
    return PyMemoryView_FromMemory((char *)(uintptr_t)ptr, (Py_ssize_t)size, writable ? PyBUF_WRITE : PyBUF_READ);
}

/* ---- calls that fill a buffer (without the GIL) ------------------------------------------------------ */

wipc_status wipcpy_get_info(wipc_handle h, wipc_info *out)
{
    memset(out, 0, sizeof *out);
    out->struct_size = sizeof *out;
    return wipc_get_info(h, out);
}

wipc_status wipcpy_recv(wipc_handle h, int32_t timeout_ms, wipcpy_msg *out)
{
    size_t cap = 64 * 1024;
    memset(out, 0, sizeof *out);
    for (;;) {
        unsigned char *buf = malloc(cap ? cap : 1);
        wipc_message m = { .struct_size = sizeof m };
        if (!buf)
            return WIPC_E_NO_MEMORY;
        wipc_status st = wipc_recv_message(h, buf, cap, &m, timeout_ms);
        if (st == WIPC_OK) {
            out->buf.data = buf;
            out->buf.size = m.size;
            out->type = m.type;
            out->request_id = m.request_id;
            out->peer_pid = m.peer_pid;
            return WIPC_OK;
        }
        free(buf);
        if (st != WIPC_E_BUFFER_TOO_SMALL || m.size <= cap)
            return st;
        cap = m.size;   /* the message stays queued: fetch it with a buffer of its size */
    }
}

wipc_status wipcpy_request(wipc_handle h, uint32_t type, const void *data, size_t size, size_t cap,
                           int32_t timeout_ms, wipcpy_buf *out)
{
    out->data = malloc(cap ? cap : 1);
    out->size = 0;
    if (!out->data)
        return WIPC_E_NO_MEMORY;
    wipc_status st = wipc_request(h, type, data, size, out->data, cap, &out->size, timeout_ms);
    if (st) {
        free(out->data);
        out->data = NULL;
        out->size = 0;
    }
    return st;
}

wipc_status wipcpy_msg_list(const char *prefix, wipcpy_buf *out)
{
    size_t cap = 4096, need = 0;
    for (int attempt = 0; attempt < 8; attempt++) {
        out->data = malloc(cap);
        if (!out->data)
            return WIPC_E_NO_MEMORY;
        wipc_status st = wipc_msg_list(prefix, (char *)out->data, cap, &need);
        if (st == WIPC_OK) {
            out->size = need;
            return WIPC_OK;
        }
        free(out->data);
        out->data = NULL;
        if (st != WIPC_E_BUFFER_TOO_SMALL)
            return st;
        cap = need + 1024;   /* receivers may appear between two calls */
    }
    return WIPC_E_BUFFER_TOO_SMALL;
}
