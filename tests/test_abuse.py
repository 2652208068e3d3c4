"""Abuse and ownership (issue 12): one data folder per server, a busy port, the embedded Redis'
password, the model test route, per-client limits across HTTP and websocket, sockets that read
nothing, oversized frames, and hostile names and text. What a user or an attacker would notice."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import stat
import time
from pathlib import Path

import httpx
import pytest
import redis as redis_sync
import websockets

from redline.jobs.redis_server import DataDirLock, DataDirBusy
from tests.client import Socket, StalledSocket, metric, upload, ws_url
from tests.conftest import Proc, base_env, free_port, start_server, wait_http
from tests.samples import big_document


# ------------------------------------------------------------- A: one owner ---
def embedded_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """`redline serve` with no REDIS_URL: it starts (and owns) its private Redis."""
    env = base_env("", REDLINE_DATA_DIR=str(data_dir), **extra)
    env.pop("REDIS_URL")
    return env


def start_embedded(data_dir: Path, log: Path, port: int | None = None) -> tuple[Proc, str]:
    port = port or free_port()
    proc = Proc(["serve", "--host", "127.0.0.1", "--port", str(port)], embedded_env(data_dir), log)
    url = f"http://127.0.0.1:{port}"
    wait_http(url + "/healthz", proc)
    return proc, url


def wait_exit(proc: Proc, timeout: float = 20) -> int:
    return proc.p.wait(timeout)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def redis_pid(data_dir: Path) -> int:
    return int((data_dir / "redis" / "redis.pid").read_text().strip())


def wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while pid_alive(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


async def test_a_second_serve_on_a_busy_data_folder_is_refused_and_the_first_keeps_working(tmp_path, reliability):
    data = tmp_path / "data"
    first, base = start_embedded(data, tmp_path / "first.log")
    try:
        review = await upload(base)
        rpid = redis_pid(data)
        second = Proc(["serve", "--host", "127.0.0.1", "--port", str(free_port())], embedded_env(data),
                      tmp_path / "second.log")
        rc = wait_exit(second)
        second.stop()
        assert rc != 0
        out = second.output()
        assert "in use by another Redline process" in out and f"pid {first.p.pid}" in out
        # The first server and its Redis are untouched: reviews still open, uploads still work.
        assert pid_alive(rpid)
        async with httpx.AsyncClient(base_url=base) as http:
            r = await http.get(f"/api/reviews/{review['review_id']}", params={"token": review["token"]})
            assert r.status_code == 200 and r.json()["review_id"] == review["review_id"]
        await upload(base)
        reliability("a second `redline serve` on the same data folder", "2 servers, one folder",
                    "the second exits non-zero naming the owner; the first keeps serving")
    finally:
        assert first.stop() == 0
    assert wait_gone(rpid), "SIGTERM stopped the server but left its Redis running"
    DataDirLock(data / "redis").acquire().release()  # the folder is free again


async def test_a_busy_port_exits_at_once_and_leaves_nothing_running(tmp_path):
    data = tmp_path / "data"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        started = time.monotonic()
        proc = Proc(["serve", "--host", "127.0.0.1", "--port", str(port)], embedded_env(data), tmp_path / "s.log")
        rc = wait_exit(proc)
        took = time.monotonic() - started
        proc.stop()
    assert rc != 0 and took < 10
    assert f"cannot listen on 127.0.0.1:{port}" in proc.output()
    assert not (data / "redis" / "redis.pid").exists()  # no Redis was started, so none is left
    DataDirLock(data / "redis").acquire().release()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_sigterm_and_ctrl_c_stop_the_server_and_its_redis(tmp_path, sig):
    data = tmp_path / "data"
    proc, base = start_embedded(data, tmp_path / "s.log")
    rpid = redis_pid(data)
    proc.p.send_signal(sig)
    assert wait_exit(proc, 15) == 0
    proc.stop()
    assert wait_gone(rpid)
    with pytest.raises(httpx.HTTPError):
        httpx.get(base + "/healthz", timeout=1)


async def test_a_the_embedded_redis_needs_its_generated_password(tmp_path):
    data = tmp_path / "data"
    proc, base = start_embedded(data, tmp_path / "s.log")
    try:
        pw_file = data / "redis" / "redis.password"
        assert stat.S_IMODE(pw_file.stat().st_mode) == 0o600
        assert stat.S_IMODE((data / "redis").stat().st_mode) == 0o700
        password = pw_file.read_text().strip()
        assert len(password) >= 32
        port = int(re.search(r"redis://127\.0\.0\.1:(\d+)/0", proc.output())[1])
        assert password not in proc.output()  # never printed
        assert password.encode() not in Path(f"/proc/{redis_pid(data)}/cmdline").read_bytes()
        anon = redis_sync.Redis(port=port)
        with pytest.raises(redis_sync.AuthenticationError):
            anon.keys("*")
        anon.close()
        review = await upload(base)
        owner = redis_sync.Redis(port=port, password=password)
        assert owner.exists(f"rl:{{{review['review_id']}}}:meta") or owner.keys(f"rl:{{{review['review_id']}}}:*")
        owner.close()
    finally:
        assert proc.stop() == 0


async def test_a_after_a_crash_the_next_serve_takes_the_folder_and_its_data(tmp_path):
    """kill -9 leaves the Redis behind (its own session) but not the lock (the kernel drops it):
    the next `serve` owns the folder, stops that orphan and finds every review."""
    data = tmp_path / "data"
    first, base = start_embedded(data, tmp_path / "first.log")
    review = await upload(base)
    orphan = redis_pid(data)
    first.kill()
    first.stop()
    assert pid_alive(orphan)
    second, base2 = start_embedded(data, tmp_path / "second.log")
    try:
        assert wait_gone(orphan)
        async with httpx.AsyncClient(base_url=base2) as http:
            r = await http.get(f"/api/reviews/{review['review_id']}", params={"token": review["token"]})
            assert r.status_code == 200
    finally:
        assert second.stop() == 0


def test_a_the_lock_is_exclusive_and_released(tmp_path):
    lock = DataDirLock(tmp_path).acquire()
    with pytest.raises(DataDirBusy):
        DataDirLock(tmp_path).acquire()
    lock.release()
    DataDirLock(tmp_path).acquire().release()


# ------------------------------------------------------------ B: model test ---
async def test_b_model_test_needs_the_admin_token_is_rate_limited_and_leaves_no_lasting_review(own_redis_url, tmp_path,
                                                                                             reliability):
    proc, base = start_server(own_redis_url, tmp_path, REDLINE_ADMIN_TOKEN="admin-secret-123",
                              REDLINE_RATE_LLM_TEST_PER_MIN="3", REDLINE_LLM_TEST_PROBE_TTL_S="120")
    r = redis_sync.Redis.from_url(own_redis_url)
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                denied = await http.post("/api/llm/test", headers=headers)
                assert denied.status_code == 401 and denied.json()["error"]["code"] == "unauthorized"
            assert not r.keys("rl:{*}:review")  # a refused call made nothing
            admin = {"Authorization": "Bearer admin-secret-123"}
            ok = await http.post("/api/llm/test", headers=admin)
            assert ok.status_code == 202, ok.text
            body = ok.json()
            assert body["expires_in_s"] == 120
            limited = await http.post("/api/llm/test", headers=admin)
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
            assert limited.json()["error"]["code"] == "rate_limited"
            # Once over the rate, the next call is refused before any request handling: the same answer.
            again = await http.post("/api/llm/test", headers={**admin, "X-Request-ID": "flood-1"},
                                    content=b'{"padding": "' + b"x" * 200_000 + b'"}')
            assert again.status_code == 429 and again.json()["error"]["code"] == "rate_limited"
            assert again.headers["x-request-id"] == "flood-1" and int(again.headers["retry-after"]) >= 1
            sock = await Socket(base, body["review_id"], body["token"]).connect()
            if not [j for j in sock.welcome["review"]["jobs"] if j["status"] == "complete"]:
                await sock.wait_for(lambda: sock.terminal(body["job_id"]))
            await sock.close()
            job = (await http.get(f"/api/jobs/{body['job_id']}", params={"token": body["token"]})).json()
            assert job["status"] == "complete" and job["result"]["ok"] is True
        rid = body["review_id"]
        keys = r.keys(f"rl:{{{rid}}}:*")
        assert keys
        ttls = {k.decode(): r.ttl(k) for k in keys if not k.endswith(b":presence")}
        assert all(0 < t <= 120 for t in ttls.values()), ttls  # every key of the probe goes away
        assert r.zscore("rl:reviews", rid) is None
        reliability("`POST /api/llm/test` without a token, then in a burst", "2 refused + 2 calls",
                    "401 without the admin token; 429 with Retry-After over the rate; the probe review expires")
    finally:
        r.close()
        proc.stop()


# ---------------------------------------------- C: limits across HTTP and websocket ---
async def test_c_chat_and_decide_limits_are_per_client_across_http_and_websocket(own_redis_url, tmp_path, reliability):
    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_RATE_CHAT_PER_MIN="6",
                              REDLINE_RATE_DECIDE_PER_MIN="3")
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        socks = [await Socket(base, rid, token, f"s{i}").connect() for i in range(3)]
        replies = [await s.request({"op": "chat", "message": f"question {i}"}) for i in range(2) for s in socks]
        accepted = [x for x in replies if x["ok"]]
        refused = [x for x in replies if not x["ok"]]
        assert len(accepted) == 2, replies  # a burst of 6 // 3 for the whole client, not per socket
        assert all(x["error"]["code"] == "rate_limited" and "try again" in x["error"]["message"] for x in refused)
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            r = await http.post(f"/api/reviews/{rid}/chat", json={"message": "and over HTTP?"})
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            item = (await http.post(f"/api/reviews/{rid}/items", json={"section_id": "s1", "description": "x"})).json()
            first = await http.post(f"/api/reviews/{rid}/items/{item['item']['id']}/decision",
                                    json={"decision": "rejected"})
            assert first.status_code == 200
        over = await socks[0].request({"op": "decide", "item_id": item["item"]["id"], "decision": "accepted"})
        assert not over["ok"] and over["error"]["code"] == "rate_limited"
        for s in socks:
            await s.close()
        reliability("chats from 3 sockets and HTTP of one client", "6 socket chats + 1 HTTP chat, 2 decisions",
                    "one limit for the client: 2 chats accepted, the rest rate_limited / 429")
    finally:
        proc.stop()


async def test_c_sockets_per_client_are_capped_with_a_429_before_the_upgrade(own_redis_url, tmp_path):
    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_WS_MAX_PER_CLIENT="3")
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        socks = [await Socket(base, rid, token, f"s{i}").connect() for i in range(3)]
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(ws_url(base, rid, token))
        assert refused.value.response.status_code == 429
        assert b"too_many_sockets" in refused.value.response.body
        await socks[0].close()

        async def reconnect() -> Socket:  # the server lets go of the closed one's place as it ends
            while True:
                try:
                    return await Socket(base, rid, token, "again").connect()
                except websockets.InvalidStatus:
                    await asyncio.sleep(0.05)

        again = await asyncio.wait_for(reconnect(), 10)
        assert again.welcome["type"] == "welcome"
        for s in [again, *socks[1:]]:
            await s.close()
    finally:
        proc.stop()


# ------------------------------------------------------ D: clients that never read ---
async def hello_and_never_read(base: str, rid: str, token: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket that sends its hello and then reads nothing, with a tiny receive buffer."""
    import base64

    host, port = base.split("//")[1].split(":")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /ws/reviews/{rid}?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
    await reader.readuntil(b"\r\n\r\n")
    StalledSocket(reader, writer).send_text('{"op": "hello", "last_event_id": null}')
    return reader, writer


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def test_d_sockets_that_never_read_pin_no_snapshot_and_are_dropped(own_redis_url, tmp_path, reliability):
    from redline.jobs.keys import ReviewKeys
    from redline.jobs.models import Section

    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_WS_SEND_TIMEOUT_S="3")
    r = redis_sync.Redis.from_url(own_redis_url)
    try:
        review = await upload(base, filename="big.md", data=big_document(1.5).encode())
        rid, token = review["review_id"], review["token"]
        # An 8 MB review (more than a connection's kernel buffers hold, which would take a smaller
        # welcome off the server's hands): sections added as a longer upload would have made them.
        text = big_document(1.6)
        extra = {f"x{i}": Section(id=f"x{i}", title=f"Appendix {i}", index=1000 + i, text=text).model_dump_json()
                 for i in range(4)}
        r.hset(ReviewKeys(rid).sections, mapping=extra)
        r.close()
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            snap_mb = len((await http.get(f"/api/reviews/{rid}", params={"token": token})).content) / 1e6
            closes_before = metric((await http.get("/metrics")).text, "redline_slow_client_closes_total")
        assert snap_mb > 7  # more than the kernel buffers of a connection hold
        before = rss_mb(proc.p.pid)
        stalled = [await hello_and_never_read(base, rid, token) for _ in range(20)]
        # Readers on the same review get the whole snapshot, compressed or not, meanwhile.
        for compression in ("deflate", None):
            ok = await Socket(base, rid, token, compression=compression).connect()
            assert len(ok.welcome["review"]["sections"]) == len(review["sections"]) + 4
            await ok.close()
        grown = rss_mb(proc.p.pid) - before
        # Before the fix each such socket held ~3 copies of the snapshot (20 sockets: ~60 snapshots);
        # now a piece of it each (the growth is mostly the snapshots made meanwhile, not yet trimmed).
        assert grown < 20 * snap_mb, f"server grew {grown:.0f} MB for 20 idle sockets on a {snap_mb:.1f} MB review"

        # Not read within REDLINE_WS_SEND_TIMEOUT_S: the server drops them (counted as slow closes).
        async def slow_closes() -> float:
            async with httpx.AsyncClient(base_url=base) as http:
                while (n := metric((await http.get("/metrics")).text, "redline_slow_client_closes_total")) \
                        < closes_before + 20:
                    await asyncio.sleep(0.1)
                return n

        assert await asyncio.wait_for(slow_closes(), 30) == closes_before + 20

        async def dropped(reader: asyncio.StreamReader) -> int:
            n = 0
            try:
                while data := await reader.read(1 << 16):
                    n += len(data)
            except ConnectionError:
                pass
            return n

        # Each finds its connection ended after part of the welcome (a cut frame: no close frame).
        got = await asyncio.wait_for(asyncio.gather(*(dropped(r) for r, _ in stalled)), 30)
        assert all(n < snap_mb * 1e6 for n in got)
        for _, w in stalled:
            w.close()
        reliability("20 sockets send hello on an 8 MB review and never read", "20 sockets",
                    f"server grew {grown:.0f} MB (was ~3 snapshots per socket); all dropped after the "
                    "send timeout")
    finally:
        proc.stop()


async def test_d_the_queue_is_bounded_in_bytes_as_well_as_frames(own_redis_url, tmp_path):
    from redis.asyncio import Redis

    from redline.jobs.events import Publisher

    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_WS_QUEUE_MAX="100000",
                              REDLINE_WS_QUEUE_MAX_BYTES="300000")
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        fast = await Socket(base, rid, token, "fast").connect()
        slow = await StalledSocket.open(base, rid, token)
        redis = Redis.from_url(own_redis_url)
        pub = Publisher(redis)
        n = 2000  # 2000 frames of 4 kB (8 MB, past the socket buffers): far under 100,000 frames, over 300 kB
        for i in range(n):
            await pub.publish(rid, "job.progress", {"job_id": f"{rid}.load", "progress": 0.5, "message": "y" * 4000,
                                                    "i": i})
        await fast.wait_for(lambda: len([e for e in fast.events if e["kind"] == "job.progress"]) == n, 60)
        assert await asyncio.wait_for(slow.close_code(), 30) == 4408
        await redis.aclose()
        await fast.close()
    finally:
        proc.stop()


# ------------------------------------------------------------ E: oversized frames ---
async def test_e_an_oversized_frame_is_closed_with_1009_at_once(server, reliability):
    review = await upload(server)
    for _ in range(10):  # it was late ~4 times in 10 (until the next ping, 20 s)
        sock = await Socket(server, review["review_id"], review["token"], compression=None).connect()
        started = time.monotonic()
        await sock.ws.send("x" * 300_000)
        code, _ = await sock.wait_closed(15)
        assert code == 1009 and time.monotonic() - started < 10  # not at the next ping (20 s)
        await sock.close()
    reliability("a 300 kB websocket frame (limit 64 kB)", "10 sockets",
                "each closed with 1009 at once, not at the next ping (20 s)")


# ------------------------------------------------------------------- F: smaller ---
async def test_f_deleting_a_review_while_jobs_run_leaves_no_key_behind(own_redis_url, tmp_path, reliability):
    from redis.asyncio import Redis

    from redline.jobs.events import Publisher

    proc, base = start_server(own_redis_url, tmp_path)
    r = redis_sync.Redis.from_url(own_redis_url)
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        sock = await Socket(base, rid, token).connect()
        assert (await sock.request({"op": "analyze"}))["ok"]
        for i in range(5):
            assert (await sock.request({"op": "chat", "message": f"What happened at step {i}?"}))["ok"]
        await sock.wait_for(lambda: "job.started" in sock.kinds())  # jobs are running
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            assert (await http.delete(f"/api/reviews/{rid}")).status_code == 200
            assert (await sock.wait_closed())[0] == 4404

            async def idle() -> None:  # every job of the review has stopped
                while True:
                    q = (await http.get("/api/queues")).json()["queues"]
                    if all(v["queued"] == 0 and v["active"] == 0 for v in q.values()):
                        return
                    await asyncio.sleep(0.05)

            await asyncio.wait_for(idle(), 30)
        assert r.keys(f"rl:{{{rid}}}:*") == []
        # An event of a deleted review (a job's last words) writes nothing.
        redis = Redis.from_url(own_redis_url)
        pub = await Publisher(redis).publish(rid, "chat.delta", {"message_id": "m1", "text": "late"})
        await redis.aclose()
        assert not pub.ok and pub.reason == "no review"
        assert r.keys(f"rl:{{{rid}}}:*") == []
        reliability("a review deleted while its analysis and 5 chats run", "1 review", "no key of it is left")
    finally:
        r.close()
        proc.stop()


@pytest.fixture
def private_redis(tmp_path):
    from redline.jobs.redis_server import EmbeddedRedis

    red = EmbeddedRedis(tmp_path / "redis").start()
    yield red
    red.stop()


async def test_f_a_full_redis_answers_503_with_retry_after(private_redis, tmp_path, reliability):
    proc, base = start_server(private_redis.url, tmp_path, worker=False)
    r = redis_sync.Redis.from_url(private_redis.url)
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        sock = await Socket(base, rid, token).connect()
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
            item = (await http.post(f"/api/reviews/{rid}/items", json={"section_id": "s1", "description": "x"})).json()
            r.config_set("maxmemory", "1")  # out of memory, as with a full disk: every write is refused
            try:
                full = await http.post("/api/reviews", files={"document": ("r.md", b"# A\n\nText.")})
                decided = await http.post(f"/api/reviews/{rid}/items/{item['item']['id']}/decision",
                                          json={"decision": "rejected"})
                over_ws = await sock.request({"op": "decide", "item_id": item["item"]["id"], "decision": "rejected"})
            finally:
                r.config_set("maxmemory", "0")
            for resp in (full, decided):
                assert resp.status_code == 503, resp.text
                assert int(resp.headers["retry-after"]) >= 1 and resp.json()["error"]["code"] == "store_full"
            assert not over_ws["ok"] and over_ws["error"]["code"] == "store_full"
            again = await http.post(f"/api/reviews/{rid}/items/{item['item']['id']}/decision",
                                    json={"decision": "rejected"})
            assert again.status_code == 200
        await sock.close()
        reliability("Redis refusing writes (OOM; MISCONF takes the same path)", "upload, decision (HTTP, websocket)",
                    "503 store_full with Retry-After / an error reply; works again once Redis has room")
    finally:
        r.close()
        proc.stop()


def test_f_misconf_and_oom_are_store_refusals():
    from redis.exceptions import OutOfMemoryError, ResponseError

    from redline.server.services import store_refused

    assert store_refused(ResponseError("MISCONF Redis is configured to save RDB snapshots, but it's "
                                       "currently unable to persist to disk."))
    assert store_refused(OutOfMemoryError("command not allowed when used memory > 'maxmemory'."))
    assert not store_refused(ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"))


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


async def test_f_bidi_controls_are_removed_from_titles_names_and_text(server):
    doc = f"# Time{BIDI}line\n\nThe pump \u202estarted\u202c at 10:00 and stopped at 10:05.\n".encode()
    review = await upload(server, filename="r.md", data=doc, title=f"Pump \u202efailure\u2069 report")
    rid, token = review["review_id"], review["token"]
    assert review["title"] == "Pump failure report"
    sock = await Socket(server, rid, token, name=f"Ann\u202e nnA").connect()
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}) as http:
        chat = await http.post(f"/api/reviews/{rid}/chat", json={"message": "Why?", "author": f"Bo\u2066b"})
        assert chat.status_code == 202
        snap = (await http.get(f"/api/reviews/{rid}")).json()
    assert not any(c in BIDI for c in snap["title"] + "".join(s["title"] + s["text"] for s in snap["sections"]))
    await sock.wait_for(lambda: any(e["kind"] == "chat.message" for e in sock.events))
    assert next(e for e in sock.events if e["kind"] == "chat.message")["data"]["author"] == "Bob"
    await sock.wait_for(lambda: sock.presence)
    assert {v["name"] for v in sock.presence[-1]["viewers"]} == {"Ann nnA"}
    await sock.close()


async def test_f_names_are_capped(server):
    review = await upload(server)
    rid, token = review["review_id"], review["token"]
    sock = await Socket(server, rid, token).connect()
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}) as http:
        ok = await http.post(f"/api/reviews/{rid}/chat", json={"message": "Why?", "author": "a" * 300})
        assert ok.status_code == 202
        for path, body in ((f"/api/reviews/{rid}/chat", {"message": "Why?", "author": "a" * 5000}),
                           (f"/api/reviews/{rid}/items/none/decision", {"decision": "accepted", "by": "b" * 5000})):
            r = await http.post(path, json=body)
            assert r.status_code == 400 and r.json()["error"]["code"] == "name_too_long"
    await sock.wait_for(lambda: any(e["kind"] == "chat.message" for e in sock.events))
    assert next(e for e in sock.events if e["kind"] == "chat.message")["data"]["author"] == "a" * 80
    await sock.close()
    async with websockets.connect(ws_url(server, rid, token)) as ws:  # a hello name over the limit: a clear error
        await ws.send('{"op": "hello", "last_event_id": null, "ref": 1, "name": "%s"}' % ("n" * 500))
        reply = json.loads(await ws.recv())
        assert reply["type"] == "reply" and not reply["ok"] and reply["error"]["code"] == "invalid_message"
        assert "name" in reply["error"]["message"]


async def test_f_the_websocket_token_can_come_as_a_subprotocol(server):
    review = await upload(server)
    rid, token = review["review_id"], review["token"]
    url = ws_url(server, rid, None)
    async with websockets.connect(url, subprotocols=["redline", f"redline.token.{token}"]) as ws:
        assert ws.subprotocol == "redline"  # the token is not sent back
        await ws.send('{"op": "hello", "last_event_id": null}')
        assert '"welcome"' in await ws.recv()
    async with websockets.connect(url, subprotocols=["redline", "redline.token.wrong"]) as bad:
        with pytest.raises(websockets.ConnectionClosed):
            await bad.recv()
        assert bad.close_code == 4401
    async with websockets.connect(ws_url(server, rid, token)) as old:  # `?token=` as before
        await old.send('{"op": "hello", "last_event_id": null}')
        assert '"welcome"' in await old.recv()
