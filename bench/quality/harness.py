"""Match the offline reviewer's findings to the corpus labels; count true, false and missed.

Each document of bench/quality/corpus is parsed by the product's own parser and reviewed,
section by section, through `OfflineReviewer.analyze` with the whole document in the
request, as a worker would (no pacing). Then:

- a labelled problem is **located** by its quote in the parsed text (whitespace collapsed); a quote
  that is only a heading ("Questions for follow up" left from a template) stands for its section;
- a finding with a quote is **true** when its quote (or its related quote) overlaps a located
  problem's quote or related quote, in the same section; when it overlaps several, it stands for
  one not yet matched, preferring the one it overlaps by the problem's own quote, then one of its
  category; the second finding on the same problem is a **duplicate** and counts as false
  (near-duplicates must be merged);
- a finding without a quote is true when its section holds a problem of its category;
- everything else is **false**; a false finding that overlaps a labelled not-problem is
  marked so (the reviewer fell for what only looks like a problem);
- a problem no finding matched is **missed**.

Precision = true / findings; recall = matched problems / problems.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline.jobs.documents import parse_document
from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import offline_confidence
from redline.jobs.reviewers.base import AnalysisRequest
from redline.jobs.reviewers.offline_reviewer import OfflineReviewer
from redline.jobs.settings import Settings

CORPUS = Path(__file__).resolve().parent / "corpus"

# A finding's free-text category -> the label categories it can stand for.
CATEGORY_WORDS: list[tuple[str, tuple[str, ...]]] = [
    ("consisten", ("consistency",)), ("contradict", ("consistency",)), ("timeline", ("timeline", "consistency")),
    ("order", ("timeline",)), ("placeholder", ("placeholder",)), ("template", ("placeholder",)),
    ("date", ("date_format", "timeline")), ("time zone", ("timezone",)), ("timezone", ("timezone",)),
    ("spelling", ("spelling",)), ("typo", ("spelling",)), ("reference", ("reference",)),
    ("evidence", ("evidence",)), ("source", ("evidence",)), ("root cause", ("root_cause",)),
    ("cause", ("root_cause",)), ("action", ("actions",)), ("owner", ("actions",)), ("impact", ("impact",)),
    ("language", ("clarity",)), ("clarity", ("clarity",)), ("wording", ("clarity",)), ("duration", ("consistency",)),
]


def norm(text: str) -> str:
    return " ".join(text.split())


def label_categories(category: str) -> set[str]:
    c = category.lower()
    return {x for word, cats in CATEGORY_WORDS if word in c for x in cats} or {"other"}


@dataclass
class Located:
    section: int
    start: int
    end: int


def rendered(quote: str) -> str:
    """A label's quote as the parser renders Markdown: inline markup gone, `*` bullets as `-`.
    (The labels quote the stored .md source; sections hold its readable text.)"""
    q = re.sub(r"\[([^\]\n]{0,300})\]\([^)\s]{0,500}\)", r"\1", quote)  # [text](url) -> text (bounded)
    q = q.replace("**", "").replace("__", "").replace("`", "")
    return "- " + q[2:] if q.startswith(("* ", "+ ")) else q


def locate(quote: str | None, texts: list[str], prefer: int | None = None) -> Located | None:
    """Where a quote stands in the parsed sections (normalised text), preferring one section."""
    if not quote or not norm(quote):
        return None
    order = ([prefer] if prefer is not None else []) + [i for i in range(len(texts)) if i != prefer]
    for q in dict.fromkeys((norm(quote), norm(rendered(quote)))):
        for i in order:
            k = texts[i].find(q)
            if k >= 0:
                return Located(i, k, k + len(q))
    return None


def locate_label(quote: str | None, texts: list[str], titles: list[str]) -> Located | None:
    """A label's quote in the text; a quote that is a heading (a template heading left in place)
    stands for its whole section, which is what a finding about that section quotes from."""
    at = locate(quote, texts)
    if at is None and quote and norm(quote):
        q = norm(quote)
        i = next((k for k, t in enumerate(titles) if norm(t) == q), None)
        if i is not None:
            return Located(i, 0, max(1, len(texts[i])))
    return at


def overlaps(a: Located | None, b: Located | None) -> bool:
    return a is not None and b is not None and a.section == b.section and a.start < b.end and b.start < a.end


@dataclass
class Outcome:
    finding: Finding
    section: int
    verdict: str = "false"  # true | false | duplicate
    trap: bool = False  # fell for a labelled not-problem
    problem: int | None = None


@dataclass
class DocResult:
    name: str
    kind: str
    split: str
    sections: int
    problems: int
    located: int
    outcomes: list[Outcome] = field(default_factory=list)
    matched: set[int] = field(default_factory=set)
    missed: list[dict[str, Any]] = field(default_factory=list)


def parsed_sections(path: Path) -> tuple[str, list[Section], str | None]:
    """The document's title (its file name's stem when it has none, as an upload's), its sections as
    a review holds them, and the day it gives itself: what the reviewer, and the rules alone
    (try_rules.py), are given."""
    parsed = parse_document(path.name, path.read_bytes(), max_bytes=64 << 20)
    return parsed.title or path.stem, [Section(id=f"s{i + 1}", title=s.title, index=i, text=s.text, level=s.level,
                                               marks=s.marks) for i, s in enumerate(parsed.sections)], parsed.date


async def review(path: Path, reviewer: OfflineReviewer) -> tuple[list[Section], dict[int, list[Finding]]]:
    title, sections, date = parsed_sections(path)
    out: dict[int, list[Finding]] = {}
    for s in sections:
        req = AnalysisRequest(review_title=title, section=s, outline=[x.title for x in sections],
                              sections=sections, review_date=date)
        out[s.index] = [f async for f in reviewer.analyze(req) if isinstance(f, Finding)]
    return sections, out


def judge(name: str, entry: dict[str, Any], sections: list[Section], found: dict[int, list[Finding]]) -> DocResult:
    labels = json.loads((CORPUS / entry["labels"]).read_text())
    texts = [norm(s.text) for s in sections]
    problems = labels.get("problems", [])
    titles = [s.title for s in sections]
    where = [(locate_label(p.get("quote"), texts, titles), locate_label(p.get("related_quote"), texts, titles))
             for p in problems]
    traps = [locate_label(t.get("quote"), texts, titles) for t in labels.get("not_problems", [])]
    res = DocResult(name, entry["kind"], entry["split"], len(sections), len(problems),
                    sum(1 for w in where if w[0] is not None))
    for i in sorted(found):
        for f in found[i]:
            o = Outcome(f, i)
            mine = [locate(f.quote, texts, prefer=i)]
            if f.related_quote:
                mine.append(locate(f.related_quote, texts))
            cats = label_categories(f.category)
            hits = []  # (preference, problem): a problem not yet matched, by its own quote, of the same kind first
            for k, (at, rel) in enumerate(where):
                same_kind = problems[k].get("category", "other") in cats
                if f.quote:
                    own = any(overlaps(m, at) for m in mine)
                    hit = own or any(overlaps(m, rel) for m in mine)
                else:
                    own = hit = at is not None and at.section == i and same_kind
                if hit:
                    hits.append(((k in res.matched, not own, not same_kind, k), k))
            if hits:
                k = min(hits)[1]
                o.problem = k
                o.verdict = "duplicate" if k in res.matched else "true"
                res.matched.add(k)
            if o.verdict == "false" and f.quote:
                o.trap = any(overlaps(mine[0], t) for t in traps)
            res.outcomes.append(o)
    res.missed = [p for k, p in enumerate(problems) if k not in res.matched]
    return res


def run(split: str | None = None) -> list[DocResult]:
    """Review and judge every document of the manifest (or of one split), with one reviewer."""
    manifest = [e for e in json.loads((CORPUS / "manifest.json").read_text()) if split in (None, e["split"])]

    async def all_documents() -> list[DocResult]:
        reviewer = OfflineReviewer(Settings(offline_pace_ms=0))
        try:
            results = []
            for entry in manifest:
                sections, found = await review(CORPUS / entry["file"], reviewer)
                results.append(judge(entry["file"], entry, sections, found))
            return results
        finally:
            await reviewer.aclose()

    return asyncio.run(all_documents())


def totals(results: list[DocResult]) -> dict[str, Any]:
    findings = [o for r in results for o in r.outcomes]
    true = sum(o.verdict == "true" for o in findings)
    problems = sum(r.problems for r in results)
    matched = sum(len(r.matched) for r in results)
    sections = sum(r.sections for r in results)
    return {
        "documents": len(results), "sections": sections, "findings": len(findings), "true": true,
        "false": len(findings) - true, "problems": problems, "matched": matched,
        "precision": true / len(findings) if findings else 1.0,
        "recall": matched / problems if problems else 1.0,
        "per_section": len(findings) / sections if sections else 0.0,
        "high_false": sum(o.verdict != "true" and o.finding.risk == "high" for o in findings),
        "traps": sum(o.trap for o in findings),
    }


def by_rule(results: list[DocResult]) -> dict[str, dict[str, Any]]:
    """Per finding category (the rule that made it): count, true, stated vs observed confidence."""
    rules: dict[str, dict[str, Any]] = {}
    for r in results:
        for o in r.outcomes:
            row = rules.setdefault(o.finding.category, {"findings": 0, "true": 0, "confidence": 0.0})
            row["findings"] += 1
            row["true"] += o.verdict == "true"
            row["confidence"] += o.finding.confidence
    for row in rules.values():
        row["precision"] = row["true"] / row["findings"]
        row["confidence"] = row["confidence"] / row["findings"]
    return rules


def calibration(results: list[DocResult]) -> dict[str, float]:
    """How well the stated confidences match: their mean beside the precision, and the Brier score
    (the mean squared gap between a finding's confidence and 1 if it was right, else 0)."""
    found = [o for r in results for o in r.outcomes]
    if not found:
        return {"stated": 0.0, "precision": 0.0, "brier": 0.0}
    right = [1.0 if o.verdict == "true" else 0.0 for o in found]
    return {"stated": sum(o.finding.confidence for o in found) / len(found), "precision": sum(right) / len(found),
            "brier": sum((o.finding.confidence - y) ** 2 for o, y in zip(found, right)) / len(found)}


def write_calibration(results: list[DocResult]) -> dict[str, tuple[int, int]]:
    """Write the tuning set's record per rule into offline_confidence.MEASURED (the rules' stated
    confidences); only the tuning set is read, never the held-out set."""
    record = {name: (row["findings"], row["true"])
              for name, row in sorted(by_rule([r for r in results if r.split == "tune"]).items())}
    body = "".join(f"    {name!r}: {rec!r},\n" for name, rec in record.items())
    path = Path(offline_confidence.__file__)
    text = path.read_text()
    start, end = text.index("# BEGIN MEASURED\n"), text.index("# END MEASURED")
    path.write_text(text[:start] + "# BEGIN MEASURED\nMEASURED: dict[str, tuple[int, int]] = {\n" + body + "}\n"
                    + text[end:])
    return record


def _cell(s: str, n: int = 90) -> str:
    s = re.sub(r"\s+", " ", s or "").replace("|", "\\|")
    return s if len(s) <= n else s[: n - 1] + "…"


def render(results: list[DocResult]) -> str:
    tune = [r for r in results if r.split == "tune"]
    held = [r for r in results if r.split == "heldout"]
    t, h = totals(tune), totals(held)
    lines = ["# Offline reviewer quality", "",
             "Generated by `python -m bench.quality` from bench/quality/corpus (real public write-ups with labels "
             "written before the rules were tuned; see its README for sources, licences and which documents are held "
             "out). How findings are matched to labels: bench/quality/harness.py.", "",
             "| set | documents | sections | findings | true | false | problems | found | precision | recall "
             "| findings / section | HIGH-risk false alarms | fell for a not-problem |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, x in (("held-out", h), ("tuning", t)):
        lines.append(f"| {name} | {x['documents']} | {x['sections']} | {x['findings']} | {x['true']} | {x['false']} "
                     f"| {x['problems']} | {x['matched']} | {x['precision']:.2f} | {x['recall']:.2f} "
                     f"| {x['per_section']:.2f} | {x['high_false']} | {x['traps']} |")
    lines += ["", "## Per document", "",
              "| document | set | kind | sections | findings | true | false | problems (located) | missed |",
              "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in results:
        true = sum(o.verdict == "true" for o in r.outcomes)
        lines.append(f"| {r.name} | {r.split} | {r.kind} | {r.sections} | {len(r.outcomes)} | {true} "
                     f"| {len(r.outcomes) - true} | {r.problems} ({r.located}) | {len(r.missed)} |")
    ct, ch = calibration(tune), calibration(held)
    lines += ["", "## Confidence", "",
              "Each rule's stated confidence is its record on the tuning set with two right and two wrong findings "
              "added, (right + 2) / (findings + 4), written into jobs/reviewers/offline_confidence.py by "
              "`python -m bench.quality --calibrate`; a rule the tuning set has not measured keeps its hand-set "
              "confidence. The held-out set is never read for it; how the stated confidences hold there is shown "
              "as a whole only. Brier score: the mean of (confidence - 1 if right, else 0) squared; lower is "
              "better, and always saying 0.5 scores 0.25.", "",
              "| set | findings | stated confidence (mean) | precision | Brier score |", "| --- | --- | --- | --- | --- |",
              f"| held-out | {h['findings']} | {ch['stated']:.2f} | {ch['precision']:.2f} | {ch['brier']:.3f} |",
              f"| tuning | {t['findings']} | {ct['stated']:.2f} | {ct['precision']:.2f} | {ct['brier']:.3f} |"]
    lines += ["", "## Per rule (finding category), tuning set", "",
              "The held-out set's figures per rule are not shown: picking or dropping rules by them would be "
              "tuning on it.", "",
              "| rule | findings | true | precision | stated confidence (mean) |", "| --- | --- | --- | --- | --- |"]
    for name, row in sorted(by_rule(tune).items(), key=lambda kv: (-kv[1]["findings"], kv[0])):
        lines.append(f"| {_cell(name, 40)} | {row['findings']} | {row['true']} | {row['precision']:.2f} "
                     f"| {row['confidence']:.2f} |")
    # Only the tuning set's false alarms and missed problems are listed: the held-out set's are its
    # labels, which must stay unseen by whoever tunes the rules (its counts are in the tables above).
    false = [(r, o) for r in tune for o in r.outcomes if o.verdict != "true"]
    false.sort(key=lambda ro: ({"high": 0, "medium": 1, "low": 2}[ro[1].finding.risk], -ro[1].finding.confidence))
    lines += ["", "## The worst false alarms (tuning set)", "",
              f"Held-out: {h['false']} false alarms, {h['high_false']} of them HIGH risk; not listed, so that "
              "they cannot be tuned on.", "", "| document | risk | category | finding | quote |",
              "| --- | --- | --- | --- | --- |"]
    for r, o in false[:15]:
        lines.append(f"| {r.name} | {o.finding.risk} | {_cell(o.finding.category, 30)} "
                     f"| {_cell(o.finding.description)} | {_cell(o.finding.quote or '—', 60)} |")
    if not false:
        lines.append("| (none) | | | | |")
    missed = [(r, p) for r in tune for p in r.missed]
    lines += ["", f"## Missed problems (tuning set: {len(missed)}; held-out: {h['problems'] - h['matched']}, not listed)",
              "", "| document | category | problem | quote |", "| --- | --- | --- | --- |"]
    for r, p in missed[:60]:
        lines.append(f"| {r.name} | {p.get('category')} | {_cell(p.get('what', ''))} | {_cell(p.get('quote', ''), 60)} |")
    notes = CORPUS.parent / "notes.md"  # the history and the reading of these figures, kept by hand
    if notes.exists():
        lines += ["", notes.read_text().strip()]
    return "\n".join(lines) + "\n"
