"""Evidence rules: claims of cause or fault with no log, record, interview or exhibit behind them;
a method that does not say what was collected, who was interviewed or what the scope was; a
timeline or findings section that names nobody.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding
from redline.jobs.reviewers.offline_text import (
    _ANALYSIS_TITLE, _CLAIM, _EVIDENCE, Span, _clip, _make, _Section, _times, formal_report, word_count,
)


_INTERVIEWS = re.compile(r"interview|statement|spoke\s+(?:to|with)|talked|discussion|met\s+with|questioned|testimon", re.I)
_SCOPE = re.compile(r"\bscope|out\s+of\s+scope|in\s+scope|limited\s+to|covers?\b|excluded|exclud", re.I)
_ACTOR = re.compile(
    r"\b(?:we|i|he|she|they|our|operators?|technicians?|engineers?|managers?|supervisors?|staff"
    r"|employees?|team|officers?|analysts?|contractors?|drivers?|nurses?|doctors?|customers?|users?"
    r"|witness(?:es)?|investigators?|person|people|workers?|leads?|directors?|administrators?"
    r"|agents?|guards?|crew|shift|on-call|responders?|clinicians?|pharmacists?|colleagues?"
    r"|controllers?|dispatchers?|signallers?|pilots?|captains?)\b"  # "the train controller had become distracted"
    r"|\b(?:Mr|Mrs|Ms|Dr)\.?\s+[A-Z]|\b[A-Z]\.\s?[A-Z][a-z]+|\b(?:Person|Witness|Employee|Staff)\s+[A-Z0-9]\b",
    re.I,
)


def _unsupported_claim_sentences(sec: _Section) -> list[Span]:
    sentences = sec.sentences
    unsupported = []
    for i, sentence in enumerate(sentences):
        if not _CLAIM.search(sentence.text) or _EVIDENCE.search(sentence.text):
            continue
        following = sentences[i + 1].text if i + 1 < len(sentences) else ""
        if not _EVIDENCE.search(following):
            unsupported.append(sentence)
    return unsupported


def _unsupported_claims(sec: _Section, *, individual: bool) -> Iterator[Finding]:
    """Causal or conclusive claims with no evidence reference nearby."""
    claims = _unsupported_claim_sentences(sec)
    questions = (
        "Which log, record, interview or exhibit shows this?",
        "Could anything else explain the same facts?",
    )
    if not sec.has_evidence:
        if not claims and not (sec.role == "findings" and word_count(sec.text) >= 30):
            return
        what = f"{_times(len(claims), 'claim')} of cause or fault" if claims else "the findings"
        yield _make(
            "important",
            "high" if sec.role == "findings" else "medium",
            "Evidence",
            f"The section cites no evidence at all for {what}: no logs, records, interviews, "
            "photos or exhibits are referred to.",
            "Support each finding with the specific evidence it rests on (e.g. 'maintenance log "
            "entry of 4 March, exhibit E3'), or mark it clearly as an assumption.",
            quote=_clip(claims[0].text) if claims else None,
            questions=questions,
            refs=("C3", "C4"),
            confidence=0.75,
        )
        return
    if not individual:
        return
    for sentence in claims[:3]:
        yield _make(
            "important",
            "medium",
            "Evidence",
            "This claim states a cause or conclusion without pointing to the evidence behind it.",
            "Add the source (log, record, interview, photo, exhibit) that supports the claim, "
            "or state it as a hypothesis.",
            quote=_clip(sentence.text),
            questions=questions,
            refs=("C4",),
            confidence=0.6,
        )


def check_findings(sec: _Section) -> Iterator[Finding]:
    if formal_report(sec.outline) and not _ANALYSIS_TITLE.search(sec.title):
        return  # a formal report's Findings state the conclusions its Analysis chapter argued from the evidence
    yield from _unsupported_claims(sec, individual=True)


def check_actors(sec: _Section) -> Iterator[Finding]:
    """Timelines and findings must say who did what."""
    if word_count(sec.text) < 30 or _ACTOR.search(sec.text):
        return
    yield _make(
        "important",
        "medium",
        "Actors",
        "Nobody is identified in this section: no person, role or team is named, so it is "
        "unclear who did what and in which capacity.",
        "Name the actors by role (e.g. 'the shift supervisor', 'Witness A', 'the on-call "
        "engineer') and say for each whether they were a witness, the subject or the person "
        "responsible.",
        questions=(
            "Who took each action or decision described here?",
            "Who was a witness, who was the subject, and who was responsible?",
        ),
        refs=("C6",),
        confidence=0.6,
    )


def check_method(sec: _Section) -> Iterator[Finding]:
    if not sec.has_evidence:
        yield _make(
            "important",
            "medium",
            "Evidence",
            "The method does not say what evidence was collected or how it was preserved.",
            "List the evidence gathered (logs, records, documents, photos, samples, statements) "
            "with when and by whom, and how it was secured.",
            questions=(
                "What evidence was collected, by whom and when?",
                "How was it preserved so it cannot be altered?",
            ),
            refs=("C3", "C15"),
            confidence=0.7,
        )
    if not _INTERVIEWS.search(sec.text) and not sec.outline_mentions(_INTERVIEWS):
        yield _make(
            "suggestion",
            "low",
            "Evidence",
            "The method does not mention interviews or statements.",
            "Say who was interviewed, when, by whom and how, or explain why nobody was.",
            questions=("Who was interviewed, and were first-hand and second-hand accounts distinguished?",),
            refs=("C7",),
            confidence=0.5,
        )
    if not _SCOPE.search(sec.text) and not sec.outline_mentions(_SCOPE):
        yield _make(
            "suggestion",
            "low",
            "Structure",
            "The scope of the investigation is not stated.",
            "State what the investigation covers and excludes (systems, sites, period, people) "
            "and any limits on what could be examined.",
            questions=("What was in and out of scope, and why?",),
            refs=("C2",),
            confidence=0.5,
        )
