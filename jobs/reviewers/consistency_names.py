"""An identifier or handle spelled two ways: `username` once against `userhame` three times,
`@jdoe` / `@jdeo`, `QuietMisdreavus` / `Quietmisdreavus`.

Tokens one edit apart are found with a symmetric deletion index (`consistency_text._variants`:
linear in the tokens). A pair is reported when one spelling is rare and the other common, and
the difference is not an inflection, a different name (an edit at the very start, a letter added to
a word: build / buildx, an enumerated suffix: shard_a / shard_b) or two real words (the spelling
rule's dictionary, `hygiene_dictionary.is_known_word`).
"""

from __future__ import annotations

import re

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import _one_edit, _variants, in_spans, url_spans
from redline.jobs.reviewers.hygiene_dictionary import is_known_word


IDENT = re.compile(r"@?[A-Za-z][A-Za-z0-9_]{3,39}")


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
                    or text[a - 1:a] in ("/", "-", "#") or text[b:b + 1] in ("-", "'", "\u2019"):
                continue
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
            if counts[common] < 2 or counts[rare] > 1:
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
                if is_known_word(rare.lstrip("@").lower()) and is_known_word(common.lstrip("@").lower()):
                    continue
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
            reported.add(frozenset((tok, other)))
            si, pos = first[rare]
            ci, cpos = first[common]
            yield si, Finding(
                type="suggestion", category="consistency: name spelled two ways", risk="low",
                description=(f"'{rare}' appears once, while '{common}' appears {counts[common]} times: "
                             f"the same name seems to be spelled two ways."),
                suggestion=f"Use one spelling throughout (probably '{common}').",
                quote=rare, confidence=0.7, related_section_id=sections[ci].id, related_quote=common)
