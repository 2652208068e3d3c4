"""The summary against the rest of the document: counts, clock times and versions that disagree.

- `_count_findings`: the summary says "3 user accounts", a later section "5 user accounts"
  (two-word noun phrases only, and only when the rest of the document agrees with itself);
- `_time_findings`: the summary puts the start or the recovery at a clock time the timeline
  does not have;
- `_version_findings`: the summary names `pkg 1.2`, the rest of the document only `pkg 1.3`.
"""

from __future__ import annotations

import re

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_durations import NUMBER_WORDS
from redline.jobs.reviewers.consistency_text import CLOCK, _is_summary, code_mask, sentence_around
from redline.jobs.reviewers.consistency_timeline import RECOVERY_WORDS, Entry, _is_timeline_title


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
