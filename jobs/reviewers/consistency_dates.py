"""Impossible dates anywhere in the document: month 13, day 32, Feb 30, a five-digit year, and a
weekday that does not match its date ("2025-07-26 Saturday").

Dates in code are skipped; "may 5" or "mar 3" in lower case are words, not dates.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import (
    DAY_MONTH, ISO_DATE, MAX_PER_RULE, MONTHS, NAMED_DATE, WEEKDAYS, code_mask, valid_date,
)
from redline.jobs.reviewers.consistency_timeline import Entry


def _impossible(m: re.Match, why: str, category: str) -> Finding:
    """One wording for an impossible date, whether ISO or with a month name."""
    return Finding(type="important", category=category, risk="medium",
                   description=f"Impossible date {m.group()!r}: {why}.", suggestion="Correct the date.",
                   quote=m.group(), confidence=0.9)


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
        # weekday named beside an ISO date that it does not match: "2025-07-26 Saturday"
        for m in re.finditer(r"(?<![\w.-])(\d{4})-(\d{2})-(\d{2}),? \(?([A-Z][a-z]{2,8})\b", text):
            wd = WEEKDAYS.get(m.group(4).lower())
            y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
            if wd is None or valid_date(y, mo, d):
                continue
            real = date(y, mo, d).weekday()
            if real != wd and n < MAX_PER_RULE:
                n += 1
                yield s.index, Finding(
                    type="important", category="timeline date", risk="medium",
                    description=(f"{m.group(1)}-{m.group(2)}-{m.group(3)} was a {calendar.day_name[real]}, "
                                 f"not a {calendar.day_name[wd]}."),
                    suggestion="Correct the date or the weekday.", quote=m.group(), confidence=0.9)
