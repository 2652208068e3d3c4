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
import time
from typing import Any, AsyncIterator

from redline.jobs.jobrun import JobFailed
from redline.jobs.models import Finding
from redline.jobs.reviewers import offline
from redline.jobs.reviewers.base import AnalysisRequest, ChatRequest, Progress
from redline.jobs.reviewers.offline_pool import PoolFailed, RulesPool, review_section_dicts
from redline.jobs.settings import Settings


class OfflineReviewer:
    source = "offline"
    model = None

    def __init__(self, settings: Settings) -> None:
        self.pace = settings.offline_pace_ms / 1000.0
        self.budget = float(settings.offline_section_budget_s)
        self.rules = RulesPool(max(1, int(settings.offline_processes)))

    async def analyze(self, req: AnalysisRequest) -> AsyncIterator[Finding | Progress]:
        s = req.section
        yield Progress(0.05, "Reading the section")
        found = await self._run(
            review_section_dicts, self.budget,
            f'The offline review of section "{_short(s.title)}" took longer than its {self.budget:g} s budget '
            "(REDLINE_OFFLINE_SECTION_BUDGET_S) and was stopped. Split the section into smaller ones, "
            "or ask the administrator to raise the budget, then analyze it again.",
            s.title, s.text, s.index, len(req.outline), list(req.outline), req.guidelines)
        findings = [Finding(**f) for f in found]
        n = max(1, len(findings))
        for i, finding in enumerate(findings, 1):
            await asyncio.sleep(self.pace)
            yield finding
            yield Progress(i / n * 0.95)
        await asyncio.sleep(self.pace)

    async def chat(self, req: ChatRequest) -> AsyncIterator[str | Progress]:
        sections = [(s.title, s.text) for s in req.sections]
        title = req.section.title if req.section else None
        answer = await self._run(
            offline.compose_answer, self.budget,
            f"Finding an answer in the write-up took longer than the {self.budget:g} s budget "
            "(REDLINE_OFFLINE_SECTION_BUDGET_S) and was stopped. Ask about one section, or with "
            "fewer or more specific words.",
            req.question, sections, section_title=title)
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

    async def _run(self, fn: Any, budget: float, over_budget: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return await self.rules.run(fn, budget, over_budget, *args, **kwargs)
        except PoolFailed as e:
            raise JobFailed(str(e)) from None


def _short(title: str, limit: int = 80) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"
