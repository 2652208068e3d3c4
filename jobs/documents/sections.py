"""Assembly, shared by every format: a ``_Draft``'s blocks become the document's sections.
It picks the title, folds Markdown outlines (outline.py), builds the sections and normalises
their levels, checks the document's length, splits over-long sections into parts ("Title (part 2
of 3)"), bounds the number of sections (MAX_SECTIONS) and gives each section its stable key."""

from __future__ import annotations

import datetime
import re
from collections import Counter
from typing import Any

from .blocks import _Block, _Draft
from .cleaning import _MANY_BREAKS, _tidy_line
from .errors import _empty, _too_long
from .headings import _is_known_heading
from .marks import _shift_marks, _slice_marks
from .model import MAX_SECTIONS, MAX_TITLE_CHARS, ParsedDocument, ParsedSection, ParseLimits
from .outline import _fold_outline


def _assemble(kind: str, name: str, draft: _Draft, limits: ParseLimits) -> ParsedDocument:
    blocks = [b for b in draft.blocks if b.text]
    if not blocks:
        scan = "no selectable text was found (it may be a scanned image; run OCR on it or export it with text)"
        raise _empty(name, scan if kind == "pdf" else "")
    meta_title = _useful_meta_title(draft.meta_title)
    visible_title = _choose_visible_title(blocks, peers=meta_title is None)
    title = visible_title or meta_title \
        or (_first_line_title(blocks) if kind == "md" else None)
    if kind == "md":
        blocks = _fold_outline(blocks)
    elif kind in ("docx", "pdf"):  # a timeline's dated sub-headings are its entries, as in Markdown
        blocks = _fold_outline(blocks, marked=False, containers=False)
    sections = _normalise_levels(_build_sections(blocks, title))
    total = sum(len(section.text) for section in sections)
    if total > limits.max_document_chars:
        raise _too_long(name, f"{total:,}", limits)
    sections = _split_long_sections(sections, limits.max_section_chars)
    sections = _limit_sections(sections, MAX_SECTIONS, limits.max_section_chars)
    _set_keys(sections)
    day = _valid_day(_iso_day(draft.meta_date)) or _valid_day(_field_date(blocks)) or _valid_day(_name_date(name))
    return ParsedDocument(kind=kind, sections=sections, title=title, date=day)


# a file named for its day, as a blog's posts are ("2014-01-29-postmortem-todays-downtime.md", Jekyll's
# `_posts`) and many reports ("2023-01-25 DNS outage.docx")
_NAME_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})(?:[-_ .]|$)")


def _name_date(name: str) -> str | None:
    m = _NAME_DATE.match(name.replace("\\", "/").rsplit("/", 1)[-1])
    return m.group(1) if m else None


def _slug(title: str) -> str:
    import unicodedata

    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:40].strip("-") or "section"


def _set_keys(sections: list[ParsedSection]) -> None:
    """Stable keys: the slugs of the titles from the outermost heading down, joined by "_",
    and "__2", "__3" for a later section with the same path."""
    path: list[tuple[int, str]] = []
    seen: Counter = Counter()
    for section in sections:
        while path and path[-1][0] >= section.level:
            path.pop()
        path.append((section.level, _slug(section.title)))
        key = "_".join(slug for _, slug in path)[:120]
        seen[key] += 1
        section.key = key if seen[key] == 1 else f"{key}__{seen[key]}"
        section.marks = [[start, end, kind, attr] for start, end, kind, attr in section.marks]


def _split_long_sections(sections: list[ParsedSection], max_chars: int) -> list[ParsedSection]:
    """A section longer than ``max_chars`` becomes parts titled "Title (part 2 of 3)"."""
    out: list[ParsedSection] = []
    for section in sections:
        if len(section.text) <= max_chars:
            out.append(section)
            continue
        pieces = _split_text(section.text, max_chars)
        cursor = 0
        for number, piece in enumerate(pieces, 1):
            suffix = f" (part {number} of {len(pieces)})"
            title = section.title[: MAX_TITLE_CHARS - len(suffix)].rstrip() + suffix
            at = section.text.find(piece, cursor)  # each piece is an exact slice, in order
            cursor = at + len(piece) if at >= 0 else cursor
            marks = _slice_marks(section.marks, at, at + len(piece)) if at >= 0 else []
            out.append(ParsedSection(title, piece, section.level, marks))
    return out


def _split_text(text: str, max_chars: int) -> list[str]:
    """Pieces of at most ``max_chars`` and about equal length, each an exact (stripped) slice of
    ``text``, cut at the paragraph break nearest the piece's target length, else line break,
    else sentence end, else space, else anywhere."""
    max_chars = max(max_chars, 100)
    pieces: list[str] = []
    start = 0
    while len(text) - start > max_chars:
        remaining = len(text) - start
        parts = -(-remaining * 20 // (max_chars * 19))  # 5% slack, so a cut just short still fits
        target = start + -(-remaining // parts)
        limit = start + max_chars
        cut = -1
        for separator in ("\n\n", "\n", ". ", " "):
            before = text.rfind(separator, start + (target - start) // 2, target)
            after = text.find(separator, target, limit - len(separator) + 1)
            found = [c + len(separator) for c in (before, after) if c > start]
            if found:
                cut = min(found, key=lambda c: abs(c - target))
                break
        if cut <= start:
            cut = target
        piece = text[start:cut].strip()
        if piece:
            pieces.append(piece)
        start = cut
    tail = text[start:].strip()
    if tail:
        pieces.append(tail)
    return pieces


# a line that only dates the document ("2019-05-08", "Date: 8 May 2019"), as pandoc writes a post's date
_DATE_LINE = re.compile(r"(?:date\s*:\s*)?(?:\d{4}-\d{2}-\d{2}|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}"
                        r"|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4})",
                        re.IGNORECASE)


def _choose_visible_title(blocks: list[_Block], peers: bool = True) -> str | None:
    """An explicit title block, or a first heading that sits above all the others (under a line
    that only dates the document, if one comes first); with `peers`, also one at the others' level
    (no better name is known: the file's metadata gives none)."""
    explicit = next((b for b in blocks if b.is_title), None)
    if explicit:
        return explicit.text
    at = 1 if len(blocks) > 1 and not blocks[0].heading and _DATE_LINE.fullmatch(blocks[0].text.strip()) else 0
    first = blocks[at]
    if not first.heading or _is_known_heading(first.text):
        return None
    others = [b.level for b in blocks[at + 1:] if b.heading]
    if others and min(others) < first.level:
        return None
    if all(level > first.level for level in others):
        first.is_title = True  # its section is kept only if it has text of its own
    elif not peers:
        return None  # "## Resumo" beside "## Contexto": a section, and the metadata names the post
    return first.text


def _first_line_title(blocks: list[_Block]) -> str | None:
    """A Markdown write-up typed as plain lines names itself on its first line ("Service
    Unavailability" / "Incident report for Site Outage", then "Issue Summary"): a line or two of
    words, short, that end no sentence, right above the first heading. The lines stay the
    preamble's text."""
    first = blocks[0]
    if first.heading or len(blocks) < 2 or not blocks[1].heading:
        return None
    lines = [line.strip() for line in first.text.split("\n")]
    name = lines[0]
    if len(lines) > 2 or any(len(line) > 100 for line in lines) or name.endswith((".", ":", ",", ";")) \
            or sum(c.isalpha() for c in name) < 3 or _DATE_LINE.fullmatch(name) or _is_known_heading(name):
        return None
    return name[:MAX_TITLE_CHARS]


# a day as written: "2026-06-10", "10 June 2026", "June 10th, 2026", "May 2, 2024"
_WRITTEN_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(?!\d)|\d{1,2}\s+[A-Za-z]{3,9}\.?,?\s+\d{4}"
                          r"|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4}")
# the document's own date as a field near its top: "Date: 2026-06-10", "Date | 2022-04-20", "**Date:** May 3, 2024"
_DATE_FIELD = re.compile(r"^\W{0,4}(?:date|report\s+date|incident\s+date|date\s+of\s+(?:the\s+)?incident)\W{0,4}"
                         r"\s*[:|]\s*\W{0,4}(" + _WRITTEN_DAY.pattern + r")\b", re.IGNORECASE | re.MULTILINE)
_FIELD_SCAN = 1500  # characters of the document's first blocks where such a field is looked for


def _field_date(blocks: list[_Block]) -> str | None:
    """The day a "Date:" field near the top gives (ISO "2026-06-10" as written; "10 June 2026" and
    "June 10th, 2026" read into it), or None."""
    head = "\n".join(b.text for b in blocks[:6])[:_FIELD_SCAN]
    m = _DATE_FIELD.search(head)
    return _iso_day(m.group(1)) if m else None


def _iso_day(written: str | None) -> str | None:
    """"2026-06-10" as it is (a front matter's "2019-05-08T10:00:00Z" too); "10 June 2026", "June 10th,
    2026" and "May 2, 2024" read into it; else None."""
    if not written or (m := _WRITTEN_DAY.match(written.strip().strip("'\""))) is None:
        return None
    words = m.group().replace(",", " ").replace(".", " ").split()
    if len(words) == 1:
        return words[0]
    day, month = (words[0], words[1]) if words[0][:1].isdigit() else (words[1], words[0])
    month_number = _MONTHS.get(month.lower()[:3])
    day = re.sub(r"(?:st|nd|rd|th)$", "", day)
    return f"{words[-1]}-{month_number:02d}-{int(day):02d}" if month_number and day.isdigit() else None


_MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}


def _valid_day(day: str | None) -> str | None:
    """A front matter's "2025-07-28" when it is a day of the calendar ("2025-02-30" is none)."""
    try:
        return datetime.date.fromisoformat(day).isoformat() if day else None
    except ValueError:
        return None


def _useful_meta_title(title: Any) -> str | None:
    if not isinstance(title, str):
        return None
    title = _tidy_line(re.sub(r"^Microsoft Word - ", "", title))
    title = re.sub(r"\.(docx?|pdf|md|txt)$", "", title, flags=re.IGNORECASE)
    generic = {"", "untitled", "(anonymous)", "document", "title", "template", "(unspecified)"}
    if title.lower() in generic or re.fullmatch(r"document\d*", title, re.IGNORECASE):
        return None
    return title[:MAX_TITLE_CHARS]


def _build_sections(blocks: list[_Block], title: str | None) -> list[tuple[ParsedSection, bool]]:
    """Sections in order, each flagged True when it is the preamble/title section."""
    has_headings = any(b.heading for b in blocks)
    sections: list[tuple[ParsedSection, bool]] = []
    current = ParsedSection(title or ("Preamble" if has_headings else "Document"), "", 1)
    front = True  # the preamble / title section is dropped when it has no text
    chunks: list[_Block] = []

    def flush() -> None:
        joined = "\n\n".join(chunk.text for chunk in chunks)
        current.text = _MANY_BREAKS.sub("\n\n", joined).strip()
        if current.text == joined:  # the marks keep their offsets (else, never for Markdown: none)
            offset = 0
            for chunk in chunks:
                current.marks.extend(_shift_marks(chunk.marks, offset))
                offset += len(chunk.text) + 2
        if current.text or not front:
            sections.append((current, front))

    for block in blocks:
        if block.heading:
            flush()
            current, front, chunks = ParsedSection(block.text, "", block.level), block.is_title, []
        else:
            chunks.append(block)
    flush()
    if not sections:  # only a title: keep it so the caller still has one section
        sections.append((ParsedSection(current.title, "", 1), True))
    return sections


def _normalise_levels(flagged: list[tuple[ParsedSection, bool]]) -> list[ParsedSection]:
    """Preamble/title sections get level 1; other levels shift so the outermost is 1."""
    levels = [section.level for section, front in flagged if not front]
    shift = min(levels) - 1 if levels else 0
    for section, front in flagged:
        section.level = 1 if front else section.level - shift
    return [section for section, _ in flagged]


def _limit_sections(sections: list[ParsedSection], limit: int, max_chars: int | None = None) -> list[ParsedSection]:
    """Merge the smallest sections into the one before them until at most ``limit`` remain.

    A merge that would make a section longer than ``max_chars`` is skipped; if that leaves too
    many sections, consecutive sections are packed up to ``max_chars`` instead. Only when even
    that cannot reach ``limit`` (settings with a tiny section cap) does the count win over the cap."""
    excess = len(sections) - limit
    if excess <= 0:
        return sections
    cap = max_chars if max_chars is not None else float("inf")
    size = [len(s.text) + len(s.title) + 2 for s in sections]
    kept = [True] * len(sections)
    owner = list(range(len(sections)))  # merged sections point towards the one they joined

    def find(index: int) -> int:
        while not kept[index]:
            owner[index] = owner[owner[index]]
            index = owner[index]
        return index

    merged = 0
    for index in sorted(range(1, len(sections)), key=lambda i: (size[i], i)):
        if merged >= excess:
            break
        into = find(index - 1)
        if size[into] + size[index] > cap:
            continue
        size[into] += size[index]
        kept[index], owner[index] = False, into
        merged += 1
    if merged < excess and max_chars is not None:
        packed = _pack_sections(sections, max_chars)
        if len(packed) <= limit:
            return packed
        return _limit_sections(sections, limit, None)
    return _merge_into_previous(sections, kept)


def _pack_sections(sections: list[ParsedSection], max_chars: int) -> list[ParsedSection]:
    """Consecutive sections packed together while the result stays within ``max_chars``."""
    kept = [True] * len(sections)
    current = len(sections[0].text) + 2 if sections else 0
    for index in range(1, len(sections)):
        grown = current + len(sections[index].text) + len(sections[index].title) + 4
        if grown <= max_chars:
            kept[index], current = False, grown
        else:
            current = len(sections[index].text) + 2
    return _merge_into_previous(sections, kept)


def _merge_into_previous(sections: list[ParsedSection], kept: list[bool]) -> list[ParsedSection]:
    """Sections not kept become titled paragraphs of the kept section before them."""
    groups: list[tuple[ParsedSection, list[tuple[str, list]]]] = []
    for index, section in enumerate(sections):
        if not kept[index] and groups:
            title_mark = [(0, len(section.title), "h", str(section.level))]
            groups[-1][1].extend(part for part in ((section.title, title_mark), (section.text, section.marks))
                                 if part[0])
        else:
            groups.append((section, [(section.text, section.marks)] if section.text else []))
    for section, parts in groups:
        section.text = "\n\n".join(text for text, _ in parts)
        marks, offset = [], 0
        for text, part_marks in parts:
            marks.extend(_shift_marks(part_marks, offset))
            offset += len(text) + 2
        section.marks = marks
    return [section for section, _ in groups]
