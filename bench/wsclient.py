"""A lean websocket client for load generation: one asyncio.Protocol per socket, no task
per socket and no task per message, so one process can hold thousands of sockets and
read tens of thousands of frames a second without being the bottleneck.

It speaks RFC 6455 itself (the handshake, unmasked server frames, masked client frames
via the `websockets` library's C mask routine, ping -> pong, close), without compression
unless asked to offer permessage-deflate as browsers do (`deflate=True`: it then inflates
compressed server frames), and two application protocols on top:

* ``redline``: Redline's websocket (`/ws/reviews/{id}?token=...`): sends `hello`, waits
  for `welcome`, then every text frame goes to the callback;
* ``engineio``: Engine.IO v4 over a websocket, as python-socketio speaks it
  (`/socket.io/?EIO=4&transport=websocket`): answers the open packet with "40"
  (connect to the default namespace), answers "2" (ping) with "3" (pong), and hands
  every '42[...]' event packet to the callback.

The same client is used for both servers, so both pay the same client-side costs.
"""

from __future__ import annotations

import asyncio
import base64
import os
import struct
import time
import zlib
from typing import Callable

try:
    from websockets.speedups import apply_mask as _apply_mask
except ImportError:  # pragma: no cover
    def _apply_mask(data: bytes, mask: bytes) -> bytes:
        return bytes(b ^ mask[i % 4] for i, b in enumerate(data))

OnText = Callable[["WsClient", bytes, int], None]

HELLO = b'{"op":"hello","last_event_id":null,"name":"bench"}'


class WsClient(asyncio.Protocol):
    """One websocket. `on_text(client, payload, t_ns)` gets every application frame."""

    __slots__ = ("host", "port", "path", "kind", "on_text", "transport", "buf", "handshaken", "ready",
                 "closed", "close_code", "frames", "opened_at", "ready_at", "_frag", "tag", "_hs", "deflate",
                 "inflater", "_fresh_inflater", "_frag_rsv1")

    def __init__(self, host: str, port: int, path: str, kind: str, on_text: OnText, tag: object = None,
                 deflate: bool = False) -> None:
        self.host, self.port, self.path, self.kind = host, port, path, kind
        self.on_text = on_text
        self.tag = tag
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.handshaken = False
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.frames = 0
        self.opened_at = time.monotonic()
        self.ready_at = 0.0
        self._frag: bytearray | None = None
        self._frag_rsv1 = False
        self._hs = b""
        self.deflate = deflate  # offer permessage-deflate, as browsers do
        self.inflater = None
        self._fresh_inflater = False

    # ---------------------------------------------------------------- asyncio ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
               + ("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" if self.deflate else "")
               + "User-Agent: redline-bench\r\n\r\n")
        self.transport.write(req.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready ({self.close_code}, {exc})"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:
        t = time.time_ns()
        buf = self.buf
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end])
            del buf[:end + 4]
            if not head.startswith(b"HTTP/1.1 101"):
                self.close_code = -int(head[9:12] or 0)
                self.transport.close()
                return
            self.handshaken = True
            low = head.lower()
            if b"permessage-deflate" in low:
                self.inflater = zlib.decompressobj(-15)
                self._fresh_inflater = b"server_no_context_takeover" in low
            if self.kind == "redline":
                self.send_text(HELLO)
        # frames
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            ln = b1 & 0x7F
            hdr = 2
            if ln == 126:
                if n - pos < 4:
                    break
                ln = (buf[pos + 2] << 8) | buf[pos + 3]
                hdr = 4
            elif ln == 127:
                if n - pos < 10:
                    break
                ln = struct.unpack_from("!Q", buf, pos + 2)[0]
                hdr = 10
            if b1 & 0x80:  # a masked server frame: not allowed, but read it
                hdr += 4
            if n - pos < hdr + ln:
                break
            payload = bytes(buf[pos + hdr:pos + hdr + ln])
            pos += hdr + ln
            op = b0 & 0x0F
            fin = b0 & 0x80
            if op == 0x0:
                if self._frag is None:
                    continue
                self._frag += payload
                if fin:
                    payload, self._frag = bytes(self._frag), None
                    self._app(self._inflate(payload) if self._frag_rsv1 else payload, t)
            elif op == 0x1 or op == 0x2:
                if not fin:
                    self._frag = bytearray(payload)
                    self._frag_rsv1 = bool(b0 & 0x40)
                else:
                    self._app(self._inflate(payload) if b0 & 0x40 else payload, t)
            elif op == 0x9:
                self._send(0xA, payload)
            elif op == 0x8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                self._send(0x8, payload[:2])
                self.transport.close()
                break
        if pos:
            del buf[:pos]

    def _inflate(self, payload: bytes) -> bytes:
        if self.inflater is None:
            return payload
        if self._fresh_inflater:
            self.inflater = zlib.decompressobj(-15)
        return self.inflater.decompress(payload + b"\x00\x00\xff\xff")

    # ------------------------------------------------------------- protocols ---
    def _app(self, payload: bytes, t: int) -> None:
        self.frames += 1
        if self.kind == "redline":
            if not self.ready.done() and payload.startswith(b'{"type":"welcome"'):
                self.ready_at = time.monotonic()
                self.ready.set_result(True)
            self.on_text(self, payload, t)
        else:  # Engine.IO v4
            c = payload[:1]
            if c == b"4":
                if payload[1:2] == b"2":
                    self.on_text(self, payload, t)
                elif payload[1:2] == b"0" and not self.ready.done():
                    self.ready_at = time.monotonic()
                    self.ready.set_result(True)
                elif payload[1:2] == b"4" and not self.ready.done():
                    self.ready.set_exception(ConnectionError(f"connect refused: {payload[:200]!r}"))
            elif c == b"2":
                self.send_text(b"3" + payload[1:])
            elif c == b"0":
                self.send_text(b"40")
            elif c == b"1":
                self.close()

    # ------------------------------------------------------------------ send ---
    def _send(self, opcode: int, payload: bytes) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        mask = os.urandom(4)
        ln = len(payload)
        if ln < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | ln)
        elif ln < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, ln)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, ln)
        self.transport.write(head + mask + _apply_mask(payload, mask))

    def send_text(self, data: bytes | str) -> None:
        self._send(0x1, data.encode() if isinstance(data, str) else data)

    def close(self, code: int = 1000) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self._send(0x8, struct.pack("!H", code))
            self.transport.close()


async def connect(host: str, port: int, path: str, kind: str, on_text: OnText, *, tag: object = None,
                  timeout: float = 30, deflate: bool = False) -> WsClient:
    loop = asyncio.get_running_loop()
    _, proto = await asyncio.wait_for(
        loop.create_connection(lambda: WsClient(host, port, path, kind, on_text, tag, deflate), host, port), timeout)
    await asyncio.wait_for(asyncio.shield(proto.ready), timeout)
    return proto


async def connect_many(specs: list[tuple[str, object]], host: str, port: int, kind: str, on_text: OnText, *,
                       concurrency: int = 50, timeout: float = 60, deflate: bool = False) -> list[WsClient]:
    """Open one socket per (path, tag), `concurrency` handshakes at a time."""
    sem = asyncio.Semaphore(concurrency)
    out: list[WsClient | None] = [None] * len(specs)

    async def one(i: int, path: str, tag: object) -> None:
        async with sem:
            for attempt in range(3):
                try:
                    out[i] = await connect(host, port, path, kind, on_text, tag=tag, timeout=timeout, deflate=deflate)
                    return
                except (ConnectionError, OSError, asyncio.TimeoutError):
                    if attempt == 2:
                        raise
                    await asyncio.sleep(0.2 * (attempt + 1))

    await asyncio.gather(*(one(i, p, t) for i, (p, t) in enumerate(specs)))
    return out  # type: ignore[return-value]
