"""Events framed once by the hub and written to every socket as they are (server/wire.py):
plain, or compressed once for every socket that takes compression without context takeover."""

from __future__ import annotations

import base64
import os

import httpx
from redis.asyncio import Redis
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

from redline.jobs.events import Publisher
from tests.client import Socket, metric, upload


async def test_plain_compressed_and_narrow_window_sockets_get_the_same_events(server, redis_url):
    review = await upload(server)
    rid, token = review["review_id"], review["token"]
    plain = await Socket(server, rid, token, "ann", compression=None).connect()
    browser = await Socket(server, rid, token, "bob").connect()  # offers permessage-deflate, as browsers do
    # asks the server to compress with a 1 KB window: the hub's frames (32 KB window) won't do
    narrow = await Socket(server, rid, token, "cy",
                          extensions=[ClientPerMessageDeflateFactory(server_max_window_bits=10)]).connect()
    assert not plain.ws.protocol.extensions
    (ext,) = browser.ws.protocol.extensions
    assert ext.remote_no_context_takeover, "the server compresses each message on its own"
    (ext,) = narrow.ws.protocol.extensions
    assert ext.remote_max_window_bits == 10
    socks = (plain, browser, narrow)
    for s in socks:  # joins are announced: wait for the last announcement before counting
        await s.wait_for(lambda s=s: s.presence and len(s.presence[-1]["viewers"]) == 3)
    async with httpx.AsyncClient(base_url=server) as http:
        before = metric((await http.get("/metrics")).text, "redline_frames_prebuilt_total")
        # Each length encoding of a frame header, plain and compressed, with text that is longer
        # in bytes than in characters, and a message that compression cannot shrink much.
        messages = ["short", "é" * 100, "Ω" * 40_000, base64.b64encode(os.urandom(60_000)).decode()]
        redis = Redis.from_url(redis_url)
        try:
            pub = Publisher(redis)
            for i, m in enumerate(messages):
                await pub.publish(rid, "job.progress", {"job_id": f"{rid}.wire", "progress": 0.5, "message": m, "i": i})
        finally:
            await redis.aclose()
        for s in socks:
            await s.wait_for(lambda s=s: len([e for e in s.events if e["kind"] == "job.progress"]) == len(messages))
        after = metric((await http.get("/metrics")).text, "redline_frames_prebuilt_total")
    got = {s.name: [e for e in s.events if e["kind"] == "job.progress"] for s in socks}
    assert [e["data"]["message"] for e in got["ann"]] == messages
    assert got["ann"] == got["bob"] == got["cy"]
    assert after - before == 2 * len(messages), "the plain and the browser socket took the hub's frames, cy did not"
    for s in socks:
        await s.close()
