"""bench/document: a 50-section document reviewed by the Claude reviewer against the
local fake Messages API (tests/fake_anthropic.py), at a fixed latency per answer and a
given concurrency and rate limit; total time against the bound
max(50 x latency / concurrency, 50 / rate).

    python -m bench.document [--quick]

`redline serve --no-worker` + one `redline worker`, ANTHROPIC_BASE_URL pointing at the
fake. The fake answers every analysis call with the `report_findings` tool (no findings)
after `latency` seconds. The fleet limits are Redline's own settings:
REDLINE_MODEL_CONCURRENCY = concurrency, REDLINE_MODEL_RPM_ANALYSIS = rate per
REDLINE_MODEL_RATE_WINDOW_S = 1 s (so no 1-second window admits more than `rate`).
Time = `{"op":"analyze"}` sent -> the 50th job.completed received.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (Proc, embedded_redis, log, redline_env, start_redline, use_uvloop, wait_worker, workdir,
                          write_result)
from bench.rlclient import RSocket, markdown, upload

SCENARIOS = [
    # name, latency per answer (s), concurrency, rate (answers/s)
    ("concurrency-bound", 1.0, 5, 20),
    ("rate-bound", 0.5, 10, 4),
]
QUICK = [("concurrency-bound", 0.3, 5, 50), ("rate-bound", 0.1, 10, 10)]


def claude_available() -> bool:
    return (Path(__file__).resolve().parent.parent / "jobs" / "reviewers" / "claude.py").exists()


async def run_scenario(tmp: Path, redis_url: str, name: str, latency: float, conc: int, rate: float,
                       sections: int) -> dict[str, Any]:
    from tests.fake_anthropic import FakeAnthropic, Text, ToolUse

    def responder(body: dict[str, Any]):
        if body.get("tool_choice"):
            return ToolUse("report_findings", {"findings": []}, latency=latency)
        return Text("No further comments.", latency=latency)

    with FakeAnthropic(default=responder) as fake:
        server, base = await asyncio.to_thread(start_redline, redis_url, tmp, worker=False, name=f"doc-{name}")
        env = redline_env(redis_url, tmp, **fake.env(), REDLINE_MODEL_CONCURRENCY=str(conc),
                          REDLINE_MODEL_RPM_ANALYSIS=str(int(rate)), REDLINE_MODEL_RATE_WINDOW_S="1",
                          REDLINE_WORKER_CONCURRENCY=str(conc))
        worker = Proc([sys.executable, "-m", "server.cli", "worker"], env=env, log_path=tmp / f"doc-{name}-worker.log")
        sock = None
        try:
            await asyncio.to_thread(wait_worker, redis_url, "analysis")
            await asyncio.sleep(1.0)
            rv = await upload(base, markdown(sections, 60), title=f"document {name}")
            assert len(rv["sections"]) == sections, len(rv["sections"])
            sock = await RSocket(base, rv["review_id"], rv["token"]).connect()
            fake.reset()
            _, t0 = await sock.send({"op": "analyze"})
            await sock.wait(lambda: sock.counts.get("job.completed", 0) + sock.counts.get("job.failed", 0)
                            >= sections, timeout=600)
            ends = [t for (kind, _), (t, _) in sock.by_job.items() if kind == "job.completed"]
            total = (max(ends) - t0) / 1e9
            bound = max(sections * latency / conc, sections / rate)
            return {"scenario": name, "sections": sections, "latency_s": latency, "concurrency": conc,
                    "rate_per_s": rate, "bound_s": round(bound, 3), "total_s": round(total, 3),
                    "over_bound": round(total / bound - 1, 4), "completed": len(ends),
                    "failed": sock.counts.get("job.failed", 0), "model_requests": len(fake.message_requests),
                    "max_in_flight": fake.max_in_flight, "max_in_1s_window": fake.max_requests_in_window(1.0)}
        finally:
            if sock:
                await sock.close()
            worker.stop()
            server.stop()


async def main_async(args) -> dict[str, Any]:
    if not claude_available():
        return {"skipped": "jobs/reviewers/claude.py is not there yet"}
    runs = []
    with workdir("document") as tmp, embedded_redis(tmp) as redis:
        import redis as redis_sync

        for name, latency, conc, rate in (QUICK if args.quick else SCENARIOS):
            redis_sync.Redis.from_url(redis.url).flushall()
            log(f"document: {name}: latency {latency}s, concurrency {conc}, rate {rate}/s")
            r = await run_scenario(tmp, redis.url, name, latency, conc, rate, args.sections)
            log(f"document: {name}: {r['total_s']} s against bound {r['bound_s']} s ({r['over_bound']:+.1%})")
            runs.append(r)
    return {"runs": runs}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="50-section document against the fake model")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sections", type=int, default=50)
    ap.add_argument("--out", default="document")
    args = ap.parse_args(argv)
    use_uvloop()
    write_result(args.out, asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
