"""What the hygiene rules share: how many findings a rule may make, and which lines are prose.

A copy-editor's rules must not fire on code, commands, queries, tables or log lines, so the
spelling, doubled-word, placeholder and clock-time rules ask `_prose_line` first.
"""

from __future__ import annotations


MAX_PER_RULE = 12  # per rule and section: enough to make the point, and bounds the work on hostile text


def _prose_line(line: str) -> bool:
    """A line of prose (not code, a command, a table or a log line)."""
    s = line.strip()
    if not s:
        return False
    low = s.lower()
    if low.startswith(("select ", "from ", "where ", "and ", "join ", "on ", "order by", "kubectl ", "curl ", "grep ",
                       "$ ", "# ", ">>> ", "import ", "def ", "for ", "if ", "print(", "cmd ", "resource.")) and \
            not low.startswith(("for example", "for the", "for a", "for an", "if the", "if a", "if you", "if we",
                                "from the", "from a", "and the", "on the", "on a", "# ")):
        return False
    if s.count("|") >= 2 or s.count("=") >= 2 or s.count("{") + s.count("}") >= 2 or s.count("(") >= 3:
        return False
    letters = sum(ch.isalpha() or ch == " " for ch in s)
    return letters >= 0.8 * len(s)
