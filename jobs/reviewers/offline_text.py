"""Text primitives shared by the offline reviewer's rule families (`offline_*.py`).

How a section is cut into blocks (paragraphs, list items, table rows, dated lines) and sentences,
the role of a section from its title, the date, time and evidence vocabularies several rule
families use, the `_Section` under review and `_make`, which builds a finding and checks its
checklist ids. Every regex here is linear in the text: no nested quantifiers, bounded lookbehinds
(see the comments at `_BOUNDARY` and `_is_abbreviation` for the two that once were not).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal

from redline.jobs.documents.headings import next_action_line
from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.checklist import CHECKLIST_BY_ID

Role = Literal[
    "summary",
    "background",
    "timeline",
    "investigation",
    "findings",
    "root_cause",
    "impact",
    "actions",
    "other",
]

LONG_SENTENCE_WORDS = 40
LONG_SUMMARY_WORDS = 250
MAX_QUOTE_CHARS = 600


def _rx(*alternatives: str, flags: int = re.IGNORECASE) -> re.Pattern[str]:
    """One word-bounded regex matching any of the alternatives (tried in order)."""
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")\b", flags)


# a retrospective's good news ("Where we got lucky", "What went well"): what it says is spared or
# done right, not a failure, a late detection or a person to blame
GOOD_NEWS_TITLE = _rx(r"lucky", r"luck", r"fortunate\w*", r"went\s+(?:well|right)", r"what\s+worked")


# --------------------------------------------------------------------------- terms

_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when
    where which while who whom why will with would you your yours yourself yourselves tell say
    says said please give show explain describe know happen happened write-up writeup report
    section document anything something thing things get got""".split()
)
_SUFFIXES = tuple(
    sorted(
        "ational ations ation ating ated ates ate ements ement ments ment ness ings ing ies ied "
        "ers er edly ed es ly s".split(),
        key=len,
        reverse=True,
    )
)
_TOKEN = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    """A small suffix-stripping stemmer: caused/causes/cause -> caus, valves -> valv, injury/injured -> injur."""
    for suffix in _SUFFIXES:
        if not word.endswith(suffix) or len(word) - len(suffix) < 3:
            continue
        if suffix == "s" and word.endswith(("ss", "us", "is")):
            continue
        word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
        break
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    elif word.endswith("y") and len(word) > 4:
        word = word[:-1]  # injury/injuries/injured -> injur, delay/delayed -> dela
    return word


def _terms(text: str) -> list[str]:
    """Lowercased, stopword-free, stemmed terms in order (with repeats)."""
    tokens = _TOKEN.findall(text.lower().replace("’", "'"))
    return [_stem(t) for t in tokens if t not in _STOPWORDS and len(t) > 1]


# --------------------------------------------------------------------------- roles

# Checked in order: the first role whose pattern matches the title wins
# ("Root cause analysis" is a root cause, "Investigation findings" are findings).
_ROLE_PATTERNS: tuple[tuple[Role, re.Pattern[str]], ...] = (
    ("root_cause", re.compile(r"root[\s-]*causes?|causal|5[\s-]*whys?|five whys|\brca\b|\bcauses?\b|why analysis", re.I)),
    ("timeline", re.compile(r"time[\s-]*line|chronolog|sequence of events|\bevents\b|what happened", re.I)),
    # "\baction": "Distraction" is not an actions section
    # ... and a blog's "What is being done about this?", "What we're doing about it", "Future measures"
    # "What could have been done", "To prevent the spill", "To reduce the severity of the spill": what
    # might have gone otherwise, an analysis, not a plan (nor an impact, for its "severity")
    ("findings", re.compile(r"could\s+(?:have\s+been|be)\s+done|^\W*to\s+(?:prevent|reduce|avoid|limit|stop|mitigate)\b",
                            re.I)),
    ("actions", re.compile(r"\baction|recommend|remedia|corrective|preventi|\bcapa\b|next steps|follow[\s-]*up|mitigation"
                           r"|improvement|(?:done|doing)\s+about\s+(?:it|this)\b|future\s+(?:measures|work|steps)"
                           r"|(?:going|moving)\s+forward|what\s+we(?:'re|\u2019re|\s+are|'ll|\s+will)?\s+(?:be\s+)?chang"
                           r"|changes\s+we(?:'re|\u2019re|\s+are)?\s+making", re.I)),
    ("impact", re.compile(r"impact|consequence|damage|\bloss|severity|\bharm", re.I)),
    # not a "Data summary" (a formal report's table of particulars) or a "Summary of Procedures" (a quoted document)
    ("summary", re.compile(r"(?<!data )summary(?!\s+of\b)|overview|abstract|synopsis|tl;?dr|executive", re.I)),
    ("findings", re.compile(r"finding|analysis|observation|conclusion|discussion|results?\b|assessment|factors", re.I)),
    # "investigat" but not an agency's name ("About the Transport Accident Investigation Commission")
    ("investigation", re.compile(r"investigat(?!\w*\s+(?:commission|branch|board|bureau|authority|agency|office)\b)"
                                 r"|method|approach|scope|process|evidence|interview", re.I)),
    ("background", re.compile(r"background|context|introduction|description|details|incident\b|about", re.I)),
)


_ANALYSIS_TITLE = re.compile(r"\banalysis\b", re.I)
_FINDINGS_TITLE = re.compile(r"\bfindings\b|\bconclusions?\b", re.I)


@lru_cache(maxsize=16)
def formal_report(outline: tuple[str, ...]) -> bool:
    """An investigation report in the form safety boards use (NTSB, MAIB, TAIC, ATSB): an
    Analysis chapter that weighs the evidence, then Findings that state its conclusions. Its
    findings rest on the analysis, and its consequences sit in its factual information. Asked
    by several rules of every section: read once per outline."""
    return any(_ANALYSIS_TITLE.search(t) for t in outline) and any(_FINDINGS_TITLE.search(t) for t in outline)


def detect_role(title: str) -> Role:
    """The section's role in a write-up, from its title; "other" if unknown."""
    for role, pattern in _ROLE_PATTERNS:
        if pattern.search(title or ""):
            return role
    return "other"


# --------------------------------------------------------------------------- text spans


@dataclass(frozen=True)
class Span:
    """A trimmed piece of the section text; ``text`` is always ``source[start:end]``."""

    start: int
    end: int
    text: str
    is_item: bool = False  # a list item, table row or line starting with a date/time


def _span(source: str, start: int, end: int, is_item: bool = False) -> Span | None:
    piece = source[start:end]
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    start, end = start + lead, end - trail
    if start >= end:
        return None
    return Span(start, end, source[start:end], is_item)


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_DATE_ALTERNATIVES = (
    r"\d{4}-\d{1,2}-\d{1,2}",  # 2024-03-05
    r"\d{1,2}[/.]\d{1,2}[/.]\d{2,4}",  # 03/05/2024, 05.03.24
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}\.?(?:,?\s+\d{{4}})?",  # 5 March (2024)
    rf"{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?",  # March 5(, 2024)
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day",
    r"day\s+\d{1,3}",  # Day 1
    r"week\s+\d{1,2}",
)
_TIME_ALTERNATIVES = (
    r"(?:[01]?\d|2[0-3])[:h][0-5]\d(?::[0-5]\d)?",  # 14:32, 14h32, 14:32:05
    r"(?:1[0-2]|0?[1-9])(?::[0-5]\d)?\s?(?:am|pm|a\.m|p\.m)",  # 2pm, 2:30 p.m.
    r"(?:[01]\d|2[0-3])[0-5]\d\s?(?:hrs|hours)",  # 1432hrs
    r"t\s?[+-]\s?\d+\s?(?:s|sec|min|mins|minutes|h|hrs|hours)?",  # T+5 min
)
_DATE = _rx(*_DATE_ALTERNATIVES)
_TIME = _rx(*_TIME_ALTERNATIVES)
_MOMENT = _rx(*_DATE_ALTERNATIVES, *_TIME_ALTERNATIVES)
_STARTS_WITH_MOMENT = re.compile(r"^\s*(?:" + _MOMENT.pattern + ")", re.I)
_TIMEZONE = re.compile(
    r"\b(?:UTC|GMT|CET|CEST|BST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|IST|JST|AEST|AEDT)\b"
    r"|(?i:local time|time\s?zone)|[+-]\d{2}:?\d{2}\b|\d{2}:\d{2}(?::\d{2})?Z\b"
)

_ITEM_MARKER = re.compile(r"^\s*(?:[-*•–—·▪]\s+|\(?\d{1,3}[.)]\s+|\(?[a-z][.)]\s+)")
# a table's row: "| a | b |" as written in a text file, or "a | b" as a Markdown, Word or PDF upload's
# table reads
_TABLE_ROW = re.compile(r"^\s*\||^[^\n|]*\S \|(?: |$)")
_ABBREVIATIONS = frozenset(
    "e.g i.e etc mr mrs ms dr no nr approx vs fig figs ref refs st inc ltd co cf al sec "
    "para art p pp jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
# The lookbehind makes the regex linear: a run of n dots is tried from its first dot only
# (without it, every dot of the run restarts `[.!?]+`, O(n²) on "......").
_BOUNDARY = re.compile(r"(?<![.!?])([.!?]+[\"'”’)\]]*)\s+(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD = re.compile(r"[A-Za-z0-9]+(?:['’\-][A-Za-z0-9]+)*")


def _lines(source: str) -> Iterator[tuple[int, str]]:
    offset = 0
    for line in source.split("\n"):
        yield offset, line
        offset += len(line) + 1


def _continues(previous: str, line: str, in_item: bool) -> bool:
    """Is ``line`` a hard-wrapped continuation of the block ending with ``previous``?"""
    if in_item and line[:1].isspace():
        return True  # indented continuation of a list item
    tail = previous.rstrip()
    return len(tail) >= 50 and not tail.endswith((".", "!", "?", ":", ";", "|"))


def split_blocks(source: str, *, wrapped: bool = False) -> list[Span]:
    """Paragraphs and list items (bullets, numbered lines, table rows, dated lines).

    A line that starts no item continues the block before it when it looks hard-wrapped (a long
    line before it, with no full stop); with ``wrapped=True`` it always does, as in Markdown
    written one clause per line ("semantic line breaks"), where short lines end mid-sentence."""
    blocks: list[Span] = []
    start: int | None = None
    end = 0
    is_item = False
    previous = ""

    def flush() -> None:
        if start is not None:
            block = _span(source, start, end, is_item)
            if block:
                blocks.append(block)

    for offset, line in _lines(source):
        if not line.strip():
            flush()
            start, previous = None, ""
            continue
        marker = _ITEM_MARKER.match(line)
        starts_item = bool(marker or _TABLE_ROW.match(line) or _STARTS_WITH_MOMENT.match(line))
        if start is not None and not starts_item and not next_action_line(previous, line) and (
                wrapped or _continues(previous, line, is_item)):
            end = offset + len(line)
        else:
            flush()
            start = offset + (marker.end() if marker else 0)
            end = offset + len(line)
            is_item = starts_item
        previous = line
    flush()
    return blocks


_ABBREVIATION_SCAN = 40  # longer than any abbreviation with its opening brackets and quotes


def _is_abbreviation(text: str, dot: int) -> bool:
    """Is ``text[dot]`` a '.' ending an abbreviation or an initial ("e.g.", "Dr.", "J.")?

    Looks back at most _ABBREVIATION_SCAN characters, so a sentence split costs O(1) per full
    stop (slicing the text up to every stop and searching it was O(n²) on one long paragraph)."""
    if text[dot] != ".":
        return False
    begin = max(0, dot - _ABBREVIATION_SCAN)
    cut = begin
    for index in range(dot - 1, begin - 1, -1):
        if text[index].isspace():
            cut = index + 1
            break
    else:
        if begin > 0:
            return False  # a "word" longer than the scan: no abbreviation
    word = text[cut:dot].lower().lstrip("(\"'“‘")
    return bool(word) and (word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()))


def split_sentences(source: str, blocks: Iterable[Span] | None = None) -> list[Span]:
    """Sentences of the text, never crossing a block boundary."""
    sentences: list[Span] = []
    for block in split_blocks(source) if blocks is None else blocks:
        start = block.start
        for match in _BOUNDARY.finditer(block.text):
            if _is_abbreviation(block.text, match.start()):
                continue
            sentence = _span(source, start, block.start + match.end(1), block.is_item)
            if sentence:
                sentences.append(sentence)
            start = block.start + match.end()
        tail = _span(source, start, block.end, block.is_item)
        if tail:
            sentences.append(tail)
    return sentences


_SENTENCES: dict[int, tuple[str, list[Span]]] = {}  # by id(section), for one document pass


def sentences_of(s: Section) -> list[Span]:
    """The section's sentences (hard-wrapped lines joined), split once per document pass: the
    document-level rules (postmortem*.py, followups.py) share them; `consistency.document_findings`
    empties the cache when its pass ends."""
    hit = _SENTENCES.get(id(s))
    if hit is not None and hit[0] is s.text:
        return hit[1]
    out = split_sentences(s.text, split_blocks(s.text, wrapped=True))
    _SENTENCES[id(s)] = (s.text, out)
    return out


def clear_sentences() -> None:
    _SENTENCES.clear()


def word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _clip(text: str) -> str:
    """A prefix of ``text`` short enough to quote (still an exact substring)."""
    if len(text) <= MAX_QUOTE_CHARS:
        return text
    cut = text.rfind(" ", 0, MAX_QUOTE_CHARS)
    return text[: cut if cut > 0 else MAX_QUOTE_CHARS].rstrip()


def _phrases(hits: list[str], limit: int = 4) -> str:
    """'"a", "b" and 2 more' from the distinct phrases in order."""
    distinct = list(dict.fromkeys(" ".join(hit.lower().split()) for hit in hits))  # O(n), in order
    shown = ", ".join(f'"{p}"' for p in distinct[:limit])
    more = len(distinct) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _times(n: int, noun: str = "place") -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# --------------------------------------------------------------------------- shared vocabularies

_EVIDENCE = re.compile(
    r"\b(?:logs?|logged|log\s+entr(?:y|ies)|records?|recorded|recordings?|interviews?|interviewed"
    r"|statements?|photos?|photographs?|pictures?|images?|exhibits?|cctv|footage|videos?"
    r"|e-?mails?|tickets?|screenshots?|audit\s+trails?|documents?|documented|samples?"
    r"|measurements?|measured|readings?|witness(?:es)?|evidence|attachments?|appendix|annex"
    r"|(?<!\d\s)minutes|timestamps?|dashboards?|sensor\s+data|traces?|invoices?|receipts?|transcripts?"
    r"|(?:maintenance|inspection|incident|lab|laboratory|test|audit|service|calibration)\s+reports?"
    r"|inspection|inspected|test\s+results?|according\s+to|as\s+shown|shown\s+in|confirmed\s+by"
    r"|verified|observed|see\s+(?:section|appendix|annex|exhibit|figure|fig|table|attachment))\b"
    r"|\b(?:E|Ex|Exh|Doc|App)\.?\s?-?\d+\b|\[\d+\]|\(ref",
    re.I,
)
_CLAIM = _rx(
    r"(?:was|were|is|are)\s+caused\s+by",
    r"caused",
    r"because",
    r"due\s+to",
    r"as\s+a\s+result\s+of",
    r"resulted\s+(?:in|from)",
    r"led\s+to",
    r"clearly",
    r"obviously",
    r"therefore",
    r"consequently",
    r"the\s+reason",
    r"responsible\s+for",
    r"contributed\s+to",
    r"failed\s+to",
    r"it\s+is\s+(?:clear|evident|obvious)",
)


# --------------------------------------------------------------------------- the section under review


@dataclass(frozen=True)
class _Section:
    title: str
    text: str
    role: Role
    index: int
    total: int
    outline: tuple[str, ...]
    guidelines: str | None
    blocks: tuple[Span, ...]
    sentences: tuple[Span, ...]
    # per-sentence answers already computed (one long sentence can hold thousands of matches)
    memo: dict[tuple[str, int], bool] = field(default_factory=dict, compare=False, repr=False)
    kind: str = "general"  # what the write-up is (offline.document_kind): some rules differ by kind

    @property
    def has_evidence(self) -> bool:
        return bool(_EVIDENCE.search(self.text))

    def outline_mentions(self, pattern: re.Pattern[str]) -> bool:
        return any(pattern.search(title) for title in self.outline if title != self.title)


def _make(
    type_: Literal["critical", "important", "suggestion"],
    risk: Literal["high", "medium", "low"],
    category: str,
    description: str,
    suggestion: str,
    *,
    quote: str | None = None,
    questions: Iterable[str] = (),
    refs: tuple[str, ...] = (),
    confidence: float = 0.7,
) -> Finding:
    unknown = [ref for ref in refs if ref not in CHECKLIST_BY_ID]
    if unknown:
        raise ValueError(f"unknown checklist ids: {unknown}")
    return Finding(
        type=type_,
        risk=risk,
        category=category,
        description=description,
        suggestion=suggestion,
        quote=quote,
        questions=list(questions)[:3],
        refs=list(refs),
        confidence=confidence,
    )


def _first(spans: Iterable[Span], pattern: re.Pattern[str]) -> Span | None:
    return next((s for s in spans if pattern.search(s.text)), None)


Check = Callable[[_Section], Iterator[Finding]]
