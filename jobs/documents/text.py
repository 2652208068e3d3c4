"""Where a .txt is parsed: the text decoded and tidied line by line, then split into
paragraphs and headings found by shape (a title line, underlined lines, known section names,
numbered headings, ALL CAPS, Title Case)."""

from __future__ import annotations

from .blocks import _Block, _Draft, _heading
from .cleaning import _decode_text, _normalise, _tidy_line
from .errors import _check_raw_chars
from .headings import (
    _NUMBERED,
    _is_all_caps,
    _is_known_heading,
    _is_title_case,
    _numbering_level,
    _short_line_shape_ok,
)
from .model import ParseLimits


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
