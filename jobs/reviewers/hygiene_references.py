"""Broken internal references: "see section 7" in a five-section document, "see Appendix B" with
no appendix, "Figure 3" with no caption. A section of another document ("Section 4.2 of the PDF
Reference", "Annex A of the C99 standard", "section 13(1) of the ... Act") is not this one's, and
"section 3.33" is good where a paragraph is numbered 3.33 (formal reports number paragraphs).
"""

from __future__ import annotations

import re

from redline.jobs.models import Finding, Section
from redline.jobs.reviewers.hygiene_text import MAX_PER_RULE


REF = re.compile(r"\b(?:see|in|under|per|cf\.?)\s(?:the\s)?(section|appendix|annex|figure|fig\.|table|step)\s"
                 r"([0-9]{1,3}(?:\.[0-9]{1,3})?|[A-Z])\b", re.IGNORECASE)


# After the reference: its sub-number, then "of"/"in" another document ("of the PDF specification",
# "of RFC 9110", "in the C99 standard").
# A subsection in brackets may come first: "section 13(1) of the Transport Accident Investigation Commission Act".
EXTERNAL = re.compile(r"(?:\.[0-9]{1,3}){0,3}(?:\([0-9a-z]{1,4}\)){0,3}\)?,?\s{1,3}(?:of|in)\s{1,3}(?:the\s{1,3})?"
                      r"(?:[A-Z]|[a-z]{1,20}\s{1,3}[A-Z])")


PARAGRAPH_NUMBER = re.compile(r"(?m)^[ \t]{0,8}([0-9]{1,3}\.[0-9]{1,3})[ \t]")


def _broken_refs(section: Section, sections: list[Section]) -> list[Finding]:
    text = section.text
    out = []
    all_text = None
    paragraphs: set[str] | None = None
    titles = [s.title.strip() for s in sections]
    for m in REF.finditer(text):
        if len(out) >= MAX_PER_RULE:
            break
        kind, ref = m.group(1).lower().rstrip("."), m.group(2)
        if EXTERNAL.match(text, m.end()):
            continue  # "Section 4.2 of the PDF Reference", "Annex A of the C99 standard": another document's
        if kind == "section":
            if "." in ref:
                if paragraphs is None:
                    paragraphs = {p.group(1) for s in sections for p in PARAGRAPH_NUMBER.finditer(s.text)}
                if ref in paragraphs:
                    continue  # a numbered paragraph ("3.33 All the key personnel..."), as formal reports number them
            if ref.isdigit():
                n = int(ref)
                numbered = any(t.startswith((f"{n}.", f"{n} ", f"{n})", f"Section {n}")) for t in titles)
                if numbered or (n <= len(sections) and not any(t[:1].isdigit() for t in titles)):
                    continue
            else:
                if any(t.startswith((f"{ref}.", f"{ref} ", f"{ref})")) for t in titles):
                    continue
        elif kind in ("appendix", "annex"):
            if any(t.lower().startswith((f"{kind} {ref.lower()}",)) or f"{kind} {ref.lower()}" in t.lower()
                   for t in titles):
                continue
        else:
            if all_text is None:
                all_text = "\n".join(s.text for s in sections)
            label = f"{m.group(1)} {ref}"
            # a caption elsewhere ("Figure 3:" / "Table 2." at a line start) makes the reference good
            if any(line.strip().lower().startswith(label.lower()) for line in all_text.splitlines()):
                continue
            if kind == "step":
                continue  # step numbers usually refer to a list, which we do not parse
        out.append(Finding(type="important", category="reference", risk="medium",
                           description=f"'{m.group()}' points to {'an' if kind[:1] in 'aeiou' else 'a'} {kind} "
                                       "the document does not have.",
                           suggestion="Fix the reference or add the missing part.",
                           quote=m.group(), confidence=0.7))
    return out
