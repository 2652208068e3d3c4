"""SAQ queues of Redline, how jobs are enqueued and cancelled, and the worker's settings.

Three queues: `analysis`, `chat`, `test`. The web process imports this module to
enqueue jobs by function name; only `jobs.worker` imports the tasks themselves.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import NoScriptError
from saq import Job, Status
from saq.job import TERMINAL_STATUSES
from saq.queue.redis import RedisQueue
from saq.utils import now, seconds

from redline.jobs import fleet_metrics
from redline.jobs.events import Publisher
from redline.jobs.jobrun import end_job, terminal_event
from redline.jobs.keys import CANCEL_CHANNEL, rid_of_job
from redline.jobs.models import TERMINAL_JOB_STATUSES, JobKind, JobRecord
from redline.jobs.settings import Settings
from redline.jobs.store import Store, new_job_id

log = logging.getLogger("redline.jobs")

QUEUE_OF: dict[str, str] = {"analyze": "analysis", "chat": "chat", "test": "test"}
FUNCTION_OF: dict[str, str] = {"analyze": "analyze_section", "chat": "answer_chat", "test": "test_model"}
SWEPT_MESSAGE = "The worker running this job stopped responding"


def orphaned(job: Job) -> bool:
    """Whether a job in the active list was left by a dead worker (the sweep's rule).

    SAQ's own rule is "status is not active, or stuck". But a worker's dequeue moves a job
    into the active list while its stored status is still "queued", until the worker's next
    write a few milliseconds later; SAQ's rule sweeps such a job now and then with a short
    sweep interval (tobymao/saq#124, #277). Here a job that is not active yet is orphaned
    only after its heartbeat's worth of time (10 s without one). A job that finished since
    it was listed is never orphaned.
    """
    if job.status in TERMINAL_STATUSES:
        return False
    if job.stuck:
        return True
    return job.status != Status.ACTIVE and seconds(now() - max(job.touched, job.queued)) > (job.heartbeat or 10)


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

    It goes through SAQ's public surface (`update`, `abort`, `retry`, `finish`, the
    worker's `before_process` hook: see `worker.announce_start`) except in two places
    where SAQ has no hook, each overridden once and small: `sweep` (the limbo rule) and
    `_finish` (the terminal event inside SAQ's finishing MULTI). docs/architecture.md
    ("A hook SAQ would need") names the hooks that would remove them.
    """

    def __init__(self, redis: Redis, publisher: Publisher, *, name: str, sweep_abort_wait: float = 1.0) -> None:
        super().__init__(redis, name=name, swept_error_message=SWEPT_MESSAGE, dump=orjson.dumps, load=orjson.loads)
        self.publisher = publisher
        self.sweep_abort_wait = sweep_abort_wait
        self.metrics = fleet_metrics.Recorder(redis)

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """SAQ's sweep with a different rule for what is orphaned. Override kept because SAQ
        has no hook for that rule (see `orphaned`).

        Same lock key and the same steps as SAQ's (abort, wait for the dead worker, retry or
        finish), through SAQ's public methods; the listing is two plain reads instead of SAQ's
        script, safe because `orphaned` skips a job that finished in between. The wait for a
        dead worker to confirm the abort is ours (`sweep_abort_wait`): SAQ's Worker passes no
        `abort`, and its 5 s default would delay the retry of every swept job by 5 s.
        """
        async with self.redis.pipeline(transaction=False) as pipe:
            locked, ids = await pipe.set(self._sweep, 1, ex=max(1, int(lock)), nx=True).lrange(
                self._active, 0, -1).execute()
        if not locked or not ids:
            return []  # another worker holds this round (or nothing is running)
        swept: list[str] = []
        for job_id, raw in zip(ids, await self.redis.mget(ids)):
            job = self.deserialize(raw)
            if job is None:  # its record expired: take it off the lists, as SAQ does
                swept.append(job_id)
                async with self.redis.pipeline(transaction=True) as pipe:
                    await pipe.lrem(self._active, 0, job_id).zrem(self._incomplete, job_id).execute()
                continue
            if not orphaned(job):
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

    async def _finish(self, job: Job, status: Status, *, result: Any = None, error: str | None = None,
                      **kwargs: Any) -> None:
        """SAQ's finish and the review's terminal event in ONE atomic step (and one round trip).

        Every way a job ends (completed, failed out of attempts, swept, aborted) comes here;
        the event script's gate keeps only the first terminal event of a job. Override kept
        because SAQ has no hook to add commands to its finishing MULTI: finishing first and
        publishing after would leave a job finished in SAQ that its review never hears end
        (a worker dying in between), and publishing first would show the job done while SAQ
        still counts it active. The SAQ half below is `RedisQueue._finish` of SAQ 0.26
        (its notify moved inside the MULTI); a SAQ upgrade must check it still matches."""
        kw = job.kwargs or {}
        rid, job_id = kw.get("rid"), kw.get("job_id")
        if not rid or not job_id:
            return await super()._finish(job, status, result=result, error=error, **kwargs)
        outcome = self._outcome(status, result, error)
        kind, data, writes = terminal_event(rid, job_id, section_id=kw.get("section_id"), **outcome)
        keys, argv = self.publisher.script_args(rid, kind, data, writes=writes, job_id=job_id, guard="end",
                                                job_status=outcome["status"])
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(self._active, 1, job.id).zrem(self._incomplete, job.id)
            if job.ttl > 0:
                pipe.setex(job.id, job.ttl, self.serialize(job))
            elif job.ttl == 0:
                pipe.set(job.id, self.serialize(job))
            else:
                pipe.delete(job.id)
            pipe.publish(job.id, job.status)  # SAQ's notify
            self.publisher.queue_in(pipe, keys, argv)
            reply = (await pipe.execute(raise_on_error=False))[-1]
        try:
            if isinstance(reply, NoScriptError):  # Redis restarted and lost its scripts: publish loads it
                ended = await self.publisher.publish(rid, kind, data, writes=writes, job_id=job_id, guard="end",
                                                     job_status=outcome["status"])
            elif isinstance(reply, Exception):
                raise reply
            else:
                ended = self.publisher.parse(reply)
        except Exception:
            log.exception("could not publish the end of job %s", job_id, extra={"review_id": rid, "job_id": job_id})
            return
        if ended.ok:
            log.info("job %s %s", job.function, outcome["status"],
                     extra={"review_id": rid, "job_id": job_id, "queue": self.name})
            self.metrics.finished(job_id)
            self.metrics.incr("redline_jobs_finished_total", queue=self.name, outcome=outcome["status"])
            self.metrics.incr("redline_job_seconds_total", (job.duration("process") or 0) / 1000, queue=self.name)

    @staticmethod
    def _outcome(status: Status, result: Any, error: str | None) -> dict[str, Any]:
        if status == Status.COMPLETE:
            return dict(status="complete", result=result if isinstance(result, dict) else None)
        if status == Status.ABORTED and error == "cancelled":
            return dict(status="cancelled")
        reason = short_error(error)
        if reason == SWEPT_MESSAGE:
            reason += " and the job was out of attempts; start it again."
        return dict(status="failed", error=reason)

    async def drain(self) -> None:
        """Wait until the bookkeeping of finished jobs is written."""
        await self.metrics.drain()

    async def retry(self, job: Job, error: str | None) -> None:
        attempt = job.attempts
        await super().retry(job, error)
        self.metrics.incr("redline_jobs_retried_total", queue=self.name)
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
        if rec["status"] in TERMINAL_JOB_STATUSES:
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
