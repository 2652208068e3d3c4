"""A time zone named for the wrong half of the year: "All times in PST" over a timeline of
27 September, when Pacific clocks were on daylight time (PDT, UTC-7), not standard time (UTC-8).

Read as written, every time is an hour off for a reader who converts it, and the reader cannot
tell which the author meant: the clocks of the day, or the offset the name gives. The zone's
rules come from the IANA time zone database (`zoneinfo`), so they hold for any year.

Only names that mean one zone and one half of the year are read:
- a standard-time name used in summer: PST, EST, CET (not MST, which Arizona keeps all year;
  not CST, which is also China's; not GMT, which many use for UTC);
- a daylight-time name used in winter: PDT, EDT, CDT, MDT, CEST, BST.

The dates are the timeline's own: the dated entries of the section that names the zone, else
every dated entry of the document. Only when the name is wrong on every one of them (a timeline that
crosses the change is read either way) is it reported, once per name.

`_stated_zone_findings`: a timeline that says its zone ("Timeline (all times Pacific Time)") while
its entries each name another ("June 7th, 2024, 13:00 (UTC): ..."): the reader cannot tell which.
Names of one clock agree (PST, PDT, PT and "Pacific"; UTC, GMT and Z); an entry that names two
zones ("13:14 EDT (17:14 UTC)") agrees if either does. Reported only when two or more entries name
a zone and none agrees with the statement.

`_offset_findings`: an entry whose own text (a pasted alert) gives its moment in UTC at the same
minute, whole hours away from what the stated zone makes of the entry's time ("12:42 PM" under
"times in BST" beside "Violation started ... at 4:42PM UTC"): the stated zone is not the times' zone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_durations import start_field
from redline.jobs.reviewers.consistency_summary import _ZONE_TOKEN
from redline.jobs.reviewers.consistency_text import MAX_ENTRIES, code_mask, in_spans, sentence_around, url_spans
from redline.jobs.reviewers.consistency_timeline import Entry

# name -> (the IANA zone it belongs to, its region as a reader names it)
_ONE_HALF: dict[str, tuple[str, str]] = {
    "PST": ("America/Los_Angeles", "Pacific"), "PDT": ("America/Los_Angeles", "Pacific"),
    "EST": ("America/New_York", "Eastern"), "EDT": ("America/New_York", "Eastern"),
    "CDT": ("America/Chicago", "Central"), "MDT": ("America/Denver", "Mountain"),
    "CET": ("Europe/Berlin", "Central European"), "CEST": ("Europe/Berlin", "Central European"),
    "BST": ("Europe/London", "UK"),
}
_DAYLIGHT = frozenset({"PDT", "EDT", "CDT", "MDT", "CEST", "BST"})
# each name's other half: "All times in PST/PDT" names both, and is right all year
_OTHER_HALF = {"PST": "PDT", "PDT": "PST", "EST": "EDT", "EDT": "EST", "CDT": "CST", "MDT": "MST", "CET": "CEST",
               "CEST": "CET", "BST": "GMT"}


@lru_cache(maxsize=512)
def _name_on(zone: str, day: date) -> tuple[str, str] | None:
    """(the zone's name at noon that day, its UTC offset as "UTC-7"), or None without zone rules."""
    try:
        at = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError):
        return None
    hours = at.utcoffset().total_seconds() / 3600
    return at.tzname() or "", f"UTC{hours:+g}".replace("-", "\u2212")


def daylight_slip(name: str, days: list[date]) -> tuple[str, str, str] | None:
    """When the zone `name` is the wrong half of the year on every one of `days`: (the name those
    days had, its offset as "UTC−7", the region as a reader names it). None when it is right on one
    of them, when the name is not one this reads, or without zone rules."""
    if name not in _ONE_HALF or not days:
        return None
    zone, region = _ONE_HALF[name]
    names = [_name_on(zone, d) for d in days]
    if any(n is None or n[0] == name for n in names):
        return None
    right, offset = names[0]
    return right, offset, region


def _daylight_findings(sections: list[Section], entries: list[Entry]) -> Iterator[tuple[int, Finding]]:
    # the days the entries give (a time alone is dated by carrying a stand-in day: not a date)
    dated = [e for e in entries if e.when is not None and e.explicit_date]
    start = start_field(sections) if not dated else None  # no timeline's days: the start field's ("Start Time | ...")
    if not dated and start is None:
        return
    field = start[2] if start else None
    done: set[str] = set()
    for s in sections:
        # the heading may name it ("Timeline (all times PST) 07/27/2023 - 07/31/2023"): then there is no
        # text to quote, and the finding says where
        for text, in_title in ((s.title, True), (s.text, False)):
            mask, urls = code_mask(text), url_spans(text)
            for m in _ZONE_TOKEN.finditer(text):
                name = m.group()
                if name not in _ONE_HALF or name in done or mask[m.start()] or in_spans(m.start(), urls):
                    continue
                if _OTHER_HALF[name] in text[max(0, m.start() - 12):m.end() + 12]:
                    continue  # "PST/PDT", "CET or CEST": both halves named
                done.add(name)  # the first mention decides, so one name is one finding
                days = sorted({e.when.date() for e in dated if e.section == s.index}) or \
                    sorted({e.when.date() for e in dated}) or [field]
                slip = daylight_slip(name, days)
                if slip is None:
                    continue
                right, offset, region = slip
                yield s.index, Finding(
                    type="suggestion", category="timezone: daylight", risk="low",
                    description=(f"The times are given in {name}{' (in the heading)' if in_title else ''}, but on "
                                 f"{_days(days)} {region} clocks were on {_half(name)}: {right}, {offset}. Read as "
                                 "written, every time is an hour off for a reader who converts it."),
                    suggestion=f"Write {right} (or give the times in UTC), so the offset matches the dates.",
                    quote=None if in_title else sentence_around(text, m.start(), m.end(), 160), confidence=0.6)


# "all times Pacific Time", "All times are in UTC", "(all times in PST)": what the timeline says its zone is
_ALL_TIMES = re.compile(r"\b(?:all\s+)?times\s+(?:are\s+|were\s+)?(?:(?:given|shown|listed|written)\s+)?(?:in\s+)?"
                        r"\(?([A-Za-z]{1,10})\b", re.I)
# the clock a zone's name belongs to
_CLOCKS = {"pst": "pacific", "pdt": "pacific", "pt": "pacific", "pacific": "pacific",
           "est": "eastern", "edt": "eastern", "et": "eastern", "eastern": "eastern",
           "cst": "central", "cdt": "central", "ct": "central", "central": "central",
           "mst": "mountain", "mdt": "mountain", "mt": "mountain", "mountain": "mountain",
           "utc": "utc", "gmt": "utc", "z": "utc", "zulu": "utc", "cet": "cet", "cest": "cet",
           "bst": "uk", "ist": "ist", "jst": "jst", "aest": "aest", "aedt": "aest"}
_ENTRY_ZONE = re.compile(r"\b([A-Z]{2,4}T|UTC|GMT)\b")


def _stated_zone_findings(sections: list[Section], entries: list[Entry]) -> Iterator[tuple[int, Finding]]:
    timed = [e for e in entries if e.has_time]
    for s in sections:
        mine = [e for e in timed if e.section == s.index]
        if len(mine) < 2:
            continue
        for text, in_title in ((s.title, True), (s.text[:300], False)):
            m = _ALL_TIMES.search(text)
            if m is None or m.group(1).lower() not in _CLOCKS:
                continue
            said = _CLOCKS[m.group(1).lower()]
            named = [{_CLOCKS.get(z.lower(), z) for z in _ENTRY_ZONE.findall(e.line[:120])} for e in mine]
            named = [n for n in named if n]
            if len(named) < 2 or any(said in n for n in named):
                break
            others = sorted({z for n in named for z in n})
            first = next(e for e in mine if _ENTRY_ZONE.search(e.line[:120]))
            yield s.index, Finding(
                type="important", category="timezone: stated vs entries", risk="medium",
                description=(f"The timeline says all times are {m.group(1)}{' (in the heading)' if in_title else ''},"
                             f" but its entries are marked {', '.join(z.upper() for z in others)}: the reader "
                             "cannot tell which zone the times are in."),
                suggestion="Give every time in one zone, and say that zone once, as the entries do.",
                quote=first.quote if in_title else sentence_around(text, m.start(), m.end(), 160),
                confidence=0.6)
            break


# the hours a zone's name adds to UTC, where the name says it (a region's name depends on the day)
_OFFSET_HOURS = {"utc": 0, "gmt": 0, "z": 0, "zulu": 0, "pst": -8, "pdt": -7, "est": -5, "edt": -4, "cst": -6,
                 "cdt": -5, "mst": -7, "mdt": -6, "bst": 1, "cet": 1, "cest": 2, "ist": 5.5, "jst": 9,
                 "aest": 10, "aedt": 11}
# a region's name ("Pacific", and "PT") and the zone it means, from `_ONE_HALF`'s
_REGION_ZONES = {region.lower(): zone for zone, region in _ONE_HALF.values()}
_REGION_ZONES.update(pt=_REGION_ZONES["pacific"], et=_REGION_ZONES["eastern"], ct=_REGION_ZONES["central"],
                     mt=_REGION_ZONES["mountain"])
# a clock time the entry's own text gives in UTC: "Violation started: July 11, 2025 at 4:42PM UTC"
_UTC_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?::\d{2})?\s?([AaPp]\.?[Mm]\.?)?\s?(?:UTC|GMT|Z)\b")


def _offset_minutes(name: str, day: date) -> int | None:
    low = name.lower()
    if low in _OFFSET_HOURS:
        return int(_OFFSET_HOURS[low] * 60)
    zone = _REGION_ZONES.get(low)
    if zone is None:
        return None
    try:
        offset = datetime(day.year, day.month, day.day, 12, tzinfo=ZoneInfo(zone)).utcoffset()
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return int(offset.total_seconds() // 60) if offset is not None else None


def _offset_findings(sections: list[Section], entries: list[Entry],
                     bodies: dict[int, str]) -> Iterator[tuple[int, Finding]]:
    """An entry whose own text gives its moment in UTC an exact number of hours from what the
    timeline's stated zone makes of its time ("### July 11, 2025, 12:42 PM" under "Timeline (times in
    BST)", alerting "Violation started: July 11, 2025 at 4:42PM UTC": 12:42 BST is 11:42 UTC). The
    same minute hours apart is the same moment in another zone: the stated zone is wrong. Once."""
    for s in sections:
        mine = [e for e in entries if e.section == s.index and e.has_time and e.when is not None]
        m = _ALL_TIMES.search(s.title) or _ALL_TIMES.search(s.text[:300])
        if not mine or m is None:
            continue
        for e in mine[:MAX_ENTRIES]:
            offset = _offset_minutes(m.group(1), e.when.date())
            if offset is None:
                break
            body = bodies.get(id(e), e.line)[:600]
            u = _UTC_CLOCK.search(body)
            if u is None:
                continue
            h, mi = int(u.group(1)), int(u.group(2))
            if u.group(3) and 1 <= h <= 12:
                h = h % 12 + (12 if u.group(3)[0].lower() == "p" else 0)
            said = (e.when.hour * 60 + e.when.minute - offset) % 1440
            gap = (h * 60 + mi - said) % 1440
            gap = min(gap, 1440 - gap)
            if mi != e.when.minute or gap < 60 or h > 23:
                continue
            real = (e.when.hour * 60 + e.when.minute - (h * 60 + mi)) % 1440
            real = real - 1440 if real > 720 else real
            sign = "+" if real >= 0 else "\u2212"
            yield e.section, Finding(
                type="important", category="timezone: stated vs entries", risk="medium",
                description=(f"The timeline says its times are in {m.group(1)}, so this entry's "
                             f"{e.when:%H:%M} is {said // 60:02d}:{said % 60:02d} UTC, but its own text gives "
                             f"{u.group().strip()}: the same minute, {gap // 60} hours apart. The times read as "
                             f"UTC{sign}{abs(real) // 60}{':30' if abs(real) % 60 else ''}, not {m.group(1)}."),
                suggestion="Say the zone the timeline's times are really in, or convert them to the one it names.",
                quote=e.quote, confidence=0.6)
            return


def _days(days: list[date]) -> str:
    """"27 September 2017", or "27 September 2017 to 28 September 2017"."""
    first, last = days[0], days[-1]
    return f"{first.day} {first:%B %Y}" + ("" if first == last else f" to {last.day} {last:%B %Y}")


def _half(name: str) -> str:
    """The half of the year the clocks were on when `name` is the wrong one."""
    return "standard time (winter)" if name in _DAYLIGHT else "daylight time (summer)"
