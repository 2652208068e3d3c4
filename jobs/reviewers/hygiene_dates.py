"""Dates, times and time zones a copy-editor would query.

- `_malformed_times`: a clock time that cannot be (25:10, 14:75);
- `_missing_zone`: a timeline with clock times and no time zone anywhere in the document (once
  per document, on its first timed entry);
- `_yearless_dates`: dates without a year in a document that never names one (once per document);
- `_twelve_hour_clock`: timeline times with no AM/PM that never pass 12 ("4:19" ... "9:14") in a
  document that writes "6pm" elsewhere (once per document);
- `_mixed_clock`: morning times written two ways on a 24-hour clock, "09:15 UTC" and "9:30 UTC"
  (once per document, on the first time of the rarer way).

A zone may be named by its region after a time ("7:09 AM Eastern").

What holds for the whole document (does it name a zone, a year; its timeline) is computed once
per document and cached, not once per section.
"""

from __future__ import annotations

import re
from functools import lru_cache

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import (
    CLOCK, NAMED_DATE, Lines, code_mask, doc_years, sentence_around, states_zone,
)
from redline.jobs.reviewers.consistency_timeline import extract_timeline
from redline.jobs.reviewers.hygiene_text import MAX_PER_RULE, _prose_line


_AMPM_AFTER = re.compile(r"\s?[aApP]\.?[mM]\b\.?")


def _malformed_times(section: Section) -> list[Finding]:
    text = section.text
    mask = None
    out = []
    mixes: list[tuple[str, str, str]] = []  # (the time, as written with its am/pm, the am/pm)
    for m in CLOCK.finditer(text):
        h, mi = int(m.group(1)), int(m.group(2))
        sec = int(m.group(3)) if m.group(3) else 0
        ampm = _AMPM_AFTER.match(text, m.end())
        mixed = ampm is not None and (h > 12 or h == 0)  # "17:14pm": a 24-hour time read as 12-hour
        if (h < 24 and mi < 60 and sec < 61 or (h == 24 and mi == 0)) and not mixed:
            continue
        if len(out) >= MAX_PER_RULE:
            break
        if mask is None:
            mask = code_mask(text)
            lines = Lines(text)
        ls, le = lines.span(m.start())
        starts_line = text[ls:min(le, ls + 12)].lstrip("-*• ").startswith(m.group())
        if mask[m.start()] or not lines.test(m.start(), "prose", _prose_line) and not starts_line and not mixed:
            continue
        # ratios and scores ("3:45" is fine, "40:60 split" is not a clock)
        if any(w in text[m.end():m.end() + 12].lower() for w in ("split", "ratio", "odds")):
            continue
        if mixed:
            mixes.append((m.group(), m.group() + ampm.group(), ampm.group().strip()))
            continue
        out.append(Finding(type="important", category="date format: malformed time", risk="medium",
                           description=f"'{m.group()}' is not a valid clock time.",
                           suggestion="Correct the time.", quote=m.group(), confidence=0.8))
    if mixes:  # one slip made several times ("17:14pm", then "17:30pm"): one finding, on the first
        (time, quote, suffix), more = mixes[0], [q for _, q, _ in mixes[1:]]
        also = f" ({_listed(more)} too)" if more else ""
        out.insert(0, Finding(type="important", category="date format: malformed time", risk="medium",
                              description=f"'{quote}' mixes a 24-hour time with '{suffix}'{also}: the reader cannot "
                                          "tell which clock was meant.",
                              suggestion=f"Write '{time}' (24-hour) or the 12-hour time with its am/pm"
                                         + (", and the same for the others." if more else "."),
                              quote=quote, confidence=0.8))
    return out


def _listed(quotes: list[str]) -> str:
    shown = [f"'{q}'" for q in quotes[:3]] + ([f"{len(quotes) - 3} more"] if len(quotes) > 3 else [])
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _document_facts(sections: list[Section]) -> tuple[bool, bool]:
    """(names a time zone, names a year): once per document, not once per section (that was
    quadratic in the number of sections: 30 s on a 1,400-section write-up)."""
    return _facts_cached(tuple((s.id, s.title, s.text) for s in sections))


@lru_cache(maxsize=8)
def _facts_cached(key: tuple) -> tuple[bool, bool]:
    secs = [Section(id=i, title=t, index=k, text=x) for k, (i, t, x) in enumerate(key)]
    years = bool(doc_years(secs)) or any(ISO_DATE.search(t) for s in secs for t in (s.title, s.text))
    return states_zone(secs) or any(_names_us_zone(t) for s in secs for t in (s.title, s.text)), years


ISO_DATE = re.compile(r"\b(?:19|20)\d{2}-[01]\d-[0-3]\d\b")  # "DNS Outage on 2023-01-25" names its year


# A zone named by its region after a time or in "all times ...": "7:09 AM Eastern", "10am Pacific",
# "All times are US Central". (The abbreviations, "UTC+2", "local time" are `states_zone`'s.)
US_ZONE = re.compile(r"(?:\d:\d\d(?::\d\d)?(?:\s?[AaPp]\.?[Mm]\.?)?|\d\s?[AaPp]\.?[Mm]\.?|\b[Tt]imes?(?: are)?"
                     r"(?: in)?(?: the)?)\s(?:US\s)?"
                     r"\(?(?:Eastern|Pacific|Central|Mountain|Alaska|Hawaii)\b")


def _names_us_zone(text: str) -> bool:
    return US_ZONE.search(text) is not None


def _timeline_entries(sections: list[Section]):
    return _entries_cached(tuple((s.id, s.title, s.text, s.level) for s in sections))


@lru_cache(maxsize=8)
def _entries_cached(key: tuple):
    secs = [Section(id=i, title=t, index=k, text=x, level=lv) for k, (i, t, x, lv) in enumerate(key)]
    return extract_timeline(secs)


def _missing_zone(section: Section, sections: list[Section]) -> list[Finding]:
    """Once per document: the first timeline entry with a clock time, when no zone is named anywhere."""
    entries = _timeline_entries(sections)
    timed = [e for e in entries if e.has_time]
    if len(timed) < 2 or _document_facts(sections)[0]:
        return []
    first = timed[0]
    pos = next((i for i, s in enumerate(sections) if s.id == section.id), None)
    if pos != first.section:
        return []
    return [Finding(type="important", category="timezone", risk="medium",
                    description="The timeline gives clock times but the document never says which time zone "
                                "they are in.",
                    suggestion="State the time zone once at the top of the timeline (e.g. 'All times in UTC').",
                    quote=first.quote, confidence=0.7)]


def _yearless_dates(section: Section, sections: list[Section]) -> list[Finding]:
    """Dates with no year in a document that never names a year: the timeline cannot be placed."""
    if _document_facts(sections)[1]:
        return []
    text = section.text
    m = NAMED_DATE.search(text)
    while m and (m.group(1)[0].islower() or m.group(3)):
        m = NAMED_DATE.search(text, m.end())
    if not m:
        return []
    # only the first such date in the document
    for s in sections:
        if s.id == section.id:
            break
        mm = NAMED_DATE.search(s.text)
        while mm and mm.group(1)[0].islower():
            mm = NAMED_DATE.search(s.text, mm.end())
        if mm:
            return []
    q = sentence_around(text, m.start(), m.end(), 80)
    return [Finding(type="suggestion", category="date format: no year", risk="low",
                    description=f"'{m.group()}' has no year, and the document never gives one.",
                    suggestion="Give full dates (with the year, and times with a time zone where they matter).",
                    quote=q, confidence=0.7)]


# "6pm", "6 a.m.", "11:30 PM": a 12-hour time, with its AM/PM.
AMPM = re.compile(r"(?<![\w:.])\d{1,2}(?::\d{2})?\s?(?:[AaPp]\.[Mm]\.|[AaPp][Mm]\b)")
AMPM_AFTER = re.compile(r"\s?(?:[AaPp]\.[Mm]\.|[AaPp][Mm]\b)")


def _twelve_hour_clock(section: Section, sections: list[Section]) -> list[Finding]:
    """Once per document: timeline times with no AM/PM ('4:19', '9:14', never past 12, not
    zero-padded as a 24-hour clock would be) in a document that writes 12-hour times elsewhere
    ('traffic builds from 6pm'): the reader cannot tell morning from evening."""
    entries = _timeline_entries(sections)
    timed = [e for e in entries if e.has_time]
    if len(timed) < 4:
        return []
    pos = next((i for i, s in enumerate(sections) if s.id == section.id), None)
    if pos != timed[0].section:
        return []
    raw_hours, times = [], []
    for e in timed:
        m = CLOCK.search(e.line)
        if m is None or AMPM_AFTER.match(e.line, m.end()):
            return []  # a time written otherwise, or with its AM/PM
        raw_hours.append(m.group(1))
        times.append(m.group())
    hours = [int(h) for h in raw_hours]
    if min(hours) < 1 or max(hours) > 12 or all(len(h) == 2 for h in raw_hours):
        return []  # past 12 or at 0: a 24-hour clock; "07:33" zero-padded: a 24-hour clock too
    if not _uses_ampm(sections):
        return []
    first = timed[0]
    return [Finding(type="important", category="date format: 12-hour clock without AM/PM", risk="medium",
                    description=(f"The timeline's times ({times[0]} to {times[-1]}) have no AM or "
                                 "PM and never pass 12, while the document writes 12-hour times elsewhere: each "
                                 "entry could be morning or evening."),
                    suggestion="Use a 24-hour clock in the timeline, or add AM/PM to every time.",
                    quote=first.quote, confidence=0.6)]


def _uses_ampm(sections: list[Section]) -> bool:
    return _ampm_cached(tuple((s.title, s.text) for s in sections))


@lru_cache(maxsize=8)
def _ampm_cached(key: tuple) -> bool:
    return any(AMPM.search(t) is not None for pair in key for t in pair)


def _mixed_clock(section: Section, sections: list[Section]) -> list[Finding]:
    """Once per document: hours before 10 written both zero-padded and not ("09:15", "9:30"), none
    with AM/PM, outside code; on the section holding the first time of the rarer way (the bare one
    when as many)."""
    found = _clock_forms_cached(tuple((s.id, s.text) for s in sections))
    if found is None or found[0] != section.id:
        return []
    _, quote, other = found
    bare = quote if len(quote) == 4 else other
    return [Finding(type="suggestion", category="date format: times written two ways", risk="low",
                    description=(f"Times are written two ways: '{other}' and '{quote}'. Written one way (with the "
                                 "leading zero, as a 24-hour clock has it), they read and compare at a glance."),
                    suggestion=f"Write every time the same way, with the leading zero ('{bare.zfill(5)}').",
                    quote=quote, confidence=0.6)]


@lru_cache(maxsize=8)
def _clock_forms_cached(key: tuple) -> tuple[str, str, str] | None:
    """(section id, the first time written the rarer way, a time written the other way), or None."""
    padded: list[tuple[str, str]] = []
    bare: list[tuple[str, str]] = []
    for sid, text in key:
        mask = None
        for m in CLOCK.finditer(text):
            if int(m.group(1)) >= 10 or int(m.group(2)) > 59 or m.group(3) or _AMPM_AFTER.match(text, m.end()):
                continue
            mask = mask if mask is not None else code_mask(text)
            if mask[m.start()]:
                continue
            (padded if len(m.group(1)) == 2 else bare).append((sid, m.group()))
            if len(padded) + len(bare) > 4000:
                break
    if not padded or not bare:
        return None
    rare, common = (padded, bare) if len(padded) < len(bare) else (bare, padded)
    return rare[0][0], rare[0][1], common[0][1]

