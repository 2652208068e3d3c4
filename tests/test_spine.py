"""The live review spine, end to end: upload -> SAQ jobs -> Redis event log -> websocket.

Real `redline serve` processes, a real Redis, real sockets."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from redline.jobs.events import REQUIRED_FIELDS, id_key
from tests.client import Socket, upload
from tests.conftest import fresh_db, release_db, start_server, start_worker
from tests import samples

TERMINAL = ("job.completed", "job.failed", "job.cancelled")


def assert_well_formed(events: list[dict]) -> None:
    ids = [id_key(e["id"]) for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), "event ids must strictly increase"
    for e in events:
        missing = [f for f in REQUIRED_FIELDS[e["kind"]] if f not in e["data"]]
        assert not missing, f"{e['kind']} lacks {missing}"


def jobs_done(sock: Socket, job_ids: list[str]) -> bool:
    return all(sock.terminal(j) for j in job_ids)


async def analyze_all(sock: Socket) -> list[str]:
    reply = await sock.request({"op": "analyze"})
    assert reply["ok"], reply
    return [j["job_id"] for j in reply["data"]["jobs"]]


async def test_analyze_all_over_socket(server):
    review = await upload(server)
    assert len(review["sections"]) >= 6
    sock = await Socket(server, review["review_id"], review["token"]).connect()
    assert sock.welcome["recovered"] is False
    assert [s["id"] for s in sock.welcome["review"]["sections"]] == [s["id"] for s in review["sections"]]
    job_ids = await analyze_all(sock)
    assert len(job_ids) == len(review["sections"])
    await sock.wait_for(lambda: jobs_done(sock, job_ids), timeout=60)
    assert_well_formed(sock.events)
    for j in job_ids:
        assert [e["kind"] for e in sock.terminal(j)] == ["job.completed"]
    items = [e["data"]["item"] for e in sock.events if e["kind"] == "item.added"]
    assert {i["section_id"] for i in items} == {s["id"] for s in review["sections"]}, "every section has items"
    assert all(i["source"] == "offline" and i["decision"] == "pending" for i in items)
    texts = {s["id"]: s["text"] for s in sock.welcome["review"]["sections"]}
    assert all(i["quote"] is None or i["quote"] in texts[i["section_id"]] for i in items)

    # The snapshot agrees with what the socket saw.
    async with httpx.AsyncClient(base_url=server) as http:
        snap = (await http.get(f"/api/reviews/{review['review_id']}",
                               headers={"Authorization": f"Bearer {review['token']}"})).json()
    assert [i["id"] for i in snap["items"]] == sorted([i["id"] for i in items], key=[i["id"] for i in snap["items"]].index)
    assert len(snap["items"]) == len(items)
    assert all(s["status"] == "done" for s in snap["sections"])
    assert snap["last_event_id"] == sock.events[-1]["id"]
    await sock.close()


async def test_two_sockets_see_the_same_events_in_the_same_order(server):
    review = await upload(server)
    a = await Socket(server, review["review_id"], review["token"], "ann").connect()
    b = await Socket(server, review["review_id"], review["token"], "bob").connect()
    job_ids = await analyze_all(a)
    await a.wait_for(lambda: jobs_done(a, job_ids), 60)
    await b.wait_for(lambda: jobs_done(b, job_ids), 60)
    item = next(e["data"]["item"] for e in a.events if e["kind"] == "item.added")
    reply = await b.request({"op": "decide", "item_id": item["id"], "decision": "accepted"})
    assert reply["ok"] and reply["data"]["item"]["decision"] == "accepted"
    await a.wait_for(lambda: any(e["kind"] == "item.decided" for e in a.events))
    await b.wait_for(lambda: any(e["kind"] == "item.decided" for e in b.events))
    assert [e["id"] for e in a.events] == [e["id"] for e in b.events]
    assert a.events == b.events
    decided = next(e for e in a.events if e["kind"] == "item.decided")
    at = decided["data"].pop("at")  # the decision's time, ISO 8601 UTC
    assert at.endswith("Z") and at[:4].isdigit()
    assert decided["data"] == {"item_id": item["id"], "decision": "accepted", "by": "bob"}
    # presence: both names were announced
    await a.wait_for(lambda: a.presence and {v["name"] for v in a.presence[-1]["viewers"]} == {"ann", "bob"})
    await b.close()
    await a.wait_for(lambda: [v["name"] for v in a.presence[-1]["viewers"]] == ["ann"])
    await a.close()


async def test_reconnect_replays_exactly_the_missed_events(server, redis_client):
    review = await upload(server)
    rid, token = review["review_id"], review["token"]
    watcher = await Socket(server, rid, token).connect()
    first = await Socket(server, rid, token).connect()
    jobs1 = (await first.request({"op": "analyze", "sections": ["s1"]}))["data"]["jobs"]
    await first.wait_for(lambda: first.terminal(jobs1[0]["job_id"]))
    last_seen = first.events[-1]["id"]
    await first.close()

    jobs2 = (await watcher.request({"op": "analyze", "sections": ["s2", "s3"]}))["data"]["jobs"]
    await watcher.wait_for(lambda: jobs_done(watcher, [j["job_id"] for j in jobs2]), 60)
    missed = [e for e in watcher.events if id_key(e["id"]) > id_key(last_seen)]
    assert missed

    again = await Socket(server, rid, token).connect(last_event_id=last_seen)
    assert again.welcome["recovered"] is True and "review" not in again.welcome
    await again.wait_for(lambda: len(again.events) >= len(missed))
    assert again.events == missed, "exactly the missed events, in order, no duplicates"
    # The log has exactly these after last_seen.
    entries = redis_client.xrange(f"rl:{{{rid}}}:events", min=f"({last_seen}", max="+")
    assert [e[0].decode() for e in entries] == [e["id"] for e in missed]

    # An id older than the log (trimmed away): a snapshot, never a partial replay.
    redis_client.xtrim(f"rl:{{{rid}}}:events", maxlen=1, approximate=False)
    old = await Socket(server, rid, token).connect(last_event_id=last_seen)
    assert old.welcome["recovered"] is False
    snap = old.welcome["review"]
    assert snap["last_event_id"] == watcher.events[-1]["id"]
    assert len(snap["items"]) == len([e for e in watcher.events if e["kind"] == "item.added"])
    for s in (watcher, again, old):
        await s.close()


@pytest.fixture(scope="module")
def slow_server(redis_server, tmp_path_factory):
    """One worker slot and a slow offline reviewer: jobs queue up and run long enough to cancel."""
    db = fresh_db(redis_server)
    proc, url = start_server(db, tmp_path_factory.mktemp("slow"), REDLINE_OFFLINE_PACE_MS="400",
                             REDLINE_WORKER_CONCURRENCY="1")
    yield url
    proc.stop()
    release_db(db)


async def test_cancel_running_and_queued_jobs(slow_server):
    review = await upload(slow_server)
    sock = await Socket(slow_server, review["review_id"], review["token"]).connect()
    job_ids = await analyze_all(sock)
    running, queued = job_ids[0], job_ids[-1]
    await sock.wait_for(lambda: "item.added" in [e["kind"] for e in sock.events
                                                 if e["data"].get("item", {}).get("job_id") == running])
    r1 = await sock.request({"op": "cancel", "job_id": running})
    assert r1["ok"] and r1["data"]["status"] == "cancelled"
    r2 = await sock.request({"op": "cancel", "job_id": queued})
    assert r2["ok"] and r2["data"]["status"] == "cancelled"
    # The next job starts once the cancelled one has stopped; let a few more events flow.
    await sock.wait_for(lambda: any(e["kind"] == "job.started" for e in sock.events
                                    if e["data"].get("job_id") == job_ids[1]), 20)
    await sock.wait_for(lambda: any(e["kind"] == "item.added" and e["data"]["item"]["job_id"] == job_ids[1]
                                    for e in sock.events), 20)
    cancel_all = await sock.request({"op": "cancel", "all": True})
    assert cancel_all["ok"] and set(cancel_all["data"]["cancelled"]) == set(job_ids[1:-1])
    await sock.wait_for(lambda: jobs_done(sock, job_ids), 20)

    for j in job_ids:
        assert [e["kind"] for e in sock.terminal(j)] == ["job.cancelled"], j
    for j in job_ids:
        cut = next(i for i, e in enumerate(sock.events) if e["kind"] == "job.cancelled" and e["data"]["job_id"] == j)
        after = [e for e in sock.events[cut + 1:]
                 if e["data"].get("job_id") == j or e["data"].get("item", {}).get("job_id") == j]
        assert after == [], f"events of {j} after job.cancelled: {after}"
    assert "job.started" not in sock.kinds(queued), "a cancelled queued job never starts"
    async with httpx.AsyncClient(base_url=slow_server) as http:
        h = {"Authorization": f"Bearer {review['token']}"}
        assert (await http.get(f"/api/jobs/{running}", headers=h)).json()["status"] == "cancelled"
        snap = (await http.get(f"/api/reviews/{review['review_id']}", headers=h)).json()
        assert {s["status"] for s in snap["sections"]} == {"cancelled"}
    await sock.close()


async def test_http_cancel_and_job_status(slow_server):
    review = await upload(slow_server)
    h = {"Authorization": f"Bearer {review['token']}"}
    async with httpx.AsyncClient(base_url=slow_server) as http:
        r = await http.post(f"/api/reviews/{review['review_id']}/analyze", json={"sections": ["s2"]}, headers=h)
        assert r.status_code == 202
        job_id = r.json()["jobs"][0]["job_id"]
        st = (await http.get(f"/api/jobs/{job_id}", headers=h)).json()
        assert st["kind"] == "analyze" and st["review_id"] == review["review_id"]
        assert st["status"] in ("queued", "active")
        r = await http.post(f"/api/jobs/{job_id}/cancel", headers=h)
        assert r.status_code == 202 and r.json() == {"job_id": job_id, "status": "cancelled"}
        assert (await http.get(f"/api/jobs/{job_id}", headers=h)).json()["status"] == "cancelled"
        q = (await http.get("/api/queues")).json()["queues"]
        assert set(q) == {"analysis", "chat", "test"} and q["analysis"]["workers"] >= 1


async def test_a_killed_worker_job_is_retried_not_left_active(own_redis_url, tmp_path, reliability):
    redis_url = own_redis_url
    proc, base = start_server(redis_url, tmp_path, worker=False)
    env = dict(REDLINE_OFFLINE_PACE_MS="500", REDLINE_SWEEP_INTERVAL_S="1")
    w1 = start_worker(redis_url, tmp_path, "w1", **env)
    w2 = None
    try:
        review = await upload(base)
        sock = await Socket(base, review["review_id"], review["token"]).connect()
        job_id = (await sock.request({"op": "analyze", "sections": ["s8"]}))["data"]["jobs"][0]["job_id"]
        await sock.wait_for(lambda: any(e["kind"] == "item.added" for e in sock.events), 30)
        assert not sock.terminal(job_id), "the job is still running when its worker dies"
        w1.kill()  # kill -9 mid-job
        w2 = start_worker(redis_url, tmp_path, "w2", **env)
        await sock.wait_for(lambda: sock.terminal(job_id), 30)
        assert [e["kind"] for e in sock.terminal(job_id)] == ["job.completed"]
        starts = [e["data"]["attempt"] for e in sock.events if e["kind"] == "job.started"]
        assert starts == [1, 2]
        removed = {e["data"]["item_id"] for e in sock.events if e["kind"] == "item.removed"}
        first_attempt = {e["data"]["item"]["id"] for e in sock.events
                         if e["kind"] == "item.added" and e["data"]["item"]["id"].split(".")[2] == "1"}
        assert first_attempt and removed == first_attempt, "the retry replaces the first attempt's items"
        async with httpx.AsyncClient(base_url=base) as http:
            snap = (await http.get(f"/api/reviews/{review['review_id']}",
                                   headers={"Authorization": f"Bearer {review['token']}"})).json()
        ids = [i["id"] for i in snap["items"]]
        assert len(ids) == len(set(ids)) and all(i.split(".")[2] == "2" for i in ids), "no duplicated items"
        reliability("kill -9 of a worker mid-job", "1",
                    "swept and retried on another worker; the first attempt's items replaced, none duplicated")
        await sock.close()
    finally:
        for p in (w1, w2, proc):
            if p:
                p.stop()


@pytest.mark.parametrize("name,data,code,status", [
    ("notes.exe", b"MZ\x90\x00", "unsupported_type", 415),
    ("report.docx", b"this is not a zip", "corrupt_document", 400),
    ("report.pdf", b"%PDF-1.4 garbage", "corrupt_document", 400),
    ("empty.txt", b"   \n\n  ", "empty_document", 400),
    ("locked.pdf", None, "encrypted_document", 400),
])
async def test_bad_uploads_get_clear_errors(server, name, data, code, status, reliability):
    if data is None:
        data = samples.sample_pdf(encrypt_password="secret")
    async with httpx.AsyncClient(base_url=server) as http:
        r = await http.post("/api/reviews", files={"document": (name, data)})
        assert r.status_code == status, r.text
        err = r.json()["error"]
        assert err["code"] == code and len(err["message"]) > 15
        reliability(f"Bad upload: {name}", "1", f"{status} {code}; server stays up")
        r = await http.post("/api/reviews", data={"title": "x"})
        assert r.status_code == 400 and r.json()["error"]["code"] == "missing_document"
        assert (await http.get("/healthz")).status_code == 200


async def test_over_the_upload_limit_is_413(own_redis_url, tmp_path):
    redis_url = own_redis_url
    proc, base = start_server(redis_url, tmp_path, worker=False, REDLINE_MAX_UPLOAD_MB="1")
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            big = b"Timeline\n\n" + b"The pump was started. " * 60_000
            r = await http.post("/api/reviews", files={"document": ("big.txt", big)})
            assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
            assert "1 MB" in r.json()["error"]["message"]
    finally:
        proc.stop()


async def test_bad_socket_messages_get_error_replies_and_the_socket_stays_up(server, reliability):
    review = await upload(server)
    sock = await Socket(server, review["review_id"], review["token"]).connect()
    bad = ["not json", "[1,2]", '{"op": "explode", "ref": 1}', '{"op": "decide", "ref": 2, "item_id": 5}',
           '{"op": "analyze", "ref": 3, "sections": "all"}', '{"op": "chat", "ref": 4, "message": ""}',
           '{"op": "cancel", "ref": 5, "job_id": "other.123"}', '{"op": "decide", "ref": 6, "item_id": "nope", "decision": "accepted"}',
           '{"op": "analyze", "ref": 7, "sections": ["s999"]}']
    for raw in bad:
        await sock.send(raw)
    await sock.send(b"\x00\x01binary")
    await sock.wait_for(lambda: len([f for f in sock.frames if f["type"] == "reply" and not f["ok"]]) >= len(bad) + 1)
    errors = {f.get("ref"): f["error"]["code"] for f in sock.frames if f["type"] == "reply" and not f["ok"]}
    assert errors[1] == "unknown_op" and errors[2] == "invalid_message" and errors[3] == "invalid_message"
    assert errors[4] == "invalid_message" and errors[5] == "not_found" and errors[6] == "not_found"
    assert errors[7] == "unknown_section"
    codes = [f["error"]["code"] for f in sock.frames if f["type"] == "reply" and not f["ok"] and f.get("ref") is None]
    assert {"bad_json", "bad_message", "binary_frame"} <= set(codes)
    pong = await sock.request({"op": "ping"})
    assert pong["ok"], "the connection stays up"
    reliability("Malformed socket messages (bad JSON, unknown ops, wrong types, binary)", f"{len(bad) + 1}",
                "an error reply with a code each; the socket stays up")
    await sock.close()


async def test_tokens_guard_every_route_and_the_socket(server):
    a = await upload(server)
    b = await upload(server)
    rid = a["review_id"]
    # A new connection per request: on the lowest allowed versions a reused keep-alive connection
    # was now and then reset under this loop (httpx.ReadError, 1 run in 3 after tests/test_hub.py);
    # what this test checks is the 401 of each route, not connection reuse.
    async with httpx.AsyncClient(base_url=server, limits=httpx.Limits(max_keepalive_connections=0)) as http:
        for headers in ({}, {"Authorization": f"Bearer {b['token']}"}, {"Authorization": "Bearer nope"}):
            for method, path in [("GET", f"/api/reviews/{rid}"), ("POST", f"/api/reviews/{rid}/analyze"),
                                 ("POST", f"/api/reviews/{rid}/chat"), ("GET", f"/api/reviews/{rid}/export.docx"),
                                 ("POST", f"/api/reviews/{rid}/items"),
                                 ("POST", f"/api/reviews/{rid}/items/x/decision"),
                                 ("GET", f"/api/jobs/{rid}.abc"), ("POST", f"/api/jobs/{rid}.abc/cancel")]:
                r = await http.request(method, path, headers=headers, json={})
                assert r.status_code == 401, (method, path, headers, r.text)
                assert r.json()["error"]["code"] == "unauthorized"
        ok = await http.get(f"/api/reviews/{rid}", params={"token": a["token"]})
        assert ok.status_code == 200
    for token in (None, b["token"]):
        s = await Socket(server, rid, token).connect(hello=False)
        assert (await s.wait_closed())[0] == 4401
    s = await Socket(server, "0000000000000000", a["token"]).connect(hello=False)
    assert (await s.wait_closed())[0] == 4404


async def quotes_of(server, filename: str, text: str, category: str) -> list[str | None]:
    """Upload `text`, analyze every section over a socket, and return the quotes of the findings of
    `category` that reached the socket."""
    review = await upload(server, filename=filename, data=text.encode())
    sock = await Socket(server, review["review_id"], review["token"]).connect()
    job_ids = await analyze_all(sock)
    await sock.wait_for(lambda: jobs_done(sock, job_ids), timeout=60)
    await sock.close()
    return [e["data"]["item"]["quote"] for e in sock.events
            if e["kind"] == "item.added" and e["data"]["item"]["category"] == category]


async def test_a_blog_posts_front_matter_date_reaches_the_reviewer(server):
    """A post dated in its front matter ("date: 2025-07-28") says "over the past few days" under
    that date, as its readers read it: the offline reviewer does not ask when it happened. The same
    text with no date is asked, so the date went from the upload through Redis to the analysis."""
    body = ("# Phishing attack\n\n## Summary\n\nOver the past few days, users received phishing emails "
            "that sent them to a fake login page. We reset the affected accounts.\n\n## What we did\n\n"
            "We asked the registrar to take the fake domain down and it was taken down.\n")
    asked = {name: await quotes_of(server, f"{name}.md", text, "timeline: no dates") for name, text in (
        ("dated", "---\ntitle: Phishing attack\ndate: 2025-07-28\n---\n" + body), ("undated", body))}
    assert asked["undated"] and asked["undated"][0].startswith("Over the past few days")
    assert asked["dated"] == []


async def test_a_dated_posts_month_and_day_have_its_year(server):
    """The NuGet Gallery's 2012 post says "unavailable on March 9th" under its front matter's
    post_date: the year is given, by the file; with no date anywhere, "March 9th" is asked for one."""
    body = ("## What happened\n\nThe gallery was unavailable on March 9th from midnight until 7:52 A.M. because the "
            "database server failed and the deploy did not recover it.\n")
    asked = {name: await quotes_of(server, f"{name}.md", text, "date format: no year") for name, text in (
        ("dated", "---\npost_date: 2012-03-14 00:00:00\n---\n" + body), ("undated", body))}
    assert asked["undated"] and "March 9th" in asked["undated"][0]
    assert asked["dated"] == []
