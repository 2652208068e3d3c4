"""What each Claude model accepts, how it thinks, what it costs: one table, one place.

Every model id in the installed SDK's `ModelParam` list has a row (a test checks it).
The request builder (`prompts.py`) and the cost (`claude.py`) read only this table.
Sources: ../shared/CLAUDE-API.md (platform docs, fetched 2026-08 to 2026-11, and the
anthropic 2.17 source), summarised with links in docs/claude.md.

An id that is not in the table gets `CAUTIOUS`: no forced tool choice, no sampling
parameters, no prefill, no thinking configuration, the default effort — the shape every
current model accepts — priced like the current Sonnet, and a log line saying so.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Literal

log = logging.getLogger("redline.claude")

Effort = Literal["low", "medium", "high", "xhigh", "max"]
EFFORTS: tuple[str, ...] = ("low", "medium", "high", "xhigh", "max")


@dataclass(frozen=True)
class Prices:
    """USD per million tokens. Cache writes at the 5-minute and 1-hour TTLs, cache reads."""

    input: float
    output: float
    write_5m: float
    write_1h: float
    read: float


@dataclass(frozen=True)
class ModelSpec:
    id: str
    status: Literal["active", "legacy", "deprecated", "unknown"]
    prices: Prices
    # Haiku 5.5 prices a whole request at its second band when the prompt (input plus cache
    # reads and writes) is over this many tokens.
    long_prompt_tokens: int | None = None
    long_prices: Prices | None = None
    # What the model answers 400 to.
    refuses_forced_tool: bool = True
    refuses_sampling: bool = True  # temperature / top_p / top_k (API 2026-10-21: at any value)
    refuses_prefill: bool = True
    refuses_thinking_budget: bool = True
    refuses_thinking_disabled: bool = True
    # How it thinks: adaptive thinking by default (billed as output, inside max_tokens).
    thinks_by_default: bool = True
    supports_effort: bool = True
    default_effort: str = "high"
    min_cache_tokens: int = 1024  # a shorter prefix is silently not cached
    context_tokens: int = 1_000_000
    max_output_tokens: int = 128_000
    structured_outputs: bool = True
    source: str = ""

    def prices_for(self, prompt_tokens: int) -> Prices:
        if self.long_prompt_tokens is not None and self.long_prices and prompt_tokens > self.long_prompt_tokens:
            return self.long_prices
        return self.prices


def _p(inp: float, out: float, read: float | None = None) -> Prices:
    """Prices with the standard cache multipliers: 5-minute write 1.25x input, 1-hour 2x."""
    return Prices(inp, out, round(inp * 1.25, 6), round(inp * 2, 6), read if read is not None else round(inp * 0.1, 6))


_DOCS = "platform docs, models/{}/overview (CLAUDE-API.md §1-2)"
_OLD = "list price carried from the 2025 table; not restated in 2026 sources"

SONNET_5_5 = ModelSpec(
    "claude-sonnet-5-5", "active", _p(2, 10, read=0.10), min_cache_tokens=512,
    default_effort="high", source=_DOCS.format("sonnet-5-5"))
OPUS_5_5 = ModelSpec(
    "claude-opus-5-5", "active", _p(4, 20, read=0.20), min_cache_tokens=512,
    default_effort="medium", source=_DOCS.format("opus-5-5"))
HAIKU_5_5 = ModelSpec(
    "claude-haiku-5-5", "active", Prices(0.10, 0.50, 0.125, 0.20, 0.01),
    long_prompt_tokens=100_000, long_prices=Prices(0.50, 2.50, 0.625, 1.00, 0.05),
    refuses_forced_tool=False,  # not listed as breaking (unconfirmed): we never force anyway
    refuses_thinking_disabled=False,  # accepted at effort <= high
    min_cache_tokens=512, default_effort="medium", source=_DOCS.format("haiku-5-5"))
SONNET_5 = ModelSpec(
    "claude-sonnet-5", "legacy", _p(2, 10, read=0.20), refuses_forced_tool=False,
    refuses_thinking_disabled=False, default_effort="high", source=_DOCS.format("sonnet-5"))

# The 4.x generation: no adaptive thinking by default, forced tools and sampling accepted
# by the model itself (API 2026-10-21 still refuses sampling at any value).
def _four(mid: str, prices: Prices, status: Literal["active", "legacy", "deprecated"] = "legacy") -> ModelSpec:
    return ModelSpec(mid, status, prices, refuses_forced_tool=False, refuses_prefill=False,
                     refuses_thinking_budget=False, refuses_thinking_disabled=False, thinks_by_default=False,
                     supports_effort=False, default_effort="high", min_cache_tokens=1024,
                     context_tokens=200_000, max_output_tokens=64_000, source=_OLD)


# The newer families the SDK lists whose request rules are not in our sources: treated like
# the 5.5 models (the strictest known shape), priced as the docs give where they do.
def _five(mid: str, prices: Prices, source: str = _OLD) -> ModelSpec:
    return ModelSpec(mid, "active", prices, min_cache_tokens=1024, source=source)


MODELS: dict[str, ModelSpec] = {m.id: m for m in [
    SONNET_5_5, OPUS_5_5, HAIKU_5_5, SONNET_5,
    _five("claude-fable-5-2", _p(8, 40), source="platform docs, models/overview (Fable 5.2 $8/$40)"),
    _five("claude-fable-5-1", _p(8, 40)),
    _five("claude-fable-5", _p(8, 40)),
    _five("claude-mythos-5-2", _p(8, 40)),
    _five("claude-mythos-5-1", _p(8, 40)),
    _five("claude-mythos-5", _p(8, 40)),
    replace(_five("claude-mythos-preview", _p(8, 40)), status="deprecated"),
    _five("claude-opus-5", _p(4, 20)),
    _four("claude-opus-4-8", _p(5, 25)),
    _four("claude-opus-4-7", _p(5, 25)),
    _four("claude-opus-4-6", _p(5, 25)),
    _four("claude-opus-4-5", _p(5, 25), "deprecated"),
    _four("claude-opus-4-5-20251101", _p(5, 25), "deprecated"),
    _four("claude-sonnet-4-6", _p(3, 15)),
    _four("claude-haiku-4-5", _p(1, 5)),
    _four("claude-haiku-4-5-20251001", _p(1, 5)),
]}

CAUTIOUS = replace(SONNET_5_5, id="", status="unknown", min_cache_tokens=1024,
                   source="unknown model id: the shape every current model accepts, Sonnet 5.5 prices")

_warned: set[str] = set()


def spec(model: str) -> ModelSpec:
    """The row for `model`; an unknown id gets the cautious shape, with a log line (once)."""
    found = MODELS.get(model)
    if found is not None:
        return found
    if model not in _warned:
        _warned.add(model)
        log.warning("model %r is not in Redline's model table: using the cautious request shape "
                    "(no forced tools, no sampling parameters, no thinking settings) and Sonnet 5.5 prices", model)
    return replace(CAUTIOUS, id=model)


def effort_for(model: ModelSpec, wanted: str | None) -> str | None:
    """The `output_config.effort` to send: the setting, when the model takes one at all."""
    if not model.supports_effort or not wanted:
        return None
    return wanted if wanted in EFFORTS else None
