"""What the offline chat reads from a write-up's timeline: how long it lasted (as stated, and the
span of the entries), when the problem began, was noticed and was resolved, the time zone, and
what the timeline leaves out. The timeline is consistency_timeline's reading, the stated duration
postmortem's and the zone's half of the year consistency_zones', so the chat and the findings agree.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from redline.jobs.models import Section
from redline.jobs.reviewers.consistency_durations import ABOUT_THE_EVENT
from redline.jobs.reviewers.consistency_events import _RECORDS
from redline.jobs.reviewers.consistency_summary import _ZONE_TOKEN
from redline.jobs.reviewers.consistency_text import (
    DAY_MONTH, ISO_DATE, NAMED_DATE, ZONES, code_mask, sentence_around, states_zone,
)
from redline.jobs.reviewers.consistency_timeline import (
    Entry, _entry_bodies, _fmt, _is_timeline_title, extract_timeline, resolve_dates, span_ends,
)
from redline.jobs.reviewers.offline_text import detect_role

# what an entry marks: the problem's start, its detection, its end
_BEGAN = re.compile(r"\b(?:began|started|initiated|introduced|deployed|merged|rolled\s+out|broke|first\s+"
                    r"(?:error|failure|alert)s?|triggered)\b", re.I)
_NOTICED = re.compile(r"\b(?:notic\w*|identified|detected|alert\w*|paged|reported|reports|realiz\w*|realis\w*|"
                      r"spotted|discovered|escalated)\b", re.I)
_ENDED = re.compile(r"\b(?:resolved|restored|recovered|fixed|revoked|destroyed|rotated|taken\s+down|"
                    r"back\s+to\s+(?:normal|100)|goes\s+back|back\s+up|back\s+online|"
                    r"(?:is|are|was|were)\s+healthy|healthy\s+again|mitigated|all\s+clear|working\s+again|"
                    r"succeed\w*\s+again|to\s+an\s+end|(?:outage|incident)\s+(?:ended|ends|is\s+over|was\s+over))\b", re.I)
# ... and where a timeline says so in so many words: "**Outage begins.**", "Outage ends."
_SAYS_BEGAN = re.compile(r"\b(?:outage|incident|impact|problem|downtime|disruption)\s+(?:begins|began|starts|started)\b",
                         re.I)
_SAYS_ENDED = re.compile(r"\b(?:outage|incident|impact|problem|downtime|disruption)\s+(?:ends|ended|is\s+over|was\s+over)"
                         r"\b", re.I)
_PAUSE = timedelta(hours=12)
_QUOTE_CHARS = 160


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{days} day{'s' if days != 1 else ''}"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes or not parts else []
    return " ".join(parts)


def _short(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= _QUOTE_CHARS:
        return flat
    cut = flat.rfind(" ", 0, _QUOTE_CHARS)
    return flat[: cut if cut > 0 else _QUOTE_CHARS] + "…"


def _body_of(sections: list[Section], entries: list[Entry]) -> Callable[[Entry], str]:
    """An entry's text with what happened at it (a stamp on its own line is quoted with its entry),
    on one line, without its bullet."""
    bodies = _entry_bodies(sections, entries)
    return lambda e: " ".join(bodies.get(id(e), e.quote).split()).lstrip("-*\u2022 ")


_READ: list = [None, []]  # the last document read and its entries: a question's facts read it once


def _entries(sections: list[Section]) -> list[Entry]:
    """The timeline's entries, dates resolved (consistency_timeline's reading), read once for all the
    facts one question asks of the same sections."""
    key = tuple((s.index, s.title, s.level, s.text) for s in sections)
    if _READ[0] != key:
        _READ[:] = [key, resolve_dates(extract_timeline(sections), sections)]
    return _READ[1]


def _timed(sections: list[Section]) -> list[Entry]:
    """The timeline's entries that have a clock time."""
    return [e for e in _entries(sections) if e.when is not None and e.has_time]


def _stamper(entries: list[Entry]) -> Callable[[datetime], str]:
    """How to write an entry's time: with its date when the timeline gives dates."""
    return _fmt if any(e.explicit_date for e in entries) else (lambda dt: dt.strftime("%H:%M"))


def _from_to(entries: list[Entry], first: datetime, last: datetime) -> str:
    """ "from 13:14 to 12:54 2 days later" for a timeline of times alone (the days it runs over
    counted, as the findings count them), "from 2024-06-28 07:09 to 2024-06-28 07:26" with dates."""
    if any(e.explicit_date for e in entries):
        return f"from {_fmt(first)} to {_fmt(last)}"
    return "from {} to {}".format(*span_ends(first, last))


def _duration(sections: list[Section]) -> str | None:
    """How long it lasted as the write-up states it (postmortem's reading), quoted; and the span of
    its timeline beside it, to check one against the other."""
    from redline.jobs.reviewers.postmortem import stated_duration

    timeline = {s.index for s in sections if _is_timeline_title(s.title)} | {e.section for e in _timed(sections)}
    stated = stated_duration(sections, timeline)
    sentence = sentence_around(sections[stated[0]].text, stated[1], stated[2]) if stated else ""
    if stated is not None and not ABOUT_THE_EVENT.search(sentence):
        stated = None  # "I will be at the 429 km in about five minutes": a span of time, not of the event
    span = _timeline_span(sections, stated=stated is not None)
    if stated is None:
        return span
    said = f'The write-up states it in "{sections[stated[0]].title}": "{_short(sentence)}"'
    return f"{said} {span}" if span else said


def _zone_said(sections: list[Section]) -> tuple[Section, re.Match[str]] | None:
    """Where the write-up first names its time zone (in the timeline first), outside code."""
    for s in sorted(sections, key=lambda s: not _is_timeline_title(s.title)):
        mask = code_mask(s.text)  # a log line's zone is the log's; a lone "Z" names no zone in prose
        m = next((m for m in _ZONE_TOKEN.finditer(s.text) if m.group() in ZONES and m.group() != "Z"
                  and not mask[m.start()]), None)
        if m is not None:
            return s, m
    return None


def _zone_slip(sections: list[Section], name: str) -> tuple[str, str] | None:
    """(the zone's name on the timeline's dates, its offset) when `name` is the wrong half of the
    year on every one of them (consistency_zones' reading)."""
    from redline.jobs.reviewers.consistency_zones import daylight_slip

    days = sorted({e.when.date() for e in _entries(sections) if e.when is not None and e.explicit_date})
    slip = daylight_slip(name, days)
    return None if slip is None else slip[:2]


def _zone(sections: list[Section]) -> str:
    """The time zone the write-up gives its times in, where it says so, and whether the name fits
    the timeline's dates."""
    said = _zone_said(sections)
    if said is None:
        if states_zone(sections):
            return "The write-up names its time zone only in words (\"Pacific\", \"local time\"), not as UTC or an offset."
        return "The write-up never says which time zone its times are in."
    s, m = said
    out = f'The times are in {m.group()}: "{_short(sentence_around(s.text, m.start(), m.end(), 160))}" ({s.title}).'
    if (slip := _zone_slip(sections, m.group())) is not None:
        out += (f" On the timeline's dates that zone was on {slip[0]} ({slip[1]}), not {m.group()}: "
                "the times may be an hour off for a reader who converts them.")
    return out


def _timeline_span(sections: list[Section], stated: bool = False) -> str | None:
    """The first and the last clock-timed entries of the timeline, and the time between them; `stated`:
    the write-up states a duration, so the span is a check on it, not a stand-in for it."""
    entries = _timed(sections)
    if len(entries) < 2:
        return _dated_span(sections, stated)
    entries.sort(key=lambda e: e.when)
    # the incident's own run of entries: up to the first pause of over 12 hours (a follow-up a week
    # later is not part of how long it lasted)
    run = next((k for k in range(1, len(entries)) if entries[k].when - entries[k - 1].when > _PAUSE), len(entries))
    if entries[run - 1].when == entries[0].when:
        run = len(entries)  # no run at all (a release, then weeks later the report): the whole timeline
    first, last = entries[0], entries[run - 1]
    delta = last.when - first.when
    if delta <= timedelta(0):
        return None
    stamp = _stamper(entries)
    body = _body_of(sections, entries)

    def said(e: Entry) -> str:
        return _short(body(e))

    later = (f" Later entries follow after a pause, up to {stamp(entries[-1].when)}."
             if run < len(entries) else "")
    # the timeline says in so many words where the outage began and ended ("Outage begins.", "Outage
    # ends."): that, not the span of its entries
    began = next((e for e in entries[:run] if _SAYS_BEGAN.search(said(e))), None)
    ended = next((e for e in reversed(entries[:run]) if _SAYS_ENDED.search(said(e))), None)
    if began is not None and ended is not None and began.when < ended.when:
        out = (f"Its timeline marks the start at {stamp(began.when)} (\"{said(began)}\") and the end at "
               f"{stamp(ended.when)} (\"{said(ended)}\"): {_span(ended.when - began.when)}.")
        if ended is not last:
            out += f" Its entries go on to {stamp(last.when)}."
        return out + later
    if stated:
        return (f"Its timeline's timed entries run from {stamp(first.when)} (\"{said(first)}\") to "
                f"{stamp(last.when)} (\"{said(last)}\"), {_span(delta)}.{later}")
    return (f"By its timeline: the first timed entry is at {stamp(first.when)} (\"{said(first)}\") and "
            f"the last at {stamp(last.when)} (\"{said(last)}\"), {_span(delta)} apart. That is the "
            "span of the entries, not a duration the write-up states: the problem may have begun before "
            f"the first of them.{later}")


def _dated(sections: list[Section]) -> list[Entry]:
    """The timeline's entries that give a date and no time ("### 2018-01-11"), in order."""
    return sorted((e for e in _entries(sections) if e.when is not None and e.explicit_date and not e.has_time),
                  key=lambda e: e.when)


def _dated_span(sections: list[Section], stated: bool) -> str | None:
    """A timeline of dates alone: its first and last entries, and the days between them."""
    entries = _dated(sections)
    if len(entries) < 2 or entries[-1].when <= entries[0].when:
        return None
    bodies = _entry_bodies(sections, entries)

    def said(e: Entry) -> str:
        return f'{e.when:%Y-%m-%d} ("{_short(bodies.get(id(e), e.quote))}")'

    days = (entries[-1].when - entries[0].when).days
    run = f"from {said(entries[0])} to {said(entries[-1])}, {days} day{'s' if days != 1 else ''} apart"
    if stated:
        return f"Its timeline's dated entries run {run}."
    return (f"By its timeline (dates, no times): its entries run {run}. That is the span of the entries, not a "
            "duration the write-up states.")


@dataclass
class _Marks:
    """What the timeline's timed entries mark: when the problem began, was noticed and ended."""

    entries: list[Entry]
    stamp: Callable[[datetime], str]
    body: Callable[[Entry], str]
    began: Entry | None
    noticed: Entry | None
    ended: Entry | None

    def said(self, e: Entry) -> str:
        return f'{self.stamp(e.when)} ("{_short(self.body(e))}")'


def _marks(sections: list[Section]) -> _Marks | None:
    entries = _timed(sections)
    if not entries:
        return None
    body = _body_of(sections, entries)
    noticed = next((e for e in entries if _NOTICED.search(body(e))), None)
    # the start is before the problem was noticed (a "deployed" after it is the fix), the end its last word
    began = next((e for e in entries if _BEGAN.search(body(e)) and (noticed is None or e.when < noticed.when)), None)
    ended = next((e for e in reversed(entries) if _ENDED.search(body(e))), None)
    return _Marks(entries, _stamper(entries), body, began, noticed, ended)


def _timeline_gaps(sections: list[Section]) -> str | None:
    """What the timeline marks and does not: when the problem began, was noticed and ended; its
    time zone; its longest pause."""
    timeline = [s for s in sections if _is_timeline_title(s.title)]
    marks = _marks(sections)
    if marks is None:
        dated = _dated(sections)
        if len(dated) >= 2:
            return (f"The timeline gives dates ({dated[0].when:%Y-%m-%d} to {dated[-1].when:%Y-%m-%d}) but no clock "
                    "times: the reader cannot tell when on those days anything happened, nor how long it took.")
        return ("The write-up has no timeline with clock times." if not timeline else
                f'"{timeline[0].title}" gives no clock times: the reader cannot tell when anything happened.')
    entries, stamp = marks.entries, marks.stamp
    lines = [f"The timeline has {len(entries)} timed entries, {_from_to(entries, entries[0].when, entries[-1].when)}."]
    for what, e, missing in (
            ("When the problem began", marks.began, "not marked" + (
                f" (the first entry, {stamp(entries[0].when)}, is when it was noticed)"
                if marks.noticed is entries[0] else "")),
            ("When it was noticed", marks.noticed, "not marked"),
            ("When it was resolved", marks.ended, "not marked")):
        lines.append(f"- {what}: {marks.said(e)}" if e else f"- {what}: {missing}.")
    said = _zone_said(timeline)
    zone = said[1].group() if said else None
    slip = _zone_slip(sections, zone) if zone else None
    lines.append(f"- Time zone: {zone}" + (f" (on its dates, {slip[0]}: an hour off)." if slip else ".") if zone
                 else "- Time zone: not given.")
    ordered = sorted(entries, key=lambda e: e.when)
    gaps = [(b.when - a.when, a, b) for a, b in zip(ordered, ordered[1:]) if b.when - a.when <= _PAUSE]
    if gaps:
        gap, a, b = max(gaps, key=lambda g: g[0])
        if gap >= timedelta(minutes=30):
            lines.append(f"- Longest stretch with no entry: {stamp(a.when)} to {stamp(b.when)} ({_span(gap)}).")
    return "\n".join(lines)


def _detected(sections: list[Section]) -> str | None:
    """When the timeline marks the problem noticed, and how long after its first sign."""
    marks = _marks(sections)
    if marks is None:
        return None
    if marks.noticed is None:
        return ("No timeline entry says when the problem was noticed (reported, alerted, detected); its "
                f"timed entries run from {marks.stamp(marks.entries[0].when)} to {marks.stamp(marks.entries[-1].when)}.")
    out = f"By its timeline, it was noticed at {marks.said(marks.noticed)}."
    if marks.began is not None:
        out += (f" Its first sign was at {marks.said(marks.began)}, "
                f"{_span(marks.noticed.when - marks.began.when)} before.")
    elif marks.noticed is marks.entries[0]:
        out += " That is the timeline's first entry: it does not say when the problem began."
    return out


# a day the prose gives: "On 2nd September 2025", "2025-09-02", "March 13, 2018"
_A_DAY = (ISO_DATE, NAMED_DATE, DAY_MONTH)
_YEAR = re.compile(r"\b\d{4}\b")


def _first_dated_sentence(sections: list[Section]) -> tuple[Section, str] | None:
    """The first sentence outside the timeline that gives a day, the summary's first: where the
    write-up says when it happened in its own words."""
    # not an appendix of records (a chat log, raw logs): their dates are the records'
    ordered = sorted((s for s in sections if not _is_timeline_title(s.title) and not _RECORDS.search(s.title)),
                     key=lambda s: (detect_role(s.title) != "summary", s.index))
    for s in ordered[:12]:
        mask = code_mask(s.text)
        days = sorted((m for rx in _A_DAY for m in rx.finditer(s.text) if not mask[m.start()]), key=lambda m: m.start())
        for m in days:
            said = sentence_around(s.text, m.start(), m.end(), _QUOTE_CHARS * 2)
            year = _YEAR.search(m.group())
            # a date alone on its line ("2019-05-08" under the title) dates the post; a quoted log's
            # "> Started: Mon, 01 Jan 0001" is a record's, not the write-up's
            if len(said.split()) >= 4 and not said.lstrip().startswith(">") and (year is None or int(year.group()) >= 1900):
                return s, said
    return None


def _relative_sentence(sections: list[Section]) -> tuple[Section, str] | None:
    """The first sentence that says when relatively ("Over the past few days", "Last week")."""
    from redline.jobs.reviewers.consistency_anchor import RELATIVE

    for s in sections[:12]:
        m = RELATIVE.search(s.text)
        if m is not None:
            return s, sentence_around(s.text, m.start(), m.end(), _QUOTE_CHARS * 2)
    return None


def _happened(sections: list[Section], date: str | None = None) -> str | None:
    """When it happened: the day the write-up gives in its own words, and where its timeline starts
    (and the problem's first sign there, when an entry marks one); with no day in its words, the
    day its file gives itself (a blog post's date), and what it says of when."""
    out = []
    told = _first_dated_sentence(sections)
    if told is not None:
        out.append(f'The write-up says in "{told[0].title}": "{_short(told[1])}"'
                   + (f" (with no year: the write-up is dated {date})." if date and not _YEAR.search(told[1]) else ""))
    elif date:
        relative = _relative_sentence(sections)
        if relative is not None:
            out.append(f'The write-up is dated {date} (the date its file gives) and says in "{relative[0].title}": '
                       f'"{_short(relative[1])}"')
        else:
            out.append(f"The write-up is dated {date} (the date its file gives); it gives no other day.")
    elif (titled := _dated_title(sections)) is not None:
        relative = _relative_sentence(sections)
        out.append(f'The write-up\'s heading dates it: "{titled}"'
                   + (f'; it says in "{relative[0].title}": "{_short(relative[1])}"' if relative else "."))
    marks = _marks(sections)
    if marks is not None:
        first = marks.began or marks.entries[0]
        what = "marks the problem's first sign" if marks.began is not None else "starts"
        out.append(f"Its timeline {what} at {marks.said(first)}.")
    elif (first_dated := next((e for e in _entries(sections) if e.when is not None and e.explicit_date), None)):
        # its first entry as listed (sorted, a year typo's "2021-01-28" would come first), quoted as written
        out.append(f'Its timeline starts on {first_dated.when:%Y-%m-%d} ("{_short(first_dated.quote)}").')
    return " ".join(out) or None


def _dated_title(sections: list[Section]) -> str | None:
    """The document's own heading when it gives a day with its year ("2023-12-04 IPFS network merge")."""
    for s in sections[:2]:
        if any((m := p.search(s.title)) and _YEAR.search(m.group()) for p in _A_DAY):
            return s.title
    return None


def _resolved(sections: list[Section]) -> str | None:
    """When the timeline marks the problem resolved."""
    marks = _marks(sections)
    if marks is None:
        return None
    if marks.ended is None:
        return ("No timeline entry says when it was resolved (restored, fixed, recovered); its last timed entry "
                f"is at {marks.said(marks.entries[-1])}.")
    return f"By its timeline, it was resolved at {marks.said(marks.ended)}."
