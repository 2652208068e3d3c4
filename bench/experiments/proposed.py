"""Make a scratch copy of the project with the changes that docs/benchmarks.md proposes, so
they can be measured side by side with the code as it is (nothing here changes the project):

    python -m bench.experiments.proposed /tmp/redline-proposed
    BENCH_EXPERIMENT_ROOT=/tmp/redline-proposed python -m bench.fanout --configs 1000x1,2000x1 \\
        --servers redline-exp --out experiment-fanout
    python -m bench.pipeline --server-root /tmp/redline-proposed --out experiment-pipeline
    BENCH_EXPERIMENT_ROOT=/tmp/redline-proposed python -m bench.memory --servers redline,redline-exp \\
        --sizes 1000 --out experiment-memory

The changes (string replacements that fail loudly when the code they expect has moved):

P1 server/socket.py   the writer sends through this websocket's ASGI send, bound once, instead of
                      Quart's `websocket.send` (which does `await asyncio.sleep(0)`, an accept
                      check, context-local lookups and a `websocket_sent` signal per frame).
P2 server/hub.py      the hub builds the websocket frame (header + payload: server frames are
   server/socket.py   unmasked, so the bytes are the same for every socket) once per event; the
                      writer writes those bytes to the connection's transport when no extension
                      (permessage-deflate) was negotiated, else it falls back to P1.
P3 server/presence.py presence frames coalesced: at most one per review per 250 ms.
P4 server/hub.py      the hub writes the ready frame straight to an idle socket's transport (in
   server/socket.py   order: cursor and `prev` checked; transport buffer under 64 KiB), with no
                      task wake-up and no Future per socket per event; busy or slow sockets,
                      replies and catch-up keep the queued path.
P6 jobs/tasks.py      analyze_section reads its section, the outline, the title and the guidelines
                      in one Redis round trip, and parses the outline with orjson.
P7 server/hub.py      no third task and no second Event per connection: a close or an overflow
   server/socket.py   cancels the writer task (Subscriber.done_cb) instead of setting `done`.

Knobs of the copy (environment): EXP_FAST=1 (P1 only: no P2/P4), EXP_DIRECT=0 (no P4),
EXP_PRESENCE=0 (no P3). P2 and P4 reach into Hypercorn 0.18's private attributes
(WSStream.connection, H11Protocol.send, TCPServer.writer) and fall back when they are missing.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
EDITS: list[tuple[str, str, list[tuple[str, str]] | str]] = []  # (file, "patch" | "append", pairs | text)


def patch(rel: str, pairs: list[tuple[str, str]]) -> None:
    EDITS.append((rel, "patch", pairs))


def append(rel: str, text: str) -> None:
    EDITS.append((rel, "append", text))


# ---- P1, P2, P3
patch("server/hub.py", [
    ("import random\n", "import random\nimport struct\n"),
    ("        entry = (id_key(eid) if eid else None, eid, frame)",
     "        n = len(data)  # P2: the websocket frame (server frames are unmasked): built once per event\n"
     "        hdr = bytes((0x81, n)) if n < 126 else (struct.pack('!BBH', 0x81, 126, n) if n < 65536\n"
     "                                                 else struct.pack('!BBQ', 0x81, 127, n))\n"
     "        entry = (id_key(eid) if eid else None, eid, frame, hdr + data)"),
])
patch("server/socket.py", [
    ("import asyncio\n", "import asyncio\nimport functools\nimport os\n"),
    ("""    async def _write(self) -> None:
        sub = self.sub
        while True:""", """    async def _write(self) -> None:
        sub = self.sub
        send = fast_sender()
        raw, rawdrain = raw_transport(send) if os.environ.get("EXP_FAST", "3") == "3" else (None, None)
        while True:"""),
    ("""                key, eid, frame = entry
""", """                key, eid, frame = entry[0], entry[1], entry[2]
"""),
    ("""                    self.cursor, self.cursor_id = key, eid
""", """                    self.cursor, self.cursor_id = key, eid
                    if raw is not None and len(entry) > 3 and not raw.is_closing():
                        raw.write(entry[3])
                        if raw.get_write_buffer_size() > 65536:
                            await rawdrain()
                        continue
"""),
    ("""                await websocket.send(frame)

    async def _catch_up""", """                await send(frame)

    async def _catch_up"""),
])
append("server/socket.py", '''

def fast_sender():
    """P1: this websocket's ASGI send, bound once: a frame goes to Hypercorn without Quart's
    per-message sleep(0), accept check, context-local lookups and websocket_sent signal."""
    ws = websocket._get_current_object()
    inner = getattr(ws, "_send", None)
    if isinstance(inner, functools.partial) and inner.args:
        asgi_send = inner.args[0]

        def send(text: str):
            return asgi_send({"type": "websocket.send", "bytes": None, "text": text})
        return send
    return ws.send


def raw_transport(send):
    """P2: Hypercorn's TCP transport under this websocket, when no extension (permessage-deflate)
    was negotiated, so ready-made frames may be written to it as they are."""
    try:
        asgi_send = send.__closure__[0].cell_contents  # WSStream.app_send
        stream = asgi_send.__self__
        if stream.connection._proto.extensions:
            return None, None
        writer = stream.send.__self__.send.__self__.writer  # H11Protocol -> TCPServer
        return writer.transport, writer.drain
    except Exception as e:
        log.warning("no raw transport: %r", e)
        return None, None
''')
patch("server/presence.py", [
    ("""    async def broadcast(self, rid: str) -> None:
        await self.redis.publish(ReviewKeys(rid).channel, P.presence(await self.viewers(rid)))""",
     """    async def broadcast(self, rid: str) -> None:
        \"\"\"P3: coalesced, at most one presence frame per review per 250 ms.\"\"\"
        import os
        if os.environ.get("EXP_PRESENCE", "1") != "1":
            await self.redis.publish(ReviewKeys(rid).channel, P.presence(await self.viewers(rid)))
            return
        pending = self.__dict__.setdefault("_pending", set())
        if rid in pending:
            return
        pending.add(rid)
        asyncio.get_running_loop().call_later(0.25, lambda: asyncio.ensure_future(self._flush(rid)))

    async def _flush(self, rid: str) -> None:
        self._pending.discard(rid)
        try:
            await self.redis.publish(ReviewKeys(rid).channel, P.presence(await self.viewers(rid)))
        except Exception:
            pass"""),
])
# ---- P4: the hub writes a ready frame straight to an idle socket's transport (no task wake-up,
# no Future per socket per event); queued path unchanged for busy/slow sockets, replies, catch-up.
patch("server/hub.py", [
    ('''    __slots__ = ("rid", "queue", "maxlen", "wake", "overflowed", "closing", "done")''',
     '''    __slots__ = ("rid", "queue", "maxlen", "wake", "overflowed", "closing", "done", "direct")'''),
    ('''        self.closing: int | None = None  # the close code the server asks for
''', '''        self.closing: int | None = None  # the close code the server asks for
        self.direct = None  # P4: callable(entry) -> bool, True when the frame went out at once
'''),
    ('''    def push(self, entry: Any) -> None:
''', '''    def push(self, entry: Any) -> None:
        if self.direct is not None and not self.queue and entry is not RESYNC and self.direct(entry):
            return
'''),
])
patch("server/socket.py", [
    ('''        self.joined = False
''', '''        self.joined = False
        self._busy = True  # P4: the writer is handling its queue (frames must queue behind it)
        self._raw = None
'''),
    ('''        raw, rawdrain = raw_transport(send) if os.environ.get("EXP_FAST", "3") == "3" else (None, None)
        while True:
            await sub.wake.wait()
            sub.wake.clear()''', '''        raw, rawdrain = raw_transport(send) if os.environ.get("EXP_FAST", "3") == "3" else (None, None)
        if raw is not None and os.environ.get("EXP_DIRECT", "1") == "1":
            self._raw = raw
            sub.direct = self._direct
        while True:
            self._busy = False
            await sub.wake.wait()
            self._busy = True
            sub.wake.clear()'''),
])
patch("server/socket.py", [('''    async def _catch_up(self, upto: str | None) -> None:''', '''    def _direct(self, entry) -> bool:
        """P4, called by the hub's listener (never awaits): write the event's ready frame now when
        this socket is idle, in order and its transport keeps up; False: queue it as usual."""
        raw = self._raw
        if self._busy or raw is None or len(entry) < 4 or entry[0] is None:
            return False
        if raw.is_closing() or raw.get_write_buffer_size() > 65536:
            return False
        key = entry[0]
        if key <= self.cursor:
            return True  # already sent
        if frame_prev(entry[2]) != (self.cursor_id or ""):
            return False  # a gap: the writer fills it from the log
        self.cursor, self.cursor_id = key, entry[1]
        raw.write(entry[3])
        return True

    async def _catch_up(self, upto: str | None) -> None:''')])

# ---- P6
old = '''        section = await rt.store.section(rid, section_id)
        if section is None:
            raise JobFailed("This section no longer exists.")
        sections = await rt.store.sections(rid)
        meta = await rt.store.meta(rid)
        req = AnalysisRequest(review_title=meta.get("title", ""), section=section,
                              outline=[s.title for s in sections], guidelines=await rt.store.guidelines(rid))'''
new = '''        import orjson
        from jobs.models import Section
        k = ReviewKeys(rid)
        async with rt.redis.pipeline(transaction=False) as pipe:
            pipe.hvals(k.sections).hget(k.review, "title").hget(k.files, "guidelines")
            raw_sections, title, guide = await pipe.execute()
        parsed = sorted((orjson.loads(v) for v in raw_sections), key=lambda d: d["index"])
        mine = next((d for d in parsed if d["id"] == section_id), None)
        if mine is None:
            raise JobFailed("This section no longer exists.")
        section = Section.model_validate(mine)
        req = AnalysisRequest(review_title=(title or b"").decode(), section=section,
                              outline=[d["title"] for d in parsed], guidelines=guide.decode() if guide else None)'''
patch("jobs/tasks.py", [(old, new)])

# ---- P7
patch("server/hub.py", [
    ('"closing", "done", "direct")', '"closing", "done_cb", "direct")'),
    ("""        self.done = asyncio.Event()  # the socket must close now (too slow, or server going away)
""", """        self.done_cb = None  # P7: called once when the socket must close (cancels its writer)
"""),
    ("""                self.queue.clear()  # nothing more will be sent: free the memory now
                self.done.set()""", """                self.queue.clear()  # nothing more will be sent: free the memory now
                self._done()"""),
    ("""    def close(self, code: int) -> None:
        self.closing = code
        self.done.set()""", """    def close(self, code: int) -> None:
        self.closing = code
        self._done()

    def _done(self) -> None:
        cb, self.done_cb = self.done_cb, None
        if cb is not None:
            cb()
        self.wake.set()"""),
])
patch("server/socket.py", [
    ("""            tasks.append(asyncio.create_task(self._write(), name="ws-writer"))""",
     """            writer = asyncio.create_task(self._write(), name="ws-writer")
            tasks.append(writer)
            if self.sub.closing is not None or self.sub.overflowed:
                writer.cancel()
            else:
                self.sub.done_cb = writer.cancel"""),
    ("""            tasks.append(asyncio.create_task(self.sub.done.wait()))
""", ""),
])


def make(dst: pathlib.Path) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(".git", "__pycache__", "results", "*.egg-info",
                                                             ".pytest_cache", "node_modules"))
    for rel, how, what in EDITS:
        p = dst / rel
        s = p.read_text()
        if how == "append":
            s += what  # type: ignore[operator]
        else:
            for old, new in what:  # type: ignore[union-attr]
                if old not in s:
                    raise SystemExit(f"{rel}: the code this change expects has moved: {old[:80]!r}")
                s = s.replace(old, new, 1)
        p.write_text(s)
    for rel in sorted({rel for rel, _, _ in EDITS}):
        subprocess.run([sys.executable, "-m", "py_compile", str(dst / rel)], check=True)
    print(f"a copy with P1-P4, P6, P7 in {dst}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m bench.experiments.proposed DIR")
    make(pathlib.Path(sys.argv[1]).resolve())
