"""reStructuredText (.rst) and AsciiDoc (.adoc) uploads, read as the Markdown they resemble.

Projects keep their incident notes in their docs' markup (Python's wiki compromise report in .rst,
Jenkins' infrastructure posts in .adoc). Both are line-based like Markdown: each line that means
something Markdown writes differently is rewritten ("Title" over "=====" -> "# Title", "== Timeline"
-> "## Timeline", a "----" listing block -> a fenced code block, "`text <url>`_" and "link:url[text]"
-> "[text](url)"), and markdown.py parses the rest as it parses a .md. One pass over the lines;
each inline pattern is bounded, so the work is linear in the upload.
"""

from __future__ import annotations

import re

# a section title's underline (or overline): one punctuation character repeated ("=====", "-----", "~~~~")
_ADORNMENT = re.compile(r"([=\-`:'\"~^_*+#<>])\1{2,}[ \t]*")
# "`the report <https://example.org/r>`_" -> "[the report](https://example.org/r)"
_RST_LINK = re.compile(r"`([^`<>\n]{1,300}?)\s*<([^<>`\s]{1,500})>`__?")
# ":doc:`incident`", ":ref:`timeline`": a role's text, as code
_RST_ROLE = re.compile(r":[\w-]{1,30}:`([^`\n]{1,300})`")
# ".. _timeline:", ".. |name| image:: x": a link target or a substitution, not text
_RST_TARGET = re.compile(r"\.\. (?:_[^:\n]{1,200}:|\|[^|\n]{1,100}\|)")


# ".. post:: 2013-01-07" (ablog's) or ".. meta::" and their ":tags: ..." options: the post's settings
_RST_SETTINGS = re.compile(r"\.\. (?:post|meta)::[ \t]*(\S[^\n]{0,100})?")
_RST_OPTION = re.compile(r"[ \t]*:[\w -]{1,40}:(?:[ \t][^\n]*)?")


def rst_to_markdown(text: str) -> tuple[str, str | None]:
    """Section titles become ATX headings, their level by the order their adornment styles first
    appear (as docutils reads them); links and roles become Markdown's; targets are dropped, and a
    blog post's settings (".. post:: 2013-01-07", with its options) give its day instead of text.
    Returns the Markdown and that day, as written."""
    lines = text.split("\n")
    styles: list[tuple[str, bool]] = []  # (character, overlined) in order of first use
    out: list[str] = []
    day: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if (settings := _RST_SETTINGS.fullmatch(line)) is not None:
            day = day or settings.group(1)  # as written: sections.py reads the day in it
            i += 1
            while i < len(lines) and _RST_OPTION.fullmatch(lines[i]):
                i += 1
            continue
        over = _ADORNMENT.fullmatch(line)
        # "=====" / "Title" / "=====": an overlined title
        if over and i + 2 < len(lines) and _is_title(lines[i + 1]) and _ADORNMENT.fullmatch(lines[i + 2]) \
                and lines[i + 2].strip()[0] == line.strip()[0]:
            out.append(_heading(styles, line.strip()[0], True, lines[i + 1].strip()))
            i += 3
            continue
        # "Title" / "=====": an underlined one, the underline as long as the title (or nearly)
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        under = _ADORNMENT.fullmatch(nxt)
        if under and _is_title(line) and len(nxt.strip()) >= min(len(line.strip()), 3) \
                and not (out and out[-1].strip() and not out[-1].startswith("#")):
            out.append(_heading(styles, nxt.strip()[0], False, line.strip()))
            i += 2
            continue
        if _RST_TARGET.match(line):
            i += 1
            continue
        out.append(_RST_ROLE.sub(r"`\1`", _RST_LINK.sub(r"[\1](\2)", line)))
        i += 1
    return "\n".join(out), day


def _is_title(line: str) -> bool:
    return bool(line.strip()) and not line[:1].isspace() and _ADORNMENT.fullmatch(line) is None and len(line) <= 200


def _heading(styles: list[tuple[str, bool]], char: str, overlined: bool, title: str) -> str:
    if (char, overlined) not in styles:
        styles.append((char, overlined))
    level = min(styles.index((char, overlined)) + 1, 6)
    return f"\n{'#' * level} {title}\n"


# "== Timeline" (AsciiDoc's section titles, "=" for the document's own), "=== Timeline ===" too
_ADOC_HEADING = re.compile(r"(={1,6})[ \t]+(\S[^\n]{0,300}?)(?:[ \t]+=+)?[ \t]*")
# "link:https://x[the report]", "https://x[the report]": a link with its text
_ADOC_LINK = re.compile(r"(?:link:)?((?:https?|mailto):[^\s\[\]]{1,500})\[([^\]\n]{1,300})\]")
# a delimited block: "----" listing and "...." literal are code; "****" sidebar and "====" example
# blocks only frame their text
_ADOC_CODE_FENCE = re.compile(r"(-{4,}|\.{4,})[ \t]*")
_ADOC_FRAME = re.compile(r"(\*{4,}|={4,}|_{4,})[ \t]*")
_ADOC_ATTRIBUTE_LINE = re.compile(r"\[[^\]\n]{0,200}\][ \t]*")  # "[source,shell]", "[NOTE]": a block's settings
_ADOC_ORDERED = re.compile(r"([ \t]*)\.{1,5}[ \t]+(?=\S)")  # ". First step" -> "1. First step"


def adoc_to_markdown(text: str) -> str:
    """Section titles become ATX headings; listing and literal blocks become fenced code; block
    settings and frames are dropped; ordered items, links and "+" line continuations become Markdown's."""
    out: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        if fence is not None:
            if line.rstrip() == fence:
                out.append("```")
                fence = None
            else:
                out.append(line)
            continue
        if (code := _ADOC_CODE_FENCE.fullmatch(line)) is not None:
            fence = code.group(1)
            out.append("```")
            continue
        if _ADOC_FRAME.fullmatch(line) or _ADOC_ATTRIBUTE_LINE.fullmatch(line):
            out.append("")
            continue
        if (heading := _ADOC_HEADING.fullmatch(line)) is not None:
            out += ["", "#" * len(heading.group(1)) + " " + heading.group(2), ""]
            continue
        if line.rstrip() == "+":
            out.append("")  # a list item's continuation: a paragraph of the item
            continue
        if (ordered := _ADOC_ORDERED.match(line)) is not None:
            line = ordered.group(1) + "1. " + line[ordered.end():]
        out.append(_ADOC_LINK.sub(r"[\2](\1)", line))
    if fence is not None:
        out.append("```")
    return "\n".join(out)
