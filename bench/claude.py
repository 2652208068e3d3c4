"""`python -m bench.claude`: what a review with Claude costs, and why the findings come as a
structured output. Writes its tables into docs/claude.md (between the bench.claude markers).

1. **A 20-section review per model.** `ClaudeReviewer.analyze` for every section of
   tests.samples.long_writeup(20), against tests/fake_anthropic.py (which counts tokens at 4
   characters each, thinks where the model thinks by default, and caches like the API),
   first section alone, then the rest four at a time, as the worker's gates let them go.
   Reported: requests, tokens by kind, the cache-read share of sections 2..n, and the cost
   from the usage the fake returned.
2. **Request shapes.** For the three ways to ask for findings (forced tool, strict tool with
   `tool_choice: auto`, structured output), whether each 5.5 model accepts it (the fake
   answers what the docs say each refuses), the bytes of the cacheable prefix's fixed part
   (tools or schema plus system prompt), and the time to the first finding with the answer
   streamed at the same rate.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from pathlib import Path
from typing import Any

import anthropic

from bench.common import ROOT, embedded_redis, machine, workdir
from redline.jobs.models import Section
from redline.jobs.reviewers import prompts
from redline.jobs.reviewers.base import AnalysisRequest, Usage
from redline.jobs.reviewers.claude import ClaudeReviewer
from redline.jobs.reviewers.claude_models import spec
from redline.jobs.reviewers.streaming import ItemScanner
from redline.jobs.settings import Settings
from tests import samples
from tests.fake_anthropic import FakeAnthropic, Text, ToolUse

MODELS = ["claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5"]
DOC = ROOT / "docs" / "claude.md"
START, END = "<!-- bench.claude:start -->", "<!-- bench.claude:end -->"
SECTION_RE = re.compile(r"<document_section [^>]*>\n(.*)\n</document_section>", re.S)


def _findings(n: int = 3) -> list[dict[str, Any]]:
    return [{"type": "important", "category": "Evidence", "risk": "medium",
             "description": f"Finding {i}: the passage gives no source for its claim.",
             "suggestion": "Name the log or the witness.", "quote": None, "questions": ["Who saw it?"],
             "refs": ["C4"], "confidence": 0.8, "related_section_id": None, "related_quote": None}
            for i in range(n)]


def _sections() -> list[Section]:
    return [Section(id=f"s{i + 1}", title=t, index=i, text=x) for i, (t, x) in enumerate(samples.long_writeup(20))]


async def review_cost(model: str, redis_url: str) -> dict[str, Any]:
    from redis.asyncio import Redis

    sections = _sections()
    with FakeAnthropic(default=lambda b: Text(json.dumps({"findings": _findings()}), chunk_size=40)) as fake:
        redis = Redis.from_url(redis_url)
        await redis.flushdb()
        cfg = Settings(anthropic_api_key="bench", anthropic_base_url=fake.url, model=model)
        rv = ClaudeReviewer(cfg, redis)
        usages: list[Usage] = []

        async def one(s: Section) -> None:
            req = AnalysisRequest("Press line 3 fire", s, [x.title for x in sections], sections=sections)
            async for out in rv.analyze(req):
                if isinstance(out, Usage):
                    usages.append(out)

        await one(sections[0])
        await asyncio.gather(*(one(s) for s in sections[1:]))
        await rv.aclose()
        await redis.aclose()
        statuses = [r.status for r in fake.requests]
    later = usages[1:]
    read = sum(u.cache_read_tokens for u in later)
    total_in = sum(u.input_tokens + u.cache_read_tokens + u.cache_write_tokens for u in later)
    return {
        "model": model, "requests": len(usages), "statuses": sorted(set(statuses)),
        "input": sum(u.input_tokens for u in usages), "cache_read": sum(u.cache_read_tokens for u in usages),
        "cache_write": sum(u.cache_write_tokens for u in usages), "output": sum(u.output_tokens for u in usages),
        "thinking": sum(u.thinking_tokens for u in usages), "cost_usd": sum(u.cost_usd for u in usages),
        "cache_read_share": read / total_in if total_in else 0.0,
        "cost_uncached_usd": _uncached(model, usages),
    }


def _uncached(model: str, usages: list[Usage]) -> float:
    """The same calls with no prompt cache: every prompt token at the input price."""
    p = spec(model).prices
    return sum((u.input_tokens + u.cache_read_tokens + u.cache_write_tokens) * p.input + u.output_tokens * p.output
               for u in usages) / 1_000_000


# The tool shapes, as they were asked for before the 5.5 models (forced) and as they accept.
TOOL = {"name": "report_findings", "description": "Report the review findings for the section under review "
        "(an empty list when there is nothing worth raising). Call it exactly once.", "strict": True,
        "input_schema": prompts.FINDINGS_SCHEMA}
TOOL_NOTE = "\n- Answer only by calling the report_findings tool, exactly once, with no other text."


def shapes(req: AnalysisRequest) -> dict[str, dict[str, Any]]:
    base = prompts.analysis_params(req, spec("claude-sonnet-5-5"), effort="medium", max_tokens=16000)
    tool_system = [{**base["system"][0], "text": base["system"][0]["text"] + TOOL_NOTE}]
    as_tool = {k: v for k, v in base.items() if k != "output_config"}
    as_tool.update(system=tool_system, tools=[TOOL], output_config={"effort": "medium"})
    return {
        "forced tool": {**as_tool, "tool_choice": {"type": "tool", "name": "report_findings"}},
        "strict tool, tool_choice auto": {**as_tool, "tool_choice": {"type": "auto"}},
        "structured output (chosen)": base,
    }


def fixed_bytes(params: dict[str, Any]) -> int:
    """Bytes of what every analysis repeats besides the document: system, tools, output config."""
    return len(json.dumps({k: params.get(k) for k in ("system", "tools", "tool_choice", "output_config")}))


async def shape_table() -> list[dict[str, Any]]:
    sections = _sections()
    req = AnalysisRequest("Press line 3 fire", sections[2], [s.title for s in sections], sections=sections)
    rows = []
    answer = {"findings": _findings(5)}

    def reply(body: dict):
        if body.get("tools"):
            return ToolUse("report_findings", answer, chunk_size=20, delay_per_chunk=0.002)
        return Text(json.dumps(answer), chunk_size=20, delay_per_chunk=0.002)

    with FakeAnthropic(default=reply) as fake:
        client = anthropic.AsyncAnthropic(api_key="bench", base_url=fake.url, max_retries=0)
        for name, params in shapes(req).items():
            row: dict[str, Any] = {"shape": name, "fixed_bytes": fixed_bytes(params)}
            for model in MODELS:
                t0 = time.perf_counter()
                first: float | None = None
                scanner = ItemScanner("findings")
                try:
                    stream = await client.messages.create(model=model, max_tokens=16000, stream=True, **params)
                    async with stream:
                        async for ev in stream:
                            if ev.type == "content_block_delta" and first is None:
                                piece = getattr(ev.delta, "text", None) or getattr(ev.delta, "partial_json", None)
                                if piece and scanner.feed(piece):
                                    first = time.perf_counter() - t0
                    row[model] = "accepted"
                    row.setdefault("first_item_ms", round((first or 0) * 1000, 1))
                except anthropic.BadRequestError as e:
                    err = e.body.get("error", {}) if isinstance(e.body, dict) else {}
                    row[model] = f"400 ({str(err.get('message') or e.message)[:48]})"
            rows.append(row)
        await client.close()
    return rows


def render(costs: list[dict[str, Any]], rows: list[dict[str, Any]], where: dict[str, Any]) -> str:
    out = [f"Measured by `python -m bench.claude` on {where.get('date', '')}: {where.get('cpu', '')}, "
           f"anthropic {anthropic.__version__}. Token counts are the fake's (4 characters a token), so they "
           "show the shape of a bill, not its exact size.", "",
           "**A 20-section review** (tests.samples.long_writeup(20), three findings a section):", "",
           "| model | requests | input | cache read | cache write | output (thinking) | cache-read share, sections 2..n "
           "| cost | cost with no cache |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for c in costs:
        out.append(f"| `{c['model']}` | {c['requests']} | {c['input']:,} | {c['cache_read']:,} | {c['cache_write']:,} "
                   f"| {c['output']:,} ({c['thinking']:,}) | {c['cache_read_share']:.1%} | ${c['cost_usd']:.4f} "
                   f"| ${c['cost_uncached_usd']:.4f} |")
    out += ["", "**Request shapes** (each 5.5 model through the strict fake; fixed part = system, tools, "
            "tool_choice and output_config, in bytes of JSON; first finding at the same streaming rate):", "",
            "| shape | " + " | ".join(f"`{m}`" for m in MODELS) + " | fixed part | first finding |",
            "| --- | " + " | ".join("---" for _ in MODELS) + " | --- | --- |"]
    for r in rows:
        out.append(f"| {r['shape']} | " + " | ".join(r[m] for m in MODELS)
                   + f" | {r['fixed_bytes']:,} B | {r.get('first_item_ms', '—')} ms |")
    return "\n".join(out)


def write(text: str, path: Path = DOC) -> None:
    doc = path.read_text()
    a, b = doc.index(START) + len(START), doc.index(END)
    path.write_text(doc[:a] + "\n" + text + "\n" + doc[b:])


def main() -> None:
    with workdir("claude") as tmp, embedded_redis(tmp) as redis:
        url = redis.url if hasattr(redis, "url") else str(redis)
        costs = [asyncio.run(review_cost(m, url)) for m in MODELS]
    rows = asyncio.run(shape_table())
    m = machine()
    text = render(costs, rows, {"date": time.strftime("%Y-%m-%d"), "cpu": m.get("cpu", "")})
    print(text)
    write(text)


if __name__ == "__main__":
    main()
