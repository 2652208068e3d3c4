"""A small Redline client for the benchmarks that drive jobs (cancel, pipeline, latency,
document): upload over HTTP, one websocket (the `websockets` library) that timestamps
every frame on arrival, and helpers to wait for events."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

import httpx
import orjson
import websockets


async def upload(base: str, text: str, *, filename: str = "bench.md", title: str = "bench") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        r = await http.post("/api/reviews", files={"document": (filename, text.encode())}, data={"title": title})
    r.raise_for_status()
    return r.json()


def markdown(sections: int, words: int = 40) -> str:
    body = " ".join(["The team reviewed the incident timeline and the follow-up actions."] * max(1, words // 10))
    return "# Bench document\n\n" + "\n\n".join(f"## Section {i + 1}\n\n{body}" for i in range(sections)) + "\n"


class RSocket:
    def __init__(self, base: str, rid: str, token: str) -> None:
        self.url = base.replace("http://", "ws://") + f"/ws/reviews/{rid}?token={token}"
        self.ws: Any = None
        self.events: list[tuple[int, dict[str, Any]]] = []  # (receipt time ns, frame)
        self.replies: dict[str, tuple[int, dict[str, Any]]] = {}
        self.cond = asyncio.Condition()
        self._task: asyncio.Task | None = None
        self._ref = 0
        self.closed = False
        self.counts: dict[str, int] = {}
        self.by_job: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}

    async def connect(self) -> "RSocket":
        self.ws = await websockets.connect(self.url, max_size=2**24, compression=None)
        self._task = asyncio.create_task(self._read())
        await self.ws.send(orjson.dumps({"op": "hello", "last_event_id": None, "name": "bench"}).decode())
        await self.wait(lambda: self.welcome is not None, 30)
        return self

    welcome: dict[str, Any] | None = None

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                t = time.time_ns()
                msg = orjson.loads(raw)
                typ = msg.get("type")
                async with self.cond:
                    if typ == "event":
                        self.events.append((t, msg))
                        kind = msg["kind"]
                        self.counts[kind] = self.counts.get(kind, 0) + 1
                        jid = msg["data"].get("job_id")
                        if jid is not None:
                            self.by_job.setdefault((kind, jid), (t, msg))
                    elif typ == "reply":
                        self.replies[str(msg.get("ref"))] = (t, msg)
                    elif typ == "welcome":
                        self.welcome = msg
                    self.cond.notify_all()
        except websockets.ConnectionClosed:
            pass
        finally:
            async with self.cond:
                self.closed = True
                self.cond.notify_all()

    async def send(self, msg: dict[str, Any]) -> tuple[str, int]:
        """Send an op; returns (ref, send time ns)."""
        self._ref += 1
        ref = f"b{self._ref}"
        data = orjson.dumps({**msg, "ref": ref}).decode()
        t = time.time_ns()
        await self.ws.send(data)
        return ref, t

    async def request(self, msg: dict[str, Any], timeout: float = 30) -> tuple[int, dict[str, Any], int]:
        ref, t = await self.send(msg)
        await self.wait(lambda: ref in self.replies, timeout)
        rt, reply = self.replies[ref]
        if not reply.get("ok"):
            raise RuntimeError(f"{msg.get('op')} failed: {reply.get('error')}")
        return t, reply, rt

    async def wait(self, pred: Callable[[], Any], timeout: float = 30) -> Any:
        async with self.cond:
            await asyncio.wait_for(self.cond.wait_for(lambda: pred() or self.closed), timeout)
            out = pred()
            if not out:
                raise RuntimeError("socket closed")
            return out

    def find(self, kind: str, **data: Any) -> tuple[int, dict[str, Any]] | None:
        if list(data) == ["job_id"]:
            return self.by_job.get((kind, data["job_id"]))
        for t, ev in self.events:
            if ev["kind"] == kind and all(ev["data"].get(k) == v for k, v in data.items()):
                return t, ev
        return None

    async def wait_event(self, kind: str, timeout: float = 30, **data: Any) -> tuple[int, dict[str, Any]]:
        return await self.wait(lambda: self.find(kind, **data), timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._task:
            await asyncio.gather(self._task, return_exceptions=True)
