"""A local fake of the Anthropic Messages API, reached by the REAL ``anthropic`` SDK.

Point the SDK at it with ``base_url=fake.url`` (or env ``ANTHROPIC_BASE_URL``, see
:meth:`FakeAnthropic.env`).  It is a tiny HTTP/1.1 server written on plain ``asyncio``
streams (no extra dependency), bound to 127.0.0.1 on a free port.

Endpoints
    POST /v1/messages               non-streaming JSON, or ``"stream": true`` -> SSE in the
                                    real wire format (message_start, content_block_start,
                                    ping, content_block_delta {text_delta|input_json_delta},
                                    content_block_stop, message_delta, message_stop, error)
    POST /v1/messages/count_tokens  ``{"input_tokens": N}`` (chars/4 estimate)
    GET  /v1/models[/{id}]          ModelInfo objects

Two ways to run it
    ``with FakeAnthropic() as fake:``        own thread + own event loop.  Works from sync
                                             tests, async tests (any loop, uvloop too) and
                                             for subprocesses (pass ``env=fake.env()``).
    ``async with FakeAnthropic() as fake:``  served by the *current* event loop.  Only for
                                             async clients: anything that blocks the loop
                                             (sync SDK client, time.sleep, subprocess.run)
                                             deadlocks it.

Scripting
    fake.script(Text("hi"), ToolUse("record", {...}), Error.rate_limited(retry_after_ms=5))
        queue of replies, consumed in order by the next POST /v1/messages requests.
    fake.default = Text("...") | responder
        used when the queue is empty.  A responder is ``callable(body: dict) -> Reply``;
        queued entries may be responders too.  ``prompt_text(body)`` helps to quote the
        prompt back.  The built-in default answers a forced ``tool_choice`` with an empty
        tool input, and anything else with a short text.

Reply kinds (all dataclasses; ``latency`` = seconds before the status line, i.e. TTFB)
    Text(text, chunk_size=20, delay_per_chunk=0.0, latency=0.0, stop_reason="end_turn")
    ToolUse(name, input, chunk_size=20, delay_per_chunk=0.0, latency=0.0)
        the JSON of ``input`` is streamed as input_json_delta chunks of ``chunk_size``
        characters, after one leading empty ``partial_json: ""`` delta as the real API sends.
    MalformedToolJson(text, name=None, ...)
        streams ``text`` verbatim as the tool input.  Non-streaming: ``text`` is put raw in
        the JSON body in place of the input object (so the body is not valid JSON unless
        ``text`` is).
    Error(status, type, message, headers={})     real shape ``{"type":"error","error":{...}}``
        helpers: Error.rate_limited(), .overloaded(), .auth(), .bad_request(), .not_found(),
        .api_error()
    MidStreamError(after_chunks, inner, error_type="overloaded_error", message="Overloaded")
        streams ``after_chunks`` content deltas of ``inner`` then ``event: error`` and ends
        the body cleanly.  Non-streaming: answered as an HTTP error (529 for overloaded).
    Stall(after_chunks, inner, seconds, then="continue")
        streams ``after_chunks`` deltas then sends nothing for ``seconds`` (connection kept
        open), then continues (``then="continue"``) or closes the connection ("close").
        Non-streaming: waits ``seconds`` before the status line.
    Drop(after_chunks, inner)
        streams ``after_chunks`` deltas then closes the TCP connection mid-body.
    Wrappers nest: Stall(1, MidStreamError(3, Text(...)), 0.5) stalls then errors.
    A "chunk" is one non-empty content_block_delta.  ``after_chunks=0`` triggers right after
    message_start / content_block_start / ping.

Recording (``fake.requests``: list[RecordedRequest], every request, in arrival order)
    method, path, query, headers (lower-cased), body (bytes), json, stream, reply,
    status, received_at, first_byte_at, first_token_at, finished_at, disconnected_at,
    completed, cache_control (every cache_control marker seen, with where/block),
    usage (what was reported), responder_error.
    All ``*_at`` values are ``time.monotonic()`` (system-wide on Linux, so they compare
    with the test process and with subprocesses); ``wall_time`` is ``time.time()``.
    ``disconnected_at`` is set when the client closes the connection while its response
    is still being produced (latency, stall, streaming); a normal end never sets it.
    Concurrency: ``fake.in_flight``, ``fake.max_in_flight``; rate: ``fake.timestamps()``,
    ``fake.max_requests_in_window(seconds)``.  Time to first token: each record's
    ``time_to_first_token`` (first content delta minus arrival), ``fake.ttft_samples()``,
    and the ``fake.on_first_token(record)`` hook (called on the server thread).
    ``fake.hook_errors`` collects exceptions raised by responders/hooks (the client got a
    500 api_error).  Waiting: ``fake.wait_until(pred)`` / ``fake.wait_for_requests(n)`` from
    sync code, ``await fake.await_until(pred)`` from async code.  ``fake.reset()`` clears
    requests, script, prompt cache and counters.

Usage simulation: input tokens are estimated at 4 characters per token.  Prompt caching is
simulated: a prefix ending at a ``cache_control`` breakpoint is "written" the first time
(``cache_creation_input_tokens``) and "read" on later requests that repeat it
(``cache_read_input_tokens``); ``input_tokens`` counts what follows the last breakpoint,
as the real API does.  A reply's ``usage={...}`` overrides any reported field.

Optional server behaviour: ``api_key="k"`` -> 401 authentication_error for any other
key; ``known_models={...}`` -> 404 not_found_error for other model ids;
``max_concurrency=N`` -> 429 rate_limit_error (with ``retry-after-ms``) for requests over N
in flight; ``validate=True`` (default) -> 400 invalid_request_error when model,
max_tokens or messages is missing.

``python -m tests.fake_anthropic [--port P]`` (or ``python tests/fake_anthropic.py``)
serves the default replies and prints its URL on the first line.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import http
import itertools
import json
import math
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Optional, Union
from urllib.parse import parse_qs, urlsplit

__all__ = [
    "FakeAnthropic",
    "RecordedRequest",
    "Text",
    "ToolUse",
    "MalformedToolJson",
    "Error",
    "MidStreamError",
    "Stall",
    "Drop",
    "Reply",
    "Responder",
    "default_responder",
    "prompt_text",
    "estimate_tokens",
]


# --------------------------------------------------------------------------- replies


@dataclass
class Text:
    text: str
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    stop_reason: str = "end_turn"
    usage: Optional[dict] = None
    model: Optional[str] = None


@dataclass
class ToolUse:
    name: str
    input: dict
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    id: Optional[str] = None
    stop_reason: str = "tool_use"
    usage: Optional[dict] = None
    model: Optional[str] = None


@dataclass
class MalformedToolJson:
    text: str
    name: Optional[str] = None  # default: forced tool_choice name, else first tool, else "tool"
    chunk_size: int = 20
    delay_per_chunk: float = 0.0
    latency: float = 0.0
    id: Optional[str] = None
    stop_reason: str = "tool_use"
    usage: Optional[dict] = None
    model: Optional[str] = None


@dataclass
class Error:
    status: int
    type: str
    message: str = ""
    headers: dict = field(default_factory=dict)
    latency: float = 0.0

    @classmethod
    def rate_limited(
        cls, retry_after_ms: Optional[float] = None, retry_after: Optional[float] = None, message: str = "Rate limited"
    ) -> "Error":
        headers: dict = {}
        if retry_after_ms is not None:
            headers["retry-after-ms"] = _num(retry_after_ms)
        if retry_after is not None:
            headers["retry-after"] = _num(retry_after)
        return cls(429, "rate_limit_error", message, headers)

    @classmethod
    def overloaded(cls, message: str = "Overloaded", **headers: str) -> "Error":
        return cls(529, "overloaded_error", message, dict(headers))

    @classmethod
    def auth(cls, message: str = "invalid x-api-key") -> "Error":
        return cls(401, "authentication_error", message)

    @classmethod
    def bad_request(cls, message: str = "invalid request") -> "Error":
        return cls(400, "invalid_request_error", message)

    @classmethod
    def not_found(cls, message: str = "not found") -> "Error":
        return cls(404, "not_found_error", message)

    @classmethod
    def api_error(cls, message: str = "Internal server error") -> "Error":
        return cls(500, "api_error", message)


Content = Union[Text, ToolUse, MalformedToolJson]


@dataclass
class MidStreamError:
    after_chunks: int
    inner: Any  # Content or another wrapper
    error_type: str = "overloaded_error"
    message: str = "Overloaded"


@dataclass
class Stall:
    after_chunks: int
    inner: Any
    seconds: float
    then: str = "continue"  # "continue" | "close"


@dataclass
class Drop:
    after_chunks: int
    inner: Any


Reply = Union[Text, ToolUse, MalformedToolJson, Error, MidStreamError, Stall, Drop]
Responder = Callable[[dict], Reply]


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


_ERROR_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "overloaded_error": 529,
}


# --------------------------------------------------------------------------- helpers


def estimate_tokens(text: str) -> int:
    """The fake's tokenizer: ~4 characters per token, at least 1 for non-empty text."""
    return math.ceil(len(text) / 4) if text else 0


def _blocks_text(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    out: list[str] = []
    for block in content or []:
        if isinstance(block, dict):
            if block.get("type") == "text":
                out.append(block.get("text", ""))
            elif block.get("type") == "tool_result":
                out.extend(_blocks_text(block.get("content")))
            elif block.get("type") == "document":
                src = block.get("source") or {}
                if src.get("type") == "text":
                    out.append(src.get("data", ""))
    return out


def prompt_text(body: dict, *, roles: Iterable[str] = ("user",), system: bool = True) -> str:
    """All text of the prompt: system (if ``system``) then the messages of ``roles``."""
    parts: list[str] = []
    if system and body.get("system"):
        parts.extend(_blocks_text(body["system"]))
    for msg in body.get("messages") or []:
        if isinstance(msg, dict) and msg.get("role") in roles:
            parts.extend(_blocks_text(msg.get("content")))
    return "\n".join(parts)


def default_responder(body: dict) -> Reply:
    """Forced tool_choice -> that tool with ``{}``; otherwise a short text."""
    tc = body.get("tool_choice") or {}
    if tc.get("type") == "tool" and tc.get("name"):
        return ToolUse(tc["name"], {})
    return Text("Hello from the fake Anthropic API.")


# --------------------------------------------------------------------------- recording


@dataclass
class RecordedRequest:
    index: int
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes
    json: Any
    received_at: float  # time.monotonic()
    wall_time: float  # time.time()
    stream: bool = False
    reply: Any = None
    status: Optional[int] = None
    first_byte_at: Optional[float] = None
    first_token_at: Optional[float] = None
    finished_at: Optional[float] = None
    disconnected_at: Optional[float] = None
    completed: bool = False
    cache_control: list = field(default_factory=list)
    usage: Optional[dict] = None
    responder_error: Optional[BaseException] = None

    @property
    def model(self) -> Optional[str]:
        return self.json.get("model") if isinstance(self.json, dict) else None

    @property
    def api_key(self) -> Optional[str]:
        if "x-api-key" in self.headers:
            return self.headers["x-api-key"]
        auth = self.headers.get("authorization", "")
        return auth[7:] if auth.lower().startswith("bearer ") else None

    @property
    def time_to_first_byte(self) -> Optional[float]:
        return None if self.first_byte_at is None else self.first_byte_at - self.received_at

    @property
    def time_to_first_token(self) -> Optional[float]:
        return None if self.first_token_at is None else self.first_token_at - self.received_at

    @property
    def duration(self) -> Optional[float]:
        return None if self.finished_at is None else self.finished_at - self.received_at


# --------------------------------------------------------------------------- plumbing


class _ClientGone(Exception):
    pass


class _CloseConnection(Exception):
    pass


class _BadHTTP(Exception):
    pass


class _Conn:
    """One client connection: buffered reads, writes, and disconnect watching."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.gone = asyncio.Event()
        self.rec: Optional[RecordedRequest] = None
        self._watch: Optional[asyncio.Task] = None

    async def _fill(self) -> bool:
        data = await self.reader.read(65536)
        if not data:
            return False
        self.buf += data
        return True

    async def read_head(self) -> Optional[tuple[str, str, dict]]:
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i >= 0:
                break
            if len(self.buf) > 1 << 16:
                raise _BadHTTP("header too large")
            if not await self._fill():
                if self.buf:
                    raise _BadHTTP("truncated header")
                return None
        head = bytes(self.buf[:i]).decode("latin-1")
        del self.buf[: i + 4]
        lines = head.split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError as e:
            raise _BadHTTP(lines[0]) from e
        headers: dict = {}
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        return method.upper(), target, headers

    async def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not await self._fill():
                raise _BadHTTP("truncated body")
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    async def _read_line(self) -> bytes:
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            if not await self._fill():
                raise _BadHTTP("truncated chunk")

    async def read_body(self, headers: dict) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            parts = []
            while True:
                size = int((await self._read_line()).split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while await self._read_line():
                        pass
                    return b"".join(parts)
                parts.append(await self._read_exact(size))
                await self._read_exact(2)
        return await self._read_exact(int(headers.get("content-length") or 0))

    # -- disconnect watching (only while a response is being produced)
    def start_watch(self, rec: RecordedRequest) -> None:
        self.rec = rec
        self.gone = asyncio.Event()
        self._watch = asyncio.ensure_future(self._watch_loop())

    async def _watch_loop(self) -> None:
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                self.buf += data  # a client may legally send more; keep it for the parser
        except (ConnectionError, OSError):
            pass
        self.mark_gone()

    async def stop_watch(self) -> None:
        task, self._watch = self._watch, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.rec = None

    def mark_gone(self) -> None:
        if self.gone.is_set():
            return
        now = time.monotonic()
        self.gone.set()
        rec = self.rec
        if rec is not None and not rec.completed and rec.disconnected_at is None:
            rec.disconnected_at = now

    async def write(self, data: bytes) -> None:
        if self.gone.is_set():
            raise _ClientGone()
        try:
            self.writer.write(data)
            await self.writer.drain()
        except (ConnectionError, OSError) as e:
            self.mark_gone()
            raise _ClientGone() from e

    async def sleep(self, seconds: float) -> None:
        """Sleep, but give up as soon as the client goes away."""
        if self.gone.is_set():
            raise _ClientGone()
        if seconds <= 0:
            return
        try:
            await asyncio.wait_for(self.gone.wait(), seconds)
        except (asyncio.TimeoutError, TimeoutError):
            return
        raise _ClientGone()


def _reason(status: int) -> str:
    if status == 529:
        return "Overloaded"
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


@dataclass
class _Block:
    start: dict  # content_block for content_block_start
    deltas: list  # list of delta dicts (text_delta / input_json_delta)
    final: Any  # content block for the non-streaming body (dict), or raw JSON text (str)


@dataclass
class _Plan:
    blocks: list
    stop_reason: str
    output_tokens: int
    latency: float
    delay_per_chunk: float
    model: str
    usage_override: Optional[dict]
    interrupts: list  # (after_chunks, wrapper) sorted


# --------------------------------------------------------------------------- server


class FakeAnthropic:
    def __init__(
        self,
        *,
        default: Union[Reply, Responder, None] = None,
        api_key: Optional[str] = None,
        known_models: Optional[Iterable[str]] = None,
        max_concurrency: Optional[int] = None,
        concurrency_retry_after_ms: float = 10,
        validate: bool = True,
        ping: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        on_first_token: Optional[Callable[[RecordedRequest], None]] = None,
    ) -> None:
        self.default: Union[Reply, Responder] = default if default is not None else default_responder
        self.api_key = api_key
        self.known_models = set(known_models) if known_models is not None else None
        self.max_concurrency = max_concurrency
        self.concurrency_retry_after_ms = concurrency_retry_after_ms
        self.validate = validate
        self.ping = ping
        self.host = host
        self.port = port
        self.on_first_token = on_first_token
        self.url: str = ""
        self.requests: list[RecordedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.hook_errors: list[BaseException] = []
        self._queue: list = []
        self._lock = threading.RLock()
        self._cache: set = set()
        self._ids = itertools.count(1)
        self._server: Optional[asyncio.AbstractServer] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._conn_tasks: set = set()

    # ------------------------------------------------------------------ scripting
    def script(self, *replies: Union[Reply, Responder]) -> "FakeAnthropic":
        """Append replies; each POST /v1/messages consumes the next one."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def clear_script(self) -> None:
        with self._lock:
            self._queue.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def reset(self) -> None:
        """Forget requests, script, prompt cache and concurrency counters."""
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self._cache.clear()
            self.max_in_flight = self.in_flight
            self.hook_errors.clear()

    # ------------------------------------------------------------------ queries
    @property
    def message_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path == "/v1/messages"]

    def timestamps(self, path: str = "/v1/messages") -> list[float]:
        with self._lock:
            return [r.received_at for r in self.requests if path is None or r.path == path]

    def max_requests_in_window(self, seconds: float, path: str = "/v1/messages") -> int:
        """Most requests that arrived within any sliding window of ``seconds``."""
        ts = sorted(self.timestamps(path))
        best, j = 0, 0
        for i, t in enumerate(ts):
            while t - ts[j] > seconds:
                j += 1
            best = max(best, i - j + 1)
        return best

    def ttft_samples(self) -> list[float]:
        with self._lock:
            return [r.time_to_first_token for r in self.requests if r.time_to_first_token is not None]

    def wait_until(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005) -> Any:
        """Poll ``predicate`` (from a sync test or thread) until truthy; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            time.sleep(interval)

    async def await_until(self, predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005) -> Any:
        """Async variant of :meth:`wait_until` (does not block the loop)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met within {timeout}s")
            await asyncio.sleep(interval)

    def wait_for_requests(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        self.wait_until(lambda: len(self.requests) >= n, timeout)
        return list(self.requests)

    def env(self, api_key: Optional[str] = None) -> dict:
        """Environment for a subprocess using the SDK: ANTHROPIC_BASE_URL and ANTHROPIC_API_KEY."""
        return {"ANTHROPIC_BASE_URL": self.url, "ANTHROPIC_API_KEY": api_key or self.api_key or "test"}

    # ------------------------------------------------------------------ lifecycle (threaded)
    def start(self) -> "FakeAnthropic":
        """Serve from a background thread with its own event loop."""
        if self._thread is not None or self._server is not None:
            return self
        ready = threading.Event()
        failure: list = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._open())
            except BaseException as e:  # pragma: no cover - bind failure
                failure.append(e)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                with contextlib.suppress(Exception):
                    loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="fake-anthropic", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread, self._loop = None, None
            raise failure[0]
        return self

    def stop(self) -> None:
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._thread, self._loop = None, None

    def __enter__(self) -> "FakeAnthropic":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # ------------------------------------------------------------------ lifecycle (in-loop)
    async def astart(self) -> "FakeAnthropic":
        """Serve from the running event loop (async clients only)."""
        await self._open()
        return self

    async def astop(self) -> None:
        await self._close()

    async def __aenter__(self) -> "FakeAnthropic":
        return await self.astart()

    async def __aexit__(self, *exc: Any) -> None:
        await self.astop()

    async def _open(self) -> None:
        self._server = await asyncio.start_server(self._handle_conn, self.host, self.port, reuse_address=True)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://{self.host}:{port}"

    async def _close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._conn_tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 2)

    # ------------------------------------------------------------------ connection handling
    async def _handle_conn(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        self._conn_tasks.add(task)
        conn = _Conn(reader, writer)
        try:
            while True:
                head = await conn.read_head()
                if head is None:
                    return
                method, target, headers = head
                body = await conn.read_body(headers)
                keep_alive = headers.get("connection", "").lower() != "close"
                rec = self._record(method, target, headers, body)
                self._enter()
                conn.start_watch(rec)
                try:
                    keep_alive = await self._dispatch(conn, rec) and keep_alive
                except (_ClientGone, _CloseConnection):
                    keep_alive = False
                except Exception as e:  # a bug in the fake or a test hook: report it, answer 500
                    self.hook_errors.append(e)
                    keep_alive = False
                    if rec.status is None:
                        with contextlib.suppress(Exception):
                            await self._send_error(conn, rec, Error.api_error(f"fake server error: {e!r}"))
                finally:
                    rec.finished_at = rec.finished_at or time.monotonic()
                    await conn.stop_watch()
                    self._leave()
                if not keep_alive or conn.gone.is_set():
                    return
        except (_BadHTTP, ConnectionError, OSError, asyncio.IncompleteReadError):
            return
        except asyncio.CancelledError:
            # Only _close() cancels these; end quietly (asyncio's stream callback would
            # otherwise log the cancelled task's "exception").
            return
        finally:
            self._conn_tasks.discard(task)
            with contextlib.suppress(Exception):
                writer.close()

    def _record(self, method: str, target: str, headers: dict, body: bytes) -> RecordedRequest:
        parts = urlsplit(target)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        with self._lock:
            rec = RecordedRequest(
                index=len(self.requests),
                method=method,
                path=parts.path,
                query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                headers=headers,
                body=body,
                json=parsed,
                received_at=time.monotonic(),
                wall_time=time.time(),
                stream=bool(isinstance(parsed, dict) and parsed.get("stream")),
            )
            self.requests.append(rec)
        return rec

    def _enter(self) -> None:
        with self._lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def _leave(self) -> None:
        with self._lock:
            self.in_flight -= 1

    # ------------------------------------------------------------------ routing
    async def _dispatch(self, conn: _Conn, rec: RecordedRequest) -> bool:
        path = rec.path.rstrip("/")
        if path.startswith("/v1/"):
            if self.api_key is not None and rec.api_key != self.api_key:
                return await self._send_error(conn, rec, Error.auth())
            if path == "/v1/messages" and rec.method == "POST":
                return await self._messages(conn, rec)
            if path == "/v1/messages/count_tokens" and rec.method == "POST":
                return await self._count_tokens(conn, rec)
            if path == "/v1/models" and rec.method == "GET":
                data = [self._model_info(m) for m in sorted(self.known_models or {"claude-sonnet-5-5"})]
                return await self._send_json(
                    conn, rec, 200, {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
                )
            if path.startswith("/v1/models/") and rec.method == "GET":
                model = path[len("/v1/models/") :]
                if self.known_models is not None and model not in self.known_models:
                    return await self._send_error(conn, rec, Error.not_found(f"model: {model}"))
                return await self._send_json(conn, rec, 200, self._model_info(model))
        return await self._send_error(conn, rec, Error.not_found(f"Not found: {rec.method} {rec.path}"))

    @staticmethod
    def _model_info(model: str) -> dict:
        return {
            "type": "model",
            "id": model,
            "display_name": model,
            "created_at": "2025-01-01T00:00:00Z",
            "lifecycle": "active",
        }

    def _validation_error(self, body: Any) -> Optional[str]:
        if not isinstance(body, dict):
            return "request body must be a JSON object"
        for key in ("model", "max_tokens", "messages"):
            if key not in body:
                return f"{key}: Field required"
        if not isinstance(body["messages"], list) or not body["messages"]:
            return "messages: at least one message is required"
        return None

    async def _count_tokens(self, conn: _Conn, rec: RecordedRequest) -> bool:
        body = rec.json if isinstance(rec.json, dict) else {}
        total = sum(tokens for _, tokens, _ in self._segments(body, None))
        return await self._send_json(conn, rec, 200, {"input_tokens": max(1, total)})

    async def _messages(self, conn: _Conn, rec: RecordedRequest) -> bool:
        body = rec.json
        if self.validate:
            problem = self._validation_error(body)
            if problem:
                return await self._send_error(conn, rec, Error.bad_request(problem))
        if self.known_models is not None and body.get("model") not in self.known_models:
            return await self._send_error(conn, rec, Error.not_found(f"model: {body.get('model')}"))
        if self.max_concurrency is not None and self.in_flight > self.max_concurrency:
            err = Error.rate_limited(retry_after_ms=self.concurrency_retry_after_ms, message="Too many concurrent requests")
            rec.reply = err
            return await self._send_error(conn, rec, err)

        reply = self._next_reply(rec)
        rec.reply = reply
        if isinstance(reply, Error):
            await conn.sleep(reply.latency)
            return await self._send_error(conn, rec, reply)
        plan = self._plan(reply, body)
        if rec.stream:
            return await self._stream(conn, rec, plan, body)
        return await self._non_stream(conn, rec, plan, body)

    def _next_reply(self, rec: RecordedRequest) -> Reply:
        with self._lock:
            item = self._queue.pop(0) if self._queue else self.default
        try:
            while callable(item) and not isinstance(item, type):
                item = item(rec.json)
            if not isinstance(item, (Text, ToolUse, MalformedToolJson, Error, MidStreamError, Stall, Drop)):
                raise TypeError(f"responder returned {item!r}, not a Reply")
            return item
        except Exception as e:  # surfaced to the client as a 500 api_error, kept for the test
            rec.responder_error = e
            self.hook_errors.append(e)
            return Error.api_error(f"fake responder failed: {e!r}")

    # ------------------------------------------------------------------ reply planning
    def _plan(self, reply: Any, body: dict) -> _Plan:
        interrupts = []
        while isinstance(reply, (MidStreamError, Stall, Drop)):
            interrupts.append((reply.after_chunks, reply))
            reply = reply.inner
        interrupts.sort(key=lambda x: x[0])
        if not isinstance(reply, (Text, ToolUse, MalformedToolJson)):
            raise TypeError(f"cannot stream {reply!r}")
        size = max(1, int(reply.chunk_size))
        if isinstance(reply, Text):
            pieces = [reply.text[i : i + size] for i in range(0, len(reply.text), size)]
            block = _Block(
                start={"type": "text", "text": ""},
                deltas=[{"type": "text_delta", "text": p} for p in pieces],
                final={"type": "text", "text": reply.text},
            )
            out_text = reply.text
        else:
            if isinstance(reply, ToolUse):
                name, raw = reply.name, _dumps(reply.input)
            else:
                name, raw = reply.name or self._tool_name(body), reply.text
            tool_id = reply.id or f"toolu_fake{uuid.uuid4().hex[:20]}"
            pieces = [raw[i : i + size] for i in range(0, len(raw), size)]
            final: Any = {"type": "tool_use", "id": tool_id, "name": name}
            if isinstance(reply, ToolUse):
                final["input"] = reply.input
            else:
                final["__raw_input__"] = raw
            block = _Block(
                start={"type": "tool_use", "id": tool_id, "name": name, "input": {}},
                deltas=[{"type": "input_json_delta", "partial_json": ""}]
                + [{"type": "input_json_delta", "partial_json": p} for p in pieces],
                final=final,
            )
            out_text = raw
        return _Plan(
            blocks=[block],
            stop_reason=reply.stop_reason,
            output_tokens=max(1, estimate_tokens(out_text)),
            latency=reply.latency,
            delay_per_chunk=reply.delay_per_chunk,
            model=reply.model or str(body.get("model") or "claude-fake"),
            usage_override=reply.usage,
            interrupts=interrupts,
        )

    @staticmethod
    def _tool_name(body: dict) -> str:
        tc = body.get("tool_choice") or {}
        if tc.get("type") == "tool" and tc.get("name"):
            return tc["name"]
        tools = body.get("tools") or []
        if tools and isinstance(tools[0], dict) and tools[0].get("name"):
            return tools[0]["name"]
        return "tool"

    # ------------------------------------------------------------------ usage / prompt cache
    @staticmethod
    def _segments(body: dict, markers: Optional[list]) -> list:
        """(key, tokens, cache_control) per prompt block, in cache order: tools, system, messages."""
        segs: list = []

        def add(where: str, block: Any) -> None:
            cc = block.get("cache_control") if isinstance(block, dict) else None
            clean = {k: v for k, v in block.items() if k != "cache_control"} if isinstance(block, dict) else block
            text = _dumps(clean)
            segs.append((text, estimate_tokens("".join(_blocks_text([clean])) or text), cc))
            if cc is not None and markers is not None:
                markers.append({"where": where, "cache_control": cc, "block": block})

        for i, tool in enumerate(body.get("tools") or []):
            add(f"tools[{i}]", tool)
        system = body.get("system")
        if isinstance(system, str):
            add("system", {"type": "text", "text": system})
        elif isinstance(system, list):
            for i, blk in enumerate(system):
                add(f"system[{i}]", blk)
        for m, msg in enumerate(body.get("messages") or []):
            content = msg.get("content") if isinstance(msg, dict) else None
            role = msg.get("role") if isinstance(msg, dict) else None
            if isinstance(content, str):
                add(f"messages[{m}].content", {"type": "text", "text": content, "role": role})
            elif isinstance(content, list):
                for b, blk in enumerate(content):
                    add(f"messages[{m}].content[{b}]", blk)
        if isinstance(body.get("cache_control"), dict) and markers is not None:
            markers.append({"where": "request", "cache_control": body["cache_control"], "block": None})
        return segs

    def _usage(self, body: dict, rec: RecordedRequest, plan: _Plan) -> dict:
        markers: list = []
        segs = self._segments(body, markers)
        rec.cache_control = markers
        h = hashlib.sha256()
        running = 0
        breakpoints = []  # (prefix_hash, tokens_through_here)
        for i, (text, tokens, cc) in enumerate(segs):
            h.update(text.encode())
            h.update(b"\x00")
            running += tokens
            auto_last = i == len(segs) - 1 and isinstance(body.get("cache_control"), dict)
            if cc is not None or auto_last:
                breakpoints.append((h.copy().hexdigest(), running))
        total = max(1, running)
        read = creation = 0
        with self._lock:
            hit = 0
            for key, tokens in breakpoints:
                if key in self._cache:
                    hit = tokens
            if breakpoints:
                last = breakpoints[-1][1]
                read = hit
                creation = max(0, last - hit)
                for key, _ in breakpoints:
                    self._cache.add(key)
        usage = {
            "input_tokens": max(0, total - read - creation),
            "cache_creation_input_tokens": creation,
            "cache_read_input_tokens": read,
            "cache_creation": {"ephemeral_5m_input_tokens": creation, "ephemeral_1h_input_tokens": 0},
            "output_tokens": plan.output_tokens,
            "service_tier": "standard",
        }
        if plan.usage_override:
            usage.update(plan.usage_override)
        rec.usage = usage
        return usage

    # ------------------------------------------------------------------ responses
    def _base_headers(self, rec: RecordedRequest) -> list:
        return [("request-id", f"req_fake{rec.index:06d}{uuid.uuid4().hex[:8]}"), ("server", "fake-anthropic")]

    async def _send_raw(
        self, conn: _Conn, rec: RecordedRequest, status: int, payload: bytes, content_type: str, extra: Iterable = ()
    ) -> bool:
        headers = [("content-type", content_type), ("content-length", str(len(payload)))]
        headers += self._base_headers(rec) + [(str(k).lower(), str(v)) for k, v in extra]
        head = f"HTTP/1.1 {status} {_reason(status)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        await self._final_write(conn, rec, head.encode("latin-1") + payload, status)
        return True

    @staticmethod
    async def _final_write(conn: _Conn, rec: RecordedRequest, data: bytes, status: Optional[int] = None) -> None:
        """Write the last bytes of a response.  The record is marked finished *before* the
        write, so a client that has seen the whole response always sees a finished record."""
        now = time.monotonic()
        if status is not None:
            rec.status = status
        rec.first_byte_at = rec.first_byte_at or now
        rec.completed, rec.finished_at = True, now
        try:
            await conn.write(data)
        except _ClientGone:
            rec.completed, rec.finished_at = False, None
            rec.disconnected_at = rec.disconnected_at or time.monotonic()
            raise

    async def _send_json(self, conn: _Conn, rec: RecordedRequest, status: int, obj: Any, extra: Iterable = ()) -> bool:
        return await self._send_raw(conn, rec, status, _dumps(obj).encode(), "application/json", extra)

    async def _send_error(self, conn: _Conn, rec: RecordedRequest, err: Error) -> bool:
        rec.reply = rec.reply or err
        payload = {
            "type": "error",
            "error": {"type": err.type, "message": err.message},
            "request_id": f"req_fake{rec.index:06d}",
        }
        return await self._send_json(conn, rec, err.status, payload, err.headers.items())

    def _message(self, plan: _Plan, usage: dict, content: list, stop_reason: Optional[str]) -> dict:
        return {
            "id": f"msg_fake{next(self._ids):06d}{uuid.uuid4().hex[:12]}",
            "type": "message",
            "role": "assistant",
            "model": plan.model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }

    async def _non_stream(self, conn: _Conn, rec: RecordedRequest, plan: _Plan, body: dict) -> bool:
        await conn.sleep(plan.latency)
        for _, wrapper in plan.interrupts:
            if isinstance(wrapper, Stall):
                await conn.sleep(wrapper.seconds)
                if wrapper.then == "close":
                    raise _CloseConnection()
            elif isinstance(wrapper, MidStreamError):
                status = _ERROR_STATUS.get(wrapper.error_type, 500)
                return await self._send_error(conn, rec, Error(status, wrapper.error_type, wrapper.message))
            elif isinstance(wrapper, Drop):
                raise _CloseConnection()
        usage = self._usage(body, rec, plan)
        content = []
        raw_inputs = {}
        for block in plan.blocks:
            if isinstance(block.final, dict) and "__raw_input__" in block.final:
                marker = f"__fake_raw_input_{uuid.uuid4().hex}__"
                raw_inputs[marker] = block.final["__raw_input__"]
                final = {k: v for k, v in block.final.items() if k != "__raw_input__"}
                final["input"] = marker
                content.append(final)
            else:
                content.append(block.final)
        text = _dumps(self._message(plan, usage, content, plan.stop_reason))
        for marker, raw in raw_inputs.items():
            text = text.replace(_dumps(marker), raw)
        rec.first_token_at = time.monotonic()
        self._first_token_hook(rec)
        return await self._send_raw(conn, rec, 200, text.encode(), "application/json")

    def _first_token_hook(self, rec: RecordedRequest) -> None:
        if self.on_first_token is not None:
            try:
                self.on_first_token(rec)
            except Exception as e:
                self.hook_errors.append(e)

    async def _stream(self, conn: _Conn, rec: RecordedRequest, plan: _Plan, body: dict) -> bool:
        await conn.sleep(plan.latency)
        usage = self._usage(body, rec, plan)
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            ("transfer-encoding", "chunked"),
        ] + self._base_headers(rec)
        head = "HTTP/1.1 200 OK\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
        rec.status = 200
        rec.first_byte_at = time.monotonic()
        await conn.write(head.encode("latin-1"))

        def frame(name: str, data: dict) -> bytes:
            payload = f"event: {name}\ndata: {_dumps(data)}\n\n".encode()
            return f"{len(payload):x}\r\n".encode() + payload + b"\r\n"

        async def event(name: str, data: dict) -> None:
            await conn.write(frame(name, data))

        start_usage = {k: v for k, v in usage.items()}
        start_usage["output_tokens"] = min(1, usage["output_tokens"])
        await event("message_start", {"type": "message_start", "message": self._message(plan, start_usage, [], None)})

        pending = list(plan.interrupts)
        sent = 0

        async def interrupts(force: bool = False) -> None:
            while pending and (force or pending[0][0] <= sent):
                _, wrapper = pending.pop(0)
                if isinstance(wrapper, Stall):
                    await conn.sleep(wrapper.seconds)
                    if wrapper.then == "close":
                        raise _CloseConnection()
                elif isinstance(wrapper, MidStreamError):
                    err = {"type": "error", "error": {"type": wrapper.error_type, "message": wrapper.message}}
                    await self._final_write(conn, rec, frame("error", err) + b"0\r\n\r\n")
                    raise _StreamDone()
                elif isinstance(wrapper, Drop):
                    raise _CloseConnection()

        try:
            for index, block in enumerate(plan.blocks):
                await event("content_block_start", {"type": "content_block_start", "index": index, "content_block": block.start})
                if index == 0 and self.ping:
                    await event("ping", {"type": "ping"})
                await interrupts()
                for delta in block.deltas:
                    empty = delta.get("partial_json") == "" or delta.get("text") == ""
                    if not empty:
                        await conn.sleep(plan.delay_per_chunk)
                    first = not empty and rec.first_token_at is None
                    if first:
                        rec.first_token_at = time.monotonic()
                    await event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                    if first:
                        self._first_token_hook(rec)
                    if not empty:
                        sent += 1
                        await interrupts()
                await event("content_block_stop", {"type": "content_block_stop", "index": index})
            await interrupts(force=True)
            await event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": plan.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": usage["output_tokens"]},
                },
            )
            await self._final_write(conn, rec, frame("message_stop", {"type": "message_stop"}) + b"0\r\n\r\n")
        except _StreamDone:
            pass
        return True


class _StreamDone(Exception):
    pass


def _main(argv: Optional[list] = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(description="Serve the fake Anthropic API (default replies).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--text", default=None, help="reply text for every request")
    args = parser.parse_args(argv)
    fake = FakeAnthropic(host=args.host, port=args.port, default=Text(args.text) if args.text else None)
    with fake:
        print(fake.url, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()
