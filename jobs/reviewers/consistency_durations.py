"""A stated duration that the timeline's own timestamps do not support.

"The outage lasted nine hours" against a timeline that runs 11:00 -> 18:00: `extract_durations`
reads the durations a section states (after a lead-in such as "lasted", "for", "took", with "about",
"over", "under" as qualifiers), and `_duration_findings` looks for any pair of timeline entries that
far apart (sorted times and bisection: n log n), within a tolerance. Durations the timeline
cannot judge (hours or minutes against a dates-only timeline, under half an hour, longer than
the timeline covers) are left alone, and so are the durations of settings and policies ("valid for
24 hours", "logs are kept for 30 days", "a 2 hour timeout") and of other incidents ("it happened
once before and lasted 24 hours").

`_outage_duration_findings`: the title, the summary or the lessons give the outage two lengths
("30min outage" in the title, "40min of total outage" in the summary).

`_arithmetic_findings`: "150 nodes, and each update takes five minutes, so ... would take about ten
hours": the count times the time each takes is not the total given (150 x 5 minutes is 12.5 hours).

`_field_findings`: a template's fields disagree: "Start Time | 2018-06-29 12:58 PST", "End Time |
2018-06-29 13:55 PST" and "Total Duration | 39 Minutes" (57 minutes apart).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import date, timedelta

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import (
    MAX_ENTRIES, MAX_PER_RULE, _is_summary, code_mask, sentence_around,
)
from redline.jobs.reviewers.consistency_timeline import RECOVERY_WORDS, Entry, _entry_bodies, _leading_stamp, span_ends


NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
                "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90}
UNIT_MIN = {"second": 1 / 60, "sec": 1 / 60, "s": 1 / 60, "minute": 1, "min": 1, "m": 1, "hour": 60, "hr": 60,
            "h": 60, "day": 1440, "d": 1440, "week": 10080}
_NUM = r"(\d{1,4}(?:\.\d{1,2})?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
# "2 hours", "two days", "1 hour 50 minutes", "2h 15m", "1h50m" (the minutes of the last: group 5)
DURATION = re.compile(r"\b" + _NUM + r"(?:\s?-\s?|\s)?(seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?)"
                      r"(?:\b(?:,?\s(?:and\s)?(\d{1,3})\s?(minutes?|mins?|m)\b)?|(?<=[hH])(\d{1,2})m(?:ins?)?\b)",
                      re.IGNORECASE)
COMPACT = re.compile(r"\b(\d{1,3})h\s?(\d{1,2})m(?:in)?\b", re.IGNORECASE)
LEAD_IN = ("lasted", "lasting", "for", "took", "resolved in", "outage of", "down for", "duration of", "within",
           "after", "in about", "in approximately", "in under", "in over", "total of", "time of", "period of")
QUALIFIERS = {"approximately": "~", "about": "~", "around": "~", "roughly": "~", "nearly": "~", "almost": "~",
              "some": "~", "~": "~", "over": ">", "more than": ">", "at least": ">", "upwards of": ">",
              "under": "<", "less than": "<", "at most": "<", "up to": "<", "within": "<"}


_SETTING = re.compile(r"\b(?:valid|expir\w{0,5}|ttl|time-?outs?|retain\w{0,3}|retention|kept for|stored for|"
                      r"cached for|max-age|lifetimes?|intervals?|cron|sla|rate.limit\w{0,3}|grace period|"
                      r"backoff|retries|retry|delay of|scheduled)\b", re.IGNORECASE)


_OTHER_EVENT = re.compile(r"\b(?:previous(?:ly)?|last time|earlier incident|once before|prior incident|"
                          r"similar incident|last year)\b", re.IGNORECASE)


# right before the number: "in the past six years", "every 5 minutes", "since 5h", "for the last 2 hours"
# (not "every build failed for two hours": the word must lead to the number)
_NOT_THIS_SPAN = re.compile(r"\b(?:past|every|since|per|each|last|next)\s+$")
# what a stated duration must be a duration of, to be weighed against the timeline (or given by the chat
# as how long it lasted): not "fixing the data inconsistency took almost two weeks" (an effort)
ABOUT_THE_EVENT = re.compile(r"\b(?:outages?|incident|down|downtime|unavailable|disrupt\w*|impact\w*|affected|degraded"
                             r"|fail\w*|errors?|lasted|lasting|restored|resolved|fixed|recovered|problem|exposed"
                             r"|broken|slow\w*|delay\w*|backlog|attack\w*|compromis\w*|leak\w*)\b", re.I)
# a forecast, not what happened: "they expected to be there in about an hour", "estimated to take 2 hours"
_FORECAST = re.compile(r"\b(?:expect\w*|estimated\s+to|eta|forecast\w*|be\s+there|arriv\w*|would\s+take|will\s+take)\b")


@dataclass
class Duration:
    section: int
    start: int
    end: int
    minutes: float
    unit: str
    qualifier: str  # "", "~", ">" or "<"
    text: str


def _unit_key(u: str) -> str:
    u = u.lower().rstrip("s") or "s"
    return {"hr": "hour", "sec": "second", "min": "minute"}.get(u, u)


def _minutes(m: re.Match) -> tuple[float, str] | None:
    """The minutes and the unit of a DURATION match (None: not a duration, as "a second" or "5 H")."""
    num, unit = m.group(1).lower(), _unit_key(m.group(2))
    if unit == "h" and m.group(2) == "H":
        return None
    try:
        n = float(num)
    except ValueError:
        n = NUMBER_WORDS.get(num)
        if n is None:
            return None
    if num in ("a", "an") and unit not in ("hour", "day", "week"):
        return None
    minutes = n * UNIT_MIN[unit if unit in UNIT_MIN else unit[:1]]
    if m.group(3) or m.group(5):
        minutes += int(m.group(3) or m.group(5))
    return minutes, unit


def _qualifier(before: str) -> str:
    tail = before.lower().rstrip()
    return next((q for w, q in QUALIFIERS.items() if tail.endswith(w)), "")


def extract_durations(section: Section) -> list[Duration]:
    text = section.text
    mask = None
    out = []
    for m in DURATION.finditer(text):
        got = _minutes(m)
        if got is None:
            continue
        minutes, unit = got
        before = text[max(0, m.start() - 40):m.start()].lower()
        if not any(before.rstrip().endswith(w) or (" " + w + " ") in before[-len(w) - 20:] for w in LEAD_IN):
            continue
        # not a duration of the incident: "in the past six years", "every 5 minutes", "since 5h"
        if _NOT_THIS_SPAN.search(before) or _FORECAST.search(before):
            continue
        # nor a setting or a policy: "tokens are valid for 24 hours", "logs are kept for 30 days"
        if _SETTING.search(text, max(0, m.start() - 60), min(len(text), m.end() + 30)):
            continue
        if mask is None:
            mask = code_mask(text)
        if mask[m.start()]:
            continue
        qual = _qualifier(before)
        out.append(Duration(section.index, m.start(), m.end(), minutes, unit, qual, m.group()))
    for m in COMPACT.finditer(text):
        before = text[max(0, m.start() - 40):m.start()].lower()
        if any(before.rstrip().endswith(w) for w in LEAD_IN):
            out.append(Duration(section.index, m.start(), m.end(), int(m.group(1)) * 60 + int(m.group(2)),
                                "minute", "", m.group()))
    return out


def _human(minutes: float) -> str:
    if minutes >= 2 * 1440:
        return f"about {minutes / 1440:.1f} days".replace(".0 ", " ")
    if minutes >= 90:
        h = minutes / 60
        return f"about {h:.1f} hours".replace(".0 ", " ")
    return f"{int(round(minutes))} minutes"


def _duration_findings(sections: list[Section], entries: list[Entry], timeline_sections: set[int]):
    timed = [e for e in entries if e.when is not None and e.when.year > 1]
    if len(timed) < 2:
        return
    has_clock = sum(e.has_time for e in timed) >= 2
    times = sorted(e.when for e in timed)
    total = (times[-1] - times[0]).total_seconds() / 60
    first = timed[0]
    bodies = _entry_bodies(sections, entries)
    recovery = next((e for e in timed[1:] if any(w in bodies.get(id(e), e.line).lower() for w in RECOVERY_WORDS)),
                    None)
    checked: dict[tuple, bool] = {}  # verdict per distinct (minutes, unit, qualifier): bounded work
    times = times[:MAX_ENTRIES]
    for s in sections:
        if s.index in timeline_sections:
            continue
        seen: set[float] = set()
        for d in extract_durations(s)[:MAX_PER_RULE * 4]:
            if d.minutes in seen:
                continue
            if d.unit in ("second", "minute", "hour", "h", "m") and not has_clock:
                continue  # a dates-only timeline cannot confirm hours or minutes
            if d.minutes > total * 1.15 or d.minutes < 30:
                continue  # longer than the timeline covers (it may start late), or too fine to judge
            key = (d.minutes, d.unit, d.qualifier)
            if key not in checked:
                if len(checked) >= MAX_PER_RULE * 4:
                    break
                # does any pair of timeline entries stand d apart? (sorted times, bisect: n log n)
                lo_w, hi_w = _window(d)
                ok = False
                for t in times:
                    k = bisect.bisect_left(times, t + timedelta(minutes=lo_w))
                    if k < len(times) and times[k] <= t + timedelta(minutes=min(hi_w, 10 ** 7)):
                        ok = True
                        break
                checked[key] = ok
            ok = checked[key]
            if ok:
                continue
            quote = sentence_around(s.text, d.start, d.end, 160)
            if _OTHER_EVENT.search(quote) or not ABOUT_THE_EVENT.search(quote):
                continue  # another incident's duration ("this happened once before and lasted 24 hours"), or an effort's
            seen.add(d.minutes)
            end = recovery or timed[-1]
            span = (end.when - first.when).total_seconds() / 60
            what = "recovery" if recovery else "last entry"
            yield s.index, Finding(
                type="important", category="consistency: duration vs timeline",
                risk="high" if _is_summary(s) else "medium",
                description=(f"This says {d.text.strip()}, but the timeline's own timestamps do not support it: "
                             "it runs from {} to {} ".format(*span_ends(first.when, end.when))
                             + f"({what}), {_human(span)}, and no two of its entries are {d.text.strip()} apart."),
                suggestion="Reconcile the stated duration with the timeline (or say which interval it measures).",
                quote=quote, questions=["Which start and end times does this duration measure?"],
                confidence=0.75, related_section_id=sections[first.section].id, related_quote=first.quote)


def _window(d: Duration) -> tuple[float, float]:
    dd = d.minutes
    tol = max(0.15 * dd, 10.0)
    if d.unit in ("day", "week"):
        tol = max(0.15 * dd, 1440.0)
    if d.qualifier == "~":
        tol *= 1.3
    if d.qualifier == ">":
        return dd - tol, 10 ** 9
    if d.qualifier == "<":
        return 0, dd + tol
    return dd - tol, dd + tol


# "a 30min outage", "40 minutes of total outage", "a two-hour-long outage"; "the outage lasted 2 hours"
_OUTAGE_AFTER = re.compile(r"(?:\s?-\s?|\s)(?:long\s)?(?:of\s(?:total\s|complete\s|full\s)?)?(?:outage|downtime)\b",
                           re.IGNORECASE)
_OUTAGE_BEFORE = re.compile(r"\b(?:outage|downtime)\s(?:lasted|lasting|of)\s(?:about\s|approximately\s|around\s|"
                            r"roughly\s|nearly\s|almost\s)?$", re.IGNORECASE)


@dataclass
class _Said:
    section: int | None  # None: the title
    text: str  # "30min outage", "the outage lasted 2 hours"
    duration: str
    minutes: float
    qualifier: str


def _outage_durations(where: int | None, text: str) -> list[_Said]:
    out = []
    mask = None
    for m in DURATION.finditer(text):
        got = _minutes(m)
        if got is None:
            continue
        before = text[max(0, m.start() - 40):m.start()]
        after, lead = _OUTAGE_AFTER.match(text, m.end()), _OUTAGE_BEFORE.search(before)
        if not (after or lead):
            continue
        if before.lower().rstrip().endswith(("partial", "first", "second", "another", "each")):
            continue
        if mask is None:
            mask = code_mask(text)
        if mask[m.start()]:
            continue
        # the phrase, not its sentence: another finding may quote the sentence
        said = text[m.start():after.end()] if after else text[m.start() - len(before) + lead.start():m.end()]
        out.append(_Said(where, said, m.group(), got[0], _qualifier(before)))
        if len(out) >= MAX_PER_RULE:
            break
    return out


def _same_sentence(text: str, a: str, b: str) -> bool:
    """Two phrases in one sentence of `text` (a partial and a full outage, contrasted)."""
    k = text.find(a)
    return k >= 0 and b in sentence_around(text, k, k + len(a), 400)


def _outage_duration_findings(title: str | None, sections: list[Section], entries: list[Entry],
                              timeline_sections: set[int]):
    """The title, the summary or the lessons give the outage two lengths ("30min outage" in the title,
    "40min of total outage" in the summary): one of them is wrong. Once per document; a bound ("over
    2 hours") and two lengths in one sentence (a partial and a full outage, contrasted) are left alone."""
    said = _outage_durations(None, title) if title else []
    for s in sections:
        if s.index not in timeline_sections:
            said += _outage_durations(s.index, s.text)
    said = said[:MAX_PER_RULE * 4]
    for j, b in enumerate(said):
        if b.section is None or b.qualifier in (">", "<"):
            continue
        for a in said[:j]:
            if a.qualifier in (">", "<") or (a.section is not None and a.section == b.section
                                               and _same_sentence(sections[a.section].text, a.text, b.text)):
                continue
            tol = max(0.15 * max(a.minutes, b.minutes), 5.0) * (1.5 if "~" in (a.qualifier, b.qualifier) else 1)
            if abs(a.minutes - b.minutes) <= tol:
                continue
            where = "The title calls it" if a.section is None else "Another section calls it"
            timed = sorted(e.when for e in entries if e.when is not None and e.when.year > 1 and e.has_time)
            span = (" The timeline runs from {} to {}, ".format(*span_ends(timed[0], timed[-1])) +
                    f"{_human((timed[-1] - timed[0]).total_seconds() / 60)}." if len(timed) >= 2 else "")
            related = {} if a.section is None else {"related_section_id": sections[a.section].id,
                                                    "related_quote": a.text}
            yield b.section, Finding(
                type="important", category="consistency: two durations", risk="medium",
                description=(f"{where} {_article(a.duration)} {a.duration.strip()} outage, and this says "
                             f"{b.duration.strip()}: the "
                             f"write-up gives the outage two lengths, and a reader cannot tell which is right.{span}"),
                suggestion="Give the outage one length everywhere (the timeline's start and end decide it).",
                quote=b.text, confidence=0.6, **related)
            return


_EACH = re.compile(r"\beach\b")
_PLURAL_COUNT = re.compile(r"\b(\d{1,6}|" + "|".join(sorted((w for w in NUMBER_WORDS if w not in ("a", "an")), key=len,
                                                           reverse=True)) + r") ([a-z]{3,}s)\b", re.IGNORECASE)
_TAKES = re.compile(r"\b(?:takes?|took|lasts?|lasted|needs?|needed|requires?|required)\s+(?:about |around |roughly |"
                    r"approximately |nearly |almost |some |~)?$", re.IGNORECASE)
_TOTAL = re.compile(r"\b(?:takes?|took|taking|last|lasted|need|needed|require|required|total|in all|altogether)"
                    r"(?:\s+(?:of|about|around|roughly|approximately|nearly|almost|some|~))?\s*$", re.IGNORECASE)
_PARALLEL = re.compile(r"\b(?:at a time|at once|in parallel|concurrently|simultaneously|in batches|batch(?:es)? of|"
                       r"per batch|in groups|together)\b", re.IGNORECASE)


def _arithmetic_findings(sections: list[Section], timeline_sections: set[int]):
    """A count, the time each takes, and the total, in one passage: the product is not the total
    (off by more than 15 % of the smaller, 20 % when rounded with "about"). Not when the work runs
    in parallel or in batches. Once per document."""
    for s in sections:
        if s.index in timeline_sections:
            continue
        text = s.text
        for n_each, e in enumerate(_EACH.finditer(text)):
            if n_each >= MAX_PER_RULE * 4:
                break
            counts = list(_PLURAL_COUNT.finditer(text, max(0, e.start() - 120), e.start()))
            if not counts:
                continue
            c = counts[-1]
            num = c.group(1).lower()
            n = int(num) if num.isdigit() else NUMBER_WORDS.get(num)
            if not n or n < 2 or c.group(2).lower() in _UNIT_WORDS:
                continue
            each = next((d for d in DURATION.finditer(text, e.end(), min(len(text), e.end() + 60))
                         if _TAKES.search(text, max(e.end(), d.start() - 30), d.start())), None)
            if each is None:
                continue
            total = next((d for d in DURATION.finditer(text, each.end(), min(len(text), each.end() + 200))
                          if _TOTAL.search(text, max(each.end(), d.start() - 40), d.start())), None)
            if total is None:
                continue
            span = text[c.start():total.end()]
            if _PARALLEL.search(span) or "\n\n" in span:
                continue
            one, whole = _minutes(each), _minutes(total)
            if one is None or whole is None or not whole[0]:
                continue
            product = n * one[0]
            rounded = any(w in span.lower() for w in ("about", "around", "roughly", "approximately", "nearly", "~"))
            if abs(product - whole[0]) <= (0.2 if rounded else 0.15) * min(product, whole[0]):
                continue
            yield s.index, Finding(
                type="important", category="consistency: arithmetic", risk="low",
                description=(f"{n} {c.group(2)} at {each.group().strip()} each is {_human(product)}, not "
                             f"{total.group().strip()}: the figures do not add up (or one of them is wrong)."),
                suggestion="Check the count, the time each takes and the total, and correct the one that is wrong.",
                quote=sentence_around(text, c.start(), total.end(), 300), confidence=0.6)
            return


_UNIT_WORDS = frozenset("seconds minutes hours days weeks months years times percent".split())


_AN_NUMBER = re.compile(r"(?:8|1[18](?![\d.:]|,\d)|1[18],\d{3})")


def _article(words: str) -> str:
    """"an" before a sound that opens with a vowel ("an 8 hour", "an 11 minute", "an hour's"), else "a"."""
    w = words.strip().lower()
    vowel = w[:1] in "aeio" and not w.startswith("one")  # "a one-hour outage"
    return "an" if vowel or w.startswith("hour") or _AN_NUMBER.match(w) else "a"


# a write-up's own fields, as a template has them ("Start Time | 2018-06-29 12:58 PST", "**End:** 13:55",
# "Total Duration: 39 Minutes"), each on a line of its own
_FIELD = re.compile(r"^[ \t*_|-]*(start(?:\s+time)?|started|end(?:\s+time)?|ended|(?:total\s+)?duration)"
                    r"[ \t*_]*[:|][ \t*_]*([^\n|]{1,80})", re.I | re.M)


def template_fields(sections: list[Section]) -> dict[str, tuple[int, re.Match]]:
    """The first "start", "end" and "duration" fields near the top, each as (section position, its
    match: group 2 is the value)."""
    fields: dict[str, tuple[int, re.Match]] = {}
    for s in sections[:6]:
        for m in _FIELD.finditer(s.text[:5000]):
            key = m.group(1).lower().split()[-1]
            key = {"started": "start", "ended": "end", "time": m.group(1).lower().split()[0]}.get(key, key)
            fields.setdefault(key, (s.index, m))
    return fields


def start_field(sections: list[Section]) -> tuple[int, re.Match, date] | None:
    """The start field and the day it gives ("Start Time | 2018-06-29 12:58 PST"): (section position,
    its match, the day), or None when there is none or it gives no day."""
    start = template_fields(sections).get("start")
    got = _leading_stamp(start[1].group(2), None) if start else None
    return (*start, got[0]) if got and got[0] else None


def _field_findings(sections: list[Section]):
    """The start and end a write-up's fields give are not as far apart as its duration field says
    (beyond the usual tolerance): one of the three is wrong. Once per document."""
    fields = template_fields(sections)
    if not {"start", "end", "duration"} <= set(fields):
        return
    (_, start), (_, end), (where, said) = fields["start"], fields["end"], fields["duration"]
    ends = [_leading_stamp(m.group(2), None) for m in (start, end)]
    told = DURATION.search(said.group(2))
    if told is None or None in ends or any(e[1] is None for e in ends) or (got := _minutes(told)) is None:
        return
    (d1, m1, *_), (d2, m2, *_) = ends
    if (d1 is None) != (d2 is None):
        return
    span = (m2 - m1) + ((d2 - d1).days * 24 * 60 if d1 is not None else 0)
    stated = got[0]
    if span <= 0 or abs(span - stated) <= max(5.0, 0.15 * max(span, stated)):
        return
    text = sections[where].text
    yield where, Finding(
        type="important", category="consistency: duration vs start and end", risk="medium",
        description=(f"The duration is given as {told.group().strip()}, but the start and end given beside it "
                     f"({start.group(2).strip()} to {end.group(2).strip()}) are {_human(span)} apart: one of "
                     "the three is wrong."),
        suggestion="Correct the start, the end or the duration so that they agree.",
        quote=sentence_around(text, said.start(2), said.start(2) + len(said.group(2).rstrip()), 120),
        confidence=0.7)
