"""Hostile uploads and huge sections stay bounded (issue 12).

Parsers are linear (markdown-it-py for Markdown, no backtracking regexes); uploads are parsed in
a child process with CPU and memory limits; compressed bombs are refused before they inflate;
the offline rules are linear and run in a process pool with a per-section budget, so the
server's event loop and the worker's heartbeat never wait for them.

Hostile files are built here. Timings are not asserted (the machine may be busy): results are.
"""

from __future__ import annotations

import asyncio
import io
import zipfile

import docx
import httpx
import pytest

from redline.jobs.documents import DocumentError, ParseLimits, parse_document
from redline.jobs.jobrun import JobFailed
from redline.jobs.models import Section
from redline.jobs.parsing import parse_upload
from redline.jobs.reviewers import offline
from redline.jobs.reviewers.base import AnalysisRequest, ChatRequest
from redline.jobs.reviewers.offline_reviewer import OfflineReviewer
from redline.jobs.settings import Settings
from tests.client import Socket, upload
from tests.samples import flate_bomb_pdf, one_paragraph
from tests.conftest import start_server

MB = 1 << 20


def docx_with_parts(parts: dict[str, bytes], body_paragraphs: list[str] | None = None) -> bytes:
    """A real .docx (python-docx) with extra parts added, or its body replaced by many paragraphs."""
    document = docx.Document()
    document.add_paragraph("MARKER")
    buffer = io.BytesIO()
    document.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml" and body_paragraphs is not None:
                runs = "</w:t></w:r></w:p><w:p><w:r><w:t>".join(body_paragraphs)
                data = data.replace(b"MARKER", runs.encode())
            archive.writestr(info.filename, data)
        for name, data in parts.items():
            archive.writestr(name, data)
    return out.getvalue()


# ------------------------------------------------------------------ parsers: linear ---


def test_markdown_heading_with_40k_spaces_is_parsed():
    """Issue 12: '# a' + 40,000 spaces + 'x' froze the server ~28 s (quadratic ATX regex)."""
    data = b"# a" + b" " * 40_000 + b"x\n\nThe pump was started.\n\n## Root Cause\n\nA worn seal."
    doc = parse_document("r.md", data, max_bytes=MB)
    assert [(s.title, s.level, s.text) for s in doc.sections] == [
        ("a x", 1, "The pump was started."), ("Root Cause", 1, "A worn seal.")]
    # the same line as a guidelines-sized file, and with tabs and closing hashes
    assert parse_document("g.md", b"# a" + b" \t" * 20_000 + b"#", max_bytes=MB).sections[0].title == "a"


@pytest.mark.parametrize("text", [
    "#" * 200_000, "." * 200_000, ">" * 100_000 + " x", "`" * 200_000, "- " * 100_000,
    "a\n=\n" * 20_000, "[" * 200_000 + "]: x", "*" * 200_000, "**" + " " * 200_000 + "x**",
    "\n".join(" " * i + "- x" for i in range(0, 1500, 2)), "1. x\n" * 40_000, ("x " + " " * 5000 + "\n") * 40,
    # raw HTML read as a table or a heading: html.parser took 97 s on the first of these
    "<table>" + "<!--" * 100_000, "<table>" + "<tr" * 100_000, "<table><tr>" + "<td>" * 100_000,
    "<table>" + "<tr><td>a</td></tr>" * 50_000, "<h1 " + "a" * 200_000 + ">x</h1>", "<h2>" + "<b>" * 100_000 + "</h2>",
])
@pytest.mark.parametrize("ext", [".md", ".txt"])
def test_pathological_text_shapes_parse(text: str, ext: str):
    try:
        doc = parse_document("r" + ext, text.encode(), max_bytes=4 * MB)
    except DocumentError as e:
        assert e.code == "empty_document"
    else:
        assert doc.sections and all(s.title for s in doc.sections)


@pytest.mark.parametrize("text", [
    "x\n===\n" * 10_000, "=\nx\n=\n" * 10_000, "`" + "a <" * 100_000, ":a:`" * 100_000, "`a <b>`_ " * 50_000,
    "link:http://x[" * 20_000, "----\n" * 100_000, "= x\n" * 10_000, ". x\n" * 20_000,
    ".. post:: 2020-01-01\n" + ":a: b\n" * 100_000, ".. _x:\n" * 20_000,
])
@pytest.mark.parametrize("ext", [".rst", ".adoc"])
def test_pathological_restructuredtext_and_asciidoc_shapes_parse(text: str, ext: str):
    """Each line is rewritten once and each inline pattern is bounded (lightmarkup.py)."""
    test_pathological_text_shapes_parse(text, ext)


def test_markdown_structure_kept_with_markdown_it():
    text = ("---\ntitle: Pump\n---\n\nIntro line.\n\n**Root Cause**\n\nWorn seal.\n\n***\n\n"
            "Line one\nLine two\n--------\n\nMore.\n\n    # indented code\n\n> # quoted\n\n#\n")
    doc = parse_document("r.md", text.encode(), max_bytes=MB)
    assert doc.title == "Pump"
    assert [(s.title, s.text) for s in doc.sections] == [
        ("Pump", "Intro line."),
        ("Root Cause", "Worn seal.\n\nLine one"),
        ("Line two", "More.\n\n# indented code\n\n> # quoted"),
    ]


# ------------------------------------------------------------------ size caps ---


def test_long_section_is_split_into_exact_parts():
    body = "\n\n".join(one_paragraph(30_000) for _ in range(8))  # one 240k-character section
    doc = parse_document("r.md", f"# Findings\n\n{body}\n\n# Actions\n\nNone.".encode(), max_bytes=4 * MB,
                         limits=ParseLimits(max_section_chars=100_000))
    parts = [s for s in doc.sections if s.title.startswith("Findings")]
    assert [s.title for s in parts] == [f"Findings (part {i} of 3)" for i in (1, 2, 3)]
    assert all(60_000 <= len(s.text) <= 100_000 and s.text in body for s in parts)  # about equal parts
    assert "\n\n".join(s.text for s in parts) == body  # cut at paragraph breaks: nothing lost
    assert doc.sections[-1].title == "Actions"


def test_document_over_the_cap_is_refused_naming_the_limit():
    with pytest.raises(DocumentError) as e:
        parse_document("r.txt", one_paragraph(300_000).encode(), max_bytes=MB,
                       limits=ParseLimits(max_document_chars=200_000))
    assert (e.value.code, e.value.status) == ("too_long", 413)
    assert "200,000" in e.value.message and "REDLINE_MAX_DOCUMENT_CHARS" in e.value.message


def test_docx_inflated_size_is_checked_before_inflating():
    # Issue 12 #5: one big document.xml that passes the 200-fold ratio check (many paragraphs).
    paragraphs = [f"{one_paragraph(2000)} {i}" for i in range(3000)]  # ~6 MB of XML, ~100-fold
    data = docx_with_parts({}, paragraphs)
    with pytest.raises(DocumentError) as e:
        parse_document("r.docx", data, max_bytes=16 * MB, limits=ParseLimits(max_inflated_bytes=4 * MB))
    assert e.value.code == "zip_bomb" and "4 MB" in e.value.message
    # under the inflated cap it parses, and the text cap stops it while reading paragraphs
    with pytest.raises(DocumentError) as e:
        parse_document("r.docx", data, max_bytes=16 * MB, limits=ParseLimits(max_document_chars=1_000_000))
    assert e.value.code == "too_long"


def test_pdf_flate_bomb_is_refused_before_pdfminer_inflates_it():
    with pytest.raises(DocumentError) as e:
        parse_document("r.pdf", flate_bomb_pdf(200), max_bytes=16 * MB)
    assert e.value.code == "compression_bomb" and "64 MB" in e.value.message


# ------------------------------------------------------------------ the child process ---


async def test_child_process_limits_turn_into_clear_errors():
    bomb = flate_bomb_pdf(200)
    # the stream scan switched off: pdfminer meets the bomb, under the child's limits
    loose = Settings(max_inflated_mb=100_000, parse_timeout_s=2, parse_max_memory_mb=300)
    with pytest.raises(DocumentError) as e:
        await parse_upload("bomb.pdf", bomb, max_bytes=16 * MB, settings=loose)
    assert e.value.status == 413 and e.value.code in ("parse_timeout", "parse_memory"), e.value
    paragraphs = [f"{one_paragraph(2000)} {i}" for i in range(20_000)]  # ~40 MB of XML for lxml
    tight = Settings(max_inflated_mb=100_000, parse_max_memory_mb=100)
    with pytest.raises(DocumentError) as e:
        await parse_upload("big.docx", docx_with_parts({}, paragraphs), max_bytes=16 * MB, settings=tight)
    assert (e.value.code, e.value.status) == ("parse_memory", 413)
    assert "REDLINE_PARSE_MAX_MEMORY_MB" in e.value.message
    doc = await parse_upload("ok.md", b"# Timeline\n\n02:10 alarm.", max_bytes=MB, settings=Settings())
    assert [(s.title, s.text) for s in doc.sections] == [("Timeline", "02:10 alarm.")]


async def test_uploads_of_bombs_get_a_clear_4xx(server):
    zip_bomb = docx_with_parts({f"word/media/pad{i}.bin": b"\0" * MB for i in range(70)})  # 70 MB unpacked
    cases = [
        ("bomb.docx", zip_bomb, 400, "zip_bomb"),
        ("bomb.pdf", flate_bomb_pdf(200), 400, "compression_bomb"),
        ("long.txt", one_paragraph(2_100_000).encode(), 413, "too_long"),
    ]
    async with httpx.AsyncClient(base_url=server, timeout=60) as http:
        for name, data, status, code in cases:
            r = await http.post("/api/reviews", files={"document": (name, data)})
            assert r.status_code == status, (name, r.text[:300])
            error = r.json()["error"]
            assert set(error) == {"code", "message"} and error["code"] == code and name in error["message"]
        heading = await upload(server, filename="h.md", data=b"# a" + b" " * 40_000 + b"x\n\nBody.")
        assert [s["title"] for s in heading["sections"]] == ["a x"]
        assert (await http.get("/healthz")).status_code == 200


# ------------------------------------------------------------------ offline rules ---


def test_offline_rules_on_a_300k_paragraph_are_linear():
    text = one_paragraph(300_000)
    assert len(offline.split_sentences(text)) == text.count(". ") + 1
    findings = list(offline.review_section("Findings", text, index=1, total=2, outline=["Summary", "Findings"]))
    assert findings and all(f.quote is None or f.quote in text for f in findings)
    hostile = {  # each was, or could have been, quadratic
        "dots": "." * 300_000, "email-ish word": "a" * 300_000 + "@", "spaces in a table cell":
        "| Action | Owner |\n|---|---|\n| do it | " + " " * 100_000 + " |",
        "one sentence, many hits": "It was always " + "always " * 40_000 + "clear.",
    }
    for name, body in hostile.items():
        found = list(offline.review_section("Actions", body, index=0, total=1, outline=["Actions"],
                                            guidelines="- Actions must " + " " * 50_000 + "x"))
        assert all(f.quote is None or f.quote in body for f in found), name
    answer = offline.compose_answer("why was the valve opened?", [("Findings", text)])
    assert "valve was opened" in answer


async def test_offline_reviewer_budget_and_chat_run_in_the_pool():
    big = Section(id="s1", title="Findings", index=0, text=one_paragraph(300_000))
    small = Section(id="s2", title="Actions", index=1, text="The supervisor will fix it.")
    reviewer = OfflineReviewer(Settings(offline_pace_ms=0, offline_section_budget_s=0.02))
    try:
        with pytest.raises(JobFailed) as e:
            [x async for x in reviewer.analyze(AnalysisRequest("R", big, ["Findings", "Actions"]))]
        assert 'section "Findings"' in str(e.value) and "0.02 s budget" in str(e.value)
        outs = [x async for x in reviewer.analyze(AnalysisRequest("R", small, ["Findings", "Actions"]))]
        assert any(getattr(x, "description", None) for x in outs), "the pool carries on after a stopped section"
        with pytest.raises(JobFailed, match="budget"):
            [x async for x in reviewer.chat(ChatRequest("R", "why was the valve opened?", [big, small]))]
    finally:
        await reviewer.aclose()


async def test_300k_paragraph_is_reviewed_while_healthz_answers(server):
    review = await upload(server, filename="para.txt", data=one_paragraph(300_000).encode())
    sections = review["sections"]  # one 300k paragraph: parts of about equal length, at sentence ends
    assert len(sections) == 4 and all(70_000 <= s["chars"] <= 100_000 for s in sections), sections
    assert [s["title"] for s in sections] == [f"Document (part {i} of 4)" for i in (1, 2, 3, 4)]
    sock = await Socket(server, review["review_id"], review["token"]).connect()
    try:
        reply = await sock.request({"op": "analyze"})
        job_ids = [j["job_id"] for j in reply["data"]["jobs"]]
        done = asyncio.create_task(sock.wait_for(lambda: all(sock.terminal(j) for j in job_ids), timeout=90))
        answered = 0
        async with httpx.AsyncClient(base_url=server, timeout=2) as http:  # a frozen loop fails this
            while not done.done():
                assert (await http.get("/healthz")).status_code == 200
                answered += 1
                await asyncio.wait({done}, timeout=0.05)
        await done
        assert answered >= 3
        for j in job_ids:
            assert [e["kind"] for e in sock.terminal(j)] == ["job.completed"]
        texts = {s["id"]: s["text"] for s in sock.welcome["review"]["sections"]}
        items = [e["data"]["item"] for e in sock.events if e["kind"] == "item.added"]
        assert items and all(i["quote"] is None or i["quote"] in texts[i["section_id"]] for i in items)
    finally:
        await sock.close()


async def test_a_section_over_its_budget_fails_with_a_clear_message(own_redis_url, tmp_path):
    proc, url = start_server(own_redis_url, tmp_path, REDLINE_OFFLINE_SECTION_BUDGET_S="0.3",
                             REDLINE_MAX_SECTION_CHARS="2000000")
    try:
        huge = "It was always " + "always clearly " * 100_000 + "true."  # ~1.5 MB, one sentence
        data = f"# Small\n\nThe pump was started.\n\n# Huge\n\n{huge}\n".encode()
        review = await upload(url, filename="r.md", data=data)
        assert [s["title"] for s in review["sections"]] == ["Small", "Huge"]
        sock = await Socket(url, review["review_id"], review["token"]).connect()
        try:
            jobs = {j["section_id"]: j["job_id"] for j in (await sock.request({"op": "analyze"}))["data"]["jobs"]}
            await sock.wait_for(lambda: all(sock.terminal(j) for j in jobs.values()), timeout=60)
            assert [e["kind"] for e in sock.terminal(jobs["s1"])] == ["job.completed"]
            failed = sock.terminal(jobs["s2"])
            assert [e["kind"] for e in failed] == ["job.failed"]
            assert 'section "Huge"' in failed[0]["data"]["error"] and "0.3 s budget" in failed[0]["data"]["error"]
            reply = await sock.request({"op": "chat", "message": "When was the pump started?", "section_id": "s1"})
            assert reply["ok"], reply
            chat_job = reply["data"]["job_id"]
            await sock.wait_for(lambda: sock.terminal(chat_job), timeout=30)
            (end,) = sock.terminal(chat_job)  # the chat reads the whole write-up: it may be over budget too
            assert end["kind"] == "job.completed" or "budget" in end["data"]["error"]
        finally:
            await sock.close()
        async with httpx.AsyncClient(base_url=url, timeout=5) as http:
            assert (await http.get("/healthz")).status_code == 200
    finally:
        proc.stop()


def test_the_document_pass_on_long_runs_of_digits_is_linear():
    """The post-mortem rules look for a count of who was hurt ('300 users', '12%'): searched from
    every digit of a 200,000-digit run, that was quadratic (4.7 s for 20,000 digits); the suite's
    timeout stops a regression."""
    from redline.jobs.reviewers.offline_pool import document_dicts
    summary = ("The API outage: users experienced errors on every request to the server, the deploy was "
               "rolled back, the cache node and the database were restarted, and the DNS records fixed.")
    for run in ("1" * 200_000, "1," * 100_000):
        sections = [dict(id="s1", title="Summary", index=0, text=summary), dict(id="s2", title="Data", index=1, text=run)]
        out = document_dicts(sections)
        assert out["kind"] == "software" and set(out["findings"]) == {"s1", "s2"}


def test_the_document_pass_with_many_clock_times_and_entries_is_bounded():
    """Each clock time outside the timeline is matched by its words against every timeline entry
    (consistency_events): 20,000 times against 2,000 entries was 40 million comparisons (6 s); at
    most 400 times are compared. The suite's timeout stops a regression."""
    from redline.jobs.reviewers.offline_pool import document_dicts
    timeline = "\n".join(f"- {i % 24:02d}:{i % 60:02d} upgrade of cluster node {i} is deployed" for i in range(3000))
    prose = " ".join(f"At {i % 24:02d}:{i * 7 % 60:02d} we upgraded the cluster node." for i in range(20000))
    sections = [dict(id="s1", title="Timeline", index=0, text=timeline),
                dict(id="s2", title="Root cause", index=1, text=prose)]
    out = document_dicts(sections)
    assert set(out["findings"]) == {"s1", "s2"}
