"""Faults: Redis restarts, server and worker shutdowns, slow clients, lost pub/sub messages.

A reviewer must never lose a decision, see an event twice, or watch a job that never ends."""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest
import redis as redis_sync

from redline.jobs.events import Publisher
from redline.jobs.redis_server import EmbeddedRedis
from tests.client import Socket, StalledSocket, upload
from tests.conftest import start_server, start_worker


@pytest.fixture
def own_redis(tmp_path):
    r = EmbeddedRedis(tmp_path / "redis").start()
    yield r
    r.stop()


async def test_redis_restart_degrades_then_recovers_without_losing_decisions(own_redis, tmp_path, reliability):
    proc, base = start_server(own_redis.url, tmp_path, worker=False)
    worker = start_worker(own_redis.url, tmp_path)
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        sock = await Socket(base, rid, token).connect()
        job = (await sock.request({"op": "analyze", "sections": ["s1"]}))["data"]["jobs"][0]["job_id"]
        await sock.wait_for(lambda: sock.terminal(job))
        item = next(e["data"]["item"] for e in sock.events if e["kind"] == "item.added")
        assert (await sock.request({"op": "decide", "item_id": item["id"], "decision": "accepted"}))["ok"]

        own_redis.stop()  # a Redis restart (SIGTERM: the append-only file is flushed)
        await sock.wait_for(lambda: any(f["type"] == "status" and f["state"] == "degraded" for f in sock.frames))
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            r = await http.get(f"/api/reviews/{rid}")
            assert r.status_code == 503
            assert r.json()["error"]["code"] == "service_unavailable" and "Redis" in r.json()["error"]["message"]
            down = await sock.request({"op": "analyze", "sections": ["s2"]})
            assert not down["ok"] and down["error"]["code"] == "unavailable"

            own_redis.start()
            await sock.wait_for(lambda: any(f["type"] == "status" and f["state"] == "ok" for f in sock.frames), 30)
            snap = (await http.get(f"/api/reviews/{rid}")).json()
            assert next(i for i in snap["items"] if i["id"] == item["id"])["decision"] == "accepted"
            assert snap["last_event_id"] == sock.events[-1]["id"]
        # Workers reconnected by themselves: a new job runs to its end, live on the same socket.
        again = await sock.request({"op": "analyze", "sections": ["s2"]})
        assert again["ok"], again
        job2 = again["data"]["jobs"][0]["job_id"]
        await sock.wait_for(lambda: sock.terminal(job2), 30)
        assert [e["kind"] for e in sock.terminal(job2)] == ["job.completed"]
        ids = [e["id"] for e in sock.events]
        assert len(ids) == len(set(ids))
        reliability("Redis restarted (SIGTERM, append-only file) under a live review", "1 restart",
                    "sockets told degraded, then ok; HTTP 503 while down; 0 of 1 acknowledged decisions lost; "
                    "workers resumed by themselves; 0 duplicated events")
        await sock.close()
    finally:
        worker.stop()
        proc.stop()
    # No log storm while Redis was down.
    assert worker.output().count("\n") < 60, worker.output()[-3000:]
    assert proc.output().count("\n") < 60, proc.output()[-3000:]


async def test_sigterm_on_the_server_closes_sockets_with_1001(redis_url, tmp_path, reliability):
    proc, base = start_server(redis_url, tmp_path, worker=False)
    review = await upload(base)
    sock = await Socket(base, review["review_id"], review["token"]).connect()
    proc.p.send_signal(signal.SIGTERM)
    code, _ = await sock.wait_closed(10)
    assert code == 1001
    assert proc.p.wait(10) == 0
    reliability("SIGTERM on a server", "1", "sockets closed with 1001, exit code 0")


def _append_unpublished(redis_url: str, rid: str) -> str:
    """Append an event to the review's log WITHOUT publishing it, as if its pub/sub message were lost."""
    r = redis_sync.Redis.from_url(redis_url)
    prev = (r.get(f"rl:{{{rid}}}:last") or b"").decode()
    lost = r.xadd(f"rl:{{{rid}}}:events", {"k": "chat.message", "p": prev,
                                            "d": b'{"message_id":"lost","role":"user","text":"hello"}'}).decode()
    r.set(f"rl:{{{rid}}}:last", lost)
    r.close()
    return lost


async def test_a_lost_last_message_still_arrives(server, redis_url, reliability):
    """A lost LAST message has no next frame to reveal it: the server compares the review's log with
    what it relayed and catches its sockets up."""
    review = await upload(server)
    rid = review["review_id"]
    sock = await Socket(server, rid, review["token"]).connect()
    lost = _append_unpublished(redis_url, rid)
    await sock.wait_for(lambda: sock.events, 15)
    assert [e["id"] for e in sock.events] == [lost] and sock.events[0]["data"]["text"] == "hello"
    reliability("The last pub/sub message of a review lost", "1", "it arrives from the log within two checks")
    await sock.close()


async def test_a_lost_pubsub_message_is_filled_from_the_log(server, redis_url, reliability):
    """A frame names its predecessor: a socket that missed one (pub/sub is at-most-once) catches up."""
    review = await upload(server)
    rid = review["review_id"]
    sock = await Socket(server, rid, review["token"]).connect()
    lost = _append_unpublished(redis_url, rid)
    ok = await sock.request({"op": "chat", "message": "What happened?"})
    assert ok["ok"]
    await sock.wait_for(lambda: sock.terminal(ok["data"]["job_id"]))
    assert sock.events[0]["id"] == lost and sock.events[0]["data"]["message_id"] == "lost"
    assert sock.events[1]["prev"] == lost
    ids = [e["id"] for e in sock.events]
    assert len(ids) == len(set(ids))
    reliability("A pub/sub message lost on its way to a server", "1", "the gap is filled from the log; 0 duplicates")
    await sock.close()


async def test_a_socket_that_stops_reading_is_closed_with_4408_and_others_keep_up(own_redis_url, tmp_path, reliability):
    from redis.asyncio import Redis

    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_WS_QUEUE_MAX="500")
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        fast = await Socket(base, rid, token, "fast").connect()
        slow = await StalledSocket.open(base, rid, token)
        redis = Redis.from_url(own_redis_url)
        pub = Publisher(redis)
        pad = "x" * 2000
        n = 4000
        for i in range(n):
            await pub.publish(rid, "job.progress", {"job_id": f"{rid}.load", "progress": 0.5, "message": pad, "i": i})
        await fast.wait_for(lambda: len([e for e in fast.events if e["kind"] == "job.progress"]) == n, 60)
        assert [e["data"]["i"] for e in fast.events if e["kind"] == "job.progress"] == list(range(n))
        # Reading again, the stalled client finds the close frame with 4408 after what was sent.
        assert await asyncio.wait_for(slow.close_code(), 30) == 4408
        reliability("A socket that stops reading (frozen tab)", f"{n} events of 2 kB",
                    f"closed with 4408 past 500 queued frames; the other socket got {n}/{n} in order")
        await redis.aclose()
        await fast.close()
    finally:
        proc.stop()


async def test_a_socket_that_pauses_reading_then_resumes_gets_every_event_in_order(own_redis_url, tmp_path):
    """Sends that must wait for the client to drain (a tab in the background, a slow link) are
    finished by the socket's writer, and what comes meanwhile queues behind them."""
    import json

    from redis.asyncio import Redis

    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_WS_QUEUE_MAX="5000")
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        paused = await StalledSocket.open(base, rid, token)
        redis = Redis.from_url(own_redis_url)
        pub = Publisher(redis)
        n = 3000  # 9 MB: far past the socket buffers, so sends wait for the client
        for i in range(n):
            await pub.publish(rid, "job.progress", {"job_id": f"{rid}.load", "progress": 0.5, "message": "x" * 3000,
                                                    "i": i})
        await redis.aclose()
        got: list[int] = []
        while len(got) < n:
            opcode, payload = await asyncio.wait_for(paused.next_frame(), 30)
            if opcode in (9, 10):  # the server's keep-alive pings
                continue
            assert opcode == 1, f"frame opcode {opcode} after {len(got)} events"
            frame = json.loads(payload)
            if frame.get("kind") == "job.progress":
                got.append(frame["data"]["i"])
        assert got == list(range(n))
    finally:
        proc.stop()


async def test_sigterm_on_a_worker_requeues_its_running_job(own_redis_url, tmp_path, reliability):
    proc, base = start_server(own_redis_url, tmp_path, worker=False)
    w1 = start_worker(own_redis_url, tmp_path, "w1", REDLINE_OFFLINE_PACE_MS="500", REDLINE_WORKER_SHUTDOWN_GRACE_S="0.5")
    w2 = None
    try:
        review = await upload(base)
        sock = await Socket(base, review["review_id"], review["token"]).connect()
        job = (await sock.request({"op": "analyze", "sections": ["s8"]}))["data"]["jobs"][0]["job_id"]
        await sock.wait_for(lambda: any(e["kind"] == "item.added" for e in sock.events))
        w1.p.send_signal(signal.SIGTERM)
        assert w1.p.wait(15) == 0, w1.output()[-2000:]
        assert not sock.terminal(job), "the job was not finished by the stopping worker"
        w2 = start_worker(own_redis_url, tmp_path, "w2", REDLINE_OFFLINE_PACE_MS="20")
        await sock.wait_for(lambda: sock.terminal(job), 30)
        assert [e["kind"] for e in sock.terminal(job)] == ["job.completed"]
        assert [e["data"]["attempt"] for e in sock.events if e["kind"] == "job.started"] == [1, 2]
        async with httpx.AsyncClient(base_url=base) as http:
            queues = (await http.get("/api/queues")).json()["queues"]
        assert all(q["active"] == 0 for q in queues.values()), "nothing is left active"
        reliability("SIGTERM on a worker mid-job (grace 0.5 s)", "1",
                    "the running job was re-queued and completed by another worker; nothing left active")
        await sock.close()
    finally:
        for p in (w1, w2, proc):
            if p:
                p.stop()
