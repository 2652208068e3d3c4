"""create_app: the composition root. It wires the services (Redis, store, queues, hub,
presence) and their lifecycle, and routes ASGI: the review socket (server/handshake.py) and
the early 429 (server/refusals.py) ahead of Quart; pages, API, admin, errors and headers are
each in their own module."""

from __future__ import annotations

import asyncio
import gc
import logging
import re
import secrets

from quart import Quart
from redis.asyncio import Redis

from redline.jobs import redis_conn
from redline.jobs.events import Publisher
from redline.jobs.queues import Jobs, make_queues
from redline.jobs.settings import Settings, get_settings
from redline.jobs.store import Store
from redline.server import protocol as P
from redline.server.admin import admin
from redline.server.api import api
from redline.server.errors import install_error_handlers
from redline.server.handshake import review_socket
from redline.server.headers import install_request_hooks
from redline.server.hub import Hub
from redline.server.pages import pages
from redline.server.presence import Presence
from redline.server.refusals import rate_kind, refuse_over_rate
from redline.server.services import Services
from redline.server.socket import Receive, Send

log = logging.getLogger("redline.app")


def redis_client(settings: Settings) -> Redis:
    return redis_conn.connect(settings)


def create_app(settings: Settings | None = None, *, run_worker: bool = False) -> Quart:
    settings = settings or get_settings()
    app = Quart(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_upload_bytes * 2 + 64 * 1024  # document + guidelines
    app.config["SETTINGS"] = settings
    app.register_blueprint(api)
    app.register_blueprint(admin)
    app.register_blueprint(pages)
    install_error_handlers(app, settings)
    install_request_hooks(app)
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


def _announce(hub: Hub, state: str) -> None:
    text = {"ok": "Live updates are back.", "degraded": "Live updates are interrupted; reconnecting…"}[state]
    frame = P.status(state, text).decode()
    for subs in hub.channels.values():
        for sub in subs:
            sub.push_text(frame)
