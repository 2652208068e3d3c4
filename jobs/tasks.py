"""The SAQ tasks: analyze a section, answer a chat question, test the model connection.

Each task publishes job.started, progress and its results through `JobRun`; the
terminal event is published by `RedlineQueue.finish` (or by `JobRun.fail`).
"""

from __future__ import annotations

import logging
from contextlib import aclosing
from typing import Any

from redline.jobs.jobrun import JobFailed, JobRun, JobStopped, finding_signature
from redline.jobs.keys import ReviewKeys
from redline.jobs.events import Write
from redline.jobs.models import ChatMessage, Citation, Item
from redline.jobs.reviewers.base import AnalysisRequest, ChatRequest, Citations, Progress, Usage

log = logging.getLogger("redline.tasks")


def _run(ctx: dict[str, Any], rid: str, job_id: str, section_id: str | None) -> JobRun:
    rt = ctx["rt"]
    s = rt.settings
    return JobRun(redis=rt.redis, publisher=rt.publisher, job=ctx.get("job"), rid=rid, job_id=job_id,
                  section_id=section_id, progress_interval=s.progress_interval_s,
                  heartbeat_interval=max(0.5, s.job_heartbeat_s / 4),
                  worker_id=getattr(ctx.get("worker"), "id", None), started=ctx.get("started"))


async def _record_usage(run: JobRun, usage: Usage, total: Usage) -> None:
    """Add one model call's tokens and cost to the review's totals, with a usage.updated event."""
    total.add(usage)
    key = run.keys.usage
    writes = [Write("hincrby", key, k, v) for k, v in usage.as_dict().items() if k != "cost_usd" and v]
    writes.append(Write("hincrbyfloat", key, "cost_usd", repr(usage.cost_usd)))
    await run.publish("usage.updated", {"job_id": run.job_id, "usage": usage.as_dict()}, writes)


async def _guarded(run: JobRun, body) -> Any:
    try:
        await run.start()
        return await body()
    except JobStopped:
        return None  # cancelled or superseded: publish nothing more
    except JobFailed as e:
        await run.fail(str(e))
        return None
    finally:
        await run.close()


async def analyze_section(ctx: dict[str, Any], *, rid: str, job_id: str, section_id: str, **_: Any) -> Any:
    rt = ctx["rt"]
    run = _run(ctx, rid, job_id, section_id)

    pre = ctx.get("prefetch")  # read with job.started by the worker's hook (worker.announce_start)

    async def body() -> dict[str, Any]:
        doc = await (rt.documents.get(rid, pre.version) if pre else rt.documents.get(rid))
        section = doc.section(section_id) if doc else None
        if section is None:
            raise JobFailed("This section no longer exists.")
        req = AnalysisRequest(review_title=doc.title, section=section, outline=doc.outline,
                              guidelines=doc.guidelines, sections=list(doc.sections), review_date=doc.date)
        reviewer = rt.reviewer
        count, usage = 0, Usage(requests=0)
        kept = await run.replace_earlier_findings(reviewer.source, pre)
        async with aclosing(reviewer.analyze(req)) as outs:  # a stopped job closes the model stream now
            async for out in outs:
                if isinstance(out, Progress):
                    await run.progress(out.value, out.message, force=out.message is not None)
                    continue
                if isinstance(out, Usage):
                    await _record_usage(run, out, usage)
                    continue
                if finding_signature(out) in kept:
                    continue  # already decided (or written by a reviewer): not added again
                item = Item(**out.model_dump(), id=run.item_id(), section_id=section_id,
                            source=reviewer.source, job_id=job_id)
                await run.add_item(item)
                count += 1
        return {"items": count, "reviewer": reviewer.source, "model": reviewer.model, "usage": usage.as_dict()}

    return await _guarded(run, body)


async def answer_chat(ctx: dict[str, Any], *, rid: str, job_id: str, message_id: str, question: str,
                      chat_section_id: str | None = None, **_: Any) -> Any:
    rt = ctx["rt"]
    run = _run(ctx, rid, job_id, None)
    answer_id = f"{message_id}.a"

    async def body() -> dict[str, Any]:
        doc = await rt.documents.get(rid)
        if doc is None:
            raise JobFailed("This review no longer exists.")
        current = doc.section(chat_section_id)
        items = [i for i in await rt.store.items(rid) if current and i["section_id"] == current.id]
        history = [m for m in await rt.store.chat_history(rid) if m.message_id != message_id]
        req = ChatRequest(review_title=doc.title, question=question, sections=list(doc.sections),
                          history=history, section=current, section_items=items, guidelines=doc.guidelines,
                          review_date=doc.date)
        parts: list[str] = []
        citations: list[Citation] = []
        usage = Usage(requests=0)
        async with aclosing(rt.reviewer.chat(req)) as chunks:
            async for chunk in chunks:
                if isinstance(chunk, Progress):
                    await run.progress(chunk.value, chunk.message, force=True)
                    continue
                if isinstance(chunk, Usage):
                    await _record_usage(run, chunk, usage)
                    continue
                if isinstance(chunk, Citations):
                    citations = chunk.items
                    continue
                if not chunk:
                    continue
                parts.append(chunk)
                await run.publish("chat.delta", {"message_id": answer_id, "text": chunk, "attempt": run.attempt})
        text = "".join(parts)
        msg = ChatMessage(message_id=answer_id, role="assistant", text=text, section_id=chat_section_id,
                          citations=citations)
        data: dict[str, Any] = {"message_id": answer_id, "text": text, "reply_to": message_id}
        if citations:
            data["citations"] = [c.model_dump() for c in citations]
        await run.publish("chat.completed", data, [Write("rpush", ReviewKeys(rid).chat, "", msg.model_dump_json())])
        return {"message_id": answer_id, "usage": usage.as_dict()}

    return await _guarded(run, body)


async def test_model(ctx: dict[str, Any], *, rid: str, job_id: str, **_: Any) -> Any:
    rt = ctx["rt"]
    run = _run(ctx, rid, job_id, None)

    async def body() -> dict[str, Any]:
        return await rt.reviewer.test()

    return await _guarded(run, body)
