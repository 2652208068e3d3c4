"""Events framed once by the hub and written to every socket as they are (server/wire.py),
except to sockets that negotiated compression, which get their frames from wsproto."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from jobs.events import Publisher
from tests.client import Socket, upload


def _prebuilt(text: str) -> float:
    for line in text.splitlines():
        if line.startswith("redline_frames_prebuilt_total "):
            return float(line.split()[1])
    raise AssertionError("no redline_frames_prebuilt_total in /metrics")


async def test_plain_and_compressing_sockets_get_the_same_events_byte_for_byte(server, redis_url):
    review = await upload(server)
    rid, token = review["review_id"], review["token"]
    plain = await Socket(server, rid, token, "ann", compression=None).connect()
    deflate = await Socket(server, rid, token, "bob").connect()
    assert deflate.ws.protocol.extensions, "the server accepted permessage-deflate"
    assert not plain.ws.protocol.extensions
    for s in (plain, deflate):  # joins are announced: wait for the last announcement before counting
        await s.wait_for(lambda s=s: s.presence and {v["name"] for v in s.presence[-1]["viewers"]} == {"ann", "bob"})
    async with httpx.AsyncClient(base_url=server) as http:
        before = _prebuilt((await http.get("/metrics")).text)
        # Each of the three length encodings of a frame header, with text that is longer in
        # bytes than in characters.
        messages = ["short", "é" * 100, "Ω" * 40_000]
        redis = Redis.from_url(redis_url)
        try:
            pub = Publisher(redis)
            for i, m in enumerate(messages):
                await pub.publish(rid, "job.progress", {"job_id": f"{rid}.wire", "progress": 0.5, "message": m, "i": i})
        finally:
            await redis.aclose()
        for s in (plain, deflate):
            await s.wait_for(lambda s=s: len([e for e in s.events if e["kind"] == "job.progress"]) == 3)
        after = _prebuilt((await http.get("/metrics")).text)
    got = {s.name: [e for e in s.events if e["kind"] == "job.progress"] for s in (plain, deflate)}
    assert [e["data"]["message"] for e in got["ann"]] == messages
    assert got["ann"] == got["bob"]
    assert after - before == 3, "the plain socket took the hub's frames, the compressing one did not"
    await plain.close()
    await deflate.close()
