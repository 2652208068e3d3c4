"""What a software or security post-mortem must establish, read across the whole document.

The questions a reviewer asks of every post-mortem, each answered at most once per document:

- `cause not established`: is the cause stated as a guess? "Upon investigation it seemed that
  some nodes had gone bad", "in part because it appears to be a bug in the master", "found a
  possible cause of", "suspected it was the ingress pods": a hedge in the same sentence as a
  causal claim (or a hedged cause in one phrase), outside the timeline (whose entries rightly
  narrate the guesses made at the time), and not confirmed in that sentence or the next.
- `cause not stated`: an outage write-up (failures in its summary or timeline) with no causal
  statement at all outside the timeline. Not for an attack, abuse or a legal request.
- `vague impact`: is the impact a number? "the attackers exfiltrated some tokens", "at least a
  few that have a wider impact": a vague quantity in a sentence about harm, in the summary or an
  impact section, with no figure in the sentence.
- `exposure not stated`: malicious or compromised releases removed from a registry, and the
  write-up never says how long they were up or how often they were fetched (nor that it is
  unknown). It stands in for `duration not stated` there.
- `start missing`: the timeline opens when the problem was noticed, and the write-up says it
  had been going on before ("it could have been noticed earlier").
- `duration not stated`: does the reader learn how long it lasted? A timeline with clock times,
  but no section states a duration, and: the timeline says it was resolved but not when; or the
  write-up says the problem was noticed "after a few hours" and never when it began; or nothing
  at all (then the finding is on the summary, without a quote; not when the whole timeline runs
  a quarter of an hour, which shows how long it took at a glance).
- evidence (an all-clear drawn from finding nothing, sweeping claims): `postmortem_evidence.py`.

Only for the "software" kind (`offline.document_kind`); the general checklist has its own rules
for hedging and quantities (`offline_language.py`, `offline_impact.py`). Linear in the text:
sentences from `offline_text`, bounded regexes, one pass per section. Confidences are the
precision measured on the tuning half of bench/quality/corpus (`python -m bench.quality.tune`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency as C
from redline.jobs.reviewers.consistency_durations import _OUTAGE_AFTER, _human
from redline.jobs.reviewers.consistency_timeline import span_ends
from redline.jobs.reviewers.offline_text import (
    MAX_QUOTE_CHARS, _clip, _rx, detect_role, sentences_of, split_blocks, split_sentences,
)

_HEDGE = _rx(
    r"it\s+(?:seemed|seems|appears|appeared)", r"(?:seems|seemed|appears|appeared)\s+to\s+(?:be|have)",
    r"probably", r"possibly", r"presumably", r"likely", r"(?:we|I)\s+(?:suspect|believe|think)",
    r"(?:may|might|could)\s+have\s+been", r"(?:is|are|was|were)\s+(?:believed|thought|suspected)\s+to",
)
# "the most likely cause was", "the suspected root cause is", "found a possible cause of", "suspected it
# was the ingress pods": a hedged cause in one phrase, no causal word needed
_HEDGED_CAUSE = _rx(
    r"(?:most\s+)?(?:likely|probable|possible|suspected|presumed)\s+(?:root\s+)?cause\s+(?:was|is|of)",
    r"suspected\s+(?:it|this|that)\s+(?:was|to\s+be)", r"suspected\s+(?:the\s+)?(?:cause|culprit)",
    # "the outage seemed to come from the deletion of a node", "was probably caused by a stale cache"
    r"(?:seem|appear)(?:s|ed)?\s+to\s+(?:have\s+)?(?:come|came|stem(?:med)?|result(?:ed)?|originated?|been\s+caused)"
    r"\s+(?:from|by)",
    r"(?:probably|likely|possibly|presumably)\s+(?:(?:was|were)\s+)?(?:caused\s+by|due\s+to|"
    r"(?:came|stemmed|resulted)\s+from)",
)
# A guess the write-up then checked is established: "we suspected the cache; the logs confirmed it".
_CONFIRMED = _rx(r"confirm(?:ed|s)?", r"verified", r"turned\s+out", r"proved", r"proven", r"reproduced")
_CAUSAL = _rx(
    r"because", r"due\s+to", r"caused\s+by", r"root\s+cause", r"the\s+cause", r"upon\s+investigation",
    r"the\s+reason", r"triggered\s+by", r"resulted\s+from",
)

# An outage write-up that never says why: no causal statement outside the timeline. Not for an
# attack, an abuse case or a legal request, whose "cause" is the adversary or the requester.
_CAUSE_STATED = _rx(
    r"because", r"due\s+to", r"caused", r"causes?", r"triggered", r"resulted\s+(?:from|in)", r"result\s+of",
    r"the\s+reason", r"led\s+to", r"stem(?:s|med)?\s+from", r"culprit", r"why", r"upon\s+investigation",
    r"was\s+(?:a|an|the)\s+(?:bug|misconfiguration|regression|leak)", r"so\s+that",
    r"since(?!\s+(?:\d|then\b|(?:early|late|mid)\b|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b))",  # not "since 2002"
    r"thanks\s+to(?![^.\n]{0,60}\bfor\b)",  # not gratitude: "thanks to JFrog's team for finding this leak"
    # someone else's failure: "the website was affected by an outage of our hosting provider"
    r"(?:affected|impacted|hit|brought\s+down|taken\s+down)\s+by\s+(?:a|an|the)\s+(?:[\w-]+\s+){0,2}"
    r"(?:outage|failure|incident|bug|attack|problem|issue)",
)
# A section given to the cause ("Root cause", "Contributing factors", "What went wrong") says it
_CAUSE_TITLE = re.compile(r"caus|contribut|factors|\bwhy\b|went\s+wrong|how\s+(?:did\s+)?(?:this|it)\s+happen"
                          r"|analysis", re.I)
_OUTAGE = _rx(r"outage", r"(?:went|was|were|is|are)\s+down", r"not\s+working", r"stopped\s+working", r"unavailable",
              r"fail(?:ed|s|ing|ures?)?", r"errors?", r"broken", r"crash\w*", r"could\s+not", r"couldn't",
              r"(?:does|did)\s+not\s+(?:launch|start|load|work)")
_ADVERSARY = _rx(r"attack\w*", r"malware", r"malicious", r"phish\w*", r"exfiltrat\w*", r"subpoena\w*",
                 r"vulnerab\w*", r"abuse", r"compromis\w*", r"leak(?:ed)?")

_HEDGE_AFTER_CAUSE = 40  # characters between the causal words and the hedge
# after "some PyPI": the noun it qualifies ("some PyPI credentials")
_HEAD_NOUN = re.compile(r" (?!(?:would|could|should|will|were|was|are|had|have|did|can|may|might)\b)[a-z][a-z-]{2,30}\b")
_VAGUE = re.compile(r"(?<!how )\b(some|several|a\s+few|a\s+number\s+of|many|numerous|a\s+handful\s+of|most|"
                    r"(?:a\s+)?lots?\s+of)\s+(\w+)",
                    re.I)
_TIME_UNITS = frozenset("time times while moment moments minutes hours days weeks months years seconds".split()
                        # nor what is given to those harmed: "some respite to those users affected"
                        + "respite relief comfort help support reassurance assurance compensation clarity".split())
_NOT_NOUNS = frozenset("that which who whom of the these those them more other others in to are were was is "
                       "have had has".split())
# "most likely", "most important": an adverb, not a share of those harmed ("most Binders", "most of the users");
# nor "were the most affected", a superlative
_NOT_AFTER_MOST = frozenset("likely probably important recent recently common commonly often notably obviously "
                            "visible visibly severe severely".split())
_HARM = _rx(
    r"affected", r"impacted", r"impact", r"compromised", r"exfiltrated", r"leaked", r"exposed", r"stolen",
    r"phished", r"lost", r"deleted", r"corrupted", r"unable", r"could\s+not", r"failed", r"fail(?:s|ed)?\s+to", r"installed",
)

# "had jobs been running, many PRs would have been unable to merge": harm that did not happen is no impact
_HYPOTHETICAL = _rx(r"(?:would|could|might)\s+have\s+(?:been|had|failed|lost|broken|caused)")
# "some companies had issues, but we were not affected": the vague quantity is not this write-up's impact
_UNHARMED = _rx(r"(?:were|was|are|is)\s+not\s+(?:affected|impacted)", r"unaffected", r"no\s+impact")

_VAGUE_DELAY = re.compile(
    r"\b(?:after|for|over)\s+(?:a\s+few|several|many|some)\s+(?:hours|days)\b|\bquite\s+some\s+time\b", re.I)
_NOTICED = _rx(r"notic\w*", r"detected", r"spotted", r"reali[sz]ed", r"alerted", r"identified")
_CLOCK_AT = r"(?:\d{1,2}:\d{2}(?:\s?[ap]\.?m\b\.?)?|\d{1,2}\s?[ap]\.?m\b\.?)"  # 14:05, 1:46pm, 5:30 p.m., 4pm
# ... and at the end of a span, an hour with its zone: "from 4pm to 6 GMT"
_CLOCK_END = rf"(?:{_CLOCK_AT}|\d{{1,2}}\s(?-i:UTC|GMT|[A-Z]{{2,4}}T)\b)"
_SPAN = re.compile(rf"\b(?:from|between)\s+{_CLOCK_AT}(?![\d:])(?:[^.\n]{{0,40}}?\b(?:to|and|until|till)\s+|\s*[-–—]\s*)"
                   rf"{_CLOCK_END}(?![\d:])", re.I)
# ... or of days: "exposed from on or about 2025-02-10 through 2025-04-01", "between March 3 and March 9"
_DAY_AT = f"(?:{C.ISO_DATE.pattern}|{C.NAMED_DATE.pattern}|{C.DAY_MONTH.pattern})"  # as the rules read a day
_DAY_SPAN = re.compile(rf"\b(?:from|between|since)\s+(?:on\s+or\s+about\s+|about\s+|around\s+)?{_DAY_AT}\b"
                       rf"[^.\n]{{0,20}}?\s(?:to|through|thru|until|till|and)\s+(?:on\s+or\s+about\s+)?{_DAY_AT}\b", re.I)
# ... or its ends as labelled lines: "Start Time: January 25, 2024, 10:30 AM (UTC)" then "End Time: January 25,
# 2024, 12:45 PM (UTC)" (within three lines)
_START_END = re.compile(r"\b(?:start(?:\s+time)?|started|began)\s*:[^\n]{0,80}?\d{1,2}[:.]\d{2}[^\n]{0,40}\n"
                        r"(?:[^\n]{0,200}\n){0,2}?[^\n]{0,10}?\b(?:end(?:\s+time)?|ended|resolved|recovered|restored)"
                        r"\s*:[^\n]{0,80}?\d{1,2}[:.]\d{2}", re.I)
# ... and a stats line: "Time to recovery: 279 minutes", "Time to resolve: 2h", "MTTR 45 min"
_DURATION_WORDS = _rx(r"duration", r"downtime", r"outage", r"impact\s+window", r"total", r"unavailable", r"down",
                      r"time\s+to\s+(?:recover\w*|resol\w*|restor\w*|mitigat\w*|repair|fix)", r"m?ttr")
# "executed over 38 minutes before being mitigated", "ran for an hour until it was stopped"
_UNTIL_STOPPED = re.compile(r"\s+(?:before\s+(?:being\s+|it\s+was\s+)?|until\s+(?:it\s+was\s+)?)"
                            r"(?:mitigated|resolved|stopped|fixed|contained|restored|halted)\b", re.I)
_SHORT_TIMELINE = timedelta(minutes=15)  # a timeline of minutes: the reader sees how long at a glance
_PREVIOUS = _rx(r"previous(?:ly)?", r"last\s+time", r"earlier\s+incident", r"once\s+before")


# Malicious or compromised releases removed from a registry: the reader needs the exposure (how
# long they were up, how many downloads or installs), or a word that it is unknown.
_MALICIOUS = _rx(r"malware", r"malicious", r"compromised?", r"backdoor\w*", r"supply[\s-]chain")
_REMOVED = _rx(r"removed", r"yanked", r"deleted", r"taken\s+down", r"quarantined", r"pulled")
_RELEASE = _rx(r"versions?", r"releases?", r"packages?", r"project", r"artifacts?", r"images?", r"builds?",
               r"distributions?", r"from\s+(?:pypi|npm|rubygems|crates\.io|docker\s+hub|the\s+(?:registry|index))")
_DOWNLOADS = _rx(r"downloads?", r"downloaded", r"installs?", r"installed", r"installations?", r"pulls")
# a count next to the word: "downloaded in total 116 times", "1,200 downloads" (not "PEP 751 ... installation")
_COUNTED = re.compile(r"\b(?:downloads?|downloaded|installs?|installed|installations?|pulls)\b[^.\n]{0,60}?\d"
                      r"|\d[\d,.]{0,20}\s{0,3}(?:[kKmM]\s)?(?:\w{1,30}\s){0,2}"
                      r"(?:downloads?|installs?|installations?|pulls)\b",
                      re.I)
_UNKNOWN = _rx(r"no\s+(?:definitive\s+)?way\s+to\s+(?:know|tell)", r"unknown", r"not\s+known",
               r"cannot\s+(?:know|tell|determine)", r"no\s+data")
_WINDOW = _rx(r"(?:within|after|for|in|over)\s+(?:about\s+|around\s+|roughly\s+|approximately\s+|under\s+)?"
              r"(?:(?:\d+|a\s+few|several|an?|one|two|three|four|five|six|\w+ty)\s+)?(?:minutes?|hours?|days?|weeks?)")
_EXPOSED = _rx(r"removed", r"yanked", r"available", r"live", r"online", r"exposed", r"quarantined", r"up")
_AFFECTED = _rx(r"affected", r"infected", r"attackers?", r"malware", r"malicious", r"compromised?", r"backdoor\w*")
_READER_YOU = re.compile(r"\byou(?:rs?)?\b", re.I)


def around(text: str, start: int, end: int) -> str:
    """A verbatim piece of ``text`` short enough to quote that holds text[start:end] (as much of it
    as fits): all of it when it fits, else a window from a word boundary just before ``start``."""
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    k = text.rfind(" ", max(0, start - MAX_QUOTE_CHARS // 3), start)
    begin = k + 1 if k >= 0 else start
    piece = text[begin:begin + MAX_QUOTE_CHARS]
    if begin + MAX_QUOTE_CHARS < len(text):  # end on a word boundary, unless that cuts the match
        cut = piece.rfind(" ")
        if cut >= end - begin:
            piece = piece[:cut]
    return piece.strip() or text[start:end][:MAX_QUOTE_CHARS]




def _cause_finding(sections: list[Section], timeline: set[int]) -> tuple[int, Finding] | None:
    for i, s in enumerate(sections):
        if i in timeline:
            continue
        sentences = sentences_of(s)
        for k, sentence in enumerate(sentences):
            if sentence.text.rstrip().endswith("?"):
                continue
            # the cause itself is hedged: "because it appears to be", "upon investigation it seemed";
            # not a hedged statement with a causal aside ("it appears that they sent emails to
            # addresses, which are public due to ...")
            hedge = _HEDGED_CAUSE.search(sentence.text) or next(
                (h for c in _CAUSAL.finditer(sentence.text)
                 if (h := _HEDGE.search(sentence.text, c.end(), c.end() + _HEDGE_AFTER_CAUSE))), None)
            if hedge is None or _CONFIRMED.search(sentence.text, hedge.end()) or \
                    (k + 1 < len(sentences) and _CONFIRMED.search(sentences[k + 1].text)):
                continue
            return i, Finding(
                type="important", category="root cause: not established", risk="medium",
                description=(f"The cause is given as a guess (\"{hedge.group(0)}\"): the write-up does not "
                             "establish why this happened, so the actions may not address it."),
                suggestion="Say what is known and how it was shown (logs, a reproduction), what is still a "
                           "hypothesis, and add an action to find the cause if it is unknown.",
                questions=["What evidence shows this was the cause?", "Why did it happen in the first place?"],
                quote=around(sentence.text, hedge.start(), hedge.end()), confidence=0.75)
    return None


_FIELD_LINE = re.compile(r"[A-Z][\w ]{0,30}:\s+\S[^.!?]{0,40}$")


def _no_cause_finding(sections: list[Section], timeline: set[int]) -> tuple[int, Finding] | None:
    """An outage write-up (failures in its summary or timeline) with no causal statement anywhere
    outside the timeline, whose entries narrate what was seen, not why."""
    if any(_ADVERSARY.search(s.text) or _ADVERSARY.search(s.title) for s in sections):
        return None
    if not any(_OUTAGE.search(s.text) for s in sections if s.index in timeline or C._is_summary(s)):
        return None
    if any(_CAUSE_STATED.search(s.text) or _CAUSE_STATED.search(s.title) or (_CAUSE_TITLE.search(s.title)
                                                                            and s.text.strip())
           for s in sections if s.index not in timeline):
        return None
    # quoted where the reader looks for it: the summary's opening (else the first section's)
    lead = next((s for s in sections if C._is_summary(s) and s.text.strip()),
                next((s for s in sections if s.index not in timeline and s.text.strip()), None))
    # its first sentence, past a field ("Last updated: 2022-05-25")
    opening = [x for x in sentences_of(lead) if not _FIELD_LINE.match(x.text)][:1] if lead is not None else []
    if not opening:
        return None
    return lead.index, Finding(
        type="important", category="root cause: not stated", risk="medium",
        description="The write-up never says why it failed: outside the timeline no section gives a cause, and "
                    "the summary tells what happened, not why. The actions cannot be checked against a cause.",
        suggestion="Add what caused the failure (and how that was shown), or say that it is still unknown and "
                   "add an action to find out.",
        questions=["Why did the service fail, and how do we know?"], quote=_clip(opening[0].text), confidence=0.6)


def _clause(text: str, start: int, end: int) -> str:
    """The clause around text[start:end] (between commas, semicolons or the sentence's ends), at
    most 80 characters each way: "some idle users were unable to ...", "exfiltrated some tokens"
    say who was harmed; "some strange networking errors, a node was deleted" does not."""
    left = max([text.rfind(stop, max(0, start - 80), start) for stop in (",", ";", ". ")] + [max(0, start - 80) - 1])
    right = min([k for k in (text.find(stop, end, end + 80) for stop in (",", ";", ". ")) if k >= 0]
                + [min(len(text), end + 80)])
    return text[left + 1:right]


def _harms(text: str, vague: re.Match[str]) -> bool:
    """The harm is said of the vague quantity: in its clause, and next to it ("exfiltrated some
    tokens", "some idle users were unable to"), not of another thing in a long one ("the maintainer
    whose account was compromised had reused their npm password on several other sites")."""
    clause = _clause(text, vague.start(), vague.end())
    at = text.find(clause)
    near = text[max(at, vague.start() - 25):min(at + len(clause), vague.end() + 60)] if at >= 0 else clause
    return _HARM.search(near) is not None


def _impact_finding(sections: list[Section]) -> tuple[int, Finding] | None:
    for i, s in enumerate(sections):
        if not (C._is_summary(s) or detect_role(s.title) == "impact"):
            continue
        for sentence in sentences_of(s):
            t = sentence.text
            if any(c.isdigit() for c in t) or not _HARM.search(t) or _UNHARMED.search(t) or _HYPOTHETICAL.search(t):
                continue
            vague = next((m for m in _VAGUE.finditer(t) if m.group(2).lower() not in _TIME_UNITS
                          and not (m.group(1).lower() == "most" and (m.group(2).lower() in _NOT_AFTER_MOST
                                                                      or t[max(0, m.start() - 4):m.start()].lower()
                                                                      == "the "))
                          and _harms(t, m)), None)
            if vague is None:
                continue
            said = vague.group(1) if vague.group(2).lower() in _NOT_NOUNS else vague.group(0)
            head = _HEAD_NOUN.match(t, vague.end())
            if said == vague.group(0) and head and (vague.group(2)[:1].isupper() or vague.group(2)[-1:] != "s"):
                said += head.group()  # "some PyPI credentials", "some idle users", not "some PyPI", "some idle"
            return i, Finding(
                type="important", category="impact: vague quantity", risk="medium",
                description=(f"The impact is given as \"{said}\", not as a number: the reader cannot "
                             "tell how many were affected."),
                suggestion="Give the number (or a range, or say it is unknown and why): how many users, "
                           "tokens, packages or requests were affected.",
                questions=["How many exactly, and how was that counted?"],
                quote=around(t, vague.start(), vague.end()), confidence=0.7)
    return None


# Who or what was hurt, and how: "Users experienced build failures", "users did not see the build logs".
_WHO_WORDS = r"users?|customers?|people|developers|maintainers|visitors|clients|builds?|requests?|downloads?|launches"
_HURT_SENTENCE = re.compile(
    rf"\b(?:{_WHO_WORDS})\b[^.\n]{{0,80}}?\b(?:experienced|saw|were\s+(?:unable|affected|impacted|failing|broken)"
    rf"|could\s*n[o']t|did\s+not\s+(?:see|get|receive)|failed|failing|got\s+errors?)\b", re.I)
# A count of what was hurt, anywhere: "12% of launches", "1,800 email addresses", "about 300 users".
# A number is read from its first digit only (the lookbehind): from every digit of a long run of
# digits and commas, the search was quadratic (4.7 s for 20,000 digits).
# ... or any count of things said to be hurt: "373 samples were affected", "1,200 messages were lost"
# (a count in words too: "one account used it", "two customers"; a share: "a third of visitors")
_COUNT = re.compile(rf"(?<!\d)(?<!\d[,.])(?:\d[\d,.]*\s*(?:%|percent)"
                    r"|\b(?:a|one|two|three)\s+(?:half|third|quarter|fifth|tenth)s?\s+of\b"
                    r"|\bhalf\s+(?:of\s+)?(?:the|all|our)\b"
                    r"|\b(?:\d[\d,.]*|one|two|three|four|five|six|seven|eight|nine|ten|a\s+single)"
                    rf"\s+(?:\w+\s+){{0,2}}?(?:{_WHO_WORDS}|accounts?|projects?"
                    r"|packages?|tokens?|addresses|repositor(?:y|ies)|jobs?|pods?|sites?)\b"
                    r"|\b\d[\d,.]*\s+(?:\w+\s+){0,2}?[a-z]+s\s+(?:were|had\s+been)\s+(?:\w+\s+)?(?:affected|impacted|lost"
                    r"|corrupted|deleted|exposed|dropped|delayed|compromised))", re.I)


# "the download", "to download", 'the "moin" user' (one account, not the users)
_ONE_OF_THEM = re.compile(r"\b(?:the|this|that|my|our|a|an|one|to)\s+(?:[\"'\u201c\u2018]?[\w-]+[\"'\u201d\u2019]?\s+)?$", re.I)


def _unquantified_finding(sections: list[Section], timeline: set[int]) -> tuple[int, Finding] | None:
    """Users were hurt (the summary or impact section says how), and nowhere does the write-up
    count them or their requests, builds or downloads: the reader cannot weigh the incident."""
    if any(_COUNT.search(s.text) for s in sections):
        return None
    for i, s in enumerate(sections):
        if i in timeline or not (i == 0 or C._is_summary(s) or detect_role(s.title) == "impact"):
            continue
        for sentence in sentences_of(s):
            m = _HURT_SENTENCE.search(sentence.text)
            if m and _ONE_OF_THEM.search(sentence.text, 0, m.start()) and not m.group().split()[0].lower().endswith("s"):
                continue  # "on this one the download failed": one download, the author's, not who was hurt
            if m and not _UNKNOWN.search(sentence.text) and not _UNHARMED.search(sentence.text):
                return i, Finding(
                    type="important", category="impact: not quantified", risk="medium",
                    description="The write-up says who was affected and how, but never how many: no count or share "
                                "of users, requests, builds or downloads anywhere, so the reader cannot weigh it.",
                    suggestion="Give the number or share affected (failed requests, builds or downloads, users), "
                               "or say it is unknown and why.",
                    questions=["How many were affected, and how was that counted?"],
                    quote=_clip(sentence.text), confidence=0.6)
    return None


def _exposure_finding(sections: list[Section], timeline: set[int]) -> tuple[int, Finding] | None:
    """Malicious releases removed, but neither how long they were up nor how often they were fetched."""
    if not any(_MALICIOUS.search(s.text) for s in sections):
        return None
    removal: tuple[int, str] | None = None
    for i, s in enumerate(sections):
        for sentence in sentences_of(s):
            t = sentence.text
            if _COUNTED.search(t) or (_DOWNLOADS.search(t) and _UNKNOWN.search(t)):
                return None  # the downloads are counted, or said to be unknown
            if _WINDOW.search(t) and _EXPOSED.search(t):
                return None  # "removed within hours of being uploaded"
            lead = i == 0 or C._is_summary(s) or detect_role(s.title) == "impact"
            if removal is None and lead and i not in timeline and _REMOVED.search(t) and _RELEASE.search(t) \
                    and not _READER_YOU.search(t) and (_AFFECTED.search(t) or _MALICIOUS.search(s.text)):
                removal = (i, t)
    if removal is None:
        return None
    return _exposure(removal, "The affected releases were removed, but the write-up never says how long they were "
                              "available or how many times they were downloaded or installed: the reader cannot "
                              "judge the exposure.",
                     "State the exposure window (published when, removed when) and the download or install count "
                     "(or that it is unknown, and why).",
                     "How long were the releases available, and how many times were they downloaded?")


def _exposure(at: tuple[int, str], description: str, suggestion: str, question: str) -> tuple[int, Finding]:
    return at[0], Finding(type="important", category="impact: exposure not stated", risk="medium",
                          description=description, suggestion=suggestion, questions=[question],
                          quote=_clip(at[1]), confidence=0.6)


# A secret let out: "a GitHub personal access token ... was leaked", "some PyPI credentials were found exposed"
_SECRET = _rx(r"(?:access|api|auth\w*|upload|personal\s+access|deploy)?\s*tokens?", r"credentials?", r"passwords?",
              r"secrets?", r"(?:api|access|private|signing|ssh)\s+keys?")
_LET_OUT = _rx(r"leaked", r"exposed", r"exfiltrated", r"stolen", r"disclosed\s+publicly", r"made\s+public")
# When it got out, said outright: pushed, published or created on a date, "since", "for 15 months" ...
_OUT_WHEN = _rx(r"pushed", r"published", r"committed", r"uploaded", r"created", r"included", r"added", r"since",
                r"exposed\s+(?:for|from|between)", r"present\s+(?:for|since|from)", r"public\s+(?:for|since)",
                # "their security breach started on December 19, 2022, with the bulk of the secrets being exfiltrated"
                r"(?:breach|compromise|intrusion|attack|exposure|leak)\s+(?:started|began)\s+on")
# a date as the rest of the rules read one (consistency_text), "2023-MM-DD" (the year known, the day not), or a span
_DAY_UNKNOWN = re.compile(r"\b\d{4}-MM-DD\b")
_FOR_SPAN = re.compile(r"\bfor\s+(?:\d+|a\s+few|several|\w+)\s+(?:hours|days|weeks|months|years)\b", re.I)


def _dated(text: str) -> bool:
    return any(rx.search(text) for rx in (C.ISO_DATE, C.NAMED_DATE, C.DAY_MONTH, C.YEAR, _DAY_UNKNOWN, _FOR_SPAN))


# ... and not the day it was found: "On 31st July 2018 a security researcher identified ..."
_FOUND = _rx(r"identified", r"reported", r"notified", r"found", r"discovered", r"disclosed", r"detected", r"alerted")


def _secret_exposure_finding(sections: list[Section], timeline: set[int]) -> tuple[int, Finding] | None:
    """A token, key or password got out, and the write-up never says since when or for how long it
    was exposed (nor that this is unknown): the reader cannot judge what it could have been used for."""
    leak: tuple[int, str] | None = None
    for i, s in enumerate(sections):
        for sentence in sentences_of(s):
            t = sentence.text
            if not _SECRET.search(t):
                continue
            if _UNKNOWN.search(t) or (_OUT_WHEN.search(t) and _dated(t) and not _FOUND.search(t)):
                return None  # when it got out is stated (or said to be unknown)
            if leak is None and i not in timeline and (i == 0 or C._is_summary(s)) and _LET_OUT.search(t) \
                    and not _READER_YOU.search(t):
                leak = (i, t)
    if leak is None:
        return None
    return _exposure(leak, "The write-up says a secret got out, but never since when it was exposed or for how long "
                           "(nor that this is unknown): the reader cannot judge what it could have been used for, "
                           "or which logs had to be checked.",
                     "State when the secret was first exposed and when it was revoked (or that the start is "
                     "unknown, and why), and what was checked for that window.",
                     "Since when was it exposed, and how do we know it was not used in that time?")


def stated_duration(sections: list[Section], timeline: set[int]) -> tuple[int, int, int] | None:
    """Where a section (not the timeline) first says how long it lasted, as (section position, start,
    end): "lasted 40 minutes", "resolved in 2 hours", "Total downtime: 45 minutes", "from 14:05 to
    15:20 UTC", "(Between 1:46pm - 5:30pm)", "exposed from on or about 2025-02-10 through
    2025-04-01", "Start: June 1, 2024, 08:00 AM" over "End: June 1, 2024, 10:45 AM"; not another
    incident's. None if none does."""
    for i, s in enumerate(sections):
        if s.index in timeline or _PREVIOUS.search(s.title):
            continue  # "Previous occurrences": "37 incidents recorded between 1 March 2020 and 31 March 2021"
        if (span := _SPAN.search(s.text) or _DAY_SPAN.search(s.text) or _START_END.search(s.text)) is not None:
            return i, span.start(), span.end()
        for d in C.extract_durations(s):
            if not _PREVIOUS.search(C.sentence_around(s.text, d.start, d.end, 160)):
                return i, d.start, d.end
        for m in C.DURATION.finditer(s.text):
            if _DURATION_WORDS.search(s.text, max(0, m.start() - 40), m.start()) \
                    or _OUTAGE_AFTER.match(s.text, m.end()) or _UNTIL_STOPPED.match(s.text, m.end()):
                return i, m.start(), m.end()  # "total downtime: 45 minutes", "caused 40min of total outage"
    return None


def _states_duration(sections: list[Section], timeline: set[int]) -> bool:
    return stated_duration(sections, timeline) is not None


def _untimed_resolution(sections: list[Section], entries: list[C.Entry]) -> tuple[int, str] | None:
    """A resolution stated after the last entry of a one-line-per-entry timeline, with no time."""
    last = entries[-1]
    stamp = C._leading_stamp(last.line, None)
    if stamp is None or len(C.WORD.findall(stamp[4])) < 3:
        return None  # the entries are headings with their bodies below: what follows is that body
    text = sections[last.section].text
    k = text.find(last.quote)
    if k < 0:
        return None
    for block in split_blocks(text[k + len(last.quote):]):
        low = block.text.lower()
        if any(w in low for w in C.RECOVERY_WORDS) and not C.CLOCK.search(block.text):
            sentence = next((x for x in split_sentences(block.text)
                             if any(w in x.text.lower() for w in C.RECOVERY_WORDS)), block)
            return last.section, sentence.text
    return None


def _vague_start(sections: list[Section]) -> tuple[int, str] | None:
    for i, s in enumerate(sections):
        for sentence in sentences_of(s):
            if _VAGUE_DELAY.search(sentence.text) and _NOTICED.search(sentence.text):
                return i, sentence.text
    return None


# "there was no loss of production service", "no user-facing impact", "users were not affected":
# nobody was harmed for any length of time, so there is no duration to ask for
_NO_OUTAGE = _rx(r"no\s+loss\s+of\s+(?:production\s+)?service", r"no\s+(?:user|customer)[-\s]facing\s+(?:impact|outage)",
                 r"(?:users|customers|production)\s+(?:were|was)\s+not\s+(?:affected|impacted)",
                 r"no\s+(?:production\s+)?(?:outage|downtime)\b", r"did\s+not\s+affect\s+(?:users|customers|production)")


def _duration_finding(sections: list[Section], entries: list[C.Entry],
                      timeline: set[int]) -> tuple[int, Finding] | None:
    timed = [e for e in entries if e.has_time and e.when is not None]
    if len(timed) < 2 or _states_duration(sections, timeline):
        return None
    if any(_NO_OUTAGE.search(s.text) for s in sections if s.index not in timeline):
        return None
    common = dict(type="important", category="impact: duration not stated", risk="medium",
                  suggestion="State when the incident started, when it was resolved and how long users were "
                             "affected (the timeline has the times to work it out).",
                  questions=["When did it start and end, and how long were users affected?"], confidence=0.75)
    got = _untimed_resolution(sections, timed)
    if got is not None:
        return got[0], Finding(
            description="The timeline says the incident was resolved, but not when: no time is given for the "
                        "end, and no section says how long it lasted.", quote=_clip(got[1]), **common)
    got = _vague_start(sections)
    if got is not None:
        return got[0], Finding(
            description="The problem was noticed only after a vague delay, and the write-up never says when it "
                        "began or how long it lasted: the detection delay and the outage's length cannot be "
                        "measured.", quote=_clip(got[1]), **common)
    whens = [e.when for e in timed]
    if max(whens) - min(whens) < _SHORT_TIMELINE:
        return None  # nothing else is missing, and a timeline of minutes shows how long it took at a glance
    summary = next((s for s in sections if any(w in s.title.lower() for w in C.SUMMARY_WORDS)), sections[0])
    first, last = min(whens), max(whens)
    start, end = span_ends(first, last)
    return summary.index, Finding(
        description=(f"The write-up never says how long the incident lasted: its timeline runs from {start} "
                     f"to {end} ({_human((last - first).total_seconds() / 60)}), but no section states the "
                     "duration or how much was affected."), quote=None, **common)


# the timeline's first entry is the moment someone saw it ...
_FIRST_SEEN = _rx(r"notic\w*", r"alert\w*", r"reported", r"reports", r"reali[sz]ed?", r"discover\w*", r"detected",
                  r"paged", r"sends\s+emails?")
_STARTED = _rx(r"start(?:s|ed|ing)?", r"began", r"begins", r"deploy(?:s|ed)?", r"merged", r"upgraded", r"introduced")
# ... and the write-up says it had been going on before that
_EARLIER = _rx(r"before\s+(?:we|anyone|someone|somebody|the\s+team|it\s+was|they)\s+(?:\w+\s+)?"
               r"(?:notic\w*|reali[sz]\w*|detect\w*|saw|spotted|caught)",
               r"(?:noticed|detected|caught|spotted)\s+(?:it\s+)?(?:much\s+|far\s+)?earlier", r"went\s+unnoticed",
               r"unnoticed\s+for")


def _late_start_finding(sections: list[Section], entries: list[C.Entry],
                        timeline: set[int]) -> tuple[int, Finding] | None:
    """The timeline opens when the problem was noticed ("Stackdriver sends emails about the outage
    which we notice"), while the write-up says it had been going on before ("it could have been noticed
    earlier", "present for nearly an hour before we noticed it"): when it began, and so how long it
    lasted and how long it took to notice, is not on record."""
    timed = [e for e in entries if e.has_time and e.when is not None]
    if len(timed) < 2:
        return None
    first = timed[0]
    body = C._entry_bodies(sections, entries).get(id(first), first.line)[:600]
    seen = _FIRST_SEEN.search(body)
    if seen is None or _STARTED.search(body):
        return None
    said = next((sentence.text for s in sections if s.index not in timeline for sentence in sentences_of(s)
                 if _EARLIER.search(sentence.text)), None)
    if said is None:
        return None
    quote = C.sentence_around(body, seen.start(), seen.end(), 200)
    return first.section, Finding(
        type="important", category="timeline: start missing", risk="medium",
        description=(f"The timeline opens when the problem was noticed, but the write-up says it had begun before "
                     f"(\"{_clip(said)}\"): when it started is not on record, so neither is how long it lasted "
                     "nor how long it took to notice."),
        suggestion="Add the time the problem began (from metrics or logs) as the timeline's first entry.",
        questions=["When did the problem actually begin, and how do we know?"], quote=quote, confidence=0.6)


def document_findings(sections: list[Section], entries: list[C.Entry],
                      timeline: set[int]) -> Iterator[tuple[int, Finding]]:
    """(section index, finding) for each question the write-up leaves open; `sections` are indexed
    by position, `entries` are its resolved timeline entries, `timeline` its timeline sections."""
    # a malware or leak write-up's duration: the exposure window
    exposure = _exposure_finding(sections, timeline) or _secret_exposure_finding(sections, timeline)
    cause = _cause_finding(sections, timeline) or _no_cause_finding(sections, timeline)
    found = [cause, _impact_finding(sections) or _unquantified_finding(sections, timeline), exposure,
             None if exposure else _duration_finding(sections, entries, timeline),
             _late_start_finding(sections, entries, timeline)]
    yield from (got for got in found if got is not None)
