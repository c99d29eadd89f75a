"""wipc_ctypes - the raw wipc C ABI for Python, through ctypes.

Every function of include/wipc.h is declared here with its argtypes/restype, with the structs
(wipc_message, wipc_info, wipc_pipe_options, wipc_shm_options, wipc_msg_options), the callback types
and the constants. It is a thin, faithful layer (names without the ``wipc_`` prefix are not
invented; call ``lib.wipc_send(...)`` exactly as in C), plus a few helpers at the end.

    import wipc_ctypes as w
    lib = w.load()                      # $WIPC_LIBRARY, else <repo>/build/linux/libwipc.so.1
    h = w.handle()
    st = lib.wipc_pipe_listen(b"demo", None, ctypes.byref(h))
    w.check(lib, st)                    # raises w.WipcError with the library's last error message

Names are bytes (UTF-8). Data arguments accept bytes, ctypes arrays or None. Keep every callback
object (MESSAGE_CB / EVENT_CB / LOG_CB instance) alive as long as the library may call it.
The library uses the cdecl convention on Windows too (WIPC_CALL = __cdecl), hence CDLL/CFUNCTYPE.
"""

import ctypes
import os
import sys
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char, c_char_p, c_int32, c_int64, c_size_t, c_uint32,
                    c_uint64, c_void_p)
from pathlib import Path

__all__ = ["load", "default_library_path", "WipcError", "check", "handle", "status_name", "last_error",
           "Message", "Info", "PipeOptions", "ShmOptions", "MsgOptions", "Endpoint", "Stats", "MESSAGE_CB", "EVENT_CB", "LOG_CB",
           "PROTOTYPES", "STATUS_NAMES"]

REPO = Path(__file__).resolve().parent.parent

# ---- constants (include/wipc.h) --------------------------------------------------------------------

WIPC_VERSION_MAJOR = 1
WIPC_VERSION_MINOR = 1
WIPC_VERSION_PATCH = 0
WIPC_VERSION = (WIPC_VERSION_MAJOR << 16) | (WIPC_VERSION_MINOR << 8) | WIPC_VERSION_PATCH
WIPC_VERSION_STRING = "1.1.0"

WIPC_OK = 0
WIPC_E_INVALID_ARG = -1
WIPC_E_BAD_HANDLE = -2
WIPC_E_NO_MEMORY = -3
WIPC_E_TIMEOUT = -4
WIPC_E_NOT_FOUND = -5
WIPC_E_ADDR_IN_USE = -6
WIPC_E_ACCESS_DENIED = -7
WIPC_E_DISCONNECTED = -8
WIPC_E_TOO_LARGE = -9
WIPC_E_BUFFER_TOO_SMALL = -10
WIPC_E_CLOSED = -11
WIPC_E_PROTOCOL = -12
WIPC_E_NOT_SUPPORTED = -13
WIPC_E_BUSY = -14
WIPC_E_SYSTEM = -15
WIPC_E_INVALID_STATE = -16
WIPC_E_CANCELLED = -17   # since 1.1
WIPC_E_REMOTE = -18      # since 1.1

# since 1.1: asynchronous operations
WIPC_ASYNC_QUEUE_BYTES = 16 * 1024 * 1024
WIPC_REPLY_DEADLINE_MS = 30000
WIPC_REMOTE_TEXT_MAX = 4096

WIPC_INFINITE = -1

WIPC_KIND_PIPE_SERVER = 1
WIPC_KIND_PIPE_CONN = 2
WIPC_KIND_SHM_CHANNEL = 3
WIPC_KIND_REGION = 4
WIPC_KIND_MSG_ENDPOINT = 5

WIPC_TRANSPORT_PIPE = 1
WIPC_TRANSPORT_SHM = 2
WIPC_TRANSPORT_MSG = 3

WIPC_EVENT_CONNECTED = 1
WIPC_EVENT_DISCONNECTED = 2
WIPC_EVENT_ERROR = 3

WIPC_LOG_DEBUG = 0
WIPC_LOG_INFO = 1
WIPC_LOG_WARN = 2
WIPC_LOG_ERROR = 3

WIPC_REGION_READONLY = 1

WIPC_PIPE_ALLOW_REMOTE = 0x1
WIPC_PIPE_RAW = 0x2
WIPC_PIPE_ANY_USER = 0x4
WIPC_SHM_GLOBAL = 0x1
WIPC_MSG_ALLOW_LOWER_INTEGRITY = 0x1

WIPC_NAME_MAX = 128
WIPC_DEFAULT_MAX_MESSAGE = 16 * 1024 * 1024
WIPC_DEFAULT_MSG_MAX_MESSAGE = 64 * 1024
WIPC_MAX_MESSAGE_LIMIT = 1024 * 1024 * 1024
WIPC_MSG_MAX_MESSAGE_LIMIT = 256 * 1024
WIPC_DEFAULT_HANDSHAKE_TIMEOUT_MS = 5000
WIPC_DEFAULT_MAX_QUEUED_BYTES = 8 * 1024 * 1024
WIPC_DEFAULT_MAX_QUEUED_MESSAGES = 1024

WIPC_LIST_PIPE = 1 << WIPC_TRANSPORT_PIPE
WIPC_LIST_SHM = 1 << WIPC_TRANSPORT_SHM
WIPC_LIST_MSG = 1 << WIPC_TRANSPORT_MSG
WIPC_LIST_ALL = WIPC_LIST_PIPE | WIPC_LIST_SHM | WIPC_LIST_MSG
WIPC_PIPE_NO_STATS = 0x8
WIPC_SHM_NO_STATS = 0x2
WIPC_MSG_NO_STATS = 0x2
WIPC_PIPE_WAIT_FOR_SERVER = 0x10
WIPC_PIPE_LENGTH_PREFIX = 0x20
WIPC_PIPE_WRITE_BEHIND = 0x40   # since 1.1: wipc_send queues behind a busy pipe (wipc_flush)
WIPC_MSG_RAW = 0x4   # since 1.1: plain WM_COPYDATA receiver (no wipc header)
WIPC_PIPE_UNLIMITED_INSTANCES = 255   # since 1.1: max_instances without a count limit (Windows PIPE_UNLIMITED_INSTANCES)

# since 1.1: named events
WIPC_KIND_EVENT = 6
WIPC_EVENT_FLAG_MANUAL_RESET = 0x1
WIPC_EVENT_FLAG_INITIAL_SET = 0x2

STATUS_NAMES = {
    WIPC_OK: "WIPC_OK",
    WIPC_E_INVALID_ARG: "WIPC_E_INVALID_ARG",
    WIPC_E_BAD_HANDLE: "WIPC_E_BAD_HANDLE",
    WIPC_E_NO_MEMORY: "WIPC_E_NO_MEMORY",
    WIPC_E_TIMEOUT: "WIPC_E_TIMEOUT",
    WIPC_E_NOT_FOUND: "WIPC_E_NOT_FOUND",
    WIPC_E_ADDR_IN_USE: "WIPC_E_ADDR_IN_USE",
    WIPC_E_ACCESS_DENIED: "WIPC_E_ACCESS_DENIED",
    WIPC_E_DISCONNECTED: "WIPC_E_DISCONNECTED",
    WIPC_E_TOO_LARGE: "WIPC_E_TOO_LARGE",
    WIPC_E_BUFFER_TOO_SMALL: "WIPC_E_BUFFER_TOO_SMALL",
    WIPC_E_CLOSED: "WIPC_E_CLOSED",
    WIPC_E_PROTOCOL: "WIPC_E_PROTOCOL",
    WIPC_E_NOT_SUPPORTED: "WIPC_E_NOT_SUPPORTED",
    WIPC_E_BUSY: "WIPC_E_BUSY",
    WIPC_E_SYSTEM: "WIPC_E_SYSTEM",
    WIPC_E_INVALID_STATE: "WIPC_E_INVALID_STATE",
    WIPC_E_CANCELLED: "WIPC_E_CANCELLED",
    WIPC_E_REMOTE: "WIPC_E_REMOTE",
}

# ---- basic types -------------------------------------------------------------------------------

wipc_handle = c_uint64
wipc_status = c_int32


def handle(value=0):
    """A wipc_handle out-parameter: pass ctypes.byref(handle())."""
    return wipc_handle(value)


# ---- structs -----------------------------------------------------------------------------------

class Message(Structure):
    """wipc_message: what a message callback sees (valid only during the callback)."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("type", c_uint32),
        ("data", c_void_p),
        ("size", c_size_t),
        ("request_id", c_uint64),
        ("peer_pid", c_uint32),
        ("flags", c_uint32),
    ]

    @classmethod
    def new(cls):
        m = cls()
        m.struct_size = ctypes.sizeof(cls)
        return m

    def payload(self):
        """A copy of the data as bytes."""
        return ctypes.string_at(self.data, self.size) if self.size else b""


class _Sized(Structure):
    """A struct whose first field is struct_size, filled in by the caller."""

    @classmethod
    def new(cls):
        o = cls()
        o.struct_size = ctypes.sizeof(cls)
        return o


class Info(_Sized):
    """wipc_info, filled by wipc_get_info (set struct_size first; Info.new() does)."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("kind", c_uint32),
        ("transport", c_uint32),
        ("flags", c_uint32),
        ("peer_pid", c_uint32),
        ("peer_uid", c_uint32),
        ("messages_sent", c_uint64),
        ("messages_received", c_uint64),
        ("bytes_sent", c_uint64),
        ("bytes_received", c_uint64),
        ("connected", c_uint32),
        ("max_message_size", c_uint32),
        ("name", c_char * 264),
    ]


class PipeOptions(Structure):
    """wipc_pipe_options; initialise with lib.wipc_pipe_options_init(byref(o))."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("max_message_size", c_uint32),
        ("max_instances", c_uint32),
        ("buffer_size", c_uint32),
        ("reserved", c_uint32),
        ("security_descriptor", c_char_p),
        # appended in 1.1: per-connection bounds, 0 = the default
        ("handshake_timeout_ms", c_int32),
        ("max_queued_bytes", c_uint32),
        ("max_queued_messages", c_uint32),
    ]


class ShmOptions(Structure):
    """wipc_shm_options; initialise with lib.wipc_shm_options_init(byref(o))."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("max_message_size", c_uint32),
        ("spin_us", c_uint32),
        ("capacity", c_uint64),
    ]


class MsgOptions(Structure):
    """wipc_msg_options; initialise with lib.wipc_msg_options_init(byref(o))."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("flags", c_uint32),
        ("max_message_size", c_uint32),
        ("queue_depth", c_uint32),
    ]


wipc_op = c_uint64


class Completion(Structure):
    """wipc_completion (since 1.1): what a completion callback sees (valid only during the callback)."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("op", c_uint64),
        ("status", c_int32),
        ("handle", c_uint64),
        ("related", c_uint64),
        ("message", POINTER(Message)),
        ("msg_reply", c_int32),
    ]


class Endpoint(Structure):
    """wipc_endpoint: one record of wipc_list (since 1.1)."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("transport", c_uint32),
        ("kind", c_uint32),
        ("owner_pid", c_uint32),
        ("created_unix_ms", c_int64),
        ("name", c_char * 136),
    ]


class Stats(_Sized):
    """wipc_stats, filled by wipc_stat (since 1.1; Stats.new() sets struct_size)."""
    _fields_ = [
        ("struct_size", c_uint32),
        ("transport", c_uint32),
        ("kind", c_uint32),
        ("owner_pid", c_uint32),
        ("created_unix_ms", c_int64),
        ("last_activity_unix_ms", c_int64),
        ("messages_sent", c_uint64),
        ("messages_received", c_uint64),
        ("bytes_sent", c_uint64),
        ("bytes_received", c_uint64),
        ("connections_total", c_uint64),
        ("errors", c_uint64),
        ("connections", c_uint32),
        ("queue_depth", c_uint32),
        ("name", c_char * 136),
    ]


# ---- callback types (WIPC_CALL = cdecl everywhere) ------------------------------------------------

def _nullable_cfunctype(restype, *argtypes):
    """CFUNCTYPE whose from_param also takes None (passed as a NULL function pointer), so that
    wipc_set_callbacks(h, cb, None, None) and wipc_set_log_callback(None, ...) work as in C."""
    base = CFUNCTYPE(restype, *argtypes)

    class Nullable(base):
        _flags_ = base._flags_
        _restype_ = base._restype_
        _argtypes_ = base._argtypes_

        @classmethod
        def from_param(cls, obj):
            if obj is None:
                return None
            return base.from_param(obj)

    return Nullable


#: int32_t on_message(wipc_handle h, const wipc_message *m, void *user_data)
MESSAGE_CB = _nullable_cfunctype(c_int32, wipc_handle, POINTER(Message), c_void_p)
#: void on_event(wipc_handle h, int32_t event, wipc_handle related, wipc_status status, void *user_data)
EVENT_CB = _nullable_cfunctype(None, wipc_handle, c_int32, wipc_handle, wipc_status, c_void_p)
#: void log(int32_t level, const char *text, void *user_data)
LOG_CB = _nullable_cfunctype(None, c_int32, c_char_p, c_void_p)
#: void complete(const wipc_completion *c, void *user_data)  (since 1.1)
COMPLETE_CB = _nullable_cfunctype(None, POINTER(Completion), c_void_p)

# ---- prototypes: name -> (restype, argtypes), in wipc.def order ------------------------------------

_H = wipc_handle
_PH = POINTER(wipc_handle)
_S = wipc_status

PROTOTYPES = {
    "wipc_version": (c_uint32, []),
    "wipc_version_string": (c_char_p, []),
    "wipc_status_name": (c_char_p, [_S]),
    "wipc_strerror": (c_char_p, [_S]),
    "wipc_last_error_message": (c_char_p, []),
    "wipc_last_os_error": (c_int64, []),
    "wipc_shutdown": (_S, []),
    "wipc_set_log_callback": (_S, [LOG_CB, c_int32, c_void_p]),
    "wipc_close": (_S, [_H]),
    "wipc_get_info": (_S, [_H, POINTER(Info)]),
    "wipc_send": (_S, [_H, c_uint32, c_void_p, c_size_t, c_int32]),
    "wipc_recv": (_S, [_H, c_void_p, c_size_t, POINTER(c_size_t), POINTER(c_uint32), c_int32]),
    "wipc_request": (_S, [_H, c_uint32, c_void_p, c_size_t, c_void_p, c_size_t, POINTER(c_size_t), c_int32]),
    "wipc_reply": (_S, [_H, c_uint64, c_uint32, c_void_p, c_size_t]),
    "wipc_set_callbacks": (_S, [_H, MESSAGE_CB, EVENT_CB, c_void_p]),
    "wipc_pipe_options_init": (None, [POINTER(PipeOptions)]),
    "wipc_pipe_options_init_size": (None, [POINTER(PipeOptions), c_uint32]),
    "wipc_pipe_listen": (_S, [c_char_p, POINTER(PipeOptions), _PH]),
    "wipc_pipe_accept": (_S, [_H, c_int32, _PH]),
    "wipc_pipe_connect": (_S, [c_char_p, POINTER(PipeOptions), c_int32, _PH]),
    "wipc_pipe_impersonate": (_S, [_H]),
    "wipc_revert_to_self": (_S, []),
    "wipc_shm_options_init": (None, [POINTER(ShmOptions)]),
    "wipc_shm_options_init_size": (None, [POINTER(ShmOptions), c_uint32]),
    "wipc_shm_create": (_S, [c_char_p, POINTER(ShmOptions), _PH]),
    "wipc_shm_open": (_S, [c_char_p, POINTER(ShmOptions), c_int32, _PH]),
    "wipc_shm_reserve": (_S, [_H, c_size_t, POINTER(c_void_p), c_int32]),
    "wipc_shm_commit": (_S, [_H, c_uint32, c_size_t]),
    "wipc_shm_peek": (_S, [_H, POINTER(c_void_p), POINTER(c_size_t), POINTER(c_uint32), c_int32]),
    "wipc_shm_release": (_S, [_H]),
    "wipc_region_create": (_S, [c_char_p, c_uint64, POINTER(ShmOptions), _PH]),
    "wipc_region_open": (_S, [c_char_p, c_uint32, _PH]),
    "wipc_region_view": (_S, [_H, POINTER(c_void_p), POINTER(c_uint64)]),
    "wipc_region_map_file": (_S, [c_char_p, c_uint64, c_uint32, _PH]),
    "wipc_msg_options_init": (None, [POINTER(MsgOptions)]),
    "wipc_msg_options_init_size": (None, [POINTER(MsgOptions), c_uint32]),
    "wipc_msg_listen": (_S, [c_char_p, POINTER(MsgOptions), _PH]),
    "wipc_msg_send": (_S, [c_char_p, c_uint32, c_void_p, c_size_t, c_int32, POINTER(c_int32)]),
    "wipc_msg_broadcast": (_S, [c_char_p, c_uint32, c_void_p, c_size_t, c_int32, POINTER(c_uint32)]),
    "wipc_msg_list": (_S, [c_char_p, c_void_p, c_size_t, POINTER(c_size_t)]),
    "wipc_recv_message": (_S, [_H, c_void_p, c_size_t, POINTER(Message), c_int32]),
    # since 1.1
    "wipc_pipe_connect_async": (_S, [c_char_p, POINTER(PipeOptions), c_int32, COMPLETE_CB, c_void_p, POINTER(wipc_op)]),
    "wipc_pipe_accept_async": (_S, [_H, c_int32, COMPLETE_CB, c_void_p, POINTER(wipc_op)]),
    "wipc_send_async": (_S, [_H, c_uint32, c_void_p, c_size_t, c_int32, COMPLETE_CB, c_void_p, POINTER(wipc_op)]),
    "wipc_recv_async": (_S, [_H, c_int32, COMPLETE_CB, c_void_p, POINTER(wipc_op)]),
    "wipc_request_async": (_S, [_H, c_uint32, c_void_p, c_size_t, c_int32, COMPLETE_CB, c_void_p, POINTER(wipc_op)]),
    "wipc_msg_send_async": (_S, [c_char_p, c_uint32, c_void_p, c_size_t, c_int32, COMPLETE_CB, c_void_p, POINTER(wipc_op)]),
    "wipc_cancel": (_S, [wipc_op]),
    "wipc_reply_error": (_S, [_H, c_uint64, c_int32, c_char_p]),
    "wipc_last_remote_code": (c_int32, []),
    "wipc_list": (_S, [c_uint32, c_char_p, POINTER(Endpoint), c_size_t, c_size_t, POINTER(c_size_t)]),
    "wipc_stat": (_S, [c_char_p, c_uint32, POINTER(Stats)]),
    # since 1.1: named events
    "wipc_event_create": (_S, [c_char_p, c_uint32, c_char_p, POINTER(_H)]),
    "wipc_event_open": (_S, [c_char_p, c_uint32, POINTER(_H)]),
    "wipc_event_set": (_S, [_H]),
    "wipc_event_reset": (_S, [_H]),
    "wipc_event_wait": (_S, [_H, c_int32]),
    "wipc_event_close": (_S, [_H]),
    # since 1.1: write-behind (WIPC_PIPE_WRITE_BEHIND)
    "wipc_flush": (_S, [_H, c_int32]),
}

# ---- loading ----------------------------------------------------------------------------------------


def default_library_path():
    """$WIPC_LIBRARY, else the build tree's library for this platform."""
    env = os.environ.get("WIPC_LIBRARY")
    if env:
        return env
    if sys.platform == "win32":
        return str(REPO / "build" / "win64" / "wipc.dll")
    return str(REPO / "build" / "linux" / "libwipc.so.1")


def load(path=None):
    """Loads the library with ctypes.CDLL and declares every prototype. Returns the CDLL."""
    lib = ctypes.CDLL(path or default_library_path())
    for name, (restype, argtypes) in PROTOTYPES.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


# ---- helpers ----------------------------------------------------------------------------------------


class WipcError(Exception):
    """A failing wipc status, with the library's message for it."""

    def __init__(self, status, message=""):
        self.status = status
        self.name = STATUS_NAMES.get(status, "WIPC_E_UNKNOWN")
        self.message = message
        super().__init__(f"{self.name} ({status}): {message}")


def status_name(lib, status):
    return lib.wipc_status_name(status).decode()


def last_error(lib):
    """This thread's wipc_last_error_message() as str."""
    m = lib.wipc_last_error_message()
    return m.decode("utf-8", "replace") if m is not None else None


def check(lib, status):
    """Raises WipcError unless status is WIPC_OK; returns status otherwise."""
    if status != WIPC_OK:
        raise WipcError(status, last_error(lib))
    return status


def pipe_options(lib, **fields):
    """A PipeOptions initialised by the library, then with the given fields set."""
    o = PipeOptions()
    lib.wipc_pipe_options_init_size(ctypes.byref(o), ctypes.sizeof(o))   # the 1.1 layout (init: 1.0's)
    for k, v in fields.items():
        setattr(o, k, v)
    return o


def get_info(lib, h):
    """wipc_get_info as an Info (raises WipcError)."""
    info = Info.new()
    check(lib, lib.wipc_get_info(h, ctypes.byref(info)))
    return info


def recv(lib, h, cap=65536, timeout_ms=5000):
    """wipc_recv into a fresh buffer: (status, bytes, type)."""
    buf = ctypes.create_string_buffer(max(cap, 1))
    size = c_size_t(0)
    typ = c_uint32(0)
    st = lib.wipc_recv(h, buf, cap, ctypes.byref(size), ctypes.byref(typ), timeout_ms)
    return st, (buf.raw[:size.value] if st == WIPC_OK else b""), typ.value


def request(lib, h, typ, data, cap=65536, timeout_ms=5000):
    """wipc_request: (status, reply bytes or b"", reply size)."""
    buf = ctypes.create_string_buffer(max(cap, 1))
    size = c_size_t(0)
    st = lib.wipc_request(h, typ, data, len(data) if data else 0, buf, cap, ctypes.byref(size), timeout_ms)
    return st, (buf.raw[:size.value] if st == WIPC_OK else b""), size.value



def list_endpoints(lib, mask=0, prefix=b""):
    """wipc_list as a list of Endpoint records (grows the array until it fits)."""
    cap = 16
    while True:
        arr = (Endpoint * cap)()
        n = c_size_t()
        st = lib.wipc_list(mask, prefix, arr, cap, ctypes.sizeof(Endpoint), ctypes.byref(n))
        if st == WIPC_E_BUFFER_TOO_SMALL:
            cap = n.value + 16
            continue
        check(lib, st)
        return list(arr[:n.value])


def stat(lib, name, transport=0):
    """wipc_stat as a Stats record; raises WipcError on failure."""
    s = Stats.new()
    check(lib, lib.wipc_stat(name, transport, ctypes.byref(s)))
    return s
