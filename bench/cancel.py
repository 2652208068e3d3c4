"""bench/cancel: how fast a cancel takes effect, for running and queued jobs.

    python -m bench.cancel [--trials 30] [--quick]

Redline: a `redline serve --no-worker` and a separate `redline worker` (analysis
concurrency 1, a reviewer that works for 30 s, bench.worker_probe logging when each
task's coroutine starts and stops). Each trial starts job A (running) and job B (queued
behind A) on one review, then sends `{"op":"cancel"}` over the websocket, first for B,
then for A, and measures from the moment the cancel message is sent:
  * to `job.cancelled` arriving on the socket;
  * to the job's coroutine actually stopping (the worker's task log, same clock);
and checks, at the end, that no cancelled queued job ever started.

Beside it, SAQ's plain path in the same run: a plain SAQ worker (default timers) runs
the same kind of long job; `queue.abort(job)` is called and measured to the job's status
becoming "aborted" (polled every 5 ms) and to the coroutine stopping.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (Proc, embedded_redis, log, redline_env, start_redline, summary_ms, use_uvloop,
                          wait_worker, workdir, write_result)
from bench.rlclient import RSocket, markdown, upload


def read_task_log(path: Path) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    if not path.exists():
        return out
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) < 3:
            continue
        rec = out.setdefault(parts[1], {})
        if parts[0] == "S":
            rec["start"] = int(parts[2])
        elif parts[0] == "E":
            rec["end"] = int(parts[2])
            rec["how"] = parts[3] if len(parts) > 3 else ""
    return out


async def wait_log(path: Path, job_id: str, key: str, timeout: float = 10) -> int | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rec = read_task_log(path).get(job_id, {})
        if key in rec:
            return rec[key]
        await asyncio.sleep(0.005)
    return None


# ------------------------------------------------------------------ Redline ---

async def redline_trials(trials: int, tmp: Path, redis_url: str) -> dict[str, Any]:
    task_log = tmp / "tasks.log"
    server, base = await asyncio.to_thread(start_redline, redis_url, tmp, worker=False, name="cancel-serve")
    env = redline_env(redis_url, tmp, BENCH_TASK_LOG=str(task_log), BENCH_REVIEWER="sleepy",
                      BENCH_SLEEPY_S="30", REDLINE_WORKER_CONCURRENCY="1")
    worker = Proc([sys.executable, "-m", "bench.worker_probe", "worker"], env=env, log_path=tmp / "worker.log")
    sock = None
    try:
        await asyncio.to_thread(wait_worker, redis_url, "analysis")
        await asyncio.sleep(1.0)
        rv = await upload(base, markdown(2))
        a, b = rv["sections"][0]["id"], rv["sections"][1]["id"]
        sock = await RSocket(base, rv["review_id"], rv["token"]).connect()
        running_event, running_stop, queued_event, queued_ids = [], [], [], []
        for i in range(trials):
            _, rep, _ = await sock.request({"op": "analyze", "sections": [a]})
            ja = rep["data"]["jobs"][0]["job_id"]
            await sock.wait_event("job.started", job_id=ja)
            _, rep, _ = await sock.request({"op": "analyze", "sections": [b]})
            jb = rep["data"]["jobs"][0]["job_id"]
            await sock.wait_event("job.queued", job_id=jb)
            await asyncio.sleep(0.05 + random.random() * 0.15)
            # the queued job
            _, t0 = await sock.send({"op": "cancel", "job_id": jb})
            t1, _ = await sock.wait_event("job.cancelled", job_id=jb)
            queued_event.append((t1 - t0) / 1e9)
            queued_ids.append(jb)
            await asyncio.sleep(0.05 + random.random() * 0.15)
            # the running job
            _, t0 = await sock.send({"op": "cancel", "job_id": ja})
            t1, _ = await sock.wait_event("job.cancelled", job_id=ja)
            running_event.append((t1 - t0) / 1e9)
            t2 = await wait_log(task_log, ja, "end")
            if t2 is not None:
                running_stop.append((t2 - t0) / 1e9)
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)  # a cancelled queued job that were to start would show up by now
        logged = read_task_log(task_log)
        started_after_cancel = [j for j in queued_ids if "start" in logged.get(j, {})]
        not_stopped = trials - len(running_stop)
        return {
            "trials": trials,
            "running": {"to_cancelled_event": summary_ms(running_event), "to_coroutine_stopped": summary_ms(running_stop),
                        "coroutine_not_stopped": not_stopped},
            "queued": {"to_cancelled_event": summary_ms(queued_event), "started_after_cancel": len(started_after_cancel)},
            "settings": {"worker_concurrency_analysis": 1, "abort_poll_s": 0.5, "fast_cancel": "pub/sub rl:cancel"},
        }
    finally:
        if sock:
            await sock.close()
        worker.stop()
        server.stop()


# --------------------------------------------------------------- plain SAQ ---

async def _sleepy(ctx: dict[str, Any], *, name: str) -> None:
    log_path = os.environ["BENCH_TASK_LOG"]
    with open(log_path, "a") as f:
        f.write(f"S {name} {time.time_ns()}\n")
    how = "error"
    try:
        for _ in range(600):
            await asyncio.sleep(0.05)
        how = "done"
    except asyncio.CancelledError:
        how = "cancelled"
        raise
    finally:
        with open(log_path, "a") as f:
            f.write(f"E {name} {time.time_ns()} {how}\n")


async def saq_worker(redis_url: str) -> None:
    from saq import Queue, Worker

    queue = Queue.from_url(redis_url, name="bench-plain")
    _sleepy.__qualname__ = "sleepy"
    worker = Worker(queue, functions=[_sleepy], concurrency=1)  # SAQ's defaults (abort timer 1 s)
    await worker.start()


async def saq_trials(trials: int, tmp: Path, redis_url: str) -> dict[str, Any]:
    from saq import Queue, Status

    task_log = tmp / "saq-tasks.log"
    env = dict(os.environ, BENCH_TASK_LOG=str(task_log), PYTHONUNBUFFERED="1")
    worker = Proc([sys.executable, "-m", "bench.cancel", "--role", "saq-worker", "--redis", redis_url], env=env,
                  log_path=tmp / "saq-worker.log")
    queue = Queue.from_url(redis_url, name="bench-plain")
    await queue.connect()

    async def until_status(job, statuses, timeout: float = 10) -> int | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await job.refresh()
            if job.status in statuses:
                return time.time_ns()
            await asyncio.sleep(0.005)
        return None

    try:
        await asyncio.to_thread(wait_worker, redis_url, "bench-plain")
        await asyncio.sleep(1.0)
        running_status, running_stop, queued_status, queued_ids = [], [], [], []
        for i in range(trials):
            ja = await queue.enqueue("sleepy", name=f"a{i}", key=f"a{i}-{time.time_ns()}", timeout=120)
            if await wait_log(task_log, f"a{i}", "start", 20) is None:
                raise RuntimeError(f"plain SAQ job did not start: {worker.output()[-2000:]}")
            jb = await queue.enqueue("sleepy", name=f"b{i}", key=f"b{i}-{time.time_ns()}", timeout=120)
            await asyncio.sleep(0.05 + random.random() * 0.15)
            t0 = time.time_ns()
            await queue.abort(jb, "cancelled")
            t1 = await until_status(jb, (Status.ABORTED,))
            if t1:
                queued_status.append((t1 - t0) / 1e9)
            queued_ids.append(f"b{i}")
            await asyncio.sleep(0.05 + random.random() * 0.15)
            t0 = time.time_ns()
            await queue.abort(ja, "cancelled")
            t1 = await until_status(ja, (Status.ABORTED,))
            if t1:
                running_status.append((t1 - t0) / 1e9)
            t2 = await wait_log(task_log, f"a{i}", "end")
            if t2 is not None:
                running_stop.append((t2 - t0) / 1e9)
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.0)
        logged = read_task_log(task_log)
        return {
            "trials": trials,
            "running": {"to_aborted_status": summary_ms(running_status), "to_coroutine_stopped": summary_ms(running_stop),
                        "coroutine_not_stopped": trials - len(running_stop)},
            "queued": {"to_aborted_status": summary_ms(queued_status),
                       "started_after_cancel": sum(1 for j in queued_ids if "start" in logged.get(j, {}))},
            "settings": {"worker_concurrency": 1, "abort_timer_s": 1, "path": "queue.abort(job); worker's abort timer"},
        }
    finally:
        await queue.disconnect()
        worker.stop()


async def main_async(args) -> dict[str, Any]:
    trials = args.trials or (5 if args.quick else 30)
    with workdir("cancel") as tmp, embedded_redis(tmp) as redis:
        log(f"cancel: Redline, {trials} trials")
        red = await redline_trials(trials, tmp, redis.url)
        log(f"cancel: Redline running p99 {red['running']['to_cancelled_event']['p99']} ms, "
            f"queued p99 {red['queued']['to_cancelled_event']['p99']} ms")
        log(f"cancel: plain SAQ, {trials} trials")
        saq = await saq_trials(trials, tmp, redis.url)
    return {"redline": red, "saq": saq}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="cancel latency, Redline and plain SAQ")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--role", default="bench")
    ap.add_argument("--redis")
    ap.add_argument("--out", default="cancel")
    args = ap.parse_args(argv)
    use_uvloop()
    if args.role == "saq-worker":
        asyncio.run(saq_worker(args.redis))
        return
    write_result(args.out, asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
