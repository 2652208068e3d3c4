"""The document an export writes into: the uploaded .docx opened, or (without one, or when it
cannot be opened) a clean document built from the sections; and where each section lives in
it (its heading and its paragraphs), so an item's comment anchors in its own section first."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from io import BytesIO

from docx import Document
from docx.document import Document as DocxDocument
from docx.text.paragraph import Paragraph

from redline.jobs.export_markup import MarkedWriter as _MarkedWriter
from redline.jobs.export_markup import text_blocks as _blocks
from redline.jobs.export_markup import has_blocks as _has_blocks
from redline.jobs.export_markup import valid_marks as _valid_marks
from redline.jobs.models import Section
from redline.jobs.quote_match import normalise as _normalise
from redline.jobs.xml_clean import clean as _clean

log = logging.getLogger("redline.jobs.export")  # the export's one logger, as before the split


@dataclass
class Span:
    """Where a section lives in the document: its heading and its paragraphs."""

    heading: Paragraph | None
    paragraphs: list[Paragraph] = field(default_factory=list)


def open_or_build(
    original_docx: bytes | None, title: str, sections: Sequence[Section]
) -> tuple[DocxDocument, dict[str, Span]]:
    if original_docx:
        try:
            doc = Document(BytesIO(original_docx))
        except Exception:  # noqa: BLE001 - a broken upload must not lose the review
            log.warning("original .docx could not be opened; exporting from sections", exc_info=True)
        else:
            return doc, _locate_sections(body_paragraphs(doc), sections)
    return _build_document(title, sections)


def _build_document(title: str, sections: Sequence[Section]) -> tuple[DocxDocument, dict[str, Span]]:
    """A clean document: the title once, then each section's heading and body.

    A section with formatting marks (a Markdown upload; see jobs.documents) gets real Word
    structure: paragraphs, sub-headings, List Bullet / List Number paragraphs, tables, quotes,
    code, and bold / italic / code / hyperlink runs. The paragraphs' text is the section text
    without its markup syntax (list markers, " | ", "> "), so quotes anchor on the same words.
    A section whose marks are links only (a PDF upload's; a Word upload's, when its original
    cannot be opened) keeps the plain paragraphs, with its web links as hyperlinks."""
    doc = Document()
    shown_title = title.strip()
    if shown_title:
        doc.add_heading(_clean(shown_title), level=0)
    spans: dict[str, Span] = {}
    for section in sorted(sections, key=lambda s: s.index):
        marks = _valid_marks(section.text, getattr(section, "marks", None) or [])
        if section.index == 0 and shown_title and _normalise(section.title) == _normalise(shown_title):
            heading = doc.paragraphs[0]  # the title's own section: its heading is the title
        else:
            heading = doc.add_heading(_clean(section.title), level=min(max(section.level, 1), 9))
        if _has_blocks(marks):  # a Markdown upload's blocks (a Word upload's marks: links, code blocks)
            body = _MarkedWriter(doc, section.text, marks, section.level).write()
        elif any(m[2] in ("link", "pre") for m in marks):  # a Word or PDF upload's text: links, code blocks
            body = _MarkedWriter(doc, section.text, [m for m in marks if m[2] in ("link", "pre")],
                                 section.level).write_linked()
        else:
            body = [doc.add_paragraph(_clean(block)) for block in _blocks(section.text)]
        spans[section.id] = Span(heading, [heading, *body])
    return doc, spans


def body_paragraphs(doc: DocxDocument) -> list[Paragraph]:
    """Body and table-cell paragraphs, in document order (text boxes excluded)."""
    body = doc.element.body
    elements = body.xpath(".//w:p[not(ancestor::w:txbxContent)]")
    return [Paragraph(p, doc._body) for p in elements]  # pyright: ignore[reportPrivateUsage]


def _locate_sections(paragraphs: list[Paragraph], sections: Sequence[Section]) -> dict[str, Span]:
    """Map each section to its range: from the paragraph equal to its title to the next one.

    Headings are searched in section order. A section whose heading is not found (say, a
    preamble) gets the gap between its neighbours' headings, without a heading.
    """
    ordered = sorted(sections, key=lambda s: s.index)
    starts: list[int | None] = []
    cursor = 0
    for section in ordered:
        found = _find_heading(paragraphs, section.title, cursor)
        starts.append(found)
        if found is not None:
            cursor = found + 1

    spans: dict[str, Span] = {}
    for pos, section in enumerate(ordered):
        start = starts[pos]
        previous = next((s for s in reversed(starts[:pos]) if s is not None), None)
        following = next((s for s in starts[pos + 1 :] if s is not None), len(paragraphs))
        if start is None:
            begin = 0 if previous is None else previous + 1
            spans[section.id] = Span(None, paragraphs[begin:following])
        else:
            spans[section.id] = Span(paragraphs[start], paragraphs[start:following])
    return spans


def _find_heading(paragraphs: list[Paragraph], title: str, cursor: int) -> int | None:
    wanted = _normalise(title)
    if not wanted:
        return None
    candidates = list(enumerate(paragraphs))[cursor:]
    for i, p in candidates:
        if _normalise(p.text) == wanted:
            return i
    for i, p in candidates:
        if _normalise(p.text).casefold() == wanted.casefold():
            return i
    return None
