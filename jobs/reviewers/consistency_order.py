"""The timeline's sequence: entries listed out of order, and a jump of days to another event.

- `_order_findings`: an entry earlier than the one listed before it (by date, or by clock time
  when both have one);
- `_separate_event_findings`: a timeline that covers hours, then jumps days ahead: the later
  entries are another event (a recurrence) folded into this one, and the summary does not say so.
  Once per document.
"""

from __future__ import annotations

import calendar
from datetime import timedelta

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import MAX_ENTRIES, MAX_PER_RULE, WORD, _is_summary
from redline.jobs.reviewers.consistency_timeline import STAND_IN_DAY, Entry, _fmt


def _order_findings(sections: list[Section], entries: list[Entry]):
    prev: Entry | None = None
    n = 0
    for e in entries:
        if n >= MAX_PER_RULE:
            return
        if e.when is None or e.when.year == 1:
            continue
        if prev is not None:
            back = None
            if e.when.date() < prev.when.date():
                back = "date"
            elif e.has_time and prev.has_time and e.when < prev.when:
                back = "time"
            if back:
                n += 1
                yield e.section, Finding(
                    type="important", category="timeline order", risk="medium",
                    description=(f"Timeline entry out of order: {_when(e)} is listed after {_when(prev)}."),
                    suggestion="Put the entries in chronological order (or correct the timestamp).",
                    quote=e.quote, confidence=0.8,
                    related_section_id=sections[prev.section].id, related_quote=prev.quote)
        prev = e


SEPARATE_EVENT_DAYS = 3  # a jump of more than this many days ...
SEPARATE_EVENT_RATIO = 5  # ... and this many times longer than everything before it


def _separate_event_findings(sections: list[Section], entries: list[Entry], bodies: dict[int, str]):
    """A timeline that covers a few hours, then jumps days ahead: the later entries are another
    event (a recurrence) folded into this one, and the summary should say so. Once per document."""
    timed = [e for e in entries if e.when is not None and e.when.year > 1][:MAX_ENTRIES]
    for k in range(3, len(timed)):
        prev, e = timed[k - 1], timed[k]
        gap, before = e.when - prev.when, prev.when - timed[0].when
        if gap <= timedelta(days=SEPARATE_EVENT_DAYS) or gap <= SEPARATE_EVENT_RATIO * before:
            continue
        day = e.when.date()
        marks = (day.isoformat(), f"{calendar.month_name[day.month]} {day.day}".lower(), "recurr", "again")
        entry_sections = {y.section for y in entries}
        if any(any(m in x.text.lower() for m in marks) for x in sections
               if _is_summary(x) and x.index not in entry_sections):
            return
        body = bodies.get(id(e), e.quote)
        rest = body[len(e.quote):] if body.startswith(e.quote) else ""
        quote = e.quote
        if len(WORD.findall(e.quote)) <= 3 and rest.strip():  # a bare stamp: quote the entry's first sentence
            lead = len(rest) - len(rest.lstrip())
            end = rest.find(". ", lead, lead + 300)
            quote = rest[lead:end + 1 if end >= 0 else min(len(rest), lead + 300)].strip()
            quote = quote.split("\n")[0].strip() or e.quote
        if quote not in sections[e.section].text:
            quote = e.quote
        yield e.section, Finding(
            type="suggestion", category="timeline: separate event", risk="low",
            description=(f"The timeline jumps {gap.days} days, from {prev.when.date()} to {day}: these later "
                         "entries look like a separate event (a recurrence?) folded into this incident, and the "
                         "summary does not mention it."),
            suggestion="Report the later event on its own (or say in the summary that it recurred, and why).",
            quote=quote, confidence=0.6,
            related_section_id=sections[prev.section].id, related_quote=prev.quote)
        return


def _when(e: Entry) -> str:
    """An entry's time as the reader can check it: no date where the timeline gave none (the
    stand-in day of `resolve_dates` is not the reader's)."""
    if e.when.date() == STAND_IN_DAY and not e.explicit_date:
        return e.when.strftime("%H:%M")
    return _fmt(e.when) if e.has_time else str(e.when.date())
