"""Measure the document-level rules (consistency.py, hygiene.py) alone on the TUNING documents.

    python -m bench.quality.try_rules [-v]

Only documents whose manifest entry says "split": "tune" are opened; the held-out ones are never
read. Each document is parsed by the product's parser, turned into Sections as harness.py does,
reviewed by `consistency.document_findings` (which, for software write-ups, also runs
postmortem.py and followups.py) and `hygiene.section_findings`, and scored with
harness.judge(). Prints every finding (true / false / duplicate), per-rule precision, the overall
precision of these rules and how many labelled problems they find (of the categories they target).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from bench.quality.harness import CORPUS, judge, parsed_sections, totals
from redline.jobs.models import Finding, Section
from redline.jobs.reviewers import consistency, hygiene

TARGET = {"consistency", "timeline", "placeholder", "date_format", "timezone", "spelling", "reference", "actions",
          "impact", "root_cause", "clarity"}


def tuning_entries() -> list[dict]:
    manifest = json.loads((CORPUS / "manifest.json").read_text())
    return [e for e in manifest if e.get("split") == "tune"]


def review(path: Path) -> tuple[list[Section], dict[int, list[Finding]], float]:
    title, sections, date = parsed_sections(path)
    t0 = time.perf_counter()
    by_id = consistency.document_findings(sections, title, date)
    found: dict[int, list[Finding]] = {}
    for s in sections:
        found[s.index] = list(by_id.get(s.id, [])) + hygiene.section_findings(s, sections)
    return sections, found, time.perf_counter() - t0


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    results = []
    elapsed = 0.0
    rules: dict[str, dict] = {}
    targeted = 0
    for entry in tuning_entries():
        assert entry["split"] == "tune"
        sections, found, dt = review(CORPUS / entry["file"])
        elapsed += dt
        # every quote must be an exact substring of its own section (and related of the related one)
        ids = {s.id: s for s in sections}
        for i, fs in found.items():
            for f in fs:
                assert f.quote is None or f.quote in sections[i].text, (entry["file"], f.quote)
                if f.related_quote:
                    assert f.related_quote in ids[f.related_section_id].text, (entry["file"], f.related_quote)
        res = judge(entry["file"], entry, sections, found)
        results.append(res)
        labels = json.loads((CORPUS / entry["labels"]).read_text())
        targeted += sum(p.get("category") in TARGET for p in labels.get("problems", []))
        print(f"== {entry['file']}: {len(res.outcomes)} findings, "
              f"{sum(o.verdict == 'true' for o in res.outcomes)} true ({dt * 1000:.0f} ms)")
        for o in res.outcomes:
            row = rules.setdefault(o.finding.category, {"n": 0, "true": 0, "conf": 0.0})
            row["n"] += 1
            row["true"] += o.verdict == "true"
            row["conf"] += o.finding.confidence
            mark = {"true": "TRUE ", "false": "false", "duplicate": "dup  "}[o.verdict]
            print(f"  {mark} [{sections[o.section].title[:28]!r}] {o.finding.category} ({o.finding.risk}, "
                  f"{o.finding.confidence:.2f}) {o.finding.quote!r}"
                  + (f"  <-> {o.finding.related_quote!r}" if o.finding.related_quote else "")
                  + (" TRAP" if o.trap else ""))
            if verbose:
                print(f"        {o.finding.description}")
        if verbose:
            for p in res.missed:
                if p.get("category") in TARGET:
                    print(f"  missed {p.get('category')}: {p.get('quote')!r}")
    t = totals(results)
    print("\n| rule | findings | true | precision | stated confidence |\n| --- | --- | --- | --- | --- |")
    for name, row in sorted(rules.items(), key=lambda kv: -kv[1]["n"]):
        print(f"| {name} | {row['n']} | {row['true']} | {row['true'] / row['n']:.2f} | {row['conf'] / row['n']:.2f} |")
    print(f"\ntuning documents: {t['documents']}, findings: {t['findings']}, true: {t['true']}, "
          f"precision: {t['precision']:.2f}, problems found: {t['matched']} of {t['problems']} "
          f"({targeted} in the categories these rules target), HIGH-risk false: {t['high_false']}, "
          f"fell for a not-problem: {t['traps']}, time: {elapsed * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
