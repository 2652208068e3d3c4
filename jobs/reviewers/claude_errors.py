"""What a failed Claude call means: retry (and whether every worker should wait), or fail with
what a person must do.

`classify` sorts the SDK's and httpx2's errors: `_Retry` (a 5xx, a timeout, a dropped stream; with
`fleet` for 429/529, and the retry-after it gave, `retry_after`), `JobFailed` with advice (a bad
key, model or request; a prompt too large, `TooLarge`), or None (unknown: let it escape).
`backoff` is the retries' delay; `advice` words a failed connection test.
"""

from __future__ import annotations

import json
import random
import time
from email.utils import parsedate_to_datetime

import anthropic
import httpx2

from redline.jobs.jobrun import JobFailed
from redline.jobs.settings import Settings


class _Retry(Exception):
    """A failure worth another call. `fleet`: every worker should wait (429/529), for
    `pause` seconds when the answer said how long."""

    def __init__(self, reason: str, *, fleet: bool = False, pause: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.fleet = fleet
        self.pause = pause


class ModelInterrupted(Exception):
    """A chat answer broke off after part of it was shown: SAQ runs the job again."""


def retry_after(response: httpx2.Response | None) -> float | None:
    """Seconds from retry-after-ms / retry-after (seconds or an HTTP date), if usable."""
    if response is None:
        return None
    h = response.headers
    try:
        if h.get("retry-after-ms"):
            v = float(h["retry-after-ms"]) / 1000
            return v if v > 0 else None
        if h.get("retry-after"):
            raw = h["retry-after"]
            try:
                v = float(raw)
            except ValueError:
                v = parsedate_to_datetime(raw).timestamp() - time.time()
            return v if v > 0 else None
    except (ValueError, TypeError, OverflowError):
        return None
    return None


def _message(e: anthropic.APIStatusError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    err = body.get("error") if isinstance(body.get("error"), dict) else {}
    return str(err.get("message") or e.message or "")[:300]


_SPEND_LIMITS = tuple(c for c in (getattr(anthropic, "ContractSpendLimitReachedError", None),
                                  getattr(anthropic, "EnforcedSpendLimitReachedError", None)) if c)


class TooLarge(JobFailed):
    """The prompt does not fit the model's context: never retried as it is."""


def _too_large(cfg: Settings, msg: str) -> TooLarge:
    return TooLarge(f"This is too large for {cfg.model}'s context ({msg or 'prompt is too long'}). "
                    "Split the section into smaller ones, or shorten the document.")


def classify(e: BaseException, cfg: Settings, *, streaming: bool = False) -> BaseException | None:
    """JobFailed (no point retrying: a person must act), _Retry, or None (unknown: let it escape).
    `streaming`: the answer had begun when it failed (a stall or a drop, not a refused call)."""
    if isinstance(e, anthropic.APIStatusError):
        status, msg = e.status_code, _message(e)
        if status == 200:  # an `error` event in the middle of the stream
            kind = (e.body or {}).get("error", {}).get("type", "error") if isinstance(e.body, dict) else "error"
            if kind in ("overloaded_error", "rate_limit_error"):  # the same as a 529 / 429: every worker waits
                what = "overloaded" if kind == "overloaded_error" else "rate limited"
                return _Retry(f"Claude is {what} (mid-answer)", fleet=True)
            return _Retry(f"the answer broke off ({kind})")
        should = (e.response.headers.get("x-should-retry") or "").lower() if e.response is not None else ""
        if should == "false":
            return JobFailed(f"Claude answered {status} and said not to retry ({msg}). Try again later; "
                             "if it persists, check REDLINE_MODEL and the Anthropic status page.")
        if status in (400, 413) and ("too long" in msg.lower() or "context" in msg.lower() or status == 413):
            return _too_large(cfg, msg)
        if should == "true":
            return _Retry(f"Claude answered {status}", fleet=status in (429, 529), pause=retry_after(e.response))
        if _SPEND_LIMITS and isinstance(e, _SPEND_LIMITS):
            return JobFailed(f"The Anthropic organisation's spend limit is reached ({msg}). "
                             "Raise the limit in the Anthropic console, then try again.")
        if status == 401:
            return JobFailed("Claude rejected the API key (401 authentication error). Check ANTHROPIC_API_KEY.")
        if status == 402:
            return JobFailed(f"The Anthropic account cannot be billed (402: {msg}). Check the account's billing.")
        if status == 403:
            return JobFailed(f"The API key may not use this model or feature (403: {msg}). "
                             "Check the key's permissions and REDLINE_MODEL.")
        if status == 404:
            return JobFailed(f"Claude model {cfg.model!r} was not found (404: {msg}). Check REDLINE_MODEL.")
        if status in (429, 529):
            what = "rate limited (429)" if status == 429 else "overloaded (529)"
            return _Retry(f"Claude is {what}", fleet=True, pause=retry_after(e.response))
        if status in (408, 409) or status >= 500:
            return _Retry(f"Claude answered {status}")
        return JobFailed(f"Claude rejected the request ({status}: {msg}). Check REDLINE_MODEL and "
                         "REDLINE_MAX_TOKENS.")
    # anthropic 2.17 wraps a stalled or dropped stream too: a timeout is APITimeoutError, a
    # dropped connection APIConnectionError (raw httpx2 errors only from older SDKs).
    if isinstance(e, (anthropic.APITimeoutError, httpx2.TimeoutException)):
        return _Retry("the answer stalled" if streaming else "Claude did not answer in time")
    if isinstance(e, (anthropic.APIConnectionError, httpx2.HTTPError)):
        return _Retry("the connection dropped mid-answer" if streaming else "could not reach Claude")
    if isinstance(e, json.JSONDecodeError):
        return _Retry("the answer stream was garbled")
    return None


def advice(e: BaseException, cfg: Settings) -> str:
    """What a person can do about a failed connection test."""
    where = cfg.anthropic_base_url or "https://api.anthropic.com"
    if isinstance(e, (anthropic.APIConnectionError, httpx2.TransportError)):
        return (f"Could not reach the Anthropic API at {where} ({type(e).__name__}). "
                "Check ANTHROPIC_BASE_URL and the network connection.")
    if isinstance(e, anthropic.APIStatusError) and e.status_code in (429, 529):
        return (f"The API key and model work, but Claude is {'rate limited' if e.status_code == 429 else 'overloaded'} "
                f"right now ({e.status_code}). Try again in a minute.")
    c = classify(e, cfg)
    return str(c) if c is not None else f"{type(e).__name__}: {e}"


def backoff(attempt: int, base: float, cap: float = 8.0) -> float:
    """Exponential backoff with full jitter over the upper half: base * 2**(n-1) * U(0.5, 1)."""
    return min(cap, base * 2 ** max(0, attempt - 1)) * random.uniform(0.5, 1.0)
