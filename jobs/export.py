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

The pieces live in their own modules: jobs.export_document (opening the upload or building a
document from the sections, and where each section lives), jobs.export_markup (Markdown marks
as Word structure), jobs.export_comments (each item as a comment anchored on its quote or a
tracked change, and the comment's text), jobs.quote_match (finding a quote), jobs.xml_clean
(the characters XML forbids) and jobs.redlines (tracked changes). This module is the entry:
which items an export writes, the note that says so, and export_docx itself.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from io import BytesIO

from docx.document import Document as DocxDocument
from docx.oxml.parser import OxmlElement
from docx.text.paragraph import Paragraph

from redline.jobs.export_comments import (  # noqa: F401 (NOTE_*: re-exported, their old home)
    NOTE_GENERAL,
    NOTE_NOT_FOUND,
    NOTE_NOT_TRACKED,
    AuthorOf,
    Changes,
    comment_text,
    replacement_of,
)
from redline.jobs.export_comments import add_item_change as _add_item_change
from redline.jobs.export_comments import add_item_comment as _add_item_comment
from redline.jobs.export_document import body_paragraphs as _body_paragraphs
from redline.jobs.export_document import open_or_build as _open_or_build
from redline.jobs.models import Item, Section
from redline.jobs.redlines import first_free_id
from redline.jobs.xml_clean import clean as _clean

__all__ = ["export_docx", "default_author", "comment_text", "replacement_of", "CHANGE_MODES",
           "INCLUDE_CHOICES", "select_items", "export_note"]

MODEL_AUTHOR = "Redline"
USER_AUTHOR = "Reviewer"

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


# --------------------------------------------------------------------------- public API


def default_author(item: Item) -> str:
    """"Redline" for model items; the item's author (or "Reviewer") for user items."""
    if item.source == "user":
        return (item.author or "").strip() or USER_AUTHOR
    return MODEL_AUTHOR


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
