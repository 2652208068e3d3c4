"""Each item written into the document: a Word comment anchored on the exact characters of its
quote (runs split at the quote's edges), or a tracked change for its replacement with the
comment on it (jobs.redlines); a quote missing or not found anchors on its section's heading
(or the nearest paragraph) and the comment says so. Also the comment's text."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Literal

from docx.comments import Comment
from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph
from docx.text.run import Run

from redline.jobs.export_document import Span as _Span
from redline.jobs.models import Item
from redline.jobs.quote_match import find_quote as _find_quote
from redline.jobs.redlines import (
    DateLike,
    NextId,
    Untrackable,
    hoist_comment_range,
    track_run_range,
)
from redline.jobs.redlines import isolate as _isolate
from redline.jobs.redlines import paragraph_runs as _paragraph_runs
from redline.jobs.redlines import run_text as _run_text
from redline.jobs.xml_clean import clean as _clean

log = logging.getLogger("redline.jobs.export")  # the export's one logger, as before the split

NOTE_GENERAL = "General comment on this section."
NOTE_NOT_FOUND = "Quote not found in the document; anchored on {where}."
NOTE_IN_FOOTNOTE = "The quote is in {mark}; anchored on its mark in the text."
# the number the review reads where Word has a note's reference: "[3]", "[iii]"
_FOOTNOTE_MARK = re.compile(r"\[(?:\d{1,4}|[ivxlcdm]{1,8})\]")
NOTE_NOT_TRACKED = "The replacement could not be made a tracked change here ({reason})."

AuthorOf = Callable[[Item], str]
Changes = Literal["both", "tracked", "comments"]


def replacement_of(item: Item) -> str | None:
    """The item's `replacement` (None when it has none; "" asks for a deletion)."""
    value = getattr(item, "replacement", None)
    return value if isinstance(value, str) else None


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


# --------------------------------------------------------------------------- comments


def add_item_comment(
    doc: DocxDocument,
    item: Item,
    span: _Span | None,
    paragraphs: list[Paragraph],
    author: str,
    replacement: str | None = None,
) -> None:
    quote = _quote_of(item)
    runs = _anchor_on_quote(quote, span, paragraphs) if quote else None
    if runs is None and quote and _FOOTNOTE_MARK.search(quote):
        # "Organizations[1], so": the review shows a footnote's number where the file has its reference
        bare = _FOOTNOTE_MARK.sub("", quote).strip()
        runs = _anchor_on_quote(bare, span, paragraphs) if bare else None
    if runs is None and quote and span is not None:
        runs = _anchor_on_part(quote, span)
    note = None
    if runs is None and quote:
        got = _anchor_on_footnote(doc, quote)
        if got is not None:
            runs, mark = got
            note = NOTE_IN_FOOTNOTE.format(mark=mark)
    if runs is None:
        runs, where = _fallback_anchor(doc, span, paragraphs)
        note = NOTE_GENERAL if quote is None else NOTE_NOT_FOUND.format(where=where)
    _write_comment(doc, runs, item, note, author, replacement)


def _anchor_on_footnote(doc: DocxDocument, quote: str) -> tuple[list[Run], str] | None:
    """A quote from a footnote or an endnote (the review reads them as a last "Footnotes" or
    "Endnotes" section): the comment goes on the note's mark in the text, where a reader finds it."""
    from redline.jobs.documents.docx import _all_notes  # the parser's reading of them, the same numbers

    said = _FOOTNOTE_MARK.sub("", " ".join(quote.split())).strip()  # "[3] Another thing ..." in the review
    for notes in _all_notes(doc):
        note_id = next((k for k, text in notes.text.items() if said in text), None)
        if note_id is None:
            continue
        refs = [ref for ref in doc.element.body.iter(notes.reference)]
        for ref in refs:  # numbered as the parser numbered them: in order of reference
            notes.label(ref.get(qn("w:id")))
        for ref in refs:
            run = ref.getparent()
            p = next(run.iterancestors(qn("w:p")), None)
            if ref.get(qn("w:id")) == note_id and p is not None:
                return [Run(run, Paragraph(p, doc._body))], f"{notes.kind} {notes.label(note_id)}"
    return None


def add_item_change(
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
        add_item_comment(doc, item, span, paragraphs, author_of(item), replacement)
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


# a list item's marker as the quote reads it ("- [ ] ", "2. "), where Word's list draws it
_LIST_MARKER = re.compile(r"^\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+(?:\[[ xX]\]\s+)?")


def _anchor_on_part(quote: str, span: _Span) -> list[Run] | None:
    """A quote as read across a table's row ("Resolved | YYYY-MM-DD HH:MM UTC"), with a list's
    marker ("- [ ] Owner: ...") or over several list items (a rule's "none of the 7 action items"):
    its longest cell, the item without its marker, or its first item, in its own section's
    paragraphs (a cell's text alone may be anywhere)."""
    first, *more = quote.strip().split("\n")
    bare = _LIST_MARKER.sub("", first if more else quote)
    cells = [c.strip() for c in bare.split(" | ") if c.strip()]
    for part in dict.fromkeys([bare, *sorted(cells, key=len, reverse=True)]):
        if part != quote and len(part) >= 4:
            runs = _anchor_on_quote(part, None, span.paragraphs)
            if runs is not None:
                return runs
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


# --------------------------------------------------------------------------- small helpers


def _lines(text: str) -> list[str]:
    return [line for line in (ln.strip() for ln in text.splitlines()) if line]


def _initials(author: str) -> str:
    return "".join(word[0] for word in author.split()[:3]).upper() or "R"
