"""Structure rules: which standard parts the whole write-up lacks (on its first section), and what
a summary must say (the outcome, when it happened, in few words).

They fit a safety or workplace investigation; on software and security post-mortems they were
mostly noise (see `offline._SOFTWARE_CHECKS`), so they run on the "general" kind only.
"""

from __future__ import annotations

from collections.abc import Iterator

from redline.jobs.models import Finding
from redline.jobs.reviewers.offline_text import (
    _ANALYSIS_TITLE, _DATE, LONG_SUMMARY_WORDS, Role, _make, _rx, _Section, detect_role, formal_report, word_count,
)


_OUTCOME = _rx(
    r"conclu\w*", r"found", r"findings?", r"root\s+cause", r"caused\s+by", r"result(?:ed)?\s+in",
    r"outcome", r"determin\w*", r"establish\w*", r"(?:un)?substantiated", r"upheld", r"confirmed",
    r"recommend\w*", r"actions?", r"resolved", r"restored", r"closed", r"because", r"due\s+to",
)


_OUTLINE_EXPECTATIONS: tuple[tuple[Role, str, str, str, tuple[str, ...]], ...] = (
    # role, what it is, type, risk, refs. A missing part is important, but not high risk: nothing in
    # the write-up misleads the reader about cause, impact or accountability (a personal flight report
    # with no "Root cause" heading, a researcher's essay on an explosion).
    ("timeline", "a dated timeline", "suggestion", "medium", ("C5",)),
    ("root_cause", "a root cause analysis", "important", "medium", ("C9", "C10")),
    ("actions", "corrective and preventive actions", "important", "medium", ("C12", "C13")),
    ("impact", "an impact assessment", "suggestion", "low", ("C11",)),
)


def check_outline(sec: _Section) -> Iterator[Finding]:
    """On the first section only: which standard parts does the whole write-up lack?"""
    if sec.index != 0 or len(sec.outline) < 2:
        return
    roles = [detect_role(title) for title in sec.outline]
    for role, what, type_, risk, refs in _OUTLINE_EXPECTATIONS:
        if role in roles or (role == "root_cause" and any(_ANALYSIS_TITLE.search(t) for t in sec.outline)):
            continue  # a formal report's "Analysis" chapter is its causal analysis (NTSB, MAIB, TAIC, ATSB)
        if role == "impact" and formal_report(sec.outline):
            continue  # its consequences (injuries, damage) are in its factual information
        yield _make(
            type_,  # type: ignore[arg-type]
            risk,  # type: ignore[arg-type]
            "Structure",
            f"The write-up has no section for {what} (none of its {len(sec.outline)} section titles "
            "looks like one).",
            f"Add a section with {what}, or rename the section that already covers it so readers "
            "can find it.",
            questions=(f"Where does the write-up give {what}?",),
            refs=refs,
            confidence=0.6,
        )


def check_summary(sec: _Section) -> Iterator[Finding]:
    if not _OUTCOME.search(sec.text):
        yield _make(
            "important",
            "medium",
            "Structure",
            "The summary describes the event but not the outcome: no conclusion, root cause or "
            "actions are stated.",
            "End the summary with what the investigation concluded (what caused it, or whether the "
            "concern raised was borne out) and the key actions.",
            questions=("What did the investigation conclude?", "What are the main actions?"),
            refs=("C9", "C12"),
            confidence=0.65,
        )
    words = word_count(sec.text)
    if words > LONG_SUMMARY_WORDS:
        yield _make(
            "suggestion",
            "low",
            "Structure",
            f"The summary is {words} words long; a reader looking for the outcome has to dig.",
            f"Keep the summary under about {LONG_SUMMARY_WORDS} words: what happened, when, the "
            "impact, the root cause and the key actions.",
            questions=("Could a manager act on the summary alone?",),
            refs=("C20",),
            confidence=0.6,
        )
    if not _DATE.search(sec.text):
        yield _make(
            "suggestion",
            "low",
            "Timeline",
            "The summary does not say when the event happened.",
            "Give the date (and time, if relevant) of the event in the first sentence.",
            questions=("When did the event happen and when was it detected?",),
            refs=("C1", "C5"),
            confidence=0.5,
        )
