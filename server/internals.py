"""The one place that reaches into other libraries' private parts, for speed.

Two shortcuts are worth it (docs/benchmarks.md): the hub reads its pub/sub connection itself
(redis-py's `_writer`), and a socket writes the hub's ready-made frames straight to its transport
(Hypercorn's `send_lock`, wsproto's `_proto`). Each lookup here answers None when the attribute is
not where it was (another version, another server), and the caller then takes the public path:
redis-py's own reads, the ASGI `send`. tests/test_hub.py checks both against the installed versions.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any


def pubsub_transport(conn: Any) -> asyncio.Transport | None:
    """The transport under a connected redis-py asyncio connection (its private `_writer`), or None."""
    transport = getattr(getattr(conn, "_writer", None), "transport", None)
    if transport is None or not hasattr(transport, "set_protocol") or transport.is_closing():
        return None
    return transport


@dataclass(frozen=True, slots=True)
class HypercornSocket:
    """What `RawSocket` needs of one Hypercorn websocket over HTTP/1.1 on the asyncio worker."""

    stream: Any  # hypercorn.protocol.ws_stream.WSStream (its `state`, `closed`)
    connection: Any  # wsproto's WSConnection (its `state`)
    extensions: list  # the connection's negotiated extensions (wsproto's private `_proto`)
    send_lock: Any  # hypercorn.asyncio.tcp_server.TCPServer.send_lock: held while anything is mid-send
    writer: Any  # the TCP connection's asyncio StreamWriter
    transport: asyncio.Transport
    connected: Any  # ASGIWebsocketState.CONNECTED
    open: Any  # wsproto ConnectionState.OPEN


def hypercorn_socket(send: Any) -> HypercornSocket | None:
    """The parts behind an accepted websocket's ASGI `send`, or None (another server, HTTP/2,
    or a Hypercorn or wsproto that moved things)."""
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
        return HypercornSocket(stream, conn, list(conn._proto.extensions), tcp.send_lock, tcp.writer,
                               tcp.writer.transport, ASGIWebsocketState.CONNECTED, ConnectionState.OPEN)
    except (ImportError, AttributeError):
        return None


def websocket_handshake(send: Any) -> Any:
    """Before accepting: the handshake of the websocket behind `send` (Hypercorn's WSStream keeps
    the extensions the client offered there), or None."""
    return getattr(getattr(send, "__self__", None), "handshake", None)
