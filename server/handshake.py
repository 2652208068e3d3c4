"""`/ws/reviews/{id}`: the websocket handshake (the socket cap per address, the origin, the
review, its token from the Authorization header, a subprotocol or the query), then the socket
(server/socket.py)."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl

import orjson
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from werkzeug.sansio.utils import get_host

from redline.jobs.settings import Settings
from redline.server import protocol as P
from redline.server.auth import token_from
from redline.server.limits import client_address
from redline.server.services import Services
from redline.server.socket import ClientGone, Connection, Receive, Send

log = logging.getLogger("redline.app")

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


def _origin_ok(origin: str | None, host: str, settings: Settings) -> bool:
    if not origin:
        return True  # not a browser (CLI, scripts): the token is the gate
    allowed = {o.strip().rstrip("/") for o in settings.allowed_origins.split(",") if o.strip()}
    if "*" in allowed:
        return True
    if origin.rstrip("/") in allowed:
        return True
    return origin.split("://", 1)[-1].rstrip("/") == host
