"""bench/latency: how soon a reviewer sees something happen.

    python -m bench.latency [--trials 50] [--quick]

1. `{"op":"analyze"}` on the websocket -> the first event of the job (`job.queued`,
   published by the web process as it enqueues) and -> `job.started` (a worker took it).
2. `{"op":"chat"}` -> the first `chat.delta` on the socket, minus the fake model's own
   time to first token for that request (tests/fake_anthropic.py records it): what
   Redline adds around the model (websocket, enqueue, worker pick-up, prompt, SDK,
   event log, relay). Needs the Claude reviewer (jobs/reviewers/claude.py).

`redline serve --no-worker` + one `redline worker`, the fake model at 127.0.0.1 with a
fixed time to first token; trials are sequential, a little apart.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from typing import Any

from bench.common import (Proc, embedded_redis, log, redline_env, start_redline, summary_ms, use_uvloop,
                          wait_worker, workdir, write_result)
from bench.rlclient import RSocket, markdown, upload

TTFT_S = 0.2


async def main_async(args) -> dict[str, Any]:
    trials = args.trials or (10 if args.quick else 50)
    out: dict[str, Any] = {"trials": trials, "model_ttft_s": TTFT_S}
    with workdir("latency") as tmp, embedded_redis(tmp) as redis:
        from tests.fake_anthropic import FakeAnthropic, Text

        def responder(body: dict[str, Any]):
            if (body.get("output_config") or {}).get("format"):  # an analysis: the findings JSON
                return Text('{"findings": []}', latency=0.05)
            return Text("The timeline is consistent with the logs; the follow-up actions have owners. " * 3,
                        chunk_size=24, latency=TTFT_S)

        fake = FakeAnthropic(default=responder).start()
        env_extra = {**fake.env(), "REDLINE_MODEL_CONCURRENCY": "8", "REDLINE_MODEL_RPM_CHAT": "100000",
                     "REDLINE_MODEL_RPM_ANALYSIS": "100000"}
        out["reviewer"] = "claude (fake model)"
        server, base = await asyncio.to_thread(start_redline, redis.url, tmp, worker=False, name="latency-serve")
        worker = Proc([sys.executable, "-m", "redline.server.cli", "worker"], env=redline_env(redis.url, tmp, **env_extra),
                      log_path=tmp / "latency-worker.log")
        sock = None
        try:
            await asyncio.to_thread(wait_worker, redis.url, "analysis")
            await asyncio.sleep(1.0)
            rv = await upload(base, markdown(trials, 30), title="latency")
            sock = await RSocket(base, rv["review_id"], rv["token"]).connect()
            # 1. analyze -> first event
            first, started = [], []
            for i in range(trials):
                sid = rv["sections"][i % len(rv["sections"])]["id"]
                ref, t0 = await sock.send({"op": "analyze", "sections": [sid]})
                await sock.wait(lambda: ref in sock.replies, 30)
                job_id = sock.replies[ref][1]["data"]["jobs"][0]["job_id"]
                t1, _ = await sock.wait_event("job.queued", job_id=job_id)
                t2, _ = await sock.wait_event("job.started", job_id=job_id)
                first.append((t1 - t0) / 1e9)
                started.append((t2 - t0) / 1e9)
                await sock.wait(lambda: sock.find("job.completed", job_id=job_id) or
                                sock.find("job.failed", job_id=job_id), 60)
                await asyncio.sleep(0.05 + random.random() * 0.05)
            out["analyze"] = {"to_first_event": summary_ms(first), "to_job_started": summary_ms(started)}
            log(f"latency: analyze -> first event p50 {out['analyze']['to_first_event']['p50']} ms")
            # 2. chat -> first chat.delta, minus the model's time to first token
            overhead, raw, ttfts = [], [], []
            for i in range(trials):
                n_before = len(fake.message_requests)
                ref, t0 = await sock.send({"op": "chat", "message": f"Is the timeline complete? ({i})"})
                await sock.wait(lambda: ref in sock.replies, 30)
                reply = sock.replies[ref][1]
                if not reply.get("ok"):
                    raise RuntimeError(f"chat failed: {reply}")
                job_id = reply["data"]["job_id"]
                answer_id = reply["data"]["message_id"] + ".a"
                t1, _ = await sock.wait(lambda: sock.find("chat.delta", message_id=answer_id), 60)
                await sock.wait(lambda: sock.find("job.completed", job_id=job_id) or
                                sock.find("job.failed", job_id=job_id), 60)
                reqs = [r for r in fake.message_requests[n_before:] if r.time_to_first_token is not None]
                if not reqs:
                    continue
                ttft = reqs[0].time_to_first_token
                raw.append((t1 - t0) / 1e9)
                ttfts.append(ttft)
                overhead.append((t1 - t0) / 1e9 - ttft)
                await asyncio.sleep(0.05 + random.random() * 0.05)
            out["chat"] = {"to_first_delta": summary_ms(raw), "model_ttft": summary_ms(ttfts),
                           "overhead": summary_ms(overhead)}
            log(f"latency: chat overhead p50 {out['chat']['overhead']['p50']} ms")
        finally:
            if sock:
                await sock.close()
            worker.stop()
            server.stop()
            fake.stop()
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="analyze -> first event; chat relay overhead")
    ap.add_argument("--trials", type=int)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default="latency")
    args = ap.parse_args(argv)
    use_uvloop()
    write_result(args.out, asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
