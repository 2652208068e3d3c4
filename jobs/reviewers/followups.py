"""Follow-ups in a software or security write-up: actions with no owner or due date, once per document.

A post-mortem's actions are only worth the paper if someone owns them. What real write-ups do
(bench/quality/corpus, tuning set): an "Action items" heading with sub-lists ("Process
improvements", "Documentation improvements"...), some items linked to an issue, some already
done; or no action list at all, and a promise in the prose ("we will review...", "another thing
to work on moving forward"). A reviewer says it once, not once per item: so this module makes at
most one finding per document on the actions themselves, and at most one on each gap they leave.

- `action list`: the items of the action sections (a heading whose role is "actions" and its
  sub-sections) that are neither done, nor tracked (a ticket or pull request), nor given an
  owner or a due date. The finding quotes the run of such items where they start. Advice to the
  reader ("Call to action", "If you have a dormant account, consider...") is not the team's
  action list and is skipped.
- `open commitment`: when there is no action list, the first sentence of the prose that
  promises future work without an owner, date or ticket; or promises to behave differently ("and
  will avoid creating one in the future": a resolution, not a control); or leaves a workaround to
  undo once a fix lands ("Once fixed, my handling code can probably be reverted").
- `recurrence not addressed`: the write-up says the same failure happened before ("This occurred
  once previously on ..."), and no action speaks of a recurrence.
- `detection delay not addressed`: the write-up says why the problem was noticed or handled late
  ("it ended up in our Spam folder, delaying response", "which is why the increase is easy to
  miss"), and no action speaks of alerting, monitoring or notification.

Only for the "software" kind (`offline.document_kind`): the general checklist has its own
per-section action rules (`offline_actions.check_actions`). Linear in the text: the blocks and
sentences of `offline_text`, and bounded regexes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.documents.headings import ACTION_LINE
from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.offline_actions import (
    DEFINES, MIN_ACTION_LINES, _done_or_tracked, _has_due, _has_owner, _table_items,
)
from redline.jobs.reviewers.offline_text import (
    _TABLE_ROW, GOOD_NEWS_TITLE, MAX_QUOTE_CHARS, Span, _rx, detect_role, sentences_of, split_blocks,
)
from redline.jobs.reviewers.postmortem import around

# Future work promised in prose. "We will not ..." is a decision, not a follow-up; nor is a question
# ("Jury is still out as to whether we will continue to use it"), nor a relative clause ("Some of the
# nodes we are working on had data loss").
_COMMITMENT = _rx(
    r"(?<!whether\s)(?<!weather\s)(?<!\bif\s)"
    r"we(?:\s+will|'ll|\u2019ll)\s+(?:\w+ly\s+)?(?:review|investigate|look|work|determine|consider|add|improve"
    r"|update|revisit|explore|follow|monitor|continue|implement|document|fix|evaluate|assess|address|publish"
    r"|share|release|audit|rotate|reach)",
    r"things?\s+to\s+(?:work\s+on|look\s+into|address|improve|fix)",
    r"(?:a\s+lot\s+of|lots\s+of|more|further)\s+work\s+to\s+(?:do|be\s+done)",
    r"we\s+(?:plan|intend|aim|hope)\s+to",
    r"we\s+(?:still\s+)?need\s+to",
    r"we\s+are\s+(?:currently\s+|now\s+|still\s+)?(?:developing|working\s+on|planning|exploring|looking\s+into"
    r"|reviewing|evaluating|drafting|preparing)(?!\s+(?:had|has|have|was|were|is|are)\b)",
)
# ... nor is news promised to the readers: "we'll update here when it is resolved", "We will continue to
# update this page as additional questions arise"
_NEWS = re.compile(r"\bupdat\w*\s+(?:here\b|this\s+(?:page|post|blog|article|thread|document|faq|issue)\b|you\b|users\b"
                   r"|everyone\b|readers\b|the\s+community\b|when\b|once\b|as\s+soon\b)", re.I)
# "By implementing these measures, we aim to mitigate similar incidents": the measures above, summed up
_RECAP = re.compile(r"\W*(?:by|through|with)\s+(?:implementing|taking|adopting|following|applying|putting|making)"
                    r"\s+(?:these|those|the\s+above|all\s+(?:of\s+)?these)\b", re.I)
# A workaround to be undone later ("Once fixed, my handling code can probably be reverted"): a
# follow-up nobody owns, the kind that stays in place for years. Needs a condition in the sentence.
_DEFERRED = _rx(r"(?:can|could|should|will|would|must)\s+(?:probably\s+|likely\s+|then\s+|eventually\s+)?be"
                r"\s+(?:reverted|removed|dropped|rolled\s+back|cleaned\s+up|undone|turned\s+off|disabled)")
# ... once a fix lands: "once fixed", "when the upstream patch is released"; or a workaround by name
_PENDING_FIX = _rx(r"(?:once|when|after|until)\s+(?:[\w'\u2019-]+\s+){0,4}?(?:fix(?:ed|es)?|resolved|deployed|released"
                   r"|merged|landed|shipped|upgraded|patched|available)",
                   r"(?:temporary|interim|stopgap)\s+(?:fix|workaround|patch|mitigation|hack|change)", r"workarounds?")
# A promise to behave differently is not a control: "and will avoid creating one in the future".
_PERSONAL = _rx(r"(?:will|shall)\s+(?:try\s+to|avoid|be\s+more\s+careful|remember\s+to|make\s+sure\s+to"
                r"|pay\s+(?:more\s+)?attention)")
# An earlier occurrence of the same failure: "This occurred once previously on 2019-01-08".
_RECURRENCE = _rx(
    r"(?:this|it|that|the\s+same\s+(?:\w+\s+)?(?:issue|problem|failure|error|bug|outage|incident)"
    r"|a\s+similar\s+(?:\w+\s+)?(?:issue|problem|failure|error|bug|outage|incident))\s+(?:has\s+|had\s+)?"
    r"(?:also\s+)?(?:occurred|happened)\s+(?:once\s+|twice\s+|\w+\s+times\s+|at\s+least\s+once\s+)?previously",
    r"(?:this|it|that)\s+(?:has\s+|had\s+)?(?:also\s+)?(?:occurred|happened)\s+(?:once\s+|twice\s+|\w+\s+times\s+)?"
    r"before(?=\s*(?:[.,;:)]|on\b|in\s+\d|$))",
    r"(?:second|third|fourth|fifth)\s+time\s+(?:this|that|it)\s+(?:has\s+|had\s+)?(?:happened|occurred)",
    r"(?:first|previous|earlier|prior)\s+occurrence",
)
_ADDRESSES_RECURRENCE = _rx(r"recur\w*", r"again", r"previous\w*", r"earlier", r"repeat\w*", r"first\s+occurrence",
                            r"last\s+time")
# Detection or response was late, and the write-up says why: "it ended up in our Spam folder, delaying
# response", "which is why the increase is easy to miss", "it took quite some time before we noticed".
_DELAYED = _rx(
    r"delay(?:ed|ing)\s+(?:the\s+|our\s+|its\s+|their\s+)?(?:response|detection|triage|investigation|notification"
    r"|escalation)",
    r"(?:went|gone|go)\s+unnoticed", r"(?:spam|junk)\s+folder", r"(?:easy|easier)\s+to\s+(?:miss|overlook)",
    r"(?:could|would|should)\s+have\s+been\s+(?:noticed|detected|caught|found)\s+(?:earlier|sooner)",
    r"(?:took|taken)\s+(?:quite\s+)?(?:some|a\s+long|a\s+while|\w+\s+(?:hours|days))\s+(?:time\s+)?(?:before|to)\s+"
    r"(?:we\s+)?(?:notic|detect|reali[sz])\w*",
    r"nobody\s+(?:noticed|was\s+paged|was\s+alerted)",
    r"no\s+alerts?\s+(?:was|were)\s+(?:configured|set\s+up|sent|fired)",
)
# an action list that speaks of detection or notification answers a late detection (under "Where we got
# lucky", that users did not notice is luck, not a late detection: offline_text.GOOD_NEWS_TITLE)
_ADDRESSES_DETECTION = _rx(r"alert\w*", r"monitor\w*", r"detect\w*", r"notif\w*", r"pag(?:e|ed|ing)", r"on-?call",
                           r"e-?mail\w*", r"spam", r"escalat\w*", r"dashboards?", r"probes?", r"health\s*checks?")
_MODAL = _rx(r"will", r"shall", r"should", r"must", r"needs?\s+to", r"to\s+be\s+done")
# advice to the readers, not the team's own work: "If you use GitHub Actions, ...", "Package maintainers
# should enable two-factor authentication", "Application developers should use a lockfile"
_READER = re.compile(r"\byou(?:rs?)?\b|^\W*(?:[A-Za-z]+\s+){0,2}(?:maintainers|users|developers|administrators|admins"
                     r"|operators|customers|contributors|publishers|readers|everyone)\s+(?:and\s+\w+\s+)?should\b", re.I)
_HANDLE = re.compile(r"(?<![\w.@])@[A-Za-z0-9][\w-]{1,38}")  # "@dana": an owner in a software team's list
_MAX_ITEMS = 400  # items looked at in a document: bounds the work on a hostile action list


# "Mitigation" and "Resolution" in a post-mortem tell what was done during the incident, not what
# is still to do (unless the title says actions or follow-ups).
_DONE_TITLE = re.compile(r"mitigat|resolution|what we did", re.I)
_TODO_TITLE = re.compile(r"action|follow|next|to-?do|improvement|prevent", re.I)
_LEAD_WORD = re.compile(r"[A-Za-z]+")


def _is_action_title(title: str) -> bool:
    return detect_role(title) == "actions" and not (_DONE_TITLE.search(title) and not _TODO_TITLE.search(title))


def _reported_as_done(text: str) -> bool:
    """An item that reports what was done ("Restarted the web server", "Added a disk alert", "We
    enabled branch protection", "The vulnerable action has been disabled and removed"), and a
    labelled item told in the passive ("Customer notification: Affected customers were promptly
    informed"; not a sentence of prose: "A filter was skipped ..., and we'll update the tests")."""
    m = _LEAD_WORD.search(text[:40])
    w = m.group(0).lower() if m else ""
    if w == "already":  # "Already added the fix ...", "Already run the script ..."
        return True
    if len(w) > 4 and w.endswith("ed") and not w.endswith("eed") and w != "embed" or \
            _DONE_BY_US.match(text) is not None or _DECIDED.search(text) is not None \
            or _THEY_DID.match(text) is not None:
        return True
    own = _NEXT_MARKER.sub("", text)  # without the next item's marker, read with it as its continuation
    if _HEADLINE_DONE.search(own) and not (ACTION_LINE.match(own) or _CAUSATIVE.match(own) or _MODAL.search(own)
                                           or _STATE.search(own)):
        return True  # "KHYPE-USDC pool halted.", "All bridge transactions identified (Section 5)."
    label = _LABEL.match(text)  # a labelled item's body is one statement; prose's clauses are not
    return label is not None and _PASSIVE_DONE.match(text, label.end()) is not None \
        and ACTION_LINE.match(text, label.end()) is None


# an item told as what others did, in the past: "validators rolled back their states to the previous
# block", "validators were asked to resume consensus", "stuck transactions were accelerated", "fix was
# applied" (not "validators need ...", "users seeded ...": a participle, "-ed", it must be; nor "servers
# used for ...")
_THEY_DID = re.compile(r"\W*(?:the\s+|our\s+|all\s+)?(?:[a-z]{3,}\s+)?[a-z]{3,}(?:s\s+(?:were\s+|have\s+been\s+)?"
                       r"|\s+(?:was|has\s+been)\s+)"
                       r"(?!needed\b|used\b|based\b|related\b|affected\b|exposed\b)[a-z]{3,}(?<!e)ed\b")
_NEXT_MARKER = re.compile(r"\n\s*(?:\d{1,3}[.)]|[-*\u2022+])\s*$")
# an item told as a headline of what was done: it ends on the participle ("pool halted.")
_HEADLINE_DONE = re.compile(r"\b[a-z]{3,}ed\b(?:\s*\([^()\n]{0,60}\))?[.;]?\s*$")
# ... nor an order to have it done ("Get the certificate renewed.", "Keep the images updated.")
_CAUSATIVE = re.compile(r"\W*(?:get|have|make|keep|let|leave)\b", re.I)
# ... nor a state to keep or a condition: "Ensure the disk is monitored.", "if it is not renewed"
_STATE = re.compile(r"\b(?:is|are|be|been|being|not|if|when|until|unless)\b", re.I)


# an item's label: "Customer notification: ...", "Patched vulnerability: ..."
_LABEL = re.compile(r"\W*[A-Z][\w/&-]*(?: [\w/&-]+){0,4}:\s+")
# its subject, then what was done to it: "Affected customers were promptly informed", "The WAF was reconfigured"
_PASSIVE_DONE = re.compile(r"(?:[A-Za-z-]+\s+){1,5}?(?:was|were|has\s+been|have\s+been)\s+(?:\w+ly\s+)?"
                           r"[a-z]{3,}(?:ed|en)\b")


# a proposal already decided: "The committee took a vote on this and it was rejected"
_DECIDED = re.compile(r"\b(?:it|this|that|which)\s+(?:was|were|has\s+been)\s+(?:\w+\s+)?(?:rejected|declined|turned\s+down"
                      r"|approved|adopted)\b", re.I)
# an item told as done, by its subject: "We have removed ...", "We have for several years enabled ...",
# "The `automerge` GitHub Action has been disabled ..." (not "We will have removed", nor "Ensure it has been ...")
_DONE_BY_US = re.compile(r"\W*(?:we\s+(?:have\s+)?(?:(?!will\b|should\b|need\b|must\b|plan\b|are\b)\w+\s+){0,3}?"
                         r"[a-z]{3,}ed\b|(?:the|our|all|this|these|a|an)\b[^.;:?]{0,80}?\b(?:has|have)\s+"
                         r"(?:now\s+|already\s+)?been\s+[a-z]{3,}(?:ed|en)\b)", re.I)


# A retrospective's own headings: what they list are observations, not actions, even under an
# "Action items" heading (mybinder.org 2018-03-31 has a "What went wrong" there).
_RETROSPECTIVE = re.compile(r"\bwhat\s+went\s+(?:wrong|well|right|badly|poorly)|\bwent\s+(?:wrong|well)\b"
                            r"|\blessons?\s+learn|\bwhere\s+we\s+got\s+lucky|\bwhat\s+we\s+learn"
                            # nor what is there today or weighed ("High-level steps of the current `commit`
                            # algorithm", "Pros", "Cons"), under "Prevention" in iasql's 004
                            r"|\b(?:current|existing)\b|^\W*(?:pros|cons|advantages|disadvantages|trade-?offs)\W*$", re.I)


def _over_the_document(sections: list[Section], i: int) -> bool:
    """The document's own title heading ("Post-mortem and remediations for Apr 11 security
    incident" over every other section): naming the actions in a title does not make the whole
    write-up an action list."""
    rest = sections[i + 1:]
    return i <= 1 and len(rest) >= 3 and all(x.level > sections[i].level for x in rest)


def _action_part(sections: list[Section]) -> list[int]:
    """Indexes of the action sections: a heading whose role is "actions", with its sub-sections
    (but for a retrospective's "What went wrong" among them)."""
    out: list[int] = []
    level: int | None = None
    for i, s in enumerate(sections):
        if _is_action_title(s.title) and not _over_the_document(sections, i):
            level = s.level if level is None or s.level <= level else level
            out.append(i)
        elif level is not None and s.level > level:
            if not _RETROSPECTIVE.search(s.title):
                out.append(i)
        else:
            level = None
    return out


def _reader_directed(items: list[Span]) -> bool:
    """Advice to the reader ("If you use GitHub Actions, ..."), not the team's own actions."""
    return bool(items) and 2 * sum(1 for x in items if _READER.search(x.text)) >= len(items)


def _is_open(text: str, has_owner: bool | None = None, has_due: bool | None = None) -> bool:
    """Not done, not tracked, and neither an owner (a role, a name, an @handle) nor a due date."""
    if _done_or_tracked(text) or _reported_as_done(text):
        return False
    owner = (_has_owner(text) or bool(_HANDLE.search(text))) if has_owner is None else has_owner
    due = _has_due(text) if has_due is None else has_due
    return not (owner or due)


# An action list written without list marks, one action a sentence or a line ("Implement automated
# monitoring to ...", "Configuration Management: Implement stricter controls ...")
def _action_lines(section: Section) -> list[Span]:
    """The sentences of an action section without list marks that each state one action."""
    spans = [x for x in sentences_of(section)[:_MAX_ITEMS] if ACTION_LINE.match(x.text)]
    return spans if len(spans) >= MIN_ACTION_LINES else []


Item = tuple[int, Span, bool]  # section index, the item, open

# what went wrong, listed under "Prevention" before what will change ("`iasql_upgrade` didn't have a
# formal test case at all.", "The new region only had partial coverage"): a finding, not an action
_SHORTFALL = _rx(r"didn['\u2019]t", r"did\s+not", r"never\s+had", r"wasn['\u2019]t", r"weren['\u2019]t", r"was\s+not",
                 r"were\s+not", r"hadn['\u2019]t", r"had\s+not", r"only\s+had", r"lacked")


def _shortfall(text: str) -> bool:
    return (_SHORTFALL.search(text) is not None and ACTION_LINE.match(text) is None
            and _MODAL.search(text) is None and ":" not in text[:60])


def _team_items(sections: list[Section], part: list[int]) -> tuple[list[Item], list[int]]:
    """The listed action items (list items and table rows, with their owner and due columns) of the
    action sections, and which sections are the team's (not advice to readers)."""
    items: list[Item] = []
    team: list[int] = []
    for i in part:
        blocks = split_blocks(sections[i].text)
        listed = [b for b in blocks if b.is_item and any(c.isalpha() for c in b.text)] \
            or _action_lines(sections[i])
        if _reader_directed(listed or blocks):
            continue
        team.append(i)
        rows = [b for b in listed if _TABLE_ROW.match(b.text)]
        links = _ticket_links(sections[i])
        if rows:
            items += [(i, r.span, not _links_in(links, r.span.start, r.span.end) and _is_open(
                r.span.text, r.has_owner or bool(_HANDLE.search(r.span.text)), r.has_due)) for r in _table_items(rows)]
        plain = [b for b in listed if not _TABLE_ROW.match(b.text) and not (rows and DEFINES.match(b.text))
                 and not _shortfall(b.text)]
        text = sections[i].text
        done_under = _done_headings(sections[i])
        for k, b in enumerate(plain):
            more = _continuation(text, b, plain[k + 1:])
            items.append((i, b, not _links_in(links, b.start, b.end + len(more)) and not _under(done_under, b.start)
                          and _is_open(b.text + " " + more)))
    return sorted(items, key=lambda x: (x[0], x[1].start))[:_MAX_ITEMS], team


# A link whose address is a ticket or a pull request: a Markdown upload keeps it in the section's
# "link" marks ("Diagnose the original [issue](https://github.com/o/r/issues/140)" reads "Diagnose
# the original issue", and the item is tracked).
_TICKET_URL = re.compile(r"/(?:issues|pull|pulls|merge_requests)/\d+|/browse/[A-Z][A-Z0-9]*-\d+", re.I)


# a heading that says its items are done: "Immediate actions (completed)", "Actions taken" (not "Actions
# to be completed", "Planned actions (planned or in-progress)")
_COMPLETED = re.compile(r"\b(?:completed|done|taken|already)\b|\bwhat\s+we\s+did\b", re.I)
_NOT_COMPLETED = re.compile(r"\b(?:to\s+be|not|planned|pending|open|outstanding|remaining|in[\s-]progress)\b", re.I)


def _done_headings(section: Section) -> list[tuple[int, bool]]:
    """Where each heading over the section's items starts, and whether it says they are done: the
    section's own title (at 0), the sub-headings folded into its text (its "h" marks), and a
    lead-in line of its own ("Completed:")."""
    def done(title: str) -> bool:
        return _COMPLETED.search(title) is not None and _NOT_COMPLETED.search(title) is None

    out = [(0, done(section.title))]
    for start, end, kind, _ in sorted(m[:4] for m in section.marks if m[2] == "h"):
        out.append((start, done(section.text[start:end])))
    for m in _LEAD_IN.finditer(section.text):  # "Completed:" on its own line, over the items it heads
        out.append((m.start(), done(m.group(1))))
    return sorted(out)


# a line that heads the items below it: "Completed:", "Done so far:", "Planned:"
_LEAD_IN = re.compile(r"^[ \t]*([A-Z][\w ()/-]{0,40}):[ \t]*$", re.M)


def _under(headings: list[tuple[int, bool]], at: int) -> bool:
    """Whether the nearest heading before `at` says its items are done."""
    return next((done for start, done in reversed(headings) if start <= at), False)


def _ticket_links(section: Section) -> list[tuple[int, int]]:
    return [(m[0], m[1]) for m in section.marks if m[2] == "link" and _TICKET_URL.search(m[3] or "")]


def _links_in(links: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(a < end and b > start for a, b in links)


def _continuation(text: str, item: Span, later: list[Span]) -> str:
    """The lines that continue a list item up to the next item or a blank line: a parser that
    drops the list's indentation leaves them as blocks of their own ("1. Document the steps.\n
    They worked this time.\n(issue)"), and the ticket link is often the last of them."""
    tail = text[item.end:later[0].start if later else len(text)]
    cut = tail.find("\n\n")
    return tail[:cut] if cut >= 0 else tail


def _list_finding(sections: list[Section], part: list[int]) -> tuple[tuple[int, Finding] | None, bool]:
    """The finding on the action list (or None), and whether the write-up has one."""
    items, team = _team_items(sections, part)
    listed = bool(items)
    if listed:
        what = "action items"
    else:  # no list: the sentences of the action sections that commit to something
        what = "commitments in the action section"
        items = [(i, x, _is_open(x.text)) for i in team
                 for x in sentences_of(sections[i])
                 if (_COMMITMENT.search(x.text) or _MODAL.search(x.text)) and not x.text.rstrip().endswith("?")
                 and not _NEWS.search(x.text) and not _RECAP.match(x.text)]
        items = items[:_MAX_ITEMS]
    open_ = [k for k, (_, _, is_open) in enumerate(items) if is_open]
    if not open_:
        return None, listed
    first_section, first, _ = items[open_[0]]
    last = first
    for i, x, is_open in items[open_[0] + 1:]:  # the run of open items that starts there, in its section
        if i != first_section or not is_open or x.end - first.start > MAX_QUOTE_CHARS:
            break
        last = x
    n, m = len(open_), len(items)
    if m == 1:
        one = what[:-1] if what.endswith("s") else what.replace("commitments", "commitment", 1)
        count = (f"The only {one} names no owner or due date, and is neither marked done nor linked to a ticket: "
                 "nobody is accountable for it, and it is easy to lose.")
    elif n == m:
        count = (f"None of the {m} {what} names an owner or a due date, and none is marked done or linked to a "
                 "ticket: nobody is accountable for them, and they are easy to lose.")
    elif n == 1:
        count = (f"1 of the {m} {what} names no owner or due date: it is neither marked done nor linked to a "
                 "ticket, so nobody is accountable for it, and it is easy to lose.")
    else:
        count = (f"{n} of the {m} {what} name no owner or due date: they are neither marked done nor linked to a "
                 "ticket, so nobody is accountable for them, and they are easy to lose.")
    return (first_section, Finding(
        type="important", category="actions: no owner or due date", risk="medium",
        description=count,
        suggestion="Give each open action an owner and a due date, or link the ticket that tracks it; "
                   "mark the ones already done as done.",
        questions=["Who owns each of these actions, and by when?"],
        quote=sections[first_section].text[first.start:last.end], confidence=0.8)), listed


_FIRST_PERSON = re.compile(r"\b(?:I|[Ww]e)\b")


def _personal(text: str) -> re.Match[str] | None:
    """A promise to behave differently, made by the writer ("I have revoked it, and will avoid
    creating one"); not what a change will avoid ("minimizing stdout will avoid the lack of log
    rotation")."""
    m = _PERSONAL.search(text)
    return m if m is not None and _FIRST_PERSON.search(text, 0, m.start()) else None


def _prose_finding(sections: list[Section], skip: set[int]) -> tuple[int, Finding] | None:
    for i, s in enumerate(sections):
        if i in skip:
            continue
        for sentence in sentences_of(s):
            m = _COMMITMENT.search(sentence.text) or _personal(sentence.text)
            if m is None and _PENDING_FIX.search(sentence.text):
                m = _DEFERRED.search(sentence.text)
            if m is None or _READER.search(sentence.text) or _NEWS.search(sentence.text) or not _is_open(sentence.text):
                continue
            # quote the clause that promises: from the last ", " or "; " before the promise (a deferred
            # undo keeps its condition: "Once fixed, ... can be reverted")
            cut = -1 if m.re is _DEFERRED else \
                max(sentence.text.rfind(", ", 0, m.start()), sentence.text.rfind("; ", 0, m.start()))
            clause = sentence.text[cut + 2:] if cut >= 0 else sentence.text
            if clause.startswith("[^") and "]:" in clause[:40]:  # a footnote's label: "[^3]: Another thing..."
                clause = clause[clause.index("]:") + 2:].lstrip()
            if m.re is _PERSONAL:
                what = (f"The remedy here is a promise to behave differently (\"{m.group(0)}\"), with no "
                        "action list behind it: a resolution is not a control, and nothing makes it hold.")
            elif m.re is _DEFERRED:
                what = (f"A workaround is to be undone later (\"{m.group(0)}\"), but the write-up has no action "
                        "list, and this one has no owner, date or ticket: such workarounds tend to stay.")
            else:
                what = (f"A follow-up is promised here (\"{m.group(0)}\") but the write-up has no action "
                        "list, and this one has no owner, date or ticket: it is easy to lose.")
            return i, Finding(
                type="suggestion", category="actions: open commitment", risk="low",
                description=what,
                suggestion="List the follow-up work as actions, each with an owner and a due date or a "
                           "linked ticket.",
                questions=["Who will do this, and by when?"],
                quote=around(clause, max(0, m.start() - (len(sentence.text) - len(clause))),
                             m.end() - (len(sentence.text) - len(clause))), confidence=0.7)
    return None


def _statements(sections: list[Section], skip: list[int], pattern: re.Pattern[str]):
    """(section index, sentence, match) for each sentence outside `skip` that states `pattern`
    (a question is not a statement), in document order."""
    for i, s in enumerate(sections):
        if i in skip:
            continue
        for sentence in sentences_of(s):
            m = pattern.search(sentence.text)
            if m is not None and not sentence.text.rstrip().endswith("?"):
                yield i, sentence, m


def _recurrence_finding(sections: list[Section], part: list[int]) -> tuple[int, Finding] | None:
    """An earlier occurrence of the same failure is mentioned, and no action speaks of it."""
    if any(_ADDRESSES_RECURRENCE.search(sections[i].text) for i in part):
        return None
    for i, sentence, m in _statements(sections, part, _RECURRENCE):
        return i, Finding(
            type="important", category="actions: recurrence not addressed", risk="medium",
            description=(f"The same failure happened before (\"{m.group(0)}\"), but no action item speaks "
                         "of it: why the first occurrence did not lead to a fix, and what will stop a third, "
                         "are left open."),
            suggestion="Say what was learned or done after the earlier occurrence, and add an action that "
                       "addresses why it came back (with an owner and a date or a ticket).",
            questions=["Why was the earlier occurrence not fixed, and what stops it happening again?"],
            quote=around(sentence.text, m.start(), m.end()), confidence=0.6)
    return None


def _detection_finding(sections: list[Section], part: list[int]) -> tuple[int, Finding] | None:
    """The write-up says why the problem was noticed late, and no action speaks of detection."""
    if any(_ADDRESSES_DETECTION.search(sections[i].text) for i in part):
        return None
    for i, sentence, m in _statements(sections, part, _DELAYED):
        if _READER.search(sentence.text) or GOOD_NEWS_TITLE.search(sections[i].title):
            continue  # "Where we got lucky: nobody was watching their PRs, so nobody noticed": users, not us
        return i, Finding(
            type="important", category="actions: detection delay not addressed", risk="medium",
            description=(f"The write-up explains why the problem was noticed or handled late (\"{m.group(0)}\"), "
                         "but no action speaks of detection, alerting or notification: the same delay can "
                         "happen next time."),
            suggestion="Add an action that shortens detection or response (an alert, a monitored inbox, a "
                       "threshold that stands out from the noise), with an owner and a date or a ticket.",
            questions=["What will make this noticed sooner next time, and who will do it?"],
            quote=around(sentence.text, m.start(), m.end()), confidence=0.6)
    return None


def document_findings(sections: list[Section], timeline: set[int]) -> Iterator[tuple[int, Finding]]:
    """At most one finding (section index, finding): an action list without owners, or, when the
    write-up has no action list, an open commitment in the prose (not in the timeline sections,
    whose entries narrate what was done)."""
    part = _action_part(sections)
    got, listed = _list_finding(sections, part) if part else (None, False)
    if got is None and not listed:
        got = _prose_finding(sections, set(part) | timeline)
    if got is not None:
        yield got
    for more in (_recurrence_finding(sections, part), _detection_finding(sections, part)):
        if more is not None:
            yield more
