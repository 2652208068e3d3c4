"""The model's findings for one section, validated as they stream.

`FindingCheck` turns each raw item into a `Finding` (quote mapped to the exact section text, refs
kept to the checklist's ids), and drops invalid, weak and near-duplicate items (`similar`), across
every retry of the call. `strict_json` parses as the answer demands: no NaN or Infinity.
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from typing import Any

from pydantic import ValidationError

from redline.jobs.models import Finding
from redline.jobs.reviewers.checklist import CHECKLIST_BY_ID
from redline.jobs.reviewers.claude_quotes import QuoteFinder


QUOTE_MISS_FACTOR = 0.6
DUPLICATE_RATIO = 0.85


def _ratio(a: str, b: str) -> float:
    return SequenceMatcher(None, " ".join(a.lower().split()), " ".join(b.lower().split())).ratio()


def similar(a: Finding, b: Finding) -> bool:
    """Near-duplicates: same category, nearly the same description, and not about two
    different passages (the same remark on two sentences is two findings)."""
    if a.category.strip().lower() != b.category.strip().lower():
        return False
    if _ratio(a.description, b.description) <= DUPLICATE_RATIO:
        return False
    return not (a.quote and b.quote and _ratio(a.quote, b.quote) <= DUPLICATE_RATIO)


class FindingCheck:
    """Validates the model's findings for one section, across every retry of the call.

    Each raw item goes through `Finding`; the quote is mapped to the exact section text
    (or dropped, with the confidence cut); refs are kept to the checklist's ids; weak
    items (below min_confidence) and near-duplicates of items already given are dropped.
    Items are yielded as they stream, so of two near-duplicates the first one stays.
    """

    def __init__(self, section_text: str, min_confidence: float, *, section_id: str | None = None,
                 others: dict[str, str] | None = None) -> None:
        self.quotes = QuoteFinder(section_text)
        self.min_confidence = min_confidence
        self.section_id = section_id
        self.others = {k: v for k, v in (others or {}).items() if k != section_id}  # id -> text
        self._other_quotes: dict[str, QuoteFinder] = {}
        self.kept: list[Finding] = []
        self.dropped: dict[str, int] = {"invalid": 0, "weak": 0, "duplicate": 0}

    def accept(self, raw: Any) -> Finding | None:
        finding = self._validate(raw)
        if finding is None:
            self.dropped["invalid"] += 1
            return None
        if finding.confidence < self.min_confidence:
            self.dropped["weak"] += 1
            return None
        if any(similar(finding, k) for k in self.kept):
            self.dropped["duplicate"] += 1
            return None
        self.kept.append(finding)
        return finding

    def _validate(self, raw: Any) -> Finding | None:
        if not isinstance(raw, dict):
            return None
        item = dict(raw)
        try:
            f = Finding.model_validate({
                **item,
                "category": str(item.get("category") or "").strip()[:80],
                "questions": [q for q in (item.get("questions") or []) if isinstance(q, str) and q.strip()][:10],
                "refs": [],
                "quote": None,
                "related_section_id": None,
                "related_quote": None,
                "replacement": None,
                "confidence": min(1.0, max(0.0, float(item.get("confidence", 0.7)))),
            })
        except (ValidationError, TypeError, ValueError):
            return None
        quote = self.quotes.find(item.get("quote") if isinstance(item.get("quote"), str) else None)
        confidence = f.confidence
        if item.get("quote") and quote is None:
            confidence = round(confidence * QUOTE_MISS_FACTOR, 3)
        refs: list[str] = []
        for r in item.get("refs") or []:
            rid = str(r).strip().upper()
            if rid in CHECKLIST_BY_ID and rid not in refs:
                refs.append(rid)
        if quote is not None and len(quote) > 4000:
            quote = None
        related, related_quote = self._related(item.get("related_section_id"), item.get("related_quote"))
        replacement = item.get("replacement") if isinstance(item.get("replacement"), str) else None
        if quote is None or not replacement or not replacement.strip() or replacement == quote:
            replacement = None  # a rewrite stands where an exact quote stands, or nowhere
        return f.model_copy(update={"quote": quote, "refs": refs[:20], "confidence": confidence,
                                    "related_section_id": related, "related_quote": related_quote,
                                    "replacement": replacement[:4000] if replacement else None})

    def _related(self, section_id: Any, quote: Any) -> tuple[str | None, str | None]:
        """Another section of the document (never this one), and its exact passage if found."""
        if not isinstance(section_id, str) or section_id not in self.others:
            return None, None
        finder = self._other_quotes.get(section_id)
        if finder is None:
            finder = self._other_quotes[section_id] = QuoteFinder(self.others[section_id])
        found = finder.find(quote if isinstance(quote, str) else None)
        return section_id, found if found is not None and len(found) <= 4000 else None


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def strict_json(text: str) -> Any:
    """json.loads without NaN/Infinity: what the SDK's lenient partial parser would accept, we don't."""
    return json.loads(text, parse_constant=_no_constants)
