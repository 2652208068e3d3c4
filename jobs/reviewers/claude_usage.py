"""What a Claude call used and cost: the API's usage as a `Usage`, priced at list prices.

Prices and bands are in `claude_models.py`; the reviewer yields one `Usage` after every call that
returned a message (the task adds it to the job's totals, and /metrics to the fleet's).
"""

from __future__ import annotations

from typing import Any

from redline.jobs.reviewers.base import Usage
from redline.jobs.reviewers.claude_models import ModelSpec


def cost_usd(spec: ModelSpec, u: Usage) -> float:
    """The call's cost at list prices, from the usage the API returned (claude_models.py):
    5-minute and 1-hour cache writes at their own prices, thinking as output. Haiku 5.5's
    second band prices the whole request when its prompt is over 100K tokens."""
    prompt = u.input_tokens + u.cache_read_tokens + u.cache_write_tokens
    p = spec.prices_for(prompt)
    unsplit = max(0, u.cache_write_tokens - u.cache_write_5m_tokens - u.cache_write_1h_tokens)  # no breakdown: 5m
    total = (u.input_tokens * p.input + u.output_tokens * p.output + u.cache_read_tokens * p.read
             + (u.cache_write_5m_tokens + unsplit) * p.write_5m + u.cache_write_1h_tokens * p.write_1h)
    return round(total / 1_000_000, 8)


def _usage(spec: ModelSpec, raw: dict[str, Any]) -> Usage:
    def n(v: Any) -> int:
        return int(v or 0)

    split = raw.get("cache_creation") or {}
    details = raw.get("output_tokens_details") or {}
    u = Usage(input_tokens=n(raw.get("input_tokens")), output_tokens=n(raw.get("output_tokens")),
              cache_read_tokens=n(raw.get("cache_read_input_tokens")),
              cache_write_tokens=n(raw.get("cache_creation_input_tokens")),
              cache_write_5m_tokens=n(split.get("ephemeral_5m_input_tokens")),
              cache_write_1h_tokens=n(split.get("ephemeral_1h_input_tokens")),
              thinking_tokens=n(details.get("thinking_tokens")))
    u.cost_usd = cost_usd(spec, u)
    return u
