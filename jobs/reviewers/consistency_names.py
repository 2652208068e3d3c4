"""An identifier or handle spelled two ways: `username` once against `userhame` three times,
`@jdoe` / `@jdeo`, `QuietMisdreavus` / `Quietmisdreavus`.

Tokens one edit apart are found with a symmetric deletion index (`consistency_text._variants`:
linear in the tokens). A pair is reported when one spelling is rare and the other common, and
the difference is not an inflection, a different name (an edit at the very start, a letter added to
a word: build / buildx, an enumerated suffix: shard_a / shard_b) or two real words (the spelling
rule's dictionary, `hygiene_dictionary.is_known_word`, or an inflection of one: deployer / deployed).
"""

from __future__ import annotations

import re

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import _one_edit, _variants, in_spans, url_spans
from redline.jobs.reviewers.hygiene_dictionary import _edits1_known, inflected_known, is_known_word


IDENT = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{3,39}")
_POSSESSIVE = re.compile(r"['\u2019]s(?![A-Za-z0-9])")


def _identifier_findings(sections: list[Section]):
    counts: dict[str, int] = {}
    first: dict[str, tuple[int, int]] = {}
    for s in sections:
        text = s.text
        urls = url_spans(text)
        for m in IDENT.finditer(text):
            tok = m.group()
            a, b = m.start(), m.end()
            # skip parts of domains, paths, URLs, e-mail addresses and file names
            if text[a - 1:a] == "." and not (a >= 2 and text[a - 2].isalpha() and (a < 3 or not text[a - 3].isalnum())):
                continue  # "example.com", "setup.py"; but "u.username" (a table alias) is kept
            if in_spans(a, urls) or text[b:b + 1] in (".", "/", "@") and text[b + 1:b + 2].isalnum() \
                    or text[a - 1:a] in ("/", "-", "#") or text[b:b + 1] == "-" \
                    or text[b:b + 1] in ("'", "\u2019") and not _POSSESSIVE.match(text, b):
                continue  # "doesn't" is not a name; "meisnate12's account" is
            counts[tok] = counts.get(tok, 0) + 1
            first.setdefault(tok, (s.index, a))
    # only identifier-like tokens (handles, snake_case, camelCase, word+digits) or words no dictionary knows
    def ident_like(t: str) -> bool:
        core = t.lstrip("@")
        return t.startswith("@") or "_" in core or any(c.isdigit() for c in core) or \
            any(c.isupper() for c in core[1:])

    index: dict[str, list[str]] = {}
    for tok in counts:
        for v in _variants(tok.lower()):
            index.setdefault(v, []).append(tok)
    reported: set[frozenset] = set()
    for tok, n in counts.items():
        cands = set()
        for v in _variants(tok.lower()):
            cands.update(index.get(v, ()))
        for other in cands:
            if other == tok or frozenset((tok, other)) in reported:
                continue
            rare, common = (tok, other) if counts[tok] <= counts[other] else (other, tok)
            # spelled once; or twice against five times, two letters swapped (Kawarua / Kawarau): a
            # slip made twice, not a second name
            twice = counts[rare] == 2 and counts[common] >= 5 and len(rare) >= 6 and _swapped(rare, common) \
                and not is_known_word(rare.lower())
            if counts[common] < 2 or counts[rare] > 1 and not twice:
                continue
            lo_r, lo_c = rare.lower(), common.lower()
            short, long_ = sorted((lo_r, lo_c), key=len)
            if long_[len(short):] in ("s", "d") and long_.startswith(short) or \
                    short.endswith("e") and long_ == short + "d":
                continue  # an inflection (team_role / team_roles, exfiltrate / exfiltrated), not a misspelling
            if rare.startswith("@") != common.startswith("@"):
                continue
            case_only = rare.lower() == common.lower()
            if case_only:
                # only internal case differences (QuietMisdreavus / Quietmisdreavus), never just the first letter
                if rare[1:] == common[1:] or rare[2:] == common[2:] and rare.startswith("@"):
                    continue
                if not (ident_like(rare) and ident_like(common)):
                    continue
            else:
                if not _one_edit(rare.lower(), common.lower()) or rare[1:].lower() == common.lower() \
                        or common[1:].lower() == rare.lower() or rare[:1].lower() != common[:1].lower():
                    continue  # an edit at the very start is another name (CPython / Python), not a typo
                if not (ident_like(rare) or ident_like(common)) and is_known_word(rare.lstrip("@").lower()):
                    continue
                if all(is_known_word(w) or inflected_known(w) for w in (lo_r.lstrip("@"), lo_c.lstrip("@"))):
                    continue  # two words (deployer / deployed), the dictionary's or its inflections
                if not (ident_like(rare) or ident_like(common)) and \
                        any(long_.startswith(short) and is_known_word(short) for short, long_ in
                            ((lo_r, lo_c), (lo_c, lo_r))):
                    continue  # a word with a letter added at the end is another name (build / buildx), not a typo
                if len(rare.lstrip("@")) < 5:
                    continue
                if len(lo_r) == len(lo_c) and lo_r[:-1] == lo_c[:-1] and not lo_r[-2].isalpha():
                    continue  # an enumerated suffix (shard_a / shard_b, web1a / web1b): two things, not a typo
                if rare[0].isupper() != common[0].isupper() and not rare.startswith("@"):
                    continue
            if _cut_by_a_space(sections, first[rare], rare, common):
                continue
            reported.add(frozenset((tok, other)))
            yield _spelled_two_ways(sections, counts, first, rare, common)
    yield from _two_edit_findings(sections, counts, first, ident_like, reported)


def _cut_by_a_space(sections: list[Section], at: tuple[int, int], rare: str, common: str) -> bool:
    """'Aviatio n' once beside 'Aviation' 22 times: the rare spelling is the common one that a PDF's
    text extraction (or a stray space) cut in two, not a second name."""
    text = sections[at[0]].text
    end = at[1] + len(rare)
    rest = common[len(rare):] if common.lower().startswith(rare.lower()) else ""
    return bool(rest) and text[end:end + 1 + len(rest)].lower() == " " + rest.lower()


def _swapped(a: str, b: str) -> bool:
    """a and b differ by two adjacent letters swapped."""
    diff = [i for i, (x, y) in enumerate(zip(a, b)) if x != y] if len(a) == len(b) else []
    return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]


_DIGITS = re.compile(r"\d+")
MAX_GROUP = 200  # identifiers compared per group (same start, same digits) ...
MAX_COMPARISONS = 5000  # ... and in all: bounded work on a document of ten thousand handles


def _two_edit_findings(sections: list[Section], counts: dict[str, int], first: dict[str, tuple[int, int]],
                       ident_like, reported: set[frozenset]):
    """A handle two letter-edits from one used three times or more (`meinstate12` once, `meisnate12`
    five times: two letters swapped and one added). Only for identifiers of 8 characters or more that
    are identifier-shaped (digits, underscores, @, inner capitals), with the same first two letters and
    the same digits: a longer handle typed twice differently, not two names."""
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for tok, n in counts.items():
        if len(tok.lstrip("@")) >= 8 and ident_like(tok) and (n == 1 or n >= 3):
            key = (tok[:2].lower(), tuple(_DIGITS.findall(tok)))
            groups.setdefault(key, []).append(tok)
    budget = MAX_COMPARISONS
    for toks in groups.values():
        rare = [t for t in toks if counts[t] == 1][:MAX_GROUP]
        common = [t for t in toks if counts[t] >= 3][:MAX_GROUP]
        for r in rare:
            for c in common:
                if abs(len(r) - len(c)) > 2 or frozenset((r, c)) in reported or r.lower() == c.lower() \
                        or r.startswith("@") != c.startswith("@"):
                    continue
                budget -= 1
                if budget < 0:
                    return
                if _letter_edits(r.lower(), c.lower()) != 2:
                    continue
                reported.add(frozenset((r, c)))
                yield _spelled_two_ways(sections, counts, first, r, c)


def _spelled_two_ways(sections: list[Section], counts: dict[str, int], first: dict[str, tuple[int, int]],
                      rare: str, common: str) -> tuple[int, Finding]:
    ci, _ = first[common]
    word = _word_both_miss(rare, common)
    return first[rare][0], Finding(
        type="suggestion", category="consistency: name spelled two ways", risk="low",
        description=(f"'{rare}' appears {'once' if counts[rare] == 1 else f'{counts[rare]} times'}, while "
                     f"'{common}' appears {counts[common]} times: "
                     + (f"both are misspellings of '{word}'." if word else
                        "the same name seems to be spelled two ways.")),
        suggestion=(f"Write '{word}' in both places." if word else
                    f"Use one spelling throughout (probably '{common}')."),
        quote=rare, confidence=0.7, related_section_id=sections[ci].id, related_quote=common)


def _letter_edits(a: str, b: str, cap: int = 3) -> int:
    """Edits between a and b (substitution, insertion, deletion, adjacent swap: the optimal string
    alignment distance), counting only up to `cap`; a digit changed counts as `cap` (another number)."""
    if abs(len(a) - len(b)) >= cap:
        return cap
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else (1 if a[i - 1].isalpha() and b[j - 1].isalpha() else cap)
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) >= cap:
            return cap
        prev2, prev = prev, cur
    return min(prev[-1], cap)


def _word_both_miss(rare: str, common: str) -> str | None:
    """The one word of the dictionary that both spellings are a letter away from ('recepient' and
    'receipient' for 'recipient'), when neither is a word itself: then neither is the one to keep."""
    if not (rare.islower() and common.islower()) or is_known_word(common) or is_known_word(rare):
        return None
    shared = set(_edits1_known(rare)) & set(_edits1_known(common))
    return next(iter(shared)) if len(shared) == 1 else None
