"""The review record as an appendix of the Word export (`?audit=1`, `redline review --audit`).

Against a real `redline serve` (offline reviewer): decisions with reasons by two people, an export
with the record, read back with python-docx; an export without it has no such table. The table
builder alone: cut details, odd characters, a document without the usual styles.
"""

from __future__ import annotations

import json
from io import BytesIO

import httpx
from docx import Document

from redline.jobs.export import export_docx
from redline.jobs.export_audit import (APPENDIX_HEADING, COLUMNS, FINDING_MAX, WHAT_MAX, add_audit_appendix,
                                      audit_rows, cut)
from redline.jobs.models import Section
from tests.client import Socket, upload
from tests.test_review_cli import assert_clean, review, sample


def record_table(data: bytes):
    """The appendix table (header row == COLUMNS) of a .docx, or None."""
    doc = Document(BytesIO(data))
    found = [t for t in doc.tables if tuple(c.text for c in t.rows[0].cells) == COLUMNS]
    assert len(found) <= 1
    return found[0] if found else None


def rows_of(table) -> list[dict[str, str]]:
    return [dict(zip(COLUMNS, (c.text for c in row.cells))) for row in table.rows[1:]]


async def test_export_with_audit_appends_the_record_in_order(server):
    review_ = await upload(server)
    rid, token = review_["review_id"], review_["token"]
    ann = await Socket(server, rid, token, "Ann").connect()
    job = (await ann.request({"op": "analyze", "sections": ["s8"]}))["data"]["jobs"][0]["job_id"]
    await ann.wait_for(lambda: ann.terminal(job))
    items = [e["data"]["item"] for e in ann.events if e["kind"] == "item.added"]
    assert len(items) >= 3, "the offline reviewer finds several things in the sample's s8"
    bo = await Socket(server, rid, token, "Bo").connect()
    plan = [(ann, items[0], "accepted", "Matches the operator log."), (bo, items[1], "rejected", "Duplicate of s2."),
            (ann, items[2], "rejected", None), (bo, items[0], "pending", "Reopened: ask the author.")]
    for sock, it, decision, reason in plan:
        msg = {"op": "decide", "item_id": it["id"], "decision": decision, **({"reason": reason} if reason else {})}
        assert (await sock.request(msg))["ok"]
    async with httpx.AsyncClient(base_url=server, headers={"Authorization": f"Bearer {token}"}, timeout=30) as http:
        plain = await http.get(f"/api/reviews/{rid}/export.docx", params={"include": "all"})
        with_record = await http.get(f"/api/reviews/{rid}/export.docx",
                                     params={"include": "all", "audit": "1", "by": "Cy"})
        bad = await http.get(f"/api/reviews/{rid}/export.docx", params={"audit": "maybe"})
        entries = (await http.get(f"/api/reviews/{rid}/audit")).json()["entries"]
    assert plain.status_code == 200 and with_record.status_code == 200
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_audit"

    # without ?audit: no heading, no table
    assert record_table(plain.content) is None
    assert APPENDIX_HEADING not in [p.text for p in Document(BytesIO(plain.content)).paragraphs]

    doc = Document(BytesIO(with_record.content))
    texts = [p.text for p in doc.paragraphs]
    assert texts[0].endswith("The review record is appended.")
    heading = next(p for p in doc.paragraphs if p.text == APPENDIX_HEADING)
    assert heading.style.name.startswith("Heading") and heading.paragraph_format.page_break_before
    assert doc.element.body[-2].tag.endswith("}tbl"), "the table ends the document (before sectPr)"
    rows = rows_of(record_table(with_record.content))
    # one row per entry up to the export (the first plain export included; this one is recorded after)
    assert len(rows) == len(entries) - 1 and entries[-1]["kind"] == "export" and entries[-1]["by"] == "Cy"
    assert "audit=1" in entries[-1]["detail"]
    assert rows[0]["What"].startswith("Review created") and rows[0]["Who"] == "\u2014"
    decided = [(r["Who"], r["Finding"], r["Decision"], r["Reason"]) for r in rows if r["What"] == "Decided"]
    words = {"accepted": "Accepted", "rejected": "Rejected", "pending": "Reverted to pending"}
    assert decided == [(s.name, cut(it["description"], FINDING_MAX), words[d], r or "") for s, it, d, r in plan]
    assert rows[-1]["What"].startswith("Exported the .docx: include=all") and rows[-1]["Who"] == "\u2014"
    assert all(len(r["When (UTC)"]) == 19 for r in rows)  # "YYYY-MM-DD HH:MM:SS"
    for s in (ann, bo):
        await s.close()


def test_cli_audit_flag_appends_the_record(tmp_path, server):
    out = tmp_path / "with-record.docx"
    run = review(tmp_path, str(sample(tmp_path)), "--server", server, "--out", str(out), "--audit", "--json")
    assert run.returncode == 0, run.stderr
    assert_clean(run)
    doc = json.loads(run.stdout)
    assert doc["export"]["audit"] is True
    rows = rows_of(record_table(out.read_bytes()))
    assert rows[0]["What"].startswith("Review created")
    assert sum(r["What"].startswith("Finding added") for r in rows) == len(doc["items"])
    assert "--audit" in review(tmp_path, "--help").stdout


# ---------------------------------------------------------------------- the table alone


SECTIONS = [Section(id="s1", title="Intro", index=0, text="Hello world.")]


def test_rows_cut_long_text_at_a_word_and_keep_text_as_text() -> None:
    long_detail = "word " * 200
    entries = [
        {"at": "2025-03-04T14:05:09.123Z", "kind": "chat.message", "by": "Ann <b>x</b>", "detail": long_detail},
        {"at": "2025-03-04T14:06:00.000Z", "kind": "item.decided", "by": "Bo", "item_id": "gone",
         "decision": "rejected", "reason": "Out\x01 of  scope."},
        {"at": "not a time", "kind": "item.added", "item_id": "i1", "detail": "claude important · Clarity: Long."},
    ]
    rows = audit_rows(entries, {"i1": "d " * 300})
    assert rows[0][:2] == ("2025-03-04 14:05:09", "Ann <b>x</b>")
    assert rows[0][2].startswith("Question asked: word word") and rows[0][2].endswith("\u2026")
    assert len(rows[0][2]) <= WHAT_MAX and not rows[0][2].endswith(" \u2026")
    assert rows[1] == ("2025-03-04 14:06:00", "Bo", "Decided", "gone", "Rejected", "Out of scope.")
    assert rows[2][0] == "not a time" and rows[2][2] == "Finding added: claude important · Clarity"
    assert len(rows[2][3]) <= FINDING_MAX and rows[2][3].endswith("\u2026")


def test_appendix_in_a_document_without_heading_or_grid_styles() -> None:
    original = Document()
    original.add_paragraph("Body text.")
    styles = original.styles.element
    for style in list(styles):
        if style.get("{http://schemas.openxmlformats.org/wordprocessingml/2006/main}styleId") in ("Heading1",
                                                                                                 "TableGrid"):
            styles.remove(style)
    buf = BytesIO()
    original.save(buf)
    entries = [{"at": "2025-03-04T14:05:09Z", "kind": "export", "by": "Ann", "detail": "include=all"}]
    data = export_docx(items=[], sections=SECTIONS, original_docx=buf.getvalue(),
                       appendix=lambda d: add_audit_appendix(d, entries, {}))
    doc = Document(BytesIO(data))
    heading = next(p for p in doc.paragraphs if p.text == APPENDIX_HEADING)
    assert heading.runs[0].bold and [p.text for p in doc.paragraphs].count(APPENDIX_HEADING) == 1
    assert rows_of(record_table(data)) == [dict(zip(COLUMNS, ("2025-03-04 14:05:09", "Ann",
                                                              "Exported the .docx: include=all", "", "", "")))]
    assert doc.tables[0]._tbl.tblPr.find(
        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblBorders") is not None
