"""The errors a person sees: each ``DocumentError`` (unsupported type, damaged, empty, bombs,
too long, password-protected) with its message for whoever uploaded the file; the character
budget that stops a parser past the cap; and what the bytes look like, for those messages."""

from __future__ import annotations

from .model import _MB, DocumentError, ParseLimits


_KIND_NAMES = {"docx": "Word document", "pdf": "PDF", "md": "Markdown file", "txt": "text file"}
_SUPPORTED_HUMAN = "a Word document (.docx), a PDF, a Markdown file (.md) or a plain-text file (.txt)"


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
