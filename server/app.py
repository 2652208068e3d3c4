"""create_app: the Quart app, its services and their lifecycle."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import secrets
from importlib import resources
from pathlib import Path
from typing import Any, Awaitable, Callable

import orjson
from urllib.parse import parse_qsl

from quart import Quart, Response, g, request, send_from_directory
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError, ResponseError as RedisResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.exceptions import HTTPException
from werkzeug.sansio.utils import get_host

from redline.jobs import redis_conn
from redline.jobs.events import Publisher
from redline.jobs.queues import Jobs, make_queues
from redline.jobs.settings import Settings, get_settings
from redline.jobs.store import Store
from redline.server import protocol as P
from redline.server.admin import admin
from redline.server.api import api, error
from redline.server.auth import token_from
from redline.server.limits import client_address
from redline.server.hub import Hub
from redline.server.presence import Presence
from redline.server.services import STORE_REFUSED_MESSAGE, RateLimited, ServiceError, Services, store_refused
from redline.server.socket import ClientGone, Connection, Receive, Send

log = logging.getLogger("redline.app")
# The page, its scripts and styles: package data of redline.static (in the wheel, or static/
# of a checkout with an editable install), read through importlib.resources.
STATIC = Path(str(resources.files("redline.static")))

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def redis_client(settings: Settings) -> Redis:
    return redis_conn.connect(settings)


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> Quart:
    settings = settings or get_settings()
    app = Quart(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes * 2 + 64 * 1024  # document + guidelines
    app.config["SETTINGS"] = settings
    app.register_blueprint(api)
    app.register_blueprint(admin)
    state: dict = {}

    @app.before_serving
    async def startup() -> None:
        redis = redis_client(settings)
        publisher = Publisher(redis, settings.event_log_maxlen)
        store = Store(redis, publisher)
        queues = make_queues(redis, publisher, settings)
        hub = Hub(lambda: redis_conn.connect(settings, pubsub=True), redis=redis,
                  check_interval=settings.hub_check_interval_s)
        svc = Services(settings=settings, redis=redis, publisher=publisher, store=store,
                       jobs=Jobs(redis, store, queues, settings), hub=hub,
                       presence=Presence(redis, secrets.token_hex(4), settings.presence_ttl_s))
        hub.on_state = lambda st: _announce(hub, st)
        await hub.start()
        app.config["SERVICES"] = svc
        state["presence"] = asyncio.create_task(svc.presence.refresh_forever())
        state["retention"] = asyncio.create_task(svc.retention_forever())
        if run_worker:
            from redline.jobs.worker import WorkerGroup

            state["worker"] = WorkerGroup(settings, redis_client(settings))
            await state["worker"].start()
        # Everything loaded so far lives as long as the process: keep the collector off it,
        # so its pauses stay short while events are relayed (see docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        gc.set_threshold(*settings.gc_threshold)

    @app.after_serving
    async def shutdown() -> None:
        svc: Services = app.config["SERVICES"]
        svc.hub.close_all(P.CLOSE_GOING_AWAY)
        if "worker" in state:
            await state["worker"].stop()
        state["presence"].cancel()
        state["retention"].cancel()
        await svc.presence.remove_all()
        await svc.hub.stop()
        await svc.redis.aclose()

    # ------------------------------------------------------------- errors ---
    @app.errorhandler(ServiceError)
    async def service_error(e: ServiceError) -> Response:
        headers = {"Retry-After": str(e.retry_after)} if hasattr(e, "retry_after") else None
        return error(e.code, e.message, e.status, headers)

    @app.errorhandler(HTTPException)
    async def http_error(e: HTTPException) -> Response:
        if e.code == 413:
            mb = settings.max_upload_mb
            return error("too_large", f"The upload is larger than the limit of {mb:g} MB.", 413)
        code = {404: "not_found", 405: "method_not_allowed", 400: "bad_request"}.get(e.code or 500, "http_error")
        return error(code, e.description or e.name, e.code or 500)

    @app.errorhandler(RedisConnectionError)
    @app.errorhandler(RedisTimeoutError)
    async def redis_down(e: Exception) -> Response:
        return error("service_unavailable", "The review store (Redis) is not reachable just now; "
                     "nothing was lost — try again in a few seconds.", 503, {"Retry-After": "2"})

    @app.errorhandler(RedisResponseError)
    async def redis_refused(e: RedisResponseError) -> Response:
        if store_refused(e):
            log.warning("Redis refused a write on %s %s: %s", request.method, request.path, str(e)[:200])
            return error("store_full", STORE_REFUSED_MESSAGE, 503, {"Retry-After": "30"})
        return await unexpected(e)

    @app.errorhandler(Exception)
    async def unexpected(e: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.path,
                      extra={"request_id": getattr(g, "request_id", None)})
        return error("internal_error", "Something went wrong on our side; the review is unchanged.", 500)

    @app.before_request
    async def read_body_first() -> None:
        """Answering before the request body is read (401, 429, ...) makes the server drop the
        connection under a client still sending: read it first (its size is bounded)."""
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            await request.get_data(cache=True)

    @app.before_request
    async def request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given[:64] if given.replace("-", "").isalnum() else secrets.token_hex(8)

    @app.after_request
    async def security_headers(resp: Response) -> Response:
        if getattr(g, "request_id", None):
            resp.headers["X-Request-ID"] = g.request_id
        resp.headers.setdefault("Content-Security-Policy", CSP)
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "no-referrer")
        resp.headers.setdefault("X-Frame-Options", "DENY")
        return resp

    # ------------------------------------------------------------- pages ---
    @app.get("/")
    async def index() -> Response:
        return await send_from_directory(STATIC, "index.html")

    @app.get("/r/<rid>")
    async def review_page(rid: str) -> Response:
        return await send_from_directory(STATIC, "review.html")

    @app.get("/static/<path:path>")
    async def static_file(path: str) -> Response:
        return await send_from_directory(STATIC, path)

    # --------------------------------------------------------- websocket ---
    quart_asgi = app.asgi_app

    async def asgi_app(scope: dict, receive: Receive, send: Send) -> None:
        """The review socket is served here, ahead of Quart (see server/socket.py); so is the 429 of a
        client already over a rate limit (a flood costs no request handling); the rest is Quart's."""
        if scope["type"] == "websocket":
            route = SOCKET_ROUTE.fullmatch(scope["path"])
            if route is not None:
                return await review_socket(app.config["SERVICES"], settings, route[1], scope, receive, send)
        elif scope["type"] == "http" and scope.get("method") == "POST":
            kind = rate_kind(scope["path"])
            if kind is not None and await refuse_over_rate(app.config["SERVICES"], settings, kind, scope,
                                                             receive, send):
                return
        await quart_asgi(scope, receive, send)

    app.asgi_app = asgi_app  # type: ignore[method-assign]
    return app


SOCKET_ROUTE = re.compile(r"/ws/reviews/([^/]+)")
# POST routes with a per-client rate, by the limiter kind their handler counts against.
RATE_ROUTES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"/api/reviews"), "upload"), (re.compile(r"/api/llm/test"), "llm_test"),
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


# A browser cannot set headers on a websocket: besides `?token=`, the token may come as a
# subprotocol `redline.token.<token>` (offered with `redline`, which the server selects), so it
# stays out of URLs and the access logs that record them.
TOKEN_PROTOCOL = "redline.token."


async def review_socket(svc: Services, settings: Settings, rid: str, scope: dict, receive: Receive,
                        send: Send) -> None:
    """`/ws/reviews/{rid}`: accept, check the origin, the review and its token, then run the socket.
    As Quart did: an error is logged and the socket closed with 1000."""
    client = client_address((scope.get("client") or ("?",))[0], _header(scope, b"x-forwarded-for"),
                            settings.trust_proxy_headers)
    if not svc.sockets.take(client, settings.ws_max_per_client):
        await _deny(scope, send, 429, "too_many_sockets",
                    f"Too many open websockets from this address (at most {settings.ws_max_per_client}); "
                    "close some tabs and try again.")
        return
    try:
        await _run_socket(svc, settings, rid, scope, receive, send, client)
    finally:
        svc.sockets.give_back(client)


async def _deny(scope: dict, send: Send, status: int, code: str, message: str) -> None:
    """Refuse a websocket before the upgrade with an HTTP answer (ASGI's websocket denial response),
    else (a server without it) by closing before accepting (the client sees HTTP 403)."""
    if "websocket.http.response" in scope.get("extensions", {}):
        body = orjson.dumps({"error": {"code": code, "message": message}})
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "websocket.http.response.body", "body": body, "more_body": False})
    else:
        await send({"type": "websocket.close", "code": 1008, "reason": code})


async def _run_socket(svc: Services, settings: Settings, rid: str, scope: dict, receive: Receive, send: Send,
                      client: str) -> None:
    conn = Connection(svc, rid, receive, send, client)
    offered = [p.strip() for p in (_header(scope, b"sec-websocket-protocol") or "").split(",") if p.strip()]
    from_protocol = next((p[len(TOKEN_PROTOCOL):] for p in offered if p.startswith(TOKEN_PROTOCOL)), None)
    # The subprotocol we answer with: `redline` when offered; never the token one if avoidable
    # (the answer's headers could end up in a proxy's log).
    chosen = "redline" if "redline" in offered else next((p for p in offered if p.startswith(TOKEN_PROTOCOL)), None)
    try:
        await conn.accept(chosen)
        if not _origin_ok(_header(scope, b"origin"), _host(scope), settings):
            await conn.refuse(P.CLOSE_BAD_TOKEN, "origin not allowed")
        elif not await svc.store.exists(rid):
            await conn.refuse(P.CLOSE_NO_REVIEW, "no such review")
        elif not await svc.store.check_token(rid, token_from(_header(scope, b"authorization") or "",
                                                             from_protocol or _query_arg(scope, "token"))):
            await conn.refuse(P.CLOSE_BAD_TOKEN, "bad token")
        else:
            await conn.run()
    except ClientGone:
        return
    except (RedisConnectionError, RedisTimeoutError) as e:
        log.warning("websocket of review %s: Redis unreachable (%s)", rid, e.__class__.__name__)
    except Exception:
        log.exception("websocket of review %s failed", rid)
    await conn.close_within(1000, "")


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value.decode("latin1")
    return None


def _host(scope: dict) -> str:
    """The Host of the request, as Quart's `websocket.host` gives it (werkzeug's get_host)."""
    return get_host(scope.get("scheme", "ws"), _header(scope, b"host"), scope.get("server"))


def _query_arg(scope: dict, name: str) -> str | None:
    for key, value in parse_qsl(scope.get("query_string", b"").decode("utf-8", "replace"), keep_blank_values=True):
        if key == name:
            return value
    return None


def _announce(hub: Hub, state: str) -> None:
    text = {"ok": "Live updates are back.", "degraded": "Live updates are interrupted; reconnecting…"}[state]
    frame = P.status(state, text).decode()
    for subs in hub.channels.values():
        for sub in subs:
            sub.push_text(frame)


def _origin_ok(origin: str | None, host: str, settings: Settings) -> bool:
    if not origin:
        return True  # not a browser (CLI, scripts): the token is the gate
    allowed = {o.strip().rstrip("/") for o in settings.allowed_origins.split(",") if o.strip()}
    if "*" in allowed:
        return True
    if origin.rstrip("/") in allowed:
        return True
    return origin.split("://", 1)[-1].rstrip("/") == host
