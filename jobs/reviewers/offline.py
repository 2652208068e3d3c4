"""Redline's deterministic offline reviewer: what runs, in which order, on which kind of write-up.

No model and no network: rules, written as data tables of regular expressions plus the words a
reviewer would use, run over one section of an investigation or incident write-up. Each rule
family has its own module, named for what it checks:

- `offline_text.py`: blocks, sentences, section roles (from the title), shared vocabularies;
- `offline_structure.py`: missing standard parts of the write-up, what a summary must say;
- `offline_cause.py`: blame as a cause, a root cause that is a symptom, no contributing factors;
- `offline_evidence.py`: claims without evidence, the method, who acted;
- `offline_timeline.py`: one timeline section's dates, order, time zone;
- `offline_actions.py`: owners, due dates, done or tracked actions, weak wording;
- `offline_impact.py`: quantities and dimensions of the impact, notifications;
- `offline_language.py`: hedging, vague quantities, absolutes, passive voice, long sentences;
- `offline_guidelines.py`: the organisation's own "must" lines;
- `offline_chat.py`: the offline chat (`compose_answer`, `answer_question`).

What needs the whole document is run once per document by `offline_pool.document_dicts`:
`consistency.py` (across sections: durations, order, names, counts), `hygiene.py` (placeholders,
spelling, dates, references), and for software and security write-ups `postmortem.py` (is the
cause established, the impact a number, the duration stated?) and `followups.py` (actions
without owners).

Every finding quotes an exact substring of the section text (or None for "something is missing"
findings), cites checklist ids and carries a confidence: the rule's record on the labelled corpus
where it has one (`offline_confidence.py`), else the rule's own estimate, 0.8-0.9 for precise rules
and 0.5-0.7 for heuristics. The same input always gives the same findings in the same order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from redline.jobs.models import Finding
from redline.jobs.reviewers.hygiene_headings import FILLED_FIELD, numbered_parent
from redline.jobs.reviewers.offline_actions import _done_or_tracked, check_actions
from redline.jobs.reviewers.offline_cause import check_blame, check_root_cause
from redline.jobs.reviewers.offline_chat import _chunks, answer_question, compose_answer
from redline.jobs.reviewers.offline_evidence import check_actors, check_findings, check_method
from redline.jobs.reviewers.offline_guidelines import check_guidelines
from redline.jobs.reviewers.offline_impact import check_impact
from redline.jobs.reviewers.offline_language import check_contact_details, check_language
from redline.jobs.reviewers.offline_structure import check_outline, check_summary
from redline.jobs.reviewers.offline_text import (
    LONG_SENTENCE_WORDS, LONG_SUMMARY_WORDS, MAX_QUOTE_CHARS, Check, Role, Span, _make, _Section,
    detect_role, split_blocks, split_sentences, word_count,
)
from redline.jobs.reviewers.offline_timeline import check_timeline

__all__ = [
    "CATEGORIES", "MAX_FINDINGS", "LONG_SENTENCE_WORDS", "LONG_SUMMARY_WORDS", "MAX_QUOTE_CHARS", "Role", "Span",
    "answer_question", "compose_answer", "detect_role", "document_kind", "review_section", "split_blocks",
    "split_sentences", "word_count", "_chunks", "_done_or_tracked",
]

MAX_FINDINGS = 12

CATEGORIES: tuple[str, ...] = (
    "Timeline",
    "Evidence",
    "Root cause",
    "Actions",
    "Impact",
    "Language",
    "Actors",
    "Structure",
    "Compliance",
    "Confidentiality",
)

_TYPE_RANK = {"critical": 0, "important": 1, "suggestion": 2}
_RISK_RANK = {"high": 0, "medium": 1, "low": 2}


_ROLE_CHECKS: dict[Role, tuple[Check, ...]] = {
    "summary": (check_summary,),
    "background": (),
    "timeline": (check_timeline, check_actors),
    "investigation": (check_method, check_actors),
    "findings": (check_findings, check_actors),
    "root_cause": (check_root_cause,),
    "impact": (check_impact,),
    "actions": (check_actions,),
    "other": (),
}
_COMMON_CHECKS: tuple[Check, ...] = (check_contact_details, check_language, check_guidelines)
# What holds for a software or security incident write-up: on the corpus's real post-mortems
# (bench/quality, tuning set) the safety checklist's rules were right 0-20 % of the time there
# (passive voice 0.11, hedging 0.07, outline 0.0, evidence 0.0, actions without owner or date
# 0.2: such actions live in linked tickets; a root cause "that is a symptom" 0.0). What is left
# for them is blame, the guidelines, and the document-level rules (consistency.py, hygiene.py,
# and postmortem.py and followups.py, which say such things once per document where they hold).
_SOFTWARE_CHECKS: dict[Role, tuple[Check, ...]] = {}


# Words that say what a write-up is about: a software or security incident, or anything else
# (a safety, industrial or workplace investigation keeps the full checklist).
_SOFTWARE_WORDS = frozenset("""
server servers deploy deployed deployment database api apis outage latency dns kubernetes k8s pod pods
cluster clusters release rollback token tokens repository repo package packages pypi github gitlab ci
cache http https endpoint endpoints cdn config configuration tls certificate docker container
containers malware phishing credential credentials upload uploads download downloads traffic requests
error errors 500 502 503 504 load node nodes service services prometheus grafana alert alerts
commit commits pr merge merged npm crates index registry hub binder jupyterhub vm vms disk cpu memory
ssl letsencrypt certificates domain domains subdomain subdomains sub-domains website browser
bug bugs tooling client clients software app apps sql backend frontend encrypted encryption gdpr homeserver
federation password passwords login ssh jenkins vulnerability vulnerabilities exploit exploited attacker attackers cve
""".split())
_SAFETY_WORDS = frozenset("""
injury injuries injured fire hazard hazards ppe operator operators plant shift machine machinery press
valve pump forklift chemical spill aid evacuation hse osha hydraulic worker workers supervisor site
allegation allegations complainant interview interviews witness witnesses misconduct disciplinary
substantiated patient patients vehicle driver crane scaffold
""".split())


_SOFTWARE_MIN = 5  # software words a write-up of 500 words or more needs (one per 100 words below that, two at least)


def document_kind(texts: Sequence[str]) -> str:
    """"software" when the write-up's words are mostly of software or security incidents,
    else "general". One pass over the words; a word counts once per 1,000 words at most."""
    counts = {"software": 0, "safety": 0}
    for text in texts:
        for raw in text.lower().split():
            word = raw.strip(".,;:()[]{}'\"`*!?")
            if word in _SOFTWARE_WORDS:
                counts["software"] += 1
            elif word in _SAFETY_WORDS:
                counts["safety"] += 1
    # a short write-up says what it is in fewer words: "The payment API returned errors after a deploy"
    words = sum(len(text.split()) for text in texts)
    enough = min(_SOFTWARE_MIN, max(2, words // 100))
    return "software" if counts["software"] >= enough and counts["software"] > 2 * counts["safety"] else "general"


def _severity(finding: Finding) -> tuple[int, int]:
    return _TYPE_RANK[finding.type], _RISK_RANK[finding.risk]


def review_section(
    title: str,
    text: str,
    *,
    index: int,
    total: int,
    outline: list[str],
    guidelines: str | None = None,
    kind: str = "general",
) -> Iterator[Finding]:
    """Review one section; yield at most MAX_FINDINGS findings, most severe first.

    `kind` is what the write-up is (`document_kind`): a software or security incident gets
    the checks that hold there (actions, a root cause that blames a person, blame), not the
    safety-investigation checklist (passive voice, interviews, people-and-safety impact, an
    outline with a "root cause" heading), which real post-mortems showed to be mostly noise.

    The rules are cheap, so all of them run first; the findings are then ranked by
    severity (stable, so ties keep the order the rules found them) and yielded one
    at a time.
    """
    if not text.strip():
        if kind == "software":  # hygiene.py judges empty sections with their heading levels
            return
        if index + 1 < len(outline) and numbered_parent(title, outline[index + 1]):
            return  # "3 Analysis" over "Introduction": a chapter over its topics, not an empty section
        if FILLED_FIELD.fullmatch(title.strip()) or index == 0 and len(outline) > 1:
            return  # "## Date: December 15, 2022": a field with its value; the first heading: the title
        yield _make(
            "suggestion",
            "low",
            "Structure",
            "This section is empty.",
            "Write the section or remove it from the outline.",
            questions=("What should this section tell the reader?",),
            refs=("C15",),
            confidence=0.9,
        )
        return
    blocks = tuple(split_blocks(text))
    sec = _Section(
        title=title,
        text=text,
        role=detect_role(title),
        index=index,
        total=total,
        outline=tuple(outline),
        guidelines=guidelines,
        blocks=blocks,
        sentences=tuple(split_sentences(text, blocks)),
        kind=kind,
    )
    if kind == "software":
        checks = _SOFTWARE_CHECKS.get(sec.role, ()) + (check_blame, check_guidelines)
    else:
        checks = (check_outline, check_blame, *_ROLE_CHECKS[sec.role], *_COMMON_CHECKS)
    findings = [finding for check in checks for finding in check(sec)]
    findings.sort(key=_severity)
    yield from findings[:MAX_FINDINGS]
