"""A whole review with each current Claude model, through the faithful fake Messages API.

For claude-sonnet-5-5 (the default), claude-opus-5-5 and claude-haiku-5-5, a 20-section
write-up is analyzed by a real `redline serve` whose worker uses the real SDK against
tests/fake_anthropic.py, which refuses what each model refuses. What a reviewer paying for
the calls would check: no failed section, findings streamed with verbatim quotes, a finding
that points to another section, the cost on the page and in /metrics equal to a hand
computation from the usage the fake returned, and sections 2..n reading the whole document
from the prompt cache.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from types import SimpleNamespace

import httpx
import pytest

from tests import samples
from tests.client import Socket, metric, upload
from tests.conftest import fresh_db, release_db, start_server
from tests.fake_anthropic import FakeAnthropic, Text, prompt_text

SECTION_RE = re.compile(r'<document_section index="(\d+)"[^>]*>\n(.*)\n</document_section>', re.S)
DOC_SECTION_RE = re.compile(r'<section id="([^"]+)" index="(\d+)"[^>]*>\n(.*?)\n</section>', re.S)

# USD per million tokens, written out by hand from the providers' price pages
# (../shared/CLAUDE-API.md §1): input, output, 5-minute write, 1-hour write, cache read.
HAND_PRICES = {
    "claude-sonnet-5-5": (2.00, 10.00, 2.50, 4.00, 0.10),
    "claude-opus-5-5": (4.00, 20.00, 5.00, 8.00, 0.20),
    "claude-haiku-5-5": (0.10, 0.50, 0.125, 0.20, 0.01),  # prompts under 100K tokens
}


def hand_cost(model: str, usage: dict) -> float:
    p_in, p_out, p_5m, p_1h, p_read = HAND_PRICES[model]
    split = usage.get("cache_creation") or {}
    return (usage["input_tokens"] * p_in + usage["output_tokens"] * p_out
            + split.get("ephemeral_5m_input_tokens", 0) * p_5m + split.get("ephemeral_1h_input_tokens", 0) * p_1h
            + usage["cache_read_input_tokens"] * p_read) / 1_000_000


def sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 12]


def responder(body: dict):
    """Findings quoting the section under review; the first section's finding points to the
    third section (the timeline), quoting it; another points to a section that does not exist."""
    if not (body.get("output_config") or {}).get("format"):
        return Text("A short answer.")
    user = prompt_text(body, system=False)
    index, text = SECTION_RE.search(user).groups()
    text = html.unescape(text)
    others = {int(i): (sid, html.unescape(t)) for sid, i, t in DOC_SECTION_RE.findall(user)}
    said = sentences(text) or ["(empty)"]
    items = [{"type": "important", "category": "Evidence", "risk": "medium",
              "description": f"The passage gives no source ({said[0][:40]}).", "suggestion": "Name the source.",
              "quote": said[0], "questions": ["Who saw it?"], "refs": ["C4"], "confidence": 0.9,
              "related_section_id": None, "related_quote": None, "replacement": said[0] + " (source: the log)"}]
    if index == "1":
        sid, timeline = others[3]
        items.append({"type": "critical", "category": "Consistency", "risk": "high",
                      "description": "The summary's time of the fire differs from the timeline.",
                      "suggestion": "Use the timeline's time.", "quote": said[-1], "questions": [], "refs": [],
                      "confidence": 0.8, "related_section_id": sid, "related_quote": sentences(timeline)[0],
                      "replacement": None})
        items.append({"type": "suggestion", "category": "Scope", "risk": "low", "description": "See elsewhere.",
                      "suggestion": "", "quote": None, "questions": [], "refs": [], "confidence": 0.7,
                      "related_section_id": "no-such-section", "related_quote": "anything",
                      "replacement": "a rewrite with nothing to replace"})
    return Text(json.dumps({"findings": items}), chunk_size=40, delay_per_chunk=0.01)


@pytest.fixture(scope="module", params=list(HAND_PRICES))
def stack(request, redis_server, tmp_path_factory):
    model = request.param
    redis_url = fresh_db(redis_server)
    with FakeAnthropic(default=responder) as fake:
        proc, url = start_server(redis_url, tmp_path_factory.mktemp(model), ANTHROPIC_API_KEY="test",
                                 ANTHROPIC_BASE_URL=fake.url, REDLINE_MODEL=model, REDLINE_MODEL_TIMEOUT_S="5")
        yield SimpleNamespace(fake=fake, url=url, model=model)
        proc.stop()
    release_db(redis_url)


async def test_a_twenty_section_review_with_each_model(stack):
    fake, model = stack.fake, stack.model
    doc = samples.markdown_from_sections("Press line 3 fire", samples.long_writeup(20)).encode()
    review = await upload(stack.url, filename="report.md", data=doc)
    assert len(review["sections"]) == 20
    sock = await Socket(stack.url, review["review_id"], review["token"]).connect()
    reply = await sock.request({"op": "analyze"})
    job_ids = [j["job_id"] for j in reply["data"]["jobs"]]
    await sock.wait_for(lambda: any(e["kind"] == "item.added" for e in sock.events), 30)
    first_item_at = time.monotonic()
    await sock.wait_for(lambda: all(sock.terminal(j) for j in job_ids), 90)

    # Every section analyzed: no failed job, no 4xx from the strict fake.
    assert [sock.terminal(j)[0]["kind"] for j in job_ids] == ["job.completed"] * 20
    assert [r.status for r in fake.requests] == [200] * 20
    assert first_item_at < max(r.finished_at for r in fake.requests), "items arrive while answers stream"

    async with httpx.AsyncClient(base_url=stack.url, headers={"Authorization": f"Bearer {review['token']}"}) as http:
        snap = (await http.get(f"/api/reviews/{review['review_id']}")).json()
    texts = {s["id"]: s["text"] for s in snap["sections"]}
    items = snap["items"]
    assert len(items) == 20 + 2
    assert all(i["quote"] is None or i["quote"] in texts[i["section_id"]] for i in items), "verbatim quotes"
    rewrites = [i for i in items if i.get("replacement")]
    assert len(rewrites) == 20 and all(i["replacement"] == i["quote"] + " (source: the log)" for i in rewrites)
    related = [i for i in items if i.get("related_section_id")]
    assert len(related) == 1, "an unknown related section is dropped"
    (rel,) = related
    order = [s["id"] for s in snap["sections"]]
    assert rel["section_id"] == order[0] and rel["related_section_id"] == order[2]
    assert rel["related_quote"] and rel["related_quote"] in texts[order[2]]

    # The whole document is in every request's cached prefix; sections 2..n read it.
    for r in fake.requests:
        assert [m["where"] for m in r.cache_control] == ["system[0]", "messages[0].content[0]"]
        assert r.json["messages"][0]["content"][0]["text"].count("</section>") == 20
    later = fake.requests[1:]
    read = sum(r.usage["cache_read_input_tokens"] for r in later)
    total = sum(r.usage["input_tokens"] + r.usage["cache_read_input_tokens"]
                + r.usage["cache_creation_input_tokens"] for r in later)
    assert read / total >= 0.90, f"cache-read share of sections 2..n: {read / total:.3f}"

    # Cost: the page's figure and /metrics equal a hand computation from the returned usage.
    expected = sum(hand_cost(model, r.usage) for r in fake.requests)
    assert expected > 0
    assert snap["usage"]["cost_usd"] == pytest.approx(expected, rel=1e-6, abs=1e-7)
    assert snap["usage"]["output_tokens"] == sum(r.usage["output_tokens"] for r in fake.requests)
    thinking = sum((r.usage.get("output_tokens_details") or {}).get("thinking_tokens", 0) for r in fake.requests)
    assert snap["usage"].get("thinking_tokens", 0) == thinking

    async def metrics_cost() -> float:
        async with httpx.AsyncClient(base_url=stack.url) as http:
            return metric((await http.get("/metrics")).text, "redline_model_cost_usd_total")

    got = None

    async def settled() -> bool:
        nonlocal got
        got = await metrics_cost()
        return got == pytest.approx(expected, rel=1e-6, abs=1e-7)

    deadline = time.monotonic() + 20
    while not await settled():  # the fleet counters are flushed off the job's path
        assert time.monotonic() < deadline, (got, expected)
        await asyncio.sleep(0.05)
    await sock.close()
