"""Turn an uploaded write-up (.docx, .pdf, .md, .txt) into titled sections.

``parse_document(filename, data, max_bytes=..., limits=...)`` is the only entry point. Each
format parser turns the file into a flat list of blocks (headings and text chunks); one shared
assembler then builds the sections, picks the document title, bounds the number of
sections, splits over-long sections into parts and tidies the text. Bad input only ever
raises :class:`DocumentError`, whose message is written for the person who uploaded the file.

Markdown is read as Markdown (markdown-it-py): a section's ``text`` is its readable plain text
(what reviewers quote, exactly), and its formatting is carried beside it in ``marks``
(``[start, end, kind, attr]`` over the text; see "The text/format model" in the Markdown part).
Markdown outlines are read as a reviewer reads them: a run of dated/numbered sub-headings (a
timeline's entries) is part of its parent's section, and a heading over nothing but sub-headings
takes in its first sub-heading, so no section is left empty; both become "h" lines of the text.
Every section has a stable ``key`` from its path of titles and occurrence.

It runs in the calling process; the server never calls it directly but through
``redline.jobs.parsing.parse_upload``, which runs it in a child process with CPU-time and memory
limits. Everything here is linear in the input (no regex with nested or adjacent unbounded
quantifiers that can backtrack; Markdown structure comes from markdown-it-py).

Bounds (``ParseLimits``, from the settings REDLINE_MAX_DOCUMENT_CHARS, REDLINE_MAX_SECTION_CHARS
and REDLINE_MAX_INFLATED_MB):
- .docx: the ZIP's central directory is checked before anything is inflated: the sum of the
  parts' declared sizes (``file_size``) against the inflated cap, and each big part's
  compression ratio. The declared size is binding: ``zipfile`` never returns more than it, and a
  part that inflates to more fails its CRC check (-> corrupt_document).
- .pdf: before pdfminer sees the file, every FlateDecode stream that is not an image is inflated
  in 1 MB steps with a bounded ``zlib`` decompressor (nothing is kept), and the total is checked
  against the same inflated cap, so a flate bomb is refused after inflating at most the cap.
  Streams this scan cannot read (encrypted, other filters, object streams pdfminer decodes
  itself) are bounded by the child process's RLIMIT_AS and RLIMIT_CPU instead, and by the
  page cap (MAX_PDF_PAGES) and the character cap while pages are read.
- extracted text: at most ``max_document_chars`` per document (more: too_long, 413); a section
  longer than ``max_section_chars`` is split into parts ("Title (part 2 of 3)") at paragraph,
  line or sentence ends, each part an exact piece of the text.

Error codes: unsupported_type (415), too_large (413), too_many_pages (413), too_long (413),
corrupt_document, zip_bomb, compression_bomb, encrypted_document, empty_document (400).
"""

from __future__ import annotations

import io
import logging
import re
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

logger = logging.getLogger(__name__)

SUPPORTED = (".docx", ".pdf", ".md", ".txt")

MAX_SECTIONS = 500
MAX_TITLE_CHARS = 200
MAX_PDF_PAGES = 500
ZIP_MAX_ENTRIES = 2000
ZIP_MAX_RATIO = 200
ZIP_RATIO_MIN_BYTES = 1 << 20  # tiny parts may compress extremely well; only judge big ones
ZIP_MAX_UNPACKED = 200 << 20
ZIP_EXPANSION_FACTOR = 20
PDF_INFLATE_STEP = 1 << 20  # the bounded decompressor's output per step

_MB = 1 << 20
_KIND_NAMES = {"docx": "Word document", "pdf": "PDF", "md": "Markdown file", "txt": "text file"}
_SUPPORTED_HUMAN = "a Word document (.docx), a PDF, a Markdown file (.md) or a plain-text file (.txt)"


# =============================================================================== public API


class DocumentError(Exception):
    """An uploaded file we cannot turn into sections; ``message`` is shown to the user."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status

    def __repr__(self) -> str:
        return f"DocumentError({self.code!r}, {self.message!r}, {self.status})"


@dataclass
class ParsedSection:
    """One section. ``marks`` (Markdown only; see "The text/format model" below) is the
    formatting over ``text`` as ``[start, end, kind, attr]``; ``key`` is a stable name derived
    from the path of titles and the occurrence ("timeline", "analysis_root-cause__2"): the same
    document parses to the same keys, and editing one section leaves the others' keys alone."""

    title: str
    text: str
    level: int = 1
    marks: list = field(default_factory=list)
    key: str = ""


@dataclass
class ParsedDocument:
    kind: str  # "docx" | "pdf" | "md" | "txt"
    sections: list[ParsedSection]
    title: str | None


@dataclass(frozen=True)
class ParseLimits:
    """What one upload may become; the defaults serve a 300-page report (~1.5M characters)."""

    max_document_chars: int = 2_000_000  # REDLINE_MAX_DOCUMENT_CHARS: more is refused (too_long)
    max_section_chars: int = 100_000  # REDLINE_MAX_SECTION_CHARS: longer sections are split in parts
    max_inflated_bytes: int = 64 << 20  # REDLINE_MAX_INFLATED_MB: .docx parts / .pdf streams, inflated

    @classmethod
    def from_settings(cls, settings: Any) -> "ParseLimits":
        return cls(max_document_chars=int(settings.max_document_chars),
                   max_section_chars=int(settings.max_section_chars),
                   max_inflated_bytes=int(settings.max_inflated_mb * _MB))


def check_upload(filename: str, data: bytes, *, max_bytes: int) -> str:
    """The cheap checks (type, size, emptiness) done before any parsing; returns the kind."""
    name = _display_name(filename)
    ext = _extension(filename)
    if ext not in SUPPORTED:
        raise _unsupported(name, ext)
    if len(data) > max_bytes:
        raise DocumentError(
            "too_large",
            f"'{name}' is {_format_mb(len(data))} MB, but the limit is {_format_mb(max_bytes)} MB. "
            "Remove large images or split the write-up into smaller files, then upload again.",
            413,
        )
    if not data:
        raise _empty(name)
    return ext[1:]


def parse_document(filename: str, data: bytes, *, max_bytes: int, limits: ParseLimits | None = None) -> ParsedDocument:
    """Parse an uploaded write-up into sections; raise DocumentError for anything unusable."""
    limits = limits or ParseLimits()
    kind = check_upload(filename, data, max_bytes=max_bytes)
    name = _display_name(filename)
    try:
        draft = _PARSERS[kind](name, data, max_bytes, limits)
        return _assemble(kind, name, draft, limits)
    except (DocumentError, MemoryError):
        raise  # a MemoryError is the child's memory limit: redline.jobs.parsing reports it
    except Exception as exc:  # parser libraries raise many things for damaged files
        logger.info("could not parse %s (%s): %r", name, kind, exc)
        raise _corrupt(name, kind) from exc


# =============================================================================== errors


def _display_name(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1]
    base = _INVISIBLE.sub("", base).strip() or "unnamed file"
    return base if len(base) <= 80 else base[:77] + "..."


def _extension(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1].strip().rstrip(".").lower()
    dot = base.rfind(".")
    return base[dot:] if dot > 0 else ""


def _format_mb(n_bytes: int) -> str:
    mb = n_bytes / _MB
    if mb >= 10:
        return f"{mb:.0f}"
    if mb >= 0.1:
        return f"{mb:.1f}".rstrip("0").rstrip(".")
    return f"{mb:.2g}"


_LEGACY_HINTS = {
    ".doc": "Older Word .doc files can't be read: open it in Word and use Save As > Word Document (.docx).",
    ".rtf": "Open it in Word and save it as a Word Document (.docx).",
    ".odt": "Open it in LibreOffice or Word and save it as a Word Document (.docx).",
    ".pages": "Export it from Pages as Word (.docx) or PDF.",
    ".docm": "Save it as a plain Word Document (.docx) without macros.",
    ".dotx": "This is a Word template; save the filled-in document as .docx.",
    ".markdown": "Rename the file to end in .md.",
    ".text": "Rename the file to end in .txt.",
}


def _unsupported(name: str, ext: str) -> DocumentError:
    what = f"a {ext} file" if ext else "a file without an extension"
    hint = _LEGACY_HINTS.get(ext, "")
    message = f"'{name}' is {what}, which Redline can't read. Upload {_SUPPORTED_HUMAN}."
    return DocumentError("unsupported_type", f"{message} {hint}".strip(), 415)


def _corrupt(name: str, kind: str, detail: str = "") -> DocumentError:
    what = _KIND_NAMES[kind]
    detail = detail or f"it looks damaged or is not really a {what}"
    return DocumentError(
        "corrupt_document",
        f"We couldn't read '{name}' as a {what}: {detail}. "
        "Open it in the program that created it, save or export it again, and re-upload.",
    )


def _empty(name: str, detail: str = "") -> DocumentError:
    detail = detail or "it contains no text"
    return DocumentError(
        "empty_document",
        f"There is nothing to review in '{name}': {detail}. Check you uploaded the right file.",
    )


def _zip_bomb(name: str, detail: str) -> DocumentError:
    return DocumentError(
        "zip_bomb",
        f"'{name}' {detail} when unpacked, which is far more than a real Word document needs, "
        "so it was not opened for safety. Re-save it from Word (or export it to PDF) and upload that.",
    )


def _compression_bomb(name: str, detail: str) -> DocumentError:
    return DocumentError(
        "compression_bomb",
        f"'{name}' {detail} when its compressed contents are unpacked, which is far more than a real "
        "write-up needs, so it was not read for safety. Print or export it to a new PDF and upload that.",
    )


def _too_long(name: str, chars: str, limits: ParseLimits) -> DocumentError:
    return DocumentError(
        "too_long",
        f"'{name}' has {chars} characters of text; Redline reviews at most "
        f"{limits.max_document_chars:,} characters per document (REDLINE_MAX_DOCUMENT_CHARS). "
        "Upload the write-up without its appendices, or split it into parts.",
        413,
    )


class _TextBudget:
    """Counts extracted characters while a parser reads, so it can stop as soon as the document
    is past the cap (instead of extracting a 100 MB section and refusing it afterwards)."""

    def __init__(self, name: str, limits: ParseLimits) -> None:
        self.name, self.limits, self.used = name, limits, 0

    def add(self, text: str) -> None:
        self.used += len(text)
        if self.used > self.limits.max_document_chars:
            raise _too_long(self.name, f"more than {self.limits.max_document_chars:,}", self.limits)


def _check_raw_chars(name: str, text: str, limits: ParseLimits) -> None:
    """Text formats: refuse at once what could never fit (markup and blank lines aside)."""
    if len(text) > 2 * limits.max_document_chars:
        raise _too_long(name, f"about {len(text):,}", limits)


def _encrypted(name: str, what: str) -> DocumentError:
    return DocumentError(
        "encrypted_document",
        f"'{name}' is password-protected, so its text can't be read. Remove the password "
        f"(open it, then save a copy without a password) and upload that {what}.",
    )


_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, and encrypted .docx
_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive (Word, Excel, PowerPoint or other)"),
    (_OLE2_MAGIC, "an old-style Office file (.doc/.xls) or a password-protected document"),
    (b"{\\rtf", "a Rich Text (.rtf) file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
]


def _sniff(data: bytes) -> str | None:
    """What the bytes look like, for error messages; None when nothing recognisable."""
    if b"%PDF-" in data[:1024]:
        return "a PDF"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return what
    return None


def _looks_like_this_instead(data: bytes) -> str:
    what = _sniff(data)
    return f"its content looks like {what}" if what else "its content is not in that format"


# =============================================================================== blocks


@dataclass
class _Block:
    """A heading or a chunk of text (one paragraph, list or table) in document order."""

    text: str
    heading: bool = False
    level: int = 1
    is_title: bool = False  # a heading that is the document's own title
    marks: list = field(default_factory=list)  # Markdown: formatting over ``text`` (see below)


@dataclass
class _Draft:
    blocks: list[_Block] = field(default_factory=list)
    meta_title: str | None = None  # from file properties / front matter; weaker than a visible title


def _heading(text: str, level: int = 1, *, is_title: bool = False) -> _Block:
    return _Block(_tidy_line(text)[:MAX_TITLE_CHARS], heading=True, level=max(1, level), is_title=is_title)


# =============================================================================== text cleaning

_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
_INVISIBLE = re.compile(  # controls, soft hyphen, zero-width and bidi controls (as the server strips)
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff\ufffe]")
_SPACES = re.compile(r"[ \t\r\x0b\x0c\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl"})
_MANY_BREAKS = re.compile(r"\n{3,}")


def _normalise(text: str) -> str:
    """Unify line breaks and drop control/invisible characters (keeps leading indentation)."""
    return _INVISIBLE.sub("", _NEWLINES.sub("\n", text)).translate(_LIGATURES)


def _tidy_line(line: str) -> str:
    return _SPACES.sub(" ", _INVISIBLE.sub("", line)).strip()


def _tidy_chunk(text: str) -> str:
    """Tidy every line, keep single and double line breaks, drop runs of blank lines."""
    lines = [_tidy_line(line) for line in _normalise(text).split("\n")]
    return _MANY_BREAKS.sub("\n\n", "\n".join(lines)).strip("\n")


def _decode_text(name: str, kind: str, data: bytes) -> str:
    """Decode a text upload: UTF-8 (BOM ok), UTF-16 with BOM, else cp1252, else latin-1."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    utf16 = _guess_bomless_utf16(data)
    if utf16:
        return data.decode(utf16, errors="replace")
    if _sniff(data) or _binary_bytes(data[:4096]) > 0.3 * len(data[:4096]):
        raise _corrupt(name, kind, f"{_looks_like_this_instead(data)}, not text")
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def _binary_bytes(sample: bytes) -> int:
    return sum(sample.count(byte) for byte in (0, 1, 2, 3, 4, 5, 6, 7, 8, 14, 15, 16, 17, 18, 19, 20))


def _guess_bomless_utf16(data: bytes) -> str | None:
    sample = data[:4096]
    half = len(sample) // 2
    if half < 8 or 0 not in sample:
        return None
    even_nuls, odd_nuls = sample[0::2].count(0), sample[1::2].count(0)
    if odd_nuls > 0.4 * half and even_nuls < 0.05 * half:
        return "utf-16-le"
    if even_nuls > 0.4 * half and odd_nuls < 0.05 * half:
        return "utf-16-be"
    return None


# =============================================================================== heading heuristics

_KNOWN_NAMES = [
    r"executive summary", r"management summary", r"summary", r"abstract", r"introduction",
    r"overview", r"purpose(?: and scope)?", r"scope(?: and purpose)?", r"background", r"context",
    r"terms of reference",
    r"timeline(?: of events)?", r"chronology(?: of events)?", r"sequence of events",
    r"(?:event|incident) (?:description|summary|details)", r"description of the (?:event|incident)",
    r"what happened",
    r"investigation(?: (?:process|methodology|method|approach|team|scope))?",
    r"methodology", r"method", r"approach",
    r"(?:key |investigation )?findings", r"analysis", r"discussion", r"evidence",
    r"root cause(?:s|\(s\))?(?: analysis)?", r"causal (?:analysis|factors)",
    r"contributing (?:factors|causes)", r"(?:direct|immediate|underlying) causes?",
    r"impact(?: (?:assessment|analysis))?", r"consequences", r"risk assessment", r"severity",
    r"immediate actions", r"containment(?: actions)?",
    r"(?:corrective|preventive|preventative) actions?",
    r"corrective (?:and|&) (?:preventive|preventative) actions?", r"capa", r"actions",
    r"action (?:plan|items)", r"next steps",
    r"recommendations?", r"conclusions?", r"lessons (?:learned|learnt)", r"references",
    r"attachments", r"appendices", r"appendix(?: [a-z0-9]{1,3})?(?: ?[:.\-\u2013\u2014] ?.{1,60})?",
    r"glossary", r"sign-?off", r"approvals?", r"distribution",
]
_NUMBER = r"(?:\d{1,3}(?:\.\d{1,3})*|[ivxlcdm]{1,6}|[a-z])"
_NUMBERING = (
    rf"(?:(?:section|part|chapter)\s+{_NUMBER}\s*[:.\-\u2013\u2014)]?\s*"
    rf"|\d{{1,3}}(?:\.\d{{1,3}})*[.)]?\s+|[ivxlcdm]{{1,6}}[.)]\s+|[a-z][.)]\s+)"
)
_KNOWN_HEADING = re.compile(
    rf"^(?P<num>{_NUMBERING})?(?:{'|'.join(_KNOWN_NAMES)})\s*:?$", re.IGNORECASE
)
_NUMBERED = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3})*)[.)]?\s+(?P<rest>\S.*)$")
_LEADING_NUMBER = re.compile(rf"^{_NUMBERING}", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-*+\u2022\u25aa\u25cf\u2013\u2014\u00b7>]\s|\(?\d{1,3}[.)]\s+[a-z])")
_TIME_START = re.compile(r"^\d{1,2}[:.h]\d{2}\b")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_DATE_LINE = re.compile(  # "14 March 2024", "March 14, 2024": timeline entries, not headings
    rf"^(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|{_MONTH}\s+\d{{1,2}}\b"
    rf"|\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}})",
    re.IGNORECASE,
)
_MINOR_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or per the to vs via with without "
    "over under after before between during".split()
)


def _is_known_heading(text: str) -> bool:
    return len(text) <= 100 and _KNOWN_HEADING.match(text.strip()) is not None


def _numbering_level(text: str) -> int:
    """'2.3 Root Cause' -> 2; everything else -> 1."""
    match = _NUMBERED.match(text.strip())
    return match.group("num").count(".") + 1 if match else 1


def _strip_numbering(text: str) -> str:
    return _LEADING_NUMBER.sub("", text.strip(), count=1).strip()


def _short_line_shape_ok(text: str, max_words: int) -> bool:
    """A one-line, unpunctuated, not-a-list, not-a-table line of at most max_words words."""
    text = text.strip()
    if not text or "\n" in text or "|" in text or len(text) > 120:
        return False
    if text[-1] in ".,;!" or _BULLET.match(text) or _TIME_START.match(text) or _DATE_LINE.match(text):
        return False
    if ". " in text.rstrip(":") or not any(ch.isalpha() for ch in text):
        return False
    return len(text.split()) <= max_words


def _is_title_case(text: str, max_words: int = 8) -> bool:
    """'Hose Examination Results' yes; 'The hose was examined' no."""
    if not _short_line_shape_ok(text, max_words + 2):
        return False
    body = _strip_numbering(text).rstrip(":").strip()
    if not body or not (body[0].isupper() or body[0].isdigit()) or len(body.split()) > max_words:
        return False
    words = [w.strip("()[]{}\"'\u201c\u201d\u2018\u2019,") for w in body.split()]
    significant = [w for w in words if w and w[0].isalpha() and w.lower() not in _MINOR_WORDS]
    if not significant:
        return False
    capitalised = sum(1 for w in significant if w[0].isupper())
    return capitalised / len(significant) >= 0.75


def _is_all_caps(text: str, max_words: int = 10) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters) and _short_line_shape_ok(text, max_words)


# =============================================================================== assembly


def _assemble(kind: str, name: str, draft: _Draft, limits: ParseLimits) -> ParsedDocument:
    blocks = [b for b in draft.blocks if b.text]
    if not blocks:
        scan = "no selectable text was found (it may be a scanned image; run OCR on it or export it with text)"
        raise _empty(name, scan if kind == "pdf" else "")
    visible_title = _choose_visible_title(blocks)
    title = visible_title or _useful_meta_title(draft.meta_title)
    if kind == "md":
        blocks = _fold_outline(blocks)
    sections = _normalise_levels(_build_sections(blocks, title))
    total = sum(len(section.text) for section in sections)
    if total > limits.max_document_chars:
        raise _too_long(name, f"{total:,}", limits)
    sections = _split_long_sections(sections, limits.max_section_chars)
    sections = _limit_sections(sections, MAX_SECTIONS, limits.max_section_chars)
    _set_keys(sections)
    return ParsedDocument(kind=kind, sections=sections, title=title)


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


def _choose_visible_title(blocks: list[_Block]) -> str | None:
    """An explicit title block, or a first heading that sits above all the others."""
    explicit = next((b for b in blocks if b.is_title), None)
    if explicit:
        return explicit.text
    first = blocks[0]
    if not first.heading or _is_known_heading(first.text):
        return None
    others = [b.level for b in blocks[1:] if b.heading]
    if others and min(others) < first.level:
        return None
    if all(level > first.level for level in others):
        first.is_title = True  # its section is kept only if it has text of its own
    return first.text


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


# =============================================================================== .docx

_W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_W_P, _W_TBL, _W_SDT = f"{{{_W_NS}}}p", f"{{{_W_NS}}}tbl", f"{{{_W_NS}}}sdt"
_W_CUSTOM_XML = f"{{{_W_NS}}}customXml"


def _parse_docx(name: str, data: bytes, max_bytes: int, limits: ParseLimits) -> _Draft:
    _check_docx_container(name, data, max_bytes, limits)
    import docx  # python-docx; imported lazily, only .docx needs it

    document = docx.Document(io.BytesIO(data))
    budget = _TextBudget(name, limits)
    items = []
    for item in _DocxReader(document).items():
        budget.add(item.text)
        items.append(item)
    return _Draft(blocks=_docx_blocks(items), meta_title=document.core_properties.title)


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
    kind: str  # "title" | "heading" | "list" | "para" | "table"
    level: int = 0
    bold: bool = False


@dataclass
class _StyleInfo:
    name: str = ""
    heading_level: int = 0  # 0 = not a heading style
    is_title: bool = False
    bold: bool = False
    is_list: bool = False
    is_toc: bool = False


class _DocxReader:
    """Walks the body in document order (paragraphs and tables interleaved)."""

    def __init__(self, document: Any) -> None:
        self.document = document
        self.styles: dict[str | None, _StyleInfo] = {}

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

        paragraph = Paragraph(p, self.document)
        text = _tidy_chunk(paragraph.text)
        style = self._style(paragraph)
        if not text or style.is_toc:
            return None
        level = style.heading_level or _outline_level(p)
        if style.is_title:
            return _DocxItem(text, "title", 1)
        if level and len(text.split()) <= 25 and "\n" not in text:
            return _DocxItem(text, "heading", level)
        has_numbering = p.pPr is not None and p.pPr.numPr is not None
        kind = "list" if style.is_list or has_numbering else "para"
        return _DocxItem(text, kind, 0, bold=_all_bold(paragraph, style.bold))

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
        if style.font is not None and style.font.bold and not info.bold:
            info.bold = True
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


def _docx_blocks(items: list[_DocxItem]) -> list[_Block]:
    blocks: list[_Block] = []
    list_lines: list[str] = []

    def flush_list() -> None:
        if list_lines:
            blocks.append(_Block("\n".join(list_lines)))
            list_lines.clear()

    for index, item in enumerate(items):
        following = items[index + 1] if index + 1 < len(items) else None
        if item.kind == "list" and not _docx_list_heading(item, following):
            list_lines.append(item.text if _BULLET.match(item.text) else f"- {item.text}")
            continue
        flush_list()
        blocks.append(_docx_block(item, following))
    flush_list()
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
    return _Block(item.text)


def _docx_list_heading(item: _DocxItem, following: _DocxItem | None) -> bool:
    """Auto-numbered headings are often list paragraphs: '3. Root Cause' (the number is not text)."""
    if _is_known_heading(item.text):
        return True
    return item.bold and _is_title_case(item.text) and following is not None and following.kind == "para"


def _docx_heading_context(item: _DocxItem, following: _DocxItem | None) -> bool:
    """A short title-case paragraph is a heading if bold, or if a real paragraph follows."""
    if item.bold:
        return True
    return following is not None and following.kind == "para" and len(following.text.split()) >= 12


# =============================================================================== Markdown
#
# The text/format model. ``ParsedSection.text`` is the readable plain text of the section: inline
# markup removed (``**bold**`` -> ``bold``, ``[text](url)`` -> ``text``, `` `code` `` -> ``code``,
# ``<br>`` -> a line break), list items as "- item" / "3. item" lines, table rows as
# "cell | cell" lines, block quotes as "> " lines, other raw HTML kept as text. This is what the
# reviewers read and quote, so quotes stay exact substrings of it. The formatting is carried
# beside it in ``ParsedSection.marks``: ``[start, end, kind, attr]`` over ``text`` (offsets in
# characters, ``text[start:end]``), computed from markdown-it-py's tokens:
#   inline: "strong", "em", "code", "del", "link" (attr: the href, only http/https/mailto);
#   blocks: "p", "h" (attr: the level; a sub-heading shown inside the section), "li" (the item's
#   own text, after its "- " marker; attr: "ul <depth>" or "ol <depth> <number>"), "quote",
#   "pre", "table", "tr", "th", "td".
# Characters outside every block mark (markers, separators, line breaks) are syntax the page
# keeps in the DOM, hidden, so offsets in the page equal offsets in the text.

_MD_SAFE_HREF = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)
_MD_BR = re.compile(r"^<br\s*/?>$", re.IGNORECASE)
_MD_BR_ANY = re.compile(r"<br\s*/?>", re.IGNORECASE)

Mark = tuple[int, int, str, str]


def _parse_markdown(name: str, data: bytes, max_bytes: int, limits: "ParseLimits") -> _Draft:
    text = _normalise(_decode_text(name, "md", data))
    _check_raw_chars(name, text, limits)
    lines = text.split("\n")
    meta_title, start = _front_matter(lines)
    return _Draft(blocks=_markdown_blocks(lines[start:]), meta_title=meta_title)


def _front_matter(lines: list[str]) -> tuple[str | None, int]:
    """YAML front matter (``---`` ... ``---``) at the very top: its title, and where the body starts."""
    if not lines or lines[0].strip() != "---":
        return None, 0
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ("---", "..."):
            block = lines[1:end]
            if not any(re.match(r"^[A-Za-z_][\w-]*\s*:", line) for line in block):
                return None, 0
            titles = (re.match(r"^title\s*:\s*(.+)$", line, re.IGNORECASE) for line in block)
            title = next((match.group(1).strip().strip("'\"") for match in titles if match), None)
            return title, end + 1
    return None, 0


_MARKDOWN: Any = None
_MARKDOWN_FULL: Any = None


def _markdown_parser() -> Any:
    """markdown-it-py (CommonMark), block rules only, for the outline: headings, fences, code,
    breaks, link reference definitions. Its block parser is linear in the input (the former
    hand-written ATX regex backtracked quadratically: '# a' + 40,000 spaces + 'x' took 15 s)."""
    global _MARKDOWN
    if _MARKDOWN is None:
        from markdown_it import MarkdownIt

        _MARKDOWN = MarkdownIt("commonmark").disable(["inline", "text_join"], ignoreInvalid=True)
    return _MARKDOWN


def _markdown_full() -> Any:
    """markdown-it-py (CommonMark + GFM tables and strikethrough), inline rules on: the text
    between two headings is rendered to plain text and marks with it."""
    global _MARKDOWN_FULL
    if _MARKDOWN_FULL is None:
        from markdown_it import MarkdownIt

        _MARKDOWN_FULL = MarkdownIt("commonmark").enable(["table", "strikethrough"])
        _MARKDOWN_FULL.disable(["text_join"], ignoreInvalid=True)
    return _MARKDOWN_FULL


@dataclass
class _MdLine:
    """What markdown-it says a source line is."""

    kind: str = "text"  # "text" | "heading" | "skip" (a setext underline, a thematic break) | "code"
    title: str = ""
    level: int = 1


def _markdown_line_kinds(lines: list[str], env: dict) -> list[_MdLine]:
    kinds = [_MdLine() for _ in lines]
    tokens = _markdown_parser().parse("\n".join(lines), env)
    for index, token in enumerate(tokens):
        if token.level != 0 or not token.map:
            continue  # headings inside lists or quotes stay text, as they always did
        first, last = token.map
        if token.type == "hr":
            kinds[first].kind = "skip"
        elif token.type in ("fence", "code_block"):
            for line in range(first, min(last, len(lines))):
                kinds[line].kind = "code"
        elif token.type == "heading_open":
            content = tokens[index + 1].content if index + 1 < len(tokens) else ""
            level = int(token.tag[1:]) if token.tag[1:].isdigit() else 1
            if token.markup in ("=", "-"):  # setext: the underline is the last line of the heading
                kinds[last - 1].kind = "skip"
                title_line = last - 2  # the line above the underline; earlier lines stay text
                content = lines[title_line]
                kinds[title_line] = _MdLine("heading", _md_plain_title(content, env), level)
            else:
                kinds[first] = _MdLine("heading", _md_plain_title(content, env), level)
                kinds[first].kind = "heading" if kinds[first].title else "skip"  # a bare "#"
    return kinds


def _markdown_blocks(lines: list[str]) -> list[_Block]:
    """Headings (ATX, setext, and a known section name alone after a blank line, e.g.
    "**Root Cause**"); the lines between two headings are one block, rendered by markdown-it to
    plain text plus marks (see the model above)."""
    env: dict = {}
    blocks: list[_Block] = []
    segment: list[str] = []

    def flush() -> None:
        if any(line.strip() for line in segment):
            text, marks = _md_render("\n".join(segment), env)
            if text:
                blocks.append(_Block(text, marks=marks))
        segment.clear()

    previous_blank = True
    for raw, kind in zip(lines, _markdown_line_kinds(lines, env)):
        blank = not raw.strip()
        if kind.kind == "heading":
            flush()
            blocks.append(_heading(kind.title, kind.level))
        elif kind.kind == "skip":
            segment.append("")  # a break between blocks (a setext underline, a thematic break)
        elif kind.kind != "code" and previous_blank and not blank and _is_known_heading(_unwrap_emphasis(raw)):
            flush()
            title = _unwrap_emphasis(raw)
            blocks.append(_heading(title, _numbering_level(title)))
        else:
            segment.append(raw)
        previous_blank = blank and kind.kind != "code"
    flush()
    return blocks


def _unwrap_emphasis(text: str) -> str:
    """'**Root Cause**' -> 'Root Cause' (plain string code; the text may be long)."""
    text = text.strip()
    for marker in ("***", "**", "*", "___", "__", "_"):
        if len(text) > 2 * len(marker) and text.startswith(marker) and text.endswith(marker):
            return text[len(marker) : -len(marker)].strip()
    return text


def _md_plain_title(content: str, env: dict) -> str:
    """A heading's text without its inline markup ('Root `cause`' -> 'Root cause')."""
    content = _SPACES.sub(" ", content).strip()
    if _MD_SPECIAL.search(content) is None:
        return _tidy_line(content)
    if len(content) > 4 * MAX_TITLE_CHARS:
        content = content[: 4 * MAX_TITLE_CHARS]
    try:
        text, _ = _md_render_inline_only(content, env)
    except Exception:  # noqa: BLE001 - a title is never worth failing an upload for
        return _unwrap_emphasis(content)
    return _tidy_line(text.replace("\n", " "))


def _md_render_inline_only(content: str, env: dict) -> tuple[str, list[Mark]]:
    renderer = _MdRenderer()
    renderer.inline(_markdown_full().parseInline(content, env)[0].children or [])
    return renderer.text(), renderer.marks


_MD_SPECIAL = re.compile(r"[*_`\[\]<>&\\!~|]|^(?: {4}|\t| {0,3}(?:[-+>#=]|\d{1,9}[.)]))", re.MULTILINE)


def _md_render(source: str, env: dict) -> tuple[str, list[Mark]]:
    """The plain text and marks of a run of Markdown blocks (no top-level headings in it)."""
    if _MD_SPECIAL.search(source) is None:  # only plain paragraphs: what markdown-it would make
        text, marks, offset = [], [], 0
        for paragraph in re.split(r"\n[ ]*\n", source.strip("\n")):
            paragraph = "\n".join(_tidy_line(line) for line in paragraph.split("\n") if line.strip())
            if paragraph:
                text.append(paragraph)
                marks.append((offset, offset + len(paragraph), "p", ""))
                offset += len(paragraph) + 2
        return "\n\n".join(text), marks
    renderer = _MdRenderer()
    renderer.blocks(_markdown_full().parse(source, env))
    return _compact(renderer.text(), renderer.marks)


class _MdRenderer:
    """Walks markdown-it tokens, writing the plain text and collecting marks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.marks: list[Mark] = []
        self.quote_depth = 0
        self.lists: list[dict] = []  # open lists: {"ordered", "number"}
        self.block_started = False  # something was written since the last block break

    # ---- writing
    def write(self, text: str) -> None:
        if text:
            self.parts.append(text)
            self.length += len(text)
            self.block_started = True

    def newline(self) -> None:
        self.write("\n" + "> " * self.quote_depth)

    def block_break(self) -> None:
        """Before a new block: a blank line at top level, a line break inside a list or a quote."""
        if not self.block_started:
            return
        if self.lists or self.quote_depth:
            self.newline()
        else:
            self.write("\n\n")
        self.block_started = False

    def text(self) -> str:
        return "".join(self.parts)

    def mark(self, start: int, kind: str, attr: str = "") -> None:
        if self.length > start:
            self.marks.append((start, self.length, kind, attr))

    # ---- blocks
    def blocks(self, tokens: list) -> None:
        index = 0
        stack: list[tuple[str, int]] = []  # (kind, start) of open container blocks
        while index < len(tokens):
            token = tokens[index]
            kind = token.type
            if kind in ("paragraph_open",):
                if not token.hidden:  # a tight list's paragraphs are hidden: no break of their own
                    self.block_break()
                elif self._item_has_text():
                    self.newline()
                stack.append(("p", self.length))
            elif kind == "paragraph_close":
                _, start = stack.pop()
                if not token.hidden and not self.lists:
                    self.mark(start, "p")
            elif kind == "heading_open":  # only inside quotes and lists here
                self.block_break()
                level = int(token.tag[1:]) if token.tag[1:].isdigit() else 1
                self.write("#" * level + " ")
                stack.append(("h", self.length))
            elif kind == "heading_close":
                _, start = stack.pop()
                self.mark(start, "strong")
            elif kind == "inline":
                self.inline(token.children or [])
            elif kind in ("bullet_list_open", "ordered_list_open"):
                if not self.lists:
                    self.block_break()
                start = token.attrGet("start") if kind == "ordered_list_open" else None
                self.lists.append({"ordered": kind == "ordered_list_open",
                                   "number": int(start) if start is not None else 1, "item": None})
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self._close_item()
                self.lists.pop()
                if not self.lists:
                    self.block_started = True
            elif kind == "list_item_open":
                current = self.lists[-1]
                self._close_parent_items()
                if self.block_started:
                    self.newline()
                depth = len(self.lists) - 1
                if current["ordered"]:
                    number = int(token.info) if token.info.isdigit() else current["number"]
                    current["number"] = number + 1
                    self.write(f"{number}. ")
                    attr = f"ol {depth} {number}"
                else:
                    self.write("- ")
                    attr = f"ul {depth}"
                current["item"] = (self.length, attr)
                self.block_started = False
            elif kind == "list_item_close":
                self._close_item()
            elif kind == "blockquote_open":
                self.block_break()
                self.quote_depth += 1
                self.write("> ")
                self.block_started = False
                stack.append(("quote", self.length - 2))
            elif kind == "blockquote_close":
                self.quote_depth -= 1
                _, start = stack.pop()
                self.mark(start, "quote")
                self.block_started = True
            elif kind in ("fence", "code_block"):
                self.block_break()
                start = self.length
                lines = [_tidy_line(line) for line in token.content.rstrip("\n").split("\n")]
                for number, line in enumerate(lines):
                    if number:
                        self.newline()
                    self.write(line)
                self.mark(start, "pre")
            elif kind == "html_block":  # raw HTML is shown as text, never as markup
                self.block_break()
                content = token.content.rstrip("\n")
                lines = [_tidy_line(line) for line in _MD_BR_ANY.sub("\n", content).split("\n")]
                start = self.length
                for number, line in enumerate(lines):
                    if number:
                        self.newline()
                    self.write(line)
                self.mark(start, "p")
            elif kind == "table_open":
                index = self._table(tokens, index)
                continue
            index += 1
        self._close_item()

    def _item_has_text(self) -> bool:
        return bool(self.lists) and self.lists[-1]["item"] is not None and self.block_started

    def _close_item(self) -> None:
        if self.lists and self.lists[-1]["item"] is not None:
            start, attr = self.lists[-1]["item"]
            self.mark(start, "li", attr)
            self.lists[-1]["item"] = None

    def _close_parent_items(self) -> None:
        """A nested list ends its parent item's own text (li marks never nest)."""
        for open_list in self.lists[:-1]:
            if open_list["item"] is not None:
                start, attr = open_list["item"]
                self.mark(start, "li", attr)
                open_list["item"] = None

    def _table(self, tokens: list, index: int) -> int:
        """A table as "cell | cell" rows; returns the index after table_close."""
        self.block_break()
        table_start = self.length
        first_row = True
        cell_kind, cell_start, row_start = "td", 0, 0
        cells_in_row = 0
        index += 1
        while index < len(tokens) and tokens[index].type != "table_close":
            token = tokens[index]
            if token.type == "tr_open":
                if not first_row:
                    self.newline()
                first_row = False
                row_start, cells_in_row = self.length, 0
            elif token.type == "tr_close":
                self.mark(row_start, "tr")
            elif token.type in ("th_open", "td_open"):
                if cells_in_row:
                    self.write(" | ")
                cells_in_row += 1
                cell_kind, cell_start = token.type[:2], self.length
            elif token.type in ("th_close", "td_close"):
                if self.length == cell_start:
                    self.write(" ")  # an empty cell keeps its place
                self.mark(cell_start, cell_kind)
            elif token.type == "inline":
                self.inline(token.children or [], single_line=True)
            index += 1
        self.mark(table_start, "table")
        self.block_started = True
        return index + 1

    # ---- inline
    def inline(self, children: list, single_line: bool = False) -> None:
        open_marks: list[tuple[str, int, str]] = []
        for child in children:
            kind = child.type
            if kind == "text":
                self.write(child.content)
            elif kind in ("softbreak", "hardbreak"):
                self.write(" ") if single_line else self.newline()
            elif kind == "code_inline":
                start = self.length
                self.write(child.content)
                self.mark(start, "code")
            elif kind in ("strong_open", "em_open", "s_open"):
                open_marks.append((kind[:-5], self.length, ""))
            elif kind == "link_open":
                href = str(child.attrGet("href") or "")
                open_marks.append(("link", self.length, href if _MD_SAFE_HREF.match(href) else ""))
            elif kind in ("strong_close", "em_close", "s_close", "link_close"):
                want = kind[:-6]
                for position in range(len(open_marks) - 1, -1, -1):
                    if open_marks[position][0] == want:
                        name, start, attr = open_marks.pop(position)
                        if name == "link" and not attr:
                            break  # an unsafe link is only its text
                        self.mark(start, {"s": "del"}.get(name, name), attr)
                        break
            elif kind == "html_inline":
                if _MD_BR.match(child.content.strip()):
                    self.write(" ") if single_line else self.newline()
                else:
                    self.write(child.content)  # other raw HTML stays text
            elif kind == "image":
                self.inline(child.children or [], single_line)  # its alt text
            else:
                self.write(child.content)


def _compact(text: str, marks: list[Mark]) -> tuple[str, list[Mark]]:
    """Tidy the rendered text as the other formats are (spaces collapsed, lines stripped, no
    runs of blank lines, no blank edges), moving the marks with their characters. Linear."""
    text = text.translate(_SPACE_CHARS)
    removed: list[tuple[int, int]] = []  # [start, end) of removed characters, in order
    lines: list[tuple[int, int, int, int]] = []  # (start, end, content start, content end)
    position = 0
    for line in text.split("\n"):
        end = position + len(line)
        stripped = line.strip(" ")
        left = position + (len(line) - len(line.lstrip(" ")))
        lines.append((position, end, left, left + len(stripped)))
        position = end + 1
    nonempty = [k for k, (_, _, a, b) in enumerate(lines) if b > a]
    keep_newline = set()
    for p, q in zip(nonempty, nonempty[1:]):
        keep_newline.add(p)
        if q - p >= 2:
            keep_newline.add(q - 1)
    for k, (start, end, a, b) in enumerate(lines):
        if b > a:
            if a > start:
                removed.append((start, a))
            for run in _SPACE_RUN.finditer(text, a, b):
                removed.append((run.start() + 1, run.end()))
            if end > b:
                removed.append((b, end))
        elif end > start:
            removed.append((start, end))
        if k < len(lines) - 1 and k not in keep_newline:
            removed.append((end, end + 1))
    removed = _merge_spans(removed)
    out = "".join(text[a:b] for a, b in _kept_spans(removed, len(text)))
    if not removed:
        return out, _sorted_marks(marks)
    import bisect

    starts = [start for start, _ in removed]
    before = [0]
    for start, end in removed:
        before.append(before[-1] + end - start)

    def moved(offset: int) -> int:
        i = bisect.bisect_right(starts, offset) - 1
        if i < 0:
            return offset
        start, end = removed[i]
        return start - before[i] if offset < end else offset - before[i + 1]

    result = []
    for start, end, kind, attr in marks:
        a, b = moved(start), moved(end)
        while a < b and out[a] in " \n":
            a += 1
        while b > a and out[b - 1] in " \n":
            b -= 1
        if b > a:
            result.append((a, b, kind, attr))
    return out, _sorted_marks(result)


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _kept_spans(removed: list[tuple[int, int]], length: int) -> Iterator[tuple[int, int]]:
    cursor = 0
    for start, end in removed:
        yield cursor, start
        cursor = end
    yield cursor, length


_SPACE_CHARS = str.maketrans({c: " " for c in "\t\r\x0b\x0c\u00a0\u1680\u202f\u205f\u3000"
                              "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"})
_SPACE_RUN = re.compile(r"  +")


def _sorted_marks(marks: list[Mark]) -> list[Mark]:
    return sorted(set(marks), key=lambda m: (m[0], -m[1], _MARK_ORDER.get(m[2], 9)))


_MARK_ORDER = {"quote": 0, "table": 0, "pre": 0, "p": 1, "li": 1, "tr": 1, "h": 1, "th": 2, "td": 2,
               "link": 3, "strong": 4, "em": 5, "del": 6, "code": 7}


def _shift_marks(marks: list[Mark], by: int) -> list[Mark]:
    return [(start + by, end + by, kind, attr) for start, end, kind, attr in marks]


def _slice_marks(marks: list[Mark], start: int, end: int) -> list[Mark]:
    """The marks over ``[start, end)``, clipped, relative to ``start``."""
    out = []
    for a, b, kind, attr in marks:
        a, b = max(a, start), min(b, end)
        if b > a:
            out.append((a - start, b - start, kind, attr))
    return out


# ---- outline: timelines of dated sub-headings, and headings over only sub-headings

_ENTRY_HEADING = re.compile(
    rf"^(?:\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}\b|\d{{1,4}}[-/]\d{{1,2}}\b|\d{{1,2}}[:h]\d{{2}}\b|{_MONTH}\s*\d{{1,2}}\b"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+\d"
    r"|(?:day|step|phase|stage|week|hour|update|entry|event|t)\s*[+-]?\s*\d{1,4}\b|#?\d{1,3}[.)]?$"
    r"|[tT]\s*[+-]\s*\d)",
    re.IGNORECASE,
)


def _is_entry_heading(title: str) -> bool:
    """A short dated or numbered heading: '2018-03-13 07:28', '07:33', 'Day 2', 'Step 3', '4.'."""
    title = title.strip()
    return len(title) <= 80 and len(title.split()) <= 10 and _ENTRY_HEADING.match(title) is not None


def _fold_outline(blocks: list[_Block]) -> list[_Block]:
    """Markdown outlines as a reviewer reads them (the headings become "h" lines of the text):

    - a run of short dated or numbered sub-headings (a timeline's entries) is part of its
      parent's section, which is reviewed as one;
    - a heading whose body is only sub-headings (``## Analysis`` right over ``### Root cause``)
      is not a section of its own to review: it takes in its first sub-heading as a heading line
      of its text, so no section is left empty. (Not for the document's title heading.)"""
    demote = [False] * len(blocks)
    headings = [i for i, b in enumerate(blocks) if b.heading]
    for position, i in enumerate(headings):
        parent = blocks[i]
        if demote[i]:
            continue
        below = []
        for j in headings[position + 1 :]:
            if blocks[j].level <= parent.level:
                break
            below.append(j)
        if len(below) < 2:
            continue
        top = min(blocks[j].level for j in below)
        if all(blocks[j].level == top and _is_entry_heading(blocks[j].text) for j in below):
            for j in below:
                demote[j] = True
    for position, i in enumerate(headings):
        block = blocks[i]
        if demote[i] or block.is_title:
            continue
        j = i + 1
        while j < len(blocks) and blocks[j].heading and not demote[j] and blocks[j].level > block.level:
            demote[j] = True  # "## A" over "### A.1" over "#### A.1.a": A takes them in
            j += 1
    out = []
    for block, folded in zip(blocks, demote):
        if folded:
            out.append(_Block(block.text, marks=[(0, len(block.text), "h", str(block.level))]))
        else:
            out.append(block)
    return out


# =============================================================================== plain text

def _is_underline(line: str) -> bool:
    """'===', '---', '~~~' or '***' (3 or more, nothing else on the line)."""
    text = line.strip()
    return len(text) >= 3 and text[0] in "=-~*" and text == text[0] * len(text)


def _parse_text(name: str, data: bytes, max_bytes: int, limits: ParseLimits) -> _Draft:
    text = _normalise(_decode_text(name, "txt", data))
    _check_raw_chars(name, text, limits)
    lines = [_tidy_line(line) for line in text.split("\n")]
    return _Draft(blocks=_text_blocks(lines))


def _text_blocks(lines: list[str]) -> list[_Block]:
    blocks: list[_Block] = []
    paragraph: list[str] = []
    first_text_seen = False
    index = 0
    while index < len(lines):
        line = lines[index]
        heading = _text_heading(lines, index, is_first=not first_text_seen)
        first_text_seen = first_text_seen or bool(line)
        if heading is not None or not line or _is_underline(line):
            if paragraph:
                blocks.append(_Block("\n".join(paragraph)))
                paragraph = []
            if heading is not None:
                blocks.append(heading)
                if _next_is_underline(lines, index):
                    index += 1
        else:
            paragraph.append(line)
        index += 1
    if paragraph:
        blocks.append(_Block("\n".join(paragraph)))
    return blocks


def _more_text_after(lines: list[str], index: int) -> bool:
    return any(line and not _is_underline(line) for line in lines[index + 1 :])


def _next_is_underline(lines: list[str], index: int) -> bool:
    return index + 1 < len(lines) and _is_underline(lines[index + 1])


def _text_heading(lines: list[str], index: int, *, is_first: bool) -> _Block | None:
    """Is ``lines[index]`` a heading? Title line, underlined, known name, numbered, CAPS or Title Case."""
    line = lines[index]
    if not line or _is_underline(line):
        return None
    previous_blank = index == 0 or not lines[index - 1] or _is_underline(lines[index - 1])
    next_blank = index + 1 >= len(lines) or not lines[index + 1]
    underlined = _next_is_underline(lines, index)
    if _is_known_heading(line):
        return _heading(line, _numbering_level(line))
    if is_first and (underlined or next_blank) and _short_line_shape_ok(line, 15):
        if _more_text_after(lines, index):
            return _heading(line, 1, is_title=True)
    if underlined and _short_line_shape_ok(line, 15):
        return _heading(line, 1 if lines[index + 1].lstrip()[0] == "=" else 2)
    if _is_numbered_heading(lines, index, previous_blank, next_blank):
        return _heading(line, _numbering_level(line))
    standalone = previous_blank and (next_blank or underlined)
    if ((previous_blank or next_blank) and _is_all_caps(line)) or (standalone and _is_title_case(line)):
        return _heading(line, 1)
    return None


def _is_numbered_heading(lines: list[str], index: int, previous_blank: bool, next_blank: bool) -> bool:
    """'2.3 Root Cause' / '1. Background' - but not an item of a numbered list."""
    line = lines[index]
    match = _NUMBERED.match(line)
    if not match or not _short_line_shape_ok(match.group("rest"), 10) or not match.group("rest")[0].isupper():
        return False
    depth = match.group("num").count(".")
    for neighbour in (index - 1, index + 1):
        other = _NUMBERED.match(lines[neighbour]) if 0 <= neighbour < len(lines) else None
        if other and other.group("num").count(".") == depth:
            return False  # consecutive same-depth numbers: a list
    return _is_title_case(line, 10) or (previous_blank and next_blank)


# =============================================================================== PDF

_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_PAGE_NUMBER = re.compile(r"^\W*(?:page\s*)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?\W*$", re.IGNORECASE)
_UNMAPPED_GLYPH = re.compile(r"\(cid:\d+\)")  # pdfminer's stand-in for glyphs without Unicode
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


_PDF_STREAM = re.compile(rb"(?<!end)stream(?:\r\n|\n|\r)")
_PDF_FILTERS = re.compile(rb"/Filter\s*(\[[^\]]{0,400}\]|/[A-Za-z0-9]{1,40})")
_PDF_DICT_WINDOW = 4096  # a stream's dictionary is looked for this far before its data


def _check_pdf_streams(name: str, data: bytes, max_inflated: int) -> None:
    """Refuse a flate bomb before pdfminer inflates it.

    Every stream whose dictionary asks for /FlateDecode (after optional ASCIIHex/ASCII85 armour;
    and is not an /Image: text extraction never decodes images) is inflated with a bounded decompressor, PDF_INFLATE_STEP bytes at a
    time, output discarded; chained FlateDecode filters are followed. The total, over all
    streams, must stay within ``max_inflated``: so at most that much is ever inflated here and
    memory stays at one step. Streams that do not inflate (encrypted, damaged) are left to
    pdfminer, under the child process's memory and CPU limits."""
    total = 0
    for match in _PDF_STREAM.finditer(data):
        head = data[max(0, match.start() - _PDF_DICT_WINDOW) : match.start()]
        head = head[head.rfind(b"obj") + 1 :] if b"obj" in head else head
        filters = _PDF_FILTERS.search(head)
        if not filters or b"/Image" in head:
            continue
        names = re.findall(rb"/([A-Za-z0-9]+)", filters.group(1))
        end = data.find(b"endstream", match.end())
        body = data[match.end() : end if end >= 0 else len(data)]
        while names and names[0] in _PDF_TEXT_FILTERS:  # ASCII armour first: never larger than the file
            body = _PDF_TEXT_FILTERS[names.pop(0)](body)
            if body is None:
                break
        flate = 0
        for filter_name in names:
            if filter_name not in (b"FlateDecode", b"Fl"):
                break
            flate += 1
        if not flate or body is None:
            continue
        total += _bounded_inflate(body, flate, max_inflated - total)
        if total > max_inflated:
            raise _compression_bomb(name, f"expands to more than {_format_mb(max_inflated)} MB")


def _ascii_hex(body: bytes) -> bytes | None:
    import binascii

    text = bytes(b for b in body.split(b">", 1)[0] if b not in b" \t\r\n\f\0")
    try:
        return binascii.unhexlify(text + b"0" * (len(text) % 2))
    except (binascii.Error, ValueError):
        return None


def _ascii85(body: bytes) -> bytes | None:
    import base64

    text = body.strip()
    text = text[2:] if text.startswith(b"<~") else text
    text = text.split(b"~>", 1)[0]
    try:
        return base64.a85decode(text, ignorechars=b" \t\r\n\f\0")
    except (ValueError, TypeError):
        return None


_PDF_TEXT_FILTERS: dict[bytes, Callable[[bytes], bytes | None]] = {
    b"ASCIIHexDecode": _ascii_hex, b"AHx": _ascii_hex, b"ASCII85Decode": _ascii85, b"A85": _ascii85,
}


def _bounded_inflate(body: bytes, layers: int, budget: int) -> int:
    """How many bytes ``layers`` chained zlib layers inflate ``body`` to, stopping past ``budget``."""
    import zlib

    decoders = [zlib.decompressobj() for _ in range(layers)]
    produced = 0

    def feed(level: int, chunk: bytes) -> None:
        nonlocal produced
        decoder = decoders[level]
        while chunk and produced <= budget:
            out = decoder.decompress(chunk, PDF_INFLATE_STEP)
            chunk = decoder.unconsumed_tail
            if level + 1 < layers:
                feed(level + 1, out)
            else:
                produced += len(out)
            if not out and not chunk:
                break

    try:
        feed(0, body)
    except zlib.error:
        pass  # damaged or encrypted: pdfminer decides, under the child's limits
    return produced


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
    for raw in page.extract_text_lines(return_chars=True, strip=True):
        middle_x, middle_y = (raw["x0"] + raw["x1"]) / 2, (raw["top"] + raw["bottom"]) / 2
        if any(x0 <= middle_x <= x1 and top <= middle_y <= bottom for x0, top, x1, bottom in boxes):
            continue
        line = _pdf_line(raw, number, height)
        if line is not None:
            lines.append(line)
    lines.sort(key=lambda line: line.top)
    return lines


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
    bold = bold_chars >= 0.9 * len(chars)
    return _PdfLine(text, page, float(raw["top"]), float(raw["bottom"]), page_height, size, bold, tabular)


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

    def heading_level(line: _PdfLine) -> int:
        if line.is_table or line.tabular or not _short_line_shape_ok(line.text, 15):
            return 0
        if _is_larger(line.size, body_size):
            return heading_sizes.index(line.size) + 1
        if _is_known_heading(line.text):
            return known_level
        if line.bold and not body_bold and _short_line_shape_ok(line.text, 12) and line.text[0].isupper():
            return sub_level
        return 0

    return _pdf_join(lines, heading_level)


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


def _pdf_join(lines: list[_PdfLine], heading_level: Callable[[_PdfLine], int]) -> list[_Block]:
    """Headings become blocks (wrapped headings merged); text lines are joined into paragraphs."""
    blocks: list[_Block] = []
    paragraph: list[str] = []
    previous: _PdfLine | None = None
    previous_level = 0

    def flush() -> None:
        if paragraph:
            blocks.append(_Block(_tidy_chunk("".join(paragraph))))
            paragraph.clear()

    for line in lines:
        level = heading_level(line)
        wrapped = previous is not None and level == previous_level and _continues(previous, line, heading=True)
        if level and wrapped:
            blocks[-1] = _heading(f"{blocks[-1].text} {line.text}", level)
        elif level:
            flush()
            blocks.append(_heading(line.text, level))
        elif line.is_table:
            flush()
            blocks.append(_Block(line.text))
        else:
            if paragraph and previous is not None:
                paragraph.append(_line_joiner(previous, line))
            paragraph.append(line.text)
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


def _line_joiner(previous: _PdfLine, line: _PdfLine) -> str:
    if _BULLET.match(line.text):
        return "\n"
    if previous.page != line.page:
        return " " if not _SENTENCE_END.search(previous.text) else "\n\n"
    if not _continues(previous, line):
        return "\n\n"
    return "" if previous.text.endswith("-") else " "


_PARSERS: dict[str, Callable[[str, bytes, int, ParseLimits], _Draft]] = {
    "docx": _parse_docx,
    "pdf": _parse_pdf,
    "md": _parse_markdown,
    "txt": _parse_text,
}
