"""Grammar a rule can be sure of, each fix certain from the words around it:

- `_agreement`: a singular pronoun starting a sentence with a verb's bare form ("This seem to");
- `_plural_singular`: a plural and a singular verb ("Both issues was resolved");
- `_modal_participle`: a modal and a past participle with no "be" ("must manually kicked");
- `_been_base`: "been" or "being" and a verb's plain form ("are not being launch");
- `_have_being`: "being" for "been" after "have" ("The route have being deleted");
- `_have_past`: a simple past for the participle after "have" ("which I've ran for two years");
- `_to_so`: "to so" with its verb missing ("required to so was awake"), or typed for "to do" ("need
  to so some tweaks");
- `_no_to`: "to" left out before a verb ("designed assist with malware distribution");
- `_article`: "an" before a consonant, "a" before a vowel ("an nonintrusive way", "a error").

Each only in a line of prose, outside code; each finding's suggestion is the corrected words.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import Lines, code_mask
from redline.jobs.reviewers.hygiene_dictionary import PREFIXES, TECH_WORDS, is_known_word
from redline.jobs.reviewers.hygiene_text import MAX_PER_RULE, _prose_line


# Subject-verb agreement a rule can see safely: a singular pronoun starting a sentence, then a
# verb's bare form ("This seem to be flaky" for "This seems"). Only verbs that cannot be nouns or
# adjectives after "This"/"That" ("This cause", "That mean value" are fine); "It" also takes a few
# more ("It look like"). "It need not" is grammatical, so "need" is not in the list.
AGREEMENT_VERBS = frozenset("seem appear happen require indicate suggest contain".split())
IT_VERBS = AGREEMENT_VERBS | frozenset("look mean cause show".split())
AGREEMENT = re.compile(r"\b(This|That|It|He|She) (seem|appear|happen|require|indicate|suggest|contain|look|mean|"
                       r"cause|show)\b(?!['\u2019-])")


def _grammar_in_prose(section: Section, pattern: re.Pattern[str],
                      fix: Callable[[re.Match[str], str, Lines], tuple[str, str] | None],
                      confidence: float = 0.8) -> list[Finding]:
    """A grammar finding for each match of `pattern` in a line of prose (not code) that `fix` turns
    into (the corrected words, why), at most MAX_PER_RULE of them."""
    text = section.text
    out: list[Finding] = []
    mask = None
    lines = Lines(text)
    for m in pattern.finditer(text):
        if len(out) >= MAX_PER_RULE:
            break
        fixed = fix(m, text, lines)
        if fixed is None:
            continue
        if mask is None:
            mask = code_mask(text)
        if mask[m.start()] or not lines.test(m.start(), "prose", _prose_line):
            continue
        q = m.group()
        out.append(Finding(type="suggestion", category="grammar", risk="low", description=f"'{q}' {fixed[1]}",
                           suggestion=fixed[0], quote=q, confidence=confidence))
    return out


def _agreement_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    subject, verb = m.group(1), m.group(2)
    if verb not in (IT_VERBS if subject == "It" else AGREEMENT_VERBS):
        return None
    ls, _ = lines.span(m.start())
    before = text[max(ls, m.start() - 4):m.start()].rstrip(" \t*_\"'(\u201c\u2018")
    bullet = m.start() - ls <= 12 and not text[ls:m.start()].strip(" \t-*\u2022+0123456789.)")
    if before and before[-1] not in ".!?:;" and not bullet:
        return None  # not the start of a sentence: "Does this seem right?", "made it seem"
    fixed = f"{subject} {verb}" + ("es" if verb.endswith(("sh", "ch", "s", "x")) else "s")
    return fixed, f"should be '{fixed}' (the verb must agree with '{subject}')."


def _agreement(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, AGREEMENT, _agreement_fix)


# "Both issues was resolved", "These changes has been": a word that makes its noun plural, a plural
# noun, and a singular verb; not after a preposition ("one of these signals has"). Not a measure
# ("Two hours was enough", "All 10 minutes is"), not a noun that is singular in -s ("news",
# "series", "analysis", "status", "physics").
PLURAL_SINGULAR = re.compile(r"\b(both|these|those|all|many|several|Both|These|Those|All|Many|Several) "
                             r"([a-z]{3,}s) (was|is|has)\b")
_MEASURES = frozenset("""seconds minutes hours days weeks months years times dollars euros pounds miles metres meters
kilometres kilometers percent bytes megabytes gigabytes""".split())
_SINGULAR_IN_S = frozenset("news series species means lens bus gas alias canvas chaos atlas".split())
_BE_FOR = {"was": "were", "is": "are", "has": "have"}
_PREPOSITIONS = frozenset("""of in for on with from to by at about among between across under over per than like into
through during after before within without against despite except via""".split())
_LAST_WORD = re.compile(r"([A-Za-z]+)\s+$")
_INTENSIFIERS = frozenset("so too very how as".split())


def _plural_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    noun = m.group(2)
    if noun in _MEASURES or noun in _SINGULAR_IN_S or noun.endswith(("ss", "us", "is", "ics", "'s")):
        return None
    before = _LAST_WORD.search(text, max(0, m.start() - 20), m.start())
    if before and before.group(1).lower() in _INTENSIFIERS:  # "access to so many hosts was lost"
        before = _LAST_WORD.search(text, max(0, before.start() - 20), before.start())
    if before and before.group(1).lower() in _PREPOSITIONS:
        return None  # "one of these signals has", "the result in all cases is": the verb's subject is earlier
    if not (is_known_word(noun[:-1]) or noun.endswith("es") and is_known_word(noun[:-2])
            or noun.endswith("ies") and is_known_word(noun[:-3] + "y")):
        return None  # not the plural of a known word
    fixed = f"{m.group(1)} {noun} {_BE_FOR[m.group(3)]}"
    return fixed, f"should be '{fixed}' (the verb must agree with the plural '{noun}')."


def _plural_singular(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, PLURAL_SINGULAR, _plural_fix)


# "must manually kicked", "will restarted": a modal verb, then a past participle with no "be" or
# "have" between them. A verb whose base form ends in -ed ("embed", "proceed", "shred") is not a
# past participle: the word less its -d or -ed must be a known word.
MODAL_PARTICIPLE = re.compile(r"\b(must|should|would|could|might|shall|will|cannot) ((?:[a-z]+ly )?)([a-z]{3,}ed)\b")


def _participle_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    word = m.group(3)
    if word.endswith("eed") or not (is_known_word(word[:-2]) or is_known_word(word[:-1])) or is_known_word(
            word[:-2]) and len(word[:-2]) < 3:
        return None
    fixed = f"{m.group(1)} be {m.group(2)}{word}"
    return fixed, f"is missing a verb: '{fixed}' (or the verb's plain form after '{m.group(1)}')."


def _modal_participle(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, MODAL_PARTICIPLE, _participle_fix, confidence=0.7)


# "are not being launch", "has been deploy": after "been" or "being", a verb's plain form where its
# past participle belongs. Only verbs that are not adjectives or nouns there ("been down", "being open",
# "been a test" are fine), each with its participle.
_PARTICIPLES = {v: v + ("d" if v.endswith("e") else "ed") for v in """launch deploy start create delete update upgrade
install fix merge publish push remove restart schedule trigger revoke approve handle detect notify rotate migrate
configure enable disable block unblock archive revert resolve rollback cancel""".split()}
_PARTICIPLES.update(ban="banned", stop="stopped", build="built", send="sent", write="written", take="taken",
                    give="given", rebuild="rebuilt", choose="chosen", drop="dropped")
BEEN_BASE = re.compile(r"(?<![\w-])(been|being) ((?:[a-z]+ly )?)("
                       + "|".join(sorted(_PARTICIPLES, key=len, reverse=True)) + r")\b(?![-'\u2019])")


def _been_base_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    fixed = f"{m.group(1)} {m.group(2)}{_PARTICIPLES[m.group(3)]}"
    return fixed, f"needs the past participle: '{fixed}'."


def _been_base(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, BEEN_BASE, _been_base_fix, confidence=0.7)


# "The route have being deleted": "being" where "been" belongs, before a past participle
HAVE_BEING = re.compile(r"\b(has|have|had) being ((?:[a-z]+ly )?[a-z]{2,}(?:ed|en))\b(?![-'\u2019])",
                        re.IGNORECASE)


def _have_being_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    fixed = f"{m.group(1)} been {m.group(2)}"
    return fixed, f"should be '{fixed}'."


def _have_being(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, HAVE_BEING, _have_being_fix, confidence=0.7)


# "which I've ran for two years", "has began": a verb's simple past where "have" needs its participle.
# Only verbs whose two forms differ and whose past is no participle of another; on 600 MB of installed
# documentation it found 5 ("have ran", "has ran", "have probably forgot"), all slips.
_IRREGULAR = {"ran": "run", "went": "gone", "came": "come", "began": "begun", "wrote": "written",
              "took": "taken", "gave": "given", "broke": "broken", "spoke": "spoken", "chose": "chosen",
              "froze": "frozen", "drove": "driven", "saw": "seen", "did": "done", "ate": "eaten", "fell": "fallen",
              "forgot": "forgotten", "grew": "grown", "knew": "known", "rode": "ridden", "rose": "risen",
              "sang": "sung", "swam": "swum", "threw": "thrown", "woke": "woken", "wore": "worn",
              "shook": "shaken", "stole": "stolen"}
HAVE_PAST = re.compile(r"\b(have|has|had|I've|we've|you've|they've|I\u2019ve|we\u2019ve|you\u2019ve|they\u2019ve)"
                       r" ((?:(?:[a-z]+ly|already|just|never|also|ever|not) )?)(" + "|".join(_IRREGULAR)
                       + r")\b(?![-'\u2019])", re.IGNORECASE)


def _have_past_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    past = m.group(3)
    if not past.islower():
        return None  # "Have Ran" in a title, "have Saw" as a name
    fixed = f"{m.group(1)} {m.group(2)}{_IRREGULAR[past]}"
    return fixed, f"should be '{fixed}' (the past participle after '{m.group(1)}')."


def _have_past(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, HAVE_PAST, _have_past_fix, confidence=0.7)


# "nobody with the permissions required to so was awake": "to so" with its verb missing, where what
# follows ends the phrase (a stop, "was", "and"), so that the fix is certain: "to do so". Not "to so
# many", "to so-and-so". Silent on 100 million characters of Python's library and package documentation.
TO_SO = re.compile(r"\b(to) so(?=\s*[.,;:!?)]|\s+(?:was|were|is|are|and|or|but|because|when|if|until)\b)"
                   # "need to so some tweaks": "so" typed for "do" (the keys are neighbours)
                   r"|\b(to) so (some|any|these|those)\b(?= [a-z])", re.IGNORECASE)


def _to_so_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    if m.group(2):
        fixed = f"{m.group(2)} do {m.group(3)}"
        return fixed, f"has 'so' for 'do': '{fixed}'."
    fixed = f"{m.group(1)} do so"
    return fixed, f"is missing its verb: '{fixed}'."


def _to_so(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, TO_SO, _to_so_fix, confidence=0.7)


# "designed assist with malware distribution": a word that takes "to" and a verb, the "to" left out.
# Only verbs that are never nouns here ("intended use" is a noun; "designed help" is not English).
NO_TO = re.compile(r"\b(designed|meant|supposed|intended|able|unable|tried|trying|attempted|attempting) "
                   r"(assist|make|allow|ensure|prevent|provide|create|avoid|reduce|handle|protect|detect|restore"
                   r"|stop|limit|deploy|install|identify|mitigate|resolve)\b")


def _no_to_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    fixed = f"{m.group(1)} to {m.group(2)}"
    return fixed, f"is missing its 'to': '{fixed}'."


def _no_to(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, NO_TO, _no_to_fix, confidence=0.7)


# "an nonintrusive way", "a error": the article against the sound of the word after it, where the
# letter tells the sound: "an" before a consonant (not a silent h: "an hour"), "a" before a, e, i or
# o (not "one", "once"). Only a lower-case word the dictionary knows, so "an SQL query", "a URL",
# "a UUID", "an x86 host" and "an" before a name are left alone; not after a word that makes "a" a
# letter ("option a or b", "plan a", "type a"); "u" is never read ("a user", "an umbrella").
ARTICLE = re.compile(r"(?<![\w'\u2019-])(an|An|a|A) ([a-z][a-z-]{2,30})\b(?![.'\u2019-]\w)")
_SILENT_H = ("hour", "honest", "honor", "honour", "heir", "herb")
_WORD_BEFORE = re.compile(r"([A-Za-z]+)[\s(]*$")  # "option (a)", "plan a"
_NOT_AFTER_ARTICLE = frozenset("""and or nor but are is was were has have had be been to of in on at by as if then
than vs versus""".split())
_SOUNDS_WITH_W = ("one", "once")
_LETTER_BEFORE = frozenset("""option options plan type types part parts step steps section sections appendix class
grade level point item column row list figure table case model version exhibit annex schedule vitamin""".split())


def _article_fix(m: re.Match[str], text: str, lines: Lines) -> tuple[str, str] | None:
    article, word = m.group(1), m.group(2)
    head = word.split("-")[0]
    if head in TECH_WORDS or not (is_known_word(head) or any(head.startswith(p) and is_known_word(head[len(p):])
                                                             for p in PREFIXES)):
        return None  # "an npm package", "an nginx pod": a name read letter by letter, or unknown
    if head in _NOT_AFTER_ARTICLE:
        return None  # "A and B", "a or b": a letter standing for something
    if article[0].isupper() and text[max(0, m.start() - 3):m.start()].strip(" \t*_\"'(\u201c\u2018-") not in ("", ".", "!", "?", ":"):
        return None  # "editing A extensively", "the first A address": a name, mid-sentence
    before = _WORD_BEFORE.search(text[max(0, m.start() - 24):m.start()])
    if article in ("a", "A") and before and before.group(1).lower() in _LETTER_BEFORE:
        return None  # "option a or b": the letter a
    if article.lower() == "an" and word[0] not in "aeiou" and not word.startswith(_SILENT_H) \
            and word[0] != "h":
        right = "a" if article == "an" else "A"
    elif article.lower() == "a" and word[0] in "aeio" and not word.startswith(_SOUNDS_WITH_W):
        right = "an" if article == "a" else "An"
    else:
        return None
    fixed = f"{right} {word}"
    return fixed, f"should be '{fixed}' (the article goes by the sound of the next word)."


def _article(section: Section) -> list[Finding]:
    return _grammar_in_prose(section, ARTICLE, _article_fix, confidence=0.7)
