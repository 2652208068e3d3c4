"""The text/format model (described below): a section's plain ``text`` and the ``marks`` over it,
and the helpers that keep marks on their characters when the text is tidied (``_compact``),
shifted, sliced or sorted."""

from __future__ import annotations

import re
from typing import Iterator


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
#   "pre", "table", "tr", "th", "td";
#   a Word or PDF upload carries only "link", "pre" and "cite" (a paragraph in a quotation style:
#   read by the rules as a block quote, drawn by the page as plain text);
#   "soft": one line break of the text that is only the source's line wrap inside a paragraph,
#   list item or quote (a Markdown soft break): it is shown, and exported, as a space; the text
#   keeps the line break, so that the reviewers read the lines the author wrote.
# Characters outside every block mark (markers, separators, line breaks) are syntax the page
# keeps in the DOM, hidden, so offsets in the page equal offsets in the text.

Mark = tuple[int, int, str, str]

# The addresses a "link" mark may carry (and the page and the export may open): web and mail only.
SAFE_HREF = re.compile(r"^(?:https?://|mailto:)", re.IGNORECASE)


def link_marks(text: str, links: list[tuple[str, str]]) -> list[Mark]:
    """"link" marks over `text` for a Word or PDF paragraph's links, (their words, their address) in
    order, each found after the one before (a link whose address is not a web or mail one gets
    none). Only "link" marks: the page draws such an upload's text as written, with its links, and
    the rules read the addresses ("Diagnose the original issue", linked, is a tracked action)."""
    marks: list[Mark] = []
    at = 0
    for words, address in links:
        if not words or not SAFE_HREF.match(address):
            continue
        k = text.find(words, at)
        if k >= 0:
            marks.append((k, k + len(words), "link", address))
            at = k + len(words)
    return marks


def _compact(text: str, marks: list[Mark]) -> tuple[str, list[Mark]]:
    """Tidy the rendered text as the other formats are (spaces collapsed, lines stripped, no
    runs of blank lines, no blank edges), moving the marks with their characters. Linear. A code
    block's lines ("pre") keep their indentation and inner spaces: a log table's columns, YAML."""
    text = text.translate(_SPACE_CHARS)
    removed: list[tuple[int, int]] = []  # [start, end) of removed characters, in order
    lines: list[tuple[int, int, int, int]] = []  # (start, end, content start, content end)
    code: set[int] = set()  # lines of a code block: indentation and aligned columns kept
    blocks = iter(sorted((start, end) for start, end, kind, _ in marks if kind == "pre"))
    block = next(blocks, None)
    position = 0
    for line in text.split("\n"):
        end = position + len(line)
        stripped = line.strip(" ")
        left = position + (len(line) - len(line.lstrip(" ")))
        while block is not None and block[1] <= position:
            block = next(blocks, None)
        if block is not None and block[0] <= position and stripped:
            code.add(len(lines))
            left = position
            stripped = line.rstrip(" ")
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
            if k not in code:
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

    def gone(offset: int) -> bool:
        i = bisect.bisect_right(starts, offset) - 1
        return i >= 0 and offset < removed[i][1]

    result = []
    for start, end, kind, attr in marks:
        if kind == "soft":  # a line break: kept where the break is kept
            if not gone(start):
                result.append((moved(start), moved(start) + 1, kind, attr))
            continue
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
               "link": 3, "strong": 4, "em": 5, "del": 6, "code": 7, "soft": 8}


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


# a chat log quoted in a block quote: "> Katharine [8:27 AM]", "bentheelder [9:03]" speaker lines
_SPEAKER = re.compile(r"^[> \t]*[\w.@-]{2,40} \[\d{1,2}:\d{2}(?::\d{2})?(?: ?[AaPp]\.?[Mm]\.?)?\]", re.MULTILINE)


# a Markdown block quote, and a Word paragraph in a quotation style (a "cite" mark, drawn as plain text)
_QUOTED = ("quote", "cite")


def transcripts(text: str, marks: list[Mark] | list[list]) -> list[tuple[int, int]]:
    """The block quotes ("quote" marks) that are chat logs, two speaker lines or more: a record of
    what was said, as a log is, not the author's prose to correct. Quotes with only blank lines
    between them are one log ("> krzyzacy [1:46 PM]" and "> Katharine [4:09 PM]", one quote each).
    Without such quotes (a Word or PDF upload), a run of paragraphs that speaker lines start."""
    quotes: list[tuple[int, int]] = []
    for start, end in sorted((max(0, m[0]), min(len(text), m[1])) for m in marks if m[2] in _QUOTED):
        if quotes and start >= quotes[-1][1] and not text[quotes[-1][1]:start].strip():
            quotes[-1] = (quotes[-1][0], max(end, quotes[-1][1]))
        elif not quotes or start >= quotes[-1][1]:
            quotes.append((start, end))
    out = []
    for start, end in quotes:
        speakers = _SPEAKER.finditer(text, start, end)
        if next(speakers, None) is not None and next(speakers, None) is not None:
            out.append((start, end))
    return out or _chat_paragraphs(text)


# a Word or PDF copy of a chat has no quote marks: its paragraphs start "Katharine [8:27 AM]"
_SPEAKER_PARAGRAPH = re.compile(r"(?:^|\n\n)[\w.@-]{2,40} \[\d{1,2}:\d{2}(?::\d{2})? ?[AaPp]\.?[Mm]\.?\]")
_CHAT_MESSAGES = 3


def _chat_paragraphs(text: str) -> list[tuple[int, int]]:
    """A run of paragraphs that a chat's speaker lines start, three or more, in 12-hour time (as
    chats copy: "Katharine [8:27 AM]"; a timeline's "[09:12] @Katharine merges" is not one), and at
    least a third of the paragraphs from the first to the last: the span of them."""
    starts = [m.start() + (2 if text.startswith("\n\n", m.start()) else 0) for m in _SPEAKER_PARAGRAPH.finditer(text)]
    if len(starts) < _CHAT_MESSAGES:
        return []
    end = text.find("\n\n", starts[-1])
    end = len(text) if end < 0 else end
    if 3 * len(starts) < text.count("\n\n", starts[0], end) + 1:
        return []
    return [(starts[0], end)]


def as_read(text: str, marks: list[Mark] | list[list], *, code: bool = True, chat: bool = True,
            quotes: bool = True) -> str:
    """The text as a reader reads it: each soft line break (a "soft" mark: the source's line
    wrap inside a paragraph) a space; with ``code=False``, a code block's characters (a "pre"
    mark: logs, commands, configuration) blanked to spaces, line breaks kept, for rules that
    read prose and timelines; with ``chat=False``, a quoted chat log's (`transcripts`) too; with
    ``quotes=False``, every block quote's and chat log's (someone's words, quoted as written). The
    same length as `text`, so an offset into one is an offset into the other, and a quote found
    in one is the same characters of the other."""
    soft = [m[0] for m in marks if m[2] == "soft" and m[1] == m[0] + 1 and 0 <= m[0] < len(text) and text[m[0]] == "\n"]
    blank = [] if code else [(max(0, m[0]), min(len(text), m[1])) for m in marks if m[2] == "pre"]
    blank += [] if chat and quotes else transcripts(text, marks)
    blank += [] if quotes else [(max(0, m[0]), min(len(text), m[1])) for m in marks if m[2] in _QUOTED]
    if not soft and not blank:
        return text
    chars = list(text)
    for at in soft:
        chars[at] = " "
    for start, end in blank:
        chars[start:end] = ["\n" if c == "\n" else " " for c in chars[start:end]]
    return "".join(chars)


def as_written(text: str, read: str, quote: str | None) -> str | None:
    """A quote taken from `read` (`as_read(text, ...)`), as it stands in `text`: the same
    characters, with the author's line breaks (unchanged when it is not found in `read`)."""
    if not quote or read is text:
        return quote
    at = read.find(quote)
    return quote if at < 0 else text[at:at + len(quote)]
