"""The `redline` command: serve, worker, review."""

from __future__ import annotations

import argparse
import asyncio
import signal
import socket
import sys

from redline.jobs.logs import setup_logging
from redline.jobs.settings import Settings, get_settings
from redline.server.stack import EmbeddedRedis, hypercorn_config


def _use_uvloop() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass


def _stop_event() -> asyncio.Event:
    """Set by the first SIGINT/SIGTERM (a clean stop); a second one while stopping ends the loop
    at once (SystemExit), and the `with` blocks around it still stop the embedded Redis."""
    ev = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if ev.is_set():
            for task in asyncio.all_tasks(loop):
                task.cancel()
            loop.call_soon(_raise_exit)
        ev.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    return ev


def _raise_exit() -> None:
    raise SystemExit(130)


def _exit_on_signal(signum: int, frame: object) -> None:
    """Outside the event loop (starting Redis, stopping it): SIGTERM unwinds like Ctrl-C does, so
    the embedded Redis is stopped and the data folder's lock let go."""
    raise SystemExit(128 + signum)


def _bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before anything is started: a busy port stops `serve` at once,
    with nothing left running. Hypercorn takes it as `fd://`."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((host.strip("[]"), port))
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


# ------------------------------------------------------------------ serve ---
async def serve(settings: Settings, host: str, port: int, run_worker: bool, ready_file: str | None = None,
                fd: int | None = None) -> None:
    from hypercorn.asyncio import serve as hypercorn_serve

    from redline.server import protocol as P
    from redline.server.app import create_app

    config = hypercorn_config(settings, [f"fd://{fd}"] if fd is not None else [f"{host}:{port}"])
    app = create_app(settings, run_worker=run_worker)
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
    from redline.jobs.redis_server import DataDirBusy, EmbeddedRedisError

    settings = get_settings()
    host = args.host or settings.host
    port = args.port or settings.port
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        sock = _bind(host, port)
    except OSError as e:
        print(f"redline serve: cannot listen on {host}:{port} ({e.strerror or e}). Is another server "
              f"running there? Choose another with --port or REDLINE_PORT.", file=sys.stderr)
        return 2
    try:
        with EmbeddedRedis(settings) as s:
            _use_uvloop()
            try:
                asyncio.run(serve(s, host, port, not args.no_worker, args.ready_file, sock.detach()))
            finally:
                signal.signal(signal.SIGTERM, _exit_on_signal)  # the loop put the default back
    except DataDirBusy as e:
        print(f"redline serve: {e}", file=sys.stderr)
        return 3
    except EmbeddedRedisError as e:
        print(f"redline serve: could not start the private Redis: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    finally:
        sock.close()  # nothing when Hypercorn took it
    return 0


# ----------------------------------------------------------------- worker ---
async def run_worker(settings: Settings, concurrency: int | None) -> None:
    from redline.jobs.worker import WorkerGroup
    from redline.server.app import redis_client

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
    from redline.server.review_cli import review_command

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
    from redline.server.review_cli import add_arguments as add_review_arguments

    add_review_arguments(p)  # FILE, --guidelines, --server, --out, --include, --changes, --json, --verbose
    p.set_defaults(func=cmd_review)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
