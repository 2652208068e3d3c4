"""Export a review as a .docx with real Word comments and tracked changes ("redlines").

With the original .docx, the comments are added to a copy of it, each anchored on the
exact characters of the item's quote (runs are split at the quote's edges, keeping their
formatting). Without one (.md/.txt/.pdf input), a clean document is built from the
sections first and commented the same way.

An item with a `replacement` (the text that should stand where its quote stands) becomes a
Word tracked change: the quote deleted, the replacement inserted, by the decider at the
decision time (see jobs.redlines). `changes` picks what is written:

- "both" (default): a tracked change per item with a replacement, and a comment per item,
  anchored on the change for those items (Word shows the comment on the redline);
- "tracked": tracked changes for items with a replacement, comments for the others only;
- "comments": comments only; a replacement is quoted in the comment.

Every item given yields a comment or a tracked change, at least: a quote that is missing,
blank or cannot be found anchors a comment on its section's heading (or the nearest
paragraph) and the comment says so; its replacement is quoted in that comment, never applied.
"""

from __future__ import annotations

import itertools
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from io import BytesIO
from typing import Literal

from docx import Document
from docx.comments import Comment
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from redline.jobs.models import Item, Section
from redline.jobs.redlines import (
    DateLike,
    NextId,
    Untrackable,
    first_free_id,
    hoist_comment_range,
    track_run_range,
)
from redline.jobs.redlines import isolate as _isolate
from redline.jobs.redlines import paragraph_runs as _paragraph_runs
from redline.jobs.redlines import run_text as _run_text

log = logging.getLogger(__name__)

__all__ = ["export_docx", "default_author", "comment_text", "replacement_of", "CHANGE_MODES",
           "INCLUDE_CHOICES", "select_items", "export_note"]

MODEL_AUTHOR = "Redline"
USER_AUTHOR = "Reviewer"

NOTE_GENERAL = "General comment on this section."
NOTE_NOT_FOUND = "Quote not found in the document; anchored on {where}."
NOTE_NOT_TRACKED = "The replacement could not be made a tracked change here ({reason})."

AuthorOf = Callable[[Item], str]
Changes = Literal["both", "tracked", "comments"]
CHANGE_MODES: tuple[str, ...] = ("both", "tracked", "comments")
# Which items an export writes, by decision (the one place this choice is made).
INCLUDE_CHOICES: tuple[str, ...] = ("accepted", "accepted_and_pending", "all")
_INCLUDED = {"accepted": ("accepted",), "accepted_and_pending": ("accepted", "pending"),
             "all": ("accepted", "pending", "rejected")}
_INCLUDE_WORDS = {"accepted": "accepted findings only",
                  "accepted_and_pending": "accepted and pending findings (rejected ones left out)",
                  "all": "all findings, whatever their decision"}
_CHANGE_WORDS = {"both": "accepted rewrites as tracked changes",
                 "tracked": "accepted rewrites as tracked changes, without comments on them",
                 "comments": "rewrites quoted in the comments, no tracked changes"}

# Characters XML 1.0 forbids; python-docx raises on them.
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Typographic variants an LLM quote may not reproduce exactly (1:1 so offsets still map).
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                       "\u2013": "-", "\u2014": "-", "\u2011": "-"})


# --------------------------------------------------------------------------- public API


def default_author(item: Item) -> str:
    """"Redline" for model items; the item's author (or "Reviewer") for user items."""
    if item.source == "user":
        return (item.author or "").strip() or USER_AUTHOR
    return MODEL_AUTHOR


def replacement_of(item: Item) -> str | None:
    """The item's `replacement` (None when it has none; "" asks for a deletion)."""
    value = getattr(item, "replacement", None)
    return value if isinstance(value, str) else None


def select_items(items: Sequence[Item], include: str) -> list[Item]:
    """The items an export with `include` (one of INCLUDE_CHOICES) writes, in the order given.
    A finding that a later version resolved or outdated is left out: its passage is not in the
    document any more (the review record keeps it)."""
    if include not in _INCLUDED:
        raise ValueError(f"include must be one of {INCLUDE_CHOICES}, got {include!r}")
    wanted = _INCLUDED[include]
    return [i for i in items if i.decision in wanted and i.resolution not in ("resolved", "outdated")]


def export_note(include: str, changes: str, *, chosen: int, total: int, day: date | None = None) -> str:
    """The short note an export puts on its first paragraph, saying which choice made the file."""
    day = day or datetime.now(UTC).date()
    return (f"Reviewed with Redline on {day.isoformat()}: comments for {_INCLUDE_WORDS[include]} "
            f"({chosen} of {total} findings); {_CHANGE_WORDS[changes]}.")


def export_docx(
    *,
    items: Sequence[Item],
    sections: Sequence[Section],
    original_docx: bytes | None = None,
    title: str = "",
    author_of: AuthorOf = default_author,
    changes: Changes = "both",
    note: str | None = None,
    appendix: Callable[[DocxDocument], None] | None = None,
) -> bytes:
    """Return a .docx (bytes) with the items' comments and tracked changes (see module doc).

    `original_docx` is the uploaded document, commented in place; when it is None (or cannot
    be opened) a document is built from `title` and `sections`. The caller picks the items
    (see `select_items`): every one of them is written, and every ACCEPTED one with a
    replacement and a quote found becomes a tracked change unless `changes` is "comments"
    (an item with another decision gets a comment with its "Replace with" line). Comments
    without a tracked change are written first, in the order given, so they anchor on the
    original text; then the tracked changes, in the order given. `note`, when given, is
    written in italics as the document's first paragraph. `appendix`, when given, is called on
    the finished document before it is saved (the review record: jobs.export_audit).
    """
    if changes not in CHANGE_MODES:
        raise ValueError(f"changes must be one of {CHANGE_MODES}, got {changes!r}")
    doc, spans = _open_or_build(original_docx, title, sections)
    paragraphs = _body_paragraphs(doc)
    next_id = itertools.count(first_free_id(doc.element)).__next__

    def tracks(item: Item) -> bool:
        return changes != "comments" and item.decision == "accepted" and replacement_of(item) is not None

    ordered = [i for i in items if not tracks(i)] + [i for i in items if tracks(i)]
    for item in ordered:
        span = spans.get(item.section_id)
        if tracks(item):
            _add_item_change(doc, item, span, paragraphs, author_of, changes, next_id)
        else:
            _add_item_comment(doc, item, span, paragraphs, author_of(item), replacement_of(item))
    if note:
        _add_note(doc, note)
    if appendix is not None:
        appendix(doc)
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


def _add_note(doc: DocxDocument, note: str) -> None:
    """An italic paragraph before everything else in the body."""
    p = OxmlElement("w:p")
    doc.element.body.insert(0, p)
    Paragraph(p, doc._body).add_run(_clean(note)).italic = True  # pyright: ignore[reportPrivateUsage]


def comment_text(item: Item, note: str | None = None, replacement: str | None = None) -> list[str]:
    """The comment's paragraphs: header, note, description, suggestion, replacement (when it
    is not shown as a tracked change), questions, refs."""
    lines = [f"[{item.risk.upper()} risk · {item.type} · {item.category}]"]
    if note:
        lines.append(note)
    lines.extend(_lines(item.description))
    if item.suggestion.strip():
        lines.extend(_lines(f"Suggestion: {item.suggestion.strip()}"))
    if replacement is not None:
        lines.extend(_lines(f"Replace with: \u201c{replacement}\u201d" if replacement else
                            "Replace with: (delete the quoted text)"))
    questions = [q.strip() for q in item.questions if q.strip()]
    if questions:
        lines.append("Questions:")
        lines.extend(f"- {q}" for q in questions)
    refs = [r.strip() for r in item.refs if r.strip()]
    if refs:
        lines.append(f"Checklist: {', '.join(refs)}")
    return [_clean(line) for line in lines]


# --------------------------------------------------------------------------- documents


@dataclass
class _Span:
    """Where a section lives in the document: its heading and its paragraphs."""

    heading: Paragraph | None
    paragraphs: list[Paragraph] = field(default_factory=list)


def _open_or_build(
    original_docx: bytes | None, title: str, sections: Sequence[Section]
) -> tuple[DocxDocument, dict[str, _Span]]:
    if original_docx:
        try:
            doc = Document(BytesIO(original_docx))
        except Exception:  # noqa: BLE001 - a broken upload must not lose the review
            log.warning("original .docx could not be opened; exporting from sections", exc_info=True)
        else:
            return doc, _locate_sections(_body_paragraphs(doc), sections)
    return _build_document(title, sections)


def _build_document(title: str, sections: Sequence[Section]) -> tuple[DocxDocument, dict[str, _Span]]:
    """A clean document: the title once, then each section's heading and body.

    A section with formatting marks (a Markdown upload; see jobs.documents) gets real Word
    structure: paragraphs, sub-headings, List Bullet / List Number paragraphs, tables, quotes,
    code, and bold / italic / code / hyperlink runs. The paragraphs' text is the section text
    without its markup syntax (list markers, " | ", "> "), so quotes anchor on the same words."""
    doc = Document()
    shown_title = title.strip()
    if shown_title:
        doc.add_heading(_clean(shown_title), level=0)
    spans: dict[str, _Span] = {}
    for section in sorted(sections, key=lambda s: s.index):
        marks = _valid_marks(section.text, getattr(section, "marks", None) or [])
        if section.index == 0 and shown_title and _normalise(section.title) == _normalise(shown_title):
            heading = doc.paragraphs[0]  # the title's own section: its heading is the title
        else:
            heading = doc.add_heading(_clean(section.title), level=min(max(section.level, 1), 9))
        if marks:
            body = _MarkedWriter(doc, section.text, marks, section.level).write()
        else:
            body = [doc.add_paragraph(_clean(block)) for block in _blocks(section.text)]
        spans[section.id] = _Span(heading, [heading, *body])
    return doc, spans


def _blocks(text: str) -> list[str]:
    """Paragraphs of plain text: split on blank lines; single newlines become line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = (b.strip("\n") for b in re.split(r"\n[ \t]*\n", text))
    return [b for b in blocks if b.strip()]


_MarkT = tuple[int, int, str, str]
_BLOCK_KINDS = {"quote", "pre", "table", "tr", "th", "td", "p", "h", "li"}
_INLINE_KINDS = ("strong", "em", "del", "code", "link")
_SAFE_HREF = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
_MONO = "Consolas"


def _valid_marks(text: str, marks: Sequence) -> list[_MarkT]:
    out = []
    for mark in marks:
        try:
            start, end, kind = int(mark[0]), int(mark[1]), str(mark[2])
            attr = str(mark[3]) if len(mark) > 3 and mark[3] is not None else ""
        except (TypeError, ValueError, IndexError):
            continue
        if 0 <= start < end <= len(text):
            out.append((start, end, kind, attr))
    return out


class _MarkedWriter:
    """Writes one section's text with its marks as Word paragraphs and tables."""

    def __init__(self, doc: DocxDocument, text: str, marks: list[_MarkT], level: int) -> None:
        self.doc, self.text, self.level = doc, text, level
        self.inline = [m for m in marks if m[2] in _INLINE_KINDS]
        blocks = sorted((m for m in marks if m[2] in _BLOCK_KINDS), key=lambda m: (m[0], -m[1]))
        self.top: list[_MarkT] = []  # outermost blocks, in order
        for mark in blocks:
            if self.top and mark[0] < self.top[-1][1]:
                continue  # inside the previous outer block
            self.top.append(mark)
        self.blocks = blocks
        self.paragraphs: list[Paragraph] = []

    def write(self) -> list[Paragraph]:
        cursor = 0
        for start, end, kind, attr in self.top:
            self._loose(cursor, start)
            if kind == "table":
                self._table(start, end)
            elif kind == "quote":
                self._quote(start, end)
            else:
                self._leaf(start, end, kind, attr)
            cursor = end
        self._loose(cursor, len(self.text))
        return self.paragraphs

    def _inside(self, start: int, end: int, kinds: set[str]) -> list[_MarkT]:
        return [m for m in self.blocks if start <= m[0] and m[1] <= end and m[2] in kinds and (m[0], m[1]) != (start, end)]

    def _loose(self, start: int, end: int) -> None:
        """Text outside every block (not from Markdown): plain paragraphs, as before."""
        gap = self.text[start:end]
        if gap.strip() and not re.fullmatch(r"[\s>|*+\-.\d]*", gap):
            for block in _blocks(gap):
                self.paragraphs.append(self.doc.add_paragraph(_clean(block)))

    def _leaf(self, start: int, end: int, kind: str, attr: str, style: str | None = None) -> None:
        if kind == "h":
            level = int(attr) if attr.isdigit() else self.level + 1
            paragraph = self.doc.add_heading("", level=min(max(level, self.level + 1, 1), 9))
        elif kind == "li":
            parts = attr.split()
            depth = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            name = "List Number" if parts and parts[0] == "ol" else "List Bullet"
            paragraph = self.doc.add_paragraph(style=name if depth == 0 else f"{name} {min(depth + 1, 3)}")
        else:
            paragraph = self.doc.add_paragraph(style=style)
        self._runs(paragraph, start, end, mono=kind == "pre")
        self.paragraphs.append(paragraph)

    def _quote(self, start: int, end: int) -> None:
        inner = [m for m in self._inside(start, end, {"p", "li", "h", "pre"})]
        if not inner:
            inner = [(start, end, "p", "")]
        for s, e, kind, attr in inner:
            self._leaf(s, e, kind if kind != "li" else "p", attr, style="Quote")

    def _table(self, start: int, end: int) -> None:
        rows = self._inside(start, end, {"tr"})
        cells = [self._inside(s, e, {"th", "td"}) for s, e, _, _ in rows]
        width = max((len(row) for row in cells), default=0)
        if not rows or not width:
            return
        table = self.doc.add_table(rows=len(rows), cols=width)
        try:
            table.style = "Table Grid"
        except (KeyError, ValueError):
            pass
        for r, row in enumerate(cells):
            for c, (s, e, kind, _) in enumerate(row):
                paragraph = table.cell(r, c).paragraphs[0]
                self._runs(paragraph, s, e, bold=kind == "th")
                self.paragraphs.append(paragraph)

    def _runs(self, paragraph: Paragraph, start: int, end: int, *, mono: bool = False, bold: bool = False) -> None:
        """The text [start, end) as runs, one per stretch of equal formatting; "> " prefixes of
        quoted lines are left out; links become w:hyperlink elements around their runs."""
        skip = [(m.start(), m.end()) for m in re.finditer(r"(?:(?<=\n)|^)(?:> ?)+", self.text[start:end])] \
            if self.text[start:start + 1] == ">" or "\n>" in self.text[start:end] else []
        skip = [(start + a, start + b) for a, b in skip]
        cuts = {start, end}
        for s, e, _, _ in self.inline:
            if s < end and e > start:
                cuts.update((max(s, start), min(e, end)))
        for s, e in skip:
            cuts.update((s, e))
        points = sorted(cuts)
        link_el, link_href = None, None
        for a, b in zip(points, points[1:]):
            if any(s <= a and b <= e for s, e in skip):
                continue
            piece = _clean(self.text[a:b])
            if not piece:
                continue
            kinds = {m[2]: m[3] for m in self.inline if m[0] <= a and b <= m[1]}
            href = kinds.get("link") if _SAFE_HREF.match(kinds.get("link") or "") else None
            if href is None:
                link_el, link_href = None, None
                run = paragraph.add_run(piece)
            else:
                if link_el is None or link_href != href:
                    link_el, link_href = _hyperlink(paragraph, href), href
                run = paragraph.add_run(piece)
                link_el.append(run._r)  # pyright: ignore[reportPrivateUsage]
                run.font.underline = True
                run.font.color.rgb = _LINK_COLOUR
            if bold or "strong" in kinds:
                run.bold = True
            if "em" in kinds:
                run.italic = True
            if "del" in kinds:
                run.font.strike = True
            if mono or "code" in kinds:
                run.font.name = _MONO


def _hyperlink(paragraph: Paragraph, href: str):
    """An external w:hyperlink appended to the paragraph (runs are moved into it)."""
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.parser import OxmlElement as _Oxml

    rel_id = paragraph.part.relate_to(href, RT.HYPERLINK, is_external=True)
    link = _Oxml("w:hyperlink")
    link.set(qn("r:id"), rel_id)
    paragraph._p.append(link)  # pyright: ignore[reportPrivateUsage]
    return link


def _link_colour():
    from docx.shared import RGBColor

    return RGBColor(0x05, 0x63, 0xC1)


_LINK_COLOUR = _link_colour()


def _body_paragraphs(doc: DocxDocument) -> list[Paragraph]:
    """Body and table-cell paragraphs, in document order (text boxes excluded)."""
    body = doc.element.body
    elements = body.xpath(".//w:p[not(ancestor::w:txbxContent)]")
    return [Paragraph(p, doc._body) for p in elements]  # pyright: ignore[reportPrivateUsage]


def _locate_sections(paragraphs: list[Paragraph], sections: Sequence[Section]) -> dict[str, _Span]:
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

    spans: dict[str, _Span] = {}
    for pos, section in enumerate(ordered):
        start = starts[pos]
        previous = next((s for s in reversed(starts[:pos]) if s is not None), None)
        following = next((s for s in starts[pos + 1 :] if s is not None), len(paragraphs))
        if start is None:
            begin = 0 if previous is None else previous + 1
            spans[section.id] = _Span(None, paragraphs[begin:following])
        else:
            spans[section.id] = _Span(paragraphs[start], paragraphs[start:following])
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


# --------------------------------------------------------------------------- comments


def _add_item_comment(
    doc: DocxDocument,
    item: Item,
    span: _Span | None,
    paragraphs: list[Paragraph],
    author: str,
    replacement: str | None = None,
) -> None:
    quote = _quote_of(item)
    runs = _anchor_on_quote(quote, span, paragraphs) if quote else None
    note = None
    if runs is None:
        runs, where = _fallback_anchor(doc, span, paragraphs)
        note = NOTE_GENERAL if quote is None else NOTE_NOT_FOUND.format(where=where)
    _write_comment(doc, runs, item, note, author, replacement)


def _add_item_change(
    doc: DocxDocument,
    item: Item,
    span: _Span | None,
    paragraphs: list[Paragraph],
    author_of: AuthorOf,
    changes: Changes,
    next_id: NextId,
) -> None:
    """A tracked change for the item's replacement, with its comment on it when `changes` is
    "both". A quote not found, or not trackable, leaves a comment quoting the replacement."""
    replacement = replacement_of(item) or ""
    quote = _quote_of(item)
    runs = _anchor_on_quote(quote, span, paragraphs) if quote else None
    if runs is None:  # the comment falls back as for any item, and quotes the replacement
        _add_item_comment(doc, item, span, paragraphs, author_of(item), replacement)
        return
    first, last = runs[0]._r, runs[-1]._r  # pyright: ignore[reportPrivateUsage]
    try:
        deletion, insertion = track_run_range(
            first, last, _clean(replacement), author=_clean(_decider(item, author_of)),
            date=_decided_at(item), next_id=next_id)
    except Untrackable as exc:
        log.info("item %s: replacement not tracked: %s", item.id, exc)
        note = NOTE_NOT_TRACKED.format(reason=exc)
        _write_comment(doc, runs, item, note, author_of(item), replacement)
        return
    if changes != "both":
        return
    end = insertion if insertion is not None else deletion
    paragraph = runs[0]._parent  # pyright: ignore[reportPrivateUsage]
    inner = [Run(deletion.findall(qn("w:r"))[0], paragraph), Run(end.findall(qn("w:r"))[-1], paragraph)]
    comment = _write_comment(doc, inner, item, None, author_of(item))
    hoist_comment_range(deletion, end, comment.comment_id)


def _quote_of(item: Item) -> str | None:
    return item.quote if item.quote and item.quote.strip() else None


def _decider(item: Item, author_of: AuthorOf) -> str:
    """Who accepted the item: `decided_by`, else the comment author rules."""
    by = getattr(item, "decided_by", None)
    return by.strip() if isinstance(by, str) and by.strip() else author_of(item)


def _decided_at(item: Item) -> DateLike:
    """When the item was accepted: `decided_at` (epoch, ISO string or datetime); None = now."""
    return getattr(item, "decided_at", None)


def _write_comment(
    doc: DocxDocument,
    runs: list[Run],
    item: Item,
    note: str | None,
    author: str,
    replacement: str | None = None,
) -> Comment:
    author = _clean(author)
    comment = doc.add_comment(runs, text="", author=author, initials=_initials(author))
    header, *rest = comment_text(item, note, None if replacement is None else _clean(replacement))
    comment.paragraphs[0].add_run(header).bold = True
    for position, line in enumerate(rest):
        run = comment.add_paragraph().add_run(line)
        if note and position == 0:  # comment_text puts the note right after the header
            run.italic = True
    return comment


def _anchor_on_quote(quote: str, span: _Span | None, paragraphs: list[Paragraph]) -> list[Run] | None:
    """Split runs so the quote is exactly a run range; return [first_run, last_run]."""
    preferred = span.paragraphs if span else []
    seen = {id(p._p) for p in preferred}  # pyright: ignore[reportPrivateUsage]
    rest = [p for p in paragraphs if id(p._p) not in seen]  # pyright: ignore[reportPrivateUsage]
    for paragraph in [*preferred, *rest]:
        runs = _paragraph_runs(paragraph)
        found = _find_quote("".join(_run_text(r) for r in runs), quote)
        if found is not None:
            first, last = _isolate(runs, *found)
            return [Run(first, paragraph), Run(last, paragraph)]
    return None


def _fallback_anchor(
    doc: DocxDocument, span: _Span | None, paragraphs: list[Paragraph]
) -> tuple[list[Run], str]:
    """Runs of the section heading, else of its first paragraph with text, else the document's."""
    candidates: list[tuple[Paragraph | None, str]] = []
    if span is not None:
        candidates.append((span.heading, "the section heading"))
        candidates.extend((p, "the start of the section") for p in span.paragraphs)
    candidates.extend((p, "the start of the document") for p in paragraphs)
    for paragraph, where in candidates:
        if paragraph is None:
            continue
        runs = [r for r in _paragraph_runs(paragraph) if _run_text(r)]
        if runs:
            return [Run(runs[0], paragraph), Run(runs[-1], paragraph)], where
    # An empty document: give the comment somewhere to live.
    paragraph = doc.add_paragraph()
    return [paragraph.add_run()], "the start of the document"


# --------------------------------------------------------------------------- quote matching


def _find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """[start, end) of the quote in text: exact first, then whitespace/typography-normalised."""
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    folded, index = _normalise_with_map(text)
    wanted = _normalise(quote)
    if not wanted:
        return None
    at = folded.find(wanted)
    if at < 0:
        return None
    return index[at], index[at + len(wanted) - 1] + 1


def _normalise(text: str) -> str:
    return " ".join(text.translate(_FOLD).split())


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Collapse whitespace runs to one space; index[i] is the source offset of char i."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text.translate(_FOLD)):
        if ch.isspace():
            if not chars or chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        index.append(i)
    return "".join(chars), index


# --------------------------------------------------------------------------- small helpers


def _lines(text: str) -> list[str]:
    return [line for line in (ln.strip() for ln in text.splitlines()) if line]


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _initials(author: str) -> str:
    return "".join(word[0] for word in author.split()[:3]).upper() or "R"
