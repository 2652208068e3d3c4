"""bench/pipeline: no-op analysis jobs through Redline's whole path, beside raw SAQ.

    python -m bench.pipeline [--jobs 2000] [--concurrency 10] [--rounds 5] [--quick]

Redline: `redline serve --no-worker` + one `redline worker --concurrency C` whose reviewer
finds nothing (bench.worker_probe BENCH_REVIEWER=noop), so each job is pure pipeline:
`{"op":"analyze"}` on the websocket -> job record + job.queued event + SAQ enqueue ->
worker dequeues, reads the review, publishes job.started -> SAQ finish -> job.completed
through the event log -> hub -> the socket. Jobs/s = jobs / (first analyze sent -> last
job.completed received), over R reviews analysed at once (R concurrent enqueuers).

Raw SAQ, same run, same Redis: a plain SAQ worker (same concurrency) with a no-op
function; R concurrent enqueuers enqueue the same number of jobs; jobs/s = jobs /
(first enqueue -> last job's `completed` time as SAQ records it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (ROOT, CpuMeter, Proc, embedded_redis, log, redline_env, start_redline, summary_ms, use_uvloop,
                          wait_worker,
                          workdir, write_result)
from bench.rlclient import RSocket, markdown, upload


async def redline_run(tmp: Path, redis_url: str, reviews: int, sections: int, concurrency: int,
                      warm: bool = False, root: str | None = None) -> dict[str, Any]:
    server, base = await asyncio.to_thread(start_redline, redis_url, tmp, worker=False, name="pipe-serve",
                                           server_root=root)
    env = redline_env(redis_url, tmp, BENCH_REVIEWER="noop")
    if root:  # an experiment: the worker from a modified copy of the project
        env["PYTHONPATH"] = root
    worker = Proc([sys.executable, "-m", "bench.worker_probe", "worker", "--concurrency", str(concurrency)], env=env,
                  log_path=tmp / "pipe-worker.log", cwd=Path(root) if root else ROOT)
    socks: list[RSocket] = []
    try:
        await asyncio.to_thread(wait_worker, redis_url, "analysis")
        await asyncio.sleep(1.0)

        async def one_round(n_reviews: int, n_sections: int) -> dict[str, Any]:
            rvs = [await upload(base, markdown(n_sections, 10), title=f"pipe {i}") for i in range(n_reviews)]
            assert all(len(rv["sections"]) == n_sections for rv in rvs), [len(rv["sections"]) for rv in rvs]
            ss = [await RSocket(base, rv["review_id"], rv["token"]).connect() for rv in rvs]
            socks.extend(ss)
            meter = CpuMeter({"server": server.pid, "worker": worker.pid})
            meter.start()
            t0 = time.time_ns()
            await asyncio.gather(*(s.send({"op": "analyze"}) for s in ss))
            total = n_reviews * n_sections
            deadline = time.monotonic() + 600
            while sum(s.counts.get("job.completed", 0) + s.counts.get("job.failed", 0) for s in ss) < total:
                if time.monotonic() > deadline:
                    raise RuntimeError("pipeline: jobs did not complete in 600 s")
                await asyncio.sleep(0.02)
            cpu = meter.stop()
            ends = [t for s in ss for (kind, _), (t, _) in s.by_job.items() if kind == "job.completed"]
            queued = [t for s in ss for (kind, _), (t, _) in s.by_job.items() if kind == "job.queued"]
            failed = sum(s.counts.get("job.failed", 0) for s in ss)
            run_s, wait_s = [], []
            for s in ss:
                for (kind, jid), (t, _) in s.by_job.items():
                    if kind == "job.completed" and ("job.started", jid) in s.by_job:
                        ts = s.by_job[("job.started", jid)][0]
                        run_s.append((t - ts) / 1e9)
                        if ("job.queued", jid) in s.by_job:
                            wait_s.append((ts - s.by_job[("job.queued", jid)][0]) / 1e9)
            secs = (max(ends) - t0) / 1e9
            return {"jobs": total, "completed": len(ends), "failed": failed, "seconds": round(secs, 3),
                    "started_to_completed_ms": summary_ms(run_s), "queued_to_started_ms": summary_ms(wait_s),
                    "all_queued_after_s": round((max(queued) - t0) / 1e9, 3) if queued else None,
                    "jobs_per_s": round(len(ends) / secs, 1), "cpu": cpu,
                    "events_per_job": round(sum(sum(s.counts.values()) for s in ss) / total, 2)}

        if warm:
            await one_round(2, 10)
        return await one_round(reviews, sections)
    finally:
        for s in socks:
            await s.close()
        worker.stop()
        server.stop()


async def _noop(ctx: dict[str, Any], **kw: Any) -> None:
    return None


async def saq_worker(redis_url: str, concurrency: int) -> None:
    from saq import Queue, Worker

    queue = Queue.from_url(redis_url, name="bench-raw")
    _noop.__qualname__ = "noop"
    await Worker(queue, functions=[_noop], concurrency=concurrency).start()


async def saq_run(tmp: Path, redis_url: str, enqueuers: int, jobs: int, concurrency: int,
                  warm: bool = False) -> dict[str, Any]:
    from saq import Queue

    worker = Proc([sys.executable, "-m", "bench.pipeline", "--role", "saq-worker", "--redis", redis_url,
                   "--concurrency", str(concurrency)], env=dict(os.environ, PYTHONUNBUFFERED="1"),
                  log_path=tmp / "saq-worker.log")
    queue = Queue.from_url(redis_url, name="bench-raw")
    await queue.connect()
    try:
        await asyncio.to_thread(wait_worker, redis_url, "bench-raw")
        await asyncio.sleep(1.0)

        async def one_round(n: int) -> dict[str, Any]:
            keys = [f"raw-{time.time_ns()}-{i}" for i in range(n)]
            meter = CpuMeter({"worker": worker.pid})
            meter.start()
            t0 = time.time_ns()

            async def enqueuer(part: list[str]) -> None:
                for k in part:
                    await queue.enqueue("noop", key=k, timeout=60)

            await asyncio.gather(*(enqueuer(keys[i::enqueuers]) for i in range(enqueuers)))
            deadline = time.monotonic() + 600
            while await queue.count("incomplete") > 0:
                if time.monotonic() > deadline:
                    raise RuntimeError("raw SAQ: jobs did not complete in 600 s")
                await asyncio.sleep(0.02)
            cpu = meter.stop()
            done = [j for j in await queue.jobs(keys) if j is not None]
            completed = [j for j in done if j.status.value == "complete"]
            end_ms = max(j.completed for j in completed)
            secs = (end_ms * 1e6 - t0) / 1e9
            return {"jobs": n, "completed": len(completed), "seconds": round(secs, 3),
                    "jobs_per_s": round(len(completed) / secs, 1), "cpu": cpu}

        if warm:
            await one_round(20)
        return await one_round(jobs)
    finally:
        await queue.disconnect()
        worker.stop()


async def main_async(args) -> dict[str, Any]:
    reviews = args.reviews or (4 if args.quick else 20)
    total = args.jobs or (200 if args.quick else 2000)
    sections = max(1, total // reviews)
    conc = args.concurrency
    rounds = args.rounds
    reds: list[dict[str, Any]] = []
    raws: list[dict[str, Any]] = []
    with workdir("pipeline") as tmp, embedded_redis(tmp) as redis:
        # Rounds alternate between the two, so a busy spell on this shared machine hits both alike;
        # each side's median round is reported.
        for i in range(rounds):
            log(f"pipeline round {i + 1}/{rounds}: Redline, {reviews} reviews x {sections} sections, "
                f"worker concurrency {conc}")
            reds.append(await redline_run(tmp, redis.url, reviews, sections, conc, warm=True, root=args.server_root))
            log(f"pipeline: Redline {reds[-1]['jobs_per_s']} jobs/s")
            log(f"pipeline: raw SAQ, {reviews * sections} jobs, {reviews} enqueuers, concurrency {conc}")
            raws.append(await saq_run(tmp, redis.url, reviews, reviews * sections, conc, warm=True))
            log(f"pipeline: raw SAQ {raws[-1]['jobs_per_s']} jobs/s")
    red = sorted(reds, key=lambda r: r["jobs_per_s"])[len(reds) // 2]
    raw = sorted(raws, key=lambda r: r["jobs_per_s"])[len(raws) // 2]
    return {"params": {"reviews": reviews, "sections": sections, "jobs": reviews * sections, "concurrency": conc,
                       "rounds": rounds},
            "redline": red, "saq": raw, "ratio": round(red["jobs_per_s"] / raw["jobs_per_s"], 3),
            "rounds": {"redline": [r["jobs_per_s"] for r in reds], "saq": [r["jobs_per_s"] for r in raws]}}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="no-op jobs/s: Redline's whole path vs raw SAQ")
    ap.add_argument("--jobs", type=int)
    ap.add_argument("--reviews", type=int)
    ap.add_argument("--concurrency", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds of each; the medians are compared")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--server-root", help="run Redline's server and worker from this copy of the project "
                    "(to measure a proposed change side by side)")
    ap.add_argument("--role", default="bench")
    ap.add_argument("--redis")
    ap.add_argument("--out", default="pipeline")
    args = ap.parse_args(argv)
    use_uvloop()
    if args.role == "saq-worker":
        asyncio.run(saq_worker(args.redis, args.concurrency))
        return
    write_result(args.out, asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
