"""Where a .md is parsed: front matter, then the outline (ATX and setext headings from
markdown-it-py's block parser, and a known section name alone on its line) split into heading
blocks, with the lines between two headings rendered to text and marks by markdown_render.py.
Markdown outlines are folded as a reviewer reads them in outline.py."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any

from .blocks import _Block, _Draft, _heading
from .cleaning import _SPACES, _decode_text, _normalise, _tidy_line
from .errors import _check_raw_chars
from .headings import _is_known_heading, _numbering_level
from .lightmarkup import adoc_to_markdown, rst_to_markdown
from .markdown_render import _MD_SPECIAL, _md_render, _md_render_inline_only
from .model import MAX_TITLE_CHARS, ParseLimits


def _parse_markdown(name: str, data: bytes, max_bytes: int, limits: "ParseLimits") -> _Draft:
    text = _normalise(_decode_text(name, "md", data))
    _check_raw_chars(name, text, limits)
    ext, settings_day = name.rsplit(".", 1)[-1].lower(), None
    if ext in ("rst", "rest"):
        text, settings_day = rst_to_markdown(text)
    elif ext in ("adoc", "asciidoc"):
        text = adoc_to_markdown(text)
    lines = text.split("\n")
    front = _front_matter(lines)
    return _Draft(blocks=_markdown_blocks(lines[front.start:]), meta_title=front.title,
                  meta_date=front.date or settings_day)


@dataclass
class _FrontMatter:
    title: str | None = None
    date: str | None = None  # the day the post gives itself, as written ("2025-07-28T10:00:00Z", "May 2, 2024")
    start: int = 0  # the body's first line


# the front matter's closing lines, by its opening one: YAML (Jekyll, Hugo) or TOML (Hugo, Zola)
_FRONT_ENDS = {"---": ("---", "..."), "+++": ("+++",)}
# "title: ...", "title = ..." (a TOML table's own "title" is not the post's: it is read before any "[table]")
_FRONT_FIELD = re.compile(r"^([A-Za-z_][\w-]*)\s*[:=]\s*(.*)$")
# the fields a post's date is kept in, by the generators that write them (Jekyll, Hugo, WordPress exports)
_DATE_FIELDS = ("date", "post_date", "publishdate", "pubdate", "published_at", "published", "created")
_YEAR = re.compile(r"\d{4}")  # a field that holds a day ("date: TBD" does not); sections.py reads it


def _front_matter(lines: list[str]) -> _FrontMatter:
    """Front matter at the very top (YAML between ``---`` lines, TOML between ``+++`` lines): its
    title and date, and where the body starts. Not shown as text: it is the post's settings."""
    ends = _FRONT_ENDS.get(lines[0].strip()) if lines else None
    if ends is None:
        return _pelican_metadata(lines)
    first = next((line for line in lines[1:200] if line.strip()), "")
    if lines[0].strip() == "---" and _FRONT_FIELD.match(first) is None:
        return _FrontMatter()  # "---" then "# Incident Report": a thematic break over the text, not front matter
    for end in range(1, min(len(lines), 200)):
        if lines[end].strip() in ends:
            fields: dict[str, str] = {}
            for line in lines[1:end]:
                if line.startswith("["):
                    break  # a TOML table ("[taxonomies]", "[extra]"): not the post's own fields
                match = _FRONT_FIELD.match(line)
                if match:
                    fields.setdefault(match.group(1).lower(), match.group(2).strip())
            if not fields:
                return _FrontMatter()
            title = (fields.get("title") or fields.get("post_title") or "").strip("'\"") or None
            date = next((fields[key] for key in _DATE_FIELDS if _YEAR.search(fields.get(key, ""))), None)
            return _FrontMatter(title=title, date=date, start=end + 1)
    return _FrontMatter()


# Pelican's (and MultiMarkdown's) metadata: "Title: ..." on the first line, then "Key: value" lines up to
# the first blank one; read so only with a key no write-up's own fields have ("Slug:", "Tags:", ...)
_PELICAN_KEYS = frozenset({"slug", "tags", "category", "template", "save_as", "url", "lang", "modified"})


def _pelican_metadata(lines: list[str]) -> _FrontMatter:
    """A Pelican post's metadata block ("Title: Post Mortem ...", "Slug: ...", "Date: 2019-11-17
    11:58:00", "Tags: ..."): the post's title and date, not a "Preamble" section of its text."""
    fields: dict[str, str] = {}
    for end, line in enumerate(lines[:40]):
        if not line.strip():
            break
        match = _FRONT_FIELD.match(line)
        if match is None or (end == 0 and match.group(1).lower() != "title"):
            return _FrontMatter()
        fields.setdefault(match.group(1).lower(), match.group(2).strip())
    else:
        return _FrontMatter()
    if not _PELICAN_KEYS & set(fields):
        return _FrontMatter()
    date = next((fields[key] for key in _DATE_FIELDS if _YEAR.search(fields.get(key, ""))), None)
    return _FrontMatter(title=fields.get("title") or None, date=date, start=end + 1)


_MARKDOWN: Any = None


def _markdown_parser() -> Any:
    """markdown-it-py (CommonMark), block rules only, for the outline: headings, fences, code,
    breaks, link reference definitions. Its block parser is linear in the input (the former
    hand-written ATX regex backtracked quadratically: '# a' + 40,000 spaces + 'x' took 15 s)."""
    global _MARKDOWN
    if _MARKDOWN is None:
        from markdown_it import MarkdownIt

        _MARKDOWN = MarkdownIt("commonmark").disable(["inline", "text_join"], ignoreInvalid=True)
    return _MARKDOWN


@dataclass
class _MdLine:
    """What markdown-it says a source line is."""

    kind: str = "text"  # "text" | "heading" | "skip" (a setext underline, a thematic break) | "code"
    # | "prose" (a heading too long to be one: `title` holds its words) | "rows" (an HTML table's rows, in `title`)
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
        elif token.type == "html_block":
            rows = _html_table_rows(token.content) if _TABLE_TAG.search(token.content) else None
            if rows is not None:  # a table written in HTML (pandoc's, a template's): its rows, as a table reads
                for line in range(first, min(last, len(lines))):
                    kinds[line].kind = "skip"
                kinds[first] = _MdLine("rows", "\n\n".join(rows))
                continue
            for line in range(first, min(last, len(lines))):
                if title := _html_heading(lines[line]):
                    kinds[line] = _MdLine("heading", title[1], title[0])
        elif token.type == "heading_open":
            content = tokens[index + 1].content if index + 1 < len(tokens) else ""
            level = int(token.tag[1:]) if token.tag[1:].isdigit() else 1
            if token.markup in ("=", "-"):  # setext: the underline is the last line of the heading
                kinds[last - 1].kind = "skip"
                title_line = last - 2  # the line above the underline; earlier lines stay text
                content = lines[title_line]
                kinds[title_line] = _MdLine("heading", _md_plain_title(content, env), level)
            elif len(words := _SPACES.sub(" ", content).strip()) > MAX_TITLE_CHARS:
                kinds[first] = _MdLine("prose", words)  # a paragraph typed after "####": its words, whole, as text
            else:
                kinds[first] = _MdLine("heading", _md_plain_title(content, env), level)
                kinds[first].kind = "heading" if kinds[first].title else "skip"  # a bare "#"
    return kinds


def _markdown_blocks(lines: list[str]) -> list[_Block]:
    """Headings (ATX, setext, and a known section name alone after a blank line, e.g.
    "**Root Cause**"); the lines between two headings are one block, rendered by markdown-it to
    plain text plus marks (see the model in marks.py)."""
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
    kinds = _markdown_line_kinds(lines, env)
    for index, (raw, kind) in enumerate(zip(lines, kinds)):
        blank = not raw.strip()
        if kind.kind == "heading":
            flush()
            blocks.append(_heading(kind.title, kind.level))
        elif kind.kind == "skip":
            segment.append("")  # a break between blocks (a setext underline, a thematic break)
        elif kind.kind in ("prose", "rows"):
            segment += ["", kind.title, ""]
        elif kind.kind != "code" and not blank and _named_line(lines, kinds, index, previous_blank):
            flush()
            title = _unwrap_emphasis(raw)
            blocks.append(_heading(title, _numbering_level(title)))
        else:
            segment.append(raw)
        previous_blank = blank and kind.kind != "code"
    flush()
    return blocks


def _named_line(lines: list[str], kinds: list[_MdLine], index: int, previous_blank: bool) -> bool:
    """A known section name alone on its line ("Root Cause", "**Timeline:**") is a heading after
    a blank line, and also straight under a paragraph's line: a write-up typed as plain lines
    into a .md ("Issue Summary" / "On June 9th ..." / "Timeline" / "10:05 AM ...") is one
    Markdown paragraph, but its author wrote sections. Not so for a numbered or bulleted line
    there (a list's item, or the line after a quote's or a table's, which Markdown reads as
    theirs), nor for one of several names in a row (a list of contents)."""
    name = _unwrap_emphasis(lines[index])
    if not _is_known_heading(name):
        return False
    if previous_blank:
        return True
    above, below = lines[index - 1].strip(), lines[index + 1].strip() if index + 1 < len(lines) else ""
    return (
        _LIST_LINE.match(name) is None
        and _LIST_LINE.match(above) is None
        and kinds[index - 1].kind == "text"
        and not (below and _is_known_heading(_unwrap_emphasis(below)))
    )


# a list item's line ("- x", "* x", "+ x", "1. x", "1) x", "a) x"), a quote's or a table row's
_LIST_LINE = re.compile(r"^(?:[-*+]\s|\d{1,3}[.)]\s|[a-z][.)]\s|[>|])", re.IGNORECASE)


# a line that is one HTML heading ('<h2 align="center">Issue Summary</h2>'), as a README often
# centres its title and sections; the opening tag's attributes and the words are bounded
_HTML_HEADING = re.compile(r"\s{0,3}<h([1-6])(?:\s[^<>]{0,300})?>(.{1,400}?)</h\1\s*>\s*", re.IGNORECASE)
_ANY_TAG = re.compile(r"<[^<>]{0,500}>")  # a tag, its attributes bounded: dropped from a heading's or a cell's words


def _html_heading(line: str) -> tuple[int, str] | None:
    """(level, words) of a line that is one HTML heading element and nothing else; its inner
    tags ("<b>", "<a href>") dropped and its entities ("&amp;") read. Raw HTML that only shapes
    text stays shown as written (see markdown_render.py): a heading is structure, not styling."""
    if len(line) > 1000 or (match := _HTML_HEADING.fullmatch(line)) is None:
        return None
    words = _tidy_line(_SPACES.sub(" ", html.unescape(_ANY_TAG.sub("", match.group(2)))))
    return (int(match.group(1)), words[:MAX_TITLE_CHARS]) if words else None


_TABLE_TAG = re.compile(r"<(?:table|tr)\b", re.IGNORECASE)
_MAX_TABLE_ROWS = 2000


# a table's structural tags; the others (<strong>, <a href>, <span>) are dropped from the cells' words.
# Each tag's attributes are bounded, so the scan is linear (html.parser took 97 s on 400 KB of "<!--").
_CELL_TAG = re.compile(r"<(/?)(tr|td|th|br)\b[^<>]{0,500}>", re.IGNORECASE)


def _html_table_rows(content: str) -> list[str] | None:
    """An HTML block that is a table (or a part of one): its rows as text, each as its cells' words
    ("2:30 | Pete paged SRE", as a Word table's rows read; a row of blank cells is none), or None
    when it holds words outside any cell (then it is shown as written, as any other raw HTML is)."""
    rows: list[list[str]] = []
    cell: list[str] | None = None
    at = 0
    for m in _CELL_TAG.finditer(content):
        between = content[at:m.start()]
        at = m.end()
        if cell is not None:
            cell.append(between)
        elif _ANY_TAG.sub("", between).strip():
            return None  # words outside any cell
        closing, tag = m.group(1), m.group(2).lower()
        if tag == "tr" and not closing:
            if len(rows) >= _MAX_TABLE_ROWS:
                return None  # a table this long is shown as written: none of it is lost
            rows.append([])
        elif tag in ("td", "th") and not closing and rows:
            cell = []
        elif tag == "br" and cell is not None:
            cell.append(" ")
        elif tag in ("td", "th") and closing and cell is not None:
            words = html.unescape(_ANY_TAG.sub("", "".join(cell)))
            rows[-1].append(_tidy_line(" ".join(words.split())))
            cell = None
    if cell is not None or _ANY_TAG.sub("", content[at:]).strip():
        return None
    return [" | ".join(row) for row in rows if any(row)]  # as a Word table's rows read: "Fix it | "


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
