"""The organisation's own guidelines: a "must"/"shall" line that names this section (by its title
or role) and whose key terms the section mostly lacks. Conservative on purpose: at most two per
section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding
from redline.jobs.reviewers.offline_text import _make, _Section, _stem, _terms, _clip


_MUST = re.compile(r"\b(?:must|shall)\b", re.I)
_LIST_MARKER = re.compile(r"[-*•]\s*|\d+[.)]\s*")
_GENERIC_TERMS = frozenset(
    _stem(word)
    for word in "must shall should include included includes contain contains state stated provide provided "
    "describe described document documented report reports write writeup section sections "
    "investigation investigations every each all any clearly clear always have has given give "
    "list listed record recorded use used also least well".split()
)


def _guideline_rules(guidelines: str) -> list[str]:
    """The "must"/"shall" lines, without their list markers (plain string code: the former
    `^\\s*(marker)?(.*must.*?)\\s*$` backtracked quadratically on long lines of spaces)."""
    rules = []
    for line in guidelines.splitlines():
        line = line.strip()
        marker = _LIST_MARKER.match(line)
        rule = line[marker.end():] if marker else line
        if _MUST.search(rule):
            rules.append(rule)
    return rules


def check_guidelines(sec: _Section) -> Iterator[Finding]:
    """Conservative: only "must"/"shall" lines that name this section, with most key terms absent."""
    if not sec.guidelines:
        return
    title_terms = set(_terms(sec.title)) - _GENERIC_TERMS
    role_term = _stem(sec.role.split("_")[0])
    section_terms = set(_terms(sec.text))
    reported = 0
    for rule in _guideline_rules(sec.guidelines):
        terms = [t for t in _terms(rule) if t not in _GENERIC_TERMS]
        if not (title_terms & set(terms) or role_term in terms):
            continue
        key = [t for t in dict.fromkeys(terms) if t not in title_terms and t != role_term]
        if not key:
            continue
        present = sum(1 for t in key if t in section_terms)
        if present * 2 >= len(key):
            continue
        yield _make(
            "suggestion",
            "medium",
            "Compliance",
            f'The guidelines say: "{_clip(rule.strip())}" This section does not appear to address it.',
            "Check the section against this guideline and add what it requires, or note why it "
            "does not apply.",
            questions=("Does this section meet the guideline, and where?",),
            refs=("C17",),
            confidence=0.5,
        )
        reported += 1
        if reported >= 2:
            return
