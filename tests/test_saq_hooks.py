"""The job lifecycle at SAQ's seams, without a worker process: the sweep's rule for orphaned
jobs, the terminal event in SAQ's finish, and job.started from the before_process hook."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import orjson
import pytest
from redis.asyncio import Redis
from saq import Job, Status
from saq.utils import now

from redline.jobs.events import Publisher, read_after
from redline.jobs.jobrun import JobRun, JobStopped, end_job
from redline.jobs.keys import ReviewKeys
from redline.jobs.models import JobRecord, Section
from redline.jobs.queues import SWEPT_MESSAGE, RedlineQueue, orphaned
from redline.jobs.store import DocumentCache, Store, new_job_id, new_review_id
from redline.jobs.worker import announce_start

TERMINAL = {"job.completed", "job.failed", "job.cancelled"}


def _job(status: Status, *, age_s: float = 0.0, heartbeat: int = 5) -> Job:
    t = now() - int(age_s * 1000)
    return Job(function="f", status=status, queued=t, started=t, touched=t, heartbeat=heartbeat)


@pytest.mark.parametrize("status,age_s,expected", [
    (Status.QUEUED, 0.0, False),   # just dequeued: the worker is about to mark it active
    (Status.QUEUED, 20.0, True),   # dequeued and never marked active: its worker died
    (Status.ACTIVE, 0.0, False),
    (Status.ACTIVE, 20.0, True),   # heartbeat lapsed
    (Status.COMPLETE, 20.0, False),  # finished since the sweep listed it
    (Status.ABORTED, 20.0, False),
])
def test_what_the_sweep_takes_for_orphaned(status, age_s, expected):
    assert orphaned(_job(status, age_s=age_s)) is expected


@pytest.fixture
async def env(own_redis_url):
    redis = Redis.from_url(own_redis_url)
    publisher = Publisher(redis)
    store = Store(redis, publisher)
    queue = RedlineQueue(redis, publisher, name="analysis", sweep_abort_wait=0.1)
    await queue.connect()
    rid = new_review_id()
    await redis.hset(ReviewKeys(rid).review, "title", "t")

    async def enqueue(retries: int = 2) -> Job:
        job_id = new_job_id(rid)
        await store.create_job(JobRecord(job_id=job_id, review_id=rid, kind="analyze", section_id="s1"))
        job = await queue.enqueue(Job(function="analyze_section", key=job_id, heartbeat=5, retries=retries,
                                      ttl=3600, kwargs={"rid": rid, "job_id": job_id, "section_id": "s1"}))
        assert job is not None
        return job

    async def kinds(job_id: str) -> list[str]:
        return [e.kind for e in await read_after(redis, rid, None) if e.data.get("job_id") == job_id]

    yield SimpleNamespace(redis=redis, publisher=publisher, queue=queue, rid=rid, enqueue=enqueue, kinds=kinds)
    await queue.drain()
    await queue.disconnect()


async def _age(env, job: Job, seconds: float) -> None:
    """Make the stored job look `seconds` old, and let the next sweep run at once."""
    stored = await env.queue.job(job.key)
    stored.queued -= int(seconds * 1000)
    stored.touched -= int(seconds * 1000)
    stored.started -= int(seconds * 1000)
    await env.redis.set(stored.id, env.queue.serialize(stored))
    await env.redis.delete(env.queue.namespace("sweep"))


async def test_a_just_dequeued_job_is_not_swept_but_an_abandoned_one_is_retried(env):
    job = await env.enqueue()
    taken = await env.queue.dequeue()  # in the active list, stored status still "queued"
    assert taken is not None and taken.key == job.key
    assert await env.queue.sweep(lock=1) == []
    assert await env.queue.count("active") == 1

    await _age(env, job, 20)
    assert await env.queue.sweep(lock=1) == [job.id]
    assert (await env.queue.job(job.key)).status == Status.QUEUED
    assert await env.queue.count("active") == 0 and await env.queue.count("queued") == 1
    assert not TERMINAL & set(await env.kinds(job.key)), "a retried job has not ended"


async def test_a_dead_workers_last_attempt_ends_in_job_failed_once(env):
    job = await env.enqueue(retries=1)
    taken = await env.queue.dequeue()
    taken.attempts = 1
    await taken.update(status=Status.ACTIVE)
    await announce_start({"job": taken, "rt": SimpleNamespace(publisher=env.publisher)})
    await _age(env, taken, 20)  # the heartbeat lapsed: its worker is gone

    assert await env.queue.sweep(lock=1) == [job.id]
    kinds = await env.kinds(job.key)
    assert [k for k in kinds if k in TERMINAL] == ["job.failed"] and kinds[-1] == "job.failed"
    assert await env.queue.count("active") == 0
    assert (await env.queue.job(job.key)).status == Status.ABORTED
    events = await read_after(env.redis, env.rid, None)
    assert events[-1].data["error"].startswith(SWEPT_MESSAGE)


async def test_finish_after_a_cancel_publishes_nothing_more_and_leaves_nothing_active(env):
    job = await env.enqueue()
    taken = await env.queue.dequeue()
    taken.attempts = 1
    await taken.update(status=Status.ACTIVE)
    ctx = {"job": taken, "rt": SimpleNamespace(publisher=env.publisher)}
    await announce_start(ctx)
    assert ctx["started"].ok
    assert (await end_job(env.publisher, env.rid, job.key, "cancelled", section_id="s1")).ok
    await env.queue.finish(taken, Status.COMPLETE, result={"items": 0})
    kinds = await env.kinds(job.key)
    assert kinds[-1] == "job.cancelled" and [k for k in kinds if k in TERMINAL] == ["job.cancelled"]
    assert await env.queue.count("active") == 0


async def test_a_job_cancelled_before_its_start_stops_at_the_hooks_job_started(env):
    job = await env.enqueue()
    assert (await end_job(env.publisher, env.rid, job.key, "cancelled", section_id="s1")).ok
    taken = await env.queue.dequeue()
    taken.attempts = 1
    await taken.update(status=Status.ACTIVE)
    ctx = {"job": taken, "rt": SimpleNamespace(publisher=env.publisher)}
    await announce_start(ctx)
    assert not ctx["started"].ok
    run = JobRun(redis=env.redis, publisher=env.publisher, job=taken, rid=env.rid, job_id=job.key,
                 section_id="s1", started=ctx["started"])
    with pytest.raises(JobStopped):
        await run.start()
    await run.close()
    assert "job.started" not in await env.kinds(job.key)


async def test_an_analysis_starts_and_reads_its_context_in_one_step_even_after_redis_lost_its_scripts(env):
    """The hook publishes an analysis's job.started with the reads its task needs next (the
    review's version, its findings and decisions). After a Redis restart the event script is
    gone: the job still shows as running and the reads still arrive."""
    keys = ReviewKeys(env.rid)
    await env.redis.hset(keys.review, "version", "2")
    await env.redis.hset(keys.items, "i1", orjson.dumps({"id": "i1", "section_id": "s1"}))
    await env.redis.hset(keys.decisions, "i1", orjson.dumps({"decision": "accepted"}))
    job = await env.enqueue()
    taken = await env.queue.dequeue()
    taken.attempts = 1
    await taken.update(status=Status.ACTIVE)
    await env.redis.script_flush()

    ctx = {"job": taken, "rt": SimpleNamespace(publisher=env.publisher)}
    await announce_start(ctx)
    assert ctx["started"].ok
    assert "job.started" in await env.kinds(job.key)
    pre = ctx["prefetch"]
    assert pre.version == b"2"
    assert orjson.loads(pre.items[b"i1"])["section_id"] == "s1"
    assert orjson.loads(pre.decisions[b"i1"])["decision"] == "accepted"


async def test_jobs_that_miss_the_same_document_at_once_share_one_load(env):
    """'Analyze all' starts a worker's concurrent jobs on one review together: they wait for one
    read and parse of its sections (the same document), not one each; a later version is read anew."""
    keys = ReviewKeys(env.rid)
    for i in range(3):
        await env.redis.hset(keys.sections, f"s{i}", Section(id=f"s{i}", title=f"T{i}", index=i, text="x").model_dump_json())
    await asyncio.gather(*(env.redis.ping() for _ in range(10)))  # ten open connections, as a busy worker has
    cache = DocumentCache(Store(env.redis, env.publisher))
    docs = await asyncio.gather(*(cache.get(env.rid) for _ in range(10)))
    assert all(d is docs[0] for d in docs) and [s.id for s in docs[0].sections] == ["s0", "s1", "s2"]
    await env.redis.hset(keys.review, "version", "2")
    assert await cache.get(env.rid) is not docs[0]
