"""Write-up hygiene, one section at a time (with the whole document for context).

`section_findings(section, sections)` flags what a careful copy-editor would. Each rule family
has its own module, named for what it checks:

- `hygiene_placeholders.py`: leftover template text and placeholders: TODO/TBD/FIXME/XXX,
  `{placeholder}`, `[insert ...]`, `<name>`, "Lorem ipsum", a section that is only empty bullets,
  known template instructions;
- `hygiene_dates.py`: malformed clock times (25:10, 14:75), dates without a year when the
  document names none, a timeline with clock times and no time zone anywhere in the document
  (once per document; "7:09 AM Eastern" names one), and a timeline on a 12-hour clock without
  AM/PM in a document that writes "6pm" elsewhere (once per document);
- `hygiene_spelling.py`: doubled words ("the the"), and spelling, with the dictionary of
  `hygiene_dictionary.py` (pyspellchecker's offline English dictionary plus a technical
  vocabulary) and the document's own words; only a single, close, frequent correction is
  offered; plus short misspellings no dictionary rule can risk ("hav", "teh"), words run together
  ("usecase"), a technical term one edit off ("reop2docker"), real-word errors with a certain fix
  ("I though I", "rather then");
- `hygiene_grammar.py`: grammar whose fix is certain: agreement ("This seem to", "Both issues was"),
  a missing "be" ("must manually kicked"), "to so", and "a"/"an" ("an nonintrusive way");
- `hygiene_references.py`: broken internal references ("see section 7" with five sections, "see
  Appendix B" with none);
- `hygiene_headings.py`: an empty template section, and numbered headings that change style
  mid-list ("1)", "2)", then "3.");
- `hygiene_text.py`: what they share (the per-rule cap, which lines are prose).

Everything is linear in the text (str methods, bounded regexes, one pass per rule).
Confidences are the precision measured on the tuning half of bench/quality/corpus
(bench/quality/try_rules.py). The rule modules' public names stay importable from here.
"""

from __future__ import annotations

import re
from functools import lru_cache

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.consistency_text import WORD
from redline.jobs.reviewers.hygiene_dates import (
    _malformed_times, _missing_zone, _mixed_clock, _twelve_hour_clock, _yearless_dates,
)
from redline.jobs.reviewers.hygiene_dictionary import (
    BRITISH, PREFIXES, RUN_TOGETHER, TECH_WORDS, inflected_known, is_known_word,
)
from redline.jobs.reviewers.hygiene_headings import HEADING_NUMBER, _empty_section, _numbering_switch
from redline.jobs.reviewers.hygiene_placeholders import (
    MARKERS, PLACEHOLDER_WORDS, TEMPLATE_PHRASES, _placeholder_findings,
)
from redline.jobs.reviewers.hygiene_references import REF, _broken_refs
from redline.jobs.reviewers.hygiene_grammar import (
    AGREEMENT_VERBS, _agreement, _article, _been_base, _have_being, _have_past, _modal_participle, _no_to,
    _plural_singular, _to_so,
)
from redline.jobs.reviewers.hygiene_spelling import (
    CERTAIN_PHRASES, CONFUSABLES, DOMINANCE, FUNCTION_WORDS, LEGIT_DOUBLES, MIN_CORRECTION_FREQ, MIN_TECH_TYPO,
    SHORT_TYPOS, _doubled, _heading_spelling, _spelling,
)
from redline.jobs.reviewers.hygiene_text import MAX_PER_RULE

__all__ = [
    "AGREEMENT_VERBS", "BRITISH", "CERTAIN_PHRASES", "CONFUSABLES", "DOMINANCE", "FUNCTION_WORDS", "HEADING_NUMBER",
    "LEGIT_DOUBLES", "MARKERS", "MAX_PER_RULE", "MIN_CORRECTION_FREQ", "MIN_TECH_TYPO", "PLACEHOLDER_WORDS",
    "PREFIXES", "REF", "RUN_TOGETHER", "SHORT_TYPOS", "TECH_WORDS", "TEMPLATE_PHRASES", "is_known_word",
    "section_findings",
]


def _doc_words(sections: list[Section]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for s in sections:
        for t in (s.title, s.text):
            for m in WORD.finditer(t):
                w = m.group().lower().strip("'")
                counts[w] = counts.get(w, 0) + 1
    return counts


def section_findings(section: Section, sections: list[Section]) -> list[Finding]:
    """Hygiene findings for one section; `sections` is the whole document (for context)."""
    words = _doc_words_cached(tuple((s.id, s.title, s.text) for s in sections)) if sections else {}
    out: list[Finding] = []
    for f in (_placeholder_findings(section) + _doubled(section) + _spelling(section, words) + _heading_spelling(section, words) + _agreement(section)
              + _plural_singular(section) + _modal_participle(section) + _been_base(section) + _have_being(section)
              + _have_past(section) + _to_so(section) + _no_to(section)
              + _article(section)
              + _malformed_times(section) + _missing_zone(section, sections) + _twelve_hour_clock(section, sections)
              + _mixed_clock(section, sections)
              + _yearless_dates(section, sections) + _broken_refs(section, sections)
              + _empty_section(section, sections) + _numbering_switch(section, sections)):
        if f.quote is not None and f.quote not in section.text:
            continue
        if f.category.startswith("spelling") and f.quote and _in_broken_row(section.text, f.quote):
            continue
        if any(g.quote == f.quote and g.category == f.category for g in out):
            continue
        if f.category.startswith(("spelling", "grammar")) and f.quote and f.suggestion and f.suggestion != f.quote:
            # a typo or a doubled word has one certain fix: the suggestion is the quote rewritten,
            # offered as the finding's replacement (a Word tracked change once accepted)
            f = f.model_copy(update={"replacement": f.suggestion})
        out.append(f)
    return out


_FRAGMENT = re.compile(r"[A-Za-z]{4,}")
_BROKEN_ROW = 3  # word fragments in one table row: its cells' words were cut at the cell's edge


def _in_broken_row(text: str, quote: str) -> bool:
    """The quote sits in a table row whose words are cut where a narrow cell wrapped them ("Vessel |
    Previou Previou Detenti Accide", a PDF's table read line by line): not the author's typos."""
    at = text.find(quote)
    start, end = text.rfind("\n", 0, at) + 1, text.find("\n", at + len(quote))
    line = text[start:end if end >= 0 else len(text)]
    if " | " not in line:
        return False
    cut = sum(1 for w in _FRAGMENT.findall(line) if not is_known_word(w.lower()) and not inflected_known(w.lower()))
    return cut >= _BROKEN_ROW


@lru_cache(maxsize=8)
def _doc_words_cached(key: tuple) -> dict[str, int]:
    return _doc_words([Section(id=i, title=t, index=k, text=x) for k, (i, t, x) in enumerate(key)])
