"""Open connections per client address are capped (issue 12, "memory per client bounded"): a
client past the cap gets an immediate 429 `too_many_connections` with Retry-After, for HTTP and
websocket upgrades alike, even with a request body on its way; the connections it already has,
and other addresses, are served as before; its place comes back when it closes one. Behind a
trusted proxy (every connection is the proxy's) there is no cap."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.client import Socket, metric, upload, ws_url
from tests.conftest import start_server


CLIENT = "127.0.0.4"  # the client under test: an address of its own, which nothing else has used


async def held_request(base: str, rid: str, token: str,
                       addr: str = CLIENT) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A connection with a request in flight: its head sent with `Expect: 100-continue`, its body
    withheld. The server's `100 Continue` says it has the connection (and counts it)."""
    host, port = base.split("//")[1].split(":")
    reader, writer = await asyncio.open_connection(host, int(port), local_addr=(addr, 0))
    writer.write(f"PATCH /api/reviews/{rid}/items/no-such-item HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(BODY)}\r\nExpect: 100-continue\r\n\r\n".encode())
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 100")
    return reader, writer


BODY = b'{"description": "held"}'


async def finish(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Send the held request's body; its answer's status line."""
    writer.write(BODY)
    head = await reader.readuntil(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0]


def client(base: str, addr: str = CLIENT) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=base, timeout=30, transport=httpx.AsyncHTTPTransport(local_address=addr))


async def test_a_client_past_its_connection_cap_gets_an_immediate_429_and_others_are_served(own_redis_url, tmp_path):
    # At most 2 websockets + 1 other connection, so 3 connections, from one address.
    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_WS_MAX_PER_CLIENT="2",
                              REDLINE_HTTP_MAX_CONNECTIONS_PER_CLIENT="1")
    try:
        review = await upload(base)
        rid, token = review["review_id"], review["token"]
        held = [await held_request(base, rid, token) for _ in range(3)]

        # Past the cap: a plain request, a large upload still being sent, a websocket upgrade.
        async with client(base) as http:
            r = await http.get("/healthz", headers={"X-Request-ID": "cap-test-1"})
            assert r.status_code == 429
            assert r.json()["error"]["code"] == "too_many_connections"
            assert "at most 3" in r.json()["error"]["message"]
            assert int(r.headers["Retry-After"]) >= 1 and r.headers["X-Request-ID"]
            r = await http.post("/api/reviews", files={"document": ("big.txt", b"x" * (1 << 20))})
            assert r.status_code == 429 and r.json()["error"]["code"] == "too_many_connections"
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(ws_url(base, rid, token), local_addr=(CLIENT, 0))
        assert refused.value.response.status_code == 429
        assert b"too_many_connections" in refused.value.response.body

        # Another address is not affected, websockets included.
        async with client(base, "127.0.0.5") as http:
            assert (await http.get("/healthz")).status_code == 200
            # the operator sees the three refusals
            assert metric((await http.get("/metrics")).text, "redline_connections_refused_total") == 3
        sock = await Socket(base, rid, token, "other").connect()
        assert (await sock.request({"op": "ping"}))["ok"]
        await sock.close()

        # What the client already has keeps working: its requests in flight are answered.
        assert [await finish(*h) for h in held] == [b"HTTP/1.1 404 "] * 3
        for _, writer in held:
            writer.close()

        async def served() -> int:  # the server lets go of the closed ones' places as they end
            async with client(base) as http:
                while (r := await http.get("/healthz")).status_code == 429:
                    await asyncio.sleep(0.05)
                return r.status_code

        assert await asyncio.wait_for(served(), 10) == 200
    finally:
        proc.stop()


async def test_behind_a_trusted_proxy_connections_are_not_capped(own_redis_url, tmp_path):
    """Every connection then comes from the proxy's address: capping it would refuse everyone."""
    proc, base = start_server(own_redis_url, tmp_path, worker=False, REDLINE_WS_MAX_PER_CLIENT="1",
                              REDLINE_HTTP_MAX_CONNECTIONS_PER_CLIENT="1", REDLINE_TRUST_PROXY_HEADERS="1")
    try:
        review = await upload(base)
        held = [await held_request(base, review["review_id"], review["token"]) for _ in range(3)]
        async with client(base) as http:
            assert (await http.get("/healthz")).status_code == 200
        assert [await finish(*h) for h in held] == [b"HTTP/1.1 404 "] * 3
        for _, writer in held:
            writer.close()
    finally:
        proc.stop()
