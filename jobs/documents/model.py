"""What parsing produces and what bounds it: the result types (``ParsedDocument`` of
``ParsedSection``s), the one error (``DocumentError``), the per-upload limits (``ParseLimits``)
and the fixed bounds every parser shares (supported extensions, section and title caps, the
.docx ZIP and .pdf inflate bounds)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


SUPPORTED = (".docx", ".pdf", ".md", ".txt")
# other names the same formats go by: Jekyll's and GitHub's ".markdown", and ".text"
# other names for what a parser reads; reStructuredText and AsciiDoc are read as the Markdown they
# resemble (lightmarkup.py)
ALIASES = {".markdown": "md", ".mdown": "md", ".mkd": "md", ".text": "txt",
           ".rst": "md", ".rest": "md", ".adoc": "md", ".asciidoc": "md"}

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
    """One section. ``marks`` (Markdown only; see "The text/format model" in marks.py) is the
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
    # the day the file gives itself ("2025-07-28"): a Markdown front matter's date, else a "Date:" field near its top
    date: str | None = None


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
