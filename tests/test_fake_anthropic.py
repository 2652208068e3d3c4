"""Proves tests/fake_anthropic.py against the REAL anthropic SDK (2.17, on httpx2).

Two halves:

* The fake is as strict as today's API (see /work/shared/CLAUDE-API.md).  Every request rule
  has a test below that sends the offending request through the SDK and asserts
  ``anthropic.BadRequestError`` (400 invalid_request_error) with the message, next to an
  accepted counterpart, so no test can pass by refusing everything.
* What the SDK does with each fault (observed here, asserted below):

  - 429 / 408 / 409 / 5xx / 529 are retried (``max_retries``, default 2); 400/401/403/404
    are not.  ``x-should-retry: true|false`` overrides.  The wait is ``retry-after-ms`` (ms,
    checked first), else ``retry-after`` (seconds, floats allowed, or an HTTP date), with NO
    upper cap (only > 0 is required; ``retry-after: 3600`` sleeps an hour).  Without a usable
    header (or with ``0``) it backs off 0.5 s * 2**n * (0.75..1), capped at 8 s.  Keep tests
    fast by sending a tiny ``retry-after-ms`` (e.g. "5"), never "0".
  - ``event: error`` mid-stream -> ``anthropic.APIStatusError`` (exactly that class, not a
    subclass such as OverloadedError) with ``status_code == 200`` (the HTTP status of the
    stream) and ``body`` the error JSON; never retried, since the response had already started.
  - SDK 2.17 wraps transport failures while iterating a stream: a stall after the response
    headers longer than the read timeout -> ``anthropic.APITimeoutError``; the connection
    dropped mid-stream -> ``anthropic.APIConnectionError`` (``__cause__`` the httpx2
    exception).  Neither is retried mid-stream.  A stall BEFORE the headers (latency >
    timeout) -> ``APITimeoutError`` too, and that one IS retried like a connection error.
  - Malformed tool JSON with ``messages.stream()``: the helper parses with jiter in partial
    mode, which silently accepts some broken JSON (``{"a": [1, 2}`` -> ``{"a": [1, 2]}``) and
    raises ``ValueError("Unable to parse tool parameter JSON ...")`` for other breakage; so
    re-parse the concatenated ``partial_json`` strictly.  Non-streaming, a broken body
    surfaces as ``json.JSONDecodeError``.
  - anthropic 2.x ``messages.create/stream`` have no temperature/top_p/top_k parameters (the
    API refuses them anyway).  Models listed in ``anthropic._data.DEPRECATED_MODELS`` raise a
    ``DeprecationWarning`` on every call (the list changes between SDK releases).
  - The 5.x models think by default: ``content[0]`` is a thinking block; select blocks by type.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import warnings
from typing import Optional

import anthropic
import httpx2
import pydantic
import pytest

try:
    from tests.fake_anthropic import (
        MODEL_RULES,
        Cite,
        ContextExceeded,
        Drop,
        Error,
        FakeAnthropic,
        Json,
        MalformedToolJson,
        MidStreamError,
        ModelRules,
        Refusal,
        Stall,
        Text,
        ToolUse,
        check_request,
        default_responder,
        minimal_instance,
        prompt_text,
        schema_problem,
    )
except ImportError:  # tests/ is not a package: pytest put tests/ itself on sys.path
    from fake_anthropic import (  # type: ignore[no-redef]
        MODEL_RULES,
        Cite,
        ContextExceeded,
        Drop,
        Error,
        FakeAnthropic,
        Json,
        MalformedToolJson,
        MidStreamError,
        ModelRules,
        Refusal,
        Stall,
        Text,
        ToolUse,
        check_request,
        default_responder,
        minimal_instance,
        prompt_text,
        schema_problem,
    )

MODEL = "claude-sonnet-5-5"  # newest Sonnet in the SDK's Model literal, not deprecated
FORCING_MODEL = "claude-sonnet-5"  # a model that still accepts a forced tool_choice
OLD_MODEL = "claude-haiku-4-5"  # not in the fake's table: no per-model rules, no default thinking
FIVE = ["claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5", "claude-sonnet-5"]
MAX = 1000  # room for the 64 default thinking tokens plus the answer
USER = [{"role": "user", "content": "Review this section."}]
FINDINGS_TOOL = {
    "name": "record_findings",
    "description": "Record review findings",
    "input_schema": {
        "type": "object",
        "properties": {
            "findings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"quote": {"type": "string"}, "comment": {"type": "string"}},
                },
            }
        },
        "required": ["findings"],
    },
}
FORCE_FINDINGS = {"type": "tool", "name": "record_findings"}
AUTO = {"type": "auto"}
FINDINGS_SCHEMA = {
    "type": "object",
    "properties": {
        "findings": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "quote": {"type": "string"},
                    "severity": {"enum": ["minor", "major"]},
                    "line": {"type": "integer"},
                    "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
                "required": ["quote", "severity", "line", "note"],
                "additionalProperties": False,
            },
        },
        "summary": {"type": "string"},
        "score": {"type": "number"},
    },
    "required": ["findings", "summary", "score"],
    "additionalProperties": False,
}


def fmt(schema: dict) -> dict:
    return {"format": {"type": "json_schema", "schema": schema}}


def text_of(msg) -> str:
    return "".join(b.text for b in msg.content if b.type == "text")


def kinds(msg) -> list:
    return [b.type for b in msg.content]


def first(msg, type_: str):
    return next(b for b in msg.content if b.type == type_)


@pytest.fixture
def fake():
    with FakeAnthropic() as f:
        yield f


@pytest.fixture
async def make_client():
    clients: list[anthropic.AsyncAnthropic] = []

    def make(fake: FakeAnthropic, **kw) -> anthropic.AsyncAnthropic:
        kw.setdefault("api_key", "test")
        kw.setdefault("max_retries", 0)
        c = anthropic.AsyncAnthropic(base_url=fake.url, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        await c.close()


@pytest.fixture
def client(fake, make_client):
    return make_client(fake)


async def refused(call, *args, **kwargs) -> str:
    """Await ``call(*args, **kwargs)``, expect the SDK's BadRequestError; return the message."""
    with pytest.raises(anthropic.BadRequestError) as ei:
        await call(*args, **kwargs)
    assert ei.value.status_code == 400
    assert ei.value.body["type"] == "error" and ei.value.body["error"]["type"] == "invalid_request_error"
    return ei.value.body["error"]["message"]


async def streamed(client, **kwargs):
    """(raw SDK events, final message) of ``client.messages.stream(**kwargs)``."""
    events = []
    async with client.messages.stream(**kwargs) as s:
        async for event in s:
            events.append(event)
        final = await s.get_final_message()
    return events, final


# ------------------------------------------------------------------ happy paths


async def test_stream_text_yields_text_and_final_usage(fake, make_client):
    client = make_client(fake)
    fake.script(Text("Hello there, world!", chunk_size=5))
    async with client.messages.stream(model=MODEL, max_tokens=100, messages=USER) as stream:
        parts = [t async for t in stream.text_stream]
        final = await stream.get_final_message()

    assert parts == ["Hello", " ther", "e, wo", "rld!"]
    assert kinds(final) == ["thinking", "text"]  # Sonnet 5.5 thinks by default
    assert final.content[1].text == "Hello there, world!"
    assert final.stop_reason == "end_turn" and final.stop_details is None
    assert final.model == MODEL
    u = final.usage
    assert u.input_tokens >= 1 and u.output_tokens == 5 + 64
    assert u.output_tokens_details.thinking_tokens == 64
    assert u.cache_creation_input_tokens == 0 and u.cache_read_input_tokens == 0

    (rec,) = fake.requests
    assert rec.method == "POST" and rec.path == "/v1/messages" and rec.stream
    assert rec.api_key == "test" and rec.headers["anthropic-version"] == "2026-10-21"
    assert rec.json["messages"] == USER and rec.json["max_tokens"] == 100
    assert rec.completed and rec.status == 200 and rec.disconnected_at is None and rec.rejected is None


async def test_raw_sse_wire_format(fake):
    fake.script(ToolUse("record_findings", {"findings": []}, chunk_size=6))
    body = {"model": MODEL, "max_tokens": MAX, "messages": USER, "stream": True}
    async with httpx2.AsyncClient() as http:
        r = await http.post(fake.url + "/v1/messages", json=body, headers={"x-api-key": "k"})
    assert r.headers["content-type"].startswith("text/event-stream")
    events = [blk.split("\n") for blk in r.text.strip().split("\n\n")]
    names = [lines[0].removeprefix("event: ") for lines in events]
    assert names == [
        "message_start",
        "content_block_start",  # 0: thinking
        "ping",
        "content_block_delta",  # signature_delta only: display "omitted"
        "content_block_stop",
        "content_block_start",  # 1: tool_use
        *["content_block_delta"] * 4,  # "", '{"find', 'ings":', '[]}' (6-char chunks)
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    datas = [json.loads(lines[1].removeprefix("data: ")) for lines in events]
    assert all(d["type"] == n for d, n in zip(datas, names))
    usage = datas[0]["message"]["usage"]
    assert set(usage) >= {"input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"}
    assert datas[1]["content_block"] == {"type": "thinking", "thinking": "", "signature": ""}
    assert datas[3]["delta"]["type"] == "signature_delta" and len(datas[3]["delta"]["signature"]) > 20
    assert datas[5]["index"] == 1 and datas[5]["content_block"]["type"] == "tool_use"
    assert datas[5]["content_block"]["input"] == {}
    assert datas[6]["delta"] == {"type": "input_json_delta", "partial_json": ""}
    assert [d["delta"]["partial_json"] for d in datas[6:10]] == ["", '{"find', 'ings":', "[]}"]
    delta = datas[-2]
    assert delta["delta"]["stop_reason"] == "tool_use" and delta["delta"]["stop_details"] is None
    assert delta["usage"]["output_tokens"] == 64 + 4 and delta["usage"]["output_tokens_details"] == {"thinking_tokens": 64}
    assert delta["usage"]["input_tokens"] == usage["input_tokens"]  # message_delta usage is cumulative


async def test_stream_tool_use_input_json_events(fake, make_client):
    client = make_client(fake)
    tool_input = {"findings": [{"quote": "The outage began at 09:14.", "comment": "Cite the source."}] * 3}
    fake.script(ToolUse("record_findings", tool_input, chunk_size=7))
    partials = []
    async with client.messages.stream(
        model=MODEL, max_tokens=MAX, messages=USER, tools=[FINDINGS_TOOL], tool_choice=AUTO
    ) as stream:
        async for event in stream:
            if event.type == "input_json":
                partials.append(event.partial_json)
        final = await stream.get_final_message()

    assert json.loads("".join(partials)) == tool_input
    assert partials[0] == "" and all(0 < len(p) <= 7 for p in partials[1:])
    block = first(final, "tool_use")
    assert block.name == "record_findings" and block.input == tool_input
    assert block.id.startswith("toolu_")
    assert final.stop_reason == "tool_use"
    assert fake.requests[0].json["tool_choice"] == AUTO


async def test_non_streaming_create(fake, make_client):
    client = make_client(fake)
    fake.script(Text("Connection OK."), ToolUse("record_findings", {"findings": []}))
    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
    assert kinds(msg) == ["thinking", "text"]
    assert text_of(msg) == "Connection OK." and msg.stop_reason == "end_turn"
    assert msg.content[0].thinking == "" and msg.content[0].signature
    assert msg.usage.input_tokens >= 1 and msg.usage.output_tokens == 64 + 4
    assert msg.usage.cache_read_input_tokens == 0

    msg = await client.messages.create(
        model=MODEL, max_tokens=MAX, messages=USER, tools=[FINDINGS_TOOL], tool_choice=AUTO
    )
    assert kinds(msg) == ["thinking", "tool_use"] and msg.content[1].input == {"findings": []}
    assert [r.stream for r in fake.requests] == [False, False]


def test_sync_client_and_default_responder(fake):
    client = anthropic.Anthropic(api_key="test", base_url=fake.url, max_retries=0)
    try:
        msg = client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
        assert text_of(msg) == "Hello from the fake Anthropic API."
        with client.messages.stream(
            model=FORCING_MODEL, max_tokens=MAX, messages=USER, tools=[FINDINGS_TOOL], tool_choice=FORCE_FINDINGS
        ) as stream:
            final = stream.get_final_message()
        tool = first(final, "tool_use")
        assert tool.name == "record_findings" and tool.input == {}
    finally:
        client.close()


def test_subprocess_client_via_env(fake):
    fake.script(Text("from a subprocess"))
    code = (
        "import anthropic;"
        "c = anthropic.Anthropic(max_retries=0);"
        f"m = c.messages.create(model={MODEL!r}, max_tokens={MAX}, messages=[{{'role': 'user', 'content': 'x'}}]);"
        "print(''.join(b.text for b in m.content if b.type == 'text'))"
    )
    env = {**os.environ, **fake.env()}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "from a subprocess"
    assert fake.requests[0].api_key == "test"


async def test_count_tokens_and_models(fake, make_client):
    client = make_client(fake)
    count = await client.messages.count_tokens(model=MODEL, messages=[{"role": "user", "content": "x" * 400}])
    assert count.input_tokens == 100
    info = await client.models.retrieve(MODEL)
    assert info.id == MODEL and info.type == "model"

    with FakeAnthropic(known_models={MODEL}) as strict:
        c2 = make_client(strict)
        with pytest.raises(anthropic.NotFoundError):
            await c2.models.retrieve("claude-nope")
        with pytest.raises(anthropic.NotFoundError) as ei:
            await c2.messages.create(model="claude-nope", max_tokens=5, messages=USER)
        assert ei.value.body["error"] == {"type": "not_found_error", "message": "model: claude-nope"}


async def test_in_loop_mode(make_client):
    async with FakeAnthropic(default=Text("in-loop")) as fake:
        client = make_client(fake)
        msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
        assert text_of(msg) == "in-loop"
        await client.close()
    assert fake.requests[0].completed


# ------------------------------------------------------------------ errors and retries


async def test_429_with_retry_after_ms_is_retried_then_succeeds(fake, make_client):
    client = make_client(fake, max_retries=2)
    fake.script(Error.rate_limited(retry_after_ms=5, retry_after=30), Text("after retry"))
    t0 = time.monotonic()
    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
    elapsed = time.monotonic() - t0
    assert text_of(msg) == "after retry"
    assert elapsed < 15.0  # retry-after-ms (5 ms) wins over retry-after (30 s)
    first_rec, second = fake.requests
    assert first_rec.status == 429 and second.status == 200
    assert first_rec.headers["x-stainless-retry-count"] == "0" and second.headers["x-stainless-retry-count"] == "1"
    assert second.received_at - first_rec.finished_at >= 0.004


async def test_429_exhausts_retries_into_rate_limit_error(fake, make_client):
    client = make_client(fake, max_retries=1)
    fake.script(Error.rate_limited(retry_after_ms=2), Error.rate_limited(retry_after_ms=2))
    with pytest.raises(anthropic.RateLimitError) as ei:
        await client.messages.create(model=MODEL, max_tokens=5, messages=USER)
    assert ei.value.status_code == 429
    assert ei.value.body["type"] == "error" and ei.value.body["error"]["type"] == "rate_limit_error"
    assert ei.value.response.headers["retry-after-ms"] == "2"
    assert len(fake.requests) == 2


def test_sdk_retry_after_parsing_has_no_cap():
    """Documents SDK behaviour the product must guard against itself: no upper bound."""
    from anthropic._models import FinalRequestOptions

    client = anthropic.Anthropic(api_key="test", base_url="http://127.0.0.1:9", max_retries=2)
    opts = FinalRequestOptions.construct(method="post", url="/v1/messages")
    calc = client._calculate_retry_timeout
    assert calc(2, opts, httpx2.Headers({"retry-after": "3600"})) == 3600
    assert calc(2, opts, httpx2.Headers({"retry-after-ms": "5", "retry-after": "3600"})) == 0.005
    assert 0.375 <= calc(2, opts, httpx2.Headers({"retry-after-ms": "0"})) <= 0.5  # 0 -> backoff
    assert 0.375 <= calc(2, opts, httpx2.Headers({})) <= 0.5
    client.close()


async def test_401_raises_authentication_error_without_retry(fake, make_client):
    client = make_client(fake, max_retries=2)
    fake.script(Error.auth())
    with pytest.raises(anthropic.AuthenticationError) as ei:
        await client.messages.create(model=MODEL, max_tokens=5, messages=USER)
    assert ei.value.status_code == 401
    assert ei.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
        "request_id": ei.value.body["request_id"],
    }
    assert len(fake.requests) == 1

    with FakeAnthropic(api_key="the-right-key") as strict:
        wrong = make_client(strict, api_key="wrong")
        with pytest.raises(anthropic.AuthenticationError):
            async with wrong.messages.stream(model=MODEL, max_tokens=5, messages=USER) as s:
                await s.get_final_message()
        right = make_client(strict, api_key="the-right-key")
        assert (await right.messages.create(model=MODEL, max_tokens=5, messages=USER)).content


@pytest.mark.parametrize(
    "reply, exc",
    [
        (Error.bad_request("max_tokens: too large"), anthropic.BadRequestError),
        (Error.not_found("model: x"), anthropic.NotFoundError),
        (Error.overloaded(), anthropic.OverloadedError),
        (Error.api_error(), anthropic.InternalServerError),
        (Error(403, "permission_error", "no"), anthropic.PermissionDeniedError),
    ],
)
async def test_error_statuses_map_to_sdk_classes(fake, make_client, reply, exc):
    client = make_client(fake)
    fake.script(reply)
    with pytest.raises(exc) as ei:
        async with client.messages.stream(model=MODEL, max_tokens=5, messages=USER) as s:
            await s.get_final_message()
    assert ei.value.status_code == reply.status
    assert ei.value.body["error"] == {"type": reply.type, "message": reply.message}


async def test_529_is_retried_by_default(fake, make_client):
    client = make_client(fake, max_retries=1)
    fake.script(Error.overloaded(**{"retry-after-ms": "3"}), Text("recovered"))
    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
    assert text_of(msg) == "recovered" and [r.status for r in fake.requests] == [529, 200]


@pytest.mark.parametrize("should_retry, statuses", [("false", [529]), ("true", [529, 529, 200])])
async def test_x_should_retry_header_decides_529_retries(fake, make_client, should_retry, statuses):
    client = make_client(fake, max_retries=2)
    err = Error.overloaded(**{"x-should-retry": should_retry, "retry-after-ms": "3"})
    fake.script(err, err, Text("third time"))
    if should_retry == "false":
        with pytest.raises(anthropic.OverloadedError) as ei:
            await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
        assert ei.value.response.headers["x-should-retry"] == "false"
    else:
        msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
        assert text_of(msg) == "third time"
    assert [r.status for r in fake.requests] == statuses


async def test_x_should_retry_true_retries_even_a_400(fake, make_client):
    client = make_client(fake, max_retries=1)
    fake.script(Error(400, "invalid_request_error", "flaky", {"x-should-retry": "true", "retry-after-ms": "3"}), Text("ok"))
    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
    assert text_of(msg) == "ok" and [r.status for r in fake.requests] == [400, 200]


async def test_validation_errors_are_400(fake):
    async with httpx2.AsyncClient() as http:
        r = await http.post(fake.url + "/v1/messages", json={"model": MODEL, "messages": USER})
        assert r.status_code == 400
        assert r.json()["error"] == {"type": "invalid_request_error", "message": "max_tokens: Field required"}
        r = await http.post(fake.url + "/v1/messages", json={"model": MODEL, "max_tokens": 5})
        assert r.json()["error"]["message"] == "messages: Field required"
        r = await http.post(fake.url + "/v1/messages", json={"max_tokens": 5, "messages": USER})
        assert r.json()["error"]["message"] == "model: Field required"
        r = await http.post(fake.url + "/v1/messages/count_tokens", json={"model": MODEL})
        assert r.status_code == 400 and r.json()["error"]["message"] == "messages: Field required"
        r = await http.get(fake.url + "/v1/nothing")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    assert fake.requests[0].rejected == "max_tokens: Field required"


async def test_mid_stream_error_raises_api_status_error_with_status_200(fake, make_client):
    client = make_client(fake, max_retries=2)
    fake.script(MidStreamError(2, Text("abcdefghijkl", chunk_size=3)))
    got = []
    with pytest.raises(anthropic.APIStatusError) as ei:
        async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER) as s:
            async for t in s.text_stream:
                got.append(t)
    assert type(ei.value) is anthropic.APIStatusError  # not OverloadedError, although the type says overloaded
    assert not isinstance(ei.value, anthropic.OverloadedError)
    assert ei.value.status_code == 200
    assert ei.value.body == {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    assert got == ["abc", "def"]  # the thinking block's signature delta is not a "chunk"
    assert len(fake.requests) == 1  # not retried
    assert fake.requests[0].completed and fake.requests[0].disconnected_at is None


async def test_mid_stream_error_non_streaming_is_http_529(fake, make_client):
    client = make_client(fake)
    fake.script(MidStreamError(1, Text("abc")))
    with pytest.raises(anthropic.OverloadedError):
        await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)


# ------------------------------------------------------------------ stalls, timeouts, drops


async def test_stall_after_headers_raises_api_timeout_error(fake, make_client):
    client = make_client(fake, max_retries=2)
    fake.script(Stall(1, Text("abcdefghijkl", chunk_size=3), seconds=5))
    got = []
    t0 = time.monotonic()
    with pytest.raises(anthropic.APITimeoutError) as ei:
        async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER, timeout=0.2) as s:
            async for t in s.text_stream:
                got.append(t)
    elapsed = time.monotonic() - t0
    assert isinstance(ei.value.__cause__, httpx2.ReadTimeout)  # SDK 2.17 wraps it (older SDKs leaked it raw)
    assert got == ["abc"] and 0.2 <= elapsed < 4.5  # the 0.2 s read timeout fired inside the 5 s stall
    rec = fake.requests[0]
    await fake.await_until(lambda: rec.disconnected_at, timeout=1)
    assert not rec.completed and rec.disconnected_at - t0 < 0.5
    assert len(fake.requests) == 1  # not retried


async def test_latency_beyond_timeout_raises_api_timeout_error_and_retries(fake, make_client):
    client = make_client(fake, max_retries=1)
    fake.script(Text("late", latency=2), Text("late", latency=2))
    with pytest.raises(anthropic.APITimeoutError) as ei:
        async with client.messages.stream(model=MODEL, max_tokens=5, messages=USER, timeout=0.15) as s:
            await s.get_final_message()
    assert isinstance(ei.value.__cause__, httpx2.ReadTimeout)
    assert isinstance(ei.value, anthropic.APIConnectionError)
    assert len(fake.requests) == 2  # retried once
    await fake.await_until(lambda: all(r.disconnected_at for r in fake.requests), timeout=1)
    assert all(r.status is None for r in fake.requests)


async def test_stall_then_continue_completes_with_generous_timeout(fake, make_client):
    client = make_client(fake)
    fake.script(Stall(2, Text("abcdefghijkl", chunk_size=3), seconds=0.2))
    t0 = time.monotonic()
    async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER, timeout=2) as s:
        text = await s.get_final_text()
    assert text == "abcdefghijkl" and time.monotonic() - t0 >= 0.2
    assert fake.requests[0].completed


async def test_drop_mid_stream_raises_api_connection_error(fake, make_client):
    client = make_client(fake, max_retries=2)
    fake.script(Drop(1, Text("abcdefghijkl", chunk_size=3)))
    got = []
    with pytest.raises(anthropic.APIConnectionError) as ei:
        async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER) as s:
            async for t in s.text_stream:
                got.append(t)
    assert not isinstance(ei.value, anthropic.APITimeoutError)
    assert isinstance(ei.value.__cause__, httpx2.RemoteProtocolError)
    assert got == ["abc"]
    assert len(fake.requests) == 1  # not retried


@pytest.mark.parametrize(
    "reply",
    [
        Text("x" * 400, chunk_size=4, delay_per_chunk=0.02),  # cancel while streaming
        Stall(1, Text("abcdefgh", chunk_size=2), seconds=5),  # cancel during a stall
    ],
    ids=["streaming", "stalled"],
)
async def test_cancel_closes_connection_within_200ms(fake, make_client, reply):
    client = make_client(fake)
    fake.script(reply)
    started = asyncio.Event()

    async def consume():
        async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER) as s:
            async for _ in s.text_stream:
                started.set()

    task = asyncio.create_task(consume())
    await asyncio.wait_for(started.wait(), 2)
    t_cancel = time.monotonic()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    rec = fake.requests[0]
    await fake.await_until(lambda: rec.disconnected_at, timeout=1)
    assert rec.disconnected_at - t_cancel < 0.2
    assert not rec.completed
    await fake.await_until(lambda: fake.in_flight == 0, timeout=1)


async def test_cancel_before_first_byte_is_detected(fake, make_client):
    client = make_client(fake)
    fake.script(Text("slow", latency=5))
    task = asyncio.create_task(client.messages.create(model=MODEL, max_tokens=5, messages=USER))
    await fake.await_until(lambda: fake.requests, timeout=2)
    t_cancel = time.monotonic()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    rec = fake.requests[0]
    await fake.await_until(lambda: rec.disconnected_at, timeout=1)
    assert rec.disconnected_at - t_cancel < 0.2 and rec.status is None


# ------------------------------------------------------------------ malformed tool JSON


async def test_malformed_tool_json(fake, make_client):
    client = make_client(fake)
    kwargs = dict(model=FORCING_MODEL, max_tokens=MAX, messages=USER, tools=[FINDINGS_TOOL], tool_choice=FORCE_FINDINGS)

    # Raw events: the concatenation is exactly the broken text and fails a strict parse.
    fake.script(MalformedToolJson('{"findings": [{"quote": "a"}}', chunk_size=5))
    stream = await client.messages.create(stream=True, **kwargs)
    raw = "".join(
        [
            e.delta.partial_json
            async for e in stream
            if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
        ]
    )
    assert raw == '{"findings": [{"quote": "a"}}'
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)
    assert fake.requests[-1].reply.name is None  # name taken from tool_choice

    # The stream helper's lenient partial parser accepts that one silently...
    fake.script(MalformedToolJson('{"findings": [{"quote": "a"}}', chunk_size=5))
    async with client.messages.stream(**kwargs) as s:
        final = await s.get_final_message()
    tool = first(final, "tool_use")
    assert tool.name == "record_findings" and tool.input == {"findings": [{"quote": "a"}]}

    # ...and raises ValueError for other breakage.
    fake.script(MalformedToolJson('{"findings": [,,]}'))
    with pytest.raises(ValueError, match="Unable to parse tool parameter JSON"):
        async with client.messages.stream(**kwargs) as s:
            await s.get_final_message()

    # Non-streaming: the broken input makes the whole body invalid JSON.
    fake.script(MalformedToolJson('{"findings": [,,]}'))
    with pytest.raises(json.JSONDecodeError):
        await client.messages.create(**kwargs)


# ------------------------------------------------------------------ responders, cache, concurrency, timing


async def test_responder_quotes_real_sentences_from_the_prompt(fake, make_client):
    section = "The database failover took 14 minutes. Nobody paged the on-call engineer. Logs were lost."

    def responder(body):
        sentences = [s.strip() + "." for s in prompt_text(body, system=False).split(".") if s.strip()]
        quotes = [s for s in sentences if "paged" in s or "lost" in s]
        return ToolUse(body["tools"][0]["name"], {"findings": [{"quote": q, "comment": "vague"} for q in quotes]})

    fake.default = responder
    client = make_client(fake)
    async with client.messages.stream(
        model=MODEL,
        max_tokens=MAX,
        system="You are a reviewer.",
        messages=[{"role": "user", "content": [{"type": "text", "text": section}]}],
        tools=[FINDINGS_TOOL],
        tool_choice=AUTO,
    ) as s:
        final = await s.get_final_message()
    quotes = [f["quote"] for f in first(final, "tool_use").input["findings"]]
    assert quotes == ["Nobody paged the on-call engineer.", "Logs were lost."]
    assert all(q in section for q in quotes)


async def test_responder_failure_is_a_500_and_recorded(fake, make_client):
    client = make_client(fake)
    fake.script(lambda body: 1 / 0)
    with pytest.raises(anthropic.InternalServerError):
        await client.messages.create(model=MODEL, max_tokens=5, messages=USER)
    assert isinstance(fake.requests[0].responder_error, ZeroDivisionError)
    assert fake.hook_errors


async def test_cache_control_recorded_and_cache_usage_simulated(fake, make_client):
    client = make_client(fake)
    system = [
        {"type": "text", "text": "Style guide. " * 200, "cache_control": {"type": "ephemeral"}},
    ]
    msgs = [{"role": "user", "content": "Section one."}]

    async def call():
        async with client.messages.stream(model=MODEL, max_tokens=MAX, system=system, messages=msgs) as s:
            return (await s.get_final_message()).usage

    first_u = await call()
    second = await call()
    style_tokens = len("Style guide. " * 200) // 4
    assert first_u.cache_creation_input_tokens == style_tokens and first_u.cache_read_input_tokens == 0
    assert first_u.cache_creation.ephemeral_5m_input_tokens == style_tokens
    assert first_u.cache_creation.ephemeral_1h_input_tokens == 0
    assert second.cache_read_input_tokens == style_tokens and second.cache_creation_input_tokens == 0
    assert first_u.input_tokens == second.input_tokens == len("Section one.") // 4
    rec = fake.requests[0]
    assert rec.cache_control == [{"where": "system[0]", "cache_control": {"type": "ephemeral"}, "block": system[0]}]
    assert rec.usage["cache_creation_input_tokens"] == style_tokens

    fake.script(Text("x", usage={"cache_read_input_tokens": 7, "input_tokens": 3}))
    third = await call()
    assert third.cache_read_input_tokens == 7 and third.input_tokens == 3


async def test_concurrency_and_timestamps(fake, make_client):
    client = make_client(fake)
    fake.default = Text("ok", latency=0.2)
    results = await asyncio.gather(
        *[client.messages.create(model=MODEL, max_tokens=MAX, messages=USER) for _ in range(5)]
    )
    assert len(results) == 5
    await fake.await_until(lambda: fake.in_flight == 0)  # the fake's bookkeeping ends after the reply
    assert fake.max_in_flight == 5, "the five requests were in flight together"
    assert fake.max_requests_in_window(5.0) == 5
    assert len(fake.timestamps()) == 5

    with FakeAnthropic(default=Text("ok", latency=0.2), max_concurrency=2) as limited:
        c2 = make_client(limited)
        outcomes = await asyncio.gather(
            *[c2.messages.create(model=MODEL, max_tokens=MAX, messages=USER) for _ in range(3)], return_exceptions=True
        )
        assert sum(isinstance(o, anthropic.RateLimitError) for o in outcomes) == 1


async def test_latency_ttfb_and_time_to_first_token(fake, make_client):
    seen = []
    fake.on_first_token = seen.append
    client = make_client(fake)
    fake.script(Text("abcdef", chunk_size=2, latency=0.1, delay_per_chunk=0.05))
    t0 = time.monotonic()
    async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER) as s:
        first_at = None
        async for _ in s.text_stream:
            first_at = first_at or time.monotonic()
    rec = fake.requests[0]
    assert 0.1 <= rec.time_to_first_byte < 0.6
    assert 0.15 <= rec.time_to_first_token < 0.8  # the first *answer* delta, not the signature
    assert first_at - t0 >= 0.15
    assert seen == [rec] and fake.ttft_samples() == [rec.time_to_first_token]
    assert rec.duration >= 0.25


def test_script_queue_then_default(fake):
    fake.default = Text("default")
    fake.script(Text("one"), Text("two"))
    assert fake.pending == 2
    client = anthropic.Anthropic(api_key="test", base_url=fake.url, max_retries=0)
    try:
        texts = [text_of(client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)) for _ in range(3)]
    finally:
        client.close()
    assert texts == ["one", "two", "default"] and fake.pending == 0
    assert default_responder({"tool_choice": FORCE_FINDINGS}).name == "record_findings"


def test_threaded_fake_serves_clients_from_other_threads(fake):
    errors = []

    def worker():
        try:
            c = anthropic.Anthropic(api_key="test", base_url=fake.url, max_retries=0)
            c.messages.create(model=MODEL, max_tokens=5, messages=USER)
            c.close()
        except Exception as e:  # pragma: no cover
            errors.append(e)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert not errors and len(fake.wait_for_requests(4)) == 4


# ------------------------------------------------------------------ models


async def test_deprecated_models_warn_and_default_is_current(fake, make_client):
    from anthropic._data import DEPRECATED_MODELS

    from redline.jobs.settings import DEFAULT_MODEL

    assert MODEL == DEFAULT_MODEL and MODEL not in DEPRECATED_MODELS
    # The SDK's own list changes between releases (claude-sonnet-4-5 left it by 2.16): take one from it.
    assert DEPRECATED_MODELS, "the SDK no longer lists deprecated models: this test needs a new witness"
    old = sorted(DEPRECATED_MODELS)[0]
    client = make_client(fake)
    with pytest.warns(DeprecationWarning, match=re.escape(old)):
        await client.messages.create(model=old, max_tokens=5, messages=USER)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        await client.messages.create(model=MODEL, max_tokens=5, messages=USER)
    with pytest.raises(TypeError):
        await client.messages.create(model=MODEL, max_tokens=5, messages=USER, temperature=0.2)  # type: ignore[call-arg]


# ------------------------------------------------------------------ request rules (one test per rule)


def test_rules_table_is_the_fakes_own():
    """The table is written from CLAUDE-API.md, not imported from the product."""
    src = open(os.path.join(os.path.dirname(__file__), "fake_anthropic.py")).read()
    assert not re.search(r"^\s*(from|import)\s+jobs\b", src, re.M)
    assert set(MODEL_RULES) == set(FIVE)
    assert [MODEL_RULES[m].forced_tool_choice for m in FIVE] == [False, False, True, True]
    assert [MODEL_RULES[m].min_cache_tokens for m in FIVE] == [512, 512, 512, 1024]
    assert all(not MODEL_RULES[m].prefill and not MODEL_RULES[m].thinking_budget for m in FIVE)


# 1. forced tool_choice


@pytest.mark.parametrize("model", ["claude-sonnet-5-5", "claude-opus-5-5"])
@pytest.mark.parametrize("choice", [{"type": "any"}, FORCE_FINDINGS])
async def test_rule1_forced_tool_choice_refused_on_5_5(fake, client, model, choice):
    kw = dict(model=model, messages=USER, tools=[FINDINGS_TOOL], tool_choice=choice)
    msg = await refused(client.messages.create, max_tokens=MAX, **kw)
    assert msg.startswith(f'tool_choice.type "{choice["type"]}" is not supported for {model}')
    assert "auto" in msg
    assert await refused(client.messages.count_tokens, **kw) == msg  # also on count_tokens
    assert fake.requests[0].rejected == msg
    for ok in ({"type": "auto"}, {"type": "none"}):  # the accepted counterpart
        answer = await client.messages.create(max_tokens=MAX, **{**kw, "tool_choice": ok})
        assert answer.stop_reason == "end_turn"
        assert (await client.messages.count_tokens(**{**kw, "tool_choice": ok})).input_tokens > 0


@pytest.mark.parametrize("model", ["claude-haiku-5-5", "claude-sonnet-5", OLD_MODEL])
@pytest.mark.parametrize("choice", [{"type": "any"}, FORCE_FINDINGS])
async def test_rule1_forced_tool_choice_accepted_elsewhere(client, model, choice):
    fake_reply = await client.messages.create(
        model=model, max_tokens=MAX, messages=USER, tools=[FINDINGS_TOOL], tool_choice=choice
    )
    if choice["type"] == "tool":  # the default responder answers a named tool with {}
        assert first(fake_reply, "tool_use").input == {} and fake_reply.stop_reason == "tool_use"
    assert (await client.messages.count_tokens(
        model=model, messages=USER, tools=[FINDINGS_TOOL], tool_choice=choice
    )).input_tokens > 0


# 2. sampling parameters


@pytest.mark.parametrize("model", FIVE + [OLD_MODEL])
@pytest.mark.parametrize("param, value", [("temperature", 1.0), ("temperature", 0), ("top_p", 0.99), ("top_k", 40)])
async def test_rule2_sampling_parameters_refused_at_any_value(fake, client, model, param, value):
    msg = await refused(client.messages.create, model=model, max_tokens=MAX, messages=USER, extra_body={param: value})
    assert msg.startswith(f"`{param}` is not supported with anthropic-version 2026-10-21")
    assert fake.requests[-1].json[param] == value
    assert (await client.messages.create(model=model, max_tokens=MAX, messages=USER)).stop_reason == "end_turn"


# 3. assistant prefill

PREFILL = USER + [{"role": "assistant", "content": "{"}]


@pytest.mark.parametrize("model", FIVE)
async def test_rule3_prefill_refused_on_5x(client, model):
    msg = await refused(client.messages.create, model=model, max_tokens=MAX, messages=PREFILL)
    assert msg == "This model does not support assistant message prefill. The conversation must end with a user message."
    # An assistant turn in the middle is fine; only the last turn matters.
    ok = PREFILL + [{"role": "user", "content": "Go on."}]
    assert (await client.messages.create(model=model, max_tokens=MAX, messages=ok)).stop_reason == "end_turn"


async def test_rule3_prefill_accepted_on_models_outside_the_table(client):
    answer = await client.messages.create(model=OLD_MODEL, max_tokens=MAX, messages=PREFILL)
    assert answer.stop_reason == "end_turn"


# 4. thinking


@pytest.mark.parametrize(
    "model, thinking, effort, error",
    [
        # manual budgets: refused on all four
        *[(m, {"type": "enabled", "budget_tokens": 2048}, None, '"thinking.type.enabled" is not supported') for m in FIVE],
        # disabled
        ("claude-sonnet-5-5", {"type": "disabled"}, None, "between_tools"),
        ("claude-opus-5-5", {"type": "disabled"}, "low", "between_tools"),
        ("claude-haiku-5-5", {"type": "disabled"}, None, None),
        ("claude-haiku-5-5", {"type": "disabled"}, "high", None),
        ("claude-haiku-5-5", {"type": "disabled"}, "xhigh", 'not supported at effort "xhigh"'),
        ("claude-haiku-5-5", {"type": "disabled"}, "max", 'not supported at effort "max"'),
        ("claude-sonnet-5", {"type": "disabled"}, "max", None),
        # between_tools
        ("claude-sonnet-5-5", {"type": "between_tools"}, "high", None),
        ("claude-opus-5-5", {"type": "between_tools"}, None, None),
        ("claude-sonnet-5-5", {"type": "between_tools"}, "xhigh", '"thinking.type.between_tools" is not supported at effort "xhigh"'),
        ("claude-sonnet-5-5", {"type": "between_tools"}, "max", "use adaptive thinking"),
        ("claude-sonnet-5-5", {"type": "between_tools", "display": "summarized"}, None, "thinking.between_tools.display: Extra inputs"),
        ("claude-sonnet-5-5", {"type": "between_tools", "budget_tokens": 2048}, None, "thinking.between_tools.budget_tokens"),
        # adaptive
        *[(m, {"type": "adaptive"}, "max", None) for m in FIVE],
        ("claude-sonnet-5-5", {"type": "adaptive", "display": "summarized"}, None, None),
        ("claude-sonnet-5-5", {"type": "adaptive", "display": "updates"}, None, "thinking.adaptive.display"),
        ("claude-sonnet-5-5", {"type": "adaptive", "budget_tokens": 2048}, None, "thinking.adaptive.budget_tokens"),
        ("claude-sonnet-5-5", {"type": "sometimes"}, None, "thinking.type: Input should be"),
        # models outside the table keep the old rules
        (OLD_MODEL, {"type": "enabled", "budget_tokens": 2048}, None, None),
        (OLD_MODEL, {"type": "enabled", "budget_tokens": 512}, None, "greater than or equal to 1024"),
        (OLD_MODEL, {"type": "enabled", "budget_tokens": 4000}, None, "`max_tokens` must be greater than `thinking.budget_tokens`"),
        (OLD_MODEL, {"type": "disabled"}, None, None),
    ],
)
async def test_rule4_thinking_configurations(client, model, thinking, effort, error):
    kw = dict(model=model, max_tokens=4000, messages=USER, thinking=thinking)
    if effort:
        kw["output_config"] = {"effort": effort}
    if error is None:
        assert (await client.messages.create(**kw)).stop_reason == "end_turn"
    else:
        assert error in await refused(client.messages.create, **kw)


async def test_rule4_display_updates_needs_its_beta_header(client):
    kw = dict(model=MODEL, max_tokens=MAX, messages=USER, thinking={"type": "adaptive", "display": "updates"})
    await refused(client.messages.create, **kw)
    answer = await client.messages.create(**kw, extra_headers={"anthropic-beta": "thinking-display-updates-2026-08-18"})
    assert answer.stop_reason == "end_turn"


# 5. output_config


@pytest.mark.parametrize("effort", ["low", "medium", "high", "xhigh", "max"])
async def test_rule5_effort_levels_accepted(client, effort):
    answer = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER, output_config={"effort": effort})
    assert answer.stop_reason == "end_turn"


@pytest.mark.parametrize(
    "output_config, error",
    [
        ({"effort": "extreme"}, "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"),
        ({"effort": "HIGH"}, "output_config.effort: Input should be"),
        ({"format": {"type": "json_object", "schema": {}}}, "output_config.format.type: Input should be 'json_schema'"),
        ({"format": {"type": "json_schema"}}, "output_config.format.schema: Field required"),
        ({"verbosity": "low"}, "output_config.verbosity: Extra inputs are not permitted"),
    ],
)
async def test_rule5_output_config_shape(client, output_config, error):
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, messages=USER, output_config=output_config)
    assert msg.startswith(error)


def _with(path: list, **change) -> dict:
    """FINDINGS_SCHEMA with ``change`` merged into the sub-schema at ``path``."""
    schema = json.loads(json.dumps(FINDINGS_SCHEMA))
    node = schema
    for key in path:
        node = node[key]
    node.update(change)
    for k, v in list(node.items()):
        if v is None:
            del node[k]
    return schema


ITEM = ["properties", "findings", "items"]


@pytest.mark.parametrize(
    "schema, error",
    [
        (_with([], additionalProperties=None), "output_config.format.schema: For 'object' type, 'additionalProperties' must be explicitly set to false"),
        (_with([], additionalProperties=True), "output_config.format.schema: For 'object' type"),
        (_with(ITEM, additionalProperties=None), "output_config.format.schema.properties.findings.items: For 'object' type"),
        (
            _with(["properties", "findings", "items", "properties", "note"], anyOf=[{"type": "object", "properties": {}}, {"type": "null"}]),
            "output_config.format.schema.properties.findings.items.properties.note.anyOf[0]: For 'object' type",
        ),
        (_with(["properties", "score"], minimum=0), "output_config.format.schema.properties.score: For 'number' type, property 'minimum' is not supported"),
        (_with(["properties", "score"], maximum=10), "property 'maximum' is not supported"),
        (_with(["properties", "score"], exclusiveMinimum=0), "property 'exclusiveMinimum' is not supported"),
        (_with(["properties", "score"], exclusiveMaximum=10), "property 'exclusiveMaximum' is not supported"),
        (_with(["properties", "score"], multipleOf=0.5), "property 'multipleOf' is not supported"),
        (_with(["properties", "summary"], minLength=1), "For 'string' type, property 'minLength' is not supported"),
        (_with(["properties", "summary"], maxLength=99), "property 'maxLength' is not supported"),
        (_with(["properties", "findings"], minItems=2), "'minItems' values other than 0 or 1 are not supported"),
        (_with(["properties", "findings"], maxItems=5), "property 'maxItems' is not supported"),
        (_with(["properties", "summary"], **{"$ref": "https://example.com/s.json"}), "external $ref 'https://example.com/s.json' is not supported"),
        (
            {"$ref": "#/$defs/Node", "$defs": {"Node": {"type": "object", "additionalProperties": False,
                                                        "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}}}}},
            "recursive schemas are not supported",
        ),
    ],
    ids=[
        "root-no-additionalProperties", "root-additionalProperties-true", "nested-items", "nested-anyOf",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength",
        "minItems-2", "maxItems", "external-ref", "recursive",
    ],
)
async def test_rule5_schema_rules(client, schema, error):
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, messages=USER, output_config=fmt(schema))
    assert error in msg
    assert msg == "output_config.format." + schema_problem(schema)  # the same walk, without a server


@pytest.mark.parametrize(
    "schema",
    [
        FINDINGS_SCHEMA,
        _with(["properties", "findings"], minItems=1),
        _with(["properties", "findings"], minItems=0),
        {"$ref": "#/$defs/Out", "$defs": {"Out": {"type": "object", "additionalProperties": False,
                                                  "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}},
    ],
    ids=["findings", "minItems-1", "minItems-0", "local-ref"],
)
async def test_rule5_valid_schemas_are_answered_with_a_minimal_instance(client, schema):
    answer = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER, output_config=fmt(schema))
    assert schema_problem(schema) is None
    assert json.loads(text_of(answer)) == minimal_instance(schema)


# 6. citations

DOC_TEXT = "The outage began at 09:14. The pager did not fire. Logs from 09:00 to 09:30 were lost."


def doc(data: str = DOC_TEXT, citations: Optional[bool] = True, title: str = "Incident 42") -> dict:
    d = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": data}, "title": title}
    if citations is not None:
        d["citations"] = {"enabled": citations}
    return d


def ask(*blocks) -> list:
    return [{"role": "user", "content": [*blocks, {"type": "text", "text": "Review it."}]}]


@pytest.mark.parametrize("second", [False, None], ids=["disabled", "absent"])
async def test_rule6_citations_all_or_none(client, second):
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, messages=ask(doc(), doc(citations=second)))
    assert msg.startswith("Citations must be enabled on all documents or on none of them: 1 of 2")
    for both in ((True, True), (False, None)):
        answer = await client.messages.create(model=MODEL, max_tokens=MAX, messages=ask(doc(citations=both[0]), doc(citations=both[1])))
        assert answer.stop_reason == "end_turn"


async def test_rule6_cited_text_in_user_turn_and_document_in_assistant_turn(client):
    cited = {"type": "text", "text": "began at 09:14", "citations": [{
        "type": "char_location", "cited_text": "began", "document_index": 0, "document_title": None,
        "start_char_index": 11, "end_char_index": 16}]}
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, messages=ask(doc(), cited))
    assert msg.startswith("messages.0.content.1: text blocks with citations are not accepted in user messages")
    turns = ask(doc()) + [{"role": "assistant", "content": [cited]}, {"role": "user", "content": "More?"}]
    assert (await client.messages.create(model=MODEL, max_tokens=MAX, messages=turns)).stop_reason == "end_turn"
    bad = ask(doc()) + [{"role": "assistant", "content": [doc()]}, {"role": "user", "content": "More?"}]
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, messages=bad)
    assert msg.startswith("messages.1.content.0: document blocks are not accepted in assistant messages")


async def test_rule5_6_structured_output_with_citations_refused(client):
    msg = await refused(
        client.messages.create, model=MODEL, max_tokens=MAX, messages=ask(doc()), output_config=fmt(FINDINGS_SCHEMA)
    )
    assert msg.startswith("Citations are not supported together with structured outputs")
    answer = await client.messages.create(
        model=MODEL, max_tokens=MAX, messages=ask(doc(citations=False)), output_config=fmt(FINDINGS_SCHEMA)
    )
    assert json.loads(text_of(answer)) == {"findings": [], "summary": "", "score": 0}


# 7. max_tokens


@pytest.mark.parametrize("model", FIVE + [OLD_MODEL])
async def test_rule7_max_tokens_limit(client, model):
    msg = await refused(client.messages.create, model=model, max_tokens=128_001, messages=USER, timeout=30)
    assert msg == f"max_tokens: 128001 > 128000, which is the maximum allowed number of output tokens for {model}"
    answer = await client.messages.create(model=model, max_tokens=128_000, messages=USER, timeout=30)
    assert answer.stop_reason == "end_turn"


async def test_rule7_max_tokens_must_be_a_non_negative_integer(client):
    assert (await refused(client.messages.create, model=MODEL, max_tokens=-1, messages=USER)).startswith("max_tokens:")
    msg = await refused(client.messages.create, model=MODEL, max_tokens=5, messages=USER, extra_body={"max_tokens": "5"})
    assert msg == "max_tokens: Input should be a valid integer"


# 8. prompt caching rules

CC = {"type": "ephemeral"}
CC_1H = {"type": "ephemeral", "ttl": "1h"}


def blocks(n: int, cc=CC, text: str = "Block {i}. ") -> list:
    return [{"type": "text", "text": text.format(i=i) * 60, "cache_control": cc} for i in range(n)]


async def test_rule8_at_most_four_breakpoints(client):
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, system=blocks(5), messages=USER)
    assert msg == "A maximum of 4 blocks with cache_control may be provided. Found 5."
    # the top-level cache_control takes one of the four slots
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, system=blocks(4), messages=USER, cache_control=CC)
    assert msg == "A maximum of 4 blocks with cache_control may be provided. Found 5."
    assert (await client.messages.create(model=MODEL, max_tokens=MAX, system=blocks(4), messages=USER)).stop_reason == "end_turn"
    answer = await client.messages.create(model=MODEL, max_tokens=MAX, system=blocks(3), messages=USER, cache_control=CC)
    assert answer.stop_reason == "end_turn"


async def test_rule8_one_hour_entries_must_come_first(client):
    late_1h = blocks(1, CC) + blocks(1, CC_1H, "Other {i}. ")
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, system=late_1h, messages=USER)
    assert msg.startswith("A cache_control block with ttl='1h' (system[1]) cannot come after one with ttl='5m' (system[0])")
    # 1h in the system prompt then a 5m breakpoint in the messages: fine
    msg_5m = [{"role": "user", "content": [{"type": "text", "text": "Section. " * 100, "cache_control": CC}]}]
    answer = await client.messages.create(model=MODEL, max_tokens=MAX, system=blocks(1, CC_1H), messages=msg_5m)
    assert answer.stop_reason == "end_turn"
    # a 5m tool then a 1h system block: tools come first -> refused
    tool_5m = {**FINDINGS_TOOL, "cache_control": CC}
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, tools=[tool_5m], system=blocks(1, CC_1H), messages=USER)
    assert "(system[0]) cannot come after one with ttl='5m' (tools[0])" in msg
    # top-level ttl conflicting with the last block's own
    last_1h = [{"role": "user", "content": [{"type": "text", "text": "x", "cache_control": CC_1H}]}]
    msg = await refused(client.messages.create, model=MODEL, max_tokens=MAX, messages=last_1h, cache_control=CC)
    assert msg.startswith("The top-level cache_control (ttl='5m') conflicts")


# 9. context window


async def test_rule9_prompt_too_long(make_client):
    with FakeAnthropic(context_window=1000) as small:
        client = make_client(small)
        long_prompt = [{"role": "user", "content": "x" * 4000 + "yyyy"}]  # 1001 tokens
        msg = await refused(client.messages.create, model=MODEL, max_tokens=10, messages=long_prompt)
        assert msg == "prompt is too long: 1001 tokens > 1000 maximum"
        fits = [{"role": "user", "content": "x" * 3600}]  # 900 tokens
        msg = await refused(client.messages.create, model=MODEL, max_tokens=101, messages=fits)
        assert msg == "prompt is too long: 1001 tokens > 1000 maximum"  # input + max_tokens
        answer = await client.messages.create(model=MODEL, max_tokens=100, messages=fits)
        assert answer.usage.input_tokens == 900 and answer.stop_reason in ("end_turn", "max_tokens")
    with FakeAnthropic() as default:
        assert default.context_window == 1_000_000


async def test_rule9_context_exceeded_reply(fake, client):
    fake.script(ContextExceeded("The review stops here"), Text("cut", stop_reason="model_context_window_exceeded"))
    events, final = await streamed(client, model=MODEL, max_tokens=MAX, messages=USER)
    assert final.stop_reason == "model_context_window_exceeded" and text_of(final) == "The review stops here"
    assert [e for e in events if e.type == "message_delta"][0].delta.stop_reason == "model_context_window_exceeded"
    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
    assert msg.stop_reason == "model_context_window_exceeded" and text_of(msg) == "cut"


# strict=False / per-instance rules


async def test_strict_false_accepts_odd_shapes(make_client):
    with FakeAnthropic(strict=False) as lax:
        client = make_client(lax)
        answer = await client.messages.create(
            model=MODEL, max_tokens=MAX, messages=PREFILL, tools=[FINDINGS_TOOL], tool_choice={"type": "any"},
            thinking={"type": "disabled"}, extra_body={"temperature": 0.3},
        )
        assert answer.stop_reason == "end_turn" and not any(r.rejected for r in lax.requests)
        with pytest.raises(anthropic.BadRequestError):  # validate= still applies
            await client.messages.create(model=MODEL, max_tokens=5, messages=[])


async def test_model_rules_can_be_overridden_per_instance(make_client):
    rules = {"claude-haiku-5-5": ModelRules(forced_tool_choice=False, prefill=False, thinking_budget=False,
                                            thinking_by_default=True, min_cache_tokens=512)}
    with FakeAnthropic(model_rules=rules) as f:
        client = make_client(f)
        msg = await refused(client.messages.create, model="claude-haiku-5-5", max_tokens=MAX, messages=USER,
                            tools=[FINDINGS_TOOL], tool_choice={"type": "any"})
        assert "is not supported for claude-haiku-5-5" in msg
    assert MODEL_RULES["claude-haiku-5-5"].forced_tool_choice  # the module table is untouched


def test_check_request_works_without_a_server():
    body = {"model": MODEL, "max_tokens": 10, "messages": USER}
    assert check_request(body) is None
    assert check_request({**body, "top_k": 5}).startswith("`top_k` is not supported")
    assert check_request({**body, "tool_choice": {"type": "any"}}, endpoint="count_tokens").startswith("tool_choice.type")
    assert check_request({**body, "messages": PREFILL}, endpoint="count_tokens") is None  # prefill: messages only


# ------------------------------------------------------------------ thinking by default


@pytest.mark.parametrize("model", FIVE)
async def test_thinking_block_first_by_default_streaming(fake, client, model):
    fake.script(Text("The answer.", chunk_size=4))
    events, final = await streamed(client, model=model, max_tokens=MAX, messages=USER)
    starts = [e for e in events if e.type == "content_block_start"]
    assert [(e.index, e.content_block.type) for e in starts] == [(0, "thinking"), (1, "text")]
    assert starts[0].content_block.thinking == ""
    deltas = [e.delta.type for e in events if e.type == "content_block_delta" and e.index == 0]
    assert deltas == ["signature_delta"]  # display omitted: no thinking_delta at all
    assert [e.type for e in events if e.type == "signature"] == ["signature"]  # the SDK's helper event
    thinking = final.content[0]
    assert thinking.type == "thinking" and thinking.thinking == "" and len(thinking.signature) > 40
    assert text_of(final) == "The answer." and final.content[1].type == "text"
    assert final.usage.output_tokens == 64 + 3 and final.usage.output_tokens_details.thinking_tokens == 64


@pytest.mark.parametrize("model", FIVE)
async def test_thinking_block_first_by_default_non_streaming(fake, client, model):
    fake.script(ToolUse("record_findings", {"findings": []}, thinking_tokens=10))
    msg = await client.messages.create(model=model, max_tokens=MAX, messages=USER, tools=[FINDINGS_TOOL])
    assert kinds(msg) == ["thinking", "tool_use"]
    assert msg.content[0].thinking == "" and msg.content[0].signature
    assert msg.usage.output_tokens == 10 + 4 and msg.usage.output_tokens_details.thinking_tokens == 10


async def test_thinking_summarized_display_streams_thinking_deltas(fake, client):
    fake.script(Text("Done.", thinking_summary="Checking the timeline against the logs.", chunk_size=10))
    events, final = await streamed(
        client, model=MODEL, max_tokens=MAX, messages=USER, thinking={"type": "adaptive", "display": "summarized"}
    )
    deltas = [e.delta for e in events if e.type == "content_block_delta" and e.index == 0]
    assert [d.type for d in deltas] == ["thinking_delta"] * 4 + ["signature_delta"]
    assert "".join(d.thinking for d in deltas[:-1]) == "Checking the timeline against the logs."
    assert final.content[0].thinking == "Checking the timeline against the logs."
    msg = await client.messages.create(
        model=MODEL, max_tokens=MAX, messages=USER, thinking={"type": "adaptive", "display": "summarized"}
    )
    assert msg.content[0].type == "thinking" and msg.content[0].thinking  # a stock summary


@pytest.mark.parametrize(
    "model, thinking",
    [(MODEL, {"type": "between_tools"}), ("claude-haiku-5-5", {"type": "disabled"}),
     ("claude-sonnet-5", {"type": "disabled"}), (OLD_MODEL, None)],
)
async def test_no_thinking_block_when_thinking_is_off(fake, client, model, thinking):
    fake.script(Text("Plain."), Text("Plain."))
    kw = dict(model=model, max_tokens=MAX, messages=USER)
    if thinking:
        kw["thinking"] = thinking
    events, final = await streamed(client, **kw)
    assert kinds(final) == ["text"] and [e.index for e in events if e.type == "content_block_start"] == [0]
    assert final.usage.output_tokens == 2 and final.usage.output_tokens_details.thinking_tokens == 0
    msg = await client.messages.create(**kw)
    assert kinds(msg) == ["text"]


async def test_explicit_thinking_on_a_model_outside_the_table(fake, client):
    msg = await client.messages.create(
        model=OLD_MODEL, max_tokens=4000, messages=USER, thinking={"type": "enabled", "budget_tokens": 2048}
    )
    assert kinds(msg) == ["thinking", "text"] and msg.content[0].thinking  # old models show summaries


# ------------------------------------------------------------------ max_tokens covers thinking + answer


async def test_small_max_tokens_cuts_the_answer(fake, client):
    long = "Finding: " + "the timeline is vague. " * 20  # 469 chars, 118 tokens
    fake.script(Text(long, chunk_size=7), Text(long))
    events, final = await streamed(client, model=MODEL, max_tokens=70, messages=USER)  # 64 thinking + 6 answer
    assert final.stop_reason == "max_tokens"
    assert text_of(final) == long[:24]
    assert final.usage.output_tokens == 70 and final.usage.output_tokens_details.thinking_tokens == 64
    msg = await client.messages.create(model=MODEL, max_tokens=70, messages=USER)
    assert msg.stop_reason == "max_tokens" and text_of(msg) == long[:24] and msg.usage.output_tokens == 70


async def test_max_tokens_below_thinking_leaves_no_answer(fake, client):
    fake.script(Text("An answer that never comes."))
    msg = await client.messages.create(model=MODEL, max_tokens=50, messages=USER)
    assert kinds(msg) == ["thinking"] and msg.stop_reason == "max_tokens"
    assert msg.usage.output_tokens == 50 and msg.usage.output_tokens_details.thinking_tokens == 50


async def test_cut_tool_input_is_partial_json(fake, client):
    tool_input = {"findings": [{"quote": "short", "comment": "c" * 40}]}
    fake.script(ToolUse("record_findings", tool_input, chunk_size=8), ToolUse("record_findings", tool_input))
    kw = dict(model=MODEL, max_tokens=64 + 10, messages=USER, tools=[FINDINGS_TOOL])  # 40 chars of JSON
    events, final = await streamed(client, **kw)
    raw = "".join(e.delta.partial_json for e in events if e.type == "content_block_delta" and e.delta.type == "input_json_delta")
    assert raw == '{"findings":[{"quote":"short","comment":'
    cut = {"findings": [{"quote": "short"}]}  # what the SDK's partial parser makes of it
    assert final.stop_reason == "max_tokens" and first(final, "tool_use").input == cut
    msg = await client.messages.create(**kw)
    assert msg.stop_reason == "max_tokens" and first(msg, "tool_use").input == cut


async def test_max_tokens_zero_prewarms_the_cache(fake, client):
    system = [{"type": "text", "text": "Rules for reviewers. " * 120, "cache_control": CC}]  # 630 tokens
    warm = await client.messages.create(model=MODEL, max_tokens=0, system=system, messages=USER)
    assert warm.content == [] and warm.stop_reason == "max_tokens" and warm.usage.output_tokens == 0
    assert warm.usage.cache_creation_input_tokens == 630
    msg = await client.messages.create(model=MODEL, max_tokens=MAX, system=system, messages=USER)
    assert msg.usage.cache_read_input_tokens == 630 and text_of(msg)


# ------------------------------------------------------------------ structured output replies


class Finding(pydantic.BaseModel):
    quote: str
    severity: str
    comment: Optional[str]


class Findings(pydantic.BaseModel):
    findings: list[Finding]
    summary: str


FOUND = {"findings": [{"quote": "The pager did not fire.", "severity": "major", "comment": None}], "summary": "One gap."}


async def test_json_reply_streams_text_deltas_and_the_sdk_parses_it(fake, client):
    fake.script(Json(FOUND, chunk_size=9))
    events, _ = [], None
    async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER, output_format=Findings) as s:
        async for event in s:
            events.append(event)
        final = await s.get_final_message()
    texts = [e.delta.text for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"]
    assert "".join(texts) == json.dumps(FOUND) and all(len(t) <= 9 for t in texts) and len(texts) > 5
    assert final.parsed_output == Findings.model_validate(FOUND) and final.stop_reason == "end_turn"
    sent = fake.requests[0].json["output_config"]["format"]
    assert sent["type"] == "json_schema" and schema_problem(sent["schema"]) is None  # the SDK's schema passes

    fake.script(Json(FOUND))
    parsed = await client.messages.parse(model=MODEL, max_tokens=MAX, messages=USER, output_format=Findings)
    assert kinds(parsed) == ["thinking", "text"] and parsed.parsed_output == Findings.model_validate(FOUND)


async def test_default_responder_answers_a_schema_with_a_minimal_instance(client):
    parsed = await client.messages.parse(model=MODEL, max_tokens=MAX, messages=USER, output_format=Findings)
    assert parsed.parsed_output == Findings(findings=[], summary="")
    async with client.messages.stream(model=MODEL, max_tokens=MAX, messages=USER, output_format=Findings) as s:
        assert (await s.get_final_message()).parsed_output == Findings(findings=[], summary="")


def test_minimal_instance_and_default_responder():
    schema = {
        "type": "object", "additionalProperties": False, "required": ["a", "b", "c", "d", "e", "f", "g", "h"],
        "properties": {
            "a": {"type": "string"}, "b": {"type": "integer"}, "c": {"type": "number"}, "d": {"type": "boolean"},
            "e": {"type": ["string", "null"]}, "f": {"enum": ["low", "high"]}, "g": {"type": "array", "items": {"type": "string"}},
            "h": {"$ref": "#/$defs/H"}, "optional": {"type": "string"},
        },
        "$defs": {"H": {"type": "object", "additionalProperties": False, "properties": {"x": {"const": 7}}, "required": ["x"]}},
    }
    assert minimal_instance(schema) == {"a": "", "b": 0, "c": 0, "d": False, "e": None, "f": "low", "g": [], "h": {"x": 7}}
    reply = default_responder({"output_config": fmt(schema), "tool_choice": FORCE_FINDINGS})
    assert isinstance(reply, Json) and reply.value == minimal_instance(schema)  # format wins over a named tool
    assert isinstance(default_responder({"tool_choice": FORCE_FINDINGS}), ToolUse)
    assert isinstance(default_responder({}), Text)


# ------------------------------------------------------------------ refusals


async def test_refusal_streaming_and_not(fake, client):
    fake.script(Refusal(category="cyber", explanation="Exploit development.", text="I can help with the"), Refusal())
    events, final = await streamed(client, model=MODEL, max_tokens=MAX, messages=USER)
    delta = next(e for e in events if e.type == "message_delta")
    assert delta.delta.stop_reason == "refusal"
    assert delta.delta.stop_details.type == "refusal" and delta.delta.stop_details.category == "cyber"
    assert final.stop_reason == "refusal" and text_of(final) == "I can help with the"
    assert final.stop_details.explanation == "Exploit development."
    assert fake.requests[0].status == 200

    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
    assert msg.stop_reason == "refusal" and kinds(msg) == ["thinking"]
    assert msg.stop_details.model_dump() == {
        "type": "refusal", "category": "general_harms", "explanation": Refusal().explanation,
    }
    ok = await client.messages.create(model=MODEL, max_tokens=MAX, messages=USER)
    assert ok.stop_details is None


# ------------------------------------------------------------------ citations


async def test_citations_char_location_streamed_and_not(fake, client):
    reply = Text("", citations=["The write-up says ", Cite("the pager never fired", 1, 27, 50), "."], chunk_size=8)
    fake.script(reply, reply)
    messages = ask(doc("Unrelated first document.", title="Other"), doc())
    events, final = await streamed(client, model=MODEL, max_tokens=MAX, messages=messages)
    starts = [e.content_block for e in events if e.type == "content_block_start"]
    assert [b.type for b in starts] == ["thinking", "text", "text", "text"]
    assert starts[2].citations == [] and starts[1].citations is None
    cited = [e for e in events if e.type == "content_block_delta" and e.delta.type == "citations_delta"]
    assert len(cited) == 1 and cited[0].index == 2
    c = cited[0].delta.citation
    assert (c.type, c.cited_text, c.document_index, c.document_title, c.start_char_index, c.end_char_index) == (
        "char_location", "The pager did not fire.", 1, "Incident 42", 27, 50)
    assert DOC_TEXT[27:50] == "The pager did not fire."
    assert [e.type for e in events if e.type == "citation"] == ["citation"]  # the SDK's helper event
    assert text_of(final) == "The write-up says the pager never fired."
    assert final.content[2].citations == [c] and not final.content[1].citations

    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=messages)
    assert kinds(msg) == ["thinking", "text", "text", "text"]
    assert msg.content[2].citations[0].cited_text == "The pager did not fire."


async def test_citations_content_block_location(fake, client):
    source = {"type": "content", "content": [{"type": "text", "text": "Timeline."}, {"type": "text", "text": "Pager silent."},
                                             {"type": "text", "text": "Logs lost."}]}
    document = {"type": "document", "source": source, "title": "Chunks", "citations": {"enabled": True}}
    fake.script(Text("Two gaps: ", citations=[Cite("pager and logs", 0, 1, 3)]))
    msg = await client.messages.create(model=MODEL, max_tokens=MAX, messages=ask(document))
    c = msg.content[2].citations[0]
    assert (c.type, c.cited_text, c.start_block_index, c.end_block_index, c.document_title) == (
        "content_block_location", "Pager silent.Logs lost.", 1, 3, "Chunks")
    assert text_of(msg) == "Two gaps: pager and logs"


async def test_citing_a_document_without_citations_is_a_test_bug(fake, client):
    fake.script(Text("", citations=[Cite("x", 0, 0, 1)]))
    with pytest.raises(anthropic.InternalServerError):
        await client.messages.create(model=MODEL, max_tokens=MAX, messages=ask(doc(citations=False)))
    assert "citations enabled" in str(fake.hook_errors[0])


# ------------------------------------------------------------------ prompt cache simulation


def cached_system(tokens: int, cc=CC, word: str = "rule") -> list:
    return [{"type": "text", "text": (word + " ")[:4] * tokens, "cache_control": cc}]


@pytest.mark.parametrize(
    "model, tokens, cached",
    [("claude-sonnet-5-5", 511, False), ("claude-sonnet-5-5", 512, True), ("claude-opus-5-5", 512, True),
     ("claude-haiku-5-5", 512, True), ("claude-sonnet-5", 1023, False), ("claude-sonnet-5", 1024, True),
     (OLD_MODEL, 1023, False), (OLD_MODEL, 1024, True)],
)
async def test_minimum_cacheable_prompt_length(client, model, tokens, cached):
    kw = dict(model=model, max_tokens=MAX, system=cached_system(tokens), messages=USER)
    one = (await client.messages.create(**kw)).usage
    two = (await client.messages.create(**kw)).usage
    if cached:
        assert (one.cache_creation_input_tokens, one.cache_read_input_tokens) == (tokens, 0)
        assert (two.cache_creation_input_tokens, two.cache_read_input_tokens) == (0, tokens)
    else:  # silently not cached: everything is plain input
        for u in (one, two):
            assert (u.cache_creation_input_tokens, u.cache_read_input_tokens) == (0, 0)
            assert u.cache_creation.ephemeral_5m_input_tokens == 0
            assert u.input_tokens == tokens + 5  # + "Review this section." (20 chars)


async def test_cache_creation_split_by_ttl(client):
    system = cached_system(600, CC_1H, "rule") + cached_system(300, CC, "more")
    kw = dict(model=MODEL, max_tokens=MAX, system=system, messages=USER)
    u = (await client.messages.create(**kw)).usage
    assert u.cache_creation.ephemeral_1h_input_tokens == 600 and u.cache_creation.ephemeral_5m_input_tokens == 300
    assert u.cache_creation_input_tokens == 900 and u.cache_read_input_tokens == 0
    # A new second block: the 1h part is read, the new 5m part written.
    changed = system[:1] + cached_system(300, CC, "diff")
    u = (await client.messages.create(**{**kw, "system": changed})).usage
    assert u.cache_read_input_tokens == 600 and u.cache_creation.ephemeral_5m_input_tokens == 300
    assert u.cache_creation.ephemeral_1h_input_tokens == 0


async def test_top_level_cache_control_and_lookback(client):
    turns = [{"role": "user", "content": "x" * 2400}]  # 600 tokens
    u1 = (await client.messages.create(model=MODEL, max_tokens=MAX, messages=turns, cache_control=CC)).usage
    assert u1.cache_creation_input_tokens == 600
    longer = turns + [{"role": "assistant", "content": "ok"}, {"role": "user", "content": "y" * 400}]
    u2 = (await client.messages.create(model=MODEL, max_tokens=MAX, messages=longer, cache_control=CC)).usage
    # the breakpoint moved to the last block; looking back finds the 600-token prefix
    assert u2.cache_read_input_tokens == 600 and u2.cache_creation_input_tokens == 1 + 100
    assert u2.input_tokens == 0


async def test_cache_misses_when_model_format_or_tool_choice_changes(client):
    kw = dict(model=MODEL, max_tokens=MAX, system=cached_system(600), messages=USER)
    assert (await client.messages.create(**kw)).usage.cache_creation_input_tokens == 600
    assert (await client.messages.create(**kw)).usage.cache_read_input_tokens == 600
    other_model = (await client.messages.create(**{**kw, "model": "claude-opus-5-5"})).usage
    assert other_model.cache_read_input_tokens == 0 and other_model.cache_creation_input_tokens == 600
    with_format = (await client.messages.create(**kw, output_config=fmt(FINDINGS_SCHEMA))).usage
    assert with_format.cache_read_input_tokens == 0
    # tool_choice / effort only invalidate the messages part: a cached system prompt is still read
    with_effort = (await client.messages.create(**kw, output_config={"effort": "low"})).usage
    assert with_effort.cache_read_input_tokens == 600
    turns = [{"role": "user", "content": [{"type": "text", "text": "z" * 2400, "cache_control": CC}]}]
    kw2 = dict(model=MODEL, max_tokens=MAX, messages=turns)
    assert (await client.messages.create(**kw2)).usage.cache_creation_input_tokens == 600
    assert (await client.messages.create(**kw2, output_config={"effort": "low"})).usage.cache_read_input_tokens == 0


async def test_cache_entry_readable_only_once_the_writer_has_started(fake, client):
    kw = dict(model=MODEL, max_tokens=MAX, system=cached_system(600), messages=USER)
    fake.script(Text("slow writer", latency=0.3), Text("early second"), Text("after both"))
    slow = asyncio.create_task(client.messages.create(**kw))
    try:
        await fake.await_until(lambda: len(fake.requests) == 1)
        early = await client.messages.create(**kw)  # arrives while the first has not started answering
    finally:
        late = await slow
    assert early.usage.cache_creation_input_tokens == 600 and early.usage.cache_read_input_tokens == 0
    assert late.usage.cache_creation_input_tokens == 600  # both paid for the write
    after = await client.messages.create(**kw)
    assert after.usage.cache_read_input_tokens == 600 and after.usage.cache_creation_input_tokens == 0

    fake.clear_cache()
    fake.script(Stall(1, Text("slow stream", chunk_size=4), seconds=0.3))
    async with client.messages.stream(**kw) as s:  # message_start sent: its entry is readable
        started = await anext(aiter(s))
        assert started.type == "message_start" and started.message.usage.cache_creation_input_tokens == 600
        reader = await client.messages.create(**kw)
        assert reader.usage.cache_read_input_tokens == 600
        assert not fake.requests[-2].completed  # the writer is still streaming
        await s.get_final_message()


async def test_message_delta_usage_is_cumulative(fake, client):
    events, final = await streamed(client, model=MODEL, max_tokens=MAX, system=cached_system(600), messages=USER)
    start = next(e for e in events if e.type == "message_start").message.usage
    delta = next(e for e in events if e.type == "message_delta").usage
    assert start.output_tokens == 1 and delta.output_tokens == final.usage.output_tokens > 64
    assert delta.cache_creation_input_tokens == start.cache_creation_input_tokens == 600
    assert delta.input_tokens == start.input_tokens
