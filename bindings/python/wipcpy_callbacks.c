/*
 * wipcpy_callbacks.c - Python callables as wipc callbacks.
 *
 * The library calls the C trampolines below on its own threads. Each takes the GIL
 * (PyGILState_Ensure), calls the Python callable held by the handle's context, and logs an exception
 * the callable raised to the `logging` logger "wipc" at WARNING (never lets it cross into C, never
 * crashes). The package's dispatchers catch handler exceptions themselves (to answer requests with
 * a remote error); what reaches this log is a bad return value or a failing dispatcher.
 * The context lives in a capsule, found by the trampolines through its id (g_live below: the library
 * never holds a pointer to it); wipcpy_callbacks_clear() drops the callables once wipc_close()
 * returned, so a closed handle releases them. After interpreter finalization began, the trampolines
 * do nothing (the package's atexit hook calls wipc_shutdown() before that anyway).
 */
#include "wipcpy.h"

#define CAPSULE_NAME "wipc.callbacks"

struct wipcpy_ctx {
    PyObject          *on_message;   /* (h, type, data, request_id, peer_pid) -> int | None */
    PyObject          *on_event;     /* (h, event, related, status) */
    unsigned long long id;           /* the library's user_data: a key of g_live, never a pointer */
};

/* The contexts the library may still call, by id: {id: capsule}. A trampoline finds its context here
 * (with the GIL), so a callback the library delivers after the context was cleared - e.g. the event
 * of a connection a server with callbacks accepted, arriving after that server was closed - finds
 * nothing and does nothing, instead of reading freed memory. Ids are never reused. */
static PyObject *g_live;
static unsigned long long g_next_id;

/* [GIL] The context of `user` (an id), or NULL if it was cleared. */
static wipcpy_ctx *ctx_of(void *user)
{
    if (!g_live)
        return NULL;
    PyObject *key = PyLong_FromUnsignedLongLong((unsigned long long)(uintptr_t)user);
    PyObject *capsule = key ? PyDict_GetItemWithError(g_live, key) : NULL;
    Py_XDECREF(key);
    if (!capsule) {
        PyErr_Clear();
        return NULL;
    }
    return PyCapsule_GetPointer(capsule, CAPSULE_NAME);
}

static PyObject *g_log_callable;   /* (level, text); guarded by the GIL */

int wipcpy_python_alive(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsInitialized() && !Py_IsFinalizing();
#else
    return Py_IsInitialized() && !_Py_IsFinalizing();
#endif
}

/* Logs the pending exception as "exception in a wipc <where> callback (ignored)" with its traceback. */
static void log_exception(const char *where)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value && tb)
        PyException_SetTraceback(value, tb);
    PyObject *logging = PyImport_ImportModule("logging");
    PyObject *logger = logging ? PyObject_CallMethod(logging, "getLogger", "s", "wipc") : NULL;
    PyObject *error = logger ? PyObject_GetAttrString(logger, "warning") : NULL;
    PyObject *args = Py_BuildValue("(ss)", "exception in a wipc %s callback (ignored)", where);
    PyObject *kw = Py_BuildValue("{sO}", "exc_info", value ? value : Py_None);
    PyObject *res = error && args && kw ? PyObject_Call(error, args, kw) : NULL;
    if (!res)
        PyErr_WriteUnraisable(value ? value : Py_None);   /* logging itself failed: last resort */
    Py_XDECREF(res);
    Py_XDECREF(kw);
    Py_XDECREF(args);
    Py_XDECREF(error);
    Py_XDECREF(logger);
    Py_XDECREF(logging);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* A message callback's result as the int32 reply a msg sender gets (None = 0). */
static int32_t reply_value(PyObject *r)
{
    if (r == Py_None)
        return 0;
    long long v = PyLong_AsLongLong(r);
    if (v == -1 && PyErr_Occurred()) {
        log_exception("message (it must return an int or None)");
        return 0;
    }
    if (v < INT32_MIN || v > INT32_MAX) {
        PyErr_Format(PyExc_OverflowError, "the reply %lld does not fit in an int32", v);
        log_exception("message");
        return 0;
    }
    return (int32_t)v;
}

static int32_t WIPC_CALL tramp_message(wipc_handle h, const wipc_message *m, void *user)
{
    int32_t reply = 0;
    if (!wipcpy_python_alive())
        return 0;
    PyGILState_STATE g = PyGILState_Ensure();
    wipcpy_ctx *ctx = ctx_of(user);
    PyObject *cb = ctx ? ctx->on_message : NULL;   /* read once, under the GIL: _clear may run right after */
    if (cb) {
        Py_INCREF(cb);
        PyObject *r = PyObject_CallFunction(cb, "KIy#KI", (unsigned long long)h, (unsigned)m->type,
                                            m->size ? (const char *)m->data : "", (Py_ssize_t)m->size,
                                            (unsigned long long)m->request_id, (unsigned)m->peer_pid);
        if (!r)
            log_exception("message");
        else
            reply = reply_value(r);
        Py_XDECREF(r);
        Py_DECREF(cb);
    }
    PyGILState_Release(g);
    return reply;
}

static void WIPC_CALL tramp_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user)
{
    if (!wipcpy_python_alive())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    wipcpy_ctx *ctx = ctx_of(user);
    PyObject *cb = ctx ? ctx->on_event : NULL;
    if (cb) {
        Py_INCREF(cb);
        PyObject *r = PyObject_CallFunction(cb, "KiKi", (unsigned long long)h, (int)event,
                                            (unsigned long long)related, (int)status);
        if (!r)
            log_exception("event");
        Py_XDECREF(r);
        Py_DECREF(cb);
    }
    PyGILState_Release(g);
}

static void WIPC_CALL tramp_log(int32_t level, const char *text, void *user)
{
    (void)user;
    if (!wipcpy_python_alive())
        return;
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *cb = g_log_callable;
    if (cb) {
        Py_INCREF(cb);
        PyObject *r = PyObject_CallFunction(cb, "is", (int)level, text ? text : "");
        if (!r)
            PyErr_WriteUnraisable(cb);   /* not log_exception: that could log again */
        Py_XDECREF(r);
        Py_DECREF(cb);
    }
    PyGILState_Release(g);
}

/* ---- contexts --------------------------------------------------------------------------------------- */

static void ctx_drop(wipcpy_ctx *ctx)
{
    Py_CLEAR(ctx->on_message);
    Py_CLEAR(ctx->on_event);
}

static void capsule_free(PyObject *capsule)
{
    wipcpy_ctx *ctx = PyCapsule_GetPointer(capsule, CAPSULE_NAME);
    if (ctx) {
        ctx_drop(ctx);
        PyMem_RawFree(ctx);
    }
}

static PyObject *callable_or_null(PyObject *o, const char *what)
{
    if (o == Py_None)
        return NULL;
    if (!PyCallable_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be callable or None", what);
        return NULL;
    }
    Py_INCREF(o);
    return o;
}

PyObject *wipcpy_callbacks_new(PyObject *on_message, PyObject *on_event)
{
    wipcpy_ctx *ctx = PyMem_RawCalloc(1, sizeof *ctx);
    if (!ctx)
        return PyErr_NoMemory();
    ctx->on_message = callable_or_null(on_message, "on_message");
    ctx->on_event = PyErr_Occurred() ? NULL : callable_or_null(on_event, "on_event");
    PyObject *capsule = PyErr_Occurred() ? NULL : PyCapsule_New(ctx, CAPSULE_NAME, capsule_free);
    if (!capsule) {
        ctx_drop(ctx);
        PyMem_RawFree(ctx);
        return NULL;
    }
    ctx->id = ++g_next_id;
    PyObject *key = PyLong_FromUnsignedLongLong(ctx->id);
    if (!g_live)
        g_live = PyDict_New();
    if (!key || !g_live || PyDict_SetItem(g_live, key, capsule) < 0)
        Py_CLEAR(capsule);
    Py_XDECREF(key);
    return capsule;
}

wipcpy_ctx *wipcpy_ctx_from(PyObject *capsule)
{
    if (!PyCapsule_IsValid(capsule, CAPSULE_NAME)) {
        PyErr_SetString(PyExc_TypeError, "expected a capsule from wipcpy_callbacks_new");
        return NULL;
    }
    return PyCapsule_GetPointer(capsule, CAPSULE_NAME);
}

PyObject *wipcpy_callbacks_clear(PyObject *capsule)
{
    wipcpy_ctx *ctx = wipcpy_ctx_from(capsule);
    if (!ctx)
        return NULL;
    ctx_drop(ctx);
    PyObject *key = PyLong_FromUnsignedLongLong(ctx->id);
    if (key && g_live && PyDict_DelItem(g_live, key) < 0)
        PyErr_Clear();   /* cleared already */
    Py_XDECREF(key);
    Py_RETURN_NONE;
}

wipc_status wipcpy_set_callbacks(wipc_handle h, wipcpy_ctx *ctx)
{
    return wipc_set_callbacks(h, ctx->on_message ? tramp_message : NULL, ctx->on_event ? tramp_event : NULL,
                              (void *)(uintptr_t)ctx->id);
}

PyObject *wipcpy_set_log_callback(PyObject *callable, int32_t min_level)
{
    PyObject *cb = callable_or_null(callable, "the log callback");
    if (PyErr_Occurred())
        return NULL;
    wipc_status st;
    PyObject *old = g_log_callable;
    g_log_callable = cb;
    Py_BEGIN_ALLOW_THREADS   /* a library thread may be logging, waiting for the GIL */
    st = wipc_set_log_callback(cb ? tramp_log : NULL, min_level, NULL);
    Py_END_ALLOW_THREADS
    if (st) {
        g_log_callable = old;
        Py_XDECREF(cb);
        wipcpy_raise(st);
        return NULL;
    }
    Py_XDECREF(old);
    Py_RETURN_NONE;
}
