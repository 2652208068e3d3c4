"""The offline reviewer as a `Reviewer`: the deterministic rules of `offline.py`, paced for live viewing."""

from __future__ import annotations

import asyncio
import time
from typing import Any, AsyncIterator

from jobs.models import Finding
from jobs.reviewers import offline
from jobs.reviewers.base import AnalysisRequest, ChatRequest, Progress
from jobs.settings import Settings


class OfflineReviewer:
    source = "offline"
    model = None

    def __init__(self, settings: Settings) -> None:
        self.pace = settings.offline_pace_ms / 1000.0

    async def analyze(self, req: AnalysisRequest) -> AsyncIterator[Finding | Progress]:
        s = req.section
        findings = list(offline.review_section(s.title, s.text, index=s.index, total=len(req.outline),
                                               outline=req.outline, guidelines=req.guidelines))
        n = max(1, len(findings))
        yield Progress(0.05, "Reading the section")
        for i, finding in enumerate(findings, 1):
            await asyncio.sleep(self.pace)
            yield finding
            yield Progress(i / n * 0.95)
        await asyncio.sleep(self.pace)

    async def chat(self, req: ChatRequest) -> AsyncIterator[str | Progress]:
        sections = [(s.title, s.text) for s in req.sections]
        title = req.section.title if req.section else None
        for chunk in offline.answer_question(req.question, sections, section_title=title):
            await asyncio.sleep(self.pace / 4)
            yield chunk

    async def test(self) -> dict[str, Any]:
        t0 = time.perf_counter()
        return {"reviewer": "offline", "model": None, "ok": True,
                "latency_ms": round((time.perf_counter() - t0) * 1000, 2),
                "message": "The offline reviewer is built in; set ANTHROPIC_API_KEY to review with Claude."}
