"""Every finding and every missed problem of the full offline reviewer, on the TUNING documents only.

    python -m bench.quality.tune [-v]

`python -m bench.quality` writes the summary (docs/quality.md) for both sets; this is the view to
tune rules with. It runs `harness.run(split="tune")`, so the held-out documents are never opened
and their labels never printed. Each finding is shown with its verdict (true / false / duplicate,
TRAP when it fell for a labelled not-problem); then the problems no finding matched; then the
per-rule table.
"""

from __future__ import annotations

import sys

from bench.quality.harness import by_rule, run, totals


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    results = run(split="tune")
    for r in results:
        assert r.split == "tune"
        print(f"== {r.name} ({len(r.outcomes)} findings, {r.sections} sections)")
        for o in r.outcomes:
            f = o.finding
            print(f"  {o.verdict[:5]:5} s{o.section} [{f.category}] {f.risk} {f.confidence:.2f} "
                  f"{(f.quote or '-')[:100]!r}{' TRAP' if o.trap else ''}")
            if verbose:
                print(f"        {f.description[:240]}")
        for p in r.missed:
            print(f"  MISSED [{p.get('section')}] {p.get('category')}: {(p.get('quote') or '')[:90]!r}")
    t = totals(results)
    print(f"\ntuning: precision {t['precision']:.2f} recall {t['recall']:.2f} ({t['findings']} findings, "
          f"{t['true']} true, {t['matched']} of {t['problems']} problems), findings/section "
          f"{t['per_section']:.2f}, HIGH false {t['high_false']}, traps {t['traps']}")
    for name, row in sorted(by_rule(results).items(), key=lambda kv: -kv[1]["findings"]):
        print(f"  {name[:45]:45} {row['findings']:3} {row['true']:3} {row['precision']:.2f} {row['confidence']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
