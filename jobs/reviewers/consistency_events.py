"""One event, two clock times: a section outside the timeline times an event that the timeline
times differently.

"At around 17:20, several hours before the outage, we started upgrading the Prow clusters" in a
root-cause section, and "[03-26 17:40] Kubernetes node upgrade is initiated on the build cluster"
in the timeline: the reader cannot tell when it began. The event is matched by its words (at
least two word stems shared with one entry, more than with any other; not "incident" or "outage",
nor a word in a third of the entries, as the system's name is); not when the timeline has
an entry at that minute, when the times are close (ten minutes: a rounding), or far apart (four
hours: another event in the same words), nor when the sentence gives another time close to the
entry's (a window, "between 4:06pm (first notice) - 5:30pm", against the entry of the first notice). A chat log quoted in an appendix ("liggitt [7:49 AM] ..."),
a log line or a table row is a record of the time, not a claim about it, and is left alone.

(`consistency_summary._time_findings` compares the summary's start and recovery with the timeline;
this compares any section's events.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_summary import _clock_minutes
from redline.jobs.reviewers.consistency_text import CLOCK, MAX_ENTRIES, MAX_PER_RULE, sentence_around
from redline.jobs.reviewers.consistency_timeline import Entry

_STOP = frozenset("""that this with from were have been they their there about after before when which while would
could should into over also then than only more most some such what where other these those each very just being
will your them upon onto around several later time times minute minutes hour hours until since during""".split())
_WORD = re.compile(r"[A-Za-z]{4,}")
# an appendix of records: a chat log, a transcript, raw logs
_RECORDS = re.compile(r"append|\bchat\b|\blogs?\b|transcript|thread|slack|\birc\b|excerpt", re.I)
_SAME_MINUTES = 2  # an entry this close is the same time
_ROUNDING = 10  # "around 17:20" for 17:25 is a rounding, not another time
_ANOTHER_EVENT = 240  # four hours apart, the same words more likely name another event
_MAX_CLOCKS = 400  # clock times compared per document: each is compared with every entry


_GENERIC = frozenset("incid outag issue probl event".split())  # what every entry of a write-up is about


def _stems(text: str) -> set[str]:
    return {w.lower()[:5] for w in _WORD.findall(text) if w.lower() not in _STOP} - _GENERIC


def _common(words: list[set[str]]) -> set[str]:
    """Stems in more than a third of the entries (the system's name: "crates" in "crates.io"): they
    tell no entry from another, so sharing them with a sentence does not make it the same event."""
    counts: dict[str, int] = {}
    for stems in words:
        for w in stems:
            counts[w] = counts.get(w, 0) + 1
    return {w for w, n in counts.items() if n * 3 > len(words)}


# "... went down due to a risk from running Nginx as root": what follows tells why, not what
# happened at that time
_CAUSE = re.compile(r"\b(?:due to|because|caused by|as a result of|owing to|resulting from|thanks to)\b", re.I)


def _without_cause(sentence: str, clock: str) -> str:
    """The sentence up to a cause clause after its time: "At 7:30 pm the site went down due to
    Nginx running as root" is about the site going down, and shares no event with the
    timeline's "7:54 PM: engineers find nginx is still running as root"."""
    at = sentence.find(clock)
    cause = _CAUSE.search(sentence, max(at, 0) + len(clock))
    return sentence[: cause.start()] if cause else sentence


def _a_record(text: str, start: int, end: int) -> bool:
    """A stamp of a record, not a time the prose gives: a chat line's "[7:49 AM]", a log's or a
    query result's "19:23:25.354344", a table row's cell."""
    before = text.rfind("[", max(0, start - 12), start)
    if before >= 0 and "]" not in text[before:start] and "]" in text[end:end + 8]:
        return True
    if re.match(r":\d\d[.,]\d", text[end:end + 5]):
        return True
    line_start, line_end = text.rfind("\n", 0, start) + 1, text.find("\n", end)
    return text.count("|", line_start, line_end if line_end >= 0 else len(text)) >= 2


def _event_time_findings(sections: list[Section], entries: list[Entry], bodies: dict[int, str],
                         timeline_sections: set[int]) -> Iterator[tuple[int, Finding]]:
    timed = [e for e in entries if e.when is not None and e.has_time][:MAX_ENTRIES]
    if len(timed) < 2:
        return
    at = {e.when.hour * 60 + e.when.minute for e in timed}
    words = [(e, _stems(bodies.get(id(e), e.line)[:300])) for e in timed]
    common = _common([w for _, w in words])
    words = [(e, w - common) for e, w in words]
    found = compared = 0
    for s in sections:
        if s.index in timeline_sections or _RECORDS.search(s.title):
            continue
        for m in CLOCK.finditer(s.text):
            compared += 1
            if found >= MAX_PER_RULE or compared > _MAX_CLOCKS:
                return
            t = _clock_minutes(s.text, m)
            if t is None or any(abs(t - x) <= _SAME_MINUTES for x in at) or _a_record(s.text, m.start(), m.end()):
                continue
            sentence = sentence_around(s.text, m.start(), m.end(), 300)
            mine = _stems(_without_cause(sentence, m.group()))
            ranked = sorted(((len(mine & theirs), k) for k, (_, theirs) in enumerate(words)), reverse=True)
            shared, k = ranked[0]
            if shared < 2 or (len(ranked) > 1 and ranked[1][0] == shared):
                continue
            entry = words[k][0]
            theirs = entry.when.hour * 60 + entry.when.minute
            if not _ROUNDING < abs(theirs - t) <= _ANOTHER_EVENT:
                continue
            # a window ("Between 4:06pm (first notice) - 5:30pm") whose other end is the entry's time
            clocks = (_clock_minutes(sentence, c) for c in CLOCK.finditer(sentence))
            if any(c is not None and abs(c - theirs) <= _ROUNDING for c in clocks):
                continue
            found += 1
            yield s.index, Finding(
                type="important", category="consistency: time vs timeline", risk="medium",
                description=(f"This puts it at {m.group()}, but the timeline's entry for the same event is at "
                             f"{entry.when.strftime('%H:%M')}: the reader cannot tell which is right."),
                suggestion="Give the event one time: correct this sentence or the timeline entry.",
                quote=sentence, confidence=0.6,
                related_section_id=sections[entry.section].id, related_quote=entry.quote)
