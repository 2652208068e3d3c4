"""Headings: an empty section left from a template, and numbered headings that change style
mid-list ("1)", "2)", then "3.").
"""

from __future__ import annotations

import re

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_timeline import _title_stamp


def _empty_section(section: Section, sections: list[Section]) -> list[Finding]:
    """A heading with no text and no subsections under it: a template section left unfilled."""
    if section.text.strip():
        return []
    pos = next((i for i, s in enumerate(sections) if s.id == section.id), None)
    if pos is None:
        return []
    nxt = sections[pos + 1] if pos + 1 < len(sections) else None
    if ATTACHED.match(section.title.strip()):
        return []  # "Appendix 2: Track warrant 60 as recorded...": an attached document or image, not text
    if FILLED_FIELD.fullmatch(section.title.strip()):
        return []  # "Meeting scheduled for: Waived by @aronasorman": a field set as a heading, its value with it
    if section.title.strip().endswith("!"):
        return []  # "Stay Safe and Happy Debugging!": a sign-off set as a heading, not a section to fill
    if nxt is not None:
        if nxt.level > section.level:
            return []  # a parent heading
        head = section.title.strip().split(" ")[0].rstrip(".):")
        if head and nxt.title.strip().startswith(head) and head[:1].isalnum():
            return []  # "3. Connection records" followed by "3a. Project events": a numbered parent
        if _title_stamp(nxt.title, None) is not None:
            return []  # a date heading over timeline entries
        if CONTAINER.fullmatch(section.title.strip()):
            return []  # "Additional information" over its topics: a parent whose subheadings lost their level
        if numbered_parent(section.title, nxt.title):
            return []  # "3 Analysis" over "Introduction": a numbered chapter over its unnumbered topics
    core = any(w in section.title.lower() for w in ("summary", "root cause", "impact", "resolution"))
    if pos == 0 and nxt is not None and not core:
        return []  # a document title heading
    if all(s.level == 1 for s in sections) and not core:
        return []  # heading levels unknown: only a core section, which cannot be a mere parent heading
    return [Finding(type="important", category="placeholder: empty section", risk="medium",
                    description=f"The section '{section.title}' is empty: a template heading left unfilled.",
                    suggestion="Write the section or remove the heading.", quote=None, confidence=0.6)]


_CHAPTER = re.compile(r"\d{1,3}\.?\s+[A-Za-z]")


def numbered_parent(title: str, following: str) -> bool:
    """A numbered heading right over an unnumbered one ("1 Executive summary" then "What happened",
    as a TAIC report's text reads): the chapter over its topics, whose levels the text lost."""
    return _CHAPTER.match(title.strip()) is not None and not following.strip()[:1].isdigit()


ATTACHED = re.compile(r"(?:appendix|annex|attachment|exhibit|enclosure)\b", re.IGNORECASE)
# a template's field written as a heading, with its value: "Owner: @aronasorman", "Severity: SEV-2"
FILLED_FIELD = re.compile(r"[^:\n]{2,40}:\s*\S.*")
# Headings that only hold other headings, by their nature.
CONTAINER = re.compile(r"(?:[0-9.]{1,8}\s+)?(?:additional|other|further|supporting|general)\s+(?:information|matters|details|topics)"
                       r"|general", re.IGNORECASE)


HEADING_NUMBER = re.compile(r"(\d{1,3})([.)])\s")


def _numbering_switch(section: Section, sections: list[Section]) -> list[Finding]:
    """'1) Names', '2) Addresses', then '3. Connection records': the numbered headings change
    style mid-list. Said once, on the first heading in the new style (without a quote: the heading
    is not part of the section's text)."""
    m = HEADING_NUMBER.match(section.title)
    pos = next((i for i, s in enumerate(sections) if s.id == section.id), None)
    if m is None or pos is None:
        return []
    for prev in reversed(sections[:pos]):  # the numbered heading before it ("3a." sub-numbers are skipped)
        pm = HEADING_NUMBER.match(prev.title)
        if pm is None:
            continue
        if int(pm.group(1)) + 1 != int(m.group(1)) or pm.group(2) == m.group(2):
            return []
        return [Finding(type="suggestion", category="clarity: heading numbering", risk="low",
                        description=(f"The headings are numbered '{pm.group(1)}{pm.group(2)}' then "
                                     f"'{m.group(1)}{m.group(2)}': the numbering changes style in the middle "
                                     f"of the list, at '{section.title[:60]}'."),
                        suggestion="Number the headings in one style.", quote=None, confidence=0.8)]
    return []
