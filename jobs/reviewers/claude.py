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

This module is the call path; each concern around it has its own module:

- `claude_answers.py`: one streamed answer (findings as they close, chat text in chunks);
- `claude_findings.py`: the findings' validation (quotes, refs, weak items, near-duplicates);
- `claude_quotes.py`: a model's quote found as an exact passage of the section;
- `claude_citations.py`: a chat answer's citations as exact passages;
- `claude_usage.py`: a call's usage and its cost;
- `claude_errors.py`: what a failure means (retry, fleet pause, or advice), and the backoff.

Their public names stay importable from here.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import random
import time
import uuid
from typing import Any, AsyncIterator

import anthropic
import httpx2
from redis.asyncio import Redis

from redline.jobs import fleet_metrics
from redline.jobs.jobrun import JobFailed
from redline.jobs.limits import ModelLimits
from redline.jobs.models import Finding
from redline.jobs.reviewers import prompts
from redline.jobs.reviewers.base import AnalysisRequest, ChatRequest, Citations, Progress, Usage
from redline.jobs.reviewers.claude_answers import _FindingsAnswer, _Meter, _TextAnswer
from redline.jobs.reviewers.claude_citations import map_citations
from redline.jobs.reviewers.claude_errors import (
    ModelInterrupted, TooLarge, _Retry, _too_large, advice, backoff, classify, retry_after,
)
from redline.jobs.reviewers.claude_findings import (
    DUPLICATE_RATIO, QUOTE_MISS_FACTOR, FindingCheck, similar, strict_json,
)
from redline.jobs.reviewers.claude_models import spec as model_spec
from redline.jobs.reviewers.claude_quotes import QuoteFinder
from redline.jobs.reviewers.claude_usage import _usage, cost_usd
from redline.jobs.settings import Settings

__all__ = [
    "DUPLICATE_RATIO", "QUOTE_MISS_FACTOR", "ClaudeReviewer", "FindingCheck", "ModelInterrupted", "QuoteFinder",
    "TooLarge", "advice", "backoff", "classify", "cost_usd", "map_citations", "retry_after", "similar",
    "strict_json",
]


log = logging.getLogger("redline.claude")


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
