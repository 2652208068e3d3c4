"""Access: tokens, origins, security headers, rate limits — what an attacker and a user notice."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.client import Socket, upload, ws_url
from tests.conftest import start_server


async def test_tokens_are_long_random_and_never_logged(server, tmp_path):
    a, b = await upload(server), await upload(server)
    for t in (a["token"], b["token"]):
        assert len(t) >= 32  # 24 random bytes, url-safe
    assert a["token"] != b["token"] and a["url"] == f"/r/{a['review_id']}#token={a['token']}"
    async with httpx.AsyncClient(base_url=server) as http:
        await http.get(f"/api/reviews/{a['review_id']}", params={"token": a["token"]})
    sock = await Socket(server, a["review_id"], a["token"]).connect()
    await sock.close()
    logs = list(tmp_path.parent.parent.glob("**/serve-*.log"))
    assert logs
    for log in logs:
        text = log.read_text(errors="replace")
        assert a["token"] not in text and b["token"] not in text


async def test_security_headers_on_pages_and_api(server):
    async with httpx.AsyncClient(base_url=server) as http:
        for path in ("/", "/r/abc", "/healthz", "/api/queues"):
            r = await http.get(path)
            csp = r.headers["content-security-policy"]
            assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
            assert r.headers["x-content-type-options"] == "nosniff"
            assert r.headers["referrer-policy"] == "no-referrer"


async def test_websocket_checks_the_origin(server):
    review = await upload(server)
    url = ws_url(server, review["review_id"], review["token"])
    host = server.split("//")[1]
    async with websockets.connect(url, origin=f"http://{host}") as ok:  # same host: allowed
        await ok.send('{"op": "hello", "last_event_id": null}')
        assert '"welcome"' in await ok.recv()
    async with websockets.connect(url, origin="https://evil.example") as bad:
        with pytest.raises(websockets.ConnectionClosed):
            await bad.recv()
        assert bad.close_code == 4401


async def test_allowed_origins_setting(own_redis_url, tmp_path):
    proc, base = start_server(own_redis_url, tmp_path, worker=False,
                              REDLINE_ALLOWED_ORIGINS="https://review.example.com")
    try:
        review = await upload(base)
        url = ws_url(base, review["review_id"], review["token"])
        async with websockets.connect(url, origin="https://review.example.com") as ok:
            await ok.send('{"op": "hello", "last_event_id": null}')
            assert '"welcome"' in await ok.recv()
        async with websockets.connect(url, origin="https://other.example.com") as bad:
            with pytest.raises(websockets.ConnectionClosed):
                await bad.recv()
            assert bad.close_code == 4401
    finally:
        proc.stop()


async def test_rate_limits_answer_429_with_retry_after(own_redis_url, tmp_path):
    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_RATE_UPLOAD_PER_MIN="3",
                              REDLINE_RATE_CHAT_PER_MIN="3", REDLINE_RATE_ANALYZE_PER_MIN="3")
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            files = {"document": ("r.md", b"# Timeline\n\nThe pump was started at 10:00.")}
            codes = [(await http.post("/api/reviews", files=files)).status_code for _ in range(4)]
            assert codes[0] == 201 and codes[-1] == 429
            r = await http.post("/api/reviews", files=files)
            assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
            assert r.json()["error"]["code"] == "rate_limited" and "try again" in r.json()["error"]["message"]
    finally:
        proc.stop()


async def test_admin_queues_need_the_admin_token(own_redis_url, tmp_path):
    proc, base = start_server(own_redis_url, tmp_path, REDLINE_ADMIN_TOKEN="admin-secret-123")
    try:
        review = await upload(base)
        async with httpx.AsyncClient(base_url=base) as http:
            for headers in ({}, {"Authorization": f"Bearer {review['token']}"}, {"Authorization": "Bearer nope"}):
                for path in ("/admin/queues", "/admin/api/overview"):
                    r = await http.get(path, headers=headers)
                    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
            admin = {"Authorization": "Bearer admin-secret-123"}
            page = await http.get("/admin/queues", params={"token": "admin-secret-123"})
            assert page.status_code == 200 and "Redline queues" in page.text
            # The admin token opens nothing but /admin.
            assert (await http.get(f"/api/reviews/{review['review_id']}", headers=admin)).status_code == 401
            jobs = (await http.post(f"/api/reviews/{review['review_id']}/analyze", json={"sections": ["s1"]},
                                    params={"token": review["token"]})).json()["jobs"]
            sock = await Socket(base, review["review_id"], review["token"]).connect()
            await sock.wait_for(lambda: sock.terminal(jobs[0]["job_id"]))

            async def listed() -> dict:  # the worker lists a job as recent just after publishing its end
                while True:
                    view = (await http.get("/admin/api/overview", headers=admin)).json()
                    if any(j["job_id"] == jobs[0]["job_id"] for j in view["recent"]):
                        return view
                    await asyncio.sleep(0.05)

            overview = await asyncio.wait_for(listed(), 10)
            assert set(overview["queues"]) == {"analysis", "chat", "test"}
            assert overview["queues"]["analysis"]["workers"]
            retried = await http.post(f"/admin/api/jobs/{jobs[0]['job_id']}/retry", headers=admin)
            assert retried.status_code == 202
            new_job = retried.json()["job_id"]
            await sock.wait_for(lambda: sock.terminal(new_job))
            assert sock.terminal(new_job)[0]["kind"] == "job.completed"
            await sock.close()
    finally:
        proc.stop()


async def test_admin_pages_are_closed_without_the_setting(server):
    async with httpx.AsyncClient(base_url=server) as http:
        r = await http.get("/admin/queues", params={"token": ""})
        assert r.status_code == 401 and "REDLINE_ADMIN_TOKEN" in r.json()["error"]["message"]
