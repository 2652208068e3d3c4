"""Markdown outlines as a reviewer reads them (``_fold_outline``, called by sections.py for .md
only): a timeline's dated or numbered sub-headings, and headings over nothing but sub-headings,
become "h" lines of their parent's text."""

from __future__ import annotations

import re

from .blocks import _Block
from .headings import _MONTH


# ---- outline: timelines of dated sub-headings, and headings over only sub-headings

_ENTRY_HEADING = re.compile(
    rf"^(?:\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}}\b|\d{{1,4}}[-/]\d{{1,2}}\b|\d{{1,2}}[:h]\d{{2}}\b|{_MONTH}\s*\d{{1,2}}\b"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+\d"
    r"|(?:day|step|phase|stage|week|hour|update|entry|event|t)\s*[+-]?\s*\d{1,4}\b|#?\d{1,3}[.)]?$"
    r"|[tT]\s*[+-]\s*\d)",
    re.IGNORECASE,
)


def _is_entry_heading(title: str) -> bool:
    """A short dated or numbered heading: '2018-03-13 07:28', '07:33', 'Day 2', 'Step 3', '4.'."""
    title = title.strip()
    return len(title) <= 80 and len(title.split()) <= 10 and _ENTRY_HEADING.match(title) is not None


def _fold_outline(blocks: list[_Block], *, marked: bool = True, containers: bool = True) -> list[_Block]:
    """Markdown outlines as a reviewer reads them (the headings become "h" lines of the text):

    - a run of short dated or numbered sub-headings (a timeline's entries) is part of its
      parent's section, which is reviewed as one;
    - a heading whose body is only sub-headings (``## Analysis`` right over ``### Root cause``)
      is not a section of its own to review: it takes in its first sub-heading as a heading line
      of its text, so no section is left empty. (Not for the document's title heading.)"""
    demote = [False] * len(blocks)
    headings = [i for i, b in enumerate(blocks) if b.heading]
    for position, i in enumerate(headings):
        parent = blocks[i]
        if demote[i]:
            continue
        below = []
        for j in headings[position + 1 :]:
            if blocks[j].level <= parent.level:
                break
            below.append(j)
        if len(below) < 2:
            continue
        top = min(blocks[j].level for j in below)
        if all(blocks[j].level == top and _is_entry_heading(blocks[j].text) for j in below):
            for j in below:
                demote[j] = True
    for position, i in enumerate(headings if containers else ()):
        block = blocks[i]
        if demote[i] or block.is_title:
            continue
        j = i + 1
        while j < len(blocks) and blocks[j].heading and not demote[j] and blocks[j].level > block.level:
            demote[j] = True  # "## A" over "### A.1" over "#### A.1.a": A takes them in
            j += 1
    out = []
    for block, folded in zip(blocks, demote):
        if folded:  # a heading line of the text: marked as one in Markdown, a plain line elsewhere
            out.append(_Block(block.text, marks=[(0, len(block.text), "h", str(block.level))] if marked else []))
        else:
            out.append(block)
    return out
