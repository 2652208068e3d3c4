"""The summary against the rest of the document: counts, dates, clock times and versions that disagree.

- `_count_findings`: the summary says "3 user accounts", a later section "5 user accounts"
  (two-word noun phrases only, and only when the rest of the document agrees with itself);
- `_time_findings`: the summary puts the start or the recovery at a clock time the timeline
  does not have (read with its AM/PM and its time zone);
- `_date_findings`: the summary dates the report, the start or the recovery on a day the timeline
  has no entry for, while the timeline's own entry for it is on another day;
- `_stamp_findings`: any section gives a date and a time to the minute ("between 2019-02-25 23:04
  and ...") whose minute is that of one timeline entry on another day, and no entry is on that
  date: one event, two dates;
- `_title_date_findings`: the title dates the incident weeks away from every dated timeline entry;
- `_version_findings`: the summary names `pkg 1.2`, the rest of the document only `pkg 1.3`.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_durations import NUMBER_WORDS, start_field
from redline.jobs.reviewers.consistency_text import (
    CLOCK, DAY_MONTH, ISO_DATE, MAX_ENTRIES, MONTHS, NAMED_DATE, ZONES, _is_summary, code_mask, sentence_around,
    valid_date,
)
from redline.jobs.reviewers.consistency_timeline import AMPM_AFTER, RECOVERY_WORDS, Entry, _is_timeline_title


_COUNT_WORDS = {k: v for k, v in NUMBER_WORDS.items() if k not in ("a", "an") and "-" not in k}
COUNT = re.compile(r"(?<![\w.,$#-])(\d{1,3}(?:,\d{3}){0,3}|\d{1,9}|" + "|".join(sorted(_COUNT_WORDS, key=len, reverse=True))
                   + r")(?: \(\d{1,9}\))? ([A-Za-z][A-Za-z-]{1,30})(?: ([A-Za-z][A-Za-z-]{1,30}))?", re.IGNORECASE)
COUNT_STOP = frozenset("""and or of to in on at the a an for with from by as is are was were be been percent per
times time minutes minute hours hour days day weeks week months month years year seconds second am pm utc gmt
more less than about over under least most other such new old first second third last next previous few many
different separate unique distinct total additional across into onto within through between among via after
before during since until who that which whose while when where""".split())
# a section that revises what the write-up first said ("Update (2019-08-06)": "the correct figure is 24"):
# its numbers correct the summary's, as its readers are told, rather than contradict them
_REVISION = re.compile(r"^\W*(?:update[sd]?|correction|corrected|erratum|errata|addendum|edit(?:ed)?)\b", re.I)
COUNT_HEDGES = ("at least", "more than", "over ", "about ", "around ", "approximately", "roughly", "nearly",
                "up to", "fewer than", "less than", "only ", "another ", "under ", "some ", "~", "of the ", "of ",
                "first ", "last ", "top ", "all ")


def _sing(w: str) -> str:
    w = w.lower()
    if w.endswith("ies") and len(w) > 4:
        return w[:-3] + "y"
    if w.endswith("sses") or w.endswith("xes") or w.endswith("ches") or w.endswith("shes"):
        return w[:-2]
    if w.endswith("s") and not w.endswith("ss") and len(w) > 3:
        return w[:-1]
    return w


def _counts(section: Section):
    text = section.text
    mask = None
    for m in COUNT.finditer(text):
        w1 = m.group(2)
        if _sing(w1) in COUNT_STOP or w1.lower() in COUNT_STOP:
            continue
        num = m.group(1).lower()
        n = _COUNT_WORDS.get(num)
        if n is None:
            n = int(num.replace(",", ""))
            if 1900 <= n <= 2100 and "," not in num:
                continue  # a year
        before = text[max(0, m.start() - 14):m.start()].lower()
        if any(before.endswith(h) for h in COUNT_HEDGES) or before.endswith("#") or before.rstrip().endswith(("v", "version")):
            continue
        if mask is None:
            mask = code_mask(text)
        if mask[m.start()]:
            continue
        w2 = m.group(3)
        key = (_sing(w1), _sing(w2)) if w2 and _sing(w2) not in COUNT_STOP else (_sing(w1), "")
        if key[1] in ("", ) and w1[0].isupper() and not w1.isupper():
            continue  # "3 Gitter" etc.: a name, not a noun
        yield key, n, m


def _count_findings(sections: list[Section]):
    summaries = [s for s in sections if _is_summary(s) and not _is_timeline_title(s.title)]
    if not summaries:
        return
    elsewhere: dict[tuple[str, str], list[tuple[int, int, re.Match]]] = {}
    for s in sections:
        if s in summaries or _REVISION.match(s.title):
            continue
        for key, n, m in _counts(s):
            elsewhere.setdefault(key, []).append((s.index, n, m))
    for s in summaries:
        done: set[tuple[str, str]] = set()
        for key, n, m in _counts(s):
            if key in done or not key[1]:
                continue  # two-word noun phrases only ("API tokens", "user accounts"): one word is too loose
            others = elsewhere.get(key, [])
            if not others or any(o[1] == n for o in others):
                continue
            vals = {o[1] for o in others}
            if len(vals) != 1:
                continue  # the rest of the document is not consistent either; do not guess
            si, m_val, om = others[0]
            done.add(key)
            # a smaller number elsewhere may count a part of them ("2 of the accounts had 2FA"); a larger one
            # cannot: the summary understates what the document itself says
            larger = m_val > n
            yield s.index, Finding(
                type="important", category="consistency: count", risk="high" if larger else "medium",
                description=(f"The {s.title or 'summary'} says {m.group().strip()}, but "
                             f"'{sections[si].title}' says {om.group().strip()}."
                             + ("" if larger else " If that is a part of them, say so.")),
                suggestion="Make the numbers agree, or say why they differ.",
                quote=m.group().strip(), confidence=0.6 if larger else 0.5,
                related_section_id=sections[si].id, related_quote=om.group().strip())


_ZONE_TOKEN = re.compile(r"\b(?:[A-Z]{2,4}T|UTC|GMT|Z)\b")


def _zones(text: str) -> set[str]:
    """The time zones a text names ("EDT", "UTC"); linear."""
    return {z for z in _ZONE_TOKEN.findall(text) if z in ZONES}


START_WORDS = ("began", "begins", "started", "starts", "went down", "first", "outage started", "beginning", "onset")


def _clock_minutes(text: str, m: re.Match) -> int | None:
    """Minutes after midnight of a CLOCK match, reading a following AM/PM ("4:45 PM" is 16:45)."""
    h, mi = int(m.group(1)), int(m.group(2))
    ap = AMPM_AFTER.match(text, m.end())
    if ap and 1 <= h <= 12:
        h = h % 12 + (12 if ap.group(1).lower() == "p" else 0)
    return h * 60 + mi if h < 24 and mi < 60 else None


def _time_findings(sections: list[Section], entries: list[Entry], bodies: dict[int, str]):
    timed = [e for e in entries if e.when is not None and e.when.year > 1 and e.has_time]
    if len(timed) < 2:
        return
    minutes_at = {(e.when.hour * 60 + e.when.minute) for e in timed}
    for e in timed[:MAX_ENTRIES]:  # "13:14 EDT (17:14 UTC)": an entry may give its time twice, in two zones
        body = bodies.get(id(e), e.line)[:400]
        for m in CLOCK.finditer(body):
            t = _clock_minutes(body, m)
            if t is not None:
                minutes_at.add(t)
    where = {e.section for e in timed} | {x.index for x in sections if _is_timeline_title(x.title)}
    timeline_zones = {z for i in where for z in _zones(sections[i].title + "\n" + sections[i].text)}
    recovery = next((e for e in timed[1:] if any(w in bodies.get(id(e), e.line).lower() for w in RECOVERY_WORDS)),
                    None)
    first = timed[0]
    entry_sections = {e.section for e in entries}
    for s in sections:
        if not _is_summary(s) or s.index in entry_sections or _is_timeline_title(s.title):
            continue
        said: set[str] = set()  # one finding for the start and one for the recovery, at most
        for m in CLOCK.finditer(s.text):
            if len(said) == 2:
                break
            t = _clock_minutes(s.text, m)
            if t is None:
                continue
            if any(abs(t - x) <= 2 for x in minutes_at):
                continue  # the timeline has an entry at this time
            zone = _zones(s.text[m.end():m.end() + 8])
            if zone and timeline_zones and not zone & timeline_zones:
                continue  # given in another time zone than the timeline's: not comparable as written
            sent = sentence_around(s.text, m.start(), m.end(), 200)
            low = sent.lower()
            target = None
            if recovery is not None and any(w in low for w in RECOVERY_WORDS):
                target, what = recovery, "recovery"
            elif any(w in low for w in START_WORDS) and CLOCK.search(sent, 0, max(0, sent.find(m.group()))) is None:
                # the start is the sentence's first time: "(Between 4:06pm (first notice) - 5:30pm)" starts at 4:06pm
                target, what = first, "start"
            if target is None or what in said:
                continue
            tt = target.when.hour * 60 + target.when.minute
            if abs(tt - t) <= 10:
                continue
            said.add(what)
            yield s.index, Finding(
                type="important", category="consistency: time vs timeline", risk="high",
                description=(f"This gives {m.group()} for the {what}, but the timeline puts it at "
                             f"{target.when.strftime('%H:%M')}."),
                suggestion="Make the summary and the timeline agree.", quote=sent, confidence=0.6,
                related_section_id=sections[target.section].id, related_quote=target.quote)


REPORT_WORDS = ("notified", "reported", "received a report", "report from", "discovered", "detected", "alerted",
                "were told", "noticed")


def _summary_dates(text: str, default_year: int | None):
    """(match, date) for each full date in a text: ISO, "June 28, 2024", "28 June 2024" (a year, or the
    document's own)."""
    for m in ISO_DATE.finditer(text):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        if not valid_date(y, mo, d):
            yield m, date(y, mo, d)
    for rx, mon, day in ((NAMED_DATE, 1, 2), (DAY_MONTH, 2, 1)):
        for m in rx.finditer(text):
            y = int(m.group(3)) if m.group(3) else default_year
            if y is None or not m.group(mon)[0].isupper():
                continue
            mo, d = MONTHS[m.group(mon).lower()], int(m.group(day))
            if not valid_date(y, mo, d):
                yield m, date(y, mo, d)


def _date_findings(sections: list[Section], entries: list[Entry], bodies: dict[int, str]):
    """The summary dates the start, the report or the recovery on a day the timeline has no entry for,
    while the timeline's own entry for it is on another day."""
    dated = [e for e in entries[:MAX_ENTRIES] if e.when is not None and e.explicit_date]
    if len(dated) < 2:
        return
    days = {e.when.date() for e in dated}
    first, last = min(days), max(days)
    years = [e.when.year for e in dated]
    default_year = max(set(years), key=years.count)
    entry_sections = {e.section for e in entries}

    def target_for(low: str):
        for words, what in ((REPORT_WORDS, "report"), (START_WORDS, "start"), (RECOVERY_WORDS, "recovery")):
            if any(w in low for w in words):
                hit = next((e for e in dated if any(w in bodies.get(id(e), e.line).lower() for w in words)), None)
                if hit is not None:
                    return hit, what
        return None

    for s in sections:
        if not _is_summary(s) or s.index in entry_sections or _is_timeline_title(s.title):
            continue
        for m, d in _summary_dates(s.text, default_year):
            if d in days or not first - timedelta(days=3) <= d <= last + timedelta(days=3):
                continue  # the timeline has that day; or a date of another time (background, a later fix)
            sent = sentence_around(s.text, m.start(), m.end(), 200)
            if len({x for _, x in _summary_dates(sent, default_year)}) != 1:
                continue  # several dates in one sentence: which event goes with which is not clear
            got = target_for(sent.lower())
            if got is None:
                continue
            target, what = got
            yield s.index, Finding(
                type="important", category="consistency: date vs timeline", risk="medium",
                description=(f"This dates the {what} {d.isoformat()}, but the timeline puts it on "
                             f"{target.when.date().isoformat()}."),
                suggestion="Make the summary and the timeline agree.", quote=sent, confidence=0.55,
                related_section_id=sections[target.section].id, related_quote=target.quote)
            return  # once per document


# "2019-02-25 23:04", "2019-02-25T23:04", "2019-02-25 at 23:04"
_ISO_STAMP = re.compile(r"(?<![\w.-])(\d{4})-(\d{2})-(\d{2})(?:[T ]| at )(\d{1,2}):(\d{2})(?![\d:])")


def _stamp_findings(sections: list[Section], entries: list[Entry]):
    """A date and a minute outside the timeline that are one timeline entry's minute on another day, on
    a date no entry has: the same event dated twice. A minute that is a quarter hour is left out (two
    events at 14:30 on two days are common); once per document."""
    dated = [e for e in entries[:MAX_ENTRIES] if e.when is not None and e.explicit_date and e.has_time]
    if len(dated) < 2:
        return
    days = {e.when.date() for e in dated}
    at_minute: dict[tuple[int, int], list[Entry]] = {}
    for e in dated:
        at_minute.setdefault((e.when.hour, e.when.minute), []).append(e)
    entry_sections = {e.section for e in entries}
    for s in sections:
        if s.index in entry_sections or _is_timeline_title(s.title):
            continue
        mask = None
        for m in _ISO_STAMP.finditer(s.text):
            y, mo, d, h, mi = (int(g) for g in m.groups())
            if valid_date(y, mo, d) or h > 23 or mi > 59 or mi % 15 == 0:
                continue
            when = date(y, mo, d)
            same = at_minute.get((h, mi), [])
            if when in days or len(same) != 1:
                continue
            mask = mask if mask is not None else code_mask(s.text)
            if mask[m.start()]:
                continue  # a log line's stamp
            target = same[0]
            yield s.index, Finding(
                type="important", category="consistency: date vs timeline", risk="medium",
                description=(f"This puts {h:02d}:{mi:02d} on {when.isoformat()}, but the timeline's {h:02d}:{mi:02d} "
                             f"entry is on {target.when.date().isoformat()}, and no entry is on "
                             f"{when.isoformat()}: one of the two dates is wrong."),
                suggestion="Correct the date so that it agrees with the timeline.",
                quote=sentence_around(s.text, m.start(), m.end(), 200), confidence=0.6,
                related_section_id=sections[target.section].id, related_quote=target.quote)
            return


TITLE_DATE_SLACK = 14  # days between the title's date and the timeline's nearest: a report dated later is fine


def _title_date_findings(title: str | None, entries: list[Entry], sections: list[Section] = ()):
    """The title dates the incident ("2022-01-27, pod limit reached") weeks away from every dated
    entry of the timeline ("2022-06-02 10:00 - Problem starts"), or, with no dated timeline, from
    its start field ("Start Time | 2018-06-29 12:58 PST" under "... Outage (2017-06-29)"): a title
    kept from an earlier report, or a date typed wrong. Full dates only; once per document, on the
    timeline's first dated entry (or the start field)."""
    dated = [e for e in entries[:MAX_ENTRIES] if e.when is not None and e.explicit_date]
    start = start_field(list(sections)) if not dated else None
    field = start[2] if start else None
    # the review's title, or the first heading when a file's metadata named the review otherwise
    heads = [t for t in (title, sections[0].title if sections else None) if t]
    if not heads or not (dated or field):
        return
    days = sorted({e.when.date() for e in dated}) or [field]
    said = next((got for t in heads if (got := [d for _, d in _summary_dates(t[:300], None)])), [])
    if said and not any(abs((d - x).days) <= TITLE_DATE_SLACK for d in said for x in days):
        d = said[0]
        span = days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()} to {days[-1].isoformat()}"
        where, quote, what = (dated[0].section, dated[0].quote, f"the timeline's entries are on {span}") if dated else \
            (start[0], start[1].group(2).strip(" \t*_|"), f"its start field gives {span}")
        yield where, Finding(
            type="important", category="consistency: date vs timeline", risk="medium",
            description=(f"The title dates this {d.isoformat()}, but {what}: one of "
                         "them is wrong (a title kept from an earlier report?)."),
            suggestion="Correct the title's date, or the timeline's.", quote=quote,
            questions=["On which day did the incident happen?"], confidence=0.6)


VERSION = re.compile(r"\b([A-Za-z][\w-]{1,40}) v?(\d{1,4}\.\d{1,4}(?:\.\d{1,4})?)(?![\d.]\d)")


_NOT_A_NAME = frozenset(("version", "versions", "v", "release", "releases", "and", "to", "from", "of", "python",
                         "than", "or", "in", "on", "at", "is", "was", "with", "before", "after"))
# "upgraded from pkg 1.2", "prior to pkg 1.2": an earlier version named on purpose, not a slip
_TRANSITION = re.compile(r"\b(?:from|prior to|before|previous|previously|older|old|instead of|rather than|"
                         r"replac\w{0,4}|upgrad\w{0,4}|downgrad\w{0,4}|bump\w{0,3}|until)\W{1,3}(?:\w+\W{1,3}){0,2}$",
                         re.IGNORECASE)


def _version_findings(sections: list[Section]):
    """The summary (or the write-up's title) names `pkg X`, the rest of the document names pkg only
    with another version: which one was it? Not when the summary names several versions of it (a
    change from one to the other), nor an earlier version named as such ("upgraded from pkg 1.2")."""
    summaries = [s for s in sections if _is_summary(s)]
    rest: dict[str, list[tuple[int, str, str]]] = {}
    everywhere: dict[str, list[tuple[int, str, str]]] = {}
    for s in sections:
        for m in VERSION.finditer(s.text):
            got = (s.index, m.group(2), m.group())
            everywhere.setdefault(m.group(1).lower(), []).append(got)
            if s not in summaries:
                rest.setdefault(m.group(1).lower(), []).append(got)

    def named(text: str) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for m in VERSION.finditer(text):
            out.setdefault(m.group(1).lower(), set()).add(m.group(2))
        return out

    done: set[str] = set()
    for s in summaries:
        in_text = named(s.text)
        for where, text in (("summary", s.text), ("title", s.title)):
            for m in VERSION.finditer(text):
                name, ver = m.group(1).lower(), m.group(2)
                if name in _NOT_A_NAME or name in done or len(in_text.get(name, ())) > 1:
                    continue
                if _TRANSITION.search(text, max(0, m.start() - 40), m.start()):
                    continue
                others = (rest if where == "summary" else everywhere).get(name, [])
                if not others or any(o[1] == ver for o in others) or len({o[1] for o in others}) != 1:
                    continue
                done.add(name)
                si, over, oq = others[0]
                quote = m.group() if m.group() in s.text else None
                yield s.index, Finding(
                    type="important", category="consistency: version", risk="medium",
                    description=(f"The {where} names {m.group()}, but the rest of the document only mentions "
                                 f"{oq} ('{sections[si].title}')."),
                    suggestion="Check which version is meant, and use it throughout.", quote=quote, confidence=0.6,
                    related_section_id=sections[si].id, related_quote=oq)
