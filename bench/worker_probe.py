"""`redline worker` (or `redline serve`) with benchmark instruments, nothing else changed:

    python -m bench.worker_probe worker [--concurrency N]

* BENCH_TASK_LOG=FILE: every SAQ task of Redline (analyze_section, answer_chat) writes
  "S <job_id> <time_ns>" when its coroutine starts and "E <job_id> <time_ns> <how>" when it
  stops (how: done | cancelled | error), so a benchmark knows when a cancelled job's
  coroutine really stopped, and whether a cancelled queued job ever started.
* BENCH_REVIEWER=noop: a reviewer that finds nothing at once (the pipeline benchmark's
  no-op analysis job: the task still reads the review, publishes job.started and ends
  with job.completed through the real path).
* BENCH_REVIEWER=sleepy: a reviewer that reports progress every 50 ms for up to
  BENCH_SLEEPY_S seconds (a long job to cancel).
* The GC recorder of bench.probe.
"""

from __future__ import annotations

import asyncio
import functools
import os
import runpy
import sys
import time
from typing import Any, AsyncIterator

from bench import probe


class NoopReviewer:
    source = "offline"
    model = None

    async def analyze(self, req: Any) -> AsyncIterator[Any]:
        return
        yield  # pragma: no cover

    async def chat(self, req: Any) -> AsyncIterator[Any]:
        yield "ok"

    async def test(self) -> dict[str, Any]:
        return {"reviewer": "noop", "model": None, "ok": True, "latency_ms": 0}


class SleepyReviewer(NoopReviewer):
    def __init__(self) -> None:
        self.seconds = float(os.environ.get("BENCH_SLEEPY_S", "30"))

    async def analyze(self, req: Any) -> AsyncIterator[Any]:
        from redline.jobs.reviewers.base import Progress

        steps = int(self.seconds / 0.05)
        for i in range(steps):
            await asyncio.sleep(0.05)
            yield Progress(i / steps)


def _log_line(line: str) -> None:
    path = os.environ.get("BENCH_TASK_LOG")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def _wrap(fn):
    @functools.wraps(fn)
    async def wrapper(ctx: dict[str, Any], **kwargs: Any) -> Any:
        job_id = kwargs.get("job_id", "?")
        _log_line(f"S {job_id} {time.time_ns()}")
        how = "error"
        try:
            out = await fn(ctx, **kwargs)
            how = "done"
            return out
        except asyncio.CancelledError:
            how = "cancelled"
            raise
        finally:
            _log_line(f"E {job_id} {time.time_ns()} {how}")

    return wrapper


def install() -> None:
    from redline.jobs import tasks, worker

    tasks.analyze_section = _wrap(tasks.analyze_section)
    tasks.answer_chat = _wrap(tasks.answer_chat)
    kind = os.environ.get("BENCH_REVIEWER")
    if kind in ("noop", "sleepy"):
        cls = NoopReviewer if kind == "noop" else SleepyReviewer
        worker.make_reviewer = lambda settings, redis: cls()
    probe.install()


def main() -> None:
    install()
    sys.argv = ["redline.server.cli"] + sys.argv[1:]
    runpy.run_module("redline.server.cli", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
