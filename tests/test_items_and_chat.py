"""Reviewers' own findings, decisions over HTTP, and the offline chat, as a client sees them."""

from __future__ import annotations

import asyncio

import httpx

from tests.client import Socket, metric, upload


async def test_user_items_are_added_edited_and_deleted_live(server):
    review = await upload(server)
    rid, h = review["review_id"], {"Authorization": f"Bearer {review['token']}"}
    sock = await Socket(server, rid, review["token"]).connect()
    text = sock.welcome["review"]["sections"][2]["text"]
    quote = text.split(".")[0]
    async with httpx.AsyncClient(base_url=server, headers=h) as http:
        r = await http.post(f"/api/reviews/{rid}/items", json={
            "section_id": "s3", "description": "Who acknowledged the alarm?", "quote": quote,
            "type": "important", "risk": "high", "category": "Actors", "author": "Dana"})
        assert r.status_code == 201, r.text
        item = r.json()["item"]
        assert item["source"] == "user" and item["decision"] == "accepted" and item["author"] == "Dana"
        assert item["quote"] == quote
        bad = await http.post(f"/api/reviews/{rid}/items", json={"section_id": "s3", "description": "x",
                                                                 "quote": "not in the text at all"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "quote_not_found"
        r = await http.patch(f"/api/reviews/{rid}/items/{item['id']}", json={"risk": "medium", "suggestion": "Name the role."})
        assert r.status_code == 200 and r.json()["item"]["risk"] == "medium"
        r = await http.post(f"/api/reviews/{rid}/items/{item['id']}/decision", json={"decision": "rejected"})
        assert r.json()["item"]["decision"] == "rejected"
        bad = await http.post(f"/api/reviews/{rid}/items/{item['id']}/decision", json={"decision": "maybe"})
        assert bad.status_code == 400
        r = await http.delete(f"/api/reviews/{rid}/items/{item['id']}")
        assert r.status_code == 200
        snap = (await http.get(f"/api/reviews/{rid}")).json()
        assert snap["items"] == []
    kinds = [e["kind"] for e in await sock.wait_for(lambda: len(sock.events) >= 4 and sock.events)]
    assert kinds == ["item.added", "item.updated", "item.decided", "item.removed"]
    await sock.close()


async def test_offline_chat_streams_and_the_deltas_add_up(server):
    review = await upload(server)
    a = await Socket(server, review["review_id"], review["token"], "ann").connect()
    b = await Socket(server, review["review_id"], review["token"], "bob").connect()
    reply = await a.request({"op": "chat", "message": "What was the root cause of the fire?", "section_id": "s5"})
    assert reply["ok"], reply
    job_id, message_id = reply["data"]["job_id"], reply["data"]["message_id"]
    await b.wait_for(lambda: b.terminal(job_id))
    question = next(e for e in b.events if e["kind"] == "chat.message")
    assert question["data"] == {"message_id": message_id, "role": "user", "text": "What was the root cause of the fire?",
                                "author": "ann", "section_id": "s5"}
    deltas = [e["data"]["text"] for e in b.events if e["kind"] == "chat.delta"]
    done = next(e for e in b.events if e["kind"] == "chat.completed")
    assert len(deltas) > 1 and "".join(deltas) == done["data"]["text"]
    assert "Root Cause" in done["data"]["text"]
    assert [e["kind"] for e in b.terminal(job_id)] == ["job.completed"]
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {review['token']}"}) as http:
        chat = (await http.get(f"/api/reviews/{review['review_id']}")).json()["chat"]
    assert [m["role"] for m in chat] == ["user", "assistant"] and chat[1]["text"] == done["data"]["text"]
    for s in (a, b):
        await s.close()


async def test_model_connection_test_job(server):
    async with httpx.AsyncClient(base_url=server) as http:
        r = await http.post("/api/llm/test")
        assert r.status_code == 202
        body = r.json()
        sock = await Socket(server, body["review_id"], body["token"]).connect()
        done_before = [j for j in sock.welcome["review"]["jobs"] if j["status"] == "complete"]
        if not done_before:
            await sock.wait_for(lambda: sock.terminal(body["job_id"]))
        job = (await http.get(f"/api/jobs/{body['job_id']}", params={"token": body["token"]})).json()
        assert job["status"] == "complete" and job["kind"] == "test"
        assert job["result"]["reviewer"] == "offline" and job["result"]["ok"] is True
        await sock.close()


async def test_metrics_move_when_the_review_moves(server):
    async with httpx.AsyncClient(base_url=server) as http:
        before = (await http.get("/metrics")).text
        review = await upload(server)
        sock = await Socket(server, review["review_id"], review["token"]).connect()
        during = (await http.get("/metrics")).text
        assert metric(during, "redline_open_sockets") >= metric(before, "redline_open_sockets") + 1
        reply = await sock.request({"op": "analyze", "sections": ["s1", "s2"]})
        await sock.wait_for(lambda: all(sock.terminal(j["job_id"]) for j in reply["data"]["jobs"]))
        done = lambda t: metric(t, "redline_jobs_finished_total", queue="analysis", outcome="complete")  # noqa: E731

        async def counted() -> str:  # a worker records a job's counters just after publishing its end
            while done(text := (await http.get("/metrics")).text) < done(before) + 2:
                await asyncio.sleep(0.05)
            return text

        after = await asyncio.wait_for(counted(), 10)
        assert metric(after, "redline_events_relayed_total") > metric(before, "redline_events_relayed_total")
        assert metric(after, "redline_job_seconds_total", queue="analysis") > 0
        assert metric(after, "redline_workers", queue="analysis") >= 1
        assert metric(after, "redline_redis_up") == 1
        await sock.close()


async def test_deleting_a_review_removes_everything_and_closes_its_sockets(server, redis_client):
    review = await upload(server)
    rid, token = review["review_id"], review["token"]
    sock = await Socket(server, rid, token).connect()
    reply = await sock.request({"op": "analyze", "sections": ["s1"]})
    await sock.wait_for(lambda: sock.terminal(reply["data"]["jobs"][0]["job_id"]))
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}) as http:
        r = await http.delete(f"/api/reviews/{rid}")
        assert r.status_code == 200
        assert (await sock.wait_closed())[0] == 4404
        assert (await http.get(f"/api/reviews/{rid}")).status_code == 401  # the token opens nothing now
    assert redis_client.keys(f"rl:{{{rid}}}:*") == []
    assert redis_client.zscore("rl:reviews", rid) is None


async def test_reviews_past_retention_are_swept(own_redis_url, tmp_path):
    import redis as redis_sync

    from tests.conftest import start_server

    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_RETENTION_DAYS="0.00001",
                              REDLINE_RETENTION_SWEEP_S="0.2")
    try:
        review = await upload(base)
        r = redis_sync.Redis.from_url(own_redis_url)
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(100):  # retention is about 1 s here; the sweep runs every 0.2 s
                if r.zscore("rl:reviews", review["review_id"]) is None:
                    break
                await asyncio.sleep(0.1)
            assert r.keys(f"rl:{{{review['review_id']}}}:*") == []
            assert (await http.get(f"/api/reviews/{review['review_id']}",
                                   params={"token": review["token"]})).status_code == 401
    finally:
        proc.stop()


async def test_bulk_decisions_over_http_and_socket(server):
    review = await upload(server)
    rid, h = review["review_id"], {"Authorization": f"Bearer {review['token']}"}
    sock = await Socket(server, rid, review["token"], "ann").connect()
    job = (await sock.request({"op": "analyze", "sections": ["s8"]}))["data"]["jobs"][0]["job_id"]
    await sock.wait_for(lambda: sock.terminal(job))
    ids = [e["data"]["item"]["id"] for e in sock.events if e["kind"] == "item.added"]
    assert len(ids) >= 3
    async with httpx.AsyncClient(base_url=server, headers=h) as http:
        r = await http.post(f"/api/reviews/{rid}/decisions", json={"item_ids": ids[:2], "decision": "accepted", "by": "ann"})
        assert r.status_code == 200 and [i["decision"] for i in r.json()["items"]] == ["accepted", "accepted"]
        bad = await http.post(f"/api/reviews/{rid}/decisions", json={"item_ids": [ids[2], "nope"], "decision": "rejected"})
        assert bad.status_code == 404
    reply = await sock.request({"op": "decide", "item_ids": ids, "decision": "rejected"})
    assert reply["ok"] and {i["decision"] for i in reply["data"]["items"]} == {"rejected"}
    await sock.wait_for(lambda: len([e for e in sock.events if e["kind"] == "item.decided"]) == 2 + len(ids))
    async with httpx.AsyncClient(base_url=server, headers=h) as http:
        snap = (await http.get(f"/api/reviews/{rid}")).json()
    assert {i["decision"] for i in snap["items"] if i["id"] in ids} == {"rejected"}, "nothing half-applied"
    await sock.close()


async def test_chat_jobs_name_their_question_for_every_tab(server):
    review = await upload(server)
    a = await Socket(server, review["review_id"], review["token"], "ann").connect()
    b = await Socket(server, review["review_id"], review["token"], "bob").connect()
    reply = await a.request({"op": "chat", "message": "Who owns the actions?"})
    queued = await b.wait_for(lambda: next((e for e in b.events if e["kind"] == "job.queued"), None))
    assert queued["data"]["kind"] == "chat" and queued["data"]["message_id"] == reply["data"]["message_id"]
    await b.wait_for(lambda: b.terminal(reply["data"]["job_id"]))
    for s in (a, b):
        await s.close()
