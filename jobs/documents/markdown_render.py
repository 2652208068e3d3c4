"""Where Markdown becomes marks: the text between two headings is parsed by markdown-it-py
(CommonMark + GFM tables and strikethrough) and its tokens are rendered to the section's plain
text plus marks (``_md_render``; the model is in marks.py)."""

from __future__ import annotations

import re
from typing import Any

from .cleaning import _tidy_code_line, _tidy_line
from .headings import _DATE_LINE, _TIME_START, next_action_line
from .marks import SAFE_HREF, Mark, _compact


_MD_BR = re.compile(r"^<br\s*/?>$", re.IGNORECASE)
_MD_BR_ANY = re.compile(r"<br\s*/?>", re.IGNORECASE)

_MARKDOWN_FULL: Any = None
_LINE_HEAD = 40  # characters of a line kept to tell whether it starts a timeline entry


def _entry_break(line: str, following: str) -> bool:
    """Whether a line break inside a paragraph is the author's, not a wrap: the next line starts a
    timeline entry ("10:07 AM Error logs checked", "June 7th, 2024, 13:15 (UTC): ...") or a field
    ("Impact: 80% of users are affected.") after a line that does too, or after one that ends a
    sentence or a lead-in ("Timeline:"). A write-up typed as plain lines into a .md gives one entry
    or field a line; "sounded at\n14:05 and" is still a wrap. So are actions typed one a line
    with no marks and no full stops (`next_action_line`)."""
    following, line = following.lstrip(), line.strip().lstrip("> ")
    if next_action_line(line, following):
        return True
    if not _starts_entry(following):
        return False
    return _starts_entry(line) or line.endswith((".", "!", "?", ":"))


# what starts a line of its own in a write-up typed as plain lines: a timeline entry's time or day, a
# field ("Impact: 80% of users", "Root Cause: ..."), or a bullet typed without its space ("-Implement ...")
_FIELD = re.compile(r"[A-Z][A-Za-z/&' -]{1,30}:\s+\S|[-*\u2022]\S")


def _starts_entry(line: str) -> bool:
    return bool(_TIME_START.match(line) or _DATE_LINE.match(line) or _FIELD.match(line))


def _markdown_full() -> Any:
    """markdown-it-py (CommonMark + GFM tables and strikethrough), inline rules on: the text
    between two headings is rendered to plain text and marks with it."""
    global _MARKDOWN_FULL
    if _MARKDOWN_FULL is None:
        from markdown_it import MarkdownIt

        _MARKDOWN_FULL = MarkdownIt("commonmark").enable(["table", "strikethrough"])
        _MARKDOWN_FULL.disable(["text_join"], ignoreInvalid=True)
    return _MARKDOWN_FULL


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
            raw = [line for line in paragraph.split("\n") if line.strip()]
            lines = [_tidy_line(line) for line in raw]
            paragraph = "\n".join(lines)
            if paragraph:
                text.append(paragraph)
                marks.append((offset, offset + len(paragraph), "p", ""))
                at = offset
                for k, (line, tidy) in enumerate(zip(raw[:-1], lines)):  # soft, unless two spaces end its line
                    at += len(tidy)
                    if not line.endswith("  ") and not _entry_break(line, raw[k + 1]):
                        marks.append((at, at + 1, "soft", ""))
                    at += 1
                offset += len(paragraph) + 2
        return "\n\n".join(text), sorted(marks, key=lambda m: (m[0], -m[1]))
    renderer = _MdRenderer()
    renderer.blocks(_markdown_full().parse(source, env))
    return _compact(renderer.text(), renderer.marks)


class _MdRenderer:
    """Walks markdown-it tokens, writing the plain text and collecting marks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.length = 0
        self.line = ""  # the current line's first characters and its last one (`_entry_break` reads them)
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
            cut = text.rfind("\n")
            head = self.line[:-1] if cut < 0 else ""
            self.line = (head + text[cut + 1:])[:_LINE_HEAD] + text[-1]

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
                lines = [_tidy_code_line(line) for line in token.content.rstrip("\n").split("\n")]
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
        for k, child in enumerate(children):
            kind = child.type
            if kind == "text":
                self.write(child.content)
            elif kind in ("softbreak", "hardbreak"):
                if single_line:
                    self.write(" ")
                    continue
                start = self.length
                following = children[k + 1].content if k + 1 < len(children) and children[k + 1].type == "text" else ""
                line = self.line
                self.newline()
                if kind == "softbreak" and not _entry_break(line, following):  # a wrap: Markdown shows a space
                    self.marks.append((start, start + 1, "soft", ""))
            elif kind == "code_inline":
                start = self.length
                self.write(child.content)
                self.mark(start, "code")
            elif kind in ("strong_open", "em_open", "s_open"):
                open_marks.append((kind[:-5], self.length, ""))
            elif kind == "link_open":
                href = str(child.attrGet("href") or "")
                open_marks.append(("link", self.length, href if SAFE_HREF.match(href) else ""))
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
