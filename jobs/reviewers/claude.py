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

Analysis asks for a structured output (`output_config.format`, the findings JSON
schema) and scans the JSON text as it streams (`streaming.ItemScanner`), skipping the
thinking blocks the 5.5 models send first, so each finding is validated and yielded
the moment its object closes. What each model accepts, and its prices, are in
`claude_models.py`. Prompts live in `prompts.py`; the shared limits in `jobs/limits.py`.
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

from redline.jobs.jobrun import JobFailed
from redline.jobs.limits import ModelLimits
from redline.jobs import fleet_metrics
from redline.jobs.models import Finding
from redline.jobs.settings import Settings
from redline.jobs.reviewers import prompts
from redline.jobs.models import Citation
from redline.jobs.reviewers.base import AnalysisRequest, ChatRequest, Citations, Progress, Usage
from redline.jobs.reviewers.checklist import CHECKLIST_BY_ID
from redline.jobs.reviewers.claude_models import ModelSpec, spec as model_spec
from redline.jobs.reviewers.streaming import ItemScanner

log = logging.getLogger("redline.claude")

# ------------------------------------------------------------------ settings ---


# --------------------------------------------------------------------- costs ---


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

    def __init__(self, section_text: str, min_confidence: float, *, section_id: str | None = None,
                 others: dict[str, str] | None = None) -> None:
        self.quotes = QuoteFinder(section_text)
        self.min_confidence = min_confidence
        self.section_id = section_id
        self.others = {k: v for k, v in (others or {}).items() if k != section_id}  # id -> text
        self._other_quotes: dict[str, QuoteFinder] = {}
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
                "related_section_id": None,
                "related_quote": None,
                "replacement": None,
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
        related, related_quote = self._related(item.get("related_section_id"), item.get("related_quote"))
        replacement = item.get("replacement") if isinstance(item.get("replacement"), str) else None
        if quote is None or not replacement or not replacement.strip() or replacement == quote:
            replacement = None  # a rewrite stands where an exact quote stands, or nowhere
        return f.model_copy(update={"quote": quote, "refs": refs[:20], "confidence": confidence,
                                    "related_section_id": related, "related_quote": related_quote,
                                    "replacement": replacement[:4000] if replacement else None})

    def _related(self, section_id: Any, quote: Any) -> tuple[str | None, str | None]:
        """Another section of the document (never this one), and its exact passage if found."""
        if not isinstance(section_id, str) or section_id not in self.others:
            return None, None
        finder = self._other_quotes.get(section_id)
        if finder is None:
            finder = self._other_quotes[section_id] = QuoteFinder(self.others[section_id])
        found = finder.find(quote if isinstance(quote, str) else None)
        return section_id, found if found is not None and len(found) <= 4000 else None


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


class _Answer:
    """What every streamed answer records besides its content: why it stopped."""

    stop_reason: str | None = None
    stop_details: Any = None
    chars = 0

    def refusal(self) -> str | None:
        """A person's sentence for a refusal, or None."""
        if self.stop_reason != "refusal":
            return None
        d = self.stop_details
        category = getattr(d, "category", None)
        explanation = getattr(d, "explanation", None)
        why = f" ({category}{': ' + explanation if explanation else ''})" if category or explanation else ""
        return f"Claude declined to review this{why}"


class _FindingsAnswer(_Answer):
    """One streamed analysis answer: the structured output's JSON, scanned as it streams.

    The JSON arrives as `text_delta`s of the answer's text block; thinking blocks (which
    the 5.5 models send first, by default) and anything else are skipped by index."""

    def __init__(self, check: FindingCheck) -> None:
        self.check = check
        self.scanner = ItemScanner("findings")
        self.text_index: int | None = None

    @property
    def chars(self) -> int:  # type: ignore[override]
        return self.scanner.chars

    def start(self, index: int, block: Any) -> None:
        if self.text_index is None and block.type == "text":
            self.text_index = index

    def delta(self, index: int, delta: Any) -> list[Finding]:
        if index != self.text_index or delta.type != "text_delta":
            return []
        out = []
        for raw in self.scanner.feed(delta.text or ""):
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
        if self.stop_reason == "max_tokens":
            return "it was cut off at the max_tokens limit"
        if self.text_index is None:
            return "it had no answer text"
        try:
            data = strict_json(self.scanner.text)
        except ValueError:
            return "its JSON was malformed"
        if not isinstance(data, dict) or not isinstance(data.get("findings"), list):
            return "it had no findings list"
        return None


class _TextAnswer(_Answer):
    """One streamed chat answer: tiny SDK deltas coalesced into chunks worth an event, and
    the citations of its text blocks, each with where its claim sits in the answer."""

    def __init__(self, min_chars: int = 40, max_wait_s: float = 0.05) -> None:
        self.min_chars = min_chars
        self.max_wait_s = max_wait_s
        self.chars = 0
        self.sent = False
        self.citations: list[Any] = []
        self._buf: list[str] = []
        self._buf_chars = 0
        self._since = 0.0

    def start(self, index: int, block: Any) -> None:
        pass

    def delta(self, index: int, delta: Any) -> list[str]:
        if delta.type == "citations_delta":
            self.citations.append(delta.citation)
            return []
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


def map_citations(raw: list[Any], ids: list[str], texts: dict[str, str]) -> list[Citation]:
    """The API's citations as (section, character range) whose `text` is exactly that slice.

    Document i of the request is section ids[i]. A char_location whose range does not hold
    its cited text is looked up by the text instead; what cannot be mapped is left out (the
    page shows no quote it cannot point to)."""
    out: list[Citation] = []
    seen: set[tuple[str, int, int]] = set()
    for c in raw:
        doc = getattr(c, "document_index", None)
        cited = getattr(c, "cited_text", None) or ""
        if not isinstance(doc, int) or not 0 <= doc < len(ids) or not cited.strip():
            continue
        sid = ids[doc]
        text = texts.get(sid, "")
        start, end = getattr(c, "start_char_index", None), getattr(c, "end_char_index", None)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
                and text[start:end] == cited):
            found = QuoteFinder(text).find(cited)
            if found is None:
                continue
            start = text.find(found)
            end = start + len(found)
        if (sid, start, end) not in seen:
            seen.add((sid, start, end))
            out.append(Citation(section_id=sid, start=start, end=end, text=text[start:end]))
    return out


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


# ----------------------------------------------------------------- reviewer ---


class ClaudeReviewer:
    source = "claude"

    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.redis = redis
        self.cfg = settings
        self.model = self.cfg.model
        self.spec = model_spec(self.model)  # logs once when the id is not in the table
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

    def _max_tokens(self, wanted: int) -> int:
        return max(1, min(wanted, self.spec.max_output_tokens))

    # ------------------------------------------------------------- analysis ---
    async def analyze(self, req: AnalysisRequest) -> AsyncIterator[Finding | Progress | Usage]:
        check = FindingCheck(req.section.text, self.cfg.min_confidence, section_id=req.section.id,
                             others={s.id: s.text for s in req.sections})
        max_tokens = self._max_tokens(self.cfg.max_tokens)
        meter = _Meter(2400.0)

        def params(note: str | None = None) -> dict[str, Any]:
            return prompts.analysis_params(req, self.spec, effort=self.cfg.effort_analysis,
                                           max_tokens=max_tokens, retry_note=note)

        digest = _digest(self.model, params())
        note: str | None = None
        failures = malformed = 0
        yield Progress(0.02, "Asking Claude")
        while True:
            answer = _FindingsAnswer(check)
            try:
                async for out in self._run("analysis", params(note), answer, meter, digest, max_tokens):
                    yield out
            except _Retry as e:
                failures += 1
                async for p in self._recover(e, failures, meter):
                    yield p
                continue
            refused = answer.refusal()
            if refused:  # asking again gets the same answer: say so for this section
                raise JobFailed(f"{refused}. The section may be reviewed by hand, or reworded and analysed again.")
            if answer.stop_reason == "model_context_window_exceeded":
                raise _too_large(self.cfg, "the answer ran out of context")
            problem = answer.problem()
            if problem is None:
                if check.dropped["invalid"]:
                    log.warning("%d invalid findings dropped (section %s)", check.dropped["invalid"], req.section.id)
                return
            malformed += 1
            log.warning("unusable answer for section %s: %s", req.section.id, problem)
            if answer.stop_reason == "max_tokens" and malformed > 1:
                raise JobFailed(f"Claude's answer was cut off twice at the max_tokens limit ({max_tokens} tokens, "
                                "which covers its thinking and its answer). Raise REDLINE_MAX_TOKENS or lower "
                                "REDLINE_EFFORT_ANALYSIS, then analyse the section again.")
            if malformed > 1:
                raise JobFailed(f"Claude's answer could not be used twice in a row ({problem}). "
                                "Try analysing the section again; if it keeps failing, shorten the section.")
            note = (f"Your previous answer could not be used: {problem}. Answer again with at most 6 findings "
                    "and short fields.")
            yield Progress(meter.value, "Claude's answer was unusable; asking again"
                           if answer.stop_reason != "max_tokens" else
                           f"Claude's answer was cut off at max_tokens ({max_tokens}); asking for a shorter one")

    # ----------------------------------------------------------------- chat ---
    async def chat(self, req: ChatRequest) -> AsyncIterator[str | Progress | Usage | Citations]:
        params, ids = prompts.chat_params(req, self.spec, effort=self.cfg.effort_chat)
        max_tokens = self._max_tokens(self.cfg.max_tokens_chat)
        meter = _Meter(1500.0, report=False)  # the deltas show the progress; the task publishes every Progress
        failures = 0
        while True:
            answer = _TextAnswer()
            try:
                async for out in self._run("chat", params, answer, meter, None, max_tokens):
                    yield out
            except _Retry as e:
                if answer.sent:
                    raise ModelInterrupted(f"The answer broke off ({e.reason}).") from e
                failures += 1
                async for p in self._recover(e, failures, meter):
                    yield p
                continue
            refused = answer.refusal()
            if refused and not answer.sent:
                raise JobFailed(f"{refused}. Try rephrasing the question.")
            if answer.stop_reason == "model_context_window_exceeded" and not answer.sent:
                raise _too_large(self.cfg, "the conversation ran out of context")
            if not answer.sent:
                raise JobFailed("Claude returned an empty answer. Try asking again.")
            if answer.stop_reason == "max_tokens":
                yield f"\n\n[The answer was cut off at the max_tokens limit ({max_tokens}).]"
            texts = {s.id: s.text for s in req.sections}
            yield Citations(map_citations(answer.citations, ids, texts))
            return

    # ----------------------------------------------------------------- test ---
    async def test(self) -> dict[str, Any]:
        """One call with the analysis's own request shape, on a tiny section: a key, model or
        request-shape problem shows up here first, with the API's own message."""
        result: dict[str, Any] = {"reviewer": "claude", "model": self.model, "ok": False, "latency_ms": None,
                                  "effort": self.cfg.effort_test or None, "known_model": self.spec.status != "unknown"}
        req = prompts.test_request()
        check = FindingCheck(req.section.text, 0.0, section_id=req.section.id)
        answer = _FindingsAnswer(check)
        max_tokens = self._max_tokens(min(self.cfg.max_tokens, 4096))
        params = prompts.analysis_params(req, self.spec, effort=self.cfg.effort_test, max_tokens=max_tokens)
        t0 = time.perf_counter()
        usage: Usage | None = None
        try:
            async for out in self._run("test", params, answer, _Meter(report=False), None, max_tokens):
                if isinstance(out, Usage):
                    usage = out
            problem = answer.refusal() or answer.problem()
            if problem:
                result["error"] = f"Claude answered, but the answer could not be used: {problem}."
            else:
                result.update(ok=True, findings=len(check.kept))
        except _Retry as e:
            result["error"] = advice(e.__cause__, self.cfg) if e.__cause__ is not None else e.reason
            if e.fleet and e.pause:
                await self.limits.pause(min(e.pause, self.cfg.model_max_pause_s))
        except JobFailed as e:
            result["error"] = str(e)
        result["latency_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        if usage is not None:
            result["usage"] = usage.as_dict()
        return result

    # ------------------------------------------------------------ one call ---
    def _holder(self) -> str:
        return f"{self._id}:{uuid.uuid4().hex[:12]}"

    async def _run(self, kind: str, params: dict[str, Any], answer: Any, meter: _Meter,
                   digest: str | None, max_tokens: int) -> AsyncIterator[Any]:
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
                    model=self.model, max_tokens=max_tokens, stream=True, **params)
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
                            answer.stop_details = getattr(event.delta, "stop_details", None)
                            if usage is not None and event.usage is not None:  # cumulative
                                usage.update({k: v for k, v in event.usage.model_dump().items() if v is not None})
                for out in answer.finish():
                    yield out
        except (anthropic.APIError, httpx2.HTTPError, json.JSONDecodeError) as e:
            failure = classify(e, self.cfg, streaming=usage is not None) or e
            if failure is not e:
                failure.__cause__ = e
            status = str(getattr(e, "status_code", "") or e.__class__.__name__)
            log.warning("model call failed (%s): %s", kind, e)
            if digest is not None:
                await self.limits.unwarm(digest, holder)
        counted = _usage(self.spec, usage) if usage is not None else None
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
            for name in ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_5m_tokens",
                         "cache_write_1h_tokens", "thinking_tokens"):
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
    """Identifies a cacheable prompt prefix: model, system, output format and the first user
    block (the whole document)."""
    first = params["messages"][0]["content"][0]
    stable = {"model": model, "system": params.get("system"), "format": params.get("output_config"), "doc": first}
    return hashlib.sha256(json.dumps(stable, sort_keys=True).encode()).hexdigest()[:32]
