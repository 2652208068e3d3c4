"""Issue 12's attacks, one at a time, on ONE `redline serve` with default settings, while a second
client decides items on another review every 200 ms ("Must show").

    python -m bench.attacks            # ~4 minutes; rewrites the table in docs/reliability.md

What runs:
- `redline serve` in a subprocess, with default settings: only REDLINE_DATA_DIR (a temp folder)
  and REDLINE_PORT (a free port) are set, so it starts its own embedded Redis and in-process worker.
- A monitor in a second process (`python -m bench.attacks --monitor ...`, its own event loop, so
  the attacks' client work cannot delay it): the "decider" (a websocket on its own review that
  decides an item every 200 ms with the `decide` op, timing each reply and checking at the end
  that every acknowledged decision is in the review's snapshot), a /healthz poller (every 100 ms),
  and an RSS sampler of the serve process tree (every 100 ms, via /proc: the server, its embedded
  Redis, upload-parse children and offline-rules pool processes, each apart).
- The attacks, in this process, each built in code, one at a time with a quiet period between.
  For each: input size, the attacker's answer (status / close code) and the time until it, the
  server's RSS just before, its peak during (VmHWM, reset before each attack through
  /proc/PID/clear_refs, and the 100 ms samples), its RSS after (once back within 10 % of before
  for 2 s, else 10 s after the answer), the decider's p99 and the /healthz maximum over the attack
  and its aftermath, and acknowledged decisions lost.

Clients come from different loopback source addresses (the decider 127.0.0.2, the poller
127.0.0.3, each attack its own 127.0.1.x), all to the server on 127.0.0.1: the server's per-client
limits key on the address, and the decider is "a second client", not the attacker. Every loop
here is bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import io
import json
import os
import random
import re
import socket
import string
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path
from typing import Any, Callable

from bench.common import ROOT, Proc, free_port, log, machine, pct, wait_http, write_result
from tests.samples import big_document, flate_bomb_pdf, one_paragraph

MB = 1 << 20
DOC = ROOT / "docs" / "reliability.md"
START, END = "<!-- attacks:start -->", "<!-- attacks:end -->"
HEADING = "## Attacks on a default `redline serve`"

DECIDER_ADDR, HEALTH_ADDR = "127.0.0.2", "127.0.0.3"
DECIDE_EVERY_S = 0.2
HEALTH_EVERY_S = 0.1
SAMPLE_EVERY_S = 0.1
QUIET_S = 2.0  # before each attack
SETTLE_MAX_S = 10.0  # after the answer: RSS back within 10 % for SETTLE_HOLD_S, or this long
SETTLE_HOLD_S = 2.0

# Targets (issue 12, "Must show").
DECIDER_P99_MS = 500
HEALTHZ_MAX_S = 1.0
PEAK_OVER_MB = 300
AFTER_WITHIN = 0.10


# =================================================================================== inputs ===

def docx_bomb(paragraphs: int = 50_000) -> tuple[bytes, int]:
    """A real .docx (python-docx) whose word/document.xml is ~100 MB of paragraphs (~87:1, under
    a 200-fold ratio check): ~1.2 MB on disk. (bytes, inflated size of document.xml)."""
    import docx

    rnd = random.Random(5)
    base = one_paragraph(2000)
    document = docx.Document()
    document.add_paragraph("MARKER")
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    inflated = 0
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                runs = "</w:t></w:r></w:p><w:p><w:r><w:t>".join(
                    f"{base} {''.join(rnd.choices(string.ascii_lowercase, k=16))} {i}" for i in range(paragraphs))
                data = data.replace(b"MARKER", runs.encode())
                inflated = len(data)
            archive.writestr(info.filename, data)
    return out.getvalue(), inflated


SMALL_DOC = (b"# Timeline\n\nAt 02:10 the alarm sounded and the operator started the pump.\n\n"
             b"# Root Cause\n\nA worn seal let water into the motor housing.\n\n"
             b"# Actions\n\nReplace the seal. Inspect the other pumps by Friday.\n")


# ================================================================================== /proc ===

def _status_kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def rss_mb(pid: int) -> float:
    return _status_kb(pid, "VmRSS") / 1024


def hwm_mb(pid: int) -> float:
    return _status_kb(pid, "VmHWM") / 1024


def reset_hwm(pid: int) -> bool:
    """Reset the peak-RSS mark of `pid` (Linux >= 4.0: write 5 to /proc/PID/clear_refs)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def _kind(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return "other"
    if "redis-server" in cmd or "redis" in Path(f"/proc/{pid}/comm").read_text(errors="replace"):
        return "redis"
    if "redline.jobs.parsing" in cmd:
        return "parse"
    if "multiprocessing" in cmd:  # the offline rules' spawn pool (and its resource tracker)
        return "pool"
    return "other"


def tree_rss(root: int) -> dict[str, float]:
    """RSS (MB) of a process tree: the root as "server", its descendants summed by kind, and how
    many of each (n_<kind>)."""
    out: dict[str, float] = {"server": rss_mb(root)}
    kids = _children()
    todo = list(kids.get(root, []))
    seen = 0
    while todo and seen < 1000:
        pid = todo.pop()
        seen += 1
        kind = _kind(pid)
        out[kind] = out.get(kind, 0.0) + rss_mb(pid)
        out[f"n_{kind}"] = out.get(f"n_{kind}", 0) + 1
        todo.extend(kids.get(pid, []))
    return out


# ================================================================================= clients ===

def http(base: str, addr: str, timeout: float = 120, **kw: Any):
    import httpx

    return httpx.AsyncClient(base_url=base, timeout=timeout,
                             transport=httpx.AsyncHTTPTransport(local_address=addr, **kw))


def ws_url(base: str, rid: str, token: str) -> str:
    return base.replace("http://", "ws://") + f"/ws/reviews/{rid}?token={token}"


class WS:
    """A websocket client from a given source address, keeping what the server sends."""

    def __init__(self, base: str, rid: str, token: str, addr: str, name: str = "bench") -> None:
        self.url, self.addr, self.name = ws_url(base, rid, token), addr, name
        self.ws: Any = None
        self.welcome: dict | None = None
        self.events: list[dict] = []
        self.replies: dict[Any, dict] = {}
        self.closed: tuple[int | None, str] | None = None
        self._ref = 0
        self._changed = asyncio.Event()
        self._reader: asyncio.Task | None = None

    async def connect(self, *, hello: bool = True, compression: str | None = "deflate",
                      timeout: float = 30) -> "WS":
        import websockets

        self.ws = await websockets.connect(self.url, max_size=2 ** 26, compression=compression,
                                           local_addr=(self.addr, 0), open_timeout=timeout)
        self._reader = asyncio.create_task(self._read())
        if hello:
            await self.send({"op": "hello", "last_event_id": None, "name": self.name})
            await self.wait_for(lambda: self.welcome is not None, timeout)
        return self

    async def _read(self) -> None:
        import websockets

        try:
            async for raw in self.ws:
                msg = json.loads(raw)
                t = msg.get("type")
                if t == "welcome":
                    self.welcome = msg
                elif t == "event":
                    self.events.append(msg)
                elif t == "reply":
                    self.replies[msg.get("ref")] = msg
                self._changed.set()
        except (websockets.ConnectionClosed, OSError):
            pass
        finally:
            self.closed = (self.ws.close_code, self.ws.close_reason or "")
            self._changed.set()

    async def send(self, msg: dict | str) -> None:
        await self.ws.send(msg if isinstance(msg, str) else json.dumps(msg))

    async def request(self, msg: dict, timeout: float = 30) -> dict:
        self._ref += 1
        ref = f"r{self._ref}"
        await self.send({**msg, "ref": ref})
        await self.wait_for(lambda: ref in self.replies, timeout)
        return self.replies[ref]

    async def wait_for(self, pred: Callable[[], Any], timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            if result := pred():
                return result
            if self.closed is not None:
                raise RuntimeError(f"socket closed {self.closed} before the condition held")
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out waiting on the socket")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def terminal(self, job_id: str) -> str | None:
        for e in self.events:
            if e["kind"] in ("job.completed", "job.failed", "job.cancelled") and e["data"].get("job_id") == job_id:
                return e["kind"]
        return None

    async def close(self) -> None:
        if self.ws is not None:
            try:
                await asyncio.wait_for(self.ws.close(), 5)
            except Exception:
                pass
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)


async def upload(base: str, addr: str, filename: str, data: bytes,
                 guidelines: tuple[str, bytes] | None = None) -> tuple[int, dict]:
    files = {"document": (filename, data)}
    if guidelines:
        files["guidelines"] = guidelines
    async with http(base, addr) as h:
        r = await h.post("/api/reviews", files=files)
    return r.status_code, r.json()


def _code(status: int, body: dict) -> str:
    err = body.get("error") if isinstance(body, dict) else None
    return f"{status} {err['code']}" if err else str(status)


# ================================================================================= monitor ===

async def monitor(base: str, server_pid: int, out: Path, max_s: float) -> None:
    """The second client, the /healthz poller and the RSS sampler, until "stop" on stdin."""
    rec: dict[str, Any] = {"decider": [], "healthz": [], "rss": [], "checks": [], "errors": []}
    loop = asyncio.get_running_loop()
    commands: asyncio.Queue[str] = asyncio.Queue()

    def stdin_reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(commands.put_nowait, line.strip())
        loop.call_soon_threadsafe(commands.put_nowait, "stop")

    threading.Thread(target=stdin_reader, daemon=True).start()

    # The decider's review and its items.
    status, review = await upload(base, DECIDER_ADDR, "decider.md", SMALL_DOC)
    assert status == 201, review
    rid, token = review["review_id"], review["token"]
    items: list[str] = []
    async with http(base, DECIDER_ADDR) as h:
        for i in range(20):
            r = await h.post(f"/api/reviews/{rid}/items", json={"section_id": "s1", "description": f"note {i}"},
                             headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 201, r.text
            items.append(r.json()["item"]["id"])
    acked: dict[str, str] = {}
    inflight: dict[str, str | None] = {"item": None}
    stop = asyncio.Event()
    turn = asyncio.Lock()  # a check reads the snapshot between two decisions

    async def decider() -> None:
        decisions = ("rejected", "pending", "accepted")
        ws = await WS(base, rid, token, DECIDER_ADDR, "decider").connect()
        i, reconnects = 0, 0
        next_t = time.monotonic()
        while not stop.is_set():
            item, decision = items[i % len(items)], decisions[(i // len(items)) % 3]
            await turn.acquire()
            inflight["item"] = item
            t = time.monotonic()
            try:
                reply = await ws.request({"op": "decide", "item_id": item, "decision": decision}, timeout=10)
                lat = time.monotonic() - t
                ok = bool(reply.get("ok"))
                if ok:
                    acked[item] = decision
                rec["decider"].append([t, lat, ok, None if ok else reply["error"]["code"]])
            except Exception as e:  # a timeout or a closed socket: recorded, then a new socket
                acked.pop(item, None)  # it may still be applied: this item's state is not known to us
                rec["decider"].append([t, time.monotonic() - t, False, type(e).__name__])
                rec["errors"].append(f"decider {time.monotonic():.1f}: {type(e).__name__} {e} {ws.closed}")
                await ws.close()
                reconnects += 1
                if reconnects > 20:
                    return
                try:
                    ws = await WS(base, rid, token, DECIDER_ADDR, "decider").connect()
                except Exception as e2:
                    rec["errors"].append(f"decider reconnect: {e2}")
                    await asyncio.sleep(1)
                    continue
            finally:
                inflight["item"] = None
                turn.release()
            i += 1
            next_t += DECIDE_EVERY_S
            now = time.monotonic()
            if next_t < now - DECIDE_EVERY_S:
                next_t = now  # late: no catching up in a burst
            await asyncio.sleep(max(0.0, next_t - now))
        await ws.close()

    async def healthz() -> None:
        async with http(base, HEALTH_ADDR, timeout=5) as h:
            next_t = time.monotonic()
            while not stop.is_set():
                t = time.monotonic()
                try:
                    r = await h.get("/healthz")
                    rec["healthz"].append([t, time.monotonic() - t, r.status_code])
                except Exception as e:
                    rec["healthz"].append([t, time.monotonic() - t, type(e).__name__])
                next_t += HEALTH_EVERY_S
                now = time.monotonic()
                if next_t < now - HEALTH_EVERY_S:
                    next_t = now
                await asyncio.sleep(max(0.0, next_t - now))

    async def sampler() -> None:
        while not stop.is_set():
            t = time.monotonic()
            sample = await asyncio.to_thread(tree_rss, server_pid)
            rec["rss"].append([t, sample])
            await asyncio.sleep(max(0.0, SAMPLE_EVERY_S - (time.monotonic() - t)))

    async def check(label: str) -> dict:
        """Every decision acknowledged so far (but the one in flight) is in the snapshot."""
        async with turn, http(base, DECIDER_ADDR) as h:
            want = dict(acked)
            r = await h.get(f"/api/reviews/{rid}", params={"token": token})
        have = {i["id"]: i["decision"] for i in r.json().get("items", [])} if r.status_code == 200 else {}
        lost = sorted(k for k, v in want.items() if have.get(k) != v)
        out = {"label": label, "t": time.monotonic(), "status": r.status_code, "acked_items": len(want),
               "decisions_acked": sum(1 for d in rec["decider"] if d[2]), "lost": lost}
        rec["checks"].append(out)
        return out

    tasks = [asyncio.create_task(c()) for c in (decider, healthz, sampler)]
    print(json.dumps({"ready": True, "review_id": rid}), flush=True)
    deadline = time.monotonic() + max_s
    while True:
        try:
            cmd = await asyncio.wait_for(commands.get(), max(0.1, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            cmd = "stop"
        if cmd.startswith("check"):
            print(json.dumps(await check(cmd[6:] or "check")), flush=True)
            continue
        if cmd == "stop":
            break
    stop.set()
    await asyncio.wait(tasks, timeout=15)
    final = await check("final")
    rec["final"] = final
    out.write_text(json.dumps(rec))
    print(json.dumps({"done": True}), flush=True)


class Monitor:
    def __init__(self, base: str, server_pid: int, out: Path, log_path: Path, max_s: float = 900) -> None:
        env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
        self.out, self.log_path = out, log_path
        self._log = open(log_path, "ab")
        self.p = subprocess.Popen([sys.executable, "-m", "bench.attacks", "--monitor", base, "--server-pid",
                                   str(server_pid), "--out", str(out), "--max-s", str(max_s)], cwd=ROOT, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
                                  start_new_session=True)
        self.ready = self._line(120)

    def _line(self, timeout: float) -> dict:
        box: list[str] = []
        t = threading.Thread(target=lambda: box.append(self.p.stdout.readline()), daemon=True)
        t.start()
        t.join(timeout)
        if not box or not box[0]:
            tail = self.log_path.read_text(errors="replace")[-3000:] if self.log_path.exists() else ""
            raise RuntimeError(f"the monitor did not answer (exit {self.p.poll()}):\n{tail}")
        return json.loads(box[0])

    def check(self, label: str) -> dict:
        self.p.stdin.write(f"check {label}\n")
        self.p.stdin.flush()
        return self._line(60)

    def stop(self) -> dict:
        try:
            self.p.stdin.write("stop\n")
            self.p.stdin.flush()
            self._line(60)
            self.p.wait(30)
        finally:
            if self.p.poll() is None:
                self.p.kill()
                self.p.wait()
            self._log.close()
        return json.loads(self.out.read_text())


# ================================================================================= attacks ===

class Attack:
    """One attack: `prepare` (not measured), then `run`, which returns the answer it got."""

    name = ""
    size = ""

    def __init__(self, bench: "Bench", addr: str) -> None:
        self.b, self.addr = bench, addr

    async def prepare(self) -> None:
        pass

    async def run(self) -> dict[str, Any]:
        raise NotImplementedError

    def expected(self, res: dict[str, Any]) -> bool:
        """The attacker got a clear 4xx, or its input was parsed/answered within bounded time."""
        return res.get("ok", False)


class MarkdownSpaces(Attack):
    name = "1. `# a` + 40,000 spaces + `x` as a .md upload, then also as its guidelines"

    async def prepare(self) -> None:
        self.data = b"# a" + b" " * 40_000 + b"x\n\nThe pump was started.\n"
        self.size = f"{len(self.data) / 1000:.0f} kB (x2 with guidelines)"

    async def run(self) -> dict[str, Any]:
        s1, r1 = await upload(self.b.base, self.addr, "spaces.md", self.data)
        s2, r2 = await upload(self.b.base, self.addr, "report.md", SMALL_DOC, guidelines=("g.md", self.data))
        titles = [s["title"] for s in r1.get("sections", [])]
        return {"answer": f"{s1} (sections {titles}); with guidelines: {s2} (has_guidelines "
                          f"{r2.get('has_guidelines')})",
                "ok": s1 == 201 and titles == ["a x"] and s2 == 201 and r2.get("has_guidelines") is True}


class LongParagraph(Attack):
    name = "2a. a 300 kB one-paragraph .txt, uploaded and analyzed (offline reviewer)"

    async def prepare(self) -> None:
        self.data = one_paragraph(300_000).encode()
        self.size = f"{len(self.data) / 1000:.0f} kB"

    async def run(self) -> dict[str, Any]:
        status, r = await upload(self.b.base, self.addr, "para.txt", self.data)
        if status != 201:
            return {"answer": _code(status, r), "ok": False}
        up = time.monotonic() - self.t0
        ws = await WS(self.b.base, r["review_id"], r["token"], self.addr).connect()
        try:
            reply = await ws.request({"op": "analyze"})
            jobs = [j["job_id"] for j in reply["data"]["jobs"]]
            await ws.wait_for(lambda: all(ws.terminal(j) for j in jobs), 150)
            ends = [ws.terminal(j) for j in jobs]
            items = sum(1 for e in ws.events if e["kind"] == "item.added")
        finally:
            await ws.close()
        return {"answer": f"201 ({len(r['sections'])} parts) in {up:.2f} s; {len(jobs)} analysis jobs: "
                          f"{', '.join(sorted(set(ends)))}, {items} findings",
                "ok": all(e == "job.completed" for e in ends)}


class ChatOnBigDocument(Attack):
    name = "2b. a chat question on a 100 kB document (offline reviewer)"

    async def prepare(self) -> None:
        self.data = one_paragraph(100_000).encode()
        self.size = f"{len(self.data) / 1000:.0f} kB document"
        status, self.review = await upload(self.b.base, self.addr, "chat.txt", self.data)
        assert status == 201, self.review

    async def run(self) -> dict[str, Any]:
        r = self.review
        ws = await WS(self.b.base, r["review_id"], r["token"], self.addr).connect()
        try:
            reply = await ws.request({"op": "chat", "message": "Why was the valve opened?"})
            job = reply["data"]["job_id"]
            end = await ws.wait_for(lambda: ws.terminal(job), 120)
        finally:
            await ws.close()
        return {"answer": f"chat job: {end}", "ok": end == "job.completed"}


class FlateBomb(Attack):
    name = "3. a PDF flate bomb (one FlateDecode stream of zeros)"

    async def prepare(self) -> None:
        zeros = 1500
        self.data = await asyncio.to_thread(flate_bomb_pdf, zeros)
        self.size = f"{len(self.data) / 1e6:.2f} MB (inflates to {zeros * MB / 1e9:.1f} GB)"

    async def run(self) -> dict[str, Any]:
        status, r = await upload(self.b.base, self.addr, "bomb.pdf", self.data)
        return {"answer": _code(status, r), "ok": 400 <= status < 500}


class StalledSockets(Attack):
    name = "4. 30 websockets on a 15 MB review send hello and never read"
    count = 30

    async def prepare(self) -> None:
        import redis as redis_sync

        from redline.jobs.keys import ReviewKeys
        from redline.jobs.models import Section

        status, r = await upload(self.b.base, self.addr, "big.md", big_document(1.5).encode())
        assert status == 201, r
        self.rid, self.token = r["review_id"], r["token"]
        # Uploads are capped (2,000,000 characters): the rest added as sections, as test_d does.
        text = big_document(1.6)
        extra = {f"x{i}": Section(id=f"x{i}", title=f"Appendix {i}", index=1000 + i, text=text).model_dump_json()
                 for i in range(9)}
        red = redis_sync.Redis(port=self.b.redis_port, password=self.b.redis_password)
        red.hset(ReviewKeys(self.rid).sections, mapping=extra)
        red.close()
        async with http(self.b.base, self.addr) as h:
            self.snap = len((await h.get(f"/api/reviews/{self.rid}", params={"token": self.token})).content)
            self.closes0 = await self.b.slow_closes(h)
        self.size = f"{self.snap / 1e6:.1f} MB snapshot x {self.count} sockets"

    def _stalled(self) -> socket.socket:
        host, port = self.b.base.split("//")[1].split(":")
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.bind((self.addr, 0))
        s.settimeout(10)
        s.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        s.sendall((f"GET /ws/reviews/{self.rid}?token={self.token} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                   "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 4096:
            head += s.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head[:200]
        hello = b'{"op": "hello", "last_event_id": null}'
        mask = os.urandom(4)
        s.sendall(bytes([0x81, 0x80 | len(hello)]) + mask + bytes(c ^ mask[i % 4] for i, c in enumerate(hello)))
        return s  # never read again until the server has dropped it

    async def run(self) -> dict[str, Any]:
        socks = [await asyncio.to_thread(self._stalled) for _ in range(self.count)]
        try:
            async with http(self.b.base, self.addr) as h:
                deadline = time.monotonic() + 90
                n = await self.b.slow_closes(h)
                while n < self.closes0 + self.count and time.monotonic() < deadline:
                    await asyncio.sleep(0.25)
                    n = await self.b.slow_closes(h)
            dropped = int(n - self.closes0)

            def drain(s: socket.socket) -> int:
                got, end = 0, time.monotonic() + 5
                s.settimeout(0.5)
                while time.monotonic() < end:
                    try:
                        data = s.recv(1 << 16)
                    except socket.timeout:
                        return -1  # still open
                    except OSError:
                        return got
                    if not data:
                        return got
                    got += len(data)
                return -1

            got = [await asyncio.to_thread(drain, s) for s in socks]
        finally:
            for s in socks:
                s.close()
        still_open = sum(1 for g in got if g < 0)
        return {"answer": f"{dropped}/{self.count} closed as too slow (4408 or dropped) after the send timeout "
                          f"(REDLINE_WS_SEND_TIMEOUT_S, 30 s by default); each had read at most "
                          f"{max(got) / 1e6:.1f} MB of the welcome; {still_open} still open",
                "ok": dropped == self.count and still_open == 0}


class DocxBomb(Attack):
    name = "5. a .docx whose document.xml inflates to ~100 MB"

    async def prepare(self) -> None:
        self.data, inflated = await asyncio.to_thread(docx_bomb)
        self.size = f"{len(self.data) / 1e6:.2f} MB (document.xml {inflated / 1e6:.0f} MB)"

    async def run(self) -> dict[str, Any]:
        status, r = await upload(self.b.base, self.addr, "bomb.docx", self.data)
        return {"answer": _code(status, r), "ok": 400 <= status < 500}


class SecondServe(Attack):
    name = "6. a second `redline serve` on the same data folder"
    size = "1 process"

    async def run(self) -> dict[str, Any]:
        env = dict(self.b.env, REDLINE_PORT=str(free_port()))
        log_path = self.b.tmp / "second-serve.log"
        proc = Proc(self.b.serve_cmd, env=env, log_path=log_path)
        try:
            rc = await asyncio.to_thread(proc.p.wait, 60)
        except subprocess.TimeoutExpired:
            rc = None
        finally:
            proc.stop()
        out = proc.output()
        named = f"pid {self.b.server.pid}" in out
        return {"answer": f"exit {rc}" + (" naming the owner" if named else ""),
                "ok": rc not in (0, None) and "in use by another Redline process" in out and named}


class ModelTestBurst(Attack):
    name = "7. 500 calls to POST /api/llm/test in a burst"
    size = "500 requests, 500 connections at once"

    async def run(self) -> dict[str, Any]:
        # Raw HTTP/1.1 (one connection each, all at once): httpx's pool itself takes seconds to
        # push 500 requests through 100 connections, which would be timed as the server's.
        port = int(self.b.base.rsplit(":", 1)[1])
        body = b"{}"
        request = (b"POST /api/llm/test HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        slowest = [0.0]

        async def one() -> str:
            t = time.monotonic()
            try:
                reader, writer = await asyncio.wait_for(
                    asyncio.open_connection("127.0.0.1", port, local_addr=(self.addr, 0)), 30)
                writer.write(request)
                answer = await asyncio.wait_for(reader.read(), 30)  # `Connection: close`: until EOF
                writer.close()
                slowest[0] = max(slowest[0], time.monotonic() - t)
                status = answer.split(b" ", 2)[1].decode()
                code = re.search(rb'"code":\s*"([a-z_]+)"', answer)  # which 429: the rate or the connection cap
                return f"{status} {code[1].decode()}" if code else status
            except Exception as e:
                return type(e).__name__

        codes = await asyncio.gather(*(one() for _ in range(500)))
        statuses = [c.split(" ", 1)[0] for c in codes]
        counts = {c: codes.count(c) for c in sorted(set(codes))}
        return {"answer": ", ".join(f"{n} x {c}" for c, n in counts.items()) + f" (slowest {slowest[0]:.2f} s)",
                "ok": set(statuses) <= {"202", "429"} and statuses.count("429") >= 490}


class ChatFlood(Attack):
    name = "8a. 5 sockets x 30 chats"
    size = "150 chat ops"

    async def prepare(self) -> None:
        status, self.review = await upload(self.b.base, self.addr, "chats.md", SMALL_DOC)
        assert status == 201, self.review

    async def run(self) -> dict[str, Any]:
        r = self.review
        socks = [await WS(self.b.base, r["review_id"], r["token"], self.addr, f"c{i}").connect() for i in range(5)]
        try:
            async def thirty(ws: WS) -> list[dict]:
                return await asyncio.gather(*(ws.request({"op": "chat", "message": f"What happened at step {k}?"})
                                              for k in range(30)))

            replies = [x for group in await asyncio.gather(*(thirty(s) for s in socks)) for x in group]
            jobs = [x["data"]["job_id"] for x in replies if x["ok"]]
            refused = [x["error"]["code"] for x in replies if not x["ok"]]
            answered = time.monotonic() - self.t0
            ends = await socks[0].wait_for(lambda: [socks[0].terminal(j) for j in jobs]
                                           if all(socks[0].terminal(j) for j in jobs) else None, 120)
        finally:
            for s in socks:
                await s.close()
        codes = {c: refused.count(c) for c in set(refused)}
        return {"answer": f"{len(jobs)} accepted, {', '.join(f'{n} {c}' for c, n in codes.items())} "
                          f"(all 150 replies in {answered:.2f} s); the accepted chats: "
                          f"{', '.join(sorted(set(ends)))}",
                "ok": set(codes) <= {"rate_limited"} and len(jobs) <= 40 and all(e == "job.completed" for e in ends)}


class ManySockets(Attack):
    name = "8b. 2,000 websockets from one address"
    size = "2,000 connects"
    count = 2000

    async def prepare(self) -> None:
        status, self.review = await upload(self.b.base, self.addr, "many.md", SMALL_DOC)
        assert status == 201, self.review

    async def run(self) -> dict[str, Any]:
        import websockets

        r = self.review
        url = ws_url(self.b.base, r["review_id"], r["token"])
        kept: list[Any] = []
        results: list[Any] = []
        gate = asyncio.Semaphore(50)

        async def one() -> None:
            async with gate:
                try:
                    ws = await websockets.connect(url, local_addr=(self.addr, 0), open_timeout=20, compression=None)
                except websockets.InvalidStatus as e:
                    results.append(e.response.status_code)
                    return
                except Exception as e:
                    results.append(type(e).__name__)
                    return
                kept.append(ws)
                results.append(101)
                await ws.send(json.dumps({"op": "hello", "last_event_id": None}))

        try:
            await asyncio.gather(*(one() for _ in range(self.count)))
        finally:
            await asyncio.gather(*(asyncio.wait_for(ws.close(), 5) for ws in kept), return_exceptions=True)
        counts = {str(c): results.count(c) for c in set(results)}
        return {"answer": ", ".join(f"{n} x {c}" for c, n in sorted(counts.items())),
                "ok": set(counts) <= {"101", "429"} and counts.get("101", 0) <= 50}


class BigFrames(Attack):
    name = "9. a 300 kB websocket frame (limit 64 kB), 10 times"
    size = "10 x 300 kB"

    async def prepare(self) -> None:
        status, self.review = await upload(self.b.base, self.addr, "frames.md", SMALL_DOC)
        assert status == 201, self.review

    async def run(self) -> dict[str, Any]:
        r = self.review
        codes, worst = [], 0.0
        for _ in range(10):
            ws = await WS(self.b.base, r["review_id"], r["token"], self.addr).connect(compression=None)
            t = time.monotonic()
            try:
                await ws.send("x" * 300_000)
            except Exception:
                pass
            try:
                await ws.wait_for(lambda: ws.closed, 10)
            except RuntimeError:
                pass
            except TimeoutError:
                pass
            worst = max(worst, time.monotonic() - t)
            codes.append(ws.closed[0] if ws.closed else None)
            await ws.close()
        return {"answer": f"close codes {sorted(set(codes))}, slowest close {worst:.2f} s",
                "ok": codes == [1009] * 10 and worst < 3}


class DeleteWhileChats(Attack):
    name = "10a. a review deleted while its analysis and 5 chats run"
    size = "1 review, 5 chats"

    async def prepare(self) -> None:
        status, self.review = await upload(self.b.base, self.addr, "gone.md", SMALL_DOC)
        assert status == 201, self.review

    async def run(self) -> dict[str, Any]:
        import redis as redis_sync

        r = self.review
        rid, token = r["review_id"], r["token"]
        ws = await WS(self.b.base, rid, token, self.addr).connect()
        try:
            await ws.request({"op": "analyze"})
            for i in range(5):
                await ws.request({"op": "chat", "message": f"What happened at step {i}?"})
            await ws.wait_for(lambda: any(e["kind"] == "job.started" for e in ws.events), 30)
            async with http(self.b.base, self.addr) as h:
                d = await h.delete(f"/api/reviews/{rid}", headers={"Authorization": f"Bearer {token}"})
                try:
                    await ws.wait_for(lambda: ws.closed, 10)
                except RuntimeError:
                    pass
                deadline = time.monotonic() + 30
                while time.monotonic() < deadline:
                    q = (await h.get("/api/queues")).json()["queues"]
                    if all(v["queued"] == 0 and v["active"] == 0 for v in q.values()):
                        break
                    await asyncio.sleep(0.1)
        finally:
            await ws.close()
        red = redis_sync.Redis(port=self.b.redis_port, password=self.b.redis_password)
        left = len(red.keys(f"rl:{{{rid}}}:*"))
        red.close()
        return {"answer": f"DELETE {d.status_code}, socket closed {ws.closed[0] if ws.closed else None}, "
                          f"{left} keys left once the jobs stopped",
                "ok": d.status_code == 200 and ws.closed is not None and ws.closed[0] == 4404 and left == 0}


class HugeAuthor(Attack):
    name = "10b. a chat whose author is 1 MB"
    size = "1 MB author"

    async def prepare(self) -> None:
        status, self.review = await upload(self.b.base, self.addr, "author.md", SMALL_DOC)
        assert status == 201, self.review

    async def run(self) -> dict[str, Any]:
        r = self.review
        async with http(self.b.base, self.addr) as h:
            resp = await h.post(f"/api/reviews/{r['review_id']}/chat", json={"message": "Why?", "author": "a" * MB},
                                headers={"Authorization": f"Bearer {r['token']}"})
        return {"answer": _code(resp.status_code, resp.json()), "ok": resp.status_code == 400}


ATTACKS = [MarkdownSpaces, LongParagraph, ChatOnBigDocument, FlateBomb, StalledSockets, DocxBomb, SecondServe,
           ModelTestBurst, ChatFlood, ManySockets, BigFrames, DeleteWhileChats, HugeAuthor]


# =================================================================================== bench ===

class Bench:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.data_dir = tmp / "data"
        port = free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("REDLINE_", "ANTHROPIC_")) and k != "REDIS_URL"}
        self.env.update({"REDLINE_DATA_DIR": str(self.data_dir), "REDLINE_PORT": str(port)})
        exe = Path(sys.executable).with_name("redline")
        self.serve_cmd = [str(exe), "serve"] if exe.exists() else [sys.executable, "-m", "redline.server.cli", "serve"]
        self.server = Proc(self.serve_cmd, env=self.env, log_path=tmp / "serve.log")
        self.base = f"http://127.0.0.1:{port}"
        wait_http(self.base + "/healthz", self.server, timeout=60)
        found = re.search(r"redis://127\.0\.0\.1:(\d+)/0", self.server.output())
        self.redis_port = int(found[1]) if found else 0
        self.redis_password = (self.data_dir / "redis" / "redis.password").read_text().strip()

    async def slow_closes(self, h: Any) -> float:
        text = (await h.get("/metrics")).text
        for line in text.splitlines():
            if line.startswith("redline_slow_client_closes_total "):
                return float(line.split()[1])
        return 0.0


def window(rec: dict, t0: float, t1: float) -> dict[str, Any]:
    dec = [d for d in rec["decider"] if t0 <= d[0] <= t1]
    lat = [d[1] for d in dec]
    hz = [h for h in rec["healthz"] if t0 <= h[0] <= t1]
    hz_bad = [h for h in hz if h[2] != 200]
    rss = [s for t, s in rec["rss"] if t0 <= t <= t1]

    def peak(kind: str) -> float:
        return max((s.get(kind, 0.0) for s in rss), default=0.0)

    return {
        "decider_n": len(lat), "decider_failed": sum(1 for d in dec if not d[2]),
        "decider_failures": sorted({str(d[3]) for d in dec if not d[2]}),
        "decider_p50_ms": round(pct(lat, 50) * 1e3, 1) if lat else None,
        "decider_p99_ms": round(pct(lat, 99) * 1e3, 1) if lat else None,
        "decider_max_ms": round(max(lat) * 1e3, 1) if lat else None,
        "healthz_n": len(hz), "healthz_failed": len(hz_bad),
        "healthz_max_s": round(max((h[1] for h in hz), default=0.0), 3),
        "sampled_peak_server_mb": round(peak("server"), 1), "peak_redis_mb": round(peak("redis"), 1),
        "peak_parse_mb": round(peak("parse"), 1), "peak_pool_mb": round(peak("pool"), 1),
        "max_parse_children": int(peak("n_parse")), "max_pool_children": int(peak("n_pool")),
    }


async def settle(pid: int, before: float) -> tuple[float, float]:
    """RSS once back within 10 % of `before` for SETTLE_HOLD_S, or SETTLE_MAX_S after now. (rss, waited)."""
    start = time.monotonic()
    held_since = None
    while True:
        now = time.monotonic()
        rss = rss_mb(pid)
        if rss <= before * (1 + AFTER_WITHIN):
            held_since = held_since or now
            if now - held_since >= SETTLE_HOLD_S:
                return rss, now - start
        else:
            held_since = None
        if now - start >= SETTLE_MAX_S:
            return rss, now - start
        await asyncio.sleep(0.25)


async def run_all(bench: Bench, mon: Monitor, only: list[str] | None, repeat: int = 1) -> list[dict[str, Any]]:
    rows = []
    pid = bench.server.pid
    await asyncio.sleep(5)  # the decider and the poller warm up; the baseline settles
    plan = [(n, cls, k) for n, cls in enumerate(ATTACKS) if not only or cls.name.split(".", 1)[0] in only
            for k in range(repeat)]
    for n, cls, k in plan:
        label = cls.name.split(".", 1)[0] + (f" (run {k + 1})" if repeat > 1 else "")
        attack = cls(bench, f"127.0.1.{n + 10 + 20 * k}")
        log(f"prepare {cls.name}")
        await attack.prepare()
        await asyncio.sleep(QUIET_S)
        before = rss_mb(pid)
        hwm_ok = reset_hwm(pid)
        log(f"attack  {cls.name} ({attack.size}); server RSS {before:.0f} MB")
        attack.t0 = t0 = time.monotonic()
        try:
            res = await asyncio.wait_for(attack.run(), 240)
        except Exception as e:
            res = {"answer": f"the attack itself failed: {type(e).__name__}: {e}"[:300], "ok": False}
        t1 = time.monotonic()
        peak = hwm_mb(pid) if hwm_ok else None
        after, waited = await settle(pid, before)
        t2 = time.monotonic()
        check = mon.check(f"after {label}")
        row = {"attack": cls.name + (f" (run {k + 1})" if repeat > 1 else ""), "size": attack.size, **res, "answer_s": round(t1 - t0, 2),
               "rss_before_mb": round(before, 1), "rss_peak_mb": round(peak, 1) if peak else None,
               "rss_after_mb": round(after, 1), "settle_s": round(waited, 1), "t0": t0, "t1": t1, "t2": t2,
               "lost": check["lost"], "server_alive": bench.server.alive()}
        rows.append(row)
        log(f"        answer {res['answer']} in {t1 - t0:.2f} s; RSS peak {row['rss_peak_mb']} after {after:.0f} MB "
            f"({waited:.1f} s); lost {len(check['lost'])}")
        if not bench.server.alive():
            log("the server died; stopping here")
            break
    return rows


def judge(row: dict[str, Any]) -> dict[str, bool]:
    peak = max(row.get("rss_peak_mb") or 0, row["sampled_peak_server_mb"])
    return {
        "answer": bool(row["ok"]),
        "decider p99": row["decider_p99_ms"] is not None and row["decider_p99_ms"] < DECIDER_P99_MS
        and row["decider_failed"] == 0,
        "healthz": row["healthz_max_s"] < HEALTHZ_MAX_S and row["healthz_failed"] == 0,
        "peak": peak < row["rss_before_mb"] + PEAK_OVER_MB,
        "after": row["rss_after_mb"] <= row["rss_before_mb"] * (1 + AFTER_WITHIN),
        "nothing lost": not row["lost"],
    }


def render(result: dict[str, Any]) -> str:
    m = result["machine"]
    rows = result["rows"]
    lines = [START, "",
             f"Generated by `python -m bench.attacks` (bench/attacks.py) on {m['date']}: {m['nproc']} cores "
             f"({m['cpu'] or 'unknown CPU'}), {m['ram_gib']} GiB, Linux {m['kernel']}, Python {m['python']}; "
             f"run took {result['run_s']:.0f} s."
             + (" Load average (1 min, this run included) {:.1f} at its start, {:.1f} at its end.".format(
                 *result["loadavg_1min"]) if "loadavg_1min" in result else ""),
             "",
             "One `redline serve` with default settings (only REDLINE_DATA_DIR and REDLINE_PORT set: embedded Redis, "
             "in-process worker, offline reviewer). Meanwhile a second client (its own address) decides an item on "
             "another review every 200 ms over its websocket, and /healthz is polled every 100 ms. Each attack runs "
             f"alone, after {QUIET_S:g} s of quiet. *Answer*: what the attacker got, and when. *RSS* is the "
             "server process's (MB): just before; peak during (the kernel's high-water mark, reset before each "
             "attack); after (once back within 10 % of before for 2 s, else 10 s after the answer). *Decider* and "
             "*/healthz* cover the attack and that aftermath. *Targets*: decider p99 < 500 ms, /healthz < 1 s, "
             "peak < before + 300 MB, after within 10 % of before, a clear 4xx or a parse in bounded time, no "
             "acknowledged decision lost. Each row's targets are checked by the run; a miss is marked **FAIL**.",
             "",
             "| attack | input | answer | time to answer | RSS before / peak / after | Redis, parse, pool peak "
             "| decider p99 (max, n) | /healthz max | targets |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        verdict = judge(row)
        failed = [k for k, ok in verdict.items() if not ok]
        peak = row.get("rss_peak_mb") or row["sampled_peak_server_mb"]
        side = (f"{row['peak_redis_mb']:.0f} / {row['peak_parse_mb']:.0f} ({row['max_parse_children']}) / "
                f"{row['peak_pool_mb']:.0f} ({row['max_pool_children']})")
        dec = f"{row['decider_p99_ms']:.0f} ms ({row['decider_max_ms']:.0f}, {row['decider_n']})" \
            if row["decider_p99_ms"] is not None else "none"
        if row["decider_failed"]:
            dec += f"; {row['decider_failed']} failed ({', '.join(row['decider_failures'])})"
        hz = f"{row['healthz_max_s'] * 1e3:.0f} ms" + (f"; {row['healthz_failed']} failed" if row["healthz_failed"] else "")
        lost = f"; {len(row['lost'])} acknowledged decisions lost" if row["lost"] else ""
        lines.append(f"| {row['attack']} | {row['size']} | {row['answer'].replace('|', '/')}{lost} | "
                     f"{row['answer_s']:.2f} s | {row['rss_before_mb']:.0f} / {peak:.0f} / {row['rss_after_mb']:.0f} | "
                     f"{side} | {dec} | {hz} | "
                     f"{'pass' if not failed else '**FAIL**: ' + ', '.join(failed)} |")
    f = result["final"]
    lines += ["",
              f"Over the whole run: server RSS {result['baseline_mb']:.0f} MB before the first attack, "
              f"{result['end_mb']:.0f} MB after the last ({(result['end_mb'] / result['baseline_mb'] - 1) * 100:+.0f} %: "
              f"each row compares with the RSS just before that attack); the decider made {result['decider']['n']} decisions, "
              f"p99 {result['decider']['p99_ms']} ms, max {result['decider']['max_ms']} ms, "
              f"{result['decider']['failed']} failed; /healthz answered {result['healthz']['n']} polls, max "
              f"{result['healthz']['max_s'] * 1e3:.0f} ms, {result['healthz']['failed']} failed; "
              f"{f['decisions_acked']} acknowledged decisions, {len(f['lost'])} missing from the final snapshot. "
              "Redis, parse and pool: the embedded Redis, the upload-parse children and the offline rules' pool "
              "processes (RSS peak in MB, sampled every 100 ms; the number of such processes in brackets).",
              "", END]
    return "\n".join(lines)


def write_doc(text: str) -> None:
    doc = DOC.read_text()
    if START in doc and END in doc:
        head, rest = doc.split(START, 1)
        doc = head + text + rest.split(END, 1)[1]
    else:
        doc = doc.rstrip("\n") + f"\n\n{HEADING}\n\n{text}\n"
    DOC.write_text(doc)


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    load_before = os.getloadavg()[0]  # other work on the machine shows in the latencies: said in the doc
    with tempfile.TemporaryDirectory(prefix="redline-attacks-") as d:
        tmp = Path(d)
        bench = Bench(tmp)
        log(f"redline serve pid {bench.server.pid} at {bench.base}; embedded Redis on port {bench.redis_port}")
        mon = None
        try:
            mon = Monitor(bench.base, bench.server.pid, tmp / "monitor.json", tmp / "monitor.log")
            await asyncio.sleep(1)
            baseline = rss_mb(bench.server.pid)
            rows = await run_all(bench, mon, args.only, args.repeat)
            end_mb = rss_mb(bench.server.pid)
            rec = mon.stop()
            mon = None
        finally:
            if mon is not None:
                mon.p.kill()
            rc = bench.server.stop(30)
            if rc not in (0, None):
                log(f"the server exited {rc}:\n{bench.server.output()[-3000:]}")
        for row in rows:
            row.update(window(rec, row["t0"], row["t2"]))
        dec = [d[1] for d in rec["decider"]]
        result = {
            "rows": rows, "baseline_mb": baseline, "end_mb": end_mb, "final": rec["final"],
            "decider": {"n": len(dec), "failed": sum(1 for x in rec["decider"] if not x[2]),
                        "p99_ms": round(pct(dec, 99) * 1e3, 1) if dec else None,
                        "max_ms": round(max(dec) * 1e3, 1) if dec else None},
            "healthz": {"n": len(rec["healthz"]), "failed": sum(1 for h in rec["healthz"] if h[2] != 200),
                        "max_s": max((h[1] for h in rec["healthz"]), default=0.0)},
            "monitor_errors": rec["errors"][:50], "run_s": time.monotonic() - started,
            "loadavg_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            "server_log_tail": bench.server.output()[-4000:],
        }
    return result


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", type=lambda s: s.split(","), help="attacks by their number, e.g. 1,2a,4 "
                   "(the doc is not rewritten)")
    p.add_argument("--repeat", type=int, default=1, help="run each attack this many times (the doc is not "
                   "rewritten)")
    p.add_argument("--no-doc", action="store_true", help="do not rewrite docs/reliability.md")
    p.add_argument("--monitor", help=argparse.SUPPRESS)
    p.add_argument("--server-pid", type=int, help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    p.add_argument("--max-s", type=float, default=900, help=argparse.SUPPRESS)
    p.add_argument("--render", action="store_true", help="rewrite the doc's table from bench/results/attacks.json")
    args = p.parse_args(argv)
    if args.render:
        from bench.common import read_result

        write_doc(render(read_result("attacks")))
        return
    if args.monitor:
        asyncio.run(monitor(args.monitor, args.server_pid, Path(args.out), args.max_s))
        return
    result = asyncio.run(main_async(args))
    result["machine"] = machine()
    partial = bool(args.only) or args.repeat != 1
    write_result("attacks-partial" if partial else "attacks", {k: v for k, v in result.items() if k != "machine"})
    text = render(result)
    print(text)
    if not partial and not args.no_doc:
        write_doc(text)
        log(f"wrote the table into {DOC.relative_to(ROOT)}")
    failed = {row["attack"]: [k for k, ok in judge(row).items() if not ok] for row in result["rows"]}
    failed = {k: v for k, v in failed.items() if v}
    log(f"run took {result['run_s']:.0f} s; " + ("all targets held" if not failed else f"missed: {failed}"))


if __name__ == "__main__":
    main()
