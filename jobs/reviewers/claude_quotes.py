"""A model's quote, found in the section text: the page only shows (and highlights) exact passages.

The model may change whitespace, curly quotes and dashes, case, HTML entities, or wrap a quote in
quotation marks and ellipses; `QuoteFinder` undoes that and returns the section's own substring.
"""

from __future__ import annotations

import html


_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


def _normalise(text: str) -> tuple[str, list[int]]:
    """Whitespace runs -> one space, curly quotes and dashes -> plain; with each char's source index."""
    chars: list[str] = []
    where: list[int] = []
    for i, ch in enumerate(text):
        if ch.isspace():
            if chars and chars[-1] != " ":
                chars.append(" ")
                where.append(i)
            continue
        chars.append(ch.translate(_FOLD))
        where.append(i)
    if chars and chars[-1] == " ":
        chars.pop()
        where.pop()
    return "".join(chars), where


def _lower(text: str) -> str:
    """Lower case that keeps every index (a char whose lower case is longer stays as it is)."""
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


class QuoteFinder:
    """Finds a model's quote in the section text; returns the section's EXACT substring."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.norm, self.where = _normalise(text)
        self.norm_lower = _lower(self.norm)

    def find(self, quote: str | None) -> str | None:
        if not quote or not quote.strip():
            return None
        seen: set[str] = set()
        for candidate in self._candidates(quote):
            q, _ = _normalise(candidate)
            if not q or q in seen:
                continue
            seen.add(q)
            k = self.norm.find(q)
            if k < 0:
                k = self.norm_lower.find(_lower(q))
            if k >= 0:
                return self.text[self.where[k]: self.where[k + len(q) - 1] + 1]
        return None

    @staticmethod
    def _candidates(quote: str) -> list[str]:
        out = [quote, html.unescape(quote)]
        for c in list(out):
            trimmed = c.strip().strip("\"'\u201c\u201d\u2018\u2019").strip()
            for ellipsis in ("...", "\u2026"):
                trimmed = trimmed.removeprefix(ellipsis).removesuffix(ellipsis).strip()
            out.append(trimmed)
        return out
