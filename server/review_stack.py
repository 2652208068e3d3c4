"""The embedded stack `redline review` runs without --server: a private Redis, the web app with
its worker, on a free loopback port, for as long as one call takes."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

import httpx


class StackFailed(Exception):
    pass


async def with_embedded_stack(fn) -> None:
    """The embedded stack: a private Redis (in a temporary folder unless REDLINE_DATA_DIR is set),
    the web app with its worker, on a free loopback port."""
    from hypercorn.asyncio import serve

    from redline.jobs.redis_server import free_port
    from redline.jobs.settings import get_settings
    from redline.server.app import create_app
    from redline.server.stack import EmbeddedRedis, hypercorn_config

    settings = get_settings()
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as redis:
        try:
            redis.enter_context(EmbeddedRedis(settings, Path(tmp) / "redis", announce=False))
            port = free_port()
            config = hypercorn_config(settings, [f"127.0.0.1:{port}"])
            app = create_app(settings, run_worker=True)
            stop = asyncio.Event()
            task = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
        except Exception as e:
            raise StackFailed(f"{e.__class__.__name__}: {e}") from e
        base = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=1) as http:
            while True:
                if task.done():
                    exc = task.exception()
                    raise StackFailed(f"the embedded server stopped at start-up{': ' + str(exc) if exc else ''}")
                try:
                    if (await http.get("/healthz")).status_code == 200:
                        break
                except httpx.HTTPError:
                    await asyncio.sleep(0.05)
        try:
            await fn(base)
        finally:
            stop.set()
            await task
