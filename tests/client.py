"""Test clients: the contract's HTTP API and websocket, as an outside client would use them."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Callable

import httpx
import websockets

from tests import samples


async def upload(base: str, *, filename: str = "report.docx", data: bytes | None = None,
                 guidelines: tuple[str, bytes] | None = None, title: str | None = None) -> dict[str, Any]:
    files = {"document": (filename, data if data is not None else samples.sample_docx())}
    if guidelines:
        files["guidelines"] = guidelines
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        r = await http.post("/api/reviews", files=files, data={"title": title} if title else None)
    assert r.status_code == 201, r.text
    return r.json()


def ws_url(base: str, rid: str, token: str | None) -> str:
    url = base.replace("http://", "ws://") + f"/ws/reviews/{rid}"
    return url + (f"?token={token}" if token else "")


def metric(text: str, name: str, **labels: str) -> float:
    """A sample's value in /metrics text (0 when it is not there)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        if key == (f"{name}{{{want}}}" if want else name):
            return float(value)
    return 0.0


class Socket:
    """A websocket client that records everything the server sends."""

    def __init__(self, base: str, rid: str, token: str | None, name: str = "tester", *,
                 compression: str | None = "deflate", extensions: list[Any] | None = None) -> None:
        self.url = ws_url(base, rid, token)
        self.name = name
        self.compression = compression  # offered permessage-deflate, as browsers do; None: not offered
        self.extensions = extensions  # or offered exactly these (websockets' extension factories)
        self.ws: websockets.ClientConnection | None = None
        self.welcome: dict[str, Any] | None = None
        self.events: list[dict[str, Any]] = []
        self.replies: dict[Any, dict[str, Any]] = {}
        self.frames: list[dict[str, Any]] = []
        self.presence: list[dict[str, Any]] = []
        self._cond = asyncio.Condition()
        self._reader: asyncio.Task | None = None
        self._ref = 0
        self.closed: tuple[int | None, str | None] | None = None

    async def connect(self, last_event_id: str | None = None, *, hello: bool = True) -> "Socket":
        opts: dict[str, Any] = {"compression": self.compression}
        if self.extensions is not None:
            opts = {"compression": None, "extensions": self.extensions}
        self.ws = await websockets.connect(self.url, max_size=2**24, **opts)
        self._reader = asyncio.create_task(self._read())
        if hello:
            await self.send({"op": "hello", "last_event_id": last_event_id, "name": self.name})
            await self.wait_for(lambda: self.welcome is not None)
        return self

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                async with self._cond:
                    self.frames.append(msg)
                    t = msg.get("type")
                    if t == "welcome":
                        self.welcome = msg
                    elif t == "event":
                        self.events.append(msg)
                    elif t == "reply":
                        self.replies[msg.get("ref")] = msg
                    elif t == "presence":
                        self.presence.append(msg)
                    self._cond.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            async with self._cond:
                self.closed = (self.ws.close_code, self.ws.close_reason) if self.ws else (None, None)
                self._cond.notify_all()

    async def send(self, msg: dict[str, Any] | str | bytes) -> None:
        await self.ws.send(msg if isinstance(msg, (str, bytes)) else json.dumps(msg))

    async def request(self, msg: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        self._ref += 1
        ref = f"r{self._ref}"
        await self.send({**msg, "ref": ref})
        await self.wait_for(lambda: ref in self.replies, timeout)
        return self.replies[ref]

    async def wait_for(self, pred: Callable[[], Any], timeout: float = 20) -> Any:
        async with self._cond:
            try:
                await asyncio.wait_for(self._cond.wait_for(lambda: pred() or self.closed is not None), timeout)
            except asyncio.TimeoutError:
                raise AssertionError(f"timed out waiting; last frames: {self._tail()}") from None
            result = pred()
            if not result:
                raise AssertionError(f"socket closed {self.closed} before the condition held; "
                                     f"last frames: {self._tail()}")
            return result

    def _tail(self) -> str:
        return " | ".join(json.dumps(f)[:300] for f in self.frames[-5:])

    async def wait_closed(self, timeout: float = 10) -> tuple[int | None, str | None]:
        async with self._cond:
            await asyncio.wait_for(self._cond.wait_for(lambda: self.closed is not None), timeout)
        return self.closed

    def kinds(self, job_id: str | None = None) -> list[str]:
        return [e["kind"] for e in self.events if job_id is None or e["data"].get("job_id") == job_id]

    def terminal(self, job_id: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] in ("job.completed", "job.failed", "job.cancelled")
                and e["data"]["job_id"] == job_id]

    async def close(self) -> None:
        if self.ws:
            await self.ws.close()
        if self._reader:
            await asyncio.gather(self._reader, return_exceptions=True)


class StalledSocket:
    """A websocket client that stops reading after the welcome, with a tiny receive buffer:
    the way a frozen browser tab or a dead mobile link looks to the server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, base: str, rid: str, token: str) -> "StalledSocket":
        import base64
        import os
        import socket as socketlib

        host, port = base.split("//")[1].split(":")
        sock = socketlib.socket()
        sock.setsockopt(socketlib.SOL_SOCKET, socketlib.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        reader, writer = await asyncio.open_connection(sock=sock, limit=2**16)
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write((f"GET /ws/reviews/{rid}?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                      f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                      f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
        await reader.readuntil(b"\r\n\r\n")
        self = cls(reader, writer)
        self.send_text('{"op": "hello", "last_event_id": null}')
        while (await self.next_frame())[0] != 1:  # the server may ping first: wait for the welcome
            pass
        return self

    def send_text(self, text: str) -> None:
        import os

        data = text.encode()
        mask = os.urandom(4)
        assert len(data) < 126
        self.writer.write(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    async def next_frame(self) -> tuple[int, bytes]:
        head = await self.reader.readexactly(2)
        opcode, n = head[0] & 0x0F, head[1] & 0x7F
        if n == 126:
            n = int.from_bytes(await self.reader.readexactly(2), "big")
        elif n == 127:
            n = int.from_bytes(await self.reader.readexactly(8), "big")
        return opcode, await self.reader.readexactly(n)

    async def close_code(self) -> int | None:
        """Read on until the close frame; its code (None if the connection just ended)."""
        try:
            while True:
                opcode, payload = await self.next_frame()
                if opcode == 0x8:
                    return int.from_bytes(payload[:2], "big") if len(payload) >= 2 else None
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        finally:
            self.writer.close()


class ResilientClient:
    """A client that behaves like the page: reconnects by itself with backoff and jitter,
    resumes from its last event id, and applies each event id once, in order."""

    def __init__(self, base: str | list[str], rid: str, token: str, name: str) -> None:
        bases = [base] if isinstance(base, str) else base
        self.urls = [ws_url(b, rid, token) for b in bases]  # behind a load balancer: any instance will do
        self.url = self.urls[0]
        self.name = name
        self.applied: list[str] = []
        self.last: str | None = None
        self.start_id: str | None = None  # the snapshot the client started from
        self.snapshots = 0
        self.recovered = 0
        self.duplicates = 0  # events received whose id was already applied
        self.gaps = 0  # events whose prev was not the last applied id
        self.connects = 0
        self.ws = None
        self.live = False  # welcomed on the current connection: caught up, receiving live events

    async def run(self, stop: asyncio.Event) -> None:
        import random

        from redline.jobs.events import id_key

        backoff = 0.05
        while not stop.is_set():
            try:
                async with websockets.connect(self.url, max_size=2**24, open_timeout=5) as ws:
                    self.ws = ws
                    self.connects += 1
                    await ws.send(json.dumps({"op": "hello", "last_event_id": self.last, "name": self.name}))
                    async for raw in ws:
                        msg = json.loads(raw)
                        if msg["type"] == "welcome":
                            backoff = 0.05
                            self.live = True
                            if msg["recovered"]:
                                self.recovered += 1
                            else:
                                self.snapshots += 1
                                self.last = msg["review"]["last_event_id"]
                                if self.start_id is None and not self.applied:
                                    self.start_id = self.last
                        elif msg["type"] == "event":
                            if self.last is not None and id_key(msg["id"]) <= id_key(self.last):
                                self.duplicates += 1
                                continue
                            if msg["prev"] != (self.last or ""):
                                self.gaps += 1
                            self.applied.append(msg["id"])
                            self.last = msg["id"]
            except (websockets.WebSocketException, OSError, asyncio.TimeoutError):
                self.url = self.urls[(self.urls.index(self.url) + 1) % len(self.urls)]
            finally:
                self.ws = None
                self.live = False
            if stop.is_set():
                return
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 1.0)

    @property
    def welcomes(self) -> int:
        """Welcomes received over all connections: a reconnect shows as one more."""
        return self.snapshots + self.recovered

    def drop(self) -> bool:
        """Cut the connection abruptly (no close frame), as a flaky network does."""
        ws = self.ws
        if ws is None:
            return False
        ws.transport.abort()
        return True


async def until(pred: Callable[[], Any], timeout: float = 20) -> None:
    """Wait for a condition over several clients' state (each client's own events are awaited
    through `Socket.wait_for`; this one looks across clients)."""

    async def loop() -> None:
        while not pred():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(loop(), timeout)
