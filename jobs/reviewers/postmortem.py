"""What a software or security post-mortem must establish, read across the whole document.

Three questions a reviewer asks of every post-mortem, each answered at most once per document:

- `cause not established`: is the cause stated as a guess? "Upon investigation it seemed that
  some nodes had gone bad", "in part because it appears to be a bug in the master": a hedge in
  the same sentence as a causal claim, outside the timeline (whose entries rightly narrate the
  guesses made at the time).
- `vague impact`: is the impact a number? "the attackers exfiltrated some tokens", "at least a
  few that have a wider impact": a vague quantity in a sentence about harm, in the summary or an
  impact section, with no figure in the sentence.
- `duration not stated`: does the reader learn how long it lasted? A timeline with clock times,
  but no section states a duration, and: the timeline says it was resolved but not when; or the
  write-up says the problem was noticed "after a few hours" and never when it began; or nothing
  at all (then the finding is on the summary, without a quote).

Only for the "software" kind (`offline.document_kind`); the general checklist has its own rules
for hedging and quantities (`offline_language.py`, `offline_impact.py`). Linear in the text:
sentences from `offline_text`, bounded regexes, one pass per section. Confidences are the
precision measured on the tuning half of bench/quality/corpus (`python -m bench.quality.tune`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency as C
from redline.jobs.reviewers.offline_text import _rx, detect_role, split_blocks, split_sentences

_HEDGE = _rx(
    r"it\s+(?:seemed|seems|appears|appeared)", r"(?:seems|seemed|appears|appeared)\s+to\s+(?:be|have)",
    r"probably", r"possibly", r"presumably", r"likely", r"we\s+(?:suspect|believe|think)",
    r"(?:may|might|could)\s+have\s+been", r"(?:is|are|was|were)\s+(?:believed|thought|suspected)\s+to",
)
# "the most likely cause was", "the suspected root cause is": a hedged cause in one phrase
_HEDGED_CAUSE = _rx(r"(?:most\s+)?(?:likely|probable|suspected|presumed)\s+(?:root\s+)?cause\s+(?:was|is|of)")
_CAUSAL = _rx(
    r"because", r"due\s+to", r"caused\s+by", r"root\s+cause", r"the\s+cause", r"upon\s+investigation",
    r"the\s+reason", r"triggered\s+by", r"resulted\s+from",
)

_HEDGE_AFTER_CAUSE = 40  # characters between the causal words and the hedge
_VAGUE = re.compile(r"(?<!how )\b(some|several|a\s+few|a\s+number\s+of|many|numerous|a\s+handful\s+of)\s+(\w+)",
                    re.I)
_TIME_UNITS = frozenset("time times while moment moments minutes hours days weeks months years seconds".split())
_NOT_NOUNS = frozenset("that which who whom of the these those them more other others in to are were was is "
                       "have had has".split())
_HARM = _rx(
    r"affected", r"impacted", r"impact", r"compromised", r"exfiltrated", r"leaked", r"exposed", r"stolen",
    r"phished", r"lost", r"deleted", r"corrupted", r"unable", r"could\s+not", r"failed", r"installed",
)

_VAGUE_DELAY = re.compile(
    r"\b(?:after|for|over)\s+(?:a\s+few|several|many|some)\s+(?:hours|days)\b|\bquite\s+some\s+time\b", re.I)
_NOTICED = _rx(r"notic\w*", r"detected", r"spotted", r"reali[sz]ed", r"alerted", r"identified")
_SPAN = re.compile(r"\b(?:from|between)\s+\d{1,2}:\d{2}\b[^.\n]{0,40}?\b(?:to|and|until|till)\s+\d{1,2}:\d{2}\b", re.I)
_DURATION_WORDS = _rx(r"duration", r"downtime", r"outage", r"impact\s+window", r"total", r"unavailable", r"down")
_PREVIOUS = _rx(r"previous(?:ly)?", r"last\s+time", r"earlier\s+incident", r"once\s+before")


def _sentences(s: Section):
    return split_sentences(s.text, split_blocks(s.text, wrapped=True))


def _cause_finding(sections: list[Section], timeline: set[int]) -> tuple[int, Finding] | None:
    for i, s in enumerate(sections):
        if i in timeline:
            continue
        for sentence in _sentences(s):
            if sentence.text.rstrip().endswith("?"):
                continue
            # the cause itself is hedged: "because it appears to be", "upon investigation it seemed";
            # not a hedged statement with a causal aside ("it appears that they sent emails to
            # addresses, which are public due to ...")
            hedge = _HEDGED_CAUSE.search(sentence.text) or next(
                (h for c in _CAUSAL.finditer(sentence.text)
                 if (h := _HEDGE.search(sentence.text, c.end(), c.end() + _HEDGE_AFTER_CAUSE))), None)
            if hedge is None:
                continue
            return i, Finding(
                type="important", category="root cause: not established", risk="medium",
                description=(f"The cause is given as a guess (\"{hedge.group(0)}\"): the write-up does not "
                             "establish why this happened, so the actions may not address it."),
                suggestion="Say what is known and how it was shown (logs, a reproduction), what is still a "
                           "hypothesis, and add an action to find the cause if it is unknown.",
                questions=["What evidence shows this was the cause?", "Why did it happen in the first place?"],
                quote=sentence.text, confidence=0.7)
    return None


def _impact_finding(sections: list[Section]) -> tuple[int, Finding] | None:
    for i, s in enumerate(sections):
        if not (C._is_summary(s) or detect_role(s.title) == "impact"):
            continue
        for sentence in _sentences(s):
            t = sentence.text
            if any(c.isdigit() for c in t) or not _HARM.search(t):
                continue
            vague = next((m for m in _VAGUE.finditer(t) if m.group(2).lower() not in _TIME_UNITS), None)
            if vague is None:
                continue
            said = vague.group(1) if vague.group(2).lower() in _NOT_NOUNS else vague.group(0)
            return i, Finding(
                type="important", category="impact: vague quantity", risk="medium",
                description=(f"The impact is given as \"{said}\", not as a number: the reader cannot "
                             "tell how many were affected."),
                suggestion="Give the number (or a range, or say it is unknown and why): how many users, "
                           "tokens, packages or requests were affected.",
                questions=["How many exactly, and how was that counted?"],
                quote=t, confidence=0.7)
    return None


def _states_duration(sections: list[Section], timeline: set[int]) -> bool:
    """Does a section (not the timeline) say how long it lasted? "lasted 40 minutes", "resolved in
    2 hours", "Total downtime: 45 minutes", "from 14:05 to 15:20 UTC"; not another incident's."""
    for s in sections:
        if s.index in timeline:
            continue
        if _SPAN.search(s.text):
            return True
        for d in C.extract_durations(s):
            if not _PREVIOUS.search(C.sentence_around(s.text, d.start, d.end, 160)):
                return True
        for m in C.DURATION.finditer(s.text):
            if _DURATION_WORDS.search(s.text, max(0, m.start() - 40), m.start()):
                return True
    return False


def _untimed_resolution(sections: list[Section], entries: list[C.Entry]) -> tuple[int, str] | None:
    """A resolution stated after the last entry of a one-line-per-entry timeline, with no time."""
    last = entries[-1]
    stamp = C._leading_stamp(last.line, None)
    if stamp is None or len(C.WORD.findall(stamp[4])) < 3:
        return None  # the entries are headings with their bodies below: what follows is that body
    text = sections[last.section].text
    k = text.find(last.quote)
    if k < 0:
        return None
    for block in split_blocks(text[k + len(last.quote):]):
        low = block.text.lower()
        if any(w in low for w in C.RECOVERY_WORDS) and not C.CLOCK.search(block.text):
            sentence = next((x for x in split_sentences(block.text)
                             if any(w in x.text.lower() for w in C.RECOVERY_WORDS)), block)
            return last.section, sentence.text
    return None


def _vague_start(sections: list[Section]) -> tuple[int, str] | None:
    for i, s in enumerate(sections):
        for sentence in _sentences(s):
            if _VAGUE_DELAY.search(sentence.text) and _NOTICED.search(sentence.text):
                return i, sentence.text
    return None


def _duration_finding(sections: list[Section], entries: list[C.Entry],
                      timeline: set[int]) -> tuple[int, Finding] | None:
    timed = [e for e in entries if e.has_time and e.when is not None]
    if len(timed) < 2 or _states_duration(sections, timeline):
        return None
    common = dict(type="important", category="impact: duration not stated", risk="medium",
                  suggestion="State when the incident started, when it was resolved and how long users were "
                             "affected (the timeline has the times to work it out).",
                  questions=["When did it start and end, and how long were users affected?"], confidence=0.7)
    got = _untimed_resolution(sections, timed)
    if got is not None:
        return got[0], Finding(
            description="The timeline says the incident was resolved, but not when: no time is given for the "
                        "end, and no section says how long it lasted.", quote=got[1], **common)
    got = _vague_start(sections)
    if got is not None:
        return got[0], Finding(
            description="The problem was noticed only after a vague delay, and the write-up never says when it "
                        "began or how long it lasted: the detection delay and the outage's length cannot be "
                        "measured.", quote=got[1], **common)
    summary = next((s for s in sections if any(w in s.title.lower() for w in C.SUMMARY_WORDS)), sections[0])
    return summary.index, Finding(
        description="The write-up never says how long the incident lasted: the timeline has times, but no "
                    "section states the duration or how much was affected.", quote=None, **common)


def document_findings(sections: list[Section], entries: list[C.Entry],
                      timeline: set[int]) -> Iterator[tuple[int, Finding]]:
    """(section index, finding) for each question the write-up leaves open; `sections` are indexed
    by position, `entries` are its resolved timeline entries, `timeline` its timeline sections."""
    for got in (_cause_finding(sections, timeline), _impact_finding(sections),
                _duration_finding(sections, entries, timeline)):
        if got is not None:
            yield got
