"""The timeline's sequence: entries listed out of order, and a jump of days to another event.

- `_order_findings`: an entry earlier than the one listed before it (by date, or by clock time
  when both have one); not in a timeline listed newest first, where going back is the order. An
  entry whose year alone is off ("2025-03-05" between two "2024-03-0x" entries), or whose day is
  ("2022-02-20 1930" between two "2022-02-02" entries), is reported once, as a typo, not as the
  entries around it being out of order;
- `_separate_event_findings`: a timeline that covers hours, then jumps days ahead: the later
  entries are another event (a recurrence) folded into this one, and the summary does not say so.
  Once per document.
- `_version_gap_findings`: a timeline listing a project's releases one by one that skips one.
- `_undated_day_findings`: a timeline of clock times only, with no date anywhere, whose times step
  back by hours ("[23:55] ...", then "[07:00] ..."): the next day, or an entry out of order; the
  reader cannot tell which, nor how long the incident lasted. Once per document.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import replace
from datetime import datetime, timedelta

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import MAX_ENTRIES, MAX_PER_RULE, WORD, _is_summary
from redline.jobs.reviewers.consistency_timeline import STAND_IN_DAY, Entry, _default_date, _fmt, _is_timeline_title


def _slips(entries: list[Entry]) -> dict[int, datetime]:
    """id(entry) -> when it should probably be, for a dated entry out of order as written that
    falls between the dated entries just before and after it once one slip is put right:
    - its year, in one of theirs ("2024-03-05", "2025-03-05", "2024-03-06": last year's template;
      "2021-12-01", "2021-01-28", "2022-03-08": the old year kept in January);
    - its day, when both are on one day and its clock time falls between theirs
      ("2022-02-02 1906", "2022-02-20 1930", "2022-02-02 2021": two digits typed in the wrong order)."""
    dated = [e for e in entries[:MAX_ENTRIES] if e.when is not None and e.explicit_date]
    out: dict[int, datetime] = {}
    for a, e, b in zip(dated, dated[1:], dated[2:]):
        if a.when.date() <= e.when.date() <= b.when.date():
            continue
        for y in sorted({a.when.year, b.when.year} - {e.when.year}):
            fixed = _with_year(e.when, y)
            if fixed is not None and a.when.date() <= fixed.date() <= b.when.date():
                out[id(e)] = fixed
                break
        else:
            if a.when.date() == b.when.date() and e.has_time and a.has_time and b.has_time:
                fixed = datetime.combine(a.when.date(), e.when.time())
                if a.when <= fixed <= b.when:
                    out[id(e)] = fixed
    return out


def _with_year(when: datetime, year: int) -> datetime | None:
    try:
        return when.replace(year=year)
    except ValueError:  # February 29
        return None


def _as_meant(entries: list[Entry], slips: dict[int, datetime]) -> list[Entry]:
    """The timed entries with a slipped date put right, for the entry and the time-only entries that
    took their date from it, so that one typo is reported once, as a typo."""
    out, shift = [], timedelta(0)
    for e in entries[:MAX_ENTRIES]:
        if e.when is None or e.when.year == 1:
            continue
        if e.explicit_date:
            shift = e.when - slips[id(e)] if id(e) in slips else timedelta(0)
        out.append(replace(e, when=e.when - shift) if shift else e)
    return out


def _slip_finding(e: Entry, fixed: datetime) -> Finding:
    if fixed.year != e.when.year:
        said, meant, what, at = str(e.when.year), str(fixed.year), "year", "in"
        guess = "a wrong year (a typo, or last year's template)?"
    else:
        said, meant, what, at = str(e.when.date()), str(fixed.date()), "date", "on"
        guess = "a typo in the date?"
    return Finding(type="important", category="timeline date", risk="medium",
                   description=(f"This entry is dated {said}, which puts it out of order; {at} {meant} it falls "
                                f"between the entries around it: {guess}"),
                   suggestion=f"Check the {what} (probably {meant}).", quote=e.quote, confidence=0.8)


def _backwards(e: Entry, prev: Entry) -> str | None:
    if e.when.date() < prev.when.date():
        return "date"
    if e.has_time and prev.has_time and e.when < prev.when:
        return "time"
    return None


def _midnight_missed(e: Entry, prev: Entry) -> bool:
    """Late evening, then early morning, both written with the same date: the date did not move on."""
    return (e.explicit_date and prev.explicit_date and e.has_time and prev.has_time
            and e.when.date() == prev.when.date() and prev.when.hour >= 18 and e.when.hour < 8)


def _order_findings(sections: list[Section], entries: list[Entry]):
    slips = _slips(entries)
    for e in entries[:MAX_ENTRIES]:
        if id(e) in slips and len(slips) <= MAX_PER_RULE:
            yield e.section, _slip_finding(e, slips[id(e)])
    timed = _as_meant(entries, slips)
    back = sum(_backwards(b, a) is not None for a, b in zip(timed, timed[1:]))
    if back >= 2 and back * 2 >= len(timed) - 1:
        return  # newest first (a status page's updates): an order, not a list of mistakes
    prev: Entry | None = None
    n = 0
    for e in timed:
        if n >= MAX_PER_RULE:
            return
        if prev is not None:
            if _backwards(e, prev):
                n += 1
                if _midnight_missed(e, prev):
                    description = (f"The date does not change at midnight: {_when(e)} is listed after {_when(prev)}, "
                                   "on the same day. Either this and the entries after it are on the next day, "
                                   "or the ones before it are dated a day late; as written, the timeline "
                                   "runs backwards and its span cannot be read.")
                    suggestion = "Correct the dates on one side of midnight."
                else:
                    description = f"Timeline entry out of order: {_when(e)} is listed after {_when(prev)}."
                    suggestion = "Put the entries in chronological order (or correct the timestamp)."
                yield e.section, Finding(
                    type="important", category="timeline order", risk="medium",
                    description=description, suggestion=suggestion,
                    quote=e.quote, confidence=0.8,
                    related_section_id=sections[prev.section].id, related_quote=prev.quote)
        prev = e


SEPARATE_EVENT_DAYS = 3  # a jump of more than this many days ...
SEPARATE_EVENT_RATIO = 5  # ... and this many times longer than everything before it


def _separate_event_findings(sections: list[Section], entries: list[Entry], bodies: dict[int, str]):
    """A timeline that covers a few hours, then jumps days ahead: the later entries are another
    event (a recurrence) folded into this one, and the summary should say so. Once per document."""
    timed = _as_meant(entries, _slips(entries))
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


# "aiocpa-0.1.6", "pkg 2.4.1", "v1.12": a name (or nothing) and a dotted version in a timeline entry
_RELEASE = re.compile(r"(?:([A-Za-z][\w.]{0,40}?)[- ]v?|\bv)(\d{1,4}(?:\.\d{1,4}){1,2})(?![\w.]*\d)")
MIN_RUN = 3  # releases one apart before a gap stands out


def _version_gap_findings(sections: list[Section], entries: list[Entry]):
    """A timeline that lists a project's releases one by one (0.1.4, 0.1.5, 0.1.6) and skips one
    (0.1.8 next): the missing release is never mentioned. Was it yanked, never published, or left
    out? Once per document; only when the releases around it are listed without a gap."""
    runs: dict[tuple[str, str], list[tuple[int, Entry, str]]] = {}
    for e in entries[:MAX_ENTRIES]:
        found = {}
        for m in _RELEASE.finditer(e.line[:300]):
            head, _, last = m.group(2).rpartition(".")
            found.setdefault(((m.group(1) or "").lower(), head), []).append((int(last), m.group()))
        for key, vs in found.items():
            if len(vs) == 1:  # an entry naming one release of it ("0.1.12 and 0.1.13" is a comparison)
                runs.setdefault(key, []).append((vs[0][0], e, vs[0][1]))
    text = "\n".join(s.text for s in sections)
    for (name, head), seq in runs.items():
        steps = [b[0] - a[0] for a, b in zip(seq, seq[1:])]
        if steps.count(1) < MIN_RUN or steps.count(2) != 1 or any(x not in (1, 2) for x in steps):
            continue
        k = steps.index(2)
        before, after = seq[k], seq[k + 1]
        missing = f"{head}.{before[0] + 1}"
        if re.search(r"(?<![\d.])" + re.escape(missing) + r"(?![\d]|\.\d)", text):
            continue  # the document does mention it somewhere
        yield after[1].section, Finding(
            type="suggestion", category="timeline: missing entry", risk="low",
            description=(f"The timeline lists {before[2].strip()} and then {after[2].strip()}: release "
                         f"{missing} is never mentioned (not published, removed, or left out?)."),
            suggestion=f"Add {missing} to the timeline, or say why it is not there.",
            quote=after[1].quote, confidence=0.5,
            related_section_id=sections[before[1].section].id, related_quote=before[1].quote)
        return


UNDATED_STEP_BACK_HOURS = 3  # what `resolve_dates` reads as a new day


def _undated_day_findings(sections: list[Section], raw: list[Entry]):
    """`raw`: the timeline as written (before `resolve_dates` gives time-only entries a day)."""
    if any(e.explicit_date or e.day_written for e in raw) \
            or any(_default_date(s.text) for s in sections if _is_timeline_title(s.title)):
        return
    prev: Entry | None = None
    for e in raw[:MAX_ENTRIES]:
        if e.when is None or not e.has_time:
            continue
        if prev is not None and (prev.when - e.when) > timedelta(hours=UNDATED_STEP_BACK_HOURS):
            yield e.section, Finding(
                type="suggestion", category="timeline: undated day", risk="low",
                description=(f"The timeline's times step back from {prev.when:%H:%M} to {e.when:%H:%M}: this entry is on "
                             "the next day (or out of order), but the timeline gives no dates, so the reader cannot "
                             "tell which, nor how long the incident lasted."),
                suggestion="Give each day's date in the timeline (e.g. '2019-05-31 07:00').",
                quote=e.quote, confidence=0.6,
                related_section_id=sections[prev.section].id, related_quote=prev.quote)
            return
        prev = e

