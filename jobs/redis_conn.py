"""Connections to Redis, from REDIS_URL, in one place.

Accepted forms:
  redis://[:password@]host:port/db          plain TCP
  rediss://[:password@]host:port/db         TLS (managed Redis)
  unix:///path/to/redis.sock?db=0           unix socket
  redis+sentinel://[:password@]host:port[,host:port...]/service_name[/db]
                                            Sentinel: the current master of `service_name`
Pool size and timeouts are settings (REDLINE_REDIS_*).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError, TimeoutError as RedisTimeoutError

from redline.jobs.settings import Settings


def _options(settings: Settings, *, retries: bool) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "socket_connect_timeout": settings.redis_connect_timeout_s,
        "socket_keepalive": True,
        "health_check_interval": 15,
    }
    if settings.redis_socket_timeout_s:
        opts["socket_timeout"] = settings.redis_socket_timeout_s
    if retries:
        opts["retry"] = Retry(ExponentialWithJitterBackoff(cap=1.0, base=0.05), 3)
        opts["retry_on_error"] = [RedisConnectionError, RedisTimeoutError]
    else:
        opts["retry"] = Retry(NoBackoff(), 0)
    return opts


def connect(settings: Settings, *, pubsub: bool = False) -> Redis:
    """A client for `settings.redis_url`. `pubsub=True`: no retries (the hub reconnects itself, and
    must know when it did) and no read timeout (a subscription waits as long as it must)."""
    url = settings.redis_url or ""
    opts = _options(settings, retries=not pubsub)
    if pubsub:
        opts.pop("socket_timeout", None)
    if url.startswith("redis+sentinel://"):
        return _sentinel_master(url, settings, opts)
    return Redis.from_url(url, max_connections=settings.redis_max_connections, **opts)


def _sentinel_master(url: str, settings: Settings, opts: dict[str, Any]) -> Redis:
    parts = urlsplit(url)
    hosts = []
    for hp in parts.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = hp.rpartition(":")
        hosts.append((host or "127.0.0.1", int(port or 26379)))
    path = [p for p in parts.path.split("/") if p]
    if not path:
        raise ValueError("A Sentinel REDIS_URL names the service: redis+sentinel://host:26379/mymaster[/db]")
    service, db = path[0], int(path[1]) if len(path) > 1 else 0
    password = unquote(parts.password) if parts.password else None
    sentinel = Sentinel(hosts, socket_connect_timeout=settings.redis_connect_timeout_s)
    return sentinel.master_for(service, db=db, password=password, max_connections=settings.redis_max_connections,
                               **opts)
