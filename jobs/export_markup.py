"""A section with formatting marks (a Markdown upload; see jobs.documents) written as real Word
structure: paragraphs, sub-headings, List Bullet / List Number paragraphs, tables, quotes,
code, and bold / italic / code / hyperlink runs (used by jobs.export_document when it builds
a document from sections). Plain text is split into paragraphs on blank lines."""

from __future__ import annotations

import re
from collections.abc import Sequence

from docx.document import Document as DocxDocument
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from redline.jobs.documents.marks import SAFE_HREF
from redline.jobs.xml_clean import clean as _clean


def text_blocks(text: str) -> list[str]:
    """Paragraphs of plain text: split on blank lines; single newlines become line breaks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return [text[start:end] for start, end in block_spans(text)]


def block_spans(text: str) -> list[tuple[int, int]]:
    """Where `text_blocks`'s paragraphs stand: [start, end) between blank lines, edge newlines left out."""
    spans, pos = [], 0
    for cut in [*_BLANK_LINE.finditer(text), None]:
        start, end = pos, cut.start() if cut else len(text)
        pos = cut.end() if cut else pos
        while start < end and text[start] == "\n":
            start += 1
        while end > start and text[end - 1] == "\n":
            end -= 1
        if text[start:end].strip():
            spans.append((start, end))
    return spans


_BLANK_LINE = re.compile(r"\n[ \t]*\n")
_MarkT = tuple[int, int, str, str]
_BLOCK_KINDS = {"quote", "pre", "table", "tr", "th", "td", "p", "h", "li"}
_INLINE_KINDS = ("strong", "em", "del", "code", "link")
_MONO = "Consolas"


_MARKDOWN_KINDS = _BLOCK_KINDS - {"pre"}


def has_blocks(marks: Sequence[_MarkT]) -> bool:
    """Marks that draw the text's blocks (a Markdown upload), not only carry its links and code
    blocks (a Word or PDF upload's)."""
    return any(m[2] in _MARKDOWN_KINDS for m in marks)


def valid_marks(text: str, marks: Sequence) -> list[_MarkT]:
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


class MarkedWriter:
    """Writes one section's text with its marks as Word paragraphs and tables."""

    def __init__(self, doc: DocxDocument, text: str, marks: list[_MarkT], level: int) -> None:
        self.doc, self.text, self.level = doc, text, level
        self.inline = [m for m in marks if m[2] in _INLINE_KINDS]
        # The source's line wraps inside a paragraph: written as spaces, as Markdown shows them.
        self.soft = {m[0] for m in marks if m[2] == "soft" and m[1] == m[0] + 1 and text[m[0]] == "\n"}
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

    def write_linked(self) -> list[Paragraph]:
        """A Word or PDF upload's text with its links and code blocks: its paragraphs as `text_blocks`
        makes them (the same text, single newlines as line breaks; none hidden as syntax), its web
        links as hyperlinks, its code blocks in a monospaced font."""
        cursor = 0
        for start, end, kind, attr in self.top:  # its code blocks
            self._plain(cursor, start)
            self._leaf(start, end, kind, attr)
            cursor = end
        self._plain(cursor, len(self.text))
        return self.paragraphs

    def _plain(self, start: int, end: int) -> None:
        for a, b in block_spans(self.text[start:end]):
            paragraph = self.doc.add_paragraph()
            self._runs(paragraph, start + a, start + b, quotes=False)
            self.paragraphs.append(paragraph)

    def _inside(self, start: int, end: int, kinds: set[str]) -> list[_MarkT]:
        return [m for m in self.blocks if start <= m[0] and m[1] <= end and m[2] in kinds and (m[0], m[1]) != (start, end)]

    def _loose(self, start: int, end: int) -> None:
        """Text outside every block (not from Markdown): plain paragraphs, their web links kept."""
        gap = self.text[start:end]
        if gap.strip() and not re.fullmatch(r"[\s>|*+\-.\d]*", gap):
            self._plain(start, end)

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

    def _runs(self, paragraph: Paragraph, start: int, end: int, *, mono: bool = False, bold: bool = False,
              quotes: bool = True) -> None:
        """The text [start, end) as runs, one per stretch of equal formatting; "> " prefixes of
        quoted lines are left out (with `quotes`: Markdown's); links become w:hyperlink elements
        around their runs."""
        skip = [(m.start(), m.end()) for m in re.finditer(r"(?:(?<=\n)|^)(?:> ?)+", self.text[start:end])] \
            if quotes and (self.text[start:start + 1] == ">" or "\n>" in self.text[start:end]) else []
        skip = [(start + a, start + b) for a, b in skip]
        cuts = {start, end}
        for s, e, _, _ in self.inline:
            if s < end and e > start:
                cuts.update((max(s, start), min(e, end)))
        for s, e in skip:
            cuts.update((s, e))
        for at in self.soft:
            if start <= at < end:
                cuts.update((at, at + 1))
        points = sorted(cuts)
        link_el, link_href = None, None
        for a, b in zip(points, points[1:]):
            if any(s <= a and b <= e for s, e in skip):
                continue
            piece = " " if b == a + 1 and a in self.soft else _clean(self.text[a:b])
            if not piece:
                continue
            kinds = {m[2]: m[3] for m in self.inline if m[0] <= a and b <= m[1]}
            href = kinds.get("link") if SAFE_HREF.match(kinds.get("link") or "") else None
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
