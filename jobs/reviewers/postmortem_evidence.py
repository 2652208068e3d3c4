"""What a post-mortem offers as evidence, read across the whole document (software and security
write-ups, with `postmortem.py`):

- `all-clear without scope` (evidence): "No indicators of malicious activity were found", "they
  do not appear to have used them": an all-clear drawn from finding nothing, outside the timeline,
  with neither the records checked nor the period they cover named in that sentence or the one
  before.
- `unsupported claim` (evidence, at most two): sweeping claims a reader must take on trust: how
  rare something is, that a measure "is enough to" prevent it, "our only course of action",
  "gold-standard" practice; not when the sentence gives a figure.

Linear in the text: the sentences `offline_text.sentences_of` splits once per pass, bounded regexes.
Confidences are the precision measured on the tuning half of bench/quality/corpus.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.offline_text import _rx, sentences_of
from redline.jobs.reviewers.postmortem import _READER_YOU, around

# An all-clear drawn from the absence of evidence: "No indicators of malicious activity were found",
# "they do not appear to have used them". Sound only if the write-up says what was checked and over
# which period (logs rarely go back as far as the exposure did).
_HARM_WORDS = (r"(?:malicious\w*|misuse\w*|abuse\w*|compromis\w*|unauthori[sz]ed|exploit\w*|exfiltrat\w*"
               r"|tamper\w*|suspicious|used|accessed|leaked)")
_ALL_CLEAR = _rx(
    rf"no\s+(?:indicators?|evidence|signs?|indications?|traces?)\s+of\s+(?:any\s+)?{_HARM_WORDS}",
    rf"(?:there\s+(?:is|was)|we\s+(?:have|had|found|saw|see))\s+no\s+(?:indication|evidence|sign)s?\s+"
    rf"(?:that|of)\s+(?:[\w'\u2019-]+\s+){{0,6}}?{_HARM_WORDS}",
    rf"(?:do|does|did)\s+not\s+(?:appear|seem)\s+to\s+have\s+(?:been\s+)?{_HARM_WORDS}",
)
# ... unless the sentence (or the one before) names both the source checked and the period it covers
_CHECKED_SOURCE = _rx(r"logs?", r"audit\w*", r"records?", r"telemetry", r"history", r"events?")
_CHECKED_PERIOD = re.compile(r"\b(?:since|between|retention|retained|(?:last|past|previous)\s+\d+\s+\w+)\b|\d{4}", re.I)

# Sweeping claims a reader has to take on trust: how often something happens, that a measure is
# enough, that there was no other way, praise of one's own practice. Each asks "how do you know?".
_SWEEPING = _rx(
    r"(?:relatively|very|extremely|fairly|quite|exceedingly|incredibly)\s+(?:rare|uncommon|unusual|common|frequent)"
    r"\s+(?:occurrence|event|case|situation|attack|incident|failure|scenario)s?",
    r"(?:a\s+)?(?:rare|uncommon|unusual)\s+occurrence",
    r"(?:is|are|was|were)\s+(?:relatively|very|extremely|exceedingly|incredibly)\s+rare",
    r"(?:is|are|was|were)\s+(?:enough|sufficient)\s+to\s+(?:avoid|prevent|stop|protect|ensure|eliminate|defeat"
    r"|block|guarantee)",
    r"(?:our|the)\s+only\s+(?:possible\s+)?(?:course\s+of\s+action|option|choice|alternative|recourse)",
    r"gold[\s-]standard", r"best[\s-]in[\s-]class", r"world[\s-]class", r"industry[\s-]leading",
    r"second\s+to\s+none",
    r"(?:can|will|could)\s+never\s+(?:happen|occur)\s+again",
)
_MAX_CLAIMS = 2  # per document: enough to make the point


def _all_clear_finding(sections: list[Section], timeline: set[int]) -> tuple[int, Finding] | None:
    for i, s in enumerate(sections):
        if i in timeline:
            continue
        sentences = sentences_of(s)
        for k, sentence in enumerate(sentences):
            m = _ALL_CLEAR.search(sentence.text)
            if m is None or _READER_YOU.search(sentence.text):
                continue
            context = sentence.text + " " + (sentences[k - 1].text if k else "")
            if _CHECKED_SOURCE.search(context) and _CHECKED_PERIOD.search(context):
                continue
            # quote the clause that clears: from the last ", " or "; " before it
            cut = max(sentence.text.rfind(", ", 0, m.start()), sentence.text.rfind("; ", 0, m.start()))
            clause = sentence.text[cut + 2:] if cut >= 0 else sentence.text
            return i, Finding(
                type="important", category="evidence: all-clear without scope", risk="medium",
                description=(f"This all-clear (\"{m.group(0)}\") rests on finding nothing, and the write-up does "
                             "not say what was checked or over which period: which logs, and whether they reach "
                             "back to when the exposure began. The reader cannot tell how strong it is."),
                suggestion="Say what was examined (which logs or records, by whom) and the period they cover; if "
                           "they do not cover the whole exposure, say that misuse before then cannot be ruled out.",
                questions=["What exactly was checked, and how far back do those records go?"],
                quote=around(clause, m.start() - (len(sentence.text) - len(clause)),
                             m.end() - (len(sentence.text) - len(clause))), confidence=0.6)
    return None


def _claim_findings(sections: list[Section], timeline: set[int]) -> list[tuple[int, Finding]]:
    out: list[tuple[int, Finding]] = []
    for i, s in enumerate(sections):
        if i in timeline:
            continue
        for sentence in sentences_of(s):
            m = _SWEEPING.search(sentence.text)
            if m is None or any(c.isdigit() for c in sentence.text) or sentence.text.rstrip().endswith("?"):
                continue
            out.append((i, Finding(
                type="suggestion", category="evidence: unsupported claim", risk="low",
                description=(f"A sweeping claim (\"{m.group(0)}\") with nothing behind it: no figure, source or "
                             "comparison in the write-up. The reader has to take it on trust."),
                suggestion="Back it with what it rests on (how often, compared with what, from which source), "
                           "or narrow it to what is known.",
                questions=["What shows this, and compared with what?"],
                quote=around(sentence.text, m.start(), m.end()), confidence=0.6)))
            if len(out) >= _MAX_CLAIMS:
                return out
    return out


def document_findings(sections: list[Section], timeline: set[int]) -> Iterator[tuple[int, Finding]]:
    """(section index, finding): an all-clear without scope, and at most two sweeping claims,
    outside the timeline sections (whose entries narrate what was thought at the time)."""
    found = [_all_clear_finding(sections, timeline), *_claim_findings(sections, timeline)]
    yield from (got for got in found if got is not None)
