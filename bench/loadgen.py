"""The load-generator process: holds many websockets (bench.wsclient) and measures, for
each step of a benchmark, what every socket received: latency from publish to receipt,
lost and duplicated events, closed sockets.

Driven over stdin/stdout with one JSON object per line (bench.fanout starts it):

    {"cmd": "connect", "host", "port", "kind", "sockets": [[path, room], ...], "concurrency"}
    {"cmd": "settle", "quiet": 1.0, "max": 120}      until no frame arrived for `quiet` s
    {"cmd": "begin", "step": k}
    {"cmd": "report", "step": k, "expected": {room: count}, "drain": 3.0}
    {"cmd": "memory", ...}                             (unused here)
    {"cmd": "quit"}

Events carry `"s": step, "n": seq, "t": send time (ns)` in their data; seq counts per room.
Every frame is parsed as JSON and checked: an event must be `{"type": "event", "kind": str,
"data": {...}}` (inside `42["event", ...]` for the Engine.IO peer), and each socket must see a
room's events in the order they were published. A frame that is not such JSON counts as `bad`,
an event older than one already seen on its socket as `out_of_order`; either fails the step.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import threading
import time
from array import array
from collections import Counter
from typing import Any

import orjson

from bench.common import use_uvloop
from bench.wsclient import WsClient, connect_many

LOG_BASE = math.log(1.01)


def hist(lat_us: array) -> dict[str, int]:
    """Latencies in µs -> {bucket: count}, buckets 1 % wide (mergeable across processes)."""
    c: Counter = Counter()
    lg = math.log
    for v in lat_us:
        c[int(lg(v) / LOG_BASE) if v > 1 else 0] += 1
    return {str(k): n for k, n in c.items()}


class Load:
    def __init__(self) -> None:
        self.clients: list[WsClient] = []
        self.step = -1
        self.lat = array("q")
        self.seen: dict[int, bytearray] = {}  # id(client) -> one byte per seq of the step
        self.unique = 0
        self.dups = 0
        self.stray = 0
        self.other = 0
        self.bad = 0
        self.out_of_order = 0
        self.last_n: dict[int, int] = {}  # id(client) -> highest seq seen in the step
        self.last_frame = time.monotonic()
        self.first_recv = 0
        self.last_recv = 0
        self.event_max: dict[tuple[int, int], int] = {}

    def on_text(self, c: WsClient, payload: bytes, t: int) -> None:
        self.last_frame = time.monotonic()
        try:
            if c.kind == "redline":
                frame = orjson.loads(payload)
            else:  # Engine.IO "4" + Socket.IO "2" + ["event", frame]
                name, frame = orjson.loads(payload[2:])
                if name != "event":
                    raise ValueError(name)
            if frame.get("type") != "event":
                self.other += 1  # welcome, presence, ...: valid JSON, not a benchmark event
                return
            if frame["kind"] != "job.progress":
                self.other += 1  # an event of the review itself, not one the benchmark published
                return
            data = frame["data"]
            s, n, ts = data["s"], data["n"], data["t"]
            if not (type(s) is int and type(n) is int and type(ts) is int):
                raise ValueError("s, n, t")
        except (ValueError, TypeError, KeyError, AttributeError):
            self.bad += 1
            return
        if s != self.step:
            self.stray += 1
            return
        last = self.last_n.get(id(c), -1)
        if n > last:
            self.last_n[id(c)] = n
        d = (t - ts) // 1000
        if d < 1:
            d = 1
        self.lat.append(d)
        key = (c.tag, n)  # type: ignore[assignment]
        if d > self.event_max.get(key, 0):
            self.event_max[key] = d
        seen = self.seen.get(id(c))
        if seen is None:
            seen = self.seen[id(c)] = bytearray(max(64, n + 1))
        if n >= len(seen):
            seen.extend(bytes(max(n + 1 - len(seen), len(seen))))
        if seen[n]:
            self.dups += 1
        else:
            if n < last:
                self.out_of_order += 1
            seen[n] = 1
            self.unique += 1
            if not self.first_recv:
                self.first_recv = t
            self.last_recv = t

    # ------------------------------------------------------------- commands ---
    async def connect(self, cmd: dict[str, Any]) -> dict[str, Any]:
        t0 = time.monotonic()
        specs = [(p, r) for p, r in cmd["sockets"]]
        new = await connect_many(specs, cmd["host"], cmd["port"], cmd["kind"], self.on_text,
                                 concurrency=cmd.get("concurrency", 50), deflate=cmd.get("deflate", False))
        self.clients += new
        return {"connected": len(new), "seconds": round(time.monotonic() - t0, 3),
                "compressed": sum(1 for c in new if c.inflater is not None)}

    async def settle(self, cmd: dict[str, Any]) -> dict[str, Any]:
        t0 = time.monotonic()
        quiet, limit = cmd.get("quiet", 1.0), cmd.get("max", 120)
        while time.monotonic() - t0 < limit:
            if time.monotonic() - self.last_frame >= quiet:
                break
            await asyncio.sleep(0.1)
        return {"seconds": round(time.monotonic() - t0, 3), "frames": sum(c.frames for c in self.clients),
                "open": sum(1 for c in self.clients if not c.closed.done())}

    async def begin(self, cmd: dict[str, Any]) -> dict[str, Any]:
        self.step = cmd["step"]
        self.lat = array("q")
        self.seen = {}
        self.unique = self.dups = self.stray = self.other = self.bad = self.out_of_order = 0
        self.last_n = {}
        self.first_recv = self.last_recv = 0
        self.event_max = {}
        return {"step": self.step}

    async def report(self, cmd: dict[str, Any]) -> dict[str, Any]:
        expected: dict[str, int] = {str(k): v for k, v in cmd["expected"].items()}
        want = sum(expected.get(str(c.tag), 0) for c in self.clients)
        deadline = time.monotonic() + cmd.get("drain", 3.0)
        while self.unique < want and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        open_ = [c for c in self.clients if not c.closed.done()]
        closed_codes = Counter(str(c.close_code) for c in self.clients if c.closed.done())
        lat = self.lat
        return {
            "step": self.step, "expected": want, "unique": self.unique, "lost": max(0, want - self.unique),
            "dups": self.dups, "stray": self.stray, "other_frames": self.other,
            "bad": self.bad, "out_of_order": self.out_of_order,
            "first_recv_ns": self.first_recv, "last_recv_ns": self.last_recv,
            "open": len(open_), "closed": dict(closed_codes), "hist": hist(lat), "n": len(lat),
            "max_us": max(lat) if lat else None,
            "event_max": [[str(k[0]), k[1], v] for k, v in self.event_max.items()],
        }

    async def close_all(self) -> dict[str, Any]:
        for c in self.clients:
            c.close()
        await asyncio.sleep(0.2)
        return {"closed": len(self.clients)}


async def serve() -> None:
    load = Load()
    loop = asyncio.get_running_loop()
    q: asyncio.Queue = asyncio.Queue()

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(q.put_nowait, line)
        loop.call_soon_threadsafe(q.put_nowait, None)

    threading.Thread(target=reader, daemon=True).start()
    while True:
        line = await q.get()
        if line is None:
            break
        cmd = json.loads(line)
        name = cmd["cmd"]
        try:
            if name == "quit":
                out = await load.close_all()
            else:
                out = await getattr(load, name)(cmd)
            out = {"ok": True, **out}
        except Exception as e:  # reported to the orchestrator, which stops the run
            out = {"ok": False, "error": f"{e.__class__.__name__}: {e}"}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
        if name == "quit":
            break


def main() -> None:
    use_uvloop()
    asyncio.run(serve())


if __name__ == "__main__":
    main()
