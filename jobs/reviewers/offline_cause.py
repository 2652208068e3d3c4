"""Root-cause rules: blame presented as a cause ("human error", "failed to follow procedure"), a
root cause that is only a symptom, an analysis that stops after one why, no contributing factors.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding
from redline.jobs.reviewers.offline_evidence import _unsupported_claims
from redline.jobs.reviewers.offline_text import (
    GOOD_NEWS_TITLE, Span, _clip, _first, _make, _phrases, _rx, _Section, _times,
)


_CAUSE_WORDS = _rx(r"root\s+cause", r"caused", r"cause", r"due\s+to", r"because", r"result\s+of", r"reason")
_DEPTH = _rx(
    r"because",
    r"due\s+to",
    r"caused\s+by",
    r"as\s+a\s+result\s+of",
    r"resulted\s+from",
    r"stem(?:s|med)?\s+from",
    r"owing\s+to",
    r"(?:this|which)\s+(?:meant|happened|occurred)",
    r"led\s+to",
    r"why",
)
# "a surge in user error reports", "human error rates": the error names what is counted, not a cause
_COUNTED = (r"(?!\s+(?:reports?|messages?|rates?|logs?|codes?|counts?|pages?|responses?|handling|spikes?"
            r"|events?|tickets?|metrics?|dashboards?|alerts?|budgets?)\b)")
_BLAME = _rx(
    r"human\s+error" + _COUNTED,
    r"(?:operator|user|staff|employee|pilot|driver|technician|individual|personal)\s+(?:error|mistake|failure)"
    + _COUNTED,
    r"(?:failed|failure|failing)\s+to\s+follow(?:\s+\w+){0,3}",
    r"did\s+not\s+follow(?:\s+\w+){0,3}",
    r"not\s+following(?:\s+\w+){0,3}",
    r"(?:procedures?|rules?|instructions?|process(?:es)?|polic(?:y|ies)|sops?|checklists?)"
    r"\s+(?:was|were)\s+(?:not|never)\s+followed",
    r"negligen(?:ce|t)",
    r"careless(?:ness|ly)?",
    r"lack\s+of\s+(?:attention|care|diligence|common\s+sense|discipline|focus)",
    r"inattenti(?:on|ve)",
    r"not\s+paying\s+attention",
    r"complacen(?:cy|t)",
    r"should\s+have\s+known",
    r"laz(?:y|iness)",
    r"incompeten(?:ce|t)",
    r"(?:bad|poor)\s+judge?ment",
    r"(?:his|her|their)\s+(?:fault|mistake)",
)
_SYMPTOM = _rx(
    r"fail(?:ed|ure|ures)?",
    r"faulty",
    r"fault",
    r"malfunction(?:ed|ing)?",
    r"crash(?:ed|es)?",
    r"outage",
    r"breakdown",
    r"broke(?:n)?",
    r"leak(?:ed|ing|s)?",
    r"went\s+down",
    r"stopped\s+working",
    r"bug",
    r"defect(?:ive)?",
    r"overheat(?:ed|ing)?",
    r"tripped",
    r"timed\s+out",
    r"time-?out",
)
_CONTRIBUTING = re.compile(r"contribut|factor", re.I)
_FACTOR_LIST = 3  # list items of three words or more under the cause: its factors


# Words before a blame phrase that make it a risk or a safeguard, not a cause: "the baseline risk
# of data compromise via malice or operator error", "to prevent human error" (a real post-mortem's
# false alarm, bench/quality tuning set).
_HYPOTHETICAL = _rx(
    r"risks?", r"prevent\w*", r"avoid\w*", r"reduc\w*", r"minimi[sz]\w*", r"mitigat\w*",
    r"(?:protect|guard)\w*\s+against", r"resilien\w*", r"could", r"might", r"would", r"possibility",
    r"chance", r"in\s+case\s+of", r"regardless\s+of",
)
_HYPOTHETICAL_SCAN = 120  # characters before the phrase, within its sentence


# "Did not follow the rollback plan ..., as it would have caused worse issues": a choice made, with its
# reason, not a failure; and under "Where we got lucky" or "What went well" nothing is blamed
_REASONED = _rx(r"(?:as|because|since)\s+(?:it|this|that|doing\s+so)\s+would\s+have")


def _blame_hits(sec: _Section) -> list[tuple[Span, str]]:
    hits = []
    if GOOD_NEWS_TITLE.search(sec.title):
        return hits
    for s in sec.sentences:
        for m in _BLAME.finditer(s.text):
            if not _HYPOTHETICAL.search(s.text, max(0, m.start() - _HYPOTHETICAL_SCAN), m.start()) \
                    and not _REASONED.search(s.text, m.end()):
                hits.append((s, m.group(0)))
    return hits


def check_blame(sec: _Section) -> Iterator[Finding]:
    """Blame ("human error", "failed to follow procedure") presented as a cause. Not a risk or a
    safeguard ("the risk of operator error"); and on a software or security write-up, only where
    it is given as a cause (a root-cause section, or a causal word in its sentence)."""
    hits = _blame_hits(sec)
    if not hits:
        return
    sentence = hits[0][0]
    hit_sentences = list({s.start: s for s, _ in hits}.values())  # once each: one long sentence may hold many hits
    as_cause = sec.role == "root_cause" or any(_CAUSE_WORDS.search(s.text) for s in hit_sentences)
    if not as_cause:
        return  # "the aeroplane did not follow the direction of the airstrip" in a narrative tells what happened
    sentences = len(hit_sentences)
    yield _make(
        "critical" if as_cause else "important",
        "high" if as_cause else "medium",
        "Root cause",
        f"The cause is put down to {_phrases([h for _, h in hits])}"
        + (f" ({_times(sentences, 'sentence')})" if sentences > 1 else "")
        + ". That names a person's failure, which is a symptom: it does not say why the error "
        "was possible or likely, so the actions will target the person rather than the system.",
        "Keep asking why: what in the procedure, design, training, staffing, tooling or "
        "supervision made this error possible, and why was it not caught? State that as the "
        "root cause and keep individual conduct separate from the systemic cause.",
        quote=_clip(sentence.text),
        questions=(
            "Why was it possible for this error to happen, and why did no control catch it?",
            "Would another trained person in the same situation have acted the same way?",
            "Which process, design or control change would stop it recurring regardless of who is on shift?",
        ),
        refs=("C9", "C10", "C20"),
        confidence=0.85,
    )


def _depth(sec: _Section) -> int:
    return len(_DEPTH.findall(sec.text))


def check_root_cause(sec: _Section) -> Iterator[Finding]:
    blamed = bool(_BLAME.search(sec.text))
    depth = _depth(sec)
    # a cause analysis that lists its factors ("Two valves ... had been manually closed", "SCADA showed no
    # trends", "A lack of communication", ...): its contributing causes, each a step of the analysis
    factors = sum(1 for b in sec.blocks if b.is_item and len(b.text.split()) >= 3)
    if factors >= _FACTOR_LIST:
        depth = max(depth, 2)
    symptom = _first(sec.sentences, _SYMPTOM) if depth < 2 and not blamed else None
    if symptom:
        yield _make(
            "critical",
            "high",
            "Root cause",
            "The stated root cause describes what failed (a symptom), not why it failed; no "
            "deeper cause is given.",
            "Ask why this failure happened, and why again, until you reach a process, design or "
            "control that can be changed (about five whys). Record each step with its evidence.",
            quote=_clip(symptom.text),
            questions=(
                "Why did this component or system fail?",
                "Why was the failure not prevented or detected earlier?",
                "What would have to change so that it cannot happen again?",
            ),
            refs=("C9",),
            confidence=0.6,
        )
    elif depth < 2 and not blamed:
        yield _make(
            "important",
            "medium",
            "Root cause",
            (f"The analysis stops after {_times(depth, 'causal step')}" if depth else
             "The cause is stated with nothing on why it happened")
            + ": there is no chain of whys showing how the immediate cause traces back to a root cause.",
            "Lay out the causal chain (for example five whys or a fishbone), each step supported "
            "by evidence, and name the deepest cause the organisation can act on.",
            questions=(
                "Why did the immediate cause occur?",
                "Is the stated cause something the organisation can change?",
            ),
            refs=("C9",),
            confidence=0.6,
        )
    if not _CONTRIBUTING.search(sec.text) and not sec.outline_mentions(_CONTRIBUTING) and factors < _FACTOR_LIST:
        yield _make(
            "suggestion",
            "low",
            "Root cause",
            "No contributing factors are identified alongside the root cause.",
            "List the factors that made the event more likely or worse (workload, training, "
            "tooling, environment, communication), separately from the root cause.",
            questions=("What else made this event more likely or its impact worse?",),
            refs=("C10",),
            confidence=0.5,
        )
    yield from _unsupported_claims(sec, individual=False)
