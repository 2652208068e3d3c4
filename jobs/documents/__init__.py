"""Turn an uploaded write-up (.docx, .pdf, .md, .txt) into titled sections.

``parse_document(filename, data, max_bytes=..., limits=...)`` is the only entry point. Each
format parser turns the file into a flat list of blocks (headings and text chunks); one shared
assembler then builds the sections, picks the document title, bounds the number of
sections, splits over-long sections into parts and tidies the text. Bad input only ever
raises :class:`DocumentError`, whose message is written for the person who uploaded the file.

Markdown is read as Markdown (markdown-it-py): a section's ``text`` is its readable plain text
(what reviewers quote, exactly), and its formatting is carried beside it in ``marks``
(``[start, end, kind, attr]`` over the text; see "The text/format model" in marks.py).
Markdown outlines are read as a reviewer reads them: a run of dated/numbered sub-headings (a
timeline's entries) is part of its parent's section, and a heading over nothing but sub-headings
takes in its first sub-heading, so no section is left empty; both become "h" lines of the text.
Every section has a stable ``key`` from its path of titles and occurrence.

It runs in the calling process; the server never calls it directly but through
``redline.jobs.parsing.parse_upload``, which runs it in a child process with CPU-time and memory
limits. Everything here is linear in the input (no regex with nested or adjacent unbounded
quantifiers that can backtrack; Markdown structure comes from markdown-it-py).

Where to look, by file name (from the foundations up):
- model.py: ParsedDocument, ParsedSection, ParseLimits, DocumentError and the fixed bounds;
- errors.py: every DocumentError's message, the character budget, file-type sniffing;
- cleaning.py: text tidying shared by all formats, and decoding a text upload;
- blocks.py: the intermediate form (a _Draft of _Blocks) each parser produces;
- headings.py: heading heuristics (known names, numbering, Title Case, CAPS);
- marks.py: the text/format model (marks over the plain text) and its helpers;
- outline.py: Markdown outlines folded as a reviewer reads them;
- sections.py: assembly: title, sections, levels, long-section parts, section cap, keys;
- docx.py, pdf.py (its flate-bomb check: pdf_streams.py), text.py, markdown.py (its
  rendering to text and marks: markdown_render.py): one parser per format;
- upload.py: check_upload and parse_document, the entry points.

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


from .marks import Mark
from .model import (
    MAX_PDF_PAGES,
    MAX_SECTIONS,
    MAX_TITLE_CHARS,
    PDF_INFLATE_STEP,
    SUPPORTED,
    ZIP_EXPANSION_FACTOR,
    ZIP_MAX_ENTRIES,
    ZIP_MAX_RATIO,
    ZIP_MAX_UNPACKED,
    ZIP_RATIO_MIN_BYTES,
    DocumentError,
    ParsedDocument,
    ParsedSection,
    ParseLimits,
)
from .upload import _PARSERS as _PARSERS  # private, but tests swap a format's parser in it
from .upload import _display_name as _display_name  # private, but jobs/parsing.py names uploads with it
from .upload import check_upload, parse_document

__all__ = [
    "MAX_PDF_PAGES",
    "MAX_SECTIONS",
    "MAX_TITLE_CHARS",
    "PDF_INFLATE_STEP",
    "SUPPORTED",
    "ZIP_EXPANSION_FACTOR",
    "ZIP_MAX_ENTRIES",
    "ZIP_MAX_RATIO",
    "ZIP_MAX_UNPACKED",
    "ZIP_RATIO_MIN_BYTES",
    "DocumentError",
    "Mark",
    "ParseLimits",
    "ParsedDocument",
    "ParsedSection",
    "check_upload",
    "parse_document",
]

