"""Refusals answered before Quart builds a request: the 429 of a client already over a rate
limit, and the per-address connection cap where Hypercorn accepts connections."""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from typing import Any, Awaitable, Callable

import orjson

from redline.jobs.settings import Settings
from redline.server.headers import CSP
from redline.server.limits import client_address
from redline.server.services import RateLimited, Services
from redline.server.socket import Receive, Send

log = logging.getLogger("redline.app")

# POST routes with a per-client rate, by the limiter kind their handler counts against.
RATE_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/api/reviews"), "upload"), (re.compile(r"/api/reviews/[^/]+/versions"), "upload"),
    (re.compile(r"/api/llm/test"), "llm_test"),
    (re.compile(r"/api/reviews/[^/]+/analyze"), "analyze"), (re.compile(r"/api/reviews/[^/]+/chat"), "chat"),
    (re.compile(r"/api/reviews/[^/]+/(?:decisions|items/[^/]+/decision)"), "decide"),
)


def rate_kind(path: str) -> str | None:
    return next((kind for pattern, kind in RATE_ROUTES if pattern.fullmatch(path)), None)


async def refuse_over_rate(svc: Services, settings: Settings, kind: str, scope: dict, receive: Receive,
                           send: Send) -> bool:
    """A client already over this kind's rate gets its 429 here, before Quart builds a request:
    the body is drained (bounded, not kept: answering under a client still sending drops the
    connection), then the contract's error, with Retry-After. The handler counts the calls that
    pass (`Services.check_rate`), so the rate is the same with or without this shortcut."""
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
    remote = (scope.get("client") or (None,))[0]
    wait = svc.over_rate(kind, client_address(remote, headers.get("x-forwarded-for"), settings.trust_proxy_headers))
    if not wait:
        return False
    drained = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return True  # the client went away
        drained += len(message.get("body", b""))
        if not message.get("more_body") or drained > settings.max_upload_bytes + (1 << 20):
            break
    err = RateLimited(kind, wait)
    body = orjson.dumps({"error": {"code": err.code, "message": err.message}})
    out = refusal_headers(body, err.retry_after, headers.get("x-request-id", ""))
    await send({"type": "http.response.start", "status": 429, "headers": out})
    await send({"type": "http.response.body", "body": body})
    return True


def refusal_headers(body: bytes, retry_after: int, given_request_id: str = "") -> list[tuple[bytes, bytes]]:
    """The headers of an error answered ahead of Quart: those Quart's answers carry (see
    `security_headers`), with Retry-After."""
    request_id = given_request_id[:64] if given_request_id.replace("-", "").isalnum() else secrets.token_hex(8)
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(retry_after).encode()), (b"x-request-id", request_id.encode()),
            (b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"no-referrer"), (b"x-frame-options", b"DENY")]


# A refused connection is read (what it sends is dropped) for at most this long after its 429, so
# that its client reads the answer rather than a reset; at most this many linger at once.
REFUSED_LINGER_S = 2.0
REFUSED_LINGER_MAX = 1000


class ConnectionCap:
    """Open connections per client address, counted where the web server accepts them: past the
    cap, a connection is answered at once with 429 `too_many_connections` (Retry-After, the
    contract's error), before Hypercorn builds anything for it. `redline serve` installs it.

    Why there and not in the ASGI app (bench.attacks, attack 7; docs/reliability.md): 500
    connections at once from one address are all accepted in one go, and while they are open each
    holds ~27 kB of Hypercorn's per-connection objects (its TCPServer, task group, h11 state,
    tasks), so pymalloc maps 13 more 1 MiB arenas; a few long-lived objects made meanwhile pin
    each one, so they are not given back once the burst is over: +14 MB of RSS kept. Refused in
    the ASGI app (the rate limit's fast path), the 500 still kept +9.6 MB; 50 at once, +2.4 MB.

    The cap is `ws_max_per_client + http_max_connections_per_client`: a client may hold its
    websockets and that many other connections. Off when either is 0, or behind a trusted proxy
    (every connection is then the proxy's; cap connections per client there)."""

    refused_total = 0  # connections this process answered with the 429 (on /metrics)

    def __init__(self, cap: int, max_request_bytes: int) -> None:
        self.cap = cap
        self.max_request_bytes = max_request_bytes
        self.open: dict[str, int] = {}
        self.lingering = 0
        self._body = orjson.dumps({"error": {
            "code": "too_many_connections",
            "message": f"Too many open connections from this address (at most {cap}); close some tabs or "
                       "try again in a moment."}})

    @classmethod
    def from_settings(cls, settings: Settings) -> "ConnectionCap":
        on = (settings.ws_max_per_client > 0 and settings.http_max_connections_per_client > 0
              and not settings.trust_proxy_headers)
        cap = settings.ws_max_per_client + settings.http_max_connections_per_client if on else 0
        return cls(cap, settings.max_upload_bytes * 2 + 64 * 1024)

    def wrap(self, serve_connection: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        """`serve_connection(..., reader, writer)` (Hypercorn's TCPServer), behind this cap."""

        async def gated(*args: Any) -> None:
            reader, writer = args[-2], args[-1]
            peer = writer.get_extra_info("peername")
            client = peer[0] if isinstance(peer, tuple) and peer else None
            if not self.cap or client is None:
                return await serve_connection(*args)
            n = self.open.get(client, 0)
            if n >= self.cap:
                return await self.refuse(reader, writer)
            self.open[client] = n + 1
            try:
                await serve_connection(*args)
            finally:
                left = self.open.get(client, 1) - 1
                if left > 0:
                    self.open[client] = left
                else:
                    self.open.pop(client, None)

        return gated

    async def refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """The 429, then what the client still sends is read and dropped (bounded in bytes, time
        and count): closing on unread data would reset the connection, and the client could lose
        the answer."""
        ConnectionCap.refused_total += 1
        head = b"".join(k + b": " + v + b"\r\n" for k, v in refusal_headers(self._body, 1))
        try:
            writer.write(b"HTTP/1.1 429 Too Many Requests\r\n" + head + b"connection: close\r\n\r\n" + self._body)
            if writer.can_write_eof():
                writer.write_eof()
            if self.lingering < REFUSED_LINGER_MAX:
                self.lingering += 1
                try:
                    async with asyncio.timeout(REFUSED_LINGER_S):
                        drained = 0
                        while drained <= self.max_request_bytes:
                            chunk = await reader.read(1 << 16)
                            if not chunk:
                                break
                            drained += len(chunk)
                finally:
                    self.lingering -= 1
        except (OSError, TimeoutError):
            pass
        finally:
            writer.close()

    def install(self) -> bool:
        """Put the cap in front of Hypercorn's asyncio server, which makes a `TCPServer` for each
        connection it accepts. False (nothing changed) without a cap, or when Hypercorn changed."""
        if not self.cap:
            return False
        try:
            from hypercorn.asyncio import run as hypercorn_run
        except ImportError:
            return False
        original = getattr(hypercorn_run, "_redline_tcp_server", None) or getattr(hypercorn_run, "TCPServer", None)
        if original is None:
            log.warning("Hypercorn's asyncio server changed; connections per client address are not capped")
            return False
        hypercorn_run._redline_tcp_server = original  # type: ignore[attr-defined]
        hypercorn_run.TCPServer = self.wrap(original)  # type: ignore[attr-defined]
        return True
