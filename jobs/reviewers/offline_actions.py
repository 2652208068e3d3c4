"""Action-list rules: each action needs an owner and a due date unless it is done or tracked
elsewhere (a linked ticket or pull request); weak, open-ended wording; no verification step.

Owners and dates are read from table columns (by header), labels ("Owner: ...", "due ...") or
the shape of the item (a role, a named person, a date or a quarter).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from redline.jobs.documents.headings import ACTION_LINE, DOING
from redline.jobs.models import Finding
from redline.jobs.reviewers.hygiene_placeholders import DATE_MASK, HANDLE
from redline.jobs.reviewers.offline_text import (
    _DATE, _MONTH, _TABLE_ROW, _WORD, Span, _clip, _make, _phrases, _rx, _Section, _times,
)


_ROLE_NOUNS = (
    r"manager|lead|leader|team|engineer|officer|director|supervisor|head|department|dept"
    r"|coordinator|administrator|admin|analyst|owner|specialist|controller|board|committee"
)
_DEPARTMENTS = r"maintenance|facilities|compliance|legal|procurement|training|operations|security|quality|engineering"
_ROLE_ACRONYMS = r"IT|HR|QA|QHSE|HSE|EHS|DPO|CISO|CTO|CIO|COO|CEO|CFO|SRE|DBA|SOC|NOC|PMO"
_ROLE = rf"(?:(?i:{_ROLE_NOUNS})s?|{_ROLE_ACRONYMS})"
_ROLE_OR_DEPARTMENT = rf"(?:(?i:{_ROLE_NOUNS}|{_DEPARTMENTS})s?|{_ROLE_ACRONYMS})"
_OWNER_LABEL = re.compile(
    r"\b(?:owner|owned\s+by|responsible(?:\s+person)?|accountable|assigned\s+to|assignee|actionee"
    r"|action\s+by|lead)\s*[:=\-–]\s*(?P<value>[^;,|)\n]*)",
    re.I,
)
MIN_ACTION_LINES = 2  # one such sentence may be prose's; two are a list


_OWNER_PATTERNS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b(?i:owner|owned\s+by|responsible|accountable|assigned\s+to|assignee|actionee)\b"),
    re.compile(rf"(?:[(\[|–—:]|\s-\s)\s*(?i:the\s+)?(?:[\w&/-]+\s+){{0,3}}{_ROLE}\b"),
    re.compile(rf"^(?i:the\s+)?(?:[\w&/-]+\s+){{0,2}}{_ROLE_OR_DEPARTMENT}\s+(?i:to|will|shall|must)\b"),
    re.compile(rf"\b(?i:by)\s+(?i:the\s+)?(?:[\w&/-]+\s+){{0,3}}{_ROLE}\b"),
    re.compile(r"\b(?:Mr|Mrs|Ms|Dr)\.?\s+[A-Z][a-z]+"),
    re.compile(r"\b[A-Z]\.\s?[A-Z][a-z]+\b"),
    re.compile(r"\(\s*[A-Z][a-z]+(?:\s+[A-Z][a-z'-]+)+\s*\)"),
    re.compile(rf"[–—:]\s*(?!{DOING})[A-Z][a-z]+\s+[A-Z][a-z'-]+\b"),
)
_DUE_LABEL = re.compile(
    r"\b(?:due(?:\s+date)?|deadline|target\s+date|completion\s+date|by\s+when)\s*[:=\-–]\s*"
    r"(?P<value>[^;|)\n]*)",
    re.I,
)
_DUE_PATTERNS: tuple[re.Pattern[str], ...] = (
    _DATE,
    _rx(r"due(?!\s+to\b)", r"deadline", r"target\s+date"),
    _rx(r"(?:by\s+)?(?:the\s+)?end\s+of\s+(?:q[1-4]|h[12]|the\s+)?(?:week|month|quarter|year|day|sprint|q[1-4]|h[12])"),
    _rx(r"q[1-4](?:\s+\d{4})?", r"h[12]\s+\d{4}", r"fy\s?\d{2,4}"),
    _rx(r"within\s+\d+\s+(?:working\s+|business\s+)?(?:days?|weeks?|months?)"),
    _rx(rf"by\s+(?:{_MONTH}|(?:mon|tues|wednes|thurs|fri)day)"),
)
# Matched against the stripped cell: the former `^\s*(...)?\s*$` had two adjacent whitespace
# runs, O(n²) on a long run of spaces.
_TBD = re.compile(r"(?:tbd|tbc|tba|to\s+be\s+\w+|n/?a|unknown|unassigned|none|-+|\?+)?", re.I)
_ACTION_MODAL = _rx(
    r"will", r"shall", r"should", r"must", r"to\s+be", r"needs?\s+to", r"is\s+to", r"are\s+to",
    r"recommend(?:s|ed|ation)?", r"we\s+propose", r"action",
)
_WEAK_ACTION = _rx(
    r"consider(?:ing)?",
    r"look(?:ing)?\s+into",
    r"explore",
    r"try\s+to",
    r"attempt\s+to",
    r"remind(?:ed)?",
    r"raise\s+awareness",
    r"be\s+(?:more\s+)?careful",
    r"pay\s+(?:more\s+)?attention",
    r"as\s+appropriate",
    r"where\s+(?:possible|appropriate|practicable)",
    r"if\s+(?:needed|necessary|possible|required)",
    r"as\s+needed",
    r"when\s+possible",
    r"asap",
    r"as\s+soon\s+as\s+possible",
)
_VERIFY = _rx(
    r"verif\w*", r"effectiveness", r"follow[\s-]*up", r"re-?audit", r"audit(?:ed)?", r"monitor\w*",
    r"measure\w*", r"kpis?", r"check(?:ed)?\s+(?:after|in|on|by)", r"review(?:ed)?\s+(?:after|in|on)",
)


@dataclass(frozen=True)
class _ActionItem:
    span: Span
    has_owner: bool
    has_due: bool


_OWNER_HEADER = re.compile(r"owner|responsib|who\b|assignee|actionee|lead|accountable", re.I)
_DUE_HEADER = re.compile(r"due|date|deadline|when|target|by\b", re.I)


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _is_table_rule(row: str) -> bool:
    return not re.search(r"[A-Za-z0-9]", row)


def _is_header(cells: list[str]) -> bool:
    """A table's header row: short labels ("Action Item", "Type", "Bug", "Status"), no figures."""
    return len(cells) >= 2 and all(len(c.split()) <= 4 and not any(ch.isdigit() for ch in c) for c in cells) \
        and any(c[:1].isupper() for c in cells)


def _filled(cell: str) -> bool:
    """A value given, not "TBD" nor the template's own ("@github_handle", "YYYY-MM-DD")."""
    value = cell.strip()
    return bool(cell) and not _TBD.fullmatch(value) and not HANDLE.match(value) and not DATE_MASK.match(value)


def _has_owner(text: str) -> bool:
    labelled = _OWNER_LABEL.search(text)
    if labelled:
        return _filled(labelled.group("value"))
    return any(p.search(text) for p in _OWNER_PATTERNS)


def _has_due(text: str) -> bool:
    labelled = _DUE_LABEL.search(text)
    if labelled:
        return _filled(labelled.group("value"))
    return any(p.search(text) for p in _DUE_PATTERNS)


def _table_items(rows: list[Span]) -> list[_ActionItem]:
    header = _cells(rows[0].text)
    owner_col = next((i for i, c in enumerate(header) if _OWNER_HEADER.search(c)), None)
    due_col = next((i for i, c in enumerate(header) if _DUE_HEADER.search(c)), None)
    if owner_col is None and due_col is None:
        body = rows[1:] if len(rows) > 1 and _is_header(header) else rows
        return [_ActionItem(r, _has_owner(r.text), _has_due(r.text)) for r in body if not _is_table_rule(r.text)]
    items = []
    for row in rows[1:]:
        if _is_table_rule(row.text):
            continue
        cells = _cells(row.text)

        def cell(i: int | None) -> str:
            return cells[i] if i is not None and i < len(cells) else ""

        has_owner = _filled(cell(owner_col)) if owner_col is not None else _has_owner(row.text)
        has_due = _filled(cell(due_col)) if due_col is not None else _has_due(row.text)
        items.append(_ActionItem(row, has_owner, has_due))
    return items


_DONE_WORDS = frozenset("done completed complete closed merged fixed resolved implemented shipped deployed "
                        "finished released landed accomplished".split())
_DONE_MARKS = ("\u2705", "\u2714", "\u2611", "[x]", "[X]", "~~")
# A done word after a negation or "to be" (within three words), or in a clause that opens with a
# condition or a future, says what the action is about, not that it is done: "check if a PVC
# hasn't been released", "revert it once the vendor's fix is deployed", "to be completed".
_NOT_YET = frozenset("not never no yet to be".split())
# an action reported as taken, with its day: "Bulletin 913 was issued on 27 September 2019", "on 12 October
# 2020 KiwiRail provided the Commission with a draft response plan" (not "Provide training by 30 June")
_DONE_ON = re.compile(r"\b(?:issued|introduced|implemented|published|completed|provided|amended|revised|installed"
                      r"|replaced|withdrawn|fitted)\b", re.I)
_NOT_YET_CLAUSE = frozenset("until once when if whether will should must cannot".split())


# A link to the ticket as the reader sees it once the link's address is gone (Markdown, Word and
# PDF text keep only a link's words): "set up alerts ([issue](https://...))" reads "(issue)".
_LINKED_TICKET = re.compile(r"[(\[](?:(?:github|gitlab|jira|tracking|upstream)\s)?(?:issues?|pull\srequests?|prs?"
                            r"|tickets?|bugs?|merge\srequests?|mrs?)[)\]]", re.I)


# A link's words left at the end of an item, where the item links its ticket: "Fix the reflector
# [Pull Request](https://...)." reads "Fix the reflector Pull Request."; not "Open a PR".
_TRAILING_TICKET = re.compile(r"(?<![\w-])(?:(?:GitHub|Tracking|Upstream)\s)?(?:Issue|Pull\s[Rr]equest|PR|Ticket"
                              r"|Merge\s[Rr]equest)\W{0,3}$")
_NOT_A_LINK = frozenset("""a an the new open opened create created file filed raise raised submit make this that one
another each every any our their its his her your for of to per by in on with from""".split())


def _trailing_ticket(text: str) -> bool:
    tail = text[-80:].rstrip()
    head, _, last = tail.rpartition("\n")
    if head and _BARE_MARKER.match(last):
        tail = head.rstrip()  # the next item's marker, read with this one's last line
    m = _TRAILING_TICKET.search(tail)
    if m is None:
        return False
    before = tail[:m.start()].split()
    if not before or before[-1].endswith((".", "!", "?", ":", ";", ")")):
        return True  # after a sentence: the link's words stand alone
    return before[-1].strip(",(").lower() not in _NOT_A_LINK


_BARE_MARKER = re.compile(r"\s*(?:\d{1,3}[.)]|[-*\u2022+])\s*$")


def _done_or_tracked(text: str) -> bool:
    """An action already done (done, closed, merged, a ticked box) or tracked elsewhere (a linked
    ticket or pull request: #123, ABC-123, an issue or pull URL, a link that reads "(issue)", or
    an item that ends with a link's words, "... Pull Request.")
    needs no owner or date here."""
    if any(mark in text for mark in _DONE_MARKS) or "/issues/" in text or "/pull/" in text \
            or _LINKED_TICKET.search(text) or _trailing_ticket(text):
        return True
    if _DONE_ON.search(text) and _DATE.search(text):
        return True  # "Bulletin 913 was issued on 27 September 2019": a safety action already taken
    before: list[str] = []
    pending = False  # the clause so far holds a condition or a future
    for raw in text.split():
        word = raw.strip(".,;:()[]{}'\"`*!?").lower()
        if raw[:1] in "([":
            pending = False
        if word in _DONE_WORDS and not pending and \
                not any(w in _NOT_YET or w.endswith(("n't", "n\u2019t")) for w in before):
            return True
        pending = (pending or word in _NOT_YET_CLAUSE) and not raw.endswith((",", ";", ":", ".", ")"))
        before = (before + [word])[-3:]
        if raw.startswith(("#", "[#", "(#")) and raw.strip("[]()#.,;:").isdigit():
            return True
        head, dash, tail = raw.strip("[]().,;:").partition("-")
        if dash and head.isupper() and head.isalpha() and len(head) >= 2 and tail.isdigit():
            return True
    return False


# beside an action table, bullets that define its terms ("Prevent - Prevent similar issues ...",
# "P0 - Critical for reliability ...") explain it: they are not actions
DEFINES = re.compile(r"^\W*[\w/+]{1,20}(?: [\w/+]{1,20})? [-\u2013\u2014] \S")


def _action_items(sec: _Section) -> list[_ActionItem]:
    rows = [b for b in sec.blocks if _TABLE_ROW.match(b.text)]
    listed = [b for b in sec.blocks if b.is_item and not _TABLE_ROW.match(b.text) and _WORD.search(b.text)
              and not (rows and DEFINES.match(b.text))]
    items = _table_items(rows) if rows else []
    lines = [s for s in sec.sentences if ACTION_LINE.match(s.text)] if not (listed or rows) else []
    candidates = listed if (listed or rows) else [
        s for s in sec.sentences if _ACTION_MODAL.search(s.text)
        or len(lines) >= MIN_ACTION_LINES and ACTION_LINE.match(s.text)]
    items += [_ActionItem(s, _has_owner(s.text), _has_due(s.text)) for s in candidates]
    items = [_ActionItem(i.span, True, True) if _done_or_tracked(i.span.text) else i for i in items]
    return sorted(items, key=lambda item: item.span.start)


def _missing(item: _ActionItem) -> list[str]:
    return [name for name, ok in (("owner", item.has_owner), ("due date", item.has_due)) if not ok]


_ACTION_QUESTIONS = (
    "Who is accountable for completing this action?",
    "By when must it be done, and who checks that it was?",
)
_ACTION_SUGGESTION = (
    "Give every action one accountable owner (a named person or role) and a due date, e.g. "
    "'Owner: Maintenance Manager; due 2024-06-30'."
)


# "No new recommendations were issued", "no recommendations are made": the section says why it has none.
_NONE_NEEDED = re.compile(r"\bno\s+(?:new\s+|further\s+)?(?:recommendations?|actions?)\s+(?:were|was|are|is|have\s+been|has\s+been)\s+"
                          r"(?:issued|made|needed|required|necessary|raised)", re.I)


# "The following safety actions have been taken by KJet": a record of what was done, not commitments.
_TAKEN = re.compile(r"\b(?:actions?|measures?|steps|changes)\s+(?:have|has)\s+(?:already\s+)?been\s+"
                    r"(?:taken|made|completed|implemented|introduced)\b", re.I)
# "The Commission recommended to the Director of MNZ that they ...": a safety board's recommendation
# names who must act (its addressee) and, by design, sets no due date.
_ADDRESSED = re.compile(r"\b[Rr]ecommend(?:s|ed)?\s+to\s+(?:the\s+)?[A-Z]")


def check_actions(sec: _Section) -> Iterator[Finding]:
    items = _action_items(sec)
    if not items and _NONE_NEEDED.search(sec.text):
        return
    if items and (_TAKEN.search(sec.text) or _ADDRESSED.search(sec.text)):
        return
    if not items:
        yield _make(
            "important",
            "high",
            "Actions",
            "No concrete actions are listed in this section.",
            "List each corrective and preventive action as a separate item with an owner, a "
            "due date and the cause it addresses.",
            questions=("What will be done, by whom and by when, to stop this recurring?",),
            refs=("C12", "C13"),
            confidence=0.7,
        )
        return
    incomplete = [item for item in items if _missing(item)]
    if 0 < len(incomplete) <= 3:
        for item in incomplete:
            yield _make(
                "important",
                "medium",
                "Actions",
                f"This action has no {' and no '.join(_missing(item))}.",
                _ACTION_SUGGESTION,
                quote=_clip(item.span.text),
                questions=_ACTION_QUESTIONS,
                refs=("C12", "C13"),
                confidence=0.8,
            )
    elif incomplete:
        no_owner = sum(1 for item in incomplete if not item.has_owner)
        no_due = sum(1 for item in incomplete if not item.has_due)
        yield _make(
            "important",
            "high",
            "Actions",
            f"{len(incomplete)} of {len(items)} actions are incomplete: {no_owner} without an "
            f"owner, {no_due} without a due date.",
            _ACTION_SUGGESTION,
            quote=_clip(incomplete[0].span.text),
            questions=_ACTION_QUESTIONS,
            refs=("C12", "C13"),
            confidence=0.8,
        )
    yield from _weak_actions(sec, items)
    if not _VERIFY.search(sec.text) and not sec.outline_mentions(_VERIFY):
        yield _make(
            "suggestion",
            "low",
            "Actions",
            "Nothing says how or when the actions will be checked to confirm they worked.",
            "Add a verification step: who checks each action's effectiveness, when, and against "
            "which measure.",
            questions=("How will we know the actions worked, and who will check?",),
            refs=("C14",),
            confidence=0.55,
        )


def _weak_actions(sec: _Section, items: list[_ActionItem]) -> Iterator[Finding]:
    hits = [(item.span, m.group(0)) for item in items for m in _WEAK_ACTION.finditer(item.span.text)]
    if not hits:
        return
    yield _make(
        "suggestion",
        "medium",
        "Actions",
        f"Weak or open-ended wording in {_times(len(hits))} ({_phrases([h for _, h in hits])}): "
        "such actions cannot be checked as done, and reminders or awareness alone rarely prevent "
        "recurrence.",
        "Rewrite each action as a specific, checkable change (what exactly changes, where, by "
        "whom, by when).",
        quote=_clip(hits[0][0].text),
        questions=("What exactly will be different once this action is complete?",),
        refs=("C12", "C13"),
        confidence=0.6,
    )
