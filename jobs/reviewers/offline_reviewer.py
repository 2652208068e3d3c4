"""The offline reviewer as a `Reviewer`: the deterministic rules of `offline.py`, paced for live viewing.

The rules are linear in the text (a 300 KB one-paragraph section takes about 0.4 s of CPU), but
they are still CPU-bound Python and a thread would hold the GIL against the worker's event loop
(heartbeats, cancels, other jobs). So they run in a small process pool (`offline_pool.RulesPool`: spawned
lazily, reused, REDLINE_OFFLINE_PROCESSES processes), and the event loop only awaits the result.

Each call has a budget, REDLINE_OFFLINE_SECTION_BUDGET_S of CPU time in the pool process: a
profiling timer (SIGPROF) interrupts the rules when it runs out (Python's regex engine checks for
signals, so even one long match stops), the pool process is ready for the next call, and the job
fails with a message saying which section took too long. A pool process that does not answer
within a generous wall-clock backstop is killed and the pool replaced.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import OrderedDict
from typing import Any, AsyncIterator

from redline.jobs.documents.marks import as_read, as_written
from redline.jobs.jobrun import JobFailed
from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import offline, offline_style
from redline.jobs.reviewers.offline_confidence import calibrated
from redline.jobs.reviewers.base import AnalysisRequest, ChatRequest, Progress
from redline.jobs.reviewers.offline_pool import (
    PoolFailed, RulesPool, answer_text, document_dicts, prose_of, review_section_dicts,
)
from redline.jobs.settings import Settings


log = logging.getLogger("redline.offline")


class OfflineReviewer:
    source = "offline"
    model = None

    def __init__(self, settings: Settings) -> None:
        self.pace = settings.offline_pace_ms / 1000.0
        self.budget = float(settings.offline_section_budget_s)
        self.max_findings = max(1, int(settings.offline_max_findings))
        self.rules = RulesPool(max(1, int(settings.offline_processes)))
        self._documents: OrderedDict[str, asyncio.Future] = OrderedDict()  # digest -> document pass

    async def analyze(self, req: AnalysisRequest) -> AsyncIterator[Finding | Progress]:
        s = req.section
        yield Progress(0.05, "Reading the section")
        document = await self._document(req)
        text = prose_of(s.text, s.marks)  # line wraps read as spaces, code blocks (logs, commands) blanked
        found = [] if not document.get("english", True) else await self._run(
            review_section_dicts, self.budget,
            f'The offline review of section "{_short(s.title)}" took longer than its {self.budget:g} s budget '
            "(REDLINE_OFFLINE_SECTION_BUDGET_S) and was stopped. Split the section into smaller ones, "
            "or ask the administrator to raise the budget, then analyze it again.",
            s.title, text, s.index, len(req.outline), list(req.outline), req.guidelines, document["kind"])
        own = offline_style.apply_plan([Finding(**f) for f in found], s.id, document.get("style"))
        findings = [Finding(**f) for f in document["findings"].get(s.id, [])] + own
        findings = rank(calibrated(_as_written(findings, s, text, req.sections)), self.max_findings)
        n = max(1, len(findings))
        for i, finding in enumerate(findings, 1):
            await asyncio.sleep(self.pace)
            yield finding
            yield Progress(i / n * 0.95)
        await asyncio.sleep(self.pace)

    async def chat(self, req: ChatRequest) -> AsyncIterator[str | Progress]:
        sections = [(s.title, s.text, s.marks, s.level) for s in req.sections]  # read (as_read) in the pool
        title = req.section.title if req.section else None
        answer = await self._run(
            answer_text, self.budget,
            f"Finding an answer in the write-up took longer than the {self.budget:g} s budget "
            "(REDLINE_OFFLINE_SECTION_BUDGET_S) and was stopped. Ask about one section, or with "
            "fewer or more specific words.",
            req.question, sections, title, req.review_date)
        for chunk in offline._chunks(answer):
            await asyncio.sleep(self.pace / 4)
            yield chunk

    async def test(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        return {"reviewer": "offline", "model": None, "ok": True,
                "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
                "message": "The offline reviewer is built in; set ANTHROPIC_API_KEY to review with Claude."}

    async def aclose(self) -> None:
        self.rules.close()

    async def _document(self, req: AnalysisRequest) -> dict[str, Any]:
        """The whole document's pass (its kind; consistency and hygiene findings by section), made
        once per document and shared by its sections' analyses (the last 16 documents are kept)."""
        if not req.sections:
            return {"kind": "general", "findings": {}}
        h = hashlib.sha256(f"{req.review_title}\x00{req.review_date}\x00".encode())
        for x in req.sections:
            h.update(f"{x.id}\x00{x.title}\x00{len(x.text)}\x00".encode())
            h.update(x.text.encode())
        digest = h.hexdigest()
        fut = self._documents.get(digest)
        if fut is None or fut.cancelled():
            fut = asyncio.ensure_future(self._document_pass([x.model_dump() for x in req.sections], req.review_title,
                                                            req.review_date))
            self._documents[digest] = fut
            while len(self._documents) > 16:
                self._documents.popitem(last=False)
        self._documents.move_to_end(digest)
        return await asyncio.shield(fut)

    async def _document_pass(self, sections: list[dict[str, Any]], title: str, date: str | None) -> dict[str, Any]:
        budget = self.budget * 2
        try:
            return await self._run(document_dicts, budget, f"the document pass took over its {budget:g} s budget",
                                   sections, title, date)
        except JobFailed as e:  # it adds to the sections' own rules: each section is still reviewed
            log.warning("offline document pass skipped: %s", e)
            return {"kind": "general", "findings": {}}

    async def _run(self, fn: Any, budget: float, over_budget: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.rules.run(fn, budget, over_budget, *args, **kwargs)
        except PoolFailed as e:
            raise JobFailed(str(e)) from None


_RISK = {"high": 0, "medium": 1, "low": 2}


def _as_written(findings: list[Finding], section: Section, read: str, sections: list[Section]) -> list[Finding]:
    """The findings with their quotes as the section's text has them: the rules read each soft
    line break as a space (`as_read`), a quote must be the text's own characters."""
    out = []
    for f in findings:
        update: dict[str, Any] = {}
        quote = as_written(section.text, read, f.quote)
        if quote != f.quote:
            update["quote"] = quote
        if f.related_quote and f.related_section_id:
            other = next((x for x in sections if x.id == f.related_section_id), None)
            if other is not None and other.marks:
                related = as_written(other.text, as_read(other.text, other.marks), f.related_quote)
                if related != f.related_quote:
                    update["related_quote"] = related
        out.append(f.model_copy(update=update) if update else f)
    return out


def rank(findings: list[Finding], cap: int) -> list[Finding]:
    """The section's findings, most serious and surest first, one per quote (the first of two on
    the same passage, or with the same description, stays), at most `cap` of them."""
    out: list[Finding] = []
    seen: set[str] = set()
    for f in sorted(findings, key=lambda f: (_RISK[f.risk], -f.confidence)):
        keys = {"d:" + " ".join(f.description.lower().split())} | ({"q:" + " ".join(f.quote.split())} if f.quote else set())
        if keys & seen or _typo_told(f, out):
            continue
        seen |= keys
        out.append(f)
    return out[:cap]


def _typo_told(finding: Finding, kept: list[Finding]) -> bool:
    """A name spelled two ways whose rare spelling a typo finding on the same passage already names
    ("Typo: 'listenting' should probably be 'listening'" beside "'listenting' appears once, while
    'listening' appears 2 times"): one slip, said once."""
    word = finding.quote
    if finding.category != "consistency: name spelled two ways" or not word:
        return False
    return any(k.category.startswith("spelling") and k.quote and f"'{word}'" in k.description for k in kept)


def _short(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
