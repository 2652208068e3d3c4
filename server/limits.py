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

    def allow(self, key: str, *, rate_per_s: float, burst: float) -> bool:
        return self.retry_after(key, rate_per_s=rate_per_s, burst=burst) == 0.0
