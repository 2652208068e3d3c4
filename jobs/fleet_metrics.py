"""Counters that every worker adds to in Redis, so any server's /metrics shows the whole fleet.

One hash, `rl:metrics`; a field is `name` or `name{label="value",...}` and holds a number.
Workers only increment; the server turns the fields into Prometheus counters.
"""

from __future__ import annotations

import logging

from redis.asyncio import Redis

METRICS_KEY = "rl:metrics"
log = logging.getLogger("redline.metrics")

# name -> help text (every name recorded must be listed here)
FLEET_COUNTERS: dict[str, str] = {
    "redline_jobs_finished_total": "Jobs that ended, by queue and outcome",
    "redline_job_seconds_total": "Run time of finished jobs, by queue (divide by jobs finished for the mean)",
    "redline_jobs_retried_total": "Job attempts that failed and were retried, by queue",
    "redline_model_requests_total": "Model calls, by kind and outcome",
    "redline_model_seconds_total": "Time spent in model calls, by kind (divide by model requests for the mean)",
    "redline_model_tokens_total": "Tokens, by type (input, output, cache_read, cache_write)",
    "redline_model_cost_usd_total": "Estimated model cost in US dollars",
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


async def incr(redis: Redis, name: str, value: float = 1, **labels: str) -> None:
    """Add to a fleet counter; a metrics hiccup never fails a job."""
    try:
        await redis.hincrbyfloat(METRICS_KEY, field(name, **labels), value)
    except Exception as e:  # pragma: no cover - Redis away: the job matters more than the metric
        log.debug("metric %s not recorded: %s", name, e)
