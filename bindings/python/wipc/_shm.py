"""The shm transport: ShmChannel (two rings in one named shared section: a creator and one opener)
and Region (a plain named shared mapping, or a mapped file)."""
from __future__ import annotations

from typing import List, Optional

from . import _native as _n
from ._core import (DEFAULT, Buffer, EventCallback, Handle, MessageCallback, MessageIO, Timeout_, _data, _ms,
                    _name, _options)
from ._errors import AccessDenied


class ShmChannel(MessageIO):
    """A shared-memory channel: the fastest transport, for one peer. Make it with
    ShmChannel.create(name) in one process and ShmChannel.open(name) in the other.

    send/recv/request/reply move whole messages (bytes) tagged with an int type, like a Connection.
    The creator's channel outlives its opener: when the opener leaves (EVENT_DISCONNECTED), a new one
    may open the name (EVENT_CONNECTED). The opener's channel ends when the creator goes.
    """

    @classmethod
    def create(cls, name: str, *, capacity: Optional[int] = None, max_message_size: Optional[int] = None,
               spin_us: Optional[int] = None, flags: int = 0, on_message: Optional[MessageCallback] = None,
               on_event: Optional[EventCallback] = None) -> "ShmChannel":
        """Creates the channel `name`: rings of `capacity` bytes per direction (a power of two,
        default 1 MiB), spinning `spin_us` microseconds before blocking. Optional callbacks as in
        set_callbacks(). Raises wipc.AddrInUse if the name exists."""
        opts = _options(capacity=capacity, max_message_size=max_message_size, spin_us=spin_us, flags=flags or None)
        return cls._with_callbacks(_n.wipc_shm_create(_name(name), opts), on_message, on_event)

    @classmethod
    def open(cls, name: str, timeout: Timeout_ = DEFAULT, *, max_message_size: Optional[int] = None,
             spin_us: Optional[int] = None, on_message: Optional[MessageCallback] = None,
             on_event: Optional[EventCallback] = None) -> "ShmChannel":
        """Opens the channel `name` another process created, waiting up to `timeout` seconds for it
        (see the timeout policy). Raises wipc.NotFound / wipc.Timeout, wipc.Busy (it already has an
        opener); KeyboardInterrupt on Ctrl-C."""
        opts = _options(max_message_size=max_message_size, spin_us=spin_us)
        return cls._with_callbacks(_n.wipcpy_shm_open(_name(name), opts, _ms(timeout)), on_message, on_event)

    @classmethod
    def _with_callbacks(cls, handle: int, on_message: Optional[MessageCallback],
                        on_event: Optional[EventCallback]) -> "ShmChannel":
        ch = cls(handle)
        if on_message or on_event:
            try:
                ch.set_callbacks(on_message, on_event)
            except BaseException:
                ch.close()
                raise
        return ch

    @property
    def peer_pid(self) -> int:
        """The peer's process id (0 while no peer is attached)."""
        return self.info().peer_pid


class Region(Handle):
    """A named shared mapping the processes manage themselves (no framing, no synchronisation), or a
    mapped file. read()/write() copy; view() gives a memoryview that is valid until close()."""

    def __init__(self, handle: int, readonly: bool = False) -> None:
        super().__init__(handle)
        self.readonly = readonly
        self._views: List[memoryview] = []

    @classmethod
    def create(cls, name: str, size: int, *, flags: int = 0) -> "Region":
        """Creates the region `name` of `size` bytes (zero-filled). Raises wipc.AddrInUse."""
        return cls(_n.wipc_region_create(_name(name), _size(size), _options(flags=flags or None)))

    @classmethod
    def open(cls, name: str, readonly: bool = False) -> "Region":
        """Opens the region `name`; readonly=True maps it read-only. Raises wipc.NotFound."""
        return cls(_n.wipc_region_open(_name(name), _n.WIPC_REGION_READONLY if readonly else 0), readonly)

    @classmethod
    def map_file(cls, path: str, size: int = 0, readonly: bool = False) -> "Region":
        """Maps the file at `path`, created or grown to `size` bytes (0 = its current size)."""
        return cls(_n.wipc_region_map_file(_name(path, "path"), _size(size),
                                           _n.WIPC_REGION_READONLY if readonly else 0), readonly)

    @property
    def size(self) -> int:
        """The region's size in bytes."""
        return int(_n.wipc_region_view(self._check())[1])

    def view(self) -> memoryview:
        """A memoryview of the whole region (writable unless read-only). It is released by close():
        do not keep slices of it beyond that."""
        ptr, size = _n.wipc_region_view(self._check())
        mv: memoryview = _n.wipcpy_memoryview(ptr, size, not self.readonly)
        self._views.append(mv)
        return mv

    def read(self, offset: int = 0, size: Optional[int] = None) -> bytes:
        """A copy of `size` bytes at `offset` (default: to the end)."""
        ptr, total = _n.wipc_region_view(self._check())
        end = total if size is None else offset + size
        if not 0 <= offset <= end <= total:
            raise ValueError(f"range {offset}..{end} is outside the region (size {total})")
        return bytes(_n.wipcpy_memoryview(ptr, total, 0)[offset:end])

    def write(self, data: Buffer, offset: int = 0) -> None:
        """Copies `data` (bytes-like) into the region at `offset`."""
        h = self._check()
        if self.readonly:
            raise AccessDenied(_n.WIPC_E_ACCESS_DENIED, "WIPC_E_ACCESS_DENIED: the region is mapped read-only")
        ptr, total = _n.wipc_region_view(h)
        data = memoryview(_data(data)).cast("B")
        if not 0 <= offset <= offset + len(data) <= total:
            raise ValueError(f"{len(data)} bytes at {offset} do not fit in the region (size {total})")
        _n.wipcpy_memoryview(ptr, total, 1)[offset:offset + len(data)] = data

    def close(self) -> None:
        """Releases the memoryviews view() gave, then unmaps and closes the region."""
        for mv in self._views:
            try:
                mv.release()
            except BufferError:   # something still exports it (e.g. numpy): unmapping is the caller's risk
                pass
        self._views.clear()
        super().close()



def _size(size: object) -> int:
    if isinstance(size, bool) or not isinstance(size, int):
        raise TypeError(f"size must be an int, not {type(size).__name__}")
    if size < 0:
        raise ValueError(f"size must be >= 0, not {size}")
    return size
