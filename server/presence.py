"""Who is looking at a review, across every server instance.

Each connection is a field of the review's presence hash (`rl:{rid}:presence`)
with the viewer's name and a timestamp that its server refreshes; entries of a
dead server age out. On join and leave the server publishes a presence frame on
the review's channel, so every socket on every instance gets it.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import orjson
from redis.asyncio import Redis

from redline.jobs.keys import ReviewKeys
from redline.server import protocol as P


class Presence:
    def __init__(self, redis: Redis, server_id: str, ttl: float = 60.0) -> None:
        self.redis = redis
        self.server_id = server_id
        self.ttl = ttl
        self.local: dict[str, dict[str, str]] = {}  # rid -> {conn_id: name}
        self._pending: dict[str, asyncio.Task] = {}  # rid -> the coalesced broadcast to come
        self.coalesce_s = 0.25

    async def join(self, rid: str, conn_id: str, name: str) -> None:
        self.local.setdefault(rid, {})[conn_id] = name
        await self.redis.hset(ReviewKeys(rid).presence, conn_id, self._entry(name))
        self.soon(rid)

    async def leave(self, rid: str, conn_id: str) -> None:
        conns = self.local.get(rid, {})
        conns.pop(conn_id, None)
        if not conns:
            self.local.pop(rid, None)
        await self.redis.hdel(ReviewKeys(rid).presence, conn_id)
        self.soon(rid)

    def soon(self, rid: str) -> None:
        """Broadcast presence within `coalesce_s`: a crowd joining at once gets one frame, not
        one per join (which would be quadratic in the number of sockets)."""
        if rid in self._pending:
            return

        async def later() -> None:
            try:
                await asyncio.sleep(self.coalesce_s)
                await self.broadcast(rid)
            except Exception:
                pass
            finally:
                self._pending.pop(rid, None)

        self._pending[rid] = asyncio.create_task(later())

    def _entry(self, name: str) -> bytes:
        return orjson.dumps({"name": name, "server": self.server_id, "ts": time.time()})

    async def viewers(self, rid: str) -> list[dict]:
        raw = await self.redis.hgetall(ReviewKeys(rid).presence)
        now, tabs, stale = time.time(), Counter(), []
        for conn, val in raw.items():
            entry = orjson.loads(val)
            if now - entry["ts"] > self.ttl:
                stale.append(conn)
            else:
                tabs[entry["name"]] += 1
        if stale:
            await self.redis.hdel(ReviewKeys(rid).presence, *stale)
        return [{"name": n, "tabs": c} for n, c in sorted(tabs.items())]

    async def broadcast(self, rid: str) -> None:
        await self.redis.publish(ReviewKeys(rid).channel, P.presence(await self.viewers(rid)))

    async def refresh_forever(self) -> None:
        """Keep this server's entries fresh (and re-add them after a Redis restart)."""
        while True:
            await asyncio.sleep(self.ttl / 3)
            for rid, conns in list(self.local.items()):
                try:
                    if conns:
                        await self.redis.hset(ReviewKeys(rid).presence,
                                              mapping={c: self._entry(n) for c, n in conns.items()})
                except Exception:
                    pass

    async def remove_all(self) -> None:
        """On shutdown: this server's viewers leave at once."""
        for task in list(self._pending.values()):
            task.cancel()
        for rid, conns in list(self.local.items()):
            try:
                if conns:
                    await self.redis.hdel(ReviewKeys(rid).presence, *conns)
                await self.broadcast(rid)
            except Exception:
                pass
        self.local.clear()
