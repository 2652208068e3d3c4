"""The document's timeline, read across sections: its entries, their dates and clock times.

`extract_timeline` finds the entries (lines of a timeline section, or stamped sub-headings under
one) in document order; `resolve_dates` gives time-only entries the date of the entry before them
(or the timeline's "all events happened on" date), reading a step back of hours as midnight passed.
Clock times followed by AM or PM are read on a 12-hour clock ("1:09 PM" is 13:09).
The rules that compare the timeline with the rest of the document (`consistency_durations.py`,
`consistency_order.py`, `consistency_summary.py`, `postmortem.py`) and `hygiene_dates.py` read it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from redline.jobs.models import Section
from redline.jobs.reviewers.consistency_text import (
    CLOCK, DAY_MONTH, HHMM, ISO_DATE, LABEL_CLOCK, MIL_CLOCK, MONTHS, NAMED_DATE, WEEKDAYS, WORD, ZONES, code_mask,
    doc_years, valid_date,
)


# "[03-26 23:04]": a month and day without a year, always followed by a clock time (so "10-15 minutes"
# is not one); read month first, as ISO dates are, unless a timeline's own entries show day first
MONTH_DAY = re.compile(r"(\d{2})-(\d{2})(?=[ T]\d{1,2}:\d{2}(?![\d-]))")
# "07-27-2023", "27/07/2023": month and day in either order, then the year (read by `_numeric_days`)
NUMERIC_DATE = re.compile(r"(\d{1,2})([-/.])(\d{1,2})\2((?:19|20)\d{2})(?![-/.]?\d)")
# "2018-07-08 ca. 18:30", "approx. 14:00": an approximate time is still the entry's time
APPROX = re.compile(r"(?:ca\.?|c\.|circa|approx\.?|approximately|about|around|~)\s?(?=\d{1,2}:\d{2})", re.IGNORECASE)
AMPM_AFTER = re.compile(r" ?([AaPp])\.?[Mm]\b\.?")  # right after a clock time: "7:09 AM", "1:09pm"
STAND_IN_DAY = date(2000, 1, 1)  # the day of a timeline that gives times and no date at all
TIMELINE_WORDS = ("timeline", "chronology", "sequence of events", "time line")
RECOVERY_WORDS = ("returns to normal", "back to normal", "back online", "restored", "resolved", "recovered",
                  "is working", "everything is working", "mitigated", "all clear", "fully operational")


@dataclass
class Entry:
    section: int
    quote: str  # exact substring of sections[section].text
    when: datetime | None  # resolved date and time (date-only entries: midnight, has_time False)
    has_time: bool
    explicit_date: bool
    line: str
    # "[03-26 23:04]": the two numbers, read by `_numeric_days`; "07-27-2023 2:14 pm": and the year
    month_day: tuple[int, ...] | None = None
    day_written: bool = False  # the line gives its day ("Feb 8 0117 UTC"), dated or not (no year anywhere)


def _leading_stamp(line: str, default_year: int | None):
    """Parse a date and/or a clock time at the very start of a timeline line.

    Returns (date | None, minutes | None, bad_reason | None, has_date, the rest of the line, month_day)
    or None if the line does not start with a stamp. Accepted starts: optional bullet, then an ISO date
    and/or a time, a month-name date ("August 15", "Sept 5th, 2024"), optionally a weekday, or a
    month and day before a time ("[03-26 23:04]": `month_day`, dated by `_numeric_days`).
    """
    s = line.lstrip()
    for b in ("- ", "* ", "• ", "+ "):
        if s.startswith(b):
            s = s[len(b):].lstrip()
            break
    s = s.lstrip("*_~").lstrip()  # **bold** stamps, "~13:30" (approximate)
    if (approx := APPROX.match(s)) is not None:
        s = s[approx.end():]  # "ca. 18:30 Launch success drops"
    if s.startswith("[") and (CLOCK.match(s, 1) or MONTH_DAY.match(s, 1)):
        s = s[1:]  # "[13:26] @cblecker reports ...", "[03-26 23:04] ...": a bracketed stamp
    d = None
    bad = None
    rest = s
    pair = None
    with_year = False  # the date gives its year: four digits after it can only be a clock ("2022-02-02 1906")
    m = ISO_DATE.match(s)
    md = MONTH_DAY.match(s) if not m else None
    nd = NUMERIC_DATE.match(s) if not (m or md) else None
    if md:  # the date is read with the timeline's other entries (`_numeric_days`)
        m = md
        pair = (int(md.group(1)), int(md.group(2)))
        rest = s[md.end():].lstrip(" T")
    elif nd:  # so is "07-27-2023": which number is the month, the timeline's other entries tell
        m = nd
        pair = (int(nd.group(1)), int(nd.group(3)), int(nd.group(4)))
        rest = s[nd.end():].lstrip(" ,T")
        with_year = True
    elif m:
        with_year = True
        y, mo, dd = int(m.group(1)), int(m.group(2)), int(m.group(3))
        bad = valid_date(y, mo, dd)
        if not bad:
            d = date(y, mo, dd)
        rest = s[m.end():].lstrip(" ,T")
    else:
        m = NAMED_DATE.match(s)
        if m and not m.group(1)[0].isupper():
            m = None  # "may 5" in lower case is prose, not a date
        dm = DAY_MONTH.match(s) if not m else None
        if dm and not dm.group(2)[0].isupper():
            dm = None
        if dm:  # "19. April, 11:00", "5 March 2024"
            m = dm
            mo = MONTHS[dm.group(2).lower()]
            dd = int(dm.group(1))
            y = int(dm.group(3)) if dm.group(3) else default_year
        elif m:
            mo = MONTHS[m.group(1).lower()]
            dd = int(m.group(2))
            y = int(m.group(3)) if m.group(3) else default_year
        if m:
            with_year = bool(m.group(3))
            if y is not None:
                bad = valid_date(y, mo, dd)
                if not bad:
                    d = date(y, mo, dd)
            rest = s[m.end():].lstrip(" ,")
    minutes = None
    if m and (approx := APPROX.match(rest)) is not None:
        rest = rest[approx.end():]
    # "07:28", "01:38: ...", and "1506 UTC" / "1805hrs" (a clock in four digits, with its zone)
    mt = (CLOCK.match(rest) or LABEL_CLOCK.match(rest) or MIL_CLOCK.match(rest)
          or (HHMM.match(rest) if with_year else None)) if rest else None
    if mt:
        h, mi = int(mt.group(1)), int(mt.group(2))
        ap = AMPM_AFTER.match(rest, mt.end())
        if ap and 1 <= h <= 12:  # "7:09 AM", "1:09 pm": a 12-hour clock
            h = h % 12 + (12 if ap.group(1).lower() == "p" else 0)
        if h < 24 and mi < 60:
            minutes = h * 60 + mi
    if not m and not mt:
        return None
    tail = rest[mt.end():] if mt else rest
    if mt and not m and (after := _date_after_time(tail)) is not None:
        d, bad = after  # "13:15 PST 29 april 2022 - a customer complained ...": the day after the time
        return d, minutes, bad, True, tail, pair
    return d, minutes, bad, (m is not None), tail, pair


# after an entry's time, its zone and then its day, with the year: "13:15 PST 29 april 2022 - ..."
_ZONE_AFTER = re.compile(r" ?(?:[AaPp]\.?[Mm]\b\.?)?\s*\(?([A-Z]{1,5})?\)?[ ,]*(?:on\s+)?")


def _date_after_time(tail: str) -> tuple[date | None, str | None] | None:
    """The day an entry gives right after its time and zone, when it names its year (in lower case
    too: the year makes "29 april 2022" a date): (the date or None, why it is impossible)."""
    z = _ZONE_AFTER.match(tail)
    at = z.end() if z and (z.group(1) is None or z.group(1) in ZONES) else 0
    for pattern, order in ((DAY_MONTH, (3, 2, 1)), (NAMED_DATE, (3, 1, 2))):
        m = pattern.match(tail, at)
        if m and m.group(3):
            y, mo, dd = int(m.group(order[0])), MONTHS[m.group(order[1]).lower()], int(m.group(order[2]))
            bad = valid_date(y, mo, dd)
            return (None if bad else date(y, mo, dd)), bad
    m = ISO_DATE.match(tail, at)
    if m:
        bad = valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        return (None if bad else date(int(m.group(1)), int(m.group(2)), int(m.group(3)))), bad
    return None


def _default_date(text: str) -> date | None:
    """'Unless otherwise noted all events happened on 2019-10-21' -> that date."""
    low = text.lower()
    for key in ("unless otherwise noted", "all events happened on", "all events occurred on", "all times are on"):
        k = low.find(key)
        if k >= 0:
            m = ISO_DATE.search(text, k, k + 200)
            if m and not valid_date(int(m.group(1)), int(m.group(2)), int(m.group(3))):
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def _is_timeline_title(title: str) -> bool:
    low = title.lower()
    return any(w in low for w in TIMELINE_WORDS)


def _title_stamp(title: str, default_year: int | None):
    t = title.strip()
    if len(t) > 40:
        return None
    if len(t) > 100:
        return None
    got = _leading_stamp(t, default_year)
    if got is None:
        return None
    # the title must be the stamp, maybe a zone or weekday, then nothing or a separator and a label
    # ("21:00 - Team alerted"); not prose that happens to start with a number
    tail = got[4].strip()
    words = [w for w in WORD.findall(tail) if w.lower() not in WEEKDAYS and w.upper() not in ZONES]
    if not words or tail[:1] in ("-", "\u2013", "\u2014", ":", "|", "(", "[") or len(words) <= 1:
        return got
    return None


def _first_line_quote(text: str) -> str | None:
    for line in text.splitlines():
        q = line.strip()
        if q:
            return q[:300]
    return None


# A log line quoted in a timeline (where nothing marks it as code: a .txt, or a .docx that lost its
# code block), not an entry of it: a stamp to the millisecond, or a log level after the stamp.
# "2017-09-29 00:46:54,810 WARNING Retrying ...", "[E 2017-09-29 00:46:54.814 JupyterHub ...]".
_LOG_LINE = re.compile(r"\s*(?:\[[A-Z] )?\S*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}[,.]\d{3}"
                       r"|\s*\S*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?\S*\s+(?:DEBUG|INFO|WARN|WARNING|ERROR|"
                       r"CRITICAL|FATAL|TRACE)\b")


def extract_timeline(sections: list[Section]) -> list[Entry]:
    """Timeline entries, in document order, with dates carried forward from earlier entries."""
    years = doc_years(sections)
    default_year = max(set(years), key=years.count) if years else None
    entries: list[Entry] = []
    in_timeline_block = False
    block_level = 0
    for s in sections:
        title_is_stamp = _title_stamp(s.title, default_year)
        if _is_timeline_title(s.title):
            in_timeline_block = True
            block_level = s.level
        elif title_is_stamp is None and in_timeline_block and s.level <= block_level:
            in_timeline_block = False
        if title_is_stamp is not None and (in_timeline_block or s.level > 1 or title_is_stamp[1] is not None):
            d, minutes, bad, has_date, _, pair = title_is_stamp
            q = _first_line_quote(s.text)
            if q is not None:
                entries.append(_mk_entry(s.index, q, d, minutes, has_date, s.title, pair))
            continue
        if not _is_timeline_title(s.title) and not (in_timeline_block and title_is_stamp is None and s.level > block_level):
            continue
        mask = None
        pos = 0
        for raw in s.text.splitlines(keepends=True):
            line = raw.rstrip("\r\n")
            start = pos
            pos += len(raw)
            if not line.strip():
                continue
            got = _leading_stamp(line, default_year)
            if got is None:
                continue
            if mask is None:
                mask = code_mask(s.text)
            if mask[start + len(line) - len(line.lstrip())]:
                continue
            d, minutes, bad, has_date, _, pair = got
            if d is None and minutes is None or _LOG_LINE.match(line):
                continue
            entries.append(_mk_entry(s.index, line.strip()[:300], d, minutes, has_date, line, pair))
    _numeric_days(entries, default_year)
    return entries


def _mk_entry(section: int, quote: str, d, minutes, has_date, line, pair=None) -> Entry:
    when = None
    if d is not None:
        when = datetime(d.year, d.month, d.day) + timedelta(minutes=minutes or 0)
    elif minutes is not None:
        when = datetime(1, 1, 1) + timedelta(minutes=minutes)  # date resolved later
    return Entry(section, quote, when, minutes is not None, has_date and d is not None, line, pair, has_date)


def _numeric_days(entries: list[Entry], default_year: int | None) -> None:
    """Date the "[03-26 23:04]" entries (a month and a day, no year). Month first, as in ISO dates, unless
    one of the timeline's pairs can only be day first ("[26-03 ...]"). The year is the document's; a
    timeline that runs across New Year ("[12-05 ...]" then "[03-20 ...]") gives each earlier stretch the
    year before, so that the stretch nearest the end, where the incident is, keeps the document's."""
    numeric = [e for e in entries if e.month_day is not None]
    if not numeric or default_year is None and any(len(e.month_day) < 3 for e in numeric):
        return
    day_first = any(pair[0] > 12 for pair in (e.month_day for e in numeric))
    days: list[tuple[Entry, int, int]] = []
    for e in numeric:
        a, b = e.month_day[:2]
        mo, d = (b, a) if day_first else (a, b)
        if valid_date(2000, mo, d) is None:  # a leap year: any real month and day
            days.append((e, mo, d))
    year = default_year
    later: tuple[int, int] | None = None
    for e, mo, d in reversed(days):
        if later is not None and (mo - later[0]) * 31 + d - later[1] > 183:
            year -= 1  # December before March: the year before
        later = (mo, d)
        if len(e.month_day) == 3:
            year = e.month_day[2]  # "07-27-2023": its own year
        if year is not None and valid_date(year, mo, d) is None:
            minutes = e.when.hour * 60 + e.when.minute if e.when is not None else 0
            e.when = datetime(year, mo, d) + timedelta(minutes=minutes)
            e.explicit_date = True


def resolve_dates(entries: list[Entry], sections: list[Section]) -> list[Entry]:
    """Give time-only entries the date of the latest dated entry (or the timeline's default date).

    A time-only entry that goes back by more than 12 hours is read as having crossed midnight.
    Entries whose date cannot be known keep `when` None.
    """
    defaults = {i: _default_date(s.text) for i, s in enumerate(sections) if _is_timeline_title(s.title)}
    default = next((d for d in defaults.values() if d is not None), None)
    current: date | None = None
    first_date = next((e.when.date() for e in entries if e.explicit_date), None)
    prev: datetime | None = None
    out = []
    for e in entries:
        if e.explicit_date:
            if default is None or not e.has_time:
                current = e.when.date()
            out.append(e)
            prev = e.when
            continue
        if e.when is None:
            out.append(e)
            continue
        # before any dated entry: the timeline's first date, or (no dates at all) a stand-in day, which is
        # enough for order and spans between its own entries
        base = default or current or first_date or STAND_IN_DAY
        minutes = e.when.hour * 60 + e.when.minute
        when = datetime(base.year, base.month, base.day) + timedelta(minutes=minutes)
        if prev is not None and default is None and when < prev and (prev - when) > timedelta(hours=3):
            # a time-only entry far behind the previous one: read as a new day (midnight passed, or a date
            # heading we could not read), never as an ordering error
            when += timedelta(days=1)
            current = when.date()
        elif prev is not None and default is None and e.day_written and when.date() == prev.date():
            when += timedelta(days=1)  # "Feb 9 1924 UTC" after "1447 UTC" (no year anywhere): a new day at least
            current = when.date()
        out.append(Entry(e.section, e.quote, when, e.has_time, False, e.line, day_written=e.day_written))
        prev = when
    return out


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def span_ends(first: datetime, last: datetime) -> tuple[str, str]:
    """How a span of the timeline is written for the reader: its clock times within one day, the
    days counted for a timeline of times alone (its stand-in day is never shown: "20:09 to 00:40
    the next day"), else full dates."""
    if first.date() == last.date():
        return first.strftime("%H:%M"), last.strftime("%H:%M")
    if first.date() == STAND_IN_DAY:
        days = (last.date() - first.date()).days
        return first.strftime("%H:%M"), last.strftime("%H:%M ") + ("the next day" if days == 1 else f"{days} days later")
    return _fmt(first), _fmt(last)


def _entry_bodies(sections: list[Section], entries: list[Entry]) -> dict[int, str]:
    """Each entry's text: from its quote to the next entry's quote in the same section (or the end)."""
    out: dict[int, str] = {}
    by_section: dict[int, list[tuple[int, Entry]]] = {}
    for e in entries:
        text = sections[e.section].text
        by_section.setdefault(e.section, [])
        after = by_section[e.section][-1][0] + 1 if by_section[e.section] else 0
        k = text.find(e.quote, after)
        by_section[e.section].append((k if k >= 0 else after, e))
    for sec, items in by_section.items():
        text = sections[sec].text
        for j, (k, e) in enumerate(items):
            end = items[j + 1][0] if j + 1 < len(items) else len(text)
            out[id(e)] = text[k:max(end, k)]
    return out
