"""The offline chat: what the write-up's own facts answer first (offline_chat_facts.py: a
timeline's span, the actions with no owner, the cause as given...), then passages of the
write-up, ranked by IDF-weighted term overlap with the question and quoted (no model, no network).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from redline.jobs.models import Section
from redline.jobs.reviewers.offline_chat_facts import _ASKS_DURATION, NAMES_CAUSE, facts_for
from redline.jobs.reviewers.offline_text import Span, _terms, split_blocks, split_sentences, word_count


_ANSWER_QUOTE_CHARS = 400
_PASSAGE_WORDS = 60
_CHUNK_CHARS = 40

@dataclass(frozen=True)
class _Passage:
    section: int
    order: int
    title: str
    text: str
    terms: Counter[str]


_LABEL_WORDS = 4


def _is_label(block: Span) -> bool:
    """A line that only labels what follows: a timeline's "2018-03-31 15:47", a folded "Investigation"."""
    words = block.text.split()
    return 0 < len(words) <= _LABEL_WORDS and "\n" not in block.text.strip() and not block.text.rstrip().endswith(
        (".", "!", "?", ";", ","))


_LEAD_IN_WORDS = 25
_LIST_ITEM = re.compile(r"\s*(?:[-*+\u2022]|\d{1,3}[.)])\s+")
_LEAD_IN_ITEMS = 6


def _leads_in(block: Span) -> bool:
    """A sentence that introduces a list: "This was caused by two factors:" (not a stamped entry,
    "16:11 - Mount errors on build pods:", nor an item)."""
    said = block.text.strip()
    return said.endswith(":") and said[:1].isalpha() and len(said.split()) <= _LEAD_IN_WORDS


def _is_item(text: str, block: Span) -> bool:
    """A list item (split_blocks gives its text after the marker: the marker is before it on its line)."""
    line_start = text.rfind("\n", 0, block.start) + 1
    return _LIST_ITEM.fullmatch(text[line_start:block.start] + " ") is not None or _LIST_ITEM.match(block.text) is not None


def _blocks(text: str) -> list[Span]:
    """The section's blocks, labels joined to the block after them and lead-ins to the list items
    after them (quoted alone, "16:11" or "This was caused by two factors:" says nothing):
    "2018-03-31 15:47", "Problem is identified", "- Launch success rate drops quickly"."""
    out: list[Span] = []
    pending: Span | None = None
    listing: Span | None = None  # a lead-in and the items joined to it so far
    items = 0
    for block in split_blocks(text):
        if listing is not None:
            if _is_item(text, block) and items < _LEAD_IN_ITEMS:
                listing, items = Span(listing.start, block.end, text[listing.start:block.end]), items + 1
                continue
            out.append(listing)
            listing = None
        if pending is None and _leads_in(block):
            listing, items = block, 0
            continue
        label = _is_label(block)
        if pending is not None:
            block = Span(pending.start, block.end, text[pending.start:block.end])
            pending = None
        if label and len(block.text.split()) <= 3 * _LABEL_WORDS:
            pending = block
            continue
        out.append(block)
    out += [x for x in (listing, pending) if x is not None]
    return out


def _passage_spans(text: str) -> list[Span]:
    """Paragraphs; long ones cut into windows of whole sentences of about _PASSAGE_WORDS words."""
    spans: list[Span] = []
    for block in _blocks(text):
        if word_count(block.text) <= _PASSAGE_WORDS:
            spans.append(block)
            continue
        window: list[Span] = []
        words = 0
        for sentence in split_sentences(text, [block]):
            window.append(sentence)
            words += word_count(sentence.text)
            if words >= _PASSAGE_WORDS * 2 // 3:
                spans.append(Span(window[0].start, window[-1].end, text[window[0].start : window[-1].end]))
                window, words = [], 0
        if window:
            spans.append(Span(window[0].start, window[-1].end, text[window[0].start : window[-1].end]))
    return spans


def _passages(sections: list[tuple[str, str]]) -> list[_Passage]:
    passages = []
    for number, (title, text) in enumerate(sections):
        name = title.strip() or f"Section {number + 1}"
        for order, span in enumerate(_passage_spans(text)):
            passages.append(_Passage(number, order, name, span.text, Counter(_terms(span.text))))
    return passages


# What kind of answer a question asks for, and what a passage that gives it holds. "How long did
# the outage last?" wants a span of time ("Between 1:46pm - 5:30pm", "for 40 minutes"), not the
# "Last modified" line, and best one that says it outright ("lasted nine hours"); "When was it
# noticed?" wants a date or a clock time. The question's own words for it ("long", "last", "when")
# are not terms to match. A passage of the kind asked for with none of the question's other words
# still counts (half): "This effect lasted nine hours" answers "How long did the outage last?".
_TIME_CLOCK = r"\d{1,2}:\d{2}(?:\s?[ap]\.?m\b\.?)?"
_NUMBER_WORDS = "one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|forty-five"
# a day or a clock time: what a passage that says when holds
_WHEN_CUE = re.compile(rf"\b\d{{4}}-\d{{2}}-\d{{2}}\b|\b{_TIME_CLOCK}|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
                       rf"[a-z]*\.?\s+\d{{1,2}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct"
                       rf"|nov|dec)[a-z]*\b", re.I)
_ASKS_WHY = re.compile(r"\bcaused?\b|\bwhy\b|\breason\b", re.I)
# Each: what asks it, what a passage that gives it holds, the question's own words for it, what says it
# outright, and the heading of a section given to it (its passages give it, in whatever words).
_ASKS: tuple[tuple[re.Pattern[str], re.Pattern[str], frozenset[str], re.Pattern[str] | None,
                   re.Pattern[str] | None], ...] = (
    (_ASKS_DURATION,
     re.compile(rf"\b(?:\d+(?:\.\d+)?|{_NUMBER_WORDS})[\s-]*(?:min(?:ute)?s?|h(?:ou)?rs?|days?|seconds?|weeks?)\b"
                rf"|\b(?:between|from)\s+{_TIME_CLOCK}|{_TIME_CLOCK}\s*(?:-|–|—|to|until)\s*{_TIME_CLOCK}"
                rf"|\b(?:lasted|for\s+(?:about|around|over|nearly|almost)?\s*(?:an?|one|two|three|four|five|six|"
                rf"several|a\s+few)\s+(?:minutes?|hours?|days?))\b", re.I),
     frozenset({"long", "last", "lasted", "much", "time", "take", "took", "duration"}),
     # said outright: "lasted approximately nine hours", "a duration of", "total downtime"
     re.compile(r"\blast(?:ed|ing)\b|\bduration\b|\bdowntime\b|\b(?:outage|incident|disruption)\s+of\b", re.I), None),
    (re.compile(r"^\W*when\b|\bwhat\s+(?:time|date|day)\b|\bat\s+what\s+time\b", re.I),
     _WHEN_CUE,
     frozenset({"time", "date", "day"}), None,
     re.compile(r"what\s+happened|narrative", re.I)),  # a timeline's entries give their own times
    # "How many users were affected?" wants a count: "about 300 users", "12% of launches"
    (re.compile(r"\bhow\s+many\b|\bnumber\s+of\b", re.I),
     re.compile(r"(?<![\d:])\d[\d,.]*(?:\s*%|\s*percent\b|\s(?:\w+\s+){0,2}?[a-z]+s\b)", re.I),
     frozenset({"many", "number"}), None, None),
    # "How was it detected?" wants who or what noticed it: an alert, a report, a dashboard
    (re.compile(r"\b(?:detect\w*|notic\w*|discover\w*|spotted|found\s+out)\b", re.I),
     re.compile(r"\b(?:notic\w*|detect\w*|alert\w*|report\w*|paged|monitor\w*|dashboards?|discover\w*|spotted)\b",
                re.I),
     frozenset(), None, re.compile(r"\bdetect|\bnotic", re.I)),
    # "What was the root cause?", "Why did it fail?" wants a reason: "because", "due to", "caused by"
    (_ASKS_WHY,
     re.compile(r"\bbecause\b|\bdue\s+to\b|\bcaus(?:ed|es|ing)\b|\broot\s+cause\b|\bsince\b|\bas\s+a\s+result\b|"
                r"\b(?:problem|cause|reason)\s*:|\bresult(?:ed|s)?\s+(?:in|from)\b|\bled\s+to\b|\btriggered\b|"
                # a break-in's cause is the way in: "got compromised via a Jenkins vulnerability"
                r"\b(?:compromised|breached|exploited|gained\s+(?:\w+\s+){0,2}access)\b[^.\n]{0,40}?\b(?:via|through|by\s+"
                r"exploiting)\b", re.I),
     frozenset({"root", "cause", "caused", "why", "reason"}),
     re.compile(r"\broot\s+cause\b|\bcaused\s+by\b|\b(?:problem|cause)\s*:", re.I),
     NAMES_CAUSE),
)


def _rank(question: str, passages: list[_Passage], section_title: str | None) -> list[tuple[float, _Passage, bool]]:
    """Passages by score, best first, each with whether it holds the kind of answer asked for
    (always, when the question asks for no particular kind)."""
    asks = [(cue, words, said, titled) for ask, cue, words, said, titled in _ASKS if ask.search(question)]
    # the question's own words for the kind asked for, as its terms are read (stemmed: "cause" is "caus")
    skip = frozenset(t for _, words, _, _ in asks for w in words for t in [w, *_terms(w)])
    query = [t for t in dict.fromkeys(_terms(question)) if t not in skip]
    if not (query or asks) or not passages:
        return []
    n = len(passages)
    df = Counter(term for p in passages for term in p.terms)

    def idf(term: str) -> float:
        return math.log((n + 1) / (df[term] + 0.5))

    # A passage that holds the kind of answer asked for gains as much as the question's rarest term
    # gives; one that does not counts half.
    bonus = max([idf(t) for t in query] + [math.log(n + 1)])
    title_terms = {p.title: set(_terms(p.title)) for p in passages}
    scored = []
    for p in passages:
        score = sum(idf(t) * (1 + math.log(p.terms[t])) for t in query if p.terms[t])
        # per kind asked for: (the passage holds it, says it outright, is under a heading given to it)
        # (a passage under "What happened" that gives no day or time does not say when: "under" needs "holds" there)
        hits = [(holds := cue.search(p.text) is not None, said is not None and said.search(p.text) is not None,
                 titled is not None and titled.search(p.title) is not None and (holds or cue is not _WHEN_CUE))
                for cue, _, said, titled in asks]
        # said outright, or in a section given to it: worth half again
        cued = sum(bonus * (1.5 if outright or under else 1) for holds, outright, under in hits if holds or under)
        if asks and not (score or cued):
            continue  # none of the question's words, and not the kind of answer asked for
        shared = score
        score += cued + sum(0.5 * max(idf(t), 0.5) for t in query if t in title_terms[p.title])
        if asks and not cued:
            score /= 2  # it shares the question's words, but not the kind of answer asked for
        elif asks and not shared and not any(under for *_, under in hits):
            score /= 2  # the kind of answer asked for, but none of the question's words (nor under its heading)

        if score > 0:
            scored.append((round(score, 9), p, bool(cued) or not asks))
    preferred = (section_title or "").strip()
    scored.sort(key=lambda sp: (-sp[0], sp[1].title != preferred, sp[1].section, sp[1].order))
    if scored:
        best = scored[0][0]
        scored = [(s, p, c) for s, p, c in scored if s >= 0.3 * best]
    return scored


def reads_code(question: str) -> bool:
    """Whether a log or a command (a code block) may answer the question: not one that asks for a
    cause, however many of the question's words it repeats ("Failed", "failed", "FailedMount"), nor
    one that asks how long ("failed to start in 300 seconds" is a timeout, not the outage's length)."""
    return not (_ASKS_WHY.search(question) or _ASKS_DURATION.search(question))


def _quote_for_answer(text: str) -> str:
    flat = " ".join(text.split())
    if len(flat) <= _ANSWER_QUOTE_CHARS:
        return flat
    cut = flat.rfind(" ", 0, _ANSWER_QUOTE_CHARS)
    return flat[: cut if cut > 0 else _ANSWER_QUOTE_CHARS].rstrip(",;:") + "…"


def _join_titles(titles: list[str]) -> str:
    quoted = [f'"{t}"' for t in titles]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


_QUOTED = re.compile(r'"([^"\n]{24,}?)"')  # a fact's quote of the write-up (long enough to be a passage's words)


def compose_answer(
    question: str,
    sections: list[tuple[str, str]],
    *,
    section_title: str | None = None,
    max_passages: int = 3,
    levels: list[int] | None = None,
    date: str | None = None,
) -> str:
    """The whole plain-text answer that ``answer_question`` streams: what the write-up's facts
    answer (offline_chat_facts: a timeline's span, no count, the actions with no owner), then the
    passages that answer it, quoted. Beside a fact, only passages of the kind asked for are quoted
    ("Allow users to pin distros" shares a word with "How many users?", but no count). `levels`:
    each section's heading level (sub-sections of a timeline or of the actions are read with it)."""
    if not any(text.strip() for _, text in sections):
        return "The write-up has no text yet, so there is nothing to answer from."
    facts, focus = facts_for(question, [Section(id=f"s{i + 1}", title=title, index=i, text=text,
                                         level=levels[i] if levels and i < len(levels) else 1)
                                 for i, (title, text) in enumerate(sections)], date)
    passages = _passages(sections)
    # what the facts quote ("The write-up says in ...: \"On Monday, Oct 15, ...\""): a passage that is
    # mostly that quote is said already (one that adds as much again is still quoted)
    told = [q.rstrip("\u2026") for fact in facts for q in _QUOTED.findall(fact)]  # a quote cut short ends in "…"
    ranked, seen = [], set()
    for score, p, cued in _rank(question, passages, section_title):  # a passage the write-up repeats is quoted once
        if facts and not cued or focus is not None and p.section not in focus:
            continue
        said = " ".join(p.text.split())
        if len(said.split()) < 2:
            continue  # a date or a word alone ("2018-10-19" under the title) answers nothing
        if said not in seen and not any(said in fact for fact in facts) \
                and not any(q in said and 2 * len(q) >= len(said) for q in told):
            seen.add(said)
            ranked.append((score, p))
            if len(ranked) == max(1, max_passages):
                break
    if not ranked and facts:
        return "\n\n".join(facts)
    if not ranked:
        titles = [title.strip() or f"Section {i + 1}" for i, (title, _) in enumerate(sections)]
        return (
            "I could not find anything in the write-up that matches this question. "
            f"Its sections are: {_join_titles(titles)}. Try asking with words the write-up uses, "
            "or name the section."
        )
    titles = list(dict.fromkeys(p.title for _, p in ranked))
    lead = f"The write-up addresses this in {_join_titles(titles)}."
    quotes = [f'From "{p.title}": "{_quote_for_answer(_untold(p.text, told))}"' for _, p in ranked]
    return "\n\n".join([*facts, lead, *quotes])


def _untold(text: str, told: list[str]) -> str:
    """A passage without the words a fact already quoted ("On April 30th at 5:05pm UTC ..." said once,
    then "… The API keys ..."): the answer does not repeat itself."""
    flat = " ".join(text.split())
    for q in told:
        at = flat.find(q)
        if at >= 0 and len(q) < len(flat):
            flat = (flat[:at].rstrip() + " … " + flat[at + len(q):].lstrip()).strip()
    return flat


def _chunks(text: str, size: int = _CHUNK_CHARS) -> Iterator[str]:
    """Pieces of about ``size`` characters, cut after whitespace; they join back to ``text``."""
    piece = ""
    for token in re.findall(r"\S+\s*|\s+", text):
        piece += token
        if len(piece) >= size:
            yield piece
            piece = ""
    if piece:
        yield piece


def answer_question(
    question: str,
    sections: list[tuple[str, str]],
    *,
    section_title: str | None = None,
    max_passages: int = 3,
) -> Iterator[str]:
    """Answer from the write-up alone, streamed in chunks; ``"".join(chunks)`` is the answer."""
    answer = compose_answer(question, sections, section_title=section_title, max_passages=max_passages)
    yield from _chunks(answer)
