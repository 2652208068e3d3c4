"""Where a .pdf is parsed: pdfplumber's text lines and tables, page by page (within the page
cap and the character budget, after the flate-bomb check in pdf_streams.py), running headers
and page numbers dropped, headings found by font size, boldness, a typeface kept for headings and
the heading heuristics, and lines joined into paragraphs (a table drawn without rules row by row)."""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

from .blocks import _Block, _Draft, _heading
from .cleaning import _normalise, _tidy_chunk, _tidy_code_chunk, _tidy_line
from .errors import _corrupt, _encrypted, _looks_like_this_instead, _TextBudget
from .headings import _BULLET, _is_known_heading, _short_line_shape_ok, _strip_numbering
from .marks import SAFE_HREF, link_marks
from .model import MAX_PDF_PAGES, DocumentError, ParseLimits
from .pdf_streams import _check_pdf_streams


_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
# the fonts a code block or a log is set in: "DejaVuSansMono", "CourierNewPSMT", "Consolas", "Menlo"
_MONO_FONT = re.compile(r"mono|courier|consolas|menlo|monaco|typewriter|inconsolata|sourcecode|code", re.IGNORECASE)
MAX_CODE_COLUMNS = 400  # a code line laid out wider than this is kept as pdfplumber reads it
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\W*$", re.IGNORECASE)
_UNMAPPED_GLYPH = re.compile(r"\(cid:\d+\)")  # pdfminer's stand-in for glyphs without Unicode
_SUBSET_TAG = re.compile(r"^[A-Z]{6}\+")  # "BAAAAA+DejaVuSerif": the subset's tag, then the typeface
# a caption or a note set apart in its own typeface, not a heading
_CAPTION = re.compile(r"^(?:fig(?:ure)?|table|photo(?:graph)?|image|source|note|credit|chart|map|diagram)\b",
                      re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?:;]['\")\u201d\u2019]?$")


@dataclass
class _PdfLine:
    text: str
    page: int
    top: float  # points from the top of its page
    bottom: float
    page_height: float = 842.0
    size: float = 0.0
    bold: bool = False
    tabular: bool = False  # wide gaps between words: a table row or a form
    is_table: bool = False  # a whole table rendered as text
    links: list[tuple[str, str]] = field(default_factory=list)  # (the linked words, the address), in order
    # set in a monospaced font: a code block's or a log's line, `code` its text with the spaces that
    # align its columns (from the characters' positions), `x0` where it starts, `advance` one column
    code: str | None = None
    x0: float = 0.0
    advance: float = 0.0
    font: str = ""  # the typeface of (nearly) all its characters, without the subset tag; "" if mixed


def _parse_pdf(name: str, data: bytes, max_bytes: int, limits: ParseLimits) -> _Draft:
    if b"%PDF-" not in data[:1024]:
        raise _corrupt(name, "pdf", _looks_like_this_instead(data))
    _check_pdf_streams(name, data, limits.max_inflated_bytes)
    import pdfplumber

    try:
        pdf = pdfplumber.open(io.BytesIO(data))
    except Exception as exc:
        if _is_password_error(exc):
            raise _encrypted(name, "PDF") from exc
        raise
    with pdf:
        if len(pdf.pages) > MAX_PDF_PAGES:
            raise DocumentError(
                "too_many_pages",
                f"'{name}' has {len(pdf.pages)} pages; Redline reviews at most {MAX_PDF_PAGES}. "
                "Upload the write-up without its appendices, or split it into parts.",
                413,
            )
        page_count = len(pdf.pages)
        lines: list[_PdfLine] = []
        budget = _TextBudget(name, limits)
        for number, page in enumerate(pdf.pages):
            page_lines = _pdf_page_lines(page, number)
            for line in page_lines:
                budget.add(line.text)
            lines.extend(page_lines)
            page.close()  # drop pdfplumber's per-page object cache
        meta_title = (pdf.metadata or {}).get("Title")
    lines = _drop_running_headers(lines, page_count)
    return _Draft(blocks=_pdf_blocks(lines), meta_title=meta_title)


def _is_password_error(exc: BaseException) -> bool:
    """pdfminer's PDFPasswordIncorrect / PDFEncryptionError, possibly wrapped by pdfplumber."""
    seen: list[BaseException] = [exc, *[a for a in exc.args if isinstance(a, BaseException)]]
    if exc.__cause__ is not None:
        seen.append(exc.__cause__)
    names = {type(e).__name__ for e in seen}
    return bool(names & {"PDFPasswordIncorrect", "PDFEncryptionError", "PDFEncryptionWarning"})


def _pdf_page_lines(page: Any, number: int) -> list[_PdfLine]:
    """Text lines (with size/bold) and tables of one page, top to bottom."""
    tables = page.find_tables() if (page.lines or page.rects) else []
    boxes = [table.bbox for table in tables]
    height = float(page.height) or 842.0
    lines = [
        _PdfLine(_table_rows_text(t.extract()), number, t.bbox[1], t.bbox[3], height, is_table=True)
        for t in tables
    ]
    links = [h for h in page.hyperlinks if SAFE_HREF.match(str(h.get("uri") or ""))][:MAX_LINKS_PER_PAGE]
    for raw in page.extract_text_lines(return_chars=True, strip=True):
        middle_x, middle_y = (raw["x0"] + raw["x1"]) / 2, (raw["top"] + raw["bottom"]) / 2
        if any(x0 <= middle_x <= x1 and top <= middle_y <= bottom for x0, top, x1, bottom in boxes):
            continue
        line = _pdf_line(raw, number, height)
        if line is not None:
            if links:
                line.links = _line_links(raw, links)
            lines.append(line)
    lines.sort(key=lambda line: line.top)
    return lines


MAX_LINKS_PER_PAGE = 500  # a page of links is an index, not a write-up: the rest are left as plain text


def _line_links(raw: dict, links: list[dict]) -> list[tuple[str, str]]:
    """The line's words under each link's box (the address is all the text loses: "Diagnose the
    original issue", linked to its issue, is an action tracked by its ticket). The words are the
    line's own text from the first to the last character inside the box, spaces included."""
    text, chars = str(raw.get("text", "")), raw.get("chars") or []
    at: list[int] = []  # each char's position in the line's text (which adds the spaces between words)
    k = 0
    for c in chars:
        glyph = str(c.get("text", ""))
        while k < len(text) and text[k] != glyph:
            k += 1
        at.append(k)
        k += 1 if k < len(text) else 0
    out = []
    for link in links:
        if link["bottom"] < raw["top"] - 1 or link["top"] > raw["bottom"] + 1:
            continue
        inside = [i for i, c in enumerate(chars) if link["x0"] - 1 <= (c["x0"] + c["x1"]) / 2 <= link["x1"] + 1
                  and link["top"] - 1 <= (c["top"] + c["bottom"]) / 2 <= link["bottom"] + 1]
        if not inside or at[inside[-1]] >= len(text):
            continue
        words = _tidy_line(_normalise(text[at[inside[0]]:at[inside[-1]] + 1]))
        if words:
            out.append((words, str(link["uri"])))
    return out


def _pdf_line(raw: dict, page: int, page_height: float) -> _PdfLine | None:
    text = _tidy_line(_UNMAPPED_GLYPH.sub("", _normalise(raw.get("text", ""))))
    chars = [c for c in raw.get("chars", []) if str(c.get("text", "")).strip()]
    if not text or not chars:
        return None
    sizes = Counter(round(float(c.get("size", 0)), 1) for c in chars)
    bold_chars = sum(1 for c in chars if _BOLD_FONT.search(str(c.get("fontname", ""))))
    size = sizes.most_common(1)[0][0]
    gaps = [b["x0"] - a["x1"] for a, b in zip(chars, chars[1:])]
    tabular = bool(gaps) and max(gaps) > 2.0 * max(size, 1.0)
    mono = sum(1 for c in chars if _MONO_FONT.search(str(c.get("fontname", "")))) >= 0.9 * len(chars)
    if tabular and not mono:  # a row of a table drawn without rules: its cells apart, as a Word table's
        text = _cells(text, [k for k, gap in enumerate(gaps) if gap > 2.0 * max(size, 1.0)], len(chars))
    bold = bold_chars >= 0.9 * len(chars)
    line = _PdfLine(text, page, float(raw["top"]), float(raw["bottom"]), page_height, size, bold, tabular)
    fonts = Counter(_SUBSET_TAG.sub("", str(c.get("fontname", ""))) for c in chars)
    font, count = fonts.most_common(1)[0]
    line.font = font if count >= 0.9 * len(chars) else ""
    if mono:
        _set_code(line, chars)
    return line


def _cells(text: str, cuts: list[int], glyphs: int) -> str:
    """The line's text with " | " between its cells: `cuts` are the glyphs (counted without spaces)
    after which a wide gap opens. Left as it is when its glyphs do not match its text's."""
    if sum(1 for ch in text if not ch.isspace()) != glyphs:
        return text
    wanted = set(cuts)
    out: list[str] = []
    seen = 0
    for ch in text:
        if not ch.isspace():
            out.append(ch)
            seen += 1
        elif seen - 1 in wanted:
            out.append(" | ")
            wanted.discard(seen - 1)
        elif not (out and out[-1] == " | "):
            out.append(ch)
    return "".join(out)


def _set_code(line: _PdfLine, chars: list[dict]) -> None:
    """A monospaced line's text as laid out: each character in its column, the spaces between them
    from their positions (pdfplumber's text has one space for a run of them)."""
    widths = sorted(float(c["x1"]) - float(c["x0"]) for c in chars)
    advance = widths[len(widths) // 2]
    if advance <= 0:
        return
    x0 = float(chars[0]["x0"])
    out: list[str] = []
    length = 0  # characters written so far
    for c in chars:
        column = round((float(c["x0"]) - x0) / advance)
        if column > MAX_CODE_COLUMNS:
            return
        if column > length:
            out.append(" " * (column - length))
            length = column
        glyph = str(c.get("text", ""))
        out.append(glyph)
        length += len(glyph)
    code = _normalise("".join(out))
    if "".join(code.split()) == "".join(line.text.split()):  # the same characters, only spaced as laid out
        line.code, line.x0, line.advance = code, x0, advance


def _table_rows_text(rows: list[list[str | None]]) -> str:
    rendered = []
    for row in rows or []:
        cells = [_tidy_line((cell or "").replace("\n", " ")) for cell in row]
        if any(cells):
            rendered.append(" | ".join(cells))
    return "\n".join(rendered)


def _drop_running_headers(lines: list[_PdfLine], page_count: int) -> list[_PdfLine]:
    """Remove page numbers and headers/footers repeated in the page margins."""

    def in_margin(line: _PdfLine) -> bool:
        return line.bottom < 0.08 * line.page_height or line.top > 0.92 * line.page_height

    def key(line: _PdfLine) -> str:  # "Page 3 of 9" and "Page 4 of 9" are the same footer
        text = line.text.lower()
        return re.sub(r"\d+", "#", text) if "page" in text else text

    repeats = Counter(key(line) for line in lines if in_margin(line) and not line.is_table)
    threshold = max(2, page_count // 2)

    def is_running(line: _PdfLine) -> bool:
        if line.is_table or not in_margin(line):
            return False
        repeated = page_count >= 2 and repeats[key(line)] >= threshold
        return repeated or _PAGE_NUMBER.match(line.text) is not None

    return [line for line in lines if not is_running(line)]


def _pdf_blocks(lines: list[_PdfLine]) -> list[_Block]:
    text_lines = [line for line in lines if not line.is_table]
    body_size = _weighted_median_size(text_lines)
    body_bold = sum(len(l.text) for l in text_lines if l.bold) > 0.5 * sum(len(l.text) for l in text_lines)
    size_counts = Counter(l.size for l in text_lines if _is_larger(l.size, body_size))
    heading_sizes = sorted(size_counts, reverse=True)
    # a known section name in body text is a peer of the most used heading size
    main_size = max(size_counts, key=lambda size: (size_counts[size], -size), default=None)
    known_level = heading_sizes.index(main_size) + 1 if main_size is not None else 1
    sub_level = len(heading_sizes) + 1

    def bold_heading(line: _PdfLine) -> bool:  # bold at the body's size, shaped as a heading
        # capitalised ("1.1 Immediate Actions Taken" after its number), or a project's name alone
        # ("helm-chart", "mybinder.org-deploy": one token)
        return line.bold and not body_bold and _short_line_shape_ok(line.text, 12) and \
            (_strip_numbering(line.text)[:1].isupper() or " " not in line.text.strip() and len(line.text.strip()) >= 3)

    # Bold headings at the body's size that are not known section names ("What went wrong") are
    # the document's sub-headings, and a known name set the same way is one of them ("Investigation"
    # under "Action items"); where there are none, a known name is a peer of the main headings.
    bold_subs = any(bold_heading(l) and not _is_known_heading(l.text) and not _is_larger(l.size, body_size)
                    and not l.tabular and _short_line_shape_ok(l.text, 15) for l in text_lines)

    typeface_headings = _typeface_headings(text_lines)

    def heading_level(line: _PdfLine) -> int:
        if line.is_table or line.tabular or line.code is not None:
            return 0
        if id(line) in typeface_headings:
            return sub_level
        if not _short_line_shape_ok(line.text, 15):
            # the document's title in its largest type on the first page may start with a date
            # ("2022-01-27, pod limit reached"); a date-first line elsewhere is a timeline entry
            title = line.page == 0 and heading_sizes and line.size == heading_sizes[0] and _DATED_TITLE.match(line.text)
            return 1 if title else 0
        if _is_larger(line.size, body_size):
            return heading_sizes.index(line.size) + 1
        if _is_known_heading(line.text) and not (bold_subs and bold_heading(line)) and not line.text[:1].islower():
            return known_level  # "investigation" in lower case is a wrapped line's last word, not a heading
        if bold_heading(line):
            return sub_level
        return 0

    # The title: the largest type, used for one to three lines, all on the first page, above other
    # headings. It is the document's title even when a note comes before it ("Draft", a reviewer's note).
    top = heading_sizes[0] if len(heading_sizes) >= 2 else None
    top_lines = [l for l in text_lines if l.size == top]
    has_title = top is not None and 1 <= len(top_lines) <= 3 and all(l.page == 0 for l in top_lines)

    return _pdf_join(lines, heading_level, lambda line: has_title and line.size == top)


def _typeface_headings(lines: list[_PdfLine]) -> set[int]:
    """Lines that are headings by their typeface alone (ids): Word's and LibreOffice's deeper heading
    styles are set at the body's size, not bold, in another face ("Calibri Light Italic" over
    Calibri, "DejaVuSans" over DejaVuSerif). A face counts when the body never sets prose in it (no
    line of it runs past 15 words, and it holds under a tenth of the text); its line is a heading
    when it is shaped as one (a final full stop allowed), is not a caption, and the body's face
    follows it."""
    prose = [l for l in lines if l.code is None and not l.tabular and l.font]
    chars = Counter()
    for l in prose:
        chars[l.font] += len(l.text)
    if len(chars) < 2:
        return set()
    body = chars.most_common(1)[0][0]
    total = sum(chars.values())
    long_in = {l.font for l in prose if len(l.text.split()) > 15}
    faces = {f for f, n in chars.items() if f != body and f not in long_in and n < 0.1 * total
             and not _BOLD_FONT.search(f) and not _MONO_FONT.search(f)}
    out: set[int] = set()
    for line, following in zip(prose, prose[1:]):
        text = line.text.strip()
        if line.font in faces and following.font == body and _short_line_shape_ok(text.rstrip("."), 12) \
                and _strip_numbering(text)[:1].isupper() and not _CAPTION.match(text):
            out.add(id(line))
    return out


def _weighted_median_size(lines: list[_PdfLine]) -> float:
    weights = Counter()
    for line in lines:
        weights[line.size] += len(line.text)
    if not weights:
        return 0.0
    half, running = sum(weights.values()) / 2, 0
    for size in sorted(weights):
        running += weights[size]
        if running >= half:
            return size
    return max(weights)


def _is_larger(size: float, body_size: float) -> bool:
    return size >= body_size * 1.15 and size - body_size >= 1.0


def _pdf_join(lines: list[_PdfLine], heading_level: Callable[[_PdfLine], int],
              is_title: Callable[[_PdfLine], bool] = lambda line: False) -> list[_Block]:
    """Headings become blocks (wrapped headings merged); text lines are joined into paragraphs."""
    blocks: list[_Block] = []
    paragraph: list[str] = []
    links: list[tuple[str, str]] = []
    code: list[_PdfLine] = []  # the lines of a code block, set in a monospaced font
    previous: _PdfLine | None = None
    previous_level = 0

    def flush() -> None:
        if paragraph:
            text = _tidy_chunk("".join(paragraph))
            blocks.append(_Block(text, marks=link_marks(text, links)))
            paragraph.clear()
            links.clear()
        if code:
            left = min(line.x0 for line in code)
            text = _tidy_code_chunk("\n".join(" " * min(MAX_CODE_COLUMNS, round((line.x0 - left) / line.advance))
                                              + (line.code or "") for line in code))
            if text:
                blocks.append(_Block(text, marks=[(0, len(text), "pre", "")]))
            code.clear()

    for line in lines:
        level = heading_level(line)
        wrapped = previous is not None and level == previous_level and _continues(previous, line, heading=True)
        if level and wrapped:
            blocks[-1] = _heading(f"{blocks[-1].text} {line.text}", level, is_title=blocks[-1].is_title)
        elif level:
            flush()
            blocks.append(_heading(line.text, level, is_title=is_title(line)))
        elif line.is_table:
            flush()
            blocks.append(_Block(line.text))
        elif line.code is not None:
            if paragraph or (code and not _continues(code[-1], line)):
                flush()
            code.append(line)
        else:
            if code:
                flush()
            if paragraph and previous is not None:
                paragraph.append(_line_joiner(previous, line))
            paragraph.append(line.text)
            links.extend(line.links)
        previous, previous_level = line, level
    flush()
    return blocks


def _continues(previous: _PdfLine, line: _PdfLine, *, heading: bool = False) -> bool:
    """Is ``line`` the next line of the same paragraph/heading (same page, tight spacing)?"""
    if previous.page != line.page or previous.is_table:
        return False
    if heading and (previous.size != line.size or previous.bold != line.bold):
        return False
    return line.top - previous.bottom < 0.5 * max(line.size, 1.0)


# a title that starts with a date: "2022-01-27, pod limit reached", "5 August 2014: Collision with terrain",
# "2017-09-29, 504" (after a comma or colon, not a time: "2018-03-13, 07:28" is a timeline's stamp)
_DATED_TITLE = re.compile(r"(?:\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}|\d{1,2} [A-Z][a-z]{2,8} \d{4})"
                          r"(?:[,:\s\u2013\u2014-]+(?=[^.!?]*[A-Za-z])|\s*[,:]\s*(?!\d{1,2}[:.h]\d\d))[^.!?]{3,100}$")

# "4. Come up with ..." after a line that ends a sentence: the next item of a numbered list
_NUMBERED_ITEM = re.compile(r"\d{1,3}[.)]\s+[A-Z]")


def _line_joiner(previous: _PdfLine, line: _PdfLine) -> str:
    if _BULLET.match(line.text) or _NUMBERED_ITEM.match(line.text) and previous.text.rstrip().endswith(
            (".", ")", ":", "?", "!", ";")):
        return "\n"
    if previous.page != line.page:
        return " " if not _SENTENCE_END.search(previous.text) else "\n\n"
    if previous.tabular and line.tabular:
        return "\n"  # the next row of a table drawn without rules
    if not _continues(previous, line) or previous.bold != line.bold or _is_larger(previous.size, line.size) \
            or _is_larger(line.size, previous.size):
        return "\n\n"  # a gap, or another type: "2022-06-02 10:00 - Problem starts" set bold over its entry
    return "" if previous.text.endswith("-") else " "
