"""The intermediate form every format parser produces: a ``_Draft``, a flat list of
``_Block``s (headings and text chunks) in document order, which sections.py assembles."""

from __future__ import annotations

from dataclasses import dataclass, field

from .cleaning import _tidy_line
from .model import MAX_TITLE_CHARS


@dataclass
class _Block:
    """A heading or a chunk of text (one paragraph, list or table) in document order."""

    text: str
    heading: bool = False
    level: int = 1
    is_title: bool = False  # a heading that is the document's own title
    marks: list = field(default_factory=list)  # Markdown: formatting over ``text`` (see marks.py)


@dataclass
class _Draft:
    blocks: list[_Block] = field(default_factory=list)
    meta_title: str | None = None  # from file properties / front matter; weaker than a visible title
    meta_date: str | None = None  # the day a Markdown file's front matter gives it, as written ("May 2, 2024")


def _heading(text: str, level: int = 1, *, is_title: bool = False) -> _Block:
    return _Block(_tidy_line(text)[:MAX_TITLE_CHARS], heading=True, level=max(1, level), is_title=is_title)
