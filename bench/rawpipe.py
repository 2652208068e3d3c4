"""The fan-out publisher's Redis client: a batch of commands packed by hiredis, sent in one
write, the replies read back with hiredis's parser.

Harness only. The publisher stands in for many workers on other machines, yet here it shares
two cores with the server, Redis and the load generator; through redis-py's pipeline a
published event cost it ~40 µs of CPU (Python-level command packing and connection
bookkeeping), which at 6,000 events/s is a third of a core taken from the servers under test.
The commands are the products' own (Redline's event script, python-socketio's PUBLISH), only
the client is leaner.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

import hiredis


class RawPipe:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._r, self._w = reader, writer
        self._parser = hiredis.Reader()

    @classmethod
    async def open(cls, url: str) -> "RawPipe":
        u = urlparse(url)
        reader, writer = await asyncio.open_connection(u.hostname or "127.0.0.1", u.port or 6379)
        pipe = cls(reader, writer)
        db = (u.path or "/0").lstrip("/") or "0"
        if db != "0":
            await pipe.execute([("SELECT", db)])
        return pipe

    async def execute(self, commands: list[tuple[Any, ...]]) -> list[Any]:
        """Send all commands at once; their replies in order (a Redis error raises)."""
        return await self.execute_packed(b"".join(hiredis.pack_command(c) for c in commands), len(commands))

    async def execute_packed(self, packed: bytes, count: int) -> list[Any]:
        """Send `count` commands already in Redis's wire format; their replies in order."""
        self._w.write(packed)
        out: list[Any] = []
        parser = self._parser
        while len(out) < count:
            reply = parser.gets()
            if reply is False:
                chunk = await self._r.read(1 << 16)
                if not chunk:
                    raise ConnectionError("Redis closed the publisher's connection")
                parser.feed(chunk)
                continue
            if isinstance(reply, hiredis.ReplyError):
                raise reply
            out.append(reply)
        return out

    async def close(self) -> None:
        self._w.close()
        try:
            await self._w.wait_closed()
        except Exception:
            pass
