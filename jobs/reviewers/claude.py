"""The Claude reviewer: streamed, validated findings; streamed chat; a connection test.

One `ClaudeReviewer` (and so one `AsyncAnthropic` client) per worker process, built
by `jobs.worker.make_reviewer`. Every model call goes through the same path:

    admit  (Redis: fleet pause after 429/529, prompt-cache warm-up, concurrency slot,
            requests per window of the kind; the wait shows up as Progress text)
    call   (`messages.create(stream=True)` inside `async with`, so cancelling the job
            closes the HTTP stream at once)
    usage  (a Usage after every call that returned a message, with an estimated cost)
    retry  (our own, with backoff and jitter: the SDK's retries are off, since it does
            not retry mid-stream failures and it honours retry-after without a cap)

Analysis forces the `report_findings` tool and scans its JSON as it streams
(`streaming.ItemScanner`), so each finding is validated and yielded the moment its
object closes. Prompts live in `prompts.py`; the shared limits in `jobs/limits.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import json
import logging
import math
import random
import time
import uuid
from difflib import SequenceMatcher
from email.utils import parsedate_to_datetime
from typing import Any, AsyncIterator

import anthropic
import httpx2
from pydantic import ValidationError
from redis.asyncio import Redis

from jobs.jobrun import JobFailed
from jobs.limits import ModelLimits
from jobs import fleet_metrics
from jobs.models import Finding
from jobs.settings import Settings
from jobs.reviewers import prompts
from jobs.reviewers.base import AnalysisRequest, ChatRequest, Progress, Usage
from jobs.reviewers.checklist import CHECKLIST_BY_ID
from jobs.reviewers.streaming import ItemScanner

log = logging.getLogger("redline.claude")

# ------------------------------------------------------------------ settings ---


# -------------------------------------------------------------------- prices ---

# USD per million tokens (input, output) by model family: an ESTIMATE for the review's
# running total, not a bill. Cache writes cost 1.25x input, cache reads 0.1x input.
PRICES: dict[str, tuple[float, float]] = {"opus": (5.0, 25.0), "sonnet": (3.0, 15.0), "haiku": (1.0, 5.0)}
CACHE_WRITE_FACTOR = 1.25
CACHE_READ_FACTOR = 0.10


def cost_usd(model: str, *, input_tokens: int, output_tokens: int, cache_read_tokens: int = 0,
             cache_write_tokens: int = 0) -> float:
    family = next((f for f in PRICES if f in model.lower()), "sonnet")
    price_in, price_out = PRICES[family]
    total = (input_tokens * price_in + output_tokens * price_out
             + cache_write_tokens * price_in * CACHE_WRITE_FACTOR + cache_read_tokens * price_in * CACHE_READ_FACTOR)
    return round(total / 1_000_000, 6)


def _usage(model: str, raw: dict[str, Any]) -> Usage:
    n = {k: int(raw.get(k) or 0) for k in ("input_tokens", "output_tokens", "cache_read_input_tokens",
                                             "cache_creation_input_tokens")}
    u = Usage(input_tokens=n["input_tokens"], output_tokens=n["output_tokens"],
              cache_read_tokens=n["cache_read_input_tokens"], cache_write_tokens=n["cache_creation_input_tokens"])
    u.cost_usd = cost_usd(model, input_tokens=u.input_tokens, output_tokens=u.output_tokens,
                          cache_read_tokens=u.cache_read_tokens, cache_write_tokens=u.cache_write_tokens)
    return u


# -------------------------------------------------------------------- quotes ---

_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def _normalise(text: str) -> tuple[str, list[int]]:
    """Whitespace runs -> one space, curly quotes and dashes -> plain; with each char's source index."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                where.append(i)
            continue
        chars.append(ch.translate(_FOLD))
        where.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        where.pop()
    return "".join(chars), where


def _lower(text: str) -> str:
    """Lower case that keeps every index (a char whose lower case is longer stays as it is)."""
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class QuoteFinder:
    """Finds a model's quote in the section text; returns the section's EXACT substring."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.where = _normalise(text)
        self.norm_lower = _lower(self.norm)

    def find(self, quote: str | None) -> str | None:
        if not quote or not quote.strip():
            return None
        seen: set[str] = set()
        for candidate in self._candidates(quote):
            q, _ = _normalise(candidate)
            if not q or q in seen:
                continue
            seen.add(q)
            k = self.norm.find(q)
            if k < 0:
                k = self.norm_lower.find(_lower(q))
            if k >= 0:
                return self.text[self.where[k]: self.where[k + len(q) - 1] + 1]
        return None

    @staticmethod
    def _candidates(quote: str) -> list[str]:
        out = [quote, html.unescape(quote)]
        for c in list(out):
            trimmed = c.strip().strip("\"'\u201c\u201d\u2018\u2019").strip()
            for ellipsis in ("...", "\u2026"):
                trimmed = trimmed.removeprefix(ellipsis).removesuffix(ellipsis).strip()
            out.append(trimmed)
        return out


# ------------------------------------------------------------------ findings ---

QUOTE_MISS_FACTOR = 0.6
DUPLICATE_RATIO = 0.85


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, " ".join(a.lower().split()), " ".join(b.lower().split())).ratio()


def similar(a: Finding, b: Finding) -> bool:
    """Near-duplicates: same category, nearly the same description, and not about two
    different passages (the same remark on two sentences is two findings)."""
    if a.category.strip().lower() != b.category.strip().lower():
        return False
    if _ratio(a.description, b.description) <= DUPLICATE_RATIO:
        return False
    return not (a.quote and b.quote and _ratio(a.quote, b.quote) <= DUPLICATE_RATIO)


class FindingCheck:
    """Validates the model's findings for one section, across every retry of the call.

    Each raw item goes through `Finding`; the quote is mapped to the exact section text
    (or dropped, with the confidence cut); refs are kept to the checklist's ids; weak
    items (below min_confidence) and near-duplicates of items already given are dropped.
    Items are yielded as they stream, so of two near-duplicates the first one stays.
    """

    def __init__(self, section_text: str, min_confidence: float) -> None:
        self.quotes = QuoteFinder(section_text)
        self.min_confidence = min_confidence
        self.kept: list[Finding] = []
        self.dropped: dict[str, int] = {"invalid": 0, "weak": 0, "duplicate": 0}

    def accept(self, raw: Any) -> Finding | None:
        finding = self._validate(raw)
        if finding is None:
            self.dropped["invalid"] += 1
            return None
        if finding.confidence < self.min_confidence:
            self.dropped["weak"] += 1
            return None
        if any(similar(finding, k) for k in self.kept):
            self.dropped["duplicate"] += 1
            return None
        self.kept.append(finding)
        return finding

    def _validate(self, raw: Any) -> Finding | None:
        if not isinstance(raw, dict):
            return None
        item = dict(raw)
        try:
            f = Finding.model_validate({
                **item,
                "category": str(item.get("category") or "").strip()[:80],
                "questions": [q for q in (item.get("questions") or []) if isinstance(q, str) and q.strip()][:10],
                "refs": [],
                "quote": None,
                "confidence": min(1.0, max(0.0, float(item.get("confidence", 0.7)))),
            })
        except (ValidationError, TypeError, ValueError):
            return None
        quote = self.quotes.find(item.get("quote") if isinstance(item.get("quote"), str) else None)
        confidence = f.confidence
        if item.get("quote") and quote is None:
            confidence = round(confidence * QUOTE_MISS_FACTOR, 3)
        refs: list[str] = []
        for r in item.get("refs") or []:
            rid = str(r).strip().upper()
            if rid in CHECKLIST_BY_ID and rid not in refs:
                refs.append(rid)
        if quote is not None and len(quote) > 4000:
            quote = None
        return f.model_copy(update={"quote": quote, "refs": refs[:20], "confidence": confidence})


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str) -> Any:
    """json.loads without NaN/Infinity: what the SDK's lenient partial parser would accept, we don't."""
    return json.loads(text, parse_constant=_no_constants)


# ---------------------------------------------------------------- answers ---


class _Meter:
    """Progress of one job from the characters received: never goes back, never reaches 1.
    `report=False` keeps the value (for wait messages) without Progress of its own."""

    def __init__(self, expected_chars: float = 2400.0, *, report: bool = True) -> None:
        self.value = 0.0
        self.expected = expected_chars
        self.report = report
        self._said = 0.0

    def received(self, chars: int) -> Progress | None:
        p = 0.05 + 0.9 * (1 - math.exp(-chars / self.expected))
        self.value = max(self.value, min(0.95, p))
        if self.report and self.value - self._said >= 0.02:
            self._said = self.value
            return Progress(round(self.value, 3))
        return None


class _FindingsAnswer:
    """One streamed answer of the analysis: the report_findings tool input, scanned."""

    def __init__(self, check: FindingCheck) -> None:
        self.check = check
        self.scanner = ItemScanner("findings")
        self.tool_index: int | None = None
        self.stop_reason: str | None = None

    @property
    def chars(self) -> int:
        return self.scanner.chars

    def start(self, index: int, block: Any) -> None:
        if self.tool_index is None and block.type == "tool_use" and block.name == prompts.TOOL_NAME:
            self.tool_index = index

    def delta(self, index: int, delta: Any) -> list[Finding]:
        if index != self.tool_index or delta.type != "input_json_delta":
            return []
        out = []
        for raw in self.scanner.feed(delta.partial_json or ""):
            try:
                item = strict_json(raw)
            except ValueError:
                continue  # the whole answer fails the strict parse below
            finding = self.check.accept(item)
            if finding is not None:
                out.append(finding)
        return out

    def finish(self) -> list[Finding]:
        return []

    def problem(self) -> str | None:
        """Why this answer cannot be used as a whole, or None."""
        if self.stop_reason == "refusal":
            return "Claude declined to review it"
        if self.tool_index is None:
            return f"it did not call {prompts.TOOL_NAME}"
        if self.stop_reason == "max_tokens":
            return "it was cut off at the max_tokens limit"
        try:
            data = strict_json(self.scanner.text)
        except ValueError:
            return "its JSON was malformed"
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            return "it had no findings list"
        return None


class _TextAnswer:
    """One streamed chat answer: tiny SDK deltas coalesced into chunks worth an event."""

    def __init__(self, min_chars: int = 40, max_wait_s: float = 0.05) -> None:
        self.min_chars = min_chars
        self.max_wait_s = max_wait_s
        self.chars = 0
        self.sent = False
        self.stop_reason: str | None = None
        self._buf: list[str] = []
        self._buf_chars = 0
        self._since = 0.0

    def start(self, index: int, block: Any) -> None:
        pass

    def delta(self, index: int, delta: Any) -> list[str]:
        if delta.type != "text_delta" or not delta.text:
            return []
        if not self._buf:
            self._since = time.monotonic()
        self._buf.append(delta.text)
        self._buf_chars += len(delta.text)
        self.chars += len(delta.text)
        if self._buf_chars >= self.min_chars or time.monotonic() - self._since >= self.max_wait_s:
            return self.finish()
        return []

    def finish(self) -> list[str]:
        if not self._buf:
            return []
        text = "".join(self._buf)
        self._buf, self._buf_chars = [], 0
        self.sent = True
        return [text]


# ------------------------------------------------------------------- errors ---


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


def classify(e: BaseException, cfg: Settings) -> BaseException | None:
    """JobFailed (no point retrying: a person must act), _Retry, or None (unknown: let it escape)."""
    if isinstance(e, anthropic.APIStatusError):
        status, msg = e.status_code, _message(e)
        if status == 200:  # an `error` event in the middle of the stream
            kind = (e.body or {}).get("error", {}).get("type", "error") if isinstance(e.body, dict) else "error"
            return _Retry(f"the answer broke off ({kind})")
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
        if status == 413:
            return JobFailed("The section is too large for one request (413). Split it into smaller sections.")
        if status in (429, 529):
            what = "rate limited (429)" if status == 429 else "overloaded (529)"
            return _Retry(f"Claude is {what}", fleet=True, pause=retry_after(e.response))
        if status in (408, 409) or status >= 500:
            return _Retry(f"Claude answered {status}")
        return JobFailed(f"Claude rejected the request ({status}: {msg}). Check REDLINE_MODEL and "
                         "REDLINE_MAX_TOKENS.")
    if isinstance(e, anthropic.APITimeoutError):
        return _Retry("Claude did not answer in time")
    if isinstance(e, anthropic.APIConnectionError):
        return _Retry("could not reach Claude")
    if isinstance(e, httpx2.TimeoutException):
        return _Retry("the answer stalled")
    if isinstance(e, httpx2.HTTPError):
        return _Retry("the connection dropped mid-answer")
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


# ----------------------------------------------------------------- reviewer ---


class ClaudeReviewer:
    source = "claude"

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.redis = redis
        self.cfg = settings
        self.model = self.cfg.model
        self.client = anthropic.AsyncAnthropic(
            api_key=self.cfg.anthropic_api_key, base_url=self.cfg.anthropic_base_url, max_retries=0,
            timeout=httpx2.Timeout(self.cfg.model_timeout_s, connect=min(10.0, self.cfg.model_timeout_s)))
        rpm = {"analysis": settings.model_rpm_analysis, "chat": settings.model_rpm_chat, "test": settings.model_rpm_test}
        self.limits = ModelLimits(redis, rpm=rpm, window_s=settings.model_rate_window_s,
                                  concurrency=settings.model_concurrency,
                                  slot_ttl_s=max(30.0, settings.model_timeout_s * 2))
        self.metrics = fleet_metrics.Recorder(redis)
        self._id = uuid.uuid4().hex[:12]

    async def aclose(self) -> None:
        await self.client.close()
        await self.metrics.drain()

    # ------------------------------------------------------------- analysis ---
    async def analyze(self, req: AnalysisRequest) -> AsyncIterator[Finding | Progress | Usage]:
        check = FindingCheck(req.section.text, self.cfg.min_confidence)
        meter = _Meter(min(self.cfg.max_tokens * 3.5, 2400.0))
        digest = _digest(self.model, prompts.analysis_params(req))
        note: str | None = None
        failures = malformed = 0
        yield Progress(0.02, "Asking Claude")
        while True:
            answer = _FindingsAnswer(check)
            try:
                async for out in self._run("analysis", prompts.analysis_params(req, note), answer, meter, digest):
                    yield out
            except _Retry as e:
                failures += 1
                async for p in self._recover(e, failures, meter):
                    yield p
                continue
            problem = answer.problem()
            if problem is None:
                if check.dropped["invalid"]:
                    log.warning("%d invalid findings dropped (section %s)", check.dropped["invalid"], req.section.id)
                return
            malformed += 1
            log.warning("unusable answer for section %s: %s", req.section.id, problem)
            if malformed > 1:
                raise JobFailed(f"Claude's answer could not be used twice in a row ({problem}). "
                                "Try analysing the section again; if it keeps failing, shorten the section "
                                "or raise REDLINE_MAX_TOKENS.")
            note = (f"Your previous answer could not be used: {problem}. Answer again by calling "
                    f"{prompts.TOOL_NAME} once, with at most 6 findings and short fields.")
            yield Progress(meter.value, "Claude's answer was unusable; asking again")

    # ----------------------------------------------------------------- chat ---
    async def chat(self, req: ChatRequest) -> AsyncIterator[str | Progress | Usage]:
        params = prompts.chat_params(req)
        meter = _Meter(1500.0, report=False)  # the deltas show the progress; the task publishes every Progress
        failures = 0
        while True:
            answer = _TextAnswer()
            try:
                async for out in self._run("chat", params, answer, meter):
                    yield out
            except _Retry as e:
                if answer.sent:
                    raise ModelInterrupted(f"The answer broke off ({e.reason}).") from e
                failures += 1
                async for p in self._recover(e, failures, meter):
                    yield p
                continue
            if not answer.sent:
                raise JobFailed("Claude returned an empty answer. Try asking again.")
            return

    # ----------------------------------------------------------------- test ---
    async def test(self) -> dict[str, Any]:
        result: dict[str, Any] = {"reviewer": "claude", "model": self.model, "ok": False, "latency_ms": None}
        holder = self._holder()
        t0 = time.perf_counter()
        try:
            async for _ in self._admit("test", holder, _Meter(), None):
                pass
            async with self.limits.holding(holder):
                t0 = time.perf_counter()
                msg = await self.client.messages.create(
                    model=self.model, max_tokens=8, messages=[{"role": "user", "content": "Reply with: OK"}])
            result["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            text = "".join(getattr(b, "text", "") for b in msg.content)
            result.update(ok=True, reply=text[:80], usage=_usage(self.model, msg.usage.model_dump()).as_dict())
        except (anthropic.APIError, httpx2.HTTPError) as e:
            result["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            result["error"] = advice(e, self.cfg)
            c = classify(e, self.cfg)
            if isinstance(c, _Retry) and c.fleet and c.pause:
                await self.limits.pause(min(c.pause, self.cfg.model_max_pause_s))
        return result

    # ------------------------------------------------------------ one call ---
    def _holder(self) -> str:
        return f"{self._id}:{uuid.uuid4().hex[:12]}"

    async def _run(self, kind: str, params: dict[str, Any], answer: Any, meter: _Meter,
                   digest: str | None = None) -> AsyncIterator[Any]:
        """Admit, call, stream into `answer`; yields its outputs, Progress and a Usage.
        Raises _Retry or JobFailed (anything unknown escapes as it is)."""
        holder = self._holder()
        async for p in self._admit(kind, holder, meter, digest):
            yield p
        usage: dict[str, Any] | None = None
        failure: BaseException | None = None
        status = "ok"
        t0 = time.monotonic()
        try:
            async with self.limits.holding(holder):
                stream = await self.client.messages.create(
                    model=self.model, max_tokens=self.cfg.max_tokens, stream=True, **params)
                async with stream:
                    async for event in stream:
                        t = event.type
                        if t == "message_start":
                            usage = event.message.usage.model_dump()
                            if digest is not None:
                                await self.limits.warmed(digest)
                                digest = None
                        elif t == "content_block_start":
                            answer.start(event.index, event.content_block)
                        elif t == "content_block_delta":
                            for out in answer.delta(event.index, event.delta):
                                yield out
                            p = meter.received(answer.chars)
                            if p is not None:
                                yield p
                        elif t == "message_delta":
                            answer.stop_reason = event.delta.stop_reason
                            if usage is not None and event.usage is not None:
                                usage.update({k: v for k, v in event.usage.model_dump().items() if v is not None})
                for out in answer.finish():
                    yield out
        except (anthropic.APIError, httpx2.HTTPError, json.JSONDecodeError) as e:
            failure = classify(e, self.cfg) or e
            status = str(getattr(e, "status_code", "") or e.__class__.__name__)
            log.warning("model call failed (%s): %s", kind, e)
            if digest is not None:
                await self.limits.unwarm(digest, holder)
        counted = _usage(self.model, usage) if usage is not None else None
        self._count(kind, status, time.monotonic() - t0, counted)
        if counted is not None:
            yield counted
        if failure is not None:
            raise failure

    def _count(self, kind: str, status: str, seconds: float, usage: Usage | None) -> None:
        """Fleet-wide counters for /metrics (jobs/fleet_metrics.py), written off the call's path."""
        m = self.metrics
        m.incr("redline_model_requests_total", kind=kind, outcome=status)
        m.incr("redline_model_seconds_total", seconds, kind=kind)
        if status in ("429", "529"):
            m.incr("redline_model_overloaded_total", status=status)
        if usage is not None:
            for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens"):
                if getattr(usage, name):
                    m.incr("redline_model_tokens_total", getattr(usage, name), type=name.removesuffix("_tokens"))
            m.incr("redline_model_cost_usd_total", usage.cost_usd)

    async def _admit(self, kind: str, holder: str, meter: _Meter, digest: str | None) -> AsyncIterator[Progress]:
        """Wait until this call may go, saying why (at most once a second per reason)."""
        started = time.monotonic()
        said, said_at = "", 0.0
        while True:
            message, wait, poll = await self._gate(kind, holder, digest if time.monotonic() - started
                                                   < self.cfg.model_cache_warm_wait_s else None)
            if message is None:
                if said:
                    self.metrics.incr("redline_rate_limit_wait_seconds_total", time.monotonic() - started,
                                      kind=kind)
                return
            now = time.monotonic()
            if message != said or now - said_at >= 1.0:
                said, said_at = message, now
                yield Progress(meter.value, message)
            if poll:  # a slot or the cache: woken at once by this process, polled for others
                await self.limits.changed(wait)
            else:
                await asyncio.sleep(wait)

    async def _gate(self, kind: str, holder: str, digest: str | None) -> tuple[str | None, float, bool]:
        """(why this call must wait, how long before looking again, whether a local change may end it)."""
        gate, wait = await self.limits.admit(kind, holder, digest)
        if gate == "paused":
            return f"rate limited, retrying in {math.ceil(wait)} s", min(wait, 1.0), False
        if gate == "warming":
            return "waiting for the first section to fill the prompt cache", 0.1, True
        if gate == "slots":
            return "waiting for a free model slot", random.uniform(0.05, 0.15), True
        if gate == "rate":
            return "waiting for the model rate limit", min(wait, 1.0) + random.uniform(0, 0.02), False
        return None, 0.0, False

    async def _recover(self, e: _Retry, failures: int, meter: _Meter) -> AsyncIterator[Progress]:
        """After a retryable failure: give up, pause the fleet (429/529), or back off."""
        if failures > self.cfg.model_max_retries:
            raise JobFailed(f"Claude did not give a complete answer after {failures} attempts ({e.reason}). "
                            "Try again in a few minutes.")
        if e.fleet:
            pause = e.pause if e.pause is not None else backoff(failures, max(1.0, self.cfg.model_retry_base_s))
            await self.limits.pause(min(pause, self.cfg.model_max_pause_s))
            return  # the next admission shows the wait
        delay = backoff(failures, self.cfg.model_retry_base_s)
        yield Progress(meter.value, f"{e.reason}; retrying in {math.ceil(delay)} s")
        await asyncio.sleep(delay)


def _digest(model: str, params: dict[str, Any]) -> str:
    """Identifies a cacheable prompt prefix: model, tools and system blocks."""
    stable = {"model": model, "tools": params.get("tools"), "system": params.get("system")}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:32]
