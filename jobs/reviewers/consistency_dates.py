"""Impossible dates anywhere in the document: month 13, day 32, Feb 30, a five-digit year, and a
weekday that does not match its date ("2025-07-26 Saturday", "Monday, July 27, 2025"); and the
summary's weekday ("on a Saturday evening") that is none of the timeline's dated days
(`_summary_weekday_findings`).

Dates in code are skipped; "may 5" or "mar 3" in lower case are words, not dates. A heading that
is a timeline entry's stamp ("20188-03-13 07:28", as Word and PDF write-ups often have them) is
checked too; the finding then has no quote (the heading is not part of the section's text).
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import (
    DAY_MONTH, ISO_DATE, MAX_ENTRIES, MAX_PER_RULE, MONTHS, NAMED_DATE, WEEKDAYS, _is_summary, code_mask,
    sentence_around, valid_date,
)
from redline.jobs.reviewers.consistency_timeline import Entry


def _impossible(m: re.Match, why: str, category: str) -> Finding:
    """One wording for an impossible date, whether ISO or with a month name."""
    return Finding(type="important", category=category, risk="medium",
                   description=f"Impossible date {m.group()!r}: {why}.", suggestion="Correct the date.",
                   quote=m.group(), confidence=0.9)


def _bad_in_heading(title: str):
    """(match, why) for each impossible date in a heading (ISO, or a capitalised month name)."""
    for m in ISO_DATE.finditer(title[:300]):
        why = valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if why:
            yield m, why
    for rx, named_first in ((NAMED_DATE, True), (DAY_MONTH, False)):
        for m in rx.finditer(title[:300]):
            mon = m.group(1) if named_first else m.group(2)
            day = int(m.group(2) if named_first else m.group(1))
            why = valid_date(int(m.group(3)) if m.group(3) else 2000, MONTHS[mon.lower()], day)
            if why and mon[0].isupper() and day <= 99:
                yield m, why


def _impossible_date_findings(sections: list[Section], entries: list[Entry]):
    entry_sections = {e.section for e in entries}
    for s in sections:
        text = s.text
        mask = None
        n = 0
        for m in ISO_DATE.finditer(text):
            if n >= MAX_PER_RULE:
                break
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            why = valid_date(y, mo, d)
            if not why:
                continue
            if mask is None:
                mask = code_mask(text)
            if mask[m.start()]:
                continue
            n += 1
            yield s.index, _impossible(m, why, "timeline date" if s.index in entry_sections else "date format")
        for rx, named_first in ((NAMED_DATE, True), (DAY_MONTH, False)):
            for m in rx.finditer(text):
                if n >= MAX_PER_RULE:
                    break
                mon = m.group(1) if named_first else m.group(2)
                day = int(m.group(2) if named_first else m.group(1))
                year = int(m.group(3)) if m.group(3) else 2000  # leap year: Feb 29 without a year is fine
                if mon.lower() in ("may", "march", "mar", "jan", "june", "jun", "dec", "sept", "sep", "oct", "nov",
                                   "aug", "apr", "feb", "jul") and mon[0].islower():
                    continue  # "may 5", "mar 3" as ordinary words
                why = valid_date(year, MONTHS[mon.lower()], day)
                if why and day <= 99:
                    if mask is None:
                        mask = code_mask(text)
                    if mask[m.start()]:
                        continue
                    n += 1
                    yield s.index, _impossible(m, why, "date format")
        # a heading that is a timeline entry's stamp ("20188-03-13 07:28"): the date is not in the text,
        # so the finding points at the section without a quote
        bad = next(_bad_in_heading(s.title), None) if s.title and n < MAX_PER_RULE else None
        if bad is not None and bad[0].group() not in text:
            m, why = bad
            n += 1
            yield s.index, Finding(
                type="important", category="timeline date" if s.index in entry_sections else "date format",
                risk="medium", description=f"Impossible date {m.group()!r} in the heading {s.title.strip()!r}: {why}.",
                suggestion="Correct the date in the heading.", quote=None, confidence=0.9)
        # a weekday named beside a date that it does not match: "2025-07-26 Saturday", "Monday, July 28, 2025",
        # "Sunday 27 July 2025"
        for m, wd, y, mo, d in _weekday_dates(text):
            if n >= MAX_PER_RULE:
                break
            if valid_date(y, mo, d):
                continue
            if mask is None:
                mask = code_mask(text)
            if mask[m.start()]:
                continue
            real = date(y, mo, d).weekday()
            if real != wd:
                n += 1
                yield s.index, Finding(
                    type="important", category="timeline date", risk="medium",
                    description=f"{date(y, mo, d).isoformat()} was a {calendar.day_name[real]}, "
                                f"not a {calendar.day_name[wd]}.",
                    suggestion="Correct the date or the weekday.", quote=m.group(), confidence=0.9)


_DAY = "|".join(d for d in calendar.day_name)
_MON = "|".join(sorted((m.title() for m in MONTHS if len(m) >= 3), key=len, reverse=True))  # capitalised only
_ISO_THEN_DAY = re.compile(r"(?<![\w.-])(\d{4})-(\d{2})-(\d{2}),? (\()?([A-Z][a-z]{2,8})\b(?(4)\))")
_DAY_THEN_ISO = re.compile(r"\b(" + _DAY + r"),? \(?(\d{4})-(\d{2})-(\d{2})(?![\w-])")
_DAY_THEN_NAMED = re.compile(r"\b(" + _DAY + r"),? (?:the )?(?:(\d{1,2})(?:st|nd|rd|th)? (?:of )?(" + _MON
                             + r")|(" + _MON + r")\.? (\d{1,2})(?:st|nd|rd|th)?),? (\d{4})\b")
_NAMED_THEN_DAY = re.compile(r"\b(" + _MON + r")\.? (\d{1,2})(?:st|nd|rd|th)?,? (\d{4}),? (\()?(" + _DAY
                             + r")\b(?(4)\))")


def _weekday_dates(text: str):
    """(match, weekday, year, month, day) for each date written with its weekday (capitalised names)."""
    for m in _ISO_THEN_DAY.finditer(text):
        wd = WEEKDAYS.get(m.group(5).lower())
        if wd is not None:
            yield m, wd, int(m.group(1)), int(m.group(2)), int(m.group(3))
    for m in _DAY_THEN_ISO.finditer(text):
        yield m, WEEKDAYS[m.group(1).lower()], int(m.group(2)), int(m.group(3)), int(m.group(4))
    for m in _DAY_THEN_NAMED.finditer(text):
        mon, day = (m.group(3), m.group(2)) if m.group(3) else (m.group(4), m.group(5))
        if mon[0].isupper():
            yield m, WEEKDAYS[m.group(1).lower()], int(m.group(6)), MONTHS[mon.lower()], int(day)
    for m in _NAMED_THEN_DAY.finditer(text):
        if m.group(1)[0].isupper():
            yield m, WEEKDAYS[m.group(5).lower()], int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2))


_ON_WEEKDAY = re.compile(r"\bon (?:a )?(" + _DAY + r")(?: (morning|afternoon|evening|night))?\b")


def _summary_weekday_findings(sections: list[Section], entries: list[Entry]):
    """The summary says when in the week it happened ("on a Saturday evening") and the timeline's
    dated entries fall on other days ("2018-07-08", a Sunday): one of the two is wrong. A night may
    run into the next morning; a timeline of a week or more covers every weekday. Once per document."""
    dated = [e for e in entries[:MAX_ENTRIES] if e.when is not None and e.explicit_date]
    if not dated:
        return
    days = {e.when.date() for e in dated}
    if (max(days) - min(days)).days >= 6:
        return
    for s in sections:
        if not _is_summary(s):
            continue
        for m in _ON_WEEKDAY.finditer(s.text):
            wd = WEEKDAYS[m.group(1).lower()]
            if any(d.weekday() == wd for d in days):
                return
            if m.group(2) in ("night", "evening") and any(
                    e.when.weekday() == (wd + 1) % 7 and e.has_time and e.when.hour < 6 for e in dated):
                return  # Saturday night, 01:00 on Sunday
            first = dated[0]
            day = first.when.date()
            yield s.index, Finding(
                type="important", category="timeline date", risk="medium",
                description=(f"This says it happened on a {m.group(1)}, but the timeline dates it {day.isoformat()}, "
                             f"a {calendar.day_name[day.weekday()]}, and none of its dated entries is on a "
                             f"{m.group(1)}: the date or the weekday is wrong."),
                suggestion="Correct the date or the weekday.", quote=sentence_around(s.text, m.start(), m.end(), 200),
                confidence=0.6, related_section_id=sections[first.section].id, related_quote=first.quote)
            return

