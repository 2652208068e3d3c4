"""Tests for jobs.redlines and the tracked changes ("redlines") that jobs.export writes.

The LibreOffice test needs `soffice` (Debian: libreoffice-writer-nogui) and skips without it.
LibreOffice 7.4's plain-text export (`--convert-to txt:Text`) does NOT show a document with
tracked changes as accepted: it writes the deleted and the inserted text side by side
("failed twicefailed once"), whatever the document's view settings. So the test asks
LibreOffice two other ways, neither with a macro:
- `--convert-to fodt`: LibreOffice's own model of the changes (kind, author, date, and which
  text each covers), from which the accepted and the rejected text follow;
- `--convert-to pdf` of a copy whose settings say "don't show insertions and deletions"
  (`<w:revisionView w:insDel="0"/>`, Word's "No Markup" view, imported by LibreOffice as
  "Show Changes" off): the rendered page is the corrected document.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from docx import Document
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls, qn
from lxml import etree

from redline.jobs.export import NOTE_NOT_FOUND, export_docx
from redline.jobs.models import Item, Section
from redline.jobs.redlines import (
    Untrackable,
    accept_all,
    first_free_id,
    iso_date,
    paragraph_runs,
    reject_all,
    track_replacement,
    tracked_changes,
)

# --------------------------------------------------------------------------- fixtures


class RItem(Item):
    """An item with the decision fields (until jobs.models has them; harmless after)."""

    replacement: str | None = None
    decided_by: str | None = None
    decided_at: float | str | None = None


def item(id: str, section_id: str, quote: str | None, replacement: str | None = None, **kw) -> RItem:
    # Accepted: only accepted items become tracked changes (tests of other decisions say so).
    base = dict(type="important", category="Evidence", risk="medium", description=f"Description of {id}.",
                suggestion=f"Suggestion for {id}.", source="claude", decision="accepted")
    base.update(kw)
    return RItem(id=id, section_id=section_id, quote=quote, replacement=replacement, **base)


BOLD = "failed twice"
TABLE_TEXT = "Operator log entry 14:05 was missing."
T_ANN = datetime(2026, 12, 6, 15, 30, tzinfo=UTC)

SECTIONS = [
    Section(id="s1", title="Summary", index=0, text="The pump failed twice before the alarm sounded."),
    Section(id="s2", title="Evidence", index=1, text="Evidence was gathered from the control room."),
    Section(id="s3", title="Conclusion", index=2, text="The root cause was operator error."),
]

# (quote, replacement, decider, decided_at, expected author, expected date)
SPAN = item("span", "s1", "failed twice before", "failed once after",
            decided_by="Ann Lee", decided_at=T_ANN.timestamp())
SAME_PARAGRAPH = item("same-paragraph", "s1", "alarm sounded", "siren went off",
                      decided_by=" Bo Chen ", decided_at="2026-12-06T16:45:10+01:00")
TABLE = item("table", "s2", "14:05", "14:50")  # no decider: the item author rules, decided now
MISSING = item("missing", "s3", "this sentence is nowhere", "a new sentence", decided_by="Ann Lee")
PLAIN = item("plain", "s3", "operator error")  # a comment only
OVERLAP = item("overlap", "s1", "The pump failed")  # a comment only, overlapping SPAN's quote

ITEMS = [SPAN, OVERLAP, SAME_PARAGRAPH, TABLE, MISSING, PLAIN]
TRACKED = [SPAN, SAME_PARAGRAPH, TABLE]


def make_docx() -> bytes:
    doc = Document()
    doc.add_heading("Incident report", level=0)
    doc.add_heading("Summary", level=1)
    p = doc.add_paragraph()
    p.add_run("The pump ")
    p.add_run(BOLD).bold = True
    p.add_run(" before the alarm sounded.")
    doc.add_heading("Evidence", level=1)
    doc.add_paragraph("Evidence was gathered from the control room.")
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Log"
    table.cell(0, 1).text = TABLE_TEXT
    doc.add_heading("Conclusion", level=1)
    doc.add_paragraph("The root cause was operator error.")
    return _save(doc)


def _save(doc) -> bytes:
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def original() -> bytes:
    return make_docx()


@pytest.fixture(scope="module")
def exported(original: bytes) -> tuple[bytes, float]:
    before = time.time()
    data = export_docx(items=ITEMS, sections=SECTIONS, original_docx=original, title="Incident report")
    return data, before


def body(data: bytes):
    return Document(BytesIO(data)).element.body


def changes_of(data: bytes, kind: str):
    return [el for el in body(data).iter(qn(f"w:{kind}")) if el.getparent().tag != qn("w:rPr")]


def plain(el) -> str:
    """The w:t and w:delText of an element (lxml's itertext() doubles python-docx's w:t)."""
    return "".join(t.text or "" for t in el.iter(qn("w:t"), qn("w:delText")))


def ins_with_text(data: bytes, text: str):
    return next(el for el in changes_of(data, "ins") if plain(el) == text)


def comment_for(data: bytes, description: str):
    return next(c for c in Document(BytesIO(data)).comments if description in c.text)


def expected_corrected(original: bytes) -> str:
    text = accept_all(original)
    for it in TRACKED:
        assert text.count(it.quote) == 1
        text = text.replace(it.quote, it.replacement)
    return text


# --------------------------------------------------------------------------- (a) the changes


def test_exactly_three_del_ins_pairs_with_author_date_text(exported) -> None:
    data, before = exported
    changes = tracked_changes(data)
    assert [c["kind"] for c in changes] == ["del", "ins"] * 3
    pairs = {(d["text"], i["text"]): (d, i) for d, i in zip(changes[::2], changes[1::2])}
    assert set(pairs) == {(it.quote, it.replacement) for it in TRACKED}

    expected_authors = {SPAN.id: "Ann Lee", SAME_PARAGRAPH.id: "Bo Chen", TABLE.id: "Redline"}
    for it in TRACKED:
        d, i = pairs[(it.quote, it.replacement)]
        assert d["author"] == i["author"] == expected_authors[it.id]
        assert d["date"] == i["date"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", d["date"])
    assert pairs[(SPAN.quote, SPAN.replacement)][0]["date"] == "2026-12-06T15:30:00Z"
    assert pairs[(SAME_PARAGRAPH.quote, SAME_PARAGRAPH.replacement)][0]["date"] == "2026-12-06T15:45:10Z"
    table_date = datetime.strptime(pairs[(TABLE.quote, TABLE.replacement)][0]["date"], "%Y-%m-%dT%H:%M:%SZ")
    assert before - 1 <= table_date.replace(tzinfo=UTC).timestamp() <= time.time() + 1  # decided now

    ids = [c["id"] for c in changes]
    assert len(set(ids)) == len(ids) and all(i.isdigit() for i in ids)


def test_deleted_runs_hold_deltext_only(exported) -> None:
    data, _ = exported
    for deletion in changes_of(data, "del"):
        assert deletion.findall(f".//{qn('w:t')}") == []
        assert deletion.findall(f".//{qn('w:delText')}")
    for insertion in changes_of(data, "ins"):
        assert insertion.findall(f".//{qn('w:delText')}") == []


def test_formatting_kept(exported) -> None:
    data, _ = exported
    bold = qn("w:rPr") + "/" + qn("w:b")
    span_ins = ins_with_text(data, SPAN.replacement)
    assert span_ins.find(f"{qn('w:r')}/{bold}") is not None  # the deleted text started bold
    span_del = span_ins.getprevious()
    assert span_del.tag == qn("w:del")
    deleted = [(plain(r), r.find(bold) is not None) for r in span_del.iter(qn("w:r"))]
    deleted = [(text, b) for text, b in deleted if text]
    assert "".join(t for t, _ in deleted) == SPAN.quote
    assert deleted[0] == ("failed", True) and deleted[-1] == (" before", False)
    assert "".join(t for t, b in deleted if b) == BOLD

    plain_ins = ins_with_text(data, SAME_PARAGRAPH.replacement)
    assert plain_ins.find(f"{qn('w:r')}/{bold}") is None  # the deleted text started plain


def test_table_cell_change(exported) -> None:
    data, _ = exported
    cell = Document(BytesIO(data)).tables[0].cell(0, 1)
    p = cell.paragraphs[0]._p
    assert [plain(el) for el in p.iterchildren(qn("w:del"), qn("w:ins"))] == [TABLE.quote, TABLE.replacement]


def test_missing_quote_gets_no_change_and_a_fallback_comment(exported) -> None:
    data, _ = exported
    assert all(c["text"] not in (MISSING.replacement, MISSING.quote) for c in tracked_changes(data))
    comment = comment_for(data, "Description of missing.")
    assert NOTE_NOT_FOUND.format(where="the section heading") in comment.text
    assert f"Replace with: \u201c{MISSING.replacement}\u201d" in comment.text
    assert comment.author == "Redline"


# --------------------------------------------------------------------------- (b) accept / reject


def test_accept_all_gives_the_corrected_text(exported, original) -> None:
    data, _ = exported
    accepted = accept_all(data)
    assert accepted == expected_corrected(original)
    for it in TRACKED:
        assert it.replacement in accepted
    for gone in ("failed twice before", "alarm sounded", "14:05"):
        assert gone not in accepted


def test_reject_all_gives_the_original_text(exported, original) -> None:
    data, _ = exported
    assert reject_all(data) == accept_all(original) == reject_all(original)
    assert "The pump failed twice before the alarm sounded." in reject_all(data).split("\n")


# --------------------------------------------------------------------------- (c) comments


def test_comment_anchored_around_each_change(exported) -> None:
    data, _ = exported
    assert len(list(Document(BytesIO(data)).comments)) == len(ITEMS)
    for it in TRACKED:
        comment = comment_for(data, it.description)
        cid = str(comment.comment_id)
        insertion = ins_with_text(data, it.replacement)
        deletion = insertion.getprevious()
        start, end = deletion.getprevious(), insertion.getnext()
        assert start.tag == qn("w:commentRangeStart") and start.get(qn("w:id")) == cid
        assert end.tag == qn("w:commentRangeEnd") and end.get(qn("w:id")) == cid
        reference = end.getnext()
        assert reference.find(qn("w:commentReference")).get(qn("w:id")) == cid
        assert comment.author == "Redline"  # the finding's author; the change is the decider's
        for el in (deletion, insertion):
            markers = el.iter(qn("w:commentRangeStart"), qn("w:commentRangeEnd"), qn("w:commentReference"))
            assert [m for m in markers if m.get(qn("w:id")) == cid] == []


def _ranges(data: bytes, view: str) -> dict[str, str]:
    """Comment id -> the text between its range markers, with changes accepted or rejected."""
    texts: dict[str, str] = {}
    open_ids: set[str] = set()
    skip = qn("w:del") if view == "accept" else qn("w:ins")
    for el in body(data).iter():
        if el.tag == qn("w:commentRangeStart"):
            open_ids.add(el.get(qn("w:id")))
            texts.setdefault(el.get(qn("w:id")), "")
        elif el.tag == qn("w:commentRangeEnd"):
            open_ids.discard(el.get(qn("w:id")))
        elif el.tag in (qn("w:t"), qn("w:delText")) and not any(a.tag == skip for a in el.iterancestors()):
            for cid in open_ids:
                texts[cid] += el.text or ""
    return texts


def test_comment_on_overlapping_quote_keeps_its_original_words(exported) -> None:
    data, _ = exported
    rejected, accepted = _ranges(data, "reject"), _ranges(data, "accept")
    overlap = str(comment_for(data, "Description of overlap.").comment_id)
    assert rejected[overlap] == OVERLAP.quote  # anchored on the original words
    span = str(comment_for(data, "Description of span.").comment_id)
    assert rejected[span] == SPAN.quote and accepted[span] == SPAN.replacement
    plain = str(comment_for(data, "Description of plain.").comment_id)
    assert rejected[plain] == accepted[plain] == PLAIN.quote


# --------------------------------------------------------------------------- modes


def test_tracked_mode_comments_only_items_without_a_change(original) -> None:
    data = export_docx(items=ITEMS, sections=SECTIONS, original_docx=original, title="T", changes="tracked")
    assert len(tracked_changes(data)) == 6
    commented = {it.id for it in ITEMS for c in Document(BytesIO(data)).comments if it.description in c.text}
    assert commented == {OVERLAP.id, MISSING.id, PLAIN.id}
    assert accept_all(data) == expected_corrected(original)
    assert not [el for el in body(data).iter(qn("w:commentRangeStart"))
                if el.getnext() is not None and el.getnext().tag == qn("w:del")]


def test_comments_mode_is_todays_export(original) -> None:
    data = export_docx(items=ITEMS, sections=SECTIONS, original_docx=original, title="T", changes="comments")
    assert tracked_changes(data) == []
    assert accept_all(data) == accept_all(original)
    assert len(list(Document(BytesIO(data)).comments)) == len(ITEMS)
    assert f"Replace with: \u201c{SPAN.replacement}\u201d" in comment_for(data, "Description of span.").text
    assert "Replace with" not in comment_for(data, "Description of plain.").text


def test_unknown_mode_is_refused(original) -> None:
    with pytest.raises(ValueError):
        export_docx(items=ITEMS, sections=SECTIONS, original_docx=original, changes="redline")  # type: ignore[arg-type]


def test_items_without_replacement_field_export_as_before(original) -> None:
    plain = Item(id="p", section_id="s1", quote="failed twice", type="critical", category="C", risk="high",
                 description="Plain item.", source="claude")
    data = export_docx(items=[plain], sections=SECTIONS, original_docx=original)
    assert tracked_changes(data) == []
    assert len(list(Document(BytesIO(data)).comments)) == 1


def test_built_from_sections_gets_changes_too() -> None:
    data = export_docx(items=[SPAN], sections=SECTIONS, original_docx=None, title="T")
    assert [c["text"] for c in tracked_changes(data)] == [SPAN.quote, SPAN.replacement]
    assert "The pump failed once after the alarm sounded." in accept_all(data).split("\n")


def test_ids_follow_the_documents_own(original) -> None:
    doc = Document(BytesIO(original))
    doc.paragraphs[2]._p.append(parse_xml(
        f'<w:ins {nsdecls("w")} w:id="41" w:author="Earlier" w:date="2020-01-01T00:00:00Z">'
        "<w:r><w:t xml:space=\"preserve\"> Someone added this.</w:t></w:r></w:ins>"))
    data = export_docx(items=[SPAN, TABLE], sections=SECTIONS, original_docx=_save(doc))
    ids = [int(c["id"]) for c in tracked_changes(data) if c["author"] != "Earlier"]
    assert len(ids) == 4 and min(ids) > 41 and len(set(ids)) == 4
    assert "Someone added this." in accept_all(data) and "Someone added this." not in reject_all(data)


# --------------------------------------------------------------------------- track_replacement


def _paragraph(*runs: tuple[str, bool]):
    doc = Document()
    p = doc.add_paragraph()
    for text, bold in runs:
        p.add_run(text).bold = bold or None
    return doc, p


def test_track_replacement_unit() -> None:
    doc, p = _paragraph(("Alpha ", False), ("beta", True), (" gamma.", False))
    ids = iter(range(7, 100)).__next__
    deletion, insertion = track_replacement(p, 4, 10, "ALPHA\tB\nC", author="Ann", date="2026-12-06T15:30:00Z",
                                            next_id=ids)
    assert (deletion.get(qn("w:id")), insertion.get(qn("w:id"))) == ("7", "8")
    assert plain(deletion) == "a beta"  # characters 4..10, over two runs
    r = insertion.find(qn("w:r"))
    assert [c.tag for c in r][1:] == [qn("w:t"), qn("w:tab"), qn("w:t"), qn("w:br"), qn("w:t")]
    assert r.find(f"{qn('w:rPr')}/{qn('w:b')}") is None  # the first deleted run ("a ") was plain
    data = _save(doc)
    assert accept_all(data) == "AlphALPHA\tB\nC gamma."
    assert reject_all(data) == "Alpha beta gamma."


def test_pure_deletion() -> None:
    doc, p = _paragraph(("Keep this, drop that.", False))
    deletion, insertion = track_replacement(paragraph_runs(p), 9, 20, "", author="A", date=0.0,
                                            next_id=iter(range(1, 9)).__next__)
    assert insertion is None and deletion.get(qn("w:date")) == "1970-01-01T00:00:00Z"
    assert accept_all(_save(doc)) == "Keep this."


def test_range_across_a_hyperlink_is_untrackable() -> None:
    doc, p = _paragraph(("See ", False))
    p._p.append(parse_xml(f'<w:hyperlink {nsdecls("w")}><w:r><w:t>the log</w:t></w:r></w:hyperlink>'))
    p.add_run(" now.")
    with pytest.raises(Untrackable):
        track_replacement(p, 0, 9, "x", author="A", date=None, next_id=iter(range(9)).__next__)
    assert accept_all(_save(doc)) == reject_all(_save(doc)) == "See the log now."
    assert tracked_changes(_save(doc)) == []


def test_range_inside_a_hyperlink_is_tracked() -> None:
    doc, p = _paragraph(("See ", False))
    p._p.append(parse_xml(f'<w:hyperlink {nsdecls("w")}><w:r><w:t>the log</w:t></w:r></w:hyperlink>'))
    deletion, _ = track_replacement(p, 8, 11, "book", author="A", date=None, next_id=iter(range(9)).__next__)
    assert deletion.getparent().tag == qn("w:hyperlink")
    assert accept_all(_save(doc)) == "See the book"


def test_iso_date() -> None:
    assert iso_date(T_ANN.timestamp()) == "2026-12-06T15:30:00Z"
    assert iso_date("2026-12-06T15:30:00.123Z") == "2026-12-06T15:30:00Z"
    assert iso_date("2026-12-06T10:30:00-05:00") == "2026-12-06T15:30:00Z"
    assert iso_date("2026-12-06T15:30:00") == "2026-12-06T15:30:00Z"  # naive is UTC
    assert iso_date(T_ANN) == "2026-12-06T15:30:00Z"
    for unusable in (None, "", "yesterday", object()):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", iso_date(unusable))  # type: ignore[arg-type]


def test_first_free_id() -> None:
    doc = Document()
    assert first_free_id(doc.element) == 0
    doc.add_paragraph()._p.append(parse_xml(f'<w:bookmarkStart {nsdecls("w")} w:id="12" w:name="x"/>'))
    assert first_free_id(doc.element) == 13


# --------------------------------------------------------------------------- (d) LibreOffice

TEXT_NS = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
OFFICE_NS = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
DC_NS = "http://purl.org/dc/elements/1.1/"
T = f"{{{TEXT_NS}}}"


def soffice_convert(src: Path, fmt: str, outdir: Path, profile: Path) -> tuple[Path, float]:
    """Convert with headless LibreOffice in a private profile; return the file and seconds taken."""
    started = time.monotonic()
    done = subprocess.run(
        ["soffice", f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", fmt, "--outdir", str(outdir), str(src)],
        capture_output=True, text=True, timeout=180,
    )
    elapsed = time.monotonic() - started
    out = outdir / (src.stem + "." + fmt.split(":")[0])
    assert done.returncode == 0 and out.exists(), (done.stdout, done.stderr)
    return out, elapsed


def lo_changes_and_texts(fodt: Path) -> tuple[list[tuple[str, str, str]], str, str]:
    """LibreOffice's model of the changes: [(kind, author, date)], accepted text, rejected text."""
    root = etree.parse(str(fodt)).getroot()
    text_body = root.find(f"{{{OFFICE_NS}}}body/{{{OFFICE_NS}}}text")
    regions: dict[str, tuple[str, str, str, str]] = {}
    for region in text_body.iter(f"{T}changed-region"):
        change = region[0]
        kind = etree.QName(change).localname
        author = change.findtext(f"{{{OFFICE_NS}}}change-info/{{{DC_NS}}}creator")
        date = change.findtext(f"{{{OFFICE_NS}}}change-info/{{{DC_NS}}}date")
        # Older LibreOffice keeps deleted paragraphs inside the region, marked by text:change.
        kept = "".join("".join(p.itertext()) for p in change.iter(f"{T}p"))
        regions[region.get(f"{T}id")] = (kind, author, date, kept)

    def text_of(p, view: str) -> str:
        parts: list[str] = []
        active: set[str] = set()
        hide = "deletion" if view == "accept" else "insertion"

        def visible() -> bool:
            return not any(regions[cid][0] == hide for cid in active)

        def walk(el) -> None:
            for child in el:
                tag = child.tag
                if tag == f"{T}change-start":
                    active.add(child.get(f"{T}change-id"))
                elif tag == f"{T}change-end":
                    active.discard(child.get(f"{T}change-id"))
                elif tag == f"{T}change" and view == "reject":
                    parts.append(regions[child.get(f"{T}change-id")][3])
                elif tag in (f"{{{OFFICE_NS}}}annotation", f"{T}tracked-changes"):
                    pass  # a comment's own text, not the document's
                elif visible():
                    if tag == f"{T}s":
                        parts.append(" " * int(child.get(f"{T}c", "1")))
                    elif tag == f"{T}tab":
                        parts.append("\t")
                    elif tag == f"{T}line-break":
                        parts.append("\n")
                    else:
                        parts.append(child.text or "")
                        walk(child)
                        parts.append(child.tail or "")
                        continue
                if visible():
                    parts.append(child.tail or "")

        if visible():
            parts.append(p.text or "")
        walk(p)
        return "".join(parts)

    paragraphs = [p for p in text_body.iter(f"{T}p", f"{T}h")
                  if not any(a.tag in (f"{T}tracked-changes", f"{{{OFFICE_NS}}}annotation")
                             for a in p.iterancestors())]
    kinds = [(kind, author, date) for kind, author, date, _ in regions.values()]
    return (kinds, "\n".join(text_of(p, "accept") for p in paragraphs),
            "\n".join(text_of(p, "reject") for p in paragraphs))


def hide_changes(data: bytes) -> bytes:
    """A copy whose view settings hide insertions and deletions (Word: "No Markup")."""
    doc = Document(BytesIO(data))
    settings = doc.settings.element
    view = parse_xml(f'<w:revisionView {nsdecls("w")} w:markup="0" w:insDel="0"/>')
    zoom = settings.find(qn("w:zoom"))  # CT_Settings order: ... w:zoom, w:removePersonalInformation, ...
    if zoom is not None:
        zoom.addnext(view)
    else:
        settings.insert(0, view)
    return _save(doc)


def test_libreoffice_opens_it_and_accepting_gives_the_corrected_text(exported, original, tmp_path_factory) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui")
    pdfplumber = pytest.importorskip("pdfplumber")
    data, _ = exported
    work = tmp_path_factory.mktemp("libreoffice")
    profile = work / "profile"  # private profile: parallel runs do not share a lock
    src = work / "reviewed.docx"
    src.write_bytes(data)
    hidden = work / "reviewed-no-markup.docx"
    hidden.write_bytes(hide_changes(data))

    fodt, t_fodt = soffice_convert(src, "fodt", work / "fodt", profile)
    pdf, t_pdf = soffice_convert(hidden, "pdf", work / "pdf", profile)
    print(f"\nLibreOffice conversion: fodt {t_fodt:.1f}s, pdf {t_pdf:.1f}s")

    # LibreOffice's own model: the same three pairs, authors and dates.
    kinds, accepted, rejected = lo_changes_and_texts(fodt)
    by_author: dict[str, list[tuple[str, str]]] = {}
    for kind, author, date in kinds:
        by_author.setdefault(author, []).append((kind, date[:19]))  # LibreOffice drops the "Z"
    assert sorted(by_author) == ["Ann Lee", "Bo Chen", "Redline"]
    # (LibreOffice may cut one w:del into several regions, at formatting or comment marks.)
    assert set(by_author["Ann Lee"]) == {("deletion", "2026-12-06T15:30:00"), ("insertion", "2026-12-06T15:30:00")}
    assert set(by_author["Bo Chen"]) == {("deletion", "2026-12-06T15:45:10"), ("insertion", "2026-12-06T15:45:10")}
    assert {kind for kind, _ in by_author["Redline"]} == {"deletion", "insertion"}
    assert accepted == expected_corrected(original)
    assert rejected == accept_all(original)
    annotations = etree.parse(str(fodt)).getroot().iter(f"{{{OFFICE_NS}}}annotation")
    assert sum(1 for _ in annotations) == len(ITEMS)  # every comment survived

    # What LibreOffice shows with changes hidden: the corrected document.
    with pdfplumber.open(pdf) as doc:
        shown = " ".join(page.extract_text() or "" for page in doc.pages)
    shown = " ".join(shown.split())
    for it in TRACKED:
        assert it.replacement in shown
    assert "The pump failed once after the siren went off." in shown
    assert "entry 14:50 was missing" in shown
    for gone in ("failed twice", "alarm sounded", "14:05"):
        assert gone not in shown


def test_empty_replacement_is_a_tracked_deletion(original) -> None:
    drop = item("drop", "s2", " from the control room", "", decided_by="Ann Lee", decided_at=T_ANN.timestamp())
    data = export_docx(items=[drop], sections=SECTIONS, original_docx=original)
    assert tracked_changes(data) == [{"kind": "del", "id": "0", "author": "Ann Lee",
                                      "date": "2026-12-06T15:30:00Z", "text": drop.quote}]
    assert "Evidence was gathered." in accept_all(data).split("\n")
    deletion = changes_of(data, "del")[0]
    cid = str(comment_for(data, "Description of drop.").comment_id)
    assert deletion.getprevious().tag == qn("w:commentRangeStart") and deletion.getprevious().get(qn("w:id")) == cid
    assert deletion.getnext().tag == qn("w:commentRangeEnd") and deletion.getnext().get(qn("w:id")) == cid


def test_untrackable_quote_keeps_a_comment_on_it_with_the_replacement() -> None:
    doc = Document()
    doc.add_heading("Summary", level=1)
    p = doc.add_paragraph("See ")
    p._p.append(parse_xml(f'<w:hyperlink {nsdecls("w")}><w:r><w:t>the log</w:t></w:r></w:hyperlink>'))
    p.add_run(" now.")
    link = item("link", "s1", "See the log", "Read the book")
    data = export_docx(items=[link], sections=SECTIONS[:1], original_docx=_save(doc))
    assert tracked_changes(data) == []
    comment = comment_for(data, "Description of link.")
    assert "could not be made a tracked change" in comment.text
    assert "Replace with: \u201cRead the book\u201d" in comment.text
    assert accept_all(data) == "Summary\nSee the log now."
