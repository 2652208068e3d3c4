"""Language rules: hedging, vague quantities and timings, unsupported absolutes, passive voice that
hides who acted, overlong sentences, and personal contact details.

Each phrase rule is a table entry (`_PhraseRule`): its pattern, what it reports and why, and a
`keep` filter. One finding per rule and section, quoting the first hit and counting the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from redline.jobs.models import Finding
from redline.jobs.reviewers.offline_text import (
    _CLAIM, _EVIDENCE, _MONTH, LONG_SENTENCE_WORDS, Span, _clip, _first, _make, _phrases, _rx, _Section, _times,
    word_count,
)


_CONTACT_DETAILS = re.compile(
    r"(?<![\w.+-])[\w.+-]+@[\w-]+\.[\w.-]+"  # the lookbehind: tried once per word, not once per letter
    r"|\+\d{1,3}[\s.-]?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,4}"
    r"|\b(?:tel|phone|mobile|mob)\b\.?\s*:[ \t]*[\d+(][\d ()-]{6,}\d",
    re.I,
)

# Passive voice: a be-verb, up to two adverbs, then a past participle.
_IRREGULAR_PARTICIPLES = (
    "arisen awoken beaten become begun bent bet bid bitten blown born borne bought bound bred "
    "brought broken built burnt burst cast caught chosen clung come cut dealt done drawn driven "
    "dug eaten fallen fed felt fought found fled flown forbidden forgotten forgiven frozen given "
    "gone grown hung heard hidden hit held hurt kept knelt known laid led leant left lent let lit "
    "lost made meant met mislaid misled mistaken misread misunderstood overcome overdone overheard "
    "overlooked overridden overrun overseen overtaken overthrown paid proven put quit read rebuilt "
    "redone rewritten ridden rung risen run said sat seen sought sold sent set sewn shaken shed "
    "shone shot shown shrunk shut sung sunk slain slept slid slit spoken sped spent spilt split "
    "spoilt spread sprung stood stolen stuck stung struck sworn swept swung taken taught torn told "
    "thought thrown thrust trodden understood undertaken undone upheld upset withdrawn withheld "
    "woken worn won wound written"
).split()
_IRREGULAR_SET = frozenset(_IRREGULAR_PARTICIPLES)
_PASSIVE = re.compile(
    r"\b(?:am|is|are|was|were|be|been|being|get|gets|got|gotten)\s+"
    r"(?:(?:not|also|then|never|subsequently|later|already|still|just|only|not\s+yet|\w+ly)\s+){0,2}"
    r"(?P<participle>[a-z]+ed|" + "|".join(_IRREGULAR_PARTICIPLES) + r")\b",
    re.I,
)
_NOT_PARTICIPLE = frozenset(
    "based involved concerned interested supposed used located required needed related unrelated "
    "experienced qualified skilled dedicated limited detailed advanced complicated sophisticated "
    "tired pleased satisfied surprised worried scared married aged unexpected unaffected unchanged "
    "unauthorised unauthorized unattended unresolved unsupervised unqualified untrained unaware "
    "allowed able bored excited shocked disappointed embarrassed frustrated confused "
    "ashamed prepared supposed accustomed entitled exposed believed thought assumed understood "
    "affected impacted injured harmed hurt killed damaged born".split()
)
_AGENT = re.compile(
    r"\bby\s+(?!\d|the\s+end\b|end\b|mid|close\b|noon\b|midnight\b|then\b|now\b|mistake\b|accident\b"
    r"|hand\b|e-?mail\b|phone\b|post\b|default\b|design\b|chance\b|far\b|means\b|way\b|"
    + _MONTH
    + r"\b)",
    re.I,
)


@dataclass(frozen=True)
class _PhraseRule:
    pattern: re.Pattern[str]
    category: str
    what: str
    why: str
    suggestion: str
    questions: tuple[str, ...]
    refs: tuple[str, ...]
    confidence: float
    serious_roles: frozenset[str]
    keep: Callable[[_Section, Span, re.Match[str]], bool] = lambda sec, sentence, match: True


def _absolute_unsupported(sec: _Section, sentence: Span, match: re.Match[str]) -> bool:
    key = ("absolute", sentence.start)  # the answer depends on the sentence only, not on the match
    if key not in sec.memo:
        # Claims in findings and root-cause sections are already reported by the evidence check.
        sec.memo[key] = not _EVIDENCE.search(sentence.text) and not (
            sec.role in ("findings", "root_cause") and _CLAIM.search(sentence.text))
    return sec.memo[key]


def _passive_without_agent(sec: _Section, sentence: Span, match: re.Match[str]) -> bool:
    participle = match.group("participle").lower()
    if participle in _NOT_PARTICIPLE:
        return False
    if participle not in _IRREGULAR_SET and (participle.endswith("eed") or len(participle) < 5):
        return False
    after = sentence.text[match.end() : match.end() + 80]
    return not _AGENT.search(after)


_LANGUAGE_RULES: tuple[_PhraseRule, ...] = (
    _PhraseRule(
        pattern=_rx(
            r"it\s+(?:appears|appeared|seems|seemed)",
            r"(?:appears|appeared|seems|seemed)\s+to",
            r"possibly",
            r"probably",
            r"presumably",
            r"perhaps",
            r"maybe",
            r"might(?:\s+have)?",
            r"may\s+have",
            r"could\s+have",
            r"it\s+is\s+(?:believed|thought|assumed|understood|likely|possible|probable)",
            r"(?:is|are|was|were)\s+(?:believed|thought|assumed)\s+to",
            r"(?:un)?likely",
            r"apparently",
            r"allegedly",
            r"reportedly",
            r"supposedly",
            r"seemingly",
            r"(?:we|i)\s+(?:think|believe|suspect|assume)",
            r"to\s+some\s+extent",
            r"more\s+or\s+less",
            r"in\s+all\s+likelihood",
            r"arguably",
        ),
        category="Language",
        what="Hedging language",
        why="A reader cannot tell what the investigation established and what is a guess.",
        suggestion="State what the evidence shows and cite it; where something is genuinely "
        "uncertain, say so once, explicitly, with what would resolve it.",
        questions=(
            "Was this established, and if so from which evidence?",
            "If it is uncertain, what would confirm or rule it out?",
        ),
        refs=("C20", "C4"),
        confidence=0.65,
        serious_roles=frozenset({"root_cause", "findings", "summary"}),
    ),
    _PhraseRule(
        pattern=_rx(
            r"at\s+some\s+point",
            r"some\s+time\s+later",
            r"sometime",
            r"some",
            r"several",
            r"many",
            r"numerous",
            r"various",
            r"a\s+(?:few|number\s+of|lot\s+of|couple\s+of)",
            r"lots\s+of",
            r"a\s+(?:large|small|significant|considerable)\s+(?:number|amount)\s+of",
            r"significant(?:ly)?",
            r"substantial(?:ly)?",
            r"considerabl[ey]",
            r"a\s+while",
            r"shortly\s+(?:after(?:wards)?|before|thereafter)",
            r"soon\s+after",
            r"later\s+(?:on|that\s+day)",
            r"eventually",
            r"recently",
            r"approximately(?!\s*\d)",
            r"roughly(?!\s*\d)",
        ),
        category="Language",
        what="Vague quantities or timings",
        why="Vague amounts and times cannot be checked and hide the real scale of the event.",
        suggestion="Replace each with a number, a range or a time (e.g. '14 of 20 staff', "
        "'about 40 minutes later, at 15:10').",
        questions=("How many (or how long) exactly, and where does the figure come from?",),
        refs=("C20", "C11"),
        confidence=0.55,
        serious_roles=frozenset({"impact", "timeline"}),
    ),
    _PhraseRule(
        pattern=_rx(
            r"clearly",
            r"obviously",
            r"undoubtedly",
            r"unquestionabl[ey]",
            r"certainly",
            r"definitely",
            r"without\s+(?:a|any)\s+doubt",
            r"beyond\s+(?:any\s+|all\s+|reasonable\s+)?doubt",
            r"it\s+is\s+(?:clear|evident|obvious)",
            r"evidently",
            r"of\s+course",
            r"(?<!not\s)(?<!n't\s)(?<!cannot\s)always",  # "cannot always be guaranteed" asserts nothing
            r"everyone",
            r"everybody",
            r"all\s+(?:staff|employees|operators|users|customers|managers)",
        ),
        category="Language",
        what="Unsupported absolute or emphatic wording",
        why="Words like these assert certainty without showing the evidence, which weakens the "
        "write-up if challenged.",
        suggestion="Drop the emphasis and cite the evidence instead; replace generalisations "
        "('always', 'everyone') with what was actually observed.",
        questions=("What evidence makes this certain?", "Were there exceptions?"),
        refs=("C20", "C4"),
        confidence=0.6,
        serious_roles=frozenset({"findings", "root_cause"}),
        keep=_absolute_unsupported,
    ),
    _PhraseRule(
        pattern=_PASSIVE,
        category="Actors",
        what="Passive voice that hides who acted",
        why="The reader cannot tell who took the action or decision, which matters for "
        "accountability and for the actions.",
        suggestion="Name the actor by role: 'the shift supervisor opened the valve' rather than "
        "'the valve was opened'.",
        questions=("Who did this, and in what role?", "Who decided, and on what basis?"),
        refs=("C6", "C8", "C20"),
        confidence=0.6,
        serious_roles=frozenset({"timeline", "findings", "root_cause"}),
        keep=_passive_without_agent,
    ),
)


def _phrase_finding(sec: _Section, rule: _PhraseRule) -> Finding | None:
    hits = [
        (sentence, match.group(0))
        for sentence in sec.sentences
        for match in rule.pattern.finditer(sentence.text)
        if rule.keep(sec, sentence, match)
    ]
    if not hits:
        return None
    serious = sec.role in rule.serious_roles
    return _make(
        "important" if serious else "suggestion",
        "medium" if serious else "low",
        rule.category,
        f"{rule.what} in {_times(len(hits))} ({_phrases([h for _, h in hits])}). {rule.why}",
        rule.suggestion,
        quote=_clip(hits[0][0].text),
        questions=rule.questions,
        refs=rule.refs,
        confidence=rule.confidence,
    )


def check_language(sec: _Section) -> Iterator[Finding]:
    for rule in _LANGUAGE_RULES:
        finding = _phrase_finding(sec, rule)
        if finding:
            yield finding
    yield from _long_sentences(sec)


_TABLE_PIPES = 4


def _long_sentences(sec: _Section) -> Iterator[Finding]:
    # a table's rows run together ("|Incident ID: |19920109 |Operator name: |..." where Markdown saw no
    # table) are not a sentence
    long = [(word_count(s.text), s) for s in sec.sentences
            if word_count(s.text) > LONG_SENTENCE_WORDS and s.text.count("|") < _TABLE_PIPES]
    if not long:
        return
    longest_words, longest = max(long, key=lambda pair: (pair[0], -pair[1].start))
    others = f" ({len(long)} such sentences in this section)" if len(long) > 1 else ""
    yield _make(
        "suggestion",
        "low",
        "Language",
        f"Overlong sentence: {longest_words} words{others}. Long sentences hide who did what and "
        "what is fact versus inference.",
        f"Split it into sentences of at most about {LONG_SENTENCE_WORDS // 2} words, one fact or "
        "step each.",
        quote=_clip(longest.text),
        questions=("Which single point must the reader take from this sentence?",),
        refs=("C20",),
        confidence=0.9,
    )


def check_contact_details(sec: _Section) -> Iterator[Finding]:
    found = [m.group(0) for m in _CONTACT_DETAILS.finditer(sec.text)]
    if not found:
        return
    sentence = _first(sec.sentences, _CONTACT_DETAILS)
    yield _make(
        "suggestion",
        "medium",
        "Confidentiality",
        f"Personal contact details appear in the write-up ({_times(len(found), 'item')}).",
        "Remove e-mail addresses and phone numbers, or move them to a restricted annex; refer "
        "to people by role.",
        quote=_clip(sentence.text) if sentence else None,
        questions=("Does every reader of this report need these details?",),
        refs=("C18",),
        confidence=0.8,
    )
