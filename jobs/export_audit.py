"""The review record (the audit trail, jobs.events.read_audit) as an appendix of the Word export.

A write-up sent back to its author carries the record of who decided what, when and why, so the
author (or an auditor) needs nothing but the .docx. One table row per audit entry, oldest first,
under a "Review record" heading on a page of its own. Long details are cut at a word; a reason is
kept whole up to REASON_MAX (the API already bounds it). Text only: every cell is set as a plain
run, so nothing in a name, a reason or a model's answer can become Word markup.

Used by server.services.Services.export through export_docx's `appendix` hook; jobs/export.py
knows nothing of audit entries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.shared import Pt

from redline.jobs.export import _clean  # pyright: ignore[reportPrivateUsage] - one XML-cleaning rule

__all__ = ["APPENDIX_HEADING", "COLUMNS", "add_audit_appendix", "audit_rows", "cut"]

APPENDIX_HEADING = "Review record"
COLUMNS: tuple[str, ...] = ("When (UTC)", "Who", "What", "Finding", "Decision", "Reason")
WHAT_MAX = 160
FINDING_MAX = 120
REASON_MAX = 400
NOBODY = "\u2014"  # an entry with no person (an analysis, a model's finding)

_WHAT = {
    "review.created": "Review created", "review.version": "New version uploaded",
    "item.added": "Finding added", "item.updated": "Finding changed", "item.removed": "Finding removed",
    "item.decided": "Decided", "chat.message": "Question asked", "chat.completed": "Answer",
    "job.queued": "Analysis started", "job.completed": "Analysis finished", "job.failed": "Analysis failed",
    "job.cancelled": "Analysis cancelled", "export": "Exported the .docx",
}
_DECISION = {"accepted": "Accepted", "rejected": "Rejected", "pending": "Reverted to pending"}
_FONT = Pt(9)


def cut(text: object, limit: int) -> str:
    """Whitespace collapsed; past `limit`, cut at the last word boundary with an ellipsis."""
    if not isinstance(text, str):
        return ""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    return (head[:space] if space > limit // 2 else head).rstrip(" ,;:") + "\u2026"


def _when(at: object) -> str:
    """ISO 8601 (as the audit writes it) -> "2025-03-04 14:05:09" in UTC; anything else as given."""
    if not isinstance(at, str):
        return ""
    try:
        moment = datetime.fromisoformat(at.replace("Z", "+00:00"))
    except ValueError:
        return at
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def _what(entry: Mapping[str, Any]) -> str:
    kind = str(entry.get("kind") or "")
    label = _WHAT.get(kind, kind)
    detail = entry.get("detail")
    if kind == "item.added" and isinstance(detail, str) and ":" in detail:
        detail = detail.split(":", 1)[0]  # "claude important · Clarity": the description is in Finding
    elif kind == "item.decided":
        detail = None
    return cut(f"{label}: {detail}" if isinstance(detail, str) and detail.strip() else label, WHAT_MAX)


def audit_rows(entries: Sequence[Mapping[str, Any]], findings: Mapping[str, str]) -> list[tuple[str, ...]]:
    """One row of COLUMNS per entry, in the order given. `findings`: item id -> its description
    (a finding no longer in the review shows its id)."""
    rows = []
    for e in entries:
        item_id = e.get("item_id")
        finding = cut(findings.get(item_id) or item_id, FINDING_MAX) if isinstance(item_id, str) else ""
        decision = e.get("decision")
        rows.append((_when(e.get("at")), cut(e.get("by"), 80) or NOBODY, _what(e), finding,
                     _DECISION.get(decision, decision) if isinstance(decision, str) else "",
                     cut(e.get("reason"), REASON_MAX)))
    return [tuple(_clean(cell) for cell in row) for row in rows]


def add_audit_appendix(doc: DocxDocument, entries: Sequence[Mapping[str, Any]], findings: Mapping[str, str]) -> None:
    """Append the heading (on a new page), a one-line note and the table to the end of `doc`."""
    if "Heading 1" in doc.styles:
        heading = doc.add_heading(APPENDIX_HEADING, level=1)
    else:  # an uploaded .docx without it (add_heading would raise after adding the paragraph)
        heading = doc.add_paragraph()
        heading.add_run(APPENDIX_HEADING).bold = True
    heading.paragraph_format.page_break_before = True
    n = len(entries)
    doc.add_paragraph(f"Every recorded change to this review up to this export, oldest first "
                      f"({n} entr{'y' if n == 1 else 'ies'}). Times are in UTC.")
    rows = audit_rows(entries, findings)
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    if "Table Grid" in doc.styles:
        table.style = "Table Grid"
    else:
        _borders(table._tbl)  # pyright: ignore[reportPrivateUsage]
    header = table.rows[0]
    for cell, text in zip(header.cells, COLUMNS):
        run = cell.paragraphs[0].add_run(text)
        run.bold, run.font.size = True, _FONT
    flag = OxmlElement("w:tblHeader")  # the header row repeats on every page of a long record
    flag.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(flag)  # pyright: ignore[reportPrivateUsage]
    # One row made through python-docx, then copied per entry: about 10x faster than add_row and
    # runs per cell (5,000 entries: 0.4 s instead of 4.8 s on the CI machine's kind).
    template = table.add_row()
    for cell in template.cells:
        cell.paragraphs[0].add_run(" ").font.size = _FONT
    tr = template._tr  # pyright: ignore[reportPrivateUsage]
    tbl = table._tbl  # pyright: ignore[reportPrivateUsage]
    tbl.remove(tr)
    for row in rows:
        copy = deepcopy(tr)
        for t, text in zip(copy.iter(qn("w:t")), row):
            t.text = text
        tbl.append(copy)


def _borders(tbl: Any) -> None:
    """Single-line borders when the document has no "Table Grid" style."""
    pr = tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:val"), "single")
        edge.set(qn("w:sz"), "4")
        edge.set(qn("w:color"), "auto")
        borders.append(edge)
    pr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                             "w:tblDescription", "w:tblPrChange")  # the schema's order: Word is strict
