#!/usr/bin/python3
"""peer_ctypes.py - the interop peer over the raw C ABI through ctypes (python-tests/wipc_ctypes.py;
the library is $WIPC_LIBRARY, else build/linux/libwipc.so.1). Command line: demo/peer_common.py.
"""
import ctypes
import sys
from ctypes import byref
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "python-tests"))
sys.path.insert(0, str(HERE))
import peer_common as pc  # noqa: E402
import wipc_ctypes as w  # noqa: E402

TIMEOUT_MS = int(pc.TIMEOUT_S * 1000)


class CtypesBackend:
    def __init__(self):
        self.lib = w.load()

    def _open(self, scheme, name):
        h = w.handle()
        if scheme == "pipe":
            w.check(self.lib, self.lib.wipc_pipe_connect(name.encode(), None, TIMEOUT_MS, byref(h)))
        else:
            w.check(self.lib, self.lib.wipc_shm_open(name.encode(), None, TIMEOUT_MS, byref(h)))
        return h

    def serve(self, scheme, name):
        lib, h = self.lib, w.handle()
        if scheme == "pipe":
            w.check(lib, lib.wipc_pipe_listen(name.encode(), None, byref(h)))
        elif scheme == "shm":
            w.check(lib, lib.wipc_shm_create(name.encode(), None, byref(h)))
        else:
            w.check(lib, lib.wipc_msg_listen(name.encode(), None, byref(h)))

        def on_message(conn, m, user):
            data = m.contents.payload()
            if m.contents.request_id:
                reply = pc.upper(data)
                lib.wipc_reply(conn, m.contents.request_id, m.contents.type, reply, len(reply))
            return pc.byte_sum(data)

        def on_event(source, event, related, status, user):
            if source != h.value and event != w.WIPC_EVENT_CONNECTED:
                lib.wipc_close(source)   # a pipe connection the server accepted: ours to close

        callbacks = (w.MESSAGE_CB(on_message), w.EVENT_CB(on_event))   # kept alive by the caller
        w.check(lib, lib.wipc_set_callbacks(h, callbacks[0], callbacks[1], None))
        return h, callbacks

    def close(self, keep):
        self.lib.wipc_close(keep[0])

    def client(self, scheme, name):
        lib = self.lib
        if scheme == "msg":
            reply = ctypes.c_int32()

            def msg_request(data):
                w.check(lib, lib.wipc_msg_send(name.encode(), 1, data, len(data), TIMEOUT_MS, byref(reply)))
                return reply.value
            return msg_request, (lambda: None)
        h = self._open(scheme, name)
        cap = w.get_info(lib, h).max_message_size
        buf, got = ctypes.create_string_buffer(cap), ctypes.c_size_t()

        def request(data):
            w.check(lib, lib.wipc_request(h, 1, data, len(data), buf, cap, byref(got), TIMEOUT_MS))
            return ctypes.string_at(buf, got.value)
        return request, (lambda: lib.wipc_close(h))

    def send(self, scheme, name, data):
        lib = self.lib
        if scheme == "msg":
            reply = ctypes.c_int32()
            w.check(lib, lib.wipc_msg_send(name.encode(), 0, data, len(data), TIMEOUT_MS, byref(reply)))
            return reply.value
        h = self._open(scheme, name)
        try:
            w.check(lib, lib.wipc_send(h, 0, data, len(data), TIMEOUT_MS))
        finally:
            lib.wipc_close(h)
        return None

    def broadcast(self, prefix, data):
        delivered = ctypes.c_uint32()
        w.check(self.lib, self.lib.wipc_msg_broadcast(prefix.encode(), 0, data, len(data), TIMEOUT_MS, byref(delivered)))
        return delivered.value


if __name__ == "__main__":
    sys.exit(pc.main(CtypesBackend(), "ctypes", w.WipcError))
