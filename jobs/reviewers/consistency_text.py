"""Text helpers the document-level rules share: what is code, where a line is, a quote, a date.

Used by every `consistency_*.py` rule, by `hygiene_*.py` and by `postmortem.py`:

- what is code or a URL (never judged as prose): `code_mask`, `url_spans`, `in_spans`;
- line spans (`Lines`, `line_at`) and short exact quotes (`sentence_around`, `clean_quote`);
- the date, clock-time and time-zone vocabulary (`ISO_DATE`, `NAMED_DATE`, `CLOCK`, `ZONES`...),
  whether the document names a zone or a year, and why a date cannot be real (`valid_date`);
- which section is a summary (`_is_summary`);
- the one-edit index (`_one_edit`, `_variants`) of both "a name spelled two ways" and the
  spelling rule's technical terms.

Everything is linear in the text; the per-text masks are cached (callers must not modify them).
"""

from __future__ import annotations

import bisect
import calendar
import re
from functools import lru_cache

from redline.jobs.models import Section


MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
MONTHS["sept"] = 9
WEEKDAYS = {d.lower(): i for i, d in enumerate(calendar.day_name)}

ZONES = frozenset("""UTC GMT Z CET CEST EDT EST PDT PST CDT CST MDT MST BST IST JST KST HKT SGT AEST AEDT
ACST AWST NZST NZDT WET WEST EET EEST MSK BRT ART WAT CAT EAT SAST HST AKST AKDT AST ADT NST NDT PHT WIB ICT PKT
UTC+0 UTC+00:00""".split())
ZONE_WORDS = ("time zone", "timezone", "central european time", "eastern time", "pacific time",
              "eastern daylight", "pacific daylight", "coordinated universal", "greenwich", "local time",
              "utc+", "utc-", "gmt+", "gmt-")

# ISO-ish dates: 2022-01-27 (also catches five-digit years and month 13 for validation).
ISO_DATE = re.compile(r"(?<![\w.-])(\d{4,5})-(\d{1,2})-(\d{1,2})(?![\w-])")
# Month-name dates: "March 13, 2018", "Sept 5th", "13 March 2018".
_MONTH_ALT = "|".join(sorted(MONTHS, key=len, reverse=True))
# a clock written as four digits, then its zone or "hrs" ("Feb 8 0117 UTC", "1805hrs"): not a year
_CLOCK_ZONE = r"\s?(?:UTC|GMT|Z|hrs?|hours)\b"
MIL_CLOCK = re.compile(r"(?<![\d.:])([01]\d|2[0-3])([0-5]\d)(?=" + _CLOCK_ZONE + ")")
_MIL_CLOCK = r"(?:[01]\d|2[0-3])[0-5]\d(?=" + _CLOCK_ZONE + ")"  # the same, without its groups
HHMM = re.compile(r"([01]\d|2[0-3])([0-5]\d)(?![\d.])(?!:\d)")  # "1906" right after a date with its year
_YEAR_AFTER = r"(?:,? (?!" + _MIL_CLOCK + r")(\d{4,5})\b)?"  # "March 5, 2024", not "Feb 7 1506 UTC"
NAMED_DATE = re.compile(r"\b(" + _MONTH_ALT + r")\.? (\d{1,2})(?:st|nd|rd|th)?\b" + _YEAR_AFTER, re.IGNORECASE)
DAY_MONTH = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|\.)? (" + _MONTH_ALT + r")\b" + _YEAR_AFTER, re.IGNORECASE)
# Clock times: 07:28, 7:28, 10:59:57; validated afterwards (hour < 24, minute < 60).
CLOCK = re.compile(r"(?<![\w:.])(\d{1,2}):(\d{2})(?::(\d{2}))?(?![\d:])")
# "01:38: alerts fired": a clock time with a colon as the separator before the entry's text
LABEL_CLOCK = re.compile(r"(\d{1,2}):(\d{2}):(?=\s)")
YEAR = re.compile(r"(?<![\w.-])((?:19|20)\d{2})(?![\w-])(?!" + _CLOCK_ZONE + ")")  # not "1936 UTC" (a clock)
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


SUMMARY_WORDS = ("summary", "overview", "abstract", "tl;dr", "tldr", "executive", "key facts")


def _is_summary(s: Section) -> bool:
    low = s.title.lower()
    return s.index == 0 or any(w in low for w in SUMMARY_WORDS)


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
