"""Where a .docx is parsed: the ZIP container checked from its central directory before
anything is inflated (Word or not, encrypted, zip bomb), then the body read with python-docx in
document order (paragraphs, lists, tables; headings from styles, outline levels and the heading
heuristics) into blocks.

``import docx`` below is python-docx (absolute imports), not this module."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Any, Iterator

from .blocks import _Block, _Draft, _heading
from .cleaning import _tidy_chunk, _tidy_code_chunk, _tidy_line
from .errors import (
    _OLE2_MAGIC,
    _corrupt,
    _encrypted,
    _format_mb,
    _looks_like_this_instead,
    _TextBudget,
    _zip_bomb,
)
from .headings import _BULLET, _is_known_heading, _is_title_case, _numbering_level
from .marks import link_marks
from .model import (
    ZIP_EXPANSION_FACTOR,
    ZIP_MAX_ENTRIES,
    ZIP_MAX_RATIO,
    ZIP_MAX_UNPACKED,
    ZIP_RATIO_MIN_BYTES,
    ParseLimits,
)


_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_QUOTE_STYLE = re.compile(r"(?:intense\s+)?quote|block\s+text|quotation")
_W_P, _W_TBL, _W_SDT = f"{{{_W_NS}}}p", f"{{{_W_NS}}}tbl", f"{{{_W_NS}}}sdt"
_W_CUSTOM_XML = f"{{{_W_NS}}}customXml"


def _parse_docx(name: str, data: bytes, max_bytes: int, limits: ParseLimits) -> _Draft:
    _check_docx_container(name, data, max_bytes, limits)
    import docx  # python-docx; imported lazily, only .docx needs it

    document = docx.Document(io.BytesIO(data))
    budget = _TextBudget(name, limits)
    items = []
    notes = _all_notes(document)
    for item in _DocxReader(document, notes).items():
        budget.add(item.text)
        items.append(item)
    for item in (item for kind in notes for item in _footnote_items(kind)):
        budget.add(item.text)
        items.append(item)
    return _Draft(blocks=_docx_blocks(items), meta_title=document.core_properties.title)


# ---- footnotes and endnotes: Word keeps them in their own parts, out of the body's paragraphs

_W_ID = f"{{{_W_NS}}}id"
MAX_FOOTNOTES = 2000


@dataclass
class _Footnotes:
    """One kind of note ("footnote" or "endnote") by id, and the number each is shown with (its
    order of reference): 1, 2, 3 for footnotes and i, ii, iii for endnotes, as Word numbers them."""

    kind: str = "footnote"
    text: dict[str, str] = field(default_factory=dict)
    number: dict[str, int] = field(default_factory=dict)

    @property
    def reference(self) -> str:
        """The body's element that references one ("w:footnoteReference")."""
        return f"{{{_W_NS}}}{self.kind}Reference"

    def label(self, note_id: str) -> str:
        """ "3" for the third footnote referenced, "iii" for the third endnote."""
        if note_id not in self.number:
            self.number[note_id] = len(self.number) + 1
        n = self.number[note_id]
        return str(n) if self.kind == "footnote" else _roman(n)

    def mark(self, note_id: str) -> str:
        return f"[{self.label(note_id)}]"


def _roman(n: int) -> str:
    out = ""
    for value, letters in ((1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
                           (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        count, n = divmod(n, value)
        out += letters * count
    return out


def _all_notes(document: Any) -> list[_Footnotes]:
    """The footnotes, then the endnotes."""
    return [_footnotes(document, "footnote"), _footnotes(document, "endnote")]


def _footnotes(document: Any, kind: str = "footnote") -> _Footnotes:
    """The notes part's notes of one kind (not its separators), each as one line of text."""
    from docx.oxml.parser import parse_xml  # python-docx's parser: no entities, no network

    notes = _Footnotes(kind)
    for rel in document.part.rels.values():
        if not rel.reltype.endswith(f"/{kind}s") or rel.is_external:
            continue
        root = parse_xml(rel.target_part.blob)
        for note in root.iterchildren(f"{{{_W_NS}}}{kind}"):
            note_id = note.get(_W_ID)
            if note_id is None or note.get(f"{{{_W_NS}}}type") in ("separator", "continuationSeparator"):
                continue
            paragraphs = ("".join(t.text or "" for t in p.iter(f"{{{_W_NS}}}t")) for p in note.iter(_W_P))
            text = _tidy_line(" ".join(paragraphs))
            if text and len(notes.text) < MAX_FOOTNOTES:
                notes.text[note_id] = text
    return notes


def _footnote_items(notes: _Footnotes) -> list[_DocxItem]:
    """A "Footnotes" (or "Endnotes") section at the end: "[1] ...", in the order they are referenced
    (those never referenced after them), as Word prints them."""
    ordered = sorted(notes.text, key=lambda k: (k not in notes.number, notes.number.get(k, 0),
                                                int(k) if k.isdigit() else 0))
    lines = [f"{notes.mark(k)} {notes.text[k]}" for k in ordered]
    title = f"{notes.kind.capitalize()}s"
    return [_DocxItem(title, "heading", 1), *(_DocxItem(line, "para") for line in lines)] if lines else []


def _check_docx_container(name: str, data: bytes, max_bytes: int, limits: ParseLimits | None = None) -> None:
    """Reject non-zips, non-Word zips and archives that unpack to far more than they should."""
    if data.startswith(_OLE2_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise _encrypted(name, "Word document")
        raise _corrupt(name, "docx", "it is an older Word .doc file renamed to .docx; use Save As .docx in Word")
    if not data.startswith(b"PK"):
        raise _corrupt(name, "docx", _looks_like_this_instead(data))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError) as exc:
        raise _corrupt(name, "docx", "the file is not a complete ZIP package (it may be truncated)") from exc
    _check_unpacked_size(name, infos, max_bytes, (limits or ParseLimits()).max_inflated_bytes)
    names = {info.filename for info in infos}
    if not any(re.fullmatch(r"word/document\d*\.xml", n) for n in names):
        raise _corrupt(name, "docx", _office_kind_hint(names))


def _check_unpacked_size(name: str, infos: list[zipfile.ZipInfo], max_bytes: int,
                         max_inflated: int = ZIP_MAX_UNPACKED) -> None:
    """From the central directory only (nothing is inflated): part count, the sum of the parts'
    declared sizes, each big part's compression ratio. zipfile stops at the declared size."""
    if len(infos) > ZIP_MAX_ENTRIES:
        raise _zip_bomb(name, f"contains more than {ZIP_MAX_ENTRIES} parts")
    limit = min(ZIP_EXPANSION_FACTOR * max_bytes, ZIP_MAX_UNPACKED, max_inflated)
    total = 0
    for info in infos:
        total += info.file_size
        if total > limit:
            raise _zip_bomb(name, f"expands to more than {_format_mb(limit)} MB")
        big = info.file_size > ZIP_RATIO_MIN_BYTES
        if big and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
            raise _zip_bomb(name, f"expands more than {ZIP_MAX_RATIO}-fold (part '{info.filename[:60]}')")


def _office_kind_hint(names: set[str]) -> str:
    if "xl/workbook.xml" in names:
        return "it is an Excel workbook, not a Word document"
    if "ppt/presentation.xml" in names:
        return "it is a PowerPoint presentation, not a Word document"
    if "content.xml" in names and "mimetype" in names:
        return "it is an OpenDocument file; save it as .docx from LibreOffice or Word"
    return "the ZIP package has no Word document inside"


@dataclass
class _DocxItem:
    text: str
    kind: str  # "title" | "heading" | "list" | "para" | "table" | "code"
    level: int = 0
    bold: bool = False
    marks: list = field(default_factory=list)  # its web links: (start, end, "link", address) over `text`


@dataclass
class _StyleInfo:
    name: str = ""
    heading_level: int = 0  # 0 = not a heading style
    is_title: bool = False
    bold: bool = False
    is_list: bool = False
    is_toc: bool = False
    is_code: bool = False  # a code style ("Source Code", "HTML Preformatted") or a monospaced font
    mono: bool = False  # the style's font is monospaced (its runs are, unless they set their own)
    is_quote: bool = False  # a quotation style ("Quote", "Intense Quote", "Block Text")


class _DocxReader:
    """Walks the body in document order (paragraphs and tables interleaved)."""

    def __init__(self, document: Any, notes: list[_Footnotes] | None = None) -> None:
        self.document = document
        self.styles: dict[str | None, _StyleInfo] = {}
        self.notes = [n for n in notes or [] if n.text]

    def items(self) -> Iterator[_DocxItem]:
        for element in self._body_elements(self.document.element.body):
            item = self._table(element) if element.tag == _W_TBL else self._paragraph(element)
            if item and item.text:
                yield item

    def _body_elements(self, parent: Any) -> Iterator[Any]:
        for child in parent.iterchildren():
            if child.tag in (_W_P, _W_TBL):
                yield child
            elif child.tag == _W_SDT and not _is_toc_sdt(child):
                content = child.find(f"{{{_W_NS}}}sdtContent")
                if content is not None:
                    yield from self._body_elements(content)
            elif child.tag == _W_CUSTOM_XML:
                yield from self._body_elements(child)

    def _paragraph(self, p: Any) -> _DocxItem | None:
        from docx.text.paragraph import Paragraph

        self._mark_footnotes(p)
        paragraph = Paragraph(p, self.document)
        style = self._style(paragraph)
        level = style.heading_level or _outline_level(p)
        if not level and not style.is_title and (style.is_code or _all_mono(paragraph, style.mono)):
            code = paragraph.text  # tidied with the block it belongs to (`_docx_blocks`)
            if code.strip():
                return _DocxItem(code, "code")
            # a blank line of a code block Word writes a paragraph per line (kept inside the block)
            return _DocxItem(" ", "code") if style.is_code else None
        text = _tidy_chunk(paragraph.text)
        if not text or style.is_toc:
            return None
        if style.is_title:
            return _DocxItem(text, "title", 1)
        if level and len(text.split()) <= 25 and "\n" not in text:
            return _DocxItem(text, "heading", level)
        has_numbering = p.pPr is not None and p.pPr.numPr is not None
        kind = "list" if style.is_list or has_numbering else "para"
        # a quotation ("Quote", "Block Text": someone's words as written) carries a "cite" mark: the rules
        # read it as a Markdown block quote, and the page draws it as the plain text it is
        cited = [(0, len(text), "cite", "")] if style.is_quote else []
        return _DocxItem(text, kind, 0, bold=_all_bold(paragraph, style.bold),
                         marks=cited + _link_marks(paragraph, text))

    def _mark_footnotes(self, p: Any) -> None:
        """Write each note's number where it is referenced ("... at 1209[1] on Friday"), as Word
        shows it (in this in-memory copy only: the export writes into the file as uploaded)."""
        for notes in self.notes:
            for ref in p.iter(notes.reference):
                note_id = ref.get(_W_ID)
                if note_id in notes.text:
                    t = ref.makeelement(f"{{{_W_NS}}}t", {})
                    t.text = notes.mark(note_id)
                    ref.addnext(t)

    def _style(self, paragraph: Any) -> _StyleInfo:
        style_id = paragraph._p.style
        if style_id not in self.styles:
            self.styles[style_id] = _style_info(paragraph)
        return self.styles[style_id]

    def _table(self, tbl: Any) -> _DocxItem:
        from docx.text.paragraph import Paragraph

        rows = []
        for tr in tbl.xpath("./w:tr|./w:sdt/w:sdtContent/w:tr"):
            cells = []
            for tc in tr.xpath("./w:tc|./w:sdt/w:sdtContent/w:tc"):
                texts = (_tidy_line(Paragraph(p, self.document).text) for p in tc.iter(_W_P))
                cells.append(" ".join(t for t in texts if t))
            if any(cells):
                rows.append(" | ".join(cells))
        return _DocxItem("\n".join(rows), "table")


def _style_info(paragraph: Any) -> _StyleInfo:
    """Heading level / title / list / TOC / bold, following the style's base styles."""
    try:
        style = paragraph.style
    except Exception:  # missing or broken styles part
        return _StyleInfo()
    info = _StyleInfo(name=(style.name or "").lower() if style is not None else "")
    info.is_toc = info.name.startswith("toc")
    info.is_list = info.name.startswith("list")
    for _ in range(6):  # walk up the "based on" chain a few steps
        if style is None:
            break
        name = (style.name or "").lower()
        match = re.fullmatch(r"heading\s*([1-9])", name)
        if match and not info.heading_level:
            info.heading_level = int(match.group(1))
        info.is_title = info.is_title or name == "title"
        info.is_code = info.is_code or bool(_CODE_STYLE.search(name))
        info.is_quote = info.is_quote or bool(_QUOTE_STYLE.fullmatch(name))
        if style.font is not None and style.font.bold and not info.bold:
            info.bold = True
        if style.font is not None and style.font.name and not info.mono:
            info.mono = _is_mono(style.font.name)
        style = style.base_style
    return info


def _outline_level(p: Any) -> int:
    """``w:outlineLvl`` set directly on a paragraph (0-8 => heading level 1-9)."""
    values = p.xpath("./w:pPr/w:outlineLvl/@w:val")
    if values and str(values[0]).isdigit() and int(values[0]) < 9:
        return int(values[0]) + 1
    return 0


def _is_toc_sdt(sdt: Any) -> bool:
    gallery = sdt.xpath("./w:sdtPr/w:docPartObj/w:docPartGallery/@w:val")
    return bool(gallery) and "contents" in str(gallery[0]).lower()


def _all_bold(paragraph: Any, style_bold: bool) -> bool:
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(run.bold or (run.bold is None and style_bold) for run in runs)


# Word's and pandoc's code styles ("HTML Preformatted", "Source Code", "Macro Text", "Plain Text"),
# and the fonts a code block is set in
_CODE_STYLE = re.compile(r"\bcode\b|sourcecode|preformatted|\bmacro\b|plain\s*text|\bconsole\b|\bverbatim\b")
_MONO_FONTS = ("consolas", "courier", "menlo", "monaco", "lucida console", "lucida sans typewriter", "source code",
               "dejavu sans mono", "liberation mono", "cascadia", "fira code", "fira mono", "roboto mono", "sf mono",
               "ubuntu mono", "jetbrains mono", "inconsolata", "andale mono", "noto sans mono", "ibm plex mono")


def _is_mono(font: str) -> bool:
    return font.strip().lower().startswith(_MONO_FONTS)


def _all_mono(paragraph: Any, style_mono: bool) -> bool:
    """Every run with text is set in a monospaced font (its own, or its paragraph style's)."""
    runs = [run for run in paragraph.runs if run.text.strip()]
    return bool(runs) and all(_is_mono(run.font.name) if run.font.name else style_mono for run in runs)


def _link_marks(paragraph: Any, text: str) -> list:
    """The paragraph's web links as "link" marks over its tidied text (marks.link_marks)."""
    return link_marks(text, [(_tidy_line(link.text or ""), link.address or "") for link in paragraph.hyperlinks])


def _docx_blocks(items: list[_DocxItem]) -> list[_Block]:
    blocks: list[_Block] = []
    list_lines: list[str] = []
    list_marks: list = []
    code_lines: list[str] = []  # a code block Word writes as one paragraph per line
    # the document's styled headings: a list item that repeats one ("Introduction" in a table of
    # contents written as a bulleted list) points to that heading, and is not a heading itself
    styled = {" ".join(item.text.lower().split()) for item in items if item.kind in ("heading", "title")}

    def flush_code() -> None:
        if code_lines:
            code = _tidy_code_chunk("\n".join(code_lines))
            blocks.append(_Block(code, marks=[(0, len(code), "pre", "")]))
            code_lines.clear()

    def flush_list() -> None:
        if list_lines:
            blocks.append(_Block("\n".join(list_lines), marks=list(list_marks)))
            list_lines.clear()
            list_marks.clear()

    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        if item.kind == "code":
            flush_list()
            code_lines.append(item.text)
            continue
        flush_code()
        previous = items[index - 1] if index else None
        if item.kind == "list" and (" ".join(item.text.lower().split()) in styled
                                    or not _docx_list_heading(item, following, previous)):
            line = item.text if _BULLET.match(item.text) else f"- {item.text}"
            at = sum(len(x) + 1 for x in list_lines) + len(line) - len(item.text)
            list_marks.extend((a + at, b + at, kind, attr) for a, b, kind, attr in item.marks)
            list_lines.append(line)
            continue
        flush_list()
        blocks.append(_docx_block(item, following))
    flush_list()
    flush_code()
    return blocks


def _docx_block(item: _DocxItem, following: _DocxItem | None) -> _Block:
    if item.kind == "title":
        return _heading(item.text, 1, is_title=True)
    if item.kind == "heading":
        return _heading(item.text, item.level)
    if item.kind == "list" or (item.kind == "para" and _is_known_heading(item.text)):
        return _heading(item.text, _numbering_level(item.text))
    if item.kind == "para" and _is_title_case(item.text) and _docx_heading_context(item, following):
        return _heading(item.text, _numbering_level(item.text))
    return _Block(item.text, marks=list(item.marks))


def _docx_list_heading(item: _DocxItem, following: _DocxItem | None, previous: _DocxItem | None = None) -> bool:
    """Auto-numbered headings are often list paragraphs: '3. Root Cause' (the number is not text);
    but not an item in the middle of a list, or one a lead-in introduces ("Document the findings
    including:", then "Root cause analysis", "Contributing factors")."""
    in_a_list = previous is not None and (previous.kind == "list" or previous.text.rstrip().endswith(":")) \
        and following is not None and following.kind == "list"
    if _is_known_heading(item.text):
        return not in_a_list
    return item.bold and _is_title_case(item.text) and following is not None and following.kind == "para"


def _docx_heading_context(item: _DocxItem, following: _DocxItem | None) -> bool:
    """A short title-case paragraph is a heading if bold, or if a real paragraph follows."""
    if item.bold:
        return True
    return following is not None and following.kind == "para" and len(following.text.split()) >= 12
