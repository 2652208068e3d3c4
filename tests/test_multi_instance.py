"""Beyond one machine: two `redline serve --no-worker` and two `redline worker` on one Redis."""

from __future__ import annotations

import asyncio
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from redline.jobs.redis_server import find_redis_binary, free_port
from tests.client import ResilientClient, until, Socket, upload
from tests.conftest import start_server, start_worker

pytestmark = pytest.mark.slow


@pytest.fixture
def fleet(own_redis_url, tmp_path):
    env = dict(REDLINE_OFFLINE_PACE_MS="150")
    a, url_a = start_server(own_redis_url, tmp_path, worker=False)
    b, url_b = start_server(own_redis_url, tmp_path, worker=False)
    w1 = start_worker(own_redis_url, tmp_path, "w1", REDLINE_WORKER_CONCURRENCY="1", **env)
    w2 = start_worker(own_redis_url, tmp_path, "w2", REDLINE_WORKER_CONCURRENCY="1", **env)
    procs = {"a": a, "b": b, "w1": w1, "w2": w2}
    yield procs, url_a, url_b
    for p in procs.values():
        p.stop()


async def test_two_servers_two_workers_one_review(fleet):
    procs, url_a, url_b = fleet
    review = await upload(url_b)
    rid, token = review["review_id"], review["token"]
    on_a = await Socket(url_a, rid, token, "ann").connect()
    on_b = await Socket(url_b, rid, token, "bob").connect()
    # presence counts viewers across instances
    for s in (on_a, on_b):
        await s.wait_for(lambda s=s: s.presence and sorted(v["name"] for v in s.presence[-1]["viewers"]) == ["ann", "bob"])

    jobs = (await on_b.request({"op": "analyze"}))["data"]["jobs"]  # enqueued through B
    ids = [j["job_id"] for j in jobs]
    # cancel, sent to A, stops a job that a worker is running
    started = await on_a.wait_for(lambda: next((e for e in on_a.events if e["kind"] == "job.started"), None))
    running = started["data"]["job_id"]
    reply = await on_a.request({"op": "cancel", "job_id": running})
    assert reply["ok"] and reply["data"]["status"] == "cancelled"
    await on_b.wait_for(lambda: on_b.terminal(running))
    assert [e["kind"] for e in on_b.terminal(running)] == ["job.cancelled"]

    await on_a.wait_for(lambda: all(on_a.terminal(j) for j in ids), 60)
    await on_b.wait_for(lambda: all(on_b.terminal(j) for j in ids), 60)
    assert [e["id"] for e in on_a.events] == [e["id"] for e in on_b.events], "the same events in the same order"
    cut = next(i for i, e in enumerate(on_a.events) if e["kind"] == "job.cancelled")
    assert not [e for e in on_a.events[cut + 1:] if running in (e["data"].get("job_id"),
                                                                 e["data"].get("item", {}).get("job_id"))], \
        "the worker running it stopped: nothing of the job after job.cancelled"
    workers = {e["data"]["worker"] for e in on_a.events if e["kind"] == "job.started"}
    assert len(workers) == 2, "both workers took jobs"
    assert len([j for j in ids if on_a.terminal(j)[0]["kind"] == "job.completed"]) == len(ids) - 1
    for s in (on_a, on_b):
        await s.close()


async def test_killing_one_instance_moves_its_clients_to_the_other_without_loss(fleet, own_redis_url, reliability):
    from redis.asyncio import Redis

    procs, url_a, url_b = fleet
    review = await upload(url_a)
    rid, token = review["review_id"], review["token"]
    stop = asyncio.Event()
    clients = [ResilientClient([url_a, url_b], rid, token, f"r{i}") for i in range(10)]
    tasks = [asyncio.create_task(c.run(stop)) for c in clients]
    redis = Redis.from_url(own_redis_url)
    try:
        await until(lambda: all(c.live for c in clients))
        async with httpx.AsyncClient(base_url=url_b, headers={"Authorization": f"Bearer {token}"}) as http:
            assert (await http.post(f"/api/reviews/{rid}/analyze", json={})).status_code == 202
        await until(lambda: all(len(c.applied) > 5 for c in clients))
        procs["a"].kill()  # every client was on A: they move to B
        await until(lambda: all(c.live and c.url.startswith(url_b.replace("http", "ws")) for c in clients), 30)
        log: list[str] = []

        async def read_log() -> list[bytes]:
            """The review's log in ONE read (two reads could straddle an append), ids kept in `log`."""
            nonlocal log
            entries = await redis.xrange(f"rl:{{{rid}}}:events")
            log = [e[0].decode() for e in entries]
            return [e[1][b"k"] for e in entries]

        for _ in range(600):
            kinds = await read_log()
            if kinds.count(b"job.completed") + kinds.count(b"job.failed") + kinds.count(b"job.cancelled") \
                    == len(review["sections"]):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the review's jobs did not all end within 60 s")
        # Every client holds the log's last event, the log read afresh each time: a copy read a moment
        # too early leaves the clients "ahead" of it, not behind.
        for _ in range(300):
            await read_log()
            if all(c.last == log[-1] for c in clients):
                break
            await asyncio.sleep(0.1)
        else:
            behind = {c.name: (log.index(c.last) if c.last in log else c.last, c.live, c.url, c.connects)
                      for c in clients if c.last != log[-1]}
            raise AssertionError(f"clients short of the log's last event ({len(log) - 1}): {behind}")
        for c in clients:
            expected = log[log.index(c.start_id) + 1:] if c.start_id else log
            assert c.applied == expected and c.duplicates == 0 and c.gaps == 0
        reliability("One of two server instances killed (-9)", "1 kill, 10 clients",
                    "every client moved to the other instance; 0 lost, 0 twice")
    finally:
        stop.set()
        for c in clients:
            c.drop()
        await asyncio.gather(*tasks, return_exceptions=True)
        await redis.aclose()


async def test_redis_behind_sentinel(tmp_path, redis_server):
    from redline.jobs.redis_server import EmbeddedRedis

    master = EmbeddedRedis(tmp_path / "master").start()
    port = free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {port}\nbind 127.0.0.1\nsentinel monitor main 127.0.0.1 {master.port} 1\n"
                    "sentinel down-after-milliseconds main 2000\n")
    sentinel = subprocess.Popen([find_redis_binary(), str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        import redis as redis_sync

        probe = redis_sync.Redis(port=port, socket_connect_timeout=1)
        for _ in range(100):  # the sentinel answers and knows the master
            try:
                if probe.execute_command("SENTINEL", "get-master-addr-by-name", "main"):
                    break
            except redis_sync.ConnectionError:
                pass
            time.sleep(0.05)
        probe.close()
        url = f"redis+sentinel://127.0.0.1:{port}/main/0"
        proc, base = start_server(url, tmp_path)
        try:
            review = await upload(base)
            sock = await Socket(base, review["review_id"], review["token"]).connect()
            job = (await sock.request({"op": "analyze", "sections": ["s1"]}))["data"]["jobs"][0]["job_id"]
            await sock.wait_for(lambda: sock.terminal(job), 30)
            assert sock.terminal(job)[0]["kind"] == "job.completed"
            await sock.close()
        finally:
            proc.stop()
    finally:
        sentinel.terminate()
        sentinel.wait()
        master.stop()
