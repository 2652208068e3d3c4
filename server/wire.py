"""Events framed once, written to every socket as they are.

A websocket text frame from the server is its header and the payload, unmasked: for one
event it is the same bytes on every socket that has no compression. The hub frames each
event once (`text_frame`); a socket whose writer is idle writes those bytes straight to its
transport (`RawSocket.write`), skipping the per-socket layers of ASGI, Hypercorn and wsproto
that turn a message into those same bytes again (about a quarter of the server's CPU per
delivered frame, see docs/benchmarks.md).

`RawSocket.of` finds the transport behind an ASGI `send` only where that is known to be
safe: Hypercorn's asyncio worker, a websocket over HTTP/1.1, no extension negotiated
(permessage-deflate compresses each socket's frames with its own state, so those go through
wsproto). Anywhere else it returns None and every frame takes the ASGI path. A write is done
only while nothing else is mid-send on the connection and its buffer is empty; otherwise the
caller sends through ASGI, which waits for the client to drain, closes, pings and so on, as
before.
"""

from __future__ import annotations

import struct
from typing import Any


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked, uncompressed text frame (RFC 6455 §5.2)."""
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return struct.pack("!BBH", 0x81, 126, n) + payload
    return struct.pack("!BBQ", 0x81, 127, n) + payload


class RawSocket:
    """The transport under one Hypercorn websocket, for frames made by `text_frame`."""

    __slots__ = ("stream", "conn", "lock", "transport", "_connected", "_open")

    def __init__(self, stream: Any, conn: Any, lock: Any, transport: Any, connected: Any, open_: Any) -> None:
        self.stream, self.conn, self.lock, self.transport = stream, conn, lock, transport
        self._connected, self._open = connected, open_

    @classmethod
    def of(cls, send: Any) -> RawSocket | None:
        """The raw writer behind an accepted websocket's ASGI `send`, or None."""
        try:
            from hypercorn.asyncio.tcp_server import TCPServer
            from hypercorn.protocol.h11 import H11Protocol
            from hypercorn.protocol.ws_stream import ASGIWebsocketState, WSStream
            from wsproto.connection import ConnectionState

            stream = getattr(send, "__self__", None)
            if type(stream) is not WSStream:
                return None
            h11 = getattr(stream.send, "__self__", None)
            if type(h11) is not H11Protocol:  # HTTP/2 websockets frame data in h2 frames
                return None
            tcp = getattr(h11.send, "__self__", None)
            if type(tcp) is not TCPServer:
                return None
            conn = stream.connection
            if any(ext.enabled() for ext in conn._proto.extensions):
                return None
            return cls(stream, conn, tcp.send_lock, tcp.writer.transport, ASGIWebsocketState.CONNECTED,
                       ConnectionState.OPEN)
        except (ImportError, AttributeError):  # another server, or a Hypercorn that moved things
            return None

    def write(self, frame: bytes) -> bool:
        """Write a whole frame now; False (nothing written) when the ASGI path must send it."""
        if (self.stream.closed or self.stream.state is not self._connected or self.conn.state is not self._open
                or self.lock.locked()):
            return False
        transport = self.transport
        if transport.is_closing() or transport.get_write_buffer_size():
            return False
        transport.write(frame)
        return True
