"""Document-level consistency checks: what a section-at-a-time reviewer cannot see.

One entry point, `document_findings(sections)`, reads the whole document once, extracts its
timeline (entries with dates and clock times), the durations it states, and the identifiers it
names, and compares them across sections. Each rule family has its own module, named for what
it checks:

- `consistency_text.py`: the helpers they share (code masking, lines, quotes, date and time
  parsing), also used by `hygiene_*.py` and `postmortem.py`;
- `consistency_timeline.py`: the timeline's entries, with dates carried forward;
- `consistency_durations.py`: a stated duration that no pair of the timeline's own timestamps
  supports ("lasted nine hours" against a timeline that runs 11:00 -> 18:00), an outage given two
  lengths, and a count times the time each takes that is not the total given;
- `consistency_order.py`: timeline entries listed out of order, and a timeline that covers hours,
  then jumps days ahead (a later event folded into this one), and a list of releases that skips
  one (0.1.6, then 0.1.8);
- `consistency_anchor.py`: when it happened said only relatively or by the month ("Last week,
  ...", "In March 2023 ..."), with no date anywhere in the document to anchor it;
- `consistency_dates.py`: impossible dates (month 13, day 32, Feb 30, a five-digit year, a
  weekday that does not match its date);
- `consistency_names.py`: an identifier or handle spelled two ways (`username` / `userhame`,
  `@jdoe` / `@jdeo`);
- `consistency_summary.py`: the summary against the rest: counts, clock times and versions that
  disagree, and a date and minute that are a timeline entry's minute on another day;
- `consistency_zones.py`: a time zone named for the wrong half of the year ("PST" in September), and a
  timeline that says one zone while its entries name another.

For a software or security write-up (`offline.document_kind`) it also runs what a post-mortem must
establish (`postmortem.py`: cause, impact, duration; `postmortem_evidence.py`: all-clears and
claims) and its follow-ups (`followups.py`: actions without owners), each at most once per document.

Every rule is linear in the text: str methods and simple, bounded regexes only. Each finding's
`quote` is an exact substring of its own section's text and `related_quote` an exact substring of
`related_section_id`'s text. Confidences are the precision measured on the tuning half of
bench/quality/corpus (see bench/quality/try_rules.py).

The rule modules' names stay importable from here (`consistency.X`, as `postmortem.py` reads them).
"""

from __future__ import annotations

import re

from redline.jobs.documents.marks import as_read, as_written
from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_anchor import MONTH_ONLY, RELATIVE, _unanchored_findings
from redline.jobs.reviewers.consistency_dates import _impossible_date_findings, _summary_weekday_findings
from redline.jobs.reviewers.consistency_events import _event_time_findings
from redline.jobs.reviewers.consistency_durations import (
    COMPACT, DURATION, LEAD_IN, NUMBER_WORDS, QUALIFIERS, UNIT_MIN, Duration, _arithmetic_findings, _field_findings,
    _duration_findings, _outage_duration_findings, extract_durations,
)
from redline.jobs.reviewers.consistency_names import IDENT, _identifier_findings
from redline.jobs.reviewers.consistency_order import (
    SEPARATE_EVENT_DAYS, SEPARATE_EVENT_RATIO, _order_findings, _separate_event_findings, _undated_day_findings, _version_gap_findings,
)
from redline.jobs.reviewers.consistency_zones import _daylight_findings, _offset_findings, _stated_zone_findings
from redline.jobs.reviewers.consistency_summary import (
    COUNT, COUNT_HEDGES, COUNT_STOP, START_WORDS, VERSION, _count_findings, _date_findings, _stamp_findings,
    _time_findings, _title_date_findings, _version_findings,
)
from redline.jobs.reviewers.consistency_text import (
    CLOCK, DAY_MONTH, ISO_DATE, LABEL_CLOCK, MAX_ENTRIES, MAX_PER_RULE, MONTHS, NAMED_DATE, SUMMARY_WORDS,
    WEEKDAYS, WORD, YEAR, ZONE_WORDS, ZONES, Lines, _is_summary, _one_edit, _variants, clean_quote, code_mask,
    doc_years, in_spans, line_at, sentence_around, states_zone, url_spans, valid_date,
)
from redline.jobs.reviewers.consistency_timeline import (
    RECOVERY_WORDS, STAND_IN_DAY, TIMELINE_WORDS, Entry, _entry_bodies, _is_timeline_title, _leading_stamp,
    _title_stamp, extract_timeline, resolve_dates,
)
from redline.jobs.reviewers.offline_text import clear_sentences

__all__ = [
    "CLOCK", "COMPACT", "COUNT", "COUNT_HEDGES", "COUNT_STOP", "DAY_MONTH", "DURATION", "IDENT", "ISO_DATE",
    "LABEL_CLOCK", "LEAD_IN", "MAX_ENTRIES", "MAX_PER_RULE", "MONTHS", "MONTH_ONLY", "NAMED_DATE", "NUMBER_WORDS",
    "QUALIFIERS", "RELATIVE", "RECOVERY_WORDS", "SEPARATE_EVENT_DAYS", "SEPARATE_EVENT_RATIO", "STAND_IN_DAY",
    "START_WORDS",
    "SUMMARY_WORDS", "TIMELINE_WORDS", "UNIT_MIN", "VERSION", "WEEKDAYS", "WORD", "YEAR", "ZONES", "ZONE_WORDS",
    "Duration", "Entry", "Lines", "clean_quote", "code_mask", "doc_years", "document_findings",
    "extract_durations", "extract_timeline", "in_spans", "line_at", "resolve_dates", "sentence_around",
    "states_zone", "url_spans", "valid_date",
    # private, but read as `consistency.X` by postmortem.py (and by hygiene.py before the split)
    "_is_summary", "_leading_stamp", "_one_edit", "_title_stamp", "_variants",
]


def _incidents(sections: list[Section]) -> list[list[Section]]:
    """A write-up that collects several incidents' reports ("Chain Stuck at Genesis (Incident #6)",
    each with its own "Timeline" sub-section, as Prysm's testnet post-mortems are): its top-level
    sections, each with the sections under it (what comes before the first is a part of its own).
    One part for a write-up of one incident: fewer than two top-level sections hold a timeline."""
    top = min(s.level for s in sections)
    parts: list[list[Section]] = []
    for s in sections:
        if s.level == top or not parts:
            parts.append([])
        parts[-1].append(s)
    with_timeline = [p for p in parts if not _is_timeline_title(p[0].title) and _NAMES_AN_INCIDENT.search(p[0].title)
                     and any(_is_timeline_title(x.title) for x in p[1:])]
    return parts if len(with_timeline) >= 2 else [sections]


# a heading that names one incident of several: "(Incident #6)", "Outage of 2019-11-23", "#4: DNS failure"
# (not "Detection" over "Detection timeline" and "Response" over "Response timeline": one incident's parts)
_NAMES_AN_INCIDENT = re.compile(r"\b(?:incident|outage|post-?mortem)\b|#\s?\d|\b\d{4}-\d{2}-\d{2}\b", re.I)


def document_findings(sections: list[Section], title: str | None = None,
                      date: str | None = None) -> dict[str, list[Finding]]:
    """Findings per section id for everything that needs the whole document to see; `title`, the
    document's own (its first heading, as the parser reads it), is checked against the rest too;
    `date`, the day the file gives itself (a blog post's front matter), dates what it says relatively."""
    from redline.jobs.reviewers import followups, postmortem, postmortem_evidence  # they use this module's helpers
    from redline.jobs.reviewers.offline import document_kind

    out: dict[str, list[Finding]] = {s.id: [] for s in sections}
    if not sections:
        return out
    incidents = _incidents(sections)
    if len(incidents) > 1:  # a collection of reports: each is read on its own, its timeline not the next one's
        for part in incidents:
            out.update(document_findings(part, None, date))
        return out
    # work on a copy whose indexes are positions in the list (the caller's may differ), each text read as
    # a reader reads it (a source line wrap is a space: `as_read`); quotes are mapped back at the end
    secs = [Section(id=s.id, title=s.title, index=i, text=as_read(s.text, s.marks), level=s.level, marks=s.marks)
            for i, s in enumerate(sections)]
    written = {s.id: s.text for s in sections}
    # a timeline's entries are read outside code blocks and quoted chats: a log line's or a chat's stamp is not an entry
    raw = extract_timeline([x.model_copy(update={"text": as_read(x.text, x.marks, code=False, chat=False)})
                            for x in secs])
    entries = resolve_dates(raw, secs)
    timeline_sections = {e.section for e in entries} | {s.index for s in secs if _is_timeline_title(s.title)}
    bodies = _entry_bodies(secs, entries)
    # a name typed two ways in a quote (a chat log, a reporter's words) is theirs, as a log's is (a query's
    # column is the author's)
    named = [x.model_copy(update={"text": as_read(x.text, x.marks, quotes=False)}) for x in secs]
    gens = [_order_findings(secs, entries), _impossible_date_findings(secs, entries),
            _duration_findings(secs, entries, timeline_sections), _identifier_findings(named),
            _count_findings(secs), _time_findings(secs, entries, bodies), _date_findings(secs, entries, bodies),
            _stamp_findings(secs, entries), _title_date_findings(title, entries, secs),
            _summary_weekday_findings(secs, entries),
            _outage_duration_findings(title, secs, entries, timeline_sections),
            _arithmetic_findings(secs, timeline_sections), _field_findings(secs),
            _version_findings(secs),
            _separate_event_findings(secs, entries, bodies), _version_gap_findings(secs, entries),
            _event_time_findings(secs, entries, bodies, timeline_sections),
            _unanchored_findings(secs, date), _undated_day_findings(secs, raw), _daylight_findings(secs, entries),
            _stated_zone_findings(secs, entries), _offset_findings(secs, entries, bodies)]
    if document_kind([x.text for x in secs]) == "software":
        # what a post-mortem must establish, and its follow-ups (the general checklist has its own)
        gens += [postmortem.document_findings(secs, entries, timeline_sections),
                 postmortem_evidence.document_findings(secs, timeline_sections),
                 # a promise in a quote ("> squatters will make sure to update regularly", a 2014 policy
                 # quoted) is someone else's words, not the author's commitment
                 followups.document_findings(named, timeline_sections)]
    said: set[tuple[int, str, str | None]] = set()  # two rules on one quote (the summary's and any section's times)
    try:
        for gen in gens:
            for i, f in gen:
                if f.quote and f.quote not in secs[i].text or (i, f.category, f.quote) in said:
                    continue
                said.add((i, f.category, f.quote))
                update = {"quote": as_written(written[secs[i].id], secs[i].text, f.quote)}
                if f.related_quote and f.related_section_id:
                    rel = next((x for x in secs if x.id == f.related_section_id), None)
                    if rel is None or f.related_quote not in rel.text:
                        update.update(related_quote=None, related_section_id=None)
                    else:
                        update["related_quote"] = as_written(written[rel.id], rel.text, f.related_quote)
                out[secs[i].id].append(f.model_copy(update=update))
    finally:
        clear_sentences()  # the sentences the rules split once for this pass (offline_text.sentences_of)
    return out
