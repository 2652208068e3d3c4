"""What the offline chat works out from the write-up's own facts, before it quotes passages.

A reviewer asking "How long did the outage last?" of a write-up that never says wants the span of
its timeline, not "nothing matches"; "How many users were affected?" of one that counts nothing
wants to hear that it counts nothing; "Which actions have no owner?" wants the items, counted.
Each fact is read with the rules' own readers (the timeline of consistency_timeline, the count of
postmortem, the action items of offline_actions), so the chat and the findings agree; what it reads
from the timeline (how long, when noticed and resolved, the zone, the gaps) is offline_chat_time's. Each
answer says where it comes from and what it is not: a span between entries is not a stated
duration. Linear in the text, like the rules it reuses.
"""

from __future__ import annotations

import re
from itertools import takewhile

from redline.jobs.models import Section
from redline.jobs.reviewers.consistency_text import url_spans
from redline.jobs.reviewers.consistency_timeline import _is_timeline_title
from redline.jobs.reviewers.followups import _reported_as_done
from redline.jobs.reviewers.offline_actions import _action_items, _ActionItem, _done_or_tracked
from redline.jobs.reviewers.offline_chat_people import _ASKS_PEOPLE, _people
from redline.jobs.reviewers.offline_chat_time import (
    _QUOTE_CHARS, _detected, _duration, _from_to, _happened, _resolved, _short, _timed, _timeline_gaps, _zone,
)
from redline.jobs.reviewers.offline_text import _Section, detect_role, split_blocks, split_sentences

_ASKS_DURATION = re.compile(r"\bhow\s+long\b|\bduration\b|\bdowntime\b|\bhow\s+much\s+time\b", re.I)
_ASKS_ZONE = re.compile(r"\btime\s*zones?\b|\bwhich\s+zone\b|\bwhat\s+zone\b|\bUTC\b|\blocal\s+time\b", re.I)
# "When was the problem detected?", "How was it noticed?"; "When was it resolved?"
_ASKS_DETECTED = re.compile(r"\b(?:detect\w*|notic\w*|discover\w*|spotted|caught|alerted|found\s+out|"
                            r"first\s+(?:seen|reported|noticed))\b", re.I)
_ASKS_RESOLVED = re.compile(r"\bwhen\b.*\b(?:resolved|fixed|restored|recovered|mitigated|over|ended|end)\b", re.I)
# "When did it happen?", "When did the outage start?", "What date was the incident?" (not when noticed or resolved)
_ASKS_WHEN = re.compile(r"^\W*(?:when\s+(?:did|was|were|does)\b[^?]{0,60}?\b(?:happen\w*|occur\w*|start\w*|begin|began"
                        r"|take\s+place|took\s+place)\b|what\s+(?:date|day)\b|on\s+which\s+(?:date|day)\b)", re.I)
_ASKS_COUNT = re.compile(r"\bhow\s+many\b|\bnumber\s+of\b|\bhow\s+much\b(?!\s+time)", re.I)
_ABOUT_HARM = re.compile(r"\b(?:affected|impacted|hurt|users?|customers?|people|requests?|builds?|downloads?|"
                         r"launch(?:es)?|accounts?|installs?)\b", re.I)
# "Which actions have no owner?", "Who is responsible for the follow-ups?"; not "Who was responsible
# for the outage?", which asks about blame, not about the action items
_ASKS_OWNERS = re.compile(r"\bown(?:s|ed|ers?)\b|\bassignees?\b|\bdue\s+dates?\b|\bdeadlines?\b", re.I)
_ASKS_WHO_ACTS = re.compile(r"\b(?:responsible|assigned|accountable)\b.*\b(?:actions?|items?|tasks?|follow[\s-]*ups?)\b"
                            r"|\b(?:actions?|items?|tasks?|follow[\s-]*ups?)\b.*\b(?:responsible|assigned|accountable)\b",
                            re.I)
# "Is the root cause supported by the evidence?", "How do we know that was the cause?"
_ASKS_EVIDENCE = re.compile(r"\b(?:evidence|supported|proof|proven|shown|backed)\b|\bhow\s+do\s+(?:we|they|you)\s+know\b",
                            re.I)
_ASKS_CAUSE = re.compile(r"\bcaus|\bwhy\b|\breason\b", re.I)
# "What is missing from the timeline?", "Is the timeline complete?"
_ASKS_TIMELINE_GAPS = re.compile(r"\b(?:missing|complete|gaps?|lacks?|left\s+out|incomplete)\b", re.I)
_ASKS_TIMELINE = re.compile(r"\btime\s*line\b|\bchronolog", re.I)
# "Summarize this write-up", "TL;DR", "What is this report about?" (not "What happened at 16:11?")
_ASKS_SUMMARY = re.compile(r"^\W*(?:(?:can|could)\s+you\s+|please\s+)?(?:summar(?:y|ise|ize)\b|give\s+(?:me\s+)?(?:a|an)\s+"
                           r"(?:short\s+|brief\s+|quick\s+)?(?:summary|overview)\b|tl;?\s?dr\b|what\s+happened\W*$|"
                           r"what\s+is\s+(?:this|the)\s+(?:write-?up|document|report|post-?mortem)\s+about\b)", re.I)
# "What are the action items?", "List the follow-ups"
_ASKS_ACTIONS = re.compile(r"\b(?:what|which|list|show)\b.*\b(?:actions?|action\s+items?|follow[\s-]*ups?|next\s+steps|"
                           r"remediations?|fix(?:es)?\s+planned)\b", re.I)
# "What was the impact?", "Who was affected?"
_ASKS_IMPACT = re.compile(r"\bimpact\w*\b|\b(?:who|what)\s+(?:was|were)\s+affected\b|\bhow\s+bad\b|\bseverity\b|"
                          r"\bconsequences?\b", re.I)
# a sentence that gives the root cause outright: "The root cause was traced to ...", "the root cause is ..."
_ROOT_CAUSE_IS = re.compile(r"\broot\s+causes?\s+(?:was|is|were|are|has\s+been)\b", re.I)
# a heading that names the cause
NAMES_CAUSE = re.compile(r"\b(?:root\s+)?causes?\b|\bwhy\b|\bhow\s+(?:did\s+)?(?:this|it)\s+happen", re.I)
# how plainly a sentence gives a cause: "resulting in the outage", "caused by" before "since"
_PLAIN_CAUSE = re.compile(r"\broot\s+cause|\bcaused\b|\bdue\s+to\b|\bbecause\s+of\b|\bresult(?:ed|ing)\s+(?:in|from)\b|"
                          r"\bled\s+to\b|\bthe\s+cause\b|\btriggered\b", re.I)
# a lessons heading under the actions ("What went wrong") lists problems, not actions
_NOT_ACTIONS = re.compile(r"\bwent\s+(?:wrong|well|right|badly|poorly)\b|\blessons?\b|\blearn", re.I)
_MAX_LISTED = 5
# a sentence that says what was hurt: "This caused a more general outage", "users could not log in"
_HURT = re.compile(r"\b(?:outages?|affected|impacted|unavailable|went\s+down|was\s+down|were\s+down|could\s*n[o']t|"
                   r"unable|failed|failing|broken|lost|degraded|disrupt\w*)\b", re.I)


def _opening(s: Section, sentences: int = 2) -> str:
    """The section's first sentences, past a short label above them ("Tuhinga whakarāpopoto", the
    Māori title under "Executive summary")."""
    said = [x.text.strip() for x in split_sentences(s.text, split_blocks(s.text))]
    while len(said) > 1 and len(said[0].split()) < 4 and not said[0].endswith((".", "!", "?")):
        said = said[1:]
    return " ".join(said[:sentences])


# an opening that tells of the event: a day or a clock time, or a word for what went wrong
_EVENT = re.compile(r"\b(?:\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
                    r" \d{1,2}(?:st|nd|rd|th)?\b|\d{1,2}(?:st|nd|rd|th)?\.? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                    r"|outage|incident|downtime|fail\w*|went down|unavailable|breach|exploit\w*|compromis\w+|errors?"
                    r"|hack\w*|attack\w*|lost|loss|broke\w*|crash\w*)", re.I)
# ... and a sentence that opens the story with its day: "On April 30th at 5:05pm UTC, while ...", "At 21:45 ..."
_STORY_START = re.compile(r"(?:on|at|around|by|early|late)?\s*(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
                          r"(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?\b"
                          r"|\d{1,2}(?:st|nd|rd|th)? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)|\d{4}-\d{2}-\d{2}"
                          r"|\d{1,2}:\d{2})", re.I)


def _event_opening(s: Section, sentences: int = 2) -> str:
    """The section's opening; but when it only introduces the product ("Val Town provides blob
    storage ...": no day, nothing gone wrong), the sentences from the first that opens the story with
    its day ("On April 30th at 5:05pm UTC while offboarding a Val Town employee, ...")."""
    opening = _opening(s, sentences)
    if _EVENT.search(opening):
        return opening
    said = [x.text.strip() for x in split_sentences(s.text, split_blocks(s.text))]
    start = next((k for k, x in enumerate(said[:20]) if _STORY_START.match(x)), None)
    return " ".join(said[start:start + sentences]) if start is not None else opening


def _quoted_lead(s: Section, said: str) -> str:
    return f'From "{s.title}": "{_short(said) if len(said) > 2 * _QUOTE_CHARS else said}"'


def _no_count(sections: list[Section]) -> str | None:
    """No count of the harm anywhere (postmortem's reading); and its vaguest words for it, if any."""
    from redline.jobs.reviewers.postmortem import _COUNT, _HARM, _VAGUE

    if any(_COUNT.search(s.text) for s in sections):
        return None
    said = next((sentence.text for s in sections for sentence in split_sentences(s.text, split_blocks(s.text))
                 if _VAGUE.search(sentence.text) and _HARM.search(sentence.text)), None)
    return ("The write-up gives no count of what was affected: no number or share of users, requests, "
            "builds or downloads anywhere in it." + (f' It says only: "{_short(said)}"' if said else ""))


def _action_sections(sections: list[Section]) -> list[Section]:
    """The sections given to actions, and the sub-sections under them (not a lesson among them)."""
    out: list[Section] = []
    within: int | None = None  # the level of the actions heading whose sub-sections are read too
    for s in sections:
        if within is not None and s.level <= within:
            within = None
        if detect_role(s.title) == "actions" and within is None:
            within = s.level
        if within is not None and not _NOT_ACTIONS.search(s.title):
            out.append(s)
    return out


def _items(sections: list[Section]) -> list[tuple[str, _ActionItem]]:
    """The action items as the rules read them (offline_actions), with their section's title."""
    out: list[tuple[str, _ActionItem]] = []
    for s in _action_sections(sections):
        blocks = tuple(split_blocks(s.text))
        sec = _Section(title=s.title, text=s.text, role="actions", index=s.index, total=len(sections),
                       outline=tuple(x.title for x in sections), guidelines=None, blocks=blocks,
                       sentences=tuple(split_sentences(s.text, blocks)))
        out += [(s.title, item) for item in _action_items(sec)]
    return out


def _action_list(sections: list[Section]) -> str | None:
    items = _items(sections)
    if not items:
        return None
    head = f"The write-up lists {len(items)} action item{'s' if len(items) != 1 else ''}:"
    lines = [f'- "{_short(item.span.text)}" ({title})' for title, item in items[:2 * _MAX_LISTED]]
    if len(items) > 2 * _MAX_LISTED:
        lines.append(f"- and {len(items) - 2 * _MAX_LISTED} more.")
    return "\n".join([head, *lines])


def _closed(text: str) -> bool:
    """Done or tracked, as the follow-up finding reads an item: marked done, linked to a ticket, or
    told as done ("Restarted the web server", "KHYPE-USDC pool halted.")."""
    return _done_or_tracked(text) or _reported_as_done(text)


def _owners(sections: list[Section]) -> str | None:
    """The action items with no owner or no due date (done or ticketed ones need neither)."""
    open_items: list[tuple[str, str, list[str]]] = []
    items = _items(sections)
    closed = 0
    for title, item in items:
        if _closed(item.span.text):
            closed += 1
            continue
        missing = [name for name, ok in (("owner", item.has_owner), ("due date", item.has_due)) if not ok]
        if missing:
            open_items.append((title, item.span.text, missing))
    total = len(items)
    if not total:
        return None
    items = f"{total} action item{'s' if total != 1 else ''}"
    if not open_items:
        if not closed:
            return f"Each of the {items} names an owner and a due date."
        if closed == total:
            return f"All {items} are done or linked to a ticket: none is left without an owner."
        return (f"Each of the {items} names an owner and a due date, or is done or linked to a ticket "
                f"({closed} of them {'is' if closed == 1 else 'are'}).")
    head = ("The write-up's only action item has no owner or no due date:" if total == 1 else
            f"Of the {items}, {len(open_items)} {'has' if len(open_items) == 1 else 'have'} no owner or no due "
            f"date ({closed} {'is' if closed == 1 else 'are'} done or linked to a ticket):")
    lines = [f'- "{_short(text)}" ({title}: no {" and no ".join(missing)})'
             for title, text, missing in open_items[:_MAX_LISTED]]
    if len(open_items) > _MAX_LISTED:
        lines.append(f"- and {len(open_items) - _MAX_LISTED} more.")
    return "\n".join([head, *lines])


# a closing word to the readers ("Thanks", "Thoughts": "Because of that nonprofit status, we rely on our
# community"): not where a cause is given
_CLOSING = re.compile(r"\bthank|acknowledg|\bthoughts\b|\bsupport\s+us\b|donat|sponsor|\babout\s+(?:us|the\s+author)", re.I)


def _stated_cause(sections: list[Section]) -> tuple[Section, str, str | None] | None:
    """The sentence that gives the cause most plainly (in a section given to it first, else the
    summary, else anywhere outside the timeline), and the sentence after it."""
    from redline.jobs.reviewers.postmortem import _CAUSE_STATED, _CAUSE_TITLE

    def order(s: Section) -> int:
        return 0 if _CAUSE_TITLE.search(s.title) else 1 if detect_role(s.title) == "summary" else 2

    candidates: list[tuple[tuple[bool, int, int, int], Section, str, str | None]] = []
    for s in sections:
        if _is_timeline_title(s.title) or _CLOSING.search(s.title):
            continue
        sentences = split_sentences(s.text, split_blocks(s.text))
        said = [k for k, x in enumerate(sentences) if not x.text.rstrip().endswith("?") and _CAUSE_STATED.search(x.text)
                and len(x.text.split()) >= 4]  # a sentence, not a label or a template's prompt ("Root cause analysis")
        # under "Root Cause", its first sentence gives it, in whatever words ("Our build-cluster secret
        # defines a default alias, which the refactor ignores"), past a paragraph's number alone ("1.6.")
        first = next((k for k, x in enumerate(sentences) if len(x.text.split()) >= 4), None)
        named = first is not None and NAMES_CAUSE.search(s.title) is not None
        for k in ([first] if named else []) + [k for k in said if not (named and k == first)]:
            following = sentences[k + 1].text if k + 1 < len(sentences) else None
            plain = _PLAIN_CAUSE.search(sentences[k].text) or named and k == first
            # "The root cause was traced to ..." says it outright, before a summary's "resulted in"
            outright = _ROOT_CAUSE_IS.search(sentences[k].text) is not None
            candidates.append(((not outright, 0 if plain else 1, order(s), s.index), s, sentences[k].text, following))
    if not candidates:
        return None
    _, s, said, following = min(candidates, key=lambda c: c[0])
    return s, said, following


def _cause_evidence(sections: list[Section]) -> str | None:
    """The cause as the write-up gives it, whether it is a guess, and what it rests on."""
    from redline.jobs.reviewers.offline_text import _EVIDENCE
    from redline.jobs.reviewers.postmortem import _CONFIRMED, _HEDGE, _HEDGED_CAUSE, _cause_finding

    stated = _stated_cause(sections)
    if stated is None:
        return "The write-up states no cause outside its timeline, so there is nothing to weigh against evidence."
    s, said, following = stated
    out = [f'The cause, as the write-up gives it ("{s.title}"): "{_short(said)}"']
    hedge = _HEDGED_CAUSE.search(said) or _HEDGE.search(said)
    if hedge:
        out.append(f'It is given as a guess ("{hedge.group(0)}").')
    shown = [m.group(0) for text in (said, following or "") for m in (_EVIDENCE.search(text), _CONFIRMED.search(text))
             if m]
    # a link beside it ("See https://github.com/.../pull/11209 for more context"): a record the reader can open
    shown += [text[a:b].rstrip(".,;)") for text in (said, following or "") for a, b in url_spans(text)[:1]]
    if shown:
        out.append("It points to what shows it: " + ", ".join(f'"{w}"' for w in dict.fromkeys(shown)) + ".")
    else:
        out.append("Nothing beside it shows it: no log, metric, record, reproduction or confirmation is cited in "
                   "that sentence or the next.")
    guess = _cause_finding(sections, {x.index for x in sections if _is_timeline_title(x.title)})
    if guess is not None and guess[1].quote and guess[1].quote not in said and not hedge:
        out.append(f'Elsewhere ("{sections[guess[0]].title}") it is given as a guess: "{_short(guess[1].quote)}"')
    return " ".join(out)


def _lead(sections: list[Section], role: str, sentences: int = 2) -> tuple[Section, str] | None:
    """The first sentences of the first section with `role` (by its title) that says something; a
    heading over its sub-sections with only a label ("1 Executive summary": "Tuhinga
    whakarāpopoto", then "What happened") is read from its first sub-section that does."""
    for k, x in enumerate(sections):
        if detect_role(x.title) != role:
            continue
        for y in [x] + list(takewhile(lambda z: z.level > x.level, sections[k + 1:])):
            said = _opening(y, sentences)
            if len(said.split()) >= 4:
                return y, said
    return None


def _summary(sections: list[Section]) -> str | None:
    """What a reader takes from a first look: the summary's opening, the timeline's span, the
    cause as given, and the actions, counted."""
    # no summary: the first section that opens in prose ("Compressor A experienced a malfunction"), not
    # a block of particulars ("Date: 2024-01-15 Time: 14:30"), else the first with text
    openings = [(x, _event_opening(x)) for x in sections if x.text.strip() and not _is_timeline_title(x.title)]
    lead = _lead(sections, "summary") or next(
        ((x, said) for x, said in openings if len(said.split()) >= 8 and said.count(":") <= 1),
        openings[0] if openings else None)
    if lead is None:
        return None
    out = [_quoted_lead(*lead)]
    entries = _timed(sections)
    if len(entries) >= 2:
        first, last = min(entries, key=lambda e: e.when), max(entries, key=lambda e: e.when)
        # with a date only when the timeline gives one; else the days it runs over, counted
        out.append(f"- Timeline: {len(entries)} timed entries, {_from_to(entries, first.when, last.when)}.")
    cause = _stated_cause(sections)
    if cause is not None and cause[1] not in lead[1]:
        out.append(f'- Cause, as given in "{cause[0].title}": "{_short(cause[1])}"')
    items = _items(sections)
    if items:
        closed = sum(1 for _, item in items if _closed(item.span.text))
        out.append(f"- Actions: {len(items)}, of which {closed} done or linked to a ticket.")
    return "\n".join(out)


def _impact(sections: list[Section]) -> str | None:
    """What the write-up says of the impact: its impact section's opening, else the first sentence
    elsewhere that says what was hurt; and whether anything is counted."""
    from redline.jobs.reviewers.postmortem import _COUNT

    lead = _lead(sections, "impact", 3)
    if lead is not None:
        out = [_quoted_lead(*lead)]
    else:
        said = next(((x, sentence.text) for x in sorted(sections, key=lambda x: detect_role(x.title) != "summary")
                     if not _is_timeline_title(x.title) for sentence in split_sentences(x.text, split_blocks(x.text))
                     if _HURT.search(sentence.text)), None)
        if said is None:
            return "The write-up has no impact section and says nowhere what was affected."
        out = [f'The write-up has no impact section. What it says of the impact ("{said[0].title}"): '
               f'"{_short(said[1])}"']
    if not any(_COUNT.search(x.text) for x in sections):
        out.append("It gives no count of what was affected (users, requests, builds or downloads).")
    return " ".join(out)


def facts_for(question: str, sections: list[Section], date: str | None = None) -> tuple[list[str], set[int] | None]:
    """What the write-up's facts answer of `question` (nothing when it asks for none of them), and
    the sections whose passages may be quoted beside them (None: any): for the action items, only
    theirs ("due" in "due date" is not the "due" of "due to Travis downtime"); for what the timeline
    misses, none."""
    facts: list[str | None] = []
    focus: set[int] | None = None
    if _ASKS_DURATION.search(question):
        facts.append(_duration(sections))
    if _ASKS_DETECTED.search(question):
        facts.append(_detected(sections))
    elif _ASKS_RESOLVED.search(question[:500]):
        facts.append(_resolved(sections))
    elif _ASKS_WHEN.search(question) and not _ASKS_DURATION.search(question):
        facts.append(_happened(sections, date))
    if _ASKS_ZONE.search(question):
        facts.append(_zone(sections))
        focus = set()  # where it says so is quoted; no passage says more
    if _ASKS_COUNT.search(question) and _ABOUT_HARM.search(question):
        facts.append(_no_count(sections))
    if _ASKS_OWNERS.search(question) or _ASKS_WHO_ACTS.search(question[:500]):
        facts.append(_owners(sections))
        focus = {s.index for s in _action_sections(sections)} if facts[-1] else None
    elif _ASKS_ACTIONS.search(question[:500]):
        facts.append(_action_list(sections))
        focus = set() if facts[-1] else None  # the list is the answer
    if _ASKS_SUMMARY.search(question):
        facts.append(_summary(sections))
        focus = set() if facts[-1] else focus
    if _ASKS_PEOPLE.search(question):
        facts.append(_people(sections))
    if _ASKS_IMPACT.search(question) and not _ASKS_COUNT.search(question):
        facts.append(_impact(sections))
        focus = set() if facts[-1] else focus  # its words are quoted
    if _ASKS_EVIDENCE.search(question) and _ASKS_CAUSE.search(question):
        facts.append(_cause_evidence(sections))
    if _ASKS_TIMELINE.search(question) and _ASKS_TIMELINE_GAPS.search(question):
        facts.append(_timeline_gaps(sections))
        if facts[-1] and focus is None:
            focus = set()  # the entries it names are the quotes; the others are not what is missing
    return [f for f in facts if f], focus
