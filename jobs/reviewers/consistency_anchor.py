"""When it happened, said only relatively or by the month: "Last week, the project suffered an
attack", "In March and April 2023 we received three subpoenas", and no date anywhere to anchor it.

A reader who finds the write-up later cannot tell when the events were, and nothing can be
checked against logs or other reports. `_unanchored_findings` reports the first such phrase of the
document (once per document), and only when the document gives no day-level date that could anchor
it (a date the file gives itself, as a blog post's front matter does, anchors every phrase): any
calendar date with a day ("2024-11-21", "March 5", "5 March 2024") does for a relative phrase; for
a month-only one, a date in that phrase's year or later does (then the month is history told
before the dated events; an older date, "records kept since 2002-11-01", is background).

Linear in the text: a few bounded regexes, one pass each.
"""

from __future__ import annotations

import calendar
import re

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import (
    DAY_MONTH, ISO_DATE, NAMED_DATE, code_mask, sentence_around, valid_date,
)


_NUMBER = r"(?:a|one|two|three|four|five|six|seven|eight|nine|ten|a few|several|\d{1,2})"
# "last week", "yesterday", "earlier this month", "three days ago", "over the past few days"
RELATIVE = re.compile(
    r"\b(?:last (?:week(?:end)?|month|night)|yesterday|earlier (?:today|this (?:week|month|morning))|"
    r"this (?:past )?(?:week(?:end)?|morning)|(?:over )?the (?:past|last) (?:few|couple of|several) (?:days|weeks)|"
    + _NUMBER + r" (?:days?|weeks?) ago)\b", re.IGNORECASE)
_MONTH = "|".join(m for m in calendar.month_name if m)
# "In March 2023", "in March and April 2023", "during late May 2024", "between June and August 2022"
MONTH_ONLY = re.compile(
    r"\b(?:[Ii]n|[Dd]uring|[Tt]hroughout|[Bb]etween) (?:(?:early|mid|late)[ -])?(?:" + _MONTH + r")"
    r"(?:(?: and| or| to| through|-|/) ?(?:(?:early|mid|late)[ -])?(?:" + _MONTH + r"))?,? ((?:19|20)\d{2})\b"
    r"(?![-/.]\d)")


def _day_dates(sections: list[Section]):
    """Every date with a day in it (year or None), titles included: what could anchor a vague date."""
    for s in sections:
        for t in (s.title, s.text):
            for m in ISO_DATE.finditer(t):
                y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
                if not valid_date(y, mo, d):
                    yield y
            for rx, mon, day in ((NAMED_DATE, 1, 2), (DAY_MONTH, 2, 1)):
                for m in rx.finditer(t):
                    if m.group(mon)[0].isupper() and 1 <= int(m.group(day)) <= 31:
                        yield int(m.group(3)) if m.group(3) else None


def _first_vague(sections: list[Section]):
    """(section index, match, year or None) of the document's first relative or month-only date."""
    for s in sections:
        text = s.text
        mask = None
        best = None
        for rx, has_year in ((RELATIVE, False), (MONTH_ONLY, True)):
            for m in rx.finditer(text):
                if mask is None:
                    mask = code_mask(text)
                if mask[m.start()]:
                    continue
                if best is None or m.start() < best[0].start():
                    best = (m, int(m.group(1)) if has_year else None)
                break
        if best is not None:
            return s.index, best[0], best[1]
    return None


def _unanchored_findings(sections: list[Section], date: str | None = None):
    """`date`: the day the file gives itself (a blog post's front matter, "date: 2025-07-28"): "over
    the past few days" is then the days before it, as its readers read it under the post's date."""
    got = _first_vague(sections)
    if got is None or date:
        return
    i, m, year = got
    for y in _day_dates(sections):
        if year is None or y is None or y >= year - 1:
            return  # the write-up dates its events (then or later) somewhere: the vague phrase is anchored
    text = sections[i].text
    phrase = m.group().strip()
    quote = sentence_around(text, m.start(), m.end(), 160)
    if year is None:
        what = (f"'{phrase}' is the only indication of when this happened: the write-up gives no date, so a "
                "reader who finds it later cannot tell when it was, and nothing can be checked against logs.")
    else:
        what = (f"'{phrase}' is as precise as the write-up gets: no event is given a date, so their order and "
                "the delays between them cannot be checked.")
    yield i, Finding(
        type="suggestion", category="timeline: no dates", risk="medium", description=what,
        suggestion="Give the dates (and times, with a time zone, where they matter) of the key events, "
                   "e.g. as a short timeline.",
        questions=["On which dates did the key events happen?"], quote=quote, confidence=0.6)
