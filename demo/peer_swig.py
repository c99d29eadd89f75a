#!/usr/bin/python3
"""peer_swig.py - the interop peer over the SWIG package `wipc` (command line: demo/peer_common.py).

Finds the package in $WIPC_PYTHONPATH, else <dir of $WIPC_LIBRARY>/bindings/python, else
<repo>/build/linux/bindings/python.
"""
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def package_dir():
    if os.environ.get("WIPC_PYTHONPATH"):
        return os.environ["WIPC_PYTHONPATH"]
    lib = os.environ.get("WIPC_LIBRARY")
    base = Path(lib).parent if lib else HERE.parent / "build" / "linux"
    return str(base / "bindings" / "python")


sys.path.insert(0, package_dir())
sys.path.insert(0, str(HERE))
import wipc  # noqa: E402
import peer_common as pc  # noqa: E402


class SwigBackend:
    @staticmethod
    def _answer(msg):
        if msg.is_request:
            msg.reply(pc.upper(msg.data))
        return pc.byte_sum(msg.data)

    def serve(self, scheme, name):
        if scheme == "pipe":
            return wipc.PipeServer(name, on_message=self._answer)
        if scheme == "shm":
            return wipc.ShmChannel.create(name, on_message=self._answer)
        return wipc.MsgEndpoint(name, on_message=self._answer)

    @staticmethod
    def close(endpoint):
        endpoint.close()

    def client(self, scheme, name):
        if scheme == "msg":
            return (lambda data: wipc.msg_send(name, data, type=1, timeout=pc.TIMEOUT_S)), (lambda: None)
        ch = (wipc.connect(name, timeout=pc.TIMEOUT_S) if scheme == "pipe"
              else wipc.ShmChannel.open(name, timeout=pc.TIMEOUT_S))
        return (lambda data: ch.request(data, type=1, timeout=pc.TIMEOUT_S)), ch.close

    def send(self, scheme, name, data):
        if scheme == "msg":
            return wipc.msg_send(name, data, timeout=pc.TIMEOUT_S)
        with (wipc.connect(name, timeout=pc.TIMEOUT_S) if scheme == "pipe"
              else wipc.ShmChannel.open(name, timeout=pc.TIMEOUT_S)) as ch:
            ch.send(data, timeout=pc.TIMEOUT_S)
        return None

    def broadcast(self, prefix, data):
        return wipc.msg_broadcast(prefix, data, timeout=pc.TIMEOUT_S)


if __name__ == "__main__":
    sys.exit(pc.main(SwigBackend(), "swig", wipc.Error))
