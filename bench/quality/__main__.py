"""`python -m bench.quality`: review the labelled corpus offline, print the figures, write docs/quality.md."""

from __future__ import annotations

import sys

from bench.common import ROOT
from bench.quality.harness import render, run, totals


def main() -> int:
    results = run()
    text = render(results)
    (ROOT / "docs" / "quality.md").write_text(text)
    for split in ("heldout", "tune"):
        t = totals([r for r in results if r.split == split])
        print(f"{split:8} precision {t['precision']:.2f}  recall {t['recall']:.2f}  "
              f"findings/section {t['per_section']:.2f}  HIGH false {t['high_false']}  "
              f"({t['findings']} findings, {t['problems']} problems)")
    print("docs/quality.md written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
