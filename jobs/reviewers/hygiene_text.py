"""What the hygiene rules share: how many findings a rule may make, and which lines are prose.

A copy-editor's rules must not fire on code, commands, queries, tables or log lines, so the
spelling, doubled-word, placeholder and clock-time rules ask `_prose_line` first.
"""

from __future__ import annotations

import re


MAX_PER_RULE = 12  # per rule and section: enough to make the point, and bounds the work on hostile text


def _prose_line(line: str) -> bool:
    """A line of prose (not code, a command, a table or a log line)."""
    s = line.strip()
    if not s:
        return False
    low = s.lower()
    if low.startswith(("select ", "kubectl ", "curl ", "grep ", "$ ", ">>> ", "import ", "def ", "print(", "cmd ",
                       "resource.")):
        return False
    if low.startswith(("from ", "where ", "and ", "join ", "on ", "order by", "for ", "if ")) and \
            not low.startswith(("for example", "for the", "for a", "for an", "if the", "if a", "if you", "if we",
                                "from the", "from a", "and the", "on the", "on a")) and _code_signs(s):
        return False  # a query's or a loop's line; "from security scanners, and the" (a wrapped line) is prose
    if s.count("|") >= 2 or s.count("=") >= 2 or s.count("{") + s.count("}") >= 2 or s.count("(") >= 3:
        return False
    s = _LEADING_STAMP.sub("", s, count=1) or s  # "2025-04-14 17:02 UTC PyPI acknowledges ..." is prose
    letters = sum(ch.isalpha() or ch == " " for ch in s)
    return letters >= 0.8 * len(s)


# A timeline entry's date and time at the start of a line (a Markdown entry whose text was wrapped
# onto the next source line reads as one line): "2025-04-14 17:02 UTC", "[13:20]", "07:28 -".
_LEADING_STAMP = re.compile(r"^[-*•]?\s*\[?\d[\d\-/:.T ]*\]?\s*(?:UTC|GMT|Z|[A-Z]{2,4})?\s*[-–—:]?\s+")


CODE_SIGNS = re.compile(r"[=<>(){}\[\];:_`'\"]|\w\.\w")


def _code_signs(line: str) -> bool:
    """A line that starts like a query or a loop and reads like one: an operator, a bracket, a
    quote, a dotted or snake_case name, or three words at most ("from users u")."""
    return CODE_SIGNS.search(line) is not None or len(line.split()) <= 3
