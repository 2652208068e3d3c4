"""Tests for jobs.export: one real Word comment per item, anchored on the exact quote."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import BytesIO

import pytest
from docx import Document
from docx.oxml.ns import qn

from redline.jobs.export import MODEL_AUTHOR, NOTE_GENERAL, comment_text, default_author, export_docx
from redline.jobs.models import Item, Section
from tests.samples import sections_of

# --------------------------------------------------------------------------- helpers

_TEXT_TAGS = {qn(t) for t in ("w:t", "w:tab", "w:br", "w:cr", "w:noBreakHyphen", "w:ptab")}


@dataclass
class Anchor:
    """What one comment covers: its text and the (text, bold) runs inside the range."""

    runs: list[tuple[str, bool]] = field(default_factory=list)
    paragraphs: set[int] = field(default_factory=set)

    @property
    def text(self) -> str:
        return "".join(text for text, _ in self.runs)

    @property
    def segments(self) -> list[tuple[str, bool]]:
        """Adjacent runs of equal boldness merged (other comments may split runs further)."""
        merged: list[tuple[str, bool]] = []
        for text, bold in self.runs:
            if merged and merged[-1][1] == bold:
                merged[-1] = (merged[-1][0] + text, bold)
            else:
                merged.append((text, bold))
        return merged


def commented_ranges(data: bytes) -> dict[int, Anchor]:
    """Walk document.xml in order; collect what lies between each comment's range markers."""
    body = Document(BytesIO(data)).element.body
    anchors: dict[int, Anchor] = {}
    open_ids: set[int] = set()
    paragraph_no = -1
    for el in body.iter():
        if el.tag == qn("w:p"):
            paragraph_no += 1
        elif el.tag == qn("w:commentRangeStart"):
            cid = int(el.get(qn("w:id")))
            open_ids.add(cid)
            anchors[cid] = Anchor()
        elif el.tag == qn("w:commentRangeEnd"):
            open_ids.discard(int(el.get(qn("w:id"))))
        elif el.tag == qn("w:r") and open_ids:
            text = "".join(str(c) for c in el if c.tag in _TEXT_TAGS)
            if not text:
                continue
            bold = el.find(qn("w:rPr") + "/" + qn("w:b")) is not None
            for cid in open_ids:
                anchors[cid].runs.append((text, bold))
                anchors[cid].paragraphs.add(paragraph_no)
    return anchors


def comments_by_id(data: bytes) -> dict[int, object]:
    return {c.comment_id: c for c in Document(BytesIO(data)).comments}


def comment_for(data: bytes, description: str):
    """The (comment, anchor) whose comment text holds the description."""
    anchors = commented_ranges(data)
    for cid, comment in comments_by_id(data).items():
        if description in comment.text:
            return comment, anchors[cid]
    raise AssertionError(f"no comment holds {description!r}")


def item(id: str, section_id: str, quote: str | None, **kw) -> Item:
    base = dict(
        type="important",
        category="Evidence",
        risk="medium",
        description=f"Description of {id}.",
        suggestion=f"Suggestion for {id}.",
        questions=[f"Question one for {id}?", f"Question two for {id}?"],
        refs=["C3", "C7"],
        source="claude",
    )
    base.update(kw)
    return Item(id=id, section_id=section_id, quote=quote, **base)


# --------------------------------------------------------------------------- fixtures

BOLD = "failed twice"
SPLIT_SENTENCE = ("The pump ", BOLD, " before the alarm sounded.")
TABLE_TEXT = "Operator log entry 14:05 was missing."


def make_docx() -> bytes:
    doc = Document()
    doc.add_heading("Incident report", level=0)
    doc.add_heading("Summary", level=1)
    p = doc.add_paragraph()
    p.add_run(SPLIT_SENTENCE[0])
    p.add_run(SPLIT_SENTENCE[1]).bold = True
    p.add_run(SPLIT_SENTENCE[2])
    doc.add_paragraph("Two findings share this line: first claim, and second claim here.")
    doc.add_heading("Evidence", level=1)
    doc.add_paragraph("Evidence was gathered from the control room.")
    table = doc.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Log"
    table.cell(0, 1).text = TABLE_TEXT
    doc.add_heading("Conclusion", level=1)
    doc.add_paragraph("The root cause was  operator   error.")
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


SECTIONS = [
    Section(id="s1", title="Summary", index=0, text="The pump failed twice before the alarm sounded."),
    Section(id="s2", title="Evidence", index=1, text="Evidence was gathered from the control room."),
    Section(id="s3", title="Conclusion", index=2, text="The root cause was operator error."),
]

ITEMS = [
    item("split", "s1", "pump failed twice before"),
    item("bold-only", "s1", "failed"),
    item("first", "s1", "first claim"),
    item("second", "s1", "second claim here."),
    item("table", "s2", "log entry 14:05"),
    item("general", "s2", None, type="suggestion", risk="low"),
    item("missing", "s3", "this sentence is nowhere", type="critical", risk="high"),
    item("spaces", "s3", "root cause was operator error"),
    item("user", "s3", "operator", source="user", author="Jane Doe"),
    item("user-anon", "s1", "The pump", source="user", author=None),
]


@pytest.fixture(scope="module")
def exported() -> bytes:
    return export_docx(items=ITEMS, sections=SECTIONS, original_docx=make_docx(), title="Incident report")


# --------------------------------------------------------------------------- original .docx


def test_one_comment_per_item(exported: bytes) -> None:
    comments = list(Document(BytesIO(exported)).comments)
    assert len(comments) == len(ITEMS)
    assert len(commented_ranges(exported)) == len(ITEMS)


def test_authors_and_initials(exported: bytes) -> None:
    expected = {
        "split": (MODEL_AUTHOR, "R"),
        "user": ("Jane Doe", "JD"),
        "user-anon": ("Reviewer", "R"),
    }
    for item_id, (author, initials) in expected.items():
        comment, _ = comment_for(exported, f"Description of {item_id}.")
        assert comment.author == author
        assert comment.initials == initials


def test_comment_text_holds_all_parts(exported: bytes) -> None:
    for it in ITEMS:
        comment, _ = comment_for(exported, it.description)
        lines = comment.text.split("\n")
        assert lines[0] == f"[{it.risk.upper()} risk · {it.type} · {it.category}]"
        assert it.description in lines
        assert f"Suggestion: {it.suggestion}" in lines
        assert "Questions:" in lines
        for q in it.questions:
            assert f"- {q}" in lines
        assert "Checklist: C3, C7" in lines
        assert len(comment.paragraphs) == len(lines)  # one paragraph per line


@pytest.mark.parametrize("it", [i for i in ITEMS if i.id not in {"general", "missing", "spaces"}],
                         ids=lambda i: i.id)
def test_range_is_exactly_the_quote(exported: bytes, it: Item) -> None:
    _, anchor = comment_for(exported, it.description)
    assert anchor.text == it.quote
    assert len(anchor.paragraphs) == 1


def test_whitespace_normalised_quote(exported: bytes) -> None:
    _, anchor = comment_for(exported, "Description of spaces.")
    assert anchor.text == "root cause was  operator   error"


def test_bold_formatting_preserved(exported: bytes) -> None:
    _, anchor = comment_for(exported, "Description of split.")
    assert anchor.segments == [("pump ", False), (BOLD, True), (" before", False)]
    _, anchor = comment_for(exported, "Description of bold-only.")
    assert anchor.segments == [("failed", True)]

    doc = Document(BytesIO(exported))
    paragraph = next(p for p in doc.paragraphs if p.text == "".join(SPLIT_SENTENCE))
    assert "".join(r.text for r in paragraph.runs if r.bold) == BOLD
    assert all(not r.bold for r in paragraph.runs if r.text and r.text not in BOLD)


def test_document_text_unchanged(exported: bytes) -> None:
    before = [p.text for p in Document(BytesIO(make_docx())).paragraphs]
    after = [p.text for p in Document(BytesIO(exported)).paragraphs]
    assert after == before


def test_missing_quote_anchors_on_heading_with_note(exported: bytes) -> None:
    comment, anchor = comment_for(exported, "Description of missing.")
    assert anchor.text == "Conclusion"
    assert "Quote not found in the document; anchored on the section heading." in comment.text


def test_none_quote_is_general_comment_on_heading(exported: bytes) -> None:
    comment, anchor = comment_for(exported, "Description of general.")
    assert anchor.text == "Evidence"
    assert NOTE_GENERAL in comment.text.split("\n")


def test_odd_quotes_never_lose_an_item() -> None:
    items = [
        item("blank", "s1", "   \n "),
        item("multi", "s1", "failed twice before the alarm sounded.\n\nTwo findings share"),
        item("unknown-section", "nope", "control room"),
        item("unknown-missing", "nope", "not here at all"),
    ]
    data = export_docx(items=items, sections=SECTIONS, original_docx=make_docx(), title="T")
    assert len(list(Document(BytesIO(data)).comments)) == len(items)

    comment, anchor = comment_for(data, "Description of blank.")
    assert anchor.text == "Summary" and NOTE_GENERAL in comment.text
    comment, anchor = comment_for(data, "Description of multi.")  # over two paragraphs: on its first
    assert anchor.text == "failed twice before the alarm sounded." and "Quote not found" not in comment.text
    _, anchor = comment_for(data, "Description of unknown-section.")
    assert anchor.text == "control room"
    comment, anchor = comment_for(data, "Description of unknown-missing.")
    assert anchor.text == "Incident report" and "start of the document" in comment.text


def test_typographic_quotes_match() -> None:
    doc = Document()
    doc.add_heading("Summary", level=1)
    doc.add_paragraph("He said \u201cstop\u201d \u2014 nobody did.")
    out = BytesIO()
    doc.save(out)
    data = export_docx(items=[item("q", "s1", 'said "stop" - nobody')], sections=SECTIONS[:1],
                       original_docx=out.getvalue(), title="T")
    _, anchor = comment_for(data, "Description of q.")
    assert anchor.text == "said \u201cstop\u201d \u2014 nobody"


def test_quote_prefers_own_section() -> None:
    doc = Document()
    for title in ("Summary", "Evidence"):
        doc.add_heading(title, level=1)
        doc.add_paragraph(f"{title}: the same words appear here.")
    out = BytesIO()
    doc.save(out)
    data = export_docx(items=[item("e", "s2", "the same words")], sections=SECTIONS[:2],
                       original_docx=out.getvalue(), title="T")
    para_of_evidence = 3  # title-less doc: Summary, para, Evidence, para (0-based)
    _, anchor = comment_for(data, "Description of e.")
    assert anchor.text == "the same words"
    assert anchor.paragraphs == {para_of_evidence}


def test_no_items_returns_valid_docx() -> None:
    data = export_docx(items=[], sections=SECTIONS, original_docx=make_docx(), title="T")
    assert len(list(Document(BytesIO(data)).comments)) == 0


# --------------------------------------------------------------------------- built from sections


def test_built_from_sections_without_original() -> None:
    sections = [
        Section(id="a", title="Background", index=0, level=1,
                text="First paragraph line one\nline two.\n\nSecond paragraph."),
        Section(id="b", title="Details", index=1, level=2, text="Nothing to see here."),
    ]
    items = [
        item("wrap", "a", "line one line two"),
        item("second", "a", "Second paragraph."),
        item("none", "b", None),
        item("lost", "b", "absent text", source="user", author="Ann Lee"),
    ]
    data = export_docx(items=items, sections=sections, original_docx=None, title="My report")
    doc = Document(BytesIO(data))

    styled = [(p.style.name, p.text) for p in doc.paragraphs]
    assert styled == [
        ("Title", "My report"),
        ("Heading 1", "Background"),
        ("Normal", "First paragraph line one\nline two."),
        ("Normal", "Second paragraph."),
        ("Heading 2", "Details"),
        ("Normal", "Nothing to see here."),
    ]
    assert len(list(doc.comments)) == len(items)

    _, anchor = comment_for(data, "Description of wrap.")
    assert anchor.text == "line one\nline two"
    _, anchor = comment_for(data, "Description of second.")
    assert anchor.text == "Second paragraph."
    comment, anchor = comment_for(data, "Description of none.")
    assert anchor.text == "Details" and NOTE_GENERAL in comment.text
    comment, anchor = comment_for(data, "Description of lost.")
    assert anchor.text == "Details" and "Quote not found" in comment.text
    assert comment.author == "Ann Lee"


def test_unreadable_original_falls_back_to_sections() -> None:
    data = export_docx(items=[item("x", "s1", "pump")], sections=SECTIONS,
                       original_docx=b"not a zip", title="T")
    assert len(list(Document(BytesIO(data)).comments)) == 1


# --------------------------------------------------------------------------- units


def test_default_author() -> None:
    assert default_author(item("a", "s", None, source="offline")) == "Redline"
    assert default_author(item("a", "s", None, source="claude", author="x")) == "Redline"
    assert default_author(item("a", "s", None, source="user", author=" Bo ")) == "Bo"
    assert default_author(item("a", "s", None, source="user", author="")) == "Reviewer"


def test_comment_text_omits_empty_parts() -> None:
    it = item("a", "s", None, suggestion="", questions=[], refs=[], description="Only\nthis.")
    assert comment_text(it) == ["[MEDIUM risk · important · Evidence]", "Only", "this."]


def test_custom_author_of() -> None:
    data = export_docx(items=[item("a", "s1", "pump")], sections=SECTIONS,
                       original_docx=make_docx(), title="T", author_of=lambda i: "Audit Bot")
    comment, _ = comment_for(data, "Description of a.")
    assert comment.author == "Audit Bot" and comment.initials == "AB"


# --------------------------------------------------------------------------- built from Markdown

MARKDOWN_REPORT = b"""# Pump report

Intro with **bold words**, *it*, `pump-7` and [the log](https://example.org/log).<br>Second line.

## Actions

- Replace the **seal** now
- Train operators
  1. sub one
  2. sub two

| Time | Event |
|------|-------|
| 02:10 | **alarm** raised |

> quoted line

## Timeline

### 02:10

Alarm.

### 02:15

Pump stopped.
"""


def markdown_sections() -> tuple[str, list[Section]]:
    from redline.jobs.documents import parse_document

    doc = parse_document("r.md", MARKDOWN_REPORT, max_bytes=1 << 20)
    return doc.title or "", sections_of(doc)


def test_docx_from_markdown_has_word_structure_and_the_title_once() -> None:
    title, sections = markdown_sections()
    items = [
        item("across-bold", "s1", "bold words, it, pump-7 and the log"),
        item("in-list", "s2", "Replace the seal"),
        item("nested", "s2", "sub two"),
        item("in-cell", "s2", "alarm raised"),
        item("entry", "s3", "Pump stopped."),
    ]
    data = export_docx(items=items, sections=sections, original_docx=None, title=title)
    doc = Document(BytesIO(data))
    styled = [(p.style.name, p.text) for p in doc.paragraphs]
    assert styled[0] == ("Title", "Pump report")
    assert [text for _, text in styled].count("Pump report") == 1  # the title once
    assert ("Normal", "Intro with bold words, it, pump-7 and the log.\nSecond line.") in styled
    assert ("List Bullet", "Replace the seal now") in styled and ("List Bullet", "Train operators") in styled
    assert ("List Number 2", "sub one") in styled and ("List Number 2", "sub two") in styled
    assert ("Quote", "quoted line") in styled
    assert ("Heading 3", "02:10") in styled and ("Normal", "Pump stopped.") in styled
    for text, _ in styled:
        for literal in ("**", "`", "<br>", "](", "| ", "- "):
            assert literal not in text, (literal, text)
    # a real table, its header bold
    (table,) = doc.tables
    assert [[c.text for c in row.cells] for row in table.rows] == [["Time", "Event"], ["02:10", "alarm raised"]]
    assert all(r.bold for r in table.cell(0, 0).paragraphs[0].runs)
    # bold / italic / code runs and a hyperlink to the URL
    intro = next(p for p in doc.paragraphs if p.text.startswith("Intro"))
    runs = {r.text: r for r in intro.runs}
    assert runs["bold words"].bold and runs["it"].italic and runs["pump-7"].font.name == "Consolas"
    links = intro._p.xpath("./w:hyperlink")
    assert len(links) == 1 and "".join(t.text for t in links[0].iter(qn("w:t"))) == "the log"
    rel = doc.part.rels[links[0].get(qn("r:id"))]
    assert rel.is_external and rel.target_ref == "https://example.org/log"
    # every comment anchored exactly on its quote
    assert len(list(doc.comments)) == len(items)
    for it in items:
        _, anchor = comment_for(data, f"Description of {it.id}.")
        assert anchor.text == it.quote, it.id


def test_docx_from_a_pdf_upload_keeps_its_paragraphs_and_writes_its_links_as_hyperlinks() -> None:
    """A PDF upload's sections carry "link" marks only: the export writes their text as the plain
    path does (paragraphs at blank lines, single newlines as line breaks, a "> " kept as written),
    with each web link a real hyperlink; a comment anchors on a quote that runs into a link."""
    text = ("- Alert on disk usage above 80 percent on every build node\n- Prune old images (tracked here)\n\n"
            "> not a Markdown quote, a PDF line")
    first, second = text.index("Alert on disk usage"), text.index("tracked here")
    marks = [[first, first + len("Alert on disk usage"), "link", "https://github.com/org/repo/issues/12"],
             [second, second + len("tracked here"), "link", "https://github.com/org/repo/pull/13"]]
    section = Section(id="s1", title="Action items", index=0, text=text, marks=marks)
    plain = Document(BytesIO(export_docx(items=[], sections=[section.model_copy(update={"marks": []})],
                                         original_docx=None, title="Build outage")))
    quote = "Alert on disk usage above 80 percent"
    data = export_docx(items=[item("on-link", "s1", quote)], sections=[section], original_docx=None,
                       title="Build outage")
    doc = Document(BytesIO(data))
    assert [p.text for p in doc.paragraphs] == [p.text for p in plain.paragraphs]
    assert "> not a Markdown quote, a PDF line" in [p.text for p in doc.paragraphs]
    links = [link for p in doc.paragraphs for link in p._p.xpath("./w:hyperlink")]
    assert ["".join(t.text for t in link.iter(qn("w:t"))) for link in links] == ["Alert on disk usage", "tracked here"]
    assert [doc.part.rels[link.get(qn("r:id"))].target_ref for link in links] == [
        "https://github.com/org/repo/issues/12", "https://github.com/org/repo/pull/13"]
    _, anchor = comment_for(data, "Description of on-link.")
    assert anchor.text == quote


def test_docx_from_markdown_tracked_change_in_a_list_item() -> None:
    title, sections = markdown_sections()
    change = item("fix", "s2", "Train operators", replacement="Train and assess operators", decision="accepted")
    data = export_docx(items=[change], sections=sections, original_docx=None, title=title)
    body = Document(BytesIO(data)).element.body
    deleted = "".join(t.text for t in body.iter(qn("w:delText")))
    inserted = "".join(t.text for d in body.iter(qn("w:ins")) for t in d.iter(qn("w:t")))
    assert deleted == "Train operators" and inserted == "Train and assess operators"


def test_a_section_whose_marks_are_only_links_is_written_whole():
    """A Word upload's sections carry their links' addresses as marks, and no block marks: the
    export writes their text as plain paragraphs (the Markdown writer writes only marked blocks)."""
    text = "Diagnose the original issue, which still has not been identified.\n\nRelaunch the hub when unhealthy."
    section = Section(id="s1", title="Action items", index=0, text=text,
                      marks=[(22, 27, "link", "https://github.com/jupyterhub/binderhub/issues/140")])
    data = export_docx(items=[], sections=[section], title="Incident report")
    texts = [p.text for p in Document(BytesIO(data)).paragraphs]
    assert "Diagnose the original issue, which still has not been identified." in texts
    assert "Relaunch the hub when unhealthy." in texts


def test_docx_of_a_code_block_keeps_its_columns_and_the_text_around_it() -> None:
    """A Word upload's code block ("pre", beside its links) and a Markdown section that is only a
    code block: written in a monospaced font with their columns, the paragraphs around them as
    written (a "1." paragraph is text, not list syntax), and a comment anchors in the code."""
    from redline.jobs.documents import parse_document

    code = "Events:\n  Type     Reason        Age\n  Warning  FailedMount   4m"
    text = f"16:11 Mount errors on build pods:\n\n{code}\n\n1.\n\n17:21 Cluster resized, see the issue"
    at, link = text.index(code), text.index("issue")
    section = Section(id="s1", title="Timeline", index=0, text=text,
                      marks=[[at, at + len(code), "pre", ""],
                             [link, link + 5, "link", "https://github.com/org/repo/issues/528"]])
    logs = sections_of(parse_document("l.md", b"## Logs\n\n```\nNAME     READY\nhub-7f   0/1\n```\n",
                                      max_bytes=1 << 20))[0].model_copy(update={"id": "s2", "index": 1})
    items = [item("in-code", "s1", "FailedMount   4m")]
    data = export_docx(items=items, sections=[section, logs], original_docx=None, title="Launch failures")
    doc = Document(BytesIO(data))
    texts = [p.text for p in doc.paragraphs]
    assert texts[texts.index("Timeline") + 1:texts.index("Timeline") + 5] == [
        "16:11 Mount errors on build pods:", code, "1.", "17:21 Cluster resized, see the issue"]
    block = next(p for p in doc.paragraphs if p.text == code)
    assert {r.font.name for r in block.runs if r.text} == {"Consolas"}
    last = next(p for p in doc.paragraphs if p.text.startswith("17:21"))
    assert len(last._p.xpath("./w:hyperlink")) == 1
    (logs_block,) = [p for p in doc.paragraphs if p.text == "NAME     READY\nhub-7f   0/1"]
    assert {r.font.name for r in logs_block.runs} == {"Consolas"}
    _, anchor = comment_for(data, "Description of in-code.")
    assert anchor.text == "FailedMount   4m"


def test_a_quote_across_a_table_row_or_with_a_list_marker_anchors_on_its_text() -> None:
    """The offline rules quote a table's row as it reads ("Resolved | YYYY-MM-DD HH:MM UTC"), a
    list item with its marker ("- [ ] Owner: @github_handle") and several items at once; Word has a
    cell per value, draws the marker and makes a paragraph of each item. All were anchored on the
    section heading, "Quote not found" (7 of the 112 comments on the corpus's write-ups)."""
    doc = Document()
    doc.add_heading("Metadata", level=1)
    table = doc.add_table(rows=2, cols=2)
    for r, (field_, value) in enumerate((("Created", "2024-03-02 10:14 UTC"), ("Resolved", "YYYY-MM-DD HH:MM UTC"))):
        table.cell(r, 0).text, table.cell(r, 1).text = field_, value
    doc.add_heading("Action items", level=1)
    doc.add_paragraph("Owner: @github_handle, alert on queue depth", style="List Bullet")
    doc.add_paragraph("Page the on-call engineer at once", style="List Bullet")
    out = BytesIO()
    doc.save(out)
    sections = [Section(id="s1", title="Metadata", index=0,
                        text="Created | 2024-03-02 10:14 UTC\nResolved | YYYY-MM-DD HH:MM UTC"),
                Section(id="s2", title="Action items", index=1,
                        text="- [ ] Owner: @github_handle, alert on queue depth\n- Page the on-call engineer at once")]
    items = [item("cell", "s1", "Resolved | YYYY-MM-DD HH:MM UTC"),
             item("task", "s2", "- [ ] Owner: @github_handle, alert on queue depth"),
             # "none of the 2 action items names an owner": a quote over both, cut short
             item("items", "s2", "Owner: @github_handle, alert on queue depth\n- Page the on-call engin"),
             item("elsewhere", "s2", "Resolved | nothing like it")]
    data = export_docx(items=items, sections=sections, original_docx=out.getvalue(), title="T")
    comment, anchor = comment_for(data, "Description of cell.")
    assert anchor.text == "YYYY-MM-DD HH:MM UTC" and "Quote not found" not in comment.text
    comment, anchor = comment_for(data, "Description of task.")
    assert anchor.text == "Owner: @github_handle, alert on queue depth" and "Quote not found" not in comment.text
    comment, anchor = comment_for(data, "Description of items.")
    assert anchor.text == "Owner: @github_handle, alert on queue depth" and "Quote not found" not in comment.text
    # a cell's words found only in another section are not this quote: the heading, as before
    comment, anchor = comment_for(data, "Description of elsewhere.")
    assert anchor.text == "Action items" and "Quote not found" in comment.text


def test_a_quote_from_a_footnote_is_commented_at_its_mark_and_a_quote_beside_a_mark_on_its_words() -> None:
    """The review reads a Word file's footnotes as a last "Footnotes" section ("[1] As of writing,
    ... remainging ...") and shows each note's number where it is referenced. In the file the note
    is in its own part and the number is a reference: a quote from a note is commented at that
    reference, saying so; a quote that holds the number is found on its words."""
    from redline.jobs.documents import parse_document
    from tests.test_documents import _with_footnotes

    def build() -> bytes:
        doc = Document()
        doc.add_heading("Details", level=1)
        doc.add_paragraph("We now have 1,935 active Organizations")
        doc.add_paragraph("The Member still existed on PyPI")
        out = BytesIO()
        doc.save(out)
        return out.getvalue()

    data = _with_footnotes(build(), {"1": "As of writing, there are 6,682 remainging requests to review."},
                           {"Organizations": "1"})
    parsed = parse_document("r.docx", data, max_bytes=1 << 20)
    sections = [Section(id=f"s{i + 1}", title=s.title, index=i, text=s.text, level=s.level)
                for i, s in enumerate(parsed.sections)]
    assert [s.title for s in sections] == ["Details", "Footnotes"]
    out = export_docx(items=[item("note", "s2", "6,682 remainging requests"),
                             item("mark", "s1", "1,935 active Organizations[1]")],
                      sections=sections, original_docx=data, title="T")
    comment, _ = comment_for(out, "Description of note.")
    assert "The quote is in footnote 1; anchored on its mark in the text." in comment.text
    body = Document(BytesIO(out)).element.body
    start = next(el for el in body.iter(qn("w:commentRangeStart")) if el.get(qn("w:id")) == str(comment.comment_id))
    assert start.getnext().find(qn("w:footnoteReference")) is not None
    mark, anchor = comment_for(out, "Description of mark.")
    assert anchor.text == "1,935 active Organizations" and "not found" not in mark.text
