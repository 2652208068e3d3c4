"""Finding an item's quote in a paragraph's text: exact first, then with whitespace runs
collapsed and typographic variants folded (an LLM quote may not reproduce curly quotes or
dashes exactly). The folding is 1:1, so a match maps back to offsets in the original text."""

from __future__ import annotations

# Typographic variants an LLM quote may not reproduce exactly (1:1 so offsets still map).
_FOLD = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
                       "\u2013": "-", "\u2014": "-", "\u2011": "-"})


def find_quote(text: str, quote: str) -> tuple[int, int] | None:
    """[start, end) of the quote in text: exact first, then whitespace/typography-normalised."""
    at = text.find(quote)
    if at >= 0:
        return at, at + len(quote)
    folded, index = _normalise_with_map(text)
    wanted = normalise(quote)
    if not wanted:
        return None
    at = folded.find(wanted)
    if at < 0:
        return None
    return index[at], index[at + len(wanted) - 1] + 1


def normalise(text: str) -> str:
    return " ".join(text.translate(_FOLD).split())


def _normalise_with_map(text: str) -> tuple[str, list[int]]:
    """Collapse whitespace runs to one space; index[i] is the source offset of char i."""
    chars: list[str] = []
    index: list[int] = []
    for i, ch in enumerate(text.translate(_FOLD)):
        if ch.isspace():
            if not chars or chars[-1] == " ":
                continue
            ch = " "
        chars.append(ch)
        index.append(i)
    return "".join(chars), index
