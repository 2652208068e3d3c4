"""Spelling: typos with one certain correction, and doubled words ("the the").

- `_spelling`: a prose word the dictionary (`hygiene_dictionary.py`) and the document's own words
  do not know, with a single, close, frequent correction; "int he" for "in the"; real-word errors
  that a neighbour makes certain ("rouge pod", "I though I", "should of");
- `_short_and_technical_typos`: misspellings too short for the dictionary rule ("hav", "teh"), and
  a technical term one edit off that the document never spells right ("reop2docker");
- `_doubled`: the same word twice in a row ("the the", "The the"), except the legitimate ones
  ("that that", "had had"), a command's arguments ("python -m venv venv") and an identifier's
  parts ("pydantic-core core"); across a line break only a small word ("the the" wrapped).

Grammar ("This seem to", "Both issues was", "an nonintrusive") is hygiene_grammar.py's.

Not typos: a tool's name that is one letter and a word ("gcloud", "wget", "async"), an inflection
of a known word ("namespaced"), a word with accented letters, a word alone on its line (a handle
in a list of names).

Each finding's suggestion is the quote with the fix applied (offered as its replacement).
"""

from __future__ import annotations

import re
from functools import lru_cache

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import WORD, Lines, _one_edit, _variants, code_mask, in_spans, url_spans
from redline.jobs.reviewers.hygiene_dictionary import (
    PREFIXES, RUN_TOGETHER, TECH_WORDS, _british, _edits1_known, _freq, _spell, inflected_known, is_known_word,
)
from redline.jobs.reviewers.hygiene_text import MAX_PER_RULE, _prose_line


# Real-word errors that a dictionary cannot see, only fixed where the neighbour makes them certain.
CONFUSABLES: list[tuple[str, str, frozenset[str]]] = [
    ("rouge", "rogue", frozenset("""pod pods process processes node nodes actor actors agent agents employee employees
admin admins user users script scripts container containers device devices server servers package packages code
account accounts bot bots job jobs task tasks thread threads worker workers instance instances machine machines host
hosts commit commits certificate certificates key keys token tokens app apps application applications deployment
deploy query queries operator operators insider insiders access ap""".split())),
]
CERTAIN_PHRASES: list[tuple[str, str]] = [
    ("should of ", "should have "), ("could of ", "could have "), ("would of ", "would have "),
    ("must of ", "must have "), ("per say", "per se"), ("for all intensive purposes", "for all intents and purposes"),
    ("sneak peak", "sneak peek"), ("it's own ", "its own "),
    ("i though i ", "i thought i "), ("i though that ", "i thought that "), ("we though we ", "we thought we "),
    ("we though that ", "we thought that "), ("rather then ", "rather than "),
    ("has lead to ", "has led to "), ("have lead to ", "have led to "), ("had lead to ", "had led to "),
    ("weather or not", "whether or not"), ("as to weather we ", "as to whether we "),
    ("as to weather it ", "as to whether it "), ("as to weather they ", "as to whether they "),
]
# "there would of course still have been": an aside, not "would have"
_COURSE = re.compile(r"course\b")


def _of_course(low: str, end: int) -> bool:
    """The phrase ends in "of " that starts "of course" ("could of course be the same person")."""
    return low[end - 3:end] == "of " and _COURSE.match(low, end) is not None


# Misspellings too short for the dictionary rule (it skips words under four letters, most of which
# are abbreviations), but never words themselves.
SHORT_TYPOS = {"teh": "the", "hte": "the", "adn": "and", "hav": "have", "yuo": "you", "taht": "that"}
MIN_TECH_TYPO = 6  # a technical term at least this long, one edit away: "reop2docker" for "repo2docker"


MIN_CORRECTION_FREQ = 2e-6  # the correction must be a common word
DOMINANCE = 20.0  # ... and at least this many times more frequent than any other one-edit candidate


# Words headings are made of: a correction to one of them needs no minimum frequency in a heading
# ("Apendix" for "Appendix": "appendix" is rarer in everyday text than the rule's floor).
HEADING_WORDS = frozenset("""appendix appendices summary timeline chronology background introduction analysis
findings conclusion conclusions recommendations recommendation lessons learned resolution detection impact
actions references glossary acknowledgements acknowledgments mitigation remediation postmortem""".split())


def _typo_fix(w: str, words: dict[str, int], common: frozenset[str] = frozenset()) -> str | None:
    """The one likely correction of a lower-case word that is not a word, or None: it must be
    unknown to the dictionary and rare in the document, and one edit from a common word (or one of
    `common`) that is far more frequent than any other candidate."""
    if words.get(w, 0) >= 2 or is_known_word(w):
        return None
    if inflected_known(w):
        return None  # a plural, past tense or -ing form the dictionary lacks ("namespaced")
    if _british(w):
        return None  # colour, organise, analyse, centre: not typos
    if any(w.startswith(p) and len(w) - len(p) >= 3 and is_known_word(w[len(p):]) for p in PREFIXES):
        return None  # unban, reupload, prebuilt, autoheal: a prefix and a known word
    # a letter for another is a slip of the hand only near it ("droppes") or vowel for vowel ("seperate"):
    # "iqlusion" is not "illusion" but a name, and "acount" is "account", not "amount"
    cands = [c for c in _edits1_known(w) if len(c) != len(w) or _slip(w, c)]
    if not cands:
        return None
    cands.sort(key=_freq, reverse=True)
    best = cands[0]
    if best == w[1:] and w[0] != w[1] or best[1:] == w:
        return None  # one letter before a word ("gcloud", "wget", "async"): a tool's name, not a typo
    f_best = _freq(best)
    f_next = _freq(cands[1]) if len(cands) > 1 else 0.0
    if (f_best < MIN_CORRECTION_FREQ and best not in common) or (f_next and f_best < DOMINANCE * f_next):
        return None
    if sorted(best) != sorted(w) and abs(len(best) - len(w)) != 1 and len(w) < 5:
        return None
    return best


# each key's row and its place along it, the rows staggered as on a QWERTY keyboard
_KEYS = {ch: (row, col + shift) for row, (keys, shift) in enumerate((("qwertyuiop", 0.0), ("asdfghjkl", 0.25),
                                                                    ("zxcvbnm", 0.75))) for col, ch in enumerate(keys)}
_VOWELS = frozenset("aeiouy")
_SOUNDS_ALIKE = frozenset({frozenset("cs"), frozenset("ck"), frozenset("sz"), frozenset("gj")})  # "critisism"


def _near_keys(a: str, b: str) -> bool:
    """Are a and b neighbours on a QWERTY keyboard ('s' and 'd', 'd' and 'e'; not 'd' and 't')?"""
    if a not in _KEYS or b not in _KEYS:
        return False
    (ra, xa), (rb, xb) = _KEYS[a], _KEYS[b]
    return abs(ra - rb) <= 1 and abs(xa - xb) <= (1 if ra == rb else 0.75)


def _slip(w: str, best: str) -> bool:
    """Is a same-length correction a slip: two letters swapped, a vowel for a vowel ("seperate"),
    a key's neighbour ("droppes"), or a letter for one that sounds alike ("critisism")?"""
    diff = [k for k in range(len(w)) if w[k] != best[k]]
    if len(diff) != 1:
        return True  # a transposition ("reciept")
    a, b = w[diff[0]], best[diff[0]]
    return a in _VOWELS and b in _VOWELS or _near_keys(a, b) or frozenset((a, b)) in _SOUNDS_ALIKE


def _heading_spelling(section: Section, words: dict[str, int]) -> list[Finding]:
    """A typo in the section's own heading ("Apendix", "Appendinx"). Heading words are capitalised
    by style, so a word capitalised only at its first letter is checked in lower case; one that the
    document also uses elsewhere is a name. Said without a quote: the heading is not part of the
    section's text."""
    for m in WORD.finditer(section.title):
        w = m.group()
        if len(w) < 5 or len(w) > 20 or not (w[0].isupper() and w[1:].islower()) or not w.isalpha():
            continue
        best = _typo_fix(w.lower(), words, HEADING_WORDS)
        if best is not None:
            right = best.capitalize()
            return [Finding(type="suggestion", category="spelling", risk="low",
                            description=f"Typo in the heading '{section.title.strip()}': '{w}' should probably be "
                                        f"'{right}'.",
                            suggestion=f"Correct the heading to '{section.title.strip().replace(w, right, 1)}'.",
                            quote=None, confidence=0.8)]
    return []


def _spelling(section: Section, words: dict[str, int]) -> list[Finding]:
    sp = _spell()
    if sp is None:
        return []
    text = section.text
    mask = code_mask(text)
    urls = url_spans(text)
    out: list[Finding] = []
    lines = Lines(text)
    pos = 0
    for raw in text.splitlines(keepends=True):
        if len(out) >= MAX_PER_RULE:
            break
        line_start = pos
        pos += len(raw)
        if not _prose_line(raw):
            continue
        for m in WORD.finditer(raw):
            a = line_start + m.start()
            b = line_start + m.end()
            w = m.group()
            if "'" in w or "\u2019" in w or not w.islower() or len(w) < 4 or len(w) > 20:
                continue
            if mask[a] or in_spans(a, urls):
                continue
            nxt, prv = text[b:b + 1], text[a - 1:a] if a else ""
            joined = nxt in ("_", "-", "/", "@", ".") and text[b + 1:b + 2].isalnum() or prv in ("_", "-", "/", "@", ".", "#")
            if joined and not _english_compound(text, a, b):
                continue  # part of an identifier, path, domain or file name
            if nxt.isdigit() or prv.isdigit() or _foreign_letter(prv) or _foreign_letter(nxt):
                continue  # part of a version, or of a word with accents ("española" is not "espa")
            if _alone_on_line(raw, w):
                continue  # a one-word line or bullet: a name, a handle or a command, not prose
            if _cut_by_a_space(text, a, b):
                continue  # "domesti cally", "comme rcial": a word a PDF's extraction cut, not a typo
            best = _typo_fix(w, words)
            if best is None or joined and (len(w) < 6 or abs(len(best) - len(w)) != 1):
                continue  # in a compound, only a letter dropped or doubled: "big-endian" is not "big-indian"
            ls, le = lines.span(a)
            quote = _context(text, a, b, ls, le)
            out.append(Finding(
                type="suggestion", category="spelling", risk="low",
                description=f"Typo: '{w}' should probably be '{best}'.",
                suggestion=quote.replace(w, best, 1), quote=quote, confidence=0.8))
    # "int he" -> "in the": a letter moved across a space, making a non-word
    toks = list(re.finditer(r"[a-z]{1,12}", text))
    for t1, t2 in zip(toks, toks[1:]):
        if len(out) >= MAX_PER_RULE:
            break
        if text[t1.end():t2.start()] != " " or (t1.start() and text[t1.start() - 1].isalnum()) or \
                text[t2.end():t2.end() + 1].isalnum():
            continue
        a, b = t1.group(), t2.group()
        if is_known_word(a) and is_known_word(b) or mask[t1.start()]:
            continue
        for x, y in ((a[:-1], a[-1] + b), (a + b[0], b[1:])):
            if x and y and _freq(x) >= 1e-4 and _freq(y) >= 1e-4 and is_known_word(x) and is_known_word(y):
                q = text[t1.start():t2.end()]
                out.append(Finding(
                    type="suggestion", category="spelling", risk="low",
                    description=f"Typo: '{q}' should be '{x} {y}'.", suggestion=f"{x} {y}",
                    quote=q, confidence=0.8))
                break
    low = text.lower()
    for wrong, right, nouns in CONFUSABLES:
        k = low.find(wrong)
        while k >= 0:
            end = k + len(wrong)
            if (k == 0 or not low[k - 1].isalpha()) and not low[end:end + 1].isalpha() and not mask[k]:
                nxt = re.match(r"\s{1,3}([a-z]{1,20})", low[end:end + 25])
                if nxt and nxt.group(1) in nouns:
                    q = text[k:end + nxt.end()]
                    out.append(Finding(
                        type="suggestion", category="spelling", risk="low",
                        description=f"Typo: '{text[k:end]}' should be '{right}' here.",
                        suggestion=q.replace(text[k:end], right, 1), quote=q, confidence=0.8))
            k = low.find(wrong, end)
    for wrong, right in CERTAIN_PHRASES:
        k = low.find(wrong)
        while k >= 0 and (k > 0 and low[k - 1].isalpha() or mask[k] or _of_course(low, k + len(wrong))):
            k = low.find(wrong, k + len(wrong))
        if k >= 0:
            q = text[k:k + len(wrong)]
            fixed = _recased(q, wrong, right)
            out.append(Finding(type="suggestion", category="spelling", risk="low",
                               description=f"'{q.strip()}' should be '{fixed.strip()}'.", suggestion=fixed.strip(),
                               quote=q.strip(), confidence=0.8))
    for rx in (_WHICH_LEAD, _IT_LEAD):
        for m in rx.finditer(text):
            if not mask[m.start()]:
                q = m.group(1)
                fixed = q[: -len("lead to")] + "led to"
                out.append(Finding(type="suggestion", category="spelling", risk="low",
                                   description=f"'{q}' should be '{fixed}' (the past of 'lead' is 'led').",
                                   suggestion=fixed, quote=q, confidence=0.8))
                break
    return out + _short_and_technical_typos(section, words, mask, urls)


# "rejected due to them being unable to confirm phishing, which lead to a longer-than-expected period":
# after a comma, "which" stands for the clause or the one thing before it, so "lead" is the past's "led"
# misspelt (not so after a plural: "two changes, which lead to faster builds")
_WHICH_LEAD = re.compile(r"[a-rt-z], (which lead to)\b")
# "It lead to problem" (RuCTF's post-mortem): after "it", "lead" is the past misspelt, unless a helping verb
# makes it the plain form ("does it lead to", "it will lead to" has its own order)
_IT_LEAD = re.compile(r"(?<![Dd]oes )(?<![Dd]id )(?<![Cc]an )(?<![Ww]ill )(?<![Ww]ould )(?<![Cc]ould )(?<![Mm]ight )"
                      r"(?<![Ss]hould )(?<![Mm]ay )(?<![Mm]ust )\b([Ii]t lead to)\b")


_COMPOUND = re.compile(r"[a-z]+(?:-[a-z]+)+")


def _english_compound(text: str, a: int, b: int) -> bool:
    """text[a:b] is a part of a hyphenated compound of English words ("compiler-perfomance", whose
    other parts the dictionary knows), not of a name ("kube-lego", "rust-lang")."""
    left = a
    while left > 0 and (text[left - 1].isalpha() or text[left - 1] == "-") and a - left < 60:
        left -= 1
    m = _COMPOUND.match(text, left)
    if m is None or not m.start() <= a < m.end() or text[m.end():m.end() + 1] in ("/", ".", "_", "@") \
            and text[m.end() + 1:m.end() + 2].isalnum() or text[m.start() - 1:m.start()] in ("/", ".", "_", "@", "#"):
        return False
    others = [part for part in m.group().split("-") if part != text[a:b]]
    return bool(others) and all(len(part) >= 3 and is_known_word(part) for part in others)


def _sentence_start(text: str, a: int) -> bool:
    before = text[max(0, a - 4):a].rstrip(" \t*_-\"'(\u201c\u2018")
    return not before or before[-1] in ".!?:\n"


def _foreign_letter(ch: str) -> bool:
    return bool(ch) and not ch.isascii() and ch.isalpha()


def _alone_on_line(line: str, w: str) -> bool:
    return len(line) <= len(w) + 16 and line.strip().strip("-*\u2022+.,:;()[]\"' \t").lower() == w


def _recased(q: str, wrong: str, right: str) -> str:
    """`right` in the case of `q` (the text that matched `wrong`): only the differing middle
    changes ("I though I" -> "I thought I", not "i thought i")."""
    p = 0
    while p < min(len(wrong), len(right)) and wrong[p] == right[p]:
        p += 1
    n = 0
    while n < min(len(wrong), len(right)) - p and wrong[-1 - n] == right[-1 - n]:
        n += 1
    return q[:p] + right[p:len(right) - n] + q[len(wrong) - n:]


@lru_cache(maxsize=1)
def _tech_index() -> dict[str, list[str]]:
    index: dict[str, list[str]] = {}
    for w in TECH_WORDS:
        if len(w) >= MIN_TECH_TYPO and w.isalnum():
            for v in _variants(w):
                index.setdefault(v, []).append(w)
    return index


def _short_and_technical_typos(section: Section, words: dict[str, int], mask: list[bool],
                               urls: list[tuple[int, int]]) -> list[Finding]:
    """'hav been' (a short misspelling) and 'reop2docker' (a technical term one edit off, which the
    dictionary does not know and the document never spells right)."""
    text = section.text
    lines = Lines(text)
    out: list[Finding] = []
    index = _tech_index()
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9]{2,30}", text):
        if len(out) >= MAX_PER_RULE:
            break
        a, b, w = m.start(), m.end(), m.group()
        low = w.lower()
        if (a and (text[a - 1].isalnum() or text[a - 1] in "_-/@.#'")) or text[b:b + 1] in ("_", "-", "/", "@", "'") \
                or text[b:b + 1] == "." and text[b + 1:b + 2].isalnum() or mask[a] or in_spans(a, urls):
            continue
        if _foreign_letter(text[a - 1:a] if a else "") or _foreign_letter(text[b:b + 1]):
            continue
        fix = SHORT_TYPOS.get(w) if w.islower() else None
        if fix is None and low in RUN_TOGETHER and (w.islower() or w[1:].islower() and _sentence_start(text, a)):
            fix = RUN_TOGETHER[low] if w.islower() else RUN_TOGETHER[low].capitalize()  # "Noone" may be a name
        if fix is None and len(low) >= MIN_TECH_TYPO and not is_known_word(low) and words.get(low, 0) < 2 and \
                not inflected_known(low):
            cands = {c for v in _variants(low) for c in index.get(v, ())
                     if _one_edit(low, c) and not (c.startswith(low) or low.startswith(c))}  # not a plural
            fix = next(iter(cands)) if len(cands) == 1 else None
        if fix is None or not lines.test(a, "prose", _prose_line):
            continue
        ls, le = lines.span(a)
        quote = _context(text, a, b, ls, le)
        out.append(Finding(type="suggestion", category="spelling", risk="low",
                           description=f"Typo: '{w}' should probably be '{fix}'.",
                           suggestion=quote.replace(w, fix, 1), quote=quote, confidence=0.8))
    return out


_FRAGMENT_AFTER = re.compile(r" ([a-z]{1,12})\b")
_FRAGMENT_BEFORE = re.compile(r"\b([A-Za-z]{1,12}) $")


def _cut_by_a_space(text: str, a: int, b: int) -> bool:
    """Whether text[a:b] and the piece beside it, across one space, make one known word ("aircraf t",
    "comme rcial"): a word a PDF's text extraction or a stray space cut in two, not a typo."""
    word = text[a:b].lower()
    after = _FRAGMENT_AFTER.match(text, b)
    if after and is_known_word(word + after.group(1)):
        return True
    before = _FRAGMENT_BEFORE.search(text, max(0, a - 13), a)
    return before is not None and is_known_word(before.group(1).lower() + word)


def _context(text: str, a: int, b: int, ls: int, le: int) -> str:
    """A few words around text[a:b], within its line (exact substring)."""
    lo = a
    for _ in range(3):
        k = text.rfind(" ", ls, lo - 1) if lo > ls else -1  # the line's first word has nothing before it
        if k < 0:
            lo = ls
            break
        lo = k + 1
    hi = b
    for _ in range(3):
        k = text.find(" ", hi + 1, le)
        if k < 0:
            hi = le
            break
        hi = k
    return text[lo:hi].strip()


# grammatical ("had had", "that that") or said twice on purpose ("please please consider", "really really")
LEGIT_DOUBLES = frozenset({"that", "had", "bye", "no", "ha", "so", "very", "knock", "tsk", "blah", "yada", "chop",
                           "hush", "meow", "dum", "la", "boo", "bla", "tut", "pooh", "ho", "hey", "please",
                           "really", "much", "many", "far"})


# A doubled word across a line break is only a typo for the small words that get typed twice
# ("the\nthe" in a wrapped PDF line); a name repeated on the next line is a label, a heading or code.
FUNCTION_WORDS = frozenset("""the a an to of in on at for from with by and or but is was are were be been it this
as if than""".split())
FLAG = re.compile(r"(?:^|\s)--?[A-Za-z]")  # a command-line option: "python -m venv venv" is a command


def _doubled(section: Section) -> list[Finding]:
    text = section.text
    mask = None
    lines = Lines(text)
    out = []
    before = prev = None
    for m in WORD.finditer(text):
        if len(out) >= MAX_PER_RULE:
            break
        if prev is not None:
            gap = text[prev.end():m.start()]
            w1, w2 = prev.group(), m.group()
            same = w1.lower() == w2.lower() and w1.lower() not in LEGIT_DOUBLES and not w1.isupper()
            if same and gap and not gap.strip() and len(gap) <= 3 and gap.count("\n") <= 1 and \
                    (w1 == w2 or gap == " " and w1[0].isupper() and w2[0].islower()) and \
                    _doubled_in_prose(text, prev, m, gap, lines):
                if mask is None:
                    mask = code_mask(text)
                third = re.match(r"[ \t]{1,3}(\w+)", text[m.end():m.end() + 40])
                if third and third.group(1).lower() == w1.lower() or \
                        before is not None and before.group().lower() == w1.lower():
                    before, prev = prev, m
                    continue  # "Test test test": said three times on purpose, not typed twice
                if not mask[prev.start()] and not mask[m.start()]:
                    q = text[prev.start():m.end()]
                    out.append(Finding(type="suggestion", category="spelling: doubled word", risk="low",
                                       description=f"Doubled word: '{' '.join(q.split())}'.", suggestion=w1,
                                       quote=q, confidence=0.9))
        before, prev = prev, m
    return out


def _doubled_in_prose(text: str, prev: re.Match, m: re.Match, gap: str, lines: Lines) -> bool:
    """Both words in prose: not part of an identifier ("pydantic-core core"), not the arguments of
    a command ("python -m venv venv"), and across a line break only a small word ("the the" wrapped)."""
    a, b = prev.start(), m.end()
    if a and text[a - 1] in "-_/.@#" or text[b:b + 1] in ("-", "_", "/", "@") or \
            text[b:b + 1] == "." and text[b + 1:b + 2].isalnum():
        return False
    if not lines.test(a, "prose", _prose_line):
        return False
    if lines.test(a, "flag", lambda ln: FLAG.search(ln) is not None):
        return False
    if "\n" in gap:  # the next line must go on in prose after the word ("from security scanners")
        _, le = lines.span(m.start())
        if prev.group().lower() not in FUNCTION_WORDS or not _prose_line(text[m.end():le]):
            return False
    return True
