"""Events framed once, written to every socket as they are.

A websocket text frame from the server is its header and the payload, unmasked: for one
event it is the same bytes on every socket. The hub frames each event once (`Prebuilt`); a
socket whose writer is idle writes those bytes straight to its transport (`RawSocket.write`),
skipping the per-socket layers of ASGI, Hypercorn and wsproto that would turn the message into
those same bytes again (most of the server's CPU per delivered frame, see docs/benchmarks.md).

Compression too. Browsers offer permessage-deflate, and with the compressor's context kept
between messages (Hypercorn's default) every socket's compressed bytes differ: each frame was
compressed in Python for each socket, ~50 µs a frame. `share_compression` has the server
answer with `server_no_context_takeover` (RFC 7692 §7.1.1.1 lets a server do so whatever the
client asked), so each message is compressed on its own, and then the compressed frame too is
the same for every socket: the hub compresses an event once, on the first socket that needs it.

`RawSocket.of` finds the transport behind an ASGI `send` (server/internals.py, the one module
that reaches into Hypercorn's private parts) only where that is known to be safe: Hypercorn's
asyncio worker, a websocket over HTTP/1.1, and either no extension or permessage-deflate with
no context takeover and the full window. Anywhere else it returns None
and every frame takes the ASGI path. A write is done only while nothing else is mid-send on
the connection and its buffer is empty; otherwise the caller sends through ASGI, which waits
for the client to drain, closes, pings and so on, as before.
"""

from __future__ import annotations

import asyncio
import struct
import time
import zlib
from typing import Any

from redline.server.internals import hypercorn_socket, websocket_handshake

DEFLATE = "permessage-deflate"


def _frame(first: int, payload: bytes) -> bytes:
    """One final, unmasked frame (RFC 6455 §5.2): `first` is FIN, RSV and opcode."""
    n = len(payload)
    if n < 126:
        return bytes((first, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", first, 126, n) + payload
    return struct.pack("!BBQ", first, 127, n) + payload


def text_frame(payload: bytes) -> bytes:
    """A text frame, uncompressed."""
    return _frame(0x81, payload)


def deflated_text_frame(payload: bytes) -> bytes:
    """A text frame compressed on its own (permessage-deflate, RSV1 set, RFC 7692 §7.2.1)."""
    c = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    data = c.compress(payload) + c.flush(zlib.Z_SYNC_FLUSH)
    return _frame(0xC1, data[:-4])  # less the 00 00 ff ff that ends every message


class Prebuilt:
    """One event's frame, made once for every socket: plain now, compressed when first asked."""

    __slots__ = ("payload", "plain", "_deflated")

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.plain = text_frame(payload)
        self._deflated: bytes | None = None

    def deflated(self) -> bytes:
        if self._deflated is None:
            self._deflated = deflated_text_frame(self.payload)
        return self._deflated


def share_compression(send: Any) -> None:
    """Before the socket is accepted: if the client offers permessage-deflate, answer with
    server_no_context_takeover, so that one compressed frame serves every socket."""
    handshake = websocket_handshake(send)
    offers = getattr(handshake, "extensions", None)
    if not offers:
        return
    handshake.extensions = [o + "; server_no_context_takeover"
                            if o.split(";", 1)[0].strip() == DEFLATE and "server_no_context_takeover" not in o
                            else o for o in offers]


class RawSocket:
    """The transport under one Hypercorn websocket, for frames made by `text_frame`."""

    __slots__ = ("stream", "conn", "lock", "transport", "deflate", "_connected", "_open", "writer")

    def __init__(self, stream: Any, conn: Any, lock: Any, transport: Any, deflate: bool, connected: Any,
                 open_: Any, writer: Any = None) -> None:
        self.stream, self.conn, self.lock, self.transport = stream, conn, lock, transport
        self.writer = writer  # the connection's asyncio StreamWriter (its drain)
        self.deflate = deflate  # the client takes our frames compressed, each on its own
        self._connected, self._open = connected, open_

    @classmethod
    def of(cls, send: Any) -> RawSocket | None:
        """The raw writer behind an accepted websocket's ASGI `send`, or None (server/internals.py
        finds Hypercorn's parts; where it cannot, every frame takes the ASGI path)."""
        ws = hypercorn_socket(send)
        if ws is None:
            return None
        on = [ext for ext in ws.extensions if ext.enabled()]
        deflate = False
        if on:
            if len(on) != 1:
                return None
            (ext,) = on
            if not (getattr(ext, "name", None) == DEFLATE and getattr(ext, "server_no_context_takeover", False)
                    and getattr(ext, "server_max_window_bits", None) == 15):
                return None
            deflate = True
        return cls(ws.stream, ws.connection, ws.send_lock, ws.transport, deflate, ws.connected, ws.open, ws.writer)

    def write(self, event: Prebuilt) -> bool:
        """Write the event's frame now; False (nothing written) when the ASGI path must send it."""
        if (self.stream.closed or self.stream.state is not self._connected or self.conn.state is not self._open
                or self.lock.locked()):
            return False
        transport = self.transport
        if transport.is_closing() or transport.get_write_buffer_size():
            return False
        transport.write(event.deflated() if self.deflate else event.plain)
        return True

    def can_write(self) -> bool:
        return not (self.stream.closed or self.stream.state is not self._connected
                    or self.conn.state is not self._open or self.lock.locked() or self.transport.is_closing())

    async def write_large(self, event: Prebuilt, deadline: float, left: Any, chunk: int = 256 * 1024) -> bool:
        """Write a large frame (a welcome with its snapshot) in pieces, each once the client has
        taken the previous ones, holding the connection's send lock so that nothing interleaves:
        a client that does not read pins one piece, not the whole frame. `left(n)` is told the
        bytes still to write (and answers True to stop: the socket is over its budget). False
        (nothing written) when the ASGI path must send it; TimeoutError when the client has not
        taken it all by `deadline`, or the socket went over its budget: the connection is then
        dropped (a frame cut in the middle cannot be followed by a close frame).
        """
        if not self.can_write() or self.writer is None:
            return False
        frame = memoryview(event.deflated() if self.deflate else event.plain)
        async with self.lock:
            try:
                for start in range(0, len(frame), chunk):
                    if left(len(frame) - start):  # the socket is over its budget: stop now
                        raise asyncio.TimeoutError()
                    if start:
                        await asyncio.wait_for(self.writer.drain(), max(0.0, deadline - time.monotonic()))
                    if self.transport.is_closing():
                        raise ConnectionError("the client went away")
                    self.transport.write(frame[start:start + chunk])
                left(0)
                await asyncio.wait_for(self.writer.drain(), max(0.0, deadline - time.monotonic()))
            except (asyncio.TimeoutError, ConnectionError, asyncio.CancelledError):
                left(0)
                self.transport.abort()
                raise
        return True
