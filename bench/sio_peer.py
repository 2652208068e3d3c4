"""The peer: what a Python team would pick instead of Redline's relay.

python-socketio's AsyncServer with AsyncRedisManager (events from other processes
arrive through Redis pub/sub, as python-socketio documents for "emitting from an
external process"), served by uvicorn (uvloop, httptools, websockets) or Hypercorn.
A socket joins the room named in its query string (`?room=r7`).

It runs with Redline's own collector settings (`gc.collect(); gc.freeze()` after start-up, then
the thresholds of REDLINE_GC_THRESHOLD), so that a comparison measures the relay and not a GC
setting; `--stock-gc` leaves CPython's collector as it is (Redline's counterpart is
`redline-stock`: BENCH_GC_STOCK in bench.probe). The GC recorder of bench.probe is installed, as
in Redline's run.

    python -m bench.sio_peer --port 8765 --redis redis://127.0.0.1:6379/0 [--server hypercorn]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
from urllib.parse import parse_qs

from bench import probe


def build_app(redis_url: str):
    import socketio

    mgr = socketio.AsyncRedisManager(redis_url)
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=mgr, cors_allowed_origins="*")

    @sio.event
    async def connect(sid, environ, auth=None):
        qs = parse_qs(environ.get("QUERY_STRING", ""))
        await sio.enter_room(sid, qs.get("room", ["r0"])[0])

    async def health(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif msg["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": b'{"ok":true}'})

    return socketio.ASGIApp(sio, other_asgi_app=health)


def tune_gc() -> None:
    """What Redline's server does once it has started (server/app.py), with the same settings."""
    from redline.jobs.settings import Settings

    gc.collect()
    gc.freeze()
    gc.set_threshold(*Settings().gc_threshold)
    probe.RECORDER._frozen = True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--redis", required=True)
    ap.add_argument("--server", choices=["uvicorn", "hypercorn"], default="uvicorn")
    ap.add_argument("--stock-gc", action="store_true", help="leave CPython's collector as it is")
    args = ap.parse_args()
    probe.install()
    app = build_app(args.redis)
    if args.server == "uvicorn":
        import uvicorn

        config = uvicorn.Config(app, host=args.host, port=args.port, loop="uvloop", http="httptools",
                                ws="websockets", log_level="warning", access_log=False, lifespan="off",
                                backlog=4096)
        server = uvicorn.Server(config)
        if not args.stock_gc:
            tune_gc()
        server.run()
    else:
        import uvloop
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"{args.host}:{args.port}"]
        config.accesslog = None
        config.backlog = 4096
        if not args.stock_gc:
            tune_gc()
        uvloop.install()
        asyncio.run(serve(app, config))


if __name__ == "__main__":
    main()
