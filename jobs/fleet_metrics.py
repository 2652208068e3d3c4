"""Counters that every worker adds to in Redis, so any server's /metrics shows the whole fleet.

One hash, `rl:metrics`; a field is `name` or `name{label="value",...}` and holds a number.
Workers only increment; the server turns the fields into Prometheus counters.
"""

from __future__ import annotations

import asyncio
import logging

from redis.asyncio import Redis

from redline.jobs.keys import RECENT_JOBS

METRICS_KEY = "rl:metrics"
log = logging.getLogger("redline.metrics")

# name -> help text (every name recorded must be listed here)
FLEET_COUNTERS: dict[str, str] = {
    "redline_jobs_finished_total": "Jobs that ended, by queue and outcome",
    "redline_job_seconds_total": "Run time of finished jobs, by queue (divide by jobs finished for the mean)",
    "redline_jobs_retried_total": "Job attempts that failed and were retried, by queue",
    "redline_model_requests_total": "Model calls, by kind and outcome",
    "redline_model_seconds_total": "Time spent in model calls, by kind (divide by model requests for the mean)",
    "redline_model_tokens_total": "Tokens, by type (input, output incl. thinking, cache_read, cache_write_5m, cache_write_1h, thinking)",
    "redline_model_cost_usd_total": "Model cost in US dollars at list prices, from the usage the API returned",
    "redline_model_overloaded_total": "429 and 529 answers from the model, by status",
    "redline_rate_limit_wait_seconds_total": "Time jobs waited for the model rate limit or a fleet pause",
}


def field(name: str, **labels: str) -> str:
    if name not in FLEET_COUNTERS:
        raise ValueError(f"unknown fleet metric {name}")
    if not labels:
        return name
    inner = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


class Recorder:
    """Adds to fleet counters (and the recent-jobs list) off the caller's path: a write starts
    at once, and what is added while it is in flight goes in the next one (one round trip for
    many). A job never waits for its metrics."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._counters: dict[str, float] = {}
        self._jobs: list[str] = []
        self._task: asyncio.Task | None = None

    def incr(self, name: str, value: float = 1, **labels: str) -> None:
        key = field(name, **labels)
        self._counters[key] = self._counters.get(key, 0) + value
        self._kick()

    def finished(self, job_id: str) -> None:
        """List a finished job among the recent ones (the queue dashboard)."""
        self._jobs.append(job_id)
        self._kick()

    async def drain(self) -> None:
        """Wait until everything added so far is written."""
        if self._task is not None:
            await asyncio.shield(self._task)

    def _kick(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._write())

    async def _write(self) -> None:
        try:
            while self._counters or self._jobs:
                counters, jobs, self._counters, self._jobs = self._counters, self._jobs, {}, []
                try:
                    async with self.redis.pipeline(transaction=False) as pipe:
                        if jobs:
                            pipe.lpush(RECENT_JOBS, *jobs).ltrim(RECENT_JOBS, 0, 499)
                        for key, value in counters.items():
                            pipe.hincrbyfloat(METRICS_KEY, key, value)
                        await pipe.execute()
                except Exception as e:  # Redis away: the jobs matter more than their metrics
                    log.warning("fleet metrics not recorded: %s", e)
        finally:
            self._task = None
