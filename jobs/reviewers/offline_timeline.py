"""Timeline rules for one timeline section: no dates or times at all, undated entries among dated
ones, entries out of order, times without a date or a time zone.

(The document-wide timeline checks, across sections, are in consistency.py.)
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding
from redline.jobs.reviewers.offline_text import (
    _DATE, _MOMENT, _MONTH, _TIME, _TIMEZONE, Span, _clip, _make, _rx, _Section,
)


DateKey = tuple[int, int, int] | str


_MONTH_NUMBERS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DAY_MONTH_YEAR = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\.?,?\s+(\d{{4}})\b", re.I)
_MONTH_DAY_YEAR = re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DAY_N = re.compile(r"\bday\s+(\d{1,3})\b", re.I)
_CLOCK = re.compile(r"\b([01]?\d|2[0-3])[:h]([0-5]\d)\b")
_CLOCK_12H = re.compile(r"\b(1[0-2]|0?[1-9])(?::([0-5]\d))?\s?([ap])\.?m\b\.?", re.I)


def _parse_date(text: str) -> tuple[int, int, int] | None:
    if m := _ISO_DATE.search(text):
        return int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m := _DAY_MONTH_YEAR.search(text):
        return int(m.group(3)), _MONTH_NUMBERS[m.group(2)[:3].lower()], int(m.group(1))
    if m := _MONTH_DAY_YEAR.search(text):
        return int(m.group(3)), _MONTH_NUMBERS[m.group(1)[:3].lower()], int(m.group(2))
    if m := _DAY_N.search(text):
        return 0, 0, int(m.group(1))
    return None


def _parse_minutes(text: str) -> int | None:
    if m := _CLOCK_12H.search(text):
        hour = int(m.group(1)) % 12 + (12 if m.group(3).lower() == "p" else 0)
        return hour * 60 + int(m.group(2) or 0)
    if m := _CLOCK.search(text):
        return int(m.group(1)) * 60 + int(m.group(2))
    return None


def _date_key(text: str) -> DateKey | None:
    """The entry's date: parsed if possible, else the date as written (e.g. "monday")."""
    parsed = _parse_date(text)
    if parsed:
        return parsed
    match = _DATE.search(text)
    return " ".join(match.group(0).lower().split()) if match else None


def _goes_back(new: DateKey, old: DateKey) -> bool:
    """Only parsed dates of the same kind (calendar dates, or "Day N") can be compared."""
    if not (isinstance(new, tuple) and isinstance(old, tuple)):
        return False
    return (new[0] == 0) == (old[0] == 0) and new < old


def _out_of_order(entries: list[Span]) -> Span | None:
    """The first entry earlier than the one before (a jump back of 6h+ in a day is midnight)."""
    current: DateKey | None = None
    last_minutes: int | None = None
    for entry in entries:
        date = _date_key(entry.text)
        minutes = _parse_minutes(entry.text)
        if date is not None and current is not None and _goes_back(date, current):
            return entry
        if date is not None and date != current:
            current, last_minutes = date, None  # a new day: the clock starts again
        if minutes is not None:
            if last_minutes is not None and 0 < last_minutes - minutes < 6 * 60:
                return entry
            last_minutes = minutes
    return None


_TIMELINE_NOTE = _rx(r"utc", r"gmt", r"time\s?zone", r"local\s+time", r"all\s+times")


def _is_timeline_note(block: Span) -> bool:
    """A heading ("Day 1:") or a note about times, not an event."""
    return block.text.rstrip().endswith(":") or bool(_TIMELINE_NOTE.search(block.text))


def check_timeline(sec: _Section) -> Iterator[Finding]:
    in_title_or_text = sec.title + "\n" + sec.text
    if not _MOMENT.search(sec.text):
        yield _make(
            "important",
            "high",
            "Timeline",
            "No dates or times in the timeline: events cannot be ordered, delays cannot be "
            "measured and entries cannot be checked against logs.",
            "Give each entry a date and time (e.g. '2024-03-05 14:32 UTC') and its source, in "
            "chronological order.",
            questions=(
                "When exactly did each event happen, and how is that known?",
                "How long passed between detection, escalation and containment?",
            ),
            refs=("C5",),
            confidence=0.9,
        )
        return
    entries = [b for b in sec.blocks if not _is_timeline_note(b)]
    dated = [b for b in entries if _MOMENT.search(b.text)]
    undated = [b for b in entries if not _MOMENT.search(b.text)]
    if len(dated) >= 2 and undated:
        yield _make(
            "suggestion",
            "medium",
            "Timeline",
            f"{len(undated)} of {len(entries)} timeline entries have no date or time.",
            "Date and time every entry, or mark it as approximate and say why the time is unknown.",
            quote=_clip(undated[0].text),
            questions=("When did this happen, and what record shows it?",),
            refs=("C5",),
            confidence=0.6,
        )
    late = _out_of_order(dated)
    if late:
        yield _make(
            "important",
            "medium",
            "Timeline",
            "This entry is earlier than the one before it: the timeline is not in chronological order.",
            "Sort the entries by date and time, or correct the time if it is wrong.",
            quote=_clip(late.text),
            questions=("Is this time correct, and which source does it come from?",),
            refs=("C5",),
            confidence=0.7,
        )
    has_clock = bool(_TIME.search(sec.text))
    if has_clock and not _DATE.search(in_title_or_text):
        yield _make(
            "suggestion",
            "low",
            "Timeline",
            "The timeline gives times of day but no date.",
            "Add the date of the events (and the day for every entry if they span midnight).",
            questions=("On which date or dates did these events happen?",),
            refs=("C5",),
            confidence=0.7,
        )
    if has_clock and not _TIMEZONE.search(in_title_or_text):
        yield _make(
            "suggestion",
            "low",
            "Timeline",
            "The time zone of the times is not stated.",
            "State the time zone once (e.g. 'All times UTC'), especially if logs from several "
            "systems or sites are combined.",
            questions=("Are all times in the same time zone as the source logs?",),
            refs=("C5", "C15"),
            confidence=0.5,
        )
