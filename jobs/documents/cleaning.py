"""Text cleaning shared by every format: line breaks unified, invisible characters dropped,
spaces collapsed (``_tidy_line``, ``_tidy_chunk``; a code block's kept, ``_tidy_code_line``), and the bytes of a text upload (.md, .txt)
decoded (``_decode_text``)."""

from __future__ import annotations

import re

from .errors import _corrupt, _looks_like_this_instead, _sniff


_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
_INVISIBLE = re.compile(  # controls, soft hyphen, zero-width and bidi controls (as the server strips)
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\u061c\ufeff\ufffe]")
_SPACES = re.compile(r"[ \t\r\x0b\x0c\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+")
# Ligatures, and the private-use code points of the Symbol and Wingdings fonts that Word's list
# bullets come out as in a PDF's text (U+F0B7 is Symbol's bullet): the characters they stand for.
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\uf0b7": "\u2022", "\uf0a7": "\u25aa", "\uf0d8": "\u27a2", "\uf0fc": "\u2713",
                            "\uf076": "\u2756", "\uf0a8": "\u25a1"})
_MANY_BREAKS = re.compile(r"\n{3,}")


def _normalise(text: str) -> str:
    """Unify line breaks and drop control/invisible characters (keeps leading indentation)."""
    return _INVISIBLE.sub("", _NEWLINES.sub("\n", text)).translate(_LIGATURES)


def _tidy_line(line: str) -> str:
    return _SPACES.sub(" ", _INVISIBLE.sub("", line)).strip()


_ONE_SPACE = re.compile(r"[\r\x0b\x0c\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def _tidy_code_chunk(text: str) -> str:
    """A code block's text (a Word paragraph in a code style or a monospaced font): each line
    `_tidy_code_line`, blank edge lines and runs of blank lines dropped, and the indentation all
    its lines share taken off (the block's place on the page, not its content)."""
    lines = [_tidy_code_line(line) for line in _normalise(text).split("\n")]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    common = min((len(line) - len(line.lstrip(" ")) for line in lines if line), default=0)
    return _MANY_BREAKS.sub("\n\n", "\n".join(line[common:] for line in lines))


def _tidy_code_line(line: str) -> str:
    """A line of a code block: its indentation and the spaces that align its columns kept (a log
    table, YAML), tabs expanded; only invisible characters dropped and the line's end trimmed."""
    return _ONE_SPACE.sub(" ", _INVISIBLE.sub("", line).expandtabs(4)).rstrip()


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
