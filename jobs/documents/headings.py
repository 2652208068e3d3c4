"""Heading heuristics shared by the formats that have no heading markup of their own (plain
text, PDF, .docx body paragraphs, a bold section name in Markdown): known section names,
numbering, Title Case, ALL CAPS, and the shapes (list items, times, dates) that are not headings;
and the line that states an action (`ACTION_LINE`, `next_action_line`), which the Markdown parser
and the reviewers' action rules both read."""

from __future__ import annotations

import re


_KNOWN_NAMES = [
    r"executive summary", r"management summary", r"summary", r"abstract", r"introduction",
    r"overview", r"purpose(?: and scope)?", r"scope(?: and purpose)?", r"background", r"context",
    r"terms of reference",
    r"timeline(?: of events)?", r"chronology(?: of events)?", r"sequence of events",
    r"(?:event|incident|issue) (?:description|summary|details)", r"description of the (?:event|incident)",
    r"what happened",
    r"investigation(?: (?:process|methodology|method|approach|team|scope))?",
    r"methodology", r"method", r"approach",
    r"(?:key |investigation )?findings", r"analysis", r"discussion", r"evidence",
    r"root cause(?:s|\(s\))?(?: analysis)?", r"causal (?:analysis|factors)",
    r"root causes? (?:and|&) (?:resolution|remediation|recovery)", r"resolution(?: (?:and|&) recovery)?",
    r"contributing (?:factors|causes)", r"(?:direct|immediate|underlying) causes?",
    r"impact(?: (?:assessment|analysis))?", r"consequences", r"risk assessment", r"severity",
    r"immediate actions", r"containment(?: actions)?",
    r"(?:corrective|preventive|preventative) actions?",
    r"corrective (?:and|&) (?:preventive|preventative) (?:actions?|measures)",
    r"(?:corrective|preventive|preventative) measures", r"capa", r"actions",
    r"action (?:plan|items)", r"next steps",
    r"recommendations?", r"conclusions?", r"lessons (?:learned|learnt)", r"references",
    r"attachments", r"appendices", r"appendix(?: [a-z0-9]{1,3})?(?: ?[:.\-\u2013\u2014] ?.{1,60})?",
    r"glossary", r"sign-?off", r"approvals?", r"distribution",
]
_NUMBER = r"(?:\d{1,3}(?:\.\d{1,3})*|[ivxlcdm]{1,6}|[a-z])"
_NUMBERING = (
    rf"(?:(?:section|part|chapter)\s+{_NUMBER}\s*[:.\-\u2013\u2014)]?\s*"
    rf"|\d{{1,3}}(?:\.\d{{1,3}})*[.)]?\s+|[ivxlcdm]{{1,6}}[.)]\s+|[a-z][.)]\s+)"
)
_KNOWN_HEADING = re.compile(  # with a note in brackets too: "Timeline (all times UTC)"
    rf"^(?P<num>{_NUMBERING})?(?:{'|'.join(_KNOWN_NAMES)})(?:\s*\([^()\n]{{1,60}}\))?\s*:?$", re.IGNORECASE
)
_NUMBERED = re.compile(r"^(?P<num>\d{1,3}(?:\.\d{1,3})*)[.)]?\s+(?P<rest>\S.*)$")
_LEADING_NUMBER = re.compile(rf"^{_NUMBERING}", re.IGNORECASE)
_BULLET = re.compile(r"^(?:[-*+\u2022\u25aa\u25cf\u2013\u2014\u00b7>\u27a2\u2713\u2756\u25a1]\s|\(?\d{1,3}[.)]\s+[a-z])")
# verbs an action opens with ("Implement automated monitoring ...", "Tasks: Configure Puppet to ...",
# "Modifying configuration files for more error logging"): after a label's colon, "Configure Puppet" is
# the action, not a person's name
_DOING_VERBS = """Add Adopt Apply Assign Audit Automate Build Change Check Conduct Configure Create Define Deploy
    Develop Document Educate Enable Enforce Ensure Establish Enhance Expand Fix Implement Improve Include Increase
    Install Introduce Investigate Limit Migrate Modify Monitor Move Optimize Optimise Patch Perform Provide Reduce
    Refactor Remove Replace Require Restrict Review Revise Rotate Run Schedule Set Standardize Standardise
    Strengthen Switch Test Train Update Upgrade Use Utilize Utilise Validate Verify Write""".split()


def _gerund(verb: str) -> str:
    """"Modify" -> "Modifying", "Use" -> "Using", "Run" -> "Running", "Set" -> "Setting"."""
    if verb in ("Run", "Set"):
        return verb + verb[-1] + "ing"
    return (verb[:-1] if verb.endswith("e") and not verb.endswith("ee") else verb) + "ing"


DOING = "(?:" + "|".join(_DOING_VERBS) + r")\b"
_DOING_OR_GERUND = "(?:" + "|".join(_DOING_VERBS + [_gerund(v) for v in _DOING_VERBS]) + r")\b"
# a sentence or line that states one action: such a verb first, after a label or an adverb at most
ACTION_LINE = re.compile(rf"(?:[A-Z][\w/&-]*(?: [\w/&-]+){{0,4}}:\s+)?"
                         rf"(?:(?:Continuously|Regularly|Periodically)\s+)?(?i:{_DOING_OR_GERUND})\s+\w")
_RUNS_ON = re.compile(r"(?:[,;:-]|\b(?:and|or|to))\s*$")  # "... and" / "... to": the sentence goes on
# the first words ACTION_LINE can match, to ask it only of lines that may be one (a parser asks at every
# line break of a long write-up)
_ACTION_FIRST = frozenset(w.lower() for v in _DOING_VERBS for w in (v, _gerund(v))) | {"continuously", "regularly",
                                                                                        "periodically"}


def _may_be_action(line: str) -> bool:
    first = line[:40].split(None, 1)
    return bool(first) and (first[0].lower() in _ACTION_FIRST or ":" in line[:60])


def next_action_line(previous: str, line: str) -> bool:
    """Actions typed one a line with no list marks and no full stops ("Modifying configuration
    files to raise the limit" / "Test before deploying to production"): a line that opens with a
    capitalised action verb, under one that did too and does not run on (",", ";", ":"), is the
    next action, not a wrap of the one before. A wrap seldom starts with such a word."""
    return (line[:1].isupper() and _may_be_action(line) and _may_be_action(previous.lstrip())
            and ACTION_LINE.match(line) is not None and ACTION_LINE.match(previous.lstrip()) is not None
            and _RUNS_ON.search(previous[-40:]) is None)


_TIME_START = re.compile(r"^\d{1,2}[:.h]\d{2}\b")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?"
)
_DATE_LINE = re.compile(  # "14 March 2024", "March 14, 2024", "June 7th": timeline entries, not headings
    rf"^(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?\b"
    rf"|\d{{1,4}}[-/.]\d{{1,2}}[-/.]\d{{1,4}})",
    re.IGNORECASE,
)
_MINOR_WORDS = frozenset(
    "a an and as at but by for from in into nor of on or per the to vs via with without "
    "over under after before between during".split()
)


def _is_known_heading(text: str) -> bool:
    return len(text) <= 100 and _KNOWN_HEADING.match(text.strip()) is not None


def _numbering_level(text: str) -> int:
    """'2.3 Root Cause' -> 2; everything else -> 1."""
    match = _NUMBERED.match(text.strip())
    return match.group("num").count(".") + 1 if match else 1


def _strip_numbering(text: str) -> str:
    return _LEADING_NUMBER.sub("", text.strip(), count=1).strip()


def _short_line_shape_ok(text: str, max_words: int) -> bool:
    """A one-line, unpunctuated, not-a-list, not-a-table line of at most max_words words."""
    text = text.strip()
    if not text or "\n" in text or "|" in text or len(text) > 120:
        return False
    if text[-1] in ".,;!" or _BULLET.match(text) or _TIME_START.match(text) or _DATE_LINE.match(text):
        return False
    if ". " in _strip_numbering(text).rstrip(":") or not any(ch.isalpha() for ch in text):
        return False  # a sentence; "1. Incident Details" is numbered, not one
    return len(text.split()) <= max_words


def _is_title_case(text: str, max_words: int = 8) -> bool:
    """'Hose Examination Results' yes; 'The hose was examined' no."""
    if not _short_line_shape_ok(text, max_words + 2):
        return False
    body = _strip_numbering(text).rstrip(":").strip()
    if not body or not (body[0].isupper() or body[0].isdigit()) or len(body.split()) > max_words:
        return False
    words = [w.strip("()[]{}\"'\u201c\u201d\u2018\u2019,") for w in body.split()]
    significant = [w for w in words if w and w[0].isalpha() and w.lower() not in _MINOR_WORDS]
    if not significant:
        return False
    capitalised = sum(1 for w in significant if w[0].isupper())
    return capitalised / len(significant) >= 0.75


def _is_all_caps(text: str, max_words: int = 10) -> bool:
    letters = [ch for ch in text if ch.isalpha()]
    return len(letters) >= 3 and all(ch.isupper() for ch in letters) and _short_line_shape_ok(text, max_words)
