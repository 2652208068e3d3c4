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
from io import BytesIO
from typing import Literal

from docx import Document
from docx.comments import Comment
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
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

__all__ = ["export_docx", "default_author", "comment_text", "replacement_of", "CHANGE_MODES"]

MODEL_AUTHOR = "Redline"
USER_AUTHOR = "Reviewer"

NOTE_GENERAL = "General comment on this section."
NOTE_NOT_FOUND = "Quote not found in the document; anchored on {where}."
NOTE_NOT_TRACKED = "The replacement could not be made a tracked change here ({reason})."

AuthorOf = Callable[[Item], str]
Changes = Literal["both", "tracked", "comments"]
CHANGE_MODES: tuple[str, ...] = ("both", "tracked", "comments")

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


def export_docx(
    *,
    items: Sequence[Item],
    sections: Sequence[Section],
    original_docx: bytes | None = None,
    title: str = "",
    author_of: AuthorOf = default_author,
    changes: Changes = "both",
) -> bytes:
    """Return a .docx (bytes) with the items' comments and tracked changes (see module doc).

    `original_docx` is the uploaded document, commented in place; when it is None (or cannot
    be opened) a document is built from `title` and `sections`. The caller picks the items
    (accepted only, or all): every one of them is written, and every one with a replacement
    and a quote found becomes a tracked change unless `changes` is "comments". Comments
    without a tracked change are written first, in the order given, so they anchor on the
    original text; then the tracked changes, in the order given.
    """
    if changes not in CHANGE_MODES:
        raise ValueError(f"changes must be one of {CHANGE_MODES}, got {changes!r}")
    doc, spans = _open_or_build(original_docx, title, sections)
    paragraphs = _body_paragraphs(doc)
    next_id = itertools.count(first_free_id(doc.element)).__next__

    def tracks(item: Item) -> bool:
        return changes != "comments" and replacement_of(item) is not None

    ordered = [i for i in items if not tracks(i)] + [i for i in items if tracks(i)]
    for item in ordered:
        span = spans.get(item.section_id)
        if tracks(item):
            _add_item_change(doc, item, span, paragraphs, author_of, changes, next_id)
        else:
            _add_item_comment(doc, item, span, paragraphs, author_of(item), replacement_of(item))
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


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
    """A clean document: title, then each section's heading and paragraphs."""
    doc = Document()
    if title.strip():
        doc.add_heading(_clean(title.strip()), level=0)
    spans: dict[str, _Span] = {}
    for section in sorted(sections, key=lambda s: s.index):
        heading = doc.add_heading(_clean(section.title), level=min(max(section.level, 1), 9))
        body = [doc.add_paragraph(_clean(block)) for block in _blocks(section.text)]
        spans[section.id] = _Span(heading, [heading, *body])
    return doc, spans


def _blocks(text: str) -> list[str]:
    """Paragraphs of plain text: split on blank lines; single newlines become line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    blocks = (b.strip("\n") for b in re.split(r"\n[ \t]*\n", text))
    return [b for b in blocks if b.strip()]


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
