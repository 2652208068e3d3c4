"""Hostile input: random and malformed websocket frames, fuzzed HTTP API, garbage uploads.

Every bad input gets a clear error; the server stays up, answers no 5xx and keeps its memory."""

from __future__ import annotations

import json

import httpx
import pytest
import schemathesis
import websockets
from hypothesis import HealthCheck, given, settings, strategies as st
from websockets.sync.client import connect

from redline.jobs.documents import DocumentError, parse_document
from redline.server.openapi import SPEC
from tests.client import ws_url
from tests.conftest import SERVER_PIDS

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
                    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
                    max_leaves=20)
OPS = st.sampled_from(["hello", "analyze", "cancel", "chat", "decide", "ping", "nope", "", None, 1])
MESSAGES = st.one_of(
    JSON,
    st.fixed_dictionaries({"op": OPS}, optional={"ref": JSON, "sections": JSON, "job_id": JSON, "all": JSON,
                                                 "message": JSON, "section_id": JSON, "item_id": JSON,
                                                 "decision": JSON, "last_event_id": JSON, "name": JSON}),
)
quiet = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture(scope="module")
def review(server):

    return httpx.post(
        server + "/api/reviews", files={"document": ("r.md", b"# Timeline\n\nThe pump was started.\n\n# Root Cause\n\nWear.")}).json()


@pytest.fixture(scope="module")
def ws(server, review):
    with connect(ws_url(server, review["review_id"], review["token"]), max_size=2**24) as conn:
        conn.send(json.dumps({"op": "hello", "last_event_id": None, "name": "fuzz"}))
        assert json.loads(conn.recv(10))["type"] == "welcome"
        assert next_reply(conn)["ok"]  # the answer to hello
        yield conn


def next_reply(conn) -> dict:
    while True:
        msg = json.loads(conn.recv(10))
        if msg["type"] == "reply":
            return msg


@quiet
@given(msg=MESSAGES)
def test_random_messages_get_a_reply_and_the_socket_stays_up(ws, msg, reliability):
    ws.send(json.dumps(msg))
    reply = next_reply(ws)
    if not reply["ok"]:
        assert set(reply["error"]) == {"code", "message"} and reply["error"]["message"]
    reliability("Random socket messages (hypothesis)", None, "a reply to each; the socket stays up")


def test_deep_nesting_binary_floods_and_huge_frames(server, review, ws, reliability):
    ws.send("[" * 100_000 + "]" * 100_000)  # 200 kB: over the frame limit (64 kB)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        next_reply(ws)
    assert closed.value.rcvd.code == 1009  # message too big, and nothing else breaks
    with connect(ws_url(server, review["review_id"], review["token"])) as conn:
        conn.send(json.dumps({"op": "hello", "last_event_id": None}))
        conn.recv(10)
        next_reply(conn)
        conn.send("[" * 5000 + "]" * 5000)
        assert next_reply(conn)["error"]["code"] == "bad_json"
        conn.send(b"\x89\x00binary")
        assert next_reply(conn)["error"]["code"] == "binary_frame"
        for i in range(200):
            conn.send(json.dumps({"op": "ping", "ref": i}))
        replies = [next_reply(conn) for _ in range(200)]
        limited = [r for r in replies if not r["ok"]]
        assert limited and all(r["error"]["code"] == "rate_limited" for r in limited)
        assert sum(r["ok"] for r in replies) >= 20, "a burst is allowed before the limit bites"
    assert httpx.get(server + "/healthz").status_code == 200
    reliability("Huge (200 kB), deeply nested, binary and flooding frames", "1 + 1 + 1 + 200",
                "close 1009 / bad_json / binary_frame / rate_limited replies; server up")


def test_server_memory_stays_bounded_under_hostile_sockets(server, review, reliability):
    """Many short-lived sockets, each sending junk: the server's RSS settles."""
    pid = SERVER_PIDS[server]

    def rss_kb() -> int:
        return int(next(line for line in open(f"/proc/{pid}/status") if line.startswith("VmRSS")).split()[1])

    def round_of_junk() -> None:
        for _ in range(40):
            with connect(ws_url(server, review["review_id"], review["token"])) as conn:
                conn.send(json.dumps({"op": "hello", "last_event_id": "9-9"}))
                conn.recv(10)
                for junk in ("{", "[]", '{"op": "decide", "item_id": "x", "decision": "accepted"}'):
                    conn.send(junk)
                    next_reply(conn)

    round_of_junk()
    before = rss_kb()
    for _ in range(3):
        round_of_junk()
    grew = rss_kb() - before
    assert grew < 40_000, "RSS grew by more than 40 MB over 120 hostile sockets"
    reliability("Short-lived sockets sending junk", "160 sockets", f"server RSS grew {grew / 1024:.1f} MB over the last 120")


# ------------------------------------------------------------------ uploads ---

EXTENSIONS = st.sampled_from([".docx", ".pdf", ".md", ".txt", ".exe", ""])


@quiet
@given(data=st.binary(max_size=4096), ext=EXTENSIONS)
def test_random_bytes_are_refused_with_a_document_error(data, ext, reliability):
    try:
        doc = parse_document("f" + ext, data, max_bytes=1024 * 1024)
    except DocumentError as e:
        assert e.status in (400, 413, 415) and e.message
    else:
        assert doc.sections and all(s.title for s in doc.sections)
    reliability("Random bytes as .docx/.pdf/.md/.txt/other uploads (hypothesis)", None,
                "a DocumentError with a 4xx status, or sections")


@quiet
@given(text=st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")) | st.sampled_from("\n\t"), max_size=3000),
       encoding=st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]))
def test_text_in_any_encoding_parses_or_is_refused_clearly(text, encoding, reliability):
    data = text.encode(encoding, errors="replace")
    try:
        doc = parse_document("notes.txt", data, max_bytes=1024 * 1024)
    except DocumentError as e:
        assert e.code == "empty_document"
    else:
        assert sum(len(s.text) + len(s.title) for s in doc.sections) > 0
    reliability("Text in UTF-8, UTF-16, Latin-1, CP1252 (hypothesis)", None, "parsed, or empty_document")


def test_truncated_archives_and_the_exact_limit():
    from tests import samples

    docx = samples.sample_docx()
    for cut in (10, 100, len(docx) // 2, len(docx) - 10):
        with pytest.raises(DocumentError) as e:
            parse_document("r.docx", docx[:cut], max_bytes=10 * 1024 * 1024)
        assert e.value.code == "corrupt_document"
    body = b"# Timeline\n\n" + b"a" * 988
    assert parse_document("r.md", body, max_bytes=len(body)).sections
    with pytest.raises(DocumentError) as e:
        parse_document("r.md", body + b"a", max_bytes=len(body))
    assert e.value.code == "too_large"


# --------------------------------------------------------------- HTTP fuzz ---

schema = schemathesis.openapi.from_dict(SPEC)


@pytest.fixture(scope="module")
def api_target(server, review):
    return server, review


@schema.parametrize()
@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_fuzzed_from_its_openapi_never_answers_5xx(case, api_target, reliability):
    server, review = api_target
    if "rid" in (case.path_parameters or {}):
        case.path_parameters["rid"] = review["review_id"]
    response = case.call(base_url=server, headers={"Authorization": f"Bearer {review['token']}"})
    assert response.status_code < 500, (case.method, case.path, response.status_code, response.text[:300])
    if response.status_code >= 400:
        assert set(response.json()["error"]) == {"code", "message"}
    reliability("HTTP API fuzzed from its OpenAPI description (schemathesis)", None,
                "no 5xx; every error is {code, message}")
