"""The PDF flate-bomb check, run before pdfminer sees the file: every non-image FlateDecode
stream (after ASCII armour) is inflated with a bounded decompressor, output discarded, and the
total is held to the inflated cap (``_check_pdf_streams``)."""

from __future__ import annotations

import re
from typing import Callable

from .errors import _compression_bomb, _format_mb
from .model import PDF_INFLATE_STEP


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
