"""The embedded stack, started one way for `redline serve` and `redline review`: a private
Redis when REDIS_URL is not set, and the web server's Hypercorn configuration (websocket
message size and pings, the 1009 fix, the per-address connection cap)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

from redline.jobs.settings import Settings


class EmbeddedRedis:
    """Starts the private Redis when `settings.redis_url` is not set (and points the settings at
    it); stops it on exit. `folder`: where it keeps its data (default: the data folder's
    `redis/`, locked for this process's life, with a generated password); `announce` prints
    where it is."""

    def __init__(self, settings: Settings, folder: Path | None = None, *, announce: bool = True) -> None:
        self.settings = settings
        self.folder = folder
        self.announce = announce
        self.redis: Any = None

    def __enter__(self) -> Settings:
        if not self.settings.redis_url:
            from redline.jobs.redis_server import EmbeddedRedis as Server

            # The data folder is locked for this process's life (a second `serve` on it is refused and
            # touches nothing of ours), and the Redis asks for a generated password.
            self.redis = Server(self.folder or self.settings.data_dir / "redis", secure=True).start()
            self.settings.redis_url = self.redis.url
            if self.announce:
                print(f"Started a private Redis for Redline (redis://127.0.0.1:{self.redis.port}/0, password in "
                      f"{self.redis.data_dir / 'redis.password'}, data in {self.redis.data_dir})", file=sys.stderr)
        return self.settings

    def __exit__(self, *exc: object) -> None:
        if self.redis is not None:
            self.redis.stop()
            self.redis = None


def hypercorn_config(settings: Settings, bind: list[str]) -> Any:
    """Hypercorn's configuration for the web app, and the process-wide fixes it needs (applied
    once): an oversized frame closed with 1009 at once, connections capped per client address."""
    from hypercorn.config import Config

    from redline.server import hypercorn_fixes
    from redline.server.refusals import ConnectionCap

    hypercorn_fixes.apply()  # an oversized frame is closed with 1009 at once, not at the next ping
    ConnectionCap.from_settings(settings).install()  # a 429 at once past the cap, before Hypercorn builds anything
    config = Config()
    config.bind = bind
    config.websocket_max_message_size = settings.ws_max_message_bytes
    config.websocket_ping_interval = settings.ws_ping_interval_s
    # Hypercorn keeps a closed websocket's ping task until this runs out: sockets are closed
    # with 1001 first, so this only bounds how long a stop can take.
    config.graceful_timeout = settings.shutdown_grace_s
    config.accesslog = None
    config.errorlog = logging.getLogger("hypercorn.error")
    return config
