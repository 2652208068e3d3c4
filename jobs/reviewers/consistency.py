"""Document-level consistency checks: what a section-at-a-time reviewer cannot see.

One entry point, `document_findings(sections)`, reads the whole document once, extracts its
timeline (entries with dates and clock times), the durations it states, and the identifiers it
names, and compares them across sections:

- a stated duration that no pair of the timeline's own timestamps supports ("lasted nine hours"
  against a timeline that runs 11:00 -> 18:00);
- timeline entries listed out of order, and impossible dates (month 13, day 32, Feb 30, a
  five-digit year, a weekday that does not match its date);
- an identifier or handle spelled two ways (`username` / `userhame`, `@jdoe` / `@jdeo`);
- a timeline that covers hours, then jumps days ahead: a later event folded into this one;
- the summary against the rest: counts, clock times and versions that disagree.

For a software or security write-up (`offline.document_kind`) it also runs what a post-mortem must
establish (`postmortem.py`: cause, impact, duration) and its follow-ups (`followups.py`: actions
without owners), each at most once per document.

Every rule is linear in the text: str methods and simple, bounded regexes only. Each finding's
`quote` is an exact substring of its own section's text and `related_quote` an exact substring of
`related_section_id`'s text. Confidences are the precision measured on the tuning half of
bench/quality/corpus (see bench/quality/try_rules.py).

Shared helpers used by `hygiene.py` live here too (code masking, date and time parsing).
"""

from __future__ import annotations

import bisect
import calendar
import re
from functools import lru_cache
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from redline.jobs.models import Finding, Section

# --------------------------------------------------------------------------------------------
# Shared text helpers
# --------------------------------------------------------------------------------------------

MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}

ZONES = frozenset("""UTC GMT Z CET CEST EDT EST PDT PST CDT CST MDT MST BST IST JST KST HKT SGT AEST AEDT
ACST AWST NZST NZDT WET WEST EET EEST MSK BRT ART UTC+0 UTC+00:00""".split())
ZONE_WORDS = ("time zone", "timezone", "central european time", "eastern time", "pacific time",
              "eastern daylight", "pacific daylight", "coordinated universal", "greenwich", "local time",
              "utc+", "utc-", "gmt+", "gmt-")

# ISO-ish dates: 2022-01-27 (also catches five-digit years and month 13 for validation).
ISO_DATE = re.compile(r"(?<![\w.-])(\d{4,5})-(\d{1,2})-(\d{1,2})(?![\w-])")
# Month-name dates: "March 13, 2018", "Sept 5th", "13 March 2018".
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
NAMED_DATE = re.compile(r"\b(" + _MONTH_ALT + r")\.? (\d{1,2})(?:st|nd|rd|th)?\b(?:,? (\d{4,5})\b)?", re.IGNORECASE)
DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|\.)? (" + _MONTH_ALT + r")\b(?:,? (\d{4,5})\b)?", re.IGNORECASE)
# Clock times: 07:28, 7:28, 10:59:57; validated afterwards (hour < 24, minute < 60).
CLOCK = re.compile(r"(?<![\w:.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
# "01:38: alerts fired": a clock time with a colon as the separator before the entry's text
LABEL_CLOCK = re.compile(r"(\d{1,2}):(\d{2}):(?=\s)")
YEAR = re.compile(r"(?<![\w.-])((?:19|20)\d{2})(?![\w-])")
WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019]{0,39}")
MAX_PER_RULE = 12  # findings per rule and section: enough to make the point, and bounds the work
MAX_ENTRIES = 2000


@lru_cache(maxsize=16)
def code_mask(text: str) -> list[bool]:
    """Per character: is it inside a fenced code block or an inline `code` span? (linear, cached per text;
    callers must not modify the list)."""
    mask = [False] * len(text)
    pos = 0
    in_fence = False
    for line in text.splitlines(keepends=True):
        n = len(line)
        stripped = line.strip()
        if stripped.startswith("```") or stripped.startswith("~~~") or in_fence:
            if stripped.startswith("```") or stripped.startswith("~~~"):
                in_fence = not in_fence
            mask[pos:pos + n] = [True] * n
        else:
            k = line.find("`")
            while k >= 0:
                j = line.find("`", k + 1)
                if j < 0:
                    break
                mask[pos + k:pos + j + 1] = [True] * (j + 1 - k)
                k = line.find("`", j + 1)
        pos += n
    return mask


@lru_cache(maxsize=16)
def url_spans(text: str) -> list[tuple[int, int]]:
    """Spans of URLs and e-mail-ish tokens (linear scan over whitespace-separated tokens; cached, read-only)."""
    spans = []
    for m in re.finditer(r"\S{1,4000}", text):
        tok = m.group()
        if "://" in tok or tok.startswith("www.") or "@" in tok.strip("<>()[]") and "." in tok or "](" in tok:
            spans.append((m.start(), m.end()))
    return spans


def in_spans(pos: int, spans: list[tuple[int, int]]) -> bool:
    k = bisect.bisect_right(spans, (pos, 1 << 62)) - 1
    return k >= 0 and spans[k][0] <= pos < spans[k][1]


def line_at(text: str, pos: int) -> tuple[int, int]:
    """(start, end) of the line holding text[pos]."""
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return start, len(text) if end < 0 else end


class Lines:
    """Line boundaries of a text, found once (linear); `span(pos)` by bisection."""

    def __init__(self, text: str) -> None:
        self.text = text
        starts = [0]
        k = text.find("\n")
        while k >= 0:
            starts.append(k + 1)
            k = text.find("\n", k + 1)
        self.starts = starts
        self._cache: dict[tuple[int, str], bool] = {}

    def span(self, pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(self.starts, pos) - 1
        start = self.starts[i]
        end = self.starts[i + 1] - 1 if i + 1 < len(self.starts) else len(self.text)
        return start, end

    def test(self, pos: int, name: str, fn) -> bool:
        """fn(line) for the line holding pos, computed once per line and name."""
        ls, le = self.span(pos)
        key = (ls, name)
        if key not in self._cache:
            self._cache[key] = fn(self.text[ls:le])
        return self._cache[key]


def sentence_around(text: str, start: int, end: int, limit: int = 300) -> str:
    """A short exact substring around [start, end): the sentence, trimmed to `limit` characters."""
    lo = max(0, start - limit)
    left = max(text.rfind(". ", lo, start), text.rfind("\n", lo, start))
    left = lo if left < 0 else left + 1
    right_dot = text.find(". ", end, end + limit)
    right_nl = text.find("\n", end, end + limit)
    cands = [x for x in (right_dot, right_nl) if x >= 0]
    right = min(cands) if cands else min(len(text), end + limit)
    if not cands and right < len(text):
        sp = text.rfind(" ", end, right)  # do not stop mid-word
        right = sp if sp > end else right
    if text[right:right + 1] == ".":
        right += 1
    q = text[left:right].strip()
    return q if q else text[start:end]


def clean_quote(text: str, start: int, end: int) -> str:
    """text[start:end] with surrounding whitespace dropped (still an exact substring)."""
    q = text[start:end]
    return q.strip() or q


def doc_years(sections: list[Section]) -> list[int]:
    years = []
    for s in sections:
        for t in (s.title, s.text):
            years += [int(m.group(1)) for m in YEAR.finditer(t)]
    return years


def states_zone(sections: list[Section]) -> bool:
    """Does the document name a time zone anywhere (title or text)?"""
    for s in sections:
        for t in (s.title, s.text):
            low = t.lower()
            if any(w in low for w in ZONE_WORDS):
                return True
            for m in re.finditer(r"\b[A-Z]{1,4}T\b|\bZ\b|\bUTC\b|\bGMT\b", t):
                if m.group() in ZONES:
                    return True
    return False


def valid_date(y: int, mo: int, d: int) -> str | None:
    """Why y-mo-d cannot be a real date, or None if it can."""
    if y > 9999:
        return f"the year {y} has five digits"
    if not 1 <= mo <= 12:
        return f"there is no month {mo}"
    last = calendar.monthrange(y if y >= 1 else 2000, mo)[1]
    if not 1 <= d <= last:
        return f"{calendar.month_name[mo]} has no day {d}" + (f" in {y}" if mo == 2 and d == 29 else "")
    return None


# --------------------------------------------------------------------------------------------
# Timeline extraction
# --------------------------------------------------------------------------------------------

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


def _leading_stamp(line: str, default_year: int | None):
    """Parse a date and/or a clock time at the very start of a timeline line.

    Returns (date | None, minutes | None, bad_reason | None) or None if the line does not start
    with a stamp. Accepted starts: optional bullet, then an ISO date and/or a time, or a month-name
    date ("August 15", "Sept 5th, 2024"), optionally a weekday.
    """
    s = line.lstrip()
    for b in ("- ", "* ", "• ", "+ "):
        if s.startswith(b):
            s = s[len(b):].lstrip()
            break
    s = s.lstrip("*_~").lstrip()  # **bold** stamps, "~13:30" (approximate)
    d = None
    bad = None
    rest = s
    m = ISO_DATE.match(s)
    if m:
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
            if y is not None:
                bad = valid_date(y, mo, dd)
                if not bad:
                    d = date(y, mo, dd)
            rest = s[m.end():].lstrip(" ,")
    minutes = None
    mt = (CLOCK.match(rest) or LABEL_CLOCK.match(rest)) if rest else None
    if mt:
        h, mi = int(mt.group(1)), int(mt.group(2))
        if h < 24 and mi < 60:
            minutes = h * 60 + mi
    if not m and not mt:
        return None
    tail = rest[mt.end():] if mt else rest
    return d, minutes, bad, (m is not None), tail


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
            d, minutes, bad, has_date, _ = title_is_stamp
            q = _first_line_quote(s.text)
            if q is not None:
                entries.append(_mk_entry(s.index, q, d, minutes, has_date, s.title))
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
            d, minutes, bad, has_date, _ = got
            if d is None and minutes is None:
                continue
            entries.append(_mk_entry(s.index, line.strip()[:300], d, minutes, has_date, line))
    return entries


def _mk_entry(section: int, quote: str, d, minutes, has_date, line) -> Entry:
    when = None
    if d is not None:
        when = datetime(d.year, d.month, d.day) + timedelta(minutes=minutes or 0)
    elif minutes is not None:
        when = datetime(1, 1, 1) + timedelta(minutes=minutes)  # date resolved later
    return Entry(section, quote, when, minutes is not None, has_date and d is not None, line)


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
        out.append(Entry(e.section, e.quote, when, e.has_time, False, e.line))
        prev = when
    return out


# --------------------------------------------------------------------------------------------
# Durations
# --------------------------------------------------------------------------------------------

NUMBER_WORDS = {"a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
                "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
                "thirty": 30, "forty": 40, "forty-five": 45, "fifty": 50, "sixty": 60, "ninety": 90}
UNIT_MIN = {"second": 1 / 60, "sec": 1 / 60, "s": 1 / 60, "minute": 1, "min": 1, "m": 1, "hour": 60, "hr": 60,
            "h": 60, "day": 1440, "d": 1440, "week": 10080}
_NUM = r"(\d{1,4}(?:\.\d{1,2})?|" + "|".join(sorted(NUMBER_WORDS, key=len, reverse=True)) + r")"
DURATION = re.compile(r"\b" + _NUM + r"(?:\s?-\s?|\s)?(seconds?|secs?|minutes?|mins?|hours?|hrs?|h|days?|weeks?)\b"
                      r"(?:,?\s(?:and\s)?(\d{1,3})\s?(minutes?|mins?|m)\b)?", re.IGNORECASE)
COMPACT = re.compile(r"\b(\d{1,3})h\s?(\d{1,2})m(?:in)?\b", re.IGNORECASE)
LEAD_IN = ("lasted", "lasting", "for", "took", "resolved in", "outage of", "down for", "duration of", "within",
           "after", "in about", "in approximately", "in under", "in over", "total of")
QUALIFIERS = {"approximately": "~", "about": "~", "around": "~", "roughly": "~", "nearly": "~", "almost": "~",
              "some": "~", "~": "~", "over": ">", "more than": ">", "at least": ">", "upwards of": ">",
              "under": "<", "less than": "<", "at most": "<", "up to": "<", "within": "<"}


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


def extract_durations(section: Section) -> list[Duration]:
    text = section.text
    mask = None
    out = []
    for m in DURATION.finditer(text):
        num, unit = m.group(1).lower(), _unit_key(m.group(2))
        if unit == "h" and m.group(2) == "H":
            continue
        try:
            n = float(num)
        except ValueError:
            n = NUMBER_WORDS.get(num)
            if n is None:
                continue
        if num in ("a", "an") and unit not in ("hour", "day", "week"):
            continue
        minutes = n * UNIT_MIN[unit if unit in UNIT_MIN else unit[:1]]
        if m.group(3):
            minutes += int(m.group(3))
        before = text[max(0, m.start() - 40):m.start()].lower()
        if not any(before.rstrip().endswith(w) or (" " + w + " ") in before[-len(w) - 20:] for w in LEAD_IN):
            continue
        # not a duration of the incident: "in the past six years", "every 5 minutes", "since 5h"
        if any(x in before[-25:] for x in ("past ", "every ", "since ", "per ", "each ", "last ", "next ")):
            continue
        if mask is None:
            mask = code_mask(text)
        if mask[m.start()]:
            continue
        qual = ""
        tail = before.rstrip()
        for w, q in QUALIFIERS.items():
            if tail.endswith(w):
                qual = q
                break
        if not qual and tail.endswith("for") and text[m.start() - 1:m.start()] == " ":
            qual = ""
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


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


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
            seen.add(d.minutes)
            end = recovery or timed[-1]
            span = (end.when - first.when).total_seconds() / 60
            quote = sentence_around(s.text, d.start, d.end, 160)
            what = "recovery" if recovery else "last entry"
            yield s.index, Finding(
                type="important", category="consistency: duration vs timeline",
                risk="high" if _is_summary(s) else "medium",
                description=(f"This says {d.text.strip()}, but the timeline's own timestamps do not support it: "
                             f"it runs from {_fmt(first.when)} to {_fmt(end.when)} ({what}), {_human(span)}, "
                             f"and no two of its entries are {d.text.strip()} apart."),
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


SUMMARY_WORDS = ("summary", "overview", "abstract", "tl;dr", "tldr", "executive", "key facts")


def _is_summary(s: Section) -> bool:
    low = s.title.lower()
    return s.index == 0 or any(w in low for w in SUMMARY_WORDS)


# --------------------------------------------------------------------------------------------
# Timeline order and impossible dates
# --------------------------------------------------------------------------------------------


def _order_findings(sections: list[Section], entries: list[Entry]):
    prev: Entry | None = None
    n = 0
    for e in entries:
        if n >= MAX_PER_RULE:
            return
        if e.when is None or e.when.year == 1:
            continue
        if prev is not None:
            back = None
            if e.when.date() < prev.when.date():
                back = "date"
            elif e.has_time and prev.has_time and e.when < prev.when:
                back = "time"
            if back:
                n += 1
                yield e.section, Finding(
                    type="important", category="timeline order", risk="medium",
                    description=(f"Timeline entry out of order: {_when(e)} is listed after {_when(prev)}."),
                    suggestion="Put the entries in chronological order (or correct the timestamp).",
                    quote=e.quote, confidence=0.8,
                    related_section_id=sections[prev.section].id, related_quote=prev.quote)
        prev = e


SEPARATE_EVENT_DAYS = 3  # a jump of more than this many days ...
SEPARATE_EVENT_RATIO = 5  # ... and this many times longer than everything before it


def _separate_event_findings(sections: list[Section], entries: list[Entry], bodies: dict[int, str]):
    """A timeline that covers a few hours, then jumps days ahead: the later entries are another
    event (a recurrence) folded into this one, and the summary should say so. Once per document."""
    timed = [e for e in entries if e.when is not None and e.when.year > 1][:MAX_ENTRIES]
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
            yield s.index, Finding(
                type="important", category="timeline date" if s.index in entry_sections else "date format",
                risk="medium", description=f"Impossible date {m.group()!r}: {why}.",
                suggestion="Correct the date.", quote=m.group(), confidence=0.9)
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
                    yield s.index, Finding(
                        type="important", category="date format", risk="medium",
                        description=f"Impossible date {m.group()!r}: {why}.", suggestion="Correct the date.",
                        quote=m.group(), confidence=0.9)
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


# --------------------------------------------------------------------------------------------
# Identifiers and handles spelled two ways
# --------------------------------------------------------------------------------------------

IDENT = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{3,39}")


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one letter substituted, inserted, deleted, or two adjacent letters swapped."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        idx = [i for i, (x, y) in enumerate(zip(a, b)) if x != y]
        if len(idx) == 2 and idx[1] == idx[0] + 1 and a[idx[0]] == b[idx[1]] and a[idx[1]] == b[idx[0]]:
            return a[idx[0]].isalpha() and a[idx[1]].isalpha()  # adjacent letters swapped: jsmith / jsmtih
        return len(idx) == 1 and a[idx[0]].isalpha() and b[idx[0]].isalpha()
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:] and b[i].isalpha()


def _variants(w: str):
    """Deletion keys for a symmetric one-edit index (Norvig/SymSpell style: len(w) keys)."""
    yield w
    for i in range(len(w)):
        yield w[:i] + "\0" + w[i + 1:]  # substitution slot
        yield w[:i] + w[i + 1:]  # deletion


def _known_word(w: str) -> bool:
    from redline.jobs.reviewers import hygiene  # the spell-checker's dictionary, loaded once
    return hygiene.is_known_word(w)


def _identifier_findings(sections: list[Section]):
    counts: dict[str, int] = {}
    first: dict[str, tuple[int, int]] = {}
    for s in sections:
        text = s.text
        urls = url_spans(text)
        for m in IDENT.finditer(text):
            tok = m.group()
            a, b = m.start(), m.end()
            # skip parts of domains, paths, URLs, e-mail addresses and file names
            if text[a - 1:a] == "." and not (a >= 2 and text[a - 2].isalpha() and (a < 3 or not text[a - 3].isalnum())):
                continue  # "example.com", "setup.py"; but "u.username" (a table alias) is kept
            if in_spans(a, urls) or text[b:b + 1] in (".", "/", "@") and text[b + 1:b + 2].isalnum() \
                    or text[a - 1:a] in ("/", "-", "#") or text[b:b + 1] in ("-", "'", "\u2019"):
                continue
            counts[tok] = counts.get(tok, 0) + 1
            first.setdefault(tok, (s.index, a))
    # only identifier-like tokens (handles, snake_case, camelCase, word+digits) or words no dictionary knows
    def ident_like(t: str) -> bool:
        core = t.lstrip("@")
        return t.startswith("@") or "_" in core or any(c.isdigit() for c in core) or \
            any(c.isupper() for c in core[1:])

    index: dict[str, list[str]] = {}
    for tok in counts:
        for v in _variants(tok.lower()):
            index.setdefault(v, []).append(tok)
    reported: set[frozenset] = set()
    for tok, n in counts.items():
        cands = set()
        for v in _variants(tok.lower()):
            cands.update(index.get(v, ()))
        for other in cands:
            if other == tok or frozenset((tok, other)) in reported:
                continue
            rare, common = (tok, other) if counts[tok] <= counts[other] else (other, tok)
            if counts[common] < 2 or counts[rare] > 1:
                continue
            lo_r, lo_c = rare.lower(), common.lower()
            short, long_ = sorted((lo_r, lo_c), key=len)
            if long_[len(short):] in ("s", "d") and long_.startswith(short) or \
                    short.endswith("e") and long_ == short + "d":
                continue  # an inflection (team_role / team_roles, exfiltrate / exfiltrated), not a misspelling
            if rare.startswith("@") != common.startswith("@"):
                continue
            case_only = rare.lower() == common.lower()
            if case_only:
                # only internal case differences (QuietMisdreavus / Quietmisdreavus), never just the first letter
                if rare[1:] == common[1:] or rare[2:] == common[2:] and rare.startswith("@"):
                    continue
                if not (ident_like(rare) and ident_like(common)):
                    continue
            else:
                if not _one_edit(rare.lower(), common.lower()) or rare[1:].lower() == common.lower() \
                        or common[1:].lower() == rare.lower() or rare[:1].lower() != common[:1].lower():
                    continue  # an edit at the very start is another name (CPython / Python), not a typo
                if not (ident_like(rare) or ident_like(common)) and _known_word(rare.lstrip("@").lower()):
                    continue
                if _known_word(rare.lstrip("@").lower()) and _known_word(common.lstrip("@").lower()):
                    continue
                if len(rare.lstrip("@")) < 5:
                    continue
                if rare[0].isupper() != common[0].isupper() and not rare.startswith("@"):
                    continue
            reported.add(frozenset((tok, other)))
            si, pos = first[rare]
            ci, cpos = first[common]
            yield si, Finding(
                type="suggestion", category="consistency: name spelled two ways", risk="low",
                description=(f"'{rare}' appears once, while '{common}' appears {counts[common]} times: "
                             f"the same name seems to be spelled two ways."),
                suggestion=f"Use one spelling throughout (probably '{common}').",
                quote=rare, confidence=0.7, related_section_id=sections[ci].id, related_quote=common)


# --------------------------------------------------------------------------------------------
# Summary vs the rest: counts, clock times, versions
# --------------------------------------------------------------------------------------------

_COUNT_WORDS = {k: v for k, v in NUMBER_WORDS.items() if k not in ("a", "an") and "-" not in k}
COUNT = re.compile(r"(?<![\w.,$#-])(\d{1,3}(?:,\d{3}){0,3}|\d{1,9}|" + "|".join(sorted(_COUNT_WORDS, key=len, reverse=True))
                   + r")(?: \(\d{1,9}\))? ([A-Za-z][A-Za-z-]{1,30})(?: ([A-Za-z][A-Za-z-]{1,30}))?", re.IGNORECASE)
COUNT_STOP = frozenset("""and or of to in on at the a an for with from by as is are was were be been percent per
times time minutes minute hours hour days day weeks week months month years year seconds second am pm utc gmt
more less than about over under least most other such new old first second third last next previous few many
different separate unique distinct total additional""".split())
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
        if s in summaries:
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
            yield s.index, Finding(
                type="important", category="consistency: count", risk="high",
                description=(f"The {s.title or 'summary'} says {m.group().strip()}, but "
                             f"'{sections[si].title}' says {om.group().strip()}."),
                suggestion="Make the numbers agree, or say why they differ.",
                quote=m.group().strip(), confidence=0.6,
                related_section_id=sections[si].id, related_quote=om.group().strip())


START_WORDS = ("began", "begins", "started", "starts", "went down", "first", "outage started", "beginning", "onset")


def _time_findings(sections: list[Section], entries: list[Entry], bodies: dict[int, str]):
    timed = [e for e in entries if e.when is not None and e.when.year > 1 and e.has_time]
    if len(timed) < 2:
        return
    minutes_at = {(e.when.hour * 60 + e.when.minute) for e in timed}
    recovery = next((e for e in timed[1:] if any(w in bodies.get(id(e), e.line).lower() for w in RECOVERY_WORDS)),
                    None)
    first = timed[0]
    entry_sections = {e.section for e in entries}
    for s in sections:
        if not _is_summary(s) or s.index in entry_sections or _is_timeline_title(s.title):
            continue
        for m in CLOCK.finditer(s.text):
            h, mi = int(m.group(1)), int(m.group(2))
            if h > 23 or mi > 59:
                continue
            t = h * 60 + mi
            if any(abs(t - x) <= 2 for x in minutes_at):
                continue  # the timeline has an entry at this time
            sent = sentence_around(s.text, m.start(), m.end(), 200)
            low = sent.lower()
            target = None
            if recovery is not None and any(w in low for w in RECOVERY_WORDS):
                target, what = recovery, "recovery"
            elif any(w in low for w in START_WORDS):
                target, what = first, "start"
            if target is None:
                continue
            tt = target.when.hour * 60 + target.when.minute
            if abs(tt - t) <= 10:
                continue
            yield s.index, Finding(
                type="important", category="consistency: time vs timeline", risk="high",
                description=(f"This gives {m.group()} for the {what}, but the timeline puts it at "
                             f"{target.when.strftime('%H:%M')}."),
                suggestion="Make the summary and the timeline agree.", quote=sent, confidence=0.6,
                related_section_id=sections[target.section].id, related_quote=target.quote)


VERSION = re.compile(r"\b([A-Za-z][\w-]{1,40}) v?(\d{1,4}\.\d{1,4}(?:\.\d{1,4})?)(?![\d.]\d)")


def _version_findings(sections: list[Section]):
    """The summary names `pkg X`, the rest of the document names pkg only with other versions."""
    summaries = [s for s in sections if _is_summary(s)]
    rest: dict[str, list[tuple[int, str, str]]] = {}
    for s in sections:
        if s in summaries:
            continue
        for m in VERSION.finditer(s.text):
            rest.setdefault(m.group(1).lower(), []).append((s.index, m.group(2), m.group()))
    for s in summaries:
        for m in VERSION.finditer(s.text):
            name, ver = m.group(1).lower(), m.group(2)
            if name in ("version", "versions", "v", "release", "and", "to", "from", "of", "python"):
                continue
            others = rest.get(name, [])
            if not others or any(o[1] == ver for o in others) or len({o[1] for o in others}) != 1:
                continue
            si, over, oq = others[0]
            yield s.index, Finding(
                type="important", category="consistency: version", risk="medium",
                description=f"The summary names {m.group()}, but the rest of the document only mentions {oq}.",
                suggestion="Check which version is meant.", quote=m.group(), confidence=0.6,
                related_section_id=sections[si].id, related_quote=oq)


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def document_findings(sections: list[Section]) -> dict[str, list[Finding]]:
    """Findings per section id for everything that needs the whole document to see."""
    from redline.jobs.reviewers import followups, postmortem  # they use this module's helpers
    from redline.jobs.reviewers.offline import document_kind

    out: dict[str, list[Finding]] = {s.id: [] for s in sections}
    if not sections:
        return out
    # work on a copy whose indexes are positions in the list (the caller's may differ)
    secs = [Section(id=s.id, title=s.title, index=i, text=s.text, level=s.level) for i, s in enumerate(sections)]
    entries = resolve_dates(extract_timeline(secs), secs)
    timeline_sections = {e.section for e in entries} | {s.index for s in secs if _is_timeline_title(s.title)}
    bodies = _entry_bodies(secs, entries)
    gens = [_order_findings(secs, entries), _impossible_date_findings(secs, entries),
            _duration_findings(secs, entries, timeline_sections), _identifier_findings(secs),
            _count_findings(secs), _time_findings(secs, entries, bodies), _version_findings(secs),
            _separate_event_findings(secs, entries, bodies)]
    if document_kind([x.text for x in secs]) == "software":
        # what a post-mortem must establish, and its follow-ups (the general checklist has its own)
        gens += [postmortem.document_findings(secs, entries, timeline_sections),
                 followups.document_findings(secs, timeline_sections)]
    for gen in gens:
        for i, f in gen:
            if f.quote and f.quote not in secs[i].text:
                continue
            if f.related_quote and f.related_section_id:
                rel = next((x for x in secs if x.id == f.related_section_id), None)
                if rel is None or f.related_quote not in rel.text:
                    f = f.model_copy(update={"related_quote": None, "related_section_id": None})
            out[secs[i].id].append(f)
    return out
