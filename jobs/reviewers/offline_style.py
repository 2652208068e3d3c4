"""The document's plan for its sections' own rules: what the whole document shows about them.

Passive voice, overlong sentences, hedging, vague quantities, a section naming nobody: these read
the writing, not the facts. On real safety board reports (bench/quality corpus, tuning set) they
fired in most sections and were almost never right (1 of 12 on four TAIC reports once each rule
spoke once, and that one because its quote overlapped a problem labelled for another reason), and
the labellers named formal passive voice as fine. So the document pass
(`offline_pool.document_dicts`) makes a `plan`, and each section's analysis applies it
(`apply_plan`):

- a chapter heading whose only text is a subtitle line, over its subsections ("1 Executive
  summary" over "What happened"), is not reviewed itself: its subsections hold the content;
- in a long formal report (`offline_text.formal_report`, LONG_REPORT_SECTIONS or more) the style
  rules say nothing;
- in another long write-up each style rule speaks once, in the section where it is worst, and
  says how widespread it is; a write-up that prints its own scale of probability words ("Very
  likely: > 90 %") gets no hedging finding; empty sections are left to `hygiene_headings`, which
  knows heading levels;
- a short write-up (the invented samples in tests/) hears each note where it applies, as does a
  section reviewed on its own (`review_section`, without a plan).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import offline
from redline.jobs.reviewers.offline_text import formal_report

# The description each style rule starts with (offline_language.py, offline_evidence.py, offline.py).
STYLE_RULES = ("Passive voice", "Overlong sentence", "Hedging language", "Vague quantities",
               "Nobody is identified", "This section is empty")
EMPTY = "This section is empty"
# From this many sections on, a write-up is a long report: each style rule speaks once in it. A
# short write-up (the invented 8-section samples in tests/) hears each note where it applies.
LONG_REPORT_SECTIONS = 20
CHAPTER_SUBTITLE_CHARS = 80  # a chapter heading's own text, when it is only a subtitle line
_PLACES = re.compile(r"\bin (\d+) places?\b|\((\d+) such sentences\b")


def style_rule(finding: Finding) -> str | None:
    """Which style rule made this finding, or None for a rule about facts."""
    return next((r for r in STYLE_RULES if finding.description.startswith(r)), None)


def _places(finding: Finding) -> int:
    m = _PLACES.search(finding.description)
    return int(m.group(1) or m.group(2)) if m else 1


# A line of a probability scale: "Very likely | > 90% probability of occurrence".
_SCALE_LINE = re.compile(r"(?im)^[^\n]{0,60}\b(?:likely|unlikely|certain|probable)\b[^\n%]{0,60}\d{1,3}\s?%")


def defines_probability_terms(sections: Sequence[Section]) -> bool:
    """A report that defines its words for likelihood (three lines of a scale in one section, as
    transport safety boards print them) uses "likely" as a defined term, not as hedging."""
    return any(len(_SCALE_LINE.findall(s.text, 0, 20_000)) >= 3 for s in sections)


def plan(sections: Sequence[Section], kind: str) -> dict[str, Any]:
    """The document's plan for its sections' own rules:

    - `chapters`: chapter headings whose only text is a subtitle line ("1 Executive summary" over
      "What happened", "Why it happened", with "Tuhinga whakarāpopoto" under it): their
      subsections hold the content, so the heading itself is not reviewed as a summary;
    - `rules`: for each style rule, the section that speaks for it (the most places; the first of
      equals), with the places and sections in the whole document. None for a short write-up
      (each note where it applies); empty for a long formal report (see `formal_report`), where
      the corpus's labellers called formal passive voice and long sentences fine: 1 of 12 style
      findings on four real safety board reports was right, by an overlapping quote."""
    chapters = [s.id for s, after in zip(sections, sections[1:])
                if after.level > s.level and len(s.text) <= CHAPTER_SUBTITLE_CHARS and "\n" not in s.text.strip()]
    if len(sections) < LONG_REPORT_SECTIONS or kind == "software":  # software write-ups get no style rules
        return {"rules": None, "chapters": chapters}
    outline = [s.title for s in sections]
    totals: dict[str, dict[str, Any]] = {}
    if formal_report(tuple(outline)):
        return {"rules": totals, "chapters": chapters}
    for i, s in enumerate(sections):
        for f in offline.review_section(s.title, s.text, index=i, total=len(sections), outline=outline, kind=kind):
            rule = style_rule(f)
            if rule is None or rule == EMPTY:
                continue
            n = _places(f)
            t = totals.setdefault(rule, {"section": s.id, "most": 0, "places": 0, "sections": 0})
            t["places"] += n
            t["sections"] += 1
            if n > t["most"]:
                t["section"], t["most"] = s.id, n
    if defines_probability_terms(sections):
        totals.pop("Hedging language", None)
    return {"rules": totals, "chapters": chapters}


def apply_plan(findings: list[Finding], section_id: str, style: dict[str, Any] | None) -> list[Finding]:
    """The section's findings with the document's plan applied (unchanged without one). In a
    long report an empty section is left to the document's hygiene rules, which know heading
    levels."""
    if not style:
        return findings
    if section_id in style.get("chapters", ()):
        return []
    rules = style.get("rules")
    if rules is None:
        return findings
    out = []
    for f in findings:
        rule = style_rule(f)
        if rule is not None:
            t = rules.get(rule)
            if rule == EMPTY or t is None or t["section"] != section_id:
                continue
            if t["sections"] > 1:
                f = f.model_copy(update={"description": f"{f.description} Across the write-up: {t['places']} places "
                                                        f"in {t['sections']} sections; this section has the most."})
        out.append(f)
    return out
