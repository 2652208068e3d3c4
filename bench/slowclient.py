"""bench/slowclient: does one frozen client hurt the others?

    python -m bench.slowclient [--sockets 50] [--rate 200] [--seconds 6]

One `redline serve`, N healthy sockets on one review, events published at a steady rate
through the real publish path; the same run twice: without, then with a stalled client
(a socket that stops reading, with a tiny receive buffer, as a frozen tab looks). Reports
the healthy sockets' latency (publish to receipt) in both runs, their ratio, lost events,
and whether the stalled socket was closed with 4408. Issue 5's bar: within 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from redis.asyncio import Redis

from bench.common import embedded_redis, log, start_redline, summary_ms, use_uvloop, workdir, write_result
from bench.rlclient import RSocket, markdown, upload
from redline.jobs.events import Publisher


async def run_once(base: str, redis_url: str, sockets: int, rate: float, seconds: float, stall: bool) -> dict[str, Any]:
    from tests.client import StalledSocket

    review = await upload(base, markdown(3))
    rid, token = review["review_id"], review["token"]
    healthy = [await RSocket(base, rid, token).connect() for _ in range(sockets)]
    stalled = await StalledSocket.open(base, rid, token) if stall else None
    redis = Redis.from_url(redis_url)
    pub = Publisher(redis)
    pad = "x" * 8000  # ~10 MB in all: more than the kernel buffers and the socket's queue hold
    n = int(rate * seconds)
    start = time.monotonic()
    for i in range(n):
        await pub.publish(rid, "job.progress", {"job_id": f"{rid}.b", "progress": 0.5, "i": i,
                                                "t": time.time_ns(), "pad": pad})
        delay = start + (i + 1) / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(s.counts.get("job.progress", 0) < n for s in healthy):
        await asyncio.sleep(0.05)
    lat = [(t - m["data"]["t"]) / 1e9 for s in healthy for t, m in s.events if m["kind"] == "job.progress"]
    lost = sum(n - s.counts.get("job.progress", 0) for s in healthy)
    close = None
    if stalled:
        try:
            close = await asyncio.wait_for(stalled.close_code(), 20)
        except asyncio.TimeoutError:
            close = "still open"
    await redis.aclose()
    for s in healthy:
        await s.close()
    return {"latency_ms": summary_ms(lat), "lost": lost, "events": n, "stalled_close_code": close}


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with workdir("slowclient") as tmp, embedded_redis(tmp) as r:
        server, base = start_redline(r.url, tmp, REDLINE_WS_QUEUE_MAX="300")
        try:
            without = await run_once(base, r.url, args.sockets, args.rate, args.seconds, stall=False)
            log("without a stalled client:", without["latency_ms"])
            with_stall = await run_once(base, r.url, args.sockets, args.rate, args.seconds, stall=True)
            log("with a stalled client:", with_stall["latency_ms"], "close", with_stall["stalled_close_code"])
        finally:
            server.stop()
    ratio = {k: (with_stall["latency_ms"][k] / without["latency_ms"][k]) if without["latency_ms"][k] else None
             for k in ("p50", "p99")}
    return {"benchmark": "slowclient", "params": vars(args), "without": without, "with_stalled": with_stall,
            "ratio": ratio}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sockets", type=int, default=50)
    ap.add_argument("--rate", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    if args.quick:
        args.sockets, args.seconds = 20, 3.0
    use_uvloop()
    result = asyncio.run(main_async(args))
    path = write_result("slowclient", result)
    log(f"wrote {path}; p50 ratio {result['ratio']['p50']}, p99 ratio {result['ratio']['p99']}")


if __name__ == "__main__":
    main()
