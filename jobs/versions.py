"""Rounds: the next version of a write-up, matched against the previous one.

`match_sections` pairs the new version's sections with the old ones by title and
by content (shared word 3-grams), so a section that was renamed, moved, split in
two or merged with its neighbour is still "the same section"; `resolve` then says
what became of each earlier finding:

- ``open``: its quote is still in the document (the finding moves with it);
- ``resolved``: its quote is gone, or was rewritten as the finding proposed;
- ``outdated``: its section is gone.

Pure functions over plain data, linear in the text (an inverted index over the
3-grams; a 3-gram found in many old sections is skipped as boilerplate), so a
hostile upload costs bounded time. The store writes the result in one event
(`Store.add_version`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, Sequence

Change = Literal["unchanged", "changed", "added"]
Resolution = Literal["open", "resolved", "outdated"]

_WORD = re.compile(r"\w+")
_NUMBERING = re.compile(r"^\(?\d+(?:\.\d+)*[.)]?\s+")  # "2.1 ", "(3) ", "3) " before a title
COMMON = 8  # a 3-gram in more old sections than this says nothing about where text went
SAME_TITLE_MIN = 0.15  # a repeated title also needs this much shared content
RENAMED_MIN = 0.5  # different titles: this much shared content (Dice) makes them one section
PART_MIN = 0.6  # a split part / a merged section: this share of it came from / went to the other


@dataclass(frozen=True, slots=True)
class Old:
    """A section of the previous version."""

    id: str
    title: str
    text: str


@dataclass(slots=True)
class Matched:
    """A section of the new version and where it came from."""

    index: int
    id: str
    title: str
    text: str
    change: Change = "added"
    previous_ids: list[str] = field(default_factory=list)
    previous_title: str | None = None  # set when renamed
    previous_text: str | None = None  # set when the text changed (the old text, joined if merged)
    moved: bool = False


@dataclass(slots=True)
class Matching:
    sections: list[Matched]
    targets: dict[str, list[str]]  # old id -> the new ids its text went to (empty: removed)

    @property
    def removed(self) -> list[str]:
        return [oid for oid, new in self.targets.items() if not new]


def norm_title(title: str) -> str:
    t = _NUMBERING.sub("", title.casefold().strip(), count=1)
    return " ".join(_WORD.findall(t))


def shingles(text: str) -> set[int]:
    words = _WORD.findall(text.casefold())
    if len(words) < 3:
        return {hash(w) for w in words}
    return {hash((words[i], words[i + 1], words[i + 2])) for i in range(len(words) - 2)}


def _overlaps(old: Sequence[set[int]], new: Sequence[set[int]]) -> list[dict[int, int]]:
    """For each new section, {old index: shared 3-grams}; linear in the total 3-grams."""
    where: dict[int, list[int]] = {}
    for i, sh in enumerate(old):
        for h in sh:
            where.setdefault(h, []).append(i)
    out: list[dict[int, int]] = []
    for sh in new:
        counts: dict[int, int] = {}
        for h in sh:
            olds = where.get(h)
            if olds and len(olds) <= COMMON:
                for i in olds:
                    counts[i] = counts.get(i, 0) + 1
        out.append(counts)
    return out


def _moved(pairs: list[tuple[int, int]]) -> set[int]:
    """New indices of matched sections that are out of their old order: those not on a longest
    increasing run of old indices (patience sorting, n log n)."""
    import bisect

    tails: list[int] = []
    tail_at: list[int] = []
    back: list[int] = [-1] * len(pairs)
    for k, (_, oi) in enumerate(pairs):
        pos = bisect.bisect_left(tails, oi)
        if pos == len(tails):
            tails.append(oi)
            tail_at.append(k)
        else:
            tails[pos] = oi
            tail_at[pos] = k
        back[k] = tail_at[pos - 1] if pos else -1
    keep: set[int] = set()
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        keep.add(k)
        k = back[k]
    return {pairs[k][0] for k in range(len(pairs)) if k not in keep}


def match_sections(old: Sequence[Old], new: Sequence[tuple[str, str]], new_id: Any) -> Matching:
    """Match `new` ((title, text) in order) to `old`. `new_id()` names a section with no
    earlier counterpart; a matched section keeps its old id, so findings stay attached."""
    old_sh = [shingles(o.text) for o in old]
    new_sh = [shingles(text) for _, text in new]
    ov = _overlaps(old_sh, new_sh)
    old_titles = [norm_title(o.title) for o in old]
    new_titles = [norm_title(t) for t, _ in new]
    title_count: dict[str, int] = {}
    for t in old_titles + new_titles:
        title_count[t] = title_count.get(t, 0) + 1

    def dice(i: int, j: int) -> float:
        a, b = len(old_sh[i]), len(new_sh[j])
        if not a and not b:
            return 1.0 if old[i].text.strip() == new[j][1].strip() else 0.0
        return 2 * ov[j].get(i, 0) / (a + b) if a + b else 0.0

    # 1. one-to-one: same title (unique in both versions, or sharing content), or much shared content
    candidates: list[tuple[float, int, int]] = []
    by_title: dict[str, list[int]] = {}
    for i, t in enumerate(old_titles):
        by_title.setdefault(t, []).append(i)
    for j, t in enumerate(new_titles):
        for i in by_title.get(t, ()) if t else ():
            d = dice(i, j)
            if title_count[t] == 2 or d >= SAME_TITLE_MIN:
                candidates.append((1.0 + d, i, j))
        for i in ov[j]:
            if old_titles[i] != t:
                d = dice(i, j)
                if d >= RENAMED_MIN:
                    candidates.append((d, i, j))
    candidates.sort(key=lambda c: (-c[0], c[2], c[1]))
    old_to: dict[int, int] = {}
    new_from: dict[int, int] = {}
    for _, i, j in candidates:
        if i not in old_to and j not in new_from:
            old_to[i], new_from[j] = j, i

    sections = [Matched(index=j, id="", title=t, text=x) for j, (t, x) in enumerate(new)]
    sources: dict[int, list[int]] = {j: [i] for j, i in new_from.items()}
    targets: dict[int, list[int]] = {i: [j] for i, j in old_to.items()}
    # 2. split: a new section most of which came from one old section that is matched elsewhere
    for j in range(len(new)):
        if j in new_from or not new_sh[j]:
            continue
        best = max(ov[j].items(), key=lambda kv: (kv[1], -kv[0]), default=None)
        if best and best[1] / len(new_sh[j]) >= PART_MIN:
            sources[j] = [best[0]]
            targets.setdefault(best[0], []).append(j)
    # 3. merged: an unmatched old section most of which went into one new section
    into: dict[int, list[tuple[int, int]]] = {i: [] for i in range(len(old)) if i not in targets}
    for j, counts in enumerate(ov):
        for i, n in counts.items():
            if i in into:
                into[i].append((n, j))
    for i, cands in into.items():
        if not cands or not old_sh[i]:
            continue
        n, j = max(cands, key=lambda c: (c[0], -c[1]))
        if n / len(old_sh[i]) >= PART_MIN:
            targets[i] = [j]
            sources.setdefault(j, []).append(i)

    moved = _moved(sorted(new_from.items()))
    for m in sections:
        src = sorted(sources.get(m.index, []))
        if not src:
            m.id, m.change = new_id(), "added"
            continue
        primary = new_from.get(m.index)
        m.id = old[primary].id if primary is not None else new_id()
        m.previous_ids = [old[i].id for i in src]
        olds = [old[i] for i in src]
        if primary is not None and old[primary].title.strip() != m.title.strip():
            m.previous_title = old[primary].title
        same_text = len(olds) == 1 and primary is not None and olds[0].text == m.text
        m.change = "unchanged" if same_text else "changed"
        if not same_text:
            m.previous_text = "\n\n".join(o.text for o in olds)
        m.moved = m.index in moved
    by_index = {m.index: m.id for m in sections}
    return Matching(sections=sections,
                    targets={o.id: [by_index[j] for j in sorted(targets.get(i, []))] for i, o in enumerate(old)})


def _squash(text: str) -> str:
    return " ".join(text.split())


def _find(quote: str, texts: dict[str, str], order: Sequence[str]) -> str | None:
    """The first section (in `order`) whose text holds `quote`, exactly or up to whitespace."""
    for sid in order:
        if quote in texts[sid]:
            return sid
    q = _squash(quote)
    for sid in order:
        if q and q in _squash(texts[sid]):
            return sid
    return None


def resolve(item: dict[str, Any], matching: Matching, texts: dict[str, str], version: int) -> dict[str, Any]:
    """The item after the new version (`texts`: its sections' text by id): `resolution` and
    `section_id` (and a related section that moved) set, `settled_in` the version that resolved
    or outdated it; everything else (its decision, its text) kept."""
    out = _resolve(item, matching, texts)
    if out.get("resolution") in ("resolved", "outdated") and item.get("resolution") not in ("resolved", "outdated"):
        out["settled_in"] = version
    return out


def _resolve(item: dict[str, Any], matching: Matching, texts: dict[str, str]) -> dict[str, Any]:
    out = dict(item)
    old_sid = item["section_id"]
    known = old_sid in matching.targets
    targets = matching.targets.get(old_sid, []) if known else ([old_sid] if old_sid in texts else [])
    related = item.get("related_section_id")
    if related and related not in texts:
        rt = matching.targets.get(related) or []
        out["related_section_id"] = rt[0] if rt else None
        if not rt:
            out["related_quote"] = None
    if item.get("resolution") in ("resolved", "outdated"):
        if targets:
            out["section_id"] = targets[0]
        return out  # settled in an earlier round
    if not targets:
        out["resolution"] = "outdated"
        return out
    quote = item.get("quote")
    if not quote:
        out["resolution"], out["section_id"] = "open", targets[0]
        return out
    rewrite = item.get("replacement")
    if rewrite and rewrite.strip() != quote.strip() and (where := _find(rewrite, texts, targets)):
        out["resolution"], out["section_id"] = "resolved", where  # rewritten as proposed
        return out
    where = _find(quote, texts, targets) or _find(quote, texts, [s for s in texts if s not in targets])
    if where is not None:
        out["resolution"], out["section_id"] = "open", where
    else:
        out["resolution"], out["section_id"] = "resolved", targets[0]
    return out
