"""bench/document: a 50-section document reviewed by the Claude reviewer against the
local fake Messages API (tests/fake_anthropic.py), at a fixed latency per answer and a
given concurrency and rate limit; total time against the bound
max(50 x latency / concurrency, 50 / rate).

    python -m bench.document [--quick]

`redline serve --no-worker` + one `redline worker`, ANTHROPIC_BASE_URL pointing at the
fake. The fake answers every analysis call with the findings JSON (no findings)
in `latency` seconds, shaped like a real answer: the first byte (message_start, when the
provider has read the prompt and written its cache) after `ttft` x latency, then the
tool's JSON streamed over the rest. A last scenario sends the whole latency before the
first byte, the worst case for Redline's prompt-cache warm-up (the first call of a
document runs alone until its first byte, so that every other call reads the cache), and
the same again with the warm-up off (REDLINE_MODEL_CACHE_WARM_WAIT_S=0) to show the
price: cache writes. The fleet limits are Redline's own settings:
REDLINE_MODEL_CONCURRENCY = concurrency, REDLINE_MODEL_RPM_ANALYSIS = rate per
REDLINE_MODEL_RATE_WINDOW_S = 1 s (so no 1-second window admits more than `rate`).
Time = `{"op":"analyze"}` sent -> the 50th job.completed received.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import (Proc, embedded_redis, log, redline_env, start_redline, summary_ms, use_uvloop, wait_worker,
                          workdir, write_result)
from bench.rlclient import RSocket, markdown, upload

# name, latency per answer (s), concurrency, rate (answers/s), share of the latency before the
# first byte, prompt-cache warm-up on
SCENARIOS = [
    ("concurrency-bound", 1.0, 5, 20, 0.2, True),
    ("rate-bound", 0.5, 10, 4, 0.2, True),
    ("concurrency-bound, all latency before the first byte", 1.0, 5, 20, 1.0, True),
    ("the same, warm-up off", 1.0, 5, 20, 1.0, False),
]
QUICK = [("concurrency-bound", 0.3, 5, 50, 0.2, True), ("rate-bound", 0.1, 10, 10, 0.2, True)]
ANSWER = {"findings": []}
CHUNK = 2  # characters of the tool's JSON per streamed delta


async def run_scenario(tmp: Path, redis_url: str, name: str, latency: float, conc: int, rate: float,
                       ttft: float, warm: bool, sections: int) -> dict[str, Any]:
    from tests.fake_anthropic import FakeAnthropic, Text

    chunks = math.ceil(len(json.dumps(ANSWER, separators=(",", ":"))) / CHUNK)
    first, per_chunk = latency * ttft, latency * (1 - ttft) / chunks

    def responder(body: dict[str, Any]):
        if (body.get("output_config") or {}).get("format"):  # an analysis: the findings JSON
            return Text(json.dumps(ANSWER), latency=first, chunk_size=CHUNK, delay_per_chunk=per_chunk)
        return Text("No further comments.", latency=latency)

    with FakeAnthropic(default=responder) as fake:
        server, base = await asyncio.to_thread(start_redline, redis_url, tmp, worker=False, name=f"doc-{name}")
        env = redline_env(redis_url, tmp, **fake.env(), REDLINE_MODEL_CONCURRENCY=str(conc),
                          REDLINE_MODEL_RPM_ANALYSIS=str(int(rate)), REDLINE_MODEL_RATE_WINDOW_S="1",
                          REDLINE_WORKER_CONCURRENCY=str(conc),
                          **({} if warm else {"REDLINE_MODEL_CACHE_WARM_WAIT_S": "0"}))
        worker = Proc([sys.executable, "-m", "redline.server.cli", "worker"], env=env, log_path=tmp / f"doc-{name}-worker.log")
        sock = None
        try:
            await asyncio.to_thread(wait_worker, redis_url, "analysis")
            await asyncio.sleep(1.0)
            rv = await upload(base, markdown(sections, 60), title=f"document {name}")
            assert len(rv["sections"]) == sections, len(rv["sections"])
            sock = await RSocket(base, rv["review_id"], rv["token"]).connect()
            fake.reset()
            _, t0 = await sock.send({"op": "analyze"})
            try:
                await sock.wait(lambda: sock.counts.get("job.completed", 0) + sock.counts.get("job.failed", 0)
                                >= sections, timeout=float(os.environ.get("BENCH_DOCUMENT_TIMEOUT", "600")))
            except asyncio.TimeoutError:
                import redis.asyncio as aredis

                r = aredis.Redis.from_url(redis_url)
                logged = [e[1][b"k"].decode() for e in await r.xrange(f"rl:{{{rv['review_id']}}}:events")]
                raise RuntimeError(f"{name}: timed out; the socket saw {dict(sock.counts)}, the review's log holds "
                                   f"{ {k: logged.count(k) for k in set(logged)} }, the fake got "
                                   f"{len(fake.message_requests)} requests, socket closed: {sock.closed}")
            ends = [t for (kind, _), (t, _) in sock.by_job.items() if kind == "job.completed"]
            total = (max(ends) - t0) / 1e9
            bound = max(sections * latency / conc, sections / rate)
            reqs = sorted(fake.message_requests, key=lambda r: r.received_at)
            starts = [r.received_at for r in reqs]
            finished = sorted(r.finished_at for r in reqs if r.finished_at)
            # Redline's own time per call: a slot freed by the k-th answer to end is taken by the
            # (k + conc)-th request to arrive; the gap is the worker's turnaround.
            gaps = [max(0.0, starts[k + conc] - finished[k]) for k in range(min(len(finished), len(starts) - conc))]
            return {"scenario": name, "sections": sections, "latency_s": latency, "concurrency": conc,
                    "ttft_share": ttft, "warm_up": warm,
                    # calls sent before the first answer began: each would write the prompt cache itself
                    "cache_writes": sum(1 for r in reqs if r.received_at < (reqs[0].first_byte_at or 0)),
                    "turnaround_ms": summary_ms(gaps) if gaps and latency * rate > conc else None,  # concurrency-bound
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
    runs = []
    with workdir("document") as tmp, embedded_redis(tmp) as redis:
        import redis as redis_sync

        for name, latency, conc, rate, ttft, warm in (QUICK if args.quick else SCENARIOS):
            redis_sync.Redis.from_url(redis.url).flushall()
            log(f"document: {name}: latency {latency}s ({ttft:.0%} before the first byte), concurrency {conc}, "
                f"rate {rate}/s, warm-up {'on' if warm else 'off'}")
            r = await run_scenario(tmp, redis.url, name, latency, conc, rate, ttft, warm, args.sections)
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
