"""What the offline chat works out from the write-up's own facts, before it quotes passages.

A reviewer asking "How long did the outage last?" of a write-up that never says wants the span of
its timeline, not "nothing matches"; "How many users were affected?" of one that counts nothing
wants to hear that it counts nothing; "Which actions have no owner?" wants the items, counted.
Each fact is read with the rules' own readers (the timeline of consistency_timeline, the count of
postmortem, the action items of offline_actions), so the chat and the findings agree. Each
answer says where it comes from and what it is not: a span between entries is not a stated
duration. Linear in the text, like the rules it reuses.
"""

from __future__ import annotations

import re
from datetime import timedelta

from redline.jobs.models import Section
from redline.jobs.reviewers.consistency_timeline import _fmt, extract_timeline, resolve_dates
from redline.jobs.reviewers.offline_actions import _action_items, _done_or_tracked
from redline.jobs.reviewers.offline_text import _Section, detect_role, split_blocks, split_sentences

_ASKS_DURATION = re.compile(r"\bhow\s+long\b|\bduration\b|\bdowntime\b|\bhow\s+much\s+time\b", re.I)
_ASKS_COUNT = re.compile(r"\bhow\s+many\b|\bnumber\s+of\b|\bhow\s+much\b(?!\s+time)", re.I)
_ABOUT_HARM = re.compile(r"\b(?:affected|impacted|hurt|users?|customers?|people|requests?|builds?|downloads?|"
                         r"launch(?:es)?|accounts?|installs?)\b", re.I)
# "Which actions have no owner?", "Who is responsible for the follow-ups?"; not "Who was responsible
# for the outage?", which asks about blame, not about the action items
_ASKS_OWNERS = re.compile(r"\bowners?\b|\bowned\b|\bassignees?\b|\bdue\s+dates?\b|\bdeadlines?\b", re.I)
_ASKS_WHO_ACTS = re.compile(r"\b(?:responsible|assigned|accountable)\b.*\b(?:actions?|items?|tasks?|follow[\s-]*ups?)\b"
                            r"|\b(?:actions?|items?|tasks?|follow[\s-]*ups?)\b.*\b(?:responsible|assigned|accountable)\b",
                            re.I)
_PAUSE = timedelta(hours=12)
# a lessons heading under the actions ("What went wrong") lists problems, not actions
_NOT_ACTIONS = re.compile(r"\bwent\s+(?:wrong|well|right|badly|poorly)\b|\blessons?\b|\blearn", re.I)
_MAX_LISTED = 5
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


def _timeline_span(sections: list[Section]) -> str | None:
    """The first and the last clock-timed entries of the timeline, and the time between them."""
    entries = [e for e in resolve_dates(extract_timeline(sections), sections) if e.when is not None and e.has_time]
    if len(entries) < 2:
        return None
    entries.sort(key=lambda e: e.when)
    # the incident's own run of entries: up to the first pause of over 12 hours (a follow-up a week
    # later is not part of how long it lasted)
    run = next((k for k in range(1, len(entries)) if entries[k].when - entries[k - 1].when > _PAUSE), len(entries))
    first, last = entries[0], entries[run - 1]
    delta = last.when - first.when
    if delta <= timedelta(0):
        return None
    dated = any(e.explicit_date for e in entries)
    stamp = _fmt if dated else (lambda dt: dt.strftime("%H:%M"))
    later = (f" Later entries follow after a pause, up to {stamp(entries[-1].when)}."
             if run < len(entries) else "")
    return (f"By its timeline: the first timed entry is at {stamp(first.when)} (\"{_short(first.quote)}\") and "
            f"the last at {stamp(last.when)} (\"{_short(last.quote)}\"), {_span(delta)} apart. That is the "
            "span of the entries, not a duration the write-up states: the problem may have begun before "
            f"the first of them.{later}")


def _no_count(sections: list[Section]) -> str | None:
    """No count of the harm anywhere (postmortem's reading); and its vaguest words for it, if any."""
    from redline.jobs.reviewers.postmortem import _COUNT, _HARM, _VAGUE

    if any(_COUNT.search(s.text) for s in sections):
        return None
    said = next((sentence.text for s in sections for sentence in split_sentences(s.text, split_blocks(s.text))
                 if _VAGUE.search(sentence.text) and _HARM.search(sentence.text)), None)
    return ("The write-up gives no count of what was affected: no number or share of users, requests, "
            "builds or downloads anywhere in it." + (f' It says only: "{_short(said)}"' if said else ""))


def _owners(sections: list[Section]) -> str | None:
    """The action items with no owner or no due date (done or ticketed ones need neither)."""
    open_items: list[tuple[str, str, list[str]]] = []
    total = closed = 0
    within: int | None = None  # the level of the actions heading whose sub-sections are read too
    for s in sections:
        if within is not None and s.level <= within:
            within = None
        if detect_role(s.title) == "actions" and within is None:
            within = s.level
        if within is None or _NOT_ACTIONS.search(s.title):
            continue
        blocks = tuple(split_blocks(s.text))
        sec = _Section(title=s.title, text=s.text, role="actions", index=s.index, total=len(sections),
                       outline=tuple(x.title for x in sections), guidelines=None, blocks=blocks,
                       sentences=tuple(split_sentences(s.text, blocks)))
        for item in _action_items(sec):
            total += 1
            if _done_or_tracked(item.span.text):
                closed += 1
                continue
            missing = [name for name, ok in (("owner", item.has_owner), ("due date", item.has_due)) if not ok]
            if missing:
                open_items.append((s.title, item.span.text, missing))
    if not total:
        return None
    items = f"{total} action item{'s' if total != 1 else ''}"
    if not open_items:
        if not closed:
            return f"Each of the {items} names an owner and a due date."
        return (f"Each of the {items} names an owner and a due date, or is done or linked to a ticket "
                f"({closed} of them {'is' if closed == 1 else 'are'}).")
    head = (f"Of the {items}, {len(open_items)} {'has' if len(open_items) == 1 else 'have'} no owner or no due "
            f"date ({closed} {'is' if closed == 1 else 'are'} done or linked to a ticket):")
    lines = [f'- "{_short(text)}" ({title}: no {" and no ".join(missing)})'
             for title, text, missing in open_items[:_MAX_LISTED]]
    if len(open_items) > _MAX_LISTED:
        lines.append(f"- and {len(open_items) - _MAX_LISTED} more.")
    return "\n".join([head, *lines])


def facts_for(question: str, sections: list[Section]) -> list[str]:
    """What the write-up's facts answer of `question` (nothing when it asks for none of them)."""
    facts: list[str | None] = []
    if _ASKS_DURATION.search(question):
        facts.append(_timeline_span(sections))
    if _ASKS_COUNT.search(question) and _ABOUT_HARM.search(question):
        facts.append(_no_count(sections))
    if _ASKS_OWNERS.search(question) or _ASKS_WHO_ACTS.search(question[:500]):
        facts.append(_owners(sections))
    return [f for f in facts if f]
