"""Word tracked changes ("redlines") on python-docx's XML, and the run model they work on.

python-docx has no API for tracked changes, so this module keeps the little XML it takes:

- the run model shared with jobs.export: a paragraph's visible runs, their text, and
  `isolate`, which splits runs so that exact characters of a paragraph are a run range
  (formatting kept);
- `track_replacement` / `track_run_range`: turn such a range into a `w:del` (its `w:t` become
  `w:delText`) followed by a `w:ins` holding the new text in one run that copies the first
  deleted run's `w:rPr`, each with the author, the date (ISO 8601, UTC) and a unique `w:id`;
- readers for tests and checks: `tracked_changes`, `accept_all`, `reject_all`.

A range is tracked only when it is simple enough to be sure of the result: its runs are
siblings in one paragraph (or one hyperlink), hold only text, and no earlier change lies inside
it. Otherwise `Untrackable` is raised before anything is changed.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from io import BytesIO
from typing import Literal

from docx import Document
from docx.oxml.ns import qn
from docx.oxml.parser import OxmlElement
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.text.paragraph import Paragraph

log = logging.getLogger(__name__)

__all__ = [
    "TEXT_TAGS",
    "Untrackable",
    "accept_all",
    "first_free_id",
    "hoist_comment_range",
    "isolate",
    "iso_date",
    "paragraph_runs",
    "reject_all",
    "run_text",
    "split_run",
    "track_replacement",
    "track_run_range",
    "tracked_changes",
]

# Run children that carry text, the same set python-docx uses for `Run.text`.
TEXT_TAGS = frozenset(
    qn(tag) for tag in ("w:t", "w:tab", "w:br", "w:cr", "w:noBreakHyphen", "w:ptab")
)
# Runs that make up a paragraph's visible text (plain, hyperlinked, tracked insertions...).
# Deleted runs (w:del/w:r) are not visible, so after a tracked change the paragraph's text
# is the corrected one.
PARAGRAPH_RUNS = "./w:r | ./w:hyperlink/w:r | ./w:ins/w:r | ./w:smartTag/w:r | ./w:fldSimple/w:r"

_W_ID, _W_AUTHOR, _W_DATE = qn("w:id"), qn("w:author"), qn("w:date")
_INS, _DEL, _MOVE_TO, _MOVE_FROM = qn("w:ins"), qn("w:del"), qn("w:moveTo"), qn("w:moveFrom")
_R, _RPR, _T, _DEL_TEXT = qn("w:r"), qn("w:rPr"), qn("w:t"), qn("w:delText")
_COMMENT_REFERENCE = qn("w:commentReference")
# Where a tracked change may be put: directly in a paragraph or in a hyperlink.
_CHANGE_PARENTS = frozenset({qn("w:p"), qn("w:hyperlink")})
# Siblings a deleted range may hold besides runs: point markers, kept inside the w:del.
_MARKERS = frozenset(
    qn(tag)
    for tag in ("w:proofErr", "w:bookmarkStart", "w:bookmarkEnd", "w:commentRangeStart",
                "w:commentRangeEnd", "w:permStart", "w:permEnd")
)
# Run children a deleted run may hold: text and formatting only (no field, picture, note...).
_PLAIN_RUN_CHILDREN = TEXT_TAGS | {_RPR, qn("w:lastRenderedPageBreak"), qn("w:softHyphen")}
# Text of run children when reading a document (w:delText counts: it is deleted text).
_READ_TEXT = {_T: None, _DEL_TEXT: None, qn("w:tab"): "\t", qn("w:ptab"): "\t",
              qn("w:br"): "\n", qn("w:cr"): "\n", qn("w:noBreakHyphen"): "-"}

DateLike = datetime | float | int | str | None
NextId = Callable[[], int]


class Untrackable(ValueError):
    """The run range cannot be made a tracked change safely; nothing was changed."""


# --------------------------------------------------------------------------- run model


def paragraph_runs(paragraph: Paragraph | BaseOxmlElement) -> list[BaseOxmlElement]:
    """The `w:r` elements making up a paragraph's visible text, in order."""
    p = getattr(paragraph, "_p", paragraph)
    return p.xpath(PARAGRAPH_RUNS)


def run_text(r: BaseOxmlElement) -> str:
    return "".join(str(child) for child in r if child.tag in TEXT_TAGS)


def _child_len(child: BaseOxmlElement) -> int:
    return len(str(child)) if child.tag in TEXT_TAGS else 0


def isolate(runs: Sequence[BaseOxmlElement], start: int, end: int) -> tuple[BaseOxmlElement, BaseOxmlElement]:
    """Split runs at `start` and `end` (paragraph offsets); return the first and last run inside.

    The end is split first so the start offset still refers to the same run afterwards.
    """
    last, last_offset = _run_at(runs, end - 1)
    if end - last_offset < len(run_text(last)):
        split_run(last, end - last_offset)
    first, first_offset = _run_at(runs, start)
    if start > first_offset:
        right = split_run(first, start - first_offset)
        if last is first:
            last = right
        first = right
    return first, last


def _run_at(runs: Sequence[BaseOxmlElement], offset: int) -> tuple[BaseOxmlElement, int]:
    """The run holding the character at `offset`, and the paragraph offset it starts at."""
    position = 0
    for r in runs:
        length = len(run_text(r))
        if position <= offset < position + length:
            return r, position
        position += length
    raise ValueError(f"offset {offset} is outside the paragraph")


def split_run(r: BaseOxmlElement, at: int) -> BaseOxmlElement:
    """Split run `r` after `at` characters; return the new right-hand run, placed after it.

    The new run carries a copy of `r`'s properties (w:rPr), so formatting is kept.
    """
    right = copy.deepcopy(r)
    for child in list(right):
        if child.tag != _RPR:
            right.remove(child)
    position = 0
    for child in list(r):
        if child.tag == _RPR:
            continue
        length = _child_len(child)
        if position >= at:
            right.append(child)  # lxml moves it
        elif position + length > at:  # only a w:t can straddle the split
            text = child.text or ""
            child.text = text[: at - position]
            child.set(qn("xml:space"), "preserve")
            tail = OxmlElement("w:t")
            tail.text = text[at - position :]
            tail.set(qn("xml:space"), "preserve")
            right.append(tail)
        position += length
    r.addnext(right)
    return right


# --------------------------------------------------------------------------- tracked changes


def track_replacement(
    paragraph: Paragraph | BaseOxmlElement | Sequence[BaseOxmlElement],
    start: int,
    end: int,
    new_text: str,
    *,
    author: str,
    date: DateLike,
    next_id: NextId,
) -> tuple[BaseOxmlElement, BaseOxmlElement | None]:
    """Replace characters [start, end) of a paragraph's visible text by `new_text`, tracked.

    `paragraph` is a python-docx Paragraph, a `w:p`, or its runs (`paragraph_runs`). Returns
    the new `w:del` and `w:ins` (None when `new_text` is empty: a pure deletion). Raises
    `Untrackable` when the range cannot be tracked safely (its runs are still split at the
    range's edges, which changes neither text nor formatting).
    """
    if not 0 <= start < end:
        raise ValueError(f"empty or negative range [{start}, {end})")
    runs = paragraph if isinstance(paragraph, (list, tuple)) else paragraph_runs(paragraph)
    first, last = isolate(runs, start, end)
    return track_run_range(first, last, new_text, author=author, date=date, next_id=next_id)


def track_run_range(
    first: BaseOxmlElement,
    last: BaseOxmlElement,
    new_text: str,
    *,
    author: str,
    date: DateLike,
    next_id: NextId,
) -> tuple[BaseOxmlElement, BaseOxmlElement | None]:
    """Make runs `first`..`last` (siblings, in order) a `w:del`, followed by a `w:ins` of `new_text`.

    Text-less runs holding another comment's reference mark are not deleted: they move right
    after the change, so that comment survives "Accept All".
    """
    siblings = _range_siblings(first, last)
    attrs = {_W_AUTHOR: author, _W_DATE: iso_date(date)}

    deletion = OxmlElement("w:del", attrs={_W_ID: str(next_id()), **attrs})
    first.addprevious(deletion)
    references: list[BaseOxmlElement] = []
    for el in siblings:
        if el.tag == _R and _is_reference_run(el):
            references.append(el)
            continue
        deletion.append(el)  # lxml moves it
        if el.tag == _R:
            _mark_deleted(el)

    insertion = None
    if new_text:
        r = OxmlElement("w:r")
        rpr = first.find(_RPR)
        if rpr is not None:
            rpr = copy.deepcopy(rpr)
            for change in rpr.findall(qn("w:rPrChange")):  # carries a w:id of its own
                rpr.remove(change)
            r.append(rpr)
        r.text = new_text  # CT_R.text: w:t, w:tab for "\t", w:br for "\n"
        insertion = OxmlElement("w:ins", attrs={_W_ID: str(next_id()), **attrs})
        insertion.append(r)
        deletion.addnext(insertion)

    anchor = insertion if insertion is not None else deletion
    for ref in reversed(references):
        anchor.addnext(ref)
    return deletion, insertion


def _range_siblings(first: BaseOxmlElement, last: BaseOxmlElement) -> list[BaseOxmlElement]:
    """Elements from `first` to `last` inclusive; raise Untrackable unless all are simple."""
    parent = first.getparent()
    if parent is None or parent.tag not in _CHANGE_PARENTS:
        raise Untrackable("the text is inside another change or a field")
    siblings: list[BaseOxmlElement] = []
    el = first
    while el is not None:
        if el.tag == _R:
            if not _is_reference_run(el) and any(c.tag not in _PLAIN_RUN_CHILDREN for c in el):
                raise Untrackable("the text holds a field, a picture or a note")
        elif el.tag not in _MARKERS:
            raise Untrackable("the text crosses a hyperlink, a field or another change")
        siblings.append(el)
        if el is last:
            return siblings
        el = el.getnext()
    raise Untrackable("the text spans more than one paragraph or hyperlink")


def _is_reference_run(r: BaseOxmlElement) -> bool:
    return r.find(_COMMENT_REFERENCE) is not None and not run_text(r)


def _mark_deleted(r: BaseOxmlElement) -> None:
    """w:t -> w:delText and w:instrText -> w:delInstrText, in place and in order."""
    for child in list(r):
        new_tag = {_T: "w:delText", qn("w:instrText"): "w:delInstrText"}.get(child.tag)
        if new_tag is None:
            continue
        replacement = OxmlElement(new_tag)
        replacement.text = child.text
        replacement.set(qn("xml:space"), "preserve")
        child.addprevious(replacement)
        r.remove(child)


def hoist_comment_range(change_first: BaseOxmlElement, change_last: BaseOxmlElement, comment_id: int) -> None:
    """Put comment `comment_id`'s range around a change: start before `change_first` (the
    w:del), end and reference mark after `change_last` (the w:ins, or the w:del).

    python-docx's `add_comment` on the first deleted run and the last inserted run puts them
    inside the change; Word then would not show the comment on the whole redline.
    """
    cid = str(comment_id)
    start = _find_marker(change_first, "w:commentRangeStart", cid)
    if start is not None:
        change_first.addprevious(start)
    end = _find_marker(change_last, "w:commentRangeEnd", cid)
    if end is None:
        return
    reference = end.getnext()
    change_last.addnext(end)
    if reference is not None and reference.tag == _R and _is_reference_run(reference):
        end.addnext(reference)


def _find_marker(scope: BaseOxmlElement, tag: str, cid: str) -> BaseOxmlElement | None:
    # w:del and w:ins are plain lxml elements (python-docx has no class for them): no .xpath
    return next((el for el in scope.iter(qn(tag)) if el.get(_W_ID) == cid), None)


def first_free_id(element: BaseOxmlElement) -> int:
    """One more than the largest numeric `w:id` under `element` (0 when there is none)."""
    ids = [int(v) for v in element.xpath(".//@w:id") if str(v).lstrip("-").isdigit()]
    return max(ids, default=-1) + 1


def iso_date(value: DateLike) -> str:
    """ISO 8601 in UTC, to the second ("2026-12-06T15:30:00Z"): from a datetime, an epoch
    float, or an ISO string (naive ones are taken as UTC); now when missing or unreadable."""
    moment: datetime | None = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            moment = datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            log.warning("unusable decision time %r; using now", value)
    elif isinstance(value, str) and value.strip():
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            log.warning("unusable decision time %r; using now", value)
    if moment is None:
        moment = datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- readers


def tracked_changes(docx: bytes) -> list[dict[str, str]]:
    """The body's run-level tracked changes in document order:
    {"kind": "ins"|"del", "id", "author", "date", "text"}."""
    body = _body(docx)
    changes = []
    for el in body.iter(_INS, _DEL):
        if el.getparent().tag in (_RPR, qn("w:trPr")):  # paragraph-mark or table-row change
            continue
        changes.append({
            "kind": "ins" if el.tag == _INS else "del",
            "id": el.get(_W_ID, ""),
            "author": el.get(_W_AUTHOR, ""),
            "date": el.get(_W_DATE, ""),
            "text": _text_of(el, "all"),
        })
    return changes


def accept_all(docx: bytes) -> str:
    """The document's text (one line per paragraph, table cells included) with every tracked
    change accepted: insertions kept, deletions dropped."""
    return _document_text(docx, "accept")


def reject_all(docx: bytes) -> str:
    """The document's text with every tracked change rejected: insertions dropped, deletions kept."""
    return _document_text(docx, "reject")


_View = Literal["accept", "reject", "all"]


def _document_text(docx: bytes, view: _View) -> str:
    paragraphs = _body(docx).xpath(".//w:p[not(ancestor::w:txbxContent)]")
    return "\n".join(_text_of(p, view) for p in paragraphs)


def _text_of(el: BaseOxmlElement, view: _View) -> str:
    parts: list[str] = []
    for child in el:
        tag = child.tag
        if (tag in (_INS, _MOVE_TO) and view == "reject") or (tag in (_DEL, _MOVE_FROM) and view == "accept"):
            continue
        if tag == _R:
            for c in child:
                if c.tag in _READ_TEXT:
                    fixed = _READ_TEXT[c.tag]
                    parts.append((c.text or "") if fixed is None else fixed)
        elif tag not in (qn("w:pPr"), _RPR):
            parts.append(_text_of(child, view))
    return "".join(parts)


def _body(docx: bytes) -> BaseOxmlElement:
    return Document(BytesIO(docx)).element.body
