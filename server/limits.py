"""Per-client rate limits of this server process (token buckets in memory)."""

from __future__ import annotations

import time


class Limiter:
    def __init__(self, max_keys: int = 50_000) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._max_keys = max_keys

    def retry_after(self, key: str, *, rate_per_s: float, burst: float) -> float:
        """0 when the call is allowed now (and counted), else seconds until it would be."""
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * rate_per_s)
        if tokens >= 1:
            if len(self._buckets) >= self._max_keys:
                self._buckets.clear()  # bounded memory; a flood of keys resets everyone's bucket
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / rate_per_s

    def waiting(self, key: str, *, rate_per_s: float) -> float:
        """Seconds until the next call would be allowed (0 now); counts nothing."""
        tokens, last = self._buckets.get(key, (1.0, time.monotonic()))
        tokens += (time.monotonic() - last) * rate_per_s
        return 0.0 if tokens >= 1 else (1 - tokens) / rate_per_s

    def allow(self, key: str, *, rate_per_s: float, burst: float) -> bool:
        return self.retry_after(key, rate_per_s=rate_per_s, burst=burst) == 0.0


def client_address(remote: str | None, forwarded_for: str | None, trust_proxy_headers: bool) -> str:
    """The key of a client for per-client limits, the same for its HTTP requests and its sockets:
    its address, or (behind our own reverse proxy only: clients could forge it) the first
    `X-Forwarded-For` entry."""
    if trust_proxy_headers and forwarded_for:
        first = forwarded_for.split(",")[0].strip()
        if first:
            return first[:64]
    return remote or "?"


class SocketCounter:
    """Open sockets per client address (this process)."""

    def __init__(self) -> None:
        self.open: dict[str, int] = {}

    def take(self, client: str, cap: int) -> bool:
        n = self.open.get(client, 0)
        if cap > 0 and n >= cap:
            return False
        self.open[client] = n + 1
        return True

    def give_back(self, client: str) -> None:
        n = self.open.get(client, 0) - 1
        if n > 0:
            self.open[client] = n
        else:
            self.open.pop(client, None)
