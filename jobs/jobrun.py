"""One attempt of one job, as seen by the task: gated events, throttled progress, heartbeat.

Every event a job publishes goes through the event script's gate with the job id
and attempt: once the job has ended (cancelled from a socket, say) or a newer
attempt has started, the gate drops the event and `JobRun` raises `JobStopped`,
so the task stops at its next step and publishes nothing more.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from redis.asyncio import Redis
from redis.exceptions import NoScriptError
from saq import Job

from redline.jobs.events import END_EVENT, SECTION_END, Publisher, Published, Write, dumps, section_state
from redline.jobs.keys import ReviewKeys
from redline.jobs.models import DECISION_FIELDS, Item


log = logging.getLogger("redline.jobs")


class JobStopped(Exception):
    """The job ended elsewhere (cancelled, or superseded by a newer attempt)."""


class JobFailed(Exception):
    """A failure with a message for a person; not worth another attempt."""


class JobRun:
    def __init__(self, *, redis: Redis, publisher: Publisher, job: Job | None, rid: str, job_id: str,
                 section_id: str | None = None, progress_interval: float = 0.15,
                 heartbeat_interval: float = 2.0, worker_id: str | None = None,
                 started: Published | None = None) -> None:
        self.redis = redis
        self.publisher = publisher
        self.job = job
        self.rid = rid
        self.job_id = job_id
        self.section_id = section_id
        self.attempt = job.attempts if job else 1
        self.keys = ReviewKeys(rid)
        self._progress_interval = progress_interval
        self._last_progress = 0.0
        self._heartbeat_interval = heartbeat_interval
        self._heartbeat: asyncio.Task | None = None
        self._heartbeat_later: asyncio.TimerHandle | None = None
        self._closing = False
        self.items_added = 0
        self.worker_id = worker_id
        self.started = started  # job.started as the worker's before_process hook published it

    # ------------------------------------------------------------ lifecycle ---
    async def start(self) -> None:
        """job.started (usually already published by the worker's before_process hook, just
        after SAQ marked the job active: `worker.announce_start`), then the heartbeat."""
        pub = self.started
        if pub is None:
            pub = await publish_started(self.publisher, self.rid, self.job_id, self.section_id, self.attempt,
                                        self.worker_id)
        self._check(pub)
        if self.attempt > 1:
            await self._remove_earlier_items()
        if self.job is not None and self._heartbeat_interval > 0:
            # Most jobs end before the first beat is due: start the beating task only then.
            self._heartbeat_later = asyncio.get_running_loop().call_later(
                self._heartbeat_interval, self._start_beat)

    def _start_beat(self) -> None:
        self._heartbeat = asyncio.create_task(self._beat())

    async def close(self) -> None:
        self._closing = True
        if self._heartbeat_later is not None:
            self._heartbeat_later.cancel()
            self._heartbeat_later = None
        beat, self._heartbeat = self._heartbeat, None
        if beat is not None:
            beat.cancel()
            # The flag ends the loop even if a cancel is lost inside a Redis call; the bound keeps a
            # job from ever waiting on its own heartbeat.
            await asyncio.wait([beat], timeout=2.0)

    async def _beat(self) -> None:
        """SAQ's sweep takes a job without a recent heartbeat for a dead worker's."""
        while not self._closing:
            try:
                await self.job.update()  # type: ignore[union-attr]
            except Exception as e:  # Redis blip: the next beat tries again
                log.warning("heartbeat of job %s not recorded: %r", self.job_id, e,
                            extra={"review_id": self.rid, "job_id": self.job_id})
            if self._closing:
                return
            await asyncio.sleep(self._heartbeat_interval)

    async def _remove_earlier_items(self) -> None:
        """Items of a retried attempt replace the earlier attempt's, they don't add to them."""
        prefix = f"{self.job_id}."
        ids = [i.decode() for i in await self.redis.hkeys(self.keys.items) if i.decode().startswith(prefix)]
        for item_id in ids:
            pub = await self.publisher.publish(
                self.rid, "item.removed", {"item_id": item_id, "reason": "retried"},
                writes=[Write("hdel", self.keys.items, item_id), Write("hdel", self.keys.decisions, item_id)],
                job_id=self.job_id, attempt=self.attempt, guard="live")
            self._check(pub)

    async def replace_earlier_findings(self, source: str, prefetched: Prefetch | None = None) -> set[tuple[str, str]]:
        """Analyzing a section again replaces the pending findings that earlier runs of the same
        reviewer left in it (one `item.removed` each, reason "replaced"); decided findings, the
        reviewers' own and those of an earlier version (they have a `resolution`: the record a
        round is checked against) stay. Returns the signatures of the findings that stay, so that
        a new finding identical to one of them is not added again."""
        if prefetched is not None and self.attempt == 1:  # read with job.started (a retry removed some since)
            raw_items, raw_decisions = prefetched.items, prefetched.decisions
        else:  # one round trip for both hashes
            async with self.redis.pipeline(transaction=False) as pipe:
                raw_items, raw_decisions = await pipe.hgetall(self.keys.items).hgetall(self.keys.decisions).execute()
        kept: set[tuple[str, str]] = set()
        earlier = []
        for raw_id, raw in raw_items.items():
            item = orjson.loads(raw)
            if item.get("section_id") == self.section_id and item.get("job_id") != self.job_id:
                earlier.append((raw_id.decode(), item))
        if not earlier:
            return kept
        decided = {k.decode(): orjson.loads(v).get("decision", "pending") for k, v in raw_decisions.items()}
        for item_id, item in earlier:
            if (decided.get(item_id, "pending") != "pending" or item.get("source") != source
                    or item.get("resolution")):
                kept.add(finding_signature(item))
                continue
            self._check(await self.publisher.publish(
                self.rid, "item.removed", {"item_id": item_id, "reason": "replaced"},
                writes=[Write("hdel", self.keys.items, item_id), Write("hdel", self.keys.decisions, item_id)],
                job_id=self.job_id, attempt=self.attempt, guard="live"))
        return kept

    # --------------------------------------------------------------- events ---
    def _secstate(self, status: str, progress: float) -> Write:
        return section_state(self.rid, self.section_id or "", status, job_id=self.job_id, progress=progress)

    def _check(self, pub: Published) -> Published:
        if not pub.ok:
            raise JobStopped(pub.reason)
        return pub

    async def publish(self, kind: str, data: dict[str, Any], writes: list[Write] | None = None) -> Published:
        return self._check(await self.publisher.publish(
            self.rid, kind, data, writes=writes or [], job_id=self.job_id, attempt=self.attempt, guard="live"))

    async def progress(self, progress: float, message: str | None = None, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < self._progress_interval:
            return
        self._last_progress = now
        progress = max(0.0, min(1.0, progress))
        data: dict[str, Any] = {"job_id": self.job_id, "progress": round(progress, 3)}
        if message:
            data["message"] = message
        writes = [Write("hset", self.keys.jobprogress, self.job_id, str(round(progress, 3)))]
        if self.section_id:
            writes.append(self._secstate("running", progress))
        await self.publish("job.progress", data, writes)

    def item_id(self) -> str:
        self.items_added += 1
        return f"{self.job_id}.{self.attempt}.{self.items_added}"

    async def add_item(self, item: Item) -> None:
        body = item.model_dump(mode="json")
        stored = {k: v for k, v in body.items() if k not in DECISION_FIELDS}
        await self.publish("item.added", {"item": body},
                           [Write("hset", self.keys.items, item.id, dumps(stored))])

    async def fail(self, message: str) -> bool:
        """Publish job.failed now (no retry). False if the job had already ended."""
        return (await end_job(self.publisher, self.rid, self.job_id, "failed", error=message,
                              section_id=self.section_id, attempt=self.attempt)).ok


def finding_signature(item: dict[str, Any] | Item) -> tuple[str, str]:
    """What makes two findings the same finding: their description and quote, case and
    spacing aside."""
    d = item if isinstance(item, dict) else item.model_dump()
    return (" ".join(str(d.get("description") or "").lower().split()),
            " ".join(str(d.get("quote") or "").lower().split()))


def started_event(rid: str, job_id: str, section_id: str | None, attempt: int,
                  worker_id: str | None) -> tuple[str, dict[str, Any], list[Write]]:
    """A job's job.started event: its kind, data and the writes that go with it."""
    k = ReviewKeys(rid)
    writes = [Write("hset", k.jobprogress, job_id, "0")]
    if section_id:
        writes.append(section_state(rid, section_id, "running", job_id=job_id))
    data: dict[str, Any] = {"job_id": job_id, "attempt": attempt}
    if worker_id:
        data["worker"] = worker_id
    return "job.started", data, writes


async def publish_started(publisher: Publisher, rid: str, job_id: str, section_id: str | None, attempt: int,
                          worker_id: str | None) -> Published:
    """Publish job.started through the gate's "start" guard: the job's state becomes active at
    this attempt, so every event of an earlier attempt is dropped from now on."""
    kind, data, writes = started_event(rid, job_id, section_id, attempt, worker_id)
    return await publisher.publish(rid, kind, data, writes=writes, job_id=job_id, attempt=attempt, guard="start",
                                   job_status="active")


@dataclass(frozen=True, slots=True)
class Prefetch:
    """What an analysis reads before its reviewer runs, read right after its job.started and in
    the same round trip: the review's current version (for the document cache) and its
    findings and decisions (for `JobRun.replace_earlier_findings`)."""
    version: bytes | None
    items: dict[bytes, bytes]
    decisions: dict[bytes, bytes]


async def start_analysis(publisher: Publisher, rid: str, job_id: str, section_id: str, attempt: int,
                         worker_id: str | None) -> tuple[Published, Prefetch]:
    """`publish_started` for an analysis, with its first reads in the same round trip (a no-op
    analysis made three round trips before its reviewer ran; the pipeline benchmark counts
    them). The reads run after the event script, in order, as they did one by one."""
    kind, data, writes = started_event(rid, job_id, section_id, attempt, worker_id)
    keys, argv = publisher.script_args(rid, kind, data, writes=writes, job_id=job_id, attempt=attempt,
                                       guard="start", job_status="active")
    k = ReviewKeys(rid)
    async with publisher.redis.pipeline(transaction=False) as pipe:
        publisher.queue_in(pipe, keys, argv)
        pipe.hget(k.review, "version").hgetall(k.items).hgetall(k.decisions)
        reply, version, items, decisions = await pipe.execute(raise_on_error=False)
    for r in (version, items, decisions):
        if isinstance(r, Exception):
            raise r
    if isinstance(reply, NoScriptError):  # Redis restarted and lost its scripts: publish loads it
        pub = await publish_started(publisher, rid, job_id, section_id, attempt, worker_id)
    elif isinstance(reply, Exception):
        raise reply
    else:
        pub = publisher.parse(reply)
    return pub, Prefetch(version, items, decisions)


def terminal_event(rid: str, job_id: str, status: str, *, section_id: str | None, error: str | None = None,
                   result: Any = None) -> tuple[str, dict[str, Any], list[Write]]:
    """The one terminal event of a job: its kind, data and the writes that go with it."""
    k = ReviewKeys(rid)
    kind = END_EVENT[status]
    data: dict[str, Any] = {"job_id": job_id}
    outcome: dict[str, Any] = {}
    if status == "failed":
        data["error"] = outcome["error"] = error or "The job failed."
    elif status == "cancelled":
        outcome["error"] = "cancelled"
    elif result is not None:
        data["result"] = outcome["result"] = result
    writes = [Write("hset", k.jobresult, job_id, orjson.dumps(outcome))]
    if status == "complete":
        writes.append(Write("hset", k.jobprogress, job_id, "1"))
    if section_id:
        writes.append(section_state(rid, section_id, SECTION_END[status], job_id=job_id,
                                    progress=1.0 if status == "complete" else 0.0, error=data.get("error")))
    return kind, data, writes


async def end_job(publisher: Publisher, rid: str, job_id: str, status: str, *, section_id: str | None,
                  error: str | None = None, result: Any = None, attempt: int | None = None) -> Published:
    """Publish the one terminal event of a job; the gate drops every later one."""
    kind, data, writes = terminal_event(rid, job_id, status, section_id=section_id, error=error, result=result)
    return await publisher.publish(rid, kind, data, writes=writes, job_id=job_id, attempt=attempt,
                                   guard="end", job_status=status)
