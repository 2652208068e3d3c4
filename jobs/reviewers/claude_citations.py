"""A chat answer's citations, mapped to exact passages of the document's sections.

The chat sends each section as a citable document; the API cites a character range and the text
it holds. The page shows a citation only where it can point to it in the section.
"""

from __future__ import annotations

from typing import Any

from redline.jobs.models import Citation
from redline.jobs.reviewers.claude_quotes import QuoteFinder


def map_citations(raw: list[Any], ids: list[str], texts: dict[str, str]) -> list[Citation]:
    """The API's citations as (section, character range) whose `text` is exactly that slice.

    Document i of the request is section ids[i]. A char_location whose range does not hold
    its cited text is looked up by the text instead; what cannot be mapped is left out (the
    page shows no quote it cannot point to)."""
    out: list[Citation] = []
    seen: set[tuple[str, int, int]] = set()
    for c in raw:
        doc = getattr(c, "document_index", None)
        cited = getattr(c, "cited_text", None) or ""
        if not isinstance(doc, int) or not 0 <= doc < len(ids) or not cited.strip():
            continue
        sid = ids[doc]
        text = texts.get(sid, "")
        start, end = getattr(c, "start_char_index", None), getattr(c, "end_char_index", None)
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)
                and text[start:end] == cited):
            found = QuoteFinder(text).find(cited)
            if found is None:
                continue
            start = text.find(found)
            end = start + len(found)
        if (sid, start, end) not in seen:
            seen.add((sid, start, end))
            out.append(Citation(section_id=sid, start=start, end=end, text=text[start:end]))
    return out
