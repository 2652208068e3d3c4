"""The `redline` command: serve, worker, review."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys

from jobs.logs import setup_logging
from jobs.settings import Settings, get_settings


def _use_uvloop() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass


class EmbeddedStack:
    """Starts the private Redis when REDIS_URL is not set; stops it on exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.redis = None

    def __enter__(self) -> Settings:
        if not self.settings.redis_url:
            from jobs.redis_server import EmbeddedRedis

            self.redis = EmbeddedRedis(self.settings.data_dir / "redis").start()
            self.settings.redis_url = self.redis.url
            print(f"Started a private Redis for Redline ({self.redis.url}, data in {self.redis.data_dir})",
                  file=sys.stderr)
        return self.settings

    def __exit__(self, *exc: object) -> None:
        if self.redis is not None:
            self.redis.stop()


def _stop_event() -> asyncio.Event:
    ev = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, ev.set)
    return ev


# ------------------------------------------------------------------ serve ---
async def serve(settings: Settings, host: str, port: int, run_worker: bool, ready_file: str | None = None) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve
    from hypercorn.config import Config

    from server import protocol as P
    from server.app import create_app

    app = create_app(settings, run_worker=run_worker)
    config = Config()
    config.bind = [f"{host}:{port}"]
    config.websocket_max_message_size = settings.ws_max_message_bytes
    config.websocket_ping_interval = settings.ws_ping_interval_s
    # Hypercorn keeps a closed websocket's ping task until this runs out: sockets are closed
    # with 1001 first, so this only bounds how long a stop can take.
    config.graceful_timeout = settings.shutdown_grace_s
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    stop = _stop_event()
    shutdown = asyncio.Event()

    async def on_stop() -> None:
        await stop.wait()
        svc = app.config.get("SERVICES")
        if svc is not None:
            svc.hub.close_all(P.CLOSE_GOING_AWAY)  # clients reconnect elsewhere at once
            await asyncio.sleep(0.2)
        shutdown.set()

    @app.before_serving
    async def announce() -> None:
        shown = "localhost" if host in ("127.0.0.1", "0.0.0.0", "::") else host
        print(f"Redline is running: http://{shown}:{port}/  (reviewer: {settings.reviewer}"
              f"{', model ' + settings.model if settings.reviewer == 'claude' else ''}; worker: "
              f"{'in-process' if run_worker else 'separate'})", flush=True)
        if ready_file:
            with open(ready_file, "w") as f:
                f.write(f"http://{host}:{port}")

    asyncio.get_running_loop().set_exception_handler(_quiet_cancellations)
    watcher = asyncio.create_task(on_stop())
    await hypercorn_serve(app, config, shutdown_trigger=shutdown.wait)
    watcher.cancel()


def _quiet_cancellations(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """Connections cancelled at shutdown are expected; everything else is logged as usual."""
    if isinstance(context.get("exception"), asyncio.CancelledError):
        return
    loop.default_exception_handler(context)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    with EmbeddedStack(settings) as s:
        _use_uvloop()
        asyncio.run(serve(s, host, port, not args.no_worker, args.ready_file))
    return 0


# ----------------------------------------------------------------- worker ---
async def run_worker(settings: Settings, concurrency: int | None) -> None:
    from jobs.worker import WorkerGroup
    from server.app import redis_client

    group = WorkerGroup(settings, redis_client(settings), concurrency=concurrency)
    stop = _stop_event()
    await group.start()
    print(f"Redline worker running (reviewer: {settings.reviewer}; queues: analysis, chat, test)", flush=True)
    await stop.wait()
    await group.stop()


def cmd_worker(args: argparse.Namespace) -> int:
    settings = get_settings()
    if not settings.redis_url:
        print("redline worker needs REDIS_URL (the Redis that `redline serve` uses).", file=sys.stderr)
        return 2
    _use_uvloop()
    asyncio.run(run_worker(settings, args.concurrency))
    return 0


# ----------------------------------------------------------------- review ---
def cmd_review(args: argparse.Namespace) -> int:
    from server.review_cli import review_command

    return review_command(args)


def main(argv: list[str] | None = None) -> int:
    setup_logging()
    parser = argparse.ArgumentParser(prog="redline", description="Live, collaborative AI review of write-ups.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="web server (and an in-process worker)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--no-worker", action="store_true", help="do not run a worker in this process")
    p.add_argument("--ready-file", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_serve)
    p = sub.add_parser("worker", help="SAQ worker for all queues")
    p.add_argument("--concurrency", type=int)
    p.set_defaults(func=cmd_worker)
    p = sub.add_parser("review", help="review a file from the terminal")
    p.add_argument("file")
    p.add_argument("--guidelines")
    p.add_argument("--server")
    p.add_argument("--out")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_review)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
