"""The entry points: ``check_upload`` (name, type, size, emptiness: the cheap checks) and
``parse_document``, which runs the parser for the upload's kind (``_PARSERS``), assembles its
blocks into sections (sections.py) and turns any parser failure into a ``DocumentError``."""

from __future__ import annotations

import logging
import re
from typing import Callable

from .blocks import _Draft
from .cleaning import _INVISIBLE
from .docx import _parse_docx
from .errors import _corrupt, _empty, _format_mb, _unsupported
from .markdown import _parse_markdown
from .model import ALIASES, SUPPORTED, DocumentError, ParsedDocument, ParseLimits
from .pdf import _parse_pdf
from .sections import _assemble
from .text import _parse_text

logger = logging.getLogger("redline.jobs.documents")  # the package's name: one logger for all of it


def check_upload(filename: str, data: bytes, *, max_bytes: int) -> str:
    """The cheap checks (type, size, emptiness) done before any parsing; returns the kind."""
    name = _display_name(filename)
    ext = _extension(filename)
    if ext not in SUPPORTED and ext not in ALIASES:
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
    return ALIASES.get(ext, ext[1:])


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


def _display_name(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1]
    base = _INVISIBLE.sub("", base).strip() or "unnamed file"
    return base if len(base) <= 80 else base[:77] + "..."


def _extension(filename: str) -> str:
    base = re.split(r"[\\/]", filename or "")[-1].strip().rstrip(".").lower()
    dot = base.rfind(".")
    return base[dot:] if dot > 0 else ""


_PARSERS: dict[str, Callable[[str, bytes, int, ParseLimits], _Draft]] = {
    "docx": _parse_docx,
    "pdf": _parse_pdf,
    "md": _parse_markdown,
    "txt": _parse_text,
}
