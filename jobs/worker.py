"""The worker process: SAQ workers for every queue, their shared runtime, and fast cancel.

`redline worker` runs `run_workers()`; `redline serve` runs the same inside its own loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from saq import Worker

from redline.jobs import tasks
from redline.jobs.events import Publisher
from redline.jobs.jobrun import publish_started, start_analysis
from redline.jobs.keys import CANCEL_CHANNEL
from redline.jobs.queues import RedlineQueue, make_queues
from redline.jobs.reviewers.base import Reviewer
from redline.jobs.settings import Settings
from redline.jobs.store import DocumentCache, Store

log = logging.getLogger("redline.worker")


@dataclass
class Runtime:
    """What every task of this process shares (one Redis pool, one model client)."""

    settings: Settings
    redis: Redis
    publisher: Publisher
    store: Store
    reviewer: Reviewer
    documents: DocumentCache


def make_reviewer(settings: Settings, redis: Redis) -> Reviewer:
    """One reviewer (and so one model client) per worker process."""
    if settings.anthropic_api_key:
        from redline.jobs.reviewers.claude import ClaudeReviewer

        return ClaudeReviewer(settings, redis)
    from redline.jobs.reviewers.offline_reviewer import OfflineReviewer

    return OfflineReviewer(settings)


async def announce_start(ctx: dict[str, Any]) -> None:
    """SAQ's before_process hook: publish job.started right after the worker marked the job
    active and before its task runs; the task's `JobRun` finds the result in `ctx["started"]`
    (SAQ hands the task this same ctx); an analysis also finds there
    what it reads before its reviewer runs, read in the same round trip (`ctx["prefetch"]`). If Redis failed here, `JobRun.start` publishes it
    itself. Raising would make SAQ retry the job, so nothing is raised."""
    job = ctx["job"]
    kw = job.kwargs or {}
    if not kw.get("rid") or not kw.get("job_id"):
        return
    try:
        if job.function == "analyze_section" and kw.get("section_id"):
            ctx["started"], ctx["prefetch"] = await start_analysis(ctx["rt"].publisher, kw["rid"], kw["job_id"],
                                                                   kw["section_id"], job.attempts, job.worker_id)
        else:
            ctx["started"] = await publish_started(ctx["rt"].publisher, kw["rid"], kw["job_id"],
                                                   kw.get("section_id"), job.attempts, job.worker_id)
    except Exception as e:
        log.warning("job.started of %s not published before its task: %r", kw["job_id"], e,
                    extra={"review_id": kw["rid"], "job_id": kw["job_id"]})


class WorkerGroup:
    """One SAQ Worker per queue in one process, plus the cancel listener."""

    def __init__(self, settings: Settings, redis: Redis, *, concurrency: int | None = None) -> None:
        self.settings = settings
        self.redis = redis
        publisher = Publisher(redis, settings.event_log_maxlen)
        store = Store(redis, publisher)
        self.runtime = Runtime(settings, redis, publisher, store, make_reviewer(settings, redis), DocumentCache(store))
        self.queues: dict[str, RedlineQueue] = make_queues(redis, publisher, settings)
        n = concurrency or settings.worker_concurrency
        timers = {"sweep": settings.sweep_interval_s, "abort": settings.abort_poll_s, "schedule": 1,
                  "worker_info": 5}
        functions = {"analysis": [tasks.analyze_section], "chat": [tasks.answer_chat], "test": [tasks.test_model]}
        concurrency_of = {"analysis": n, "chat": max(2, n // 2), "test": 2}
        self.workers = [
            Worker(q, functions[name], concurrency=concurrency_of[name], startup=self._startup,
                   before_process=announce_start,
                   dequeue_timeout=2.0,  # below the Redis socket timeout: an idle BLMOVE returns, not times out
                   timers=timers, shutdown_grace_period_s=None, cancellation_hard_deadline_s=2.0,
                   metadata={"queue": name})
            for name, q in self.queues.items()
        ]
        # SAQ installs its own SIGINT/SIGTERM handlers per worker; the process owner stops us instead.
        for w in self.workers:
            w.SIGNALS = []
        self._tasks: list[asyncio.Task] = []

    async def _startup(self, ctx: dict[str, Any]) -> None:
        ctx["rt"] = self.runtime

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(w.start(), name=f"saq-{w.queue.name}") for w in self.workers]
        self._tasks.append(asyncio.create_task(self._listen_cancels(), name="cancel-listener"))

    async def stop(self) -> None:
        """Let running jobs finish within the grace period; jobs still running then are
        cancelled and re-queued by SAQ (retry "cancelled"), so another worker takes them."""
        for w in self.workers:
            w.event.set()
        running = [ctx["task"] for w in self.workers for ctx in list(w.job_task_contexts.values())]
        if running:
            await asyncio.wait(running, timeout=self.settings.worker_shutdown_grace_s)
        await asyncio.gather(*(w.stop() for w in self.workers), return_exceptions=True)
        await asyncio.gather(*(q.drain() for q in self.queues.values()))
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        close = getattr(self.runtime.reviewer, "aclose", None)
        if close is not None:
            await close()

    def cancel_local(self, job_id: str) -> bool:
        """Stop the task of `job_id` at once if it runs in this process."""
        for w in self.workers:
            for job, ctx in list(w.job_task_contexts.items()):
                if job.key == job_id and not ctx["task"].done():
                    ctx["aborted"] = "cancelled"
                    ctx["task"].cancel()
                    return True
        return False

    async def _listen_cancels(self) -> None:
        backoff = 0.1
        while True:
            pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(CANCEL_CHANNEL)
                backoff = 0.1
                async for msg in pubsub.listen():
                    if msg.get("type") == "message":
                        self.cancel_local(msg["data"].decode())
            except asyncio.CancelledError:
                await pubsub.aclose()
                raise
            except Exception as e:  # Redis went away: SAQ's abort poll still works; reconnect
                log.warning("cancel listener lost Redis (%s); reconnecting in %.1f s", e, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:
                    pass
