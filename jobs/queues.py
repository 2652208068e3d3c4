"""SAQ queues of Redline, how jobs are enqueued and cancelled, and the worker's settings.

Three queues: `analysis`, `chat`, `test`. The web process imports this module to
enqueue jobs by function name; only `jobs.worker` imports the tasks themselves.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from redis.asyncio import Redis
from saq import Job, Status
from saq.queue.redis import RedisQueue
from saq.utils import now, seconds

from jobs import fleet_metrics
from jobs.events import Publisher
from jobs.jobrun import end_job
from jobs.keys import CANCEL_CHANNEL, RECENT_JOBS, rid_of_job
from jobs.models import JobKind, JobRecord
from jobs.settings import Settings
from jobs.store import Store, new_job_id

log = logging.getLogger("redline.jobs")

QUEUE_OF: dict[str, str] = {"analyze": "analysis", "chat": "chat", "test": "test"}
FUNCTION_OF: dict[str, str] = {"analyze": "analyze_section", "chat": "answer_chat", "test": "test_model"}
SWEPT_MESSAGE = "The worker running this job stopped responding"
SWEEP_LUA = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SETEX', KEYS[1], ARGV[1], 1)
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""


def short_error(error: str | None) -> str:
    """SAQ stores a traceback; a person wants its last line."""
    if not error:
        return "The job failed."
    if error == "swept" or error.startswith(SWEPT_MESSAGE):
        return SWEPT_MESSAGE
    lines = [ln for ln in error.strip().splitlines() if ln.strip()]
    return lines[-1][:500] if lines else "The job failed."


class RedlineQueue(RedisQueue):
    """A SAQ queue that turns every way a job ends into the review's terminal event.

    Completed, failed (out of attempts), swept and aborted jobs all pass through
    `finish`; the event script's gate keeps only the first terminal event.
    """

    def __init__(self, redis: Redis, publisher: Publisher, *, name: str, sweep_abort_wait: float = 1.0) -> None:
        super().__init__(redis, name=name, swept_error_message=SWEPT_MESSAGE)
        self.publisher = publisher
        self.sweep_abort_wait = sweep_abort_wait

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """SAQ's sweep, made safe for a short sweep interval.

        SAQ sweeps every job in the active list whose status is not "active" — but a job
        just moved there by a worker's dequeue is still "queued" for a few milliseconds,
        so a frequent sweep would abort healthy jobs. Here a job is swept only when its
        heartbeat (or timeout) has lapsed, or when it has sat in the active list without
        becoming active for longer than its heartbeat. SAQ waits `abort` seconds for a
        dead worker to confirm an abort: we don't wait long.
        """
        if not self._cleanup_script:
            self._cleanup_script = self.redis.register_script(SWEEP_LUA)
        id_jobs = await self._cleanup_script(keys=[self._sweep, self._active], args=[max(1, int(lock))],
                                             client=self.redis)
        swept = []
        current = now()
        for job_id, job_bytes in id_jobs:
            job = self.deserialize(job_bytes)
            if job is None:
                swept.append(job_id)
                async with self.redis.pipeline(transaction=True) as pipe:
                    await pipe.lrem(self._active, 0, job_id).zrem(self._incomplete, job_id).execute()
                continue
            limbo = job.status != Status.ACTIVE and seconds(current - max(job.touched, job.queued)) > (
                job.heartbeat or 10)
            if not (job.stuck or limbo):
                continue
            log.warning("sweeping job %s of a worker that stopped responding", job.key)
            swept.append(job_id)
            await self.abort(job, error=self.swept_error_message)
            try:
                await job.refresh(self.sweep_abort_wait)
            except asyncio.TimeoutError:
                pass
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return [j.decode() if isinstance(j, bytes) else j for j in swept]

    async def finish(self, job: Job, status: Status, *, result: Any = None, error: str | None = None,
                     **kwargs: Any) -> None:
        await super().finish(job, status, result=result, error=error, **kwargs)
        kw = job.kwargs or {}
        rid, job_id = kw.get("rid"), kw.get("job_id")
        if not rid or not job_id:
            return
        if status == Status.COMPLETE:
            outcome = dict(status="complete", result=result if isinstance(result, dict) else None)
        elif status == Status.ABORTED and error == "cancelled":
            outcome = dict(status="cancelled")
        else:
            reason = short_error(error)
            if reason == SWEPT_MESSAGE:
                reason += " and the job was out of attempts; start it again."
            outcome = dict(status="failed", error=reason)
        try:
            ended = await end_job(self.publisher, rid, job_id, section_id=kw.get("section_id"), **outcome)
        except Exception:
            log.exception("could not publish the end of job %s", job_id, extra={"review_id": rid, "job_id": job_id})
            return
        if ended.ok:
            duration = (job.duration("process") or 0) / 1000
            log.info("job %s %s", job.function, outcome["status"],
                     extra={"review_id": rid, "job_id": job_id, "queue": self.name})
            try:
                async with self.redis.pipeline(transaction=False) as pipe:  # one round trip for the bookkeeping
                    pipe.lpush(RECENT_JOBS, job_id).ltrim(RECENT_JOBS, 0, 499)
                    pipe.hincrbyfloat(fleet_metrics.METRICS_KEY, fleet_metrics.field(
                        "redline_jobs_finished_total", queue=self.name, outcome=outcome["status"]), 1)
                    pipe.hincrbyfloat(fleet_metrics.METRICS_KEY, fleet_metrics.field(
                        "redline_job_seconds_total", queue=self.name), duration)
                    await pipe.execute()
            except Exception as e:  # bookkeeping only: the job's end is already published
                log.warning("job bookkeeping not recorded: %s", e)

    async def retry(self, job: Job, error: str | None) -> None:
        attempt = job.attempts
        await super().retry(job, error)
        await fleet_metrics.incr(self.redis, "redline_jobs_retried_total", queue=self.name)
        kw = job.kwargs or {}
        if kw.get("rid") and kw.get("job_id"):
            reason = short_error(error)
            try:
                await self.publisher.publish(
                    kw["rid"], "job.progress",
                    {"job_id": kw["job_id"], "progress": 0.0,
                     "message": f"Attempt {attempt} failed ({reason}); retrying"},
                    job_id=kw["job_id"], attempt=attempt, guard="live")
            except Exception:
                log.warning("could not publish the retry of job %s: %s", kw["job_id"], traceback.format_exc(limit=1))


def make_queues(redis: Redis, publisher: Publisher, settings: Settings) -> dict[str, RedlineQueue]:
    return {name: RedlineQueue(redis, publisher, name=name, sweep_abort_wait=1.0)
            for name in ("analysis", "chat", "test")}


class Jobs:
    """What the web process does with jobs: enqueue, cancel, look up, count."""

    def __init__(self, redis: Redis, store: Store, queues: dict[str, RedlineQueue], settings: Settings) -> None:
        self.redis = redis
        self.store = store
        self.queues = queues
        self.settings = settings

    async def enqueue(self, rid: str, kind: JobKind, *, section_id: str | None = None,
                      **kwargs: Any) -> str:
        job_id = new_job_id(rid)
        rec = JobRecord(job_id=job_id, review_id=rid, kind=kind, section_id=section_id,
                        message_id=kwargs.get("message_id"))
        await self.store.create_job(rec)
        s = self.settings
        queue = self.queues[QUEUE_OF[kind]]
        try:
            await queue.enqueue(Job(
                function=FUNCTION_OF[kind], key=job_id,
                kwargs={"rid": rid, "job_id": job_id, "section_id": section_id, **kwargs},
                timeout=s.job_timeout_s, heartbeat=s.job_heartbeat_s, retries=s.job_attempts,
                ttl=3600, retry_delay=0.5,
            ))
        except Exception:
            await end_job(self.store.publisher, rid, job_id, "failed", section_id=section_id,
                          error="The job could not be queued (the queue is unavailable); try again.")
            raise
        return job_id

    async def cancel(self, job_id: str) -> str:
        """Cancel at once: job.cancelled is published here, the worker is told to stop the task now,
        and SAQ's abort takes a queued job off the queue. Returns the job's status after the call."""
        rid = rid_of_job(job_id)
        rec = await self.store.job(job_id, rid)
        if rec is None:
            return "unknown"
        if rec["status"] in ("complete", "failed", "cancelled"):
            return rec["status"]
        pub = await end_job(self.store.publisher, rid, job_id, "cancelled", section_id=rec.get("section_id"))
        await self.redis.publish(CANCEL_CHANNEL, job_id)
        queue = self.queues[QUEUE_OF[rec["kind"]]]
        saq_job = await queue.job(job_id)
        if saq_job and saq_job.status in (Status.NEW, Status.QUEUED, Status.ACTIVE):
            await queue.abort(saq_job, "cancelled")
        if not pub.ok:
            rec = await self.store.job(job_id, rid)
            return rec["status"] if rec else "unknown"
        return "cancelled"

    async def cancel_all(self, rid: str) -> list[str]:
        cancelled = []
        for job_id in await self.store.unfinished_jobs(rid):
            if await self.cancel(job_id) == "cancelled":
                cancelled.append(job_id)
        return cancelled

    async def stats(self) -> dict[str, dict[str, int]]:
        out = {}
        for name, q in self.queues.items():
            info = await q.info()
            out[name] = {"queued": info.get("queued", 0), "active": info.get("active", 0),
                         "workers": len(info.get("workers", {}))}
        return out
